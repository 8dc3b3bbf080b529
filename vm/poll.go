package vm

import (
	"context"
	"slices"
	"strings"
	"time"
)

// pollQueued asks GitHub for queued jobs every queuePoll until ctx ends, so
// that a job whose webhook was lost (GitHub does not redeliver a failed
// delivery by itself) is still served, and sweeps stale runners. It does
// the network calls off the run goroutine and hands the answers to it.
func (p *Pool) pollQueued(ctx context.Context) {
	t := time.NewTicker(p.opts.queuePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		jobs, err := p.runners.QueuedJobs(ctx)
		if err != nil {
			p.githubFailed(err)
			p.m.providerErrors.WithLabelValues("", "queued_jobs").Inc()
			p.log.WarnContext(ctx, "listing queued jobs failed; relying on webhooks", "err", err)
			continue
		}
		now := time.Now()
		p.post(func(lctx context.Context) { p.applyQueued(lctx, jobs, now) })
		p.sweepRunners(ctx)
	}
}

// sweepRunners removes GitHub runners that carry the pool's name prefix,
// are offline and belong to no instance the pool has: those whose removal
// failed when their instance was destroyed (an API error, say). Without
// it they would stay registered until the next Start.
func (p *Pool) sweepRunners(ctx context.Context) {
	runners, err := p.runners.ListRunners(ctx)
	if err != nil {
		p.githubFailed(err)
		p.m.providerErrors.WithLabelValues("", "list_runners").Inc()
		p.log.WarnContext(ctx, "listing GitHub runners failed; stale runners stay until the next poll", "err", err)
		return
	}
	var stale []Runner
	if err := p.do(ctx, func(context.Context) {
		stale = p.staleRunners(runners, func(name string) bool { return p.st.instances[name] != nil })
	}); err != nil {
		return
	}
	p.removeStale(ctx, stale)
}

// staleRunners picks the runners that are the pool's (by name prefix),
// offline, and not backed by an instance (backed says which are).
func (p *Pool) staleRunners(runners []Runner, backed func(name string) bool) []Runner {
	var stale []Runner
	for _, r := range runners {
		if r.Status == "offline" && strings.HasPrefix(r.Name, p.opts.prefix+"-") && !backed(r.Name) {
			stale = append(stale, r)
		}
	}
	return stale
}

// removeStale removes stale runners from GitHub, logging each; a failure
// is left for the next sweep.
func (p *Pool) removeStale(ctx context.Context, stale []Runner) {
	for _, r := range stale {
		if err := p.runners.RemoveRunner(ctx, r.ID); err != nil {
			p.m.providerErrors.WithLabelValues("", "remove_runner").Inc()
			p.log.WarnContext(ctx, "removing stale GitHub runner failed", "runner", r.Name, "err", err)
			continue
		}
		p.log.InfoContext(ctx, "removed stale GitHub runner", "runner", r.Name, "id", r.ID)
	}
}

// applyQueued makes the pending demand match GitHub's queue: jobs GitHub
// lists are queued (known ones are not counted twice), and pending jobs it
// no longer lists are dropped once they are older than one poll, so a job
// that ran elsewhere or was cancelled while its webhook was lost does not
// hold capacity forever. Run goroutine.
func (p *Pool) applyQueued(ctx context.Context, jobs []QueuedJob, now time.Time) {
	listed := make(map[int64]bool, len(jobs))
	for _, j := range jobs {
		listed[j.ID] = true
		p.queue(ctx, j.Labels, j.ID, now)
	}
	for _, ps := range p.st.pools {
		ps.pending = slices.DeleteFunc(ps.pending, func(j pendingJob) bool {
			return !listed[j.id] && now.Sub(j.queuedAt) > p.opts.queuePoll
		})
	}
	p.scale(ctx)
}

// githubFailed records a GitHub call made for every pool that failed; any
// goroutine.
func (p *Pool) githubFailed(err error) {
	p.post(func(context.Context) {
		for _, ps := range p.st.pools {
			ps.githubErr.set(err)
		}
	})
}
