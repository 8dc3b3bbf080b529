package exec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// Resolver finds what uses: names. It is defined here, where the job runner
// consumes it; package actions implements it.
type Resolver interface {
	// Action returns the directory of the action named by a step's uses:
	// (not docker://) and its parsed metadata. "./path" is relative to
	// workspace.
	Action(ctx context.Context, uses, workspace string) (dir string, meta *workflow.Action, err error)
	// Workflow returns the reusable workflow named by a job's uses:.
	Workflow(ctx context.Context, uses, workspace string) (*workflow.Workflow, error)
	// Checkout puts repository owner/repo at ref into dest.
	Checkout(ctx context.Context, repo, ref, dest string) error
}

// Runner runs jobs on a Backend: it implements schedule.JobRunner. It holds
// configuration only; each job's state lives in a jobRun of its own, so a
// Runner runs any number of jobs at once.
type Runner struct {
	backend   Backend
	sink      Sink
	masker    *Masker
	resolver  Resolver
	log       *slog.Logger
	workDir   string
	repo      Repo
	hasRepo   bool
	bind      bool
	platforms map[string]string
	runID     string
	runDirMu  *sync.Mutex // shared with nested runners; held while a job's directories are made, and while the run's is removed
	debug     bool
	node      string
	baseEnv   []string
	runEnv    map[string]string // WithEnv: under the workflow's env
	prefix    string            // "caller / " for jobs of a reusable workflow
	depth     int               // reusable-workflow nesting
	afterStop time.Duration
	force     <-chan struct{}
	templates *sync.Map // source → *expr.Template, shared with nested runners
	conds     *sync.Map // if: source → compiled condition, likewise
	seq       *atomic.Int64
	results   *results   // WithResults
	ready     *repoReady // WithRepoReady; shared with nested runners
}

// repoReady runs a preparation of the repository's working tree once, the
// first time a job reads it.
type repoReady struct {
	once sync.Once
	f    func(context.Context) error
	err  error
}

// repoTree makes sure the repository's working tree is there (WithRepoReady)
// and returns its root.
func (r *Runner) repoTree(ctx context.Context) (string, error) {
	if r.ready != nil {
		r.ready.once.Do(func() { r.ready.err = r.ready.f(ctx) })
		if r.ready.err != nil {
			return "", r.ready.err
		}
	}
	return r.repo.Root, nil
}

var _ schedule.JobRunner = (*Runner)(nil)

// Option configures a Runner.
type Option func(*Runner) error

// WithSink sets where events go (default: nowhere).
func WithSink(s Sink) Option { return func(r *Runner) error { r.sink = s; return nil } }

// WithMasker shares a Masker; secrets registered in it are hidden in every
// event. By default the Runner has its own.
func WithMasker(m *Masker) Option { return func(r *Runner) error { r.masker = m; return nil } }

// WithResolver sets how uses: is resolved; without one, only docker:// and
// the workflow's own actions/checkout work.
func WithResolver(res Resolver) Option { return func(r *Runner) error { r.resolver = res; return nil } }

// WithLogger sets the logger for operational messages (not job output).
func WithLogger(l *slog.Logger) Option { return func(r *Runner) error { r.log = l; return nil } }

// WithWorkDir sets where jobs get their workspace and temp directories
// (default: a directory under os.TempDir()).
func WithWorkDir(dir string) Option { return func(r *Runner) error { r.workDir = dir; return nil } }

// WithRepo sets the local repository the workflow belongs to: actions/checkout
// of it copies its working tree, and --bind runs jobs in it.
func WithRepo(repo Repo) Option {
	return func(r *Runner) error { r.repo, r.hasRepo = repo, true; return nil }
}

// WithRepoReady gives a function that puts the repository's working tree
// at WithRepo's Root. It runs once, when a job first reads the tree
// (actions/checkout of the workflow's own repository, a reusable workflow
// of it): vermont serve checks a run's commit out only if a job needs it,
// so a job that does not starts without waiting for git.
func WithRepoReady(f func(context.Context) error) Option {
	return func(r *Runner) error { r.ready = &repoReady{f: f}; return nil }
}

// WithBind runs jobs directly in the repository's working tree instead of a
// fresh workspace.
func WithBind(bind bool) Option { return func(r *Runner) error { r.bind = bind; return nil } }

// WithPlatforms maps runs-on labels to container images, like act's -P. The
// image "host" keeps a label on the host; labels not mapped run on the host.
func WithPlatforms(m map[string]string) Option {
	return func(r *Runner) error { r.platforms = m; return nil }
}

