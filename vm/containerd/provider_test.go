package containerd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/snapshots"

	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
	"github.com/vermont-ci/vermont/vm"
)

var daemon ctrdtest.Shared

func TestMain(m *testing.M) { os.Exit(daemon.Main(m)) }

// runnerScript plays GitHub's runner contract: it reads the JIT config it
// was given (environment and file must agree), prints it hashed, and exits
// with $RUNNER_EXIT, or holds until SIGTERM when $RUNNER_HOLD is set. The
// trap comes first: PID 1 ignores SIGTERM until it installs a handler.
const runnerScript = `#!/bin/sh
trap 'echo runner: terminated; exit 143' TERM
cfg="$ACTIONS_RUNNER_INPUT_JITCONFIG"
[ -n "$cfg" ] || { echo "runner: no ACTIONS_RUNNER_INPUT_JITCONFIG" >&2; exit 64; }
[ "$(cat /run/vermont/jitconfig)" = "$cfg" ] || { echo "runner: /run/vermont/jitconfig differs from the environment" >&2; exit 65; }
echo "runner: jitconfig sha256=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1)"
if [ -n "$RUNNER_HOLD" ]; then
	while :; do sleep 1 & wait $!; done
fi
exit "${RUNNER_EXIT:-0}"
`

// fixture is a provider on the shared daemon with a runner image, in a
// namespace of its own so tests can assert on everything in it.
type fixture struct {
	d     *ctrdtest.Daemon
	ns    string
	image string
	state string
	p     *Provider
}

func newFixture(t testing.TB, ns string, opts ...Option) *fixture {
	t.Helper()
	d := daemon.Get(t)
	c := d.Client(t, ctrd.WithNamespace(ns))
	image := ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{
		Name:       "vermont.test/runner:latest",
		Entrypoint: []string{"/entrypoint.sh"},
		Files:      []ctrdtest.File{{Path: "/entrypoint.sh", Mode: 0o755, Data: []byte(runnerScript)}},
	})
	f := &fixture{d: d, ns: ns, image: image, state: t.TempDir()}
	f.p = f.provider(t, opts...)
	return f
}

