// Package ctrdwire connects a wiring.Router to containerd. It is the only
// part of the wiring that links containerd's client (and with it gRPC and
// protobuf), so a host-only build of vermont, which does not import it,
// runs none of their package initializers.
package ctrdwire

import (
	"context"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/containerd"
	"github.com/vermont-ci/vermont/internal/wiring"
)

// Config configures the containerd backend. Zero fields take
// containerd's defaults.
type Config struct {
	Pull        bool   // pull images that are missing
	Address     string // socket
	Runtime     string // runtime handler
	Snapshotter string
	Network     string // "none" or "host"
}

// Opener returns the function a wiring.Router calls, once, when a job
// first needs containers: it connects to containerd with cfg, running
// host-labelled jobs of the container backend on host.
func Opener(cfg Config, host exec.Backend) wiring.OpenContainers {
	return func(ctx context.Context) (wiring.ContainerBackend, error) {
		opts := []containerd.Option{containerd.WithHost(host), containerd.WithNetwork(cfg.Network)}
		if cfg.Address != "" {
			opts = append(opts, containerd.WithAddress(cfg.Address))
		}
		if cfg.Snapshotter != "" {
			opts = append(opts, containerd.WithSnapshotter(cfg.Snapshotter))
		}
		if cfg.Runtime != "" {
			opts = append(opts, containerd.WithRuntime(cfg.Runtime))
		}
		if cfg.Pull {
			opts = append(opts, containerd.WithPull())
		}
		b, err := containerd.New(ctx, opts...)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return b, nil
	}
}
