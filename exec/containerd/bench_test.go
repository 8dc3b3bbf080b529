package containerd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vermont-ci/vermont/exec"
)

// BenchmarkJobStart measures a job container's start up to the end of its
// first step (`true`); the job's removal is not timed.
func BenchmarkJobStart(b *testing.B) {
	f := newFixture(b, "bench-start")
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		r, err := f.b.Start(ctx, exec.JobSpec{RunID: f.runID, Job: "bench", Image: f.busy})
		if err != nil {
			b.Fatal(err)
		}
		if code, err := r.Run(ctx, exec.Process{Argv: []string{"true"}, Env: []string{"PATH=/bin"}}); err != nil || code != 0 {
			b.Fatalf("Run = %d, %v", code, err)
		}
		b.StopTimer()
		if err := r.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkStepExec measures one step (`true`) in a running job container:
// the per-step overhead of an exec.
func BenchmarkStepExec(b *testing.B) {
	f := newFixture(b, "bench-exec")
	r := f.start(b, exec.JobSpec{Image: f.busy})
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if code, err := r.Run(ctx, exec.Process{Argv: []string{"true"}, Env: []string{"PATH=/bin"}}); err != nil || code != 0 {
			b.Fatalf("Run = %d, %v", code, err)
		}
	}
}

// BenchmarkStepScript measures a step as the job runner runs it, `sh -e`
// of a script file in a bind-mounted directory, against StepExec's bare
// `true`: what the shell adds.
func BenchmarkStepScript(b *testing.B) {
	f := newFixture(b, "bench-script")
	dir := b.TempDir()
	r := f.start(b, exec.JobSpec{Image: f.busy, Mounts: []string{dir}})
	script := filepath.Join(dir, "step.sh")
	if err := os.WriteFile(script, []byte("true\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if code, err := r.Run(ctx, exec.Process{Argv: []string{"sh", "-e", script}, Env: []string{"PATH=/bin"}}); err != nil || code != 0 {
			b.Fatalf("Run = %d, %v", code, err)
		}
	}
}

// BenchmarkParallelJobs runs 20 container jobs at once (two steps each) per
// iteration.
func BenchmarkParallelJobs(b *testing.B) {
	f := newFixture(b, "bench-many")
	b.ResetTimer()
	for range b.N {
		errs := make(chan error, 20)
		for i := range 20 {
			go func() { errs <- oneJob(f, i) }()
		}
		for range 20 {
			if err := <-errs; err != nil {
				b.Fatal(fmt.Errorf("parallel jobs: %w", err))
			}
		}
	}
}
