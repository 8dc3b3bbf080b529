package containerd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/snapshots"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/containerd"
	"github.com/vermont-ci/vermont/exec/exectest"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
)

// These tests run the workflows of testdata/containers end to end:
// workflow.Parse → schedule → exec.Runner → the containerd backend, against
// the package's private containerd.

const (
	busyboxImage   = "vermont.test/busybox:latest"
	containerImage = "vermont.test/container:1"
	webImage       = "vermont.test/web:latest"
)

// webScript serves $MESSAGE over HTTP on $PORT (default 80) with busybox
// httpd, in the foreground so the container lives as long as the server.
const webScript = `#!/bin/sh
mkdir -p /www
echo "${MESSAGE:-hello}" > /www/index.html
exec /bin/busybox httpd -f -p "${PORT:-80}" -h /www
`

// wfFixture is a backend on the shared daemon in a namespace of its own,
// holding the images the workflows name.
type wfFixture struct {
	ns string
	c  *ctrd.Client
	b  *containerd.Backend
	// vars and secrets are the workflows' vars and secrets contexts.
	vars, secrets map[string]any
}

// newWFFixture makes a wfFixture; opts are added to the backend's.
func newWFFixture(t testing.TB, ns string, opts ...containerd.Option) *wfFixture {
	t.Helper()
	d := containerd.SharedDaemon(t)
	c := d.Client(t, ctrd.WithNamespace(ns))
	marker := func(s string) ctrdtest.File {
		return ctrdtest.File{Path: "/etc/vermont-test-image", Data: []byte(s + "\n")}
	}
	ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Name: busyboxImage, Env: []string{"IMAGE_ENV=kept from the image"}, Files: []ctrdtest.File{marker("busybox image")}})
	ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Name: containerImage, Files: []ctrdtest.File{marker("container image")}})
	ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Name: webImage, Entrypoint: []string{"/serve.sh"},
		Files: []ctrdtest.File{{Path: "/serve.sh", Mode: 0o755, Data: []byte(webScript)}}})
	b, err := containerd.New(context.Background(), append([]containerd.Option{
		containerd.WithAddress(d.Address()), containerd.WithNamespace(ns), containerd.WithSnapshotter(d.Snapshotter()),
		containerd.WithGrace(200 * time.Millisecond), containerd.WithHealthTimeout(time.Minute),
		containerd.WithHost(host.New(host.WithGrace(200 * time.Millisecond)))}, opts...)...)
	if err != nil {
		t.Fatalf("containerd.New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return &wfFixture{ns: ns, c: c, b: b, vars: map[string]any{}, secrets: map[string]any{}}
}

// wfOpts vary a run.
type wfOpts struct {
	platforms map[string]string // default: ubuntu-latest → busybox
	ctx       context.Context
	sink      func(exec.Event) // sees every event as it happens
}

// wfRun is the outcome of one workflow run.
type wfRun struct {
	res    *schedule.RunResult
	events exectest.Events
}

// hostOnly is in the host environment only: jobs on an image must not see it.
const hostOnly = "VERMONT_HOST_ONLY=leaked"

// runWorkflow runs testdata/containers/<name> through exec.Runner on the
// fixture's backend, with testdata/containers as the repository.
func (f *wfFixture) runWorkflow(t *testing.T, name string, o wfOpts) wfRun {
	t.Helper()
	var rec exec.Recorder
	var sink exec.Sink = &rec
	if o.sink != nil {
		sink = exec.SinkFunc(func(e exec.Event) { rec.Emit(e); o.sink(e) })
	}
	plan, r := f.prepare(t, name, o.platforms, sink)
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	out := wfRun{res: schedule.New(schedule.WithLimit(4)).Run(ctx, plan, r)}
	out.events = rec.Events()
	return out
}

// prepare parses and plans testdata/containers/<name>, and makes a Runner on
// the fixture's backend with testdata/containers as the repository.
// platforms defaults to ubuntu-latest → busybox.
func (f *wfFixture) prepare(tb testing.TB, name string, platforms map[string]string, sink exec.Sink, jobs ...string) (*schedule.Plan, *exec.Runner) {
	tb.Helper()
	file := filepath.Join("..", "..", "testdata", "containers", name)
	src, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	wf, err := workflow.Parse(file, src)
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	root, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		tb.Fatal(err)
	}
	repo := exec.Repo{Root: root, SHA: strings.Repeat("a", 40), Ref: "refs/heads/main", Repository: "octo/containers"}
	gh := exec.GitHubContext(exec.GitHubOptions{EventName: "push", Repo: repo, Workflow: wf.Name.Value, WorkflowFile: name, RunID: f.ns})
	popts := []schedule.PlanOption{schedule.WithContexts(map[string]any{"github": gh, "secrets": f.secrets, "vars": f.vars, "inputs": map[string]any{}})}
	if len(jobs) > 0 {
		popts = append(popts, schedule.WithJobs(jobs...))
	}
	plan, err := schedule.NewPlan(wf, popts...)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := actions.NewResolver(actions.WithCacheDir(tb.TempDir()), actions.WithOffline(true), actions.WithRepoDir(root))
	if err != nil {
		tb.Fatal(err)
	}
	if platforms == nil {
		platforms = map[string]string{"ubuntu-latest": busyboxImage}
	}
	r, err := exec.New(f.b, exec.WithSink(sink), exec.WithWorkDir(tb.TempDir()), exec.WithRepo(repo), exec.WithResolver(res),
		exec.WithPlatforms(platforms), exec.WithRunID(f.ns), exec.WithBaseEnv(append(os.Environ(), hostOnly)),
		exec.WithCancelGrace(10*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return plan, r
}

// wantJobs checks each job's result.
func (r wfRun) wantJobs(t *testing.T, want map[string]schedule.Result) {
	t.Helper()
	for job, res := range want {
		if got := r.res.Jobs[job].Result; got != res {
			t.Errorf("job %s: %s, want %s\n%s", job, got, res, r.events.String())
		}
	}
}

// wantNothingLeft lists, through the client, everything of the namespace a
// run could leak: every container, active or labelled snapshots, and
// labelled leases.
func (f *wfFixture) wantNothingLeft(t testing.TB) {
	t.Helper()
	ctx := f.c.Context(context.Background())
	var left []string
	conts, err := f.c.Containerd().Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conts {
		left = append(left, "container "+c.ID())
	}
	err = f.c.Containerd().SnapshotService(f.c.Snapshotter()).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive || info.Labels[containerd.LabelRun] != "" {
			left = append(left, "snapshot "+info.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := f.c.Containerd().LeasesService().List(ctx, `labels."`+containerd.LabelRun+`"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		left = append(left, "lease "+l.ID)
	}
	if len(left) > 0 {
		t.Errorf("left behind in namespace %s:\n%s", f.ns, strings.Join(left, "\n"))
	}
}

func TestRunnerJobOnImage(t *testing.T) {
	f := newWFFixture(t, "wf-image")
	r := f.runWorkflow(t, "image.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"build": schedule.Success, "after": schedule.Success})
	r.events.WantLines(t, "build",
		"image: busybox image",
		"runner.os: Linux Linux",
		"output: 42",
		"env: hello from GITHUB_ENV",
		"levels: from workflow, from job, from step",
		"mytool ran",
		"shell: sh -e",
		"no bash in the image",
		"host env: not passed",
		"image env: kept from the image",
		"in the workspace",
		"same container: kept",
	)
	r.events.WantLines(t, "after", "needs: 42")
	if got := r.res.Jobs["build"].Outputs["answer"]; got != "42" {
		t.Errorf("jobs.build.outputs.answer = %q, want 42", got)
	}
	f.wantNothingLeft(t)
}

func TestRunnerContainerJob(t *testing.T) {
	f := newWFFixture(t, "wf-container")
	r := f.runWorkflow(t, "container.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"box": schedule.Success})
	r.events.WantLines(t, "box",
		"image: container image",
		"env: from container env / from-options / two words / from job env",
		"runner.os: Linux",
		"uid: 0",
	)
	f.wantNothingLeft(t)
}

func TestRunnerContainerUser(t *testing.T) {
	f := newWFFixture(t, "wf-user")
	r := f.runWorkflow(t, "user.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"box": schedule.Success})
	r.events.WantLines(t, "box",
		"uid: 1000 gid: 1000",
		"workspace writable",
		"temp writable",
		"output: 1000",
		"env: yes",
		"path: added",
	)
	f.wantNothingLeft(t)
}

func TestRunnerServices(t *testing.T) {
	f := newWFFixture(t, "wf-services")
	r := f.runWorkflow(t, "services.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"in-container": schedule.Success, "on-host": schedule.Success})
	r.events.WantLines(t, "in-container",
		"by name: from web and from api",
		"on localhost: from web and from api",
		"no ports published: {}",
		"ids and network - ok",
	)
	r.events.WantLines(t, "on-host",
		"web's port 80 is published",
		"from the host: published",
		"steps run on the host",
		"network without a job container - ok",
	)
	f.wantNothingLeft(t)
}

func TestRunnerDockerActions(t *testing.T) {
	f := newWFFixture(t, "wf-docker")
	r := f.runWorkflow(t, "docker.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"actions": schedule.Success, "in-container": schedule.Success})
	r.events.WantLines(t, "in-container", "docker action in a container job", "after the action, host env not passed")
	r.events.WantLines(t, "actions",
		"hello octocat from busybox image",
		"hello mona (INPUT_WHO=mona, from the action's env)",
		"outputs: hi / hello mona",
		"dockerfile action failure",
	)
	if e := r.events.Step("actions", "dockerfile action"); e.Outcome != schedule.Failure {
		t.Errorf("dockerfile action: outcome %q, want failure", e.Outcome)
	}
	found := false
	for _, l := range r.events.Lines("actions") {
		found = found || strings.HasPrefix(l, "error: ") && strings.Contains(l, "no image builder") && strings.Contains(l, "vermont image import")
	}
	if !found {
		t.Errorf("no clear error for the Dockerfile action:\n%s", strings.Join(r.events.Lines("actions"), "\n"))
	}
	f.wantNothingLeft(t)
}

func TestRunnerStepTimeout(t *testing.T) {
	f := newWFFixture(t, "wf-timeout")
	r := f.runWorkflow(t, "timeout.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"slow": schedule.Failure})
	r.events.WantLines(t, "slow", "started", "error: the step has timed out", "no process left")
	if e := r.events.Step("slow", "sleeps past its timeout"); e.Result != schedule.Failure {
		t.Errorf("timed-out step: %s, want failure", e.Result)
	}
	if e := r.events.Step("slow", "nothing left"); e.Result != schedule.Success {
		t.Errorf("step after the timeout: %s, want success\n%s", e.Result, r.events.String())
	}
	for _, l := range r.events.Lines("slow") {
		if l == "finished" {
			t.Error("the timed-out step ran to its end")
		}
	}
	f.wantNothingLeft(t)
}

func TestRunnerCancel(t *testing.T) {
	f := newWFFixture(t, "wf-cancel")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := f.runWorkflow(t, "cancel.yml", wfOpts{ctx: ctx, sink: func(e exec.Event) {
		if e.Kind == exec.Log && e.Line == "go" {
			cancel() // the step is running, its job container and service up
		}
	}})
	if r.res.Result != schedule.Cancelled {
		t.Errorf("run result %s, want cancelled\n%s", r.res.Result, r.events.String())
	}
	r.events.WantLines(t, "long", "go")
	f.wantNothingLeft(t)
}

func TestRunnerMissingImage(t *testing.T) {
	f := newWFFixture(t, "wf-missing")
	r := f.runWorkflow(t, "image.yml", wfOpts{platforms: map[string]string{"ubuntu-latest": "vermont.test/absent:1"}})
	r.wantJobs(t, map[string]schedule.Result{"build": schedule.Failure, "after": schedule.Skipped})
	found := false
	for _, l := range r.events.Lines("build") {
		found = found || strings.HasPrefix(l, "error: ") && strings.Contains(l, "vermont.test/absent:1")
	}
	if !found {
		t.Errorf("no error naming the missing image:\n%s", r.events.String())
	}
	f.wantNothingLeft(t)
}

// TestRunnerCredentials runs credentials.yml with `--pull`: its job
// container and its service live only in two private registries, each
// pulled with its own credentials:, and a job without credentials fails
// naming its image.
func TestRunnerCredentials(t *testing.T) {
	f := newWFFixture(t, "wf-credentials", containerd.WithPull())
	const basicPW, tokenPW = "wf-basic-Pa55", "wf-token-Pa55"
	basic := ctrdtest.NewRegistry(t, ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBasic, Username: "alice", Password: basicPW})
	token := ctrdtest.NewRegistry(t, ctrdtest.RegistryOptions{Auth: ctrdtest.AuthBearer, Username: "bob", Password: tokenPW})
	basic.Push(t, "team/job:1", ctrdtest.ImageOptions{Files: []ctrdtest.File{{Path: "/etc/vermont-test-image", Data: []byte("private image\n")}}})
	basic.Push(t, "team/locked:1", ctrdtest.ImageOptions{})
	token.Push(t, "team/web:1", ctrdtest.ImageOptions{Entrypoint: []string{"/serve.sh"},
		Files: []ctrdtest.File{{Path: "/serve.sh", Mode: 0o755, Data: []byte(webScript)}}})
	f.vars = map[string]any{"BASIC_REGISTRY": basic.Host(), "BASIC_USER": "alice", "TOKEN_REGISTRY": token.Host(), "TOKEN_USER": "bob"}
	f.secrets = map[string]any{"BASIC_PASSWORD": basicPW, "TOKEN_PASSWORD": tokenPW}

	r := f.runWorkflow(t, "credentials.yml", wfOpts{})
	r.wantJobs(t, map[string]schedule.Result{"private": schedule.Success, "no-credentials": schedule.Failure})
	r.events.WantLines(t, "private", "image: private image", "service: from a private service", "password: ***")
	locked := basic.Host() + "/team/locked:1"
	found := false
	for _, l := range r.events.Lines("no-credentials") {
		found = found || strings.HasPrefix(l, "error: ") && strings.Contains(l, locked) &&
			strings.Contains(l, "unauthorized") && strings.Contains(l, "container.credentials")
		if strings.Contains(l, "ran without credentials") {
			t.Error("the job without credentials ran")
		}
	}
	if !found {
		t.Errorf("no error naming %s and saying it needs credentials:\n%s", locked, r.events.String())
	}
	if out := r.events.String(); strings.Contains(out, basicPW) || strings.Contains(out, tokenPW) {
		t.Errorf("a password reached the run's output:\n%s", out)
	}
	for _, reg := range []struct {
		r    *ctrdtest.Registry
		user string
	}{{basic, "alice"}, {token, "bob"}} {
		for _, q := range reg.r.Requests() {
			if q.Username != "" && q.Username != reg.user {
				t.Errorf("registry %s got credentials of %q: %+v", reg.r.Host(), q.Username, q)
			}
		}
	}
	f.wantNothingLeft(t)
}

// BenchmarkRunnerJob runs whole jobs on an image through schedule and
// exec.Runner, as `vermont run` does: job directories, the job container's
// start, each step's script file, command files and environment, the exec,
// and the removal of everything. The per-step cost of the runner is the
// difference between the two cases divided by 10.
func BenchmarkRunnerJob(b *testing.B) {
	f := newWFFixture(b, "bench-runner")
	for _, job := range []string{"one-step", "eleven-steps"} {
		b.Run(job, func(b *testing.B) {
			plan, r := f.prepare(b, "bench.yml", nil, exec.SinkFunc(func(exec.Event) {}), job)
			s := schedule.New()
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				if res := s.Run(ctx, plan, r); res.Result != schedule.Success {
					b.Fatalf("run: %s", res.Result)
				}
			}
		})
	}
	f.wantNothingLeft(b)
}
