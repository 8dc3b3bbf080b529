package vm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

// fixture is a pool over the in-memory provider and runners.
type fixture struct {
	pool     *vm.Pool
	prov     *vmtest.Provider
	runners  *vmtest.Runners
	logs     *syncBuffer
	registry *prometheus.Registry
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fastBackoff retries after a millisecond, so tests never sleep long.
func fastBackoff(int) time.Duration { return time.Millisecond }

func newFixture(t testing.TB, prov *vmtest.Provider, runners *vmtest.Runners, opts ...vm.Option) *fixture {
	t.Helper()
	if prov == nil {
		prov = vmtest.New()
	}
	if runners == nil {
		runners = vmtest.NewRunners()
	}
	f := &fixture{prov: prov, runners: runners, logs: &syncBuffer{}, registry: prometheus.NewRegistry()}
	base := []vm.Option{
		vm.WithBackoff(fastBackoff),
		vm.WithLogger(slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		vm.WithRegistry(f.registry),
	}
	p, err := vm.New(prov, runners, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.pool = p
	return f
}

func (f *fixture) start(t testing.TB) {
	t.Helper()
	if err := f.pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.pool.Close(ctx)
	})
}

// eventually polls cond until it holds; the deadline only guards against a
// hung test, it asserts nothing about speed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *fixture) idle() int { return f.pool.Snapshot().States[vm.StateIdle] }
func (f *fixture) busy() int { return f.pool.Snapshot().States[vm.StateBusy] }

// settled reports that the pool holds exactly idle idle and busy busy
// instances and nothing in between, and the provider agrees.
func (f *fixture) settled(idle, busy int) func() bool {
	return func() bool {
		s := f.pool.Snapshot()
		return s.States[vm.StateIdle] == idle && s.States[vm.StateBusy] == busy && s.Total() == idle+busy &&
			len(f.prov.Instances()) == idle+busy
	}
}

func onePool(minIdle, max int) vm.Option {
	return vm.WithPools(vm.PoolConfig{Name: "linux", Labels: []string{"linux"}, MinIdle: minIdle, Max: max, Image: "img"})
}

func TestQueuedAssignsIdleAndWarmsAnother(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(2, 5))
	f.start(t)
	eventually(t, "2 idle", f.settled(2, 0))
	before := f.prov.Instances()

	got, err := f.pool.JobQueued(context.Background(), []string{"self-hosted", "linux"}, 42)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(before, func(i vm.Instance) bool { return i.Name == got }) {
		t.Fatalf("JobQueued assigned %q, want one of the warm instances %v", got, before)
	}
	if s := f.pool.Snapshot(); s.States[vm.StateBusy] != 1 {
		t.Fatalf("after queued: %+v", s.States)
	}
	eventually(t, "a replacement warmed", f.settled(2, 1))
	if n := f.prov.Count("create", false); n != 3 {
		t.Fatalf("creates = %d, want 3", n)
	}
	// The same job again (a redelivery, or QueuedJobs) is not new demand.
	again, err := f.pool.JobQueued(context.Background(), []string{"self-hosted", "linux"}, 42)
	if err != nil || again != got {
		t.Fatalf("re-queued job assigned %q, %v; want %q", again, err, got)
	}
	if f.busy() != 1 {
		t.Fatalf("re-queued job took a second instance: %+v", f.pool.Snapshot().States)
	}
	spec, _ := f.prov.Spec(got)
	if spec.RunnerConfig == "" || spec.Image != "img" || spec.Pool != "linux" || spec.Env["VERMONT_INSTANCE"] != got {
		t.Fatalf("spec = %+v", spec)
	}
}

func TestCompletedDestroysAndRemovesRunner(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(1, 3))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	ctx := context.Background()
	name, err := f.pool.JobQueued(ctx, []string{"linux"}, 7)
	if err != nil || name == "" {
		t.Fatalf("JobQueued = %q, %v", name, err)
	}
	var runnerID int64
	for _, r := range f.runners.Registered() {
		if r.Name == name {
			runnerID = r.ID
		}
	}
	if runnerID == 0 {
		t.Fatalf("no runner registered for %s", name)
	}
	if err := f.pool.JobStarted(ctx, name, 7); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.JobCompleted(ctx, name, 7); err != nil {
		t.Fatal(err)
	}
	eventually(t, "used instance gone, one idle", func() bool {
		return f.settled(1, 0)() && slices.Contains(f.runners.Removed(), runnerID)
	})
	if slices.ContainsFunc(f.prov.Instances(), func(i vm.Instance) bool { return i.Name == name }) {
		t.Fatalf("used instance %s still exists", name)
	}
}

