//go:build !windows

package main

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPushPathsWithoutEvent: without -e, a push run's changed files come
// from the local repository (issue 14, item 8), so on.push.paths and
// paths-ignore decide as GitHub would for the push of HEAD: against HEAD's
// parent, or against the upstream branch when one is set
// (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onpushpull_requestpull_request_targetpathspaths-ignore).
func TestPushPathsWithoutEvent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	git := func(args ...string) {
		t.Helper()
		cmd := osexec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(msg string) { t.Helper(); git("add", "-A"); git("commit", "-q", "-m", msg) }
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	write(".github/workflows/docs.yml", "on:\n  push:\n    paths: ['docs/**']\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo docs\n")
	write(".github/workflows/code.yml", "on:\n  push:\n    paths-ignore: ['docs/**', '.github/**']\njobs:\n  code:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo code\n")
	write("main.go", "package main\n")
	write("docs/a.md", "a\n")
	commit("root: everything is new")
	wfs := filepath.Join(repo, ".github", "workflows")
	jobs := func() string {
		t.Helper()
		code, out, errs := vermontRun(t, "-C", repo, "-W", wfs, "-l")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var ids []string
		for _, l := range strings.Split(out, "\n") {
			if l == "  docs" || l == "  code" {
				ids = append(ids, strings.TrimSpace(l))
			}
		}
		return strings.Join(ids, ",")
	}
	check := func(what, want string) {
		t.Helper()
		if got := jobs(); got != want {
			t.Errorf("%s: jobs %q, want %q", what, got, want)
		}
	}
	check("root commit", "code,docs")

	write("main.go", "package main // changed\n")
	commit("code only")
	check("a code-only commit", "code")

	write("docs/a.md", "b\n")
	commit("docs only")
	check("a docs-only commit", "docs")

	git("rm", "-q", "docs/a.md")
	commit("remove the doc")
	check("a removed doc", "docs")

	// With an upstream, the push is everything since it: a docs commit
	// then a code commit run both.
	bare := filepath.Join(dir, "bare.git")
	if out, err := osexec.Command("git", "init", "-q", "--bare", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init --bare: %v: %s", err, out)
	}
	git("remote", "add", "origin", bare)
	git("push", "-q", "-u", "origin", "main")
	write("docs/b.md", "new\n")
	commit("docs")
	write("main.go", "package main // again\n")
	commit("code")
	check("two commits ahead of upstream", "code,docs")
}
