package vm

import (
	"errors"
	"fmt"
	"slices"
)

// State is where an instance is in its single-use life.
//
//	creating ──▶ idle ──▶ busy ──▶ destroying ──▶ gone
//	    │          │        │          ▲  │
//	    └──▶ failed ◀───────┼──────────┘  │ (destroy failed: retried)
//	           └────────────┴─────────────┘
type State string

// The instance states. An instance is creating from the moment the pool
// decides to create it until the provider's Create returns; idle while its
// runner waits for a job; busy once a job is assigned to it (when a queued
// job is routed to it) or runs on it (workflow_job in_progress); destroying
// while the provider removes it; gone afterwards. failed marks a create or
// destroy that went wrong; a failed instance is always destroyed (retried
// with backoff) so nothing leaks.
const (
	StateCreating   State = "creating"
	StateIdle       State = "idle"
	StateBusy       State = "busy"
	StateDestroying State = "destroying"
	StateGone       State = "gone"
	StateFailed     State = "failed"
)

// States lists every state in lifecycle order.
var States = []State{StateCreating, StateIdle, StateBusy, StateDestroying, StateGone, StateFailed}

// ErrIllegalTransition reports a state change the lifecycle does not allow.
var ErrIllegalTransition = errors.New("illegal instance state transition")

// transitions is the table of legal state changes.
var transitions = map[State][]State{
	StateCreating: {StateIdle, StateFailed, StateDestroying},
	StateIdle:     {StateBusy, StateDestroying},
	// busy → idle only releases a reservation whose job never started on
	// this instance (GitHub gave the job to another runner, or cancelled
	// it); the pool checks that before asking for it.
	StateBusy:       {StateIdle, StateDestroying},
	StateDestroying: {StateGone, StateFailed},
	StateFailed:     {StateDestroying},
	StateGone:       nil,
}

// CanTransition reports whether an instance in state s may move to next.
func (s State) CanTransition(next State) bool {
	return slices.Contains(transitions[s], next)
}

// checkTransition returns an error wrapping ErrIllegalTransition unless s may
// move to next.
func checkTransition(name string, s, next State) error {
	if !s.CanTransition(next) {
		return fmt.Errorf("instance %s: %s → %s: %w", name, s, next, ErrIllegalTransition)
	}
	return nil
}
