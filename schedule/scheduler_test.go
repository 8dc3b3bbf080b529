package schedule

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/workflow"
)

// fakeRunner records what the scheduler asks of it. Behaviour per job id
// comes from the step scripts in the workflow: the first step's run: text
// is a command for the fake ("fail", "block", "out k=v", "ok").
type fakeRunner struct {
	mu        sync.Mutex
	started   []string
	skipped   map[string]Result
	reasons   map[string]error
	running   map[string]int // by job id
	maxByJob  map[string]int
	total     int
	maxTotal  int
	sawNeeds  map[string]map[string]Need
	cancelled map[string]bool // leg names that saw ctx cancelled
	release   chan struct{}   // closed to let "block" jobs go on
}

func newFake() *fakeRunner {
	return &fakeRunner{
		skipped: map[string]Result{}, reasons: map[string]error{}, running: map[string]int{}, maxByJob: map[string]int{},
		sawNeeds: map[string]map[string]Need{}, cancelled: map[string]bool{}, release: make(chan struct{}),
	}
}

func (f *fakeRunner) RunJob(ctx context.Context, j *Job) Outcome {
	f.mu.Lock()
	f.started = append(f.started, j.Name)
	f.sawNeeds[j.Name] = j.Needs
	f.running[j.ID]++
	f.total++
	if f.running[j.ID] > f.maxByJob[j.ID] {
		f.maxByJob[j.ID] = f.running[j.ID]
	}
	if f.total > f.maxTotal {
		f.maxTotal = f.total
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running[j.ID]--
		f.total--
		f.mu.Unlock()
	}()
	script := j.Def.Steps[0].Run.Value
	if v, ok := j.Matrix.Get("fail"); ok && v == true {
		script = "fail"
	}
	switch {
	case script == "fail":
		return Outcome{Result: Failure}
	case script == "block":
		select {
		case <-ctx.Done():
			f.mu.Lock()
			f.cancelled[j.Name] = true
			f.mu.Unlock()
			return Outcome{Result: Cancelled}
		case <-f.release:
			return Outcome{Result: Success}
		}
	case script == "pause":
		time.Sleep(5 * time.Millisecond)
	case strings.HasPrefix(script, "out "):
		k, v, _ := strings.Cut(strings.TrimPrefix(script, "out "), "=")
		return Outcome{Result: Success, Outputs: map[string]string{k: v}}
	}
	return Outcome{Result: Success}
}

func (f *fakeRunner) SkipJob(j *Job, r Result, reason error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.skipped[j.Name] = r
	f.reasons[j.Name] = reason
}

