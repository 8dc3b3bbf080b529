package schedule

import (
	"context"

	"github.com/vermont-ci/vermont/workflow"
)

// Job is one runnable unit: a job, or one leg of a matrix job. The scheduler
// builds it; the JobRunner must not change it.
type Job struct {
	ID       string // the job's id in the workflow
	Name     string // display name: the job's name with the matrix values, e.g. "build (ubuntu, 18)"
	Workflow *workflow.Workflow
	Def      *workflow.Job
	// Contexts are the plan's contexts (github, inputs, vars, secrets).
	// Shared between jobs: read only.
	Contexts map[string]any
	Matrix   map[string]any // nil for a job without a matrix
	Strategy Strategy
	Needs    map[string]Need // by job id, as the needs context shows them
}

// BaseContexts returns the contexts a job sees before any of its steps
// runs: the plan's (github, inputs, vars, secrets; each an empty object when
// the plan has none), needs, matrix and strategy. The map is the caller's to
// add to; the values are shared and must not be changed.
func (j *Job) BaseContexts() map[string]any {
	ctxs := make(map[string]any, len(j.Contexts)+8)
	for _, k := range []string{"github", "inputs", "vars", "secrets"} {
		ctxs[k] = map[string]any{}
	}
	for k, v := range j.Contexts {
		ctxs[k] = v
	}
	ctxs["needs"] = NeedsContext(j.Needs)
	if j.Matrix != nil {
		ctxs["matrix"] = j.Matrix
	} else {
		ctxs["matrix"] = map[string]any{}
	}
	ctxs["strategy"] = j.Strategy.Map()
	return ctxs
}

// NeedsContext renders needs as the needs context shows them:
// needs.<job>.result and needs.<job>.outputs.<name>.
func NeedsContext(needs map[string]Need) map[string]any {
	m := make(map[string]any, len(needs))
	for id, n := range needs {
		outs := make(map[string]any, len(n.Outputs))
		for k, v := range n.Outputs {
			outs[k] = v
		}
		m[id] = map[string]any{"result": string(n.Result), "outputs": outs}
	}
	return m
}

// Strategy is the strategy context of one leg.
type Strategy struct {
	FailFast    bool
	JobIndex    int
	JobTotal    int
	MaxParallel int
}

// Map returns the strategy context as expressions see it.
func (s Strategy) Map() map[string]any {
	return map[string]any{
		"fail-fast":    s.FailFast,
		"job-index":    float64(s.JobIndex),
		"job-total":    float64(s.JobTotal),
		"max-parallel": float64(s.MaxParallel),
	}
}

// Need is what a job sees of one job it needs.
type Need struct {
	Result  Result
	Outputs map[string]string
}

// Outcome is what running a job produced.
type Outcome struct {
	Result  Result
	Outputs map[string]string
}

// JobRunner runs jobs for the scheduler. It is defined here, where it is
// consumed; package exec implements it. Both methods must be safe for
// concurrent use.
type JobRunner interface {
	// RunJob runs one job (or matrix leg) to the end. When ctx is cancelled
	// the job stops its current step, runs what GitHub runs after a
	// cancellation (steps with always() or cancelled()), and returns.
	RunJob(ctx context.Context, job *Job) Outcome
	// SkipJob reports a job that did not run: its if was false (result
	// skipped), the run was cancelled before it started (cancelled), or it
	// could not be prepared (failure, with the reason).
	SkipJob(job *Job, result Result, reason error)
}
