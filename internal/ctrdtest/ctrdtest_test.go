//go:build linux

package ctrdtest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// readTar returns an archive's regular files and symlinks by name.
func readTar(t *testing.T, b []byte) (files map[string][]byte, links map[string]string) {
	t.Helper()
	files, links = map[string][]byte{}, map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, links
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = data
		case tar.TypeSymlink:
			links[h.Name] = h.Linkname
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestWriteImageLayouts(t *testing.T) {
	if err := checkStatic(BusyboxPath); err != nil {
		require(t, missingError([]string{err.Error()}))
	}
	opts := ImageOptions{
		Name:       "vermont.test/x:1",
		Entrypoint: []string{"/entrypoint.sh"},
		Env:        []string{"A=b"},
		WorkingDir: "/work",
		Files:      []File{{Path: "/opt/app/entrypoint.sh", Mode: 0o755, Data: []byte("#!/bin/sh\n")}},
	}
	tests := []struct {
		format    Format
		wantFiles []string
	}{
		{format: OCILayout, wantFiles: []string{"index.json", "oci-layout"}},
		{format: DockerArchive, wantFiles: []string{"manifest.json"}},
	}
	for _, tt := range tests {
		t.Run(map[Format]string{OCILayout: "oci", DockerArchive: "docker"}[tt.format], func(t *testing.T) {
			o := opts
			o.Format = tt.format
			var a, b bytes.Buffer
			if err := WriteImage(&a, o); err != nil {
				t.Fatal(err)
			}
			if err := WriteImage(&b, o); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("WriteImage is not deterministic")
			}
			files, _ := readTar(t, a.Bytes())
			for _, w := range tt.wantFiles {
				if _, ok := files[w]; !ok {
					t.Errorf("archive lacks %s; has %v", w, keys(files))
				}
			}
			var config ocispec.Image
			var layer []byte
			for _, data := range files {
				var c ocispec.Image
				if json.Unmarshal(data, &c) == nil && c.RootFS.Type == "layers" {
					config = c
				}
				if len(data) > len(layer) {
					layer = data // busybox makes the layer the largest file
				}
			}
			if got := strings.Join(config.Config.Entrypoint, " "); got != "/entrypoint.sh" || config.Config.WorkingDir != "/work" {
				t.Errorf("config = %+v", config.Config)
			}
			lfiles, links := readTar(t, layer)
			for _, w := range []string{"bin/busybox", "etc/passwd", "etc/hosts", "opt/app/entrypoint.sh"} {
				if _, ok := lfiles[w]; !ok {
					t.Errorf("layer lacks %s; has %v", w, keys(lfiles))
				}
			}
			if links["bin/sh"] != "/bin/busybox" || links["bin/sleep"] != "/bin/busybox" {
				t.Errorf("applet links = %v", links)
			}
		})
	}
}

func TestWriteImageRejects(t *testing.T) {
	dynamic := filepath.Join(t.TempDir(), "not-elf")
	os.WriteFile(dynamic, []byte("#!/bin/sh\n"), 0o755)
	tests := []struct {
		name string
		opts ImageOptions
		want string
		is   error
	}{
		{name: "not a static busybox", opts: ImageOptions{BusyboxPath: dynamic}, want: "static busybox at " + dynamic, is: ErrMissing},
		{name: "relative file", opts: ImageOptions{Files: []File{{Path: "etc/x"}}}, want: `"etc/x" must be absolute`},
		{name: "unknown format", opts: ImageOptions{Format: Format(9)}, want: "unknown image format 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.BusyboxPath == "" {
				if err := checkStatic(BusyboxPath); err != nil {
					require(t, missingError([]string{err.Error()}))
				}
			}
			err := WriteImage(io.Discard, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("WriteImage = %v, want error containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("WriteImage = %v, want %v", err, tt.is)
			}
		})
	}
}

// startContainer starts a container named name from image ref and returns
// its running task; the tests then check that cleanup takes it away.
func startContainer(t *testing.T, c *ctrd.Client, ref, name string) client.Task {
	t.Helper()
	ctx := c.Context(context.Background())
	img, err := c.Image(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	cont, err := c.Containerd().NewContainer(ctx, name,
		client.WithImage(img), client.WithSnapshotter(c.Snapshotter()),
		client.WithNewSnapshot(name, img), client.WithNewSpec(oci.WithImageConfig(img)))
	if err != nil {
		t.Fatal(err)
	}
	task, err := cont.NewTask(ctx, cio.NullIO)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return task
}

// TestSweepStale plays a test process that died with its daemon running: it
// points the owner file at a dead process, and the next Start must remove
// the daemon, its shims, its container and its directory.
func TestSweepStale(t *testing.T) {
	d := New(t)
	c := d.Client(t)
	ref := BusyboxImage(t, c, ImageOptions{Cmd: []string{"sleep", "60"}})
	task := startContainer(t, c, ref, "orphan")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Dir(), ownerFile), []byte(strconv.Itoa(dead.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	sweepStale()
	if _, err := os.Stat(d.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale directory %s left: %v", d.Dir(), err)
	}
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		t.Error("stale daemon still running 10s after the sweep")
	}
	if processAlive(int(task.Pid())) {
		if b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(int(task.Pid())), "stat")); !strings.Contains(string(b), ") Z ") {
			t.Errorf("container process %d survived the sweep", task.Pid())
		}
	}
}

func TestIsShimFor(t *testing.T) {
	t.Parallel()
	const addr = "/tmp/vermont-ctrd-1/containerd.sock"
	tests := []struct {
		name string
		args []string
		want bool
	}{
		{name: "ours", args: []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "v", "-id", "x", "-address", addr}, want: true},
		{name: "system daemon's", args: []string{"/usr/bin/containerd-shim-runc-v2", "-address", "/run/containerd/containerd.sock"}, want: false},
		{name: "not a shim", args: []string{"/bin/sleep", "-address", addr}, want: false},
		{name: "empty", args: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isShimFor(tt.args, addr); got != tt.want {
				t.Errorf("isShimFor(%v) = %t, want %t", tt.args, got, tt.want)
			}
		})
	}
}

func TestUnescapeMount(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: "/plain/path", want: "/plain/path"},
		{in: `/with\040space`, want: "/with space"},
		{in: `/tab\011and\134backslash`, want: "/tab\tand\\backslash"},
	}
	for _, tt := range tests {
		if got := unescapeMount(tt.in); got != tt.want {
			t.Errorf("unescapeMount(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDaemonLifecycle starts a daemon of its own, leaves a container
// running in it, stops it and checks that nothing is left: directory, shims,
// mounts.
func TestDaemonLifecycle(t *testing.T) {
	d := New(t)
	if _, err := os.Stat(d.Address()); err != nil {
		t.Fatalf("socket: %v", err)
	}
	c := d.Client(t)
	ref := BusyboxImage(t, c, ImageOptions{Cmd: []string{"sleep", "60"}})
	if ref != DefaultImageName {
		t.Errorf("BusyboxImage = %q, want %q", ref, DefaultImageName)
	}
	task := startContainer(t, c, ref, "left-running")
	if err := d.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(d.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("daemon directory left behind: %v", err)
	}
	if err := killShims(d.Address()); err != nil {
		t.Errorf("killShims after Stop: %v", err)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), d.Dir()) {
		t.Errorf("mounts under %s left behind", d.Dir())
	}
	if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(int(task.Pid())))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container process %d still alive after Stop", task.Pid())
	}
	if err := d.Stop(); err != nil {
		t.Errorf("second Stop = %v, want nil", err)
	}
}
