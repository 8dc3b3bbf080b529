package vm

import (
	"math/rand/v2"
	"time"
)

// Backoff returns how long to wait before retry number attempt (1 for the
// first retry) after a provider or GitHub error.
type Backoff func(attempt int) time.Duration

// ExponentialBackoff returns a Backoff that doubles from base up to limit and
// applies "equal jitter": a random duration in [d/2, d], so pools that fail
// together do not retry in lockstep.
func ExponentialBackoff(base, limit time.Duration) Backoff {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < limit; i++ {
			d *= 2
		}
		d = min(d, limit)
		if d <= 1 {
			return d
		}
		half := d / 2
		return half + rand.N(d-half+1)
	}
}
