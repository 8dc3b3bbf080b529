// Package ctrdtest is test support for code that talks to containerd: it
// starts a private containerd daemon (its own root, state, socket and config
// under a temporary directory, so a system daemon is never touched) and
// builds small busybox images in Go, without Docker: imported from an
// archive (BusyboxImage, WriteImage), or served by a registry on 127.0.0.1
// with the authentication of Docker Hub or a plain registry (Registry), so
// that pulls are tested without the network.
//
// Use a Shared daemon per test package:
//
//	var daemon ctrdtest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(daemon.Main(m)) }
//
//	func TestX(t *testing.T) {
//		d := daemon.Get(t) // skips, or fails under CI=true, when containerd is missing
//		ref := ctrdtest.BusyboxImage(t, d, ctrdtest.ImageOptions{})
//		...
//	}
//
// When containerd, its runc shim, runc or a static busybox is missing, or the
// process is not root, tests skip with a message naming what is missing; under
// CI=true they fail instead, so CI never passes by skipping.
//
// One thing is shared with the host: the runc shim keeps runc's state under
// /run/containerd/runc/<namespace> unless the client sets runtime options,
// so test namespaces should not be ones a system daemon uses for the same
// container IDs.
package ctrdtest

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// BusyboxPath is where Debian's busybox-static puts its binary.
const BusyboxPath = "/bin/busybox"

// ErrMissing reports that the host lacks something the daemon or images need.
var ErrMissing = errors.New("containerd test prerequisites missing")

// Missing lists what this host lacks to run containerd integration tests:
// binaries (containerd, containerd-shim-runc-v2, runc), a static busybox at
// BusyboxPath, and root privileges. It returns nil when nothing is missing.
func Missing() []string {
	var missing []string
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin+" (not in PATH)")
		}
	}
	if err := checkStatic(BusyboxPath); err != nil {
		missing = append(missing, err.Error())
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root privileges (containerd and runc need root)")
	}
	return missing
}

// checkStatic makes sure path is a statically linked ELF binary: a dynamic
// busybox would not run in an image that holds nothing else.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("static busybox at %s (%v)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("static busybox at %s (it is dynamically linked; install busybox-static)", path)
		}
	}
	return nil
}

// missingError wraps ErrMissing with the list and the install hint.
func missingError(missing []string) error {
	return fmt.Errorf("%w: %s; install with `apt-get install containerd runc busybox-static` and run as root", ErrMissing, strings.Join(missing, ", "))
}

// inCI reports whether the CI environment variable asks for strictness.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// require skips tb on err (or fails it under CI=true); it returns normally
// when err is nil.
func require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if inCI() || !errors.Is(err, ErrMissing) {
		tb.Fatalf("containerd integration test cannot run: %v", err)
	}
	tb.Skipf("containerd integration test skipped: %v (under CI=true this fails)", err)
}

// Shared is one private daemon shared by the tests of a package. It starts
// on the first Get and stops when Main returns. The zero value is ready.
type Shared struct {
	// Options are passed to Start.
	Options []Option

	once sync.Once
	d    *Daemon
	err  error
}

// Main runs the package's tests and stops the daemon if one was started. Use
// it from TestMain: os.Exit(shared.Main(m)).
func (s *Shared) Main(m *testing.M) int {
	code := m.Run()
	if s.d != nil {
		if err := s.d.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "ctrdtest: stop private containerd: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Get returns the shared daemon, starting it on first use. It skips tb when
// prerequisites are missing, or fails it under CI=true or on any other
// error.
func (s *Shared) Get(tb testing.TB) *Daemon {
	tb.Helper()
	s.once.Do(func() {
		s.d, s.err = Start(s.Options...)
	})
	require(tb, s.err)
	return s.d
}

// New starts a daemon for one test and stops it when the test ends. It skips
// or fails tb the way Shared.Get does.
func New(tb testing.TB, opts ...Option) *Daemon {
	tb.Helper()
	d, err := Start(opts...)
	require(tb, err)
	tb.Cleanup(func() {
		if err := d.Stop(); err != nil {
			tb.Errorf("stop private containerd: %v", err)
		}
	})
	return d
}
