//go:build !thin

package main

import (
	"context"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/wiring"
	"github.com/vermont-ci/vermont/internal/wiring/ctrdwire"
)

// openContainers connects to containerd when a job first needs it.
func (b *backendFlags) openContainers(host exec.Backend) wiring.OpenContainers {
	return ctrdwire.Opener(ctrdwire.Config{Pull: b.pull, Address: b.address, Runtime: b.runtime,
		Snapshotter: b.snapshotter, Network: b.network}, host)
}

// handOff is for the host-only build, which hands runs that need
// containers to vermont-full; this build runs them itself.
func (f *runFlags) handOff(context.Context, []runPlan, stdio) (int, bool) { return 0, false }
