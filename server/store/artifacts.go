package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Artifact is a file set a run uploaded (actions/upload-artifact), kept
// under the data directory until it expires.
type Artifact struct {
	ID        int64
	RunID     int64
	Name      string
	Size      int64
	Path      string // where its content lives, under the data directory
	Digest    string // "sha256:…", when known
	CreatedAt time.Time
	ExpiresAt time.Time // zero on AddArtifact: the store's retention from now
}

const artifactColumns = `id, run_id, name, size, path, digest, created_at, expires_at`

func scanArtifact(sc scanner) (Artifact, error) {
	var a Artifact
	var created, expires int64
	err := sc.Scan(&a.ID, &a.RunID, &a.Name, &a.Size, &a.Path, &a.Digest, &created, &expires)
	a.CreatedAt, a.ExpiresAt = fromNanos(created), fromNanos(expires)
	return a, err
}

// AddArtifact records a and returns it with its id and expiry. A run's
// artifact names are unique (ErrConflict), as on GitHub.
func (s *Store) AddArtifact(ctx context.Context, a Artifact) (Artifact, error) {
	now := s.now()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	if a.ExpiresAt.IsZero() {
		a.ExpiresAt = a.CreatedAt.Add(s.retention)
	}
	row := s.db.QueryRowContext(ctx, `INSERT INTO artifacts (run_id, name, size, path, digest, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+artifactColumns,
		a.RunID, a.Name, a.Size, a.Path, a.Digest, nanos(a.CreatedAt), nanos(a.ExpiresAt))
	out, err := scanArtifact(row)
	if err != nil {
		if isUniqueViolation(err) {
			return Artifact{}, fmt.Errorf("store: artifact %q of run %d: %w", a.Name, a.RunID, ErrConflict)
		}
		return Artifact{}, fmt.Errorf("store: artifact %q of run %d: %w", a.Name, a.RunID, err)
	}
	return out, nil
}

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY
// constraint failure; SQLite and PostgreSQL both say "unique" in it.
func isUniqueViolation(err error) bool {
	if isPgUniqueViolation(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unique") || strings.Contains(msg, "primary key")
}

// Artifact returns the artifact with the given id.
func (s *Store) Artifact(ctx context.Context, id int64) (Artifact, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+artifactColumns+` FROM artifacts WHERE id = ?`, id)
	a, err := scanArtifact(row)
	if err != nil {
		return Artifact{}, notFound(err, "artifact", id)
	}
	return a, nil
}

// Artifacts returns run runID's artifacts by id.
func (s *Store) Artifacts(ctx context.Context, runID int64) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+artifactColumns+` FROM artifacts WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: artifacts of run %d: %w", runID, err)
	}
	return collect(rows, scanArtifact)
}

// RepoArtifacts returns the artifacts of repository repoID's runs, newest
// first.
func (s *Store) RepoArtifacts(ctx context.Context, repoID int64) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+prefixed("artifacts.", artifactColumns)+` FROM artifacts
		JOIN runs ON runs.id = artifacts.run_id WHERE runs.repo_id = ? ORDER BY artifacts.id DESC`, repoID)
	if err != nil {
		return nil, fmt.Errorf("store: artifacts of repository %d: %w", repoID, err)
	}
	return collect(rows, scanArtifact)
}

// prefixed qualifies each of the comma-separated columns with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// DeleteArtifact forgets artifact id; removing its content is the
// caller's.
func (s *Store) DeleteArtifact(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete artifact", id, `DELETE FROM artifacts WHERE id = ?`, id)
}

// ExpiredArtifacts returns the artifacts whose expiry is before now.
func (s *Store) ExpiredArtifacts(ctx context.Context) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+artifactColumns+` FROM artifacts WHERE expires_at < ? ORDER BY id`,
		nanos(s.now()))
	if err != nil {
		return nil, fmt.Errorf("store: expired artifacts: %w", err)
	}
	return collect(rows, scanArtifact)
}

// SeeDelivery records webhook delivery id (X-GitHub-Delivery and the
// like) and reports whether it is new: false means a replay, already
// handled, also before a restart.
func (s *Store) SeeDelivery(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO deliveries (id, received_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		id, nanos(s.now()))
	if err != nil {
		return false, fmt.Errorf("store: delivery %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: delivery %q: %w", id, err)
	}
	return n == 1, nil
}

// PruneDeliveries forgets deliveries received before t, which bounds the
// table; GitHub redelivers only recent deliveries.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM deliveries WHERE received_at < ?`, nanos(before)); err != nil {
		return fmt.Errorf("store: prune deliveries: %w", err)
	}
	return nil
}

// ForgetDelivery undoes SeeDelivery for id: handling the delivery failed,
// and a redelivery must be able to retry it.
func (s *Store) ForgetDelivery(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM deliveries WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: forget delivery %q: %w", id, err)
	}
	return nil
}
