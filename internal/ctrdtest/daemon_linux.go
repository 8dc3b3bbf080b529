package ctrdtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// startProcess starts containerd with cfg, logging to logf. The daemon is
// killed if this process dies (Pdeathsig), so a crashed test run does not
// leave it running.
func startProcess(cfg string, logf *os.File) (*os.Process, error) {
	cmd := exec.Command("containerd", "--config", cfg)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd.Process, nil
}

// terminateProcess asks the daemon to stop.
func terminateProcess(p *os.Process) error {
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// killShims kills the shim processes started for the daemon at address,
// found by the -address argument on their command line. Only this daemon's
// shims carry it: its socket path is unique.
func killShims(address string) error {
	return killMatching(func(args []string) bool { return isShimFor(args, address) })
}

// runcRoot is where the runc shim keeps runc's state when the client sets
// no runtime options; it is shared with any system containerd.
const runcRoot = "/run/containerd/runc"

// killContainers force-deletes, through runc, every container whose bundle
// is in stateDir. runc checks the container's identity before it signals,
// so a reused PID is never hit. Used when the daemon is gone: killing a shim
// does not kill its container.
func killContainers(stateDir string) error {
	bundles, _ := filepath.Glob(filepath.Join(stateDir, "io.containerd.runtime.v2.task", "*", "*"))
	var errs []error
	for _, b := range bundles {
		ns, id := filepath.Base(filepath.Dir(b)), filepath.Base(b)
		out, err := exec.Command("runc", "--root", filepath.Join(runcRoot, ns), "delete", "--force", id).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "does not exist") {
			errs = append(errs, fmt.Errorf("runc delete --force %s/%s: %w: %s", ns, id, err, bytes.TrimSpace(out)))
		}
	}
	return errors.Join(errs...)
}

// killDaemon kills a containerd started with config (a daemon whose owner
// died without its Pdeathsig firing).
func killDaemon(config string) error {
	return killMatching(func(args []string) bool {
		return len(args) == 3 && filepath.Base(args[0]) == "containerd" && args[1] == "--config" && args[2] == config
	})
}

// killMatching sends SIGKILL to every process whose command line matches.
func killMatching(match func(args []string) bool) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("find shims: %w", err)
	}
	var errs []error
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
		if !match(args) {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill shim %d: %w", pid, err))
		}
	}
	return errors.Join(errs...)
}

// isShimFor reports whether args is a containerd shim's command line
// naming address.
func isShimFor(args []string, address string) bool {
	if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
		return false
	}
	for i, a := range args {
		if (a == "-address" || a == "--address") && i+1 < len(args) && args[i+1] == address {
			return true
		}
	}
	return false
}

// unmountUnder detaches every mount below dir, deepest first, so that
// removing dir cannot reach into a container's root filesystem.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// processAlive reports whether a process with this PID exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
