package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
)

// scopeCase is a repository or organization scope under test.
type scopeCase struct {
	name   string
	opt    Option
	prefix string // API path prefix of the scope
	web    string // web path, for config.sh --url
}

var scopes = []scopeCase{
	{name: "repo", opt: WithRepo("octo-org", "octo-repo"), prefix: "/repos/octo-org/octo-repo", web: "/octo-org/octo-repo"},
	{name: "org", opt: WithOrg("octo-org"), prefix: "/orgs/octo-org", web: "/octo-org"},
}

// authCase is an authentication method under test.
type authCase struct {
	name  string
	setup func(t *testing.T, f *fakeGitHub) Option
}

var auths = []authCase{
	{name: "pat", setup: func(_ *testing.T, _ *fakeGitHub) Option { return WithToken(testPAT) }},
	{name: "app", setup: func(t *testing.T, f *fakeGitHub) Option {
		key, pemBytes := newAppKey(t)
		f.asApp(&key.PublicKey)
		return WithApp(testAppID, testInstallID, pemBytes)
	}},
}

func newTestClient(t *testing.T, f *fakeGitHub, opts ...Option) *Client {
	t.Helper()
	c, err := New(append([]Option{WithBaseURL(f.srv.URL)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jitResponse(id int64, name, config string) map[string]any {
	return map[string]any{
		"runner": map[string]any{
			"id": id, "name": name, "os": "unknown", "status": "offline", "busy": false,
			"labels": []map[string]any{{"id": 1, "name": "self-hosted", "type": "read-only"}},
		},
		"encoded_jit_config": config,
	}
}

func TestJITConfig(t *testing.T) {
	t.Parallel()
	for _, sc := range scopes {
		for _, au := range auths {
			t.Run(sc.name+"/"+au.name, func(t *testing.T) {
				t.Parallel()
				f := newFake(t)
				f.handle("POST "+sc.prefix+"/actions/runners/generate-jitconfig",
					reply(http.StatusCreated, jitResponse(42, "vermont-1", "ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5")))
				c := newTestClient(t, f, sc.opt, au.setup(t, f), WithRunnerGroupID(7))

				jit, err := c.JITConfig(context.Background(), "vermont-1", []string{"self-hosted", "linux"})
				if err != nil {
					t.Fatal(err)
				}
				want := vm.JIT{RunnerID: 42, Config: "ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5"}
				if jit != want {
					t.Errorf("JIT %+v, want %+v", jit, want)
				}
				reqs := f.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				var body map[string]any
				if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
					t.Fatalf("request body %q: %v", reqs[0].Body, err)
				}
				wantBody := map[string]any{
					"name":            "vermont-1",
					"runner_group_id": float64(7),
					"labels":          []any{"self-hosted", "linux"},
					"work_folder":     "_work",
				}
				if !reflect.DeepEqual(body, wantBody) {
					t.Errorf("request body %v, want %v", body, wantBody)
				}
			})
		}
	}
}

func TestJITConfigDefaultGroup(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	var group any
	f.handle("POST /orgs/octo-org/actions/runners/generate-jitconfig", func(w http.ResponseWriter, _ *http.Request, body []byte) {
		var m map[string]any
		json.Unmarshal(body, &m)
		group = m["runner_group_id"]
		writeJSON(w, http.StatusCreated, jitResponse(1, "r", "cfg"))
	})
	c := newTestClient(t, f, WithOrg("octo-org"), WithToken(testPAT))
	if _, err := c.JITConfig(context.Background(), "r", []string{"self-hosted"}); err != nil {
		t.Fatal(err)
	}
	if group != float64(DefaultRunnerGroupID) {
		t.Errorf("runner_group_id %v, want the Default group %d", group, DefaultRunnerGroupID)
	}
}

func TestJITConfigFallback(t *testing.T) {
	t.Parallel()
	const regToken = "AABF3JGZDX3P5PMEXLND6TS6FCWO6"
	expires := time.Date(2030, 1, 22, 12, 13, 35, 0, time.UTC)
	for _, sc := range scopes {
		for _, status := range []int{http.StatusNotFound, http.StatusUnprocessableEntity} {
			t.Run(fmt.Sprintf("%s/%d", sc.name, status), func(t *testing.T) {
				t.Parallel()
				f := newFake(t)
				f.handle("POST "+sc.prefix+"/actions/runners/generate-jitconfig",
					reply(status, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}))
				f.handle("POST "+sc.prefix+"/actions/runners/registration-token",
					reply(http.StatusCreated, map[string]string{"token": regToken, "expires_at": expires.Format(time.RFC3339)}))
				var logs bytes.Buffer
				log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c := newTestClient(t, f, sc.opt, WithToken(testPAT), WithLogger(log))

				jit, err := c.JITConfig(context.Background(), "vermont-2", []string{"self-hosted", "windows"})
				if err != nil {
					t.Fatal(err)
				}
				if jit.RunnerID != 0 {
					t.Errorf("RunnerID %d; GitHub assigns it only at registration, want 0", jit.RunnerID)
				}
				rc, err := ParseRegistrationConfig(jit.Config)
				if err != nil {
					t.Fatal(err)
				}
				want := RegistrationConfig{
					Kind: KindRegistration, URL: f.srv.URL + sc.web, Token: regToken, Name: "vermont-2",
					Labels: []string{"self-hosted", "windows"}, WorkFolder: "_work", Ephemeral: true, ExpiresAt: expires,
				}
				if !reflect.DeepEqual(rc, want) {
					t.Errorf("registration config\n got %#v\nwant %#v", rc, want)
				}
				reqs := f.requests()
				if len(reqs) != 2 || reqs[1].Path != sc.prefix+"/actions/runners/registration-token" || len(reqs[1].Body) != 0 {
					t.Errorf("requests %+v, want the JIT call then an empty POST for a registration token", reqs)
				}
				if !strings.Contains(logs.String(), "falling back") {
					t.Errorf("the fallback was not logged:\n%s", logs.String())
				}
				if strings.Contains(logs.String(), regToken) || strings.Contains(logs.String(), jit.Config) {
					t.Errorf("a registration token reached the logs:\n%s", logs.String())
				}
				if s := fmt.Sprintf("%v %+v %#v %s", rc, rc, rc, rc); strings.Contains(s, regToken) {
					t.Errorf("formatting a RegistrationConfig prints its token: %s", s)
				}
			})
		}
	}
}

func TestJITConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		labels []string
		want   string
	}{
		{name: "server error does not fall back", status: http.StatusInternalServerError, labels: []string{"x"}, want: "500"},
		{name: "forbidden does not fall back", status: http.StatusForbidden, labels: []string{"x"}, want: "403"},
		{name: "no labels", labels: nil, want: "GitHub requires 1 to 100"},
		{name: "too many labels", labels: make([]string, 101), want: "101 labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("POST /repos/octo-org/octo-repo/actions/runners/generate-jitconfig",
				reply(tt.status, map[string]string{"message": "nope"}))
			c := newTestClient(t, f, WithRepo("octo-org", "octo-repo"), WithToken(testPAT))
			_, err := c.JITConfig(context.Background(), "r", tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			for _, r := range f.requests() {
				if strings.HasSuffix(r.Path, "/registration-token") {
					t.Errorf("fell back to a registration token on %v", err)
				}
			}
		})
	}
}

