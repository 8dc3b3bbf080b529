package kubernetes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

// BenchmarkCreateRunning measures Provider.Create against the real API
// server: Pod and Secret created, and the Pod seen Running through the
// watch (kwok plays the kubelet, so no image is pulled and no container
// starts; the figure is the control plane's and the provider's part).
func BenchmarkCreateRunning(b *testing.B) {
	e := newEnv(b)
	p := e.provider(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		name := fmt.Sprintf("bench-%d", i)
		if _, err := p.Create(ctx, spec(name)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := p.Destroy(ctx, name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkPoolCreateToRunning measures a pool from Start to its first
// idle instance: the GitHub JIT registration (in memory), the Pod created,
// and the Pod Running as the provider's watch sees it.
func BenchmarkPoolCreateToRunning(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for b.Loop() {
		prov := e.provider(b)
		pool, err := vm.New(prov, vmtest.NewRunners(),
			vm.WithPools(vm.PoolConfig{Name: "linux", Labels: []string{"linux"}, MinIdle: 1, Max: 1, Image: "example.com/runner:1"}),
			vm.WithQueuePoll(0))
		if err != nil {
			b.Fatal(err)
		}
		if err := pool.Start(ctx); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for pool.Snapshot().States[vm.StateIdle] == 0 {
			if time.Now().After(deadline) {
				b.Fatalf("no idle instance after a minute: %+v", pool.Snapshot().Pools[0].ProviderError)
			}
			time.Sleep(100 * time.Microsecond)
		}
		b.StopTimer()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := pool.Close(cctx); err != nil {
			b.Fatal(err)
		}
		cancel()
		prov.Close()
		b.StartTimer()
	}
}
