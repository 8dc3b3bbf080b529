package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/client"
	"golang.org/x/sync/errgroup"

	"github.com/vermont-ci/vermont/exec"
)

// waitHealthy waits until every service with a --health-cmd is healthy,
// as GitHub's runner does before the first step. It fails with
// ErrUnhealthy when a check fails --health-retries times in a row (after
// --health-start-period), when a service exits, or when the backend's
// health timeout passes.
func (j *job) waitHealthy(ctx context.Context, plans []*containerPlan) error {
	ctx, cancel := context.WithTimeout(ctx, j.b.cfg.healthTimeout)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range plans {
		if p.opts.health == nil {
			continue
		}
		c := j.container(p.name)
		hc := *p.opts.health
		g.Go(func() error { return j.waitService(gctx, c, hc) })
	}
	return g.Wait()
}

// waitService runs c's health check every interval until it passes.
func (j *job) waitService(ctx context.Context, c *ctr, hc healthCheck) error {
	start := time.Now()
	failures := 0
	var last string
	t := time.NewTimer(hc.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("service %s: %w: not healthy after %s (last check: %s)%s", c.name, ErrUnhealthy, j.b.cfg.healthTimeout, last, j.logTail(c))
			}
			return ctx.Err()
		}
		if code, ok := j.exitedEarly(ctx, c); ok {
			return fmt.Errorf("service %s: %w: it exited with code %d before its health check passed%s", c.name, ErrUnhealthy, code, j.logTail(c))
		}
		code, out, err := j.check(ctx, c, hc)
		switch {
		case err == nil && code == 0:
			j.b.log.DebugContext(ctx, "service healthy", "service", c.name)
			return nil
		case ctx.Err() != nil:
			continue // reported above
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("exit code %d: %s", code, strings.TrimSpace(out))
		}
		if time.Since(start) >= hc.startPeriod {
			failures++
		}
		if failures >= hc.retries {
			return fmt.Errorf("service %s: %w: --health-cmd %q failed %d times in a row (last: %s)%s", c.name, ErrUnhealthy, hc.cmd, failures, last, j.logTail(c))
		}
		t.Reset(hc.interval)
	}
}

// check runs the health command once, bounded by its timeout.
func (j *job) check(ctx context.Context, c *ctr, hc healthCheck) (int, string, error) {
	cctx, cancel := context.WithTimeout(ctx, hc.timeout)
	defer cancel()
	var out limitedBuffer
	code, err := j.exec(cctx, c, exec.Process{Argv: []string{"/bin/sh", "-c", hc.cmd}, Stdout: &out, Stderr: &out}, 0)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return -1, out.String(), fmt.Errorf("timed out after %s", hc.timeout)
	}
	return code, out.String(), err
}

// exitedEarly reports whether c's main process has exited, and its code.
func (j *job) exitedEarly(ctx context.Context, c *ctr) (int, bool) {
	st, err := c.task.Status(j.ctx(ctx))
	if err != nil || st.Status != client.Stopped {
		return 0, false
	}
	return int(st.ExitStatus), true
}

// logTail returns the end of a container's own output for error messages.
func (j *job) logTail(c *ctr) string {
	if c.logPath == "" {
		return ""
	}
	data, err := os.ReadFile(c.logPath)
	if err != nil || len(bytes.TrimSpace(data)) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return "\n  its output ends:\n    " + strings.Join(lines, "\n    ")
}

// limitedBuffer keeps the first 4 KiB written to it, for messages.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 4096 - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
