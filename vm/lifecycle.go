package vm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"time"

	"github.com/vermont-ci/vermont/vm/internal/store"
)

// Everything in this file runs on the run goroutine, except the *Worker
// functions, which run on their own goroutines, touch no pool state and
// report back with post.

// setState moves in to next, enforcing the transition table, and persists it.
// An illegal transition is a bug in the pool: it is logged and refused.
func (p *Pool) setState(ctx context.Context, in *instance, next State) bool {
	if err := checkTransition(in.name, in.state, next); err != nil {
		p.log.ErrorContext(ctx, "refusing state change", "err", err)
		return false
	}
	in.state = next
	p.persist(ctx, in)
	return true
}

// persist writes in's record, or deletes it once the instance is gone.
func (p *Pool) persist(ctx context.Context, in *instance) {
	var err error
	if in.state == StateGone {
		err = p.store.Delete(ctx, in.name)
	} else {
		now := time.Now()
		err = p.store.Put(ctx, store.Record{
			Name: in.name, Pool: in.pool.cfg.Name, State: string(in.state),
			RunnerID: in.runnerID, JobID: in.jobID, Started: in.started, CreatedAt: in.createdAt, UpdatedAt: now,
		})
	}
	if err != nil {
		p.m.providerErrors.WithLabelValues(in.pool.cfg.Name, "store").Inc()
		p.log.ErrorContext(ctx, "persisting instance", "instance", in.name, "err", err)
	}
}

// scale creates instances until every pool has MinIdle spare (idle or
// creating) instances beyond its pending jobs, within Max, the host maximum
// and backoff; and destroys idle instances beyond that.
func (p *Pool) scale(ctx context.Context) {
	st := p.st
	if st.closing {
		return
	}
	total := len(st.instances)
	now := time.Now()
	for _, ps := range st.pools {
		var all, spare, idle int
		for _, in := range st.instances {
			if in.pool != ps {
				continue
			}
			all++
			switch in.state {
			case StateIdle:
				idle++
				spare++
			case StateCreating:
				spare++
			}
		}
		want := ps.cfg.MinIdle + len(ps.pending)
		if idle > want {
			p.trim(ctx, ps, idle-want)
			continue
		}
		if now.Before(ps.retryAt) {
			continue
		}
		for ; spare < want && all < ps.cfg.Max && total < p.opts.hostMax; spare++ {
			p.createInstance(ctx, ps)
			all++
			total++
		}
	}
}

// trim destroys the n newest idle instances of ps.
func (p *Pool) trim(ctx context.Context, ps *poolState, n int) {
	for ; n > 0; n-- {
		var newest *instance
		for _, in := range p.st.instances {
			if in.pool == ps && in.state == StateIdle && (newest == nil || in.createdAt.After(newest.createdAt)) {
				newest = in
			}
		}
		if newest == nil {
			return
		}
		p.destroy(ctx, newest, "more idle instances than needed")
	}
}

// assign gives ps's pending jobs, oldest first, to its idle instances,
// oldest first.
func (p *Pool) assign(ctx context.Context, ps *poolState) {
	for len(ps.pending) > 0 {
		var oldest *instance
		for _, in := range p.st.instances {
			if in.pool == ps && in.state == StateIdle && (oldest == nil || in.createdAt.Before(oldest.createdAt)) {
				oldest = in
			}
		}
		if oldest == nil {
			return
		}
		job := ps.pending[0]
		ps.pending = ps.pending[1:]
		p.reserve(ctx, oldest, job)
	}
}

// reserve assigns job to the idle instance in.
func (p *Pool) reserve(ctx context.Context, in *instance, job pendingJob) {
	in.jobID, in.queuedAt, in.started = job.id, job.queuedAt, false
	if !p.setState(ctx, in, StateBusy) {
		return
	}
	p.st.jobs[job.id] = in
	p.m.pickup.WithLabelValues(in.pool.cfg.Name).Observe(time.Since(job.queuedAt).Seconds())
	p.log.InfoContext(ctx, "job assigned", "pool", in.pool.cfg.Name, "instance", in.name, "job", job.id)
}

