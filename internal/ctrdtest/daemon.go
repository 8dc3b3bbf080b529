package ctrdtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/internal/ctrd"
)

// options holds Start's settings.
type options struct {
	snapshotter string
	startWait   time.Duration
}

// Option configures Start.
type Option func(*options)

// WithSnapshotter forces a snapshotter; by default overlayfs is used when the
// daemon can load it, native otherwise.
func WithSnapshotter(name string) Option {
	return func(o *options) { o.snapshotter = name }
}

// WithStartTimeout bounds how long Start waits for the daemon to answer
// (default 30s).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) { o.startWait = d }
}

// Daemon is a running private containerd.
type Daemon struct {
	dir         string // everything lives here: root, state, socket, config, log
	address     string
	snapshotter string
	proc        *os.Process
	exited      chan struct{} // closed when the daemon process has been reaped
	stopOnce    sync.Once
	stopErr     error
}

// Address returns the daemon's socket path.
func (d *Daemon) Address() string { return d.address }

// Dir returns the temporary directory holding the daemon's root, state,
// socket, config and log.
func (d *Daemon) Dir() string { return d.dir }

// LogPath returns the daemon's log file.
func (d *Daemon) LogPath() string { return filepath.Join(d.dir, "containerd.log") }

// Snapshotter returns the snapshotter tests should use.
func (d *Daemon) Snapshotter() string { return d.snapshotter }

// ClientOptions returns the ctrd options that reach this daemon, followed
// by opts (a namespace, a runtime).
func (d *Daemon) ClientOptions(opts ...ctrd.Option) []ctrd.Option {
	return append([]ctrd.Option{ctrd.WithAddress(d.address), ctrd.WithSnapshotter(d.snapshotter)}, opts...)
}

// Client connects to the daemon and closes the connection when tb ends.
func (d *Daemon) Client(tb testing.TB, opts ...ctrd.Option) *ctrd.Client {
	tb.Helper()
	c, err := ctrd.Connect(context.Background(), d.ClientOptions(opts...)...)
	if err != nil {
		tb.Fatalf("connect to private containerd: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// Start starts a private containerd and waits until it answers. The error
// wraps ErrMissing when the host lacks a prerequisite (see Missing).
func Start(opts ...Option) (*Daemon, error) {
	o := options{startWait: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if missing := Missing(); len(missing) > 0 {
		return nil, missingError(missing)
	}
	sweepStale()
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("private containerd: %w", err)
	}
	owner := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("private containerd: %w", err)
	}
	d := &Daemon{dir: dir, address: filepath.Join(dir, "containerd.sock"), exited: make(chan struct{})}
	if err := d.start(o); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// Names in the temporary directory: every daemon's directory starts with
// dirPrefix and holds ownerFile, the PID of the test process that owns it.
const (
	dirPrefix = "vermont-ctrd-"
	ownerFile = "owner.pid"
)

// sweepStale cleans up after test processes that died without stopping
// their daemon (killed, or a panic past the cleanup): the daemon itself died
// with its owner (Pdeathsig), but shims, container processes, mounts and
// the directory remain. A directory whose owner is alive is left alone.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || processAlive(pid) {
			continue
		}
		stale := &Daemon{dir: dir, address: filepath.Join(dir, "containerd.sock")}
		stale.stop()
	}
}

