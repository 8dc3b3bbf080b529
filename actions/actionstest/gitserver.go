// Package actionstest serves real git repositories over smart HTTP, through
// the `git http-backend` program, for tests of code that fetches actions,
// reusable workflows and checkouts (as net/http/httptest does for HTTP).
// It needs git on PATH.
package actionstest

import (
	"io"
	"io/fs"
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

// Server serves the bare repositories under Root (Root/owner/repo) at
// URL/owner/repo, and records what it was asked. Close stops it.
type Server struct {
	*httptest.Server
	Root string

	mu      sync.Mutex
	fetches map[string]int    // "owner/repo" → info/refs requests
	auth    []string          // Authorization headers seen
	private map[string]string // "owner/repo" → the Authorization header it requires
}

// NewServer starts a server that is closed when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		tb.Fatalf("git is required: %v", err)
	}
	out, err := exec.Command(gitPath, "--exec-path").Output()
	if err != nil {
		tb.Fatalf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	s := &Server{Root: tb.TempDir(), fetches: map[string]int{}, private: map[string]string{}}
	h := &cgi.Handler{
		Path: backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + s.Root, "GIT_HTTP_EXPORT_ALL=1"},
		// The backend's complaints (missing repositories, refused refs) are
		// the point of some tests; the client's errors are checked instead.
		Stderr: io.Discard,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !s.admit(req) {
			w.Header().Set("WWW-Authenticate", `Basic realm="actionstest"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, req)
	}))
	tb.Cleanup(s.Close)
	return s
}

// admit records a request and reports whether it may be served.
func (s *Server) admit(req *http.Request) bool {
	parts := strings.SplitN(strings.TrimPrefix(req.URL.Path, "/"), "/", 3)
	repo := ""
	if len(parts) >= 2 {
		repo = parts[0] + "/" + parts[1]
	}
	a := req.Header.Get("Authorization")
	s.mu.Lock()
	defer s.mu.Unlock()
	if a != "" {
		s.auth = append(s.auth, a)
	}
	if strings.HasSuffix(req.URL.Path, "/info/refs") {
		s.fetches[repo]++
	}
	want, private := s.private[repo]
	return !private || a == want
}

// Fetches returns how many fetches (and clones) of owner/repo the server
// has seen: each starts with one info/refs request.
func (s *Server) Fetches(repo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[repo]
}

// Authorizations returns the Authorization headers the server has seen.
func (s *Server) Authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// RequireAuth makes owner/repo answer 401 unless a request carries the
// Authorization header want.
func (s *Server) RequireAuth(repo, want string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.private[repo] = want
}

// Repo is a work tree whose pushes go to the server's bare repository.
type Repo struct {
	tb   testing.TB
	Work string // the work tree
}

// NewRepo creates the bare repository owner/name on the server, with
// default branch main, and a work tree to commit from.
func (s *Server) NewRepo(tb testing.TB, owner, name string) *Repo {
	tb.Helper()
	bare := filepath.Join(s.Root, owner, name)
	RunGit(tb, "", "init", "-q", "--bare", "-b", "main", bare)
	work := tb.TempDir()
	RunGit(tb, work, "init", "-q", "-b", "main")
	RunGit(tb, work, "remote", "add", "origin", bare)
	return &Repo{tb: tb, Work: work}
}

// Commit writes files (slash path → content), commits everything and
// returns the new commit's SHA.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.tb.Helper()
	for p, content := range files {
		f := filepath.Join(r.Work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			r.tb.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			r.tb.Fatal(err)
		}
	}
	RunGit(r.tb, r.Work, "add", "-A")
	RunGit(r.tb, r.Work, "commit", "-q", "--allow-empty", "-m", msg)
	return strings.TrimSpace(RunGit(r.tb, r.Work, "rev-parse", "HEAD"))
}

// Git runs a git command in the work tree and returns its output.
func (r *Repo) Git(args ...string) string {
	r.tb.Helper()
	return RunGit(r.tb, r.Work, args...)
}

// Push pushes every branch and tag to the server.
func (r *Repo) Push() {
	r.tb.Helper()
	RunGit(r.tb, r.Work, "push", "-q", "--all", "origin")
	RunGit(r.tb, r.Work, "push", "-q", "--tags", "origin")
}

// RunGit runs git in dir with a fixed identity and without the user's or
// system's configuration, failing the test on error; it returns the output.
func RunGit(tb testing.TB, dir string, args ...string) string {
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

// ReadTree reads every file below dir as slash path → content, ready for
// Repo.Commit.
func ReadTree(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}
