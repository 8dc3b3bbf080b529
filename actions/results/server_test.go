package results

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// client drives a Server the way the toolkits do.
type client struct {
	t     *testing.T
	srv   *httptest.Server
	token string
}

func newTestServer(t *testing.T, opts ...Option) (*Server, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	s, err := New(append([]Option{WithArtifactDir(dir + "/a"), WithCacheDir(dir + "/c")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// call makes one Twirp call and returns the status and decoded body.
func (c *client) call(method string, req any) (int, map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(req)
	hr, _ := http.NewRequest(http.MethodPost, c.srv.URL+twirpPrefix+method, bytes.NewReader(b))
	hr.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		c.t.Fatalf("%s: response is not JSON: %v", method, err)
	}
	return resp.StatusCode, out
}

// ok makes a call that must succeed.
func (c *client) ok(method string, req any) map[string]any {
	c.t.Helper()
	code, out := c.call(method, req)
	if code != http.StatusOK {
		c.t.Fatalf("%s: %d %v", method, code, out)
	}
	return out
}

func do(t *testing.T, method, u string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// upload stores data at a signed URL as @azure/storage-blob's
// uploadStream does: one Put Block per chunk, then Put Block List.
func upload(t *testing.T, signed string, data []byte, chunk int) {
	t.Helper()
	var list strings.Builder
	list.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for i := 0; i < len(data); i += chunk {
		id := base64.StdEncoding.EncodeToString([]byte{byte(i / chunk), 'b', 'l', 'k'})
		if code, b := do(t, http.MethodPut, signed+"&comp=block&blockid="+url.QueryEscape(id), data[i:min(i+chunk, len(data))]); code != http.StatusCreated {
			t.Fatalf("put block: %d %s", code, b)
		}
		list.WriteString("<Latest>" + id + "</Latest>")
	}
	list.WriteString("</BlockList>")
	if code, b := do(t, http.MethodPut, signed+"&comp=blocklist", []byte(list.String())); code != http.StatusCreated {
		t.Fatalf("put block list: %d %s", code, b)
	}
}

func ids(run, job string) map[string]any {
	return map[string]any{"workflow_run_backend_id": run, "workflow_job_run_backend_id": job}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// TestArtifactRoundTrip uploads in one job and lists, downloads (whole
// and ranged) and deletes in another job of the same run.
func TestArtifactRoundTrip(t *testing.T) {
	s, hs := newTestServer(t)
	up := &client{t: t, srv: hs, token: s.Token("run-1", "build")}
	data := bytes.Repeat([]byte("0123456789"), 1000)
	created := up.ok("ArtifactService/CreateArtifact", with(ids("run-1", "build"), "name", "dist", "version", 4))
	upload(t, created["signed_upload_url"].(string), data, 4096)
	fin := up.ok("ArtifactService/FinalizeArtifact", with(ids("run-1", "build"), "name", "dist", "size", "10000"))
	id := fin["artifact_id"].(string)

	down := &client{t: t, srv: hs, token: s.Token("run-1", "test")}
	list := down.ok("ArtifactService/ListArtifacts", with(ids("run-1", "test"), "name_filter", "dist"))
	arts := list["artifacts"].([]any)
	if len(arts) != 1 {
		t.Fatalf("listed %v", arts)
	}
	a := arts[0].(map[string]any)
	if a["database_id"] != id || a["size"] != "10000" || a["name"] != "dist" || !strings.HasPrefix(a["digest"].(string), "sha256:") {
		t.Errorf("listed %v", a)
	}
	if got := down.ok("ArtifactService/ListArtifacts", with(ids("run-1", "test"), "id_filter", id))["artifacts"].([]any); len(got) != 1 {
		t.Errorf("id_filter: %v", got)
	}
	// download-artifact names the job that uploaded the artifact.
	signed := down.ok("ArtifactService/GetSignedArtifactURL", with(ids("run-1", "build"), "name", "dist"))["signed_url"].(string)
	code, body := do(t, http.MethodGet, signed, nil)
	if code != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d, %d bytes", code, len(body))
	}
	req, _ := http.NewRequest(http.MethodGet, signed, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(part) != "0123456789" {
		t.Errorf("ranged download: %d %q", resp.StatusCode, part)
	}

	// Another run sees nothing; a second upload of the name is refused.
	other := &client{t: t, srv: hs, token: s.Token("run-2", "x")}
	if got := other.ok("ArtifactService/ListArtifacts", ids("run-2", "x"))["artifacts"].([]any); len(got) != 0 {
		t.Errorf("run-2 lists %v", got)
	}
	if code, out := up.call("ArtifactService/CreateArtifact", with(ids("run-1", "build"), "name", "dist")); code != http.StatusConflict || out["code"] != "already_exists" {
		t.Errorf("duplicate name: %d %v", code, out)
	}
	down.ok("ArtifactService/DeleteArtifact", with(ids("run-1", "test"), "name", "dist"))
	if code, out := down.call("ArtifactService/GetSignedArtifactURL", with(ids("run-1", "test"), "name", "dist")); code != http.StatusNotFound {
		t.Errorf("after delete: %d %v", code, out)
	}
	if code, _ := do(t, http.MethodGet, signed, nil); code != http.StatusNotFound {
		t.Errorf("download after delete: %d", code)
	}
}

// TestArtifactPutBlob uploads with one Put Blob, as @azure/storage-blob
// does for small files, and checks the digest the client sends.
func TestArtifactPutBlob(t *testing.T) {
	s, hs := newTestServer(t)
	c := &client{t: t, srv: hs, token: s.Token("r", "j")}
	u := c.ok("ArtifactService/CreateArtifact", with(ids("r", "j"), "name", "one", "mime_type", "text/plain"))["signed_upload_url"].(string)
	if code, b := do(t, http.MethodPut, u, []byte("hello")); code != http.StatusCreated {
		t.Fatalf("put blob: %d %s", code, b)
	}
	if code, out := c.call("ArtifactService/FinalizeArtifact", with(ids("r", "j"), "name", "one", "hash", "sha256:00")); code != http.StatusBadRequest || !strings.Contains(out["msg"].(string), "digest") {
		t.Errorf("wrong digest: %d %v", code, out)
	}
	c.ok("ArtifactService/FinalizeArtifact", with(ids("r", "j"), "name", "one", "hash", "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"))
	if code, b := do(t, http.MethodPut, u, []byte("changed")); code != http.StatusConflict {
		t.Errorf("put after finalize: %d %s", code, b)
	}
}

func TestFinalizeWithoutUpload(t *testing.T) {
	s, hs := newTestServer(t)
	c := &client{t: t, srv: hs, token: s.Token("r", "j")}
	c.ok("ArtifactService/CreateArtifact", with(ids("r", "j"), "name", "empty"))
	if code, out := c.call("ArtifactService/FinalizeArtifact", with(ids("r", "j"), "name", "empty")); code != http.StatusPreconditionFailed {
		t.Errorf("finalize before upload: %d %v", code, out)
	}
	if code, out := c.call("ArtifactService/FinalizeArtifact", with(ids("r", "j"), "name", "never-created")); code != http.StatusNotFound {
		t.Errorf("finalize of an unknown name: %d %v", code, out)
	}
}

// saveCache saves data under key and version through the cache service.
func (c *client) saveCache(key, version string, data []byte) {
	c.t.Helper()
	u := c.ok("CacheService/CreateCacheEntry", map[string]any{"key": key, "version": version})["signed_upload_url"].(string)
	upload(c.t, u, data, 3)
	c.ok("CacheService/FinalizeCacheEntryUpload", map[string]any{"key": key, "version": version, "size_bytes": len(data)})
}

func TestCacheRestore(t *testing.T) {
	s, hs := newTestServer(t)
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	c := &client{t: t, srv: hs, token: s.Token("run-1", "job")}
	c.saveCache("deps-linux-aaa", "v1", []byte("old linux"))
	c.saveCache("deps-linux-bbb", "v1", []byte("new linux"))
	c.saveCache("deps-windows-ccc", "v1", []byte("windows"))
	c.saveCache("deps-linux-ddd", "v2", []byte("other version"))
	c.saveCache("deps", "v1", []byte("exact short"))

	// Restores run in another run: caches outlive runs.
	r := &client{t: t, srv: hs, token: s.Token("run-2", "job")}
	tests := []struct {
		name        string
		key         string
		restoreKeys []string
		version     string
		wantKey     string // "" for a miss
		wantData    string
	}{
		{name: "exact key", key: "deps-linux-aaa", version: "v1", wantKey: "deps-linux-aaa", wantData: "old linux"},
		{name: "exact beats newer prefix", key: "deps", version: "v1", wantKey: "deps", wantData: "exact short"},
		{name: "restore key prefix, newest first", key: "deps-linux-zzz", restoreKeys: []string{"deps-linux-"}, version: "v1", wantKey: "deps-linux-bbb", wantData: "new linux"},
		{name: "restore keys in order", key: "nothing", restoreKeys: []string{"deps-windows-", "deps-linux-"}, version: "v1", wantKey: "deps-windows-ccc", wantData: "windows"},
		{name: "key is a prefix too", key: "deps-windows", version: "v1", wantKey: "deps-windows-ccc", wantData: "windows"},
		{name: "version mismatch misses", key: "deps-linux-aaa", version: "v3"},
		{name: "other version matches its own", key: "deps-linux-zzz", restoreKeys: []string{"deps-linux-"}, version: "v2", wantKey: "deps-linux-ddd", wantData: "other version"},
		{name: "no match", key: "build-", restoreKeys: []string{"test-"}, version: "v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			out := r.ok("CacheService/GetCacheEntryDownloadURL", map[string]any{"key": tt.key, "restore_keys": tt.restoreKeys, "version": tt.version})
			if tt.wantKey == "" {
				if out["ok"] == true {
					t.Fatalf("want a miss, got %v", out)
				}
				return
			}
			if out["ok"] != true || out["matched_key"] != tt.wantKey {
				t.Fatalf("got %v, want key %s", out, tt.wantKey)
			}
			code, body := do(t, http.MethodGet, out["signed_download_url"].(string), nil)
			if code != http.StatusOK || string(body) != tt.wantData {
				t.Errorf("download: %d %q, want %q", code, body, tt.wantData)
			}
		})
	}
	r.t = t
	if code, out := r.call("CacheService/CreateCacheEntry", map[string]any{"key": "deps", "version": "v1"}); code != http.StatusConflict {
		t.Errorf("saving an existing key: %d %v", code, out)
	}
}

func TestAuth(t *testing.T) {
	s, hs := newTestServer(t)
	other, _ := newTestServer(t)
	good := s.Token("r", "j")
	tampered := good[:len(good)-2] + "xx"
	tests := []struct {
		name, token, run string
		job, method      string // default "j", ListArtifacts
		want             int
	}{
		{name: "no token", token: "", run: "r", want: http.StatusUnauthorized},
		{name: "garbage", token: "not-a-jwt", run: "r", want: http.StatusUnauthorized},
		{name: "tampered signature", token: tampered, run: "r", want: http.StatusUnauthorized},
		{name: "another server's token", token: other.Token("r", "j"), run: "r", want: http.StatusUnauthorized},
		{name: "token for another run", token: good, run: "r2", want: http.StatusForbidden},
		{name: "upload as another job", token: good, run: "r", job: "j2", method: "ArtifactService/CreateArtifact", want: http.StatusForbidden},
		{name: "good", token: good, run: "r", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{t: t, srv: hs, token: tt.token}
			job, method := "j", "ArtifactService/ListArtifacts"
			if tt.job != "" {
				job, method = tt.job, tt.method
			}
			code, out := c.call(method, with(ids(tt.run, job), "name", "a"))
			if code != tt.want {
				t.Errorf("got %d %v, want %d", code, out, tt.want)
			}
			if code != http.StatusOK && (out["code"] == nil || out["msg"] == nil) {
				t.Errorf("not a Twirp error: %v", out)
			}
			if msg, _ := out["msg"].(string); tt.token != "" && strings.Contains(msg, tt.token) {
				t.Errorf("the error shows the token")
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	s, hs := newTestServer(t)
	c := &client{t: t, srv: hs, token: s.Token("r", "j")}
	tests := []struct {
		name   string
		method string
		req    map[string]any
		want   string
	}{
		{name: "traversal name", method: "ArtifactService/CreateArtifact", req: with(ids("r", "j"), "name", "../../etc/passwd"), want: "invalid_argument"},
		{name: "backslash name", method: "ArtifactService/CreateArtifact", req: with(ids("r", "j"), "name", `a\b`), want: "invalid_argument"},
		{name: "dot-dot name", method: "ArtifactService/GetSignedArtifactURL", req: with(ids("r", "j"), "name", ".."), want: "invalid_argument"},
		{name: "empty name", method: "ArtifactService/CreateArtifact", req: ids("r", "j"), want: "invalid_argument"},
		{name: "newline name", method: "ArtifactService/DeleteArtifact", req: with(ids("r", "j"), "name", "a\nb"), want: "invalid_argument"},
		{name: "no run id", method: "ArtifactService/ListArtifacts", req: map[string]any{}, want: "invalid_argument"},
		{name: "size not a number", method: "ArtifactService/FinalizeArtifact", req: with(ids("r", "j"), "name", "a", "size", "lots"), want: "malformed"},
		{name: "name of wrong type", method: "ArtifactService/CreateArtifact", req: with(ids("r", "j"), "name", 7), want: "malformed"},
		{name: "cache key with comma", method: "CacheService/CreateCacheEntry", req: map[string]any{"key": "a,b", "version": "v"}, want: "invalid_argument"},
		{name: "cache key too long", method: "CacheService/GetCacheEntryDownloadURL", req: map[string]any{"key": strings.Repeat("k", 513), "version": "v"}, want: "invalid_argument"},
		{name: "no cache version", method: "CacheService/CreateCacheEntry", req: map[string]any{"key": "k"}, want: "invalid_argument"},
		{name: "unknown method", method: "CacheService/DeleteCacheEntry", req: map[string]any{}, want: "bad_route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			code, out := c.call(tt.method, tt.req)
			if out["code"] != tt.want || code != twirpStatus[tt.want] || out["msg"] == "" {
				t.Errorf("got %d %v, want %s", code, out, tt.want)
			}
		})
	}
}

// TestSignedURLs checks that a blob URL works only as signed: not with
// another path, permission or expiry, and not after it expires.
func TestSignedURLs(t *testing.T) {
	s, hs := newTestServer(t)
	clock := time.Now()
	s.now = func() time.Time { return clock }
	c := &client{t: t, srv: hs, token: s.Token("r", "j")}
	u := c.ok("ArtifactService/CreateArtifact", with(ids("r", "j"), "name", "a"))["signed_upload_url"].(string)
	upload(t, u, []byte("data"), 2)
	c.ok("ArtifactService/FinalizeArtifact", with(ids("r", "j"), "name", "a"))
	read := c.ok("ArtifactService/GetSignedArtifactURL", with(ids("r", "j"), "name", "a"))["signed_url"].(string)
	parsed, _ := url.Parse(read)
	q := parsed.Query()
	change := func(k, v string) string {
		q2 := url.Values{}
		for kk, vv := range q {
			q2[kk] = vv
		}
		q2.Set(k, v)
		p := *parsed
		p.RawQuery = q2.Encode()
		return p.String()
	}
	otherPath := *parsed
	otherPath.Path = strings.TrimSuffix(parsed.Path, "/"+parsed.Path[strings.LastIndex(parsed.Path, "/")+1:]) + "/12345"
	tests := []struct {
		name, method, url string
		want              int
	}{
		{name: "as signed", method: http.MethodGet, url: read, want: http.StatusOK},
		{name: "another entry", method: http.MethodGet, url: otherPath.String(), want: http.StatusForbidden},
		{name: "later expiry", method: http.MethodGet, url: change("se", "99999999999"), want: http.StatusForbidden},
		{name: "write with a read URL", method: http.MethodPut, url: change("sp", "w"), want: http.StatusForbidden},
		{name: "read URL used to write", method: http.MethodPut, url: read, want: http.StatusForbidden},
		{name: "no signature", method: http.MethodGet, url: change("sig", ""), want: http.StatusForbidden},
		{name: "bad method", method: http.MethodDelete, url: read, want: http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, b := do(t, tt.method, tt.url, nil); code != tt.want {
				t.Errorf("got %d %s, want %d", code, b, tt.want)
			}
		})
	}
	clock = clock.Add(2 * time.Hour)
	if code, _ := do(t, http.MethodGet, read, nil); code != http.StatusForbidden {
		t.Errorf("expired URL: got %d", code)
	}
}

func TestBlockListErrors(t *testing.T) {
	s, hs := newTestServer(t, WithMaxBlobSize(8))
	c := &client{t: t, srv: hs, token: s.Token("r", "j")}
	u := c.ok("ArtifactService/CreateArtifact", with(ids("r", "j"), "name", "a"))["signed_upload_url"].(string)
	tests := []struct {
		name, suffix, body string
		want               int
	}{
		{name: "unknown block", suffix: "&comp=blocklist", body: "<BlockList><Latest>AAAA</Latest></BlockList>", want: http.StatusBadRequest},
		{name: "not XML", suffix: "&comp=blocklist", body: "{", want: http.StatusBadRequest},
		{name: "bad block id", suffix: "&comp=block&blockid=%%%", body: "x", want: http.StatusBadRequest},
		{name: "too large", suffix: "", body: "123456789", want: http.StatusRequestEntityTooLarge},
		{name: "unknown comp", suffix: "&comp=appendblock", body: "x", want: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := do(t, http.MethodPut, u+tt.suffix, []byte(tt.body))
			if code != tt.want || !bytes.Contains(b, []byte("<Error><Code>")) {
				t.Errorf("got %d %s, want %d", code, b, tt.want)
			}
		})
	}
}

func TestTokenClaims(t *testing.T) {
	s, _ := newTestServer(t)
	tok := s.Token("run 1", "j")
	if tok != "" {
		t.Errorf("a run id with a space gave a token")
	}
	tok = s.Token("123", "build-1")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Scp string }
	if err := json.Unmarshal(payload, &c); err != nil || !strings.Contains(c.Scp, "Actions.Results:123:build-1") {
		t.Errorf("claims %s", payload)
	}
	if tok != s.Token("123", "build-1") {
		t.Errorf("the token of a job changes between calls")
	}
}

// TestCacheEviction: past the size limit the least recently used entry
// goes (a restore counts as a use), and entries idle for over seven days
// go, as GitHub documents for a repository's caches.
func TestCacheEviction(t *testing.T) {
	s, hs := newTestServer(t, WithCacheLimit(20))
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	c := &client{t: t, srv: hs, token: s.Token("run-1", "job")}
	hit := func(key string) bool {
		out := c.ok("CacheService/GetCacheEntryDownloadURL", map[string]any{"key": key, "version": "v1"})
		return out["ok"] == true
	}
	c.saveCache("a", "v1", []byte("0123456789"))
	c.saveCache("b", "v1", []byte("0123456789"))
	if !hit("a") { // a is now used more recently than b
		t.Fatal("a missing before any eviction")
	}
	c.saveCache("c", "v1", []byte("0123456789")) // 30 bytes > 20: b goes
	if !hit("a") || hit("b") || !hit("c") {
		t.Fatalf("after the limit: a %v, b %v, c %v; want a and c kept, b evicted", hit("a"), hit("b"), hit("c"))
	}
	clock = clock.Add(8 * 24 * time.Hour)
	c.saveCache("d", "v1", []byte("x")) // a and c idle for 8 days: they go
	if hit("a") || hit("c") || !hit("d") {
		t.Fatalf("after 8 idle days: a %v, c %v, d %v; want only d", hit("a"), hit("c"), hit("d"))
	}
}

// TestRunArtifacts lists a run's finalized artifacts with their content's
// path; an upload not finalized is not one of them.
func TestRunArtifacts(t *testing.T) {
	s, hs := newTestServer(t)
	c := &client{t: t, srv: hs, token: s.Token("7", "build")}
	u := c.ok("ArtifactService/CreateArtifact", with(ids("7", "build"), "name", "dist"))["signed_upload_url"].(string)
	if code, b := do(t, http.MethodPut, u, []byte("hello")); code != http.StatusCreated {
		t.Fatalf("put blob: %d %s", code, b)
	}
	c.ok("ArtifactService/FinalizeArtifact", with(ids("7", "build"), "name", "dist", "size", "5"))
	c.ok("ArtifactService/CreateArtifact", with(ids("7", "build"), "name", "unfinished"))
	arts, err := s.RunArtifacts("7")
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 1 || arts[0].Name != "dist" || arts[0].Size != 5 || arts[0].Job != "build" {
		t.Fatalf("RunArtifacts = %+v", arts)
	}
	if b, err := os.ReadFile(arts[0].Path); err != nil || string(b) != "hello" {
		t.Fatalf("content at %s: %q, %v", arts[0].Path, b, err)
	}
	if none, err := s.RunArtifacts("8"); err != nil || len(none) != 0 {
		t.Fatalf("another run: %+v, %v", none, err)
	}
}
