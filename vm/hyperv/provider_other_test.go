//go:build !windows

package hyperv

import (
	"errors"
	"testing"
)

func TestNewNeedsWindows(t *testing.T) {
	t.Parallel()
	p, err := New(`C:\vermont\storage`)
	if p != nil || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("New = %v, %v; want ErrUnsupported", p, err)
	}
}
