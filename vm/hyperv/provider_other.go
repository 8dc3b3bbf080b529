//go:build !windows

package hyperv

import "fmt"

// New returns ErrUnsupported: Hyper-V containers need a Windows host. It
// exists so that callers can wire the provider by name on any OS.
func New(storageDir string, opts ...Option) (*Provider, error) {
	return nil, fmt.Errorf("hyperv: %w (this binary was built for a different OS)", ErrUnsupported)
}
