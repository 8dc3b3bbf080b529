package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vermont-ci/vermont/server/status"
)

const (
	testToken = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
	testSHA   = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
)

// created is GitHub's documented 201 response to "Create a commit status".
const created = `{
  "url": "https://api.github.com/repos/octocat/Hello-World/statuses/6dcb09b5b57875f334f61aebed695e2e4193db5e",
  "avatar_url": "https://github.com/images/error/hubot_happy.gif",
  "id": 1,
  "node_id": "MDY6U3RhdHVzMQ==",
  "state": "success",
  "description": "Build has completed successfully",
  "target_url": "https://ci.example.com/1000/output",
  "context": "continuous-integration/jenkins",
  "created_at": "2012-07-20T01:19:13Z",
  "updated_at": "2012-07-20T01:19:13Z",
  "creator": {"login": "octocat", "id": 1, "type": "User", "site_admin": false}
}`

// validationFailed is GitHub's 422 for a commit that has too many statuses
// in one context.
const validationFailed = `{
  "message": "Validation Failed",
  "errors": [{"resource": "Status", "code": "custom", "field": "context",
    "message": "This SHA and context has reached the maximum number of statuses."}],
  "documentation_url": "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
  "status": "422"
}`

// reply is one scripted answer of the fake forge.
type reply struct {
	code   int
	header map[string]string
	body   string
}

// request is what the fake forge received.
type request struct {
	method, path, rawPath string
	header                http.Header
	body                  map[string]any
}

// fakeForge is GitHub or Gitea at the HTTP boundary: it records every
// request and answers from a script, repeating the last reply.
type fakeForge struct {
	srv *httptest.Server

	mu      sync.Mutex
	replies []reply
	got     []request
}

func newFakeForge(t *testing.T, replies ...reply) *fakeForge {
	t.Helper()
	f := &fakeForge{replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeForge) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		body = map[string]any{"<undecodable>": string(raw)}
	}
	f.mu.Lock()
	f.got = append(f.got, request{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(), header: r.Header.Clone(), body: body})
	rep := reply{code: http.StatusCreated, body: created}
	if len(f.replies) > 0 {
		rep = f.replies[0]
		if len(f.replies) > 1 {
			f.replies = f.replies[1:]
		}
	}
	f.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(rep.code)
	_, _ = io.WriteString(w, rep.body)
}

// onlyPost checks that exactly one request came, a POST to path, and returns
// it.
func (f *fakeForge) onlyPost(t *testing.T, path string) request {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != path {
		t.Errorf("request = %s %s, want POST %s", r.method, r.path, path)
	}
	return r
}

func (f *fakeForge) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.got...)
}

func newGitHub(t *testing.T, url string, opts ...status.Option) *status.GitHub {
	t.Helper()
	opts = append([]status.Option{status.WithBackoff(time.Millisecond)}, opts...)
	g, err := status.NewGitHub(url, testToken, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func sample() status.Status {
	return status.Status{
		Owner: "octocat", Repo: "Hello-World", SHA: testSHA,
		State:       status.Success,
		TargetURL:   "https://vermont.example/octocat/Hello-World/actions/runs/42",
		Description: "CI succeeded in 1m 12s",
		Context:     "vermont / CI (push)",
	}
}

func TestGitHubReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, root, wantPath string
	}{
		{name: "github.com", root: "", wantPath: "/repos/octocat/Hello-World/statuses/" + testSHA},
		{name: "enterprise server", root: "/api/v3/", wantPath: "/api/v3/repos/octocat/Hello-World/statuses/" + testSHA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeForge(t)
			g := newGitHub(t, f.srv.URL+tc.root)
			if err := g.Report(t.Context(), sample()); err != nil {
				t.Fatal(err)
			}
			r := f.onlyPost(t, tc.wantPath)
			for k, want := range map[string]string{
				"Accept":               "application/vnd.github+json",
				"Authorization":        "Bearer " + testToken,
				"X-Github-Api-Version": "2022-11-28",
				"Content-Type":         "application/json",
				"User-Agent":           "vermont",
			} {
				if got := r.header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			want := map[string]any{
				"state":       "success",
				"target_url":  "https://vermont.example/octocat/Hello-World/actions/runs/42",
				"description": "CI succeeded in 1m 12s",
				"context":     "vermont / CI (push)",
			}
			if !equalJSON(r.body, want) {
				t.Errorf("body = %v, want %v", r.body, want)
			}
		})
	}
}

func TestGiteaReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, root, wantPath string
	}{
		{name: "root", root: "/", wantPath: "/api/v1/repos/octocat/Hello-World/statuses/" + testSHA},
		{name: "sub-path", root: "/git", wantPath: "/git/api/v1/repos/octocat/Hello-World/statuses/" + testSHA},
		{name: "api root given", root: "/api/v1", wantPath: "/api/v1/repos/octocat/Hello-World/statuses/" + testSHA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Gitea answers 201 with its CommitStatus.
			f := newFakeForge(t, reply{code: http.StatusCreated, body: `{"id":1,"status":"pending","target_url":"https://vermont.example/runs/42","description":"queued","url":"","context":"vermont / CI (push)","creator":null,"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}`})
			g, err := status.NewGitea(f.srv.URL+tc.root, testToken)
			if err != nil {
				t.Fatal(err)
			}
			s := sample()
			s.State, s.Description, s.TargetURL = status.Pending, "queued", "https://vermont.example/runs/42"
			if err := g.Report(t.Context(), s); err != nil {
				t.Fatal(err)
			}
			r := f.onlyPost(t, tc.wantPath)
			if got := r.header.Get("Authorization"); got != "token "+testToken {
				t.Errorf("Authorization = %q, want token scheme", got)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			want := map[string]any{"state": "pending", "target_url": "https://vermont.example/runs/42", "description": "queued", "context": "vermont / CI (push)"}
			if !equalJSON(r.body, want) {
				t.Errorf("body = %v, want %v", r.body, want)
			}
		})
	}
}

