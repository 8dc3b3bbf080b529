package ctrdtest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Auth is how a Registry makes clients authenticate.
type Auth int

// The authentication schemes a Registry speaks.
const (
	// AuthNone lets anyone pull.
	AuthNone Auth = iota
	// AuthBasic wants HTTP Basic credentials on every request, as a
	// registry:2 with an htpasswd file does.
	AuthBasic
	// AuthBearer is Docker's token authentication, as Docker Hub and GHCR
	// do it: a request without a token gets 401 with
	// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the token
	// endpoint at the realm (/token) checks the credentials and hands out a
	// token for the scope; anonymous callers get a token that grants
	// nothing, so the registry answers 401 with error="insufficient_scope".
	AuthBearer
)

// RegistryOptions configure NewRegistry.
type RegistryOptions struct {
	Auth     Auth
	Username string // required unless Auth is AuthNone
	Password string // required unless Auth is AuthNone
	// Service is the service name of Bearer challenges and tokens
	// (default "vermont.test").
	Service string
	// TokenGETOnly makes the token endpoint answer OAuth2 POSTs with 404,
	// as GCR once did, so that clients fall back to the GET form with Basic
	// credentials that Docker's token specification describes.
	TokenGETOnly bool
	// EchoCredentials makes wrong credentials get 403 DENIED with a message
	// that repeats them, as a careless registry might. Tests use it to make
	// sure that what a registry says never carries a password into errors
	// or logs.
	EchoCredentials bool
}

// Request is one request a Registry answered.
type Request struct {
	Method string
	Path   string // URL path, without the query
	Scheme string // Authorization scheme sent: "", "Basic" or "Bearer"
	// Username is the user the request named: in Basic credentials, or in
	// the form of an OAuth2 token request.
	Username string
	Status   int
}

// Registry is a read-only registry on 127.0.0.1 speaking the pull side of
// the OCI distribution specification (GET and HEAD of /v2/, of manifests by
// tag or digest, and of blobs), with the authentication of opts, and
// recording every request. Images are built from busybox the way
// BusyboxImage builds them, with gzip layers. It is safe for concurrent
// use.
type Registry struct {
	opts RegistryOptions
	srv  *httptest.Server

	mu       sync.Mutex
	repos    map[string]*repository
	tokens   map[string]map[string]bool // bearer token → repositories it may pull
	requests []Request
}

// repository is one repository's content.
type repository struct {
	tags      map[string]digest.Digest
	manifests map[digest.Digest][]byte // all OCI image manifests
	blobs     map[digest.Digest][]byte
}

// NewRegistry starts a registry and stops it when tb ends.
func NewRegistry(tb testing.TB, opts RegistryOptions) *Registry {
	tb.Helper()
	if opts.Auth != AuthNone && (opts.Username == "" || opts.Password == "") {
		tb.Fatal("ctrdtest.NewRegistry: a registry with authentication needs a username and a password")
	}
	if opts.Service == "" {
		opts.Service = "vermont.test"
	}
	r := &Registry{opts: opts, repos: map[string]*repository{}, tokens: map[string]map[string]bool{}}
	r.srv = httptest.NewServer(r) // listens on 127.0.0.1
	tb.Cleanup(r.srv.Close)
	return r
}

// Host returns the registry's host:port, as image references name it.
func (r *Registry) Host() string { return r.srv.Listener.Addr().String() }

