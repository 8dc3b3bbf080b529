//go:build !windows

package exec_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/exectest"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
)

// run is one run of a testdata workflow on the host backend.
type run struct {
	res    *schedule.RunResult
	events exectest.Events
}

type runOpts struct {
	bind     bool
	force    chan struct{}
	secrets  map[string]any
	baseEnv  []string
	repo     *exec.Repo
	resolver exec.Resolver
	ctx      context.Context
	debug    bool
	extra    []exec.Option // appended last
}

func runFile(t *testing.T, file string, o runOpts) run {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wf, err := workflow.Parse(file, src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	repo := exec.Repo{Root: t.TempDir(), SHA: strings.Repeat("a", 40), Ref: "refs/heads/main", Repository: "octo/hello"}
	if o.repo != nil {
		repo = *o.repo
	}
	if o.secrets == nil {
		o.secrets = map[string]any{}
	}
	gh := exec.GitHubContext(exec.GitHubOptions{EventName: "push", Repo: repo, Workflow: "t", WorkflowFile: file, RunID: "7"})
	plan, err := schedule.NewPlan(wf, schedule.WithContexts(map[string]any{"github": gh, "secrets": o.secrets, "vars": map[string]any{}, "inputs": map[string]any{}}))
	if err != nil {
		t.Fatal(err)
	}
	var rec exec.Recorder
	var m exec.Masker
	for _, v := range o.secrets {
		m.Add(fmt.Sprint(v))
	}
	opts := []exec.Option{exec.WithSink(&rec), exec.WithMasker(&m), exec.WithWorkDir(t.TempDir()), exec.WithRepo(repo), exec.WithDebug(o.debug), exec.WithBind(o.bind), exec.WithCancelGrace(10 * time.Second), exec.WithForceStop(o.force)}
	if o.baseEnv != nil {
		opts = append(opts, exec.WithBaseEnv(o.baseEnv))
	}
	if o.resolver != nil {
		opts = append(opts, exec.WithResolver(o.resolver))
	}
	r, err := exec.New(host.New(host.WithGrace(200*time.Millisecond)), append(opts, o.extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	res := schedule.New(schedule.WithLimit(4), schedule.WithForceStop(o.force)).Run(ctx, plan, r)
	return run{res: res, events: rec.Events()}
}

func notLines(t *testing.T, r run, substr string) {
	t.Helper()
	if strings.Contains(r.events.String(), substr) {
		t.Errorf("output contains %q:\n%s", substr, r.events.String())
	}
}

func td(name string) string { return filepath.Join("..", "testdata", "run", name) }

func TestRunHello(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("hello.yml"), runOpts{})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "hello", "Hello from Vermont on Linux", "event=push sha=aaaaaaa")
}

func TestRunCommandFilesAndEnv(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("files.yml"), runOpts{})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "produce",
		"level=step wf=from-workflow ctx=step",
		"level=job env-file=set by step one ctx=set by step one",
		"block=first+second+",
		"tool-on-path",
		"out=hello world")
	r.events.WantLines(t, "consume", "got=hello world result=success", `multi="line one\nline two"`)
	if got := r.res.Jobs["produce"].Outputs["multi"]; got != "line one\nline two" {
		t.Errorf("multi-line output %q", got)
	}
	var summary string
	for _, e := range r.events {
		if e.Kind == exec.JobFinished && e.Job == "produce" {
			summary = e.Summary
		}
	}
	if summary != "### Summary from produce\n" {
		t.Errorf("step summary %q", summary)
	}
}

func TestRunConditions(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("conditions.yml"), runOpts{})
	want := map[string]schedule.Result{"steps": schedule.Failure, "after": schedule.Success, "skipped": schedule.Skipped}
	for job, res := range want {
		if got := r.res.Jobs[job].Result; got != res {
			t.Errorf("job %s: %s, want %s", job, got, res)
		}
	}
	r.events.WantLines(t, "steps", "soft outcome=failure conclusion=success", "failure seen, hard=failure", "always runs")
	r.events.WantLines(t, "after", "steps result=failure")
	notLines(t, r, "must not run")
	notLines(t, r, "never")
	if e := r.events.Step("steps", "skipped after failure"); e.Result != schedule.Skipped {
		t.Errorf("step after failure: %+v", e)
	}
	if r.res.Result != schedule.Failure {
		t.Errorf("run result %s", r.res.Result)
	}
}

func TestRunShells(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("shells.yml"), runOpts{})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "shells", "bash pipefail is pipefail on", "sh in sub", "python says shells", "perl custom shell", "pf=failure dir=deeper")
}

