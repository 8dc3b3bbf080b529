package containerd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vermont-ci/vermont/exec"
)

// TestMountOrder checks that mounts go on parents first, whatever order
// they come in, and replace a default at the same place.
func TestMountOrder(t *testing.T) {
	ctx := namespaces.WithNamespace(context.Background(), "test")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "c"}, mountOpts([]specs.Mount{
		bind("/tmp/job/ws", "/tmp/job/ws", false),
		{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
	})...)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	runs := 0
	for _, m := range s.Mounts {
		if m.Destination == "/run" {
			runs++
			if len(m.Options) != 1 || m.Options[0] != "size=1m" {
				t.Errorf("/run = %+v, want the --tmpfs one", m)
			}
		}
		if strings.HasPrefix(m.Destination, "/tmp") {
			order = append(order, m.Destination)
		}
	}
	if runs != 1 || strings.Join(order, " ") != "/tmp /tmp/job/ws" {
		t.Errorf("/run mounted %d times, /tmp mounts in order %v; want once, and /tmp first", runs, order)
	}
}

// cgroupScript prints the container's memory, swap, pids and CPU limits
// from its own cgroup files, in the same form on cgroup v1 and v2.
const cgroupScript = `if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
  echo v2
  cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max
else
  echo v1
  cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/pids/pids.max
  echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"
fi`

func TestLimitsInCgroup(t *testing.T) {
	f := newFixture(t, "limits-cgroup")
	r := f.start(t, exec.JobSpec{Image: f.busy, Container: &exec.ContainerSpec{Options: "--memory 64m --pids-limit 50 --cpus 0.5"}})
	code, out := run(t, r, cgroupScript)
	// 64 MiB of memory; as much swap again (v1 counts memory plus swap, v2
	// swap alone); 50 processes; 50 ms of CPU every 100 ms.
	want := "v1\n67108864\n134217728\n50\n50000 100000\n"
	if f.b.sys.cgroup2 {
		want = "v2\n67108864\n67108864\n50\n50000 100000\n"
	}
	if code != 0 || out != want {
		t.Errorf("cgroup limits = %d, %q; want 0, %q", code, out, want)
	}
	// The pids limit holds: 60 more processes cannot all start (the shell
	// and its 60 children would be 61).
	code, out = run(t, r, `for i in $(seq 60); do sleep 2 & done; echo all-started`)
	if strings.Contains(out, "all-started") || !strings.Contains(out, "fork") {
		t.Errorf("60 processes under --pids-limit 50 = %d, %q; want a failed fork", code, out)
	}
	r2 := f.start(t, exec.JobSpec{Image: f.busy, Job: "unlimited", Container: &exec.ContainerSpec{Options: "--memory 64m --memory-swap -1 --pids-limit -1"}})
	code, out = run(t, r2, cgroupScript)
	lines := strings.Split(out, "\n")
	if code != 0 || len(lines) < 4 || lines[1] != "67108864" || lines[3] != "max" || lines[2] != "max" && !strings.HasPrefix(lines[2], "9223372036854") {
		t.Errorf("unlimited swap and pids = %d, %q; want memory 64m and no swap or pids limit", code, out)
	}
}

// TestReadOnlyAndTmpfs checks that --read-only makes / unwritable while the
// job's directories stay writable, even under a --tmpfs /tmp, and that a
// --tmpfs is a tmpfs.
func TestReadOnlyAndTmpfs(t *testing.T) {
	f := newFixture(t, "limits-readonly")
	ws, err := os.MkdirTemp("/tmp", "vermont-ws-") // under the --tmpfs /tmp below
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(ws) })
	r := f.start(t, exec.JobSpec{Image: f.busy, Mounts: []string{ws}, Container: &exec.ContainerSpec{
		Options: "--read-only --tmpfs /scratch --tmpfs /tmp:size=8m",
	}})
	code, out := run(t, r, `touch /root-file 2>/dev/null && echo root-writable || echo root-read-only
touch /etc/x 2>/dev/null && echo etc-writable || echo etc-read-only
echo from-container > "$WS/out" && echo workspace-writable
grep -E '^tmpfs /(scratch|tmp) tmpfs' /proc/mounts | cut -d' ' -f2,3
echo x > /scratch/f && echo scratch-writable
echo x > /tmp/f && echo tmp-writable`, "WS="+ws)
	want := "root-read-only\netc-read-only\nworkspace-writable\n/scratch tmpfs\n/tmp tmpfs\nscratch-writable\ntmp-writable\n"
	if code != 0 || out != want {
		t.Errorf("read-only job = %d, %q; want 0, %q", code, out, want)
	}
	if got, _ := os.ReadFile(filepath.Join(ws, "out")); string(got) != "from-container\n" {
		t.Errorf("workspace file on the host = %q", got)
	}
	// By default the root filesystem is writable.
	r2 := f.start(t, exec.JobSpec{Image: f.busy, Job: "rw"})
	if code, out := run(t, r2, `touch /root-file && echo ok`); code != 0 || out != "ok\n" {
		t.Errorf("default job touching / = %d, %q", code, out)
	}
}

