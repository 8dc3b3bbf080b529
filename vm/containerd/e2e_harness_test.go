package containerd_test

// The harness of the end-to-end tests in e2e_test.go: a containerd
// namespace with a runner image (world), a pool wired as `vermont pool`
// wires it (rig), provider wrappers that count and fail, and a pool in a
// process of its own that can be killed.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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

// jobEvents records the webhook events handed to the pool, through the
// same webhook.PoolHandler that vermont pool uses, and which instance each
// queued job was assigned to.
type jobEvents struct {
	*vm.Pool

	mu       sync.Mutex
	events   []webhook.JobEvent
	assigned map[int64]string
}

// HandleJob implements webhook.JobHandler: it records ev and passes it on.
func (j *jobEvents) HandleJob(ctx context.Context, ev webhook.JobEvent) error {
	j.mu.Lock()
	j.events = append(j.events, ev)
	j.mu.Unlock()
	return webhook.PoolHandler(j).HandleJob(ctx, ev)
}

// JobQueued records the assignment the pool made.
func (j *jobEvents) JobQueued(ctx context.Context, labels []string, jobID int64) (string, error) {
	name, err := j.Pool.JobQueued(ctx, labels, jobID)
	j.mu.Lock()
	j.assigned[jobID] = name
	j.mu.Unlock()
	return name, err
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
	r.jobs.Pool = r.pool
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

// sampleContainers counts the namespace's containers every 10ms until the
// returned function is called; that returns the most seen at once.
func (w *world) sampleContainers() func() int {
	stop := make(chan struct{})
	result := make(chan int)
	go func() {
		most := 0
		for {
			select {
			case <-stop:
				result <- most
				return
			case <-time.After(10 * time.Millisecond):
				if conts, err := w.c.Containerd().Containers(w.c.Context(context.Background())); err == nil {
					most = max(most, len(conts))
				}
			}
		}
	}()
	return func() int {
		close(stop)
		return <-result
	}
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
