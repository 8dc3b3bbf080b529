package vm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vermont-ci/vermont/vm/internal/store"
)

// reconcilePlan is what Start found: instances to adopt and GitHub's queued
// jobs. Everything else has already been cleaned up.
type reconcilePlan struct {
	adopt  []*instance
	queued []QueuedJob
	// destroy counts what was cleaned up, for the log.
	destroy []string
}

// planReconcile compares the store, the provider and GitHub:
//
//   - an instance the provider lists (it carries our controller label) but
//     the store does not know, or whose pool is no longer configured, is an
//     orphan: destroyed, and its GitHub runner removed;
//   - a known instance that is running and was creating, idle or busy is
//     adopted (creating becomes idle: Create had succeeded); one that has
//     exited or was being destroyed is destroyed;
//   - a record without an instance is deleted and its runner removed;
//   - an offline GitHub runner whose name carries our prefix but that no
//     adopted instance backs is removed;
//   - GitHub's queued jobs are returned, to be counted as demand.
//
// It runs before the run goroutine starts, so it may touch p.st freely.
func (p *Pool) planReconcile(ctx context.Context) (reconcilePlan, error) {
	var plan reconcilePlan
	recs, err := p.store.List(ctx)
	if err != nil {
		return plan, err
	}
	insts, err := p.provider.List(ctx)
	if err != nil {
		p.m.providerErrors.WithLabelValues("", "list").Inc()
		return plan, fmt.Errorf("listing instances: %w", err)
	}
	runners, err := p.runners.ListRunners(ctx)
	if err != nil {
		// Not fatal: instances can still be reconciled; stale runners are
		// retried on the next start.
		p.m.providerErrors.WithLabelValues("", "list_runners").Inc()
		p.log.WarnContext(ctx, "listing GitHub runners failed", "err", err)
	}
	runnerID := map[string]int64{}
	for _, r := range runners {
		runnerID[r.Name] = r.ID
	}
	known := map[string]store.Record{}
	for _, r := range recs {
		known[r.Name] = r
	}
	listed := map[string]bool{}
	adopted := map[string]bool{}
	var errs []error
	for _, inst := range insts {
		listed[inst.Name] = true
		rec, ok := known[inst.Name]
		ps := p.st.byName[rec.Pool]
		id := rec.RunnerID
		if id == 0 {
			id = runnerID[inst.Name]
		}
		switch {
		case ok && ps != nil && inst.Running && (rec.State == string(StateCreating) ||
			rec.State == string(StateIdle) || rec.State == string(StateBusy)):
			in := &instance{name: inst.Name, pool: ps, state: StateIdle, runnerID: id, createdAt: rec.CreatedAt}
			if rec.State == string(StateBusy) && rec.JobID != 0 {
				in.state, in.jobID, in.queuedAt, in.started = StateBusy, rec.JobID, rec.UpdatedAt, rec.Started
			}
			plan.adopt = append(plan.adopt, in)
			adopted[inst.Name] = true
		default:
			why := "orphan"
			if ok && ps != nil {
				why = "exited or being destroyed while the pool was down"
			}
			errs = append(errs, p.cleanup(ctx, inst.Name, id, why))
			plan.destroy = append(plan.destroy, inst.Name)
		}
	}
	for _, rec := range recs {
		if !listed[rec.Name] {
			errs = append(errs, p.cleanup(ctx, rec.Name, rec.RunnerID, "instance vanished"))
			plan.destroy = append(plan.destroy, rec.Name)
		}
	}
	p.removeStale(ctx, p.staleRunners(runners, func(name string) bool {
		return adopted[name] || listed[name] || known[name].Name != ""
	}))
	if err := errors.Join(errs...); err != nil {
		return plan, err
	}
	plan.queued, err = p.runners.QueuedJobs(ctx)
	if err != nil {
		p.m.providerErrors.WithLabelValues("", "queued_jobs").Inc()
		p.log.WarnContext(ctx, "listing queued jobs failed; relying on webhooks", "err", err)
	}
	return plan, nil
}

// cleanup destroys an instance found at start, removes its runner and
// forgets its record.
func (p *Pool) cleanup(ctx context.Context, name string, runnerID int64, why string) error {
	p.log.InfoContext(ctx, "reconcile: destroying instance", "instance", name, "reason", why)
	if err := p.provider.Destroy(ctx, name); err != nil {
		p.m.providerErrors.WithLabelValues("", "destroy").Inc()
		return fmt.Errorf("destroying %s: %w", name, err)
	}
	if runnerID != 0 {
		if err := p.runners.RemoveRunner(ctx, runnerID); err != nil {
			p.m.providerErrors.WithLabelValues("", "remove_runner").Inc()
			p.log.WarnContext(ctx, "removing GitHub runner failed", "instance", name, "err", err)
		}
	}
	return p.store.Delete(ctx, name)
}

// applyReconcile installs the adopted instances and the queued demand; run
// goroutine.
func (p *Pool) applyReconcile(ctx context.Context, plan reconcilePlan) {
	for _, in := range plan.adopt {
		p.st.instances[in.name] = in
		if in.jobID != 0 {
			p.st.jobs[in.jobID] = in
		}
		p.persist(ctx, in)
		p.watch(ctx, in)
		p.log.InfoContext(ctx, "reconcile: adopted instance", "pool", in.pool.cfg.Name, "instance", in.name, "state", in.state)
	}
	now := time.Now()
	for _, j := range plan.queued {
		p.queue(ctx, j.Labels, j.ID, now)
	}
	for _, ps := range p.st.pools {
		p.assign(ctx, ps)
	}
	p.scale(ctx)
}
