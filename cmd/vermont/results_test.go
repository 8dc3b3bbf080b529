//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunResults runs a workflow that passes an artifact and a cache
// between two jobs through `vermont run`, which serves them; with
// --no-results the same workflow fails, as the toolkits find no service.
func TestRunResults(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "testdata", "actions-run")
	for _, p := range []string{"artifact", "cache", "core"} {
		if _, err := os.Stat(filepath.Join(root, "results-action", "node_modules", "@actions", p, "package.json")); err != nil {
			msg := "the @actions/" + p + " package is not installed in testdata/actions-run/results-action; run `go run ./internal/testall`"
			if v := strings.ToLower(os.Getenv("CI")); v == "true" || v == "1" {
				t.Fatal(msg)
			}
			t.Skip("SKIP: " + msg)
		}
	}
	file := filepath.Join(root, "results.yml")
	cache := t.TempDir()
	code, out, errs := vermontRun(t, "-W", file, "-C", root, "--cache-dir", cache, "--offline")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, w := range []string{"[consume]   | app.txt: built by produce", "Cache hit for restore-key: deps-linux-v1",
		"exact=deps-linux-v1 prefix=deps-linux-v1 miss=", "run step token: [none]", "token seen by the action: ***"} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	if des, err := os.ReadDir(cache); err != nil || len(des) != 1 {
		t.Errorf("--cache-dir holds %d entries (%v), want the one cache saved", len(des), err)
	}
	code, out, _ = vermontRun(t, "-W", file, "-C", root, "--cache-dir", t.TempDir(), "--offline", "--no-results")
	if code != 1 || !strings.Contains(out, "Unable to get the ACTIONS_RUNTIME_TOKEN env variable") {
		t.Errorf("--no-results: exit %d, want 1 and the toolkit's message:\n%s", code, out)
	}
}
