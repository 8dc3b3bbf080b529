package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// stepResult is what one step produced.
type stepResult struct {
	outcome Result
	outputs map[string]string
}

// runSteps runs steps in order, with GitHub's step conditions: a step runs
// when its if holds (success() by default); after a failure only steps
// whose if says so run, and after a cancellation only those whose if holds
// under cancelled(), on a context of their own.
func (j *jobRun) runSteps(ctx context.Context, steps []*workflow.Step, f *frame) {
	for i, st := range steps {
		j.runOne(ctx, st, i, f)
	}
}

func (j *jobRun) runOne(ctx context.Context, st *workflow.Step, index int, f *frame) {
	name := j.stepName(st, f)
	id, explicit := j.stepID(st, index, f)
	stepsCtx := j.steps
	if f != nil && f.steps != nil {
		stepsCtx = f.steps
	}
	cancelled := ctx.Err() != nil
	// The step's env joins the env context before its if: is evaluated, so
	// `if: env.X == 'yes'` sees the step's own X; an env that fails to
	// evaluate fails the step without evaluating the if (actions/runner
	// src/Runner.Worker/StepsRunner.cs, "Evaluate and merge step env";
	// Handlers/CompositeActionHandler.cs likewise for embedded steps).
	sf, err := j.stepFrame(st, stepKey(f, index), f)
	if err != nil {
		j.r.emit(Event{Kind: StepStarted, Job: j.name, Step: name})
		j.stepLog(name, "error", fmt.Sprintf("env: %v", err))
		j.failed = true
		record(stepsCtx, id, explicit, stepResult{outcome: Failure}, Failure)
		j.r.emit(Event{Kind: StepFinished, Job: j.name, Step: name, Result: Failure, Outcome: Failure})
		return
	}
	ifSrc := ""
	if st.If != nil {
		ifSrc = st.If.Value
	}
	cond, err := j.r.condition(ifSrc)
	ok := false
	if err == nil {
		var v any
		v, err = cond.Eval(j.scope(sf, ""))
		ok = expr.Truthy(v)
	}
	if err != nil {
		j.logf("error", "%s: if: %v", name, err)
		j.failed = true
		record(stepsCtx, id, explicit, stepResult{outcome: Failure}, Failure)
		return
	}
	if !ok {
		j.r.emit(Event{Kind: StepFinished, Job: j.name, Step: name, Result: Skipped, Outcome: Skipped})
		record(stepsCtx, id, explicit, stepResult{outcome: Skipped}, Skipped)
		return
	}
	runCtx := ctx
	if cancelled {
		var cancel context.CancelFunc
		runCtx, cancel = j.r.afterCancel(ctx)
		defer cancel()
	}
	start := time.Now()
	j.r.emit(Event{Kind: StepStarted, Job: j.name, Step: name})
	res := j.execStep(runCtx, st, id, name, sf)
	conclusion := res.outcome
	if res.outcome == Failure {
		coe, err := j.evalBool(st.ContinueOnError, false, j.scope(f, ""))
		if err != nil {
			j.logf("error", "%s: continue-on-error: %v", name, err)
		}
		if coe {
			conclusion = Success
		}
	}
	if conclusion == Failure {
		j.failed = true
	}
	record(stepsCtx, id, explicit, res, conclusion)
	j.r.emit(Event{Kind: StepFinished, Job: j.name, Step: name, Result: conclusion, Outcome: res.outcome, Outputs: res.outputs, Duration: time.Since(start)})
}

// stepFrame is the frame step st runs in: its parent's (nil for the job's
// own steps), at place key, with the step's env evaluated on top.
func (j *jobRun) stepFrame(st *workflow.Step, key string, parent *frame) (*frame, error) {
	f := &frame{}
	if parent != nil {
		*f = *parent
	}
	f.key = key
	env, err := j.evalMap(st.Env, j.scope(parent, ""))
	if err != nil {
		return nil, err
	}
	f.env = make(map[string]string, len(f.env)+len(env))
	f.envKeys = nil
	if parent != nil {
		maps.Copy(f.env, parent.env)
		f.envKeys = slices.Clone(parent.envKeys)
	}
	for _, k := range sortedMapKeys(env, st.Env) {
		if _, ok := f.env[k]; !ok {
			f.envKeys = append(f.envKeys, k)
		}
		f.env[k] = env[k]
	}
	return f, nil
}