// provider returns a new Provider object on the fixture's daemon, as after
// a restart.
func (f *fixture) provider(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	base := []Option{
		WithAddress(f.d.Address()),
		WithNamespace(f.ns),
		WithSnapshotter(f.d.Snapshotter()),
		WithStateDir(f.state),
		WithControllerID("ctl"),
		WithStopTimeout(5 * time.Second),
	}
	p, err := New(context.Background(), append(base, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func (f *fixture) spec(name string, env map[string]string) vm.Spec {
	return vm.Spec{
		Name:         name,
		Pool:         "linux",
		Image:        f.image,
		RunnerConfig: "eyJ0b2tlbiI6InNlY3JldC1qaXQtY29uZmlnLSIsIm5hbWUiOiI=" + name,
		Env:          env,
		Labels:       map[string]string{"team": "infra"},
	}
}

// leftovers lists the containers and snapshots in the fixture's namespace.
func (f *fixture) leftovers(t testing.TB) (containers, snaps []string) {
	t.Helper()
	ctx := f.p.c.Context(context.Background())
	conts, err := f.p.c.Containerd().Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conts {
		containers = append(containers, c.ID())
	}
	err = f.p.c.Containerd().SnapshotService(f.p.c.Snapshotter()).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive {
			snaps = append(snaps, info.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return containers, snaps
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestRunnerContract(t *testing.T) {
	f := newFixture(t, "contract")
	tests := []struct {
		name string
		exit string
		want int
	}{
		{name: "success", exit: "0", want: 0},
		{name: "failure", exit: "3", want: 3},
		{name: "high code", exit: "42", want: 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			spec := f.spec("runner-"+strings.ReplaceAll(tt.name, " ", "-"), map[string]string{"RUNNER_EXIT": tt.exit})
			inst, err := f.p.Create(ctx, spec)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if inst.Name != spec.Name || inst.Pool != "linux" || inst.Labels["team"] != "infra" || inst.Labels[vm.LabelController] != "ctl" {
				t.Errorf("Create returned %+v", inst)
			}
			code, err := f.p.Wait(ctx, spec.Name)
			if err != nil || code != tt.want {
				t.Fatalf("Wait = %d, %v; want %d", code, err, tt.want)
			}
			// The status is kept until Destroy.
			if code, err := f.p.Wait(ctx, spec.Name); err != nil || code != tt.want {
				t.Errorf("second Wait = %d, %v; want %d", code, err, tt.want)
			}
			log, err := os.ReadFile(f.p.LogPath(spec.Name))
			if err != nil {
				t.Fatal(err)
			}
			if want := "runner: jitconfig sha256=" + sha(spec.RunnerConfig); !strings.Contains(string(log), want) {
				t.Errorf("runner log %q does not contain %q", log, want)
			}
			if err := f.p.Destroy(ctx, spec.Name); err != nil {
				t.Fatalf("Destroy: %v", err)
			}
			if err := f.p.Destroy(ctx, spec.Name); err != nil {
				t.Errorf("second Destroy = %v, want nil", err)
			}
			if _, err := f.p.Wait(ctx, spec.Name); !errors.Is(err, vm.ErrNotFound) {
				t.Errorf("Wait after Destroy = %v, want vm.ErrNotFound", err)
			}
			if _, err := os.Stat(f.p.instanceDir(spec.Name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state directory left after Destroy: %v", err)
			}
		})
	}
}

// TestListAfterRestart creates running instances with one Provider object
// and finds, waits for and destroys them with another.
func TestListAfterRestart(t *testing.T) {
	f := newFixture(t, "restart")
	ctx := context.Background()
	hold := map[string]string{"RUNNER_HOLD": "1"}
	for _, name := range []string{"r-b", "r-a"} {
		if _, err := f.p.Create(ctx, f.spec(name, hold)); err != nil {
			t.Fatalf("Create %s: %v", name, err)
		}
	}
	// Another controller's instance in the same namespace must not show.
	other := f.provider(t, WithControllerID("other"))
	if _, err := other.Create(ctx, f.spec("r-c", hold)); err != nil {
		t.Fatalf("Create for other controller: %v", err)
	}
	t.Cleanup(func() { other.Destroy(context.Background(), "r-c") })
	f.p.Close()

	restarted := f.provider(t)
	list, err := restarted.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, inst := range list {
		got = append(got, fmt.Sprintf("%s/%s running=%t", inst.Pool, inst.Name, inst.Running))
		if inst.CreatedAt.IsZero() {
			t.Errorf("instance %s has no creation time", inst.Name)
		}
	}
	want := []string{"linux/r-a running=true", "linux/r-b running=true"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if err := restarted.Destroy(ctx, "r-a"); err != nil {
		t.Fatal(err)
	}
	// SIGTERM is honoured: the runner's trap ran before the grace expired.
	waitCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := restarted.Wait(waitCtx, "r-b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on a running instance with a short deadline = %v, want DeadlineExceeded", err)
	}
	if err := restarted.Destroy(ctx, "r-b"); err != nil {
		t.Fatal(err)
	}
	list, err = restarted.List(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("List after Destroy = %v, %v; want none", list, err)
	}
}

// TestCreateFailureLeavesNothing makes Create fail at different stages and
// checks that nothing is left in containerd or the state directory, and that
// the runner config never appears in the error.
func TestCreateFailureLeavesNothing(t *testing.T) {
	f := newFixture(t, "failures")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		mutate func(*vm.Spec)
		want   string
		is     error
	}{
		{name: "missing image", ctx: context.Background(), mutate: func(s *vm.Spec) { s.Image = "vermont.test/no-such-runner:v9" },
			want: "vermont.test/no-such-runner:v9", is: ErrImageNotFound},
		{name: "entrypoint missing", ctx: context.Background(), mutate: func(s *vm.Spec) { s.Image = f.badEntrypointImage(t) },
			want: "start"},
		{name: "cancelled", ctx: cancelled, mutate: func(*vm.Spec) {}, want: "context canceled", is: context.Canceled},
		{name: "bad name", ctx: context.Background(), mutate: func(s *vm.Spec) { s.Name = "no spaces allowed" },
			want: `name "no spaces allowed"`},
		{name: "no image", ctx: context.Background(), mutate: func(s *vm.Spec) { s.Image = "" }, want: "no image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := f.spec("fail-"+strings.ReplaceAll(tt.name, " ", "-"), nil)
			tt.mutate(&spec)
			_, err := f.p.Create(tt.ctx, spec)
			if err == nil {
				t.Fatal("Create succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Create error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Create error %v is not %v", err, tt.is)
			}
			if strings.Contains(err.Error(), spec.RunnerConfig) {
				t.Errorf("Create error leaks the runner config: %v", err)
			}
			conts, snaps := f.leftovers(t)
			if len(conts) != 0 || len(snaps) != 0 {
				t.Errorf("left behind: containers %v, active snapshots %v", conts, snaps)
			}
			if entries, _ := os.ReadDir(f.p.stateDir); len(entries) != 0 {
				t.Errorf("state directory not empty: %v", entries)
			}
		})
	}
}

// TestCancelAtAnyPointOfCreate cancels Create after a growing delay, so that
// the cancellation lands before, during and after the container, task and
// start calls. Create either succeeds (and Destroy removes the instance) or
// fails with context.Canceled; either way nothing is left.
func TestCancelAtAnyPointOfCreate(t *testing.T) {
	f := newFixture(t, "cancel-any")
	for delay := time.Duration(0); delay <= 100*time.Millisecond; delay += 5 * time.Millisecond {
		name := fmt.Sprintf("c%d", delay/time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(delay, cancel)
		_, err := f.p.Create(ctx, f.spec(name, nil))
		timer.Stop()
		cancel()
		switch {
		case err == nil:
			if err := f.p.Destroy(context.Background(), name); err != nil {
				t.Fatalf("delay %s: Destroy: %v", delay, err)
			}
		case !errors.Is(err, context.Canceled):
			t.Errorf("delay %s: Create = %v; want success or context.Canceled", delay, err)
		}
		if conts, snaps := f.leftovers(t); len(conts) != 0 || len(snaps) != 0 {
			t.Fatalf("delay %s (err %v): left behind: containers %v, active snapshots %v", delay, err, conts, snaps)
		}
	}
}

// badEntrypointImage imports an image whose entrypoint does not exist, so
// that the task fails to start after the container was created.
func (f *fixture) badEntrypointImage(t *testing.T) string {
	t.Helper()
	c := f.d.Client(t, ctrd.WithNamespace(f.ns))
	return ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Name: "vermont.test/broken:latest", Entrypoint: []string{"/no/such/runner"}})
}

func TestCreateDuplicateKeepsExisting(t *testing.T) {
	f := newFixture(t, "duplicate")
	ctx := context.Background()
	spec := f.spec("dup", map[string]string{"RUNNER_HOLD": "1"})
	if _, err := f.p.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.p.Destroy(context.Background(), "dup") })
	if _, err := f.p.Create(ctx, spec); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second Create = %v, want already exists", err)
	}
	list, err := f.p.List(ctx)
	if err != nil || len(list) != 1 || !list[0].Running {
		t.Errorf("List after duplicate Create = %+v, %v; want the first instance still running", list, err)
	}
}