func TestRunWorkflowCommandsAndMasking(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("commands.yml"), runOpts{secrets: map[string]any{"MY_SECRET": "super-s3cret-value"}})
	r.events.WantLines(t, "commands",
		"the value is ***",
		"group: My group", "inside", "endgroup: ",
		"notice: app.js:3: Heads up: a notice",
		"warning: a warning",
		"error: x.go:1:2: an error",
		"::warning::not a command now",
		"secret split: ***",
		"token ***",
		"legacy=old style",
		"error: The `set-env` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/")
	notLines(t, r, "hide-me-please")
	notLines(t, r, "super-s3cret-value")
	notLines(t, r, "hidden debug")
	if e := r.events.Step("commands", "Run echo \"::set-env name=X::y\""); e.Outcome != schedule.Failure || e.Result != schedule.Success {
		t.Errorf("set-env step outcome %q, want failure", e.Outcome)
	}
}

func TestRunDebug(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("commands.yml"), runOpts{debug: true})
	r.events.WantLines(t, "commands", "debug: hidden debug")
}

func TestRunMatrix(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("matrix.yml"), runOpts{})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "test (linux, 1, yes)", "leg os=linux v=1 extra=yes index=0/3")
	r.events.WantLines(t, "test (linux, 2, yes)", "leg os=linux v=2 extra=yes index=1/3")
	r.events.WantLines(t, "test (windows, 2)", "leg os=windows v=2 extra= index=2/3")
}

func TestRunStepTimeout(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("timeout.yml"), runOpts{})
	if r.res.Jobs["slow"].Result != schedule.Failure {
		t.Fatalf("result %v\n%s", r.res.Jobs, r.events.String())
	}
	r.events.WantLines(t, "slow", "error: the step has timed out", "cleanup ran")
}

// TestRunCancel cancels a run in the middle of a step: the step's process
// and its children are gone, the next step does not run, an always() step
// does, and the job is cancelled.
func TestRunCancel(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan run)
	go func() {
		done <- runFile(t, td("cancel.yml"), runOpts{ctx: ctx, baseEnv: append(os.Environ(), "PIDFILE="+pidFile)})
	}()
	pid := exectest.WaitPID(t, pidFile)
	cancel()
	r := <-done
	if got := r.res.Jobs["long"].Result; got != schedule.Cancelled {
		t.Errorf("job result %s, want cancelled\n%s", got, r.events.String())
	}
	r.events.WantLines(t, "long", "always ran", "cancelled() was true")
	notLines(t, r, "must not run")
	if exectest.Alive(pid) {
		t.Errorf("sleep %d is still running after the cancel", pid)
	}
}

func TestRunCheckoutLocal(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "marker.txt"), []byte("uncommitted change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := exec.Repo{Root: root, Repository: "octo/hello"}
	r := runFile(t, td("checkout.yml"), runOpts{repo: &repo})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "empty", "workspace starts empty")
	r.events.WantLines(t, "checkout", "uncommitted change", "uncommitted change")
}

// dirResolver resolves ./ references in a directory: the seam package
// actions fills in production.
type dirResolver struct{ root string }

func (d dirResolver) Action(ctx context.Context, uses, workspace string) (string, *workflow.Action, error) {
	dir := filepath.Join(workspace, uses)
	src, err := os.ReadFile(filepath.Join(dir, "action.yml"))
	if err != nil {
		return "", nil, err
	}
	a, err := workflow.ParseAction(filepath.Join(dir, "action.yml"), src)
	return dir, a, err
}

func (d dirResolver) Workflow(ctx context.Context, uses, workspace string) (*workflow.Workflow, error) {
	p := filepath.Join(d.root, uses)
	src, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return workflow.Parse(p, src)
}

func (d dirResolver) Checkout(ctx context.Context, repo, ref, dest string) error {
	return fmt.Errorf("no checkout of %s in tests", repo)
}

func TestRunReusableWorkflow(t *testing.T) {
	t.Parallel()
	root, _ := filepath.Abs(td("reusable"))
	repo := exec.Repo{Root: root, Repository: "octo/hello"}
	r := runFile(t, filepath.Join(root, ".github/workflows/caller.yml"), runOpts{repo: &repo, resolver: dirResolver{root}, secrets: map[string]any{"MY_SECRET": "pssst-value"}})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "call / greet", "hello vermont x2 loud=false secret=***")
	r.events.WantLines(t, "use", "called said hi-vermont (success)")
}

// TestRunBind runs a job directly in the working tree (--bind): no checkout
// needed, and what the job writes stays there.
func TestRunBind(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "marker.txt"), []byte("in the working tree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := exec.Repo{Root: root, Repository: "octo/hello"}
	r := runFile(t, td("bind.yml"), runOpts{repo: &repo, bind: true})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "bound", "in the working tree")
	if b, err := os.ReadFile(filepath.Join(root, "from-job.txt")); err != nil || string(b) != "written by the job\n" {
		t.Fatalf("file written by the bound job: %q, %v", b, err)
	}
}

