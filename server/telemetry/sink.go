package telemetry

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/vermont-ci/vermont/exec"
)

// Sink returns the exec.Sink that turns the run's events into spans:
// JobStarted and JobFinished open and close a job span (keyed by the event's
// Workflow and Job), StepStarted and StepFinished a step span under it. The
// events' times are the spans' times. Log events are ignored, and so is
// every event after End.
//
// Events out of the usual order still make sense: a JobFinished with no
// JobStarted (a skipped job) is a span ending where it starts, or Duration
// earlier; a step event with no open job opens one; a JobFinished ends the
// job's open steps, marked unfinished.
func (r *Run) Sink() exec.Sink { return exec.SinkFunc(r.emit) }

// emit handles one event.
func (r *Run) emit(e exec.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	k := jobKey{e.Workflow, e.Job}
	switch e.Kind {
	case exec.JobStarted:
		if old := r.jobs[k]; old != nil {
			old.abandon(e.Time, "the job started again before it finished")
		}
		r.jobs[k] = r.startJob(e, e.Time)
	case exec.JobFinished:
		j := r.jobs[k]
		if j == nil {
			j = r.startJob(e, e.Time.Add(-e.Duration))
		}
		delete(r.jobs, k)
		for i := len(j.steps) - 1; i >= 0; i-- {
			end(j.steps[i].span, e.Time, "the job finished before the step did")
		}
		finish(j.span, e, semconv.CICDPipelineTaskRunResultKey.String(cicdResult(string(e.Result))))
	case exec.StepStarted:
		j := r.job(k, e)
		j.steps = append(j.steps, stepSpan{name: e.Step, span: r.startStep(j, e, e.Time)})
	case exec.StepFinished:
		j := r.job(k, e)
		finish(j.popStep(e.Step, func() trace.Span { return r.startStep(j, e, e.Time.Add(-e.Duration)) }), e)
	}
}

// job returns the open job span for k, opening one at e.Time if there is
// none.
func (r *Run) job(k jobKey, e exec.Event) *jobSpan {
	j := r.jobs[k]
	if j == nil {
		j = r.startJob(e, e.Time)
		r.jobs[k] = j
	}
	return j
}

// startJob starts a job span under the run span.
func (r *Run) startJob(e exec.Event, start time.Time) *jobSpan {
	attrs := []attribute.KeyValue{JobKey.String(e.Job), semconv.CICDPipelineTaskName(e.Job)}
	if e.Workflow != "" {
		attrs = append(attrs, WorkflowKey.String(e.Workflow))
	}
	_, span := r.tracer.Start(r.parent, spanName(e.Job, "job"), trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	return &jobSpan{span: span}
}

// startStep starts a step span under j.
func (r *Run) startStep(j *jobSpan, e exec.Event, start time.Time) trace.Span {
	_, span := r.tracer.Start(trace.ContextWithSpan(r.parent, j.span), spanName(e.Step, "step"),
		trace.WithTimestamp(start), trace.WithAttributes(StepKey.String(e.Step), JobKey.String(e.Job)))
	return span
}

// popStep removes and returns the innermost open step called name, or the
// span made by start when none is open (a StepFinished alone).
func (j *jobSpan) popStep(name string, start func() trace.Span) trace.Span {
	for i := len(j.steps) - 1; i >= 0; i-- {
		if j.steps[i].name == name {
			s := j.steps[i].span
			j.steps = append(j.steps[:i], j.steps[i+1:]...)
			return s
		}
	}
	return start()
}

// finish records a job's or step's result on its span and ends it at the
// event's time.
func finish(s trace.Span, e exec.Event, extra ...attribute.KeyValue) {
	attrs := append([]attribute.KeyValue{ConclusionKey.String(string(e.Result))}, extra...)
	status := e.Result
	if e.Outcome != "" && e.Outcome != e.Result {
		// continue-on-error: the step failed though its job goes on; the
		// span says it failed.
		attrs = append(attrs, OutcomeKey.String(string(e.Outcome)))
		status = e.Outcome
	}
	s.SetAttributes(attrs...)
	setStatus(s, status)
	s.End(trace.WithTimestamp(e.Time))
}

// spanName is name, or a placeholder for an event without one.
func spanName(name, kind string) string {
	if name == "" {
		return "(unnamed " + kind + ")"
	}
	return name
}
