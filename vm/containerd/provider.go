// Package containerd is the Linux vm.VMProvider: each instance is a
// containerd container, run by runc by default (or gVisor's runsc, or Kata
// Containers for a VM per instance), that runs GitHub's runner once.
//
// The runner gets its just-in-time configuration two ways, so images can use
// either: the environment variable ACTIONS_RUNNER_INPUT_JITCONFIG (what the
// actions-runner image's entrypoint reads: `run.sh --jitconfig
// "$ACTIONS_RUNNER_INPUT_JITCONFIG"`) and a read-only file at
// /run/vermont/jitconfig. The file is bind-mounted from the provider's
// state directory (mode 0600, removed on Destroy). Anyone who can read
// containerd's metadata (root on the host) can read the environment
// variable; it never appears in logs or errors.
//
// Create returns once the runner process has started, not once it has
// registered with GitHub. An instance's PID 1 is the image's entrypoint: as
// PID 1 it ignores SIGTERM until it installs a handler, so Destroy waits the
// stop timeout (WithStopTimeout) before SIGKILL when the entrypoint has none.
//
// Networking defaults to NetworkNone (loopback only); a real runner must
// reach GitHub, so pools running real jobs use WithNetwork(NetworkHost)
// until CNI networking exists.
//
// Instances carry the labels vm.LabelController, vm.LabelPool and
// vm.LabelInstance on the container and its root-filesystem snapshot, so List
// finds them after a restart and `vermont prune` finds leftovers.
package containerd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/vm"
)

// Where the runner finds its configuration inside an instance.
const (
	JITConfigEnv  = "ACTIONS_RUNNER_INPUT_JITCONFIG"
	JITConfigPath = "/run/vermont/jitconfig"
)

// Errors callers can test with errors.Is. They are the ctrd categories,
// re-exported so callers outside this module can match them.
var (
	ErrDaemonUnavailable  = ctrd.ErrDaemonUnavailable
	ErrImageNotFound      = ctrd.ErrImageNotFound
	ErrRuntimeUnavailable = ctrd.ErrRuntimeUnavailable
)

var _ vm.VMProvider = (*Provider)(nil)

// Provider creates runner instances as containerd containers. It keeps no
// state of its own beyond files in its state directory: everything is asked
// of containerd, so a new Provider sees what an old one created.
type Provider struct {
	c          *ctrd.Client
	controller string
	network    Network
	stateDir   string
	grace      time.Duration
	pull       bool
	log        *slog.Logger
}

// New connects to containerd and returns a provider. It fails, naming the
// socket, when containerd is not running, and when the runtime handler's shim
// is not installed.
func New(ctx context.Context, opts ...Option) (*Provider, error) {
	cfg := config{
		controller: DefaultControllerID,
		stateDir:   DefaultStateDir,
		grace:      DefaultStopTimeout,
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("containerd provider: %w", err)
		}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.runtime != "" {
		if err := ctrd.CheckRuntime(cfg.runtime); err != nil {
			return nil, fmt.Errorf("containerd provider: %w", err)
		}
	}
	c, err := ctrd.Connect(ctx, cfg.ctrd...)
	if err != nil {
		return nil, fmt.Errorf("containerd provider: %w", err)
	}
	return &Provider{
		c:          c,
		controller: cfg.controller,
		network:    cfg.network,
		stateDir:   filepath.Join(cfg.stateDir, c.Namespace(), cfg.controller),
		grace:      cfg.grace,
		pull:       cfg.pull,
		log:        cfg.log.With("provider", "containerd", "namespace", c.Namespace(), "controller", cfg.controller),
	}, nil
}

// Close releases the connection to containerd. Instances keep running.
func (p *Provider) Close() error { return p.c.Close() }

// containerID maps an instance name to its container ID.
func (p *Provider) containerID(name string) string { return p.controller + "-" + name }

// instanceDir holds an instance's runner config and log.
func (p *Provider) instanceDir(name string) string { return filepath.Join(p.stateDir, name) }

// LogPath returns the file that receives an instance's stdout and stderr.
// It is removed by Destroy.
func (p *Provider) LogPath(name string) string {
	return filepath.Join(p.instanceDir(name), "runner.log")
}

// validID checks a name against containerd's identifier rules.
func validID(s string) error {
	if err := identifiers.Validate(s); err != nil {
		return fmt.Errorf("%q: %w (use letters, digits, '.', '_' and '-', starting with a letter or digit)", s, errors.Unwrap(err))
	}
	return nil
}

// labels returns the labels stamped on an instance's container and snapshot.
func (p *Provider) labels(spec vm.Spec) map[string]string {
	l := make(map[string]string, len(spec.Labels)+3)
	for k, v := range spec.Labels {
		l[k] = v
	}
	l[vm.LabelController] = p.controller
	l[vm.LabelPool] = spec.Pool
	l[vm.LabelInstance] = spec.Name
	return l
}

