// Package containerd runs jobs in containerd containers: a job on an image
// gets one long-lived job container and each step is an exec in it; a job's
// services run beside it, pod style, in one network namespace; Docker
// actions run as one-off containers in that namespace too.
//
// # Networking
//
// With NetworkNone (the default) Vermont creates one network namespace per
// job, with only loopback, and every container of the job joins it: services
// answer on localhost, and by name through an /etc/hosts that maps each
// service name to 127.0.0.1. A service's (or the job container's) ports:
// are published on the host's loopback by a small TCP forwarder that dials
// into the namespace, as docker-proxy does; this is how a job that runs on
// the host reaches its services, as on GitHub's runners. With NetworkHost
// every container shares the host's network and ports need no publishing.
//
// # Cleaning up
//
// Everything a job creates (containers, tasks, snapshots, the lease that
// protects them) carries the labels LabelRun and LabelJob. Close removes it
// on a context that outlives cancellation; Prune removes what a crashed run
// left behind.
//
// containerd and OCI types never leave this package.
package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/host"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// Labels stamped on everything a job creates.
const (
	LabelRun     = "vermont.run"     // JobSpec.RunID
	LabelJob     = "vermont.job"     // unique per started job
	LabelRole    = "vermont.role"    // job, service or action
	LabelService = "vermont.service" // the service's name
)

// Errors callers can test with errors.Is.
var (
	ErrDaemonUnavailable  = ctrd.ErrDaemonUnavailable
	ErrImageNotFound      = ctrd.ErrImageNotFound
	ErrRuntimeUnavailable = ctrd.ErrRuntimeUnavailable
	// ErrUnauthorized reports that a registry refused to let an image be
	// pulled: its credentials: are missing or wrong.
	ErrUnauthorized = ctrd.ErrUnauthorized
	// ErrNoBuilder reports a Docker action with a Dockerfile: this backend
	// runs prebuilt images only.
	ErrNoBuilder = errors.New("building a Dockerfile action needs an image build engine, which the containerd backend does not have: build the image elsewhere (docker build / buildah / buildctl), `vermont image import` it, and use `uses: docker://IMAGE` or runs.image: IMAGE")
	// ErrUnhealthy reports a service whose --health-cmd did not succeed.
	ErrUnhealthy = errors.New("service is unhealthy")
)

// Backend starts jobs in containerd containers. It is safe for concurrent
// use; close it when done.
type Backend struct {
	c   *ctrd.Client
	cfg config
	sys sysInfo // what the host's kernel offers containers
	log *slog.Logger
}

var _ exec.Backend = (*Backend)(nil)

// New connects to containerd and returns a backend. It fails, naming the
// socket, when containerd is not running, and when the runtime handler's
// shim is not installed.
func New(ctx context.Context, opts ...Option) (*Backend, error) {
	var cfg config
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("containerd backend: %w", err)
		}
	}
	if cfg.network == "" {
		cfg.network = NetworkNone
	}
	if cfg.grace == 0 {
		cfg.grace = DefaultGrace
	}
	if cfg.healthTimeout == 0 {
		cfg.healthTimeout = DefaultHealthTimeout
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.host == nil {
		cfg.host = host.New(host.WithGrace(cfg.grace))
	}
	if cfg.runtime != "" {
		if err := ctrd.CheckRuntime(cfg.runtime); err != nil {
			return nil, fmt.Errorf("containerd backend: %w", err)
		}
	}
	c, err := ctrd.Connect(ctx, cfg.ctrd...)
	if err != nil {
		return nil, fmt.Errorf("containerd backend: %w", err)
	}
	return &Backend{c: c, cfg: cfg, sys: probeSys(), log: cfg.log.With("backend", "containerd", "namespace", c.Namespace())}, nil
}

// Close releases the connection to containerd. Close running jobs first.
func (b *Backend) Close() error { return b.c.Close() }

// Start prepares a job: for a job on an image, its job container; its
// services, published ports and health checks; and for a job on the host,
// the host runner its steps go to. On any error everything made so far is
// removed, even when ctx was cancelled.
func (b *Backend) Start(ctx context.Context, spec exec.JobSpec) (exec.StepRunner, error) {
	plan, err := b.plan(spec)
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", spec.Job, err)
	}
	j, err := b.newJob(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", spec.Job, err)
	}
	if err := j.start(ctx, plan); err != nil {
		cctx, cancel := ctrd.CleanupContext(ctx)
		defer cancel()
		if cerr := j.Close(cctx); cerr != nil {
			b.log.ErrorContext(ctx, "clean up after failed start", "job", spec.Job, "err", cerr)
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf("job %q: %w", spec.Job, err)
	}
	return j, nil
}

// jobPlan is a JobSpec checked and parsed, before anything is created.
type jobPlan struct {
	main     *containerPlan // nil for a job on the host
	services []*containerPlan
}

// containerPlan is one container to create.
type containerPlan struct {
	name  string // service name; "" for the job container
	image string
	creds *exec.Credentials // for pulling image, from its registry only
	env   []string
	ports []portMapping
	vols  []string
	opts  createOptions
}

// plan checks spec and parses every option, reporting all problems at once.
func (b *Backend) plan(spec exec.JobSpec) (*jobPlan, error) {
	var (
		p    jobPlan
		errs []error
	)
	if spec.Image != "" {
		cs := exec.ContainerSpec{Image: spec.Image}
		if spec.Container != nil {
			cs = *spec.Container
			cs.Image = spec.Image
		}
		cp, err := planContainer("", cs)
		if err != nil {
			errs = append(errs, fmt.Errorf("container: %w", err))
		}
		p.main = cp
	}
	seen := map[string]bool{}
	for _, s := range spec.Services {
		switch {
		case !validHostname(s.Name):
			errs = append(errs, fmt.Errorf("services: %q is not a valid host name (letters, digits, '-' and '_')", s.Name))
			continue
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("services: %q is defined twice", s.Name))
			continue
		case s.Image == "":
			errs = append(errs, fmt.Errorf("services: %s: no image", s.Name))
			continue
		}
		seen[s.Name] = true
		cp, err := planContainer(s.Name, s.ContainerSpec)
		if err != nil {
			errs = append(errs, fmt.Errorf("services: %s: %w", s.Name, err))
		}
		p.services = append(p.services, cp)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &p, nil
}

// planContainer parses one container's env, ports, volumes and options.
func planContainer(name string, cs exec.ContainerSpec) (*containerPlan, error) {
	cp := &containerPlan{name: name, image: cs.Image, creds: cs.Credentials, env: sortedEnv(cs.Env), vols: cs.Volumes}
	var errs []error
	opts, err := parseCreateOptions(cs.Options)
	if err != nil {
		errs = append(errs, err)
	}
	cp.opts = opts
	for _, p := range cs.Ports {
		m, err := parsePort(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cp.ports = append(cp.ports, m)
	}
	for _, v := range cs.Volumes {
		if _, err := parseVolume(v); err != nil {
			errs = append(errs, err)
		}
	}
	return cp, errors.Join(errs...)
}

// validHostname reports whether s can be a service's host name.
func validHostname(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
