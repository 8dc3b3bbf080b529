//go:build !windows

package exec_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/schedule"
	"github.com/vermont-ci/vermont/workflow"
)

// benchRun prepares a testdata/actions-run workflow once and returns a
// function that runs it on the host backend and fails b unless it
// succeeds.
func benchRun(b *testing.B, file string, res exec.Resolver) func() {
	b.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	wf, err := workflow.Parse(file, src)
	if err != nil {
		b.Fatal(err)
	}
	repo := exec.Repo{Root: actionsRoot(b), SHA: strings.Repeat("a", 40), Ref: "refs/heads/main", Repository: "octo/hello"}
	gh := exec.GitHubContext(exec.GitHubOptions{EventName: "push", Repo: repo, Workflow: "bench", WorkflowFile: file, RunID: "7"})
	plan, err := schedule.NewPlan(wf, schedule.WithContexts(map[string]any{"github": gh, "secrets": map[string]any{}, "vars": map[string]any{}, "inputs": map[string]any{}}))
	if err != nil {
		b.Fatal(err)
	}
	r, err := exec.New(host.New(), exec.WithWorkDir(b.TempDir()), exec.WithRepo(repo), exec.WithResolver(res))
	if err != nil {
		b.Fatal(err)
	}
	s := schedule.New()
	return func() {
		if out := s.Run(context.Background(), plan, r); out.Result != schedule.Success {
			b.Fatalf("%s: %s", filepath.Base(file), out.Result)
		}
	}
}

// BenchmarkComposite10 runs a job whose one step is a composite action of
// 10 run steps, and a job with the same 10 steps inline, alternately, and
// reports what the composite costs per step over the inline steps (issue
// 4's target: under 5 ms per step).
func BenchmarkComposite10(b *testing.B) {
	root := actionsRoot(b)
	res, err := actions.NewResolver(actions.WithCacheDir(b.TempDir()), actions.WithRepoDir(root), actions.WithOffline(true))
	if err != nil {
		b.Fatal(err)
	}
	composite := benchRun(b, filepath.Join(root, "bench-composite.yml"), res)
	inline := benchRun(b, filepath.Join(root, "bench-inline.yml"), res)
	composite() // warm up: the first resolve parses action.yml
	inline()
	var tc, ti time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		composite()
		mid := time.Now()
		inline()
		tc += mid.Sub(start)
		ti += time.Since(mid)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
	b.ReportMetric(ms(tc), "composite-ms/op")
	b.ReportMetric(ms(ti), "inline-ms/op")
	b.ReportMetric((ms(tc)-ms(ti))/10, "overhead-ms/step")
}
