package server

import (
	"context"
	"fmt"
	"strings"
)

// WorkflowFile returns the workflow file at path in repository repo
// ("owner/name") at rev: a commit, or a branch or tag name, resolved in
// the mirror. The web interface reads a run's jobs' needs and a
// workflow's dispatch inputs from it.
func (s *Server) WorkflowFile(ctx context.Context, repo, rev, path string) ([]byte, error) {
	r, ok := s.repo(repo)
	if !ok {
		return nil, unknownRepo(repo)
	}
	name := r.FullName()
	sha := rev
	if !isSHA(rev) {
		var err error
		sha, err = s.mirrors.Resolve(ctx, name, fullRef(rev))
		if err != nil {
			return nil, fmt.Errorf("server: %s: no ref %q: %w", name, rev, err)
		}
	}
	return s.workflowFile(ctx, name, sha, path)
}

// DefaultBranch is the default branch of repository repo ("owner/name").
func (s *Server) DefaultBranch(ctx context.Context, repo string) (string, error) {
	r, ok := s.repo(repo)
	if !ok {
		return "", unknownRepo(repo)
	}
	return s.defaultBranch(ctx, r)
}

func isSHA(s string) bool {
	return len(s) == 40 && strings.Trim(s, "0123456789abcdef") == ""
}
