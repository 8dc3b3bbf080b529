package actions

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vermont-ci/vermont/actions/actionstest"
	"github.com/vermont-ci/vermont/workflow"
)

const fixtures = "../testdata/actions"

// fixture is a git server holding acme/hello (tags v1 and annotated v2,
// branches main and feature/x) and acme/tool (tag v1), built from
// testdata/actions.
type fixture struct {
	srv                 *actionstest.Server
	sha1, sha2, shaFeat string
	shaMid              string // a commit that no branch or tag points at
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := actionstest.NewServer(t)
	hello := srv.NewRepo(t, "acme", "hello")
	files := actionstest.ReadTree(t, filepath.Join(fixtures, "hello"))
	f := &fixture{srv: srv}
	f.sha1 = hello.Commit("v1", files)
	hello.Git("tag", "v1")
	f.shaMid = hello.Commit("between releases", map[string]string{"mid.txt": "not the tip of any ref\n"})
	f.sha2 = hello.Commit("v2", map[string]string{"action.yml": strings.Replace(files["action.yml"], "name: hello", "name: hello v2", 1)})
	hello.Git("tag", "-a", "v2", "-m", "release v2")
	hello.Git("checkout", "-q", "-b", "feature/x")
	f.shaFeat = hello.Commit("feature", map[string]string{"action.yml": strings.Replace(files["action.yml"], "name: hello", "name: hello feature", 1)})
	hello.Git("checkout", "-q", "main")
	hello.Push()
	tool := srv.NewRepo(t, "acme", "tool")
	tool.Commit("v1", actionstest.ReadTree(t, filepath.Join(fixtures, "tool")))
	tool.Git("tag", "v1")
	tool.Push()
	return f
}