func mustPlan(t testing.TB, src string, opts ...PlanOption) *Plan {
	t.Helper()
	w, err := workflow.Parse("test.yml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p, err := NewPlan(w, opts...)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

// job renders one job of a test workflow.
func job(id, extra, run string) string {
	return fmt.Sprintf("  %s:\n    runs-on: x\n%s    steps:\n      - run: %s\n", id, extra, run)
}

func wf(jobs ...string) string { return "on: push\njobs:\n" + strings.Join(jobs, "") }

func TestNeedsAndResults(t *testing.T) {
	t.Parallel()
	src := wf(
		job("a", "", "out x=1"),
		job("b", "    needs: a\n", "fail"),
		job("c", "    needs: b\n", "ok"),                    // skipped: b failed
		job("d", "    needs: c\n    if: failure()\n", "ok"), // ancestor b failed
		job("e", "    needs: [a, b]\n    if: always()\n", "ok"),
		job("f", "    needs: a\n    if: needs.a.outputs.x == 1\n", "ok"),
		job("g", "    if: false\n", "ok"),
		job("h", "    needs: g\n", "ok"),                              // skipped need
		job("i", "    needs: g\n    if: failure()\n", "ok"),           // nothing failed
		job("k", "    needs: g\n    if: always()\n", "ok"),            // runs anyway
		job("l", "    needs: g\n    if: ${{ !cancelled() }}\n", "ok"), // explicit status function
		// Text around ${{ }} makes a format string, which is truthy
		// (actions/runner TemplateReader.cs ParseScalar).
		job("m", "    if: ${{ false }} && false\n", "ok"),
		job("n", "    if: \"${{ 'false' }}\"\n", "ok"), // a lone string literal is the condition
	)
	f := newFake()
	res := New(WithLimit(4)).Run(context.Background(), mustPlan(t, src), f)
	want := map[string]Result{"a": Success, "b": Failure, "c": Skipped, "d": Success, "e": Success, "f": Success,
		"g": Skipped, "h": Skipped, "i": Skipped, "k": Success, "l": Success, "m": Success, "n": Skipped}
	for id, r := range want {
		if got := res.Jobs[id].Result; got != r {
			t.Errorf("job %s: result %q, want %q", id, got, r)
		}
	}
	if res.Result != Failure {
		t.Errorf("run result %q, want failure", res.Result)
	}
	if got := f.sawNeeds["e"]; got["a"].Outputs["x"] != "1" || got["b"].Result != Failure {
		t.Errorf("e saw needs %v", got)
	}
	if res.Jobs["a"].Outputs["x"] != "1" {
		t.Errorf("a outputs %v", res.Jobs["a"].Outputs)
	}
}

func TestPlanErrors(t *testing.T) {
	t.Parallel()
	w, err := workflow.NewParser().Parse("t.yml", []byte(wf(job("a", "", "ok"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPlan(w, WithJobs("nope")); err == nil || !strings.Contains(err.Error(), `no job "nope"`) {
		t.Errorf("WithJobs(nope) = %v", err)
	}
}

func TestWithJobsKeepsNeeds(t *testing.T) {
	t.Parallel()
	p := mustPlan(t, wf(job("a", "", "ok"), job("b", "    needs: a\n", "ok"), job("c", "", "ok")), WithJobs("b"))
	if got := p.JobIDs(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("jobs %v, want [a b]", got)
	}
}

// TestMatrixDocsExample is the include example of GitHub's "Using a matrix
// for your jobs" ("Expanding or adding matrix configurations").
func TestMatrixDocsExample(t *testing.T) {
	t.Parallel()
	src := `on: push
jobs:
  m:
    runs-on: x
    strategy:
      matrix:
        fruit: [apple, pear]
        animal: [cat, dog]
        include:
          - color: green
          - color: pink
            animal: cat
          - fruit: apple
            shape: circle
          - fruit: banana
          - fruit: banana
            animal: cat
    steps:
      - run: ok
`
	legs, err := mustPlan(t, src).Legs("m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range legs {
		got = append(got, legSuffix(l))
	}
	want := []string{
		"(apple, cat, pink, circle)",
		"(apple, dog, green, circle)",
		"(pear, cat, pink)",
		"(pear, dog, green)",
		"(banana)",
		"(banana, cat)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("legs\n got %q\nwant %q", got, want)
	}
}

func TestMatrixRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		matrix  string
		want    []string
		wantErr string
	}{
		{name: "product", matrix: "os: [a, b]\n        v: [1, 2]", want: []string{"(a, 1)", "(a, 2)", "(b, 1)", "(b, 2)"}},
		{name: "exclude partial", matrix: "os: [a, b]\n        v: [1, 2]\n        exclude:\n          - os: a", want: []string{"(b, 1)", "(b, 2)"}},
		{name: "exclude full", matrix: "os: [a, b]\n        v: [1, 2]\n        exclude:\n          - {os: a, v: 2}", want: []string{"(a, 1)", "(b, 1)", "(b, 2)"}},
		{name: "include only", matrix: "include:\n          - {x: 1}\n          - {x: 2}", want: []string{"(1)", "(2)"}},
		{name: "include adds to a match", matrix: "os: [a, b]\n        include:\n          - {os: b, extra: yes}", want: []string{"(a)", "(b, yes)"}},
		{name: "object values", matrix: "cfg: [{n: 1}]", want: []string{`({"n":1})`}},
		{name: "from expression", matrix: "os: ${{ fromJSON('[\"x\",\"y\"]') }}", want: []string{"(x)", "(y)"}},
		{name: "empty row", matrix: "os: []", wantErr: "matrix.os has no values"},
		{name: "all excluded", matrix: "os: [a]\n        exclude:\n          - os: a", wantErr: "the matrix is empty"},
		{name: "too big", matrix: "a: [1,2,3,4,5,6,7]\n        b: [1,2,3,4,5,6,7]\n        c: [1,2,3,4,5,6]", wantErr: "at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "on: push\njobs:\n  m:\n    runs-on: x\n    strategy:\n      matrix:\n        " + tt.matrix + "\n    steps:\n      - run: ok\n"
			w, err := workflow.Parse("t.yml", []byte(src))
			if err != nil && tt.wantErr == "" {
				t.Fatalf("parse: %v", err)
			}
			if err != nil {
				// The validator may reject it first; that is fine too.
				return
			}
			p, err := NewPlan(w)
			if err != nil {
				t.Fatal(err)
			}
			legs, err := p.Legs("m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range legs {
				got = append(got, legSuffix(l))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMatrixFromNeeds(t *testing.T) {
	t.Parallel()
	src := wf(
		job("setup", "", `out list=["p","q","r"]`),
		job("m", "    needs: setup\n    strategy:\n      matrix:\n        v: ${{ fromJSON(needs.setup.outputs.list) }}\n", "ok"),
	)
	f := newFake()
	res := New().Run(context.Background(), mustPlan(t, src), f)
	if res.Result != Success {
		t.Fatalf("result %v; skipped %v %v", res.Result, f.skipped, f.reasons)
	}
	sort.Strings(f.started)
	if want := []string{"m (p)", "m (q)", "m (r)", "setup"}; !reflect.DeepEqual(f.started, want) {
		t.Errorf("started %q, want %q", f.started, want)
	}
}

func TestMatrixFilter(t *testing.T) {
	t.Parallel()
	src := wf(job("m", "    strategy:\n      matrix:\n        os: [a, b]\n        v: [1, 2]\n", "ok"))
	f := newFake()
	New().Run(context.Background(), mustPlan(t, src, WithMatrix(map[string]string{"os": "b"})), f)
	sort.Strings(f.started)
	if want := []string{"m (b, 1)", "m (b, 2)"}; !reflect.DeepEqual(f.started, want) {
		t.Errorf("started %q, want %q", f.started, want)
	}
}

func TestFailFast(t *testing.T) {
	t.Parallel()
	for _, failFast := range []bool{true, false} {
		t.Run(fmt.Sprint(failFast), func(t *testing.T) {
			t.Parallel()
			src := wf(job("m", fmt.Sprintf("    strategy:\n      fail-fast: %v\n      max-parallel: 3\n      matrix:\n        n: [1, 2, 3, 4, 5]\n        include:\n          - n: 2\n            fail: true\n", failFast), "block"))
			f := newFake()
			done := make(chan *RunResult)
			go func() { done <- New().Run(context.Background(), mustPlan(t, src), f) }()
			if !failFast {
				// Let the blocked legs finish once the first three (the
				// failing one among them) have started.
				go func() {
					waitStarted(t, f, 3)
					close(f.release)
				}()
			}
			res := <-done
			if res.Jobs["m"].Result != Failure {
				t.Fatalf("job result %q, want failure", res.Jobs["m"].Result)
			}
			if failFast {
				if len(f.cancelled) == 0 {
					t.Errorf("no leg was cancelled by fail-fast")
				}
				if len(f.started) == 5 {
					t.Errorf("all legs started despite fail-fast: %v", f.started)
				}
			} else if len(f.started) != 5 || len(f.cancelled) != 0 {
				t.Errorf("fail-fast false: started %v cancelled %v", f.started, f.cancelled)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	t.Run("global", func(t *testing.T) {
		t.Parallel()
		src := wf(job("m", "    strategy:\n      matrix:\n        n: [1, 2, 3, 4, 5, 6, 7, 8]\n", "pause"), job("o", "", "pause"))
		f := newFake()
		New(WithLimit(2)).Run(context.Background(), mustPlan(t, src), f)
		if f.maxTotal > 2 || len(f.started) != 9 {
			t.Errorf("max concurrent %d (limit 2), started %d", f.maxTotal, len(f.started))
		}
	})
	t.Run("max-parallel", func(t *testing.T) {
		t.Parallel()
		src := wf(job("m", "    strategy:\n      max-parallel: 3\n      matrix:\n        n: [1, 2, 3, 4, 5, 6, 7, 8]\n", "pause"))
		f := newFake()
		res := New(WithLimit(1)).Run(context.Background(), mustPlan(t, src), f)
		if f.maxByJob["m"] > 3 || res.Result != Success {
			t.Errorf("max concurrent legs %d (max-parallel 3), result %v", f.maxByJob["m"], res.Result)
		}
	})
}

func TestContinueOnErrorFromMatrix(t *testing.T) {
	t.Parallel()
	src := wf(job("m", "    continue-on-error: ${{ matrix.experimental }}\n    strategy:\n      matrix:\n        experimental: [false]\n        include:\n          - experimental: true\n            fail: true\n", "ok"),
		job("after", "    needs: m\n", "ok"))
	f := newFake()
	res := New().Run(context.Background(), mustPlan(t, src), f)
	if res.Jobs["m"].Result != Success || res.Jobs["after"].Result != Success {
		t.Errorf("results %v; the failing leg had continue-on-error", res.Jobs)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	src := wf(
		job("a", "", "block"),
		job("b", "    needs: a\n", "ok"),
		job("c", "    needs: a\n    if: always()\n", "ok"),
		job("d", "    needs: a\n    if: cancelled()\n", "ok"),
		job("e", "    if: always()\n", "block"),
	)
	f := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *RunResult)
	go func() { done <- New(WithLimit(4)).Run(ctx, mustPlan(t, src), f) }()
	waitStarted(t, f, 2)
	cancel()
	// e keeps running (its if holds under cancelled()); let it finish.
	time.Sleep(10 * time.Millisecond)
	close(f.release)
	res := <-done
	want := map[string]Result{"a": Cancelled, "b": Cancelled, "c": Success, "d": Success, "e": Success}
	for id, r := range want {
		if got := res.Jobs[id].Result; got != r {
			t.Errorf("job %s: %q, want %q", id, got, r)
		}
	}
	if res.Result != Cancelled {
		t.Errorf("run result %q, want cancelled", res.Result)
	}
}

func waitStarted(t *testing.T, f *fakeRunner, n int) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		f.mu.Lock()
		got := len(f.started)
		f.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("fewer than %d jobs started", n)
}

func TestConcurrencyGroup(t *testing.T) {
	t.Parallel()
	t.Run("one at a time", func(t *testing.T) {
		t.Parallel()
		src := wf(job("a", "    concurrency: deploy\n", "pause"), job("b", "    concurrency: DEPLOY\n", "pause"))
		f := newFake()
		res := New(WithLimit(4)).Run(context.Background(), mustPlan(t, src), f)
		if f.maxTotal != 1 || res.Result != Success {
			t.Errorf("max concurrent %d in one group, result %v", f.maxTotal, res.Result)
		}
	})
	t.Run("cancel in progress", func(t *testing.T) {
		t.Parallel()
		// Someone else holds the group; a job with cancel-in-progress
		// cancels it, waits for it to let go, then runs.
		g := NewGroups()
		cancelled := make(chan struct{})
		release, err := g.Acquire(context.Background(), "g", false, func() { close(cancelled) })
		if err != nil {
			t.Fatal(err)
		}
		go func() { <-cancelled; release() }()
		src := wf(job("b", "    concurrency:\n      group: g\n      cancel-in-progress: true\n", "ok"))
		res := New(WithGroups(g)).Run(context.Background(), mustPlan(t, src), newFake())
		if res.Jobs["b"].Result != Success {
			t.Errorf("b: %v, want success after cancelling the holder", res.Jobs["b"])
		}
		select {
		case <-cancelled:
		default:
			t.Error("the holder was not cancelled")
		}
	})
}

func TestGroupsSupersede(t *testing.T) {
	t.Parallel()
	g := NewGroups()
	rel, err := g.Acquire(context.Background(), "x", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { _, err := g.Acquire(context.Background(), "x", false, nil); first <- err }()
	for i := 0; i < 1000; i++ { // wait until the first waiter is pending
		g.mu.Lock()
		p := len(g.m["x"].pending)
		g.mu.Unlock()
		if p > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	second := make(chan func(), 1)
	go func() { r, _ := g.Acquire(context.Background(), "X", false, nil); second <- r }()
	if err := <-first; !errors.Is(err, ErrSuperseded) {
		t.Fatalf("older pending got %v, want ErrSuperseded", err)
	}
	rel()
	(<-second)()
	if len(g.m) != 0 {
		t.Errorf("groups left behind: %v", g.m)
	}
}

func TestDisplayNames(t *testing.T) {
	t.Parallel()
	src := wf(
		job("plain", "", "ok"),
		job("named", "    name: Build it\n", "ok"),
		job("m", "    name: Test\n    strategy:\n      matrix:\n        os: [linux]\n        v: [18]\n", "ok"),
		job("n", "    name: Test on ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [linux]\n", "ok"),
	)
	f := newFake()
	New().Run(context.Background(), mustPlan(t, src), f)
	sort.Strings(f.started)
	want := []string{"Build it", "Test (linux, 18)", "Test on linux", "plain"}
	if !reflect.DeepEqual(f.started, want) {
		t.Errorf("names %q, want %q", f.started, want)
	}
}

// BenchmarkScheduler1000 runs a 1,000-job graph of no-op jobs (each job
// needs the one 10 before it) through the scheduler.
func BenchmarkScheduler1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("on: push\njobs:\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "  j%d:\n    runs-on: x\n", i)
		if i >= 10 {
			fmt.Fprintf(&sb, "    needs: j%d\n", i-10)
		}
		sb.WriteString("    steps:\n      - run: ok\n")
	}
	p := mustPlan(b, sb.String())
	s := New(WithLimit(8))
	r := nopRunner{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := s.Run(context.Background(), p, r); res.Result != Success {
			b.Fatal(res.Result)
		}
	}
}

type nopRunner struct{}

func (nopRunner) RunJob(context.Context, *Job) Outcome { return Outcome{Result: Success} }
func (nopRunner) SkipJob(*Job, Result, error)          {}

// TestForceStop: after a cancellation a job with always() goes on; a forced
// stop (a second Ctrl-C) cancels it too.
func TestForceStop(t *testing.T) {
	t.Parallel()
	src := wf(job("a", "    if: always()\n", "block"), job("b", "    needs: a\n    if: always()\n", "ok"))
	f := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	force := make(chan struct{})
	done := make(chan *RunResult)
	go func() { done <- New(WithForceStop(force)).Run(ctx, mustPlan(t, src), f) }()
	waitStarted(t, f, 1)
	cancel()
	select {
	case <-done:
		t.Fatal("the always() job stopped on a plain cancel")
	case <-time.After(20 * time.Millisecond):
	}
	close(force)
	res := <-done
	if res.Jobs["a"].Result != Cancelled || res.Jobs["b"].Result != Cancelled {
		t.Errorf("after a forced stop: %v, want both cancelled", res.Jobs)
	}
	if !f.cancelled["a"] {
		t.Error("job a never saw its context cancelled")
	}
}

// BenchmarkMatrix50 plans and runs a 50-leg matrix whose name, concurrency
// group and continue-on-error are expressions, with no-op jobs: the cost
// the scheduler adds per leg.
func BenchmarkMatrix50(b *testing.B) {
	var legs []string
	for i := range 50 {
		legs = append(legs, fmt.Sprint(i))
	}
	src := wf(job("m", "    name: leg ${{ matrix.n }}\n    continue-on-error: ${{ matrix.n == 7 }}\n"+
		"    strategy:\n      max-parallel: 50\n      matrix:\n        n: ["+strings.Join(legs, ", ")+"]\n", "ok"))
	p := mustPlan(b, src)
	s := New()
	b.ResetTimer()
	for range b.N {
		if res := s.Run(context.Background(), p, nopRunner{}); res.Result != Success {
			b.Fatal(res.Result)
		}
	}
}

// TestWorkflowConcurrency: two runs of a workflow in one concurrency group
// never overlap; with cancel-in-progress the newer one cancels the older.
func TestWorkflowConcurrency(t *testing.T) {
	t.Parallel()
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		src := "concurrency: deploy\n" + wf(job("a", "", "pause"), job("b", "", "pause"))
		g := NewGroups()
		f := newFake()
		done := make(chan *RunResult, 2)
		for range 2 {
			go func() { done <- New(WithLimit(4), WithGroups(g)).Run(context.Background(), mustPlan(t, src), f) }()
		}
		for range 2 {
			if res := <-done; res.Result != Success {
				t.Errorf("run: %v", res.Jobs)
			}
		}
		if f.maxTotal > 2 || len(f.started) != 4 {
			t.Errorf("max jobs at once %d (one run's two jobs at most), started %v", f.maxTotal, f.started)
		}
	})
	t.Run("cancel in progress", func(t *testing.T) {
		t.Parallel()
		src := "concurrency:\n  group: deploy\n  cancel-in-progress: true\n" + wf(job("a", "", "block"))
		g := NewGroups()
		f := newFake()
		first := make(chan *RunResult)
		go func() { first <- New(WithGroups(g)).Run(context.Background(), mustPlan(t, src), f) }()
		waitStarted(t, f, 1)
		second := make(chan *RunResult)
		go func() { second <- New(WithGroups(g)).Run(context.Background(), mustPlan(t, src), f) }()
		if res := <-first; res.Result != Cancelled {
			t.Errorf("older run: %s, want cancelled", res.Result)
		}
		waitStarted(t, f, 2)
		close(f.release)
		if res := <-second; res.Result != Success {
			t.Errorf("newer run: %s, want success", res.Result)
		}
	})
}

// waitPending waits until n members are pending in group key.
func waitPending(t *testing.T, g *Groups, key string, n int) {
	t.Helper()
	for i := 0; i < 5000; i++ {
		g.mu.Lock()
		got := 0
		if gr := g.m[key]; gr != nil {
			got = len(gr.pending)
		}
		g.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d members never pending in %q", n, key)
}

// concurrency.queue, "Control the concurrency of workflows and jobs"
// (https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency):
// single keeps one pending member and cancels the older; max keeps up to 100
// pending, first in, first out, and cancels one more.
func TestGroupsQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		queue      Queue
		waiters    int
		wantOrder  []int // waiters that got the group, in order
		wantErrors map[int]error
	}{
		{name: "single: the newest pending wins", queue: QueueSingle, waiters: 3, wantOrder: []int{2},
			wantErrors: map[int]error{0: ErrSuperseded, 1: ErrSuperseded}},
		{name: "max: every pending member, in order", queue: QueueMax, waiters: 3, wantOrder: []int{0, 1, 2}},
		{name: "max: one past 100 is cancelled", queue: QueueMax, waiters: MaxQueued + 1, wantOrder: seq(MaxQueued),
			wantErrors: map[int]error{MaxQueued: ErrQueueFull}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewGroups()
			hold, err := g.AcquireQueue(context.Background(), "deploy", tc.queue, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			type got struct {
				i   int
				rel func()
				err error
			}
			results := make(chan got, tc.waiters)
			errs := map[int]error{}
			refused := func() { // one waiter was turned away
				r := <-results
				if r.err == nil {
					t.Fatalf("waiter %d got the group while the holder has it", r.i)
				}
				errs[r.i] = r.err
			}
			for i := 0; i < tc.waiters; i++ {
				go func() {
					rel, err := g.AcquireQueue(context.Background(), "Deploy", tc.queue, false, nil)
					results <- got{i, rel, err}
				}()
				switch {
				case tc.queue == QueueSingle && i > 0:
					refused() // the one before was replaced
					waitPending(t, g, "deploy", 1)
				case i >= MaxQueued:
					refused()
				default:
					waitPending(t, g, "deploy", i+1)
				}
			}
			for i, want := range tc.wantErrors {
				if !errors.Is(errs[i], want) {
					t.Errorf("waiter %d: error %v, want %v", i, errs[i], want)
				}
			}
			hold()
			var order []int
			for range tc.wantOrder {
				r := <-results
				if r.err != nil {
					t.Fatalf("waiter %d: %v", r.i, r.err)
				}
				order = append(order, r.i)
				r.rel()
			}
			if !reflect.DeepEqual(order, tc.wantOrder) {
				t.Errorf("order %v, want %v", order, tc.wantOrder)
			}
			if len(g.m) != 0 {
				t.Errorf("groups left behind: %v", g.m)
			}
		})
	}
	t.Run("max with cancel-in-progress", func(t *testing.T) {
		t.Parallel()
		if _, err := NewGroups().AcquireQueue(context.Background(), "g", QueueMax, true, nil); !errors.Is(err, ErrQueueCancel) {
			t.Errorf("error %v, want ErrQueueCancel", err)
		}
	})
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// Three jobs meet in one group: with queue: single the middle arrival is
// replaced and cancelled; with queue: max all three run, one at a time.
func TestConcurrencyQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		queue         string
		wantCancelled int
	}{
		{name: "single", queue: "single", wantCancelled: 1},
		{name: "default is single", queue: "", wantCancelled: 1},
		{name: "max", queue: "max", wantCancelled: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := NewGroups()
			hold, err := g.Acquire(context.Background(), "deploy", false, nil)
			if err != nil {
				t.Fatal(err)
			}
			extra := "    concurrency:\n      group: deploy\n"
			if tc.queue != "" {
				extra += "      queue: " + tc.queue + "\n"
			}
			src := wf(job("a", extra, "ok"), job("b", extra, "ok"))
			done := make(chan *RunResult, 1)
			f := newFake()
			go func() { done <- New(WithGroups(g), WithLimit(4)).Run(context.Background(), mustPlan(t, src), f) }()
			for i := 0; i < 5000; i++ { // both jobs arrived: one replaced, or both waiting
				f.mu.Lock()
				skipped := len(f.skipped)
				f.mu.Unlock()
				g.mu.Lock()
				pending := len(g.m["deploy"].pending)
				g.mu.Unlock()
				if skipped == tc.wantCancelled && pending == 2-tc.wantCancelled {
					break
				}
				time.Sleep(time.Millisecond)
			}
			hold()
			res := <-done
			cancelled := 0
			for _, id := range []string{"a", "b"} {
				switch res.Jobs[id].Result {
				case Cancelled:
					cancelled++
				case Success:
				default:
					t.Errorf("job %s: %v", id, res.Jobs[id].Result)
				}
			}
			if cancelled != tc.wantCancelled {
				t.Errorf("%d jobs cancelled, want %d", cancelled, tc.wantCancelled)
			}
		})
	}
}
