package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/exec"
)

func TestPrinter(t *testing.T) {
	t.Parallel()
	events := []exec.Event{
		{Kind: exec.JobStarted, Job: "build"},
		{Kind: exec.StepStarted, Job: "build", Step: "Run make"},
		{Kind: exec.Log, Job: "build", Step: "Run make", Line: "compiling"},
		{Kind: exec.Log, Job: "build", Step: "Run make", Level: "warning", Line: "careful"},
		{Kind: exec.StepFinished, Job: "build", Step: "Run make", Result: exec.Success, Outcome: exec.Failure, Duration: 1500 * time.Millisecond},
		{Kind: exec.JobStarted, Job: "test"},
		{Kind: exec.JobFinished, Job: "test", Result: exec.Failure, Duration: time.Second},
		{Kind: exec.JobFinished, Job: "build", Result: exec.Success, Duration: 2 * time.Second, Summary: "## Done\n"},
	}
	tests := []struct {
		name  string
		color bool
		want  []string
	}{
		{name: "plain when not a terminal", want: []string{
			"[build] ▶ job started\n",
			"[build]   | compiling\n",
			"[build]   | Warning: careful\n",
			"[build] ✓ Run make (1.5s) (failed; continue-on-error)\n",
			"[test] ✗ job failure in 1s\n",
			"JOB    RESULT     DURATION\nbuild  ✓ success  2s\ntest   ✗ failure  1s\n",
			"── summary of build ──\n## Done\n",
		}},
		{name: "a colour per job on a terminal", color: true, want: []string{
			"\x1b[36m[build]\x1b[0m ▶ job started\n",
			"\x1b[33m[test]\x1b[0m ▶ job started\n",
			"\x1b[36m[build]\x1b[0m   | compiling\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			p := newPrinter(&out, false, tt.color)
			for _, e := range events {
				p.Emit(e)
			}
			p.summary()
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if !tt.color && strings.Contains(out.String(), "\x1b[") {
				t.Errorf("colour codes in plain output:\n%s", out.String())
			}
		})
	}
}