// createInstance records a new instance as creating and starts its worker.
func (p *Pool) createInstance(ctx context.Context, ps *poolState) {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand docs)
	name := p.opts.prefix + "-" + ps.cfg.Name + "-" + hex.EncodeToString(b[:])
	in := &instance{name: name, pool: ps, state: StateCreating, createdAt: time.Now()}
	p.st.instances[name] = in
	p.persist(ctx, in)
	cctx, cancel := context.WithTimeout(ctx, p.opts.bootstrapTimeout)
	in.cancel = cancel
	p.st.work++
	spec := Spec{
		Name: name, Pool: ps.cfg.Name, Image: ps.cfg.Image, CPUs: ps.cfg.CPUs, MemoryMB: ps.cfg.MemoryMB,
		Env: maps.Clone(ps.cfg.Env),
	}
	if spec.Env == nil {
		spec.Env = map[string]string{}
	}
	spec.Env["VERMONT_INSTANCE"] = name
	spec.Env[EnvInstanceToken] = p.InstanceToken(name)
	go p.createWorker(cctx, cancel, spec, ps.labels)
}

// createWorker registers the JIT runner and creates the instance, bounded by
// the bootstrap timeout.
func (p *Pool) createWorker(ctx context.Context, cancel context.CancelFunc, spec Spec, labels []string) {
	defer cancel()
	jit, err := p.runners.JITConfig(ctx, spec.Name, labels)
	if err != nil {
		p.post(func(lctx context.Context) { p.createFailed(lctx, spec.Name, "jitconfig", err) })
		return
	}
	p.post(func(lctx context.Context) {
		if in := p.st.instances[spec.Name]; in != nil {
			in.runnerID, in.jit = jit.RunnerID, jit.Config
			p.persist(lctx, in)
		}
	})
	spec.RunnerConfig = jit.Config
	if _, err := p.provider.Create(ctx, spec); err != nil {
		p.post(func(lctx context.Context) { p.createFailed(lctx, spec.Name, "create", err) })
		return
	}
	p.post(func(lctx context.Context) { p.created(lctx, spec.Name) })
}

// created handles a successful Create.
func (p *Pool) created(ctx context.Context, name string) {
	p.st.work--
	in := p.st.instances[name]
	if in == nil || in.state != StateCreating {
		return
	}
	in.pool.failures = 0
	if !p.setState(ctx, in, StateIdle) {
		return
	}
	p.log.InfoContext(ctx, "instance idle", "pool", in.pool.cfg.Name, "instance", name)
	p.watch(ctx, in)
	switch {
	case p.st.closing || in.doneEarly:
		p.destroy(ctx, in, "done before it was ready")
	case in.started:
		// in_progress arrived while creating.
		p.setState(ctx, in, StateBusy)
	default:
		p.assign(ctx, in.pool)
	}
	p.scale(ctx)
}

// createFailed handles a failed JIT registration or Create: the instance is
// failed and destroyed, and the pool backs off.
func (p *Pool) createFailed(ctx context.Context, name, op string, err error) {
	p.st.work--
	in := p.st.instances[name]
	if in == nil {
		return
	}
	ps := in.pool
	if !p.st.closing {
		if op == "jitconfig" {
			ps.githubErr.set(err)
		} else {
			ps.providerErr.set(err)
		}
		p.m.providerErrors.WithLabelValues(ps.cfg.Name, op).Inc()
		ps.failures++
		d := p.opts.backoff(ps.failures)
		ps.retryAt = time.Now().Add(d)
		p.log.WarnContext(ctx, "creating instance failed", "pool", ps.cfg.Name, "instance", name, "op", op,
			"err", err, "attempt", ps.failures, "retry_in", d)
		time.AfterFunc(d, func() { p.post(p.scale) })
	}
	p.setState(ctx, in, StateFailed)
	p.destroy(ctx, in, "create failed")
}

// watch starts waiting for in's runner to exit.
func (p *Pool) watch(ctx context.Context, in *instance) {
	p.waiters.Add(1)
	go p.waitWorker(ctx, in.name)
}

func (p *Pool) waitWorker(ctx context.Context, name string) {
	defer p.waiters.Done()
	code, err := p.provider.Wait(ctx, name)
	if ctx.Err() != nil {
		return // the pool is stopping; the next Start re-attaches
	}
	p.post(func(lctx context.Context) { p.exited(lctx, name, code, err) })
}

