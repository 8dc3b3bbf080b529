package exec

import (
	"sync"
	"time"

	"github.com/vermont-ci/vermont/schedule"
)

// Kind says what an Event reports.
type Kind string

// The kinds of Event, in the order a job produces them.
const (
	JobStarted   Kind = "job_started"
	StepStarted  Kind = "step_started"
	Log          Kind = "log"
	StepFinished Kind = "step_finished"
	JobFinished  Kind = "job_finished"
)

// Result is the result of a step or job, as GitHub names them in
// steps.<id>.outcome/conclusion and needs.<job>.result. It is the
// scheduler's type, so that there is only one.
type Result = schedule.Result

// Results.
const (
	Success   = schedule.Success
	Failure   = schedule.Failure
	Cancelled = schedule.Cancelled
	Skipped   = schedule.Skipped
)

// Event is the one record of progress that flows from the executor to
// whatever shows it: the terminal printer, JSON lines, a server, tests.
// Every string in it has been masked before it is emitted.
type Event struct {
	Time     time.Time         `json:"time"`
	Kind     Kind              `json:"kind"`
	Workflow string            `json:"workflow,omitempty"`
	Job      string            `json:"job,omitempty"`  // display name, e.g. "build (ubuntu, 18)" or "caller / called"
	Step     string            `json:"step,omitempty"` // display name of the step
	Stream   string            `json:"stream,omitempty"`
	Level    string            `json:"level,omitempty"` // for log lines: debug, notice, warning, error, group, endgroup, command
	Line     string            `json:"line,omitempty"`
	Result   Result            `json:"result,omitempty"`
	Outcome  Result            `json:"outcome,omitempty"` // a step's result before continue-on-error
	Outputs  map[string]string `json:"outputs,omitempty"`
	Summary  string            `json:"summary,omitempty"` // the job's GITHUB_STEP_SUMMARY markdown, on JobFinished
	Duration time.Duration     `json:"duration_ns,omitempty"`

	// Annotation is set on an error, warning or notice line that a
	// workflow command or a problem matcher made: what GitHub records as
	// the check run's annotation. Line is then the message as the log
	// shows it, location first.
	Annotation *Annotation `json:"annotation,omitempty"`
}

// Annotation is the check-run annotation of a ::error::, ::warning:: or
// ::notice:: command (or a problem matcher's match): its message and the
// file, line, col, endLine, endColumn and title properties. Numbers that
// are absent or not numbers are 0.
type Annotation struct {
	Message   string `json:"message"`
	Title     string `json:"title,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Col       int    `json:"col,omitempty"`
	EndLine   int    `json:"end_line,omitempty"`
	EndColumn int    `json:"end_column,omitempty"`
}

// Sink receives events. Implementations must be safe for concurrent use:
// jobs run in parallel.
type Sink interface {
	Emit(Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(Event)

// Emit calls f(e).
func (f SinkFunc) Emit(e Event) { f(e) }

// Recorder is a Sink that keeps every event, for tests and summaries.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Emit records e.
func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of the events recorded so far.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}
