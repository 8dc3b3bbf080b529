//go:build !thin

package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/vm"
	"github.com/vermont-ci/vermont/vm/vmtest"
)

const (
	testPAT    = "ghp_TESTPAT0123456789abcdef"
	testSecret = "whsec-test-secret-xyz"
)

// fakeGitHub is GitHub's REST API at the HTTP boundary, for repository o/r.
// It records JIT-config and runner-removal calls.
type fakeGitHub struct {
	mu      sync.Mutex
	nextID  int64
	runners map[int64]string // id → name
	jit     []string         // runner names, in order
	removed []int64
	authBad int
}

func newFakeGitHub(t testing.TB) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{runners: map[int64]string{}, nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /repos/o/r/actions/runners/generate-jitconfig", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name   string   `json:"name"`
			Labels []string `json:"labels"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.nextID++
		id := f.nextID
		f.runners[id] = req.Name
		f.jit = append(f.jit, req.Name)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"runner":{"id":%d,"name":%q,"status":"offline"},"encoded_jit_config":%q}`,
			id, req.Name, "JITSECRET-"+req.Name)
	})
	mux.HandleFunc("DELETE /repos/o/r/actions/runners/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		f.mu.Lock()
		f.removed = append(f.removed, id)
		delete(f.runners, id)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /repos/o/r/actions/runners", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var rs []string
		for id, name := range f.runners {
			rs = append(rs, fmt.Sprintf(`{"id":%d,"name":%q,"status":"offline","busy":false,"labels":[]}`, id, name))
		}
		fmt.Fprintf(w, `{"total_count":%d,"runners":[%s]}`, len(rs), strings.Join(rs, ","))
	})
	mux.HandleFunc("GET /repos/o/r/actions/runs", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"total_count":0,"workflow_runs":[]}`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testPAT && r.Header.Get("Authorization") != "token "+testPAT {
			f.mu.Lock()
			f.authBad++
			f.mu.Unlock()
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitHub) calls() (jit []string, removed []int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.jit), slices.Clone(f.removed)
}

// poolHarness is `vermont pool` wired to the fake GitHub and vmtest.
type poolHarness struct {
	t    testing.TB
	gh   *fakeGitHub
	srv  *poolServer
	http *httptest.Server
	logs *lockedBuffer
	mock *vmtest.Provider
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startPool(t *testing.T, pools []poolSpec, mock *vmtest.Provider, stateDir string) *poolHarness {
	t.Helper()
	gh, ghSrv := newFakeGitHub(t)
	return startPoolWith(t, gh, ghSrv.URL, pools, mock, stateDir)
}

func startPoolWith(t testing.TB, gh *fakeGitHub, apiURL string, pools []poolSpec, mock *vmtest.Provider, stateDir string) *poolHarness {
	t.Helper()
	return startPoolEnv(t, gh, apiURL, pools, mock, stateDir, nil)
}

// startPoolEnv is startPoolWith with the environment changed by edit.
func startPoolEnv(t testing.TB, gh *fakeGitHub, apiURL string, pools []poolSpec, mock *vmtest.Provider, stateDir string, edit func(*poolEnv)) *poolHarness {
	t.Helper()
	env := poolEnv{
		pat: testPAT, repoOwner: "o", repo: "r", secret: testSecret, port: "8080", useMock: true,
		apiURL: apiURL + "/",
	}
	if edit != nil {
		edit(&env)
	}
	h := &poolHarness{t: t, gh: gh, logs: &lockedBuffer{}}
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	if mock == nil {
		id, err := vm.ControllerID(ctx, stateDir)
		if err != nil {
			t.Fatal(err)
		}
		mock = vmtest.New(vmtest.WithController(id))
	}
	srv, err := newPoolServer(ctx, env, poolFile{pools: pools}, stateDir, log, mock)
	if err != nil {
		t.Fatal(err)
	}
	h.srv, h.mock = srv, mock
	h.http = httptest.NewServer(srv.handler)
	t.Cleanup(func() {
		h.http.Close()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = srv.close(cctx)
	})
	return h
}

// deliver posts a signed workflow_job delivery and returns the status.
func (h *poolHarness) deliver(delivery, action string, jobID int64, labels []string, runner string, secret string) int {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"action": action,
		"workflow_job": map[string]any{
			"id": jobID, "run_id": 1, "labels": labels, "runner_name": runner, "status": action,
		},
		"repository": map[string]any{"full_name": "o/r", "name": "r", "owner": map[string]any{"login": "o"}},
	})
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "workflow_job")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (h *poolHarness) health() healthBody {
	h.t.Helper()
	b, _ := h.healthStatus()
	return b
}

// healthStatus is GET /health's body and status code.
func (h *poolHarness) healthStatus() (healthBody, int) {
	h.t.Helper()
	resp, err := http.Get(h.http.URL + "/health")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b healthBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		h.t.Fatal(err)
	}
	return b, resp.StatusCode
}

func (h *poolHarness) get(path string) (int, string) {
	return h.do(http.MethodGet, path, h.instanceToken(path))
}

func (h *poolHarness) post(path string) int {
	code, _ := h.do(http.MethodPost, path, h.instanceToken(path))
	return code
}

// instanceToken is the token the instance named at the end of an
// /api/runner-… path was given, as the instance itself would send it.
func (h *poolHarness) instanceToken(path string) string {
	if !strings.HasPrefix(path, "/api/runner-") {
		return ""
	}
	return h.srv.pool.InstanceToken(path[strings.LastIndex(path, "/")+1:])
}

func (h *poolHarness) do(method, path, token string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.http.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// settled reports that health shows ready idle and running busy instances
// and nothing else, and the provider agrees.
func (h *poolHarness) settled(ready, running int) func() bool {
	return func() bool {
		b := h.health()
		return b.Ready == ready && b.Running == running && b.VMs == ready+running && len(h.mock.Instances()) == ready+running
	}
}

// busyInstance returns the instance whose runner config is no longer
// served, which is the one a job was assigned to.
func (h *poolHarness) busyInstances() []string {
	var out []string
	for _, in := range h.mock.Instances() {
		if code, _ := h.get("/api/runner-config/" + in.Name); code == http.StatusNotFound {
			out = append(out, in.Name)
		}
	}
	return out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var linuxPool = []poolSpec{{name: "linux", labels: []string{"linux"}, minIdle: 2, max: 10, provider: "mock"}}

func TestPoolWebhookLifecycle(t *testing.T) {
	t.Parallel()
	h := startPool(t, linuxPool, nil, t.TempDir())
	waitFor(t, "2 warm", h.settled(2, 0))

	// Bad signature: 401, nothing created.
	jitBefore, _ := h.gh.calls()
	if code := h.deliver("d-bad", "queued", 1, []string{"self-hosted", "linux"}, "", "wrong-secret"); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d, want 401", code)
	}
	if b := h.health(); b.Running != 0 || len(h.mock.Instances()) != 2 {
		t.Fatalf("bad signature changed the pool: %+v", b)
	}

	// queued → an idle instance is assigned and a new one is warmed.
	if code := h.deliver("d-1", "queued", 1, []string{"self-hosted", "linux"}, "", testSecret); code != http.StatusOK {
		t.Fatalf("queued: status %d", code)
	}
	if b := h.health(); b.Running != 1 {
		t.Fatalf("after queued: %+v", b)
	}
	waitFor(t, "replacement warmed", h.settled(2, 1))
	jit, _ := h.gh.calls()
	if len(jit) != len(jitBefore)+1 {
		t.Fatalf("JIT configs: %d before, %d after; want one more", len(jitBefore), len(jit))
	}
	busy := h.busyInstances()
	if len(busy) != 1 {
		t.Fatalf("busy instances = %v", busy)
	}

	// Replayed delivery: no second instance.
	if code := h.deliver("d-1", "queued", 1, []string{"self-hosted", "linux"}, "", testSecret); code != http.StatusOK {
		t.Fatalf("replay: status %d", code)
	}
	if b := h.health(); b.Running != 1 || b.VMs != 3 {
		t.Fatalf("replay changed the pool: %+v", b)
	}
	if j, _ := h.gh.calls(); len(j) != len(jit) {
		t.Fatalf("replay registered another runner")
	}

	// in_progress, then completed → destroyed, runner removed, replaced.
	if code := h.deliver("d-2", "in_progress", 1, []string{"self-hosted", "linux"}, busy[0], testSecret); code != http.StatusOK {
		t.Fatalf("in_progress: status %d", code)
	}
	if code := h.deliver("d-3", "completed", 1, []string{"self-hosted", "linux"}, busy[0], testSecret); code != http.StatusOK {
		t.Fatalf("completed: status %d", code)
	}
	runnerID := int64(0)
	for i, name := range jit {
		if name == busy[0] {
			runnerID = 1001 + int64(i)
		}
	}
	waitFor(t, "used instance destroyed and runner removed", func() bool {
		_, removed := h.gh.calls()
		return h.settled(2, 0)() && slices.Contains(removed, runnerID)
	})
	if slices.ContainsFunc(h.mock.Instances(), func(i vm.Instance) bool { return i.Name == busy[0] }) {
		t.Fatalf("used instance %s still exists", busy[0])
	}

	// Metrics are served.
	code, metrics := h.get("/metrics")
	for _, want := range []string{`vermont_pool_instances{pool="linux",state="idle"} 2`, `vermont_pool_jobs_total{event="completed",pool="linux"} 1`, "vermont_pool_pickup_latency_seconds_bucket"} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	h.assertNoSecretsLogged()
}

func (h *poolHarness) assertNoSecretsLogged() {
	h.t.Helper()
	logs := h.logs.String()
	if !strings.Contains(logs, "pool started") {
		h.t.Fatalf("logs not captured:\n%s", logs)
	}
	for _, secret := range []string{testPAT, testSecret, "JITSECRET-"} {
		if strings.Contains(logs, secret) {
			h.t.Fatalf("logs contain a secret (%.12s…)", secret)
		}
	}
}

func TestPoolRunnerConfigEndpoints(t *testing.T) {
	t.Parallel()
	h := startPool(t, []poolSpec{{name: "linux", labels: []string{"linux"}, minIdle: 1, max: 3, provider: "mock"}}, nil, t.TempDir())
	waitFor(t, "1 warm", h.settled(1, 0))
	name := h.mock.Instances()[0].Name
	code, body := h.get("/api/runner-config/" + name)
	if code != http.StatusOK || body != "JITSECRET-"+name {
		t.Fatalf("runner-config = %d %q", code, body)
	}
	spec, _ := h.mock.Spec(name)
	if spec.RunnerConfig != body {
		t.Fatalf("provider got config %q, endpoint serves %q", spec.RunnerConfig, body)
	}
	// The instance got its token; without it, or with another
	// instance's, the config is not served and nothing is said about it.
	if spec.Env["VERMONT_RUNNER_TOKEN"] != h.srv.pool.InstanceToken(name) {
		t.Fatalf("instance env lacks its token")
	}
	for _, token := range []string{"", "wrong", h.srv.pool.InstanceToken("other")} {
		if code, body := h.do(http.MethodGet, "/api/runner-config/"+name, token); code != http.StatusUnauthorized || strings.Contains(body, "JITSECRET") {
			t.Fatalf("token %q: %d %q, want 401", token, code, body)
		}
		if code, _ := h.do(http.MethodPost, "/api/runner-complete/"+name, token); code != http.StatusUnauthorized {
			t.Fatalf("complete with token %q: %d, want 401", token, code)
		}
	}
	if code, _ := h.get("/api/runner-config/unknown"); code != http.StatusNotFound {
		t.Fatalf("unknown instance: %d", code)
	}
	if code := h.post("/api/runner-complete/unknown"); code != http.StatusNotFound {
		t.Fatalf("complete unknown: %d", code)
	}
	if code := h.post("/api/runner-complete/" + name); code != http.StatusNoContent {
		t.Fatalf("complete: %d", code)
	}
	waitFor(t, "replaced", func() bool { return h.settled(1, 0)() && h.mock.Instances()[0].Name != name })
	if code, _ := h.get("/api/runner-config/" + name); code != http.StatusNotFound {
		t.Fatalf("config of a destroyed instance: %d", code)
	}
	h.assertNoSecretsLogged()
}

func TestPoolFiftyJobsMaxTen(t *testing.T) {
	t.Parallel()
	h := startPool(t, linuxPool, nil, t.TempDir())
	waitFor(t, "2 warm", h.settled(2, 0))
	const jobs = 50
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() {
			if code := h.deliver(fmt.Sprintf("q-%d", i), "queued", int64(100+i), []string{"self-hosted", "linux"}, "", testSecret); code != http.StatusOK {
				t.Errorf("queued %d: status %d", i, code)
			}
		})
	}
	wg.Wait()
	// Play GitHub: each fresh running instance takes the next job, runs it
	// and exits.
	used := map[string]bool{}
	next := 0
	waitFor(t, "all 50 jobs served", func() bool {
		for _, in := range h.mock.Instances() {
			if used[in.Name] || !in.Running || next == jobs {
				continue
			}
			used[in.Name] = true
			job := int64(100 + next)
			next++
			h.deliver(fmt.Sprintf("s-%d", job), "in_progress", job, []string{"self-hosted", "linux"}, in.Name, testSecret)
			_ = h.mock.Exit(in.Name, 0)
			h.deliver(fmt.Sprintf("c-%d", job), "completed", job, []string{"self-hosted", "linux"}, in.Name, testSecret)
		}
		return next == jobs
	})
	waitFor(t, "back to 2 warm", h.settled(2, 0))
	if m := h.mock.MaxLive(); m > 10 {
		t.Fatalf("%d instances existed at once; max is 10", m)
	}
	_, removed := h.gh.calls()
	if len(removed) < jobs {
		t.Fatalf("%d runners removed for %d jobs", len(removed), jobs)
	}
}

func TestPoolCreateFailuresNoLeak(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	id, _ := vm.ControllerID(context.Background(), dir)
	mock := vmtest.New(vmtest.WithController(id))
	mock.FailCreates(3, fmt.Errorf("no capacity"))
	h := startPool(t, []poolSpec{{name: "linux", minIdle: 2, max: 4, provider: "mock"}}, mock, dir)
	// The default backoff starts at a second; three failures take a few.
	waitFor(t, "2 warm after failures", h.settled(2, 0))
	jit, removed := h.gh.calls()
	if mock.Count("create", true) != 3 || len(jit) != 5 || len(removed) != 3 {
		t.Fatalf("failed creates %d, JIT %d, removed %d; want 3, 5, 3", mock.Count("create", true), len(jit), len(removed))
	}
}

func TestPoolRestartAdopts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gh, ghSrv := newFakeGitHub(t)
	first := startPoolWith(t, gh, ghSrv.URL, linuxPool, nil, dir)
	waitFor(t, "2 warm", first.settled(2, 0))
	first.deliver("q", "queued", 5, []string{"linux"}, "", testSecret)
	busy := first.busyInstances()
	first.deliver("s", "in_progress", 5, []string{"linux"}, busy[0], testSecret)
	waitFor(t, "2 warm, 1 busy", first.settled(2, 1))
	// Graceful stop: idle instances destroyed, the busy one left running.
	if err := first.srv.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(first.mock.Instances()); n != 1 {
		t.Fatalf("after close %d instances, want the busy one", n)
	}
	second := startPoolWith(t, gh, ghSrv.URL, linuxPool, first.mock, dir)
	waitFor(t, "busy adopted, 2 warm", second.settled(2, 1))
	second.deliver("c", "completed", 5, []string{"linux"}, busy[0], testSecret)
	waitFor(t, "exactly min-idle", second.settled(2, 0))
}

func TestLoadPoolEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dotEnv := dir + "/.env"
	if err := writeFile(dotEnv, "# comment\nGITHUB_PAT='from-file'\nexport GITHUB_ORG=acme # trailing\nPORT=\"9090\"\nUSE_MOCK=true\n"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		environ []string
		dotEnv  string
		check   func(poolEnv) bool
		wantErr string
	}{
		{name: "dotenv only, org scope", environ: []string{"WEBHOOK_SECRET=s"}, dotEnv: dotEnv,
			check: func(e poolEnv) bool {
				return e.pat == "from-file" && e.org == "acme" && e.port == "9090" && e.useMock && e.repo == "" &&
					e.apiURL == "https://api.github.com/"
			}},
		{name: "environment wins", environ: []string{"WEBHOOK_SECRET=s", "GITHUB_PAT=from-env", "PORT=1"}, dotEnv: dotEnv,
			check: func(e poolEnv) bool { return e.pat == "from-env" && e.port == "1" }},
		{name: "repo name with org as owner", environ: []string{"WEBHOOK_SECRET=s", "GITHUB_PAT=p", "GITHUB_ORG=acme", "GITHUB_REPO=app"},
			check: func(e poolEnv) bool { return e.repoOwner == "acme" && e.repo == "app" && e.port == "8080" }},
		{name: "owner/name", environ: []string{"WEBHOOK_SECRET=s", "GITHUB_PAT=p", "GITHUB_REPO=me/app", "GITHUB_API_URL=https://ghe/api/v3/"},
			check: func(e poolEnv) bool {
				return e.repoOwner == "me" && e.repo == "app" && e.apiURL == "https://ghe/api/v3/"
			}},
		{name: "missing everything", environ: nil, wantErr: "GITHUB_ORG or GITHUB_REPO must be set\nGITHUB_PAT must be set\nWEBHOOK_SECRET must be set (the secret of the GitHub webhook)"},
		{name: "bad port and mock", environ: []string{"WEBHOOK_SECRET=s", "GITHUB_PAT=p", "GITHUB_ORG=o", "PORT=http", "USE_MOCK=maybe"},
			wantErr: "PORT=\"http\": want a port number\nUSE_MOCK=\"maybe\": want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tt.dotEnv
			if path == "" {
				path = dir + "/missing.env"
			}
			e, err := loadPoolEnv(tt.environ, path)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(e) {
				t.Fatalf("loadPoolEnv = %+v, %v", e, err)
			}
		})
	}
}

func TestParsePoolFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		check    func(poolFile) bool
		wantErr  string
	}{
		{name: "two pools", in: "host-max: 8\npools:\n  - name: linux\n    labels: [linux, x64]\n    min-idle: 2\n    max: 6\n    provider: containerd\n    image: ghcr.io/x/runner:1\n    cpus: 2\n    memory: 4096\n  - name: win\n    provider: hyperv\n",
			check: func(f poolFile) bool {
				return f.hostMax == 8 && len(f.pools) == 2 && f.pools[0].minIdle == 2 && f.pools[0].max == 6 &&
					f.pools[0].memoryMB == 4096 && f.pools[1].provider == "hyperv" && len(f.pools[0].labels) == 2
			}},
		{name: "errors with positions", in: "pools:\n  - name: a\n    min-idle: lots\n    provider: docker\n    colour: red\n  - labels: x\n",
			wantErr: "p.yaml:3:15: want an integer ≥ 0, got \"lots\"\np.yaml:4:15: provider \"docker\": want mock, containerd, hyperv or kubernetes\np.yaml:5:5: unknown pool key \"colour\" (want name, labels, min-idle, max, provider, image, cpus, memory, kubernetes)\np.yaml:6:13: labels: want a list of strings\np.yaml:6:5: pool: name is required"},
		{name: "no pools", in: "host-max: 2\n", wantErr: "p.yaml:1:1: pools: want a non-empty list"},
		{name: "not a mapping", in: "- 1\n", wantErr: "p.yaml:1:1: want a mapping with a pools list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePoolFile("p.yaml", []byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(got) {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

// TestRunPoolBadEnvironment runs the command itself: without GitHub
// settings it exits 2 and says what is missing. It sets the process
// environment, so it does not run in parallel.
func TestRunPoolBadEnvironment(t *testing.T) {
	for _, k := range []string{"GITHUB_PAT", "GITHUB_ORG", "GITHUB_REPO", "WEBHOOK_SECRET", "PORT", "USE_MOCK"} {
		t.Setenv(k, "")
	}
	t.Setenv("GITHUB_PAT", testPAT)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"pool", "--env-file", t.TempDir() + "/none", "--state", t.TempDir()}, stdio{out: &out, err: &errb})
	if code != 2 || !strings.Contains(errb.String(), "GITHUB_ORG or GITHUB_REPO must be set") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if strings.Contains(errb.String(), testPAT) {
		t.Fatal("the PAT reached stderr")
	}
}

// BenchmarkWebhookPickup measures a signed queued delivery through the real
// webhook.Handler over HTTP → an instance assigned from a warm pool (the
// handler answers after the assignment). Refilling the pool is not timed.
func BenchmarkWebhookPickup(b *testing.B) {
	gh, ghSrv := newFakeGitHub(b)
	h := startPoolBench(b, gh, ghSrv.URL)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		job := int64(i + 1)
		start := time.Now()
		if code := h.deliver(fmt.Sprintf("b-%d", i), "queued", job, []string{"self-hosted", "linux"}, "", testSecret); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if hb := h.health(); hb.Running != 1 {
			b.Fatalf("job not assigned from the warm pool: %+v", hb)
		}
		name := h.busyInstances()[0]
		h.deliver(fmt.Sprintf("c-%d", i), "completed", job, nil, name, testSecret)
		waitFor(b, "warm again", h.settled(4, 0))
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func startPoolBench(b *testing.B, gh *fakeGitHub, url string) *poolHarness {
	h := startPoolWith(b, gh, url, []poolSpec{{name: "linux", labels: []string{"linux"}, minIdle: 4, max: 16, provider: "mock"}}, nil, b.TempDir())
	waitFor(b, "warm", h.settled(4, 0))
	return h
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// TestRunPoolShutsDownOnSignal runs the command as a process would, with
// USE_MOCK=true against the fake GitHub: once it serves, cancelling its
// context (what SIGTERM does, through main) shuts it down with exit 0, and
// the warm instances' runners are removed from GitHub. It sets the process
// environment, so it does not run in parallel.
func TestRunPoolShutsDownOnSignal(t *testing.T) {
	gh, srv := newFakeGitHub(t)
	for k, v := range map[string]string{"GITHUB_PAT": testPAT, "GITHUB_ORG": "", "GITHUB_REPO": "o/r", "WEBHOOK_SECRET": testSecret,
		"PORT": "0", "USE_MOCK": "true", "GITHUB_API_URL": srv.URL + "/", "VM_STORAGE_PATH": ""} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errb := &lockedBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"pool", "--env-file", t.TempDir() + "/none", "--state", t.TempDir()}, stdio{out: &bytes.Buffer{}, err: errb})
	}()
	waitFor(t, "the pool serving with warm instances", func() bool {
		jit, _ := gh.calls()
		return strings.Contains(errb.String(), "vermont pool listening") && len(jit) == 4
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after the signal\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "vermont pool shutting down") {
		t.Errorf("no shutdown logged:\n%s", errb.String())
	}
	if _, removed := gh.calls(); len(removed) != 4 {
		t.Errorf("runners removed on shutdown: %v, want the 4 warm ones", removed)
	}
	for _, secret := range []string{testPAT, testSecret} {
		if strings.Contains(errb.String(), secret) {
			t.Fatal("a secret reached the log")
		}
	}
}

// TestPoolHealthGitHubUnreachable: /health tells the truth (issue 14, item
// 3). With GitHub unreachable no instance can be registered, so the pool
// stays below min-idle; /health shows the last GitHub error with its time,
// and once the pool has been short longer than the bound it answers 503.
// The seed's fields (status, vms, ready, running) stay.
func TestPoolHealthGitHubUnreachable(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connections to it are refused: GitHub cannot be reached
	gh := &fakeGitHub{runners: map[int64]string{}}
	h := startPoolEnv(t, gh, down.URL, []poolSpec{{name: "default", labels: []string{"self-hosted"}, minIdle: 1, max: 2, provider: "mock"}},
		nil, t.TempDir(), func(e *poolEnv) { e.healthBound = 50 * time.Millisecond })
	var body healthBody
	code := 0
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		body, code = h.healthStatus()
		if code == http.StatusServiceUnavailable && len(body.Pools) == 1 && body.Pools[0].GitHubError != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code != http.StatusServiceUnavailable || body.Status != "unhealthy" {
		t.Fatalf("GET /health = %d %+v; want 503 unhealthy", code, body)
	}
	p := body.Pools[0]
	if p.GitHubError == nil || !strings.Contains(p.GitHubError.Message, "connection refused") || p.GitHubError.At.IsZero() {
		t.Errorf("last_github_error = %+v, want the refused connection with its time", p.GitHubError)
	}
	if p.Healthy || p.Ready != 0 || p.Wanted != 1 || p.ShortSince == nil || body.Ready != 0 || body.VMs != 0 || body.Running != 0 {
		t.Errorf("pool %+v, body %+v; want unhealthy, 0 ready of 1 wanted, short_since set", p, body)
	}
	if body.BoundSeconds != 0 {
		t.Errorf("bound_seconds = %d, want 0 for a 50ms bound", body.BoundSeconds)
	}
}

// TestPoolHealthOK: a pool at min-idle is healthy, with no errors.
func TestPoolHealthOK(t *testing.T) {
	t.Parallel()
	h := startPool(t, []poolSpec{{name: "default", labels: []string{"self-hosted"}, minIdle: 1, max: 2, provider: "mock"}}, nil, t.TempDir())
	var body healthBody
	code := 0
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if body, code = h.healthStatus(); len(body.Pools) == 1 && body.Pools[0].Ready == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p := body.Pools[0]
	if code != http.StatusOK || body.Status != "ok" || !p.Healthy || p.ShortSince != nil || p.GitHubError != nil || p.ProviderError != nil || p.Wanted != 1 {
		t.Errorf("GET /health = %d %+v, pool %+v; want 200 ok, healthy, no errors", code, body, p)
	}
	if body.BoundSeconds != int(defaultHealthBound/time.Second) {
		t.Errorf("bound_seconds = %d", body.BoundSeconds)
	}
}
