package status

import (
	"context"
	"net/http"
)

// Gitea posts commit statuses to Gitea or Forgejo, whose API has GitHub's
// statuses endpoint under /api/v1. It is safe for concurrent use. Create it
// with NewGitea.
type Gitea struct {
	p *poster
}

// NewGitea returns a reporter for the server at baseURL (its web root,
// e.g. "https://gitea.example" or "https://example.org/git"; a URL that
// already ends in /api/v1 is taken as it is) that authenticates with token,
// an access token with the write:repository scope.
func NewGitea(baseURL, token string, opts ...Option) (*Gitea, error) {
	h := http.Header{}
	h.Set("Accept", "application/json")
	h.Set("Authorization", "token "+token)
	p, err := newPoster("gitea", baseURL, "/api/v1", token, h, opts)
	if err != nil {
		return nil, err
	}
	return &Gitea{p: p}, nil
}

// Report creates the status s with POST {baseURL}/api/v1/repos/{owner}/{repo}/statuses/{sha}
// (Gitea's and Forgejo's repoCreateStatus, body CreateStatusOption). A
// failure is a *PostError.
func (g *Gitea) Report(ctx context.Context, s Status) error {
	return g.p.post(ctx, s)
}
