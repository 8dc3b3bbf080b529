package kubernetes_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vermont-ci/vermont/internal/kubetest"
	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/kubernetes"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

// These tests run vm.Pool over the provider against the test cluster, with
// GitHub faked in memory (vmtest.Runners). They do not run in parallel: one
// of them stops the shared API server.

// backoffLog is a fast vm.Backoff that records the attempts it was asked
// about, so tests can see that failures back off.
type backoffLog struct {
	mu       sync.Mutex
	attempts []int
}

func (b *backoffLog) backoff(attempt int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.attempts = append(b.attempts, attempt)
	return min(time.Duration(attempt)*100*time.Millisecond, 500*time.Millisecond)
}

func (b *backoffLog) max() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := 0
	for _, a := range b.attempts {
		m = max(m, a)
	}
	return m
}

type poolEnv struct {
	env
	runners  *vmtest.Runners
	stateDir string
	backoff  *backoffLog
}

func newPoolEnv(t *testing.T) *poolEnv {
	return &poolEnv{env: newEnv(t), runners: vmtest.NewRunners(), stateDir: t.TempDir(), backoff: &backoffLog{}}
}

// start starts a pool of one pool "linux" (min-idle minIdle, image image)
// over a new Provider. Close it with stop, or let the test's cleanup.
func (e *poolEnv) start(t *testing.T, minIdle int, image string, popts ...kubernetes.Option) (*vm.Pool, *kubernetes.Provider) {
	t.Helper()
	prov := e.provider(t, popts...)
	pool, err := vm.New(prov, e.runners,
		vm.WithPools(vm.PoolConfig{Name: "linux", Labels: []string{"linux"}, MinIdle: minIdle, Max: 4, Image: image}),
		vm.WithStateDir(e.stateDir), vm.WithBackoff(e.backoff.backoff), vm.WithQueuePoll(0),
		vm.WithBootstrapTimeout(30*time.Second), vm.WithDestroyTimeout(30*time.Second),
		vm.WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, pool) })
	return pool, prov
}

func stop(t *testing.T, pool *vm.Pool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pool.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
}

// testWriter sends the pool's log to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// running returns the names of the namespace's running Pods that are not
// being deleted.
func (e *poolEnv) running(t *testing.T) []string {
	t.Helper()
	pl, err := e.c.Client.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pl.Items {
		if p.Status.Phase == "Running" && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	slices.Sort(out)
	return out
}

// settled reports that the pool has idle idle and busy busy instances,
// that exactly that many Pods exist, all running, and that none of gone is
// among them. One List backs it all, so that the checks see one state.
func (e *poolEnv) settled(t *testing.T, pool *vm.Pool, idle, busy int, gone ...string) func() bool {
	return func() bool {
		s := pool.Snapshot()
		if s.States[vm.StateIdle] != idle || s.States[vm.StateBusy] != busy || s.Total() != idle+busy {
			return false
		}
		pl, err := e.c.Client.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{})
		if err != nil || len(pl.Items) != idle+busy {
			return false
		}
		for _, p := range pl.Items {
			if p.Status.Phase != "Running" || p.DeletionTimestamp != nil || slices.Contains(gone, p.Name) {
				return false
			}
		}
		return true
	}
}

func TestPoolMinIdle(t *testing.T) {
	e := newPoolEnv(t)
	pool, _ := e.start(t, 2, "example.com/runner:1")
	eventually(t, "2 idle Pods", e.settled(t, pool, 2, 0))
	if got := len(e.runners.JITCalls()); got != 2 {
		t.Errorf("%d JIT registrations, want 2", got)
	}
	stop(t, pool)
	eventually(t, "idle Pods and their Secrets deleted on close", func() bool {
		pods, secrets := e.objects(t)
		return len(pods)+len(secrets) == 0
	})
}

