package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// poster sends one commit status request, with retries. GitHub and Gitea
// take the same body at the same path under their API roots and differ only
// in the root and the headers, so they share it.
type poster struct {
	forge  string      // "github" or "gitea", for errors and logs
	root   string      // API root, escaped, without a trailing slash
	header http.Header // sent on every request, Authorization included
	token  string      // scrubbed from every error
	cfg    config
}

// payload is the request body both forges document: GitHub's "Create a
// commit status" parameters and Gitea's CreateStatusOption.
type payload struct {
	State       State  `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context,omitempty"`
}

// maxBody bounds how much of an error response is read.
const maxBody = 64 << 10

// newPoster checks the API root and token and applies opts. apiRoot is
// raw's path with suffix appended unless it already ends with it.
func newPoster(forge, raw, suffix, token string, header http.Header, opts []Option) (*poster, error) {
	if token == "" {
		return nil, fmt.Errorf("status: %s: no token", forge)
	}
	root, err := apiRoot(raw, suffix)
	if err != nil {
		// A token pasted into the URL must not come back in the error.
		return nil, fmt.Errorf("status: %s: %s", forge, strings.ReplaceAll(err.Error(), token, redacted))
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("status: %s: the token contains spaces or control characters", forge)
	}
	cfg, err := apply(opts)
	if err != nil {
		return nil, err
	}
	header.Set("Content-Type", "application/json")
	header.Set("User-Agent", userAgent)
	return &poster{forge: forge, root: root, header: header, token: token, cfg: cfg}, nil
}

// apiRoot validates raw, an http(s) URL without credentials, query or
// fragment, and returns it with suffix and without a trailing slash.
func apiRoot(raw, suffix string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", fmt.Errorf("API URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("API URL %q: want http:// or https://", raw)
	case u.Host == "":
		return "", fmt.Errorf("API URL %q: no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("API URL %s: credentials belong in the token, not the URL", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("API URL %q: no query or fragment allowed", raw)
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if !strings.HasSuffix(path, suffix) {
		path += suffix
	}
	return u.Scheme + "://" + u.Host + path, nil
}

// post sends s, retrying server errors, rate limits and network failures.
func (p *poster) post(ctx context.Context, s Status) error {
	if probs := s.problems(); len(probs) > 0 {
		return p.scrubErr(fmt.Errorf("status: %w for %s/%s@%s: %s", ErrInvalid, s.Owner, s.Repo, s.SHA, strings.Join(probs, "; ")))
	}
	body, err := json.Marshal(payload{
		State:       s.State,
		TargetURL:   s.TargetURL,
		Description: Truncate(s.Description, MaxDescription),
		Context:     s.Context,
	})
	if err != nil {
		return fmt.Errorf("status: %s: %w", p.forge, err)
	}
	target := p.root + "/repos/" + url.PathEscape(s.Owner) + "/" + url.PathEscape(s.Repo) +
		"/statuses/" + url.PathEscape(s.SHA)
	repo := s.Owner + "/" + s.Repo
	for attempt := 1; ; attempt++ {
		e, wait, retry := p.attempt(ctx, target, body)
		if e == nil {
			p.cfg.log.DebugContext(ctx, "commit status posted", "forge", p.forge, "repo", repo,
				"sha", s.SHA, "state", string(s.State), "context", s.Context)
			return nil
		}
		e.Owner, e.Repo, e.SHA, e.Attempts = s.Owner, s.Repo, s.SHA, attempt
		wait = max(wait, p.backoff(attempt))
		if !retry || attempt > p.cfg.retries || wait > MaxBackoff {
			p.cfg.log.WarnContext(ctx, "commit status not posted", "forge", p.forge, "repo", repo,
				"sha", s.SHA, "error", e.Error())
			return e
		}
		p.cfg.log.InfoContext(ctx, "commit status: retrying", "forge", p.forge, "repo", repo,
			"sha", s.SHA, "attempt", attempt, "wait", wait, "error", e.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			e.err = errors.Join(ctx.Err(), e.err)
			e.errText = strings.TrimPrefix(e.errText+"; then "+ctx.Err().Error(), "; then ")
			return e
		case <-t.C:
		}
	}
}

// backoff is the wait after the given failed attempt (1-based): the base,
// doubled each time, capped.
func (p *poster) backoff(attempt int) time.Duration {
	d := p.cfg.backoff
	for range attempt - 1 {
		if d *= 2; d >= MaxBackoff {
			return MaxBackoff
		}
	}
	return d
}

// attempt makes one request. It returns nil on a 2xx answer; otherwise the
// error (Owner, Repo, SHA and Attempts not yet set), how long the forge asked
// to wait, and whether trying again may help.
func (p *poster) attempt(ctx context.Context, target string, body []byte) (e *PostError, wait time.Duration, retry bool) {
	e = &PostError{Forge: p.forge}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		e.err, e.errText = err, p.scrub(err.Error())
		return e, 0, false
	}
	req.Header = p.header.Clone()
	res, err := p.cfg.client.Do(req)
	if err != nil {
		e.err, e.errText = err, p.scrub(err.Error())
		// A network failure is worth another try; the caller's
		// cancellation is not.
		return e, 0, ctx.Err() == nil
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(res.Body, maxBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxBody)) // let the connection be reused
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil, 0, false
	}
	e.StatusCode = res.StatusCode
	e.Message = p.scrub(forgeMessage(res.Header.Get("Content-Type"), text))
	switch {
	case res.StatusCode >= 500, res.StatusCode == http.StatusTooManyRequests:
		return e, retryAfter(res.Header, time.Now()), true
	case res.StatusCode == http.StatusForbidden && rateLimited(res.Header):
		// GitHub answers a rate limit with 403 or 429
		// (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit);
		// a 403 without the rate-limit headers is a permission problem,
		// which no retry fixes.
		return e, retryAfter(res.Header, time.Now()), true
	}
	return e, 0, false
}

// rateLimited reports whether a 403's headers say it is a rate limit rather
// than a refusal.
func rateLimited(h http.Header) bool {
	return h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0"
}

// retryAfter is how long the headers ask to wait: Retry-After in seconds or
// as an HTTP date, else until X-RateLimit-Reset when no requests remain;
// 0 when they don't say.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(n, 0).Sub(now), 0)
		}
	}
	return 0
}

// redacted replaces the token wherever it would appear.
const redacted = "[REDACTED]"

// scrub removes the token from s, in case a forge or proxy echoes the
// Authorization header back.
func (p *poster) scrub(s string) string {
	return strings.ReplaceAll(s, p.token, redacted)
}

// scrubErr returns err with the token removed from its text; errors.Is and
// errors.As still reach what it wraps.
func (p *poster) scrubErr(err error) error {
	msg := err.Error()
	if !strings.Contains(msg, p.token) {
		return err
	}
	return &scrubbed{msg: p.scrub(msg), err: err}
}

// scrubbed is an error whose text had the token removed.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
