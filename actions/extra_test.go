package actions

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vermont-ci/vermont/workflow"
)

// execResolver is package exec's consumer-side interface, copied here so
// that a change to either side breaks this build.
type execResolver interface {
	Action(ctx context.Context, uses, workspace string) (dir string, meta *workflow.Action, err error)
	Workflow(ctx context.Context, uses, workspace string) (*workflow.Workflow, error)
	Checkout(ctx context.Context, repo, ref, dest string) error
}

var _ execResolver = (*Resolver)(nil)

// TestTokenNotOnCommandLine runs git through a wrapper that records every
// command line and checks the token is in none of them.
func TestTokenNotOnCommandLine(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the recording git wrapper is a shell script")
	}
	t.Parallel()
	const token = "argv-s3cret"
	f := newFixture(t)
	f.srv.RequireAuth("acme/tool", "Basic "+(&Resolver{token: token}).basicAuth())
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv.log")
	wrapper := filepath.Join(dir, "git")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argv + "'\nexec git \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := f.resolver(t, t.TempDir(), WithToken(token), WithGit(wrapper))
	if _, _, err := r.Action(context.Background(), "acme/tool@v1", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.Checkout(context.Background(), "acme/tool", "v1", filepath.Join(t.TempDir(), "co")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "fetch") {
		t.Fatalf("the wrapper saw no fetch:\n%s", b)
	}
	if strings.Contains(string(b), token) || strings.Contains(string(b), r.basicAuth()) {
		t.Errorf("the token is on a git command line:\n%s", b)
	}
	// Nor is it stored in the cached repository's configuration.
	entry, _, _ := r.entry(context.Background(), workflow.Reference{Kind: workflow.RepoRef, Owner: "acme", Repo: "tool", Ref: "v1"}, "acme/tool@v1")
	cfg, err := os.ReadFile(filepath.Join(entry, ".git", "config"))
	if err != nil || strings.Contains(string(cfg), r.basicAuth()) {
		t.Errorf("token in the cached .git/config (%v):\n%s", err, cfg)
	}
}

func TestCancelledFetchLeavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := t.TempDir()
	r := f.resolver(t, cache)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := r.Action(ctx, "acme/hello@v1", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	for _, sub := range []string{"repos", "refs"} {
		if ents, _ := os.ReadDir(filepath.Join(cache, sub)); len(ents) != 0 {
			t.Errorf("%s/ holds %d entries after a cancelled fetch", sub, len(ents))
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d entries after a cancelled fetch", len(ents))
	}
	// The resolver still works afterwards.
	if _, _, err := r.Action(context.Background(), "acme/hello@v1", ""); err != nil {
		t.Fatal(err)
	}
}

// TestTwoResolversOneCache stands for two processes sharing a cache: both
// fetch, one rename wins, and both get the same complete entry.
func TestTwoResolversOneCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := t.TempDir()
	rs := []*Resolver{f.resolver(t, cache), f.resolver(t, cache), f.resolver(t, cache)}
	dirs := make([]string, len(rs))
	errs := make([]error, len(rs))
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Go(func() { dirs[i], _, errs[i] = r.Action(context.Background(), "acme/hello@v1", "") })
	}
	wg.Wait()
	for i := range rs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Errorf("resolver %d: dir %s, err %v (want %s)", i, dirs[i], errs[i], dirs[0])
		}
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "sub", "dir", "action.yml")); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(cache, "tmp")); len(ents) != 0 {
		t.Errorf("tmp/ holds %d leftovers", len(ents))
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{name: "empty cache", opt: WithCacheDir(""), want: "empty cache directory"},
		{name: "ftp url", opt: WithGitHubURL("ftp://example.com"), want: "http(s) URL"},
		{name: "url without host", opt: WithGitHubURL("https:///x"), want: "http(s) URL"},
		{name: "url with password", opt: WithGitHubURL("https://u:hunter2@example.com"), want: "must not hold credentials"},
		{name: "token with newline", opt: WithToken("a\nb"), want: "line break"},
		{name: "nil logger", opt: WithLogger(nil), want: "nil logger"},
		{name: "empty git", opt: WithGit(""), want: "empty git path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewResolver(tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("got %v, want an error containing %q (and no password)", err, tt.want)
			}
		})
	}
	r, err := NewResolver(WithGitHubURL("https://ghe.example.com/"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.repoURL("o", "r"); got != "https://ghe.example.com/o/r" {
		t.Errorf("repoURL = %s", got)
	}
	if base, err := os.UserCacheDir(); err == nil && r.CacheDir() != filepath.Join(base, "vermont", "actions") {
		t.Errorf("default cache dir = %s", r.CacheDir())
	}
}

// FuzzEscapeName checks that cache file names are safe and that distinct
// names never share a file.
func FuzzEscapeName(f *testing.F) {
	for _, s := range []string{"v1", "V1", "feature/x", ".git", "..", "a:b", "refs/tags/v1.2.3", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := escapeName(s)
		if s != "" && (e == "" || e == "." || e == "..") {
			t.Fatalf("escapeName(%q) = %q", s, e)
		}
		for _, c := range e {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.%ABCDEF", c)) {
				t.Fatalf("escapeName(%q) = %q holds %q", s, e, c)
			}
		}
		if got := unescapeName(t, e); got != s {
			t.Fatalf("escapeName(%q) = %q, which decodes to %q", s, e, got)
		}
	})
}

func unescapeName(t *testing.T, e string) string {
	var b []byte
	for i := 0; i < len(e); i++ {
		if e[i] != '%' {
			b = append(b, e[i])
			continue
		}
		var c byte
		for _, h := range e[i+1 : i+3] {
			c = c*16 + byte(strings.IndexRune("0123456789ABCDEF", h))
		}
		b = append(b, c)
		i += 2
	}
	return string(b)
}
