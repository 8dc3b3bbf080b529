package hyperv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/vm"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json")

// secret stands in for a JIT runner config.
const secret = "eyJydW5uZXIiOiJzZWNyZXQtdG9rZW4tZG8tbm90LWxvZyJ9"

// env is a test's world: an image on disk, a storage folder, a fake host and
// a provider over them, logging into logs.
type env struct {
	root    string
	image   string
	storage string
	host    *fakeHost
	p       *Provider
	logs    *bytes.Buffer
}

// newEnv lays out a two-layer image (runner layer over a base layer that
// has a UtilityVM folder) and builds a provider.
func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	root := t.TempDir()
	base := filepath.Join(root, "layers", "base")
	top := filepath.Join(root, "layers", "runner")
	for _, d := range []string{filepath.Join(base, "UtilityVM"), top} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	chain, _ := json.Marshal([]string{base})
	if err := os.WriteFile(filepath.Join(top, layerChainFile), chain, 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{root: root, image: top, storage: filepath.Join(root, "storage"), host: newFakeHost(root), logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := newProvider(e.storage, e.host.host(), append([]Option{WithController("ctl"), WithLogger(logger)}, opts...))
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	return e
}

func (e *env) spec(name string) vm.Spec {
	return vm.Spec{
		Name: name, Pool: "win", Image: e.image, RunnerConfig: secret,
		Env:    map[string]string{"VERMONT_ORCHESTRATOR_URL": "http://10.0.0.1:8080"},
		Labels: map[string]string{"os": "windows"},
	}
}

// noSecret fails if s contains the runner config.
func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, secret) {
		t.Errorf("%s contains the runner config: %s", what, s)
	}
}

// leftovers returns what the host and the storage folder still hold.
func (e *env) leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	e.host.mu.Lock()
	for id := range e.host.systems {
		out = append(out, "system "+id)
	}
	for name := range e.host.endpoints {
		out = append(out, "endpoint "+name)
	}
	e.host.mu.Unlock()
	entries, err := os.ReadDir(e.storage)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, d := range entries {
		out = append(out, "folder "+d.Name())
	}
	e.p.mu.Lock()
	for name := range e.p.live {
		out = append(out, "handles "+name)
	}
	e.p.mu.Unlock()
	slices.Sort(out)
	return out
}

// createCalls is the full call sequence of a successful Create of "r1".
var createCalls = []string{
	"layer-id layers/runner",
	"layer-id layers/base",
	"create-scratch storage/ctl_r1/scratch",
	"create-endpoint nat ctl_r1",
	"create-system ctl_r1",
	"start ctl_r1",
	"exec ctl_r1",
}

