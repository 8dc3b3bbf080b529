package schedule

import (
	"context"
	"maps"
	"slices"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
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
	Matrix   *expr.Object // the matrix context, keys in GitHub's order; nil without a matrix
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
	ctxs["needs"] = NeedsContext(needsOrder(j.Def), j.Needs)
	if j.Matrix != nil {
		ctxs["matrix"] = j.Matrix
	} else {
		ctxs["matrix"] = map[string]any{}
	}
	ctxs["strategy"] = j.Strategy.Map()
	return ctxs
}

// needsOrder is the order of the needs context: the job's needs as written.
func needsOrder(def *workflow.Job) []string {
	if def == nil {
		return nil
	}
	ids := make([]string, len(def.Needs))
	for i, n := range def.Needs {
		ids[i] = n.Value
	}
	return ids
}

// NeedsContext renders needs as the needs context shows them,
// needs.<job>.result and needs.<job>.outputs.<name>, jobs in the order of
// ids (the job's needs as written; those not listed follow, sorted) and
// outputs sorted, since a job's outputs come as a map.
func NeedsContext(ids []string, needs map[string]Need) *expr.Object {
	m := expr.NewObject(len(needs))
	add := func(id string) {
		n, ok := needs[id]
		if !ok {
			return
		}
		outs := expr.NewObject(len(n.Outputs))
		for _, k := range slices.Sorted(maps.Keys(n.Outputs)) {
			outs.Set(k, n.Outputs[k])
		}
		job := expr.NewObject(2) // as the contexts reference's example shows it
		job.Set("result", string(n.Result))
		job.Set("outputs", outs)
		m.Set(id, job)
	}
	for _, id := range ids {
		add(id)
	}
	for _, id := range slices.Sorted(maps.Keys(needs)) {
		if _, done := m.Get(id); !done {
			add(id)
		}
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

// Map returns the strategy context as expressions see it, in the order of
// GitHub's example (contexts reference, "strategy context").
func (s Strategy) Map() *expr.Object {
	o := expr.NewObject(4)
	o.Set("fail-fast", s.FailFast)
	o.Set("job-index", float64(s.JobIndex))
	o.Set("job-total", float64(s.JobTotal))
	o.Set("max-parallel", float64(s.MaxParallel))
	return o
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
