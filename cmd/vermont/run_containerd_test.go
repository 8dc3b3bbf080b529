//go:build !thin

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	ctrdexec "github.com/vermont-ci/vermont/exec/containerd"
	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

// containersTestdata holds the container workflows; it is also the
// repository their local actions come from.
const containersTestdata = "../../testdata/containers"

// webServe serves $MESSAGE over HTTP on $PORT (default 80) with busybox
// httpd, in the foreground so the container lives as long as the server.
const webServe = `#!/bin/sh
mkdir -p /www
echo "${MESSAGE:-hello}" > /www/index.html
exec /bin/busybox httpd -f -p "${PORT:-80}" -h /www
`

// TestRunContainerd runs testdata/containers workflows through `vermont run`
// on the private containerd, in the namespace vermont run uses, and checks
// what a user sees: the exit code and the printed lines.
func TestRunContainerd(t *testing.T) {
	d := daemon.Get(t)
	c := d.Client(t, ctrd.WithNamespace(ctrd.DefaultNamespace))
	marker := []ctrdtest.File{{Path: "/etc/vermont-test-image", Data: []byte("busybox image\n")}}
	busybox := ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Name: "vermont.test/busybox:latest", Env: []string{"IMAGE_ENV=kept from the image"}, Files: marker})
	ctrdtest.BusyboxImage(t, c, ctrdtest.ImageOptions{Name: "vermont.test/web:latest", Entrypoint: []string{"/serve.sh"},
		Files: []ctrdtest.File{{Path: "/serve.sh", Mode: 0o755, Data: []byte(webServe)}}})

	wf := func(name string) []string { return []string{"-W", filepath.Join(containersTestdata, name)} }
	conn := []string{"--containerd-address", d.Address(), "--snapshotter", d.Snapshotter(), "--action-cache", t.TempDir(), "--offline", "-C", containersTestdata}
	mapped := append([]string{"-P", "ubuntu-latest=" + busybox}, conn...)
	noSock := filepath.Join(t.TempDir(), "containerd.sock")
	tests := []struct {
		name string
		args []string
		code int
		want []string // each must appear in stdout or stderr
		not  []string
	}{
		{name: "job on an image", args: append(wf("image.yml"), mapped...), want: []string{
			"[build]", "image: busybox image", "runner.os: Linux Linux", "output: 42", "env: hello from GITHUB_ENV",
			"mytool ran", "shell: sh -e", "no bash in the image", "host env: not passed", "[after]", "needs: 42", "✓ job success",
		}, not: []string{"✗"}},
		{name: "services", args: append(wf("services.yml"), mapped...), want: []string{
			"by name: from web and from api", "on localhost: from web and from api",
			"web's port 80 is published", "from the host: published", "steps run on the host",
		}, not: []string{"✗"}},
		{name: "docker actions on a host job", args: append(wf("docker.yml"), conn...), want: []string{
			"hello octocat from busybox image", "hello mona (INPUT_WHO=mona, from the action's env)", "outputs: hi / hello mona",
			"no image builder", "dockerfile action failure",
		}},
		{name: "missing image", args: append(wf("image.yml"), append([]string{"-P", "ubuntu-latest=vermont.test/absent:1"}, conn...)...), code: 1, want: []string{
			"Error: start job", "vermont.test/absent:1", "vermont image import", "✗ job failure",
		}},
		{name: "docker action, daemon not running", args: append(wf("docker.yml"), "-C", containersTestdata, "--offline", "--containerd-address", noSock), code: 1, want: []string{
			"docker action vermont.test/busybox:latest needs containers", "containerd is not running", noSock, "✗ job failure",
		}},
		{name: "daemon not running", args: append(wf("image.yml"), "-P", "ubuntu-latest="+busybox, "--containerd-address", noSock), code: 1, want: []string{
			"containerd is not running", noSock, "✗ job failure",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"run", "--workdir", t.TempDir()}, tt.args...)
			code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			all := out.String() + errb.String()
			if code != tt.code {
				t.Fatalf("vermont %s: exit %d, want %d\n%s", strings.Join(args, " "), code, tt.code, all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(all, w) {
					t.Errorf("output has %q:\n%s", w, all)
				}
			}
		})
	}
	// Every run cleaned up after itself.
	b, err := ctrdexec.New(context.Background(), ctrdexec.WithAddress(d.Address()), ctrdexec.WithSnapshotter(d.Snapshotter()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if left, err := b.Leftovers(context.Background()); err != nil || len(left) > 0 {
		t.Errorf("left behind in namespace %s: %v, %v", ctrd.DefaultNamespace, left, err)
	}
}
