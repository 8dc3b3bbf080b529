package containerd_test

// End-to-end tests of the ephemeral runner pool (issue 6): the real
// webhook.Handler, vm.Pool, GitHub client (vm/github) and containerd
// provider, against the package's private containerd daemon and a fake
// GitHub at the HTTP boundary (e2e_github_test.go). Runners are busybox
// containers whose entrypoint plays GitHub's runner contract.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/snapshots"

	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/containerd"
	"github.com/vermont-ci/vermont/vm/github"
	"github.com/vermont-ci/vermont/webhook"
)

// runnerEntrypoint plays GitHub's runner contract: it reads the JIT config
// it was given (the environment variable, checked against the file),
// decodes its name, broker and credential, reports, long-polls the broker
// for one job, "runs" it, reports it done and exits 0: one job per runner.
// The trap comes first because PID 1 ignores SIGTERM until it has one; the
// broker calls run in the background so that SIGTERM interrupts them.
const runnerEntrypoint = `#!/bin/sh
trap 'echo "runner: terminated"; exit 143' TERM
cfg="$ACTIONS_RUNNER_INPUT_JITCONFIG"
[ -n "$cfg" ] || { echo "runner: no ACTIONS_RUNNER_INPUT_JITCONFIG" >&2; exit 64; }
[ "$(cat /run/vermont/jitconfig)" = "$cfg" ] || { echo "runner: /run/vermont/jitconfig differs from the environment" >&2; exit 65; }
doc=$(printf %s "$cfg" | base64 -d) || { echo "runner: config is not base64" >&2; exit 66; }
field() { printf %s "$doc" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
name=$(field name); broker=$(field broker); token=$(field token)
echo "runner $name: configured"
call() {
	p=$1; shift
	rm -f /tmp/reply
	wget -q -O /tmp/reply --header "Authorization: Bearer $token" "$@" "$broker/$p" &
	wait $!
}
job=
while [ -z "$job" ]; do
	if call acquire; then job=$(cat /tmp/reply); else sleep 1; fi
done
echo "runner $name: running job $job"
until call complete --post-data "job=$job"; do sleep 1; done
echo "runner $name: job $job completed"
exit 0
`

// runnerLabels are the labels of the test pool and of every test job.
var runnerLabels = []string{"self-hosted", "linux"}

// world is one test's containerd namespace, runner image and fake GitHub.
type world struct {
	d     *ctrdtest.Daemon
	ns    string
	c     *ctrd.Client
	image string
	state string // the providers' state directory
	gh    *fakeGitHub
}

func newWorld(t testing.TB, ns string) *world {
	t.Helper()
	d := containerd.SharedDaemon(t)
	c := d.Client(t, ctrd.WithNamespace(ns))
	image := ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{
		Name:       "vermont.test/e2e-runner:latest",
		Entrypoint: []string{"/entrypoint.sh"},
		Files:      []ctrdtest.File{{Path: "/entrypoint.sh", Mode: 0o755, Data: []byte(runnerEntrypoint)}},
	})
	return &world{d: d, ns: ns, c: c, image: image, state: t.TempDir(), gh: newFakeGitHub(t)}
}

// providerOptions are the options of every provider on w, as `vermont
// pool` sets them (host network: the runner must reach GitHub), but the
// controller ID.
func (w *world) providerOptions() []containerd.Option {
	return []containerd.Option{
		containerd.WithAddress(w.d.Address()),
		containerd.WithNamespace(w.ns),
		containerd.WithSnapshotter(w.d.Snapshotter()),
		containerd.WithStateDir(w.state),
		containerd.WithNetwork(containerd.NetworkHost),
		containerd.WithStopTimeout(2 * time.Second),
	}
}

// containers returns the namespace's containers (every one, not only the
// pool's) and whether each one's task is running, asked of containerd.
func (w *world) containers(t testing.TB) map[string]bool {
	t.Helper()
	ctx := w.c.Context(context.Background())
	conts, err := w.c.Containerd().Containers(ctx)
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	out := map[string]bool{}
	for _, c := range conts {
		running := false
		if task, err := c.Task(ctx, nil); err == nil {
			st, err := task.Status(ctx)
			running = err == nil && st.Status == "running"
		}
		out[c.ID()] = running
	}
	return out
}