func TestCreateWaitDestroySequence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inst, err := e.p.Create(ctx, e.spec("r1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.host.takeCalls(); !slices.Equal(got, createCalls) {
		t.Errorf("create calls:\n got %q\nwant %q", got, createCalls)
	}
	wantLabels := map[string]string{"os": "windows", vm.LabelController: "ctl", vm.LabelPool: "win", vm.LabelInstance: "r1"}
	if inst.Name != "r1" || inst.Pool != "win" || !inst.Running || inst.CreatedAt.IsZero() || !mapsEqual(inst.Labels, wantLabels) {
		t.Errorf("instance = %+v", inst)
	}

	// The config reaches the guest as a file only.
	cfgFile := filepath.Join(e.storage, "ctl_r1", "config", configFileName)
	data, err := os.ReadFile(cfgFile)
	if err != nil || string(data) != secret {
		t.Errorf("config file = %q, %v", data, err)
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(cfgFile); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("config file mode = %v, %v; want 0600", st.Mode(), err)
		}
	}

	e.host.exit("ctl_r1", 3)
	code, err := e.p.Wait(ctx, "r1")
	if err != nil || code != 3 {
		t.Fatalf("Wait = %d, %v; want 3", code, err)
	}
	// The status is kept until Destroy.
	if code, err := e.p.Wait(ctx, "r1"); err != nil || code != 3 {
		t.Fatalf("second Wait = %d, %v; want 3", code, err)
	}
	e.host.takeCalls()

	if err := e.p.Destroy(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	wantDestroy := []string{
		"close-process ctl_r1",
		"terminate ctl_r1",
		"wait-system ctl_r1",
		"close-system ctl_r1",
		"delete-endpoint ctl_r1",
		"destroy-layer storage/ctl_r1/scratch",
	}
	if got := e.host.takeCalls(); !slices.Equal(got, wantDestroy) {
		t.Errorf("destroy calls:\n got %q\nwant %q", got, wantDestroy)
	}
	if left := e.leftovers(t); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
	if _, err := e.p.Wait(ctx, "r1"); !errors.Is(err, vm.ErrNotFound) {
		t.Errorf("Wait after Destroy = %v, want vm.ErrNotFound", err)
	}
	noSecret(t, "logs", e.logs.String())
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCreateUndo fails each host step in turn and checks that Create undoes
// exactly what it did, in reverse, and leaves nothing behind.
func TestCreateUndo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		failOn string
		undo   []string // calls after the failing one
	}{
		{name: "layer id", failOn: "layer-id", undo: nil},
		{name: "scratch layer", failOn: "create-scratch", undo: nil},
		{name: "endpoint", failOn: "create-endpoint", undo: []string{
			"delete-endpoint ctl_r1", "destroy-layer storage/ctl_r1/scratch"}},
		{name: "compute system", failOn: "create-system", undo: []string{
			"delete-endpoint ctl_r1", "destroy-layer storage/ctl_r1/scratch"}},
		{name: "start", failOn: "start", undo: []string{
			"terminate ctl_r1", "wait-system ctl_r1", "close-system ctl_r1",
			"delete-endpoint ctl_r1", "destroy-layer storage/ctl_r1/scratch"}},
		{name: "runner process", failOn: "exec", undo: []string{
			"terminate ctl_r1", "wait-system ctl_r1", "close-system ctl_r1",
			"delete-endpoint ctl_r1", "destroy-layer storage/ctl_r1/scratch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.host.fail(tt.failOn, errInjected)
			_, err := e.p.Create(context.Background(), e.spec("r1"))
			if !errors.Is(err, errInjected) {
				t.Fatalf("Create error = %v, want the injected failure", err)
			}
			noSecret(t, "error", err.Error())
			noSecret(t, "logs", e.logs.String())
			calls := e.host.takeCalls()
			i := slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, tt.failOn+" ") })
			if i < 0 {
				t.Fatalf("no %s call in %q", tt.failOn, calls)
			}
			if want := createCalls[:i+1]; !slices.Equal(calls[:i+1], want) {
				t.Errorf("calls up to the failure:\n got %q\nwant %q", calls[:i+1], want)
			}
			if got := calls[i+1:]; !slices.Equal(got, tt.undo) {
				t.Errorf("undo calls:\n got %q\nwant %q", got, tt.undo)
			}
			if left := e.leftovers(t); len(left) != 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}

// TestCreateCancelledUndoes cancels the caller's context mid-Create: the
// undo must still run, on a context of its own.
func TestCreateCancelledUndoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	e.host.fail("start", errInjected)
	// Cancel as the failure happens, as a Ctrl-C during boot would.
	e.host.failOn["start"] = cancelThen{cancel: cancel, err: errInjected}
	_, err := e.p.Create(ctx, e.spec("r1"))
	if err == nil {
		t.Fatal("Create succeeded")
	}
	if left := e.leftovers(t); len(left) != 0 {
		t.Errorf("left behind after a cancelled Create: %q (error %v)", left, err)
	}
}

// cancelThen is an injected error that cancels a context when formatted
// into the fake's error, i.e. at the moment the step fails.
type cancelThen struct {
	cancel context.CancelFunc
	err    error
}

func (c cancelThen) Error() string { c.cancel(); return c.err.Error() }
func (c cancelThen) Unwrap() error { return c.err }

func TestDestroyIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.p.Destroy(ctx, "never-created"); err != nil {
		t.Fatalf("Destroy of an unknown instance = %v, want nil", err)
	}
	want := []string{"open-system ctl_never-created", "delete-endpoint ctl_never-created"}
	if got := e.host.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("calls:\n got %q\nwant %q", got, want)
	}
	if _, err := e.p.Create(ctx, e.spec("r1")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := e.p.Destroy(ctx, "r1"); err != nil {
			t.Fatalf("Destroy #%d = %v", i+1, err)
		}
	}
	if left := e.leftovers(t); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestDestroyFailureKeepsRecord: a Destroy that fails half-way keeps what a