func TestRemoveRunner(t *testing.T) {
	t.Parallel()
	for _, sc := range scopes {
		tests := []struct {
			name    string
			status  int
			wantErr bool
		}{
			{name: "deleted", status: http.StatusNoContent},
			{name: "already gone", status: http.StatusNotFound},
			{name: "busy runner", status: http.StatusUnprocessableEntity, wantErr: true},
		}
		for _, tt := range tests {
			t.Run(sc.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				f := newFake(t)
				f.handle("DELETE "+sc.prefix+"/actions/runners/42", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
					if tt.status == http.StatusNoContent {
						w.WriteHeader(http.StatusNoContent)
						return
					}
					writeJSON(w, tt.status, map[string]string{"message": "Bad request - Runner \"r\" is still running a job\""})
				})
				c := newTestClient(t, f, sc.opt, WithToken(testPAT))
				err := c.RemoveRunner(context.Background(), 42)
				if (err != nil) != tt.wantErr {
					t.Fatalf("error %v, want error: %v", err, tt.wantErr)
				}
				if n := len(f.requests()); n != 1 {
					t.Errorf("%d requests, want 1", n)
				}
			})
		}
	}
}

func TestListRunnersPaginates(t *testing.T) {
	t.Parallel()
	runner := func(id int64, status string, busy bool) map[string]any {
		return map[string]any{"id": id, "name": fmt.Sprint("vermont-", id), "os": "linux", "status": status, "busy": busy,
			"labels": []map[string]any{{"id": 1, "name": "self-hosted", "type": "read-only"}, {"id": 9, "name": "gpu", "type": "custom"}}}
	}
	for _, sc := range scopes {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("GET "+sc.prefix+"/actions/runners", paged(t,
				map[string]any{"total_count": 3, "runners": []any{runner(1, "online", true), runner(2, "offline", false)}},
				map[string]any{"total_count": 3, "runners": []any{runner(3, "online", false)}},
			))
			c := newTestClient(t, f, sc.opt, WithToken(testPAT))
			got, err := c.ListRunners(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			labels := []string{"self-hosted", "gpu"}
			want := []vm.Runner{
				{ID: 1, Name: "vermont-1", Status: "online", Busy: true, Labels: labels},
				{ID: 2, Name: "vermont-2", Status: "offline", Labels: labels},
				{ID: 3, Name: "vermont-3", Status: "online", Labels: labels},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("runners\n got %+v\nwant %+v", got, want)
			}
			reqs := f.requests()
			if len(reqs) != 2 || !strings.Contains(reqs[0].Query, "per_page=100") || !strings.Contains(reqs[1].Query, "page=2") {
				t.Errorf("requests %+v, want two pages of 100", reqs)
			}
		})
	}
}

