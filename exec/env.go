package exec

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// githubContext is the plan's github context with what is specific to this
// job: job, workspace, and the paths of this runner.
func (j *jobRun) githubContext() *expr.Object {
	var g *expr.Object
	switch base := j.job.Contexts["github"].(type) {
	case *expr.Object:
		g = base.Clone()
	case map[string]any: // a library caller's own context
		g = expr.NewObject(len(base) + 4)
		for _, k := range slices.Sorted(maps.Keys(base)) {
			g.Set(k, base[k])
		}
	default:
		g = expr.NewObject(4)
	}
	g.Set("job", j.job.ID)
	g.Set("workspace", j.ws)
	if _, ok := g.Get("event"); !ok {
		g.Set("event", expr.NewObject(0))
	}
	return g
}

// initEnv sets the run's env (WithEnv), then evaluates the workflow's and
// the job's env, in that order, each seeing the env before it.
func (j *jobRun) initEnv() error {
	for _, k := range slices.Sorted(maps.Keys(j.r.runEnv)) {
		j.setEnv(k, j.r.runEnv[k])
	}
	for _, m := range []*workflow.StringMap{j.job.Workflow.Env, j.job.Def.Env} {
		vals, err := j.evalMap(m, j.scope(nil, ""))
		if err != nil {
			return fmt.Errorf("env: %w", err)
		}
		for _, k := range sortedMapKeys(vals, m) {
			j.setEnv(k, vals[k])
		}
	}
	return nil
}

func (j *jobRun) setEnv(k, v string) {
	if _, ok := j.env[k]; !ok {
		j.envKeys = append(j.envKeys, k)
	}
	j.env[k] = v
}

