package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/internal/runfiles"
	"github.com/vermont-ci/vermont/internal/wiring"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// runFlags are the flags of `vermont run`, named after act's so its users
// feel at home.
type runFlags struct {
	workflows   string
	jobs        multiFlag
	matrix      multiFlag
	eventPath   string
	inputs      multiFlag
	secrets     multiFlag
	secretFiles multiFlag
	vars        multiFlag
	varFiles    multiFlag
	env         multiFlag
	envFileList multiFlag
	platforms   multiFlag
	dryRun      bool
	list        bool
	json        bool
	bind        bool
	debug       bool
	concurrency int
	workDir     string
	node        string
	dir         string
	cacheDir    string
	noResults   bool
	backend     backendFlags
	args        []string // as given, for a hand-off to vermont-full
	commitCache string   // where commits' git log output is kept ("" for nowhere)
}

// defaultConcurrency is -c's default. GitHub's max-parallel defaults to
// as many jobs as there are runners, so a 50-leg matrix or a layer of ten
// jobs starts at once; jobs on this machine mostly wait on processes, and
// the CPU count would run such a matrix in 25 rounds on 2 cores.
const defaultConcurrency = 256

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runRun(ctx context.Context, args []string, io stdio) int {
	f := runFlags{args: args, commitCache: commitCacheDir()}
	fs := flag.NewFlagSet("vermont run", flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintln(io.err, "usage: vermont run [EVENT] [flags]\n\nRuns the workflows triggered by EVENT (default push) on this machine.\n\n"+
			"Default flags come from ~/.vermontrc, then the repository's .vermontrc (one flag per line, as act's\n"+
			".actrc); flags given here win. NAME=VALUE files (--env-file, default .env in the repository;\n"+
			"--var-file; --secret-file) are in dotenv format; --env, --var and -s win over them.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.workflows, "W", ".github/workflows", "workflow file or directory")
	fs.StringVar(&f.workflows, "workflows", ".github/workflows", "workflow file or directory")
	fs.Var(&f.jobs, "j", "run only this job and the jobs it needs (repeatable)")
	fs.Var(&f.jobs, "job", "same as -j")
	fs.Var(&f.matrix, "matrix", "run only matrix legs with key=value (repeatable)")
	fs.StringVar(&f.eventPath, "e", "", "event payload JSON file (github.event)")
	fs.StringVar(&f.eventPath, "event-path", "", "same as -e")
	fs.Var(&f.inputs, "input", "input name=value (repeatable)")
	fs.Var(&f.secrets, "s", "secret NAME=VALUE, or NAME to take it from the environment (repeatable)")
	fs.Var(&f.secrets, "secret", "same as -s")
	fs.Var(&f.secretFiles, "secret-file", "file of NAME=VALUE secret lines (repeatable)")
	fs.Var(&f.vars, "var", "configuration variable NAME=VALUE (repeatable)")
	fs.Var(&f.varFiles, "var-file", "file of NAME=VALUE configuration variable lines (repeatable)")
	fs.Var(&f.env, "env", "variable NAME=VALUE, or NAME to take it from the environment, under the workflow's env (repeatable)")
	fs.Var(&f.envFileList, "env-file", "file of NAME=VALUE variable lines, as --env (repeatable; default .env in the repository, if there)")
	fs.Var(&f.platforms, "P", "runs-on label=image, or label=host (repeatable)")
	fs.Var(&f.platforms, "platform", "same as -P")
	fs.BoolVar(&f.dryRun, "n", false, "plan and print, run nothing")
	fs.BoolVar(&f.dryRun, "dry-run", false, "same as -n")
	fs.BoolVar(&f.list, "l", false, "list the jobs that would run")
	fs.BoolVar(&f.list, "list", false, "same as -l")
	fs.BoolVar(&f.json, "json", false, "print events as JSON lines")
	fs.BoolVar(&f.bind, "bind", false, "run jobs in the working tree instead of a copy")
	fs.BoolVar(&f.debug, "debug", false, "show ::debug:: output (as the ACTIONS_STEP_DEBUG secret does)")
	fs.IntVar(&f.concurrency, "c", defaultConcurrency, "jobs run at once (GitHub runs as many as it has runners for)")
	fs.IntVar(&f.concurrency, "concurrency", defaultConcurrency, "same as -c")
	fs.StringVar(&f.workDir, "workdir", "", "where jobs get their workspace and temp directories")
	fs.StringVar(&f.node, "node", "", "node binary for JavaScript actions (default: node on PATH)")
	fs.StringVar(&f.dir, "C", ".", "the repository directory")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "where actions/cache entries are kept across runs (default: vermont/caches in the user cache dir)")
	fs.BoolVar(&f.noResults, "no-results", false, "serve no artifacts or caches (upload-artifact, download-artifact and cache then fail)")
	f.backend.register(fs)
	rc, err := rcArgs(args, fs)
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return 2
	}
	if code, ok := parseFlags(fs, append(rc, reorder(args, fs)...)); !ok {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(io.err, "vermont run: want at most one EVENT, got %q\n", fs.Args())
		return 2
	}
	event := "push"
	if fs.NArg() == 1 {
		event = fs.Arg(0)
	}
	return f.run(ctx, event, io)
}