// TestPoolJobCompletes: a job is assigned to a warm Pod, a replacement is
// warmed, and when the runner exits its Pod is destroyed and replaced.
func TestPoolJobCompletes(t *testing.T) {
	e := newPoolEnv(t)
	ctx := context.Background()
	pool, _ := e.start(t, 1, "example.com/runner:1")
	eventually(t, "1 idle", e.settled(t, pool, 1, 0))
	first := e.running(t)[0]
	got, err := pool.JobQueued(ctx, []string{"self-hosted", "linux"}, 42)
	if err != nil || got != first {
		t.Fatalf("job assigned to %q, %v; want %q", got, err, first)
	}
	if err := pool.JobStarted(ctx, first, 42); err != nil {
		t.Fatal(err)
	}
	eventually(t, "1 busy 1 idle", e.settled(t, pool, 1, 1))
	if err := e.c.Exit(ctx, e.ns, first, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the finished Pod replaced", e.settled(t, pool, 1, 0, first))
	// A runner that fails (exit code 1) is replaced the same way.
	failed := e.running(t)[0]
	if err := e.c.Exit(ctx, e.ns, failed, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failed Pod replaced", e.settled(t, pool, 1, 0, failed))
	if _, err := e.c.Client.CoreV1().Secrets(e.ns).Get(ctx, first+"-jitconfig", metav1.GetOptions{}); err == nil {
		t.Errorf("secret of %s left behind", first)
	}
	// A Pod deleted behind the pool's back (a drain, an eviction) is
	// replaced too, and its Secret deleted.
	evicted := e.running(t)[0]
	if err := e.c.Client.CoreV1().Pods(e.ns).Delete(ctx, evicted, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted Pod replaced", e.settled(t, pool, 1, 0, evicted))
	eventually(t, "the deleted Pod's Secret deleted", func() bool {
		_, err := e.c.Client.CoreV1().Secrets(e.ns).Get(ctx, evicted+"-jitconfig", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// TestPoolRestartReconciles: a restarted pool adopts the busy Pod it knew
// and deletes an orphan Pod carrying its controller label.
func TestPoolRestartReconciles(t *testing.T) {
	e := newPoolEnv(t)
	ctx := context.Background()
	pool, _ := e.start(t, 1, "example.com/runner:1")
	eventually(t, "1 idle", e.settled(t, pool, 1, 0))
	busy := e.running(t)[0]
	if _, err := pool.JobQueued(ctx, []string{"linux"}, 7); err != nil {
		t.Fatal(err)
	}
	if err := pool.JobStarted(ctx, busy, 7); err != nil {
		t.Fatal(err)
	}
	eventually(t, "1 busy 1 idle", e.settled(t, pool, 1, 1))
	stop(t, pool) // destroys the idle Pod, leaves the busy one running
	eventually(t, "only the busy Pod left", func() bool { r := e.running(t); return len(r) == 1 && r[0] == busy })

	// An orphan: created with our labels, never recorded by the pool.
	orphan := e.provider(t)
	if _, err := orphan.Create(ctx, vm.Spec{Name: "vermont-linux-orphan", Pool: "linux", Image: "example.com/runner:1", RunnerConfig: "x"}); err != nil {
		t.Fatal(err)
	}
	orphan.Close()

	second, _ := e.start(t, 1, "example.com/runner:1")
	eventually(t, "busy adopted, orphan deleted, 1 idle warmed", e.settled(t, second, 1, 1, "vermont-linux-orphan"))
	if !slices.Contains(e.running(t), busy) {
		t.Errorf("the busy Pod %s was not adopted: running %v", busy, e.running(t))
	}
	// The adopted Pod is watched: when its runner exits it is replaced.
	if err := e.c.Exit(ctx, e.ns, busy, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "adopted Pod destroyed after its job", e.settled(t, second, 1, 0, busy))
}

// TestPoolAPIServerDown: while the API server is down, creating a
// replacement fails and the pool backs off; once it is back, the pool
// recovers to min-idle without help.
func TestPoolAPIServerDown(t *testing.T) {
	e := newPoolEnv(t)
	ctx := context.Background()
	pool, _ := e.start(t, 1, "example.com/runner:1")
	eventually(t, "1 idle", e.settled(t, pool, 1, 0))
	busy := e.running(t)[0]
	if err := e.c.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			if err := e.c.StartAPIServer(ctx); err != nil {
				t.Error(err)
			}
		}
	}()
	// The job takes the idle instance; the replacement cannot be created.
	if _, err := pool.JobQueued(ctx, []string{"linux"}, 9); err != nil {
		t.Fatal(err)
	}
	if err := pool.JobStarted(ctx, busy, 9); err != nil {
		t.Fatal(err)
	}
	eventually(t, "create failures backed off 3 times", func() bool { return e.backoff.max() >= 3 })
	s := pool.Snapshot().Pools[0]
	if !strings.Contains(s.ProviderError.Message, "connection refused") {
		t.Errorf("provider error = %q, want the API server unreachable", s.ProviderError.Message)
	}
	if err := e.c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	eventually(t, "recovered: 1 busy 1 idle", e.settled(t, pool, 1, 1))
	// The watch resumed: the busy Pod's exit is seen.
	if err := e.c.Exit(ctx, e.ns, busy, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "busy Pod replaced after the outage", e.settled(t, pool, 1, 0, busy))
}

// TestPoolBadImage: a pool whose image does not pull reports the error,
// backs off between attempts (each failure counts: 1, 2, 3, …) and leaves
// no Pod or Secret behind.
func TestPoolBadImage(t *testing.T) {
	e := newPoolEnv(t)
	pool, _ := e.start(t, 1, kubetest.BadImage, kubernetes.WithPullTimeout(300*time.Millisecond))
	eventually(t, "3 failed attempts, backed off", func() bool { return e.backoff.max() >= 3 })
	s := pool.Snapshot().Pools[0]
	if !strings.Contains(s.ProviderError.Message, kubernetes.ErrImagePull.Error()) || !strings.Contains(s.ProviderError.Message, kubetest.BadImage) {
		t.Errorf("provider error = %q, want the image pull failure", s.ProviderError.Message)
	}
	if s.States[vm.StateIdle] != 0 {
		t.Errorf("%d idle instances of a bad image", s.States[vm.StateIdle])
	}
	stop(t, pool)
	eventually(t, "no Pod or Secret left", func() bool { pods, secrets := e.objects(t); return len(pods)+len(secrets) == 0 })
}
