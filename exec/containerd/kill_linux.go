//go:build linux

package containerd

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// descendants returns the processes in pids (host pids of a container's
// processes) that descend from root, found through /proc. Runtimes whose
// processes the host cannot see (Kata) get none: their kill is left to the
// kill of root and to the container's removal.
func descendants(root uint32, pids []uint32) []uint32 {
	parent := make(map[uint32]uint32, len(pids))
	for _, p := range pids {
		if pp, ok := ppid(p); ok {
			parent[p] = pp
		}
	}
	var out []uint32
	for _, p := range pids {
		if p == root {
			continue
		}
		for a, n := parent[p], 0; a != 0 && n < 64; a, n = parent[a], n+1 {
			if a == root {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// ppid reads a process's parent from /proc/PID/stat.
func ppid(pid uint32) (uint32, bool) {
	data, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may hold spaces.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[1], 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// killPids sends sig to host processes; ones that are gone are fine.
func killPids(pids []uint32, sig syscall.Signal) {
	for _, pid := range pids {
		_ = syscall.Kill(int(pid), sig)
	}
}
