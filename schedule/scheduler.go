package schedule

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// Scheduler runs plans. A zero Scheduler is not valid; use New.
type Scheduler struct {
	limit  int
	groups *Groups
	force  <-chan struct{}
}

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithLimit bounds how many jobs run at once (default: the number of CPUs).
// A job whose strategy sets max-parallel may run that many legs at once
// whatever the limit: its author asked for that parallelism.
func WithLimit(n int) Option { return func(s *Scheduler) { s.limit = n } }

// WithForceStop gives a channel whose closing stops everything still
// running after a cancellation, jobs with always() included: a second
// Ctrl-C.
func WithForceStop(ch <-chan struct{}) Option { return func(s *Scheduler) { s.force = ch } }

// WithGroups shares concurrency groups between schedulers (for several
// workflows started by one event).
func WithGroups(g *Groups) Option { return func(s *Scheduler) { s.groups = g } }

// New returns a Scheduler.
func New(opts ...Option) *Scheduler {
	s := &Scheduler{}
	for _, o := range opts {
		o(s)
	}
	if s.limit <= 0 {
		s.limit = runtime.NumCPU()
	}
	if s.groups == nil {
		s.groups = NewGroups()
	}
	return s
}

// RunResult is the result of a whole run.
type RunResult struct {
	Result Result             // success unless a job failed or was cancelled
	Jobs   map[string]Outcome // by job id; a matrix job's legs combined
}

// Run runs the plan to the end and returns what each job gave. Cancelling
// ctx cancels the run as GitHub does: jobs whose if still holds under
// cancelled() (always(), cancelled()) start or go on, the others stop.
func (s *Scheduler) Run(ctx context.Context, p *Plan, r JobRunner) *RunResult {
	if c := p.Workflow.Concurrency; c != nil && c.Group != nil {
		scope := &expr.Scope{Contexts: p.Contexts}
		name, err := p.tpl.evalString(c.Group.Value, scope)
		if err == nil && name != "" {
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			release, err := s.groups.AcquireQueue(ctx, name, queueOf(c), p.tpl.boolValue(c.CancelInProgress, false, scope), cancel)
			if err != nil {
				return s.cancelAll(p, r, err)
			}
			defer release()
			ctx = runCtx
		}
	}
	d := &dispatch{s: s, p: p, r: r, ctx: ctx, jobs: map[string]*jobState{}, done: make(chan legDone, s.limit)}
	return d.run()
}

// cancelAll reports every job cancelled (the run lost its concurrency group).
func (s *Scheduler) cancelAll(p *Plan, r JobRunner, why error) *RunResult {
	res := &RunResult{Result: Cancelled, Jobs: map[string]Outcome{}}
	for _, pj := range p.jobs {
		r.SkipJob(&Job{ID: pj.id, Name: p.tpl.displayName(pj.def, nil, Leg{}), Workflow: p.Workflow, Def: pj.def, Contexts: p.Contexts}, Cancelled, why)
		res.Jobs[pj.id] = Outcome{Result: Cancelled}
	}
	return res
}

// jobState is the dispatcher's record of one planned job.
type jobState struct {
	pj         *planJob
	deps       []*jobState
	dependents []*jobState
	waiting    int  // needs not done yet
	anyFailed  bool // the job or an ancestor failed
	decided    bool
	legs       []*Job
	queued     []*Job
	running    int
	finished   int
	cancel     map[*Job]context.CancelFunc
	coe        map[*Job]bool // continue-on-error per leg
	failed     bool          // a leg failed (fail-fast applies once)
	limit      int           // explicit max-parallel, 0 when unset
	failFast   bool
	outcome    Outcome
	done       bool
	hasFail    bool
	hasCanc    bool
}

type legDone struct {
	js      *jobState
	job     *Job
	outcome Outcome
}

// dispatch is the state of one Run; only the Run goroutine touches it.
type dispatch struct {
	s        *Scheduler
	p        *Plan
	r        JobRunner
	ctx      context.Context
	jobs     map[string]*jobState
	ready    []*jobState // needs done, if not yet decided
	active   []*jobState // decided, with legs queued, in plan order
	running  int         // legs running that count against the limit
	inflight int         // legs running
	done     chan legDone
	g        errgroup.Group
	canceled bool
	forced   bool // a forced stop: nothing goes on, always() or not
}

