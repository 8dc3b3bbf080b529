package vm

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// JobQueued counts a queued workflow job as demand: the job is routed to the
// pool whose labels include all of labels (self-hosted implied) and assigned
// to its oldest idle instance, or kept pending until one is ready; a
// replacement is warmed either way. It returns the assigned instance's name,
// or "" if the job is pending or no pool serves it (which is logged, not an
// error). A job already known is not counted twice.
func (p *Pool) JobQueued(ctx context.Context, labels []string, jobID int64) (string, error) {
	at := time.Now()
	var assigned string
	err := p.call(ctx, func(lctx context.Context) { assigned = p.queue(lctx, labels, jobID, at) })
	return assigned, err
}

func (p *Pool) queue(ctx context.Context, labels []string, jobID int64, at time.Time) string {
	st := p.st
	i := route(st.pools, labels)
	if i < 0 {
		p.m.jobs.WithLabelValues("", "ignored").Inc()
		p.log.InfoContext(ctx, "no pool serves job; ignored", "job", jobID, "labels", labels)
		return ""
	}
	ps := st.pools[i]
	if in := st.jobs[jobID]; in != nil {
		return in.name
	}
	if pendingIndex(ps, jobID) >= 0 {
		return ""
	}
	if st.closing {
		return ""
	}
	p.m.jobs.WithLabelValues(ps.cfg.Name, "queued").Inc()
	ps.pending = append(ps.pending, pendingJob{id: jobID, queuedAt: at})
	p.assign(ctx, ps)
	p.scale(ctx)
	if in := st.jobs[jobID]; in != nil {
		return in.name
	}
	p.log.InfoContext(ctx, "job pending", "pool", ps.cfg.Name, "job", jobID)
	return ""
}

// JobStarted records that jobID runs on the runner named runnerName
// (workflow_job in_progress). GitHub may pick any idle runner with matching
// labels, so assignments are swapped to match. Runners that are not this
// pool's are ignored, but the job stops being demand.
func (p *Pool) JobStarted(ctx context.Context, runnerName string, jobID int64) error {
	return p.call(ctx, func(lctx context.Context) { p.start(lctx, runnerName, jobID) })
}

func (p *Pool) start(ctx context.Context, runnerName string, jobID int64) {
	st := p.st
	in := st.instances[runnerName]
	prev := st.jobs[jobID] // the instance the pool assigned jobID to, if any
	if in == nil || (in.state != StateCreating && in.state != StateIdle && in.state != StateBusy) {
		// Another runner took the job: it is no longer demand here.
		p.dropPending(jobID)
		if prev != nil && !prev.started {
			p.release(ctx, prev)
		}
		p.scale(ctx)
		return
	}
	p.m.jobs.WithLabelValues(in.pool.cfg.Name, "started").Inc()
	switch {
	case in.jobID == jobID:
		in.started = true
		p.persist(ctx, in) // a restart must not hand the job out again
	case in.started:
		p.log.WarnContext(ctx, "runner reported a second job", "instance", in.name, "job", jobID, "running", in.jobID)
		return
	default:
		// in was idle, creating, or assigned another job that has not
		// started: it takes jobID, and its old job goes to prev (a swap) or
		// back to pending.
		old := pendingJob{id: in.jobID, queuedAt: in.queuedAt}
		p.dropPending(jobID)
		in.jobID, in.started = jobID, true
		st.jobs[jobID] = in
		if in.state == StateIdle {
			p.setState(ctx, in, StateBusy)
		} else {
			p.persist(ctx, in)
		}
		switch {
		case prev != nil && prev != in && !prev.started && old.id != 0:
			prev.jobID, prev.queuedAt = old.id, old.queuedAt
			st.jobs[old.id] = prev
			p.persist(ctx, prev)
		case prev != nil && prev != in && !prev.started:
			p.release(ctx, prev)
		case old.id != 0:
			in.pool.pending = append([]pendingJob{old}, in.pool.pending...)
			p.assign(ctx, in.pool)
		}
	}
	p.log.InfoContext(ctx, "job started", "pool", in.pool.cfg.Name, "instance", in.name, "job", jobID)
	p.scale(ctx)
}

