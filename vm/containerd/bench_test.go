package containerd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// waitReady waits until the runner script has installed its SIGTERM trap
// and reported, as an idle runner has. Until then PID 1 ignores SIGTERM and
// Destroy would wait out the stop timeout.
func (f *fixture) waitReady(tb testing.TB, name string) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(f.p.LogPath(name))
		if err == nil && strings.Contains(string(b), "runner: jitconfig") {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("runner %s did not report within 30s (log %q, %v)", name, b, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// BenchmarkCreate measures Create: image lookup, container and snapshot,
// task create and start, until the runner process is running.
func BenchmarkCreate(b *testing.B) {
	f := newFixture(b, "bench-create")
	ctx := context.Background()
	hold := map[string]string{"RUNNER_HOLD": "1"}
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bc-%d", i)
		i++
		if _, err := f.p.Create(ctx, f.spec(name, hold)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		f.waitReady(b, name)
		if err := f.p.Destroy(ctx, name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkDestroy measures Destroy of a running instance whose runner
// honours SIGTERM (an idle runner: its entrypoint is up and has reported),
// covering stop, task and container delete, and snapshot removal.
func BenchmarkDestroy(b *testing.B) {
	f := newFixture(b, "bench-destroy")
	ctx := context.Background()
	hold := map[string]string{"RUNNER_HOLD": "1"}
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bd-%d", i)
		i++
		b.StopTimer()
		if _, err := f.p.Create(ctx, f.spec(name, hold)); err != nil {
			b.Fatal(err)
		}
		f.waitReady(b, name)
		b.StartTimer()
		if err := f.p.Destroy(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
}