// job is a workflow job as GET .../actions/runs/{id}/jobs returns it.
func job(id, runID int64, status string, labels ...string) map[string]any {
	return map[string]any{"id": id, "run_id": runID, "status": status, "labels": labels, "name": fmt.Sprint("job-", id)}
}

// runsRoute serves GET .../actions/runs, checking the status filter.
func runsRoute(t *testing.T, byStatus map[string][]int64) route {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		status := r.URL.Query().Get("status")
		ids, ok := byStatus[status]
		if !ok {
			t.Errorf("%s: unexpected status filter %q", r.URL.Path, status)
		}
		runs := []any{}
		for _, id := range ids {
			runs = append(runs, map[string]any{"id": id, "status": status})
		}
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "workflow_runs": runs})
	}
}

func TestQueuedJobsRepo(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	const p = "/repos/octo-org/octo-repo/actions/runs"
	// Run 20 is in progress with the rest of its matrix queued; run 20 is
	// reported again as queued (its status changed between the calls).
	f.handle("GET "+p, runsRoute(t, map[string][]int64{"queued": {10, 20}, "in_progress": {20}}))
	f.handle("GET "+p+"/10/jobs", paged(t,
		map[string]any{"total_count": 3, "jobs": []any{job(101, 10, "queued", "self-hosted", "linux"), job(102, 10, "waiting", "self-hosted")}},
		map[string]any{"total_count": 3, "jobs": []any{job(103, 10, "queued", "self-hosted", "gpu")}},
	))
	f.handle("GET "+p+"/20/jobs", reply(http.StatusOK, map[string]any{"total_count": 2,
		"jobs": []any{job(201, 20, "in_progress", "self-hosted"), job(202, 20, "queued", "self-hosted")}}))
	c := newTestClient(t, f, WithRepo("octo-org", "octo-repo"), WithToken(testPAT))

	got, err := c.QueuedJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []vm.QueuedJob{
		{ID: 101, RunID: 10, Repo: "octo-org/octo-repo", Labels: []string{"self-hosted", "linux"}},
		{ID: 103, RunID: 10, Repo: "octo-org/octo-repo", Labels: []string{"self-hosted", "gpu"}},
		{ID: 202, RunID: 20, Repo: "octo-org/octo-repo", Labels: []string{"self-hosted"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queued jobs\n got %+v\nwant %+v", got, want)
	}
	var jobCalls int
	for _, r := range f.requests() {
		if strings.HasSuffix(r.Path, "/jobs") {
			jobCalls++
			if !strings.Contains(r.Query, "filter=latest") {
				t.Errorf("%s?%s: want filter=latest", r.Path, r.Query)
			}
		}
	}
	if jobCalls != 3 {
		t.Errorf("%d job listings, want 3 (two pages of run 10, run 20 once)", jobCalls)
	}
}

func TestQueuedJobsOrg(t *testing.T) {
	t.Parallel()
	repo := func(name string, archived bool) map[string]any {
		return map[string]any{"name": name, "full_name": "octo-org/" + name, "archived": archived,
			"owner": map[string]any{"login": "octo-org", "type": "Organization"}}
	}
	f := newFake(t)
	f.handle("GET /orgs/octo-org/repos", func(w http.ResponseWriter, r *http.Request, body []byte) {
		if q := r.URL.Query(); q.Get("sort") != "pushed" || q.Get("direction") != "desc" {
			t.Errorf("repositories listed with %q, want sort=pushed&direction=desc", r.URL.RawQuery)
		}
		paged(t,
			[]any{repo("alpha", false), repo("old", true)},
			[]any{repo("beta", false), repo("gamma", false)},
		)(w, r, body)
	})
	f.handle("GET /repos/octo-org/alpha/actions/runs", runsRoute(t, map[string][]int64{"queued": {1}, "in_progress": {}}))
	f.handle("GET /repos/octo-org/alpha/actions/runs/1/jobs", reply(http.StatusOK, map[string]any{"jobs": []any{job(11, 1, "queued", "self-hosted")}}))
	f.handle("GET /repos/octo-org/beta/actions/runs", runsRoute(t, map[string][]int64{"queued": {}, "in_progress": {2}}))
	f.handle("GET /repos/octo-org/beta/actions/runs/2/jobs", reply(http.StatusOK, map[string]any{"jobs": []any{job(21, 2, "queued", "linux")}}))
	// gamma is past WithMaxRepos(2): it must not be scanned (the fake would
	// report the unexpected request).
	c := newTestClient(t, f, WithOrg("octo-org"), WithToken(testPAT), WithMaxRepos(2))

	got, err := c.QueuedJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []vm.QueuedJob{
		{ID: 11, RunID: 1, Repo: "octo-org/alpha", Labels: []string{"self-hosted"}},
		{ID: 21, RunID: 2, Repo: "octo-org/beta", Labels: []string{"linux"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("queued jobs\n got %+v\nwant %+v", got, want)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	reset := time.Now().Add(30 * time.Minute).Truncate(time.Second)
	tests := []struct {
		name      string
		route     route
		secondary bool
	}{
		{
			name: "primary",
			route: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set("X-RateLimit-Limit", "5000")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv64(reset.Unix()))
				writeJSON(w, http.StatusForbidden, map[string]string{"message": "API rate limit exceeded for installation ID 987654."})
			},
		},
		{
			name: "secondary",
			route: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set("Retry-After", "60")
				writeJSON(w, http.StatusTooManyRequests, map[string]string{
					"message":           "You have exceeded a secondary rate limit.",
					"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
				})
			},
			secondary: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.handle("GET /orgs/octo-org/actions/runners", tt.route)
			c := newTestClient(t, f, WithOrg("octo-org"), WithToken(testPAT))
			before := time.Now()
			_, err := c.ListRunners(context.Background())
			if !errors.Is(err, ErrRateLimited) {
				t.Fatalf("error %v does not match ErrRateLimited", err)
			}
			var rl *RateLimitError
			if !errors.As(err, &rl) {
				t.Fatalf("error %T is not a *RateLimitError", err)
			}
			if rl.Secondary != tt.secondary {
				t.Errorf("Secondary %v, want %v", rl.Secondary, tt.secondary)
			}
			if tt.secondary {
				if rl.Reset.Before(before.Add(59 * time.Second)) {
					t.Errorf("Reset %v, want about a minute from now (Retry-After: 60)", rl.Reset)
				}
			} else if !rl.Reset.Equal(reset) {
				t.Errorf("Reset %v, want %v", rl.Reset, reset)
			}
			if !strings.Contains(err.Error(), "rate limit exceeded") || !strings.Contains(err.Error(), "list runners in organization octo-org") {
				t.Errorf("error %q does not say what was rate limited", err)
			}
		})
	}
}

func strconv64(n int64) string { return fmt.Sprint(n) }
