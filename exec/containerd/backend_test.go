package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/snapshots"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrd"
	"github.com/vermont-ci/vermont/internal/ctrdtest"
)

var daemon ctrdtest.Shared

func TestMain(m *testing.M) { os.Exit(daemon.Main(m)) }

// webScript serves $MESSAGE over HTTP on $PORT (default 80) with busybox
// httpd, in the foreground so the container lives as long as the server.
const webScript = `#!/bin/sh
mkdir -p /www
echo "${MESSAGE:-hello}" > /www/index.html
exec /bin/busybox httpd -f -p "${PORT:-80}" -h /www
`

// fixture is a backend on the shared daemon, in a namespace of its own so
// tests can assert on everything in it, with a plain busybox image and a
// web server image.
type fixture struct {
	d     *ctrdtest.Daemon
	c     *ctrd.Client
	ns    string
	busy  string
	web   string
	b     *Backend
	runID string
}

func newFixture(tb testing.TB, ns string, opts ...Option) *fixture {
	tb.Helper()
	d := daemon.Get(tb)
	c := d.Client(tb, ctrd.WithNamespace(ns))
	f := &fixture{d: d, c: c, ns: ns, runID: "run-" + ns}
	f.busy = ctrdtest.BusyboxImage(tb, c, ctrdtest.ImageOptions{})
	f.web = ctrdtest.BusyboxImage(tb, c, ctrdtest.ImageOptions{
		Name:       "vermont.test/web:latest",
		Entrypoint: []string{"/serve.sh"},
		Files:      []ctrdtest.File{{Path: "/serve.sh", Mode: 0o755, Data: []byte(webScript)}},
	})
	base := []Option{
		WithAddress(d.Address()),
		WithNamespace(ns),
		WithSnapshotter(d.Snapshotter()),
		WithGrace(200 * time.Millisecond),
		WithHealthTimeout(time.Minute),
	}
	b, err := New(context.Background(), append(base, opts...)...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { b.Close() })
	f.b = b
	return f
}

// start starts a job and closes it when the test ends.
func (f *fixture) start(tb testing.TB, spec exec.JobSpec) exec.StepRunner {
	tb.Helper()
	if spec.RunID == "" {
		spec.RunID = f.runID
	}
	if spec.Job == "" {
		spec.Job = "test"
	}
	r, err := f.b.Start(context.Background(), spec)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return r
}

// run runs a shell script as a step and returns its exit code and output.
func run(tb testing.TB, r exec.StepRunner, script string, env ...string) (int, string) {
	tb.Helper()
	var out bytes.Buffer
	code, err := r.Run(context.Background(), exec.Process{
		Argv:   []string{"sh", "-c", script},
		Env:    append([]string{"PATH=/bin"}, env...),
		Stdout: &out, Stderr: &out,
	})
	if err != nil {
		tb.Fatalf("Run %q: %v (output %q)", script, err, out.String())
	}
	return code, out.String()
}