// reorder moves the positional EVENT after the flags, so that both
// `vermont run push -W x` and `vermont run -W x push` work.
func reorder(args []string, fs *flag.FlagSet) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := fs.Lookup(name); fl != nil {
			if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

func (f *runFlags) run(ctx context.Context, event string, io stdio) int {
	plans, base, code := f.plan(event, io)
	if plans == nil {
		return code
	}
	if f.list || f.dryRun {
		printPlans(io, plans)
		return 0
	}
	if code, ok := f.handOff(ctx, plans, io); ok {
		return code
	}
	return f.execute(ctx, plans, base, io)
}

// runPlan is one workflow to run.
type runPlan struct {
	file string
	wf   *workflow.Workflow
	plan *schedule.Plan
}

// plan parses the workflows, keeps those the event triggers, and plans them,
// returning them with the contexts they share. Any diagnostic stops
// everything: nothing runs half-validated.
func (f *runFlags) plan(event string, io stdio) ([]runPlan, *baseContexts, int) {
	paths, err := yamlFiles([]string{f.workflows})
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return nil, nil, 1
	}
	payload, err := readEvent(f.eventPath)
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return nil, nil, 1
	}
	ctxs, err := f.contexts()
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return nil, nil, 2
	}
	repo := f.repo()
	if f.eventPath == "" && event == "push" {
		payload = objectOf(pushEvent(repo, "vermont", f.commitCache))
	}
	matrix := map[string]string{}
	for _, kv := range f.matrix {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fmt.Fprintf(io.err, "vermont run: --matrix %q: want key=value\n", kv)
			return nil, nil, 2
		}
		matrix[k] = v
	}
	p := workflow.NewParser()
	var plans []runPlan
	failed := false
	for _, path := range paths {
		plan, ok, err := f.planFile(p, path, event, payload, ctxs, repo, matrix, io)
		switch {
		case err != nil:
			fmt.Fprintf(io.err, "vermont run: %v\n", err)
			return nil, nil, 1
		case !ok:
			failed = true
		case plan != nil:
			plans = append(plans, *plan)
		}
	}
	if failed {
		return nil, nil, 1
	}
	if len(plans) == 0 {
		fmt.Fprintf(io.err, "vermont run: no workflow in %s runs on %q", f.workflows, event)
		if len(f.jobs) > 0 {
			fmt.Fprintf(io.err, " with job %s", strings.Join(f.jobs, ", "))
		}
		fmt.Fprintln(io.err)
		return nil, nil, 1
	}
	return plans, ctxs, 0
}

// repo reads the local repository. A directory given with -C is the
// repository root for ./ references even inside a larger git checkout.
func (f *runFlags) repo() exec.Repo {
	repo, ok := exec.ReadRepo(f.dir)
	if !ok || f.dir != "." {
		repo.Root = mustAbs(f.dir)
	}
	return repo
}

// planFile parses and plans one workflow file. It returns nil when the
// event does not trigger the workflow (or -j names none of its jobs), ok
// false after printing its diagnostics, and an error when the file cannot be
// read.
func (f *runFlags) planFile(p *workflow.YAMLParser, path, event string, payload *expr.Object, ctxs *baseContexts, repo exec.Repo, matrix map[string]string, io stdio) (*runPlan, bool, error) {
	wf, diags, err := parseWorkflowFile(p, path)
	if errors.Is(err, errNotWorkflow) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(diags) > 0 {
		for _, d := range diags {
			fmt.Fprintln(io.err, d)
		}
		return nil, false, nil
	}
	trig := workflow.TriggerFromPayload(event, expr.Plain(payload).(map[string]any))
	if trig.Ref == "" && (event == "push" || strings.HasPrefix(event, "pull_request")) {
		trig.Ref = repo.Ref
	}
	if !wf.Matches(trig) {
		return nil, true, nil
	}
	contexts, err := f.workflowContexts(ctxs, wf, path, event, payload, repo)
	if err != nil {
		fmt.Fprintf(io.err, "%s: --input: %v\n", path, err)
		return nil, false, nil
	}
	opts := []schedule.PlanOption{schedule.WithContexts(contexts)}
	if len(f.jobs) > 0 {
		var keep []string
		for _, id := range f.jobs {
			if wf.Job(id) != nil {
				keep = append(keep, id)
			}
		}
		if len(keep) == 0 {
			return nil, true, nil
		}
		opts = append(opts, schedule.WithJobs(keep...))
	}
	if len(matrix) > 0 {
		opts = append(opts, schedule.WithMatrix(matrix))
	}
	plan, err := schedule.NewPlan(wf, opts...)
	if err != nil {
		fmt.Fprintln(io.err, err)
		return nil, false, nil
	}
	return &runPlan{file: path, wf: wf, plan: plan}, true, nil
}

