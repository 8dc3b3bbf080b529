package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const workflowTestdata = "../../testdata/workflow"

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	t.Parallel()
	okDir := filepath.Join(workflowTestdata, "ok")
	needs := filepath.Join(workflowTestdata, "err", "needs.yml")
	fwd := filepath.Join(workflowTestdata, "err", "forward-compat.yml")
	avail := filepath.Join(workflowTestdata, "err", "context-availability.yml")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  []string // substrings of stderr
	}{
		{name: "valid directory", args: []string{okDir}, wantCode: 0, wantOut: "10 file(s) valid\n"},
		{name: "one valid file", args: []string{filepath.Join(okDir, "reusable.yml")}, wantCode: 0, wantOut: "1 file(s) valid\n"},
		{name: "action by content", args: []string{filepath.Join(okDir, "action-docker.yml")}, wantCode: 0, wantOut: "1 file(s) valid\n"},
		{
			name: "errors with positions", args: []string{needs, okDir}, wantCode: 1,
			wantErr: []string{
				needs + `:4:16: job "a" needs "bilud", which does not exist; did you mean "build"? [needs]`,
				needs + ":8:12: job 'b' depends on job 'a' which creates a cycle in the dependency graph [needs]",
				"vermont validate: 10 problem(s) in 1 of 11 file(s)",
			},
		},
		{
			// An event or activity type newer than Vermont's lists is shown
			// and does not fail (go-task/task's issue-experiment.yml uses
			// issues: [field_added]).
			name: "warnings do not fail", args: []string{fwd}, wantCode: 0, wantOut: "1 file(s) valid, 4 warning(s)\n",
			wantErr: []string{fwd + `:7:21: warning: unknown activity type "field_added" in on.issues.types`},
		},
		{
			name: "warnings are shown beside errors", args: []string{fwd, needs}, wantCode: 1,
			wantErr: []string{fwd + `:8:3: warning: unknown event "merge_queue_entry_created"`, "vermont validate: 10 problem(s) in 1 of 2 file(s)"},
		},
		{
			// GitHub's context-availability table: env is not available
			// in jobs.<job_id>.if, secrets in no if:.
			name: "context availability", args: []string{avail}, wantCode: 1,
			wantErr: []string{
				avail + ":10:9: Unrecognized named-value: 'env'; at jobs.<job_id>.if",
				avail + ":15:17: Unrecognized named-value: 'secrets'; at jobs.<job_id>.steps.if",
				avail + ":18:21: Unrecognized function: 'cancelled'; at jobs.<job_id>.steps.run",
				"vermont validate: 8 problem(s) in 1 of 1 file(s)",
			},
		},
		{name: "missing path", args: []string{"does-not-exist"}, wantCode: 1, wantErr: []string{"does-not-exist", "no such file"}},
		{name: "bad flag", args: []string{"-nope"}, wantCode: 2, wantErr: []string{"usage: vermont validate"}},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: []string{"usage: vermont validate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(t, append([]string{"validate"}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if tt.wantOut != "" && out != tt.wantOut {
				t.Errorf("stdout %q, want %q", out, tt.wantOut)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestValidateDefaultDirectory(t *testing.T) {
	dir := t.TempDir()
	wfDir := filepath.Join(dir, ".github", "workflows")
	actionDir := filepath.Join(dir, ".github", "actions", "hello")
	for _, d := range []string{wfDir, actionDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(wfDir, "ci.yml"), "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: $/.github/actions/hello\n")
	write(filepath.Join(actionDir, "action.yml"), "name: hello\nruns:\n  using: node20\n")
	write(filepath.Join(dir, "docker-compose.yml"), "services: {}\n")

	t.Chdir(dir)
	code, _, errOut := runCmd(t, "validate")
	if code != 0 {
		t.Fatalf("default directory: exit %d, stderr:\n%s", code, errOut)
	}
	code, _, errOut = runCmd(t, "validate", ".")
	if code != 1 {
		t.Fatalf("exit %d, want 1 for the action without main; stderr:\n%s", code, errOut)
	}
	want := filepath.Join(".github", "actions", "hello", "action.yml") + `:3:3: missing key "main" in runs`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if strings.Contains(errOut, "docker-compose") {
		t.Errorf("a non-workflow YAML file was checked:\n%s", errOut)
	}
}

func TestValidateNoSecretsInDiagnostics(t *testing.T) {
	t.Parallel()
	// A diagnostic quotes the offending scalar, never the values of
	// other keys such as a literal password next to it.
	dir := t.TempDir()
	f := filepath.Join(dir, "w.yml")
	src := "on: push\njobs:\n  a:\n    runs-on: x\n    container:\n      image: i\n      credentials: {username: u, password: hunter2-secret}\n    timeout-minutes: soon\n    services:\n      db:\n        image: postgres\n        credentials: hunter2-in-the-wrong-place\n    steps: [{run: echo}]\n"
	if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "validate", f)
	if code != 1 || !strings.Contains(errOut, "timeout-minutes") || !strings.Contains(errOut, "credentials must be a mapping, found a scalar") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if strings.Contains(errOut, "hunter2") {
		t.Errorf("a password reached the diagnostics:\n%s", errOut)
	}
}
