package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Upstream kinds: where a repository's webhooks come from.
const (
	UpstreamGitHub = "github"
	UpstreamGitea  = "gitea"
	UpstreamGit    = "git" // a plain git remote; pushes arrive through `vermont serve notify`
)

// Repository is a repository the service builds. Its credentials (webhook
// secret, clone credentials) stay in the service's configuration and are
// never stored here.
type Repository struct {
	ID            int64
	Owner         string
	Name          string
	CloneURL      string // anything git fetches: a path, file://, http(s)://, ssh
	DefaultBranch string // without refs/heads/
	Upstream      string // UpstreamGitHub, UpstreamGitea or UpstreamGit
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// FullName is "owner/name".
func (r Repository) FullName() string { return r.Owner + "/" + r.Name }

const repoColumns = `id, owner, name, clone_url, default_branch, upstream, created_at, updated_at`

// PutRepository creates the repository r.Owner/r.Name, or updates its
// clone URL, default branch and upstream, and returns it with its id.
func (s *Store) PutRepository(ctx context.Context, r Repository) (Repository, error) {
	if r.Upstream == "" {
		r.Upstream = UpstreamGit
	}
	now := nanos(s.now())
	row := s.db.QueryRowContext(ctx, `INSERT INTO repositories
		(owner, name, clone_url, default_branch, upstream, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner, name) DO UPDATE SET clone_url = excluded.clone_url,
			default_branch = excluded.default_branch, upstream = excluded.upstream,
			updated_at = excluded.updated_at
		RETURNING `+repoColumns,
		r.Owner, r.Name, r.CloneURL, r.DefaultBranch, r.Upstream, now, now)
	out, err := scanRepo(row)
	if err != nil {
		return Repository{}, fmt.Errorf("store: put repository %s: %w", r.FullName(), err)
	}
	return out, nil
}

// Repository returns the repository owner/name.
func (s *Store) Repository(ctx context.Context, owner, name string) (Repository, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+repoColumns+` FROM repositories WHERE owner = ? AND name = ?`, owner, name)
	r, err := scanRepo(row)
	if err != nil {
		return Repository{}, notFound(err, "repository", owner+"/"+name)
	}
	return r, nil
}

// RepositoryByID returns the repository with the given id.
func (s *Store) RepositoryByID(ctx context.Context, id int64) (Repository, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+repoColumns+` FROM repositories WHERE id = ?`, id)
	r, err := scanRepo(row)
	if err != nil {
		return Repository{}, notFound(err, "repository", id)
	}
	return r, nil
}

// Repositories returns every repository, ordered by id.
func (s *Store) Repositories(ctx context.Context) ([]Repository, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+repoColumns+` FROM repositories ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: repositories: %w", err)
	}
	return collect(rows, scanRepo)
}

func scanRepo(sc scanner) (Repository, error) {
	var r Repository
	var created, updated int64
	err := sc.Scan(&r.ID, &r.Owner, &r.Name, &r.CloneURL, &r.DefaultBranch, &r.Upstream, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromNanos(created), fromNanos(updated)
	return r, err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect scans every row of rows with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: scan: %w", err)
	}
	return out, nil
}

// Workflow is a workflow file of a repository, as GitHub's API lists it
// (https://docs.github.com/en/rest/actions/workflows). It is recorded the
// first time a run of it is created.
type Workflow struct {
	ID        int64
	RepoID    int64
	Path      string // ".github/workflows/ci.yml"
	Name      string // the workflow's name:, or its path when it has none
	State     string // "active"
	CreatedAt time.Time
	UpdatedAt time.Time
}

const workflowColumns = `id, repo_id, path, name, state, created_at, updated_at`

// PutWorkflow records the workflow at path in repository repoID, or
// updates its name, and returns it.
func (s *Store) PutWorkflow(ctx context.Context, repoID int64, path, name string) (Workflow, error) {
	now := nanos(s.now())
	row := s.db.QueryRowContext(ctx, `INSERT INTO workflows (repo_id, path, name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (repo_id, path) DO UPDATE SET name = excluded.name,
			updated_at = CASE WHEN workflows.name = excluded.name THEN workflows.updated_at ELSE excluded.updated_at END
		RETURNING `+workflowColumns, repoID, path, name, now, now)
	w, err := scanWorkflow(row)
	if err != nil {
		return Workflow{}, fmt.Errorf("store: put workflow %s: %w", path, err)
	}
	return w, nil
}

// WorkflowByID returns the workflow with the given id.
func (s *Store) WorkflowByID(ctx context.Context, id int64) (Workflow, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE id = ?`, id)
	w, err := scanWorkflow(row)
	if err != nil {
		return Workflow{}, notFound(err, "workflow", id)
	}
	return w, nil
}

// WorkflowByPath returns repository repoID's workflow at path.
func (s *Store) WorkflowByPath(ctx context.Context, repoID int64, path string) (Workflow, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE repo_id = ? AND path = ?`, repoID, path)
	w, err := scanWorkflow(row)
	if err != nil {
		return Workflow{}, notFound(err, "workflow", path)
	}
	return w, nil
}

// Workflows returns repository repoID's workflows, ordered by id.
func (s *Store) Workflows(ctx context.Context, repoID int64) ([]Workflow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE repo_id = ? ORDER BY id`, repoID)
	if err != nil {
		return nil, fmt.Errorf("store: workflows: %w", err)
	}
	return collect(rows, scanWorkflow)
}

func scanWorkflow(sc scanner) (Workflow, error) {
	var w Workflow
	var created, updated int64
	err := sc.Scan(&w.ID, &w.RepoID, &w.Path, &w.Name, &w.State, &created, &updated)
	w.CreatedAt, w.UpdatedAt = fromNanos(created), fromNanos(updated)
	return w, err
}
