package github

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials used by the tests. They are shaped like real ones so that the
// scrubbing of token-shaped strings is exercised too.
const (
	testPAT          = "ghp_TestPersonalAccessToken0123456789ab"
	testInstallToken = "ghs_TestInstallationToken0123456789abcd"
	testAppID        = 123456
	testInstallID    = 987654
)

// call is one request the fake GitHub received.
type call struct {
	Method string
	Path   string
	Query  string
	Auth   string
	Body   []byte
}

// route answers one "METHOD /path" of the fake.
type route func(w http.ResponseWriter, r *http.Request, body []byte)

// fakeGitHub is GitHub's REST API faked at the HTTP boundary: it checks
// authentication, records every call and answers from routes.
type fakeGitHub struct {
	t      testing.TB
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []call
	routes map[string]route
	// wantAuth is the Authorization header API calls must carry.
	wantAuth string
	// appKey, when set, makes the fake a GitHub App host: installation
	// tokens are issued for JWTs signed by this key.
	appKey *rsa.PublicKey
	tokens int // installation tokens issued
}

func newFake(t testing.TB) *fakeGitHub {
	f := &fakeGitHub{t: t, routes: map[string]route{}, wantAuth: "Bearer " + testPAT}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// asApp makes the fake accept GitHub App authentication with key.
func (f *fakeGitHub) asApp(key *rsa.PublicKey) {
	f.appKey = key
	f.wantAuth = "token " + testInstallToken
}

func (f *fakeGitHub) handle(methodPath string, r route) { f.routes[methodPath] = r }

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body})
	f.mu.Unlock()

	if f.appKey != nil && r.Method == http.MethodPost && r.URL.Path == fmt.Sprintf("/app/installations/%d/access_tokens", testInstallID) {
		if err := verifyJWT(r.Header.Get("Authorization"), f.appKey); err != nil {
			f.t.Errorf("installation token request: %v", err)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded"})
			return
		}
		f.mu.Lock()
		f.tokens++
		f.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]any{
			"token":      testInstallToken,
			"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
		return
	}
	if got := r.Header.Get("Authorization"); got != f.wantAuth {
		f.t.Errorf("%s %s: Authorization %q, want %q", r.Method, r.URL.Path, got, f.wantAuth)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	if got := r.Header.Get("Accept"); !strings.Contains(got, "application/vnd.github") {
		f.t.Errorf("%s %s: Accept %q, want GitHub's media type", r.Method, r.URL.Path, got)
	}
	rt, ok := f.routes[r.Method+" "+r.URL.Path]
	if !ok {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	rt(w, r, body)
}

// requests returns the recorded calls, except installation token requests.
func (f *fakeGitHub) requests() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if !strings.HasPrefix(c.Path, "/app/") {
			out = append(out, c)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// reply returns a route that answers status with v.
func reply(status int, v any) route {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, status, v) }
}

// paged returns a route serving pages (1-based "page" query parameter) with
// GitHub's Link header.
func paged(t testing.TB, pages ...any) route {
	return func(w http.ResponseWriter, r *http.Request, _ []byte) {
		n := 1
		if p := r.URL.Query().Get("page"); p != "" {
			var err error
			if n, err = strconv.Atoi(p); err != nil || n < 1 || n > len(pages) {
				t.Errorf("%s: bad page %q", r.URL.Path, p)
				writeJSON(w, http.StatusBadRequest, nil)
				return
			}
		}
		if n < len(pages) {
			next := *r.URL
			q := next.Query()
			q.Set("page", strconv.Itoa(n+1))
			next.RawQuery = q.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.RequestURI()))
		}
		writeJSON(w, http.StatusOK, pages[n-1])
	}
}

// verifyJWT checks a GitHub App JWT ("Bearer <jwt>"): RS256 over the key,
// issued by the app, expiring within GitHub's ten-minute bound.
func verifyJWT(header string, key *rsa.PublicKey) error {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return fmt.Errorf("Authorization %q is not a bearer JWT", header)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("JWT has %d parts", len(parts))
	}
	var head struct{ Alg string }
	if err := decodeSegment(parts[0], &head); err != nil || head.Alg != "RS256" {
		return fmt.Errorf("JWT header: alg %q, err %v", head.Alg, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	var claims struct {
		Iss      string
		Iat, Exp int64
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return err
	}
	if claims.Iss != strconv.Itoa(testAppID) {
		return fmt.Errorf("JWT iss %q, want the app ID %d", claims.Iss, testAppID)
	}
	if life := claims.Exp - claims.Iat; life <= 0 || life > 600 {
		return fmt.Errorf("JWT lifetime %ds, GitHub allows at most 600", life)
	}
	return nil
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// newAppKey generates an RSA key and its PEM, as GitHub hands out for apps.
func newAppKey(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return key, pemBytes
}