func TestRunnerExitDestroys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		started  bool
		wantBusy int // the job is re-assigned if it never started
	}{
		{name: "after its job", started: true, wantBusy: 0},
		{name: "before its job started", started: false, wantBusy: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, nil, onePool(1, 3))
			f.start(t)
			eventually(t, "1 idle", f.settled(1, 0))
			ctx := context.Background()
			name, _ := f.pool.JobQueued(ctx, nil, 1)
			if tt.started {
				if err := f.pool.JobStarted(ctx, name, 1); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.prov.Exit(name, 0); err != nil {
				t.Fatal(err)
			}
			eventually(t, "exited instance replaced", func() bool {
				return f.settled(1, tt.wantBusy)() &&
					!slices.ContainsFunc(f.prov.Instances(), func(i vm.Instance) bool { return i.Name == name })
			})
		})
	}
}

// github plays GitHub for the load test: each running instance the pool has
// assigned takes the oldest unserved job, runs it and exits.
func TestFiftyJobsNeverAboveMax(t *testing.T) {
	t.Parallel()
	const jobs, max = 50, 10
	f := newFixture(t, nil, nil, onePool(2, max))
	f.start(t)
	eventually(t, "warm", f.settled(2, 0))
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() {
			if _, err := f.pool.JobQueued(ctx, []string{"self-hosted", "linux"}, int64(1000+i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	served := map[int64]string{}
	used := map[string]bool{}
	next := int64(1000)
	eventually(t, "every job served", func() bool {
		for _, inst := range f.prov.Instances() {
			if used[inst.Name] || !inst.Running || next >= 1000+jobs {
				continue
			}
			used[inst.Name] = true
			job := next
			next++
			if err := f.pool.JobStarted(ctx, inst.Name, job); err != nil {
				t.Fatal(err)
			}
			served[job] = inst.Name
			if err := f.prov.Exit(inst.Name, 0); err != nil {
				t.Fatal(err)
			}
			if err := f.pool.JobCompleted(ctx, inst.Name, job); err != nil {
				t.Fatal(err)
			}
		}
		return len(served) == jobs
	})
	eventually(t, "back to min-idle", f.settled(2, 0))
	if m := f.prov.MaxLive(); m > max {
		t.Fatalf("provider held %d instances at once, max is %d", m, max)
	}
	if len(used) != jobs {
		t.Fatalf("%d instances ran the %d jobs; want one instance per job", len(used), jobs)
	}
	if s := f.pool.Snapshot(); s.Pending != 0 {
		t.Fatalf("pending = %d after all jobs", s.Pending)
	}
}

func TestHostMaxAcrossPools(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, vm.WithPools(
		vm.PoolConfig{Name: "a", Labels: []string{"a"}, MinIdle: 3, Max: 5},
		vm.PoolConfig{Name: "b", Labels: []string{"b"}, MinIdle: 3, Max: 5},
	), vm.WithHostMax(4))
	f.start(t)
	eventually(t, "host max reached", func() bool { return f.idle() == 4 })
	for i := range 6 {
		if _, err := f.pool.JobQueued(context.Background(), []string{"b"}, int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing frees capacity, so the pool stays at the host maximum.
	eventually(t, "b's idle instances assigned", func() bool {
		s := f.pool.Snapshot()
		return s.Pools[1].States[vm.StateIdle] == 0 && s.Total() == 4
	})
	if m := f.prov.MaxLive(); m > 4 {
		t.Fatalf("max live = %d, host max 4", m)
	}
}

func TestCreateFailuresBackOffWithoutLeaks(t *testing.T) {
	t.Parallel()
	prov := vmtest.New()
	prov.FailCreates(5, errors.New("disk full"))
	var attempts []int
	var mu sync.Mutex
	backoff := func(n int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, n)
		return time.Millisecond
	}
	f := newFixture(t, prov, nil, onePool(2, 4), vm.WithBackoff(backoff))
	f.start(t)
	eventually(t, "2 idle after failures", f.settled(2, 0))
	if n := prov.Count("create", true); n != 5 {
		t.Fatalf("failed creates = %d, want 5", n)
	}
	mu.Lock()
	if len(attempts) < 2 || !slices.IsSorted(attempts[:2]) || attempts[0] != 1 {
		t.Fatalf("backoff attempts = %v, want growing attempts from 1", attempts)
	}
	mu.Unlock()
	// Every registration of a failed instance was removed again.
	eventually(t, "failed runners removed", func() bool { return len(f.runners.Registered()) == 2 })
	if !strings.Contains(gather(t, f.registry), `vermont_pool_provider_errors_total{op="create",pool="linux"} 5`) {
		t.Fatalf("metrics lack 5 create errors:\n%s", gather(t, f.registry))
	}
}

func TestJITFailureBacksOff(t *testing.T) {
	t.Parallel()
	runners := vmtest.NewRunners()
	runners.FailJIT(3)
	f := newFixture(t, nil, runners, onePool(1, 2))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	if n := len(runners.JITCalls()); n != 4 {
		t.Fatalf("JIT calls = %d, want 3 failures + 1", n)
	}
	if n := f.prov.Count("create", false) + f.prov.Count("create", true); n != 1 {
		t.Fatalf("provider creates = %d, want 1 (none without a runner config)", n)
	}
}

func TestBootstrapTimeoutReaps(t *testing.T) {
	t.Parallel()
	var hung atomic.Int32
	prov := vmtest.New(vmtest.WithCreateHook(func(ctx context.Context, spec vm.Spec) error {
		if hung.Add(1) <= 2 {
			<-ctx.Done() // never comes up
			return ctx.Err()
		}
		return nil
	}))
	f := newFixture(t, prov, nil, onePool(1, 2), vm.WithBootstrapTimeout(100*time.Millisecond))
	f.start(t)
	eventually(t, "1 idle after 2 reaped", f.settled(1, 0))
	// Under load a healthy create may also overrun the short timeout, so
	// count at least the two hung ones, each reaped.
	failed := prov.Count("create", true)
	if failed < 2 {
		t.Fatalf("timed-out creates = %d, want at least 2", failed)
	}
	if n := prov.Count("destroy", false); n < failed {
		t.Fatalf("destroys = %d, want every one of the %d reaped instances destroyed", n, failed)
	}
}

func TestJobStartedOnAnotherRunnerSwaps(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(2, 4))
	f.start(t)
	eventually(t, "2 idle", f.settled(2, 0))
	ctx := context.Background()
	a, _ := f.pool.JobQueued(ctx, nil, 1)
	var other string
	for _, in := range f.prov.Instances() {
		if in.Name != a {
			other = in.Name
			break
		}
	}
	// GitHub hands job 1 to the other idle runner: a is released.
	if err := f.pool.JobStarted(ctx, other, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a idle again, other busy", f.settled(2, 1))
	if _, err := f.pool.RunnerConfig(ctx, a); err != nil {
		t.Fatalf("released instance has no config: %v", err)
	}
	if _, err := f.pool.RunnerConfig(ctx, other); !errors.Is(err, vm.ErrNotFound) {
		t.Fatalf("busy instance's config: err = %v, want ErrNotFound", err)
	}
}

func TestCancelledJobReleasesInstance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(1, 2))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	ctx := context.Background()
	if _, err := f.pool.JobQueued(ctx, nil, 9); err != nil {
		t.Fatal(err)
	}
	eventually(t, "1 busy 1 idle", f.settled(1, 1))
	// Cancelled before any runner took it: completed with no runner.
	if err := f.pool.JobCompleted(ctx, "", 9); err != nil {
		t.Fatal(err)
	}
	eventually(t, "back to 1 idle (extra trimmed)", f.settled(1, 0))
}

func TestIgnoredJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(1, 2))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	got, err := f.pool.JobQueued(context.Background(), []string{"ubuntu-latest"}, 5)
	if err != nil || got != "" {
		t.Fatalf("JobQueued(ubuntu-latest) = %q, %v", got, err)
	}
	if f.idle() != 1 || f.pool.Snapshot().Pending != 0 {
		t.Fatalf("ignored job changed the pool: %+v", f.pool.Snapshot())
	}
	if !strings.Contains(f.logs.String(), "no pool serves job") {
		t.Fatalf("ignored job not logged:\n%s", f.logs)
	}
}

