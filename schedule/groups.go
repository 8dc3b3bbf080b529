package schedule

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// ErrSuperseded is returned by Groups.Acquire to a waiter that a newer run
// of the same concurrency group replaced: GitHub keeps at most one running
// and one pending member per group and cancels the older pending one.
var ErrSuperseded = errors.New("cancelled: a newer job or run is pending in the same concurrency group")

// ErrQueueFull is returned to a member with queue: max that finds
// MaxQueued members already pending: GitHub cancels it.
var ErrQueueFull = errors.New("cancelled: the concurrency group's queue is full (100 pending)")

// ErrQueueCancel is returned when queue: max meets a cancel-in-progress
// that evaluated to true, a combination GitHub does not allow.
var ErrQueueCancel = errors.New("concurrency: queue: max cannot be combined with cancel-in-progress: true")

// MaxQueued is how many members may wait in a group with queue: max.
const MaxQueued = 100

// Queue is a concurrency group's queue mode (concurrency.queue).
type Queue uint8

// Queue modes, from "Control the concurrency of workflows and jobs"
// (https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency).
const (
	// QueueSingle keeps at most one pending member; a newer one replaces
	// it. It is the default.
	QueueSingle Queue = iota
	// QueueMax keeps up to MaxQueued pending members, which get the group
	// first in, first out; one more is cancelled.
	QueueMax
)

// Groups are concurrency groups ("Control the concurrency of workflows and
// jobs"). Names compare case-insensitively. Safe for concurrent use.
type Groups struct {
	mu sync.Mutex
	m  map[string]*group
}

type group struct {
	running *member
	pending []*member // in arrival order
}

type member struct {
	cancel func() // cancels the member's work, for cancel-in-progress
	ready  chan error
}

// NewGroups returns an empty set of concurrency groups.
func NewGroups() *Groups { return &Groups{m: map[string]*group{}} }

// Acquire is AcquireQueue with QueueSingle, the default.
func (g *Groups) Acquire(ctx context.Context, name string, cancelInProgress bool, cancel func()) (release func(), err error) {
	return g.AcquireQueue(ctx, name, QueueSingle, cancelInProgress, cancel)
}

// AcquireQueue waits until name is free and returns the function that
// frees it. cancel stops the caller's work; a later member with
// cancelInProgress calls it. With QueueSingle, the members pending when it
// arrives get ErrSuperseded; with QueueMax it waits behind them, in order,
// unless MaxQueued are waiting already (then it gets ErrQueueFull).
func (g *Groups) AcquireQueue(ctx context.Context, name string, q Queue, cancelInProgress bool, cancel func()) (release func(), err error) {
	if q == QueueMax && cancelInProgress {
		return nil, ErrQueueCancel
	}
	key := strings.ToLower(name)
	me := &member{cancel: cancel, ready: make(chan error, 1)}
	g.mu.Lock()
	gr := g.m[key]
	if gr == nil {
		gr = &group{}
		g.m[key] = gr
	}
	if gr.running == nil {
		gr.running = me
		g.mu.Unlock()
		return g.releaser(key, me), nil
	}
	if q == QueueMax {
		if len(gr.pending) >= MaxQueued {
			g.mu.Unlock()
			return nil, ErrQueueFull
		}
	} else {
		for _, p := range gr.pending {
			p.ready <- ErrSuperseded
		}
		gr.pending = gr.pending[:0]
	}
	gr.pending = append(gr.pending, me)
	if cancelInProgress && gr.running.cancel != nil {
		gr.running.cancel()
	}
	g.mu.Unlock()
	select {
	case err := <-me.ready:
		if err != nil {
			return nil, err
		}
		return g.releaser(key, me), nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		for i, p := range gr.pending {
			if p == me {
				gr.pending = append(gr.pending[:i], gr.pending[i+1:]...)
				return nil, ctx.Err()
			}
		}
		if gr.running == me { // granted as ctx ended: give it back
			g.handOver(key, gr)
		}
		return nil, ctx.Err()
	}
}

func (g *Groups) releaser(key string, me *member) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if gr := g.m[key]; gr != nil && gr.running == me {
				g.handOver(key, gr)
			}
		})
	}
}

// handOver passes a group to its first pending member, or forgets the
// group. g.mu is held.
func (g *Groups) handOver(key string, gr *group) {
	if len(gr.pending) == 0 {
		gr.running = nil
		delete(g.m, key)
		return
	}
	gr.running = gr.pending[0]
	gr.pending = gr.pending[1:]
	gr.running.ready <- nil
}
