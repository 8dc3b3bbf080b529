package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// commitLogArgs are how pushEvent reads of a commit, NUL-separated:
// parents, author, committer, time, message, then the files changed
// against the first parent (all of them, as added, for a root commit).
// The cache is keyed by commit only: change these, and change
// commitCacheVersion, so old entries are not read in the new layout.
var commitLogArgs = []string{"log", "-1", "-z", "--format=%P%x00%an%x00%ae%x00%cn%x00%ce%x00%cI%x00%B%x00",
	"--name-status", "--no-renames", "--diff-merges=first-parent", "--root"}

// Bounds of the commit cache: an entry larger than maxCommitEntry (a root
// commit of a huge tree) is not kept; past maxCommitEntries files the
// older half goes.
const (
	maxCommitEntry   = 1 << 20
	maxCommitEntries = 512
)

// commitCacheVersion names the layout of commitLogArgs' output.
const commitCacheVersion = "commits-v1"

// commitCacheDir is where `vermont run` keeps commits' git log output:
// vermont/commits-v1 in the user cache dir, "" when there is none.
func commitCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "vermont", commitCacheVersion)
}

// commitLog returns the fields of `git log commitLogArgs sha` run in root,
// from cacheDir when an earlier run kept them: a commit never changes, and
// one git process is about a third of a small run's cost. ok is false when
// git fails.
func commitLog(root, sha, cacheDir string) (fields []string, ok bool) {
	cacheable := cacheDir != "" && isHexID(sha)
	if cacheable {
		if b, err := os.ReadFile(filepath.Join(cacheDir, sha)); err == nil {
			if f := strings.Split(string(b), "\x00"); len(f) >= 7 {
				return f, true
			}
		}
	}
	out, err := exec.Command("git", append(append([]string{"-C", root}, commitLogArgs...), sha)...).Output()
	if err != nil {
		return nil, false
	}
	f := strings.Split(string(out), "\x00")
	if len(f) < 7 {
		return nil, false
	}
	if cacheable && len(out) <= maxCommitEntry {
		storeCommit(cacheDir, sha, out)
	}
	return f, true
}

// storeCommit keeps a commit's log output, written whole or not at all.
// Failing to is no error: the next run asks git again.
func storeCommit(dir, sha string, out []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return
	}
	_, werr := tmp.Write(out)
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), filepath.Join(dir, sha)) != nil {
		os.Remove(tmp.Name())
		return
	}
	pruneCommits(dir)
}

// pruneCommits removes the older half of the entries once there are more
// than maxCommitEntries.
func pruneCommits(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) <= maxCommitEntries {
		return
	}
	type aged struct {
		name string
		mod  int64
	}
	var all []aged
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			all = append(all, aged{e.Name(), fi.ModTime().UnixNano()})
		}
	}
	slices.SortFunc(all, func(a, b aged) int { return int(min(max(a.mod-b.mod, -1), 1)) })
	for _, a := range all[:len(all)/2] {
		os.Remove(filepath.Join(dir, a.name))
	}
}

// isHexID reports whether s is a full SHA-1 or SHA-256 object id, so it
// is safe as a file name.
func isHexID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
