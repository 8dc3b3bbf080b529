package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/exec/containerd"
)

// backendFlags choose where jobs run and how uses: is resolved.
type backendFlags struct {
	containerd  bool
	pull        bool
	address     string
	runtime     string
	snapshotter string
	network     string
	actionCache string
	githubURL   string
	offline     bool
	tokenEnv    string
}

func (b *backendFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&b.containerd, "containerd", false, "run every job through containerd (host-labelled jobs still run on the host, but can use services and Docker actions)")
	fs.BoolVar(&b.pull, "pull", false, "pull images that are not in containerd yet (from their registry, when one is reachable)")
	fs.StringVar(&b.address, "containerd-address", "", "containerd socket (default $CONTAINERD_ADDRESS or /run/containerd/containerd.sock)")
	fs.StringVar(&b.runtime, "runtime", "", "containerd runtime handler (default io.containerd.runc.v2)")
	fs.StringVar(&b.snapshotter, "snapshotter", "", "containerd snapshotter jobs' images are unpacked into (default overlayfs; as given to `vermont image import`)")
	fs.StringVar(&b.network, "network", "none", "container networking: none (loopback only) or host")
	fs.StringVar(&b.actionCache, "action-cache", "", "action cache directory (default: the user cache dir)")
	fs.StringVar(&b.githubURL, "github-url", "https://github.com", "where remote actions are fetched from (URL/OWNER/REPO)")
	fs.BoolVar(&b.offline, "offline", false, "use only cached actions (fill the cache with `vermont actions pull`)")
	fs.StringVar(&b.tokenEnv, "token-env", "GITHUB_TOKEN", "environment variable holding a token for private actions")
}

// open returns the backend jobs run on, and how to release it. Jobs on the
// host need no daemon: containerd is only contacted when a job needs a
// container (an image, container:, services) or --containerd asks for it.
func (b *backendFlags) open(ctx context.Context, hostBackend exec.Backend) (exec.Backend, func(), error) {
	r := &router{host: hostBackend, always: b.containerd, flags: b}
	return r, r.close, nil
}

// resolver returns the action resolver for a repository. The token is
// optional here: public actions need none.
func (b *backendFlags) resolver(repoRoot string, log *slog.Logger) (*actions.Resolver, error) {
	tokenEnv := b.tokenEnv
	if os.Getenv(tokenEnv) == "" {
		tokenEnv = ""
	}
	return newResolver(b.actionCache, b.githubURL, tokenEnv, actions.WithOffline(b.offline), actions.WithRepoDir(repoRoot), actions.WithLogger(log))
}

// router sends each job to the host or to containerd.
type router struct {
	host   exec.Backend
	always bool
	flags  *backendFlags
	once   sync.Once
	ctrd   *containerd.Backend
	err    error
}

func (r *router) Start(ctx context.Context, spec exec.JobSpec) (exec.StepRunner, error) {
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

func (r *router) containerd(ctx context.Context) (*containerd.Backend, error) {
	r.once.Do(func() {
		opts := []containerd.Option{containerd.WithHost(r.host), containerd.WithNetwork(r.flags.network)}
		if r.flags.address != "" {
			opts = append(opts, containerd.WithAddress(r.flags.address))
		}
		if r.flags.snapshotter != "" {
			opts = append(opts, containerd.WithSnapshotter(r.flags.snapshotter))
		}
		if r.flags.runtime != "" {
			opts = append(opts, containerd.WithRuntime(r.flags.runtime))
		}
		if r.flags.pull {
			opts = append(opts, containerd.WithPull())
		}
		r.ctrd, r.err = containerd.New(ctx, opts...)
	})
	return r.ctrd, r.err
}

func (r *router) close() {
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
	r    *router
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
