//go:build !windows

package exec_test

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/actions/actionstest"
	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/schedule"
)

// actionsRoot is testdata/actions-run, made absolute: the repository that
// the workflows there belong to, with the local actions they use.
func actionsRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "testdata", "actions-run"))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// ci reports whether missing test dependencies must fail the test rather
// than skip it.
func ci() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// unavailable fails the test under CI=true and skips it otherwise, with
// the same clear message either way.
func unavailable(t *testing.T, msg string) {
	t.Helper()
	if ci() {
		t.Fatalf("%s (CI=true: this is a failure, not a skip)", msg)
	}
	t.Skipf("SKIP: %s", msg)
}

// needNode returns `node --version`, or ends the test when there is no node.
func needNode(t *testing.T) string {
	t.Helper()
	out, err := osexec.Command("node", "--version").Output()
	if err != nil {
		unavailable(t, "the JavaScript action tests need node on PATH: "+err.Error()+"; install Node.js 20 or newer (Debian: apt-get install nodejs npm, or run `go run ./internal/testall`)")
	}
	return strings.TrimSpace(string(out))
}

// needActionsCore ends the test when the real @actions/core package has
// not been installed into the JavaScript test action.
func needActionsCore(t *testing.T) {
	t.Helper()
	needNode(t)
	pkg := filepath.Join(actionsRoot(t), "js-action", "node_modules", "@actions", "core", "package.json")
	if _, err := os.Stat(pkg); err != nil {
		unavailable(t, "the JavaScript action tests need the @actions/core package from the npm registry in testdata/actions-run/js-action/node_modules, and it is missing; "+
			"install it with `go run ./internal/testall` or `npm install --no-audit --no-fund --no-save --no-package-lock --prefix testdata/actions-run/js-action @actions/core@3`")
	}
}

