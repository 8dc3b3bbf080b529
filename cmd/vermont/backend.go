package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/vermont-ci/vermont/actions"
	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/wiring"
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
	r := wiring.NewRouter(hostBackend, b.containerd, b.openContainers(hostBackend))
	return r, r.Close, nil
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
