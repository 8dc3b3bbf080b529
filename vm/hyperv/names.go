package hyperv

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidSpec reports a Spec (or an image on disk) the provider cannot
// use.
var ErrInvalidSpec = errors.New("invalid spec")

// ErrUnsupported reports that the provider cannot run on this OS.
var ErrUnsupported = errors.New("hyperv provider needs Windows")

const (
	maxNameLen       = 64 // GitHub's runner name limit
	maxControllerLen = 32
	idSeparator      = "_" // never in a controller ID, so IDs split uniquely
)

// validName checks an instance name: it becomes a folder name and part of
// the compute system ID, so only a safe alphabet is accepted.
func validName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("%w: instance name %q must be 1 to %d characters", ErrInvalidSpec, name, maxNameLen)
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("%w: instance name %q must not start with %q", ErrInvalidSpec, name, name[0])
	}
	for _, r := range name {
		if !isNameRune(r) && r != '_' {
			return fmt.Errorf("%w: instance name %q: %q is not allowed (use letters, digits, '.', '-', '_')", ErrInvalidSpec, name, r)
		}
	}
	return nil
}

// validController checks a controller ID.
func validController(id string) error {
	if id == "" || len(id) > maxControllerLen {
		return fmt.Errorf("hyperv: controller ID %q must be 1 to %d characters", id, maxControllerLen)
	}
	for _, r := range id {
		if !isNameRune(r) {
			return fmt.Errorf("hyperv: controller ID %q: %q is not allowed (use letters, digits, '.', '-')", id, r)
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-'
}

// systemID is the compute system ID (and instance folder name) of name.
func systemID(controller, name string) string { return controller + idSeparator + name }

// nameFromID returns the instance name in id if id is controller's.
func nameFromID(controller, id string) (string, bool) {
	name, ok := strings.CutPrefix(id, controller+idSeparator)
	if !ok || validName(name) != nil {
		return "", false
	}
	return name, true
}

// ownerOf is the HCS Owner of controller's compute systems.
func ownerOf(controller string) string { return "vermont-" + controller }
