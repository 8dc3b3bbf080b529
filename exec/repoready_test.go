//go:build !windows

package exec_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/schedule"
)

// TestRepoReady: the working tree is prepared once, on the first
// actions/checkout of the workflow's own repository; a run that never
// reads it never prepares it; a preparation that fails fails the
// checkout step.
func TestRepoReady(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "tree")
	var calls atomic.Int32
	prepare := func(context.Context) error {
		calls.Add(1)
		if err := os.MkdirAll(root, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, "marker.txt"), []byte("prepared tree\n"), 0o644)
	}
	repo := exec.Repo{Root: root, SHA: strings.Repeat("b", 40), Ref: "refs/heads/main", Repository: "octo/hello"}
	r := runFile(t, td("checkout-lazy.yml"), runOpts{repo: &repo, extra: []exec.Option{exec.WithRepoReady(prepare)}})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("prepared %d times, want once for two checkouts", n)
	}
	r.events.WantLines(t, "a", "prepared tree")

	calls.Store(0)
	r = runFile(t, td("hello.yml"), runOpts{extra: []exec.Option{exec.WithRepoReady(prepare)}})
	if r.res.Result != schedule.Success || calls.Load() != 0 {
		t.Fatalf("a run without checkout: result %s, prepared %d times", r.res.Result, calls.Load())
	}

	failing := func(context.Context) error { return errors.New("the mirror is gone") }
	r = runFile(t, td("checkout-lazy.yml"), runOpts{repo: &repo, extra: []exec.Option{exec.WithRepoReady(failing)}})
	if r.res.Jobs["a"].Result != schedule.Failure || r.res.Jobs["plain"].Result != schedule.Success {
		t.Fatalf("jobs %+v", r.res.Jobs)
	}
	if !strings.Contains(r.events.String(), "actions/checkout: the mirror is gone") {
		t.Fatalf("the failure is not shown:\n%s", r.events.String())
	}
}
