package containerd_test

// End-to-end tests of the ephemeral runner pool (issue 6): the real
// webhook.Handler, vm.Pool, GitHub client (vm/github) and containerd
// provider, against the package's private containerd daemon and a fake
// GitHub at the HTTP boundary (e2e_github_test.go). Runners are busybox
// containers whose entrypoint plays GitHub's runner contract.

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/internal/ctrdtest"
	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/containerd"
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

	sampled := w.sampleContainers()
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
	most := sampled()

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
		r.waitSteady(t, 1, 1)
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
		w.assertOnly(t, r.controller, r.names(t))
	})
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

	controller, exited, orphan, done := w.whilePoolDown(t, stateDir)

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
	if id := w.gh.job(done).runnerID; !w.gh.removed(id) {
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

// whilePoolDown plays what happens while no pool runs: a job is queued
// whose webhook nobody receives, and an idle runner takes it, finishes it
// and exits; and an instance carrying the controller's labels appears that
// the state does not know (as a create whose record was lost would leave).
// It returns the controller, the exited and orphaned instances' names and
// the job's ID.
func (w *world) whilePoolDown(t *testing.T, stateDir string) (controller, exited, orphan string, doneJob int64) {
	t.Helper()
	var err error
	done, status := w.gh.queue(runnerLabels, false)
	if status != 0 {
		t.Fatalf("queued delivery while the pool is down: status %d, want none", status)
	}
	eventually(t, "an idle runner to finish the job queued while down", func() bool { return w.gh.job(done.id).status == "completed" },
		func() string { return fmt.Sprintf("%+v", w.gh.job(done.id)) })
	exited = w.gh.job(done.id).runner
	controller, err = vm.ControllerID(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the runner that finished to exit", func() bool { return !w.containers(t)[controller+"-"+exited] },
		func() string { return fmt.Sprintf("%v", w.containers(t)) })
	orphan = "vermont-" + controller + "-linux-0badc0de"
	planter, err := containerd.New(context.Background(), append(w.providerOptions(), containerd.WithControllerID(controller))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := planter.Create(context.Background(), vm.Spec{Name: orphan, Pool: "linux", Image: w.image, RunnerConfig: "e30="}); err != nil {
		t.Fatalf("planting an orphan: %v", err)
	}
	planter.Close()
	if n := len(w.containers(t)); n != 4 {
		t.Fatalf("before restart containerd holds %d containers, want 4 (busy, idle, exited, orphan): %v", n, w.containers(t))
	}
	return controller, exited, orphan, done.id
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