func TestReportOmitsEmptyFields(t *testing.T) {
	t.Parallel()
	f := newFakeForge(t)
	g := newGitHub(t, f.srv.URL)
	s := status.Status{Owner: "octocat", Repo: "Hello-World", SHA: testSHA, State: status.Failure}
	if err := g.Report(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	if got, want := f.requests()[0].body, map[string]any{"state": "failure"}; !equalJSON(got, want) {
		t.Errorf("body = %v, want %v", got, want)
	}
}

func TestReportEscapesPath(t *testing.T) {
	t.Parallel()
	f := newFakeForge(t)
	g := newGitHub(t, f.srv.URL)
	s := sample()
	s.Owner, s.Repo = "octo cat", "hello?world#1"
	if err := g.Report(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if want := "/repos/octo cat/hello?world#1/statuses/" + testSHA; r.path != want {
		t.Errorf("decoded path = %q, want %q", r.path, want)
	}
	if want := "/repos/octo%20cat/hello%3Fworld%231/statuses/" + testSHA; r.rawPath != want {
		t.Errorf("escaped path = %q, want %q", r.rawPath, want)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		first reply
	}{
		{name: "502", first: reply{code: http.StatusBadGateway, header: map[string]string{"Content-Type": "text/html"}, body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}},
		{name: "503", first: reply{code: http.StatusServiceUnavailable, body: `{"message":"Service Unavailable"}`}},
		{name: "429 retry-after", first: reply{code: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "0"}, body: `{"message":"You have exceeded a secondary rate limit."}`}},
		{name: "403 secondary rate limit", first: reply{code: http.StatusForbidden, header: map[string]string{"Retry-After": "0"}, body: `{"message":"You have exceeded a secondary rate limit."}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeForge(t, tc.first, reply{code: http.StatusCreated, body: created})
			g := newGitHub(t, f.srv.URL)
			if err := g.Report(t.Context(), sample()); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("got %d requests, want 2", len(reqs))
			}
			if !equalJSON(reqs[0].body, reqs[1].body) {
				t.Errorf("retry body %v differs from first %v", reqs[1].body, reqs[0].body)
			}
		})
	}
}

func TestFinalErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		reply    reply
		opts     []status.Option
		wantReqs int
		wantCode int
		wantMsg  string
	}{
		{
			name:     "422 validation failed",
			reply:    reply{code: http.StatusUnprocessableEntity, body: validationFailed},
			wantReqs: 1, wantCode: 422,
			wantMsg: "HTTP 422 Unprocessable Entity: Validation Failed (This SHA and context has reached the maximum number of statuses.)",
		},
		{
			name:     "404",
			reply:    reply{code: http.StatusNotFound, body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest/commits/statuses#create-a-commit-status","status":"404"}`},
			wantReqs: 1, wantCode: 404, wantMsg: "HTTP 404 Not Found: Not Found",
		},
		{
			name:     "403 without rate-limit headers",
			reply:    reply{code: http.StatusForbidden, body: `{"message":"Resource not accessible by integration"}`},
			wantReqs: 1, wantCode: 403, wantMsg: "Resource not accessible by integration",
		},
		{
			// A reset an hour away is beyond MaxBackoff: no point waiting.
			name: "rate limit resetting later",
			reply: reply{code: http.StatusForbidden, header: map[string]string{
				"X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset":     strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10),
			}, body: `{"message":"API rate limit exceeded for installation ID 1."}`},
			wantReqs: 1, wantCode: 403, wantMsg: "API rate limit exceeded",
		},
		{
			name:     "500 until retries run out",
			reply:    reply{code: http.StatusInternalServerError, body: `{"message":"Server Error"}`},
			opts:     []status.Option{status.WithRetries(2)},
			wantReqs: 3, wantCode: 500, wantMsg: "HTTP 500 Internal Server Error: Server Error (after 3 attempts)",
		},
		{
			name:     "no retries",
			reply:    reply{code: http.StatusBadGateway, header: map[string]string{"Content-Type": "text/html"}, body: "<html>bad gateway</html>"},
			opts:     []status.Option{status.WithRetries(0)},
			wantReqs: 1, wantCode: 502, wantMsg: "octocat/Hello-World@" + testSHA + ": HTTP 502 Bad Gateway",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeForge(t, tc.reply)
			g := newGitHub(t, f.srv.URL, tc.opts...)
			err := g.Report(t.Context(), sample())
			var pe *status.PostError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *PostError", err)
			}
			if got := len(f.requests()); got != tc.wantReqs {
				t.Errorf("%d requests, want %d", got, tc.wantReqs)
			}
			if pe.StatusCode != tc.wantCode || pe.Owner != "octocat" || pe.Repo != "Hello-World" || pe.SHA != testSHA || pe.Attempts != tc.wantReqs {
				t.Errorf("PostError = %+v", pe)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantMsg) || !strings.Contains(msg, "octocat/Hello-World@"+testSHA) {
				t.Errorf("error %q does not name the repo, sha and %q", msg, tc.wantMsg)
			}
			if strings.Contains(msg, "<html") {
				t.Errorf("error %q quotes an HTML page", msg)
			}
		})
	}
}