// retry (or a restarted controller) needs, and the retry finishes the job.
func TestDestroyFailureKeepsRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Create(ctx, e.spec("r1")); err != nil {
		t.Fatal(err)
	}
	e.host.fail("destroy-layer", errInjected)
	if err := e.p.Destroy(ctx, "r1"); !errors.Is(err, errInjected) {
		t.Fatalf("Destroy = %v, want the injected failure", err)
	}
	list, err := e.p.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "r1" || list[0].Running || list[0].Pool != "win" {
		t.Fatalf("List after a failed Destroy = %+v, %v; want r1, not running, with its record", list, err)
	}
	e.host.fail("destroy-layer", nil)
	e.host.takeCalls()
	if err := e.p.Destroy(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"open-system ctl_r1", "delete-endpoint ctl_r1", "destroy-layer storage/ctl_r1/scratch"}
	if got := e.host.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("retry calls:\n got %q\nwant %q", got, want)
	}
	if left := e.leftovers(t); len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
}

// TestRestart: a second provider over the same host and storage (a
// restarted controller) lists, waits for and destroys the first one's
// instance.
func TestRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Create(ctx, e.spec("r1")); err != nil {
		t.Fatal(err)
	}
	// The old process goes away without closing anything.
	p2, err := newProvider(e.storage, e.host.host(), []Option{WithController("ctl")})
	if err != nil {
		t.Fatal(err)
	}
	list, err := p2.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "r1" || !list[0].Running || list[0].Labels["os"] != "windows" || list[0].CreatedAt.IsZero() {
		t.Fatalf("List = %+v", list)
	}
	e.host.takeCalls()
	e.host.exit("ctl_r1", 0)
	if code, err := p2.Wait(ctx, "r1"); err != nil || code != 0 {
		t.Fatalf("Wait = %d, %v", code, err)
	}
	want := []string{"open-system ctl_r1", "open-process ctl_r1 101", "wait-process ctl_r1"}
	if got := e.host.takeCalls(); !slices.Equal(got, want) {
		t.Errorf("wait calls:\n got %q\nwant %q", got, want)
	}
	if err := p2.Destroy(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	// The first provider's handle is still open, as a crashed process's
	// would be until HCS notices; nothing else may remain.
	e.host.mu.Lock()
	s := e.host.systems["ctl_r1"]
	e.host.mu.Unlock()
	if s == nil || !s.stopped || s.handles != 1 {
		t.Errorf("system after Destroy = %+v, want stopped with only the old handle", s)
	}
	if _, err := os.Stat(filepath.Join(e.storage, "ctl_r1")); !os.IsNotExist(err) {
		t.Errorf("instance folder still there: %v", err)
	}
}

