package containerd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// RunContainer runs a Docker action: a one-off container from cp.Image in
// the job's network namespace, with the job's mounts and cp.Mounts bound at
// the same paths, its output streamed, and the container removed afterwards.
// An empty cp.Entrypoint keeps the image's, and empty cp.Args its cmd. When
// ctx ends, the container is stopped (SIGTERM, SIGKILL after the grace
// period) and ctx.Err() returned.
func (j *job) RunContainer(ctx context.Context, cp exec.ContainerProcess) (int, error) {
	if cp.Image == "" {
		return -1, errors.New("docker action: no image")
	}
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed {
		return -1, fmt.Errorf("job %q is closed", j.spec.Job)
	}
	if err := j.network(); err != nil {
		return -1, fmt.Errorf("docker action %s: %w", cp.Image, err)
	}
	id := j.id + "-act-" + strconv.FormatInt(j.seq.Add(1), 10)
	d := container{
		role: "action", id: id, image: cp.Image, env: cp.Env, workdir: cp.Dir,
		binds: j.extraBinds(cp.Mounts),
		stdio: streams(cp.Stdout, cp.Stderr),
	}
	switch {
	case len(cp.Entrypoint) > 0:
		d.args = append(append([]string{}, cp.Entrypoint...), cp.Args...)
	case len(cp.Args) > 0:
		d.argsFromIm = cp.Args
	}
	defer func() {
		cctx, cancel := ctrd.CleanupContext(ctx)
		defer cancel()
		if err := j.b.c.DeleteContainer(cctx, id, 0); err != nil {
			j.b.log.ErrorContext(ctx, "remove docker action container", "id", id, "err", err)
		}
	}()
	c, err := j.create(ctx, d)
	if err != nil {
		return -1, fmt.Errorf("docker action %s: %w", cp.Image, err)
	}
	return j.runTask(ctx, c, cp.Image)
}

// runTask starts c's task and waits for it to exit, or stops it when ctx
// ends.
func (j *job) runTask(ctx context.Context, c *ctr, image string) (int, error) {
	cctx := j.ctx(ctx)
	wctx, wcancel := context.WithCancel(context.WithoutCancel(cctx))
	defer wcancel()
	exited, err := c.task.Wait(wctx)
	if err != nil {
		return -1, fmt.Errorf("docker action %s: %w", image, err)
	}
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	sctx, scancel := ctrd.CreateContext(cctx)
	err = c.task.Start(sctx)
	scancel()
	if err != nil {
		return -1, fmt.Errorf("docker action %s: start: %w", image, err)
	}
	var st client.ExitStatus
	select {
	case st = <-exited:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(wctx, j.b.cfg.grace+10*time.Second)
		if err := ctrd.StopTask(sctx, c.task, j.b.cfg.grace); err != nil {
			_ = c.task.Kill(sctx, syscall.SIGKILL, client.WithKillAll)
		}
		cancel()
		st = <-exited
		waitIO(c.task)
		code, _, _ := st.Result()
		return int(code), ctx.Err()
	}
	waitIO(c.task)
	code, _, err := st.Result()
	if err != nil {
		return -1, fmt.Errorf("docker action %s: %w", image, err)
	}
	return int(code), nil
}

// extraBinds binds host directories at the same path, skipping those every
// container of the job has already.
func (j *job) extraBinds(paths []string) []specs.Mount {
	have := make(map[string]bool, len(j.spec.Mounts))
	for _, m := range j.spec.Mounts {
		have[m] = true
	}
	var out []specs.Mount
	for _, p := range paths {
		if !have[p] {
			have[p] = true
			out = append(out, bind(p, p, false))
		}
	}
	return out
}

// waitIO waits for a finished container's output to be copied. Its init has
// exited, so the kernel has killed everything else in it and the pipes
// close; ioMax only guards against a stuck shim.
func waitIO(task client.Task) {
	pio := task.IO()
	if pio == nil {
		return
	}
	done := make(chan struct{})
	go func() { pio.Wait(); close(done) }()
	if !waitFor(done, ioMax) {
		pio.Cancel()
	}
}