// TestRunDefaultEnv checks GitHub's default environment variables, and a
// job whose timeout-minutes runs out.
func TestRunDefaultEnv(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("defaults.yml"), runOpts{})
	r.events.WantLines(t, "vars",
		"CI=true GITHUB_ACTIONS=true",
		"repo=octo/hello owner=octo ref=refs/heads/main name=main type=branch",
		"job=vars action=first event=push run=7/1/1",
		"runner=Linux/self-hosted ws-is-pwd=yes",
		"temp-exists=yes files=yes",
		"ctx os=Linux job=vars ws-same=true",
		"second action=__run")
	if got := r.res.Jobs["timeout"].Result; got != schedule.Failure {
		t.Errorf("timed-out job: %s, want failure\n%s", got, r.events)
	}
	r.events.WantLines(t, "timeout", "error: the job has exceeded the maximum execution time of 600ms", "after the job timed out")
}

// TestRunForceStop: after a cancel, an always() step runs; a forced stop
// (a second Ctrl-C) kills it and its children, and the run ends.
func TestRunForceStop(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	force := make(chan struct{})
	done := make(chan run)
	go func() {
		done <- runFile(t, td("forcestop.yml"), runOpts{ctx: ctx, force: force, baseEnv: append(os.Environ(), "PIDFILE="+pidFile)})
	}()
	time.Sleep(50 * time.Millisecond) // let the first step start; a cancel before it is fine too
	cancel()
	pid := exectest.WaitPID(t, pidFile) // the always() step is running
	close(force)
	r := <-done
	if got := r.res.Jobs["long"].Result; got != schedule.Cancelled {
		t.Errorf("job result %s, want cancelled\n%s", got, r.events)
	}
	exectest.WaitGone(t, pid)
}

// TestRunStepIfSeesStepEnv: a step's own env is in the env context of its
// if: (actions/runner src/Runner.Worker/StepsRunner.cs, "Evaluate and merge
// step env"), and an env that fails to evaluate fails the step before its
// if: is looked at.
func TestRunStepIfSeesStepEnv(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("stepenv.yml"), runOpts{})
	tests := []struct {
		job, step string
		want      schedule.Result
		line      string
	}{
		{job: "env", step: "own env", want: schedule.Success, line: "ran own env X=yes"},
		{job: "env", step: "own env overrides workflow", want: schedule.Success, line: "ran override LEVEL=step"},
		{job: "env", step: "own env from an expression", want: schedule.Success, line: "ran expression Y=job-step"},
		{job: "env", step: "own env over GITHUB_ENV", want: schedule.Success, line: "ran over file FROM_FILE=step"},
		{job: "env", step: "GITHUB_ENV without own env", want: schedule.Success, line: "ran file FROM_FILE=file"},
		{job: "env", step: "not the next step's env", want: schedule.Skipped},
		{job: "bad-env", step: "env that cannot be evaluated", want: schedule.Failure},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			if e := r.events.Step(tt.job, tt.step); e.Result != tt.want {
				t.Errorf("step %q: result %q, want %q\n%s", tt.step, e.Result, tt.want, r.events)
			}
			if tt.line != "" {
				r.events.WantLines(t, tt.job, tt.line)
			}
		})
	}
	notLines(t, r, "must not run")
	if got := r.res.Jobs["bad-env"].Result; got != schedule.Failure {
		t.Errorf("job bad-env: %s, want failure", got)
	}
}

// TestRunJobOutputsWithSecrets: a job output that contains a masked value
// is dropped with GitHub's warning, so its consumer sees ""; an output that
// cannot be evaluated fails the job (actions/runner
// src/Runner.Worker/JobExtension.cs, "Evaluate and set job outputs").
func TestRunJobOutputsWithSecrets(t *testing.T) {
	t.Parallel()
	r := runFile(t, td("outputs-secret.yml"), runOpts{secrets: map[string]any{"MY_SECRET": "top-secret-value"}})
	tests := []struct {
		output  string
		want    string // in the produce job's outputs, "" for dropped
		line    string // what consume prints
		warning bool
	}{
		{output: "plain", want: "just-text", line: "plain=[just-text]"},
		{output: "secret", line: "secret=[]", warning: true},
		{output: "embedded", line: "embedded=[]", warning: true},
		{output: "masked", line: "masked=[]", warning: true},
		{output: "empty", line: "empty=[]"},
	}
	outs := r.res.Jobs["produce"].Outputs
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			got, set := outs[tt.output]
			if got != tt.want || set != (tt.want != "") {
				t.Errorf("output %s = %q (set %v), want %q", tt.output, got, set, tt.want)
			}
			r.events.WantLines(t, "consume", tt.line)
			warning := "warning: Skip output '" + tt.output + "' since it may contain secret."
			if has := slices.Contains(r.events.Lines("produce"), warning); has != tt.warning {
				t.Errorf("warning %q shown: %v, want %v\n%s", warning, has, tt.warning, r.events)
			}
		})
	}
	notLines(t, r, "top-secret-value")
	if got := r.res.Jobs["bad"].Result; got != schedule.Failure {
		t.Errorf("job with an output that fails to evaluate: %s, want failure", got)
	}
	r.events.WantLines(t, "bad", "error: Fail to evaluate job outputs")
}
