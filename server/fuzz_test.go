package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vermont-ci/vermont/server/mirror"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
)

// FuzzParseConfig: no file makes ParseConfig panic, and every error
// names the file.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"repos:\n  - name: a/b\n    url: x\n", "base-url: 3\nrepos: {}\n", "repos:\n  - [1, 2]\n", "- x\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := ParseConfig("serve.yml", []byte(src), func(string) string { return "" })
		if err != nil && !strings.HasPrefix(err.Error(), "serve.yml") {
			t.Fatalf("error without the file's name: %v", err)
		}
	})
}

// FuzzWebhook: whatever a correctly signed delivery holds, the endpoint
// answers with a status below 500 and never panics.
func FuzzWebhook(f *testing.F) {
	dir := f.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	key, _ := secrets.LoadKey(dir, "")
	bx, _ := secrets.New(key)
	m, _ := mirror.New(filepath.Join(dir, "mirrors"))
	srv, err := New(context.Background(), st, bx, m, nil, WithLogger(slog.New(slog.DiscardHandler)), WithWebhookSecret([]byte("s")))
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	for _, c := range []struct{ event, body string }{
		{"push", `{"ref":"refs/heads/main","repository":{"full_name":"octo/app"}}`},
		{"ping", `{}`}, {"issues", `[1,2]`}, {"", `{}`}, {"push", `not json`},
	} {
		f.Add(c.event, c.body, true)
	}
	f.Fuzz(func(t *testing.T, event, body string, gitea bool) {
		mac := hmac.New(sha256.New, []byte("s"))
		mac.Write([]byte(body))
		sig := hex.EncodeToString(mac.Sum(nil))
		req := httptest.NewRequest("POST", "/webhook", strings.NewReader(body))
		if gitea {
			req.Header.Set("X-Gitea-Event", event)
			req.Header.Set("X-Gitea-Signature", sig)
		} else {
			req.Header.Set("X-GitHub-Event", event)
			req.Header.Set("X-Hub-Signature-256", "sha256="+sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= http.StatusInternalServerError {
			t.Fatalf("%s %q: %d %s", event, body, w.Code, w.Body)
		}
	})
}
