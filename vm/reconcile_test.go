package vm_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

// TestKillAndRestartReconciles drops a pool without Close (as a killed
// process would), leaves an orphan, a foreign instance and a stale GitHub
// runner behind, and starts a new pool on the same state directory.
func TestKillAndRestartReconciles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	prov := vmtest.New() // the host: outlives both pools
	runners := vmtest.NewRunners()

	first := newFixture(t, prov, runners, onePool(3, 6), vm.WithStateDir(dir))
	if err := first.pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "3 idle", first.settled(3, 0))
	busy, _ := first.pool.JobQueued(ctx, []string{"linux"}, 77)
	if err := first.pool.JobStarted(ctx, busy, 77); err != nil {
		t.Fatal(err)
	}
	eventually(t, "3 idle 1 busy", first.settled(3, 1))
	first.pool.Crash()

	// While the pool was down: one idle runner exited, an orphan with our
	// controller label appeared (created but never recorded), a foreign
	// controller's instance exists, and a stale runner is registered.
	var exited string
	for _, in := range prov.Instances() {
		if in.Name != busy {
			exited = in.Name
			break
		}
	}
	if err := prov.Exit(exited, 0); err != nil {
		t.Fatal(err)
	}
	prov.Add(vm.Instance{Name: "vermont-linux-orphan", Pool: "linux", Labels: map[string]string{
		vm.LabelController: prov.Controller(), vm.LabelPool: "linux", vm.LabelInstance: "vermont-linux-orphan"}})
	prov.Add(vm.Instance{Name: "other-x", Pool: "linux", Labels: map[string]string{vm.LabelController: "someone-else"}})
	runners.Add(vm.Runner{ID: 5, Name: "vermont-linux-stale", Status: "offline"})
	runners.Add(vm.Runner{ID: 6, Name: "vermont-linux-online", Status: "online"})
	runners.Add(vm.Runner{ID: 7, Name: "not-ours", Status: "offline"})
	createsBefore := prov.Count("create", false)

	second := newFixture(t, prov, runners, onePool(3, 6), vm.WithStateDir(dir))
	second.start(t)
	eventually(t, "3 idle 1 busy after restart", func() bool {
		s := second.pool.Snapshot()
		return s.States[vm.StateIdle] == 3 && s.States[vm.StateBusy] == 1 && s.Total() == 4
	})

	var names []string
	for _, in := range prov.Instances() {
		names = append(names, in.Name)
	}
	if slices.Contains(names, "vermont-linux-orphan") || slices.Contains(names, exited) {
		t.Fatalf("orphan or exited instance survived: %v", names)
	}
	if !slices.Contains(names, "other-x") {
		t.Fatalf("foreign instance destroyed: %v", names)
	}
	if !slices.Contains(names, busy) {
		t.Fatalf("busy instance %s was not adopted: %v", busy, names)
	}
	// One replacement for the exited instance, nothing else.
	if n := prov.Count("create", false) - createsBefore; n != 1 {
		t.Fatalf("creates after restart = %d, want 1", n)
	}
	removed := runners.Removed()
	if !slices.Contains(removed, 5) || slices.Contains(removed, 6) || slices.Contains(removed, 7) {
		t.Fatalf("removed runners = %v, want the stale offline one (5) only among 5, 6, 7", removed)
	}

	// The adopted busy instance is watched: its exit destroys it.
	if err := second.pool.JobCompleted(ctx, busy, 77); err != nil {
		t.Fatal(err)
	}
	eventually(t, "exactly min-idle, no orphans", func() bool {
		var ours []string
		for _, in := range prov.Instances() {
			if in.Labels[vm.LabelController] == prov.Controller() {
				ours = append(ours, in.Name)
			}
		}
		return len(ours) == 3 && second.idle() == 3 && second.pool.Snapshot().Total() == 3
	})
	// Close leaves nothing of ours behind.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := second.pool.Close(cctx); err != nil {
		t.Fatal(err)
	}
	left := prov.Instances()
	sort.Slice(left, func(i, j int) bool { return left[i].Name < left[j].Name })
	if len(left) != 1 || left[0].Name != "other-x" {
		t.Fatalf("after Close: %v", left)
	}
}

// TestRestartCountsQueuedJobs checks that jobs queued while the pool was
// down are demand on start.
func TestRestartCountsQueuedJobs(t *testing.T) {
	t.Parallel()
	runners := vmtest.NewRunners()
	runners.SetQueued([]vm.QueuedJob{
		{ID: 1, Labels: []string{"self-hosted", "linux"}},
		{ID: 2, Labels: []string{"self-hosted", "linux"}},
		{ID: 3, Labels: []string{"windows"}},
	})
	f := newFixture(t, nil, runners, onePool(1, 5))
	f.start(t)
	eventually(t, "2 jobs assigned, 1 idle", f.settled(1, 2))
}

// TestRestartRemembersStartedJob: a job that had started on an instance
// before the pool was killed has run, or is running, there. When that
// instance's runner exits after the restart (its completed webhook lost),
// the job must not be handed out again.
func TestRestartRemembersStartedJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	prov := vmtest.New()
	runners := vmtest.NewRunners()

	first := newFixture(t, prov, runners, onePool(0, 2), vm.WithStateDir(dir))
	first.start(t)
	busy, err := first.pool.JobQueued(ctx, []string{"linux"}, 77)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the job's instance up", func() bool {
		return first.pool.Snapshot().States[vm.StateBusy] == 1
	})
	if busy == "" {
		busy = prov.Instances()[0].Name
	}
	if err := first.pool.JobStarted(ctx, busy, 77); err != nil {
		t.Fatal(err)
	}
	first.pool.Crash()

	second := newFixture(t, prov, runners, onePool(0, 2), vm.WithStateDir(dir))
	second.start(t)
	eventually(t, "the busy instance adopted", func() bool { return second.busy() == 1 })
	creates := prov.Count("create", false)
	if err := prov.Exit(busy, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the instance gone", func() bool { return second.pool.Snapshot().Total() == 0 })
	if s := second.pool.Snapshot(); s.Pending != 0 {
		t.Fatalf("pending = %d after the started job's runner exited; the job was handed out again", s.Pending)
	}
	if n := prov.Count("create", false) - creates; n != 0 {
		t.Fatalf("%d instances created for a job that had already started", n)
	}
}
