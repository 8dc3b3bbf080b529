package containerd

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// Networks a job can get; see WithNetwork.
const (
	// NetworkNone gives each job one network namespace of its own with only
	// loopback, shared by the job container, its services and its Docker
	// actions: services answer on localhost and by name, and nothing
	// reaches out.
	NetworkNone = "none"
	// NetworkHost runs every container in the host's network namespace,
	// like `docker run --network host`: outbound access, and ports are
	// already on the host.
	NetworkHost = "host"
)

// Defaults used when an option is not given.
const (
	DefaultGrace         = 7500 * time.Millisecond // GitHub's runner waits 7.5 s
	DefaultHealthTimeout = 5 * time.Minute
)

type config struct {
	ctrd          []ctrd.Option
	runtime       string
	host          exec.Backend
	network       string
	grace         time.Duration
	healthTimeout time.Duration
	pull          bool
	log           *slog.Logger
}

// Option configures New.
type Option func(*config) error

// WithAddress sets containerd's socket (default /run/containerd/containerd.sock,
// or $CONTAINERD_ADDRESS when set).
func WithAddress(address string) Option {
	return func(c *config) error {
		c.ctrd = append(c.ctrd, ctrd.WithAddress(address))
		return nil
	}
}

// WithNamespace sets the containerd namespace (default "vermont").
func WithNamespace(ns string) Option {
	return func(c *config) error {
		c.ctrd = append(c.ctrd, ctrd.WithNamespace(ns))
		return nil
	}
}

// WithRuntime sets the runtime handler: io.containerd.runc.v2 (default),
// io.containerd.runsc.v1 (gVisor) or io.containerd.kata.v2 (Kata
// Containers). New fails when the handler's shim is not installed.
func WithRuntime(name string) Option {
	return func(c *config) error {
		c.runtime = name
		c.ctrd = append(c.ctrd, ctrd.WithRuntime(name))
		return nil
	}
}

// WithSnapshotter sets the snapshotter for root filesystems (default
// overlayfs).
func WithSnapshotter(name string) Option {
	return func(c *config) error {
		c.ctrd = append(c.ctrd, ctrd.WithSnapshotter(name))
		return nil
	}
}

// WithHost sets the backend that runs the steps of a job on the host (a
// job without an image that still has services or Docker actions). The
// default is exec/host with its defaults.
func WithHost(b exec.Backend) Option {
	return func(c *config) error {
		if b == nil {
			return errors.New("host backend must not be nil")
		}
		c.host = b
		return nil
	}
}

// WithNetwork sets the jobs' network: NetworkNone (default, loopback only)
// or NetworkHost.
func WithNetwork(n string) Option {
	return func(c *config) error {
		switch n {
		case NetworkNone, NetworkHost:
			c.network = n
			return nil
		case "":
			return errors.New("network must not be empty: want none or host")
		default:
			return fmt.Errorf("unknown network %q: want none or host", n)
		}
	}
}

// WithGrace sets how long a cancelled step or a stopped container gets
// between SIGTERM and SIGKILL (default DefaultGrace; zero kills at once).
func WithGrace(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("grace must not be negative, got %s", d)
		}
		c.grace = d
		return nil
	}
}

// WithHealthTimeout bounds how long Start waits for services with a
// --health-cmd to become healthy (default DefaultHealthTimeout).
func WithHealthTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("health timeout must be positive, got %s", d)
		}
		c.healthTimeout = d
		return nil
	}
}

// WithPull lets jobs pull images that are not in the namespace yet. By
// default images must have been imported (`vermont image import`), and a
// missing one is an error naming it.
func WithPull() Option {
	return func(c *config) error {
		c.pull = true
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("logger must not be nil")
		}
		c.log = l
		return nil
	}
}