func TestLimitsAndNetworkInSpec(t *testing.T) {
	tests := []struct {
		name     string
		network  Network
		cpus, mb int
		wantNet  bool // a network namespace of its own
	}{
		{name: "isolated with limits", network: NetworkNone, cpus: 2, mb: 256, wantNet: true},
		{name: "host network no limits", network: NetworkHost, wantNet: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "spec-"+map[Network]string{NetworkNone: "none", NetworkHost: "host"}[tt.network], WithNetwork(tt.network))
			ctx := context.Background()
			spec := f.spec("limits", map[string]string{"RUNNER_HOLD": "1", JITConfigEnv: "must be overridden"})
			spec.CPUs, spec.MemoryMB = tt.cpus, tt.mb
			if _, err := f.p.Create(ctx, spec); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.p.Destroy(context.Background(), "limits") })
			cont, err := f.p.c.Containerd().LoadContainer(f.p.c.Context(ctx), f.p.containerID("limits"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := cont.Spec(f.p.c.Context(ctx))
			if err != nil {
				t.Fatal(err)
			}
			res := s.Linux.Resources
			if tt.mb > 0 && (res.Memory == nil || res.Memory.Limit == nil || *res.Memory.Limit != int64(tt.mb)<<20) {
				t.Errorf("memory limit = %+v, want %d MB", res.Memory, tt.mb)
			}
			if tt.cpus > 0 && (res.CPU == nil || res.CPU.Quota == nil || *res.CPU.Quota != int64(tt.cpus)*100000) {
				t.Errorf("cpu quota = %+v, want %d CPUs", res.CPU, tt.cpus)
			}
			hasNet := false
			for _, ns := range s.Linux.Namespaces {
				hasNet = hasNet || ns.Type == "network"
			}
			if hasNet != tt.wantNet {
				t.Errorf("own network namespace = %t, want %t", hasNet, tt.wantNet)
			}
			var jit []string
			for _, e := range s.Process.Env {
				if strings.HasPrefix(e, JITConfigEnv+"=") {
					jit = append(jit, e)
				}
			}
			if len(jit) != 1 || jit[0] != JITConfigEnv+"="+spec.RunnerConfig {
				t.Errorf("runner config env = %v, want exactly the spec's RunnerConfig", jit)
			}
		})
	}
}

func TestNewDaemonNotRunning(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "containerd.sock")
	_, err := New(context.Background(), WithAddress(sock))
	if !errors.Is(err, ErrDaemonUnavailable) || !strings.Contains(err.Error(), sock) {
		t.Errorf("New = %v, want ErrDaemonUnavailable naming %s", err, sock)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
		want string
		is   error
	}{
		{name: "runtime without shim", opt: WithRuntime("io.containerd.nosuch.v1"), want: "containerd-shim-nosuch-v1", is: ErrRuntimeUnavailable},
		{name: "bad controller", opt: WithControllerID("a/b"), want: `controller ID: "a/b"`},
		{name: "bad network", opt: WithNetwork(Network(7)), want: "unknown network"},
		{name: "negative grace", opt: WithStopTimeout(-time.Second), want: "must not be negative"},
		{name: "empty state dir", opt: WithStateDir(""), want: "state directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want error containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("New = %v, want %v", err, tt.is)
			}
		})
	}
}

func TestParseNetwork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Network
		wantErr bool
	}{
		{in: "none", want: NetworkNone},
		{in: "", want: NetworkNone},
		{in: "host", want: NetworkHost},
		{in: "bridge", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNetwork(tt.in)
			if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
				t.Errorf("ParseNetwork(%q) = %v, %v; want %v, error %t", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != map[string]string{"": "none"}[tt.in]+tt.in {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}
