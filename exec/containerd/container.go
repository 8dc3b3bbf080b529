package containerd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/internal/ctrd"
)

// keepAlive is the job container's entrypoint: it does nothing until the
// job ends, while steps run as execs. GitHub's runner uses the same.
var keepAlive = []string{"tail", "-f", "/dev/null"}

// ctr is one running container of a job.
type ctr struct {
	name    string // service name, "" for the job container
	id      string
	c       client.Container
	task    client.Task
	process specs.Process // template for execs: user, env, cwd, capabilities
	logPath string        // the container's own stdout and stderr
	ports   map[string]string
}

// container describes a container to create.
type container struct {
	role       string // job, service, action
	name       string // service name
	id         string
	image      string
	creds      *exec.Credentials // for pulling image; nil pulls anonymously
	args       []string          // replaces entrypoint and cmd when set
	argsFromIm []string          // args after the image's entrypoint when args is empty
	env        []string
	user       string
	workdir    string
	binds      []specs.Mount
	hostname   string
	log        string      // file for stdout/stderr, when stdio is nil
	stdio      cio.Creator // overrides log
	limits     limits      // resources and security; the zero value is Docker's default
}

// create creates and starts a container in the job's namespace, under its
// lease, with its labels.
func (j *job) create(ctx context.Context, d container) (*ctr, error) {
	img, err := j.image(ctx, d)
	if err != nil {
		return nil, err
	}
	labels := j.labelsFor(d.role, d.name)
	sopts := []oci.SpecOpts{oci.WithImageConfig(img)}
	switch {
	case len(d.args) > 0:
		sopts = append(sopts, oci.WithProcessArgs(d.args...))
	case len(d.argsFromIm) > 0:
		sopts = append(sopts, oci.WithImageConfigArgs(img, d.argsFromIm))
	}
	if len(d.env) > 0 {
		sopts = append(sopts, oci.WithEnv(d.env))
	}
	if d.workdir != "" {
		sopts = append(sopts, oci.WithProcessCwd(d.workdir))
	}
	if d.user != "" {
		sopts = append(sopts, oci.WithUser(d.user))
	}
	if d.hostname != "" {
		sopts = append(sopts, oci.WithHostname(d.hostname))
	}
	sopts = append(sopts, j.networkOpts()...)
	sopts = append(sopts, mountOpts(slices.Concat(d.limits.mounts(), j.commonMounts(), d.binds))...)
	lopts, warns := d.limits.specOpts(j.b.sys)
	sopts = append(sopts, lopts...)
	for _, w := range warns {
		j.b.log.WarnContext(ctx, w, "job", j.spec.Job, "container", describeName(d.name))
	}

	// Nothing is created under a cancellable context (see
	// ctrd.CreateContext): what exists is labelled, and Close finds it.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cctx, cancel := ctrd.CreateContext(j.ctx(ctx))
	defer cancel()
	cont, err := j.b.c.Containerd().NewContainer(cctx, d.id,
		client.WithImage(img),
		client.WithSnapshotter(j.b.c.Snapshotter()),
		client.WithNewSnapshot(d.id, img, ctrd.SnapshotLabels(labels)),
		client.WithRuntime(j.b.c.Runtime(), nil),
		client.WithContainerLabels(labels),
		client.WithNewSpec(sopts...))
	if err != nil {
		return nil, fmt.Errorf("create container for %s: %w", d.image, err)
	}
	spec, err := cont.Spec(cctx)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", d.id, err)
	}
	stdio := d.stdio
	if stdio == nil {
		stdio = cio.LogFile(d.log)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	task, err := cont.NewTask(cctx, stdio)
	if err != nil {
		return nil, fmt.Errorf("container for %s: create task: %w", d.image, err)
	}
	c := &ctr{name: d.name, id: d.id, c: cont, task: task, logPath: d.log}
	if spec.Process != nil {
		c.process = *spec.Process
	}
	return c, nil
}

// image finds d's image, pulling it when the backend may (WithPull) and it
// is missing, with d's credentials for its registry only.
func (j *job) image(ctx context.Context, d container) (client.Image, error) {
	var iopts []ctrd.ImageOption
	if j.b.cfg.pull {
		iopts = append(iopts, ctrd.WithPull())
		if d.creds != nil {
			if host, err := ctrd.RegistryHost(d.image); err == nil {
				iopts = append(iopts, ctrd.WithCredentials(host, d.creds.Username, d.creds.Password))
			}
		}
	}
	img, err := j.b.c.Image(ctx, d.image, iopts...)
	if errors.Is(err, ctrd.ErrUnauthorized) && d.role != "action" {
		key := "container.credentials"
		if d.role == "service" {
			key = "services." + d.name + ".credentials"
		}
		hint := "give the registry's username and password in " + key
		if d.creds != nil {
			hint = "check " + key
		}
		return nil, fmt.Errorf("%s: %w (%s)", describeName(d.name), err, hint)
	}
	return img, err
}

