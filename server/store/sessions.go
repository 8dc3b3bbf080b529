package store

import (
	"context"
	"fmt"
	"time"
)

// CreateSession records a sign-in of token tokenID, known by hash (the
// SHA-256 of the browser's cookie) until expires, and forgets sessions
// that have expired.
func (s *Store) CreateSession(ctx context.Context, hash []byte, tokenID int64, expires time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, nanos(s.now())); err != nil {
		return fmt.Errorf("store: expire sessions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions (hash, token_id, expires_at) VALUES (?, ?, ?)`,
		hash, tokenID, nanos(expires)); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionToken returns the token a live session signed in with: one that
// has not expired, been deleted, or lost its token.
func (s *Store) SessionToken(ctx context.Context, hash []byte) (Token, error) {
	row := s.db.QueryRowContext(ctx, `SELECT t.id, t.name, t.hash, t.scope, t.created_at, t.last_used_at
		FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.hash = ? AND s.expires_at > ?`, hash, nanos(s.now()))
	t, err := scanToken(row)
	if err != nil {
		return Token{}, notFound(err, "session", "by hash")
	}
	return t, nil
}

// DeleteSession ends a session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}
