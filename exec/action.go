package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// maxActionDepth bounds composite actions inside composite actions. GitHub
// stops at 10 levels.
const maxActionDepth = 10

// ErrNoContainers is reported for a Docker action when the job's backend
// cannot run containers (the host backend without containerd).
var ErrNoContainers = errors.New("this action runs in a container, and the job's backend cannot run containers; run Vermont with containerd (see `vermont run --help`, -P and --containerd-address)")

// runUses runs a uses: step.
func (j *jobRun) runUses(ctx context.Context, st *workflow.Step, id, name string, f *frame) stepResult {
	uses := st.Uses.Value
	scope := j.scope(f, "")
	with, err := j.evalMap(st.With, scope)
	if err != nil {
		j.stepLog(name, "error", fmt.Sprintf("with: %v", err))
		return stepResult{outcome: Failure}
	}
	if image, ok := strings.CutPrefix(uses, "docker://"); ok {
		args := splitArgs(with["args"])
		var entry []string
		if e := with["entrypoint"]; e != "" {
			entry = []string{e}
		}
		env := inputEnv(with)
		j.addResultsEnv(env, true)
		return j.runContainer(ctx, name, id, f, image, entry, args, env)
	}
	if isCheckout(uses) && j.ownRepository(with["repository"]) {
		return j.checkoutLocal(ctx, name, with["path"])
	}
	if j.r.resolver == nil {
		j.stepLog(name, "error", fmt.Sprintf("cannot run %s: no action resolver is configured", uses))
		return stepResult{outcome: Failure}
	}
	if isCheckout(uses) {
		dest := j.workdir(with["path"])
		if err := j.r.resolver.Checkout(ctx, with["repository"], with["ref"], dest); err != nil {
			j.stepLog(name, "error", err.Error())
			return stepResult{outcome: Failure}
		}
		return stepResult{outcome: Success}
	}
	dir, meta, err := j.r.resolver.Action(ctx, uses, j.ws)
	if err != nil {
		j.stepLog(name, "error", err.Error())
		return stepResult{outcome: Failure}
	}
	inputs, err := j.actionInputs(meta, with, sortedMapKeys(with, st.With), scope)
	if err != nil {
		j.stepLog(name, "error", fmt.Sprintf("%s: %v", uses, err))
		return stepResult{outcome: Failure}
	}
	af := &frame{actionPath: dir, actionRef: uses, env: f.env, envKeys: f.envKeys, inputs: inputs, depth: f.depth, key: f.key}
	runs := meta.Runs
	if runs == nil || runs.Using.Value == "" {
		j.stepLog(name, "error", fmt.Sprintf("%s: action.yml has no runs.using", uses))
		return stepResult{outcome: Failure}
	}
	switch using := runs.Using.Value; {
	case using == "composite":
		return j.runComposite(ctx, name, meta, af)
	case strings.HasPrefix(using, "node"):
		return j.runNode(ctx, name, id, meta, af)
	case using == "docker":
		return j.runDockerAction(ctx, name, id, meta, af)
	default:
		j.stepLog(name, "error", fmt.Sprintf("%s: runs.using %q is not supported", uses, using))
		return stepResult{outcome: Failure}
	}
}

func isCheckout(uses string) bool {
	return strings.HasPrefix(strings.ToLower(uses), "actions/checkout@")
}

// ownRepository reports whether actions/checkout's repository: input names
// the workflow's own repository (empty does).
func (j *jobRun) ownRepository(repo string) bool {
	own, _ := j.github.Get("repository")
	return repo == "" || strings.EqualFold(repo, expr.ToString(own))
}

