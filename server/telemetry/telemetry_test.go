package telemetry_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/server/telemetry"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// runEvents is a run of workflow CI as the executor reports it: two jobs in
// parallel, the same step name in both, a failing step, a skipped step (a
// StepFinished alone), a continue-on-error step, a log line, and a skipped
// job (a JobFinished alone).
func runEvents() []exec.Event {
	const build, lint, checkout = "build (ubuntu, 18)", "lint", "Run actions/checkout@v4"
	ev := func(s int, k exec.Kind, job, step string, res, outcome exec.Result) exec.Event {
		return exec.Event{Time: at(s), Kind: k, Workflow: "CI", Job: job, Step: step, Result: res, Outcome: outcome}
	}
	return []exec.Event{
		ev(0, exec.JobStarted, build, "", "", ""),
		ev(1, exec.JobStarted, lint, "", "", ""),
		ev(1, exec.StepStarted, build, checkout, "", ""),
		ev(2, exec.StepStarted, lint, checkout, "", ""),
		ev(3, exec.StepFinished, build, checkout, exec.Success, exec.Success),
		{Time: at(3), Kind: exec.Log, Workflow: "CI", Job: build, Step: checkout, Stream: "stdout", Line: "Syncing repository"},
		ev(4, exec.StepStarted, build, "Run make test", "", ""),
		ev(5, exec.StepFinished, lint, checkout, exec.Success, exec.Success),
		ev(5, exec.StepStarted, lint, "Run golangci-lint", "", ""),
		ev(8, exec.StepFinished, lint, "Run golangci-lint", exec.Failure, exec.Failure),
		ev(8, exec.StepFinished, lint, "Upload report", exec.Skipped, exec.Skipped),
		ev(9, exec.JobFinished, lint, "", exec.Failure, ""),
		ev(10, exec.StepFinished, build, "Run make test", exec.Success, exec.Failure),
		ev(11, exec.JobFinished, build, "", exec.Success, ""),
		ev(11, exec.JobFinished, "deploy", "", exec.Skipped, ""),
	}
}

// wantSpan is what one exported span should be.
type wantSpan struct {
	name, parent string // parent: the parent span's name, "" for the root
	start, end   int    // seconds after t0; -1: not checked
	status       tracepb.Status_StatusCode
	attrs        map[string]any
}

func TestRunExported(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path string
		env        func(url string) map[string]string
		wantGzip   bool
	}{
		{
			name: "base endpoint",
			path: "/v1/traces",
			env: func(url string) map[string]string {
				return map[string]string{
					"OTEL_EXPORTER_OTLP_ENDPOINT": url,
					"OTEL_EXPORTER_OTLP_HEADERS":  "Authorization=Bearer%20s3cret, X-Tenant = ci",
					"OTEL_SERVICE_NAME":           "vermont-test",
					"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test,service.name=overridden",
				}
			},
		},
		{
			name: "traces endpoint, gzip",
			path: "/collector/traces",
			env: func(url string) map[string]string {
				return map[string]string{
					"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:1/not-this-one",
					"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": url + "/collector/traces",
					"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
					"OTEL_EXPORTER_OTLP_COMPRESSION":     "gzip",
					"OTEL_EXPORTER_OTLP_TRACES_HEADERS":  "authorization=Bearer%20s3cret,x-tenant=ci",
					"OTEL_RESOURCE_ATTRIBUTES":           "deployment.environment.name=test,service.name=vermont-test",
				}
			},
			wantGzip: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, tc.path)
			tp, shutdown, err := telemetry.Setup(t.Context(), "vermont-serve", env(tc.env(rc.srv.URL)))
			if err != nil {
				t.Fatal(err)
			}
			run, ctx := telemetry.StartRun(t.Context(), tp, "CI", telemetry.RunID(42))
			if !traceSpan(ctx).IsValid() {
				t.Error("StartRun's context carries no span")
			}
			sink := run.Sink()
			for _, e := range runEvents() {
				sink.Emit(e)
			}
			run.End("failure")
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}

			exports := rc.exports(t)
			if len(exports) == 0 {
				t.Fatal("nothing exported")
			}
			for _, e := range exports {
				if e.header.Get("Authorization") != "Bearer s3cret" || e.header.Get("X-Tenant") != "ci" {
					t.Errorf("headers from OTEL_EXPORTER_OTLP_*HEADERS missing: %v", e.header)
				}
				if e.gzip != tc.wantGzip {
					t.Errorf("gzip = %v, want %v", e.gzip, tc.wantGzip)
				}
			}
			got := spans(exports)
			for _, s := range got {
				if s.resource["service.name"] != "vermont-test" || s.resource["deployment.environment.name"] != "test" {
					t.Errorf("resource = %v", s.resource)
				}
			}
			checkSpans(t, got, wantRun)
		})
	}
}