// sortedMapKeys returns vals' keys in source order when the map came from
// the file, else sorted.
func sortedMapKeys(vals map[string]string, m *workflow.StringMap) []string {
	var keys []string
	if m != nil && m.Expr == nil {
		for _, kv := range m.Entries {
			keys = append(keys, kv.Key.Value)
		}
		return keys
	}
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// frame is what a step sees beyond the job: a composite action's inputs,
// steps context and action path, and the step's own env.
type frame struct {
	inputs     any // the inputs context of a composite action's steps
	steps      *expr.Object
	actionPath string
	env        map[string]string // step env, already evaluated
	envKeys    []string          // env's keys in the order they were set
	actionRef  string
	depth      int    // composite nesting
	key        string // the step's place in the job: "2", or "2/0" inside the composite at step 2 (stepKey)
}

// actionRepository is the owner/repo and ref of the action whose steps
// run in f ("actions/checkout", "v4"), and empty for ./path and $/path
// actions, as the runner sets github.action_repository and
// github.action_ref for an action and, through the copy of the github
// context each embedded step gets, for every step of a composite action
// (actions/runner src/Runner.Worker/ActionRunner.cs, "Set
// GITHUB_ACTION_REPOSITORY"; Handlers/CompositeActionHandler.cs).
func (f *frame) actionRepository() (repo, ref string) {
	r, err := workflow.ParseReference(f.actionRef)
	if err != nil || r.Kind != workflow.RepoRef {
		return "", ""
	}
	return r.Owner + "/" + r.Repo, r.Ref
}

// scope builds the expression scope for the job at this moment.
func (j *jobRun) scope(f *frame, status Result) *expr.Scope {
	ctxs := j.job.BaseContexts()
	gh := j.github
	steps := j.steps
	if f != nil {
		if f.inputs != nil {
			ctxs["inputs"] = f.inputs
		}
		if f.steps != nil {
			steps = f.steps
		}
		if f.actionPath != "" {
			gh = j.github.Clone()
			gh.Set("action_path", f.actionPath)
			repo, ref := f.actionRepository()
			gh.Set("action_repository", repo)
			gh.Set("action_ref", ref)
		}
	}
	ctxs["github"] = gh
	ctxs["env"] = j.envContext(f)
	ctxs["steps"] = steps
	ctxs["runner"] = j.runnerContext()
	if status == "" {
		status = Success
		if j.failed {
			status = Failure
		}
	}
	job := expr.NewObject(3) // in the order of the contexts reference's example
	job.Set("status", string(status))
	if j.container != nil {
		job.Set("container", j.container)
	}
	if j.services != nil {
		job.Set("services", j.services)
	}
	ctxs["job"] = job
	return &expr.Scope{
		Contexts:  ctxs,
		Failed:    j.failed,
		Cancelled: j.cancelled(),
		HashFiles: func(p []string) (string, error) { return expr.HashFiles(j.ws, p) },
	}
}

// envContext is the env context in frame f: the workflow's, the job's and
// GITHUB_ENV's variables, then the step's, each in the order it was set.
// Its names are case-sensitive except on Windows, as the runner makes it
// (actions/runner src/Runner.Worker/ExecutionContext.cs: "env" is a
// CaseSensitiveDictionaryContextData unless the OS is Windows).
func (j *jobRun) envContext(f *frame) *expr.Object {
	n := len(j.envKeys)
	if f != nil {
		n += len(f.envKeys)
	}
	env := expr.NewCaseSensitiveObject(n)
	if runnerOS() == "Windows" {
		env = expr.NewObject(n)
	}
	for _, k := range j.envKeys {
		env.Set(k, j.env[k])
	}
	if f != nil {
		for _, k := range f.envKeys {
			env.Set(k, f.env[k])
		}
	}
	return env
}

// runnerContext is the runner context, its keys in the order of the
// contexts reference's example.
func (j *jobRun) runnerContext() *expr.Object {
	debug := ""
	if j.r.debug {
		debug = "1"
	}
	o := expr.NewObject(7)
	o.Set("os", runnerOS())
	o.Set("arch", runnerArch())
	o.Set("name", "vermont")
	o.Set("tool_cache", j.tools)
	o.Set("temp", j.temp)
	o.Set("environment", "self-hosted")
	o.Set("debug", debug)
	return o
}

// evalString evaluates a template to a string.
func (j *jobRun) evalString(src string, scope *expr.Scope) (string, error) {
	if !strings.Contains(src, "${{") {
		return src, nil
	}
	t, err := j.r.template(src)
	if err != nil {
		return "", err
	}
	return t.Eval(scope)
}

// evalMap evaluates every value of a string map; a map written as one
// expression must give an object.
func (j *jobRun) evalMap(m *workflow.StringMap, scope *expr.Scope) (map[string]string, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]string, len(m.Entries))
	if m.Expr != nil {
		t, err := j.r.template(m.Expr.Value)
		if err != nil {
			return nil, err
		}
		v, err := t.EvalValue(scope)
		if err != nil {
			return nil, err
		}
		fields, ok := expr.ObjectFields(v)
		if !ok {
			return nil, fmt.Errorf("%s: the expression must give an object", m.Expr.Pos)
		}
		for k, x := range fields {
			out[k] = expr.ToString(x)
		}
		return out, nil
	}
	for _, kv := range m.Entries {
		v, err := j.evalString(kv.Value.Value, scope)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", kv.Value.Pos, kv.Key.Value, err)
		}
		out[kv.Key.Value] = v
	}
	return out, nil
}

func (j *jobRun) evalBool(b *workflow.Bool, def bool, scope *expr.Scope) (bool, error) {
	if b == nil {
		return def, nil
	}
	if !b.IsExpr() {
		return b.Value, nil
	}
	t, err := j.r.template(b.Expr)
	if err != nil {
		return def, err
	}
	v, err := t.EvalValue(scope)
	if err != nil {
		return def, err
	}
	return expr.Truthy(v), nil
}

func (j *jobRun) floatValue(f *workflow.Float) (float64, error) {
	if !f.IsExpr() {
		return f.Value, nil
	}
	t, err := j.r.template(f.Expr)
	if err != nil {
		return 0, err
	}
	v, err := t.EvalValue(j.scope(nil, ""))
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		var n float64
		if _, err := fmt.Sscan(x, &n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: want a number, got %v", f.Pos, v)
}

// processEnv is the complete environment of a step's process: the base
// environment (on the host only, not in a container), GitHub's default variables, the job's env
// (with GITHUB_ENV), the step's env, and PATH with GITHUB_PATH in front.
func (j *jobRun) processEnv(f *frame, stepID string, files *commandFiles, inContainer bool) []string {
	m := map[string]string{}
	if !inContainer {
		for _, kv := range j.r.baseEnv {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = v
			}
		}
	}
	for k, v := range j.defaultEnv(f, stepID, files) {
		m[k] = v
	}
	for _, k := range j.envKeys {
		m[k] = j.env[k]
	}
	if f != nil {
		for k, v := range f.env {
			m[k] = v
		}
	}
	if len(j.path) > 0 {
		base := m["PATH"]
		if base == "" && inContainer {
			base = containerPath
		}
		m["PATH"] = j.withPath(base)
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// containerPath is the PATH steps in a container get after GITHUB_PATH's
// entries: the image's own PATH is not known here.
const containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// withPath puts GITHUB_PATH's entries, newest first, before base.
func (j *jobRun) withPath(base string) string {
	dirs := append([]string(nil), j.path...)
	if base != "" {
		dirs = append(dirs, base)
	}
	return strings.Join(dirs, string(os.PathListSeparator))
}

// envValue is key's value in env (KEY=VALUE entries; PATH-like keys match
// case-insensitively, as on Windows).
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, key) {
			v = val
		}
	}
	return v
}

