package vm

import (
	"context"
	"slices"
	"time"
)

// pollQueued asks GitHub for queued jobs every queuePoll until ctx ends, so
// that a job whose webhook was lost (GitHub does not redeliver a failed
// delivery by itself) is still served. It does the network call off the
// run goroutine and hands the answer to it.
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
			p.m.providerErrors.WithLabelValues("", "queued_jobs").Inc()
			p.log.WarnContext(ctx, "listing queued jobs failed; relying on webhooks", "err", err)
			continue
		}
		now := time.Now()
		p.post(func(lctx context.Context) { p.applyQueued(lctx, jobs, now) })
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