// WithRunID sets the run id (github.run_id and resource labels).
func WithRunID(id string) Option { return func(r *Runner) error { r.runID = id; return nil } }

// WithDebug shows ::debug:: output and sets RUNNER_DEBUG, as the
// ACTIONS_STEP_DEBUG secret does on GitHub.
func WithDebug(on bool) Option { return func(r *Runner) error { r.debug = on; return nil } }

// WithNode sets the node binary for JavaScript actions (default: node on
// PATH).
func WithNode(path string) Option { return func(r *Runner) error { r.node = path; return nil } }

// WithEnv gives every job variables under the workflow's env: in the env
// context and the steps' environment, overridden by the workflow's, the
// job's and the steps' own env (as act's --env and --env-file).
func WithEnv(env map[string]string) Option {
	return func(r *Runner) error { r.runEnv = env; return nil }
}

// WithBaseEnv sets the environment host steps start from (default:
// os.Environ()).
func WithBaseEnv(env []string) Option { return func(r *Runner) error { r.baseEnv = env; return nil } }

// WithCancelGrace bounds how long steps that run after a cancellation
// (always(), cancelled()) may take (default 5 minutes).
func WithCancelGrace(d time.Duration) Option {
	return func(r *Runner) error { r.afterStop = d; return nil }
}

// WithForceStop gives a channel whose closing stops the steps that run
// after a cancellation (always(), cancelled(), post steps): a second Ctrl-C.
func WithForceStop(ch <-chan struct{}) Option {
	return func(r *Runner) error { r.force = ch; return nil }
}

// afterCancel returns the context for work that goes on after ctx was
// cancelled: bounded by the cancel grace, and stopped by a forced stop.
func (r *Runner) afterCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.afterStop)
	if r.force != nil {
		go func() {
			select {
			case <-r.force:
				cancel()
			case <-c.Done():
			}
		}()
	}
	return c, cancel
}

