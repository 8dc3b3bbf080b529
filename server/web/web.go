// Package web is `vermont serve`'s web interface: server-rendered pages
// (html/template, with the CSS and the small JavaScript of the live parts
// embedded in the binary) over the service's store and run control, at
// GitHub's own paths, so that a GitHub Actions URL with its host changed
// opens the same page:
//
//	/                                                  repositories, the last run of each workflow
//	/{owner}/{repo}/actions                            runs, with filters and pages
//	/{owner}/{repo}/actions/workflows/{file}           one workflow's runs, and its dispatch form
//	/{owner}/{repo}/actions/workflows/{file}/badge.svg its status badge
//	/{owner}/{repo}/actions/runs/{id}[/attempts/{n}]   a run: its job graph, summaries, artifacts
//	/{owner}/{repo}/actions/runs/{id}/job/{job_id}     a job: steps and their logs, live while it runs
//	/{owner}/{repo}/settings/secrets/actions           secrets (names only) and variables
//
// Every page reads without JavaScript; the script adds live updates (a
// job's log tail over server-sent events, resuming from the last line it
// has, and the run's states), search and timestamps.
//
// Signing in is a form POST of an API token (package token); the answer
// is an HttpOnly, SameSite=Strict session cookie, Secure under TLS. Every
// form carries a CSRF token bound to the browser's own cookie, and a POST
// without it is refused. A token never goes into a URL, and no page holds
// a secret's value. Everything a run or a user wrote (names, branches, log
// lines) is escaped by html/template; step summaries are rendered as
// GitHub-flavoured Markdown and sanitized, so nothing in them runs.
package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/secrets"
	"github.com/vermont-ci/vermont/server/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Source reads what the store does not keep: workflow files at a commit
// or branch, for a run's needs graph and a workflow's dispatch inputs.
// *server.Server implements it.
type Source interface {
	WorkflowFile(ctx context.Context, repo, rev, path string) ([]byte, error)
	DefaultBranch(ctx context.Context, repo string) (string, error)
}

// UI is the web interface's handler. Make one with New.
type UI struct {
	store   *store.Store
	control api.Control
	source  Source
	box     *secrets.Box
	log     *slog.Logger
	now     func() time.Time
	key     []byte // signs session cookies and CSRF tokens
	next    http.Handler
	pages   map[string]*template.Template
	mux     *http.ServeMux
	poll    time.Duration
}

// Option configures New.
type Option func(*UI) error

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(u *UI) error {
		if l == nil {
			return errors.New("web: nil logger")
		}
		u.log = l
		return nil
	}
}

// WithNext serves the paths the interface does not know with h (the
// service's webhook, /health and /metrics), rather than a 404.
func WithNext(h http.Handler) Option {
	return func(u *UI) error { u.next = h; return nil }
}

// WithPollInterval sets how often a live log or a run's state is read
// from the store (default 250 ms).
func WithPollInterval(d time.Duration) Option {
	return func(u *UI) error {
		if d <= 0 {
			return errors.New("web: poll interval must be positive")
		}
		u.poll = d
		return nil
	}
}

// New returns the web interface over st; control cancels, re-runs and
// dispatches runs, source reads workflow files, and box holds the service
// key, which encrypts secrets set here and signs sessions.
func New(st *store.Store, control api.Control, source Source, box *secrets.Box, opts ...Option) (*UI, error) {
	if st == nil || control == nil || source == nil || box == nil {
		return nil, errors.New("web: New needs a store, a control, a source and a secrets box")
	}
	u := &UI{store: st, control: control, source: source, box: box, now: time.Now, poll: 250 * time.Millisecond}
	for _, o := range opts {
		if err := o(u); err != nil {
			return nil, err
		}
	}
	if u.log == nil {
		u.log = slog.Default()
	}
	k := box.SubKey("web sessions")
	u.key = k[:]
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	u.pages = pages
	u.mux = http.NewServeMux()
	u.routes()
	return u, nil
}

// ServeHTTP implements http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	u.mux.ServeHTTP(w, r)
}

func (u *UI) routes() {
	u.mux.HandleFunc("GET /-/{file}", serveStatic)
	u.mux.HandleFunc("GET /login", u.loginPage)
	u.mux.HandleFunc("POST /login", u.csrf(u.login))
	u.mux.HandleFunc("POST /logout", u.csrf(u.logout))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/workflows/{file}/badge.svg", u.badge)

	u.mux.HandleFunc("GET /{$}", u.page(u.repositories))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions", u.page(u.runs))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/workflows/{file}", u.page(u.runs))
	u.mux.HandleFunc("POST /{owner}/{repo}/actions/workflows/{file}/dispatches", u.action(u.dispatch))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}", u.page(u.run))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}/attempts/{n}", u.page(u.run))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}/state", u.page(u.runState))
	u.mux.HandleFunc("POST /{owner}/{repo}/actions/runs/{id}/cancel", u.action(u.cancel))
	u.mux.HandleFunc("POST /{owner}/{repo}/actions/runs/{id}/rerun", u.action(u.rerun))
	u.mux.HandleFunc("POST /{owner}/{repo}/actions/runs/{id}/rerun-failed-jobs", u.action(u.rerun))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}/artifacts/{aid}", u.page(u.artifact))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}/job/{job}", u.page(u.job))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}/job/{job}/lines", u.page(u.jobLines))
	u.mux.HandleFunc("GET /{owner}/{repo}/actions/runs/{id}/job/{job}/live", u.page(u.jobLive))
	u.mux.HandleFunc("GET /{owner}/{repo}/settings/secrets/actions", u.page(u.secrets))
	u.mux.HandleFunc("POST /{owner}/{repo}/settings/secrets/actions", u.action(u.setSecret))
	u.mux.HandleFunc("POST /{owner}/{repo}/settings/secrets/actions/delete", u.action(u.deleteSecret))
	u.mux.HandleFunc("POST /{owner}/{repo}/settings/variables/actions", u.action(u.setVariable))
	u.mux.HandleFunc("POST /{owner}/{repo}/settings/variables/actions/delete", u.action(u.deleteVariable))
	u.mux.HandleFunc("/", u.fallback)
}

func (u *UI) fallback(w http.ResponseWriter, r *http.Request) {
	if u.next != nil {
		u.next.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// serveStatic serves an embedded CSS or JavaScript file.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(staticFS, "static/"+r.PathValue("file"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, r.PathValue("file"), time.Time{}, bytes.NewReader(b))
}

// mac is the HMAC of parts under the interface's key.
func (u *UI) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, u.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

var _ http.Handler = (*UI)(nil)
