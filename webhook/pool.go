package webhook

import "context"

// Pool is what PoolHandler drives: vm.Pool implements it.
type Pool interface {
	// JobQueued counts a queued job as demand and returns the instance it
	// was assigned to, "" while none is free.
	JobQueued(ctx context.Context, labels []string, jobID int64) (string, error)
	// JobStarted and JobCompleted report that runnerName took or finished
	// jobID.
	JobStarted(ctx context.Context, runnerName string, jobID int64) error
	JobCompleted(ctx context.Context, runnerName string, jobID int64) error
}

// PoolHandler returns the JobHandler that feeds workflow_job events to a
// pool: queued jobs become demand, in_progress and completed ones move the
// runner's instance on. A waiting job (held by an environment's protection
// rules) needs nothing until it is queued.
func PoolHandler(p Pool) JobHandler {
	return JobHandlerFunc(func(ctx context.Context, ev JobEvent) error {
		switch ev.Action {
		case "queued":
			_, err := p.JobQueued(ctx, ev.Labels, ev.JobID)
			return err
		case "in_progress":
			return p.JobStarted(ctx, ev.RunnerName, ev.JobID)
		case "completed":
			return p.JobCompleted(ctx, ev.RunnerName, ev.JobID)
		}
		return nil
	})
}