// stepKey names the step at index among the steps of frame f (nil for the
// job's own steps): "2" for the job's third step, "2/0" for the first step
// of the composite action it runs. A composite used twice gets two sets of
// keys, as on GitHub, where each use has its own embedded pre steps.
func stepKey(f *frame, index int) string {
	if f == nil || f.key == "" {
		return strconv.Itoa(index)
	}
	return f.key + "/" + strconv.Itoa(index)
}

// record puts a step into the steps context. Only steps with an id appear
// there, as on GitHub.
//
// The steps are in the order they ran, each's keys in the order of the
// contexts reference's example; outputs, which come as a map, sorted.
func record(steps *expr.Object, id string, explicit bool, res stepResult, conclusion Result) {
	if !explicit {
		return
	}
	outs := expr.NewObject(len(res.outputs))
	for _, k := range slices.Sorted(maps.Keys(res.outputs)) {
		outs.Set(k, res.outputs[k])
	}
	st := expr.NewObject(3)
	st.Set("outputs", outs)
	st.Set("outcome", string(res.outcome))
	st.Set("conclusion", string(conclusion))
	steps.Set(id, st)
}

// stepID returns the step's id, or the one GitHub makes up ("__run",
// "__run_2", "__actions_checkout").
func (j *jobRun) stepID(st *workflow.Step, index int, f *frame) (string, bool) {
	if st.ID != nil && st.ID.Value != "" {
		return st.ID.Value, true
	}
	base := "__run"
	if st.Uses != nil {
		base = "__" + slugRE.ReplaceAllString(strings.SplitN(st.Uses.Value, "@", 2)[0], "_")
	}
	if j.ids == nil {
		j.ids = map[string]int{}
	}
	j.ids[base]++
	if n := j.ids[base]; n > 1 {
		return base + "_" + strconv.Itoa(n), false
	}
	return base, false
}

// stepName is the step's display name: its name:, or "Run <command>".
func (j *jobRun) stepName(st *workflow.Step, f *frame) string {
	if st.Name != nil && st.Name.Value != "" {
		if s, err := j.evalString(st.Name.Value, j.scope(f, "")); err == nil {
			return s
		}
		return st.Name.Value
	}
	if st.Uses != nil {
		return "Run " + st.Uses.Value
	}
	if st.Run != nil {
		line, _, _ := strings.Cut(strings.TrimSpace(st.Run.Value), "\n")
		return "Run " + line
	}
	return "step"
}

// execStep runs a step's run: or uses:, in its frame f (stepFrame), with
// its timeout.
func (j *jobRun) execStep(ctx context.Context, st *workflow.Step, id, name string, f *frame) stepResult {
	if st.TimeoutMinutes != nil {
		m, err := j.floatValue(st.TimeoutMinutes)
		if err != nil {
			j.stepLog(name, "error", fmt.Sprintf("timeout-minutes: %v", err))
			return stepResult{outcome: Failure}
		}
		if m > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(m*float64(time.Minute)))
			defer cancel()
		}
	}
	var res stepResult
	if st.Uses != nil {
		res = j.runUses(ctx, st, id, name, f)
	} else {
		res = j.runScript(ctx, st, id, name, f)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && res.outcome != Success {
		j.stepLog(name, "error", "the step has timed out")
		res.outcome = Failure
	}
	return res
}

