package actions

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/actions/actionstest"
)

// TestDumbHTTPServer fetches actions from a server that speaks only git's
// dumb HTTP protocol: the fixture's bare repositories after `git
// update-server-info`, served as plain files by net/http's FileServer.
// Such a server refuses shallow fetches ("dumb http transport does not
// support shallow capabilities"), so the resolver fetches the ref in full
// and says so in its log (https://git-scm.com/docs/http-protocol, "Dumb
// Clients").
func TestDumbHTTPServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, repo := range []string{"hello", "tool"} {
		actionstest.RunGit(t, filepath.Join(f.srv.Root, "acme", repo), "update-server-info")
	}
	dumb := httptest.NewServer(http.FileServer(http.Dir(f.srv.Root)))
	t.Cleanup(dumb.Close)
	var logs bytes.Buffer // slog.TextHandler serializes its writes
	r, err := NewResolver(WithCacheDir(t.TempDir()), WithGitHubURL(dumb.URL),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, uses string
		wantSHA    string
		wantName   string
	}{
		{name: "lightweight tag", uses: "acme/hello@v1", wantSHA: f.sha1, wantName: "hello"},
		{name: "annotated tag", uses: "acme/hello@v2", wantSHA: f.sha2, wantName: "hello v2"},
		{name: "branch with slash", uses: "acme/hello@feature/x", wantSHA: f.shaFeat, wantName: "hello feature"},
		{name: "sha no ref points at", uses: "acme/hello@" + f.shaMid, wantSHA: f.shaMid, wantName: "hello"},
		{name: "other repository", uses: "acme/tool@v1", wantName: "tool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, meta, err := r.Action(context.Background(), tt.uses, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := name(meta); got != tt.wantName {
				t.Errorf("name = %q, want %q", got, tt.wantName)
			}
			if tt.wantSHA != "" && filepath.Base(dir) != tt.wantSHA {
				t.Errorf("dir = %s, want the entry of %s", dir, tt.wantSHA)
			}
		})
	}
	if !strings.Contains(logs.String(), "refused a shallow fetch") {
		t.Errorf("the log does not say the fetch fell back to a full one:\n%s", logs.String())
	}
}
