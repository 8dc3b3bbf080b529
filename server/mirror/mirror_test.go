package mirror

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// source is a bare repository on disk with a working clone to commit in.
type source struct {
	t          *testing.T
	bare, work string
}

func newSource(t *testing.T) *source {
	t.Helper()
	dir := t.TempDir()
	s := &source{t: t, bare: filepath.Join(dir, "src.git"), work: filepath.Join(dir, "work")}
	s.git(dir, "init", "-q", "--bare", "-b", "main", s.bare)
	s.git(dir, "init", "-q", "-b", "main", s.work)
	return s
}

func (s *source) git(dir string, args ...string) string {
	s.t.Helper()
	cmd := osexec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("git %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (s *source) commit(files map[string]string, msg string) string {
	s.t.Helper()
	for name, content := range files {
		p := filepath.Join(s.work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			s.t.Fatal(err)
		}
		if content == "" {
			os.Remove(p)
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	s.git(s.work, "add", "-A")
	s.git(s.work, "commit", "-q", "--allow-empty", "-m", msg)
	return s.git(s.work, "rev-parse", "HEAD")
}

func (s *source) push(refspec string) {
	s.t.Helper()
	s.git(s.work, "push", "-q", "-f", s.bare, refspec)
}

func TestFetchAndRead(t *testing.T) {
	ctx := context.Background()
	src := newSource(t)
	root := src.commit(map[string]string{
		".github/workflows/ci.yml":       "on: push\n",
		".github/workflows/rel.yaml":     "on: release\n",
		".github/workflows/notes.md":     "not a workflow\n",
		".github/workflows/sub/deep.yml": "on: push\n",
		"main.go":                        "package main\n",
	}, "root")
	src.push("HEAD:refs/heads/main")
	src.push("HEAD:refs/heads/gone")
	src.git(src.work, "tag", "v1")
	src.push("refs/tags/v1")
	pr := src.commit(map[string]string{"pr.txt": "pr\n"}, "a pull request")
	src.push("HEAD:refs/pull/1/head")

	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := Remote{URL: src.bare}
	if err := m.Fetch(ctx, "octo/app", r, root); err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[string]string{"main": root, "refs/heads/main": root, "v1": root, "refs/pull/1/head": pr, root: root} {
		if got, err := m.Resolve(ctx, "octo/app", rev); err != nil || got != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", rev, got, err, want)
		}
	}
	if b, err := m.DefaultBranch(ctx, "octo/app"); err != nil || b != "main" {
		t.Errorf("DefaultBranch = %q, %v", b, err)
	}
	wfs, err := m.Workflows(ctx, "octo/app", root)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range wfs {
		paths = append(paths, f.Path)
	}
	if want := []string{".github/workflows/ci.yml", ".github/workflows/rel.yaml"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("Workflows = %v, want %v (top level, yml and yaml only)", paths, want)
	}
	if string(wfs[0].Data) != "on: push\n" {
		t.Errorf("ci.yml = %q", wfs[0].Data)
	}
	if _, err := m.ReadFile(ctx, "octo/app", root, "../../etc/passwd"); err == nil {
		t.Error("read outside the tree")
	}

	// Incremental: a new commit on main, a deleted branch pruned.
	src.git(src.work, "checkout", "-q", "main")
	src.git(src.work, "reset", "-q", "--hard", root)
	second := src.commit(map[string]string{"main.go": "package main // 2\n", "new.txt": "n\n"}, "second")
	src.push("HEAD:refs/heads/main")
	src.git(src.bare, "update-ref", "-d", "refs/heads/gone")
	if err := m.Fetch(ctx, "octo/app", r, second); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Resolve(ctx, "octo/app", "main"); got != second {
		t.Errorf("main after fetch = %s, want %s", got, second)
	}
	if _, err := m.Resolve(ctx, "octo/app", "refs/heads/gone"); err == nil {
		t.Error("a deleted branch was not pruned")
	}
	if err := m.Fetch(ctx, "octo/app", r, strings.Repeat("ab", 20)); err == nil || !strings.Contains(err.Error(), strings.Repeat("ab", 20)) {
		t.Errorf("fetch of a missing commit: %v", err)
	}

	// Changed files: a push, a new branch (vs the first parent), a root
	// commit (everything), a merge (vs its first parent).
	for _, tc := range []struct {
		before, after string
		want          []string
	}{
		{root, second, []string{"main.go", "new.txt"}},
		{strings.Repeat("0", 40), second, []string{"main.go", "new.txt"}},
		{"", root, []string{".github/workflows/ci.yml", ".github/workflows/notes.md", ".github/workflows/rel.yaml", ".github/workflows/sub/deep.yml", "main.go"}},
	} {
		got, err := m.Changed(ctx, "octo/app", tc.before, tc.after)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Changed(%.7s, %.7s) = %v, %v; want %v", tc.before, tc.after, got, err, tc.want)
		}
	}
	src.git(src.work, "merge", "-q", "--no-ff", "-m", "merge", pr)
	merge := src.git(src.work, "rev-parse", "HEAD")
	src.push("HEAD:refs/heads/main")
	if err := m.Fetch(ctx, "octo/app", r, merge); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Changed(ctx, "octo/app", "", merge); !reflect.DeepEqual(got, []string{"pr.txt"}) {
		t.Errorf("Changed of a merge = %v, want [pr.txt]", got)
	}

	// Checkout: a working tree with its own .git at the commit.
	dest := filepath.Join(t.TempDir(), "ws")
	if err := m.Checkout(ctx, "octo/app", second, dest); err != nil {
		t.Fatal(err)
	}
	if head := src.git(dest, "rev-parse", "HEAD"); head != second {
		t.Errorf("checkout HEAD = %s, want %s", head, second)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "new.txt")); string(b) != "n\n" {
		t.Errorf("new.txt = %q", b)
	}
	for _, bad := range []string{"../x", "/abs/x", "x", "a/b/c", "a/.."} {
		if err := m.Fetch(ctx, bad, r); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// gitHTTP serves the source's bare repository over smart HTTP (git
// http-backend) behind Basic auth, counting the fetches it answers.
func gitHTTP(t *testing.T, src *source, user, pass string) (url string, fetches *atomic.Int64) {
	t.Helper()
	execPath, err := osexec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	h := &cgi.Handler{Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(src.bare), "GIT_HTTP_EXPORT_ALL=1"}}
	fetches = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/info/refs") {
			fetches.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/" + filepath.Base(src.bare), fetches
}

// TestFetchShared: concurrent fetches of one repository share one git
// fetch: those that waited reuse the one that finished meanwhile.
func TestFetchShared(t *testing.T) {
	src := newSource(t)
	sha := src.commit(map[string]string{"a": "a\n"}, "a")
	src.push("HEAD:refs/heads/main")
	url, fetches := gitHTTP(t, src, "ci", "tok")
	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := Remote{URL: url, Username: "ci", Password: "tok"}
	if err := m.Fetch(context.Background(), "octo/app", r); err != nil {
		t.Fatal(err)
	}
	one := fetches.Load()
	sha = src.commit(map[string]string{"b": "b\n"}, "b")
	src.push("HEAD:refs/heads/main")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.Fetch(context.Background(), "octo/app", r) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := m.Resolve(context.Background(), "octo/app", "main"); got != sha {
		t.Fatalf("main = %s after the fetches, want %s", got, sha)
	}
	// The first caller fetches; those that waited for it reuse its fetch.
	if n := fetches.Load() - one; n > 2*one {
		t.Errorf("8 concurrent fetches made %d ref requests; one fetch makes %d", n, one)
	}
}

// TestFetchHTTPCredentials: a token fetches over smart HTTP; a wrong one
// fails, and no error holds it.
func TestFetchHTTPCredentials(t *testing.T) {
	src := newSource(t)
	sha := src.commit(map[string]string{"a": "a\n"}, "a")
	src.push("HEAD:refs/heads/main")
	url, _ := gitHTTP(t, src, "ci", "good-token-123")
	m, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Fetch(ctx, "octo/app", Remote{URL: url, Username: "ci", Password: "good-token-123"}, sha); err != nil {
		t.Fatalf("fetch with the token: %v", err)
	}
	err = m.Fetch(ctx, "octo/other", Remote{URL: url, Username: "ci", Password: "bad-token-456"})
	if err == nil {
		t.Fatal("fetch with a bad token worked")
	}
	if strings.Contains(err.Error(), "bad-token-456") || strings.Contains(err.Error(), basicAuth(Remote{Username: "ci", Password: "bad-token-456"})) {
		t.Fatalf("the error shows the token: %v", err)
	}
}
