// Package ctrd is the containerd plumbing shared by vm/containerd and
// exec/containerd: connecting to a daemon in Vermont's own namespace,
// importing, pulling (with a registry's credentials) and unpacking images,
// leases, labels, and removing everything a run or controller left behind.
//
// containerd and OCI types appear in this package's API on purpose; it is
// internal, and only vm/containerd and exec/containerd may use it. Those
// packages keep the types from leaking further.
package ctrd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
)

// Defaults used when an option is not given.
const (
	DefaultAddress     = "/run/containerd/containerd.sock"
	DefaultNamespace   = "vermont"
	DefaultRuntime     = "io.containerd.runc.v2"
	DefaultSnapshotter = "overlayfs"
)

// Sentinel categories for errors returned by this package; test them with
// errors.Is.
var (
	// ErrDaemonUnavailable reports that no containerd answers on the socket.
	ErrDaemonUnavailable = errors.New("containerd is not running")
	// ErrImageNotFound reports that an image is not in the namespace (and
	// could not be pulled, when pulling was allowed, for another reason
	// than ErrUnauthorized).
	ErrImageNotFound = errors.New("image not found")
	// ErrUnauthorized reports that a registry refused a pull: no
	// credentials, wrong ones, or no access to the image.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRuntimeUnavailable reports a runtime handler whose shim is missing.
	ErrRuntimeUnavailable = errors.New("runtime handler not available")
)

// Client is a connection to one containerd daemon, bound to one namespace,
// runtime handler and snapshotter. It is safe for concurrent use.
type Client struct {
	c           *client.Client
	address     string
	namespace   string
	runtime     string
	snapshotter string
}

type config struct {
	address     string
	namespace   string
	runtime     string
	snapshotter string
	timeout     time.Duration
}

// Option configures Connect.
type Option func(*config) error

// WithAddress sets the daemon's socket path (default DefaultAddress, or
// $CONTAINERD_ADDRESS when set).
func WithAddress(address string) Option {
	return func(c *config) error {
		if address == "" {
			return errors.New("containerd address must not be empty")
		}
		c.address = address
		return nil
	}
}

// WithNamespace sets the containerd namespace everything lives in (default
// DefaultNamespace).
func WithNamespace(ns string) Option {
	return func(c *config) error {
		if err := identifiers.Validate(ns); err != nil {
			return fmt.Errorf("containerd namespace %q: %w", ns, err)
		}
		c.namespace = ns
		return nil
	}
}

// WithRuntime sets the runtime handler for new containers (default
// DefaultRuntime; io.containerd.runsc.v1 for gVisor, io.containerd.kata.v2 for
// Kata Containers).
func WithRuntime(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("runtime handler must not be empty")
		}
		c.runtime = name
		return nil
	}
}

// WithSnapshotter sets the snapshotter images are unpacked into (default
// DefaultSnapshotter).
func WithSnapshotter(name string) Option {
	return func(c *config) error {
		if name == "" {
			return errors.New("snapshotter must not be empty")
		}
		c.snapshotter = name
		return nil
	}
}

// WithTimeout bounds how long Connect waits for the daemon to answer
// (default 5s).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("connect timeout must be positive, got %s", d)
		}
		c.timeout = d
		return nil
	}
}