// exited handles a runner that exited (or a Wait that failed): the instance
// is spent either way.
func (p *Pool) exited(ctx context.Context, name string, code int, err error) {
	in := p.st.instances[name]
	if in == nil || (in.state != StateIdle && in.state != StateBusy) {
		return
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		p.m.providerErrors.WithLabelValues(in.pool.cfg.Name, "wait").Inc()
		p.log.WarnContext(ctx, "waiting for instance failed", "instance", name, "err", err)
	}
	p.log.InfoContext(ctx, "runner exited", "pool", in.pool.cfg.Name, "instance", name, "code", code, "job", in.jobID)
	p.destroy(ctx, in, "runner exited")
	p.scale(ctx)
}

// destroy moves in to destroying and starts its destroy worker. A job
// assigned to in that never started goes back to the pending queue.
func (p *Pool) destroy(ctx context.Context, in *instance, why string) {
	if in.state == StateDestroying || in.state == StateGone {
		return
	}
	if in.state == StateCreating {
		// The create worker still runs: cancel it; createFailed destroys.
		in.doneEarly = true
		in.cancel()
		return
	}
	if in.jobID != 0 && p.st.jobs[in.jobID] == in {
		delete(p.st.jobs, in.jobID)
		if !in.started && !p.st.closing {
			in.pool.pending = append([]pendingJob{{id: in.jobID, queuedAt: in.queuedAt}}, in.pool.pending...)
		}
	}
	if !p.setState(ctx, in, StateDestroying) {
		return
	}
	p.log.InfoContext(ctx, "destroying instance", "pool", in.pool.cfg.Name, "instance", in.name, "reason", why)
	p.st.work++
	go p.destroyWorker(ctx, in.name, in.runnerID)
}

func (p *Pool) destroyWorker(ctx context.Context, name string, runnerID int64) {
	// Cleanup must finish even when the pool is being stopped.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.destroyTimeout)
	defer cancel()
	err := p.provider.Destroy(ctx, name)
	var rerr error
	if err == nil {
		rerr = p.removeRunner(ctx, name, runnerID)
	}
	p.post(func(lctx context.Context) { p.destroyed(lctx, name, err, rerr) })
}

// removeRunner removes an instance's GitHub runner. A runner registered
// through the registration-token fallback has no ID known to the pool
// (JIT.RunnerID is 0), so it is looked up by name; one that is not there
// (an ephemeral runner unregisters itself after its job) is fine.
func (p *Pool) removeRunner(ctx context.Context, name string, runnerID int64) error {
	if runnerID == 0 {
		runners, err := p.runners.ListRunners(ctx)
		if err != nil {
			return err
		}
		for _, r := range runners {
			if r.Name == name {
				runnerID = r.ID
			}
		}
		if runnerID == 0 {
			return nil
		}
	}
	return p.runners.RemoveRunner(ctx, runnerID)
}

// destroyed handles the end of a destroy.
func (p *Pool) destroyed(ctx context.Context, name string, err, rerr error) {
	p.st.work--
	in := p.st.instances[name]
	if in == nil {
		return
	}
	ps := in.pool
	if err != nil {
		ps.providerErr.set(err)
		p.m.providerErrors.WithLabelValues(ps.cfg.Name, "destroy").Inc()
		in.attempts++
		p.setState(ctx, in, StateFailed)
		if p.st.closing {
			p.log.ErrorContext(ctx, "destroying instance failed; left for the next start", "instance", name, "err", err)
			return
		}
		d := p.opts.backoff(in.attempts)
		p.log.WarnContext(ctx, "destroying instance failed", "instance", name, "err", err, "attempt", in.attempts, "retry_in", d)
		time.AfterFunc(d, func() {
			p.post(func(lctx context.Context) {
				if cur := p.st.instances[name]; cur == in && in.state == StateFailed {
					p.destroy(lctx, in, "retrying destroy")
				}
			})
		})
		return
	}
	if rerr != nil {
		ps.githubErr.set(rerr)
		p.m.providerErrors.WithLabelValues(ps.cfg.Name, "remove_runner").Inc()
		p.log.WarnContext(ctx, "removing GitHub runner failed; the next start retries", "instance", name, "err", rerr)
	}
	p.setState(ctx, in, StateGone)
	delete(p.st.instances, name)
	p.remember(name, ps.cfg.Name)
	p.assign(ctx, ps)
	p.scale(ctx)
}

// remember keeps the names of recently gone instances, so that late
// workflow_job events for them are recognised; bounded.
func (p *Pool) remember(name, pool string) {
	if len(p.st.recent) >= 4096 {
		clear(p.st.recent)
	}
	p.st.recent[name] = pool
}
