//go:build !windows

package exec_test

import (
	"testing"

	"github.com/vermont-ci/vermont/exec"
)

// TestRunAnnotations expects ::error::, ::warning:: and ::notice:: lines to
// carry their check-run annotation, location and title as properties
// (masked as the line is), and other lines none.
func TestRunAnnotations(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("annotations.yml"), runOpts{secrets: map[string]any{"TOKEN": "hunter2-secret"}})
	var got []exec.Event
	for _, e := range r.events {
		if e.Kind == exec.Log && e.Job == "annotate" && e.Step == "commands" {
			got = append(got, e)
		}
	}
	want := []struct {
		level, line string
		ann         *exec.Annotation
	}{
		{"error", "app.js:10:15: Bad: thing: Something went wrong",
			&exec.Annotation{Message: "Something went wrong", Title: "Bad: thing", File: "app.js", Line: 10, Col: 15, EndLine: 12, EndColumn: 3}},
		{"warning", "src/x.go:oops: no number", &exec.Annotation{Message: "no number", File: "src/x.go"}},
		{"notice", "***: plain notice", &exec.Annotation{Message: "plain notice", Title: "***"}},
		{"", "not an annotation", nil},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), r.events.String())
	}
	for i, w := range want {
		g := got[i]
		if g.Level != w.level || g.Line != w.line {
			t.Errorf("line %d: %q %q, want %q %q", i, g.Level, g.Line, w.level, w.line)
		}
		switch {
		case w.ann == nil && g.Annotation != nil:
			t.Errorf("line %d: annotation %+v, want none", i, *g.Annotation)
		case w.ann != nil && (g.Annotation == nil || *g.Annotation != *w.ann):
			t.Errorf("line %d: annotation %+v, want %+v", i, g.Annotation, *w.ann)
		}
	}
}
