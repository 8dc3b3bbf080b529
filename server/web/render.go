package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/vermont-ci/vermont/server/api"
	"github.com/vermont-ci/vermont/server/store"
)

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page name with data. data's map gets the session and the
// CSRF token under "S" and "CSRF" from the handlers.
func (u *UI) render(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	t := u.pages[name]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		u.log.ErrorContext(r.Context(), "web: render", "page", name, "error", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// view renders a signed-in page.
func (u *UI) view(w http.ResponseWriter, r *request, name string, data map[string]any) error {
	data["S"] = r.s
	data["Login"] = r.s.login
	data["CSRF"] = r.csrf
	u.render(w, r.Request, http.StatusOK, name, data)
	return nil
}

// fail answers with an error page holding msg.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	u.render(w, r, code, "error", map[string]any{"Code": code, "Status": http.StatusText(code), "Message": msg})
}

// errNotFound is a page that does not exist.
var errNotFound = errors.New("not found")

// userError is an error whose message is for the user, with its status.
type userError struct {
	code int
	msg  string
}

func (e *userError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &userError{code: http.StatusUnprocessableEntity, msg: fmt.Sprintf(format, args...)}
}

// error answers err: the store's not-found and conflicts, a refused
// request and a user error with their messages, anything else as an
// internal error, logged, whose details stay out of the page.
func (u *UI) error(w http.ResponseWriter, r *http.Request, err error) {
	var ue *userError
	var inv *api.InvalidError
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		u.fail(w, r, http.StatusNotFound, "There is nothing here.")
	case errors.As(err, &ue):
		u.fail(w, r, ue.code, ue.msg)
	case errors.As(err, &inv):
		u.fail(w, r, http.StatusUnprocessableEntity, inv.Message)
	case errors.Is(err, store.ErrConflict):
		u.fail(w, r, http.StatusConflict, "That cannot be done now: the run is not in a state that allows it.")
	default:
		u.log.ErrorContext(r.Context(), "web: page", "path", r.URL.Path, "error", err)
		u.fail(w, r, http.StatusInternalServerError, "Something went wrong on the server; it has been logged.")
	}
}

var funcs = template.FuncMap{
	"ago":      ago,
	"duration": duration,
	"state":    state,
	"label":    stateLabel,
	"rfc3339": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"short": func(sha string) string {
		if len(sha) > 7 {
			return sha[:7]
		}
		return sha
	},
	"size": func(n int64) string {
		switch {
		case n >= 1<<30:
			return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
	"file": func(path string) string { return path[strings.LastIndex(path, "/")+1:] },
	"list": func(v ...string) []string { return v },
	"pair": func(a, b any) struct{ A, B any } { return struct{ A, B any }{a, b} },
}

// ago is t relative to now, as GitHub writes it ("3 minutes ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	}
	return t.UTC().Format("Jan 2, 2006")
}

// duration is how long from start to end (or to now while running), as
// GitHub writes it ("1m 5s").
func duration(start, end time.Time) string {
	if start.IsZero() {
		return ""
	}
	if end.IsZero() {
		end = time.Now()
	}
	d := end.Sub(start).Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh %dm %ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// state is the one word a status and conclusion come to: queued,
// in_progress, or the conclusion. It names the CSS class of the colour.
func state(st store.Status, c store.Conclusion) string {
	if st != store.Completed {
		return string(st)
	}
	if c == "" {
		return "success"
	}
	return string(c)
}

func stateLabel(st store.Status, c store.Conclusion) string {
	switch s := state(st, c); s {
	case "in_progress":
		return "In progress"
	case "":
		return "Unknown"
	default:
		return strings.ToUpper(s[:1]) + s[1:]
	}
}