// wantRun is the trace runEvents makes, ended with "failure".
var wantRun = []wantSpan{
	{name: "CI", start: -1, end: -1, status: tracepb.Status_STATUS_CODE_ERROR, attrs: map[string]any{
		"vermont.run_id": int64(42), "cicd.pipeline.name": "CI", "cicd.pipeline.run.id": "42",
		"vermont.conclusion": "failure", "cicd.pipeline.result": "failure",
	}},
	{name: "build (ubuntu, 18)", parent: "CI", start: 0, end: 11, status: tracepb.Status_STATUS_CODE_OK, attrs: map[string]any{
		"vermont.job": "build (ubuntu, 18)", "vermont.workflow": "CI", "cicd.pipeline.task.name": "build (ubuntu, 18)",
		"vermont.conclusion": "success", "cicd.pipeline.task.run.result": "success",
	}},
	{name: "lint", parent: "CI", start: 1, end: 9, status: tracepb.Status_STATUS_CODE_ERROR, attrs: map[string]any{
		"vermont.job": "lint", "vermont.conclusion": "failure", "cicd.pipeline.task.run.result": "failure",
	}},
	{name: "deploy", parent: "CI", start: 11, end: 11, status: tracepb.Status_STATUS_CODE_UNSET, attrs: map[string]any{
		"vermont.job": "deploy", "vermont.conclusion": "skipped", "cicd.pipeline.task.run.result": "skip",
	}},
	{name: "Run actions/checkout@v4", parent: "build (ubuntu, 18)", start: 1, end: 3, status: tracepb.Status_STATUS_CODE_OK, attrs: map[string]any{
		"vermont.step": "Run actions/checkout@v4", "vermont.job": "build (ubuntu, 18)", "vermont.conclusion": "success",
	}},
	{name: "Run make test", parent: "build (ubuntu, 18)", start: 4, end: 10, status: tracepb.Status_STATUS_CODE_ERROR, attrs: map[string]any{
		"vermont.step": "Run make test", "vermont.conclusion": "success", "vermont.outcome": "failure",
	}},
	{name: "Run actions/checkout@v4", parent: "lint", start: 2, end: 5, status: tracepb.Status_STATUS_CODE_OK, attrs: map[string]any{
		"vermont.job": "lint", "vermont.conclusion": "success",
	}},
	{name: "Run golangci-lint", parent: "lint", start: 5, end: 8, status: tracepb.Status_STATUS_CODE_ERROR, attrs: map[string]any{
		"vermont.job": "lint", "vermont.conclusion": "failure",
	}},
	{name: "Upload report", parent: "lint", start: 8, end: 8, status: tracepb.Status_STATUS_CODE_UNSET, attrs: map[string]any{
		"vermont.job": "lint", "vermont.conclusion": "skipped",
	}},
}

// checkSpans checks that got is exactly want: one trace, each span with its
// parent, times, status and attributes (want's attributes must be present;
// others may be too).
func checkSpans(t *testing.T, got []span, want []wantSpan) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d spans, want %d", len(got), len(want))
	}
	byID := map[string]span{}
	for _, s := range got {
		byID[string(s.SpanId)] = s
		if !bytes.Equal(s.TraceId, got[0].TraceId) {
			t.Errorf("span %q is in another trace", s.Name)
		}
	}
	parentName := func(s span) string {
		if len(s.ParentSpanId) == 0 {
			return ""
		}
		p, ok := byID[string(s.ParentSpanId)]
		if !ok {
			return "<missing parent>"
		}
		return p.Name
	}
	used := map[int]bool{}
	for _, w := range want {
		i := slicesIndex(got, func(s span) bool { return s.Name == w.name && parentName(s) == w.parent })
		if i < 0 || used[i] {
			t.Errorf("no span %q under %q", w.name, w.parent)
			continue
		}
		used[i] = true
		s := got[i]
		if w.start >= 0 && s.StartTimeUnixNano != uint64(at(w.start).UnixNano()) {
			t.Errorf("%s: start %v, want %v", w.name, time.Unix(0, int64(s.StartTimeUnixNano)).UTC(), at(w.start))
		}
		if w.end >= 0 && s.EndTimeUnixNano != uint64(at(w.end).UnixNano()) {
			t.Errorf("%s: end %v, want %v", w.name, time.Unix(0, int64(s.EndTimeUnixNano)).UTC(), at(w.end))
		}
		if s.EndTimeUnixNano < s.StartTimeUnixNano {
			t.Errorf("%s ends before it starts", w.name)
		}
		if code := s.GetStatus().GetCode(); code != w.status {
			t.Errorf("%s under %s: status %v (%q), want %v", w.name, w.parent, code, s.GetStatus().GetMessage(), w.status)
		}
		attrs := attrMap(s.Attributes)
		for k, v := range w.attrs {
			if attrs[k] != v {
				t.Errorf("%s under %s: %s = %#v, want %#v", w.name, w.parent, k, attrs[k], v)
			}
		}
	}
}