// baseContexts are the contexts shared by every workflow of the run.
type baseContexts struct {
	env     map[string]string // --env and --env-file
	secrets map[string]any
	vars    map[string]any
	inputs  map[string]string
	runID   string
}

func (f *runFlags) contexts() (*baseContexts, error) {
	b := &baseContexts{secrets: map[string]any{}, vars: map[string]any{}, inputs: map[string]string{}, runID: strconv.FormatInt(time.Now().UnixNano()/1e6, 10)}
	for _, file := range f.secretFiles {
		kvs, err := readDotEnv(file)
		if err != nil {
			return nil, fmt.Errorf("--secret-file: %w", err)
		}
		for k, v := range kvs {
			b.secrets[k] = v
		}
	}
	for _, s := range f.secrets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			v, ok = os.LookupEnv(k)
			if !ok {
				return nil, fmt.Errorf("-s %s: no value given and no such environment variable", k)
			}
		}
		b.secrets[k] = v
	}
	if _, ok := b.secrets["GITHUB_TOKEN"]; !ok {
		if t := os.Getenv("GITHUB_TOKEN"); t != "" {
			b.secrets["GITHUB_TOKEN"] = t
		}
	}
	for _, file := range f.varFiles {
		kvs, err := readDotEnv(file)
		if err != nil {
			return nil, fmt.Errorf("--var-file: %w", err)
		}
		for k, v := range kvs {
			b.vars[k] = v
		}
	}
	env, err := f.envFiles()
	if err != nil {
		return nil, err
	}
	b.env = env
	for _, s := range f.vars {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--var %q: want NAME=VALUE", s)
		}
		b.vars[k] = v
	}
	for _, s := range f.inputs {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--input %q: want name=value", s)
		}
		b.inputs[k] = v
	}
	return b, nil
}

// workflowContexts builds github, inputs, vars and secrets for one workflow.
// The inputs of a workflow_dispatch are checked as GitHub's API checks them.
func (f *runFlags) workflowContexts(b *baseContexts, wf *workflow.Workflow, path, event string, payload *expr.Object, repo exec.Repo) (map[string]any, error) {
	inputs := map[string]any{}
	if event == "workflow_dispatch" {
		var err error
		if inputs, err = wf.DispatchInputs(b.inputs); err != nil {
			return nil, err
		}
		evIn := expr.NewObject(len(inputs))
		for _, k := range slices.Sorted(maps.Keys(inputs)) {
			evIn.Set(k, fmt.Sprint(inputs[k]))
		}
		payload = withInputs(payload, evIn)
	} else if ev := wf.Event(event); ev != nil && event == "workflow_call" {
		for _, in := range ev.Inputs {
			v, given := b.inputs[in.Name.Value]
			if !given && in.Default != nil {
				v = in.Default.Value
			}
			inputs[in.Name.Value] = typedInput(v, in.Type)
		}
	}
	for k, v := range b.inputs {
		if _, ok := inputs[k]; !ok {
			inputs[k] = v
		}
	}
	name := path
	if wf.Name != nil && wf.Name.Value != "" {
		name = wf.Name.Value
	}
	rel := path
	if r, err := filepath.Rel(repo.Root, mustAbs(path)); err == nil {
		rel = filepath.ToSlash(r)
	}
	token, _ := b.secrets["GITHUB_TOKEN"].(string)
	gh := exec.GitHubContext(exec.GitHubOptions{EventName: event, Event: payload, EventPath: f.eventPath, Repo: repo,
		Workflow: name, WorkflowFile: rel, RunID: b.runID, Token: token})
	return map[string]any{"github": gh, "inputs": inputs, "vars": b.vars, "secrets": b.secrets}, nil
}

func typedInput(v string, typ *workflow.String) any {
	if typ == nil {
		return v
	}
	switch typ.Value {
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b
		}
	case "number":
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n
		}
	}
	return v
}

func withInputs(payload, inputs *expr.Object) *expr.Object {
	out := payload.Clone()
	if _, ok := out.Get("inputs"); !ok {
		out.Set("inputs", inputs)
	}
	return out
}