func (d *dispatch) run() *RunResult {
	states := make([]*jobState, len(d.p.jobs))
	for i, pj := range d.p.jobs {
		js := &jobState{pj: pj, cancel: map[*Job]context.CancelFunc{}, coe: map[*Job]bool{}}
		d.jobs[pj.id] = js
		states[i] = js
	}
	for _, js := range states {
		for _, dep := range js.pj.deps {
			ds := d.jobs[dep.id]
			js.deps = append(js.deps, ds)
			ds.dependents = append(ds.dependents, js)
		}
		js.waiting = len(js.deps)
		if js.waiting == 0 {
			d.ready = append(d.ready, js)
		}
	}
	ctxDone, force := d.ctx.Done(), d.s.force
	for {
		d.decideReady()
		d.startLegs()
		if d.inflight == 0 {
			break
		}
		select {
		case ld := <-d.done:
			d.finishLeg(ld)
		case <-ctxDone:
			ctxDone = nil
			d.canceled = true
			d.onCancel()
		case <-force:
			force, ctxDone = nil, nil
			d.canceled, d.forced = true, true
			d.onCancel()
		}
	}
	_ = d.g.Wait()
	res := &RunResult{Result: Success, Jobs: make(map[string]Outcome, len(states))}
	for _, js := range states {
		res.Jobs[js.pj.id] = js.outcome
		switch js.outcome.Result {
		case Failure:
			res.Result = Failure
		case Cancelled:
			if res.Result == Success {
				res.Result = Cancelled
			}
		}
	}
	return res
}

// decideReady evaluates the if of every job whose needs are all done;
// deciding one may finish it (skipped) and make others ready.
func (d *dispatch) decideReady() {
	for len(d.ready) > 0 {
		js := d.ready[0]
		d.ready = d.ready[1:]
		js.decided = true
		d.decide(js)
	}
}

// jobDone records that a job has its outcome and wakes the jobs needing it.
func (d *dispatch) jobDone(js *jobState) {
	js.done = true
	js.anyFailed = js.anyFailed || js.outcome.Result == Failure
	for _, dj := range js.dependents {
		dj.anyFailed = dj.anyFailed || js.anyFailed
		dj.waiting--
		if dj.waiting == 0 {
			d.ready = append(d.ready, dj)
		}
	}
}

// scope returns the expression scope of a job before its matrix is known,
// with GitHub's job-level status: failure() is true when any ancestor
// failed; success() is false as well when a direct need was skipped or
// cancelled ("If a job fails or is skipped, all jobs that need it are
// skipped unless the jobs use a conditional expression that causes the job
// to continue").
func (d *dispatch) scope(pj *planJob, needs map[string]Need) *expr.Scope {
	ctxs := make(map[string]any, len(d.p.Contexts)+1)
	for k, v := range d.p.Contexts {
		ctxs[k] = v
	}
	ctxs["needs"] = NeedsContext(needsOrder(pj.def), needs)
	js := d.jobs[pj.id]
	scope := &expr.Scope{Contexts: ctxs, Cancelled: d.canceled}
	for _, dep := range js.deps {
		scope.Failed = scope.Failed || dep.anyFailed
		scope.Incomplete = scope.Incomplete || dep.outcome.Result != Success
	}
	return scope
}

func (d *dispatch) needs(pj *planJob) map[string]Need {
	m := make(map[string]Need, len(pj.deps))
	for _, dep := range d.jobs[pj.id].deps {
		m[dep.pj.id] = Need{Result: dep.outcome.Result, Outputs: dep.outcome.Outputs}
	}
	return m
}

