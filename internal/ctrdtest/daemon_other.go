//go:build !linux

package ctrdtest

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// startProcess fails: a private containerd with runc needs Linux.
func startProcess(string, *os.File) (*os.Process, error) {
	return nil, fmt.Errorf("%w: a private containerd with runc needs Linux, this is %s", ErrMissing, runtime.GOOS)
}

// terminateProcess kills p; there is no SIGTERM here.
func terminateProcess(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// killShims has nothing to do: no daemon was started.
func killShims(string) error { return nil }

// killContainers has nothing to do: no daemon was started.
func killContainers(string) error { return nil }

// killDaemon has nothing to do: no daemon was started.
func killDaemon(string) error { return nil }

// unmountUnder has nothing to do: no daemon was started.
func unmountUnder(string) error { return nil }

// processAlive is never asked: no daemon directories are made here.
func processAlive(int) bool { return true }
