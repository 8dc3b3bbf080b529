package vm

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by New when options leave them unset.
const (
	DefaultMinIdle          = 4
	DefaultMax              = 10
	DefaultPrefix           = "vermont"
	DefaultBootstrapTimeout = 10 * time.Minute
	DefaultDestroyTimeout   = 2 * time.Minute
)

// PoolConfig describes one pool: a set of identical instances serving the
// jobs whose labels are a subset of Labels (self-hosted is implied).
type PoolConfig struct {
	// Name identifies the pool in instance names, labels, logs and metrics:
	// lower-case letters, digits and dashes, at most 32 characters.
	Name string
	// Labels are the runner labels; self-hosted is always added.
	Labels []string
	// MinIdle is how many idle (warm) instances the pool keeps ready.
	MinIdle int
	// Max bounds the pool's instances in every state but gone; zero means
	// max(MinIdle, DefaultMax).
	Max int
	// Image, CPUs, MemoryMB and Env are passed to the provider in Spec.
	Image    string
	CPUs     int
	MemoryMB int
	Env      map[string]string
}

// Option configures a Pool.
type Option func(*options) error

type options struct {
	pools            []PoolConfig
	hostMax          int
	backoff          Backoff
	bootstrapTimeout time.Duration
	destroyTimeout   time.Duration
	logger           *slog.Logger
	registry         prometheus.Registerer
	stateDir         string
	prefix           string
	destroyBusy      bool
	queuePoll        time.Duration // < 0: off
}

// DefaultQueuePoll is how often the pool asks GitHub for queued jobs.
const DefaultQueuePoll = 2 * time.Minute

// WithQueuePoll sets how often, besides at Start, the pool asks GitHub for
// queued jobs that its labels serve, so that demand whose webhook was lost
// is still served (default DefaultQueuePoll). Zero turns the polling off.
func WithQueuePoll(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("vm: WithQueuePoll(%s): must not be negative", d)
		}
		if d == 0 {
			d = -1
		}
		o.queuePoll = d
		return nil
	}
}

// WithPools sets the pools. Without it the pool manager runs one pool named
// "default" with labels [self-hosted] and DefaultMinIdle warm instances.
func WithPools(pools ...PoolConfig) Option {
	return func(o *options) error {
		if len(pools) == 0 {
			return errors.New("vm: WithPools: no pools")
		}
		o.pools = append([]PoolConfig(nil), pools...)
		return nil
	}
}

// WithHostMax bounds the instances of all pools together on this host
// (default: the sum of the pools' Max).
func WithHostMax(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("vm: WithHostMax(%d): must be at least 1", n)
		}
		o.hostMax = n
		return nil
	}
}

// WithBackoff sets how long a pool waits after provider or GitHub errors
// before creating again, and before retrying a failed destroy (default
// ExponentialBackoff(time.Second, 5*time.Minute)).
func WithBackoff(b Backoff) Option {
	return func(o *options) error {
		if b == nil {
			return errors.New("vm: WithBackoff: nil backoff")
		}
		o.backoff = b
		return nil
	}
}

// WithBootstrapTimeout bounds how long an instance may take to become idle
// (JIT registration plus provider Create); slower ones are reaped.
func WithBootstrapTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("vm: WithBootstrapTimeout(%s): must be positive", d)
		}
		o.bootstrapTimeout = d
		return nil
	}
}

// WithDestroyTimeout bounds one Destroy plus runner removal.
func WithDestroyTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("vm: WithDestroyTimeout(%s): must be positive", d)
		}
		o.destroyTimeout = d
		return nil
	}
}

// WithLogger sets the structured logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithRegistry registers the pool's metrics with reg; without it they are
// kept but not exported.
func WithRegistry(reg prometheus.Registerer) Option {
	return func(o *options) error { o.registry = reg; return nil }
}

// WithStateDir keeps the pool's state in an SQLite database in dir, so that
// a restarted pool adopts its instances. Without it state lives in memory
// and a restart destroys every instance it finds.
func WithStateDir(dir string) Option {
	return func(o *options) error { o.stateDir = dir; return nil }
}

// WithPrefix sets the prefix of instance (and GitHub runner) names. On start
// the pool removes offline GitHub runners whose names carry it and that no
// instance backs, so give each controller sharing a GitHub scope its own.
func WithPrefix(prefix string) Option {
	return func(o *options) error {
		if !namePattern.MatchString(prefix) {
			return fmt.Errorf("vm: WithPrefix(%q): want lower-case letters, digits and dashes, at most 32", prefix)
		}
		o.prefix = prefix
		return nil
	}
}

// WithDestroyBusyOnClose makes Close destroy busy instances too, cancelling
// their jobs. By default Close leaves them running: the next Start adopts
// them, or destroys them once their runner has exited.
func WithDestroyBusyOnClose(destroy bool) Option {
	return func(o *options) error { o.destroyBusy = destroy; return nil }
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// applyDefaults fills unset options and validates the pools.
func (o *options) applyDefaults() error {
	if len(o.pools) == 0 {
		o.pools = []PoolConfig{{Name: "default", MinIdle: DefaultMinIdle}}
	}
	seen := map[string]bool{}
	sum := 0
	for i := range o.pools {
		pc := &o.pools[i]
		if !namePattern.MatchString(pc.Name) {
			return fmt.Errorf("vm: pool %d: name %q: want lower-case letters, digits and dashes, at most 32", i, pc.Name)
		}
		if seen[pc.Name] {
			return fmt.Errorf("vm: pool %q: defined twice", pc.Name)
		}
		seen[pc.Name] = true
		if pc.MinIdle < 0 {
			return fmt.Errorf("vm: pool %q: min-idle %d is negative", pc.Name, pc.MinIdle)
		}
		if pc.Max == 0 {
			pc.Max = max(pc.MinIdle, DefaultMax)
		}
		if pc.Max < 1 || pc.Max < pc.MinIdle {
			return fmt.Errorf("vm: pool %q: max %d must be at least 1 and at least min-idle %d", pc.Name, pc.Max, pc.MinIdle)
		}
		sum += pc.Max
	}
	if o.hostMax == 0 {
		o.hostMax = sum
	}
	if o.backoff == nil {
		o.backoff = ExponentialBackoff(time.Second, 5*time.Minute)
	}
	if o.bootstrapTimeout == 0 {
		o.bootstrapTimeout = DefaultBootstrapTimeout
	}
	if o.destroyTimeout == 0 {
		o.destroyTimeout = DefaultDestroyTimeout
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.prefix == "" {
		o.prefix = DefaultPrefix
	}
	if o.queuePoll == 0 {
		o.queuePoll = DefaultQueuePoll
	}
	return nil
}