// runScript runs a run: step with its shell.
func (j *jobRun) runScript(ctx context.Context, st *workflow.Step, id, name string, f *frame) stepResult {
	scope := j.scope(f, "")
	script, err := j.evalString(st.Run.Value, scope)
	if err != nil {
		j.stepLog(name, "error", err.Error())
		return stepResult{outcome: Failure}
	}
	shell := j.defaultRun(func(d *workflow.RunDefaults) *workflow.String { return d.Shell })
	if st.Shell != nil {
		shell = st.Shell.Value
	}
	wd := j.defaultRun(func(d *workflow.RunDefaults) *workflow.String { return d.WorkingDirectory })
	if st.WorkingDirectory != nil {
		wd = st.WorkingDirectory.Value
	}
	if wd, err = j.evalString(wd, scope); err != nil {
		j.stepLog(name, "error", err.Error())
		return stepResult{outcome: Failure}
	}
	spec, err := resolveShell(shell, j.goos(), j.have)
	if err != nil {
		j.stepLog(name, "error", err.Error())
		return stepResult{outcome: Failure}
	}
	file := filepath.Join(j.temp, fmt.Sprintf("%s-%d%s", "script", time.Now().UnixNano(), spec.Ext))
	if spec.Ext == ".cmd" {
		script = "@echo off\r\n" + script
	}
	if err := os.WriteFile(file, []byte(script), 0o755); err != nil {
		j.stepLog(name, "error", fmt.Sprintf("write script: %v", err))
		return stepResult{outcome: Failure}
	}
	defer os.Remove(file)
	return j.runProcess(ctx, name, id, f, spec.argv(file), j.workdir(wd), nil)
}

// runProcess runs argv as a step process with the command files, and
// applies what the step wrote to them; saved state goes into state.
func (j *jobRun) runProcess(ctx context.Context, name, id string, f *frame, argv []string, dir string, state map[string]string) stepResult {
	return j.runWith(ctx, name, id, f, j.image != "", state, func(env []string, stdout, stderr io.Writer) (int, error) {
		return j.sr.Run(ctx, Process{Argv: argv, Env: env, Dir: dir, Stdout: stdout, Stderr: stderr})
	})
}

// runWith runs one process of a step through run, which starts it with the
// environment and output writers it is given: it makes the command files,
// reads the output for workflow commands, turns the exit into an outcome,
// and applies what the step wrote to the files. inContainer says whose
// environment the process starts from (a container's has no host
// variables). Saved state goes into state when it is not nil.
func (j *jobRun) runWith(ctx context.Context, name, id string, f *frame, inContainer bool, state map[string]string,
	run func(env []string, stdout, stderr io.Writer) (int, error)) stepResult {
	files, err := j.stepFiles()
	if err != nil {
		j.stepLog(name, "error", err.Error())
		return stepResult{outcome: Failure}
	}
	if files != j.files {
		defer files.remove()
	}
	env := j.processEnv(f, id, files, inContainer)
	out := j.newOutput(name, env)
	code, err := run(env, out.writer("stdout"), out.writer("stderr"))
	out.flush()
	res := stepResult{outcome: Success}
	switch {
	case err != nil && ctx.Err() != nil:
		res.outcome = Cancelled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.outcome = Failure
		}
	case err != nil:
		j.stepLog(name, "error", err.Error())
		res.outcome = Failure
	case code != 0:
		j.stepLog(name, "error", fmt.Sprintf("Process completed with exit code %d.", code))
		res.outcome = Failure
	}
	if out.failed {
		res.outcome = Failure
	}
	outputs, err := j.applyFiles(files, out)
	if err != nil {
		j.stepLog(name, "error", err.Error())
		res.outcome = Failure
	}
	res.outputs = outputs
	if state != nil {
		for k, v := range out.state {
			state[k] = v
		}
	}
	return res
}

// defaultRun finds a defaults.run value: the job's, else the workflow's.
func (j *jobRun) defaultRun(get func(*workflow.RunDefaults) *workflow.String) string {
	for _, d := range []*workflow.Defaults{j.job.Def.Defaults, j.job.Workflow.Defaults} {
		if d != nil && d.Run != nil {
			if s := get(d.Run); s != nil {
				return s.Value
			}
		}
	}
	return ""
}

// workdir resolves a working-directory against the workspace.
func (j *jobRun) workdir(wd string) string {
	if wd == "" {
		return j.ws
	}
	if filepath.IsAbs(wd) {
		return wd
	}
	return filepath.Join(j.ws, wd)
}

func (j *jobRun) goos() string {
	if j.image != "" {
		return "linux"
	}
	return runtime.GOOS
}

