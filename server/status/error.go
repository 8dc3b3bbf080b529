package status

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// PostError is a status that could not be posted: the forge refused it, or it
// could not be reached. It never contains the token.
type PostError struct {
	// Forge is "github" or "gitea".
	Forge string
	// Owner, Repo and SHA say which commit the status was for.
	Owner, Repo, SHA string
	// StatusCode is the last HTTP status; 0 when no response came.
	StatusCode int
	// Message is the forge's own explanation (GitHub's and Gitea's
	// "message", with GitHub's "errors" details), if it gave one.
	Message string
	// Attempts is how many requests were made.
	Attempts int
	err      error // the network or context error, if any (already scrubbed in Error)
	errText  string
}

// Error describes the failure.
func (e *PostError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %s: posting status for %s/%s@%s: ", e.Forge, e.Owner, e.Repo, e.SHA)
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
		if e.errText != "" {
			b.WriteString("; then " + e.errText)
		}
	default:
		b.WriteString(e.errText)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the network or context error, so errors.Is(err,
// context.Canceled) works; nil when the forge answered.
func (e *PostError) Unwrap() error { return e.err }

// maxMessage bounds the forge's message kept in a PostError, so a proxy's error
// page cannot flood a log.
const maxMessage = 300

// forgeMessage extracts the explanation from an error response body:
// GitHub's {"message": ..., "errors": [...]} (whose items are objects with
// "message" or "code"/"field", or plain strings), Gitea's {"message": ...},
// or a short plain-text body.
func forgeMessage(contentType string, body []byte) string {
	var doc struct {
		Message string            `json:"message"`
		Errors  []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		if strings.Contains(contentType, "html") {
			return ""
		}
		return oneLine(string(body))
	}
	var details []string
	for _, raw := range doc.Errors {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			details = append(details, s)
			continue
		}
		var item struct{ Message, Code, Field string }
		if json.Unmarshal(raw, &item) != nil {
			continue
		}
		switch {
		case item.Message != "":
			details = append(details, item.Message)
		case item.Code != "":
			details = append(details, strings.TrimSpace(item.Field+" "+item.Code))
		}
	}
	msg := doc.Message
	if len(details) > 0 {
		msg = strings.TrimSpace(msg + " (" + strings.Join(details, "; ") + ")")
	}
	return oneLine(msg)
}

// oneLine folds s onto one line of at most maxMessage characters.
func oneLine(s string) string {
	return Truncate(strings.Join(strings.Fields(s), " "), maxMessage)
}
