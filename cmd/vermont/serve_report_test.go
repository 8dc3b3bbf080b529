//go:build !thin && !windows

package main

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestServeStatusesAndTraces: a run on a GitHub upstream posts commit
// statuses (pending, then success) as GitHub's "Create a commit status"
// takes them, and exports its spans over OTLP/HTTP: both checked at the
// HTTP boundary, by a fake GitHub and a fake collector.
func TestServeStatusesAndTraces(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var statuses []map[string]string
	var auth []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		body["path"] = r.Method + " " + r.URL.Path
		mu.Lock()
		statuses = append(statuses, body)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	defer gh.Close()
	var spans []string
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			rd = zr
		}
		b, _ := io.ReadAll(rd)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
			http.Error(w, "bad export", 400)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					spans = append(spans, sp.Name)
				}
			}
		}
		mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer otlp.Close()

	repo := newSrcRepo(t, map[string]string{".github/workflows/ci.yml": "name: CI\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo one\n      - run: echo two\n"})
	before := gitIn(t, repo.work, "rev-parse", "HEAD")
	after := repo.commit("second", map[string]string{"README": "hi\n"})
	repo.push("main")
	config := filepath.Join(t.TempDir(), "serve.yml")
	err := os.WriteFile(config, []byte("repos:\n  - name: octo/site\n    url: "+repo.bare+
		"\n    upstream: github\n    status-api: "+gh.URL+"\n    status-token-env: SITE_STATUS_TOKEN\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s := startService(t, serveConfig{repo: repo, args: []string{"--config", config},
		env: []string{"SITE_STATUS_TOKEN=ghp_status_token_1", "OTEL_EXPORTER_OTLP_ENDPOINT=" + otlp.URL}})
	p := ghPush(before, after, "refs/heads/main")
	p["repository"] = map[string]any{"name": "site", "full_name": "octo/site", "owner": map[string]any{"login": "octo"}}
	if code, msg := s.deliver("push", "st-1", p, serveSecret); code != 202 {
		t.Fatalf("delivery: %d %s", code, msg)
	}
	waitFor(t, "two commit statuses", func() bool { mu.Lock(); defer mu.Unlock(); return len(statuses) >= 2 })
	s.stop() // flushes the spans
	mu.Lock()
	defer mu.Unlock()
	want := "POST /repos/octo/site/statuses/" + after
	if statuses[0]["path"] != want || statuses[0]["state"] != "pending" || statuses[1]["state"] != "success" {
		t.Fatalf("statuses %v, want pending then success at %s", statuses, want)
	}
	if ctx := statuses[1]["context"]; ctx != "vermont / CI (push)" || !strings.Contains(statuses[1]["target_url"], "/octo/site/actions/runs/") {
		t.Errorf("status %v", statuses[1])
	}
	for _, a := range auth {
		if a != "Bearer ghp_status_token_1" {
			t.Errorf("Authorization %q", a)
		}
	}
	got := strings.Join(spans, ",")
	for _, name := range []string{"CI", "build"} {
		if !strings.Contains(","+got+",", ","+name+",") {
			t.Errorf("spans %v lack %q", spans, name)
		}
	}
	if len(spans) < 4 {
		t.Errorf("spans %v: want the run, its job and its two steps", spans)
	}
	if strings.Contains(s.logs.String(), "ghp_status_token_1") {
		t.Error("the status token reached the log")
	}
}