// activeSnapshots returns the namespace's active (container) snapshots.
func (w *world) activeSnapshots(t testing.TB) []string {
	t.Helper()
	ctx := w.c.Context(context.Background())
	var out []string
	err := w.c.Containerd().SnapshotService(w.d.Snapshotter()).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive {
			out = append(out, info.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list snapshots: %v", err)
	}
	sort.Strings(out)
	return out
}

// assertOnly checks that containerd holds exactly the containers of names
// (instance names of controller), all running, with one active snapshot
// each, and nothing else.
func (w *world) assertOnly(t testing.TB, controller string, names []string) {
	t.Helper()
	var want []string
	for _, n := range names {
		want = append(want, controller+"-"+n)
	}
	sort.Strings(want)
	conts := w.containers(t)
	var got []string
	for id, running := range conts {
		got = append(got, id)
		if !running {
			t.Errorf("container %s is not running", id)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("containerd containers = %v, want %v", got, want)
	}
	if snaps := w.activeSnapshots(t); !slices.Equal(snaps, want) {
		t.Errorf("containerd active snapshots = %v, want %v", snaps, want)
	}
}

// jobEvents is cmd/vermont's adapter of webhook events onto the pool,
// reproduced (it is unexported there), recording what it was handed and
// which instance each queued job was assigned to.
type jobEvents struct {
	pool *vm.Pool

	mu       sync.Mutex
	events   []webhook.JobEvent
	assigned map[int64]string
}

// HandleJob implements webhook.JobHandler as cmd/vermont/pool.go does.
func (j *jobEvents) HandleJob(ctx context.Context, ev webhook.JobEvent) error {
	j.mu.Lock()
	j.events = append(j.events, ev)
	j.mu.Unlock()
	switch ev.Action {
	case "queued":
		name, err := j.pool.JobQueued(ctx, ev.Labels, ev.JobID)
		j.mu.Lock()
		j.assigned[ev.JobID] = name
		j.mu.Unlock()
		return err
	case "in_progress":
		return j.pool.JobStarted(ctx, ev.RunnerName, ev.JobID)
	case "completed":
		return j.pool.JobCompleted(ctx, ev.RunnerName, ev.JobID)
	}
	return nil
}

// assignedTo returns the instance JobQueued assigned jobID to.
func (j *jobEvents) assignedTo(jobID int64) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.assigned[jobID]
}

// handled returns how many events with action were handed to the pool.
func (j *jobEvents) handled(action string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, ev := range j.events {
		if ev.Action == action {
			n++
		}
	}
	return n
}

// rigConfig configures a pool rig.
type rigConfig struct {
	minIdle, max int
	stateDir     string                            // default: a temporary directory
	wrap         func(vm.VMProvider) vm.VMProvider // wraps the containerd provider
	backoff      vm.Backoff                        // default: 50ms doubling to 1s
}

// rig is a pool wired as `vermont pool` wires it: the containerd provider,
// the GitHub client against the fake, the webhook handler on HTTP.
type rig struct {
	controller string
	prefix     string
	pool       *vm.Pool
	provider   *containerd.Provider
	jobs       *jobEvents
	hook       http.Handler
	srv        *httptest.Server
	logs       *syncBuffer
}

// startRig starts a pool on w (or, in the child process, on the daemon and
// fake GitHub the parent names) and closes it when t ends.
func startRig(t testing.TB, opts []containerd.Option, ghURL, image string, cfg rigConfig) *rig {
	t.Helper()
	ctx := context.Background()
	if cfg.stateDir == "" {
		cfg.stateDir = t.TempDir()
	}
	controller, err := vm.ControllerID(ctx, cfg.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{controller: controller, prefix: "vermont-" + controller, jobs: &jobEvents{assigned: map[int64]string{}}, logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.provider, err = containerd.New(ctx, append(opts, containerd.WithControllerID(controller), containerd.WithLogger(log))...)
	if err != nil {
		t.Fatalf("containerd provider: %v", err)
	}
	var provider vm.VMProvider = r.provider
	if cfg.wrap != nil {
		provider = cfg.wrap(provider)
	}
	runners, err := github.New(github.WithBaseURL(ghURL), github.WithToken(ghPAT), github.WithRepo(ghOwner, ghRepo), github.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.backoff == nil {
		cfg.backoff = func(attempt int) time.Duration { return min(50*time.Millisecond<<attempt, time.Second) }
	}
	r.pool, err = vm.New(provider, runners,
		vm.WithPools(vm.PoolConfig{Name: "linux", Labels: []string{"linux"}, MinIdle: cfg.minIdle, Max: cfg.max, Image: image}),
		vm.WithStateDir(cfg.stateDir), vm.WithPrefix(r.prefix), vm.WithLogger(log), vm.WithBackoff(cfg.backoff),
		vm.WithBootstrapTimeout(time.Minute), vm.WithDestroyTimeout(30*time.Second), vm.WithDestroyBusyOnClose(true))
	if err != nil {
		t.Fatal(err)
	}
	r.jobs.pool = r.pool
	if r.hook, err = webhook.NewHandler([]byte(ghSecret), r.jobs, webhook.WithLogger(log)); err != nil {
		t.Fatal(err)
	}
	if err := r.pool.Start(ctx); err != nil {
		t.Fatalf("pool start: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhook", r.hook)
	r.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		r.srv.Close()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := r.pool.Close(cctx); err != nil {
			t.Errorf("pool close: %v", err)
		}
		r.provider.Close()
		if t.Failed() {
			t.Logf("pool log:\n%s", r.logs.tail(200))
		}
	})
	return r
}

// startPool starts a rig on w with hooks from w's GitHub going to it.
func (w *world) startPool(t testing.TB, cfg rigConfig) *rig {
	t.Helper()
	r := startRig(t, w.providerOptions(), w.gh.URL(), w.image, cfg)
	w.gh.setHook(r.srv.URL + "/webhook")
	return r
}

// names returns the instances the provider lists, sorted.
func (r *rig) names(t testing.TB) []string {
	t.Helper()
	list, err := r.provider.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range list {
		out = append(out, in.Name)
	}
	return out
}

// waitSteady waits until the pool holds exactly idle idle and busy busy
// instances and nothing else (no create or destroy in flight).
func (r *rig) waitSteady(t testing.TB, idle, busy int) vm.Snapshot {
	t.Helper()
	var s vm.Snapshot
	eventually(t, fmt.Sprintf("pool steady at %d idle, %d busy", idle, busy), func() bool {
		s = r.pool.Snapshot()
		return s.States[vm.StateIdle] == idle && s.States[vm.StateBusy] == busy && s.Total() == idle+busy
	}, func() string { return fmt.Sprintf("snapshot %+v", r.pool.Snapshot()) })
	return s
}

// eventually polls cond until it holds. The deadline only keeps a broken
// run from hanging: nothing asserts how long anything takes.
func eventually(t testing.TB, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s: %s", what, state())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) tail(lines int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := strings.Split(s.b.String(), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// TestE2EQueuedAndCompleted: a queued job is assigned to the idle instance
// and a replacement is warmed; when the job completes, the instance that
// ran it is destroyed and its GitHub runner removed.
func TestE2EQueuedAndCompleted(t *testing.T) {
	w := newWorld(t, "e2e-lifecycle")
	r := w.startPool(t, rigConfig{minIdle: 1, max: 3})
	r.waitSteady(t, 1, 0)
	idle := r.names(t)
	if len(idle) != 1 || w.gh.jitCount() != 1 {
		t.Fatalf("warm pool: instances %v, %d JIT configs; want 1 and 1", idle, w.gh.jitCount())
	}
	w.assertOnly(t, r.controller, idle)
	w.waitLog(t, r, idle[0], "runner "+idle[0]+": configured")

	job, status := w.gh.queue(runnerLabels, true)
	if status != http.StatusOK {
		t.Fatalf("queued delivery: status %d, want 200", status)
	}
	if got := r.jobs.assignedTo(job.id); got != idle[0] {
		t.Errorf("queued job assigned to %q, want the idle instance %q", got, idle[0])
	}
	if s := r.pool.Snapshot(); s.States[vm.StateBusy] != 1 || s.States[vm.StateCreating]+s.States[vm.StateIdle] != 1 {
		t.Errorf("right after queued: %v; want 1 busy and a replacement warming", s.States)
	}
	r.waitSteady(t, 1, 1)
	w.assertOnly(t, r.controller, r.names(t))
	if n := w.gh.jitCount(); n != 2 {
		t.Errorf("JIT configs = %d, want 2", n)
	}

	eventually(t, "a runner to take the job", func() bool { return w.gh.job(job.id).status == "in_progress" },
		func() string { return fmt.Sprintf("%+v", w.gh.job(job.id)) })
	ran := w.gh.job(job.id)
	w.gh.release(job)
	r.waitSteady(t, 1, 0)
	left := r.names(t)
	if slices.Contains(left, ran.runner) {
		t.Errorf("instance %s that ran the job still exists: %v", ran.runner, left)
	}
	if !w.gh.removed(ran.runnerID) {
		t.Errorf("GitHub runner %d (%s) was not removed", ran.runnerID, ran.runner)
	}
	w.assertOnly(t, r.controller, left)
	for _, d := range w.gh.delivered() {
		if d.status != http.StatusOK {
			t.Errorf("delivery %s (%s job %d): status %d", d.id, d.action, d.job, d.status)
		}
	}
	assertNoStaleRunners(t, w, r)
}

// waitLog waits until the instance's runner log contains want.
func (w *world) waitLog(t testing.TB, r *rig, name, want string) {
	t.Helper()
	eventually(t, "runner log "+strings.TrimSpace(want), func() bool {
		b, _ := os.ReadFile(r.provider.LogPath(name))
		return strings.Contains(string(b), want)
	}, func() string { b, _ := os.ReadFile(r.provider.LogPath(name)); return string(b) })
}

// assertNoStaleRunners checks that GitHub holds a registration for each
// live instance and for nothing else.
func assertNoStaleRunners(t testing.TB, w *world, r *rig) {
	t.Helper()
	if got, want := w.gh.registered(), r.names(t); !slices.Equal(got, want) {
		t.Errorf("GitHub runners = %v, want those of the live instances %v", got, want)
	}
}

// maxTracker wraps a provider and tracks how many instances exist at once:
// from the moment Create is called until Destroy returns.
type maxTracker struct {
	vm.VMProvider
	mu   sync.Mutex
	live map[string]bool
	max  int
}

func (m *maxTracker) Create(ctx context.Context, spec vm.Spec) (vm.Instance, error) {
	m.mu.Lock()
	m.live[spec.Name] = true
	m.max = max(m.max, len(m.live))
	m.mu.Unlock()
	in, err := m.VMProvider.Create(ctx, spec)
	if err != nil {
		m.mu.Lock()
		delete(m.live, spec.Name)
		m.mu.Unlock()
	}
	return in, err
}

func (m *maxTracker) Destroy(ctx context.Context, name string) error {
	err := m.VMProvider.Destroy(ctx, name)
	if err == nil {
		m.mu.Lock()
		delete(m.live, name)
		m.mu.Unlock()
	}
	return err
}

// TestE2EFiftyJobsMaxTen queues 50 jobs on a pool of at most 10: the pool
// fills to 10 and no further (counted at the provider and sampled from
// containerd), and every job is served by a runner of its own.
func TestE2EFiftyJobsMaxTen(t *testing.T) {
	const jobs, maxInstances, minIdle = 50, 10, 2
	w := newWorld(t, "e2e-burst")
	tracker := &maxTracker{live: map[string]bool{}}
	r := w.startPool(t, rigConfig{minIdle: minIdle, max: maxInstances, wrap: func(p vm.VMProvider) vm.VMProvider {
		tracker.VMProvider = p
		return tracker
	}})
	r.waitSteady(t, minIdle, 0)

	stop := make(chan struct{})
	sampled := make(chan int)
	go func() { // containerd's own count, sampled while the burst runs
		most := 0
		for {
			select {
			case <-stop:
				sampled <- most
				return
			case <-time.After(10 * time.Millisecond):
				if conts, err := w.c.Containerd().Containers(w.c.Context(context.Background())); err == nil {
					most = max(most, len(conts))
				}
			}
		}
	}()

	// Hold every job, so the pool is seen full: 10 runners each on a job,
	// 40 jobs waiting for an instance.
	var queued []*ghJob
	for range jobs {
		j, status := w.gh.queue(runnerLabels, true)
		if status != http.StatusOK {
			t.Fatalf("queued delivery for job %d: status %d", j.id, status)
		}
		queued = append(queued, j)
	}
	eventually(t, "10 jobs running and the pool full", func() bool {
		s := r.pool.Snapshot()
		return w.gh.count("in_progress") == maxInstances && s.States[vm.StateBusy] == maxInstances && s.Total() == maxInstances
	}, func() string {
		return fmt.Sprintf("in progress %d, snapshot %+v", w.gh.count("in_progress"), r.pool.Snapshot())
	})
	if s := r.pool.Snapshot(); s.Pending != jobs-maxInstances {
		t.Errorf("pending jobs = %d, want %d", s.Pending, jobs-maxInstances)
	}
	if n := len(w.containers(t)); n != maxInstances {
		t.Errorf("containerd holds %d containers with the pool full, want %d", n, maxInstances)
	}

	w.gh.release()
	eventually(t, "every job completed", func() bool { return w.gh.count("completed") == jobs },
		func() string { return fmt.Sprintf("%d completed", w.gh.count("completed")) })
	r.waitSteady(t, minIdle, 0)
	close(stop)
	most := <-sampled

	if tracker.max != maxInstances {
		t.Errorf("at most %d instances existed at once (provider count), want exactly %d", tracker.max, maxInstances)
	}
	if most > maxInstances {
		t.Errorf("containerd held %d containers at once, want at most %d", most, maxInstances)
	}
	runnersUsed := map[string]int64{}
	for _, j := range queued {
		got := w.gh.job(j.id)
		if prev, dup := runnersUsed[got.runner]; dup {
			t.Errorf("runner %s ran jobs %d and %d", got.runner, prev, got.id)
		}
		runnersUsed[got.runner] = got.id
		if !w.gh.removed(got.runnerID) {
			t.Errorf("runner %s (job %d) not removed from GitHub", got.runner, got.id)
		}
	}
	for _, d := range w.gh.delivered() {
		if d.status != http.StatusOK {
			t.Errorf("delivery %s (%s job %d): status %d", d.id, d.action, d.job, d.status)
		}
	}
	w.assertOnly(t, r.controller, r.names(t))
	assertNoStaleRunners(t, w, r)
	t.Logf("%d jobs, %d runners registered, most instances at once: %d (provider), %d (containerd samples)",
		jobs, w.gh.jitCount(), tracker.max, most)
}

// TestE2EWebhookRejectsAndReplays: deliveries with a bad signature get 401
// and create nothing; a replayed delivery does not create a second
// instance.
func TestE2EWebhookRejectsAndReplays(t *testing.T) {
	w := newWorld(t, "e2e-webhook")
	r := w.startPool(t, rigConfig{minIdle: 1, max: 3})
	r.waitSteady(t, 1, 0)
	url := r.srv.URL + "/webhook"

	job := &ghJob{id: 777001, runID: 880001, labels: runnerLabels, status: "queued"}
	body := w.gh.payload("queued", job)
	t.Run("bad signature", func(t *testing.T) {
		tests := []struct {
			name string
			body []byte
			sig  string
		}{
			{name: "wrong secret", body: body, sig: sign([]byte("not-the-secret"), body)},
			{name: "missing", body: body, sig: ""},
			{name: "body tampered", body: bytes.Replace(body, []byte("777001"), []byte("777002"), 1), sig: sign([]byte(ghSecret), body)},
			{name: "sha1 scheme", body: body, sig: strings.Replace(sign([]byte(ghSecret), body), "sha256=", "sha1=", 1)},
			{name: "truncated", body: body, sig: sign([]byte(ghSecret), body)[:40]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, conts, jits := r.pool.Snapshot(), w.containers(t), w.gh.jitCount()
				if status := post(url, newDeliveryID(), tt.body, tt.sig); status != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", status)
				}
				// JobQueued marks new instances creating before it returns,
				// so anything the delivery caused shows at once.
				if after := r.pool.Snapshot(); !maps.Equal(after.States, before.States) || after.Pending != before.Pending {
					t.Errorf("pool changed: %+v → %+v", before, after)
				}
				if n := r.jobs.handled("queued"); n != 0 {
					t.Errorf("%d queued events reached the pool", n)
				}
				if got := w.containers(t); len(got) != len(conts) || w.gh.jitCount() != jits {
					t.Errorf("containers %v → %v, JIT configs %d → %d", conts, got, jits, w.gh.jitCount())
				}
			})
		}
	})
	t.Run("replayed delivery", func(t *testing.T) {
		id := newDeliveryID()
		jits := w.gh.jitCount()
		for i, want := range []int{http.StatusOK, http.StatusOK} {
			if status := post(url, id, body, sign([]byte(ghSecret), body)); status != want {
				t.Fatalf("delivery %d: status %d, want %d", i+1, status, want)
			}
		}
		if n := r.jobs.handled("queued"); n != 1 {
			t.Errorf("the pool was handed %d queued events, want 1", n)
		}
		s := r.waitSteady(t, 1, 1)
		if n := w.gh.jitCount() - jits; n != 1 {
			t.Errorf("%d instances created for one job, want 1 replacement", n)
		}
		w.assertOnly(t, r.controller, r.names(t))
		// GitHub cancels the job before any runner takes it.
		job.status = "completed"
		cancelled := w.gh.payload("completed", job)
		if status := post(url, newDeliveryID(), cancelled, sign([]byte(ghSecret), cancelled)); status != http.StatusOK {
			t.Fatalf("completed delivery: status %d", status)
		}
		r.waitSteady(t, 1, 0)
		t.Logf("steady with the job: %v", s.States)
	})
}

// failingCreates makes the provider's first n creates really fail: they
// use an image whose entrypoint does not exist, so containerd creates the
// container and its snapshot and then cannot start the task. It records
// when each create began.
type failingCreates struct {
	vm.VMProvider
	bad    string
	mu     sync.Mutex
	n      int
	starts []time.Time
	errs   []error
}

func (f *failingCreates) Create(ctx context.Context, spec vm.Spec) (vm.Instance, error) {
	f.mu.Lock()
	f.starts = append(f.starts, time.Now())
	if f.n > 0 {
		f.n--
		spec.Image = f.bad
	}
	f.mu.Unlock()
	in, err := f.VMProvider.Create(ctx, spec)
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
	return in, err
}

// backoffCall is one call of the pool's Backoff.
type backoffCall struct {
	attempt int
	at      time.Time
	d       time.Duration
}

// TestE2ECreateFailuresBackOffAndLeakNothing: creates that fail inside
// containerd make the pool back off (each retry no sooner than the backoff
// it was given) and leave no container, snapshot, state file or GitHub
// runner behind; the pool then recovers.
func TestE2ECreateFailuresBackOffAndLeakNothing(t *testing.T) {
	const failures = 3
	w := newWorld(t, "e2e-failures")
	bad := ctrdtest.BusyboxImage(t, w.c, ctrdtest.ImageOptions{Name: "vermont.test/broken-runner:latest", Entrypoint: []string{"/no/such/runner"}})
	fc := &failingCreates{bad: bad, n: failures}
	var (
		mu    sync.Mutex
		calls []backoffCall
	)
	backoff := func(attempt int) time.Duration {
		d := time.Duration(attempt) * 150 * time.Millisecond
		mu.Lock()
		calls = append(calls, backoffCall{attempt: attempt, at: time.Now(), d: d})
		mu.Unlock()
		return d
	}
	// One instance at a time, so each create follows the previous failure.
	r := w.startPool(t, rigConfig{minIdle: 1, max: 1, backoff: backoff, wrap: func(p vm.VMProvider) vm.VMProvider {
		fc.VMProvider = p
		return fc
	}})
	r.waitSteady(t, 1, 0)

	mu.Lock()
	defer mu.Unlock()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	var attempts []int
	for _, c := range calls {
		attempts = append(attempts, c.attempt)
	}
	if !slices.Equal(attempts, []int{1, 2, 3}) {
		t.Errorf("backoff attempts = %v, want [1 2 3]", attempts)
	}
	if len(fc.starts) != failures+1 {
		t.Fatalf("%d creates, want %d", len(fc.starts), failures+1)
	}
	for i, err := range fc.errs {
		if (err != nil) != (i < failures) {
			t.Errorf("create %d: err = %v", i+1, err)
		}
		if err != nil && strings.Contains(err.Error(), "eyJ") {
			t.Errorf("create %d: error carries the runner config: %v", i+1, err)
		}
	}
	for i, c := range calls {
		if next := fc.starts[i+1]; next.Before(c.at.Add(c.d)) {
			t.Errorf("create %d began %s after failure %d, before its backoff of %s ended", i+2, next.Sub(c.at), i+1, c.d)
		}
	}
	live := r.names(t)
	w.assertOnly(t, r.controller, live)
	for name, c := range w.gh.jitByName() {
		if !slices.Contains(live, name) && !w.gh.removed(c.id) {
			t.Errorf("runner %s of a failed create was not removed from GitHub", name)
		}
	}
	assertNoStaleRunners(t, w, r)
	entries, err := os.ReadDir(w.state + "/" + w.ns + "/" + r.controller)
	if err != nil || len(entries) != 1 || entries[0].Name() != live[0] {
		t.Errorf("provider state holds %v (%v), want only %s", entries, err, live[0])
	}
}

// childEnv carries a childConfig to the pool process of
// TestE2EKillAndRestart.
const childEnv = "VERMONT_E2E_POOL_CHILD"

// childConfig is what the pool process needs to reach the parent's daemon,
// namespace and fake GitHub.
type childConfig struct {
	Address, Snapshotter, Namespace string
	ProviderState, PoolState        string
	GitHubURL, Image                string
	MinIdle, Max                    int
}

// TestE2EPoolProcess is not a test of its own: TestE2EKillAndRestart runs
// the test binary again with only this test selected and childEnv set, so
// that a pool lives in a process it can kill with SIGKILL. Run normally,
// it returns at once.
func TestE2EPoolProcess(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	opts := []containerd.Option{
		containerd.WithAddress(cfg.Address), containerd.WithNamespace(cfg.Namespace),
		containerd.WithSnapshotter(cfg.Snapshotter), containerd.WithStateDir(cfg.ProviderState),
		containerd.WithNetwork(containerd.NetworkHost), containerd.WithStopTimeout(2 * time.Second),
	}
	r := startRig(t, opts, cfg.GitHubURL, cfg.Image, rigConfig{minIdle: cfg.MinIdle, max: cfg.Max, stateDir: cfg.PoolState})
	fmt.Printf("e2e-child: hook %s/webhook\n", r.srv.URL)
	// Report every change of the pool's counts; the parent kills this
	// process once it sees what it waits for.
	last := ""
	for {
		s := r.pool.Snapshot()
		line := fmt.Sprintf("e2e-child: idle=%d busy=%d total=%d", s.States[vm.StateIdle], s.States[vm.StateBusy], s.Total())
		if line != last {
			fmt.Println(line)
			last = line
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// child is a pool process.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	hook  string
}

func (w *world) startChild(t *testing.T, stateDir string, minIdle, max int) *child {
	t.Helper()
	cfg, _ := json.Marshal(childConfig{
		Address: w.d.Address(), Snapshotter: w.d.Snapshotter(), Namespace: w.ns,
		ProviderState: w.state, PoolState: stateDir, GitHubURL: w.gh.URL(), Image: w.image,
		MinIdle: minIdle, Max: max,
	})
	cmd := exec.Command(os.Args[0], "-test.run=^TestE2EPoolProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1024)}
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("pool process stderr:\n%s", stderr.tail(100))
		}
	})
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "e2e-child: "); ok {
				c.lines <- line
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	c.hook = strings.TrimPrefix(c.waitLine(t, "hook "), "hook ")
	return c
}

// waitLine returns the pool process's first report starting with prefix.
func (c *child) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(90 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				t.Fatalf("pool process exited before reporting %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-timeout:
			t.Fatalf("pool process did not report %q", prefix)
		}
	}
}

// kill kills the pool process with SIGKILL: no Close, no cleanup.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}

// TestE2EKillAndRestart kills a pool process (SIGKILL: no Close) holding
// two idle instances and a busy one. While it is down, a job is queued
// whose webhook nobody receives and an idle runner takes and finishes it,
// and an instance carrying the controller's labels appears that the state
// does not know. A new pool on the same state directory and containerd
// then adopts the running instances, destroys the exited one and the
// orphan, tops up to min-idle, and finishes the adopted busy instance when
// its job completes: exactly min-idle instances are left, asserted by
// listing containerd, and no GitHub runner is left without an instance.
func TestE2EKillAndRestart(t *testing.T) {
	const minIdle, maxInstances = 2, 4
	w := newWorld(t, "e2e-restart")
	stateDir := t.TempDir()
	c := w.startChild(t, stateDir, minIdle, maxInstances)
	w.gh.setHook(c.hook)
	c.waitLine(t, "idle=2 busy=0 total=2")
	held, status := w.gh.queue(runnerLabels, true)
	if status != http.StatusOK {
		t.Fatalf("queued delivery to the pool process: status %d", status)
	}
	eventually(t, "a runner to take the held job", func() bool { return w.gh.job(held.id).status == "in_progress" },
		func() string { return fmt.Sprintf("%+v", w.gh.job(held.id)) })
	c.waitLine(t, "idle=2 busy=1 total=3")
	c.kill()
	w.gh.setHook("")

	// While the pool is down.
	done, status := w.gh.queue(runnerLabels, false)
	if status != 0 {
		t.Fatalf("queued delivery while the pool is down: status %d, want none", status)
	}
	eventually(t, "an idle runner to finish the job queued while down", func() bool { return w.gh.job(done.id).status == "completed" },
		func() string { return fmt.Sprintf("%+v", w.gh.job(done.id)) })
	exited := w.gh.job(done.id).runner
	controller, err := vm.ControllerID(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the runner that finished to exit", func() bool { return !w.containers(t)[controller+"-"+exited] },
		func() string { return fmt.Sprintf("%v", w.containers(t)) })
	orphan := "vermont-" + controller + "-linux-0badc0de"
	planter, err := containerd.New(context.Background(), append(w.providerOptions(), containerd.WithControllerID(controller))...)
	if err != nil {
		t.Fatal(err)
	}
	defer planter.Close()
	if _, err := planter.Create(context.Background(), vm.Spec{Name: orphan, Pool: "linux", Image: w.image, RunnerConfig: "e30="}); err != nil {
		t.Fatalf("planting an orphan: %v", err)
	}
	if n := len(w.containers(t)); n != 4 {
		t.Fatalf("before restart containerd holds %d containers, want 4 (busy, idle, exited, orphan): %v", n, w.containers(t))
	}

	r := w.startPool(t, rigConfig{minIdle: minIdle, max: maxInstances, stateDir: stateDir})
	if r.controller != controller {
		t.Fatalf("restarted pool's controller %s, want %s", r.controller, controller)
	}
	r.waitSteady(t, minIdle, 1)
	live := r.names(t)
	busy := w.gh.job(held.id).runner
	if !slices.Contains(live, busy) {
		t.Errorf("busy instance %s (job %d) was not adopted: %v", busy, held.id, live)
	}
	for _, gone := range []string{exited, orphan} {
		if slices.Contains(live, gone) {
			t.Errorf("instance %s survived reconciliation: %v", gone, live)
		}
	}
	w.assertOnly(t, controller, live)
	if id := w.gh.job(done.id).runnerID; !w.gh.removed(id) {
		t.Errorf("GitHub runner %d of the exited instance was not removed", id)
	}

	// The adopted busy instance's job completes under the new pool.
	ran := w.gh.job(held.id)
	w.gh.release(held)
	r.waitSteady(t, minIdle, 0)
	live = r.names(t)
	if len(live) != minIdle || slices.Contains(live, ran.runner) {
		t.Errorf("after the adopted job completed: instances %v, want %d without %s", live, minIdle, ran.runner)
	}
	w.assertOnly(t, controller, live)
	if !w.gh.removed(ran.runnerID) {
		t.Errorf("GitHub runner %d of the adopted busy instance was not removed", ran.runnerID)
	}
	assertNoStaleRunners(t, w, r)
}

// BenchmarkE2EWebhookToAssigned measures a signed workflow_job queued
// delivery through webhook.Handler until the pool has assigned the job to
// a warm instance on real containerd (reported as assign-p50-ms and
// assign-p90-ms). ns/op is a whole job cycle: the runner takes the job,
// completes it, is destroyed, and a replacement is warmed. Run it with a
// fixed count, e.g. -benchtime=30x.
func BenchmarkE2EWebhookToAssigned(b *testing.B) {
	w := newWorld(b, "e2e-bench")
	r := w.startPool(b, rigConfig{minIdle: 2, max: 4})
	var lat []time.Duration
	for b.Loop() {
		r.waitSteady(b, 2, 0)
		j := w.gh.newJob(runnerLabels, false)
		body := w.gh.payload("queued", j)
		req := webhookRequest("/webhook", newDeliveryID(), body, sign([]byte(ghSecret), body))
		rec := httptest.NewRecorder()
		start := time.Now()
		r.hook.ServeHTTP(rec, req)
		lat = append(lat, time.Since(start))
		if rec.Code != http.StatusOK || r.jobs.assignedTo(j.id) == "" {
			b.Fatalf("delivery: status %d, assigned %q", rec.Code, r.jobs.assignedTo(j.id))
		}
		w.gh.offer(j)
		eventually(b, "the job to complete", func() bool { return w.gh.job(j.id).status == "completed" }, func() string { return "" })
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "assign-p50-ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "assign-p90-ms")
}
