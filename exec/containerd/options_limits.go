package containerd

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// limits are the resource and security options of a job or service
// container, read as `docker run` reads them
// (https://docs.docker.com/reference/cli/docker/container/run/):
//
//	--cpus N                  CFS quota of N CPUs over a 100 ms period
//	--memory, -m SIZE         memory limit: bytes, or 512k, 64m, 1g, 1.5g…
//	--memory-swap SIZE        memory plus swap; -1 is unlimited swap; unset
//	                          gives as much swap as memory (twice --memory)
//	--pids-limit N            most processes; 0 or -1 is unlimited
//	--cap-add, --cap-drop CAP NET_ADMIN, CAP_NET_ADMIN or ALL
//	--privileged[=BOOL]       every capability, no seccomp or AppArmor,
//	                          the host's devices, writable /sys and cgroups
//	--read-only[=BOOL]        read-only root filesystem (mounts stay writable)
//	--tmpfs DIR[:OPTS]        a tmpfs at DIR, noexec,nosuid,nodev by default
//	--security-opt OPT        seccomp=unconfined|builtin|PROFILE.json,
//	                          no-new-privileges[=BOOL], apparmor=PROFILE,
//	                          label=disable, systempaths=unconfined
//
// The zero value is Docker's default container: its seccomp profile, its
// capabilities, no no_new_privs, and /sys/fs/cgroup mounted read-only.
type limits struct {
	nanoCPUs   int64
	memory     int64  // bytes; 0 is no limit
	memorySwap int64  // memory plus swap in bytes; 0 unset, -1 unlimited
	pids       *int64 // -1 is unlimited
	capAdd     []string
	capDrop    []string
	privileged bool
	readOnly   bool
	tmpfs      []specs.Mount
	noNewPrivs bool
	seccomp    string              // "" (Docker's default profile) or "unconfined"
	profile    *specs.LinuxSeccomp // from seccomp=PROFILE.json
	apparmor   string              // a profile name; "" leaves the runtime's default
	sysPaths   bool                // systempaths=unconfined: nothing masked or read-only in /proc
}

// sysInfo is what the host's kernel offers containers, which some options
// depend on (Docker's pkg/sysinfo); probeSys fills it in.
type sysInfo struct {
	allCaps   []string // what --privileged and --cap-add ALL give
	cgroup2   bool     // the unified hierarchy: each container gets a cgroup namespace
	swapLimit bool     // the memory cgroup limits swap
	apparmor  bool
}

// Bounds Docker applies (daemon/daemon_unix.go).
const (
	minMemory = 6 << 20 // "Minimum memory limit allowed is 6MB"
	cfsPeriod = 100000  // µs: Docker's period for --cpus
	allCaps   = "ALL"
)

// boolOption reports whether a flag takes no value word (--privileged, not
// --privileged true: Docker would read "true" as the image).
func boolOption(name string) bool {
	return name == "--privileged" || name == "--read-only"
}

// limitOption reports whether name is one of limits' flags.
func limitOption(name string) bool {
	switch name {
	case "--cpus", "--memory", "-m", "--memory-swap", "--pids-limit", "--cap-add", "--cap-drop",
		"--privileged", "--read-only", "--tmpfs", "--security-opt":
		return true
	}
	return false
}

// set parses one flag's value into l.
func (l *limits) set(name, value string) error {
	var err error
	switch name {
	case "--cpus":
		l.nanoCPUs, err = parseCPUs(value)
	case "--memory", "-m":
		l.memory, err = parseBytes(value)
	case "--memory-swap":
		if value == "-1" {
			l.memorySwap = -1
			return nil
		}
		l.memorySwap, err = parseBytes(value)
	case "--pids-limit":
		var n int64
		if n, err = strconv.ParseInt(value, 10, 64); err != nil {
			err = fmt.Errorf("want a whole number (0 or -1 for unlimited)")
			break
		}
		if n <= 0 {
			n = -1 // Docker: "0 and negative values … unset this"
		}
		l.pids = &n
	case "--cap-add", "--cap-drop":
		var c string
		if c, err = normalizeCap(value); err != nil {
			break
		}
		if name == "--cap-add" {
			l.capAdd = append(l.capAdd, c)
		} else {
			l.capDrop = append(l.capDrop, c)
		}
	case "--privileged", "--read-only":
		var b bool
		if b, err = strconv.ParseBool(value); err != nil {
			err = fmt.Errorf("want true or false")
			break
		}
		if name == "--privileged" {
			l.privileged = b
		} else {
			l.readOnly = b
		}
	case "--tmpfs":
		err = l.addTmpfs(value)
	case "--security-opt":
		err = l.securityOpt(value)
	default:
		return unknownOption(name)
	}
	if err != nil {
		return fmt.Errorf("options: %s %q: %w", name, value, err)
	}
	return nil
}