func slicesIndex(ss []span, f func(span) bool) int {
	for i, s := range ss {
		if f(s) {
			return i
		}
	}
	return -1
}

// traceSpan is the span context ctx carries.
func traceSpan(ctx context.Context) trace.SpanContext { return trace.SpanContextFromContext(ctx) }

// setup starts a provider exporting to a fresh receiver.
func setup(t *testing.T) (*receiver, trace.TracerProvider, func(context.Context) error) {
	t.Helper()
	rc := newReceiver(t, "/v1/traces")
	tp, shutdown, err := telemetry.Setup(t.Context(), "vermont-serve", env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rc.srv.URL + "/"}))
	if err != nil {
		t.Fatal(err)
	}
	return rc, tp, shutdown
}

func TestEndClosesOpenSpans(t *testing.T) {
	t.Parallel()
	rc, tp, shutdown := setup(t)
	run, _ := telemetry.StartRun(t.Context(), tp, "CI", telemetry.RunID(7))
	sink := run.Sink()
	sink.Emit(exec.Event{Time: at(0), Kind: exec.JobStarted, Job: "build"})
	sink.Emit(exec.Event{Time: at(1), Kind: exec.StepStarted, Job: "build", Step: "Run make"})
	run.End("timed_out")
	// After End: ignored, and a second End changes nothing.
	sink.Emit(exec.Event{Time: at(2), Kind: exec.JobStarted, Job: "late"})
	run.End("success")
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	unfinished := map[string]any{"vermont.unfinished": true}
	checkSpans(t, spans(rc.exports(t)), []wantSpan{
		{name: "CI", start: -1, end: -1, status: tracepb.Status_STATUS_CODE_ERROR, attrs: map[string]any{
			"vermont.run_id": int64(7), "vermont.conclusion": "timed_out", "cicd.pipeline.result": "timeout",
		}},
		{name: "build", parent: "CI", start: 0, end: -1, status: tracepb.Status_STATUS_CODE_ERROR, attrs: unfinished},
		{name: "Run make", parent: "build", start: 1, end: -1, status: tracepb.Status_STATUS_CODE_ERROR, attrs: unfinished},
	})
}

func TestJobFinishedClosesItsSteps(t *testing.T) {
	t.Parallel()
	rc, tp, shutdown := setup(t)
	run, _ := telemetry.StartRun(t.Context(), tp, "CI")
	sink := run.Sink()
	// A step event with no JobStarted opens the job; a JobFinished with a
	// step still open closes it, unfinished.
	sink.Emit(exec.Event{Time: at(1), Kind: exec.StepStarted, Job: "test", Step: "Run go test"})
	sink.Emit(exec.Event{Time: at(4), Kind: exec.JobFinished, Job: "test", Result: exec.Cancelled})
	// A StepFinished alone, with a Duration, starts that much earlier.
	sink.Emit(exec.Event{Time: at(9), Kind: exec.StepFinished, Job: "other", Step: "Run x", Result: exec.Success, Duration: 3 * time.Second})
	sink.Emit(exec.Event{Time: at(10), Kind: exec.JobFinished, Job: "other", Result: exec.Success})
	run.End("cancelled")
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkSpans(t, spans(rc.exports(t)), []wantSpan{
		{name: "CI", start: -1, end: -1, status: tracepb.Status_STATUS_CODE_UNSET},
		{name: "test", parent: "CI", start: 1, end: 4, status: tracepb.Status_STATUS_CODE_UNSET, attrs: map[string]any{
			"vermont.conclusion": "cancelled", "cicd.pipeline.task.run.result": "cancellation",
		}},
		{name: "Run go test", parent: "test", start: 1, end: 4, status: tracepb.Status_STATUS_CODE_ERROR, attrs: map[string]any{"vermont.unfinished": true}},
		{name: "other", parent: "CI", start: 9, end: 10, status: tracepb.Status_STATUS_CODE_OK},
		{name: "Run x", parent: "other", start: 6, end: 9, status: tracepb.Status_STATUS_CODE_OK},
	})
}

