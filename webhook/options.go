package webhook

import (
	"errors"
	"log/slog"
)

// DefaultMaxBodyBytes is the default body size limit: GitHub caps webhook
// payloads at 25 MB ("Webhook events and payloads": "Payloads are capped at
// 25 MB").
const DefaultMaxBodyBytes = 25 << 20

// DefaultDedupeSize is how many recent delivery IDs a Handler remembers by
// default.
const DefaultDedupeSize = 4096

// Option configures a Handler. Options may fail; NewHandler reports the
// first failure.
type Option func(*Handler) error

// WithLogger sets the structured logger. A nil logger discards logs, which is
// also the default.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) error {
		h.log = l
		return nil
	}
}

// WithMaxBodyBytes sets the largest body accepted; larger ones get 413.
// n must be positive.
func WithMaxBodyBytes(n int64) Option {
	return func(h *Handler) error {
		if n <= 0 {
			return errors.New("webhook: max body bytes must be positive")
		}
		h.maxBody = n
		return nil
	}
}

// WithDedupeSize sets how many recent delivery IDs are remembered for
// de-duplication (least recently seen are forgotten first). n must be
// positive.
func WithDedupeSize(n int) Option {
	return func(h *Handler) error {
		if n <= 0 {
			return errors.New("webhook: dedupe size must be positive")
		}
		h.dedupeSize = n
		return nil
	}
}
