package containerd

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Where Docker documents each behaviour the table below checks.
const (
	docRun      = "https://docs.docker.com/reference/cli/docker/container/run/"
	docCPU      = "https://docs.docker.com/engine/containers/resource_constraints/#configure-the-default-cfs-scheduler"
	docMemory   = "https://docs.docker.com/engine/containers/resource_constraints/#limit-a-containers-access-to-memory"
	docSwap     = "https://docs.docker.com/engine/containers/resource_constraints/#--memory-swap-details"
	docPids     = docRun + "#options (--pids-limit: set -1 for unlimited)"
	docCaps     = "https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities"
	docPriv     = docRun + "#privileged"
	docReadOnly = docRun + "#read-only"
	docTmpfs    = docRun + "#tmpfs"
	docSecOpt   = docRun + "#security-opt"
	docSeccomp  = "https://docs.docker.com/engine/security/seccomp/"
	docNoNew    = docRun + "#security-opt (no-new-privileges)"
)

// defaultCaps are containerd's default capabilities, which are Docker's.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// testSys is a host with cgroup v2, swap limits and AppArmor, whose
// "every capability" is the defaults plus three.
var testSys = sysInfo{
	allCaps: append(slices.Clone(defaultCaps), "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"),
	cgroup2: true, swapLimit: true, apparmor: true,
}

// specFor parses options and builds the OCI spec containerd would get for
// them, on sys.
func specFor(t *testing.T, options string, sys sysInfo) (*oci.Spec, []string, error) {
	t.Helper()
	o, err := parseCreateOptions(options)
	if err != nil {
		return nil, nil, err
	}
	opts, warns := o.limits.specOpts(sys)
	opts = append(mountOpts(o.limits.mounts()), opts...)
	ctx := namespaces.WithNamespace(context.Background(), "test")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "c"}, opts...)
	if err != nil {
		t.Fatalf("GenerateSpec(%q): %v", options, err)
	}
	return s, warns, nil
}

// Checks on a spec.

func caps(want ...string) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		c := s.Process.Capabilities
		for name, got := range map[string][]string{"bounding": c.Bounding, "effective": c.Effective, "permitted": c.Permitted} {
			if !reflect.DeepEqual(sorted(got), sorted(want)) {
				t.Errorf("%s capabilities = %v, want %v", name, got, want)
			}
		}
	}
}

func sorted(l []string) []string {
	l = slices.Clone(l)
	slices.Sort(l)
	if l == nil {
		l = []string{}
	}
	return l
}

func cpu(quota int64) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		c := s.Linux.Resources.CPU
		if quota == 0 {
			if c != nil && c.Quota != nil {
				t.Errorf("CPU quota = %d, want none", *c.Quota)
			}
			return
		}
		if c == nil || c.Quota == nil || c.Period == nil || *c.Quota != quota || *c.Period != 100000 {
			t.Errorf("CPU = %+v, want quota %d over period 100000", c, quota)
		}
	}
}

// memory checks the limit and the swap (memory plus swap; -1 for none set).
func memory(limit, swap int64) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		m := s.Linux.Resources.Memory
		if m == nil || m.Limit == nil || *m.Limit != limit {
			t.Fatalf("memory = %+v, want limit %d", m, limit)
		}
		switch {
		case swap < 0 && m.Swap != nil:
			t.Errorf("memory swap = %d, want none set", *m.Swap)
		case swap >= 0 && (m.Swap == nil || *m.Swap != swap):
			t.Errorf("memory swap = %v, want %d", m.Swap, swap)
		}
	}
}

func pids(want int64) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		p := s.Linux.Resources.Pids
		if p == nil || p.Limit == nil || *p.Limit != want {
			t.Errorf("pids = %+v, want limit %d", p, want)
		}
	}
}

