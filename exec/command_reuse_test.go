//go:build !windows

package exec_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/schedule"
)

// TestCommandFilesEmptiedBetweenSteps: a job's steps reuse its command
// files, so each step must find them empty and apply only what it wrote;
// a file a step removed or replaced with a symlink is made again, and the
// symlink's target is left alone.
func TestCommandFilesEmptiedBetweenSteps(t *testing.T) {
	t.Parallel()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("/not-a-dir-vermont\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "w.yml")
	src := `on: push
jobs:
  j:
    runs-on: ubuntu-latest
    outputs:
      a: ${{ steps.a.outputs.x }}
      b: ${{ steps.b.outputs.x }}
    steps:
      - id: a
        run: |
          echo x=1 >> "$GITHUB_OUTPUT"
          echo A=1 >> "$GITHUB_ENV"
          echo "# one" >> "$GITHUB_STEP_SUMMARY"
      - id: b
        run: |
          for f in "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_STEP_SUMMARY"; do
            test -f "$f" && test ! -s "$f" || { echo "not empty: $f"; exit 1; }
          done
          echo "b sees A=$A"
          rm "$GITHUB_ENV"
          ln -sf ` + victim + ` "$GITHUB_STEP_SUMMARY"
      - id: c
        run: |
          for f in "$GITHUB_OUTPUT" "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_STEP_SUMMARY"; do
            test -f "$f" && test ! -L "$f" && test ! -s "$f" || { echo "not an empty file: $f"; exit 1; }
          done
          echo "c sees A=$A"
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runFile(t, file, runOpts{})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "j", "b sees A=1", "c sees A=1")
	if out := r.res.Jobs["j"].Outputs; out["a"] != "1" || out["b"] != "" {
		t.Errorf("job outputs %v, want a=1 and no b (step a's output file was not emptied)", out)
	}
	for _, e := range r.events {
		if e.Kind == exec.JobFinished && e.Summary != "# one\n/not-a-dir-vermont\n" {
			t.Errorf("job summary %q, want step a's line then the symlinked file's, once each", e.Summary)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "/not-a-dir-vermont\n" {
		t.Errorf("a symlinked command file's target was changed: %q, %v", b, err)
	}
}
