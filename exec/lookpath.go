package exec

import (
	"fmt"
	osexec "os/exec"
	"path/filepath"
	"strings"
)

// LookPath finds file in the PATH of env, which may differ from this
// process's (GITHUB_PATH adds to it). A name with a path separator is taken
// as given. Backends use it to start a step's program; it never falls back
// to Vermont's own PATH.
func LookPath(file string, env []string) (string, error) {
	if strings.ContainsAny(file, `/\`) {
		return file, nil
	}
	for _, dir := range filepath.SplitList(envValue(env, "PATH")) {
		if dir == "" {
			dir = "."
		}
		if p, err := osexec.LookPath(filepath.Join(dir, file)); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in PATH", file)
}