// statusOf runs a step that prints the named fields of /proc/self/status.
func statusOf(t *testing.T, r exec.StepRunner, fields ...string) string {
	t.Helper()
	code, out := run(t, r, `grep -E '^(`+strings.Join(fields, "|")+`):' /proc/self/status | tr -d '\t'`)
	if code != 0 {
		t.Fatalf("reading /proc/self/status: %d %q", code, out)
	}
	return out
}

func TestCapabilities(t *testing.T) {
	f := newFixture(t, "limits-caps")
	const defaults = defaultCapBits
	tests := []struct {
		options string
		want    uint64
	}{
		{options: "", want: defaults},
		{options: "--cap-drop ALL", want: 0},
		{options: "--cap-add NET_ADMIN", want: defaults | 1<<12},
		{options: "--cap-drop ALL --cap-add CAP_CHOWN --cap-add kill", want: 1<<0 | 1<<5},
		{options: "--cap-drop NET_RAW", want: defaults &^ (1 << 13)},
	}
	for _, tt := range tests {
		t.Run(orDefault(tt.options), func(t *testing.T) {
			r := f.start(t, exec.JobSpec{Image: f.busy, Container: &exec.ContainerSpec{Options: tt.options}})
			want := "CapEff:" + hex16(tt.want) + "\n"
			if got := statusOf(t, r, "CapEff"); got != want {
				t.Errorf("%q: %q, want %q", tt.options, got, want)
			}
		})
	}
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// TestSeccompAndPrivileged checks Docker's default seccomp profile and
// no_new_privs, and what --privileged and seccomp=unconfined change.
func TestSeccompAndPrivileged(t *testing.T) {
	f := newFixture(t, "limits-seccomp")
	mountTmpfs := `mkdir -p /mnt/t && mount -t tmpfs none /mnt/t 2>/dev/null && echo mounted || echo no-mount`
	tests := []struct {
		options string
		status  string
		mount   string
	}{
		{options: "", status: "NoNewPrivs:0\nSeccomp:2\n", mount: "no-mount\n"},
		{options: "--security-opt no-new-privileges", status: "NoNewPrivs:1\nSeccomp:2\n", mount: "no-mount\n"},
		{options: "--security-opt seccomp=unconfined", status: "NoNewPrivs:0\nSeccomp:0\n", mount: "no-mount\n"},
		// Docker-in-Docker needs this: every capability, no seccomp, mounts.
		{options: "--privileged", status: "NoNewPrivs:0\nSeccomp:0\n", mount: "mounted\n"},
	}
	for _, tt := range tests {
		t.Run(orDefault(tt.options), func(t *testing.T) {
			r := f.start(t, exec.JobSpec{Image: f.busy, Container: &exec.ContainerSpec{Options: tt.options}})
			if got := statusOf(t, r, "NoNewPrivs", "Seccomp"); got != tt.status {
				t.Errorf("%q: status %q, want %q", tt.options, got, tt.status)
			}
			if code, out := run(t, r, mountTmpfs); code != 0 || out != tt.mount {
				t.Errorf("%q: mount = %d, %q; want %q", tt.options, code, out, tt.mount)
			}
		})
	}
	t.Run("privileged", func(t *testing.T) {
		// Every capability the host allows, writable /sys and cgroups, and
		// the host's devices.
		var want uint64
		for _, c := range f.b.sys.allCaps {
			want |= 1 << capNumber(t, c)
		}
		for _, tt := range []struct{ options, caps, modes string }{
			{options: "", caps: hex16(defaultCapBits), modes: "sys:ro\ncgroup:ro\n"},
			{options: "--privileged", caps: hex16(want), modes: "sys:rw\ncgroup:rw\n"},
		} {
			r := f.start(t, exec.JobSpec{Image: f.busy, Job: "p" + tt.options, Container: &exec.ContainerSpec{Options: tt.options}})
			if got := statusOf(t, r, "CapEff"); got != "CapEff:"+tt.caps+"\n" {
				t.Errorf("%q: %q, want CapEff %s", tt.options, got, tt.caps)
			}
			code, out := run(t, r, mountModes)
			if code != 0 || out != tt.modes {
				t.Errorf("%q: mounts = %d, %q; want %q", tt.options, code, out, tt.modes)
			}
		}
		devices := func(options string) int {
			r := f.start(t, exec.JobSpec{Image: f.busy, Job: "d" + options, Container: &exec.ContainerSpec{Options: options}})
			_, out := run(t, r, `find /dev -type c -o -type b | wc -l`)
			n, _ := strconv.Atoi(strings.TrimSpace(out))
			return n
		}
		if def, priv := devices(""), devices("--privileged"); priv <= def {
			t.Errorf("device nodes: %d privileged, %d by default; want the host's too", priv, def)
		}
	})
	t.Run("docker action", func(t *testing.T) {
		r := f.start(t, exec.JobSpec{})
		var out bytes.Buffer
		code, err := r.(exec.ContainerRunner).RunContainer(context.Background(), exec.ContainerProcess{
			Image: f.busy, Entrypoint: []string{"sh", "-c", `grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | tr -d '\t'`},
			Env: []string{"PATH=/bin"}, Stdout: &out, Stderr: &out,
		})
		if err != nil || code != 0 || out.String() != "NoNewPrivs:0\nSeccomp:2\n" {
			t.Errorf("docker action = %d, %v, %q; want Docker's defaults", code, err, out.String())
		}
	})
}

// mountModes prints whether /sys and the cgroup mounts are ro or rw.
const mountModes = `awk '$2=="/sys" {split($4, o, ","); print "sys:" o[1]}' /proc/mounts
awk '$3 ~ /^cgroup/ {split($4, o, ","); print "cgroup:" o[1]}' /proc/mounts | sort -u`

// defaultCapBits are Docker's 14 default capabilities as a bitmap.
const defaultCapBits = 0xa80425fb

func orDefault(options string) string {
	if options == "" {
		return "default"
	}
	return options
}

// capNumber is a capability's bit, from the order of capabilities(7).
func capNumber(t *testing.T, name string) int {
	for i, c := range knownCaps() {
		if c == name {
			return i
		}
	}
	t.Fatalf("unknown capability %s", name)
	return 0
}

// TestServiceLimits checks that a service's options apply to it too.
func TestServiceLimits(t *testing.T) {
	f := newFixture(t, "limits-service")
	r := f.start(t, exec.JobSpec{Image: f.busy, Services: []exec.ServiceSpec{{Name: "web", ContainerSpec: exec.ContainerSpec{
		Image: f.web,
		Env:   map[string]string{"PORT": "8080", "MESSAGE": "limited"},
		Options: "--read-only --tmpfs /www --cap-drop ALL --memory 64m --pids-limit 20 " +
			"--health-cmd 'wget -q -O /dev/null http://127.0.0.1:8080/' --health-interval 100ms --health-retries 100",
	}}}})
	if code, out := run(t, r, `wget -q -O - http://web:8080/`); code != 0 || out != "limited\n" {
		t.Errorf("job → service = %d, %q", code, out)
	}
	j := r.(*job)
	var out bytes.Buffer
	code, err := j.exec(context.Background(), j.container("web"), exec.Process{
		Argv:   []string{"sh", "-c", `grep CapEff /proc/self/status | tr -d '\t'; touch /x 2>/dev/null || echo read-only; ` + cgroupScript},
		Env:    []string{"PATH=/bin"},
		Stdout: &out, Stderr: &out,
	}, 0)
	lines := strings.Split(out.String(), "\n")
	if err != nil || code != 0 || len(lines) < 6 || lines[0] != "CapEff:0000000000000000" || lines[1] != "read-only" || lines[3] != "67108864" || lines[5] != "20" {
		t.Errorf("in the service = %d, %v, %q; want no capabilities, a read-only root, 64m and 20 pids", code, err, out.String())
	}
}
