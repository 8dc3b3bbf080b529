package host

import (
	"bytes"
	"os"
	osexec "os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestAwaitExitLeavesTheStatus: awaitExit returns once the process has
// exited and does not reap it, so cmd.Wait still reports its exit code.
func TestAwaitExitLeavesTheStatus(t *testing.T) {
	cmd := osexec.Command("sh", "-c", "exit 3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	awaitExit(cmd.Process.Pid)
	_ = cmd.Wait()
	if got := cmd.ProcessState.ExitCode(); got != 3 {
		t.Fatalf("exit code after awaitExit = %d, want 3", got)
	}
}

// TestAwaitExitAfterExit: a process that has already exited (a zombie
// when awaitExit starts) must not be waited for for ever. The poller is
// edge-triggered, and an edge seen before the wait began used to be lost.
func TestAwaitExitAfterExit(t *testing.T) {
	for i := range 200 {
		cmd := osexec.Command("true")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for !zombie(t, cmd.Process.Pid) {
			time.Sleep(time.Millisecond)
		}
		done := make(chan struct{})
		go func() { awaitExit(cmd.Process.Pid); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second): // a hang, not a speed check
			t.Fatalf("awaitExit did not return for a process that had exited (round %d)", i)
		}
		_ = cmd.Wait()
	}
}

// zombie reports whether process pid has exited and awaits its reaping.
func zombie(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) S ...: the state follows the last ')'.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// TestAwaitExitHoldsNoThread: twenty processes waited for at once do not
// hold twenty OS threads, as goroutines blocked in wait4 would.
func TestAwaitExitHoldsNoThread(t *testing.T) {
	before := threads(t)
	var cmds []*osexec.Cmd
	var wg sync.WaitGroup
	for range 20 {
		cmd := osexec.Command("sleep", "1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		wg.Go(func() { awaitExit(cmd.Process.Pid) })
	}
	time.Sleep(300 * time.Millisecond) // let every goroutine park
	during := threads(t)
	wg.Wait()
	for _, c := range cmds {
		_ = c.Wait()
	}
	if during-before >= 10 {
		t.Fatalf("threads went from %d to %d while waiting for 20 processes", before, during)
	}
}

func threads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// BenchmarkWait50 waits for 50 concurrent `sleep 0.2` processes, with
// cmd.Wait alone (a blocked wait4, and an OS thread, per process) and with
// awaitExit first (parked in the netpoller). The floor is 200 ms.
func BenchmarkWait50(b *testing.B) {
	for _, bc := range []struct {
		name  string
		await bool
	}{{"wait4", false}, {"pidfd", true}} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				var wg sync.WaitGroup
				for range 50 {
					wg.Go(func() {
						cmd := osexec.Command("sleep", "0.2")
						if err := cmd.Start(); err != nil {
							b.Error(err)
							return
						}
						if bc.await {
							awaitExit(cmd.Process.Pid)
						}
						_ = cmd.Wait()
					})
				}
				wg.Wait()
			}
		})
	}
}
