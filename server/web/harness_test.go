package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/server"
	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
	"github.com/vermont-ci/vermont/server/web"
)

// harness is `vermont serve` in this process, as cmd/vermont wires it:
// the server over a bare repository holding workflows, running jobs on
// the host, with the API and the web interface on one httptest server.
type harness struct {
	srv   *server.Server
	st    *store.Store
	box   *secrets.Box
	http  *httptest.Server
	token string // an admin token
	read  string // a read token
	repo  store.Repository
	head  string
}

// idle is a newHarness option: the server runs nothing, so that runs a
// test puts in the store stay as they are.
const idle = true

func newHarness(tb testing.TB, workflows map[string]string, idle ...bool) *harness {
	tb.Helper()
	if _, err := osexec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("git is needed")
		}
		tb.Skip("git is not installed")
	}
	dir := tb.TempDir()
	bare, work := filepath.Join(dir, "app.git"), filepath.Join(dir, "work")
	git := func(in string, args ...string) string {
		cmd := osexec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = in
		out, err := cmd.CombinedOutput()
		if err != nil {
			tb.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(dir, "init", "-q", "--bare", "-b", "main", bare)
	git(dir, "init", "-q", "-b", "main", work)
	if err := os.MkdirAll(filepath.Join(work, ".github", "workflows"), 0o755); err != nil {
		tb.Fatal(err)
	}
	for name, text := range workflows {
		if err := os.WriteFile(filepath.Join(work, ".github", "workflows", name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "workflows")
	git(work, "push", "-q", bare, "HEAD:refs/heads/main")
	h := &harness{head: git(work, "rev-parse", "HEAD")}

	ctx, cancel := context.WithCancel(context.Background())
	data := filepath.Join(dir, "data")
	st, err := store.Open(ctx, data, store.WithLogFlush(20*time.Millisecond, 100))
	if err != nil {
		tb.Fatal(err)
	}
	h.st = st
	key, err := secrets.LoadKey(data, "")
	if err != nil {
		tb.Fatal(err)
	}
	h.box, _ = secrets.New(key)
	mirrors, err := mirror.New(filepath.Join(data, "mirrors"))
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	repo := server.Repo{Owner: "octo", Name: "app", Remote: mirror.Remote{URL: bare}, DefaultBranch: "main"}
	h.srv, err = server.New(ctx, st, h.box, mirrors, []server.Repo{repo}, server.WithLogger(log),
		server.WithWebhookSecret([]byte("s")), server.WithPollInterval(50*time.Millisecond), server.WithWorkers(4))
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.srv.Recover(ctx); err != nil {
		tb.Fatal(err)
	}
	rest, err := api.New(st, h.srv.Control(), h.box, api.WithLogger(log))
	if err != nil {
		tb.Fatal(err)
	}
	ui, err := web.New(st, h.srv.Control(), h.srv, h.box, web.WithLogger(log), web.WithNext(h.srv.Handler()),
		web.WithPollInterval(50*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", rest)
	mux.Handle("/", ui)
	h.http = httptest.NewServer(mux)
	h.token = h.newToken(tb, "admin", "admin")
	h.read = h.newToken(tb, "reader", "read")
	h.repo, err = st.Repository(ctx, "octo", "app")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	if len(idle) > 0 && idle[0] {
		close(done)
	} else {
		go func() { defer close(done); _ = h.srv.Run(ctx) }()
	}
	tb.Cleanup(func() {
		cancel()
		<-done
		h.http.CloseClientConnections()
		h.http.Close()
		st.Close()
	})
	return h
}

func (h *harness) newToken(tb testing.TB, name, scope string) string {
	plain, hash, err := token.New()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := h.st.CreateToken(context.Background(), store.Token{Name: name, Hash: hash, Scope: scope}); err != nil {
		tb.Fatal(err)
	}
	return plain
}

// dispatch queues a workflow_dispatch run of file through the run
// control, as the API and the dispatch form do.
func (h *harness) dispatch(tb testing.TB, file string, inputs map[string]any) store.Run {
	tb.Helper()
	ctx := context.Background()
	wf, err := h.st.WorkflowByPath(ctx, h.repo.ID, ".github/workflows/"+file)
	if err != nil {
		tb.Fatalf("workflow %s: %v", file, err)
	}
	run, err := h.srv.Control().Dispatch(ctx, api.Dispatch{Repo: h.repo, Workflow: wf, Ref: "main", Inputs: inputs, Actor: "octocat"})
	if err != nil {
		tb.Fatalf("dispatch %s: %v", file, err)
	}
	return run
}

// wait polls f until it is true, failing after a minute.
func wait(tb testing.TB, what string, f func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !f() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRun waits until run id is completed and returns it.
func (h *harness) waitRun(tb testing.TB, id int64) store.Run {
	tb.Helper()
	var run store.Run
	wait(tb, "the run to complete", func() bool {
		var err error
		run, err = h.st.Run(context.Background(), id)
		return err == nil && run.Status == store.Completed
	})
	return run
}

// firstJob waits for run id's first job of its latest attempt.
func (h *harness) firstJob(tb testing.TB, id int64) store.Job {
	tb.Helper()
	var job store.Job
	wait(tb, "a job", func() bool {
		run, err := h.st.Run(context.Background(), id)
		if err != nil {
			return false
		}
		jobs, err := h.st.Jobs(context.Background(), id, run.Attempt)
		if err != nil || len(jobs) == 0 {
			return false
		}
		job = jobs[0]
		return true
	})
	return job
}

// client is a browser-like HTTP client: a cookie jar, no redirects
// followed unless asked.
type client struct {
	*http.Client
	base string
}

func (h *harness) client(tb testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, base: h.http.URL}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// get returns the status and body of path.
func (c *client) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	resp, err := c.Get(c.base + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post posts form to path and returns the status and body.
func (c *client) post(tb testing.TB, path string, form url.Values) (int, string) {
	tb.Helper()
	resp, err := c.PostForm(c.base+path, form)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrf is the CSRF token in the form of the page at path.
func (c *client) csrf(tb testing.TB, path string) string {
	tb.Helper()
	_, body := c.get(tb, path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// signIn signs c in with tok.
func (c *client) signIn(tb testing.TB, tok string) {
	tb.Helper()
	code, body := c.post(tb, "/login", url.Values{"csrf": {c.csrf(tb, "/login")}, "token": {tok}, "next": {"/"}})
	if code != http.StatusSeeOther {
		tb.Fatalf("sign-in: %d %s", code, body)
	}
}