// decide evaluates a job's if and, when it holds, expands its legs. The
// expression scope is only built when something needs it: most jobs have
// no if and no matrix.
func (d *dispatch) decide(js *jobState) {
	pj := js.pj
	needs := d.needs(pj)
	bare := &Job{ID: pj.id, Name: d.p.tpl.displayName(pj.def, nil, Leg{}), Workflow: d.p.Workflow, Def: pj.def, Contexts: d.p.Contexts, Needs: needs}
	var scope *expr.Scope
	if strings.TrimSpace(pj.condSrc) != "" || pj.def.Strategy != nil {
		scope = d.scope(pj, needs)
	}
	var ok bool
	if d.forced {
		ok = false
	} else if scope == nil {
		ok = !d.canceled
		for _, dep := range js.deps {
			ok = ok && !dep.anyFailed && dep.outcome.Result == Success
		}
	} else {
		var err error
		if ok, err = d.holds(pj, scope); err != nil {
			d.skip(js, bare, Failure, fmt.Errorf("%s: jobs.%s.if: %w", d.p.Workflow.File, pj.id, err))
			return
		}
	}
	if !ok {
		result := Skipped
		if d.canceled {
			result = Cancelled
		}
		d.skip(js, bare, result, nil)
		return
	}
	var legs []Leg
	if scope != nil {
		var err error
		if legs, err = d.p.legs(pj, scope); err != nil {
			d.skip(js, bare, Failure, fmt.Errorf("%s: jobs.%s.strategy: %w", d.p.Workflow.File, pj.id, err))
			return
		}
	}
	if legs == nil {
		legs = []Leg{{}}
	} else if len(legs) == 0 {
		d.skip(js, bare, Skipped, errors.New("no matrix leg matches the --matrix filter"))
		return
	}
	js.failFast = true
	if s := pj.def.Strategy; s != nil {
		js.failFast = d.p.tpl.boolValue(s.FailFast, true, scope)
		if s.MaxParallel != nil {
			js.limit = d.p.tpl.intValue(s.MaxParallel, 0, scope)
		}
	}
	maxPar := js.limit
	if maxPar <= 0 {
		maxPar = len(legs)
	}
	hasMatrix := pj.def.Strategy != nil && pj.def.Strategy.Matrix != nil
	for i, l := range legs {
		job := &Job{
			ID: pj.id, Name: bare.Name, Workflow: d.p.Workflow, Def: pj.def, Contexts: d.p.Contexts,
			Strategy: Strategy{FailFast: js.failFast, JobIndex: i, JobTotal: len(legs), MaxParallel: maxPar},
			Needs:    needs,
		}
		if hasMatrix {
			job.Matrix = l.Context()
		}
		var legScope *expr.Scope
		if hasMatrix || strings.Contains(bare.Name, "${{") || pj.def.ContinueOnError.IsExpr() {
			legScope = jobScope(job)
			job.Name = d.p.tpl.displayName(pj.def, legScope, l)
		}
		js.coe[job] = d.p.tpl.boolValue(pj.def.ContinueOnError, false, legScope)
		js.legs = append(js.legs, job)
	}
	js.queued = append([]*Job(nil), js.legs...)
	d.active = append(d.active, js)
}

// holds evaluates the job's if.
func (d *dispatch) holds(pj *planJob, scope *expr.Scope) (bool, error) {
	v, err := pj.cond.Eval(scope)
	if err != nil {
		return false, err
	}
	return expr.Truthy(v), nil
}

func (d *dispatch) skip(js *jobState, job *Job, result Result, reason error) {
	d.r.SkipJob(job, result, reason)
	js.outcome = Outcome{Result: result}
	d.jobDone(js)
}

// startLegs starts queued legs while the limits allow, in plan order.
func (d *dispatch) startLegs() {
	kept := d.active[:0]
	for i, js := range d.active {
		for len(js.queued) > 0 {
			if js.limit > 0 {
				if js.running >= js.limit {
					break
				}
			} else if d.running >= d.s.limit {
				break
			}
			job := js.queued[0]
			js.queued = js.queued[1:]
			if d.canceled && !d.stillHolds(js, job) {
				d.recordLeg(js, job, Outcome{Result: Cancelled})
				continue
			}
			d.start(js, job)
		}
		if len(js.queued) > 0 {
			kept = append(kept, d.active[i])
		}
	}
	d.active = kept
}

func (d *dispatch) start(js *jobState, job *Job) {
	// Jobs are not cancelled by the run's ctx directly: on a cancellation the
	// dispatcher decides which go on (onCancel).
	ctx, cancel := context.WithCancel(context.WithoutCancel(d.ctx))
	js.cancel[job] = cancel
	js.running++
	d.inflight++
	if js.limit == 0 {
		d.running++
	}
	d.g.Go(func() error {
		out := d.runLeg(ctx, job)
		d.done <- legDone{js: js, job: job, outcome: out}
		return nil
	})
}