// Push stores a busybox image built from opts under name ("team/app:1": a
// repository and a tag) and returns its full reference (HOST/team/app:1).
// opts.Name is ignored. It skips or fails tb like Shared.Get when busybox
// is missing.
func (r *Registry) Push(tb testing.TB, name string, opts ImageOptions) string {
	tb.Helper()
	repo, tag, ok := strings.Cut(name, ":")
	if !ok || !repoName.MatchString(repo) || !tagName.MatchString(tag) {
		tb.Fatalf("ctrdtest: Push(%q): want REPOSITORY:TAG", name)
	}
	ref := r.Host() + "/" + name
	opts.Name = ref
	img, err := build(opts, true)
	if err != nil {
		require(tb, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rp := r.repos[repo]
	if rp == nil {
		rp = &repository{tags: map[string]digest.Digest{}, manifests: map[digest.Digest][]byte{}, blobs: map[digest.Digest][]byte{}}
		r.repos[repo] = rp
	}
	md := digest.FromBytes(img.manifest)
	rp.manifests[md] = img.manifest
	rp.blobs[digest.FromBytes(img.config)] = img.config
	rp.blobs[digest.FromBytes(img.layer)] = img.layer
	rp.tags[tag] = md
	return ref
}

// Digest returns the manifest digest of an image Push returned, or "".
func (r *Registry) Digest(ref string) string {
	repo, tag, _ := strings.Cut(strings.TrimPrefix(ref, r.Host()+"/"), ":")
	r.mu.Lock()
	defer r.mu.Unlock()
	if rp := r.repos[repo]; rp != nil {
		return rp.tags[tag].String()
	}
	return ""
}

// Requests returns the requests answered so far, in order.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Repository names and tags, from the distribution specification.
var (
	repoName = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagName  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// ServeHTTP answers one request and records it.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rec := Request{Method: req.Method, Path: req.URL.Path}
	rec.Scheme, _, _ = strings.Cut(req.Header.Get("Authorization"), " ")
	rec.Username, _, _ = req.BasicAuth()
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	switch p := req.URL.Path; {
	case p == "/token":
		if user := r.serveToken(sw, req); user != "" {
			rec.Username = user
		}
	case p == "/v2/" || p == "/v2":
		if r.methodOK(sw, req) && r.authorized(sw, req, "") {
			sw.WriteHeader(http.StatusOK)
		}
	case strings.HasPrefix(p, "/v2/"):
		r.serveContent(sw, req, strings.TrimPrefix(p, "/v2/"))
	default:
		writeError(sw, http.StatusNotFound, "NOT_FOUND", "no such endpoint", nil)
	}
	rec.Status = sw.status
	r.mu.Lock()
	r.requests = append(r.requests, rec)
	r.mu.Unlock()
}

// methodOK allows GET and HEAD: this registry takes no pushes.
func (r *Registry) methodOK(w http.ResponseWriter, req *http.Request) bool {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "the operation is unsupported", nil)
	return false
}

// serveContent answers /v2/<name>/manifests/<reference> and
// /v2/<name>/blobs/<digest>.
func (r *Registry) serveContent(w http.ResponseWriter, req *http.Request, rest string) {
	name, kind, ref := splitContentPath(rest)
	switch {
	case kind == "":
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint", nil)
		return
	case !repoName.MatchString(name):
		writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name", map[string]string{"name": name})
		return
	case !r.methodOK(w, req):
		return
	case !r.authorized(w, req, name):
		return
	}
	r.mu.Lock()
	rp := r.repos[name]
	var (
		data []byte
		dgst digest.Digest
	)
	if rp != nil {
		dgst = digest.Digest(ref)
		if kind == "manifests" {
			if d, ok := rp.tags[ref]; ok {
				dgst = d
			}
			data = rp.manifests[dgst]
		} else {
			data = rp.blobs[dgst]
		}
	}
	r.mu.Unlock()
	switch {
	case rp == nil:
		writeError(w, http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", map[string]string{"name": name})
	case data == nil && kind == "manifests":
		writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown", map[string]string{"name": name, "reference": ref})
	case data == nil:
		writeError(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry", map[string]string{"digest": ref})
	case kind == "manifests" && !accepts(req, ocispec.MediaTypeImageManifest):
		writeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "OCI manifest found, but the Accept header does not allow OCI manifests", map[string]string{"name": name, "reference": ref})
	case kind == "manifests":
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", dgst.String())
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Docker-Content-Digest", dgst.String())
		http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(data))
	}
}

// splitContentPath splits "team/app/manifests/1" into the repository, the
// kind (manifests or blobs; "" for neither) and the reference. The
// repository may itself hold "/manifests/", so the last one counts.
func splitContentPath(rest string) (name, kind, ref string) {
	i := strings.LastIndex(rest, "/manifests/")
	kind = "manifests"
	if j := strings.LastIndex(rest, "/blobs/"); j > i {
		i, kind = j, "blobs"
	}
	if i <= 0 {
		return "", "", ""
	}
	name, ref = rest[:i], rest[i+len(kind)+2:]
	if ref == "" || strings.Contains(ref, "/") {
		return "", "", ""
	}
	return name, kind, ref
}

// accepts reports whether the request's Accept headers allow mediaType. No
// Accept header allows anything.
func accepts(req *http.Request, mediaType string) bool {
	values := req.Header.Values("Accept")
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t, _, _ = strings.Cut(t, ";")
			if t = strings.TrimSpace(t); t == mediaType || t == "*/*" {
				return true
			}
		}
	}
	return false
}