// checkoutLocal satisfies actions/checkout of the workflow's own
// repository from the local working tree, as it is (uncommitted changes
// included), without network: what act users expect.
func (j *jobRun) checkoutLocal(ctx context.Context, name, path string) stepResult {
	if !j.r.hasRepo {
		j.stepLog(name, "error", "actions/checkout: there is no local repository to check out")
		return stepResult{outcome: Failure}
	}
	dest := j.workdir(path)
	if j.r.bind && filepath.Clean(dest) == filepath.Clean(j.r.repo.Root) {
		return stepResult{outcome: Success}
	}
	root, err := j.r.repoTree(ctx)
	if err != nil {
		j.stepLog(name, "error", fmt.Sprintf("actions/checkout: %v", err))
		return stepResult{outcome: Failure}
	}
	if err := copyTree(root, dest); err != nil {
		j.stepLog(name, "error", fmt.Sprintf("actions/checkout: %v", err))
		return stepResult{outcome: Failure}
	}
	if j.r.bind {
		return stepResult{outcome: Success} // never chown the user's own tree
	}
	if err := j.owner.own(dest); err != nil {
		j.stepLog(name, "error", fmt.Sprintf("actions/checkout: %v", err))
		return stepResult{outcome: Failure}
	}
	return stepResult{outcome: Success}
}

// copyTree copies the files under src into dst, keeping modes and links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(target)
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			return copyFile(p, target, info.Mode().Perm())
		}
		return nil // sockets, devices: not copied
	})
}

func copyFile(src, dst string, mode fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// actionInputs merges with: (its keys in order in withKeys) and the action's
// input defaults, warns about missing required and unexpected inputs, and
// returns the inputs context.
func (j *jobRun) actionInputs(meta *workflow.Action, with map[string]string, withKeys []string, scope *expr.Scope) (*expr.Object, error) {
	inputs, missing, unexpected, err := j.mergeInputs(meta, with, withKeys, scope)
	if err != nil {
		return nil, err
	}
	if len(unexpected) > 0 {
		valid := make([]string, 0, len(meta.Inputs))
		for _, in := range meta.Inputs {
			valid = append(valid, in.Name.Value)
		}
		// The runner's words (ActionRunner.ValidateInputs).
		j.logf("warning", "Unexpected input(s) '%s', valid inputs are ['%s']", strings.Join(unexpected, "', '"), strings.Join(valid, "', '"))
	}
	if len(missing) > 0 {
		// GitHub's runner does not enforce required: inputs; @actions/core's
		// getInput(name, {required: true}) fails with these words. Warn.
		j.logf("warning", "Input required and not supplied: %s", strings.Join(missing, ", "))
	}
	return inputs, nil
}

// mergeInputs merges with: and the action's input defaults into the
// inputs context, and lists required inputs not given and inputs given
// but not declared (sorted). Undeclared inputs are passed on, as GitHub
// does. The order is the runner's: with:'s keys as written, then the
// declared inputs it does not give, in action.yml's order, each with its
// default or "" (actions/runner src/Runner.Worker/ActionRunner.cs, "Merge
// the default inputs from the definition").
func (j *jobRun) mergeInputs(meta *workflow.Action, with map[string]string, withKeys []string, scope *expr.Scope) (inputs *expr.Object, missing, unexpected []string, err error) {
	inputs = expr.NewObject(len(with) + len(meta.Inputs))
	declared := map[string]bool{}
	for _, in := range meta.Inputs {
		declared[strings.ToLower(in.Name.Value)] = true
	}
	for _, k := range withKeys {
		inputs.Set(k, with[k])
		if !declared[strings.ToLower(k)] {
			unexpected = append(unexpected, k)
		}
	}
	for _, in := range meta.Inputs {
		if _, given := inputs.Get(in.Name.Value); given {
			continue
		}
		v := ""
		switch {
		case in.Default != nil:
			if v, err = j.evalString(in.Default.Value, scope); err != nil {
				return nil, nil, nil, fmt.Errorf("input %s default: %w", in.Name.Value, err)
			}
		case in.Required != nil && in.Required.Value:
			missing = append(missing, in.Name.Value)
		}
		inputs.Set(in.Name.Value, v)
	}
	sort.Strings(unexpected)
	return inputs, missing, unexpected, nil
}

// inputEnv is INPUT_<NAME> for each input, formed as the runner forms it:
// upper case, spaces replaced by underscores.
func inputEnv(inputs map[string]string) map[string]string {
	env := make(map[string]string, len(inputs))
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(k, " ", "_"))] = v
	}
	return env
}

