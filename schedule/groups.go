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

// Groups are concurrency groups ("Control the concurrency of workflows and
// jobs"). Names compare case-insensitively. Safe for concurrent use.
type Groups struct {
	mu sync.Mutex
	m  map[string]*group
}

type group struct {
	running *member
	pending *member
}

type member struct {
	cancel func() // cancels the member's work, for cancel-in-progress
	ready  chan error
}

// NewGroups returns an empty set of concurrency groups.
func NewGroups() *Groups { return &Groups{m: map[string]*group{}} }

// Acquire waits until name is free and returns the function that frees it.
// cancel stops the caller's work; a later member with cancelInProgress
// calls it. A member that is pending when a newer one arrives gets
// ErrSuperseded.
func (g *Groups) Acquire(ctx context.Context, name string, cancelInProgress bool, cancel func()) (release func(), err error) {
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
	if gr.pending != nil {
		gr.pending.ready <- ErrSuperseded
	}
	gr.pending = me
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
		if gr.pending == me {
			gr.pending = nil
			return nil, ctx.Err()
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

// handOver passes a group to its pending member, or forgets the group.
// g.mu is held.
func (g *Groups) handOver(key string, gr *group) {
	gr.running = gr.pending
	gr.pending = nil
	if gr.running == nil {
		delete(g.m, key)
		return
	}
	gr.running.ready <- nil
}