// release returns an instance whose assigned job never started on it to
// idle.
func (p *Pool) release(ctx context.Context, in *instance) {
	if p.st.jobs[in.jobID] == in {
		delete(p.st.jobs, in.jobID)
	}
	in.jobID, in.queuedAt = 0, time.Time{}
	if in.state == StateBusy {
		p.setState(ctx, in, StateIdle)
		p.assign(ctx, in.pool)
	}
}

// JobCompleted records that jobID finished (workflow_job completed). If it
// ran on one of this pool's runners, that instance is destroyed, its GitHub
// runner removed and a replacement warmed. A job cancelled before any runner
// took it (runnerName empty) stops being demand.
func (p *Pool) JobCompleted(ctx context.Context, runnerName string, jobID int64) error {
	return p.call(ctx, func(lctx context.Context) { p.complete(lctx, runnerName, jobID) })
}

func (p *Pool) complete(ctx context.Context, runnerName string, jobID int64) {
	st := p.st
	p.dropPending(jobID)
	if in := st.instances[runnerName]; in != nil {
		p.m.jobs.WithLabelValues(in.pool.cfg.Name, "completed").Inc()
		if prev := st.jobs[jobID]; prev != nil && prev != in && !prev.started {
			p.release(ctx, prev)
		}
		in.started = true // the runner is spent, whatever it was assigned
		p.log.InfoContext(ctx, "job completed", "pool", in.pool.cfg.Name, "instance", in.name, "job", jobID)
		p.destroy(ctx, in, "job completed")
	} else {
		if pool, ok := st.recent[runnerName]; ok {
			p.m.jobs.WithLabelValues(pool, "completed").Inc()
		}
		if prev := st.jobs[jobID]; prev != nil && !prev.started {
			p.release(ctx, prev) // cancelled before it started
		}
	}
	p.scale(ctx)
}

// RunnerDone marks the named instance's runner as finished (the runner or
// its boot script reported completion): the instance is destroyed and
// replaced. It wraps ErrNotFound for an unknown instance.
func (p *Pool) RunnerDone(ctx context.Context, name string) error {
	var err error
	cerr := p.call(ctx, func(lctx context.Context) {
		in := p.st.instances[name]
		if in == nil {
			err = fmt.Errorf("vm: instance %q: %w", name, ErrNotFound)
			return
		}
		in.started = in.started || in.jobID != 0
		p.destroy(lctx, in, "runner reported completion")
		p.scale(lctx)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// RunnerConfig returns the JIT runner configuration of the named instance,
// for environments that fetch it at boot. Only creating and idle instances
// have one to give; others (and unknown names) wrap ErrNotFound. The result
// is a credential.
func (p *Pool) RunnerConfig(ctx context.Context, name string) (string, error) {
	var cfg string
	cerr := p.call(ctx, func(context.Context) {
		if in := p.st.instances[name]; in != nil && (in.state == StateCreating || in.state == StateIdle) {
			cfg = in.jit
		}
	})
	if cerr != nil {
		return "", cerr
	}
	if cfg == "" {
		return "", fmt.Errorf("vm: runner config for %q: %w", name, ErrNotFound)
	}
	return cfg, nil
}

// dropPending removes jobID from every pool's pending queue.
func (p *Pool) dropPending(jobID int64) {
	for _, ps := range p.st.pools {
		if i := pendingIndex(ps, jobID); i >= 0 {
			ps.pending = slices.Delete(ps.pending, i, i+1)
		}
	}
}

func pendingIndex(ps *poolState, jobID int64) int {
	return slices.IndexFunc(ps.pending, func(j pendingJob) bool { return j.id == jobID })
}