// Create creates and starts an instance. On any error, everything it made
// (container, snapshot, task, files) is removed, even when ctx was cancelled.
func (p *Provider) Create(ctx context.Context, spec vm.Spec) (inst vm.Instance, err error) {
	if err := p.check(spec); err != nil {
		return vm.Instance{}, err
	}
	defer func() {
		// A call cut short by ctx fails with a gRPC status; say why.
		if cerr := ctx.Err(); err != nil && cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
	}()
	id := p.containerID(spec.Name)
	switch _, err := p.c.Containerd().LoadContainer(p.c.Context(ctx), id); {
	case err == nil:
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, errdefs.ErrAlreadyExists)
	case !errdefs.IsNotFound(err):
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	var imgOpts []ctrd.ImageOption
	if p.pull {
		imgOpts = append(imgOpts, ctrd.WithPull())
	}
	img, err := p.c.Image(ctx, spec.Image, imgOpts...)
	if err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	defer func() {
		// An instance of that name created meanwhile is not ours to remove.
		if err != nil && !errdefs.IsAlreadyExists(err) {
			p.cleanup(ctx, spec.Name)
		}
	}()
	jit, err := p.writeRunnerConfig(spec)
	if err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	labels := p.labels(spec)
	// The calls that create run to their end even when ctx is cancelled
	// (see ctrd.CreateContext), so that the cleanup above finds what they
	// made; ctx is checked between them.
	cctx, cancel := ctrd.CreateContext(p.c.Context(ctx))
	defer cancel()
	if err := ctx.Err(); err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	cont, err := p.c.Containerd().NewContainer(cctx, id,
		client.WithImage(img),
		client.WithSnapshotter(p.c.Snapshotter()),
		client.WithNewSnapshot(id, img, ctrd.SnapshotLabels(labels)),
		client.WithRuntime(p.c.Runtime(), nil),
		client.WithContainerLabels(labels),
		client.WithNewSpec(p.specOpts(img, spec, jit)...))
	if err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: container: %w", spec.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	task, err := cont.NewTask(cctx, cio.LogFile(p.LogPath(spec.Name)))
	if err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: task: %w", spec.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	if err := task.Start(cctx); err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: start: %w", spec.Name, err)
	}
	info, err := cont.Info(cctx, client.WithoutRefreshedMetadata)
	if err != nil {
		return vm.Instance{}, fmt.Errorf("create instance %s: %w", spec.Name, err)
	}
	p.log.InfoContext(ctx, "instance started", "instance", spec.Name, "pool", spec.Pool, "image", spec.Image, "pid", task.Pid())
	return instance(info.Labels, true, info.CreatedAt), nil
}

// check rejects specs that cannot become a container.
func (p *Provider) check(spec vm.Spec) error {
	if err := validID(spec.Name); err != nil {
		return fmt.Errorf("create instance: name %w", err)
	}
	if err := validID(p.containerID(spec.Name)); err != nil {
		return fmt.Errorf("create instance: container ID %w: shorten the name or the controller ID", err)
	}
	if spec.Image == "" {
		return fmt.Errorf("create instance %s: no image", spec.Name)
	}
	if spec.CPUs < 0 || spec.MemoryMB < 0 {
		return fmt.Errorf("create instance %s: negative limits (cpus %d, memory %d MB)", spec.Name, spec.CPUs, spec.MemoryMB)
	}
	return nil
}

// writeRunnerConfig writes the JIT config to the instance's state directory
// (0700 directory, 0600 file) and returns its path.
func (p *Provider) writeRunnerConfig(spec vm.Spec) (string, error) {
	dir := p.instanceDir(spec.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	path := filepath.Join(dir, "jitconfig")
	if err := os.WriteFile(path, []byte(spec.RunnerConfig), 0o600); err != nil {
		return "", fmt.Errorf("write runner config file: %w", err)
	}
	return path, nil
}

// specOpts builds the OCI runtime spec options for an instance.
func (p *Provider) specOpts(img client.Image, spec vm.Spec, jitFile string) []oci.SpecOpts {
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithEnv(env(spec)),
		oci.WithMounts([]specs.Mount{{
			Destination: JITConfigPath,
			Type:        "bind",
			Source:      jitFile,
			Options:     []string{"rbind", "ro"},
		}}),
	}
	if len(spec.Name) <= 63 {
		opts = append(opts, oci.WithHostname(spec.Name))
	}
	if spec.CPUs > 0 {
		const period = 100000
		opts = append(opts, oci.WithCPUCFS(int64(spec.CPUs)*period, period))
	}
	if spec.MemoryMB > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(spec.MemoryMB)<<20))
	}
	if p.network == NetworkHost {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostHostsFile, oci.WithHostResolvconf)
	}
	return opts
}

// env returns spec.Env (sorted, for a stable spec) plus the runner config,
// which wins over a same-named entry in spec.Env.
func env(spec vm.Spec) []string {
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		if k != JITConfigEnv {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		out = append(out, k+"="+spec.Env[k])
	}
	return append(out, JITConfigEnv+"="+spec.RunnerConfig)
}

