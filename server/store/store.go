package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound reports that the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that a row with the same key exists already, or
	// that a row is not in the state the change needs (re-running a run
	// that has not completed).
	ErrConflict = errors.New("conflict")
	// ErrNoRun reports that ClaimRun found no queued run.
	ErrNoRun = errors.New("no queued run")
)

// DefaultArtifactRetention is how long an artifact is kept unless the
// store is opened WithArtifactRetention: 90 days, GitHub's default
// (https://docs.github.com/en/actions/how-tos/manage-workflow-runs/remove-workflow-artifacts#setting-the-retention-period-for-an-artifact).
const DefaultArtifactRetention = 90 * 24 * time.Hour

// Store is an open run database.
type Store struct {
	db        *sql.DB
	dir       string
	now       func() time.Time
	retention time.Duration
	flush     time.Duration
	lines     int
	codec     codec
	url       string // the PostgreSQL database, or "" for SQLite in dir
	pg        bool
}

// Option configures Open.
type Option func(*Store) error

// WithClock makes the store read the time from now instead of time.Now,
// for tests.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("store: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithArtifactRetention sets how long artifacts are kept after they are
// stored (GitHub allows 1 to 90 days on public repositories, up to 400 on
// private ones).
func WithArtifactRetention(d time.Duration) Option {
	return func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("store: artifact retention %v is not positive", d)
		}
		s.retention = d
		return nil
	}
}

// WithLogFlush sets how often a LogWriter commits what it has buffered:
// after interval, or once lines lines are waiting, whichever comes first.
// The defaults are 100 ms and 1,000 lines.
func WithLogFlush(interval time.Duration, lines int) Option {
	return func(s *Store) error {
		if interval <= 0 || lines <= 0 {
			return fmt.Errorf("store: log flush %v / %d lines must be positive", interval, lines)
		}
		s.flush, s.lines = interval, lines
		return nil
	}
}

// Open opens the database in dir (creating dir and the database if
// needed), or the PostgreSQL database WithDatabase names, and applies the
// migrations it lacks.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	s := &Store{dir: dir}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention == 0 {
		s.retention = DefaultArtifactRetention
	}
	if s.flush == 0 {
		s.flush, s.lines = 100*time.Millisecond, 1000
	}
	c, err := newCodec()
	if err != nil {
		return nil, err
	}
	s.codec = c
	var db *sql.DB
	ms := migrations
	if s.url != "" {
		if dir == "" {
			return nil, fmt.Errorf("store: no data directory")
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data dir: %w", err)
		}
		s.pg, ms = true, pgMigrations
		db, err = openPostgres(ctx, s.url)
	} else {
		db, err = openSQLite(ctx, dir)
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db, ms, len(ms), s.pg); err != nil {
		db.Close()
		return nil, err
	}
	s.db = db
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.codec.dec.Close()
	return s.db.Close()
}

// Postgres reports whether the store is on PostgreSQL (shared by hosts).
func (s *Store) Postgres() bool { return s.pg }

// Dir is the data directory: the SQLite database's, and the host's own
// files' (mirrors, work directories) with PostgreSQL.
func (s *Store) Dir() string { return s.dir }

// DB is the underlying database, for a package that keeps its own tables
// in it (through its own migrations); the store's tables are the store's.
func (s *Store) DB() *sql.DB { return s.db }

// tx runs f in a transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// nanos is t in Unix nanoseconds, and 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// notFound maps sql.ErrNoRows to ErrNotFound, naming what was looked for.
func notFound(err error, what string, key any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s %v: %w", what, key, ErrNotFound)
	}
	return fmt.Errorf("store: %s %v: %w", what, key, err)
}