// config is the daemon's configuration (containerd 1.6+ "version = 2"). CRI
// and snapshotters that cannot work here are disabled to start fast, and
// every path points into the temporary directory.
func (d *Daemon) config() string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q
`, filepath.Join(d.dir, "root"), filepath.Join(d.dir, "state"), d.address, d.address+".ttrpc", filepath.Join(d.dir, "opt"))
}

// start launches the process and waits for it to answer.
func (d *Daemon) start(o options) error {
	cfg := filepath.Join(d.dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(d.config()), 0o600); err != nil {
		return fmt.Errorf("private containerd: %w", err)
	}
	logf, err := os.Create(d.LogPath())
	if err != nil {
		return fmt.Errorf("private containerd: %w", err)
	}
	defer logf.Close()
	proc, err := startProcess(cfg, logf)
	if err != nil {
		close(d.exited)
		return fmt.Errorf("private containerd: start: %w", err)
	}
	d.proc = proc
	go func() {
		proc.Wait()
		close(d.exited)
	}()
	deadline := time.Now().Add(o.startWait)
	for {
		select {
		case <-d.exited:
			return fmt.Errorf("private containerd exited during start-up; log %s:\n%s", d.LogPath(), d.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := ctrd.Connect(ctx, ctrd.WithAddress(d.address), ctrd.WithTimeout(time.Second))
		if err == nil {
			d.snapshotter = o.snapshotter
			if d.snapshotter == "" {
				d.snapshotter = pickSnapshotter(ctx, c)
			}
			cancel()
			c.Close()
			return nil
		}
		cancel()
		if time.Now().After(deadline) {
			return fmt.Errorf("private containerd did not answer within %s: %w; log %s:\n%s", o.startWait, err, d.LogPath(), d.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pickSnapshotter prefers overlayfs, falling back to native when the
// daemon could not load it (overlay on overlay, old kernels).
func pickSnapshotter(ctx context.Context, c *ctrd.Client) string {
	resp, err := c.Containerd().IntrospectionService().Plugins(ctx, `type=="io.containerd.snapshotter.v1",id=="overlayfs"`)
	if err != nil || len(resp.Plugins) == 0 || resp.Plugins[0].InitErr != nil {
		return "native"
	}
	return "overlayfs"
}

// logTail returns the end of the daemon's log for error messages.
func (d *Daemon) logTail() string {
	b, _ := os.ReadFile(d.LogPath())
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// Stop removes every container the daemon runs, stops it, kills shims it
// left, unmounts what is mounted under its directory and removes the
// directory. It is safe to call more than once.
func (d *Daemon) Stop() error {
	d.stopOnce.Do(func() { d.stopErr = d.stop() })
	return d.stopErr
}

func (d *Daemon) stop() error {
	var errs []error
	if d.proc != nil {
		errs = append(errs, d.removeAllContainers())
		errs = append(errs, d.terminate())
	} else {
		errs = append(errs, killDaemon(filepath.Join(d.dir, "config.toml")))
	}
	errs = append(errs, killContainers(filepath.Join(d.dir, "state")))
	errs = append(errs, killShims(d.address))
	errs = append(errs, unmountUnder(d.dir))
	if err := os.RemoveAll(d.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.dir, err))
	}
	return errors.Join(errs...)
}

// removeAllContainers deletes every container in every namespace, so that
// no shim or container process outlives the daemon.
func (d *Daemon) removeAllContainers() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case <-d.exited:
		return nil
	default:
	}
	c, err := ctrd.Connect(ctx, ctrd.WithAddress(d.address))
	if err != nil {
		return nil // not answering: the shims are killed by killShims
	}
	defer c.Close()
	nss, err := c.Containerd().NamespaceService().List(ctx)
	if err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	var errs []error
	for _, ns := range nss {
		nc, err := ctrd.Connect(ctx, ctrd.WithAddress(d.address), ctrd.WithNamespace(ns), ctrd.WithSnapshotter(d.snapshotter))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conts, err := nc.Containerd().Containers(nc.Context(ctx))
		if err != nil {
			errs = append(errs, err)
		}
		for _, cont := range conts {
			errs = append(errs, nc.DeleteContainer(ctx, cont.ID(), 0))
		}
		nc.Close()
	}
	return errors.Join(errs...)
}

// terminate sends SIGTERM, then SIGKILL after 10s, and waits for the exit.
func (d *Daemon) terminate() error {
	select {
	case <-d.exited:
		return nil
	default:
	}
	if err := terminateProcess(d.proc); err != nil {
		return fmt.Errorf("stop private containerd: %w", err)
	}
	select {
	case <-d.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	d.proc.Kill()
	<-d.exited
	return nil
}
