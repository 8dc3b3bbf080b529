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
// compares parsed JSON with node's deepStrictEqual.
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

// TestRunFiles: act's habits. --env-file (default .env in the repository),
// --var-file and --secret-file in dotenv format, and flags from the
// repository's .vermontrc, one per line as act's .actrc. Precedence: the
// workflow's env over --env over --env-file; the command line over the rc
// file; secrets from files are masked like -s.
func TestRunFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(".env", "# the default env file\nFROM_DOTENV=dot\nexport BOTH=dotenv\nOVER=dotenv\nQUOTED=\"two words\"\n")
	vars := write("vars.env", "COLOR=blue\n")
	secrets := write("secrets.env", "TOKEN='s3cr3t-xyz'\n")
	write(".vermontrc", "# defaults\n--var-file "+vars+"\n--secret-file="+secrets+"\n\n--env BOTH=rc\n-c 1\n")
	wf := write("files.yml", `on: push
env:
  OVER: workflow
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - run: echo "env ${{ env.FROM_DOTENV }} $FROM_DOTENV ${{ env.BOTH }} ${{ env.OVER }} [$QUOTED] var ${{ vars.COLOR }} secret ${{ secrets.TOKEN }} cli ${{ env.CLI }}"
`)
	code, out, errs := vermontRun(t, "-C", dir, "-W", wf, "--env", "CLI=1")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if want := "env dot dot rc workflow [two words] var blue secret *** cli 1"; !strings.Contains(out, want) {
		t.Errorf("stdout lacks %q:\n%s", want, out)
	}
	if strings.Contains(out+errs, "s3cr3t-xyz") {
		t.Errorf("a secret from --secret-file reached the output:\n%s", out)
	}

	// The command line wins over the rc file for a flag with one value.
	code, out, _ = vermontRun(t, "-C", dir, "-W", wf, "--env", "BOTH=cli")
	if code != 0 || !strings.Contains(out, "env dot dot cli workflow") {
		t.Errorf("exit %d; --env on the command line did not win over .vermontrc:\n%s", code, out)
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, ".vermontrc"), []byte("-c 2\n--nope yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = vermontRun(t, "-C", bad, "-W", wf)
	if want := filepath.Join(bad, ".vermontrc") + `:2:1: unknown flag "--nope"`; code != 2 || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, want)
	}
	code, _, errs = vermontRun(t, "-C", t.TempDir(), "-W", wf, "--env-file", filepath.Join(bad, "missing.env"))
	if code == 0 || !strings.Contains(errs, "--env-file:") {
		t.Errorf("a missing --env-file: exit %d, stderr %q", code, errs)
	}
}