func TestGiteaErrorMessage(t *testing.T) {
	t.Parallel()
	f := newFakeForge(t, reply{code: http.StatusNotFound, body: `{"message":"repository does not exist [id: 0, uid: 0, owner_name: octocat, name: nope]","url":"https://gitea.example/api/swagger"}`})
	g, err := status.NewGitea(f.srv.URL, testToken)
	if err != nil {
		t.Fatal(err)
	}
	s := sample()
	s.Repo = "nope"
	err = g.Report(t.Context(), s)
	want := "status: gitea: posting status for octocat/nope@" + testSHA + ": HTTP 404 Not Found: repository does not exist [id: 0, uid: 0, owner_name: octocat, name: nope]"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	f := newFakeForge(t, reply{code: http.StatusServiceUnavailable, body: `{"message":"Service Unavailable"}`})
	// The caller gives up as soon as the first answer is in, so Report is
	// waiting out its 30-second backoff when it notices.
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		cancel()
		return res, err
	})}
	g := newGitHub(t, f.srv.URL, status.WithBackoff(status.MaxBackoff), status.WithHTTPClient(hc))
	err := g.Report(ctx, sample())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := "HTTP 503 Service Unavailable: Service Unavailable; then context canceled"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to contain %q", err, want)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests after cancel, want 1", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNetworkErrorRetried(t *testing.T) {
	t.Parallel()
	f := newFakeForge(t)
	url := f.srv.URL
	f.srv.Close() // nothing listens any more
	g := newGitHub(t, url, status.WithRetries(1))
	err := g.Report(t.Context(), sample())
	var pe *status.PostError
	if !errors.As(err, &pe) || pe.StatusCode != 0 || pe.Attempts != 2 {
		t.Fatalf("err = %v (%+v), want a network PostError after 2 attempts", err, pe)
	}
}

// TestTokenNeverInErrors drives every kind of failure, including a forge that
// echoes the Authorization header back, and checks no error quotes the token.
func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		b, _ := json.Marshal(map[string]any{
			"message": "Bad credentials: " + r.Header.Get("Authorization"),
			"errors":  []string{"token " + testToken + " revoked"},
		})
		_, _ = w.Write(b)
	}))
	t.Cleanup(echo.Close)
	flaky := newFakeForge(t, reply{code: http.StatusBadGateway, body: "upstream said " + testToken})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	for _, u := range []string{echo.URL, flaky.srv.URL, closed.URL} {
		g := newGitHub(t, u, status.WithRetries(1), status.WithLogger(logger))
		errs = append(errs, g.Report(t.Context(), sample()))
		gt, err := status.NewGitea(u, testToken, status.WithRetries(1), status.WithBackoff(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, gt.Report(t.Context(), sample()))
	}
	errs = append(errs, newGitHub(t, flaky.srv.URL).Report(canceled, sample()))
	bad := sample()
	bad.SHA = testToken
	errs = append(errs, newGitHub(t, flaky.srv.URL).Report(t.Context(), bad))
	for _, url := range []string{"ftp://x", "https://user:" + testToken + "@ghe.example/api/v3", "://" + testToken} {
		_, err := status.NewGitHub(url, testToken)
		errs = append(errs, err)
	}
	_, err := status.NewGitHub("https://api.github.com", testToken+"\n")
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("case %d: error quotes the token: %v", i, err)
		}
	}
	if !strings.Contains(logs.String(), "commit status: retrying") {
		t.Errorf("no retry was logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the log quotes the token:\n%s", logs.String())
	}
}

