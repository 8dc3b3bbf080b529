package vm_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
)

// BenchmarkPickupWarm measures a queued job reaching the pool → an idle
// instance assigned, from a warm pool (the replacement is awaited outside
// the timer). It reports the median as p50-ms.
func BenchmarkPickupWarm(b *testing.B) {
	f := newFixture(b, nil, nil, onePool(4, 64), vm.WithStateDir(b.TempDir()))
	f.start(b)
	eventually(b, "warm", f.settled(4, 0))
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		name, err := f.pool.JobQueued(ctx, []string{"self-hosted", "linux"}, int64(i+1))
		lat = append(lat, time.Since(start))
		if err != nil || name == "" {
			b.Fatalf("job %d not assigned from a warm pool: %q, %v", i, name, err)
		}
		b.StopTimer()
		if err := f.pool.JobCompleted(ctx, name, int64(i+1)); err != nil {
			b.Fatal(err)
		}
		eventually(b, "warm again", f.settled(4, 0))
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