// New returns a Runner that starts jobs on backend.
func New(backend Backend, opts ...Option) (*Runner, error) {
	if backend == nil {
		return nil, errors.New("exec: nil backend")
	}
	r := &Runner{backend: backend}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	if r.sink == nil {
		r.sink = SinkFunc(func(Event) {})
	}
	if r.masker == nil {
		r.masker = &Masker{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.workDir == "" {
		r.workDir = filepath.Join(os.TempDir(), "vermont")
	}
	if r.runID == "" {
		r.runID = fmt.Sprint(time.Now().UnixNano())
	}
	if r.baseEnv == nil {
		r.baseEnv = os.Environ()
	}
	if r.afterStop == 0 {
		r.afterStop = 5 * time.Minute
	}
	r.templates = &sync.Map{}
	r.conds = &sync.Map{}
	r.seq = &atomic.Int64{}
	r.runDirMu = &sync.Mutex{}
	return r, nil
}

// emit masks an event and sends it.
func (r *Runner) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Job = r.masker.Mask(e.Job)
	e.Step = r.masker.Mask(e.Step)
	e.Line = r.masker.Mask(e.Line)
	e.Summary = r.masker.Mask(e.Summary)
	e.Outputs = r.masker.MaskMap(e.Outputs)
	if a := e.Annotation; a != nil {
		m := *a
		m.Message, m.Title, m.File = r.masker.Mask(a.Message), r.masker.Mask(a.Title), r.masker.Mask(a.File)
		e.Annotation = &m
	}
	r.sink.Emit(e)
}

// template parses src once per Runner tree and caches it.
func (r *Runner) template(src string) (*expr.Template, error) {
	if t, ok := r.templates.Load(src); ok {
		return t.(*expr.Template), nil
	}
	t, err := expr.ParseTemplate(src)
	if err != nil {
		return nil, err
	}
	r.templates.Store(src, t)
	return t, nil
}

// condition compiles an if: once per Runner tree (GitHub's rules:
// success() when empty, success() && (…) without a status function).
func (r *Runner) condition(src string) (*expr.Program, error) {
	if p, ok := r.conds.Load(src); ok {
		return p.(*expr.Program), nil
	}
	p, err := schedule.CompileIf(src)
	if err != nil {
		return nil, err
	}
	r.conds.Store(src, p)
	return p, nil
}

// SkipJob reports a job that did not run.
func (r *Runner) SkipJob(job *schedule.Job, result schedule.Result, reason error) {
	name := r.prefix + job.Name
	if reason != nil {
		r.emit(Event{Kind: Log, Job: name, Level: "error", Line: reason.Error()})
	}
	r.emit(Event{Kind: JobFinished, Job: name, Result: result})
}

// RunJob runs one job or matrix leg.
func (r *Runner) RunJob(ctx context.Context, job *schedule.Job) schedule.Outcome {
	if job.Def.Uses != nil {
		return r.runReusable(ctx, job)
	}
	start := time.Now()
	name := r.prefix + job.Name
	r.emit(Event{Kind: JobStarted, Job: name})
	j, err := r.newJobRun(job, name)
	var out schedule.Outcome
	if err != nil {
		r.emit(Event{Kind: Log, Job: name, Level: "error", Line: err.Error()})
		out = schedule.Outcome{Result: Failure}
	} else {
		out = j.run(ctx)
		defer j.cleanup()
	}
	r.emit(Event{Kind: JobFinished, Job: name, Result: out.Result, Outputs: out.Outputs, Duration: time.Since(start), Summary: summaryOf(j)})
	return out
}

func summaryOf(j *jobRun) string {
	if j == nil {
		return ""
	}
	return j.summary.String()
}

// jobRun is the state of one running job. Only the job's goroutine touches
// it; workflow commands that change it (set-env, add-path) run on the
// output writers while the job's goroutine waits in StepRunner.Run, which
// returns only after the output is copied.
type jobRun struct {
	r       *Runner
	job     *schedule.Job
	name    string
	dir     string // the job's own directory: temp, command files
	ws      string // GITHUB_WORKSPACE
	temp    string
	tools   string
	image   string
	sr      StepRunner
	env     map[string]string // workflow + job env, then GITHUB_ENV
	envKeys []string          // order of env, for a stable environment
	path    []string          // GITHUB_PATH entries, newest first
	steps   *expr.Object      // the steps context
	failed  bool
	summary strings.Builder
	posts   []func(ctx context.Context)
	pres    map[string]map[string]string // by stepKey: state saved by pres run at job start (runPres)
	github  *expr.Object
	ids     map[string]int // generated step ids by base name
	// container and services are job.container and job.services, filled
	// once the backend has started the job's containers.
	container *expr.Object
	services  *expr.Object
	// owner is the user steps run as when it is not Vermont's (a
	// container --user); the files made for the job are given to it.
	owner *jobOwner
	// files are the command files steps reuse, emptied between them,
	// when steps run as Vermont's user (stepFiles).
	files *commandFiles
	// resultsToken is the job's ACTIONS_RUNTIME_TOKEN, made when its first
	// action runs (addResultsEnv).
	resultsToken string
	// matchers are the problem matchers steps have registered.
	matchers matcherSet
	// done is the job context's Done channel: cancelled() reads it at the
	// moment of evaluation.
	done <-chan struct{}
}

// cancelled reports whether the job has been cancelled (or timed out).
func (j *jobRun) cancelled() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

var slugRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (r *Runner) newJobRun(job *schedule.Job, name string) (*jobRun, error) {
	n := r.seq.Add(1)
	dir := filepath.Join(r.workDir, r.runID, fmt.Sprintf("%s-%d", slugRE.ReplaceAllString(job.ID, "_"), n))
	j := &jobRun{r: r, job: job, name: name, dir: dir, steps: expr.NewObject(8), env: map[string]string{}}
	j.temp = filepath.Join(dir, "temp")
	j.tools = filepath.Join(r.workDir, "toolcache")
	j.ws = filepath.Join(dir, "workspace")
	if r.bind && r.hasRepo {
		j.ws = r.repo.Root
	}
	r.runDirMu.Lock()
	defer r.runDirMu.Unlock()
	for _, d := range []string{j.temp, j.tools, j.ws} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("prepare job directories: %w", err)
		}
	}
	j.github = j.githubContext()
	// GitHub always writes the event payload to a file. The job gets
	// github.event written out, so the two agree (a workflow_dispatch's
	// inputs included, which a payload given to vermont run -e lacks).
	p := filepath.Join(dir, "event.json")
	event, _ := j.github.Get("event")
	b, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("write the event payload: %w", err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return nil, fmt.Errorf("write the event payload: %w", err)
	}
	j.github.Set("event_path", p)
	return j, nil
}

// ownedDirs are the job's directories its user gets: its temp directory
// and its workspace, unless the workspace is the bound working tree.
func (j *jobRun) ownedDirs() []string {
	if j.r.bind && j.r.hasRepo {
		return []string{j.temp}
	}
	return []string{j.temp, j.ws}
}

