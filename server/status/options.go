package status

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Defaults for the options.
const (
	// DefaultRetries is how many times a failed post is retried.
	DefaultRetries = 3
	// DefaultBackoff is the wait before the first retry; it doubles for each
	// one after, up to MaxBackoff.
	DefaultBackoff = 500 * time.Millisecond
	// MaxBackoff caps the wait between two attempts, Retry-After included:
	// a forge that asks for a longer wait gets the error instead, so a
	// status never holds up its caller for long.
	MaxBackoff = 30 * time.Second
)

// userAgent identifies Vermont to the forge; GitHub rejects requests
// without one.
const userAgent = "vermont"

// Option configures a GitHub or Gitea reporter.
type Option func(*config) error

type config struct {
	client     *http.Client
	log        *slog.Logger
	retries    int
	retriesSet bool
	backoff    time.Duration
}

// WithHTTPClient sets the HTTP client; the default is a client with a
// 30-second timeout per attempt.
func WithHTTPClient(c *http.Client) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("status: WithHTTPClient(nil)")
		}
		cfg.client = c
		return nil
	}
}

// WithLogger sets the logger for retries and failures (never with the
// token); the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return errors.New("status: WithLogger(nil)")
		}
		cfg.log = l
		return nil
	}
}

// WithRetries sets how many times a post that failed with a 5xx, a 429 or a
// network error is tried again; 0 tries once. The default is
// DefaultRetries.
func WithRetries(n int) Option {
	return func(cfg *config) error {
		if n < 0 {
			return errors.New("status: WithRetries: negative count")
		}
		cfg.retries, cfg.retriesSet = n, true
		return nil
	}
}

// WithBackoff sets the wait before the first retry (doubled for each later
// one, capped at MaxBackoff); the default is DefaultBackoff.
func WithBackoff(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 || d > MaxBackoff {
			return errors.New("status: WithBackoff: want a duration above 0 and at most MaxBackoff")
		}
		cfg.backoff = d
		return nil
	}
}

// apply runs opts, then fills in the defaults.
func apply(opts []Option) (config, error) {
	var cfg config
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return cfg, err
		}
	}
	if cfg.client == nil {
		cfg.client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if !cfg.retriesSet {
		cfg.retries = DefaultRetries
	}
	if cfg.backoff == 0 {
		cfg.backoff = DefaultBackoff
	}
	return cfg, nil
}