// seccompDefault checks for containerd's default profile, and whether it
// lets mount(2) through, which it does only with CAP_SYS_ADMIN.
func seccompDefault(mountAllowed bool) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		p := s.Linux.Seccomp
		if p == nil || p.DefaultAction != specs.ActErrno || len(p.Syscalls) < 10 {
			t.Fatalf("seccomp = %+v, want the default profile", p)
		}
		if got := allows(p, "mount"); got != mountAllowed {
			t.Errorf("default profile allows mount = %v, want %v", got, mountAllowed)
		}
	}
}

func allows(p *specs.LinuxSeccomp, name string) bool {
	for _, sc := range p.Syscalls {
		if sc.Action == specs.ActAllow && slices.Contains(sc.Names, name) {
			return true
		}
	}
	return false
}

func seccompNone(t *testing.T, s *oci.Spec) {
	if s.Linux.Seccomp != nil {
		t.Errorf("seccomp = %+v, want none", s.Linux.Seccomp.DefaultAction)
	}
}

func noNewPrivs(want bool) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		if s.Process.NoNewPrivileges != want {
			t.Errorf("no_new_privs = %v, want %v", s.Process.NoNewPrivileges, want)
		}
	}
}

func mountAt(s *oci.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func tmpfs(dst string, opts ...string) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		m := mountAt(s, dst)
		if m == nil || m.Type != "tmpfs" || !reflect.DeepEqual(m.Options, opts) {
			t.Errorf("mount at %s = %+v, want tmpfs with %q", dst, m, opts)
		}
	}
}

// cgroupMount checks /sys/fs/cgroup's mode and the cgroup namespace.
func cgroupMount(mode string, ns bool) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		m := mountAt(s, "/sys/fs/cgroup")
		if m == nil || m.Type != "cgroup" || !slices.Contains(m.Options, mode) {
			t.Errorf("/sys/fs/cgroup = %+v, want a %s cgroup mount", m, mode)
		}
		has := slices.ContainsFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.CgroupNamespace })
		if has != ns {
			t.Errorf("cgroup namespace = %v, want %v", has, ns)
		}
	}
}

func readOnlyRoot(want bool) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		if s.Root.Readonly != want {
			t.Errorf("root read-only = %v, want %v", s.Root.Readonly, want)
		}
	}
}

func apparmor(want string) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		if s.Process.ApparmorProfile != want {
			t.Errorf("AppArmor profile = %q, want %q", s.Process.ApparmorProfile, want)
		}
	}
}

