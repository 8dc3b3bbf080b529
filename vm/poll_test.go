package vm_test

import (
	"context"
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