// TestConcurrentJobs emits from many goroutines at once, as parallel jobs
// do; under -race it checks the sink's locking, and every step must still
// land under its own job.
func TestConcurrentJobs(t *testing.T) {
	t.Parallel()
	rc, tp, shutdown := setup(t)
	run, _ := telemetry.StartRun(t.Context(), tp, "matrix")
	sink := run.Sink()
	const jobs, steps = 8, 5
	var wg sync.WaitGroup
	for j := range jobs {
		wg.Go(func() {
			job := fmt.Sprintf("test (%d)", j)
			sink.Emit(exec.Event{Time: at(0), Kind: exec.JobStarted, Job: job})
			for s := range steps {
				step := fmt.Sprintf("step %d", s)
				sink.Emit(exec.Event{Time: at(s), Kind: exec.StepStarted, Job: job, Step: step})
				sink.Emit(exec.Event{Time: at(s + 1), Kind: exec.Log, Job: job, Step: step, Line: "ok"})
				sink.Emit(exec.Event{Time: at(s + 1), Kind: exec.StepFinished, Job: job, Step: step, Result: exec.Success})
			}
			sink.Emit(exec.Event{Time: at(steps), Kind: exec.JobFinished, Job: job, Result: exec.Success})
		})
	}
	wg.Wait()
	run.End("success")
	if err := shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := []wantSpan{{name: "matrix", start: -1, end: -1, status: tracepb.Status_STATUS_CODE_OK}}
	for j := range jobs {
		job := fmt.Sprintf("test (%d)", j)
		want = append(want, wantSpan{name: job, parent: "matrix", start: 0, end: steps, status: tracepb.Status_STATUS_CODE_OK})
		for s := range steps {
			want = append(want, wantSpan{name: fmt.Sprintf("step %d", s), parent: job, start: s, end: s + 1,
				status: tracepb.Status_STATUS_CODE_OK, attrs: map[string]any{"vermont.job": job}})
		}
	}
	checkSpans(t, spans(rc.exports(t)), want)
}

// TestNoEndpointNoExport sets an endpoint in the process environment but not
// in getenv: Setup must read getenv only, give a no-op provider, and send
// nothing. The disabling variables give a no-op provider too.
func TestNoEndpointNoExport(t *testing.T) {
	rc := newReceiver(t, "/v1/traces")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rc.srv.URL)
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{name: "nothing set", env: map[string]string{"OTEL_SERVICE_NAME": "vermont"}},
		{name: "sdk disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rc.srv.URL, "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rc.srv.URL, "OTEL_TRACES_EXPORTER": "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, shutdown, err := telemetry.Setup(t.Context(), "vermont", env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			run, ctx := telemetry.StartRun(t.Context(), tp, "CI", telemetry.RunID(1))
			if traceSpan(ctx).IsValid() {
				t.Error("a no-op provider made a real span")
			}
			for _, e := range runEvents() {
				run.Sink().Emit(e)
			}
			run.End("failure")
			if err := shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := len(rc.exports(t)); n != 0 {
		t.Errorf("%d exports, want none", n)
	}
	// A nil provider is a no-op one, not a panic.
	run, ctx := telemetry.StartRun(t.Context(), nil, "CI")
	run.Sink().Emit(exec.Event{Kind: exec.JobStarted, Job: "build"})
	run.End("success")
	if traceSpan(ctx).IsValid() {
		t.Error("a nil provider made a real span")
	}
}

func TestSetupErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		env    map[string]string
		want   string
		secret string // must not appear in the error
	}{
		{name: "no scheme", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, want: "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318: want an http:// or https:// URL"},
		{name: "not a url", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://u:hunter2@[::1"}, want: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: not a URL", secret: "hunter2"},
		{name: "password redacted", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://u:hunter2@host"}, want: "ftp://u:xxxxx@host", secret: "hunter2"},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, want: `OTEL_EXPORTER_OTLP_PROTOCOL="grpc": only http/protobuf`},
		{name: "json", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, want: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "compression", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, want: "want gzip or none"},
		{name: "timeout", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "10s"}, want: "positive number of milliseconds"},
		{name: "exporter", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "zipkin"}, want: "only otlp"},
		{name: "header without =", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=ci,Bearer hunter2"}, want: "OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value", secret: "hunter2"},
		{name: "header bad escape", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "api-key=hunter2%zz"}, want: "entry 1 (api-key): bad percent-encoding", secret: "hunter2"},
		{name: "resource", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_RESOURCE_ATTRIBUTES": "=x"}, want: "OTEL_RESOURCE_ATTRIBUTES: entry 1 is not key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := telemetry.Setup(t.Context(), "vermont", env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
	if _, _, err := telemetry.Setup(t.Context(), "vermont", nil); err == nil {
		t.Error("Setup with a nil getenv: no error")
	}
}
