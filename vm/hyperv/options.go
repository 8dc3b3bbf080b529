package hyperv

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Option configures a Provider. Options that get a bad value fail New.
type Option func(*config) error

// config is what the options set; defaults are applied after them.
type config struct {
	controller     string
	network        string
	networkSet     bool
	cpus           int
	memoryMB       int
	command        string
	workingDir     string
	logger         *slog.Logger
	cleanupTimeout time.Duration
}

// Defaults for what neither the Spec nor an option sets.
const (
	DefaultController     = "vermont"
	DefaultNetwork        = "nat"
	DefaultCPUs           = 2
	DefaultMemoryMB       = 4096
	DefaultCleanupTimeout = 2 * time.Minute
)

// WithController sets the controller ID stamped as vm.LabelController and
// used in compute system IDs, the HCS Owner and List's filter. It is 1 to 32
// letters, digits, dots and dashes. The default is DefaultController.
func WithController(id string) Option {
	return func(c *config) error {
		if err := validController(id); err != nil {
			return err
		}
		c.controller = id
		return nil
	}
}

// WithNetwork sets the HNS network (by name) each instance gets an endpoint
// on. The empty name gives instances no network, which only suits images
// that need none. The default is DefaultNetwork, the NAT network the
// Containers feature creates.
func WithNetwork(name string) Option {
	return func(c *config) error {
		c.network, c.networkSet = name, true
		return nil
	}
}

// WithDefaultResources sets the processors and memory (MB) of instances
// whose Spec leaves them zero.
func WithDefaultResources(cpus, memoryMB int) Option {
	return func(c *config) error {
		if cpus < 1 || memoryMB < 1 {
			return fmt.Errorf("hyperv: default resources must be positive, got %d CPUs and %d MB", cpus, memoryMB)
		}
		c.cpus, c.memoryMB = cpus, memoryMB
		return nil
	}
}

// WithCommand sets the command line and working directory of the runner
// process started in each instance. The default runs
// C:\actions-runner\vermont-entrypoint.ps1, which packer/ installs.
func WithCommand(commandLine, workingDir string) Option {
	return func(c *config) error {
		if commandLine == "" {
			return errors.New("hyperv: empty runner command line")
		}
		c.command, c.workingDir = commandLine, workingDir
		return nil
	}
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("hyperv: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithCleanupTimeout bounds the undo of a failed Create, which runs even
// when the caller's context was cancelled.
func WithCleanupTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("hyperv: cleanup timeout must be positive, got %v", d)
		}
		c.cleanupTimeout = d
		return nil
	}
}

// newConfig applies opts, then the defaults.
func newConfig(opts []Option) (config, error) {
	var c config
	for _, o := range opts {
		if err := o(&c); err != nil {
			return config{}, err
		}
	}
	if c.controller == "" {
		c.controller = DefaultController
	}
	if !c.networkSet {
		c.network = DefaultNetwork
	}
	if c.cpus == 0 {
		c.cpus, c.memoryMB = DefaultCPUs, DefaultMemoryMB
	}
	if c.command == "" {
		c.command, c.workingDir = defaultCommand, defaultWorkingDir
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.cleanupTimeout == 0 {
		c.cleanupTimeout = DefaultCleanupTimeout
	}
	return c, nil
}