func inputsAsStrings(inputs any) map[string]string {
	m := map[string]string{}
	if fields, ok := expr.ObjectFields(inputs); ok {
		for k, v := range fields {
			m[k] = expr.ToString(v)
		}
	}
	return m
}

// runComposite runs a composite action's steps in a frame of their own:
// the inputs context, a steps context, github.action_path.
func (j *jobRun) runComposite(ctx context.Context, name string, meta *workflow.Action, f *frame) stepResult {
	if f.depth >= maxActionDepth {
		j.stepLog(name, "error", fmt.Sprintf("composite actions are nested more than %d deep", maxActionDepth))
		return stepResult{outcome: Failure}
	}
	f.depth++
	f.steps = expr.NewObject(len(meta.Runs.Steps))
	saved := j.failed
	j.failed = false
	j.runSteps(ctx, meta.Runs.Steps, f)
	failed := j.failed
	j.failed = saved
	res := stepResult{outcome: Success}
	if failed {
		res.outcome = Failure
	} else if ctx.Err() != nil {
		res.outcome = Cancelled
	}
	scope := j.scope(f, "")
	for _, o := range meta.Outputs {
		if o.Value == nil {
			continue
		}
		v, err := j.evalString(o.Value.Value, scope)
		if err != nil {
			j.stepLog(name, "warning", fmt.Sprintf("outputs.%s: %v", o.Name.Value, err))
			continue
		}
		if res.outputs == nil {
			res.outputs = map[string]string{}
		}
		res.outputs[o.Name.Value] = v
	}
	return res
}

// runNode runs a JavaScript action: its pre (unless the job already ran
// it at start, see runPres), main, and post queued for the end of the job.
// As on GitHub, a ./path action gets no pre, only a warning: the runner
// finds such actions too late.
func (j *jobRun) runNode(ctx context.Context, name, id string, meta *workflow.Action, f *frame) stepResult {
	node, err := j.nodePath(meta.Runs.Using.Value)
	if err != nil {
		j.stepLog(name, "error", err.Error())
		return stepResult{outcome: Failure}
	}
	state, preDone := j.pres[f.key]
	if !preDone {
		state = map[string]string{}
	}
	run := func(ctx context.Context, label, script string) stepResult {
		return j.runNodeScript(ctx, label, id, f, node, filepath.Join(f.actionPath, script), state)
	}
	runs := meta.Runs
	switch {
	case preDone || runs.Pre == nil || runs.Pre.Value == "":
	case strings.HasPrefix(f.actionRef, "./"):
		j.stepLog(name, "warning", fmt.Sprintf("`pre` execution is not supported for local action from '%s'", strings.TrimPrefix(f.actionRef, "./")))
	case j.holds(runs.PreIf, "always()", f):
		if res := run(ctx, "Pre "+name, runs.Pre.Value); res.outcome != Success {
			return res
		}
	}
	if runs.Main == nil {
		j.stepLog(name, "error", "runs.main is missing")
		return stepResult{outcome: Failure}
	}
	res := run(ctx, name, runs.Main.Value)
	if runs.Post != nil && runs.Post.Value != "" {
		post := runs.Post.Value
		postIf := runs.PostIf
		j.posts = append(j.posts, func(ctx context.Context) {
			if !j.holds(postIf, "always()", f) {
				return
			}
			if ctx.Err() != nil {
				var cancel context.CancelFunc
				ctx, cancel = j.r.afterCancel(ctx)
				defer cancel()
			}
			label := "Post " + name
			j.r.emit(Event{Kind: StepStarted, Job: j.name, Step: label})
			r := run(ctx, label, post)
			if r.outcome == Failure {
				j.failed = true
			}
			j.r.emit(Event{Kind: StepFinished, Job: j.name, Step: label, Result: r.outcome, Outcome: r.outcome})
		})
	}
	return res
}

// runPres runs at job start, in step order, the pre of every JavaScript
// action among the job's steps that can be found before any step has run:
// owner/repo@ref and $/path ones, as GitHub's "Set up job" does for the
// actions it downloads. Inside such an action that is composite, the same
// goes for its steps, to any depth: GitHub runs those embedded pres at job
// start too, as the composite's pre. The pre-if is evaluated then (the
// step's if is not: GitHub does not either). What a pre saves reaches its
// main and post through j.pres. A failed pre fails the job. An action that
// cannot be resolved now is left for its main step to report.
func (j *jobRun) runPres(ctx context.Context, steps []*workflow.Step) {
	if j.r.resolver == nil {
		return
	}
	j.pres = map[string]map[string]string{}
	j.runPresIn(ctx, steps, nil)
}

