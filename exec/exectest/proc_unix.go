//go:build !windows

package exectest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// WaitPID waits until a step has written its child's process id, followed
// by a newline, to file, and returns it. The wait gives up after 10 s,
// which only stops a hung test; nothing is timed.
func WaitPID(tb testing.TB, file string) int {
	tb.Helper()
	for i := 0; i < 1000; i++ {
		if b, err := os.ReadFile(file); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				tb.Fatal(err)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("no process id written to %s", file)
	return 0
}

// Alive reports whether process pid is running (a zombie is not).
func Alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// WaitGone waits until pid has exited, failing the test after 10 s.
func WaitGone(tb testing.TB, pid int) {
	tb.Helper()
	for i := 0; i < 1000; i++ {
		if !Alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("process %d still running", pid)
}
