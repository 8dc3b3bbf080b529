package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server/store"
	"github.com/vermont-ci/vermont/server/token"
)

// Cookie names.
const (
	sessionCookie = "vermont_session"
	csrfCookie    = "vermont_csrf"
	csrfField     = "csrf"
)

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// session is a signed-in browser: the token it signed in with.
type session struct {
	tokenID int64
	login   string
	scope   token.Scope
}

// request is what a page handler gets: the session and the CSRF token
// its forms carry.
type request struct {
	*http.Request
	s    session
	csrf string
}

// secure reports whether cookies get the Secure attribute: under TLS,
// or behind a proxy that says the browser used https.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// csrfToken returns the CSRF token of r's browser, setting the cookie it
// is bound to when the browser has none yet.
func (u *UI) csrfToken(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 32 {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		c = &http.Cookie{Name: csrfCookie, Value: hex.EncodeToString(b), Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: secure(r)}
		http.SetCookie(w, c)
		r.AddCookie(c)
	}
	return hex.EncodeToString(u.mac("csrf", c.Value))
}

// csrf refuses a form POST whose csrf field is not the browser's token.
func (u *UI) csrf(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		c, err := r.Cookie(csrfCookie)
		given := r.PostFormValue(csrfField)
		if err != nil || given == "" || !hmac.Equal([]byte(given), []byte(hex.EncodeToString(u.mac("csrf", c.Value)))) {
			u.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this site (CSRF token missing or wrong). Reload the page and try again.")
			return
		}
		h(w, r)
	}
}

// session reads r's session cookie: a random value whose SHA-256 the
// store knows until the session expires or its browser signs out.
func (u *UI) session(ctx context.Context, r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	t, err := u.store.SessionToken(ctx, sessionHash(c.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			u.log.ErrorContext(ctx, "web: session", "error", err)
		}
		return session{}, false
	}
	scope, err := token.ParseScope(t.Scope)
	if err != nil {
		return session{}, false
	}
	return session{tokenID: t.ID, login: t.Name, scope: scope}, true
}

// newSession records a session of token id and returns its cookie value.
func (u *UI) newSession(ctx context.Context, id int64) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	return v, u.store.CreateSession(ctx, sessionHash(v), id, u.now().Add(sessionTTL))
}

// sessionHash is what the store keeps of a session cookie.
func sessionHash(v string) []byte {
	h := sha256.Sum256([]byte("vermont session\x00" + v))
	return h[:]
}

// page wraps a handler that needs a signed-in browser; one that is not
// goes to the sign-in form, and back afterwards.
func (u *UI) page(h func(w http.ResponseWriter, r *request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := u.session(r.Context(), r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		req := &request{Request: r, s: s, csrf: u.csrfToken(w, r)}
		if err := h(w, req); err != nil {
			u.error(w, r, err)
		}
	}
}

// action wraps a form POST: it needs a signed-in browser, the CSRF token,
// and a token that may write.
func (u *UI) action(h func(w http.ResponseWriter, r *request) error) http.HandlerFunc {
	return u.csrf(func(w http.ResponseWriter, r *http.Request) {
		s, ok := u.session(r.Context(), r)
		if !ok {
			u.fail(w, r, http.StatusUnauthorized, "Sign in first.")
			return
		}
		if !s.scope.Allows(token.Write) {
			u.fail(w, r, http.StatusForbidden, "Your token may only read; sign in with a write token to change anything.")
			return
		}
		req := &request{Request: r, s: s, csrf: u.csrfToken(w, r)}
		if err := h(w, req); err != nil {
			u.error(w, r, err)
		}
	})
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "login", map[string]any{"CSRF": u.csrfToken(w, r), "Next": safeNext(r.FormValue("next"))})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	plain := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	t, err := u.store.TokenByHash(r.Context(), token.Hash(plain))
	if err == nil && !token.Matches(plain, t.Hash) {
		err = store.ErrNotFound
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			u.log.ErrorContext(r.Context(), "web: sign-in", "error", err)
		}
		u.render(w, r, http.StatusUnauthorized, "login", map[string]any{"CSRF": u.csrfToken(w, r), "Next": next,
			"Error": "That token is not known here."})
		return
	}
	value, err := u.newSession(r.Context(), t.ID)
	if err != nil {
		u.error(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r), MaxAge: int(sessionTTL / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := u.store.DeleteSession(r.Context(), sessionHash(c.Value)); err != nil {
			u.error(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure(r), MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext is where to go after signing in: a path on this site only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
