package vm_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

// TestQueuePollServesMissedWebhooks: a job GitHub lists as queued, whose
// webhook never came, is found by the periodic poll and gets an instance;
// a pending job GitHub stops listing is dropped.
func TestQueuePollServesMissedWebhooks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(0, 1), vm.WithQueuePoll(20*time.Millisecond))
	f.start(t)
	f.runners.SetQueued([]vm.QueuedJob{{ID: 7, Labels: []string{"self-hosted", "linux"}}})
	eventually(t, "the polled job assigned", f.settled(0, 1))

	// The pool is full: a second job waits as pending demand.
	if _, err := f.pool.JobQueued(context.Background(), []string{"linux"}, 8); err != nil {
		t.Fatal(err)
	}
	if got := f.pool.Snapshot().Pending; got != 1 {
		t.Fatalf("pending = %d, want 1", got)
	}
	// GitHub lists neither job any more (8 ran elsewhere, say): after a
	// poll interval the stale pending job is dropped.
	f.runners.SetQueued(nil)
	eventually(t, "the stale pending job dropped", func() bool { return f.pool.Snapshot().Pending == 0 })
	if f.busy() != 1 {
		t.Fatalf("the assigned job's instance went away: %+v", f.pool.Snapshot().States)
	}
}

func TestQueuePollOption(t *testing.T) {
	t.Parallel()
	_, err := vm.New(vmtest.New(), vmtest.NewRunners(), vm.WithQueuePoll(-time.Second))
	if err == nil || !strings.Contains(err.Error(), "WithQueuePoll(-1s): must not be negative") {
		t.Fatalf("negative poll interval: err = %v", err)
	}
}

// fallbackRunners registers runners as the registration-token fallback
// does: GitHub knows the runner, the pool does not know its ID.
type fallbackRunners struct{ *vmtest.Runners }

func (f fallbackRunners) JITConfig(ctx context.Context, name string, labels []string) (vm.JIT, error) {
	jit, err := f.Runners.JITConfig(ctx, name, labels)
	jit.RunnerID = 0
	return jit, err
}

// TestFallbackRunnerRemovedByName: destroying an instance whose runner was
// registered without an ID still removes the runner from GitHub.
func TestFallbackRunnerRemovedByName(t *testing.T) {
	t.Parallel()
	runners := vmtest.NewRunners()
	p, err := vm.New(vmtest.New(), fallbackRunners{runners}, onePool(1, 2), vm.WithBackoff(fastBackoff))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	eventually(t, "one idle", func() bool { return p.Snapshot().States[vm.StateIdle] == 1 })
	name, err := p.JobQueued(context.Background(), []string{"linux"}, 1)
	if err != nil || name == "" {
		t.Fatalf("JobQueued = %q, %v", name, err)
	}
	var id int64
	for _, r := range runners.Registered() {
		if r.Name == name {
			id = r.ID
		}
	}
	if err := p.JobCompleted(context.Background(), name, 1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the runner removed by name", func() bool { return slices.Contains(runners.Removed(), id) })
}

// TestPollSweepsStaleRunners: a runner of ours that is offline and backs no
// instance (its removal failed when its instance was destroyed, say) is
// removed by the periodic poll, not only at the next start. The idle
// instance's own runner (offline until it takes a job), an online runner
// and a runner of another controller are kept.
func TestPollSweepsStaleRunners(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, onePool(1, 2), vm.WithQueuePoll(20*time.Millisecond))
	f.start(t)
	eventually(t, "1 idle", f.settled(1, 0))
	idle := f.runners.Registered()
	if len(idle) != 1 {
		t.Fatalf("registered = %+v, want the idle instance's runner", idle)
	}
	f.runners.Add(vm.Runner{ID: 1, Name: "vermont-linux-stale", Status: "offline"})
	f.runners.Add(vm.Runner{ID: 2, Name: "vermont-linux-working", Status: "online", Busy: true})
	f.runners.Add(vm.Runner{ID: 3, Name: "someone-else", Status: "offline"})
	eventually(t, "the stale runner removed", func() bool { return slices.Contains(f.runners.Removed(), 1) })
	time.Sleep(60 * time.Millisecond) // a few more polls: nothing else goes
	if got := f.runners.Removed(); !slices.Equal(got, []int64{1}) {
		t.Errorf("removed = %v, want only the stale runner (1); idle instance's runner is %d", got, idle[0].ID)
	}
}