// defaultEnv are the variables GitHub sets for every step ("Store
// information in variables", "Default environment variables").
func (j *jobRun) defaultEnv(f *frame, stepID string, files *commandFiles) map[string]string {
	str := func(k string) string {
		v, _ := j.github.Get(k)
		return expr.ToString(v)
	}
	debug := ""
	if j.r.debug {
		debug = "1"
	}
	m := map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true",
		"GITHUB_ACTION":              stepID,
		"GITHUB_ACTOR":               str("actor"),
		"GITHUB_ACTOR_ID":            str("actor_id"),
		"GITHUB_API_URL":             str("api_url"),
		"GITHUB_BASE_REF":            str("base_ref"),
		"GITHUB_EVENT_NAME":          str("event_name"),
		"GITHUB_EVENT_PATH":          str("event_path"),
		"GITHUB_GRAPHQL_URL":         str("graphql_url"),
		"GITHUB_HEAD_REF":            str("head_ref"),
		"GITHUB_JOB":                 j.job.ID,
		"GITHUB_REF":                 str("ref"),
		"GITHUB_REF_NAME":            str("ref_name"),
		"GITHUB_REF_PROTECTED":       "false",
		"GITHUB_REF_TYPE":            str("ref_type"),
		"GITHUB_REPOSITORY":          str("repository"),
		"GITHUB_REPOSITORY_ID":       str("repository_id"),
		"GITHUB_REPOSITORY_OWNER":    str("repository_owner"),
		"GITHUB_RETENTION_DAYS":      "90",
		"GITHUB_RUN_ATTEMPT":         str("run_attempt"),
		"GITHUB_RUN_ID":              str("run_id"),
		"GITHUB_RUN_NUMBER":          str("run_number"),
		"GITHUB_SERVER_URL":          str("server_url"),
		"GITHUB_SHA":                 str("sha"),
		"GITHUB_TRIGGERING_ACTOR":    str("triggering_actor"),
		"GITHUB_WORKFLOW":            str("workflow"),
		"GITHUB_WORKFLOW_REF":        str("workflow_ref"),
		"GITHUB_WORKFLOW_SHA":        str("workflow_sha"),
		"GITHUB_WORKSPACE":           j.ws,
		"RUNNER_ARCH":                runnerArch(),
		"RUNNER_DEBUG":               debug,
		"RUNNER_ENVIRONMENT":         "self-hosted",
		"RUNNER_NAME":                "vermont",
		"RUNNER_OS":                  runnerOS(),
		"RUNNER_TEMP":                j.temp,
		"RUNNER_TOOL_CACHE":          j.tools,
		"RUNNER_WORKSPACE":           filepath.Dir(j.ws),
		"ACTIONS_RUNTIME_URL":        "",
		"ACTIONS_CACHE_URL":          "",
		"GITHUB_REPOSITORY_OWNER_ID": str("repository_owner_id"),
	}
	if f != nil && f.actionPath != "" {
		m["GITHUB_ACTION_PATH"] = f.actionPath
		m["GITHUB_ACTION_REPOSITORY"], m["GITHUB_ACTION_REF"] = f.actionRepository()
	}
	if files != nil {
		m["GITHUB_ENV"] = files.env
		m["GITHUB_OUTPUT"] = files.output
		m["GITHUB_PATH"] = files.path
		m["GITHUB_STATE"] = files.state
		m["GITHUB_STEP_SUMMARY"] = files.summary
	}
	return m
}
