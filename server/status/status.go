// Package status posts commit statuses back to where a repository is hosted,
// so a push or pull request shows Vermont's result beside the commit.
//
// [GitHub] speaks GitHub's "Create a commit status" endpoint
// (https://docs.github.com/en/rest/commits/statuses#create-a-commit-status),
// on github.com and GitHub Enterprise Server; [Gitea] speaks the same
// request on Gitea and Forgejo (POST /api/v1/repos/{owner}/{repo}/statuses/{sha},
// body CreateStatusOption). Both retry server errors, rate limits and network
// failures a bounded number of times, and their errors ([*PostError]) name the
// repository, commit and HTTP status but never the token.
//
// Repositories hosted on plain git have nowhere to post a status; the
// caller simply has no Reporter for them.
package status

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// State is a commit status state, as GitHub and Gitea name them.
type State string

// The states GitHub accepts. Gitea and Forgejo accept these too (and a
// "warning" that GitHub lacks, which Vermont does not use).
const (
	Pending State = "pending"
	Success State = "success"
	Failure State = "failure"
	Error   State = "error"
)

// valid reports whether s is one of the four states.
func (s State) valid() bool {
	switch s {
	case Pending, Success, Failure, Error:
		return true
	}
	return false
}

// MaxDescription is the longest description GitHub accepts, in characters;
// Report truncates longer ones.
const MaxDescription = 140

// Status is one commit status to post.
type Status struct {
	// Owner and Repo name the repository, SHA the commit (full hex object
	// name).
	Owner, Repo, SHA string
	// State is the status's state.
	State State
	// TargetURL is a link into Vermont (the run's page); empty for none.
	TargetURL string
	// Description is a short summary, truncated to MaxDescription
	// characters on a character boundary.
	Description string
	// Context tells this status from others on the same commit, e.g.
	// "vermont / CI (push)"; a later status with the same context replaces
	// the earlier one. Empty means the forge's default ("default" on
	// GitHub).
	Context string
}

// Reporter posts commit statuses. *GitHub and *Gitea implement it.
type Reporter interface {
	Report(ctx context.Context, s Status) error
}

var (
	_ Reporter = (*GitHub)(nil)
	_ Reporter = (*Gitea)(nil)
)

// ErrInvalid matches, with errors.Is, a Status that Report refuses before
// sending anything.
var ErrInvalid = errors.New("invalid commit status")

// problems lists what makes s unsendable: the fields that go into the path
// must be present and sensible, and the state one of the four.
func (s Status) problems() []string {
	var probs []string
	for _, f := range []struct{ name, v string }{{"owner", s.Owner}, {"repo", s.Repo}} {
		switch {
		case f.v == "":
			probs = append(probs, "no "+f.name)
		case f.v == "." || f.v == ".." || strings.ContainsAny(f.v, "/\\"):
			probs = append(probs, fmt.Sprintf("%s %q is not a name", f.name, f.v))
		}
	}
	switch {
	case s.SHA == "":
		probs = append(probs, "no sha")
	case !isHex(s.SHA):
		probs = append(probs, fmt.Sprintf("sha %q is not a hexadecimal commit id", s.SHA))
	}
	if !s.State.valid() {
		probs = append(probs, fmt.Sprintf("state %q is not pending, success, failure or error", s.State))
	}
	return probs
}

// isHex reports whether s is made of hexadecimal digits only.
func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Truncate shortens s to at most max characters, cutting on a character
// boundary and ending with "…" when it cut. Invalid UTF-8 is replaced
// first, so the result is always valid UTF-8.
func Truncate(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s // not reached: s has more than max runes
}

// StateOf maps a GitHub Actions conclusion (or a Vermont job result, which
// uses the same words) to a commit status state:
//
//   - "success", and "neutral" and "skipped" (which GitHub counts as
//     passing), give Success;
//   - "failure", "timed_out", "startup_failure" and "action_required" give
//     Failure;
//   - "cancelled" gives Error: commit statuses have no cancelled state, and
//     a cancelled run neither passed nor failed;
//   - "" and the in-progress statuses ("queued", "in_progress", "waiting",
//     "requested", "pending") give Pending;
//   - anything else ("stale", unknown words) gives Error, so that nothing
//     unexpected ever shows as success.
//
// Case is ignored.
func StateOf(conclusion string) State {
	switch strings.ToLower(strings.TrimSpace(conclusion)) {
	case "success", "neutral", "skipped":
		return Success
	case "failure", "timed_out", "startup_failure", "action_required":
		return Failure
	case "", "queued", "in_progress", "waiting", "requested", "pending":
		return Pending
	case "cancelled":
		return Error
	default: // "stale", and words GitHub may add
		return Error
	}
}