// TestListReconciles covers what a restart can find on the host.
func TestListReconciles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"alive", "rebooted", "corrupt"} {
		if _, err := e.p.Create(ctx, e.spec(n)); err != nil {
			t.Fatal(err)
		}
	}
	e.host.mu.Lock()
	// A host reboot took "rebooted"'s compute system; its folder remains.
	delete(e.host.systems, "ctl_rebooted")
	// A system whose folder is gone (someone deleted storage).
	// Nobody holds a handle on it (its creator crashed).
	e.host.systems["ctl_orphan"] = &fakeSystem{f: e.host, id: "ctl_orphan", owner: "vermont-ctl", started: true}
	// Another controller's system and folder.
	e.host.systems["other_x"] = &fakeSystem{f: e.host, id: "other_x", owner: "vermont-other", started: true, handles: 1}
	e.host.mu.Unlock()
	if err := os.MkdirAll(filepath.Join(e.storage, "other_x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.storage, "ctl_corrupt", recordFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A stray file is not an instance.
	if err := os.WriteFile(filepath.Join(e.storage, "ctl_file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	list, err := e.p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name, Pool string
		Running    bool
		Ctl        string
	}
	var got []row
	for _, in := range list {
		got = append(got, row{in.Name, in.Pool, in.Running, in.Labels[vm.LabelController]})
	}
	want := []row{
		{"alive", "win", true, "ctl"},
		{"corrupt", "", true, "ctl"},
		{"orphan", "", true, "ctl"},
		{"rebooted", "win", false, "ctl"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("List:\n got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(e.logs.String(), "unreadable instance record") {
		t.Errorf("no warning about the corrupt record in logs:\n%s", e.logs)
	}
	// Everything listed can be destroyed.
	for _, in := range list {
		if err := e.p.Destroy(ctx, in.Name); err != nil {
			t.Errorf("Destroy(%s) = %v", in.Name, err)
		}
	}
	if left := e.leftovers(t); !slices.Equal(left, []string{"folder ctl_file", "folder other_x", "system other_x"}) {
		t.Errorf("left behind: %q, want only the stray file and the other controller's instance", left)
	}
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(e *env, s *vm.Spec)
		want    error
		wantMsg string
	}{
		{name: "empty name", edit: func(_ *env, s *vm.Spec) { s.Name = "" }, want: ErrInvalidSpec, wantMsg: "1 to 64"},
		{name: "path in name", edit: func(_ *env, s *vm.Spec) { s.Name = "../x" }, want: ErrInvalidSpec, wantMsg: "must not start"},
		{name: "slash in name", edit: func(_ *env, s *vm.Spec) { s.Name = "a/b" }, want: ErrInvalidSpec, wantMsg: `'/'`},
		{name: "long name", edit: func(_ *env, s *vm.Spec) { s.Name = strings.Repeat("a", 65) }, want: ErrInvalidSpec, wantMsg: "1 to 64"},
		{name: "negative cpus", edit: func(_ *env, s *vm.Spec) { s.CPUs = -1 }, want: ErrInvalidSpec, wantMsg: "negative"},
		{name: "no image", edit: func(_ *env, s *vm.Spec) { s.Image = "" }, want: ErrInvalidSpec, wantMsg: "top layer folder"},
		{name: "relative image", edit: func(_ *env, s *vm.Spec) { s.Image = "layers/runner" }, want: ErrInvalidSpec, wantMsg: "absolute"},
		{name: "missing image", edit: func(e *env, s *vm.Spec) { s.Image = filepath.Join(e.root, "nope") }, want: os.ErrNotExist, wantMsg: "image layer folder"},
		{name: "no utility VM", edit: func(e *env, _ *vm.Spec) {
			must(t, os.Remove(filepath.Join(e.root, "layers", "base", "UtilityVM")))
		}, want: ErrInvalidSpec, wantMsg: "UtilityVM"},
		{name: "bad layer chain", edit: func(e *env, _ *vm.Spec) {
			must(t, os.WriteFile(filepath.Join(e.image, layerChainFile), []byte(`{"a":1}`), 0o644))
		}, want: ErrInvalidSpec, wantMsg: "JSON array"},
		{name: "relative parent", edit: func(e *env, _ *vm.Spec) {
			must(t, os.WriteFile(filepath.Join(e.image, layerChainFile), []byte(`["base"]`), 0o644))
		}, want: ErrInvalidSpec, wantMsg: "entry 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			s := e.spec("r1")
			tt.edit(e, &s)
			_, err := e.p.Create(context.Background(), s)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Create error = %v, want %v mentioning %q", err, tt.want, tt.wantMsg)
			}
			noSecret(t, "error", err.Error())
			for _, c := range e.host.takeCalls() {
				if !strings.HasPrefix(c, "layer-id ") {
					t.Errorf("host call %q for a rejected spec", c)
				}
			}
			if left := e.leftovers(t); len(left) != 0 {
				t.Errorf("left behind: %q", left)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCreateExisting: a second Create of a live name fails and must not
// tear down the first instance.
func TestCreateExisting(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.p.Create(ctx, e.spec("r1")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.p.Create(ctx, e.spec("r1")); err == nil {
		t.Fatal("second Create of r1 succeeded")
	}
	want := []string{"endpoint ctl_r1", "folder ctl_r1", "handles r1", "system ctl_r1"}
	if left := e.leftovers(t); !slices.Equal(left, want) {
		t.Errorf("after a refused duplicate: %q, want %q", left, want)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.p.Create(context.Background(), e.spec("r1")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := e.p.Wait(ctx, "r1"); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		storage string
		opts    []Option
		wantMsg string
	}{
		{name: "relative storage", storage: "storage", wantMsg: "absolute"},
		{name: "controller with separator", storage: "/s", opts: []Option{WithController("a_b")}, wantMsg: "not allowed"},
		{name: "long controller", storage: "/s", opts: []Option{WithController(strings.Repeat("c", 33))}, wantMsg: "1 to 32"},
		{name: "zero resources", storage: "/s", opts: []Option{WithDefaultResources(0, 1024)}, wantMsg: "positive"},
		{name: "empty command", storage: "/s", opts: []Option{WithCommand("", "")}, wantMsg: "empty"},
		{name: "nil logger", storage: "/s", opts: []Option{WithLogger(nil)}, wantMsg: "nil logger"},
		{name: "zero cleanup timeout", storage: "/s", opts: []Option{WithCleanupTimeout(0)}, wantMsg: "positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storage := tt.storage
			if filepath.IsAbs(filepath.FromSlash(storage)) || strings.HasPrefix(storage, "/") {
				storage = t.TempDir()
			}
			_, err := newProvider(storage, newFakeHost(storage).host(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("newProvider error = %v, want one mentioning %q", err, tt.wantMsg)
			}
		})
	}
}