// Connect dials containerd and checks that it answers, so that a daemon that
// is not running is reported here, naming the socket, rather than on first
// use.
func Connect(ctx context.Context, opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.address == "" {
		cfg.address = os.Getenv("CONTAINERD_ADDRESS")
	}
	if cfg.address == "" {
		cfg.address = DefaultAddress
	}
	if cfg.namespace == "" {
		cfg.namespace = DefaultNamespace
	}
	if cfg.runtime == "" {
		cfg.runtime = DefaultRuntime
	}
	if cfg.snapshotter == "" {
		cfg.snapshotter = DefaultSnapshotter
	}
	if cfg.timeout == 0 {
		cfg.timeout = 5 * time.Second
	}
	if runtime.GOOS != "windows" {
		// A missing socket cannot answer; say so at once rather than
		// after the timeout.
		path := strings.TrimPrefix(cfg.address, "unix://")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, unavailable(cfg.address, err)
		}
	}
	c, err := client.New(cfg.address,
		client.WithDefaultNamespace(cfg.namespace),
		client.WithDefaultRuntime(cfg.runtime),
		client.WithTimeout(cfg.timeout))
	if err != nil {
		return nil, fmt.Errorf("containerd at %s: %w", cfg.address, err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if _, err := c.Version(pctx); err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("containerd at %s: %w", cfg.address, ctx.Err())
		}
		return nil, unavailable(cfg.address, err)
	}
	return &Client{
		c:           c,
		address:     cfg.address,
		namespace:   cfg.namespace,
		runtime:     cfg.runtime,
		snapshotter: cfg.snapshotter,
	}, nil
}

// unavailable explains why nothing answered on address.
func unavailable(address string, err error) error {
	path := strings.TrimPrefix(address, "unix://")
	hint := "start containerd (as root: `containerd &` or `systemctl start containerd`), or point --containerd-address / CONTAINERD_ADDRESS at a running daemon"
	switch _, serr := os.Stat(path); {
	case errors.Is(serr, os.ErrNotExist):
		return fmt.Errorf("%w: no socket at %s; %s", ErrDaemonUnavailable, path, hint)
	case errors.Is(serr, os.ErrPermission):
		return fmt.Errorf("%w: cannot reach socket %s (permission denied; containerd needs root): %w", ErrDaemonUnavailable, path, err)
	default:
		return fmt.Errorf("%w: nothing answers on socket %s; %s: %w", ErrDaemonUnavailable, path, hint, err)
	}
}

// Close releases the connection.
func (c *Client) Close() error { return c.c.Close() }

// Containerd returns the underlying containerd client. Calls made with it
// must use a context from Context.
func (c *Client) Containerd() *client.Client { return c.c }

// Context returns ctx bound to the client's namespace.
func (c *Client) Context(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, c.namespace)
}

// Address returns the daemon's socket path.
func (c *Client) Address() string { return c.address }

// Namespace returns the containerd namespace in use.
func (c *Client) Namespace() string { return c.namespace }

// Runtime returns the runtime handler for new containers.
func (c *Client) Runtime() string { return c.runtime }

// Snapshotter returns the snapshotter images are unpacked into.
func (c *Client) Snapshotter() string { return c.snapshotter }

// ShimBinary returns the name of the shim binary containerd runs for a
// runtime handler of the form io.containerd.NAME.VERSION, such as
// containerd-shim-runc-v2; it returns "" for other forms (absolute paths).
func ShimBinary(runtime string) string {
	parts := strings.Split(runtime, ".")
	if len(parts) != 4 || parts[0] != "io" || parts[1] != "containerd" || parts[2] == "" || parts[3] == "" {
		return ""
	}
	return "containerd-shim-" + parts[2] + "-" + parts[3]
}

// CheckRuntime reports, with ErrRuntimeUnavailable, a runtime handler whose
// shim binary is not in PATH. It looks at this process's PATH, which is the
// daemon's too when both run on one host with the usual set-up.
func CheckRuntime(runtime string) error {
	bin := ShimBinary(runtime)
	if bin == "" {
		if strings.HasPrefix(runtime, "/") {
			if _, err := os.Stat(runtime); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrRuntimeUnavailable, runtime, err)
			}
			return nil
		}
		return fmt.Errorf("%w: %q is neither io.containerd.NAME.VERSION nor an absolute shim path", ErrRuntimeUnavailable, runtime)
	}
	if _, err := exec.LookPath(bin); err != nil {
		return fmt.Errorf("%w: %s needs %s in PATH (gVisor: install runsc; Kata: install kata-containers): %w", ErrRuntimeUnavailable, runtime, bin, err)
	}
	return nil
}
