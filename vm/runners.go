package vm

import "context"

// Runners is GitHub's side of the pool: registering single-use runners and
// cleaning up after them. It is defined here, where Pool consumes it; the
// implementation over GitHub's REST API lives in vm/github. Tokens never
// appear in errors.
type Runners interface {
	// JITConfig registers a just-in-time runner named name with the given
	// labels and returns its encoded configuration and runner ID.
	JITConfig(ctx context.Context, name string, labels []string) (JIT, error)
	// RemoveRunner deletes a runner registration; a runner that is already
	// gone is not an error.
	RemoveRunner(ctx context.Context, id int64) error
	// ListRunners returns the runners registered at the configured scope.
	ListRunners(ctx context.Context) ([]Runner, error)
	// QueuedJobs returns jobs that are queued and waiting for a runner, so
	// that demand missed while the pool was down is not lost.
	QueuedJobs(ctx context.Context) ([]QueuedJob, error)
}

// JIT is a just-in-time runner configuration.
type JIT struct {
	RunnerID int64
	Config   string // base64 encoded; a credential
}

// Runner is a runner registration as GitHub reports it.
type Runner struct {
	ID     int64
	Name   string
	Status string // "online" or "offline"
	Busy   bool
	Labels []string
}

// QueuedJob is a workflow job waiting for a runner.
type QueuedJob struct {
	ID     int64
	RunID  int64
	Repo   string // owner/name
	Labels []string
}
