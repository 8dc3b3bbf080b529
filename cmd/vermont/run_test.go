//go:build !windows

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/exec"
)

// vermontRun runs `vermont run` with args in a temporary work dir.
func vermontRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"run", "--workdir", t.TempDir()}, args...)
	code = run(context.Background(), full, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	two := filepath.Join("..", "..", "testdata", "cli", "two.yml")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // substrings of stdout
		wantErr  []string // substrings of stderr
		not      []string // must not appear in stdout or stderr
	}{
		{name: "hello", args: []string{"-W", "../../testdata/run/hello.yml"}, wantCode: 0,
			want: []string{"[hello]", "Hello from Vermont on Linux", "JOB", "✓ success"}},
		{name: "failing leg exits 1", args: []string{"-W", two, "-s", "TOKEN=tok-12345-secret", "--var", "COLOR=blue"}, wantCode: 1,
			want: []string{"hi  loud= var=blue", "secret ***", "second (2)", "✗ failure"}, not: []string{"tok-12345-secret"}},
		{name: "matrix filter", args: []string{"-W", two, "--matrix", "n=1"}, wantCode: 0, want: []string{"second (1)"}, not: []string{"second (2)"}},
		{name: "job filter keeps needs", args: []string{"-j", "second", "-W", two, "--matrix", "n=1"}, wantCode: 0, want: []string{"[first]", "[second (1)]"}},
		{name: "dispatch inputs", args: []string{"workflow_dispatch", "-W", two, "-j", "first", "--input", "who=vermont", "--input", "loud=true"}, wantCode: 0,
			want: []string{"hi vermont loud=true"}},
		// GitHub's API answers 422 Unexpected inputs provided (workflow.DispatchInputs).
		{name: "undeclared dispatch input", args: []string{"workflow_dispatch", "-W", two, "--input", "nope=1"}, wantCode: 1,
			wantErr: []string{`--input: invalid workflow_dispatch inputs: Unexpected inputs provided: ["nope"]`}, not: []string{"job started"}},
		{name: "dry run", args: []string{"-n", "-W", two}, wantCode: 0, want: []string{"first", "second  (needs first)", "n=1", "n=2"}, not: []string{"hi  loud"}},
		{name: "event filter", args: []string{"-W", "../../testdata/cli/pr-only.yml"}, wantCode: 1, wantErr: []string{`no workflow in ../../testdata/cli/pr-only.yml runs on "push"`}},
		{name: "pull_request runs it", args: []string{"pull_request", "-W", "../../testdata/cli/pr-only.yml"}, wantCode: 0, want: []string{"pr only"}},
		{name: "invalid workflow runs nothing", args: []string{"-W", "../../testdata/cli/bad.yml"}, wantCode: 1, wantErr: []string{"bad.yml:6:"}, not: []string{"job started"}},
		{name: "bad flag", args: []string{"--nope"}, wantCode: 2, wantErr: []string{"flag provided but not defined: -nope"}},
		{name: "missing secret env", args: []string{"-W", two, "-s", "NO_SUCH_VAR_FOR_VERMONT"}, wantCode: 2, wantErr: []string{"-s NO_SUCH_VAR_FOR_VERMONT: no value given"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := vermontRun(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out+errs, n) {
					t.Errorf("output contains %q", n)
				}
			}
		})
	}
}

// TestRunJSON checks that --json prints one event per line, masked.
func TestRunJSON(t *testing.T) {
	t.Parallel()
	two := filepath.Join("..", "..", "testdata", "cli", "two.yml")
	code, out, _ := vermontRun(t, "--json", "-W", two, "-j", "first", "-s", "TOKEN=tok-12345-secret")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, "tok-12345-secret") {
		t.Fatal("secret in JSON output")
	}
	kinds := map[exec.Kind]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e exec.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		kinds[e.Kind]++
		if e.Kind == exec.JobFinished && e.Result != exec.Success {
			t.Errorf("job %s: %s", e.Job, e.Result)
		}
	}
	want := map[exec.Kind]int{exec.JobStarted: 1, exec.StepStarted: 2, exec.StepFinished: 2, exec.JobFinished: 1, exec.Log: 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s events, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
}

func TestSecretFile(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(f, []byte("# comment\nTOKEN=\"from-file-secret\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := vermontRun(t, "-W", "../../testdata/cli/two.yml", "-j", "first", "--secret-file", f)
	if code != 0 || !strings.Contains(out, "secret ***") || strings.Contains(out+errs, "from-file-secret") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

// TestRunEventFile checks that GITHUB_EVENT_PATH is always a file holding
// github.event, as on GitHub, and that without -e a push run's payload is
// built from the local repository (before is HEAD's parent). The check
// compares parsed JSON with node's deepStrictEqual (Vermont's toJSON sorts
// keys; a given -e file keeps its own order).
func TestRunEventFile(t *testing.T) {
	t.Parallel()
	wf := filepath.Join("..", "..", "testdata", "run", "event-path.yml")
	parent, err := osexec.Command("git", "rev-parse", "HEAD^").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD^ (the test runs in Vermont's own repository): %v", err)
	}
	given := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(given, []byte(`{"ref":"refs/heads/given","after":"abc","before":"def","head_commit":{"id":"abc","message":"m"},"repository":{"full_name":"o/r"},"sender":{"login":"vermont"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "push without -e", args: []string{"-W", wf},
			want: []string{"event file agrees", "push payload ok, before=" + strings.TrimSpace(string(parent))}},
		{name: "workflow_dispatch without -e", args: []string{"workflow_dispatch", "-W", wf}, want: []string{"event file agrees"}},
		{name: "given with -e", args: []string{"workflow_dispatch", "-W", wf, "-e", given}, want: []string{"event file agrees"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := vermontRun(t, tt.args...)
			if code != 0 {
				t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