// networkOpts puts a container into the job's network: the job's own
// namespace, or the host's.
func (j *job) networkOpts() []oci.SpecOpts {
	if j.b.cfg.network == NetworkHost {
		return []oci.SpecOpts{oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostResolvconf}
	}
	return []oci.SpecOpts{oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: j.ns.path()})}
}

// commonMounts are the binds every container of the job gets: the job's
// directories at the same path, and the job's /etc/hosts.
func (j *job) commonMounts() []specs.Mount {
	ms := make([]specs.Mount, 0, len(j.spec.Mounts)+1)
	for _, m := range j.spec.Mounts {
		ms = append(ms, bind(m, m, false))
	}
	return append(ms, bind(j.hostsPath(), "/etc/hosts", false))
}

func bind(src, dst string, ro bool) specs.Mount {
	opts := []string{"rbind", "rw"}
	if ro {
		opts = []string{"rbind", "ro"}
	}
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts}
}

func (j *job) hostsPath() string { return filepath.Join(j.dir, "hosts") }

// writeHosts writes the job's /etc/hosts: localhost, and every service and
// the job container by name on 127.0.0.1, since they share one network
// namespace. With host networking the host's own entries come first.
func (j *job) writeHosts(names []string) error {
	var b strings.Builder
	if j.b.cfg.network == NetworkHost {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			b.Write(data)
			if len(data) > 0 && data[len(data)-1] != '\n' {
				b.WriteByte('\n')
			}
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	if len(names) > 0 {
		b.WriteString("127.0.0.1\t" + strings.Join(names, " ") + "\n")
	}
	if err := os.WriteFile(j.hostsPath(), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write hosts file: %w", err)
	}
	return nil
}

// volume is one parsed volumes: entry.
type volume struct {
	src, dst string // src "" for an anonymous volume; no '/' for a named one
	ro       bool
}

// parseVolume parses "SRC:DST[:ro|rw]" or "DST". SRC is a host path
// (absolute) or a volume name, which gets a directory of the job's own.
func parseVolume(s string) (volume, error) {
	parts := strings.Split(s, ":")
	var v volume
	switch len(parts) {
	case 1:
		v.dst = parts[0]
	case 2, 3:
		v.src, v.dst = parts[0], parts[1]
		if len(parts) == 3 {
			switch parts[2] {
			case "ro":
				v.ro = true
			case "rw", "":
			default:
				return v, fmt.Errorf("volumes: %q: mode %q: want ro or rw", s, parts[2])
			}
		}
	default:
		return v, fmt.Errorf("volumes: %q: want SOURCE:DESTINATION[:ro] or DESTINATION", s)
	}
	if !strings.HasPrefix(v.dst, "/") {
		return v, fmt.Errorf("volumes: %q: the destination %q must be an absolute path", s, v.dst)
	}
	if v.src != "" && !strings.HasPrefix(v.src, "/") && strings.ContainsAny(v.src, "/\\") {
		return v, fmt.Errorf("volumes: %q: the source %q must be an absolute host path or a volume name", s, v.src)
	}
	if v.src == "" && len(parts) > 1 {
		return v, fmt.Errorf("volumes: %q: empty source", s)
	}
	return v, nil
}

// volumeMounts turns volumes: into binds. Named and anonymous volumes are
// directories in the job's temporary directory, shared by name within the
// job and removed with it.
func (j *job) volumeMounts(vols []string) ([]specs.Mount, error) {
	var ms []specs.Mount
	for _, s := range vols {
		v, err := parseVolume(s)
		if err != nil {
			return nil, err
		}
		src := v.src
		if !strings.HasPrefix(src, "/") {
			name := src
			if name == "" {
				j.anon++
				name = fmt.Sprintf("anonymous-%d", j.anon)
			}
			src = filepath.Join(j.dir, "volumes", name)
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("volumes: %q: %w", s, err)
			}
		}
		ms = append(ms, bind(src, v.dst, v.ro))
	}
	return ms, nil
}

// sortedEnv turns an env map into sorted KEY=VALUE entries.
func sortedEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// mergeEnv returns base with over's entries replacing same-named ones.
func mergeEnv(base, over []string) []string {
	idx := make(map[string]int, len(base)+len(over))
	out := make([]string, 0, len(base)+len(over))
	for _, list := range [][]string{base, over} {
		for _, kv := range list {
			if kv == "" {
				continue
			}
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := idx[k]; ok {
				out[i] = kv
				continue
			}
			idx[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}
