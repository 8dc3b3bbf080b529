package vm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vermont-ci/vermont/vm/internal/store"
)

// Errors returned by Pool methods.
var (
	ErrNotStarted = errors.New("vm: pool not started")
	ErrClosed     = errors.New("vm: pool closed")
)

// Pool keeps warm, single-use runner instances for one or more label sets:
// MinIdle idle per pool, never more than Max per pool nor the host maximum
// overall, one job per instance, destroyed and replaced after the job.
//
// One goroutine (run) owns all pool state: public methods and the workers
// that call the provider send it closures over the ops channel, and provider
// or GitHub calls never run on it. Only the SQLite writes do, which keeps the
// persisted state in step with memory.
type Pool struct {
	provider VMProvider
	runners  Runners
	opts     options
	log      *slog.Logger
	m        *metrics

	phase    atomic.Int32 // phaseNew → phaseRunning → phaseClosed
	ops      chan func(ctx context.Context)
	loopDone chan struct{}
	cancel   context.CancelFunc
	waiters  sync.WaitGroup // provider.Wait goroutines
	snap     atomic.Pointer[Snapshot]

	store      *store.Store
	controller string
	key        []byte // instance tokens are HMACs of instance names under it

	st *state // owned by the run goroutine once started
}

const (
	phaseNew int32 = iota
	phaseRunning
	phaseClosed
)

// state is everything the run goroutine owns.
type state struct {
	pools     []*poolState
	byName    map[string]*poolState
	instances map[string]*instance
	jobs      map[int64]*instance // job ID → instance it is assigned to
	work      int                 // creates and destroys in flight
	closing   bool
	recent    map[string]string // recently gone instance → pool, for late events
}

// poolState is one pool's configuration and demand.
type poolState struct {
	cfg      PoolConfig
	labels   []string // normalised, self-hosted first
	labelSet map[string]bool
	pending  []pendingJob // queued jobs no instance is assigned to yet
	failures int          // consecutive create failures
	retryAt  time.Time    // no creates before this

	providerErr LastError // the last failed Create or Destroy
	githubErr   LastError // the last failed GitHub call made for the pool
	shortSince  time.Time // since when it has had fewer idle instances than min-idle; zero when it has not
}

// LastError is the last error of one kind, for health checks: what went
// wrong and when. The zero LastError means none since the pool started.
type LastError struct {
	Message string
	At      time.Time
}

func (e *LastError) set(err error) { *e = LastError{Message: err.Error(), At: time.Now()} }

type pendingJob struct {
	id       int64
	queuedAt time.Time
}

// instance is the pool's record of one instance.
type instance struct {
	name      string
	pool      *poolState
	state     State
	runnerID  int64
	jit       string // JIT config, a credential: memory only, never logged
	jobID     int64
	queuedAt  time.Time // when jobID was queued
	started   bool      // jobID runs on this instance (in_progress seen)
	doneEarly bool      // completed/exit arrived while still creating
	createdAt time.Time
	cancel    context.CancelFunc // cancels an in-flight create
	attempts  int                // failed destroys
}

// New returns a pool over provider and runners. Call Start to reconcile and
// begin keeping instances warm, and Close to stop.
func New(provider VMProvider, runners Runners, opts ...Option) (*Pool, error) {
	if provider == nil || runners == nil {
		return nil, errors.New("vm: New: provider and runners are required")
	}
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := o.applyDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(o.registry)
	if err != nil {
		return nil, fmt.Errorf("vm: register metrics: %w", err)
	}
	p := &Pool{
		provider: provider, runners: runners, opts: o, log: o.logger, m: m,
		ops:      make(chan func(context.Context)),
		loopDone: make(chan struct{}),
		st: &state{
			byName:    map[string]*poolState{},
			instances: map[string]*instance{},
			jobs:      map[int64]*instance{},
			recent:    map[string]string{},
		},
	}
	for _, pc := range o.pools {
		ps := &poolState{cfg: pc, labels: normLabels(pc.Labels), labelSet: map[string]bool{}}
		for _, l := range ps.labels {
			ps.labelSet[l] = true
		}
		p.st.pools = append(p.st.pools, ps)
		p.st.byName[pc.Name] = ps
	}
	p.publish()
	return p, nil
}