func TestRunnerConfigAndDone(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(1, 2))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	ctx := context.Background()
	name := f.prov.Instances()[0].Name
	cfg, err := f.pool.RunnerConfig(ctx, name)
	spec, _ := f.prov.Spec(name)
	if err != nil || cfg != spec.RunnerConfig {
		t.Fatalf("RunnerConfig = %q, %v; want the config the provider got", cfg, err)
	}
	if _, err := f.pool.RunnerConfig(ctx, "nope"); !errors.Is(err, vm.ErrNotFound) {
		t.Fatalf("unknown instance: %v", err)
	}
	if err := f.pool.RunnerDone(ctx, "nope"); !errors.Is(err, vm.ErrNotFound) {
		t.Fatalf("RunnerDone(unknown) = %v", err)
	}
	if err := f.pool.RunnerDone(ctx, name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replaced", func() bool {
		return f.settled(1, 0)() && f.prov.Instances()[0].Name != name
	})
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(2, 3))
	f.start(t)
	eventually(t, "2 idle", f.settled(2, 0))
	ctx := context.Background()
	name, _ := f.pool.JobQueued(ctx, nil, 3)
	_ = f.pool.JobCompleted(ctx, name, 3)
	eventually(t, "replaced", f.settled(2, 0))
	logs := f.logs.String()
	if !strings.Contains(logs, name) {
		t.Fatalf("logs do not mention the instance; is logging wired?\n%s", logs)
	}
	for _, c := range f.prov.Calls() {
		spec, ok := f.prov.Spec(c.Name)
		if ok && spec.RunnerConfig != "" && strings.Contains(logs, spec.RunnerConfig) {
			t.Fatalf("JIT config of %s in logs", c.Name)
		}
	}
}