// leftovers lists what a test could leak: every container in the
// namespace, and the snapshots and leases labelled with a run.
func (f *fixture) leftovers(tb testing.TB) []string {
	tb.Helper()
	ctx := f.c.Context(context.Background())
	var out []string
	conts, err := f.c.Containerd().Containers(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range conts {
		out = append(out, "container "+c.ID())
	}
	err = f.c.Containerd().SnapshotService(f.c.Snapshotter()).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		if info.Kind == snapshots.KindActive || info.Labels[LabelRun] != "" {
			out = append(out, "snapshot "+info.Name)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	ls, err := f.c.Containerd().LeasesService().List(ctx, `labels."`+LabelRun+`"`)
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range ls {
		out = append(out, "lease "+l.ID)
	}
	return out
}

func TestJobOnImage(t *testing.T) {
	f := newFixture(t, "image-job")
	r := f.start(t, exec.JobSpec{Image: f.busy})
	tests := []struct {
		name   string
		script string
		env    []string
		dir    string
		code   int
		want   string // stdout
		stderr string
	}{
		{name: "env", script: `echo "$GREETING $WHO"`, env: []string{"GREETING=hello", "WHO=world"}, want: "hello world\n"},
		{name: "dir", script: `pwd`, dir: "/tmp", want: "/tmp\n"},
		{name: "default dir", script: `pwd`, want: "/\n"},
		{name: "exit code", script: `echo out; echo err >&2; exit 3`, code: 3, want: "out\n", stderr: "err\n"},
		{name: "same container", script: `echo kept > /kept; cat /kept`, want: "kept\n"},
		{name: "state kept between steps", script: `cat /kept`, want: "kept\n"},
		{name: "steps are execs, not containers", script: `ps -o comm | grep -c tail`, want: "1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, stderr bytes.Buffer
			code, err := r.Run(context.Background(), exec.Process{
				Argv: []string{"sh", "-c", tt.script}, Env: append([]string{"PATH=/bin"}, tt.env...),
				Dir: tt.dir, Stdout: &out, Stderr: &stderr,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if code != tt.code || out.String() != tt.want || stderr.String() != tt.stderr {
				t.Errorf("Run = %d, %q, %q; want %d, %q, %q", code, out.String(), stderr.String(), tt.code, tt.want, tt.stderr)
			}
		})
	}
	t.Run("missing executable", func(t *testing.T) {
		_, err := r.Run(context.Background(), exec.Process{Argv: []string{"no-such-tool"}, Env: []string{"PATH=/bin"}})
		if err == nil || !strings.Contains(err.Error(), "no-such-tool") {
			t.Errorf("Run(no-such-tool) = %v; want an error naming it", err)
		}
	})
}

// TestCommandFiles writes GITHUB_OUTPUT, GITHUB_ENV and GITHUB_PATH from
// inside the container and reads them on the host, through the job's mounts.
func TestCommandFiles(t *testing.T) {
	f := newFixture(t, "command-files")
	dir := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"} {
		p := filepath.Join(dir, strings.ToLower(name))
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	r := f.start(t, exec.JobSpec{Image: f.busy, Mounts: []string{dir}})
	code, out := run(t, r, `echo "answer=42" >> "$GITHUB_OUTPUT"; echo "FOO=bar" >> "$GITHUB_ENV"; echo /opt/tool/bin >> "$GITHUB_PATH"`,
		"GITHUB_OUTPUT="+files["GITHUB_OUTPUT"], "GITHUB_ENV="+files["GITHUB_ENV"], "GITHUB_PATH="+files["GITHUB_PATH"])
	if code != 0 {
		t.Fatalf("step failed: %d %s", code, out)
	}
	for name, want := range map[string]string{"GITHUB_OUTPUT": "answer=42\n", "GITHUB_ENV": "FOO=bar\n", "GITHUB_PATH": "/opt/tool/bin\n"} {
		got, err := os.ReadFile(files[name])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s on the host = %q, want %q", name, got, want)
		}
	}
}

func TestContainerJobOptions(t *testing.T) {
	f := newFixture(t, "container-job")
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "note"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.start(t, exec.JobSpec{Image: f.busy, Container: &exec.ContainerSpec{
		Env:     map[string]string{"FOO": "bar"},
		Volumes: []string{"cache:/cache", hostDir + ":/mnt/host:ro"},
		Options: `--user 1000:1000 --workdir /tmp -e BAZ=qux --env "QUOTED=a b"`,
	}})
	code, out := run(t, r, `id -u; id -g; pwd; echo "$FOO $BAZ $QUOTED"; cat /mnt/host/note; touch /mnt/host/x 2>/dev/null || echo read-only; test -d /cache && echo cache-mounted`)
	want := "1000\n1000\n/tmp\nbar qux a b\nfrom host\nread-only\ncache-mounted\n"
	if code != 0 || out != want {
		t.Errorf("container job = %d, %q; want 0, %q", code, out, want)
	}
}

func TestContainerOptionsErrors(t *testing.T) {
	f := newFixture(t, "container-errors")
	tests := []struct {
		name string
		spec exec.JobSpec
		want []string
	}{
		{
			name: "unknown option",
			spec: exec.JobSpec{Image: f.busy, Container: &exec.ContainerSpec{Options: "--gpus all"}},
			want: []string{"--gpus is not supported", "--health-cmd", "--pids-limit"},
		},
		{
			name: "malformed limit",
			spec: exec.JobSpec{Image: f.busy, Container: &exec.ContainerSpec{Options: "--memory lots"}},
			want: []string{`job "bad": container: options: --memory "lots": want a size such as 512m or 1g`},
		},
		{
			name: "bad service port and duration",
			spec: exec.JobSpec{Services: []exec.ServiceSpec{{Name: "db", ContainerSpec: exec.ContainerSpec{
				Image: f.web, Ports: []string{"53/udp"}, Options: "--health-cmd true --health-interval soon",
			}}}},
			want: []string{"services: db", "only tcp", "--health-interval \"soon\""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.RunID, tt.spec.Job = f.runID, "bad"
			_, err := f.b.Start(context.Background(), tt.spec)
			if err == nil {
				t.Fatal("Start succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if l := f.leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

// webService is a service answering HTTP on port with message.
func webService(f *fixture, name, port, message string, ports ...string) exec.ServiceSpec {
	return exec.ServiceSpec{Name: name, ContainerSpec: exec.ContainerSpec{
		Image:   f.web,
		Env:     map[string]string{"PORT": port, "MESSAGE": message},
		Ports:   ports,
		Options: "--health-cmd 'wget -q -O /dev/null http://127.0.0.1:" + port + "/' --health-interval 100ms --health-retries 100",
	}}
}

func TestServicesByNameAndLocalhost(t *testing.T) {
	f := newFixture(t, "services")
	r := f.start(t, exec.JobSpec{Image: f.busy, Services: []exec.ServiceSpec{
		webService(f, "web", "8080", "from web"),
		webService(f, "api", "9090", "from api"),
	}})
	code, out := run(t, r, `wget -q -O - http://web:8080/; wget -q -O - http://api:9090/; wget -q -O - http://localhost:8080/; wget -q -O - http://127.0.0.1:9090/`)
	if want := "from web\nfrom api\nfrom web\nfrom api\n"; code != 0 || out != want {
		t.Errorf("reaching services = %d, %q; want 0, %q", code, out, want)
	}
	// A service reaches the other by name too.
	sr := r.(*job)
	var buf bytes.Buffer
	code, err := sr.exec(context.Background(), sr.container("web"), exec.Process{Argv: []string{"wget", "-q", "-O", "-", "http://api:9090/"}, Stdout: &buf, Stderr: &buf}, 0)
	if err != nil || code != 0 || buf.String() != "from api\n" {
		t.Errorf("web → api = %d, %v, %q", code, err, buf.String())
	}
}

func TestHostJobServicePorts(t *testing.T) {
	f := newFixture(t, "host-services")
	r := f.start(t, exec.JobSpec{Services: []exec.ServiceSpec{
		webService(f, "web", "80", "published", "80"),
	}})
	main, services := r.(*job).Containers()
	web := services["web"]
	hostPort := web.Ports["80"]
	if hostPort == "" {
		t.Fatalf("Containers: services = %v; want web's port 80 published", services)
	}
	// A host job has no container of its own, but its services' network
	// shows in job.container, as on GitHub.
	if main == nil || main.ID != "" || main.Network == "" || main.Network != web.Network || web.ID == "" {
		t.Errorf("Containers = %+v, %+v; want a network shared with web, no job container id, and web's id", main, web)
	}
	resp, err := http.Get("http://127.0.0.1:" + hostPort + "/")
	if err != nil {
		t.Fatalf("GET service from the host: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "published\n" {
		t.Errorf("GET = %q, want %q", body, "published\n")
	}
	// Steps of a host job run on the host.
	code, out := run(t, r, `test -d /proc/self && echo "$HOSTJOB"`, "HOSTJOB=yes")
	if code != 0 || out != "yes\n" {
		t.Errorf("host step = %d, %q", code, out)
	}
}

func TestUnhealthyService(t *testing.T) {
	f := newFixture(t, "unhealthy")
	spec := exec.JobSpec{RunID: f.runID, Job: "sick", Services: []exec.ServiceSpec{{Name: "db", ContainerSpec: exec.ContainerSpec{
		Image: f.web, Options: "--health-cmd 'echo not ready; exit 1' --health-interval 50ms --health-retries 3",
	}}}}
	_, err := f.b.Start(context.Background(), spec)
	if !errors.Is(err, ErrUnhealthy) || !strings.Contains(err.Error(), "service db") || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("Start = %v; want ErrUnhealthy naming service db with the check's output", err)
	}
	if l := f.leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestDockerAction(t *testing.T) {
	f := newFixture(t, "docker-action")
	dir := t.TempDir()
	r := f.start(t, exec.JobSpec{Image: f.busy, Mounts: []string{dir}, Services: []exec.ServiceSpec{webService(f, "web", "80", "svc")}})
	cr, ok := r.(exec.ContainerRunner)
	if !ok {
		t.Fatal("the step runner is not an exec.ContainerRunner")
	}
	var out bytes.Buffer
	out2 := filepath.Join(dir, "out")
	code, err := cr.RunContainer(context.Background(), exec.ContainerProcess{
		Image:      f.busy,
		Entrypoint: []string{"sh", "-c"},
		Args:       []string{`echo "input=$INPUT_NAME"; pwd; wget -q -O - http://web/; echo done > ` + out2 + `; exit 7`},
		Env:        []string{"PATH=/bin", "INPUT_NAME=octocat"},
		Dir:        dir,
		Stdout:     &out, Stderr: &out,
	})
	if err != nil {
		t.Fatalf("RunContainer: %v", err)
	}
	if want := "input=octocat\n" + dir + "\nsvc\n"; code != 7 || out.String() != want {
		t.Errorf("RunContainer = %d, %q; want 7, %q", code, out.String(), want)
	}
	if got, _ := os.ReadFile(out2); string(got) != "done\n" {
		t.Errorf("file written by the action = %q", got)
	}
	// The action's container is gone; the job's and the service's remain.
	conts, err := f.c.Containerd().Containers(f.c.Context(context.Background()), ctrd.LabelFilter(LabelRole, "action"))
	if err != nil || len(conts) != 0 {
		t.Errorf("action containers after RunContainer: %d, %v", len(conts), err)
	}
	t.Run("image cmd kept", func(t *testing.T) {
		var out bytes.Buffer
		code, err := cr.RunContainer(context.Background(), exec.ContainerProcess{Image: f.web, Env: []string{"PORT=81"}, Args: nil, Stdout: &out, Stderr: &out, Entrypoint: []string{"sh", "-c", "echo entry $PORT"}})
		if err != nil || code != 0 || out.String() != "entry 81\n" {
			t.Errorf("RunContainer = %d, %v, %q", code, err, out.String())
		}
	})
}

func TestStepTimeoutKillsExec(t *testing.T) {
	f := newFixture(t, "timeout")
	r := f.start(t, exec.JobSpec{Image: f.busy})
	// Long enough for the exec to start and print on a loaded machine (CI
	// saw 300 ms pass before "started"); the kill is what is tested.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out bytes.Buffer
	// The trap ignores SIGTERM, so only the SIGKILL after the grace ends it;
	// the child sleep must die with it.
	_, err := r.Run(ctx, exec.Process{
		Argv: []string{"sh", "-c", `trap '' TERM; echo started; sleep 1000; echo finished`},
		Env:  []string{"PATH=/bin"}, Stdout: &out, Stderr: &out,
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v; want context.DeadlineExceeded", err)
	}
	if out.String() != "started\n" {
		t.Errorf("output = %q", out.String())
	}
	code, ps := run(t, r, `ps -o args`)
	if code != 0 || strings.Contains(ps, "sleep 1000") || strings.Contains(ps, "trap") {
		t.Errorf("processes left after the timeout:\n%s", ps)
	}
}

func TestCancelLeavesNothing(t *testing.T) {
	f := newFixture(t, "cancel")
	t.Run("during a step", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r, err := f.b.Start(ctx, exec.JobSpec{RunID: f.runID, Job: "c1", Image: f.busy, Services: []exec.ServiceSpec{webService(f, "web", "80", "x", "80")}})
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		go func() {
			<-started
			cancel()
		}()
		_, err = r.Run(ctx, exec.Process{Argv: []string{"sh", "-c", "echo go; sleep 1000"}, Env: []string{"PATH=/bin"}, Stdout: writerFunc(func(p []byte) {
			close(started)
		})})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v; want context.Canceled", err)
		}
		if err := r.Close(ctx); err != nil { // a cancelled ctx still cleans up
			t.Errorf("Close: %v", err)
		}
		if l := f.leftovers(t); len(l) > 0 {
			t.Errorf("left behind: %v", l)
		}
	})
	t.Run("during start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Cancel once the first container exists; the service never gets
		// healthy, so Start is still waiting.
		go func() {
			for ctx.Err() == nil {
				conts, _ := f.c.Containerd().Containers(f.c.Context(ctx))
				if len(conts) > 0 {
					cancel()
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		_, err := f.b.Start(ctx, exec.JobSpec{RunID: f.runID, Job: "c2", Image: f.busy, Services: []exec.ServiceSpec{{Name: "db", ContainerSpec: exec.ContainerSpec{
			Image: f.web, Options: "--health-cmd false --health-interval 50ms --health-retries 100000",
		}}}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Start = %v; want context.Canceled", err)
		}
		if l := f.leftovers(t); len(l) > 0 {
			t.Errorf("left behind: %v", l)
		}
	})
}

// TestCancelAtAnyPointOfStart cancels Start after a growing delay, so that
// the cancellation lands at every stage: before the lease, while containers
// and tasks are being created, and during the health wait. Whatever the
// moment, nothing is left. (A create call abandoned by the client used to
// land on the daemon after the cleanup had listed what to remove.)
func TestCancelAtAnyPointOfStart(t *testing.T) {
	f := newFixture(t, "cancel-any")
	spec := exec.JobSpec{RunID: f.runID, Job: "c", Image: f.busy, Services: []exec.ServiceSpec{
		webService(f, "web", "80", "x"),
		{Name: "db", ContainerSpec: exec.ContainerSpec{Image: f.web, Options: "--health-cmd false --health-interval 50ms --health-retries 100000"}},
	}}
	for delay := time.Duration(0); delay <= 150*time.Millisecond; delay += 10 * time.Millisecond {
		ctx, cancel := context.WithCancel(context.Background())
		timer := time.AfterFunc(delay, cancel)
		r, err := f.b.Start(ctx, spec)
		timer.Stop()
		cancel()
		if err == nil { // cannot happen: db never gets healthy
			r.Close(context.Background())
			t.Fatalf("delay %s: Start succeeded", delay)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("delay %s: Start = %v; want context.Canceled", delay, err)
		}
		if l := f.leftovers(t); len(l) > 0 {
			t.Fatalf("delay %s: left behind: %v", delay, l)
		}
	}
}

type writerFunc func(p []byte)

func (w writerFunc) Write(p []byte) (int, error) {
	defer func() { recover() }() // close of a closed channel on a second write
	w(p)
	return len(p), nil
}

func TestMissingImage(t *testing.T) {
	f := newFixture(t, "missing-image")
	_, err := f.b.Start(context.Background(), exec.JobSpec{RunID: f.runID, Job: "j", Image: "vermont.test/absent:1"})
	if !errors.Is(err, ErrImageNotFound) || !strings.Contains(err.Error(), "vermont.test/absent:1") {
		t.Errorf("Start = %v; want ErrImageNotFound naming the image", err)
	}
	r, err := f.b.Start(context.Background(), exec.JobSpec{RunID: f.runID, Job: "host"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.(exec.ContainerRunner).RunContainer(context.Background(), exec.ContainerProcess{Image: "vermont.test/gone:2"})
	if !errors.Is(err, ErrImageNotFound) || !strings.Contains(err.Error(), "vermont.test/gone:2") {
		t.Errorf("RunContainer = %v; want ErrImageNotFound naming the image", err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l := f.leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

func TestDaemonNotRunning(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "containerd.sock")
	_, err := New(context.Background(), WithAddress(sock), WithGrace(0))
	if !errors.Is(err, ErrDaemonUnavailable) || !strings.Contains(err.Error(), sock) {
		t.Errorf("New = %v; want ErrDaemonUnavailable naming %s", err, sock)
	}
}

// TestManyJobsAtOnce runs 20 container jobs at once, each with two steps.
func TestManyJobsAtOnce(t *testing.T) {
	f := newFixture(t, "many")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- oneJob(f, i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if l := f.leftovers(t); len(l) > 0 {
		t.Errorf("left behind: %v", l)
	}
}

func oneJob(f *fixture, i int) error {
	ctx := context.Background()
	r, err := f.b.Start(ctx, exec.JobSpec{RunID: f.runID, Job: fmt.Sprint("job", i), Image: f.busy})
	if err != nil {
		return err
	}
	defer r.Close(ctx)
	for step := range 2 {
		var out bytes.Buffer
		code, err := r.Run(ctx, exec.Process{Argv: []string{"sh", "-c", `echo "$N"`}, Env: []string{"PATH=/bin", fmt.Sprintf("N=%d-%d", i, step)}, Stdout: &out})
		if err != nil || code != 0 || out.String() != fmt.Sprintf("%d-%d\n", i, step) {
			return fmt.Errorf("job %d step %d = %d, %v, %q", i, step, code, err, out.String())
		}
	}
	return r.Close(ctx)
}

// TestHostNetwork runs a service in the host's network: its port is on the
// host's loopback without forwarding.
func TestHostNetwork(t *testing.T) {
	f := newFixture(t, "host-network", WithNetwork(NetworkHost))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	r := f.start(t, exec.JobSpec{Image: f.busy, Services: []exec.ServiceSpec{webService(f, "web", port, "on host", port)}})
	main, services := r.(*job).Containers()
	if got := services["web"].Ports[port]; got != port {
		t.Errorf("Containers: web's ports[%s] = %q, want the same port", port, got)
	}
	if main == nil || main.ID == "" || main.Network != "host" || services["web"].Network != "host" {
		t.Errorf("Containers = %+v, %+v; want the job container's id and network host for both", main, services)
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("GET from the host: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "on host\n" {
		t.Errorf("GET = %q", body)
	}
	code, out := run(t, r, `wget -q -O - http://web:`+port+`/`)
	if code != 0 || out != "on host\n" {
		t.Errorf("job container → web by name = %d, %q", code, out)
	}
}
