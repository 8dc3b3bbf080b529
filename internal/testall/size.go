package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// maxTrackedSize is the largest file the repository may track. A 43 MB
// build of cmd/vermont was once committed by mistake; test data and source
// are far below this.
const maxTrackedSize = 1 << 20

// checkTrackedSizes fails when a file git tracks in dir is larger than
// limit bytes, naming each one with its size. Files deleted in the work
// tree but still in the index are ignored: they are on their way out.
func checkTrackedSizes(ctx context.Context, dir string, limit int64) error {
	c := exec.CommandContext(ctx, "git", "ls-files", "-z")
	c.Dir = dir
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var big []string
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" {
			continue
		}
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Size() > limit {
			big = append(big, fmt.Sprintf("%s (%d bytes)", name, fi.Size()))
		}
	}
	if len(big) > 0 {
		sort.Strings(big)
		return fmt.Errorf("tracked files over %d bytes: %s (git rm --cached them and add them to .gitignore)",
			limit, strings.Join(big, ", "))
	}
	return nil
}
