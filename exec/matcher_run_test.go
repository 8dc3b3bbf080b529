//go:build !windows

package exec_test

import (
	"path/filepath"
	"testing"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/schedule"
)

// TestRunProblemMatchers registers matcher files shaped like those of
// setup-go, setup-node (eslint-stylish, a multi-line loop, and tsc) and
// setup-python, and expects matching lines as annotations, as the runner
// makes them (exec/matcher.go), and the rest printed as is.
func TestRunProblemMatchers(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", "testdata", "matchers"))
	if err != nil {
		t.Fatal(err)
	}
	repo := exec.Repo{Root: root, Repository: "octo/hello"}
	r := runFile(t, td("matchers.yml"), runOpts{repo: &repo})
	if got := r.res.Jobs["lint"].Result; got != schedule.Success {
		t.Fatalf("lint: %s\n%s", got, r.events.String())
	}
	r.events.WantLines(t, "lint",
		"error: main.go:3:6: main redeclared in this block",
		"error: main.go:1:1: package comment missing",
		"error: no such file", // the file does not exist: dropped, and with it the position
		"just output",
		"src/app.js", // the first line of a multi-line match is printed
		"error: src/app.js:1:5: 'x' is assigned a value but never used",
		"warning: src/app.js:1:9: Missing semicolon",
		"error: src/app.ts:1:4: Type 'string' is not assignable to type 'number'.",
		`  File "tool.py", line 1, in <module>`,
		"warning: tool.py:1: bad value", // the matcher's default severity
		"./main.go:3:6: printed as is now",
		"src/app.ts(1,4): error TS2322: printed as is too",
		"error: Unable to process command '::add-matcher::bad-severity.json' successfully.",
		"error: Matcher 'bad' contains unexpected default severity 'fatal'",
	)
	if e := r.events.Step("lint", "bad matcher"); e.Outcome != schedule.Failure {
		t.Errorf("a bad matcher file: outcome %q, want failure", e.Outcome)
	}
	r.events.WantLines(t, "other", "./main.go:3:6: not matched in another job")
}
