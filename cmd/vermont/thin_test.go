package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// heavy are the import paths the host-only build must not link: daemon
// clients and servers whose package initializers a host run would pay for.
var heavy = []string{
	"github.com/containerd/", "google.golang.org/grpc", "google.golang.org/protobuf",
	"github.com/prometheus/", "modernc.org/", "github.com/google/go-github",
	"go.opentelemetry.io/", "k8s.io/", "sigs.k8s.io/", "github.com/jackc/", "github.com/lib/pq",
	"github.com/vermont-ci/vermont/server", "github.com/vermont-ci/vermont/vm",
	"github.com/vermont-ci/vermont/exec/containerd", "github.com/vermont-ci/vermont/internal/ctrd",
}

func heavyIn(lines []string) []string {
	var found []string
	for _, l := range lines {
		for _, h := range heavy {
			if strings.Contains(l, h) {
				found = append(found, l)
				break
			}
		}
	}
	return found
}

func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// TestThinLinksNoDaemonClients: `go build -tags thin` links none of the
// daemon clients, while the full build does (so the check can fail).
func TestThinLinksNoDaemonClients(t *testing.T) {
	t.Parallel()
	thin := strings.Fields(goCmd(t, "list", "-deps", "-tags", "thin", "."))
	if found := heavyIn(thin); len(found) > 0 {
		t.Errorf("the thin build links %d heavy packages: %s", len(found), strings.Join(found, " "))
	}
	full := strings.Fields(goCmd(t, "list", "-deps", "."))
	if len(heavyIn(full)) == 0 {
		t.Error("the full build links none of the heavy packages: the list is stale")
	}
	if len(thin)*2 > len(full) {
		t.Errorf("thin build: %d packages, full: %d; want under half", len(thin), len(full))
	}
}

// buildVermont builds cmd/vermont with tags into dir/name.
func buildVermont(t *testing.T, dir, name string, tags ...string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	goCmd(t, append(args, ".")...)
	return out
}

// runBin runs a built binary with a PATH holding only emptyPath (where
// no vermont-full is) and the system's shells, returning its exit code and
// combined output.
func runBin(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return 0, string(out)
}

// TestThinBinary: the host-only binary starts with few package
// initializers and none of a daemon client's, runs a host workflow by
// itself, and hands serve and container runs to vermont-full next to it;
// without one it names the build command.
func TestThinBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs bash workflows")
	}
	t.Parallel()
	dir := t.TempDir()
	thin := buildVermont(t, dir, "vermont", "thin")
	noPath := "PATH=" + filepath.Join(dir, "empty") + string(os.PathListSeparator) + "/usr/bin" + string(os.PathListSeparator) + "/bin"

	_, trace := runBin(t, thin, []string{"GODEBUG=inittrace=1"}, "--help")
	var inits []string
	for _, l := range strings.Split(trace, "\n") {
		if strings.HasPrefix(l, "init ") {
			inits = append(inits, l)
		}
	}
	if len(inits) == 0 || len(inits) > 130 {
		t.Errorf("GODEBUG=inittrace=1 vermont --help: %d package initializers, want 1–130", len(inits))
	}
	if found := heavyIn(inits); len(found) > 0 {
		t.Errorf("heavy initializers run: %s", strings.Join(found, "\n"))
	}

	hello := mustAbs(filepath.Join("..", "..", "testdata", "bench", "hello.yml"))
	if code, out := runBin(t, thin, []string{noPath}, "run", "--workdir", t.TempDir(), "-W", hello); code != 0 || !strings.Contains(out, "✓ success") {
		t.Errorf("thin vermont run hello: exit %d\n%s", code, out)
	}
	code, out := runBin(t, thin, []string{noPath}, "serve", "--help")
	if code != 1 || !strings.Contains(out, "go build -o vermont-full ./cmd/vermont") || !strings.Contains(out, "host-only") {
		t.Errorf("thin vermont serve with no vermont-full: exit %d, want 1 and the build command\n%s", code, out)
	}

	buildVermont(t, dir, "vermont-full")
	sock := filepath.Join(dir, "no-containerd.sock")
	code, out = runBin(t, thin, []string{noPath}, "run", "--workdir", t.TempDir(), "--containerd", "--containerd-address", sock, "-W", hello)
	if code != 1 || strings.Contains(out, "host-only") || !strings.Contains(out, "needs containers") || !strings.Contains(out, sock) {
		t.Errorf("thin vermont run --containerd: exit %d; want vermont-full's run, which finds no containerd at %s\n%s", code, sock, out)
	}
	code, out = runBin(t, thin, []string{noPath}, "prune", "--help")
	if code != 0 || !strings.Contains(out, "usage: vermont prune") {
		t.Errorf("thin vermont prune --help: exit %d, want vermont-full's usage\n%s", code, out)
	}
	// A thin binary under the full one's name, which would find itself
	// next to itself, must not hand off to itself forever.
	loop := buildVermont(t, t.TempDir(), "vermont-full", "thin")
	code, out = runBin(t, loop, []string{noPath}, "image", "ls")
	if code != 1 || !strings.Contains(out, "host-only") {
		t.Errorf("a thin vermont-full handed image ls to itself: exit %d, want 1 and an error\n%s", code, out)
	}
}

// TestNeedsContainers: which runs the host-only build hands to
// vermont-full, from what the workflows show before they run.
func TestNeedsContainers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps string // the job's body under runs-on
		flags []string
		want  bool
	}{
		{"host job", "    steps:\n      - run: true\n", nil, false},
		{"container", "    container: alpine\n    steps:\n      - run: true\n", nil, true},
		{"services", "    services:\n      db:\n        image: postgres\n    steps:\n      - run: true\n", nil, true},
		{"docker step", "    steps:\n      - uses: docker://alpine\n", nil, true},
		{"--containerd", "    steps:\n      - run: true\n", []string{"--containerd"}, true},
		{"-P to an image", "    steps:\n      - run: true\n", []string{"-P", "ubuntu-latest=node:20"}, true},
		{"-P to the host", "    steps:\n      - run: true\n", []string{"-P", "ubuntu-latest=-self-hosted"}, false},
		{"-P for another label", "    steps:\n      - run: true\n", []string{"-P", "windows-latest=node:20"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "w.yml")
			src := "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n" + tt.steps
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			f := runFlags{workflows: file, dir: t.TempDir(), backend: backendFlags{containerd: slices.Contains(tt.flags, "--containerd")}}
			if len(tt.flags) == 2 {
				f.platforms = multiFlag{tt.flags[1]}
			}
			var errb bytes.Buffer
			plans, _, code := f.plan("push", stdio{out: &errb, err: &errb})
			if plans == nil {
				t.Fatalf("plan: exit %d\n%s", code, errb.String())
			}
			if got := f.needsContainers(plans); got != tt.want {
				t.Errorf("needsContainers = %v, want %v", got, tt.want)
			}
		})
	}
}