// cleanup removes the job's directories (not a bound working tree), and
// the run's directory once its last job is gone.
func (j *jobRun) cleanup() {
	if err := os.RemoveAll(j.dir); err != nil {
		j.r.log.Warn("remove job directory", "dir", j.dir, "err", err)
	}
	// Under runDirMu, so a job being prepared never has the run's
	// directory taken from under its MkdirAll.
	j.r.runDirMu.Lock()
	_ = os.Remove(filepath.Dir(j.dir)) // fails while other jobs of the run remain
	j.r.runDirMu.Unlock()
}

// run runs the job's steps and returns its outcome.
func (j *jobRun) run(ctx context.Context) schedule.Outcome {
	def := j.job.Def
	timeout := 360 * time.Minute
	if def.TimeoutMinutes != nil {
		if m, err := j.floatValue(def.TimeoutMinutes); err != nil {
			j.logf("error", "jobs.%s.timeout-minutes: %v", j.job.ID, err)
			return schedule.Outcome{Result: Failure}
		} else if m > 0 {
			timeout = time.Duration(m * float64(time.Minute))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	j.done = ctx.Done()

	if err := j.initEnv(); err != nil {
		j.logf("error", "%v", err)
		return schedule.Outcome{Result: Failure}
	}
	spec, err := j.jobSpec()
	if err != nil {
		j.logf("error", "%v", err)
		return schedule.Outcome{Result: Failure}
	}
	sr, err := j.r.backend.Start(ctx, spec)
	if err != nil {
		j.logf("error", "start job: %v", err)
		return schedule.Outcome{Result: Failure}
	}
	j.sr = sr
	j.container, j.services = containerContexts(spec.Services, sr)
	j.owner = ownerOf(sr)
	if err := j.owner.own(j.ownedDirs()...); err != nil {
		j.logf("warning", "give the job's directories to its user: %v", err)
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer ccancel()
		if err := sr.Close(cctx); err != nil {
			j.logf("warning", "clean up job: %v", err)
		}
	}()

	j.runPres(ctx, def.Steps)
	j.runSteps(ctx, def.Steps, nil)
	for i := len(j.posts) - 1; i >= 0; i-- {
		j.posts[i](ctx)
	}

	result := Success
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		j.logf("error", "the job has exceeded the maximum execution time of %v", timeout)
		result = Failure
	case ctx.Err() != nil:
		result = Cancelled
	case j.failed:
		result = Failure
	}
	outputs, ok := j.outputs(result)
	if !ok {
		result = Failure
	}
	return schedule.Outcome{Result: result, Outputs: outputs}
}

// outputs evaluates jobs.<id>.outputs once the steps are done, as the
// runner does (actions/runner src/Runner.Worker/JobExtension.cs,
// "Evaluate and set job outputs"): an empty output is left out, an output
// holding a masked value is dropped with GitHub's warning, so the jobs
// that need this one see an empty string, and an output that fails to
// evaluate fails the job (ok false).
func (j *jobRun) outputs(result Result) (map[string]string, bool) {
	outs := j.job.Def.Outputs
	if outs.Len() == 0 {
		return nil, true
	}
	scope := j.scope(nil, result)
	m := make(map[string]string, outs.Len())
	for _, kv := range outs.Entries {
		v, err := j.evalString(kv.Value.Value, scope)
		if err != nil {
			j.logf("error", "Fail to evaluate job outputs")
			j.logf("error", "jobs.%s.outputs.%s: %v", j.job.ID, kv.Key.Value, err)
			return nil, false
		}
		switch {
		case v == "":
			continue
		case j.r.masker.Mask(v) != v:
			j.logf("warning", "Skip output '%s' since it may contain secret.", kv.Key.Value)
			continue
		}
		m[kv.Key.Value] = v
	}
	return m, true
}

// jobSpec decides where the job runs.
func (j *jobRun) jobSpec() (JobSpec, error) {
	spec := JobSpec{RunID: j.r.runID, Job: j.name, Mounts: []string{j.dir, j.ws, j.tools}}
	def := j.job.Def
	scope := j.scope(nil, "")
	if def.Container != nil && def.Container.Image != nil {
		c, err := j.containerSpec(def.Container, scope)
		if err != nil {
			return spec, fmt.Errorf("jobs.%s.container: %w", j.job.ID, err)
		}
		spec.Image, spec.Container = c.Image, &c
	} else if def.RunsOn != nil {
		for _, l := range def.RunsOn.Labels {
			label, err := j.evalString(l.Value, scope)
			if err != nil {
				return spec, fmt.Errorf("jobs.%s.runs-on: %w", j.job.ID, err)
			}
			if img, ok := j.r.platforms[label]; ok && img != "host" && img != "-self-hosted" {
				spec.Image = img
				break
			}
		}
	}
	for _, s := range def.Services {
		c, err := j.containerSpec(s.Container, scope)
		if err != nil {
			return spec, fmt.Errorf("jobs.%s.services.%s: %w", j.job.ID, s.Name.Value, err)
		}
		spec.Services = append(spec.Services, ServiceSpec{Name: s.Name.Value, ContainerSpec: c})
	}
	j.image = spec.Image
	return spec, nil
}

// ContainerInfo is what the job context says of one container of a job.
type ContainerInfo struct {
	ID      string            // the container's ID
	Network string            // the ID of the network the job's containers share
	Ports   map[string]string // container port → the host port it is published on
}

// ContainerDescriber is implemented by step runners that run a job's
// containers. The job runner checks for it with a type assertion and
// fills job.container and job.services from it, as GitHub does.
type ContainerDescriber interface {
	// Containers returns the job container and the service containers
	// by service name. For a job on the host, the job container is nil,
	// or has only a Network when the job has services, as on GitHub.
	Containers() (job *ContainerInfo, services map[string]ContainerInfo)
}

// containerContexts returns job.container and job.services ("Contexts",
// job context): the job container's id and network (only the network for a
// job on the host with services), and for every service its id, network and
// published ports. Both are nil when the job has no containers.
func containerContexts(services []ServiceSpec, sr StepRunner) (container, svcs *expr.Object) {
	cd, ok := sr.(ContainerDescriber)
	if !ok && len(services) == 0 {
		return nil, nil
	}
	var (
		main  *ContainerInfo
		infos map[string]ContainerInfo
	)
	if ok {
		main, infos = cd.Containers()
	}
	if main != nil {
		container = expr.NewObject(2)
		if main.ID != "" {
			container.Set("id", main.ID)
		}
		container.Set("network", main.Network)
	}
	if len(services) > 0 {
		svcs = expr.NewObject(len(services))
		for _, s := range services {
			info := infos[s.Name]
			ports := expr.NewObject(len(info.Ports))
			for _, c := range slices.Sorted(maps.Keys(info.Ports)) {
				ports.Set(c, info.Ports[c])
			}
			svc := expr.NewObject(3)
			svc.Set("id", info.ID)
			svc.Set("ports", ports)
			svc.Set("network", info.Network)
			svcs.Set(s.Name, svc)
		}
	}
	return container, svcs
}

func (j *jobRun) containerSpec(c *workflow.Container, scope *expr.Scope) (ContainerSpec, error) {
	var out ContainerSpec
	var err error
	if c.Image != nil {
		if out.Image, err = j.evalString(c.Image.Value, scope); err != nil {
			return out, err
		}
	}
	if out.Env, err = j.evalMap(c.Env, scope); err != nil {
		return out, err
	}
	for _, p := range c.Ports {
		v, err := j.evalString(p.Value, scope)
		if err != nil {
			return out, err
		}
		out.Ports = append(out.Ports, v)
	}
	for _, v := range c.Volumes {
		s, err := j.evalString(v.Value, scope)
		if err != nil {
			return out, err
		}
		out.Volumes = append(out.Volumes, s)
	}
	if c.Options != nil {
		if out.Options, err = j.evalString(c.Options.Value, scope); err != nil {
			return out, err
		}
	}
	if cr := c.Credentials; cr != nil {
		out.Credentials = &Credentials{}
		if cr.Username != nil {
			out.Credentials.Username, _ = j.evalString(cr.Username.Value, scope)
		}
		if cr.Password != nil {
			out.Credentials.Password, _ = j.evalString(cr.Password.Value, scope)
			j.r.masker.Add(out.Credentials.Password)
		}
	}
	return out, nil
}

// logf emits a runner message for the job.
func (j *jobRun) logf(level, format string, args ...any) {
	j.r.emit(Event{Kind: Log, Job: j.name, Level: level, Line: fmt.Sprintf(format, args...)})
}

// runnerOS is runner.os as GitHub names it.
func runnerOS() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows"
	case "darwin":
		return "macOS"
	}
	return "Linux"
}

// runnerArch is runner.arch as GitHub names it.
func runnerArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "X64"
	case "386":
		return "X86"
	case "arm64":
		return "ARM64"
	case "arm":
		return "ARM"
	}
	return strings.ToUpper(runtime.GOARCH)
}