// localResolver resolves ./ actions in the workspace and $/ actions in
// testdata/actions-run, offline, so that no test here touches a network.
func localResolver(t *testing.T) *actions.Resolver {
	t.Helper()
	res, err := actions.NewResolver(actions.WithCacheDir(t.TempDir()), actions.WithRepoDir(actionsRoot(t)), actions.WithOffline(true))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// started returns the names of a job's steps in the order they started.
func (r run) started(job string) []string {
	var out []string
	for _, e := range r.events {
		if e.Kind == exec.StepStarted && e.Job == job {
			out = append(out, e.Step)
		}
	}
	return out
}

// jobSummary returns the GITHUB_STEP_SUMMARY markdown a job finished with.
func (r run) jobSummary(job string) string {
	for _, e := range r.events {
		if e.Kind == exec.JobFinished && e.Job == job {
			return e.Summary
		}
	}
	return ""
}

// everything renders every string of every event, outputs and summaries
// included: what a secret must never be part of.
func (r run) everything() string {
	var b strings.Builder
	for _, e := range r.events {
		b.WriteString(strings.Join([]string{e.Workflow, e.Job, e.Step, e.Stream, e.Level, e.Line, e.Summary}, "|"))
		for k, v := range e.Outputs {
			b.WriteString("|" + k + "=" + v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// actionCase is one workflow of testdata/actions-run and what running it
// must show.
type actionCase struct {
	name    string
	file    string
	needs   func(t *testing.T) // skips or fails the test when a dependency is missing
	baseEnv []string
	results map[string]schedule.Result // job → result
	lines   map[string][]string        // job → log lines it must show ("level: line")
	absent  []string                   // text no event may contain
	check   func(t *testing.T, r run)
}

func TestActionsLocal(t *testing.T) {
	t.Parallel()
	root := actionsRoot(t)
	nodeVersion := ""
	if out, err := osexec.Command("node", "--version").Output(); err == nil {
		nodeVersion = strings.TrimSpace(string(out))
	}
	cases := []actionCase{
		{
			name:  "composite",
			file:  "composite.yml",
			needs: func(t *testing.T) { needNode(t) }, // ./nested uses the JavaScript js-cond
			results: map[string]schedule.Result{
				"composite": schedule.Success, "missing-input": schedule.Success, "recursive": schedule.Failure,
				"no-shell": schedule.Failure,
			},
			lines: map[string][]string{
				"composite": {
					// Inputs: a default, a given value, the inputs context in
					// if:, and no INPUT_ variables (GitHub sets none for
					// composite run steps); the uses step's env reaches the
					// inner steps.
					"composite says Hello, world",
					"step env STEP_ENV=from the uses step INPUT_WHO=unset",
					"quiet world",
					"composite says Hi, Vermont",
					"step env STEP_ENV=unset INPUT_WHO=unset",
					"LOUD Vermont",
					// The action's own files, github.action_path ==
					// GITHUB_ACTION_PATH, shell: python.
					"tool.sh ran from composite repository=[] ref=[]",
					"action path ok: composite",
					"python in composite for world",
					"python in composite for Vermont",
					// Outputs mapped from inner steps.
					"outputs Hello, world / Hi, Vermont / script beside action.yml",
					// Nested: a composite in a composite, its outputs, and a
					// JavaScript action inside with its post at job end.
					"composite says Nested hello, deep",
					"inner said Nested hello, deep (success)",
					"js-cond main ran with node " + nodeVersion,
					"nested result=Nested hello, deep! outcome=success",
					"js-cond post ran",
				},
				"missing-input": {
					"warning: Input required and not supplied: who",
					"warning: Unexpected input(s) 'not-declared', valid inputs are ['who', 'greeting', 'shout-it']",
					"composite says Bye, ",
				},
				"recursive": {
					"error: composite actions are nested more than 10 deep",
					"after recursion outcome=failure",
				},
			},
			absent: []string{"LOUD world", "quiet Vermont", "js-cond pre ran", "must not run"},
			check: func(t *testing.T, r run) {
				// The recursion stops at the limit: 10 levels ran ("up to
				// 10 composite actions in one workflow"), the 11th was
				// refused.
				n := 0
				for _, s := range r.started("recursive") {
					if s == "Run ./recursive" {
						n++
					}
				}
				if n != 11 {
					t.Errorf("./recursive started %d times, want 11 (10 levels, then the refused one)", n)
				}
				// A composite run step without shell: the diagnostic, at
				// its position in the action's file, and nothing run.
				found := false
				for _, l := range r.events.Lines("no-shell") {
					found = found || strings.HasPrefix(l, "error: action ./noshell: /") &&
						strings.HasSuffix(l, `/noshell/action.yml:6:12: a run step of a composite action needs "shell" [key]`)
				}
				if !found {
					t.Errorf("job no-shell: no positioned error about the missing shell:\n%s", strings.Join(r.events.Lines("no-shell"), "\n"))
				}
				if e := r.events.Step("composite", "Run ./nested"); e.Outputs["result"] != "Nested hello, deep!" {
					t.Errorf("./nested outputs %v", e.Outputs)
				}
			},
		},
		{
			name:  "javascript",
			file:  "js.yml",
			needs: needActionsCore,
			results: map[string]schedule.Result{
				"js": schedule.Success, "failing": schedule.Failure, "local": schedule.Success,
			},
			lines: map[string][]string{
				"js": {
					// Pre ran at job start, before the first step.
					"pre first: steps so far=none",
					"[first] hello Mona",
					"[first] spaced=spaced value",
					// INPUT_<NAME> as the runner forms it: spaces become
					// underscores, upper case, hyphens kept.
					"[first] inputs=INPUT_INPUT_WITH_SPACES,INPUT_LABEL,INPUT_SECRET,INPUT_WHO-TO-GREET",
					"[first] state from pre=pre of first",
					"[first] secret=***",
					// setOutput, exportVariable, addPath.
					"greeting=hello Mona env=exported by first",
					"js-tool found on the PATH core.addPath made",
					"[second] spaced=spaced default",
					"[second] state from pre=pre of second",
					// getState in post: each use has its own state.
					"post second: main of second, pre of second",
					"post first: main of first, pre of first",
					// node24 runs with the node on PATH; pre-if and post-if hold.
					"js-cond pre ran",
					"js-cond main ran with node " + nodeVersion,
					"js-cond post ran",
				},
				// GitHub runs no pre for a ./path action: it warns.
				"local": {
					"warning: `pre` execution is not supported for local action from 'js-action'",
					"[local] state from pre=",
					"post local: main of local, ",
				},
				"failing": {
					"error: Process completed with exit code 3.",
					"always step",
					"post second: main of second, pre of second",
					"post first: main of first, pre of first",
				},
			},
			absent: []string{"js-s3cret-7-value", "pre local"},
			check: func(t *testing.T, r run) {
				want := []string{"Pre greet first", "Pre greet second", "Pre Run $/js-cond",
					`Run echo "first step"`, "greet first", `Run echo "greeting=${{ steps.first.outputs.greeting }} env=$FROM_JS"`,
					"greet second", "Run $/js-cond",
					"Post Run $/js-cond", "Post greet second", "Post greet first"}
				if got := r.started("js"); !slices.Equal(got, want) {
					t.Errorf("job js: steps started\n%q\nwant\n%q", got, want)
				}
				// The job failed: posts still run, in reverse order, after
				// every step; js-cond's post-if (success()) and pre-if
				// (env.RUN_PRE == 'yes') do not hold.
				want = []string{"Pre greet first", "Pre greet second",
					"greet first", "Run $/js-cond", "greet second", "Run exit 3", `Run echo "always step"`,
					"Post greet second", "Post greet first"}
				if got := r.started("failing"); !slices.Equal(got, want) {
					t.Errorf("job failing: steps started\n%q\nwant\n%q", got, want)
				}
				if strings.Contains(strings.Join(r.events.Lines("failing"), "\n"), "js-cond p") {
					t.Errorf("job failing: js-cond's pre or post ran:\n%s", strings.Join(r.events.Lines("failing"), "\n"))
				}
				e := r.events.Step("js", "greet first")
				if e.Outputs["greeting"] != "hello Mona" || e.Outputs["leak"] != "the secret is ***" {
					t.Errorf("outputs of greet first: %v", e.Outputs)
				}
				if got, want := r.jobSummary("js"), "### Summary from first\n### Summary from second\n"; got != want {
					t.Errorf("summary %q, want %q", got, want)
				}
			},
		},
		{
			name:    "javascript in a composite",
			file:    "js-composite.yml",
			needs:   needActionsCore,
			results: map[string]schedule.Result{"embedded": schedule.Success},
			lines: map[string][]string{"embedded": {
				"pre one: steps so far=none",
				"pre two: steps so far=none",
				"pre three: steps so far=none",
				"[one] state from pre=pre of one",
				"[two] state from pre=pre of two",
				"[three] state from pre=pre of three",
				"post three: main of three, pre of three",
				"post two: main of two, pre of two",
				"post one: main of one, pre of one",
			}},
			check: func(t *testing.T, r run) {
				want := []string{"Pre inner one", "Pre inner two", "Pre inner three", `Run echo "first step"`,
					"wrap one", "inner one", "wrap two", "inner two", "wrap three", "inner three",
					"Post inner three", "Post inner two", "Post inner one"}
				if got := r.started("embedded"); !slices.Equal(got, want) {
					t.Errorf("steps started\n%q\nwant\n%q", got, want)
				}
			},
		},
		{
			// GitHub's key order in toJSON and o.*, and the env context's
			// case-sensitive names (issue 9, items 5 and 6).
			name:    "order",
			file:    "order.yml",
			results: map[string]schedule.Result{"order": schedule.Success, "env-case": schedule.Success},
			lines: map[string][]string{
				`order (linux, arm64, {"west":1,"east":2})`: {
					`matrix {"os":"linux","arch":"arm64","zone":{"west":1,"east":2}}`,
					`env {"Zeta":"1","alpha":"2","Middle":"3","Bstep":"4","Astep":"5"}`,
					`steps {"second":{"outputs":{},"outcome":"success","conclusion":"success"},"first":{"outputs":{},"outcome":"success","conclusion":"success"}}`,
					`fromJSON {"zz":1,"aa":{"y":true,"x":false}}`,
					"filter true,false 2",
					"needs success success",
					`inputs {"b":"B","z":"Z","c":"C","a":"A"}`,
				},
				"env-case": {"env names are case-sensitive", "other names ignore case"},
			},
		},
		{
			name:    "no node",
			file:    "nonode.yml",
			baseEnv: []string{"PATH=" + t.TempDir()},
			results: map[string]schedule.Result{"nonode": schedule.Failure},
			lines: map[string][]string{"nonode": {
				"error: runs.using node24: no node found on PATH; install Node.js 24 or name a node binary with --node PATH",
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.needs != nil {
				tc.needs(t)
			}
			repo := exec.Repo{Root: root, SHA: strings.Repeat("a", 40), Ref: "refs/heads/main", Repository: "octo/hello"}
			r := runFile(t, filepath.Join(root, tc.file), runOpts{repo: &repo, resolver: localResolver(t), baseEnv: tc.baseEnv})
			for job, want := range tc.results {
				if got := r.res.Jobs[job].Result; got != want {
					t.Errorf("job %s: %s, want %s", job, got, want)
				}
			}
			for job, want := range tc.lines {
				r.events.WantLines(t, job, want...)
			}
			for _, s := range tc.absent {
				if strings.Contains(r.everything(), s) {
					t.Errorf("an event contains %q:\n%s", s, r.events.String())
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if t.Failed() {
				t.Logf("all events:\n%s", r.events.String())
			}
		})
	}
}

// remoteServer serves octo/greet-action, octo/workflows, octo/data and
// octo/outer-action, each tagged v1 (and at branch main), from testdata/actions-run/remote.
func remoteServer(t *testing.T) *actionstest.Server {
	t.Helper()
	srv := actionstest.NewServer(t)
	for _, name := range []string{"greet-action", "workflows", "data", "outer-action"} {
		repo := srv.NewRepo(t, "octo", name)
		dir := filepath.Join(actionsRoot(t), "remote", name)
		repo.Commit("v1 of "+name, actionstest.ReadTree(t, dir))
		// ReadTree and Commit do not keep the executable bit.
		if name == "greet-action" {
			repo.Git("update-index", "--chmod=+x", "greet.sh")
			repo.Git("commit", "-q", "-m", "greet.sh is executable")
		}
		repo.Git("tag", "v1")
		repo.Push()
	}
	return srv
}

// TestActionsRemote runs a workflow with a remote action, a remote
// reusable workflow and a checkout of another repository, all from a git
// server started here; then again from the cache with the server stopped,
// online and offline.
func TestActionsRemote(t *testing.T) {
	t.Parallel()
	srv := remoteServer(t)
	cache := t.TempDir()
	file := filepath.Join(actionsRoot(t), "remote.yml")
	dataSHA := strings.TrimSpace(actionstest.RunGit(t, filepath.Join(srv.Root, "octo", "data"), "rev-parse", "v1"))
	serverURL := srv.URL
	steps := []struct {
		name       string
		stopBefore bool // stop the server before this run
		offline    bool
	}{
		{name: "fetched"},
		{name: "cached, server stopped", stopBefore: true},
		{name: "offline, server stopped", offline: true},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if st.stopBefore {
				srv.Close()
			}
			res, err := actions.NewResolver(actions.WithCacheDir(cache), actions.WithGitHubURL(serverURL), actions.WithOffline(st.offline))
			if err != nil {
				t.Fatal(err)
			}
			r := runFile(t, file, runOpts{resolver: res})
			if r.res.Result != schedule.Success {
				t.Fatalf("result %s\n%s", r.res.Result, r.events.String())
			}
			r.events.WantLines(t, "action", "greet.sh from the action cache greets remote", "remote output=remote hello remote",
				"action repository=octo/greet-action ref=v1")
			r.events.WantLines(t, "call / say", "greet.sh from the action cache greets the reusable workflow",
				"in the reusable workflow remote hello the reusable workflow")
			r.events.WantLines(t, "after", "called said remote hi caller")
			r.events.WantLines(t, "checkout", "data from octo/data", dataSHA)
			// Each repository was fetched once, by the first run; the
			// action used by two jobs at once was fetched only once.
			for _, repo := range []string{"octo/greet-action", "octo/workflows", "octo/data"} {
				if n := srv.Fetches(repo); n != 1 {
					t.Errorf("%s fetched %d times, want 1", repo, n)
				}
			}
		}) {
			return
		}
	}
	t.Run("offline, not cached", func(t *testing.T) {
		res, err := actions.NewResolver(actions.WithCacheDir(t.TempDir()), actions.WithGitHubURL(serverURL), actions.WithOffline(true))
		if err != nil {
			t.Fatal(err)
		}
		r := runFile(t, file, runOpts{resolver: res})
		if r.res.Jobs["action"].Result != schedule.Failure {
			t.Fatalf("job action: %s, want failure\n%s", r.res.Jobs["action"].Result, r.events.String())
		}
		found := false
		for _, l := range r.events.Lines("action") {
			if strings.Contains(l, "octo/greet-action@v1 is not in the action cache") && strings.Contains(l, "vermont actions pull") {
				found = true
			}
		}
		if !found {
			t.Errorf("no clear error naming the missing action:\n%s", r.events.String())
		}
	})
}

// TestActionsRemoteContext: each step of a remote composite action sees
// that action's owner/repo, ref and directory in github.action_repository,
// github.action_ref and github.action_path, and in their GITHUB_*
// variables, also in a composite called by another; the job's own steps
// see none (actions/runner src/Runner.Worker/ActionRunner.cs, "Set
// GITHUB_ACTION_REPOSITORY"; Handlers/CompositeActionHandler.cs, "Set
// GITHUB_ACTION_PATH").
func TestActionsRemoteContext(t *testing.T) {
	t.Parallel()
	srv := remoteServer(t)
	res, err := actions.NewResolver(actions.WithCacheDir(t.TempDir()), actions.WithGitHubURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	r := runFile(t, filepath.Join(actionsRoot(t), "remote-context.yml"), runOpts{resolver: res})
	if r.res.Result != schedule.Success {
		t.Fatalf("result %s\n%s", r.res.Result, r.events)
	}
	tests := []struct {
		where, line string
	}{
		{where: "outer, first step", line: "outer before expr=octo/outer-action@main env=octo/outer-action@main"},
		{where: "outer, first step", line: "outer before path=own"},
		{where: "nested composite, expression", line: "greet expr=octo/greet-action@v1"},
		{where: "nested composite, variables", line: "action repository=octo/greet-action ref=v1"},
		{where: "nested composite, path", line: "greet path=own"},
		{where: "outer, after the nested one", line: "outer after expr=octo/outer-action@main env=octo/outer-action@main"},
		{where: "outer, after the nested one", line: "outer after path=own"},
		{where: "the job's own step", line: "job step expr=[@] env=[unset]"},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			r.events.WantLines(t, "nested", tt.line)
		})
	}
}