// check reports combinations Docker refuses, once every flag is read.
func (l *limits) check() error {
	switch {
	case l.memory != 0 && l.memory < minMemory:
		return fmt.Errorf("options: --memory is %d bytes: the minimum memory limit is 6MB", l.memory)
	case l.memory == 0 && l.memorySwap > 0:
		return fmt.Errorf("options: --memory-swap needs --memory: it is the total of memory and swap")
	case l.memory > 0 && l.memorySwap > 0 && l.memorySwap < l.memory:
		return fmt.Errorf("options: --memory-swap (%d bytes) is less than --memory (%d bytes): it is the total of memory and swap", l.memorySwap, l.memory)
	}
	return nil
}

// cpusRE is a plain decimal: big.Rat alone would also take 1e999999999,
// and spend its time expanding it.
var cpusRE = regexp.MustCompile(`^-?\d{1,12}(?:\.\d{1,30})?$`)

// parseCPUs reads --cpus as Docker's opts.NanoCPUs does: an exact decimal
// in units of 10⁻⁹ CPU, from 0.01 to the number of CPUs; 0 is no limit.
func parseCPUs(v string) (int64, error) {
	r, ok := new(big.Rat).SetString(v)
	if !ok || !cpusRE.MatchString(v) {
		return 0, fmt.Errorf("want a number of CPUs such as 1.5")
	}
	r.Mul(r, big.NewRat(1e9, 1))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, fmt.Errorf("want a number of CPUs with at most 9 decimals")
	}
	n := r.Num().Int64()
	ncpu := int64(runtime.NumCPU())
	if n != 0 && (n < 1e7 || n > ncpu*1e9) {
		return 0, fmt.Errorf("the range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", ncpu, ncpu)
	}
	return n, nil
}

// sizeRE is docker/go-units' RAMInBytes syntax: binary units, an optional
// "i" and "b", case-insensitive.
var sizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)

// parseBytes reads a size such as 512m, 1g, 1.5GiB or 67108864.
func parseBytes(v string) (int64, error) {
	m := sizeRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("want a size such as 512m or 1g")
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("want a size such as 512m or 1g")
	}
	if m[2] != "" {
		f *= math.Pow(1024, float64(strings.IndexByte("kmgtp", strings.ToLower(m[2])[0])+1))
	}
	if f >= math.MaxInt64 {
		return 0, fmt.Errorf("size too large")
	}
	return int64(f), nil
}

// normalizeCap turns net_admin, NET_ADMIN or CAP_NET_ADMIN into
// CAP_NET_ADMIN, and checks it is a capability (Docker's
// NormalizeLegacyCapabilities).
func normalizeCap(v string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(v))
	if c == allCaps {
		return c, nil
	}
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	ok := capNameRE.MatchString(c)
	if known := knownCaps(); known != nil {
		ok = slices.Contains(known, c)
	}
	if !ok {
		return "", fmt.Errorf("unknown capability %q", c)
	}
	return c, nil
}

var capNameRE = regexp.MustCompile(`^CAP_[A-Z_]+$`)

