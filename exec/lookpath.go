package exec

import (
	osexec "os/exec"
	"path/filepath"
	"strings"
)

// lookPathEnv finds file in the PATH of env.
func lookPathEnv(file string, env []string) (string, error) {
	if strings.ContainsAny(file, `/\`) {
		return file, nil
	}
	pathVar := ""
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, "PATH") {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if p, err := osexec.LookPath(filepath.Join(dir, file)); err == nil {
			return p, nil
		}
	}
	return osexec.LookPath(file)
}
