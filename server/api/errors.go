package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/vermont-ci/vermont/server/store"
)

// docsREST is the documentation_url of GitHub's generic errors, such as
// 401 Bad credentials.
const docsREST = "https://docs.github.com/rest"

// apiError is GitHub's error body
// (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api).
type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	status           int          // not sent: the HTTP status
}

// fieldError is one entry of a 422's errors list.
type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
}

func (e *apiError) Error() string { return e.Message }

// httpError returns an error the handlers' wrapper answers with status and
// GitHub's body.
func httpError(status int, message, docs string) error {
	if docs == "" {
		docs = docsREST
	}
	return &apiError{status: status, Message: message, DocumentationURL: docs}
}

// Errors GitHub answers with these exact messages.
var (
	errBadCredentials = httpError(http.StatusUnauthorized, "Bad credentials", docsREST)
	errNotFound       = httpError(http.StatusNotFound, "Not Found", docsREST)
)

// errForbidden is the 403 GitHub answers a token without the permission a
// route needs.
func errForbidden(docs string) error {
	return httpError(http.StatusForbidden, "Resource not accessible by personal access token", docs)
}

// writeError answers err: an *apiError as it says, store.ErrNotFound as
// GitHub's 404, anything else as a 500 whose cause goes to the log only.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, docs string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		if ae.DocumentationURL == docsREST && docs != "" && ae.status != http.StatusUnauthorized {
			c := *ae
			c.DocumentationURL = docs
			ae = &c
		}
	case errors.Is(err, store.ErrNotFound):
		ae = &apiError{status: http.StatusNotFound, Message: "Not Found", DocumentationURL: or(docs, docsREST)}
	default:
		log.ErrorContext(r.Context(), "api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, Message: "Server Error", DocumentationURL: or(docs, docsREST)}
	}
	writeJSON(w, ae.status, ae)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
