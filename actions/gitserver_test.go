package actions

import (
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// gitServer serves bare repositories under root over smart HTTP through
// the real `git http-backend`, and records what it was asked.
type gitServer struct {
	*httptest.Server
	root string

	mu      sync.Mutex
	fetches map[string]int // "owner/repo" → info/refs requests for upload-pack
	auth    []string       // Authorization headers seen
	private map[string]string
}

// newGitServer starts a server; it is closed at the end of the test.
func newGitServer(tb testing.TB) *gitServer {
	tb.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		tb.Fatalf("git is required for these tests: %v", err)
	}
	out, err := exec.Command(gitPath, "--exec-path").Output()
	if err != nil {
		tb.Fatalf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	s := &gitServer{root: tb.TempDir(), fetches: map[string]int{}, private: map[string]string{}}
	h := &cgi.Handler{
		Path: backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"},
		// The backend's complaints (missing repositories, refused refs) are
		// the point of some tests; the client's errors are checked instead.
		Stderr: io.Discard,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/"), "/", 3)
		repo := ""
		if len(parts) >= 2 {
			repo = parts[0] + "/" + parts[1]
		}
		s.mu.Lock()
		if a := req.Header.Get("Authorization"); a != "" {
			s.auth = append(s.auth, a)
		}
		if strings.HasSuffix(req.URL.Path, "/info/refs") {
			s.fetches[repo]++
		}
		want, private := s.private[repo]
		s.mu.Unlock()
		if private && req.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, req)
	}))
	tb.Cleanup(s.Close)
	return s
}

// fetchCount returns how many fetches of owner/repo the server saw.
func (s *gitServer) fetchCount(repo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[repo]
}

// requireAuth makes owner/repo answer 401 unless the request carries want.
func (s *gitServer) requireAuth(repo, want string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.private[repo] = want
}

// testRepo is a working repository whose pushes go to the server's bare
// repository owner/name.
type testRepo struct {
	tb   testing.TB
	work string
}

// newRepo creates the bare repository owner/name on the server and a work
// tree to commit from.
func (s *gitServer) newRepo(tb testing.TB, owner, name string) *testRepo {
	tb.Helper()
	bare := filepath.Join(s.root, owner, name)
	runGitT(tb, "", "init", "-q", "--bare", "-b", "main", bare)
	work := tb.TempDir()
	runGitT(tb, work, "init", "-q", "-b", "main")
	runGitT(tb, work, "remote", "add", "origin", bare)
	return &testRepo{tb: tb, work: work}
}

// commit writes files (path → content), commits them and returns the SHA.
func (r *testRepo) commit(msg string, files map[string]string) string {
	r.tb.Helper()
	for p, content := range files {
		f := filepath.Join(r.work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			r.tb.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			r.tb.Fatal(err)
		}
	}
	runGitT(r.tb, r.work, "add", "-A")
	runGitT(r.tb, r.work, "commit", "-q", "-m", msg)
	return strings.TrimSpace(runGitT(r.tb, r.work, "rev-parse", "HEAD"))
}

// git runs a git command in the work tree.
func (r *testRepo) git(args ...string) string {
	r.tb.Helper()
	return runGitT(r.tb, r.work, args...)
}

// push pushes every branch and tag.
func (r *testRepo) push() {
	r.tb.Helper()
	runGitT(r.tb, r.work, "push", "-q", "--all", "origin")
	runGitT(r.tb, r.work, "push", "-q", "--tags", "origin")
}

func runGitT(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
