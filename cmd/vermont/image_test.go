//go:build !thin

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/exec"
	ctrdexec "github.com/vermont-ci/vermont/exec/containerd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

// daemon is a private containerd for the image and prune commands' tests;
// it starts on first use only.
var daemon ctrdtest.Shared

func TestMain(m *testing.M) { os.Exit(daemon.Main(m)) }

// runCLI runs the vermont command line and returns its exit code, stdout
// and stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestImageCommands(t *testing.T) {
	d := daemon.Get(t)
	dir := t.TempDir()
	archives := map[string]ctrdtest.ImageOptions{
		"oci.tar":    {Name: "vermont.test/cli-oci:1", Format: ctrdtest.OCILayout},
		"docker.tar": {Name: "vermont.test/cli-docker:1", Format: ctrdtest.DockerArchive},
	}
	for file, opts := range archives {
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := ctrdtest.WriteImage(f, opts); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	conn := []string{"--containerd-address", d.Address(), "--namespace", "cli-images", "--snapshotter", d.Snapshotter()}
	tests := []struct {
		name    string
		args    []string
		code    int
		out     []string // each must appear in stdout
		notOut  []string
		errText []string // each must appear in stderr
	}{
		{name: "import both formats", args: append(append([]string{"image", "import"}, conn...), filepath.Join(dir, "oci.tar"), filepath.Join(dir, "docker.tar")),
			out: []string{"imported vermont.test/cli-oci:1\n", "imported vermont.test/cli-docker:1\n"}},
		{name: "ls", args: append([]string{"image", "ls"}, conn...),
			out: []string{"NAME", "vermont.test/cli-docker:1", "vermont.test/cli-oci:1", "sha256:"}},
		{name: "rm", args: append(append([]string{"image", "rm"}, conn...), "vermont.test/cli-oci:1"),
			out: []string{"removed vermont.test/cli-oci:1\n"}},
		{name: "ls after rm", args: append([]string{"image", "ls"}, conn...),
			out: []string{"vermont.test/cli-docker:1"}, notOut: []string{"cli-oci"}},
		{name: "rm missing", args: append(append([]string{"image", "rm"}, conn...), "vermont.test/nope:9"),
			code: 1, errText: []string{"vermont.test/nope:9", "not in containerd namespace"}},
		{name: "import missing file", args: append(append([]string{"image", "import"}, conn...), filepath.Join(dir, "absent.tar")),
			code: 1, errText: []string{"absent.tar"}},
		{name: "unknown subcommand", args: []string{"image", "push"}, code: 2, errText: []string{`unknown subcommand "push"`}},
		{name: "no daemon", args: []string{"image", "ls", "--containerd-address", filepath.Join(dir, "none.sock")},
			code: 1, errText: []string{"containerd is not running", filepath.Join(dir, "none.sock")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notOut {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			for _, w := range tt.errText {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestPrune leaves a job running as a crashed run would, then lists and
// removes its containers, snapshots and lease.
func TestPrune(t *testing.T) {
	d := daemon.Get(t)
	ns := "cli-prune"
	conn := []string{"--containerd-address", d.Address(), "--namespace", ns, "--snapshotter", d.Snapshotter()}
	ctx := context.Background()
	b, err := ctrdexec.New(ctx, ctrdexec.WithAddress(d.Address()), ctrdexec.WithNamespace(ns), ctrdexec.WithSnapshotter(d.Snapshotter()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	img := "vermont.test/prune:1"
	var arch bytes.Buffer
	if err := ctrdtest.WriteImage(&arch, ctrdtest.ImageOptions{Name: img}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImportImage(ctx, &arch, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Start(ctx, exec.JobSpec{RunID: "crashed-run", Job: "j", Image: img}); err != nil {
		t.Fatal(err)
	}
	// The job is never closed: its container, snapshot and lease stay.
	code, out, errOut := runCLI(append([]string{"prune", "--dry-run"}, conn...)...)
	if code != 0 || !strings.Contains(out, "would remove container ") || !strings.Contains(out, "would remove snapshot ") ||
		!strings.Contains(out, "would remove lease ") || !strings.Contains(out, "would remove directory ") ||
		!strings.Contains(out, "(run crashed-run)") {
		t.Fatalf("prune --dry-run = %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	left, err := b.Leftovers(ctx)
	if err != nil || len(left) != 4 {
		t.Fatalf("after --dry-run: %v, %v; want the 3 objects and the job's directory kept", left, err)
	}
	var jobDir string
	for _, l := range left {
		if l.Kind == "directory" {
			jobDir = l.ID
		}
	}
	if _, err := os.Stat(filepath.Join(jobDir, "hosts")); err != nil {
		t.Fatalf("the job's directory %q: %v", jobDir, err)
	}
	code, out, errOut = runCLI(append([]string{"prune"}, conn...)...)
	if code != 0 || !strings.Contains(out, "removing container ") {
		t.Fatalf("prune = %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if left, err := b.Leftovers(ctx); err != nil || len(left) != 0 {
		t.Errorf("after prune: %v, %v; want nothing", left, err)
	}
	if _, err := os.Stat(jobDir); !os.IsNotExist(err) {
		t.Errorf("the crashed job's directory %s survived prune: %v", jobDir, err)
	}
	imgs, err := b.Images(ctx)
	if err != nil || len(imgs) != 1 {
		t.Errorf("prune must keep images: %v, %v", imgs, err)
	}
	code, out, _ = runCLI(append([]string{"prune", "--dry-run"}, conn...)...)
	if code != 0 || !strings.Contains(out, "0 objects would be removed") {
		t.Errorf("second dry run = %d, %s", code, out)
	}
}
