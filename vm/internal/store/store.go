// Package store persists the pool's instance records in an embedded SQLite
// database (modernc.org/sqlite, no cgo) so that a restarted pool can tell its
// own instances from orphans. It holds no secrets: just-in-time runner
// configurations are never written here.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the database file inside a state directory.
const FileName = "pool.db"

// schema is applied on every Open; each statement is idempotent.
const schema = `
CREATE TABLE IF NOT EXISTS instances (
	name       TEXT PRIMARY KEY,
	pool       TEXT NOT NULL,
	state      TEXT NOT NULL,
	runner_id  INTEGER NOT NULL DEFAULT 0,
	job_id     INTEGER NOT NULL DEFAULT 0,
	started    INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);`

// Record is one instance as the pool last persisted it.
type Record struct {
	Name      string
	Pool      string
	State     string
	RunnerID  int64
	JobID     int64
	Started   bool // the job JobID has started on the instance
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Store is an open pool database. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open opens (creating if needed) the database in dir and applies the schema.
// An empty dir opens a private in-memory database, which lives until Close.
func Open(ctx context.Context, dir string) (*Store, error) {
	dsn := "file::memory:"
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create state dir: %w", err)
		}
		// WAL lets readers proceed while the pool writes; NORMAL sync is
		// durable across process crashes, which is what reconciliation needs.
		dsn = "file:" + filepath.ToSlash(filepath.Join(dir, FileName)) +
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dsn, err)
	}
	// One connection: the pool is the only writer, and an in-memory database
	// exists per connection.
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: create schema: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate schema: %w", err)
	}
	return &Store{db: db}, nil
}

// migrate brings a database made by an older Vermont up to the schema:
// CREATE TABLE IF NOT EXISTS leaves an existing table's columns alone.
func migrate(ctx context.Context, db *sql.DB) error {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('instances') WHERE name = 'started'`).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	_, err = db.ExecContext(ctx, `ALTER TABLE instances ADD COLUMN started INTEGER NOT NULL DEFAULT 0`)
	return err
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Put inserts or replaces the record named r.Name.
func (s *Store) Put(ctx context.Context, r Record) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO instances
		(name, pool, state, runner_id, job_id, started, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET pool=excluded.pool, state=excluded.state,
		runner_id=excluded.runner_id, job_id=excluded.job_id, started=excluded.started,
		updated_at=excluded.updated_at`,
		r.Name, r.Pool, r.State, r.RunnerID, r.JobID, r.Started, r.CreatedAt.UnixNano(), r.UpdatedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("store: put %s: %w", r.Name, err)
	}
	return nil
}

// Delete removes the record named name; a missing record is not an error.
func (s *Store) Delete(ctx context.Context, name string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM instances WHERE name = ?`, name); err != nil {
		return fmt.Errorf("store: delete %s: %w", name, err)
	}
	return nil
}

// List returns every record, ordered by name.
func (s *Store) List(ctx context.Context) ([]Record, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, pool, state, runner_id, job_id, started, created_at, updated_at
		FROM instances ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var created, updated int64
		if err := rows.Scan(&r.Name, &r.Pool, &r.State, &r.RunnerID, &r.JobID, &r.Started, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: list: %w", err)
		}
		r.CreatedAt, r.UpdatedAt = time.Unix(0, created), time.Unix(0, updated)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	return out, nil
}

// ControllerID returns this database's controller ID, creating a random one
// on first use. Providers label instances with it so that List tells this
// controller's instances from everything else on the host.
func (s *Store) ControllerID(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'controller_id'`).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: controller id: %w", err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: controller id: %w", err)
	}
	id = hex.EncodeToString(b[:])
	// INSERT OR IGNORE + re-read keeps two concurrent first opens consistent.
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO meta (key, value) VALUES ('controller_id', ?)`, id); err != nil {
		return "", fmt.Errorf("store: controller id: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'controller_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("store: controller id: %w", err)
	}
	return id, nil
}

// InstanceKey returns this database's key for instance tokens (32 random
// bytes), creating it on first use. It is a secret: the pool derives from
// it the token each instance shows when it fetches its runner config, so
// the tokens survive a restart without being stored.
func (s *Store) InstanceKey(ctx context.Context) ([]byte, error) {
	const q = `SELECT value FROM meta WHERE key = 'instance_key'`
	var v string
	err := s.db.QueryRowContext(ctx, q).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("store: instance key: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO meta (key, value) VALUES ('instance_key', ?)`, hex.EncodeToString(b[:])); err != nil {
			return nil, fmt.Errorf("store: instance key: %w", err)
		}
		err = s.db.QueryRowContext(ctx, q).Scan(&v)
	}
	if err != nil {
		return nil, fmt.Errorf("store: instance key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("store: instance key: stored value is damaged")
	}
	return key, nil
}
