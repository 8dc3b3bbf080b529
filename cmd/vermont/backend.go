package main

import (
	"context"
	"flag"

	"github.com/vermont-ci/vermont/exec"
)

// backendFlags choose where jobs run and how uses: is resolved. Host
// execution needs nothing; the other parts are added as their packages
// land.
type backendFlags struct{}

func (b *backendFlags) register(fs *flag.FlagSet) {}

// open returns the backend jobs run on, and how to release it.
func (b *backendFlags) open(ctx context.Context, hostBackend exec.Backend) (exec.Backend, func(), error) {
	return hostBackend, func() {}, nil
}

// resolver returns the action resolver, or nil when none is configured.
func (b *backendFlags) resolver(repoRoot string) (exec.Resolver, error) { return nil, nil }