func TestCloseDestroysIdleLeavesBusy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		destroyBusy bool
		wantLeft    int
	}{
		{name: "default leaves busy", destroyBusy: false, wantLeft: 1},
		{name: "destroy busy", destroyBusy: true, wantLeft: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, nil, onePool(2, 3), vm.WithDestroyBusyOnClose(tt.destroyBusy))
			f.start(t)
			eventually(t, "2 idle", f.settled(2, 0))
			ctx := context.Background()
			name, _ := f.pool.JobQueued(ctx, nil, 1)
			_ = f.pool.JobStarted(ctx, name, 1)
			if err := f.pool.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(f.prov.Instances()); got != tt.wantLeft {
				t.Fatalf("instances left = %d, want %d", got, tt.wantLeft)
			}
			if _, err := f.pool.JobQueued(ctx, nil, 2); !errors.Is(err, vm.ErrClosed) {
				t.Fatalf("JobQueued after Close = %v, want ErrClosed", err)
			}
			if err := f.pool.Close(ctx); err != nil {
				t.Fatalf("second Close = %v", err)
			}
		})
	}
}

func TestNotStarted(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil)
	if _, err := f.pool.JobQueued(context.Background(), nil, 1); !errors.Is(err, vm.ErrNotStarted) {
		t.Fatalf("JobQueued before Start = %v", err)
	}
	if s := f.pool.Snapshot(); s.Total() != 0 || len(s.Pools) != 1 || s.Pools[0].MinIdle != vm.DefaultMinIdle {
		t.Fatalf("Snapshot before Start = %+v", s)
	}
	if err := f.pool.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(1, 2))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	ctx := context.Background()
	name, _ := f.pool.JobQueued(ctx, nil, 1)
	_, _ = f.pool.JobQueued(ctx, []string{"windows"}, 2)
	_ = f.pool.JobStarted(ctx, name, 1)
	_ = f.pool.JobCompleted(ctx, name, 1)
	eventually(t, "replaced", f.settled(1, 0))
	out := gather(t, f.registry)
	for _, want := range []string{
		`vermont_pool_instances{pool="linux",state="idle"} 1`,
		`vermont_pool_jobs_total{event="queued",pool="linux"} 1`,
		`vermont_pool_jobs_total{event="started",pool="linux"} 1`,
		`vermont_pool_jobs_total{event="completed",pool="linux"} 1`,
		`vermont_pool_jobs_total{event="ignored",pool=""} 1`,
		`vermont_pool_pickup_latency_seconds_count{pool="linux"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// gather renders the registry in the text format.
func gather(t testing.TB, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			ls := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Gauge != nil:
				fmt.Fprintf(&b, "%s%s %g\n", mf.GetName(), ls, m.GetGauge().GetValue())
			case m.Counter != nil:
				fmt.Fprintf(&b, "%s%s %g\n", mf.GetName(), ls, m.GetCounter().GetValue())
			case m.Histogram != nil:
				fmt.Fprintf(&b, "%s_count%s %d\n", mf.GetName(), ls, m.GetHistogram().GetSampleCount())
			}
		}
	}
	return b.String()
}
