// Package host runs a job's steps as processes on this machine.
//
// Each process runs in its own process group, so that a timeout or a
// cancellation stops it together with everything it started; processes a
// step leaves running in the background are stopped when the job ends, as
// GitHub's runner does.
package host

import (
	"context"
	"errors"
	"fmt"
	osexec "os/exec"
	"sync"
	"time"

	"github.com/vermont-ci/vermont/exec"
)

// Backend starts jobs on the host. The zero value is ready to use.
type Backend struct {
	grace time.Duration
}

// Option configures a Backend.
type Option func(*Backend)

// WithGrace sets how long a cancelled process gets between the interrupt
// and the kill (GitHub's runner waits 7.5 s).
func WithGrace(d time.Duration) Option { return func(b *Backend) { b.grace = d } }

// New returns a host backend.
func New(opts ...Option) *Backend {
	b := &Backend{}
	for _, o := range opts {
		o(b)
	}
	if b.grace == 0 {
		b.grace = 7500 * time.Millisecond
	}
	return b
}

var _ exec.Backend = (*Backend)(nil)

// Start prepares a job. Host jobs need no preparation; an image is an error,
// because this backend cannot honour it.
func (b *Backend) Start(ctx context.Context, job exec.JobSpec) (exec.StepRunner, error) {
	if job.Image != "" {
		return nil, fmt.Errorf("job %q wants image %q, but runs on the host backend", job.Job, job.Image)
	}
	grace := b.grace
	if grace == 0 {
		grace = 7500 * time.Millisecond
	}
	return &runner{grace: grace}, nil
}

// runner runs one job's processes and remembers their process groups.
type runner struct {
	grace  time.Duration
	mu     sync.Mutex
	groups []int
	closed bool
}

var _ exec.StepRunner = (*runner)(nil)

func (r *runner) Run(ctx context.Context, p exec.Process) (int, error) {
	if len(p.Argv) == 0 {
		return -1, errors.New("no command")
	}
	path, err := exec.LookPath(p.Argv[0], p.Env)
	if err != nil {
		return -1, err
	}
	cmd := osexec.Command(path, p.Argv[1:]...)
	cmd.Args[0] = p.Argv[0]
	cmd.Env = p.Env
	cmd.Dir = p.Dir
	setGroup(cmd)
	out, err := startOutput(cmd, p.Stdout, p.Stderr)
	if err != nil {
		return -1, err
	}
	if err := cmd.Start(); err != nil {
		out.abort()
		return -1, fmt.Errorf("start %s: %w", p.Argv[0], err)
	}
	out.started()
	r.track(cmd)
	done := make(chan error, 1)
	go func() {
		awaitExit(cmd.Process.Pid)
		err := cmd.Wait()
		// Background children may hold the pipes open; don't wait for
		// them forever once the step's own process has exited.
		out.wait(2 * time.Second)
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = r.stop(cmd, done)
		return exitCode(cmd, err), ctx.Err()
	}
	return exitCode(cmd, err), nil
}

// stop interrupts the process group, waits for the grace period, then kills
// the group, and returns the process's wait error.
func (r *runner) stop(cmd *osexec.Cmd, done <-chan error) error {
	signalGroup(cmd, false)
	t := time.NewTimer(r.grace)
	defer t.Stop()
	select {
	case err := <-done:
		signalGroup(cmd, true) // the leader is gone; its children go too
		return err
	case <-t.C:
		signalGroup(cmd, true)
		return <-done
	}
}

func exitCode(cmd *osexec.Cmd, err error) int {
	if cmd.ProcessState != nil {
		if c := cmd.ProcessState.ExitCode(); c >= 0 {
			return c
		}
		return 128 + 9 // killed by a signal, as a shell reports it
	}
	if err != nil {
		return -1
	}
	return 0
}

func (r *runner) track(cmd *osexec.Cmd) {
	r.mu.Lock()
	r.groups = append(r.groups, cmd.Process.Pid)
	r.mu.Unlock()
}

// Close kills every process group the job started that is still alive.
func (r *runner) Close(ctx context.Context) error {
	r.mu.Lock()
	groups := r.groups
	r.groups, r.closed = nil, true
	r.mu.Unlock()
	for _, pgid := range groups {
		killGroup(pgid)
	}
	return nil
}
