//go:build !windows

package host

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/exectest"
)

func start(t *testing.T) exec.StepRunner {
	t.Helper()
	r, err := New(WithGrace(200*time.Millisecond)).Start(context.Background(), exec.JobSpec{Job: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func TestRunExitCodeAndOutput(t *testing.T) {
	t.Parallel()
	r := start(t)
	var out, errb bytes.Buffer
	code, err := r.Run(context.Background(), exec.Process{
		Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"},
		Env:  []string{"PATH=" + os.Getenv("PATH")},
		Dir:  t.TempDir(), Stdout: &out, Stderr: &errb,
	})
	if err != nil || code != 3 {
		t.Fatalf("code %d err %v, want 3 nil", code, err)
	}
	if out.String() != "out\n" || errb.String() != "err\n" {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestRunUsesPathOfEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tool := filepath.Join(dir, "mytool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\necho from-tool\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := start(t)
	var out bytes.Buffer
	code, err := r.Run(context.Background(), exec.Process{
		Argv: []string{"mytool"}, Env: []string{"PATH=" + dir + ":" + os.Getenv("PATH")},
		Dir: dir, Stdout: &out, Stderr: &out,
	})
	if err != nil || code != 0 || out.String() != "from-tool\n" {
		t.Fatalf("code %d err %v out %q", code, err, out.String())
	}
	if _, err := r.Run(context.Background(), exec.Process{Argv: []string{"no-such-tool-xyz"}, Env: []string{"PATH=" + dir}}); err == nil {
		t.Fatal("missing executable: no error")
	}
}

// TestCancelKillsProcessGroup checks that cancelling a step stops the step's
// process and the children it started, leaving nothing behind.
func TestCancelKillsProcessGroup(t *testing.T) {
	t.Parallel()
	r := start(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, exec.Process{
			// The child ignores SIGINT, so only the kill after the grace period stops it.
			Argv: []string{"sh", "-c", "trap '' INT; sleep 300 & echo $! > " + pidFile + "; wait"},
			Env:  []string{"PATH=" + os.Getenv("PATH")}, Dir: dir,
			Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		})
		done <- err
	}()
	pid := exectest.WaitPID(t, pidFile)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	exectest.WaitGone(t, pid)
}

// TestCloseKillsBackground checks that a process a step leaves running in
// the background is stopped when the job ends.
func TestCloseKillsBackground(t *testing.T) {
	t.Parallel()
	r, err := New().Start(context.Background(), exec.JobSpec{Job: "t"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "bg.pid")
	code, err := r.Run(context.Background(), exec.Process{
		Argv: []string{"sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $! > " + pidFile},
		Env:  []string{"PATH=" + os.Getenv("PATH")}, Dir: dir, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
	})
	if err != nil || code != 0 {
		t.Fatalf("code %d err %v", code, err)
	}
	pid := exectest.WaitPID(t, pidFile)
	if !exectest.Alive(pid) {
		t.Fatal("background process not running before Close")
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	exectest.WaitGone(t, pid)
}

func TestImageRejected(t *testing.T) {
	if _, err := New().Start(context.Background(), exec.JobSpec{Job: "j", Image: "alpine"}); err == nil || !strings.Contains(err.Error(), "alpine") {
		t.Fatalf("err = %v, want one naming the image", err)
	}
}
