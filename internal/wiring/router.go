package wiring

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/vermont-ci/vermont/exec"
)

// ContainerBackend is the containerd backend a Router sends container
// jobs to (exec/containerd's Backend, connected by package
// internal/wiring/ctrdwire).
type ContainerBackend interface {
	exec.Backend
	Close() error
}

// OpenContainers connects to the container backend. A Router calls it
// once, when a job first needs containers.
type OpenContainers func(ctx context.Context) (ContainerBackend, error)

// Router is an exec.Backend that sends each job to the host or to
// containerd. Jobs on the host need no daemon: containerd is only
// contacted when a job needs a container (an image, container:,
// services) or always asks for it. This package links no daemon client:
// what connects is the open function, so a host-only binary passes one
// that only reports the missing build.
type Router struct {
	host   exec.Backend
	always bool
	open   OpenContainers
	once   sync.Once
	ctrd   ContainerBackend
	err    error
}

var _ exec.Backend = (*Router)(nil)

// NewRouter returns a Router over the host backend. With always, every
// job goes to the container backend (host-labelled jobs still run on the
// host, as it decides).
func NewRouter(host exec.Backend, always bool, open OpenContainers) *Router {
	return &Router{host: host, always: always, open: open}
}

// Start implements exec.Backend.
func (r *Router) Start(ctx context.Context, spec exec.JobSpec) (exec.StepRunner, error) {
	if !r.always && spec.Image == "" && len(spec.Services) == 0 {
		h, err := r.host.Start(ctx, spec)
		if err != nil {
			return nil, err
		}
		return &hostJob{StepRunner: h, r: r, spec: spec}, nil
	}
	b, err := r.containerd(ctx)
	if err != nil {
		return nil, fmt.Errorf("job %q needs containers: %w", spec.Job, err)
	}
	return b.Start(ctx, spec)
}

func (r *Router) containerd(ctx context.Context) (ContainerBackend, error) {
	r.once.Do(func() {
		if r.open == nil {
			r.err = exec.ErrNoContainers
			return
		}
		r.ctrd, r.err = r.open(ctx)
	})
	return r.ctrd, r.err
}

// Close releases the containerd connection, if one was made.
func (r *Router) Close() {
	r.once.Do(func() {}) // a late first use must not connect now
	if r.ctrd != nil {
		r.ctrd.Close()
	}
}

// hostJob is a job on the host whose Docker actions (uses: docker://…,
// runs.using: docker) still run, as on GitHub's Linux runners: containerd is
// contacted, and a containerd job started beside the host one, only when a
// step first runs a container.
type hostJob struct {
	exec.StepRunner
	r    *Router
	spec exec.JobSpec

	mu  sync.Mutex // guards ctr; steps run one at a time, Close after them
	ctr exec.StepRunner
}

var _ exec.ContainerRunner = (*hostJob)(nil)

// RunContainer runs a Docker action through containerd, connecting first.
func (h *hostJob) RunContainer(ctx context.Context, cp exec.ContainerProcess) (int, error) {
	h.mu.Lock()
	if h.ctr == nil {
		b, err := h.r.containerd(ctx)
		if err != nil {
			h.mu.Unlock()
			return -1, fmt.Errorf("docker action %s needs containers: %w", cp.Image, err)
		}
		if h.ctr, err = b.Start(ctx, h.spec); err != nil {
			h.mu.Unlock()
			return -1, err
		}
	}
	cr, ok := h.ctr.(exec.ContainerRunner)
	h.mu.Unlock()
	if !ok {
		return -1, exec.ErrNoContainers
	}
	return cr.RunContainer(ctx, cp)
}

// Close closes the host job and the containerd job, if one was started.
func (h *hostJob) Close(ctx context.Context) error {
	err := h.StepRunner.Close(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctr != nil {
		err = errors.Join(err, h.ctr.Close(ctx))
	}
	return err
}
