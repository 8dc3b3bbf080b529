package server

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/telemetry"
)

// TracerOf traces each run as a span, with a child span per job and a
// grandchild per step (package telemetry), on tp.
func TracerOf(tp trace.TracerProvider) Tracer { return otelTracer{tp} }

type otelTracer struct{ tp trace.TracerProvider }

func (t otelTracer) StartRun(ctx context.Context, run store.Run) RunTrace {
	r, _ := telemetry.StartRun(ctx, t.tp, run.WorkflowName,
		telemetry.RunID(run.ID), attribute.Int64("vermont.run_attempt", run.Attempt),
		attribute.String("vermont.event", run.Event), attribute.String("vermont.head_sha", run.HeadSHA))
	return r
}