// runPresIn runs the pres of steps, the job's (parent nil) or those of the
// composite action whose frame is parent.
func (j *jobRun) runPresIn(ctx context.Context, steps []*workflow.Step, parent *frame) {
	for i, st := range steps {
		if st.Uses == nil || isCheckout(st.Uses.Value) {
			continue
		}
		ref, err := workflow.ParseReference(st.Uses.Value)
		if err != nil || (ref.Kind != workflow.RepoRef && ref.Kind != workflow.SelfRef) {
			continue
		}
		dir, meta, err := j.r.resolver.Action(ctx, st.Uses.Value, j.ws)
		if err != nil || meta.Runs == nil {
			continue
		}
		composite := meta.Runs.Using.Value == "composite"
		hasPre := meta.Runs.IsNode() && meta.Runs.Pre != nil && meta.Runs.Pre.Value != ""
		if !composite && !hasPre {
			continue
		}
		// The step's frame and its action's, as execStep and runUses
		// make them; an error here is left for the step to report.
		sf, err := j.stepFrame(st, stepKey(parent, i), parent)
		if err != nil {
			continue
		}
		scope := j.scope(sf, "")
		with, err := j.evalMap(st.With, scope)
		if err != nil {
			continue
		}
		inputs, _, _, err := j.mergeInputs(meta, with, sortedMapKeys(with, st.With), scope)
		if err != nil {
			continue
		}
		f := &frame{actionPath: dir, actionRef: st.Uses.Value, env: sf.env, envKeys: sf.envKeys, inputs: inputs, depth: sf.depth, key: sf.key}
		if composite {
			if f.depth < maxActionDepth {
				f.depth++
				f.steps = expr.NewObject(len(meta.Runs.Steps))
				j.runPresIn(ctx, meta.Runs.Steps, f)
			}
			continue
		}
		j.runPre(ctx, st, "Pre "+j.stepName(st, parent), meta, f)
	}
}

// runPre runs one JavaScript action's pre, if its pre-if holds, and keeps
// what it saves for the action's main and post.
func (j *jobRun) runPre(ctx context.Context, st *workflow.Step, label string, meta *workflow.Action, f *frame) {
	node, err := j.nodePath(meta.Runs.Using.Value)
	if err != nil {
		return // main reports it
	}
	state := map[string]string{}
	j.pres[f.key] = state
	if !j.holds(meta.Runs.PreIf, "always()", f) {
		return
	}
	id := "pre"
	if st.ID != nil && st.ID.Value != "" {
		id = st.ID.Value
	}
	j.r.emit(Event{Kind: StepStarted, Job: j.name, Step: label})
	res := j.runNodeScript(ctx, label, id, f, node, filepath.Join(f.actionPath, meta.Runs.Pre.Value), state)
	if res.outcome == Failure {
		j.failed = true
	}
	j.r.emit(Event{Kind: StepFinished, Job: j.name, Step: label, Result: res.outcome, Outcome: res.outcome})
}

// nodePath finds the node that runs a JavaScript action: the configured
// one (WithNode), else node in the PATH the job's steps see (the base
// environment's, after GITHUB_PATH). It does not fall back to Vermont's own
// PATH: a job given an environment without node must say so, not run some
// other node.
func (j *jobRun) nodePath(using string) (string, error) {
	if j.r.node != "" {
		p, err := osexec.LookPath(j.r.node)
		if err != nil {
			return "", fmt.Errorf("runs.using %s: the configured node %s cannot be run: %w", using, j.r.node, err)
		}
		return p, nil
	}
	if p, err := LookPath("node", []string{"PATH=" + j.withPath(envValue(j.r.baseEnv, "PATH"))}); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("runs.using %s: no node found on PATH; install Node.js %s or name a node binary with --node PATH", using, strings.TrimPrefix(using, "node"))
}

