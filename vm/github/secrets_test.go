package github

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// echoAuth answers every request with an error whose message quotes the
// request's Authorization header: the worst server for leaking a token
// into error text.
func echoAuth(status int) route {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, status, map[string]string{"message": "rejected credentials " + r.Header.Get("Authorization")})
	}
}

func TestTokensNeverInErrors(t *testing.T) {
	t.Parallel()
	for _, au := range auths {
		t.Run(au.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			for _, mp := range []string{
				"POST /repos/octo-org/octo-repo/actions/runners/generate-jitconfig",
				"DELETE /repos/octo-org/octo-repo/actions/runners/7",
				"GET /repos/octo-org/octo-repo/actions/runners",
				"GET /repos/octo-org/octo-repo/actions/runs",
			} {
				f.handle(mp, echoAuth(http.StatusInternalServerError))
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := newTestClient(t, f, WithRepo("octo-org", "octo-repo"), au.setup(t, f), WithLogger(log))
			ctx := context.Background()
			_, err1 := c.JITConfig(ctx, "r", []string{"self-hosted"})
			err2 := c.RemoveRunner(ctx, 7)
			_, err3 := c.ListRunners(ctx)
			_, err4 := c.QueuedJobs(ctx)
			for i, err := range []error{err1, err2, err3, err4} {
				if err == nil {
					t.Fatalf("call %d: no error from a failing server", i)
				}
				assertNoSecret(t, fmt.Sprintf("error %d", i), err.Error())
				// One level down is scrubbed as well.
				assertNoSecret(t, fmt.Sprintf("unwrapped error %d", i), errors.Unwrap(err).Error())
				if !strings.Contains(err.Error(), "rejected credentials") || !strings.Contains(err.Error(), redacted) {
					t.Errorf("error %d %q: the server's message should survive, scrubbed", i, err)
				}
			}
			assertNoSecret(t, "logs", logs.String())
			assertNoSecret(t, "formatted client", fmt.Sprintf("%v %+v %#v %s %x %d", c, c, c, c, c, c))
		})
	}
}

// TestScrubRegistrationToken: per-call secrets (a registration token), the
// client's token and anything token-shaped are all scrubbed.
func TestScrubRegistrationToken(t *testing.T) {
	t.Parallel()
	c := &Client{secrets: []string{testPAT}}
	err := c.wrap("op", errors.New("bad token AABF3JGZDX3P5PMEXLND6TS6FCWO6 and "+testPAT+" and github_pat_11ABCDEFG0123456789_abcdefghijklmnop"), "AABF3JGZDX3P5PMEXLND6TS6FCWO6")
	want := "github: op: bad token [REDACTED] and [REDACTED] and [REDACTED]"
	if err.Error() != want {
		t.Errorf("scrubbed error %q, want %q", err, want)
	}
}

func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, secret := range []string{testPAT, testInstallToken} {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains a token: %s", where, text)
		}
	}
	if strings.Contains(text, "PRIVATE KEY") {
		t.Errorf("%s contains a private key: %s", where, text)
	}
}

func TestAppTokenExchangeFailure(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	// The fake knows a different key, so the JWT does not verify and the
	// installation token request fails with 401.
	other, _ := newAppKey(t)
	f.asApp(&other.PublicKey)
	f.t = &quietT{TB: t} // the fake reports the bad JWT; that is expected here
	_, pemBytes := newAppKey(t)
	c := newTestClient(t, f, WithOrg("octo-org"), WithApp(testAppID, testInstallID, pemBytes))
	_, err := c.ListRunners(context.Background())
	if err == nil {
		t.Fatal("no error when the installation token cannot be obtained")
	}
	if !strings.Contains(err.Error(), "list runners in organization octo-org") {
		t.Errorf("error %q does not say what failed", err)
	}
	assertNoSecret(t, "error", err.Error())
	if len(f.requests()) != 0 {
		t.Errorf("API calls were made without an installation token: %+v", f.requests())
	}
}

// quietT swallows Errorf, for fakes that are expected to see bad input.
type quietT struct{ testing.TB }

func (quietT) Errorf(string, ...any) {}

func TestInstallationTokenIsCached(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("DELETE /orgs/octo-org/actions/runners/1", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(http.StatusNoContent)
	})
	key, pemBytes := newAppKey(t)
	f.asApp(&key.PublicKey)
	c := newTestClient(t, f, WithOrg("octo-org"), WithApp(testAppID, testInstallID, pemBytes))
	for range 3 {
		if err := c.RemoveRunner(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	}
	if f.tokens != 1 {
		t.Errorf("%d installation tokens fetched for 3 calls, want 1", f.tokens)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	_, pemBytes := newAppKey(t)
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{name: "no credentials", opts: []Option{WithOrg("o")}, want: "no credentials"},
		{name: "both credentials", opts: []Option{WithOrg("o"), WithToken(testPAT), WithApp(1, 2, pemBytes)}, want: "exclusive"},
		{name: "no scope", opts: []Option{WithToken(testPAT)}, want: "no scope"},
		{name: "both scopes", opts: []Option{WithToken(testPAT), WithOrg("o"), WithRepo("o", "r")}, want: "exclusive"},
		{name: "empty token", opts: []Option{WithToken(" ")}, want: "token is empty"},
		{name: "bad org", opts: []Option{WithOrg("a/b")}, want: "not a valid login"},
		{name: "bad repo", opts: []Option{WithRepo("o", "../x")}, want: "not a valid owner/name"},
		{name: "relative base URL", opts: []Option{WithBaseURL("/api/v3")}, want: "absolute http or https"},
		{name: "zero group", opts: []Option{WithRunnerGroupID(0)}, want: "runner group ID"},
		{name: "nil HTTP client", opts: []Option{WithHTTPClient(nil)}, want: "HTTP client is nil"},
		{name: "zero app ID", opts: []Option{WithApp(0, 2, pemBytes)}, want: "must be positive"},
		{name: "bad private key", opts: []Option{WithOrg("o"), WithApp(1, 2, []byte("-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----\n"))}, want: "app private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			assertNoSecret(t, "error", err.Error())
		})
	}
}

