package status

import (
	"context"
	"net/http"
)

// GitHub posts commit statuses to GitHub or GitHub Enterprise Server. It is
// safe for concurrent use. Create it with NewGitHub.
type GitHub struct {
	p *poster
}

// NewGitHub returns a reporter for the REST API at apiURL
// ("https://api.github.com", or "https://HOST/api/v3" for GitHub Enterprise
// Server) that authenticates with token: a personal access token
// (fine-grained with "Commit statuses: write", or classic with repo:status)
// or a GitHub App installation token.
func NewGitHub(apiURL, token string, opts ...Option) (*GitHub, error) {
	h := http.Header{}
	h.Set("Accept", "application/vnd.github+json")
	h.Set("Authorization", "Bearer "+token)
	h.Set("X-GitHub-Api-Version", "2022-11-28")
	p, err := newPoster("github", apiURL, "", token, h, opts)
	if err != nil {
		return nil, err
	}
	return &GitHub{p: p}, nil
}

// Report creates the status s with POST {apiURL}/repos/{owner}/{repo}/statuses/{sha}
// (https://docs.github.com/en/rest/commits/statuses#create-a-commit-status).
// A failure is a *PostError.
func (g *GitHub) Report(ctx context.Context, s Status) error {
	return g.p.post(ctx, s)
}
