package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/vermont-ci/vermont/exec"
)

// instrumentation names the tracer, as OpenTelemetry asks: the package that
// makes the spans.
const instrumentation = "github.com/vermont-ci/vermont/server/telemetry"

// The attributes Vermont puts on its spans, beside the cicd.pipeline.*
// semantic conventions.
const (
	// RunIDKey is the run's id in the store (an int).
	RunIDKey = attribute.Key("vermont.run_id")
	// WorkflowKey is the workflow's name, on job spans whose events carry one.
	WorkflowKey = attribute.Key("vermont.workflow")
	// JobKey is the job's display name, e.g. "build (ubuntu, 18)".
	JobKey = attribute.Key("vermont.job")
	// StepKey is the step's display name.
	StepKey = attribute.Key("vermont.step")
	// ConclusionKey is the result of the run, job or step: success,
	// failure, cancelled or skipped, as GitHub names them.
	ConclusionKey = attribute.Key("vermont.conclusion")
	// OutcomeKey is a step's result before continue-on-error, when it
	// differs from its conclusion.
	OutcomeKey = attribute.Key("vermont.outcome")
	// UnfinishedKey is true on a job or step span that was still open when
	// the run ended (a crash or a cancel mid-job).
	UnfinishedKey = attribute.Key("vermont.unfinished")
)

// RunID returns the vermont.run_id attribute, for StartRun.
func RunID(id int64) attribute.KeyValue { return RunIDKey.Int64(id) }

// Run traces one workflow run: its span, and the job and step spans its
// Sink opens. It is safe for concurrent use. Create it with StartRun.
type Run struct {
	tracer trace.Tracer
	span   trace.Span
	// parent carries the run span, for starting job spans from events,
	// which have no context of their own. It is detached from the caller's
	// cancellation (context.WithoutCancel): spans must still close after a
	// cancel, and a Start never blocks.
	parent context.Context

	mu    sync.Mutex
	jobs  map[jobKey]*jobSpan
	ended bool
}

// jobKey identifies a job among a run's events.
type jobKey struct{ workflow, job string }

// jobSpan is an open job span and its open steps, innermost last.
type jobSpan struct {
	span  trace.Span
	steps []stepSpan
}

// stepSpan is an open step span.
type stepSpan struct {
	name string
	span trace.Span
}

// StartRun opens the span of one run, named name (e.g. "CI", or "RUN CI" as
// the CI/CD semantic conventions suggest), with attrs on it (RunID among
// them, typically). The span also gets cicd.pipeline.name (name) and, given
// RunID, cicd.pipeline.run.id. The returned context carries the span, for
// the caller's own child spans. A nil tp traces nothing, as a no-op
// provider does.
func StartRun(ctx context.Context, tp trace.TracerProvider, name string, attrs ...attribute.KeyValue) (*Run, context.Context) {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	all := []attribute.KeyValue{semconv.CICDPipelineName(name)}
	for _, kv := range attrs {
		if kv.Key == RunIDKey {
			all = append(all, semconv.CICDPipelineRunID(kv.Value.Emit()))
		}
	}
	all = append(all, attrs...)
	tracer := tp.Tracer(instrumentation, trace.WithSchemaURL(semconv.SchemaURL))
	ctx, span := tracer.Start(ctx, name, trace.WithAttributes(all...))
	return &Run{
		tracer: tracer,
		span:   span,
		parent: context.WithoutCancel(ctx),
		jobs:   map[jobKey]*jobSpan{},
	}, ctx
}

// End ends the run span with conclusion (success, failure, cancelled, …),
// first ending every job and step span still open, marked unfinished. Later
// calls, and events after it, do nothing.
func (r *Run) End(conclusion string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.ended = true
	for k, j := range r.jobs {
		j.abandon(now, "the run ended ("+conclusion+") before the job finished")
		delete(r.jobs, k)
	}
	r.span.SetAttributes(ConclusionKey.String(conclusion), semconv.CICDPipelineResultKey.String(cicdResult(conclusion)))
	setStatus(r.span, exec.Result(conclusion))
	r.span.End(trace.WithTimestamp(now))
}

// abandon ends j and its open steps at t with an error status saying why.
func (j *jobSpan) abandon(t time.Time, why string) {
	for i := len(j.steps) - 1; i >= 0; i-- {
		end(j.steps[i].span, t, why)
	}
	j.steps = nil
	end(j.span, t, why)
}

// end closes an unfinished span.
func end(s trace.Span, t time.Time, why string) {
	s.SetAttributes(UnfinishedKey.Bool(true))
	s.SetStatus(codes.Error, why)
	s.End(trace.WithTimestamp(t))
}

// setStatus sets a finished span's status from a result or conclusion: Ok
// for success, Error for failure, timed_out and startup_failure; a
// cancelled or skipped span keeps Unset, since it neither succeeded nor
// failed.
func setStatus(s trace.Span, res exec.Result) {
	switch res {
	case exec.Success:
		s.SetStatus(codes.Ok, "")
	case exec.Failure, "timed_out", "startup_failure":
		s.SetStatus(codes.Error, string(res))
	}
}

// cicdResult maps a GitHub conclusion to the cicd.pipeline.result and
// cicd.pipeline.task.run.result values.
func cicdResult(conclusion string) string {
	switch conclusion {
	case "success", "failure":
		return conclusion
	case "cancelled":
		return "cancellation"
	case "skipped":
		return "skip"
	case "timed_out":
		return "timeout"
	}
	return "error"
}