func TestHTTPClientNotModified(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.handle("GET /orgs/octo-org/actions/runners", reply(http.StatusOK, map[string]any{"total_count": 0, "runners": []any{}}))
	hc := &http.Client{}
	c := newTestClient(t, f, WithOrg("octo-org"), WithToken(testPAT), WithHTTPClient(hc))
	if _, err := c.ListRunners(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hc.Transport != nil {
		t.Error("New installed its auth transport on the caller's http.Client")
	}
}

func TestWebURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		api, path, want string
	}{
		{api: "https://api.github.com/", path: "octo-org/octo-repo", want: "https://github.com/octo-org/octo-repo"},
		{api: "https://ghes.example.com/api/v3/", path: "octo-org", want: "https://ghes.example.com/octo-org"},
		{api: "http://127.0.0.1:8080/", path: "o/r", want: "http://127.0.0.1:8080/o/r"},
	}
	for _, tt := range tests {
		t.Run(tt.api, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.api)
			if err != nil {
				t.Fatal(err)
			}
			if got := webURL(u, tt.path); got != tt.want {
				t.Errorf("webURL(%s, %s) = %s, want %s", tt.api, tt.path, got, tt.want)
			}
		})
	}
}

func TestParseRegistrationConfig(t *testing.T) {
	t.Parallel()
	valid, err := RegistrationConfig{Kind: KindRegistration, URL: "https://github.com/o", Token: "T0K3N", Name: "n", Labels: []string{"a"}}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// The shape of a GitHub just-in-time configuration: base64 JSON with
	// dotted keys and no "kind".
	jit := base64.StdEncoding.EncodeToString([]byte(`{".runner":"eyJ9","credentials":"eyJ9","credentials_rsaparams":"eyJ9"}`))
	tests := []struct {
		name    string
		config  string
		want    string // error substring, "" for success
		notRegn bool
	}{
		{name: "registration", config: valid},
		{name: "GitHub JIT config", config: jit, notRegn: true, want: "not a registration config"},
		{name: "not base64", config: "%%%T0K3N", want: "not base64"},
		{name: "not JSON", config: base64.StdEncoding.EncodeToString([]byte("T0K3N")), want: "not a base64 JSON object"},
		{name: "missing fields", config: base64.StdEncoding.EncodeToString([]byte(`{"kind":"registration","token":"T0K3N"}`)), want: "lacks url, token or name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, err := ParseRegistrationConfig(tt.config)
			if tt.want == "" {
				if err != nil || rc.Token != "T0K3N" || rc.Name != "n" {
					t.Fatalf("got %v, %v", rc.Labels, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if errors.Is(err, ErrNotRegistration) != tt.notRegn {
				t.Errorf("errors.Is(err, ErrNotRegistration) = %v, want %v", !tt.notRegn, tt.notRegn)
			}
			if strings.Contains(err.Error(), "T0K3N") {
				t.Errorf("error quotes the config: %v", err)
			}
		})
	}
}

// TestEnterpriseBaseURL runs App authentication and the registration
// fallback against a server that, like GitHub Enterprise Server, serves the
// API under /api/v3/: installation tokens must be fetched there too, and the
// config.sh URL must drop the API path.
func TestEnterpriseBaseURL(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ghes := httptest.NewServer(http.StripPrefix("/api/v3", http.HandlerFunc(f.serve)))
	t.Cleanup(ghes.Close)
	key, pemBytes := newAppKey(t)
	f.asApp(&key.PublicKey)
	f.handle("POST /orgs/octo-org/actions/runners/generate-jitconfig", reply(http.StatusNotFound, map[string]string{"message": "Not Found"}))
	f.handle("POST /orgs/octo-org/actions/runners/registration-token", reply(http.StatusCreated, map[string]string{"token": "REGTOKEN"}))
	c, err := New(WithBaseURL(ghes.URL+"/api/v3"), WithOrg("octo-org"), WithApp(testAppID, testInstallID, pemBytes))
	if err != nil {
		t.Fatal(err)
	}
	jit, err := c.JITConfig(context.Background(), "r1", []string{"self-hosted"})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ParseRegistrationConfig(jit.Config)
	if err != nil {
		t.Fatal(err)
	}
	if want := ghes.URL + "/octo-org"; rc.URL != want {
		t.Errorf("config.sh URL %q, want %q", rc.URL, want)
	}
	if f.tokens != 1 {
		t.Errorf("%d installation tokens fetched under /api/v3, want 1", f.tokens)
	}
	if s := fmt.Sprint((*Client)(nil)); s != "github.Client(nil)" {
		t.Errorf("nil client prints %q", s)
	}
}
