package ctrdtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// These tests speak HTTP to the registry directly, to check the shapes a
// client such as containerd relies on; internal/ctrd pulls from it with
// containerd.

func requireBusybox(t *testing.T) {
	t.Helper()
	if err := checkStatic(BusyboxPath); err != nil {
		require(t, missingError([]string{err.Error()}))
	}
}

// get sends one request and returns the response with its body read.
func get(t *testing.T, method, u string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// errorCode returns the first code of a distribution error body.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("error body %q: want {\"errors\": [...]} (%v)", body, err)
	}
	return e.Errors[0].Code
}

func TestRegistryPullShapes(t *testing.T) {
	requireBusybox(t)
	r := NewRegistry(t, RegistryOptions{})
	ref := r.Push(t, "team/app:1", ImageOptions{Files: []File{{Path: "/marker", Data: []byte("x")}}})
	if want := r.Host() + "/team/app:1"; ref != want {
		t.Fatalf("Push = %s, want %s", ref, want)
	}
	base := "http://" + r.Host() + "/v2/"
	accept := http.Header{"Accept": {ocispec.MediaTypeImageManifest + ", " + ocispec.MediaTypeImageIndex}}

	resp, _ := get(t, http.MethodGet, base, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Errorf("GET /v2/ = %s, API version %q; want 200 and registry/2.0", resp.Status, resp.Header.Get("Docker-Distribution-API-Version"))
	}

	head, body := get(t, http.MethodHead, base+"team/app/manifests/1", accept)
	dgst := digest.Digest(head.Header.Get("Docker-Content-Digest"))
	if head.StatusCode != http.StatusOK || dgst.Validate() != nil || len(body) != 0 || head.ContentLength <= 0 {
		t.Fatalf("HEAD manifest by tag = %s, digest %q, length %d, body %d bytes", head.Status, dgst, head.ContentLength, len(body))
	}
	if dgst.String() != r.Digest(ref) {
		t.Errorf("Docker-Content-Digest %s, Registry.Digest %s", dgst, r.Digest(ref))
	}
	resp, manifest := get(t, http.MethodGet, base+"team/app/manifests/"+dgst.String(), accept)
	if resp.StatusCode != http.StatusOK || digest.FromBytes(manifest) != dgst || int64(len(manifest)) != head.ContentLength ||
		resp.Header.Get("Content-Type") != ocispec.MediaTypeImageManifest {
		t.Fatalf("GET manifest by digest = %s, %s, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(manifest))
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("layers %+v, want one gzip layer", m.Layers)
	}
	for _, d := range []ocispec.Descriptor{m.Config, m.Layers[0]} {
		resp, blob := get(t, http.MethodGet, base+"team/app/blobs/"+d.Digest.String(), nil)
		if resp.StatusCode != http.StatusOK || digest.FromBytes(blob) != d.Digest || int64(len(blob)) != d.Size {
			t.Errorf("GET blob %s = %s, %d bytes", d.Digest, resp.Status, len(blob))
		}
	}
	resp, part := get(t, http.MethodGet, base+"team/app/blobs/"+m.Layers[0].Digest.String(), http.Header{"Range": {"bytes=0-9"}})
	if resp.StatusCode != http.StatusPartialContent || len(part) != 10 {
		t.Errorf("ranged GET of a blob = %s, %d bytes; want 206 and 10", resp.Status, len(part))
	}

	errs := []struct {
		name, method, path string
		hdr                http.Header
		status             int
		code               string
	}{
		{name: "unknown repository", method: http.MethodGet, path: "team/none/manifests/1", status: 404, code: "NAME_UNKNOWN"},
		{name: "unknown tag", method: http.MethodGet, path: "team/app/manifests/2", status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "unknown blob", method: http.MethodGet, path: "team/app/blobs/" + digest.FromString("none").String(), status: 404, code: "BLOB_UNKNOWN"},
		{name: "manifest not accepted", method: http.MethodGet, path: "team/app/manifests/1", hdr: http.Header{"Accept": {"application/vnd.docker.distribution.manifest.v1+json"}}, status: 404, code: "MANIFEST_UNKNOWN"},
		{name: "bad name", method: http.MethodGet, path: "Team/App/manifests/1", status: 400, code: "NAME_INVALID"},
		{name: "push", method: http.MethodPut, path: "team/app/manifests/1", status: 405, code: "UNSUPPORTED"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.method, base+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %s, want %d", tt.method, tt.path, resp.Status, tt.status)
			}
			if code := errorCode(t, body); code != tt.code {
				t.Errorf("error code %s, want %s", code, tt.code)
			}
		})
	}
	if n := len(r.Requests()); n < 6+len(errs) {
		t.Errorf("recorded %d requests, want at least %d", n, 6+len(errs))
	}
}