// queueOf returns the queue mode a concurrency block asks for.
func queueOf(c *workflow.Concurrency) Queue {
	if c.QueueMax() {
		return QueueMax
	}
	return QueueSingle
}

// runLeg runs one leg inside its concurrency group, if it has one.
func (d *dispatch) runLeg(ctx context.Context, job *Job) Outcome {
	if c := job.Def.Concurrency; c != nil && c.Group != nil {
		scope := jobScope(job)
		name, err := d.p.tpl.evalString(c.Group.Value, scope)
		if err != nil {
			d.r.SkipJob(job, Failure, fmt.Errorf("jobs.%s.concurrency: %w", job.ID, err))
			return Outcome{Result: Failure}
		}
		if name != "" {
			legCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			release, err := d.s.groups.AcquireQueue(ctx, name, queueOf(c), d.p.tpl.boolValue(c.CancelInProgress, false, scope), cancel)
			if err != nil {
				d.r.SkipJob(job, Cancelled, err)
				return Outcome{Result: Cancelled}
			}
			defer release()
			ctx = legCtx
		}
	}
	return d.r.RunJob(ctx, job)
}

func (d *dispatch) finishLeg(ld legDone) {
	js := ld.js
	delete(js.cancel, ld.job)
	js.running--
	d.inflight--
	if js.limit == 0 {
		d.running--
	}
	d.recordLeg(js, ld.job, ld.outcome)
}

// recordLeg folds one leg's outcome into its job, applying fail-fast.
func (d *dispatch) recordLeg(js *jobState, job *Job, out Outcome) {
	js.finished++
	coe := js.coe[job]
	switch out.Result {
	case Failure:
		if !coe {
			js.hasFail = true
			if js.failFast && !js.failed {
				js.failed = true
				for _, q := range js.queued {
					js.finished++
					d.r.SkipJob(q, Cancelled, errors.New("cancelled by fail-fast: another leg of the matrix failed"))
					js.hasCanc = true
				}
				js.queued = nil
				for _, cancel := range js.cancel {
					cancel()
				}
			}
		}
	case Cancelled:
		js.hasCanc = true
	}
	for k, v := range out.Outputs {
		if v != "" {
			if js.outcome.Outputs == nil {
				js.outcome.Outputs = map[string]string{}
			}
			js.outcome.Outputs[k] = v
		}
	}
	if js.finished < len(js.legs) {
		return
	}
	switch {
	case js.hasFail:
		js.outcome.Result = Failure
	case js.hasCanc:
		js.outcome.Result = Cancelled
	default:
		js.outcome.Result = Success
	}
	d.jobDone(js)
}

// onCancel applies a run cancellation: running jobs whose if no longer holds
// under cancelled() are cancelled; queued legs are cancelled as they come up.
func (d *dispatch) onCancel() {
	for _, js := range d.jobs {
		for job, cancel := range js.cancel {
			if !d.stillHolds(js, job) {
				cancel()
			}
		}
	}
}

// stillHolds re-evaluates a started job's if once the run is cancelled, as
// GitHub's server does.
func (d *dispatch) stillHolds(js *jobState, job *Job) bool {
	if d.forced {
		return false
	}
	scope := d.scope(js.pj, d.needs(js.pj))
	scope.Cancelled = true
	v, err := js.pj.cond.Eval(scope)
	return err == nil && expr.Truthy(v)
}

// jobScope is the scope of one leg: plan contexts, needs, matrix, strategy.
func jobScope(j *Job) *expr.Scope { return &expr.Scope{Contexts: j.BaseContexts()} }

// displayName is the job's name as GitHub shows it: its name: (evaluated),
// or its id, followed by the matrix values unless the name uses them.
func (t *templates) displayName(def *workflow.Job, scope *expr.Scope, l Leg) string {
	name := def.ID.Value
	usesExpr := false
	if def.Name != nil && def.Name.Value != "" {
		name = def.Name.Value
		if strings.Contains(name, "${{") {
			usesExpr = true
			if scope != nil {
				if s, err := t.evalString(name, scope); err == nil {
					name = s
				}
			}
		}
	}
	if len(l.Keys) > 0 && !usesExpr {
		name += " " + legSuffix(l)
	}
	return name
}