// runNodeScript runs one node entry point of an action with its inputs as
// INPUT_<NAME> and its saved state as STATE_<name>, and adds what it saves
// to state.
func (j *jobRun) runNodeScript(ctx context.Context, label, id string, f *frame, node, script string, state map[string]string) stepResult {
	env := inputEnv(inputsAsStrings(f.inputs))
	for k, v := range f.env {
		env[k] = v
	}
	for k, v := range state {
		env["STATE_"+k] = v
	}
	j.addResultsEnv(env, j.image != "")
	sf := *f
	sf.env = env
	return j.runProcess(ctx, label, id, &sf, []string{node, script}, j.ws, state)
}

// holds evaluates a pre-if/post-if (default def) in the action's frame.
func (j *jobRun) holds(cond *workflow.String, def string, f *frame) bool {
	src := def
	if cond != nil && cond.Value != "" {
		src = cond.Value
	}
	prog, err := j.r.condition(src)
	if err != nil {
		j.logf("warning", "%v", err)
		return false
	}
	v, err := prog.Eval(j.scope(f, ""))
	return err == nil && expr.Truthy(v)
}

// runDockerAction runs a runs.using: docker action with a prebuilt image.
func (j *jobRun) runDockerAction(ctx context.Context, name, id string, meta *workflow.Action, f *frame) stepResult {
	runs := meta.Runs
	if runs.Image == nil {
		j.stepLog(name, "error", "runs.image is missing")
		return stepResult{outcome: Failure}
	}
	image := runs.Image.Value
	if !strings.HasPrefix(image, "docker://") {
		j.stepLog(name, "error", fmt.Sprintf("this action builds its image from %s, and Vermont has no image builder: build the image elsewhere, import it with `vermont image import`, and use `uses: docker://IMAGE`", image))
		return stepResult{outcome: Failure}
	}
	scope := j.scope(f, "")
	var args []string
	for _, a := range runs.Args {
		v, err := j.evalString(a.Value, scope)
		if err != nil {
			j.stepLog(name, "error", err.Error())
			return stepResult{outcome: Failure}
		}
		args = append(args, v)
	}
	env := inputEnv(inputsAsStrings(f.inputs))
	if m, err := j.evalMap(runs.Env, scope); err == nil {
		for k, v := range m {
			env[k] = v
		}
	}
	j.addResultsEnv(env, true) // a Docker action always runs in a container
	var entry []string
	if runs.Entrypoint != nil && runs.Entrypoint.Value != "" {
		entry = []string{runs.Entrypoint.Value}
	}
	return j.runContainer(ctx, name, id, f, strings.TrimPrefix(image, "docker://"), entry, args, env)
}

// runContainer runs a one-off container for a Docker action, with the
// step's env and extra (its inputs and the action's env) on top.
func (j *jobRun) runContainer(ctx context.Context, name, id string, f *frame, image string, entry, args []string, extra map[string]string) stepResult {
	cr, ok := j.sr.(ContainerRunner)
	if !ok {
		j.stepLog(name, "error", ErrNoContainers.Error())
		return stepResult{outcome: Failure}
	}
	cf := &frame{}
	if f != nil {
		*cf = *f
	}
	cf.env = make(map[string]string, len(cf.env)+len(extra))
	if f != nil {
		for k, v := range f.env {
			cf.env[k] = v
		}
	}
	for k, v := range extra {
		cf.env[k] = v
	}
	return j.runWith(ctx, name, id, cf, true, nil, func(env []string, stdout, stderr io.Writer) (int, error) {
		return cr.RunContainer(ctx, ContainerProcess{Image: image, Entrypoint: entry, Args: args, Env: env, Dir: j.ws,
			Mounts: []string{j.dir, j.ws, j.tools}, Stdout: stdout, Stderr: stderr})
	})
}

// splitArgs splits with.args like a shell would, honouring quotes.
func splitArgs(s string) []string {
	var args []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote, in = r, true
		case quote == 0 && (r == ' ' || r == '\t' || r == '\n'):
			if in {
				args = append(args, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		args = append(args, cur.String())
	}
	return args
}