// authorized checks the request's credentials for pulling from repo ("" for
// the /v2/ version check), and answers the challenge when they fall short.
func (r *Registry) authorized(w http.ResponseWriter, req *http.Request, repo string) bool {
	switch r.opts.Auth {
	case AuthBasic:
		user, pass, ok := req.BasicAuth()
		if ok && r.validLogin(user, pass) {
			return true
		}
		if ok && r.opts.EchoCredentials {
			writeError(w, http.StatusForbidden, "DENIED", fmt.Sprintf("requested access to the resource is denied for %s:%s", user, pass), nil)
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="vermont test registry"`)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", pullDetail(repo))
		return false
	case AuthBearer:
		challenge := fmt.Sprintf(`Bearer realm="%s/token",service="%s"`, r.srv.URL, r.opts.Service)
		if repo != "" {
			challenge += fmt.Sprintf(`,scope="repository:%s:pull"`, repo)
		}
		token, hasToken := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		r.mu.Lock()
		grants, known := r.tokens[token]
		r.mu.Unlock()
		switch {
		case hasToken && known && (repo == "" || grants[repo]):
			return true
		case hasToken && known:
			challenge += `,error="insufficient_scope"`
		case hasToken:
			challenge += `,error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", pullDetail(repo))
		return false
	}
	return true
}

// pullDetail is the detail of an UNAUTHORIZED error, as registry:2 gives it.
func pullDetail(repo string) any {
	if repo == "" {
		return nil
	}
	return []map[string]string{{"Type": "repository", "Class": "", "Name": repo, "Action": "pull"}}
}

// validLogin compares credentials in constant time.
func (r *Registry) validLogin(user, pass string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(r.opts.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(r.opts.Password))
	return u&p == 1
}

// serveToken is the token endpoint of AuthBearer: GET with Basic
// credentials (Docker's token specification), or POST of an OAuth2
// password grant (Docker's OAuth2 specification), which containerd tries
// first. It returns the username the request named.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) string {
	if r.opts.Auth != AuthBearer {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint", nil)
		return ""
	}
	var (
		user, pass, service string
		scopes              []string
		hasLogin            bool
	)
	switch req.Method {
	case http.MethodGet:
		user, pass, hasLogin = req.BasicAuth()
		service, scopes = req.URL.Query().Get("service"), req.URL.Query()["scope"]
	case http.MethodPost:
		if r.opts.TokenGETOnly {
			writeError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint", nil)
			return ""
		}
		if err := req.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
			return ""
		}
		if req.PostForm.Get("grant_type") != "password" {
			oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only the password grant is supported")
			return ""
		}
		if req.PostForm.Get("client_id") == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "client_id is required")
			return ""
		}
		user, pass = req.PostForm.Get("username"), req.PostForm.Get("password")
		hasLogin = user != "" || pass != ""
		service, scopes = req.PostForm.Get("service"), strings.Fields(req.PostForm.Get("scope"))
	default:
		w.Header().Set("Allow", "GET, POST")
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "use GET or POST")
		return user
	}
	if service != r.opts.Service {
		oauthError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown service %q", service))
		return user
	}
	grants := map[string]bool{}
	switch {
	case hasLogin && !r.validLogin(user, pass) && r.opts.EchoCredentials:
		writeError(w, http.StatusForbidden, "DENIED", fmt.Sprintf("no token for %s:%s", user, pass), nil)
		return user
	case hasLogin && !r.validLogin(user, pass):
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "incorrect username or password", nil)
		return user
	case hasLogin:
		for _, s := range scopes {
			// repository:NAME:ACTIONS, ACTIONS a comma-separated list.
			parts := strings.Split(s, ":")
			if len(parts) == 3 && parts[0] == "repository" && repoName.MatchString(parts[1]) &&
				strings.Contains(","+parts[2]+",", ",pull,") {
				grants[parts[1]] = true
			}
		}
	}
	// Anonymous callers get a token that grants nothing, as on Docker Hub.
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	r.mu.Lock()
	r.tokens[token] = grants
	r.mu.Unlock()
	resp := map[string]any{
		"access_token": token,
		"expires_in":   300,
		"issued_at":    time.Now().UTC().Format(time.RFC3339),
	}
	if req.Method == http.MethodGet {
		resp["token"] = token
	} else {
		resp["scope"] = strings.Join(scopes, " ")
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
	return user
}

// writeError writes the distribution specification's error body.
func writeError(w http.ResponseWriter, status int, code, message string, detail any) {
	e := map[string]any{"code": code, "message": message}
	if detail != nil {
		e["detail"] = detail
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{e}})
}

// oauthError writes an OAuth2 error body (RFC 6749, section 5.2).
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
