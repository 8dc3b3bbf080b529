package vm

import (
	"errors"
	"strings"
	"testing"
)

func TestTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to State
		ok       bool
	}{
		{from: StateCreating, to: StateIdle, ok: true},
		{from: StateCreating, to: StateFailed, ok: true},
		{from: StateCreating, to: StateBusy, ok: false},
		{from: StateIdle, to: StateBusy, ok: true},
		{from: StateIdle, to: StateDestroying, ok: true},
		{from: StateIdle, to: StateGone, ok: false},
		{from: StateBusy, to: StateDestroying, ok: true},
		{from: StateBusy, to: StateIdle, ok: true},
		{from: StateBusy, to: StateCreating, ok: false},
		{from: StateDestroying, to: StateGone, ok: true},
		{from: StateDestroying, to: StateFailed, ok: true},
		{from: StateDestroying, to: StateIdle, ok: false},
		{from: StateFailed, to: StateDestroying, ok: true},
		{from: StateFailed, to: StateIdle, ok: false},
		{from: StateGone, to: StateCreating, ok: false},
		{from: StateGone, to: StateDestroying, ok: false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			t.Parallel()
			if got := tt.from.CanTransition(tt.to); got != tt.ok {
				t.Errorf("CanTransition = %v, want %v", got, tt.ok)
			}
			err := checkTransition("x", tt.from, tt.to)
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrIllegalTransition)) {
				t.Errorf("checkTransition = %v", err)
			}
		})
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	mk := func(name string, labels ...string) *poolState {
		ps := &poolState{cfg: PoolConfig{Name: name}, labels: normLabels(labels), labelSet: map[string]bool{}}
		for _, l := range ps.labels {
			ps.labelSet[l] = true
		}
		return ps
	}
	pools := []*poolState{
		mk("linux", "linux", "x64"),
		mk("gpu", "linux", "x64", "gpu"),
		mk("any"),
	}
	tests := []struct {
		name   string
		labels []string
		want   int
	}{
		{name: "self-hosted only goes to the most specific", labels: []string{"self-hosted"}, want: 2},
		{name: "no labels", labels: nil, want: 2},
		{name: "linux", labels: []string{"self-hosted", "linux"}, want: 0},
		{name: "case-insensitive", labels: []string{"Self-Hosted", "LINUX", "X64"}, want: 0},
		{name: "gpu", labels: []string{"self-hosted", "gpu"}, want: 1},
		{name: "hosted runner label", labels: []string{"ubuntu-latest"}, want: -1},
		{name: "unknown extra label", labels: []string{"self-hosted", "linux", "arm64"}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := route(pools, tt.labels); got != tt.want {
				t.Errorf("route(%v) = %d, want %d", tt.labels, got, tt.want)
			}
		})
	}
}

func TestExponentialBackoff(t *testing.T) {
	t.Parallel()
	b := ExponentialBackoff(100, 1000)
	tests := []struct {
		attempt  int
		min, max int64
	}{
		{attempt: 1, min: 50, max: 100},
		{attempt: 2, min: 100, max: 200},
		{attempt: 4, min: 400, max: 800},
		{attempt: 10, min: 500, max: 1000},
		{attempt: 1000, min: 500, max: 1000},
	}
	for _, tt := range tests {
		for range 50 {
			if d := int64(b(tt.attempt)); d < tt.min || d > tt.max {
				t.Fatalf("attempt %d: %d outside [%d, %d]", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{name: "bad pool name", opts: []Option{WithPools(PoolConfig{Name: "Bad Name"})}, want: `name "Bad Name"`},
		{name: "duplicate", opts: []Option{WithPools(PoolConfig{Name: "a"}, PoolConfig{Name: "a"})}, want: "defined twice"},
		{name: "max below min-idle", opts: []Option{WithPools(PoolConfig{Name: "a", MinIdle: 5, Max: 2})}, want: "max 2"},
		{name: "negative min-idle", opts: []Option{WithPools(PoolConfig{Name: "a", MinIdle: -1})}, want: "negative"},
		{name: "host max", opts: []Option{WithHostMax(0)}, want: "WithHostMax"},
		{name: "prefix", opts: []Option{WithPrefix("UPPER")}, want: "WithPrefix"},
		{name: "bootstrap", opts: []Option{WithBootstrapTimeout(0)}, want: "WithBootstrapTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o options
			var err error
			for _, opt := range tt.opts {
				if err = opt(&o); err != nil {
					break
				}
			}
			if err == nil {
				err = o.applyDefaults()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
