package containerd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// How long output is read after a step's process exits. Usually the copy
// ends at once; under load the shim can lag for seconds, but a background
// child the step left running may also hold its stdout open for ever, so
// the wait is long only when no such child can exist.
const (
	ioQuick = 200 * time.Millisecond // then look for other processes
	ioDrain = 2 * time.Second        // when other processes may hold it
	ioMax   = 30 * time.Second       // when none can
)

// exec runs p as a new process in c and returns its exit code. p.Env
// replaces same-named entries of the container's environment (image env,
// env:, --env); an empty p.Dir keeps the container's working directory.
// When ctx ends, the process and its descendants get SIGTERM, then SIGKILL
// after the grace period, and ctx.Err() is returned.
func (j *job) exec(ctx context.Context, c *ctr, p exec.Process, grace time.Duration) (int, error) {
	pspec := c.process
	pspec.Terminal = false
	pspec.Args = p.Argv
	pspec.Env = mergeEnv(c.process.Env, p.Env)
	if p.Dir != "" {
		pspec.Cwd = p.Dir
	}
	execID := "step-" + strconv.FormatInt(j.seq.Add(1), 10)
	cctx := j.ctx(ctx)
	proc, err := c.task.Exec(cctx, execID, &pspec, streams(p.Stdout, p.Stderr))
	if err != nil {
		return -1, fmt.Errorf("exec %s: %w", p.Argv[0], err)
	}
	background := false
	defer func() {
		if background {
			// Off the step's path: the output is in and the code known.
			j.bg.Add(1)
			go func() {
				defer j.bg.Done()
				j.deleteProcess(context.WithoutCancel(ctx), proc)
			}()
			return
		}
		j.deleteProcess(ctx, proc)
	}()
	// Wait on a context of our own: a cancelled ctx must not stop us from
	// seeing the process exit after the kill.
	wctx, wcancel := context.WithCancel(context.WithoutCancel(cctx))
	defer wcancel()
	exited, err := proc.Wait(wctx)
	if err != nil {
		return -1, fmt.Errorf("exec %s: %w", p.Argv[0], err)
	}
	if err := proc.Start(cctx); err != nil {
		return -1, fmt.Errorf("exec %s: %w", p.Argv[0], err)
	}
	select {
	case st := <-exited:
		j.drainIO(wctx, c, proc)
		background = true
		code, _, err := st.Result()
		if err != nil {
			return -1, fmt.Errorf("exec %s: %w", p.Argv[0], err)
		}
		return int(code), nil
	case <-ctx.Done():
		st := j.stop(wctx, c, proc, exited, grace)
		j.drainIO(wctx, c, proc)
		code, _, _ := st.Result()
		return int(code), ctx.Err()
	}
}

// stop sends SIGTERM to proc and its descendants, and SIGKILL after the
// grace period, and returns its exit status.
func (j *job) stop(ctx context.Context, c *ctr, proc client.Process, exited <-chan client.ExitStatus, grace time.Duration) client.ExitStatus {
	if grace > 0 {
		j.signal(ctx, c, proc, syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case st := <-exited:
			j.signal(ctx, c, proc, syscall.SIGKILL) // its children go too
			return st
		case <-t.C:
		}
	}
	j.signal(ctx, c, proc, syscall.SIGKILL)
	return <-exited
}

// signal sends sig to proc and then to its descendants in the container,
// found before the kill: once proc is gone they belong to the container's
// init.
func (j *job) signal(ctx context.Context, c *ctr, proc client.Process, sig syscall.Signal) {
	var kids []uint32
	if pids, err := c.task.Pids(ctx); err == nil {
		all := make([]uint32, 0, len(pids))
		for _, p := range pids {
			all = append(all, p.Pid)
		}
		kids = descendants(proc.Pid(), all)
	}
	if err := proc.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) && !errdefs.IsFailedPrecondition(err) {
		j.b.log.DebugContext(ctx, "signal step process", "signal", sig, "err", err)
	}
	killPids(kids, sig)
}

// deleteProcess removes an exec's record in the shim, even after ctx ended.
func (j *job) deleteProcess(ctx context.Context, proc client.Process) {
	cctx, cancel := ctrd.CleanupContext(j.ctx(ctx))
	defer cancel()
	if _, err := proc.Delete(cctx); err != nil && !errdefs.IsNotFound(err) {
		// The process may still be running if stop failed; make sure.
		_ = proc.Kill(cctx, syscall.SIGKILL)
		if _, err := proc.Delete(cctx, client.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			j.b.log.DebugContext(ctx, "delete step process", "err", err)
		}
	}
}

// drainIO waits for the process's output to be copied, but not for ever:
// see ioDrain.
func (j *job) drainIO(ctx context.Context, c *ctr, proc client.Process) {
	pio := proc.IO()
	if pio == nil {
		return
	}
	done := make(chan struct{})
	go func() { pio.Wait(); close(done) }()
	if waitFor(done, ioQuick) {
		return
	}
	limit := ioMax
	if pids, err := c.task.Pids(ctx); err != nil || len(pids) > 1 {
		limit = ioDrain // someone besides the container's init is alive
	}
	if !waitFor(done, limit) {
		pio.Cancel()
	}
}

// waitFor reports whether done closes within d.
func waitFor(done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// streams copies a process's output to stdout and stderr. The copies run
// in two goroutines; the writers are serialised (a caller may pass one
// writer for both) and hidden behind a plain Write, since a ReadFrom such as
// bytes.Buffer's is not safe to run twice at once.
func streams(stdout, stderr io.Writer) cio.Creator {
	var mu sync.Mutex
	return cio.NewCreator(cio.WithStreams(nil, &lockedWriter{mu: &mu, w: orDiscard(stdout)}, &lockedWriter{mu: &mu, w: orDiscard(stderr)}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
