package containerd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/containerd/v2/core/leases"
	"golang.org/x/sync/errgroup"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// leaseExpiry bounds how long a crashed run's lease protects its snapshots
// from garbage collection; `vermont prune` removes them sooner.
const leaseExpiry = 24 * time.Hour

// job is one started job: its containers, network and host runner. It is
// the exec.StepRunner Start returns.
type job struct {
	b       *Backend
	spec    exec.JobSpec
	id      string // unique; prefixes container IDs; the LabelJob value
	dir     string // hosts file, logs, volumes
	leaseID string
	anon    int // anonymous volumes so far

	host exec.StepRunner // runs steps of a job without an image

	mu       sync.Mutex
	ns       *netns // nil with NetworkHost, or until first needed
	main     *ctr   // job container; nil for a job on the host
	services []*ctr
	fwd      []*forwarder
	closed   bool

	seq atomic.Int64   // exec and action IDs
	bg  sync.WaitGroup // deletions of finished execs
}

var (
	_ exec.StepRunner         = (*job)(nil)
	_ exec.ContainerRunner    = (*job)(nil)
	_ exec.ContainerDescriber = (*job)(nil)
	_ exec.Owner              = (*job)(nil)
)

// newJob makes a job's directory and lease.
func (b *Backend) newJob(ctx context.Context, spec exec.JobSpec) (*job, error) {
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	j := &job{b: b, spec: spec, id: "vermont-" + hex.EncodeToString(rnd[:])}
	dir, err := os.MkdirTemp("", j.id+"-")
	if err != nil {
		return nil, fmt.Errorf("job directory: %w", err)
	}
	j.dir = dir
	if err := ctx.Err(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cctx, cancel := ctrd.CreateContext(ctx)
	defer cancel()
	lctx, _, err := b.c.WithLease(cctx, j.labelsFor("", ""), leaseExpiry)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	j.leaseID, _ = leases.FromContext(lctx)
	return j, nil
}

// ctx binds ctx to the namespace and the job's lease.
func (j *job) ctx(ctx context.Context) context.Context {
	return leases.WithLease(j.b.c.Context(ctx), j.leaseID)
}

// labelsFor returns the labels for something the job creates.
func (j *job) labelsFor(role, service string) map[string]string {
	l := map[string]string{LabelRun: j.spec.RunID, LabelJob: j.id}
	if role != "" {
		l[LabelRole] = role
	}
	if service != "" {
		l[LabelService] = service
	}
	return l
}

// start creates the network, the job container and the services, publishes
// ports and waits for health checks.
func (j *job) start(ctx context.Context, p *jobPlan) error {
	if p.main == nil {
		h, err := j.b.cfg.host.Start(ctx, exec.JobSpec{RunID: j.spec.RunID, Job: j.spec.Job, Mounts: j.spec.Mounts})
		if err != nil {
			return err
		}
		j.host = h
	}
	if p.main == nil && len(p.services) == 0 {
		return j.writeHosts(nil) // containers only come with Docker actions
	}
	if err := j.network(); err != nil {
		return err
	}
	names := make([]string, 0, len(p.services)+1)
	if p.main != nil {
		names = append(names, j.id)
	}
	for _, s := range p.services {
		names = append(names, s.name)
	}
	if err := j.writeHosts(names); err != nil {
		return err
	}
	descs, err := j.describe(p)
	if err != nil {
		return err
	}
	ctrs := make([]*ctr, len(descs))
	g, gctx := errgroup.WithContext(ctx)
	for i, d := range descs {
		g.Go(func() error {
			c, err := j.create(gctx, d)
			if err != nil {
				return err
			}
			ctrs[i] = c
			if err := gctx.Err(); err != nil {
				return err
			}
			sctx, cancel := ctrd.CreateContext(j.ctx(gctx))
			defer cancel()
			if err := c.task.Start(sctx); err != nil {
				return fmt.Errorf("start container for %s: %w", d.image, err)
			}
			return nil
		})
	}
	err = g.Wait()
	j.mu.Lock()
	for _, c := range ctrs {
		switch {
		case c == nil:
		case c.name == "" && p.main != nil:
			j.main = c
		default:
			j.services = append(j.services, c)
		}
	}
	j.mu.Unlock()
	if err != nil {
		return err
	}
	plans := append([]*containerPlan{p.main}, p.services...)
	if err := j.publish(ctx, plans); err != nil {
		return err
	}
	return j.waitHealthy(ctx, p.services)
}

// network creates the job's network namespace unless it uses the host's.
func (j *job) network() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.b.cfg.network == NetworkHost || j.ns != nil {
		return nil
	}
	ns, err := newNetns()
	if err != nil {
		return err
	}
	j.ns = ns
	return nil
}

