// Package exectest helps test code that runs jobs: queries over the events
// a run recorded, and checks that the processes a step started are gone.
package exectest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/exec"
)

// Events are the events of a run, in the order they were emitted.
type Events []exec.Event

// Lines returns a job's log lines, each prefixed with its level when it has
// one ("warning: …").
func (ev Events) Lines(job string) []string {
	var out []string
	for _, e := range ev {
		if e.Kind == exec.Log && e.Job == job {
			l := e.Line
			if e.Level != "" {
				l = e.Level + ": " + l
			}
			out = append(out, l)
		}
	}
	return out
}

// Step returns a step's StepFinished event, or the zero Event.
func (ev Events) Step(job, step string) exec.Event {
	for _, e := range ev {
		if e.Kind == exec.StepFinished && e.Job == job && e.Step == step {
			return e
		}
	}
	return exec.Event{}
}

// String prints every event on a line, for failure messages.
func (ev Events) String() string {
	var b strings.Builder
	for _, e := range ev {
		fmt.Fprintf(&b, "%s [%s] %s %s %s %s\n", e.Kind, e.Job, e.Step, e.Level, e.Line, e.Result)
	}
	return b.String()
}

// WantLines reports an error for each line of want the job did not print,
// whole.
func (ev Events) WantLines(tb testing.TB, job string, want ...string) {
	tb.Helper()
	got := ev.Lines(job)
	for _, w := range want {
		found := false
		for _, g := range got {
			if g == w {
				found = true
				break
			}
		}
		if !found {
			tb.Errorf("job %s: no line %q in\n%s", job, w, strings.Join(got, "\n"))
		}
	}
}
