package server

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
	osexec "os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/exec"
	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

const hello = "on: [push, workflow_dispatch]\njobs:\n  hello:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hello\n"

// harness is a Server in this process over a bare repository holding one
// workflow, with its webhook endpoint and API on an httptest server.
type harness struct {
	srv    *Server
	st     *store.Store
	http   *httptest.Server
	bare   string
	head   string
	token  string
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(tb testing.TB, workflow string, opts ...Option) *harness {
	tb.Helper()
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
	if err := os.WriteFile(filepath.Join(work, ".github", "workflows", "hello.yml"), []byte(workflow), 0o644); err != nil {
		tb.Fatal(err)
	}
	git(work, "add", "-A")
	git(work, "commit", "-q", "-m", "hello")
	git(work, "push", "-q", bare, "HEAD:refs/heads/main")
	h := &harness{bare: bare, head: git(work, "rev-parse", "HEAD"), done: make(chan struct{})}

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	data := filepath.Join(dir, "data")
	st, err := store.Open(ctx, data)
	if err != nil {
		tb.Fatal(err)
	}
	h.st = st
	key, err := secrets.LoadKey(data, "")
	if err != nil {
		tb.Fatal(err)
	}
	bx, _ := secrets.New(key)
	mirrors, err := mirror.New(filepath.Join(data, "mirrors"))
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler)), WithWebhookSecret([]byte("s"))}, opts...)
	repo := Repo{Owner: "octo", Name: "app", Remote: mirror.Remote{URL: bare}}
	h.srv, err = New(ctx, st, bx, mirrors, []Repo{repo}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.srv.Recover(ctx); err != nil {
		tb.Fatal(err)
	}
	rest, err := api.New(st, h.srv.Control(), bx)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", rest)
	mux.Handle("/", h.srv.Handler())
	h.http = httptest.NewServer(mux)
	plain, hash, _ := token.New()
	if _, err := st.CreateToken(ctx, store.Token{Name: "bench", Hash: hash, Scope: "admin"}); err != nil {
		tb.Fatal(err)
	}
	h.token = plain
	go func() { defer close(h.done); _ = h.srv.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-h.done
		h.http.Close()
		st.Close()
	})
	return h
}

// push delivers a signed push of the repository's head.
func (h *harness) push(tb testing.TB, id string) {
	body, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "before": strings.Repeat("0", 40), "after": h.head,
		"repository": map[string]any{"full_name": "octo/app", "name": "app", "owner": map[string]any{"login": "octo"}},
		"sender":     map[string]any{"login": "octocat"}})
	mac := hmac.New(sha256.New, []byte("s"))
	mac.Write(body)
	req, _ := http.NewRequest("POST", h.http.URL+"/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		tb.Fatalf("delivery: %s", resp.Status)
	}
}

// BenchmarkDeliveryToFirstStep: from a signed push delivery to its run's
// first step starting, with the mirror warm. It reports the median.
func BenchmarkDeliveryToFirstStep(b *testing.B) {
	started := make(chan time.Time, 16)
	h := newHarness(b, hello, WithEvents(exec.SinkFunc(func(e exec.Event) {
		if e.Kind == exec.StepStarted {
			started <- time.Now()
		}
	})))
	h.push(b, "warm") // fills the mirror
	<-started
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		h.push(b, fmt.Sprintf("d-%d", i))
		lat = append(lat, (<-started).Sub(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkDrain100: 100 hello runs queued at once, drained by the
// workers; it reports runs per second.
func BenchmarkDrain100(b *testing.B) {
	var finished atomic.Int64
	all := make(chan struct{}, 1)
	var want atomic.Int64
	h := newHarness(b, hello, WithPollInterval(time.Hour), WithEvents(exec.SinkFunc(func(e exec.Event) {
		if e.Kind == exec.JobFinished && finished.Add(1) == want.Load() {
			all <- struct{}{}
		}
	})))
	ctx := context.Background()
	repo, _ := h.st.Repository(ctx, "octo", "app")
	var total time.Duration
	for i := 0; i < b.N; i++ {
		finished.Store(0)
		want.Store(100)
		b.StopTimer()
		// Queued directly, as a burst of deliveries would leave them; the
		// workers poll once an hour, so they start on the signal.
		for j := 0; j < 100; j++ {
			if _, err := h.st.CreateRun(ctx, store.NewRun{RepoID: repo.ID, WorkflowPath: ".github/workflows/hello.yml",
				Event: "push", HeadSHA: h.head, HeadBranch: "main", Ref: "refs/heads/main"}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		h.srv.signal()
		<-all
		total += time.Since(t0)
	}
	b.ReportMetric(float64(100*b.N)/total.Seconds(), "runs/s")
}

// BenchmarkListRuns10k: GET …/actions/runs (gh run list's call, 20 per
// page) with 10,000 runs stored; it reports the 99th percentile.
func BenchmarkListRuns10k(b *testing.B) {
	h := newHarness(b, hello)
	h.cancel() // no workers: the runs stay queued
	<-h.done
	ctx := context.Background()
	repo, _ := h.st.Repository(ctx, "octo", "app")
	for i := 0; i < 10000; i++ {
		if _, err := h.st.CreateRun(ctx, store.NewRun{RepoID: repo.ID, WorkflowPath: ".github/workflows/hello.yml",
			Event: "push", HeadSHA: h.head, HeadBranch: "main", Ref: "refs/heads/main"}); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		req, _ := http.NewRequest("GET", h.http.URL+"/api/v3/repos/octo/app/actions/runs?per_page=20", nil)
		req.Header.Set("Authorization", "token "+h.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