// objectOf turns decoded JSON into objects, their keys sorted.
func objectOf(m map[string]any) *expr.Object {
	b, err := json.Marshal(m)
	if err != nil {
		return expr.NewObject(0)
	}
	v, _ := expr.ParseJSON(string(b))
	obj, _ := v.(*expr.Object)
	return obj
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// readEvent reads the -e event payload.
func readEvent(path string) (*expr.Object, error) {
	return readJSONObject("-e", path, "the event's webhook payload as a JSON object")
}

// readDotEnv reads a file of NAME=VALUE lines (the format of .env files,
// shared with vermont pool).
func readDotEnv(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return runfiles.ParseDotEnv(path, b)
}

// execute runs the plans concurrently, as GitHub runs the workflows one
// event triggers, and prints the results.
func (f *runFlags) execute(ctx context.Context, plans []runPlan, base *baseContexts, io stdio) int {
	var masker exec.Masker
	for _, v := range base.secrets {
		masker.Add(fmt.Sprint(v))
	}
	pr := newPrinter(io.out, f.json, isTerminal(io.out))
	backend, closeBackend, err := f.backend.open(ctx, host.New())
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return 1
	}
	defer closeBackend()
	repo := f.repo()
	opts := []exec.Option{exec.WithSink(pr), exec.WithMasker(&masker), exec.WithRepo(repo), exec.WithBind(f.bind),
		exec.WithDebug(f.debug), exec.WithPlatforms(platformMap(f.platforms)), exec.WithNode(f.node), exec.WithForceStop(io.force),
		exec.WithRunID(base.runID), exec.WithEnv(base.env)}
	if f.workDir != "" {
		opts = append(opts, exec.WithWorkDir(f.workDir))
	}
	if !f.noResults {
		opt, stop, err := f.startResults()
		if err != nil {
			fmt.Fprintf(io.err, "vermont run: %v\n", err)
			return 1
		}
		defer stop()
		opts = append(opts, opt)
	}
	res, err := f.backend.resolver(repo.Root, warnLogger(io.err))
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return 1
	}
	// One runner serves every workflow of the run: it holds only
	// configuration, and its jobs keep their state apart.
	runner, err := exec.New(backend, append(opts, exec.WithResolver(res))...)
	if err != nil {
		fmt.Fprintf(io.err, "vermont run: %v\n", err)
		return 1
	}
	groups := schedule.NewGroups()
	results := make([]*schedule.RunResult, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = schedule.New(schedule.WithLimit(f.concurrency), schedule.WithGroups(groups), schedule.WithForceStop(io.force)).Run(ctx, p.plan, runner)
		}()
	}
	wg.Wait()
	pr.summary()
	for _, r := range results {
		if r.Result != schedule.Success {
			return 1
		}
	}
	return 0
}

// startResults prepares the results service for the run on the loopback:
// artifacts live in a temporary directory removed at the end, caches in
// --cache-dir. It starts when the first action asks for it, so a run
// without actions pays nothing for it. Container steps reach it only with
// --network host.
func (f *runFlags) startResults() (exec.Option, func(), error) {
	cacheDir := f.cacheDir
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, nil, fmt.Errorf("no cache directory (give --cache-dir): %w", err)
		}
		cacheDir = filepath.Join(base, "vermont", "caches")
	}
	l := wiring.NewLazyResults("", cacheDir)
	return exec.WithResults(l, f.backend.network == "host"), l.Close, nil
}

func platformMap(list []string) map[string]string {
	m := map[string]string{}
	for _, p := range list {
		if k, v, ok := strings.Cut(p, "="); ok {
			m[k] = v
		}
	}
	return m
}

// printPlans prints what would run: workflows, jobs, legs, needs.
func printPlans(io stdio, plans []runPlan) {
	for _, p := range plans {
		fmt.Fprintf(io.out, "%s\n", p.file)
		for _, id := range p.plan.JobIDs() {
			line := "  " + id
			if needs := p.plan.Needs(id); len(needs) > 0 {
				line += "  (needs " + strings.Join(needs, ", ") + ")"
			}
			fmt.Fprintln(io.out, line)
			legs, err := p.plan.Legs(id)
			if err != nil {
				fmt.Fprintf(io.out, "    matrix known at run time: %v\n", err)
			}
			var names []string
			for _, l := range legs {
				names = append(names, legString(l))
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(io.out, "    %s\n", n)
			}
		}
	}
}

func legString(l schedule.Leg) string {
	parts := make([]string, 0, len(l.Keys))
	for _, k := range l.Keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, l.Values[k]))
	}
	return strings.Join(parts, " ")
}