// resolver returns a resolver on the fixture's server with its own cache.
func (f *fixture) resolver(t testing.TB, cache string, opts ...Option) *Resolver {
	t.Helper()
	r, err := NewResolver(append([]Option{WithCacheDir(cache), WithGitHubURL(f.srv.URL)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestActionRemote(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.resolver(t, t.TempDir())
	tests := []struct {
		name, uses string
		wantName   string
		wantUsing  string
		wantSHA    string
		wantSub    string // path of dir inside the entry
	}{
		{name: "lightweight tag", uses: "acme/hello@v1", wantName: "hello", wantUsing: "node20", wantSHA: f.sha1},
		{name: "annotated tag", uses: "acme/hello@v2", wantName: "hello v2", wantUsing: "node20", wantSHA: f.sha2},
		{name: "default branch", uses: "acme/hello@main", wantName: "hello v2", wantUsing: "node20", wantSHA: f.sha2},
		{name: "branch with slash", uses: "acme/hello@feature/x", wantName: "hello feature", wantUsing: "node20", wantSHA: f.shaFeat},
		{name: "full sha", uses: "acme/hello@" + f.sha1, wantName: "hello", wantUsing: "node20", wantSHA: f.sha1},
		{name: "owner and repo case", uses: "ACME/Hello@v1", wantName: "hello", wantUsing: "node20", wantSHA: f.sha1},
		{name: "sub-directory", uses: "acme/hello/sub/dir@v1", wantName: "greet-composite", wantUsing: "composite", wantSHA: f.sha1, wantSub: "sub/dir"},
		{name: "dockerfile only", uses: "acme/hello/docker-only@v2", wantUsing: "docker", wantSHA: f.sha2, wantSub: "docker-only"},
		{name: "other repo", uses: "acme/tool@v1", wantName: "tool", wantUsing: "docker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, meta, err := r.Action(context.Background(), tt.uses, "")
			if err != nil {
				t.Fatal(err)
			}
			if meta.Runs.Using.Value != tt.wantUsing {
				t.Errorf("runs.using = %q, want %q", meta.Runs.Using.Value, tt.wantUsing)
			}
			if got := name(meta); got != tt.wantName {
				t.Errorf("name = %q, want %q", got, tt.wantName)
			}
			if tt.wantSHA != "" {
				want := filepath.Join(f.srv.URL, tt.wantSHA, filepath.FromSlash(tt.wantSub))
				want = want[len(f.srv.URL):]
				if !strings.HasSuffix(dir, want) {
					t.Errorf("dir = %s, want it to end in %s", dir, want)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.Base(meta.File))); err != nil {
				t.Errorf("metadata file not in dir: %v", err)
			}
		})
	}
	// acme/hello@v1, ACME/Hello@v1 and the sub-directory share one fetch,
	// and @SHA1 is the commit v1 already cached; v2, main and feature/x are
	// fetched once each.
	if got := f.srv.Fetches("acme/hello"); got != 4 {
		t.Errorf("acme/hello fetched %d times, want 4 (one per distinct ref not yet cached)", got)
	}
}

func name(a *workflow.Action) string {
	if a.Name == nil {
		return ""
	}
	return a.Name.Value
}

func TestFetchBySHA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.resolver(t, t.TempDir())
	for _, sha := range []string{f.sha1, f.shaMid, strings.ToUpper(f.shaFeat)} {
		dir, meta, err := r.Action(context.Background(), "acme/hello@"+sha, "")
		if err != nil {
			t.Fatalf("%s: %v", sha, err)
		}
		if filepath.Base(dir) != strings.ToLower(sha) || meta.Runs == nil {
			t.Errorf("%s: dir %s", sha, dir)
		}
		if sha == f.shaMid {
			if _, err := os.Stat(filepath.Join(dir, "mid.txt")); err != nil {
				t.Errorf("the commit between releases was not checked out: %v", err)
			}
		}
	}
}

func TestDockerfileOnlyMetadata(t *testing.T) {
	t.Parallel()
	r := newTestResolver(t)
	_, meta, err := r.Action(context.Background(), "./docker-only", filepath.Join(fixtures, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if !meta.Runs.IsDocker() || meta.Runs.Image == nil || meta.Runs.Image.Value != "Dockerfile" {
		t.Errorf("runs = %+v, want using docker, image Dockerfile", meta.Runs)
	}
}

func newTestResolver(t testing.TB, opts ...Option) *Resolver {
	t.Helper()
	r, err := NewResolver(append([]Option{WithCacheDir(t.TempDir()), WithGitHubURL("http://127.0.0.1:1")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWorkflowRemote(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.resolver(t, t.TempDir())
	ctx := context.Background()
	wf, err := r.Workflow(ctx, "acme/hello/.github/workflows/reuse.yml@v1", "")
	if err != nil {
		t.Fatal(err)
	}
	call := wf.Event("workflow_call")
	if call == nil || len(call.Inputs) != 1 || call.Inputs[0].Name.Value != "target" || call.Inputs[0].Default.Value != "prod" {
		t.Fatalf("workflow_call = %+v, want one input target with default prod", call)
	}
	if len(call.Outputs) != 1 || call.Outputs[0].Value.Value != "${{ jobs.build.outputs.result }}" {
		t.Errorf("outputs = %+v", call.Outputs)
	}
	if wf.Job("build") == nil || wf.Job("build").Steps[0].Uses.Value != "acme/hello/sub/dir@v1" {
		t.Errorf("job build not read: %+v", wf.Jobs)
	}

	_, err = r.Workflow(ctx, "acme/hello/.github/workflows/push.yml@v1", "")
	var list workflow.ErrorList
	if !errors.As(err, &list) || !strings.Contains(err.Error(), "push.yml:1:5: ") || !strings.Contains(err.Error(), "no workflow_call trigger") {
		t.Errorf("not-reusable workflow: got %v, want a positioned diagnostic about workflow_call", err)
	}
	_, err = r.Workflow(ctx, "acme/hello/.github/workflows/absent.yml@v1", "")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "absent.yml") {
		t.Errorf("missing workflow file: got %v, want ErrNotFound naming the file", err)
	}
	_, err = r.Workflow(ctx, "acme/hello@v1", "")
	if !errors.Is(err, ErrBadReference) || !strings.Contains(err.Error(), "not a reusable workflow") {
		t.Errorf("action as workflow: got %v, want ErrBadReference", err)
	}
}

func TestCacheWithServerStopped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := t.TempDir()
	ctx := context.Background()
	uses := []string{"acme/hello@v1", "acme/hello@main", "acme/hello/sub/dir@v2", "acme/hello@" + f.sha1, "acme/tool@v1"}
	const wfUses = "acme/hello/.github/workflows/reuse.yml@v1"
	want := map[string]string{}
	first := f.resolver(t, cache)
	for _, u := range uses {
		dir, _, err := first.Action(ctx, u, "")
		if err != nil {
			t.Fatal(err)
		}
		want[u] = dir
	}
	if _, err := first.Workflow(ctx, wfUses, ""); err != nil {
		t.Fatal(err)
	}
	f.srv.Close()

	for _, mode := range []struct {
		name    string
		offline bool
	}{{"online, server stopped", false}, {"offline", true}} {
		t.Run(mode.name, func(t *testing.T) {
			r := f.resolver(t, cache, WithOffline(mode.offline))
			for _, u := range uses {
				dir, meta, err := r.Action(ctx, u, "")
				if err != nil {
					t.Fatalf("%s: %v", u, err)
				}
				if dir != want[u] || meta.Runs == nil {
					t.Errorf("%s: dir %s, want %s", u, dir, want[u])
				}
			}
			if _, err := r.Workflow(ctx, wfUses, ""); err != nil {
				t.Errorf("%s: %v", wfUses, err)
			}
		})
	}

	r := f.resolver(t, cache, WithOffline(true))
	_, _, err := r.Action(ctx, "acme/hello@v9", "")
	if !errors.Is(err, ErrNotCached) {
		t.Fatalf("offline miss: got %v, want ErrNotCached", err)
	}
	for _, s := range []string{"acme/hello@v9", "vermont actions pull", cache} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("offline miss error %q does not mention %q", err, s)
		}
	}
}

func TestConcurrentFetchOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.resolver(t, t.TempDir())
	const n = 8
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			uses := "acme/hello@v2"
			if i%2 == 1 {
				uses = "acme/hello/sub/dir@v2" // same repo@ref, so the same fetch
			}
			dirs[i], _, errs[i] = r.Action(context.Background(), uses, "")
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	if got := f.srv.Fetches("acme/hello"); got != 1 {
		t.Errorf("%d concurrent resolves of acme/hello@v2 made %d fetches, want 1", n, got)
	}
	if dirs[0] != dirs[2] || dirs[1] != filepath.Join(dirs[0], "sub", "dir") {
		t.Errorf("dirs differ: %v", dirs)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.resolver(t, t.TempDir())
	tests := []struct {
		name, uses string
		want       error
		wantText   []string
	}{
		{name: "missing ref", uses: "acme/hello@nope", want: ErrNotFound, wantText: []string{"acme/hello@nope", "no branch, tag or commit"}},
		{name: "missing sha", uses: "acme/hello@" + strings.Repeat("0", 40), want: ErrNotFound, wantText: []string{strings.Repeat("0", 40)}},
		{name: "missing repo", uses: "acme/missing@v1", want: ErrNotFound, wantText: []string{"acme/missing@v1", "repository does not exist"}},
		{name: "no metadata", uses: "acme/hello/nometa@v1", want: ErrNoMetadata, wantText: []string{"no action.yml, action.yaml or Dockerfile"}},
		{name: "missing path", uses: "acme/hello/absent@v1", want: ErrNotFound, wantText: []string{"absent", "does not exist"}},
		{name: "bad metadata", uses: "acme/hello/bad@v1", wantText: []string{"bad/action.yml:4:3: missing key \"using\""}},
		{name: "path leaves repo", uses: "acme/hello/../tool@v1", want: ErrBadReference, wantText: []string{"leaves the repository"}},
		{name: "no version", uses: "acme/hello", want: ErrBadReference, wantText: []string{"needs a version"}},
		{name: "docker", uses: "docker://alpine:3.20", want: ErrBadReference, wantText: []string{"container image"}},
		{name: "self without repo", uses: "$/sub/dir", want: ErrBadReference, wantText: []string{"WithRepoDir"}},
		{name: "local without workspace", uses: "./sub/dir", want: ErrBadReference, wantText: []string{"no workspace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := r.Action(context.Background(), tt.uses, "")
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestLocalAndSelf(t *testing.T) {
	t.Parallel()
	ws, err := filepath.Abs(filepath.Join(fixtures, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	r := newTestResolver(t, WithRepoDir(ws))
	ctx := context.Background()
	for _, uses := range []string{"./sub/dir", "$/sub/dir", "$/./sub/dir/"} {
		dir, meta, err := r.Action(ctx, uses, ws)
		if err != nil {
			t.Fatalf("%s: %v", uses, err)
		}
		if dir != filepath.Join(ws, "sub", "dir") || name(meta) != "greet-composite" {
			t.Errorf("%s: dir %s name %q", uses, dir, name(meta))
		}
	}
	if dir, _, err := r.Action(ctx, "./", ws); err != nil || dir != ws {
		t.Errorf("./: dir %s, err %v", dir, err)
	}
	for _, uses := range []string{"./.github/workflows/reuse.yml", "$/.github/workflows/reuse.yml"} {
		wf, err := r.Workflow(ctx, uses, ws)
		if err != nil || wf.Name.Value != "reusable" {
			t.Errorf("%s: %v", uses, err)
		}
	}
	if _, _, err := r.Action(ctx, "$/../tool", ws); !errors.Is(err, ErrBadReference) {
		t.Errorf("$/../tool: got %v, want ErrBadReference", err)
	}
	other := r.InRepo(filepath.Join(ws, "sub"))
	if dir, _, err := other.Action(ctx, "$/dir", ws); err != nil || dir != filepath.Join(ws, "sub", "dir") {
		t.Errorf("InRepo: dir %s, err %v", dir, err)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	const token = "s3cr3t-t0ken-value"
	f := newFixture(t)
	priv := f.srv.NewRepo(t, "acme", "private")
	priv.Commit("v1", actionstest.ReadTree(t, filepath.Join(fixtures, "tool")))
	priv.Git("tag", "v1")
	priv.Push()
	auth := "Basic " + (&Resolver{token: token}).basicAuth()
	f.srv.RequireAuth("acme/private", auth)
	ctx := context.Background()

	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	none := f.resolver(t, t.TempDir(), WithLogger(logger))
	_, _, err := none.Action(ctx, "acme/private@v1", "")
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "--token-env") {
		t.Errorf("without token: got %v, want ErrAuth with a hint", err)
	}

	wrong := f.resolver(t, t.TempDir(), WithToken(token+"-wrong"), WithLogger(logger))
	_, _, err = wrong.Action(ctx, "acme/private@v1", "")
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("wrong token: got %v, want an error without the token", err)
	}
	_, _, err = wrong.Action(ctx, "acme/private@nope", "")
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("wrong token, bad ref: got %v", err)
	}

	good := f.resolver(t, t.TempDir(), WithToken(token), WithLogger(logger))
	if _, meta, err := good.Action(ctx, "acme/private@v1", ""); err != nil || name(meta) != "tool" {
		t.Fatalf("with token: %v", err)
	}
	_, _, err = good.Action(ctx, "acme/private@nope", "")
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), token) {
		t.Errorf("with token, bad ref: got %v", err)
	}
	seen := strings.Join(f.srv.Authorizations(), "\n")
	if !strings.Contains(seen, auth) {
		t.Errorf("the server never saw the token's Authorization header; saw %q", seen)
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), auth[len("Basic "):]) {
		t.Errorf("token in logs:\n%s", logs.String())
	}
	if got := good.redact("x " + token + " y " + auth); strings.Contains(got, token) || strings.Contains(got, auth[6:]) {
		t.Errorf("redact left the token: %q", got)
	}
}

func TestCheckout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := t.TempDir()
	r := f.resolver(t, cache)
	ctx := context.Background()
	tests := []struct {
		name, ref, wantSHA, wantName string
	}{
		{name: "tag", ref: "v1", wantSHA: f.sha1, wantName: "name: hello\n"},
		{name: "default branch", ref: "", wantSHA: f.sha2, wantName: "name: hello v2\n"},
		{name: "branch", ref: "feature/x", wantSHA: f.shaFeat, wantName: "name: hello feature\n"},
		{name: "sha", ref: f.sha1, wantSHA: f.sha1, wantName: "name: hello\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "co")
			if err := r.Checkout(ctx, "acme/hello", tt.ref, dest); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(actionstest.RunGit(t, dest, "rev-parse", "HEAD")); got != tt.wantSHA {
				t.Errorf("HEAD = %s, want %s", got, tt.wantSHA)
			}
			b, err := os.ReadFile(filepath.Join(dest, "action.yml"))
			if err != nil || !strings.HasPrefix(string(b), tt.wantName) {
				t.Errorf("action.yml = %q, %v", b, err)
			}
			if got := strings.TrimSpace(actionstest.RunGit(t, dest, "remote", "get-url", "origin")); got != f.srv.URL+"/acme/hello" {
				t.Errorf("origin = %s", got)
			}
			if s := actionstest.RunGit(t, dest, "status", "--porcelain"); s != "" {
				t.Errorf("working tree not clean: %s", s)
			}
		})
	}
	t.Run("not empty", func(t *testing.T) {
		dest := t.TempDir()
		os.WriteFile(filepath.Join(dest, "keep"), []byte("x"), 0o644)
		if err := r.Checkout(ctx, "acme/hello", "v1", dest); err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Errorf("got %v, want a not-empty error", err)
		}
		if _, err := os.Stat(filepath.Join(dest, "keep")); err != nil {
			t.Errorf("Checkout touched an existing file: %v", err)
		}
	})
	t.Run("bad repo", func(t *testing.T) {
		if err := r.Checkout(ctx, "acme", "v1", t.TempDir()); !errors.Is(err, ErrBadReference) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("offline from cache", func(t *testing.T) {
		off := f.resolver(t, cache, WithOffline(true))
		dest := filepath.Join(t.TempDir(), "co")
		if err := off.Checkout(ctx, "acme/hello", "v1", dest); err != nil {
			t.Fatal(err)
		}
		if err := off.Checkout(ctx, "acme/tool", "main", filepath.Join(t.TempDir(), "x")); !errors.Is(err, ErrNotCached) {
			t.Errorf("offline miss: %v", err)
		}
	})
}

func TestDamagedCacheIsNotTrusted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := t.TempDir()
	r := f.resolver(t, cache)
	key := r.repoKey("acme", "hello")
	// A crashed fetch left a temp dir; an index names a commit whose entry
	// never made it into place; another index line is garbage.
	os.MkdirAll(filepath.Join(cache, "tmp", "fetch-123", ".git"), 0o755)
	if err := writeIndex(r.indexFile(key, "v1"), strings.Repeat("a", 40)); err != nil {
		t.Fatal(err)
	}
	if err := writeIndex(r.indexFile(key, "v2"), "garbage"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ uses, sha string }{{"acme/hello@v1", f.sha1}, {"acme/hello@v2", f.sha2}} {
		dir, _, err := r.Action(context.Background(), tc.uses, "")
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(dir) != tc.sha {
			t.Errorf("%s resolved to %s, want %s", tc.uses, dir, tc.sha)
		}
	}
	if got := f.srv.Fetches("acme/hello"); got != 2 {
		t.Errorf("fetches = %d, want 2 (damaged entries fetched again)", got)
	}
}

func TestEscapeName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: "v1", want: "v1"},
		{in: "V1", want: "%561"},
		{in: "feature/x", want: "feature%2Fx"},
		{in: ".hidden", want: "%2Ehidden"},
		{in: "127.0.0.1:8080", want: "127.0.0.1%3A8080"},
	}
	for _, tt := range tests {
		if got := escapeName(tt.in); got != tt.want {
			t.Errorf("escapeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
