package store

import (
	"context"
	"fmt"
	"time"
)

// The tables below belong to the GitHub-compatible API (server/api): the
// store only keeps what it is given. It never sees a token or a secret in
// clear: a token is its SHA-256, a secret its ciphertext.

// Token is an API token.
type Token struct {
	ID         int64
	Name       string
	Hash       []byte // SHA-256 of the token
	Scope      string // "read", "write" or "admin"
	CreatedAt  time.Time
	LastUsedAt time.Time
}

const tokenColumns = `id, name, hash, scope, created_at, last_used_at`

func scanToken(sc scanner) (Token, error) {
	var t Token
	var created, used int64
	err := sc.Scan(&t.ID, &t.Name, &t.Hash, &t.Scope, &created, &used)
	t.CreatedAt, t.LastUsedAt = fromNanos(created), fromNanos(used)
	return t, err
}

// CreateToken records t; a name or hash in use is ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t Token) (Token, error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	row := s.db.QueryRowContext(ctx, `INSERT INTO tokens (name, hash, scope, created_at) VALUES (?, ?, ?, ?)
		RETURNING `+tokenColumns, t.Name, t.Hash, t.Scope, nanos(t.CreatedAt))
	out, err := scanToken(row)
	if err != nil {
		if isUniqueViolation(err) {
			return Token{}, fmt.Errorf("store: token %q: %w", t.Name, ErrConflict)
		}
		return Token{}, fmt.Errorf("store: token %q: %w", t.Name, err)
	}
	return out, nil
}

// TokenByHash returns the token whose SHA-256 is hash. The lookup is by
// an index on the hash: comparing a hash of a guess leaks nothing useful.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (Token, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash)
	t, err := scanToken(row)
	if err != nil {
		return Token{}, notFound(err, "token", "by hash")
	}
	return t, nil
}

// Tokens returns every token by id.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	return collect(rows, scanToken)
}

// TouchToken records that token id was used at t.
func (s *Store) TouchToken(ctx context.Context, id int64, t time.Time) error {
	return s.execOne(ctx, "touch token", id, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, nanos(t), id)
}

// DeleteToken removes token id.
func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete token", id, `DELETE FROM tokens WHERE id = ?`, id)
}

// Global is the RepoID of secrets and variables every repository sees.
const Global int64 = 0

// Secret is an encrypted secret of a repository (or Global).
type Secret struct {
	RepoID     int64
	Name       string
	Ciphertext []byte
	Nonce      []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// PutSecret creates or replaces a secret.
func (s *Store) PutSecret(ctx context.Context, sec Secret) error {
	now := nanos(s.now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO secrets (repo_id, name, ciphertext, nonce, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repo_id, name) DO UPDATE SET ciphertext = excluded.ciphertext,
			nonce = excluded.nonce, updated_at = excluded.updated_at`,
		sec.RepoID, sec.Name, sec.Ciphertext, sec.Nonce, now, now)
	if err != nil {
		return fmt.Errorf("store: put secret %s: %w", sec.Name, err)
	}
	return nil
}

const secretColumns = `repo_id, name, ciphertext, nonce, created_at, updated_at`

func scanSecret(sc scanner) (Secret, error) {
	var sec Secret
	var created, updated int64
	err := sc.Scan(&sec.RepoID, &sec.Name, &sec.Ciphertext, &sec.Nonce, &created, &updated)
	sec.CreatedAt, sec.UpdatedAt = fromNanos(created), fromNanos(updated)
	return sec, err
}

// Secret returns repository repoID's secret name.
func (s *Store) Secret(ctx context.Context, repoID int64, name string) (Secret, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+secretColumns+` FROM secrets WHERE repo_id = ? AND name = ?`, repoID, name)
	sec, err := scanSecret(row)
	if err != nil {
		return Secret{}, notFound(err, "secret", name)
	}
	return sec, nil
}

// Secrets returns repository repoID's secrets by name (Global's only for
// Global).
func (s *Store) Secrets(ctx context.Context, repoID int64) ([]Secret, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+secretColumns+` FROM secrets WHERE repo_id = ? ORDER BY name`, repoID)
	if err != nil {
		return nil, fmt.Errorf("store: secrets: %w", err)
	}
	return collect(rows, scanSecret)
}

// DeleteSecret removes repository repoID's secret name.
func (s *Store) DeleteSecret(ctx context.Context, repoID int64, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM secrets WHERE repo_id = ? AND name = ?`, repoID, name)
	if err != nil {
		return fmt.Errorf("store: delete secret %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete secret %s: %w", name, ErrNotFound)
	}
	return nil
}

// Variable is a configuration variable (the vars context) of a
// repository (or Global).
type Variable struct {
	RepoID    int64
	Name      string
	Value     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const variableColumns = `repo_id, name, value, created_at, updated_at`

func scanVariable(sc scanner) (Variable, error) {
	var v Variable
	var created, updated int64
	err := sc.Scan(&v.RepoID, &v.Name, &v.Value, &created, &updated)
	v.CreatedAt, v.UpdatedAt = fromNanos(created), fromNanos(updated)
	return v, err
}

// CreateVariable adds a variable; a name in use is ErrConflict, as
// GitHub's "create a repository variable" answers 409.
func (s *Store) CreateVariable(ctx context.Context, v Variable) error {
	now := nanos(s.now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO variables (repo_id, name, value, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?)`, v.RepoID, v.Name, v.Value, now, now)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: variable %s: %w", v.Name, ErrConflict)
		}
		return fmt.Errorf("store: variable %s: %w", v.Name, err)
	}
	return nil
}

// UpdateVariable changes an existing variable's value.
func (s *Store) UpdateVariable(ctx context.Context, v Variable) error {
	res, err := s.db.ExecContext(ctx, `UPDATE variables SET value = ?, updated_at = ? WHERE repo_id = ? AND name = ?`,
		v.Value, nanos(s.now()), v.RepoID, v.Name)
	if err != nil {
		return fmt.Errorf("store: update variable %s: %w", v.Name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update variable %s: %w", v.Name, ErrNotFound)
	}
	return nil
}

// Variable returns repository repoID's variable name.
func (s *Store) Variable(ctx context.Context, repoID int64, name string) (Variable, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+variableColumns+` FROM variables WHERE repo_id = ? AND name = ?`, repoID, name)
	v, err := scanVariable(row)
	if err != nil {
		return Variable{}, notFound(err, "variable", name)
	}
	return v, nil
}

// Variables returns repository repoID's variables by name.
func (s *Store) Variables(ctx context.Context, repoID int64) ([]Variable, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+variableColumns+` FROM variables WHERE repo_id = ? ORDER BY name`, repoID)
	if err != nil {
		return nil, fmt.Errorf("store: variables: %w", err)
	}
	return collect(rows, scanVariable)
}

// DeleteVariable removes repository repoID's variable name.
func (s *Store) DeleteVariable(ctx context.Context, repoID int64, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM variables WHERE repo_id = ? AND name = ?`, repoID, name)
	if err != nil {
		return fmt.Errorf("store: delete variable %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete variable %s: %w", name, ErrNotFound)
	}
	return nil
}