// tweakCaps is Docker's TweakCapabilities: privileged gets every
// capability; --cap-add ALL every one but those dropped; --cap-drop ALL
// only those added; otherwise the defaults less those dropped, plus those
// added (so a capability both added and dropped is kept).
func tweakCaps(basics, add, drop, all []string, privileged bool) []string {
	switch {
	case privileged:
		return slices.Clone(all)
	case slices.Contains(add, allCaps):
		var out []string
		for _, c := range all {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
		return out
	case slices.Contains(drop, allCaps):
		return dedupe(add)
	}
	var out []string
	for _, c := range basics {
		if !slices.Contains(drop, c) {
			out = append(out, c)
		}
	}
	return dedupe(append(out, add...))
}

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// addTmpfs parses --tmpfs DIR[:OPTS] as Docker does: noexec,nosuid,nodev
// and private propagation unless OPTS says otherwise, the last of two
// conflicting options winning.
func (l *limits) addTmpfs(v string) error {
	dst, opts, _ := strings.Cut(v, ":")
	if !path.IsAbs(dst) {
		return fmt.Errorf("the destination %q must be an absolute path", dst)
	}
	dst = path.Clean(dst)
	if dst == "/" {
		return fmt.Errorf("the destination cannot be /")
	}
	for _, m := range l.tmpfs {
		if m.Destination == dst {
			return fmt.Errorf("%s is mounted twice", dst)
		}
	}
	all := []string{"noexec", "nosuid", "nodev", "rprivate"}
	if opts != "" {
		all = append(all, strings.Split(opts, ",")...)
	}
	merged, err := mergeTmpfsOptions(all)
	if err != nil {
		return err
	}
	l.tmpfs = append(l.tmpfs, specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: merged})
	return nil
}

// tmpfsFlags maps each mount flag to the group of flags it conflicts with.
var tmpfsFlags = map[string]string{
	"ro": "ro", "rw": "ro", "suid": "suid", "nosuid": "suid", "dev": "dev", "nodev": "dev",
	"exec": "exec", "noexec": "exec", "sync": "sync", "async": "sync", "dirsync": "dirsync",
	"mand": "mand", "nomand": "mand", "atime": "atime", "noatime": "atime",
	"diratime": "diratime", "nodiratime": "diratime", "relatime": "relatime", "norelatime": "relatime",
	"strictatime": "strictatime", "nostrictatime": "strictatime",
	"private": "prop", "rprivate": "prop", "shared": "prop", "rshared": "prop",
	"slave": "prop", "rslave": "prop", "unbindable": "prop", "runbindable": "prop",
}

// tmpfsData checks the KEY=VALUE options tmpfs(5) takes.
var tmpfsData = map[string]*regexp.Regexp{
	"size":      regexp.MustCompile(`^\d+[kKmMgG%]?$`),
	"nr_blocks": regexp.MustCompile(`^\d+[kKmMgG]?$`),
	"nr_inodes": regexp.MustCompile(`^\d+[kKmMgG]?$`),
	"mode":      regexp.MustCompile(`^[0-7]{1,4}$`),
	"uid":       regexp.MustCompile(`^\d+$`),
	"gid":       regexp.MustCompile(`^\d+$`),
	"mpol":      regexp.MustCompile(`^[a-z]+(?::[0-9,-]+)?$`),
}

// mergeTmpfsOptions keeps the last of conflicting options, in order, as
// moby/sys/mount's MergeTmpfsOptions does.
func mergeTmpfsOptions(opts []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i := len(opts) - 1; i >= 0; i-- {
		o := opts[i]
		if o == "defaults" || o == "" {
			continue
		}
		key := tmpfsFlags[o]
		if key == "" {
			k, val, ok := strings.Cut(o, "=")
			re := tmpfsData[k]
			if !ok || re == nil || !re.MatchString(val) {
				return nil, fmt.Errorf("invalid tmpfs option %q", o)
			}
			key = "=" + k
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, o)
		}
	}
	slices.Reverse(out)
	return out, nil
}

