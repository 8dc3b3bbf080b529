package main

import (
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"testing"

	vexec "github.com/vermont-ci/vermont/exec"
)

// TestPushEventCommitCache: a second run of the same commit builds the
// same push payload from the cache, with no git to ask; the cache stays
// bounded.
func TestPushEventCommitCache(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"commit", "-q", "--allow-empty", "-m", "first\n\nbody"}} {
		cmd := osexec.Command("git", append([]string{"-C", root, "-c", "user.name=T", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	repo, ok := vexec.ReadRepo(root)
	if !ok || !isHexID(repo.SHA) {
		t.Fatalf("ReadRepo(%s) = %+v, %v", root, repo, ok)
	}
	repo.Repository = "octo/hello" // else named after the directory
	cache := filepath.Join(t.TempDir(), "commits")
	first := pushEvent(repo, "me", cache)
	hc, _ := first["head_commit"].(map[string]any)
	if hc == nil || hc["message"] != "first\n\nbody" || first["created"] != true {
		t.Fatalf("payload from git: %v", first)
	}
	if _, err := os.Stat(filepath.Join(cache, repo.SHA)); err != nil {
		t.Fatalf("the commit was not kept: %v", err)
	}
	// Where git finds no repository, only the cache can answer.
	gone := repo
	gone.Root = t.TempDir()
	if again := pushEvent(gone, "me", cache); !reflect.DeepEqual(again, first) {
		t.Errorf("payload from the cache:\n%v\nwant\n%v", again, first)
	}
	if none := pushEvent(gone, "me", ""); none["head_commit"] != nil {
		t.Errorf("without a cache, git in a non-repository still gave a head commit: %v", none)
	}

	for i := range maxCommitEntries + 1 {
		storeCommit(cache, fmt.Sprintf("%040x", i), []byte("x"))
	}
	if entries, _ := os.ReadDir(cache); len(entries) > maxCommitEntries || len(entries) < maxCommitEntries/2 {
		t.Errorf("%d cache entries after pruning, want %d–%d", len(entries), maxCommitEntries/2, maxCommitEntries)
	}
	for _, bad := range []string{"", "../x", "HEAD", repo.SHA[:39], repo.SHA + "0"} {
		if isHexID(bad) {
			t.Errorf("isHexID(%q) = true", bad)
		}
	}
}
