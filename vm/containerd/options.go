package containerd

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vermont-ci/vermont/internal/ctrd"
)

// Network says which network an instance gets.
type Network int

const (
	// NetworkNone gives each instance its own network namespace with only
	// loopback: no way out, nothing shared with the host or other instances.
	// It is the default because it is the safe one, but a real GitHub runner
	// must reach GitHub: pools that run real jobs use NetworkHost until CNI
	// networking lands (issue 5).
	NetworkNone Network = iota
	// NetworkHost shares the host's network namespace, /etc/hosts and
	// /etc/resolv.conf, like `docker run --network host`.
	NetworkHost
)

// String returns "none" or "host".
func (n Network) String() string {
	switch n {
	case NetworkNone:
		return "none"
	case NetworkHost:
		return "host"
	default:
		return fmt.Sprintf("Network(%d)", int(n))
	}
}

// ParseNetwork parses "none" or "host".
func ParseNetwork(s string) (Network, error) {
	switch s {
	case "none", "":
		return NetworkNone, nil
	case "host":
		return NetworkHost, nil
	default:
		return 0, fmt.Errorf("unknown network %q: want none or host", s)
	}
}

// Defaults used when an option is not given.
const (
	DefaultControllerID = "vermont"
	DefaultStateDir     = "/run/vermont/containerd"
	DefaultStopTimeout  = 10 * time.Second
)

type config struct {
	ctrd       []ctrd.Option
	runtime    string
	controller string
	network    Network
	stateDir   string
	grace      time.Duration
	pull       bool
	log        *slog.Logger
}

// Option configures New.
type Option func(*config) error

// WithAddress sets containerd's socket (default /run/containerd/containerd.sock,
// or $CONTAINERD_ADDRESS).
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
// Containers, a VM per instance). New fails when the handler's shim is not
// installed.
func WithRuntime(name string) Option {
	return func(c *config) error {
		c.runtime = name
		c.ctrd = append(c.ctrd, ctrd.WithRuntime(name))
		return nil
	}
}

// WithSnapshotter sets the snapshotter for instance root filesystems
// (default overlayfs).
func WithSnapshotter(name string) Option {
	return func(c *config) error {
		c.ctrd = append(c.ctrd, ctrd.WithSnapshotter(name))
		return nil
	}
}

// WithControllerID sets the controller ID stamped on every instance as
// vm.LabelController (default "vermont"). List and reconciliation see only
// this controller's instances, so two pools sharing a daemon need distinct
// IDs. It also prefixes container IDs.
func WithControllerID(id string) Option {
	return func(c *config) error {
		if err := validID(id); err != nil {
			return fmt.Errorf("controller ID: %w", err)
		}
		c.controller = id
		return nil
	}
}

// WithNetwork sets the instances' network (default NetworkNone).
func WithNetwork(n Network) Option {
	return func(c *config) error {
		if n != NetworkNone && n != NetworkHost {
			return fmt.Errorf("unknown network %s", n)
		}
		c.network = n
		return nil
	}
}

// WithStateDir sets the host directory holding each instance's runner
// config file and log (default DefaultStateDir, on tmpfs on most systems so
// the credential never reaches a disk). Destroy removes an instance's files.
func WithStateDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("state directory must not be empty")
		}
		c.stateDir = dir
		return nil
	}
}

// WithStopTimeout sets how long Destroy waits after SIGTERM before SIGKILL
// (default DefaultStopTimeout; zero kills at once).
func WithStopTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("stop timeout must not be negative, got %s", d)
		}
		c.grace = d
		return nil
	}
}

// WithPull lets Create pull an image that is not in the namespace yet. By
// default images must have been imported or pulled beforehand, and a
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
		c.log = l
		return nil
	}
}
