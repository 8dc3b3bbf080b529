package vmtest

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sync"

	"github.com/vermont-ci/vermont/vm"
)

// Runners is an in-memory vm.Runners: GitHub's runner registrations as a
// map. It records JIT registrations and removals for assertions. Tests of the
// REST client itself fake GitHub over HTTP instead.
type Runners struct {
	mu       sync.Mutex
	nextID   int64
	runners  map[int64]vm.Runner
	jitCalls []string
	removed  []int64
	queued   []vm.QueuedJob
	failJIT  int
}

var _ vm.Runners = (*Runners)(nil)

// NewRunners returns an empty registry.
func NewRunners() *Runners { return &Runners{runners: map[int64]vm.Runner{}, nextID: 100} }

// JITConfig implements vm.Runners: it registers an offline runner named
// name and returns a config that embeds the name (so tests can check which
// instance got which config).
func (r *Runners) JITConfig(ctx context.Context, name string, labels []string) (vm.JIT, error) {
	if err := ctx.Err(); err != nil {
		return vm.JIT{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jitCalls = append(r.jitCalls, name)
	if r.failJIT != 0 {
		if r.failJIT > 0 {
			r.failJIT--
		}
		return vm.JIT{}, fmt.Errorf("vmtest: jitconfig %s: %w", name, ErrInjected)
	}
	r.nextID++
	r.runners[r.nextID] = vm.Runner{ID: r.nextID, Name: name, Status: "offline", Labels: slices.Clone(labels)}
	cfg := base64.StdEncoding.EncodeToString([]byte("jit-secret-for-" + name))
	return vm.JIT{RunnerID: r.nextID, Config: cfg}, nil
}

// RemoveRunner implements vm.Runners; an unknown ID is not an error.
func (r *Runners) RemoveRunner(ctx context.Context, id int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, id)
	delete(r.runners, id)
	return nil
}

// ListRunners implements vm.Runners, sorted by ID.
func (r *Runners) ListRunners(ctx context.Context) ([]vm.Runner, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]vm.Runner, 0, len(r.runners))
	for _, x := range r.runners {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b vm.Runner) int { return int(a.ID - b.ID) })
	return out, nil
}

// QueuedJobs implements vm.Runners, returning what SetQueued set.
func (r *Runners) QueuedJobs(ctx context.Context) ([]vm.QueuedJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queued), nil
}

// SetQueued sets the jobs QueuedJobs reports.
func (r *Runners) SetQueued(jobs []vm.QueuedJob) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queued = slices.Clone(jobs)
}

// Add registers a runner as if created elsewhere (e.g. by a crashed pool).
func (r *Runners) Add(x vm.Runner) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runners[x.ID] = x
}

// FailJIT makes the next n JITConfig calls fail (n < 0: all until reset).
func (r *Runners) FailJIT(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failJIT = n
}

// JITCalls returns the runner names JITConfig was called with, in order.
func (r *Runners) JITCalls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.jitCalls)
}

// Removed returns the runner IDs RemoveRunner was called with, in order.
func (r *Runners) Removed() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.removed)
}

// Registered returns the runners still registered, sorted by ID.
func (r *Runners) Registered() []vm.Runner {
	out, _ := r.ListRunners(context.Background())
	return out
}