func TestRegistryBasicAuth(t *testing.T) {
	requireBusybox(t)
	r := NewRegistry(t, RegistryOptions{Auth: AuthBasic, Username: "alice", Password: "pw-basic"})
	r.Push(t, "team/app:1", ImageOptions{})
	u := "http://" + r.Host() + "/v2/team/app/manifests/1"
	resp, body := get(t, http.MethodGet, u, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") || errorCode(t, body) != "UNAUTHORIZED" {
		t.Errorf("anonymous GET = %s, challenge %q", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth("alice", "wrong")
	resp, _ = get(t, http.MethodGet, u, req.Header)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password = %s, want 401", resp.Status)
	}
	req.SetBasicAuth("alice", "pw-basic")
	if resp, _ = get(t, http.MethodGet, u, req.Header); resp.StatusCode != http.StatusOK {
		t.Errorf("right password = %s, want 200", resp.Status)
	}
	reqs := r.Requests()
	if len(reqs) != 3 || reqs[0].Scheme != "" || reqs[2].Scheme != "Basic" || reqs[2].Username != "alice" || reqs[2].Status != 200 {
		t.Errorf("requests %+v", reqs)
	}
}

// token asks the token endpoint of r for a token, by GET with Basic
// credentials or by an OAuth2 POST, and returns the status and the token.
func token(t *testing.T, r *Registry, post bool, user, pass string, scopes ...string) (int, string) {
	t.Helper()
	var req *http.Request
	if post {
		form := url.Values{"grant_type": {"password"}, "client_id": {"test"}, "service": {"vermont.test"},
			"username": {user}, "password": {pass}, "scope": {strings.Join(scopes, " ")}}
		req, _ = http.NewRequest(http.MethodPost, "http://"+r.Host()+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		q := url.Values{"service": {"vermont.test"}, "scope": scopes}
		req, _ = http.NewRequest(http.MethodGet, "http://"+r.Host()+"/token?"+q.Encode(), nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		IssuedAt    string `json:"issued_at"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode == http.StatusOK {
		if body.AccessToken == "" || body.ExpiresIn < 60 || body.IssuedAt == "" || (!post && body.Token != body.AccessToken) {
			t.Errorf("token response %+v: want token (GET), access_token, expires_in ≥ 60, issued_at", body)
		}
	}
	return resp.StatusCode, body.AccessToken
}

func TestRegistryBearerAuth(t *testing.T) {
	requireBusybox(t)
	r := NewRegistry(t, RegistryOptions{Auth: AuthBearer, Username: "bob", Password: "pw-token"})
	r.Push(t, "team/app:1", ImageOptions{})
	u := "http://" + r.Host() + "/v2/team/app/manifests/1"
	resp, _ := get(t, http.MethodGet, u, nil)
	want := `Bearer realm="http://` + r.Host() + `/token",service="vermont.test",scope="repository:team/app:pull"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Fatalf("anonymous GET = %s, challenge %q; want 401 and %q", resp.Status, resp.Header.Get("WWW-Authenticate"), want)
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	tests := []struct {
		name       string
		post       bool
		user, pass string
		wantToken  int // status of the token request
		wantPull   int // status of the pull with the token
		wantError  string
	}{
		{name: "GET with Basic", user: "bob", pass: "pw-token", wantToken: 200, wantPull: 200},
		{name: "OAuth2 POST", post: true, user: "bob", pass: "pw-token", wantToken: 200, wantPull: 200},
		{name: "anonymous", wantToken: 200, wantPull: 401, wantError: `error="insufficient_scope"`},
		{name: "wrong password", user: "bob", pass: "nope", wantToken: 401},
		{name: "wrong password POST", post: true, user: "bob", pass: "nope", wantToken: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, tok := token(t, r, tt.post, tt.user, tt.pass, "repository:team/app:pull")
			if status != tt.wantToken {
				t.Fatalf("token status %d, want %d", status, tt.wantToken)
			}
			if status != http.StatusOK {
				return
			}
			resp, _ := get(t, http.MethodGet, u, bearer(tok))
			if resp.StatusCode != tt.wantPull || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tt.wantError) {
				t.Errorf("pull with token = %s, challenge %q; want %d and %q", resp.Status, resp.Header.Get("WWW-Authenticate"), tt.wantPull, tt.wantError)
			}
		})
	}
	if resp, _ := get(t, http.MethodGet, u, bearer("forged")); !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("forged token: challenge %q, want invalid_token", resp.Header.Get("WWW-Authenticate"))
	}
	_, tok := token(t, r, false, "bob", "pw-token", "repository:team/other:pull")
	if resp, _ := get(t, http.MethodGet, u, bearer(tok)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token for another repository = %s, want 401", resp.Status)
	}
	var posts int
	for _, q := range r.Requests() {
		if q.Path == "/token" && q.Method == http.MethodPost && q.Username == "bob" {
			posts++
		}
	}
	if posts != 2 {
		t.Errorf("recorded %d OAuth2 token requests by bob, want 2", posts)
	}
}

func TestRegistryTokenOptions(t *testing.T) {
	requireBusybox(t)
	t.Run("GET only", func(t *testing.T) {
		r := NewRegistry(t, RegistryOptions{Auth: AuthBearer, Username: "bob", Password: "pw", TokenGETOnly: true})
		if status, _ := token(t, r, true, "bob", "pw", "repository:team/app:pull"); status != http.StatusNotFound {
			t.Errorf("POST token = %d, want 404", status)
		}
		if status, _ := token(t, r, false, "bob", "pw", "repository:team/app:pull"); status != http.StatusOK {
			t.Errorf("GET token = %d, want 200", status)
		}
	})
	t.Run("echo", func(t *testing.T) {
		r := NewRegistry(t, RegistryOptions{Auth: AuthBearer, Username: "bob", Password: "pw", EchoCredentials: true})
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.Host()+"/token?service=vermont.test", nil)
		req.SetBasicAuth("bob", "guessed-pw")
		resp, body := get(t, http.MethodGet, req.URL.String(), req.Header)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "guessed-pw") {
			t.Errorf("wrong password = %s %q, want 403 repeating it", resp.Status, body)
		}
	})
}
