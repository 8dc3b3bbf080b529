package github

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	gh "github.com/google/go-github/v88/github"
)

// ErrRateLimited matches, with errors.Is, every error caused by GitHub's
// primary or secondary rate limit. errors.As with a *RateLimitError gives
// the time to retry.
var ErrRateLimited = errors.New("github: API rate limit exceeded")

// RateLimitError reports that GitHub refused a request because of a rate
// limit.
type RateLimitError struct {
	// Op is what the client was doing.
	Op string
	// Reset is when GitHub says requests will be accepted again; zero if it
	// did not say.
	Reset time.Time
	// Secondary is true for a secondary ("abuse") rate limit.
	Secondary bool
	err       error
}

// Error describes the limit and when it resets.
func (e *RateLimitError) Error() string {
	kind := "API rate limit exceeded"
	if e.Secondary {
		kind = "secondary rate limit exceeded"
	}
	when := "unknown"
	if !e.Reset.IsZero() {
		when = e.Reset.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("github: %s: %s (retry after %s): %v", e.Op, kind, when, e.err)
}

// Unwrap returns the underlying error.
func (e *RateLimitError) Unwrap() error { return e.err }

// Is reports whether target is ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// tokenShape matches GitHub's token formats (personal, OAuth, user-to-server,
// server-to-server/installation, refresh, fine-grained personal).
var tokenShape = regexp.MustCompile(`gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}`)

const redacted = "[REDACTED]"

// scrubbed carries an error whose text had secrets removed. Unwrap still
// reaches the original, for errors.As on go-github's types.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// wrap turns an error from go-github into the client's error for op:
// scrubbed of the client's secrets and of extra (per-call secrets such as a
// registration token), and a *RateLimitError for rate limiting.
func (c *Client) wrap(op string, err error, extra ...string) error {
	if err == nil {
		return nil
	}
	inner := &scrubbed{msg: c.scrub(err.Error(), extra...), err: err}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return &RateLimitError{Op: op, Reset: rl.Rate.Reset.Time, err: inner}
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) {
		e := &RateLimitError{Op: op, Secondary: true, err: inner}
		if ab.RetryAfter != nil {
			e.Reset = time.Now().Add(*ab.RetryAfter)
		}
		return e
	}
	return fmt.Errorf("github: %s: %w", op, inner)
}

// scrub removes every known secret and anything shaped like a GitHub token.
func (c *Client) scrub(s string, extra ...string) string {
	for _, list := range [][]string{c.secrets, extra} {
		for _, secret := range list {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, redacted)
			}
		}
	}
	return tokenShape.ReplaceAllString(s, redacted)
}

// statusCode returns the HTTP status of a failed API call, 0 if there was
// no response.
func statusCode(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	return 0
}

// isNotFound reports whether GitHub answered 404.
func isNotFound(err error) bool { return statusCode(err) == http.StatusNotFound }