// ControllerID opens (creating if needed) the state in dir and returns its
// controller ID, for providers to label instances with before the Pool
// exists. An empty dir yields a fresh random ID.
func ControllerID(ctx context.Context, dir string) (string, error) {
	s, err := store.Open(ctx, dir)
	if err != nil {
		return "", fmt.Errorf("vm: %w", err)
	}
	defer s.Close()
	id, err := s.ControllerID(ctx)
	if err != nil {
		return "", fmt.Errorf("vm: %w", err)
	}
	return id, nil
}

// Start opens the state, reconciles it with the provider and GitHub (see
// reconcile), counts GitHub's queued jobs as demand and starts keeping the
// pools warm. ctx bounds Start only: the pool runs until Close.
func (p *Pool) Start(ctx context.Context) error {
	if !p.phase.CompareAndSwap(phaseNew, phaseRunning) {
		return errors.New("vm: Start called twice")
	}
	s, err := store.Open(ctx, p.opts.stateDir)
	if err != nil {
		p.phase.Store(phaseClosed)
		return fmt.Errorf("vm: start: %w", err)
	}
	p.store = s
	if p.controller, err = s.ControllerID(ctx); err == nil {
		p.key, err = s.InstanceKey(ctx)
	}
	if err != nil {
		s.Close()
		p.phase.Store(phaseClosed)
		return fmt.Errorf("vm: start: %w", err)
	}
	plan, err := p.planReconcile(ctx)
	if err != nil {
		s.Close()
		p.phase.Store(phaseClosed)
		return fmt.Errorf("vm: start: reconcile: %w", err)
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	go p.run(loopCtx)
	if p.opts.queuePoll > 0 {
		go p.pollQueued(loopCtx)
	}
	if err := p.do(ctx, func(lctx context.Context) { p.applyReconcile(lctx, plan) }); err != nil {
		return fmt.Errorf("vm: start: %w", err)
	}
	p.log.InfoContext(ctx, "pool started", "controller", p.controller, "pools", len(p.st.pools),
		"adopted", len(plan.adopt), "destroyed", len(plan.destroy), "queued", len(plan.queued))
	return nil
}

// Controller returns the controller ID from the state (set by Start).
func (p *Pool) Controller() string {
	if p.phase.Load() == phaseNew {
		return ""
	}
	return p.controller
}

// Close shuts the pool down: it stops creating, cancels creates in flight,
// drops pending demand and destroys idle instances, then waits for those
// destroys. Busy instances are left running (their jobs finish; the next
// Start adopts or reaps them) unless WithDestroyBusyOnClose was given. If ctx
// ends first, Close abandons the remaining work to the next Start's
// reconciliation and returns ctx's error. Close is idempotent.
func (p *Pool) Close(ctx context.Context) error {
	if p.phase.CompareAndSwap(phaseNew, phaseClosed) {
		return nil
	}
	if !p.phase.CompareAndSwap(phaseRunning, phaseClosed) {
		return nil
	}
	err := p.do(ctx, p.shutdown)
	if err == nil {
		select {
		case <-p.loopDone:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	p.halt()
	if err != nil {
		return fmt.Errorf("vm: close: %w", err)
	}
	return nil
}

// halt stops the run goroutine and the waiters wherever they are, and closes
// the store: what is left is the next Start's to reconcile.
func (p *Pool) halt() {
	p.cancel()
	<-p.loopDone
	p.waiters.Wait()
	p.store.Close()
}

// shutdown begins Close on the run goroutine.
func (p *Pool) shutdown(ctx context.Context) {
	st := p.st
	st.closing = true
	for _, ps := range st.pools {
		ps.pending = nil
	}
	for _, in := range st.instances {
		switch {
		case in.state == StateCreating:
			in.cancel()
		case in.state == StateIdle, in.state == StateBusy && p.opts.destroyBusy:
			p.destroy(ctx, in, "pool closing")
		}
	}
}

// run is the goroutine that owns p.st.
func (p *Pool) run(ctx context.Context) {
	defer close(p.loopDone)
	for {
		select {
		case f := <-p.ops:
			f(ctx)
			p.publish()
			if p.st.closing && p.st.work == 0 {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// do runs f on the run goroutine and waits for it.
func (p *Pool) do(ctx context.Context, f func(ctx context.Context)) error {
	done := make(chan struct{})
	select {
	case p.ops <- func(lctx context.Context) {
		f(lctx)
		p.publish() // callers see their own effect in Snapshot
		close(done)
	}:
	case <-p.loopDone:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-p.loopDone:
		return ErrClosed
	}
}

// post queues f for the run goroutine without waiting; it is dropped once the
// run goroutine has stopped.
func (p *Pool) post(f func(ctx context.Context)) {
	select {
	case p.ops <- f:
	case <-p.loopDone:
	}
}

// call is do for the public methods: it checks the pool is running.
func (p *Pool) call(ctx context.Context, f func(ctx context.Context)) error {
	switch p.phase.Load() {
	case phaseNew:
		return ErrNotStarted
	case phaseClosed:
		return ErrClosed
	}
	return p.do(ctx, f)
}

// Snapshot is a point-in-time count of the pool's instances, for health
// checks and metrics.
type Snapshot struct {
	// States counts instances of all pools by state (gone is always 0).
	States map[State]int
	// Pending counts queued jobs no instance is assigned to yet.
	Pending int
	// Pools holds the same counts per pool, in configuration order.
	Pools []PoolSnapshot
}

// PoolSnapshot is one pool's part of a Snapshot.
type PoolSnapshot struct {
	Name    string
	Labels  []string
	MinIdle int
	Max     int
	States  map[State]int
	Pending int
	// Wanted is how many instances the pool wants now: its busy ones,
	// min-idle idle ones and one for each pending job, up to max.
	Wanted int
	// ShortSince is when the pool last fell below min-idle idle instances
	// and has stayed there; zero while it has enough.
	ShortSince time.Time
	// ProviderError and GitHubError are the last failed provider call
	// (create, destroy) and GitHub call (JIT config, runner removal,
	// listing queued jobs or runners).
	ProviderError LastError
	GitHubError   LastError
}

// Total returns the number of instances that exist (every state but gone).
func (s Snapshot) Total() int {
	n := 0
	for st, c := range s.States {
		if st != StateGone {
			n += c
		}
	}
	return n
}

// Snapshot returns the latest counts. It never blocks.
func (p *Pool) Snapshot() Snapshot { return *p.snap.Load() }

// publish recomputes the snapshot and the instance gauges; run goroutine
// only (and New).
func (p *Pool) publish() {
	s := &Snapshot{States: zeroStates()}
	idx := map[*poolState]int{}
	for i, ps := range p.st.pools {
		idx[ps] = i
		s.Pools = append(s.Pools, PoolSnapshot{
			Name: ps.cfg.Name, Labels: ps.labels, MinIdle: ps.cfg.MinIdle, Max: ps.cfg.Max,
			States: zeroStates(), Pending: len(ps.pending),
		})
		s.Pending += len(ps.pending)
	}
	for _, in := range p.st.instances {
		s.States[in.state]++
		s.Pools[idx[in.pool]].States[in.state]++
	}
	now := time.Now()
	for i, ps := range p.st.pools {
		sp := &s.Pools[i]
		sp.Wanted = min(sp.States[StateBusy]+ps.cfg.MinIdle+len(ps.pending), ps.cfg.Max)
		switch {
		case sp.States[StateIdle] >= ps.cfg.MinIdle:
			ps.shortSince = time.Time{}
		case ps.shortSince.IsZero():
			ps.shortSince = now
		}
		sp.ShortSince, sp.ProviderError, sp.GitHubError = ps.shortSince, ps.providerErr, ps.githubErr
	}
	for _, ps := range s.Pools {
		for st, n := range ps.States {
			p.m.instances.WithLabelValues(ps.Name, string(st)).Set(float64(n))
		}
	}
	p.snap.Store(s)
}

func zeroStates() map[State]int {
	m := make(map[State]int, len(States))
	for _, s := range States {
		m[s] = 0
	}
	return m
}