// have reports whether a shell is available where the steps run.
func (j *jobRun) have(name string) bool {
	if j.image != "" {
		return name == "sh" // container images: don't assume bash
	}
	_, err := LookPath(name, j.r.baseEnv)
	return err == nil
}

func (j *jobRun) stepLog(step, level, line string) {
	j.r.emit(Event{Kind: Log, Job: j.name, Step: step, Level: level, Line: line})
}

// commandFiles are the files of one step's workflow commands.
type commandFiles struct {
	dir                               string
	env, output, path, state, summary string
}

func (j *jobRun) newCommandFiles() (*commandFiles, error) {
	dir, err := os.MkdirTemp(j.temp, "_runner_file_commands-")
	if err != nil {
		return nil, fmt.Errorf("command files: %w", err)
	}
	c := &commandFiles{dir: dir,
		env: filepath.Join(dir, "set_env"), output: filepath.Join(dir, "set_output"),
		path: filepath.Join(dir, "add_path"), state: filepath.Join(dir, "save_state"),
		summary: filepath.Join(dir, "step_summary")}
	for _, p := range []string{c.env, c.output, c.path, c.state, c.summary} {
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return nil, fmt.Errorf("command files: %w", err)
		}
	}
	if err := j.owner.own(dir); err != nil {
		return nil, fmt.Errorf("command files: %w", err)
	}
	return c, nil
}

func (c *commandFiles) remove() { os.RemoveAll(c.dir) }

// stepFiles returns empty command files for a step. When steps run as
// Vermont's own user, a job makes them once and empties them before each
// later step: five truncates instead of a directory, five new files and
// their removal (about half a millisecond a step; BenchmarkCommandFiles).
// A job whose steps run as another user gets new ones each step, so that
// Vermont never writes through a file that user replaced.
func (j *jobRun) stepFiles() (*commandFiles, error) {
	if j.owner != nil {
		return j.newCommandFiles()
	}
	if j.files != nil {
		if j.files.empty() == nil {
			return j.files, nil
		}
		j.files.remove()
		j.files = nil
	}
	c, err := j.newCommandFiles()
	if err == nil {
		j.files = c
	}
	return c, err
}

// empty truncates the five files, making again any the last step removed
// or replaced with something else than a plain file.
func (c *commandFiles) empty() error {
	for _, p := range []string{c.env, c.output, c.path, c.state, c.summary} {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() {
			if fi.Size() == 0 {
				continue
			}
			if err := os.Truncate(p, 0); err == nil {
				continue
			}
		}
		os.RemoveAll(p)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
	}
	return nil
}

// applyFiles reads what a step wrote to its command files: env and path
// for the next steps, outputs and state for this one, and the summary.
func (j *jobRun) applyFiles(c *commandFiles, out *stepOutput) (map[string]string, error) {
	var errs []error
	envs, err := parseKeyValueFile(c.env)
	errs = append(errs, err)
	for _, kv := range envs {
		j.setEnv(kv.Key, kv.Value)
	}
	dirs, err := parsePathFile(c.path)
	errs = append(errs, err)
	for _, d := range dirs {
		j.prependPath(d)
	}
	outputs := out.outputs
	outs, err := parseKeyValueFile(c.output)
	errs = append(errs, err)
	for _, kv := range outs {
		if outputs == nil {
			outputs = map[string]string{}
		}
		outputs[kv.Key] = kv.Value
	}
	states, err := parseKeyValueFile(c.state)
	errs = append(errs, err)
	for _, kv := range states {
		if out.state == nil {
			out.state = map[string]string{}
		}
		out.state[kv.Key] = kv.Value
	}
	if b, err := readCommandFile(c.summary); err == nil && len(b) > 0 {
		j.summary.Write(b)
		if b[len(b)-1] != '\n' {
			j.summary.WriteByte('\n')
		}
	}
	return outputs, errors.Join(errs...)
}

// prependPath puts dir first in the PATH of later steps.
func (j *jobRun) prependPath(dir string) {
	for i, p := range j.path {
		if p == dir {
			j.path = append(j.path[:i], j.path[i+1:]...)
			break
		}
	}
	j.path = append([]string{dir}, j.path...)
}
