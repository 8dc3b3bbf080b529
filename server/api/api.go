// Package api serves `vermont serve`'s GitHub-compatible REST API under
// /api/v3, GitHub Enterprise Server's prefix, so GitHub's own clients work
// against it unchanged: gh (GH_HOST), @octokit/rest (baseUrl) and go-github
// (WithEnterpriseURLs). Answers use GitHub's JSON shapes (go-github's
// types), status codes, error bodies and pagination
// (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api).
//
// Every route but the root wants a token (package token), sent as
// `Authorization: token T` or `Bearer T`; a read token may not change
// anything. Secrets arrive sealed to the repository's public key and are
// kept encrypted (package secrets); no answer, log line or error holds a
// secret's value.
package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Prefix is the path the API is served under, as GitHub Enterprise
// Server's REST API is.
const Prefix = "/api/v3"

// API is the HTTP handler of the REST API. Make one with New.
type API struct {
	store   Store
	control Control
	box     *secrets.Box
	log     *slog.Logger
	now     func() time.Time
	signKey []byte
	baseURL string
	mux     *http.ServeMux
}

// Store is what the API reads and writes; *store.Store implements it.
type Store interface {
	Tokens
	Repos
	Runs
	Jobs
	Artifacts
	Secrets
	Variables
}

var _ Store = (*store.Store)(nil)

// Option configures New.
type Option func(*API) error

// WithLogger sets the logger (default: slog.Default's handler).
func WithLogger(l *slog.Logger) Option {
	return func(a *API) error {
		if l == nil {
			return errors.New("api: nil logger")
		}
		a.log = l
		return nil
	}
}

// WithClock makes the API read the time from now, for tests of expiry.
func WithClock(now func() time.Time) Option {
	return func(a *API) error {
		if now == nil {
			return errors.New("api: nil clock")
		}
		a.now = now
		return nil
	}
}

// WithBaseURL sets the service's external URL (such as
// https://ci.example.com), which the url fields of answers and the signed
// download URLs start with. By default they are built from each request's
// Host and whether it came over TLS.
func WithBaseURL(u string) Option {
	return func(a *API) error {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return errors.New("api: base URL must start with http:// or https://")
		}
		a.baseURL = strings.TrimSuffix(u, "/")
		return nil
	}
}

// New returns the API over s. control cancels, re-runs and dispatches
// runs; box holds the service key (secrets.LoadKey), which also signs the
// short-lived download URLs of logs and artifacts.
func New(s Store, control Control, box *secrets.Box, opts ...Option) (*API, error) {
	if s == nil || control == nil || box == nil {
		return nil, errors.New("api: New needs a store, a control and a secrets box")
	}
	a := &API{store: s, control: control, box: box}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	k := box.SubKey("download URLs")
	a.signKey = k[:]
	a.mux = http.NewServeMux()
	a.routes()
	return a, nil
}

// ServeHTTP serves the API's routes; anything else is GitHub's 404.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
}

// call is one authenticated request.
type call struct {
	user user
	repo store.Repository // for routes under /repos/{owner}/{repo}
	base string           // the API's URL: https://host/api/v3
}

// user is the identity a token stands for.
type user struct {
	id    int64
	login string
	scope token.Scope
}

// handler is a route's function; an error is answered in GitHub's shape.
type handler func(w http.ResponseWriter, r *http.Request, c *call) error

// route is one entry of the routing table.
type route struct {
	pattern string      // net/http pattern after Prefix, such as "GET /repos/{owner}/{repo}"
	need    token.Scope // what the token must allow
	docs    string      // GitHub's documentation of the endpoint, for error bodies
	h       handler
}

// handle registers rt under Prefix.
func (a *API) handle(rt route) {
	method, path, _ := strings.Cut(rt.pattern, " ")
	a.mux.HandleFunc(method+" "+Prefix+path, func(w http.ResponseWriter, r *http.Request) {
		c, err := a.authenticate(r.Context(), r)
		if err == nil && !c.user.scope.Allows(rt.need) {
			err = errForbidden(rt.docs)
		}
		if err == nil && r.PathValue("owner") != "" {
			c.repo, err = a.store.Repository(r.Context(), r.PathValue("owner"), r.PathValue("repo"))
		}
		if err == nil {
			err = rt.h(w, r, c)
		}
		if err != nil {
			writeError(w, r, a.log, err, rt.docs)
		}
	})
}

// base is the API's URL for r.
func (a *API) base(r *http.Request) string {
	if a.baseURL != "" {
		return a.baseURL + Prefix
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

// sign returns the signature of a download URL's path and expiry.
func (a *API) sign(path string, expires int64) []byte {
	m := hmac.New(sha256.New, a.signKey)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(time.Unix(expires, 0).UTC().Format(time.RFC3339)))
	return m.Sum(nil)
}

var _ http.Handler = (*API)(nil)