func TestInvalidStatus(t *testing.T) {
	t.Parallel()
	f := newFakeForge(t)
	g := newGitHub(t, f.srv.URL)
	for _, tc := range []struct {
		name string
		edit func(*status.Status)
		want string
	}{
		{name: "no owner", edit: func(s *status.Status) { s.Owner = "" }, want: "no owner"},
		{name: "slash in repo", edit: func(s *status.Status) { s.Repo = "a/b" }, want: `repo "a/b" is not a name`},
		{name: "dot-dot owner", edit: func(s *status.Status) { s.Owner = ".." }, want: `owner ".." is not a name`},
		{name: "no sha", edit: func(s *status.Status) { s.SHA = "" }, want: "no sha"},
		{name: "branch for sha", edit: func(s *status.Status) { s.SHA = "main" }, want: `sha "main" is not a hexadecimal commit id`},
		{name: "bad state", edit: func(s *status.Status) { s.State = "cancelled" }, want: `state "cancelled" is not pending, success, failure or error`},
		{name: "empty state", edit: func(s *status.Status) { s.State = "" }, want: `state ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sample()
			tc.edit(&s)
			err := g.Report(t.Context(), s)
			if !errors.Is(err, status.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests for invalid statuses, want none", n)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, url, token string
		opts             []status.Option
		want             string
	}{
		{name: "no token", url: "https://api.github.com", want: "no token"},
		{name: "token with newline", url: "https://api.github.com", token: "abc\n", want: "control characters"},
		{name: "not http", url: "ftp://example.com", token: testToken, want: "want http:// or https://"},
		{name: "no host", url: "https://", token: testToken, want: "no host"},
		{name: "credentials in url", url: "https://u:p@ghe.example", token: testToken, want: "credentials belong in the token"},
		{name: "query", url: "https://ghe.example/api/v3?x=1", token: testToken, want: "no query"},
		{name: "negative retries", url: "https://api.github.com", token: testToken, opts: []status.Option{status.WithRetries(-1)}, want: "negative"},
		{name: "nil client", url: "https://api.github.com", token: testToken, opts: []status.Option{status.WithHTTPClient(nil)}, want: "WithHTTPClient(nil)"},
		{name: "nil logger", url: "https://api.github.com", token: testToken, opts: []status.Option{status.WithLogger(nil)}, want: "WithLogger(nil)"},
		{name: "zero backoff", url: "https://api.github.com", token: testToken, opts: []status.Option{status.WithBackoff(0)}, want: "WithBackoff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := status.NewGitHub(tc.url, tc.token, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewGitHub error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDescriptionTruncated(t *testing.T) {
	t.Parallel()
	f := newFakeForge(t)
	g := newGitHub(t, f.srv.URL)
	s := sample()
	// 3-byte and 4-byte characters, so a byte cut would split one.
	s.Description = strings.Repeat("日本", 60) + strings.Repeat("🚀", 40)
	if err := g.Report(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	got, _ := f.requests()[0].body["description"].(string)
	want := strings.Repeat("日本", 60) + strings.Repeat("🚀", 19) + "…"
	if got != want {
		t.Errorf("description = %q (%d runes), want %q", got, utf8.RuneCountInString(got), want)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{name: "short", in: "ok", max: 140, want: "ok"},
		{name: "exact", in: strings.Repeat("é", 140), max: 140, want: strings.Repeat("é", 140)},
		{name: "one over", in: strings.Repeat("é", 141), max: 140, want: strings.Repeat("é", 139) + "…"},
		{name: "emoji", in: "🚀🚀🚀🚀", max: 3, want: "🚀🚀…"},
		{name: "invalid utf-8", in: "a\xffb", max: 140, want: "a\uFFFDb"},
		{name: "cut after invalid", in: "ab\xff\xfecd", max: 3, want: "ab…"},
		{name: "max one", in: "abc", max: 1, want: "…"},
		{name: "max zero", in: "abc", max: 0, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := status.Truncate(tc.in, tc.max)
			if got != tc.want || !utf8.ValidString(got) || utf8.RuneCountInString(got) > max(tc.max, 0) {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		conclusion string
		want       status.State
	}{
		{conclusion: "success", want: status.Success},
		{conclusion: "Success", want: status.Success},
		{conclusion: "neutral", want: status.Success},
		{conclusion: "skipped", want: status.Success},
		{conclusion: "failure", want: status.Failure},
		{conclusion: "timed_out", want: status.Failure},
		{conclusion: "startup_failure", want: status.Failure},
		{conclusion: "action_required", want: status.Failure},
		{conclusion: "cancelled", want: status.Error},
		{conclusion: "stale", want: status.Error},
		{conclusion: "something new", want: status.Error},
		{conclusion: "", want: status.Pending},
		{conclusion: "queued", want: status.Pending},
		{conclusion: "in_progress", want: status.Pending},
		{conclusion: "waiting", want: status.Pending},
	} {
		if got := status.StateOf(tc.conclusion); got != tc.want {
			t.Errorf("StateOf(%q) = %q, want %q", tc.conclusion, got, tc.want)
		}
	}
}

// equalJSON compares two decoded JSON objects.
func equalJSON(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