// securityOpt parses one --security-opt (Docker's parseSecurityOpt),
// with '=' or the older ':' between key and value.
func (l *limits) securityOpt(v string) error {
	if v == "no-new-privileges" {
		l.noNewPrivs = true
		return nil
	}
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		k, val, ok = strings.Cut(v, ":")
	}
	if !ok {
		return errSecurityOpt
	}
	switch k {
	case "no-new-privileges":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("no-new-privileges takes true or false")
		}
		l.noNewPrivs = b
	case "seccomp":
		switch val {
		case "unconfined":
			l.seccomp, l.profile = val, nil
		case "builtin", "":
			l.seccomp, l.profile = "", nil
		default:
			p, err := readSeccompProfile(val)
			if err != nil {
				return err
			}
			l.seccomp, l.profile = "", p
		}
	case "apparmor":
		if val == "" {
			return fmt.Errorf("apparmor needs a profile name")
		}
		l.apparmor = val
	case "label":
		if val != "disable" {
			return fmt.Errorf("only label=disable is supported: Vermont sets no SELinux labels")
		}
	case "systempaths":
		if val != "unconfined" {
			return fmt.Errorf("systempaths takes unconfined")
		}
		l.sysPaths = true
	default:
		return errSecurityOpt
	}
	return nil
}

var errSecurityOpt = fmt.Errorf("want seccomp=unconfined|builtin|PROFILE.json, no-new-privileges[=true|false], apparmor=PROFILE, label=disable or systempaths=unconfined")

// readSeccompProfile reads an OCI seccomp profile (the runtime spec's
// linux.seccomp object: defaultAction, architectures, syscalls), from a
// path relative to Vermont's working directory as the docker CLI reads it.
// Docker's own profile format adds rules that hold only with some
// capability or architecture (includes, excludes); such a rule is refused
// rather than applied unconditionally.
func readSeccompProfile(file string) (*specs.LinuxSeccomp, error) {
	data, err := readProfile(file)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	var p specs.LinuxSeccomp
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", file, err)
	}
	var cond struct {
		Syscalls []struct {
			Names    []string        `json:"names"`
			Includes json.RawMessage `json:"includes"`
			Excludes json.RawMessage `json:"excludes"`
		} `json:"syscalls"`
	}
	_ = json.Unmarshal(data, &cond) // it decoded above
	for _, s := range cond.Syscalls {
		if nonEmptyJSON(s.Includes) || nonEmptyJSON(s.Excludes) {
			return nil, fmt.Errorf("seccomp profile %s: the rule for %s has includes or excludes, which Vermont does not evaluate: write it without them", file, strings.Join(s.Names, ", "))
		}
	}
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("seccomp profile %s: no defaultAction", file)
	}
	return &p, nil
}

// maxProfile bounds a seccomp profile; Docker's default is about 20 KB.
const maxProfile = 1 << 20

// readProfile reads a regular file of at most maxProfile bytes, so that a
// profile of /dev/zero or a FIFO cannot hang the job.
func readProfile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", file)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxProfile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxProfile {
		return nil, fmt.Errorf("%s is larger than 1 MiB", file)
	}
	return data, nil
}

func nonEmptyJSON(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s != "" && s != "null" && s != "{}"
}

// mounts are l's own: Docker's /sys/fs/cgroup (the container's cgroups,
// read-only unless privileged) and the --tmpfs mounts.
func (l *limits) mounts() []specs.Mount {
	mode := "ro"
	if l.privileged {
		mode = "rw"
	}
	cg := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", mode}}
	return append([]specs.Mount{cg}, l.tmpfs...)
}

// mountOpts adds a container's mounts to the default ones. Each replaces a
// default at the same place (--tmpfs /run replaces containerd's /run), and
// they are mounted parents first, as Docker sorts them, so that a --tmpfs
// /tmp does not hide the job's directories under /tmp.
func mountOpts(mounts []specs.Mount) []oci.SpecOpts {
	mounts = slices.Clone(mounts)
	slices.SortStableFunc(mounts, func(a, b specs.Mount) int {
		return cmp.Compare(strings.Count(path.Clean(a.Destination), "/"), strings.Count(path.Clean(b.Destination), "/"))
	})
	dsts := make([]string, len(mounts))
	for i, m := range mounts {
		dsts[i] = m.Destination
	}
	return []oci.SpecOpts{oci.WithoutMounts(dsts...), oci.WithMounts(mounts)}
}

