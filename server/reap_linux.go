package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// reapOrphans kills the processes a killed server left running: the steps
// of its runs, and whatever they started. A process of a step has the
// job's RUNNER_TEMP, under workDir, in its environment (children inherit
// it) or its working directory there. It returns how many it killed.
func reapOrphans(workDir string) int {
	prefix := filepath.Clean(workDir) + string(filepath.Separator)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	self := os.Getpid()
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if !ownedBy(pid, prefix) {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}

func ownedBy(pid int, prefix string) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	if cwd, err := os.Readlink(dir + "/cwd"); err == nil && strings.HasPrefix(cwd+"/", prefix) {
		return true
	}
	env, err := os.ReadFile(dir + "/environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("RUNNER_TEMP=")); ok && strings.HasPrefix(string(v), prefix) {
			return true
		}
	}
	return false
}
