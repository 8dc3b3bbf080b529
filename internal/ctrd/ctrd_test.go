package ctrd_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"

	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

var daemon ctrdtest.Shared

func TestMain(m *testing.M) { os.Exit(daemon.Main(m)) }

func TestShimBinary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		runtime, want string
	}{
		{runtime: "io.containerd.runc.v2", want: "containerd-shim-runc-v2"},
		{runtime: "io.containerd.runsc.v1", want: "containerd-shim-runsc-v1"},
		{runtime: "io.containerd.kata.v2", want: "containerd-shim-kata-v2"},
		{runtime: "/usr/local/bin/my-shim", want: ""},
		{runtime: "io.containerd.runc", want: ""},
		{runtime: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			if got := ctrd.ShimBinary(tt.runtime); got != tt.want {
				t.Errorf("ShimBinary(%q) = %q, want %q", tt.runtime, got, tt.want)
			}
		})
	}
}

func TestCheckRuntime(t *testing.T) {
	t.Parallel()
	err := ctrd.CheckRuntime("io.containerd.nosuchshim.v9")
	if !errors.Is(err, ctrd.ErrRuntimeUnavailable) || !strings.Contains(err.Error(), "containerd-shim-nosuchshim-v9") {
		t.Errorf("CheckRuntime(missing) = %v, want ErrRuntimeUnavailable naming the shim", err)
	}
	if err := ctrd.CheckRuntime("not-a-runtime"); !errors.Is(err, ctrd.ErrRuntimeUnavailable) {
		t.Errorf("CheckRuntime(bad form) = %v, want ErrRuntimeUnavailable", err)
	}
}

func TestLabelFilter(t *testing.T) {
	t.Parallel()
	got := ctrd.LabelFilter("vermont.controller", "c-1")
	want := `labels."vermont.controller"=="c-1"`
	if got != want {
		t.Errorf("LabelFilter = %s, want %s", got, want)
	}
}

func TestOptionsRejectBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  ctrd.Option
		want string
	}{
		{name: "empty address", opt: ctrd.WithAddress(""), want: "address must not be empty"},
		{name: "bad namespace", opt: ctrd.WithNamespace("no spaces"), want: `namespace "no spaces"`},
		{name: "empty runtime", opt: ctrd.WithRuntime(""), want: "runtime handler must not be empty"},
		{name: "empty snapshotter", opt: ctrd.WithSnapshotter(""), want: "snapshotter must not be empty"},
		{name: "zero timeout", opt: ctrd.WithTimeout(0), want: "timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ctrd.Connect(context.Background(), tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Connect = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

// TestConnectDaemonNotRunning needs no daemon: it checks the error for a
// missing socket and for a socket nobody listens on.
func TestConnectDaemonNotRunning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	tests := []struct {
		name, address, want string
	}{
		{name: "no socket", address: filepath.Join(dir, "none.sock"), want: "no socket at " + filepath.Join(dir, "none.sock")},
		{name: "nobody listening", address: stale, want: "nothing answers on socket " + stale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ctrd.Connect(context.Background(), ctrd.WithAddress(tt.address), ctrd.WithTimeout(2*time.Second))
			if !errors.Is(err, ctrd.ErrDaemonUnavailable) {
				t.Fatalf("Connect = %v, want ErrDaemonUnavailable", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Connect error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestImportFormats(t *testing.T) {
	d := daemon.Get(t)
	tests := []struct {
		name     string
		format   ctrdtest.Format
		image    string
		wantName string
	}{
		{name: "oci layout", format: ctrdtest.OCILayout, image: "vermont.test/oci:1", wantName: "vermont.test/oci:1"},
		{name: "docker archive", format: ctrdtest.DockerArchive, image: "dockerish:2", wantName: "docker.io/library/dockerish:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := d.Client(t, ctrd.WithNamespace("import-test"))
			var buf bytes.Buffer
			if err := ctrdtest.WriteImage(&buf, ctrdtest.ImageOptions{Name: tt.image, Format: tt.format}); err != nil {
				t.Fatal(err)
			}
			names, err := c.Import(context.Background(), &buf)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if len(names) != 1 || names[0] != tt.wantName {
				t.Fatalf("Import names = %v, want [%s]", names, tt.wantName)
			}
			img, err := c.Image(context.Background(), tt.image)
			if err != nil {
				t.Fatalf("Image(%s): %v", tt.image, err)
			}
			ok, err := img.IsUnpacked(c.Context(context.Background()), c.Snapshotter())
			if err != nil || !ok {
				t.Errorf("image %s unpacked = %v, %v; want true", tt.image, ok, err)
			}
			infos, err := c.Images(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !hasImage(infos, tt.wantName) {
				t.Errorf("Images() = %v, want it to list %s", infos, tt.wantName)
			}
			if err := c.RemoveImage(context.Background(), tt.image); err != nil {
				t.Fatalf("RemoveImage: %v", err)
			}
			if err := c.RemoveImage(context.Background(), tt.image); !errors.Is(err, ctrd.ErrImageNotFound) {
				t.Errorf("second RemoveImage = %v, want ErrImageNotFound", err)
			}
		})
	}
}

func hasImage(infos []ctrd.ImageInfo, name string) bool {
	for _, i := range infos {
		if i.Name == name {
			return true
		}
	}
	return false
}

func TestImageNotFoundNamesIt(t *testing.T) {
	d := daemon.Get(t)
	c := d.Client(t)
	_, err := c.Image(context.Background(), "vermont.test/no-such-image:v0")
	if !errors.Is(err, ctrd.ErrImageNotFound) {
		t.Fatalf("Image = %v, want ErrImageNotFound", err)
	}
	if !strings.Contains(err.Error(), "vermont.test/no-such-image:v0") || !strings.Contains(err.Error(), `"vermont"`) {
		t.Errorf("error %q should name the image and the namespace", err)
	}
}

// TestRemoveLabeled creates a running container, an extra snapshot and a
// lease, all labelled, plus an unlabelled container, and checks that only
// the labelled ones go.
func TestRemoveLabeled(t *testing.T) {
	d := daemon.Get(t)
	c := d.Client(t, ctrd.WithNamespace("prune-test"))
	ref := ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Cmd: []string{"sleep", "60"}})
	ctx := c.Context(context.Background())
	labels := map[string]string{"vermont.run": "r1"}

	lctx, done, err := c.WithLease(ctx, labels, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_ = done // deliberately not released: RemoveLabeled must find it
	img, err := c.Image(lctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	newContainer := func(id string, labels map[string]string) {
		t.Helper()
		cont, err := c.Containerd().NewContainer(lctx, id,
			client.WithImage(img),
			client.WithSnapshotter(c.Snapshotter()),
			client.WithNewSnapshot(id+"-root", img, ctrd.SnapshotLabels(labels)),
			client.WithContainerLabels(labels),
			client.WithNewSpec(oci.WithImageConfig(img)))
		if err != nil {
			t.Fatalf("new container %s: %v", id, err)
		}
		task, err := cont.NewTask(lctx, cio.NullIO)
		if err != nil {
			t.Fatalf("new task %s: %v", id, err)
		}
		if err := task.Start(lctx); err != nil {
			t.Fatalf("start task %s: %v", id, err)
		}
	}
	newContainer("labelled", labels)
	newContainer("other", map[string]string{"vermont.run": "r2"})
	t.Cleanup(func() { c.DeleteContainer(context.Background(), "other", 0) })

	rm, err := c.RemoveLabeled(context.Background(), "vermont.run", "r1")
	if err != nil {
		t.Fatalf("RemoveLabeled: %v", err)
	}
	if rm.Containers != 1 || rm.Leases != 1 {
		t.Errorf("RemoveLabeled removed %+v, want 1 container and 1 lease", rm)
	}
	conts, err := c.Containerd().Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(conts) != 1 || conts[0].ID() != "other" {
		t.Errorf("containers left = %d, want only %q", len(conts), "other")
	}
	var snaps []string
	if err := c.Containerd().SnapshotService(c.Snapshotter()).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		snaps = append(snaps, info.Name)
		return nil
	}, ctrd.LabelFilter("vermont.run", "r1")); err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 0 {
		t.Errorf("labelled snapshots left: %v", snaps)
	}
	if err := c.DeleteContainer(context.Background(), "labelled", time.Second); err != nil {
		t.Errorf("DeleteContainer(gone) = %v, want nil", err)
	}
}

// TestPullUnreachableNamesImage needs no registry: the pull fails at once
// (connection refused) and the error must still name the image.
func TestPullUnreachableNamesImage(t *testing.T) {
	d := daemon.Get(t)
	c := d.Client(t)
	const ref = "127.0.0.1:1/vermont/unreachable:v1"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.Image(ctx, ref, ctrd.WithPull())
	if !errors.Is(err, ctrd.ErrImageNotFound) || !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), "pulling it failed") {
		t.Errorf("Image(pull) = %v, want ErrImageNotFound naming %s and the failed pull", err, ref)
	}
}