// describe turns the plan into container descriptions, the job container
// first.
func (j *job) describe(p *jobPlan) ([]container, error) {
	var out []container
	if m := p.main; m != nil {
		binds, err := j.volumeMounts(m.vols)
		if err != nil {
			return nil, err
		}
		out = append(out, container{
			role: "job", id: j.id + "-job", image: m.image, creds: m.creds, args: keepAlive,
			env: mergeEnv(m.env, m.opts.env), user: m.opts.user, workdir: m.opts.workdir,
			binds: binds, hostname: j.id, log: filepath.Join(j.dir, "job.log"), limits: m.opts.limits,
		})
	}
	for _, s := range p.services {
		binds, err := j.volumeMounts(s.vols)
		if err != nil {
			return nil, fmt.Errorf("services: %s: %w", s.name, err)
		}
		d := container{
			role: "service", name: s.name, id: j.id + "-svc-" + s.name, image: s.image, creds: s.creds,
			env: mergeEnv(s.env, s.opts.env), user: s.opts.user, workdir: s.opts.workdir,
			binds: binds, hostname: s.name, log: filepath.Join(j.dir, "service-"+s.name+".log"), limits: s.opts.limits,
		}
		if s.opts.entrypoint != nil {
			// Docker's --entrypoint is one program and drops the image's cmd.
			d.args = []string{*s.opts.entrypoint}
		}
		out = append(out, d)
	}
	return out, nil
}

// publish puts ports: on the host. With host networking they are there
// already.
func (j *job) publish(ctx context.Context, plans []*containerPlan) error {
	for _, p := range plans {
		if p == nil || len(p.ports) == 0 {
			continue
		}
		c := j.container(p.name)
		c.ports = map[string]string{}
		for _, m := range p.ports {
			if j.ns == nil {
				c.ports[strconv.Itoa(m.containerPort)] = strconv.Itoa(m.containerPort)
				continue
			}
			f, err := listen(ctx, m, j.ns, j.b.log)
			if err != nil {
				return fmt.Errorf("%s: %w", describeName(p.name), err)
			}
			j.mu.Lock()
			j.fwd = append(j.fwd, f)
			j.mu.Unlock()
			c.ports[strconv.Itoa(m.containerPort)] = strconv.Itoa(f.hostPort())
		}
	}
	return nil
}

func describeName(service string) string {
	if service == "" {
		return "job container"
	}
	return "service " + service
}

// container returns the job container ("") or a service by name.
func (j *job) container(name string) *ctr {
	j.mu.Lock()
	defer j.mu.Unlock()
	if name == "" {
		return j.main
	}
	for _, s := range j.services {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Containers describes the job's containers for job.container and
// job.services. Their network is the job's own namespace, named by the
// job's id, or "host" with host networking.
func (j *job) Containers() (*exec.ContainerInfo, map[string]exec.ContainerInfo) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.main == nil && len(j.services) == 0 {
		return nil, nil
	}
	network := j.id
	if j.b.cfg.network == NetworkHost {
		network = "host"
	}
	info := func(c *ctr) exec.ContainerInfo {
		ports := make(map[string]string, len(c.ports))
		for k, v := range c.ports {
			ports[k] = v
		}
		return exec.ContainerInfo{ID: c.id, Network: network, Ports: ports}
	}
	main := &exec.ContainerInfo{Network: network}
	if j.main != nil {
		m := info(j.main)
		main = &m
	}
	services := make(map[string]exec.ContainerInfo, len(j.services))
	for _, s := range j.services {
		services[s.name] = info(s)
	}
	return main, services
}

// Owner reports the user the job container's steps run as, so that the
// job runner gives it the workspace and command files (exec.Owner).
func (j *job) Owner() (uid, gid int, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.main == nil {
		return 0, 0, false
	}
	u := j.main.process.User
	return int(u.UID), int(u.GID), true
}

// Run runs a step: as an exec in the job container, or on the host for a
// job without an image.
func (j *job) Run(ctx context.Context, p exec.Process) (int, error) {
	if len(p.Argv) == 0 {
		return -1, errors.New("no command")
	}
	j.mu.Lock()
	main, closed := j.main, j.closed
	j.mu.Unlock()
	if closed {
		return -1, fmt.Errorf("job %q is closed", j.spec.Job)
	}
	if main == nil {
		return j.host.Run(ctx, p)
	}
	return j.exec(ctx, main, p, j.b.cfg.grace)
}

// Close stops and removes every container of the job with its task and
// snapshot, the lease, the published ports, the network namespace and the
// job's directory, even when ctx is cancelled. It is safe to call twice.
func (j *job) Close(ctx context.Context) error {
	j.mu.Lock()
	j.closed = true
	fwd, ns, h := j.fwd, j.ns, j.host
	j.fwd, j.ns, j.host = nil, nil, nil
	j.mu.Unlock()
	for _, f := range fwd {
		f.close()
	}
	j.bg.Wait()
	cctx, cancel := ctrd.CleanupContext(ctx)
	defer cancel()
	var errs []error
	if h != nil {
		errs = append(errs, h.Close(cctx))
	}
	if _, err := j.b.c.RemoveLabeled(cctx, LabelJob, j.id); err != nil {
		errs = append(errs, err)
	}
	if ns != nil {
		errs = append(errs, ns.close())
	}
	if err := os.RemoveAll(j.dir); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("job %q: clean up: %w", j.spec.Job, err)
	}
	return nil
}
