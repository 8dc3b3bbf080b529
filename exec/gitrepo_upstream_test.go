package exec

import "testing"

// TestUpstreamRef: the upstream ref read from .git/config without a git
// process, as `git rev-parse @{upstream}` names it.
func TestUpstreamRef(t *testing.T) {
	config := []byte(`[core]
	bare = false
[remote "origin"]
	url = git@github.com:o/r.git
[branch "main"]
	remote = origin
	merge = refs/heads/main
[branch "topic"]
	remote = .
	merge = refs/heads/main
[branch "half"]
	remote = origin
[branch "tagged"]
	remote = origin
	merge = refs/tags/v1
`)
	for branch, want := range map[string]string{
		"main":   "refs/remotes/origin/main",
		"topic":  "refs/heads/main",
		"half":   "",
		"tagged": "",
		"none":   "",
	} {
		if got := upstreamRef(config, branch); got != want {
			t.Errorf("upstreamRef(%q) = %q, want %q", branch, got, want)
		}
	}
	if got := originRepository(config); got != "o/r" {
		t.Errorf("originRepository = %q, want o/r", got)
	}
}