func systemPaths(confined bool) func(*testing.T, *oci.Spec) {
	return func(t *testing.T, s *oci.Spec) {
		if got := len(s.Linux.MaskedPaths) > 0 && len(s.Linux.ReadonlyPaths) > 0; got != confined {
			t.Errorf("masked %v, read-only %v; want confined = %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, confined)
		}
	}
}

func privileged(t *testing.T, s *oci.Spec) {
	caps(testSys.allCaps...)(t, s)
	seccompNone(t, s)
	systemPaths(false)(t, s)
	cgroupMount("rw", true)(t, s)
	apparmor("")(t, s)
	if sys := mountAt(s, "/sys"); sys == nil || !slices.Contains(sys.Options, "rw") || slices.Contains(sys.Options, "ro") {
		t.Errorf("/sys = %+v, want read-write", sys)
	}
	d := s.Linux.Resources.Devices
	if len(d) != 1 || !d[0].Allow || d[0].Access != "rwm" {
		t.Errorf("device cgroup = %+v, want every device allowed", d)
	}
}

func TestLimitsSpec(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile.json")
	writeFile(t, profile, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}`)
	dockerStyle := filepath.Join(dir, "docker.json")
	writeFile(t, dockerStyle, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}`)
	badJSON := filepath.Join(dir, "bad.json")
	writeFile(t, badJSON, `{"defaultAction": `)
	noSwap, noCgroup2, noAppArmor := testSys, testSys, testSys
	noSwap.swapLimit, noCgroup2.cgroup2, noAppArmor.apparmor = false, false, false

	const mb = 1 << 20
	tests := []struct {
		name    string
		doc     string // Docker's documentation of the behaviour
		in      string
		sys     *sysInfo // default testSys
		checks  []func(*testing.T, *oci.Spec)
		warn    string
		wantErr string
	}{
		// Docker's defaults.
		{name: "default", doc: docSeccomp, in: "", checks: []func(*testing.T, *oci.Spec){
			caps(defaultCaps...), seccompDefault(false), noNewPrivs(false), cgroupMount("ro", true), readOnlyRoot(false), systemPaths(true), cpu(0),
		}},
		{name: "cgroup v1 host: no cgroup namespace", doc: docRun + "#cgroupns", in: "", sys: &noCgroup2, checks: []func(*testing.T, *oci.Spec){cgroupMount("ro", false)}},

		// --cpus
		{name: "cpus", doc: docCPU, in: "--cpus 1.5", checks: []func(*testing.T, *oci.Spec){cpu(150000)}},
		{name: "cpus=", doc: docCPU, in: "--cpus=0.5", checks: []func(*testing.T, *oci.Spec){cpu(50000)}},
		{name: "cpus smallest", doc: docCPU, in: "--cpus 0.01", checks: []func(*testing.T, *oci.Spec){cpu(1000)}},
		{name: "cpus 0 is no limit", doc: docRun + "#options (--cpus)", in: "--cpus 0", checks: []func(*testing.T, *oci.Spec){cpu(0)}},
		{name: "cpus not a number", doc: docCPU, in: "--cpus abc", wantErr: `options: --cpus "abc": want a number of CPUs`},
		{name: "cpus below 0.01", doc: docCPU, in: "--cpus 0.001", wantErr: `--cpus "0.001": the range of CPUs is from 0.01 to`},
		{name: "cpus above the host's", doc: docCPU, in: "--cpus 100000", wantErr: "CPUs available"},
		{name: "cpus negative", doc: docCPU, in: "--cpus -1", wantErr: "the range of CPUs"},
		{name: "cpus exponent", doc: docCPU, in: "--cpus 1e999999999", wantErr: "want a number of CPUs"},
		{name: "cpus too precise", doc: docCPU, in: "--cpus 0.0100000001", wantErr: "at most 9 decimals"},

		// --memory, --memory-swap
		{name: "memory m", doc: docMemory, in: "--memory 512m", checks: []func(*testing.T, *oci.Spec){memory(512*mb, 1024*mb)}},
		{name: "memory -m g", doc: docMemory, in: "-m 1g", checks: []func(*testing.T, *oci.Spec){memory(1024*mb, 2048*mb)}},
		{name: "memory bytes", doc: docMemory, in: "--memory=67108864", checks: []func(*testing.T, *oci.Spec){memory(64*mb, 128*mb)}},
		{name: "memory fraction and unit suffix", doc: docMemory, in: "--memory 1.5GiB", checks: []func(*testing.T, *oci.Spec){memory(1536*mb, 3072*mb)}},
		{name: "memory too small", doc: docMemory + " (minimum 6m)", in: "--memory 4m", wantErr: "the minimum memory limit is 6MB"},
		{name: "memory bad unit", doc: docMemory, in: "--memory 64x", wantErr: `--memory "64x": want a size such as 512m`},
		{name: "memory negative", doc: docMemory, in: "--memory -1", wantErr: `--memory "-1": want a size`},
		{name: "swap equal to memory: no swap", doc: docSwap, in: "--memory 64m --memory-swap 64m", checks: []func(*testing.T, *oci.Spec){memory(64*mb, 64*mb)}},
		{name: "swap total", doc: docSwap, in: "--memory 64m --memory-swap=256m", checks: []func(*testing.T, *oci.Spec){memory(64*mb, 256*mb)}},
		{name: "swap unlimited", doc: docSwap, in: "--memory 64m --memory-swap -1", checks: []func(*testing.T, *oci.Spec){memory(64*mb, -1)}},
		{name: "swap 0 is unset", doc: docSwap, in: "--memory 64m --memory-swap 0", checks: []func(*testing.T, *oci.Spec){memory(64*mb, 128*mb)}},
		{name: "swap without memory", doc: docSwap, in: "--memory-swap 1g", wantErr: "--memory-swap needs --memory"},
		{name: "swap below memory", doc: docSwap, in: "--memory 128m --memory-swap 64m", wantErr: "is less than --memory"},
		{name: "host without swap limits: default dropped", doc: docSwap, in: "--memory 64m", sys: &noSwap, checks: []func(*testing.T, *oci.Spec){memory(64*mb, -1)}},
		{name: "host without swap limits: explicit swap warned", doc: docSwap, in: "--memory 64m --memory-swap 128m", sys: &noSwap, checks: []func(*testing.T, *oci.Spec){memory(64*mb, -1)}, warn: "does not limit swap"},

		// --pids-limit
		{name: "pids", doc: docPids, in: "--pids-limit 50", checks: []func(*testing.T, *oci.Spec){pids(50)}},
		{name: "pids -1 unlimited", doc: docPids, in: "--pids-limit=-1", checks: []func(*testing.T, *oci.Spec){pids(-1)}},
		{name: "pids 0 unlimited", doc: docPids, in: "--pids-limit 0", checks: []func(*testing.T, *oci.Spec){pids(-1)}},
		{name: "pids not a number", doc: docPids, in: "--pids-limit lots", wantErr: `--pids-limit "lots": want a whole number`},

		// --cap-add, --cap-drop
		{name: "cap-add", doc: docCaps, in: "--cap-add NET_ADMIN", checks: []func(*testing.T, *oci.Spec){caps(append(slices.Clone(defaultCaps), "CAP_NET_ADMIN")...)}},
		{name: "cap-add CAP_ prefix, lower case", doc: docCaps, in: "--cap-add cap_sys_ptrace", checks: []func(*testing.T, *oci.Spec){caps(append(slices.Clone(defaultCaps), "CAP_SYS_PTRACE")...)}},
		{name: "cap-add SYS_ADMIN opens the seccomp profile", doc: docSeccomp, in: "--cap-add SYS_ADMIN", checks: []func(*testing.T, *oci.Spec){seccompDefault(true)}},
		{name: "cap-drop", doc: docCaps, in: "--cap-drop NET_RAW --cap-drop=mknod", checks: []func(*testing.T, *oci.Spec){caps(without(defaultCaps, "CAP_NET_RAW", "CAP_MKNOD")...)}},
		{name: "cap-drop ALL", doc: docCaps, in: "--cap-drop ALL", checks: []func(*testing.T, *oci.Spec){caps()}},
		{name: "cap-drop ALL, cap-add one", doc: docCaps, in: "--cap-drop all --cap-add CHOWN", checks: []func(*testing.T, *oci.Spec){caps("CAP_CHOWN")}},
		{name: "cap-add ALL, cap-drop one", doc: docCaps, in: "--cap-add ALL --cap-drop SYS_ADMIN", checks: []func(*testing.T, *oci.Spec){caps(without(testSys.allCaps, "CAP_SYS_ADMIN")...)}},
		{name: "added and dropped: added wins", doc: docCaps, in: "--cap-drop CHOWN --cap-add CHOWN", checks: []func(*testing.T, *oci.Spec){caps(defaultCaps...)}},
		{name: "unknown capability", doc: docCaps, in: "--cap-add NET_FOO", wantErr: `--cap-add "NET_FOO": unknown capability "CAP_NET_FOO"`},

		// --privileged
		{name: "privileged", doc: docPriv, in: "--privileged", checks: []func(*testing.T, *oci.Spec){privileged}},
		{name: "privileged=true", doc: docPriv, in: "--privileged=true --cap-drop ALL", checks: []func(*testing.T, *oci.Spec){privileged}},
		{name: "privileged=false", doc: docPriv, in: "--privileged=false", checks: []func(*testing.T, *oci.Spec){caps(defaultCaps...), seccompDefault(false)}},
		{name: "privileged ignores a seccomp profile", doc: docSeccomp, in: "--privileged --security-opt seccomp=" + profile, checks: []func(*testing.T, *oci.Spec){seccompNone}},
		{name: "privileged bad value", doc: docPriv, in: "--privileged=maybe", wantErr: `--privileged "maybe": want true or false`},
		{name: "privileged takes no word", doc: docPriv, in: "--privileged true", wantErr: `unexpected argument "true"`},

		// --read-only, --tmpfs
		{name: "read-only", doc: docReadOnly, in: "--read-only", checks: []func(*testing.T, *oci.Spec){readOnlyRoot(true)}},
		{name: "tmpfs defaults", doc: docTmpfs, in: "--tmpfs /scratch", checks: []func(*testing.T, *oci.Spec){tmpfs("/scratch", "noexec", "nosuid", "nodev", "rprivate")}},
		{name: "tmpfs options override defaults", doc: docTmpfs, in: "--tmpfs /run:rw,exec,size=64m,mode=1777",
			checks: []func(*testing.T, *oci.Spec){tmpfs("/run", "nosuid", "nodev", "rprivate", "rw", "exec", "size=64m", "mode=1777")}},
		{name: "tmpfs relative", doc: docTmpfs, in: "--tmpfs scratch", wantErr: `--tmpfs "scratch": the destination "scratch" must be an absolute path`},
		{name: "tmpfs root", doc: docTmpfs, in: "--tmpfs /", wantErr: "cannot be /"},
		{name: "tmpfs twice", doc: docTmpfs, in: "--tmpfs /t --tmpfs=/t/", wantErr: "/t is mounted twice"},
		{name: "tmpfs bad size", doc: docTmpfs, in: "--tmpfs /t:size=big", wantErr: `invalid tmpfs option "size=big"`},
		{name: "tmpfs unknown option", doc: docTmpfs, in: "--tmpfs /t:bind", wantErr: `invalid tmpfs option "bind"`},

		// --security-opt
		{name: "seccomp unconfined", doc: docSeccomp, in: "--security-opt seccomp=unconfined", checks: []func(*testing.T, *oci.Spec){seccompNone}},
		{name: "seccomp unconfined, old separator", doc: docSecOpt, in: "--security-opt seccomp:unconfined", checks: []func(*testing.T, *oci.Spec){seccompNone}},
		{name: "seccomp builtin", doc: docSecOpt, in: "--security-opt=seccomp=builtin", checks: []func(*testing.T, *oci.Spec){seccompDefault(false)}},
		{name: "seccomp profile file", doc: docSeccomp, in: "--security-opt seccomp=" + profile, checks: []func(*testing.T, *oci.Spec){func(t *testing.T, s *oci.Spec) {
			want := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}}}
			if !reflect.DeepEqual(s.Linux.Seccomp, want) {
				t.Errorf("seccomp = %+v, want %+v", s.Linux.Seccomp, want)
			}
		}}},
		{name: "seccomp profile missing", doc: docSeccomp, in: "--security-opt seccomp=" + filepath.Join(dir, "none.json"), wantErr: "seccomp profile: open"},
		{name: "seccomp profile not a file", doc: docSeccomp, in: "--security-opt seccomp=/dev/zero", wantErr: "/dev/zero is not a regular file"},
		{name: "seccomp profile not JSON", doc: docSeccomp, in: "--security-opt seccomp=" + badJSON, wantErr: "seccomp profile " + badJSON},
		{name: "seccomp profile with docker conditions", doc: docSeccomp, in: "--security-opt seccomp=" + dockerStyle, wantErr: "the rule for mount has includes or excludes"},
		{name: "no-new-privileges", doc: docNoNew, in: "--security-opt no-new-privileges", checks: []func(*testing.T, *oci.Spec){noNewPrivs(true)}},
		{name: "no-new-privileges=true", doc: docNoNew, in: "--security-opt no-new-privileges=true", checks: []func(*testing.T, *oci.Spec){noNewPrivs(true)}},
		{name: "no-new-privileges:false", doc: docNoNew, in: "--security-opt no-new-privileges:false", checks: []func(*testing.T, *oci.Spec){noNewPrivs(false)}},
		{name: "no-new-privileges bad value", doc: docNoNew, in: "--security-opt no-new-privileges=maybe", wantErr: "no-new-privileges takes true or false"},
		{name: "apparmor", doc: docSecOpt, in: "--security-opt apparmor=vermont-test", checks: []func(*testing.T, *oci.Spec){apparmor("vermont-test")}},
		{name: "apparmor unconfined", doc: docSecOpt, in: "--security-opt apparmor=unconfined", checks: []func(*testing.T, *oci.Spec){apparmor("")}},
		{name: "apparmor on a host without it", doc: docSecOpt, in: "--security-opt apparmor=vermont-test", sys: &noAppArmor, checks: []func(*testing.T, *oci.Spec){apparmor("")}, warn: "AppArmor is not enabled"},
		{name: "label disable", doc: docSecOpt, in: "--security-opt label=disable", checks: []func(*testing.T, *oci.Spec){func(t *testing.T, s *oci.Spec) {
			if s.Process.SelinuxLabel != "" {
				t.Errorf("SELinux label = %q", s.Process.SelinuxLabel)
			}
		}}},
		{name: "label other than disable", doc: docSecOpt, in: "--security-opt label=type:svirt_t", wantErr: "only label=disable is supported"},
		{name: "systempaths unconfined", doc: docSecOpt, in: "--security-opt systempaths=unconfined", checks: []func(*testing.T, *oci.Spec){systemPaths(false), seccompDefault(false)}},
		{name: "security-opt unknown key", doc: docSecOpt, in: "--security-opt foo=bar", wantErr: `--security-opt "foo=bar": want seccomp=`},
		{name: "security-opt no key", doc: docSecOpt, in: "--security-opt nonsense", wantErr: `--security-opt "nonsense": want seccomp=`},
		{name: "security-opt no value", doc: docSecOpt, in: "--security-opt", wantErr: "--security-opt needs a value"},

		// Everything at once, with the options that were there before.
		{name: "combined", doc: docRun, in: `--user 1000 --cpus 1 --memory 1g --pids-limit 100 --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges -e A=1`,
			checks: []func(*testing.T, *oci.Spec){cpu(100000), memory(1024*mb, 2048*mb), pids(100), readOnlyRoot(true), tmpfs("/tmp", "noexec", "nosuid", "nodev", "rprivate"), caps(), noNewPrivs(true), seccompDefault(false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := testSys
			if tt.sys != nil {
				sys = *tt.sys
			}
			s, warns, err := specFor(t, tt.in, sys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "options: ") {
					t.Fatalf("%q: error = %v, want %q (%s)", tt.in, err, tt.wantErr, tt.doc)
				}
				return
			}
			if err != nil {
				t.Fatalf("%q: %v (%s)", tt.in, err, tt.doc)
			}
			for _, check := range tt.checks {
				check(t, s)
			}
			if got := strings.Join(warns, "; "); tt.warn == "" && got != "" || !strings.Contains(got, tt.warn) {
				t.Errorf("warnings = %q, want %q", got, tt.warn)
			}
			if t.Failed() {
				t.Logf("options %q; Docker: %s", tt.in, tt.doc)
			}
		})
	}
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
