package actions

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vermont-ci/vermont/workflow"
)

// TestPull fills a cache from testdata/actions/pull's workflow, which uses
// remote actions directly, through a local composite, through a remote
// composite, and through a remote reusable workflow (whose `$/` step lives
// in its own repository), then runs every resolution again offline with
// the server stopped.
func TestPull(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := t.TempDir()
	ws, err := filepath.Abs(filepath.Join(fixtures, "pull"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(ws, ".github", "workflows", "ci.yml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	wf, err := workflow.NewParser().Parse(file, src)
	if err != nil {
		t.Fatal(err)
	}
	r := f.resolver(t, cache, WithRepoDir(ws))
	pulled, err := r.Pull(context.Background(), ws, wf)

	// The one broken reference is reported at its position; the rest is pulled.
	if err == nil || !strings.Contains(err.Error(), "ci.yml:16:15: uses acme/missing@v1: ") || !errors.Is(err, ErrNotFound) {
		t.Errorf("Pull error = %v, want acme/missing@v1 at ci.yml:16:15", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
		t.Errorf("Pull reported %d errors, want 1:\n%v", n, err)
	}
	var got []string
	for _, p := range pulled {
		got = append(got, p.Repo+"@"+p.Ref)
		if !p.Fetched || len(p.SHA) != 40 || filepath.Base(p.Dir) != p.SHA {
			t.Errorf("%+v: want fetched, with its SHA and entry", p)
		}
	}
	sort.Strings(got)
	if want := "acme/hello@v1 acme/hello@v2 acme/tool@v1"; strings.Join(got, " ") != want {
		t.Errorf("pulled %v, want %s", got, want)
	}
	if n := f.srv.Fetches("acme/hello"); n != 2 {
		t.Errorf("acme/hello fetched %d times, want 2 (v1 and v2 once each)", n)
	}

	f.srv.Close()
	off := f.resolver(t, cache, WithRepoDir(ws), WithOffline(true))
	ctx := context.Background()
	for _, uses := range []string{"acme/hello@v1", "./local", "acme/hello/sub/dir@v2", "acme/tool@v1"} {
		if _, _, err := off.Action(ctx, uses, ws); err != nil {
			t.Errorf("offline after pull: %s: %v", uses, err)
		}
	}
	called, err := off.Workflow(ctx, "acme/hello/.github/workflows/reuse.yml@v1", ws)
	if err != nil {
		t.Fatalf("offline after pull: %v", err)
	}
	// `$/docker-only` in the called workflow is in acme/hello's entry.
	entry := filepath.Dir(filepath.Dir(filepath.Dir(called.File)))
	if _, meta, err := off.InRepo(entry).Action(ctx, "$/docker-only", ws); err != nil || !meta.Runs.IsDocker() {
		t.Errorf("$/docker-only in the called workflow: %v", err)
	}

	// Pulling again offline checks the cache and fetches nothing.
	again, err := off.Pull(ctx, ws, wf)
	if err == nil || !errors.Is(err, ErrNotCached) || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("offline Pull: %v, want only acme/missing not cached", err)
	}
	for _, p := range again {
		if p.Fetched {
			t.Errorf("offline Pull fetched %+v", p)
		}
	}
}

func TestPullDepthAndCycles(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	// a → b → a: a cycle of local composites ends, and a chain deeper than
	// the limit is reported.
	write := func(dir, uses string) {
		os.MkdirAll(filepath.Join(ws, dir), 0o755)
		src := "name: " + dir + "\ndescription: d\nruns:\n  using: composite\n  steps:\n    - uses: " + uses + "\n"
		if err := os.WriteFile(filepath.Join(ws, dir, "action.yml"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "./b")
	write("b", "./a")
	for i := range maxPullDepth + 1 {
		write("deep"+string(rune('a'+i)), "./deep"+string(rune('a'+i+1)))
	}
	wfSrc := "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - uses: ./a\n      - uses: ./deepa\n"
	wf, err := workflow.NewParser().Parse("w.yml", []byte(wfSrc))
	if err != nil {
		t.Fatal(err)
	}
	r := newTestResolver(t)
	_, err = r.Pull(context.Background(), ws, wf)
	if err == nil || !strings.Contains(err.Error(), "nested more than 10 deep") || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("got %v, want one nesting error", err)
	}
}

// gate is a proxy in front of a git server that holds each fetch's first
// request (GET info/refs) until limit fetches are in flight at once, and
// records the most it saw. Once the limit was reached it lets everything
// through; a fetch held for a whole second is let through too, so a Pull
// that fetches one at a time ends (and fails the test) instead of hanging.
type gate struct {
	limit int

	mu       sync.Mutex
	inflight int
	max      int
	reached  chan struct{}
}

func newGate(t *testing.T, target string, limit int) (*gate, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{limit: limit, reached: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasSuffix(req.URL.Path, "/info/refs") {
			proxy.ServeHTTP(w, req)
			return
		}
		g.mu.Lock()
		g.inflight++
		g.max = max(g.max, g.inflight)
		if g.inflight == g.limit {
			select {
			case <-g.reached:
			default:
				close(g.reached)
			}
		}
		g.mu.Unlock()
		select {
		case <-g.reached:
		case <-time.After(time.Second):
		}
		proxy.ServeHTTP(w, req)
		g.mu.Lock()
		g.inflight--
		g.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return g, srv.URL
}

// TestPullParallel: Pull fetches its repositories at once, at most
// WithPullLimit of them, as runs do (errgroup with SetLimit).
func TestPullParallel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	wfSrc := "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n" +
		"      - uses: acme/hello@v1\n      - uses: acme/hello@v2\n      - uses: acme/hello@feature/x\n      - uses: acme/tool@v1\n"
	wf, err := workflow.NewParser().Parse("w.yml", []byte(wfSrc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		limit int
	}{
		{name: "two at once", limit: 2},
		{name: "all four at once", limit: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, url := newGate(t, f.srv.URL, tt.limit)
			r, err := NewResolver(WithCacheDir(t.TempDir()), WithGitHubURL(url), WithPullLimit(tt.limit))
			if err != nil {
				t.Fatal(err)
			}
			pulled, err := r.Pull(context.Background(), t.TempDir(), wf)
			if err != nil || len(pulled) != 4 {
				t.Fatalf("Pull: %d pulled, %v", len(pulled), err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.max != tt.limit {
				t.Errorf("at most %d fetches at once, want %d (WithPullLimit)", g.max, tt.limit)
			}
		})
	}
	if _, err := NewResolver(WithPullLimit(0)); err == nil {
		t.Error("WithPullLimit(0): no error")
	}
}