// cleanup removes what a failed Create made, on a context that outlives
// ctx's cancellation.
func (p *Provider) cleanup(ctx context.Context, name string) {
	cctx, cancel := ctrd.CleanupContext(ctx)
	defer cancel()
	if err := p.remove(cctx, name, 0); err != nil {
		p.log.ErrorContext(ctx, "clean up after failed create", "instance", name, "err", err)
	}
}

// remove deletes an instance's container, task, snapshot and files.
func (p *Provider) remove(ctx context.Context, name string, grace time.Duration) error {
	id := p.containerID(name)
	var errs []error
	errs = append(errs, p.c.DeleteContainer(ctx, id, grace))
	// The snapshot goes with the container; when creation failed between
	// preparing it and recording the container, remove it by key.
	sn := p.c.Containerd().SnapshotService(p.c.Snapshotter())
	if err := sn.Remove(p.c.Context(ctx), id); err != nil && !errdefs.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("remove snapshot %s: %w", id, err))
	}
	if err := os.RemoveAll(p.instanceDir(name)); err != nil {
		errs = append(errs, fmt.Errorf("remove state: %w", err))
	}
	return errors.Join(errs...)
}

// Wait blocks until the instance's runner exits and returns its exit code.
// The code stays available until Destroy. A missing instance is reported
// with vm.ErrNotFound.
func (p *Provider) Wait(ctx context.Context, name string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("wait for instance %s: %w", name, err)
	}
	// The calls run without ctx's deadline, which the daemon would report
	// as a gRPC error of its own, sometimes before ctx says it has ended;
	// the select below is what honours ctx.
	cctx, cancel := ctrd.CleanupContext(p.c.Context(ctx))
	defer cancel()
	cont, err := p.c.Containerd().LoadContainer(cctx, p.containerID(name))
	if errdefs.IsNotFound(err) {
		return 0, fmt.Errorf("wait for instance %s: %w", name, vm.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("wait for instance %s: %w", name, err)
	}
	task, err := cont.Task(cctx, nil)
	if errdefs.IsNotFound(err) {
		return 0, fmt.Errorf("wait for instance %s: no task: %w", name, vm.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("wait for instance %s: %w", name, err)
	}
	wctx, wcancel := context.WithCancel(context.WithoutCancel(cctx))
	defer wcancel()
	exited, err := task.Wait(wctx)
	if err != nil {
		return 0, fmt.Errorf("wait for instance %s: %w", name, err)
	}
	select {
	case st := <-exited:
		code, _, err := st.Result()
		if err != nil {
			return 0, fmt.Errorf("wait for instance %s: %w", name, err)
		}
		return int(code), nil
	case <-ctx.Done():
		return 0, fmt.Errorf("wait for instance %s: %w", name, ctx.Err())
	}
}

// Destroy stops the instance (SIGTERM, then SIGKILL after the stop timeout)
// and removes its task, container, snapshot and files. An instance that does
// not exist is not an error.
func (p *Provider) Destroy(ctx context.Context, name string) error {
	if err := validID(name); err != nil {
		return fmt.Errorf("destroy instance: name %w", err)
	}
	if err := p.remove(ctx, name, p.grace); err != nil {
		return fmt.Errorf("destroy instance %s: %w", name, err)
	}
	p.log.InfoContext(ctx, "instance destroyed", "instance", name)
	return nil
}

// List returns this controller's instances, sorted by name, including those
// created by an earlier Provider.
func (p *Provider) List(ctx context.Context) ([]vm.Instance, error) {
	cctx := p.c.Context(ctx)
	conts, err := p.c.Containerd().Containers(cctx, ctrd.LabelFilter(vm.LabelController, p.controller))
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	out := make([]vm.Instance, 0, len(conts))
	for _, cont := range conts {
		info, err := cont.Info(cctx, client.WithoutRefreshedMetadata)
		if errdefs.IsNotFound(err) {
			continue // destroyed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list instances: %s: %w", cont.ID(), err)
		}
		running, err := isRunning(cctx, cont)
		if err != nil {
			return nil, fmt.Errorf("list instances: %s: %w", cont.ID(), err)
		}
		out = append(out, instance(info.Labels, running, info.CreatedAt))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// isRunning reports whether cont's task is running.
func isRunning(ctx context.Context, cont client.Container) (bool, error) {
	task, err := cont.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	st, err := task.Status(ctx)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Status == client.Running, nil
}

// instance builds a vm.Instance from a container's labels.
func instance(labels map[string]string, running bool, created time.Time) vm.Instance {
	return vm.Instance{
		Name:      labels[vm.LabelInstance],
		Pool:      labels[vm.LabelPool],
		Labels:    labels,
		Running:   running,
		CreatedAt: created,
	}
}

// String describes the provider for logs.
func (p *Provider) String() string {
	return "containerd(" + strconv.Quote(p.c.Address()) + ", namespace " + p.c.Namespace() + ", controller " + p.controller + ", runtime " + p.c.Runtime() + ", network " + p.network.String() + ")"
}