// specOpts turns l into OCI spec options other than mounts, applied after
// the image's and the job's. Warnings name what the host cannot do and was
// left out, as Docker leaves it out.
func (l *limits) specOpts(sys sysInfo) ([]oci.SpecOpts, []string) {
	var (
		opts  []oci.SpecOpts
		warns []string
	)
	if sys.cgroup2 {
		opts = append(opts, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.CgroupNamespace}))
	}
	if l.privileged || len(l.capAdd) > 0 || len(l.capDrop) > 0 {
		opts = append(opts, withTweakedCaps(l.capAdd, l.capDrop, sys.allCaps, l.privileged))
	}
	if l.privileged {
		opts = append(opts, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil),
			oci.WithWriteableSysfs, oci.WithHostDevices, oci.WithAllDevicesAllowed,
			oci.WithApparmorProfile(""), oci.WithSelinuxLabel(""))
	}
	if l.sysPaths {
		opts = append(opts, oci.WithMaskedPaths(nil), oci.WithReadonlyPaths(nil))
	}
	// The default profile depends on the capabilities, so it comes after.
	switch {
	case l.privileged || l.seccomp == "unconfined":
		opts = append(opts, oci.WithSeccompUnconfined)
	case l.profile != nil:
		opts = append(opts, withSeccomp(l.profile))
	default:
		opts = append(opts, seccomp.WithDefaultProfile())
	}
	// containerd's default spec sets no_new_privs; Docker's does not, and
	// sudo and other setuid programs in job images need it unset.
	if l.noNewPrivs {
		opts = append(opts, oci.WithNoNewPrivileges)
	} else {
		opts = append(opts, oci.WithNewPrivileges)
	}
	if l.apparmor != "" && l.apparmor != "unconfined" && !l.privileged {
		if sys.apparmor {
			opts = append(opts, oci.WithApparmorProfile(l.apparmor))
		} else {
			warns = append(warns, "AppArmor is not enabled on this host: apparmor="+l.apparmor+" ignored, as Docker ignores it")
		}
	}
	if l.readOnly {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	ropts, rwarns := l.resourceOpts(sys)
	return append(opts, ropts...), append(warns, rwarns...)
}

// resourceOpts sets the cgroup limits: CPU, memory and swap, processes.
func (l *limits) resourceOpts(sys sysInfo) (opts []oci.SpecOpts, warns []string) {
	if l.nanoCPUs > 0 {
		opts = append(opts, oci.WithCPUCFS(l.nanoCPUs*cfsPeriod/1e9, cfsPeriod))
	}
	if l.memory > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(l.memory)))
		swap := l.memorySwap
		if swap == 0 {
			swap = 2 * l.memory // Docker: as much swap as memory
			if l.memory > math.MaxInt64/2 {
				swap = -1
			}
		}
		switch {
		case swap < 0: // unlimited: Docker sets nothing
		case sys.swapLimit:
			opts = append(opts, oci.WithMemorySwap(swap))
		case l.memorySwap > 0:
			warns = append(warns, "this host's kernel does not limit swap: --memory-swap ignored, memory limited without swap, as Docker does")
		}
	}
	if l.pids != nil {
		opts = append(opts, oci.WithPidsLimit(*l.pids))
	}
	return opts, warns
}

// withTweakedCaps sets the capabilities tweakCaps makes of the spec's
// current ones.
func withTweakedCaps(add, drop, all []string, privileged bool) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		var basics []string
		if s.Process != nil && s.Process.Capabilities != nil {
			basics = s.Process.Capabilities.Bounding
		}
		return oci.WithCapabilities(tweakCaps(basics, add, drop, all, privileged))(ctx, c, ctr, s)
	}
}

// withSeccomp sets a profile read by readSeccompProfile.
func withSeccomp(p *specs.LinuxSeccomp) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		cp := *p
		s.Linux.Seccomp = &cp
		return nil
	}
}
