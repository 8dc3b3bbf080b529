package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// What is SQLite's own lives in this file: the file name, the DSN and its
// pragmas, and the migrations directory (SQLite's INTEGER PRIMARY KEY ids;
// PostgreSQL's would be BIGINT GENERATED ALWAYS AS IDENTITY).

// FileName is the database file inside the data directory.
const FileName = "vermont.db"

//go:embed migrations/sqlite/*.sql
var migrationFS embed.FS

// migration is one numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the embedded SQL files in version order. They are parsed
// once; a malformed name is a build mistake, caught by the package's tests.
var migrations = mustLoad(migrationFS, "migrations/sqlite")

func mustLoad(fsys fs.FS, dir string) []migration {
	ms, err := loadMigrations(fsys, dir)
	if err != nil {
		panic(err)
	}
	return ms
}

// loadMigrations reads dir's NNNN_name.sql files, which must be numbered
// 1, 2, 3, … without gaps.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("store: migration %s: want NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration %s: want version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// openSQLite opens dir/FileName. WAL lets readers (the API, a log being
// followed) proceed while runs write; synchronous=NORMAL in WAL mode loses
// nothing a process crash (SIGKILL) could take, only what a power loss
// might; busy_timeout makes concurrent writers wait for each other rather
// than fail; _txlock=immediate takes the write lock when a transaction
// begins, so two read-then-write transactions cannot deadlock.
func openSQLite(ctx context.Context, dir string) (*sql.DB, error) {
	if dir == "" {
		return nil, fmt.Errorf("store: no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := initSQLite(ctx, path); err != nil {
		return nil, err
	}
	dsn := "file:" + filepath.ToSlash(path) +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

// migrate applies migrations ms[:upTo] that the database lacks, all in
// one transaction: a failed migration leaves the database as it was. On
// PostgreSQL the transaction first takes an advisory lock, so hosts
// starting together migrate one after the other.
func migrate(ctx context.Context, db *sql.DB, ms []migration, upTo int, pg bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("store: database schema version %d is newer than this Vermont's %d", have, len(ms))
	}
	for _, m := range ms[min(have, upTo):upTo] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return tx.Commit()
}

// claimLock ends ClaimRun's (and Abandon's) choice of rows. SQLite's
// write lock (taken by _txlock=immediate) already serialises claims;
// PostgreSQL's is " FOR UPDATE SKIP LOCKED", so hosts sharing a database
// skip each other's rows.
func (s *Store) claimLock() string {
	if s.pg {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// pageSize is the page size of a new database. Log chunks are large blobs
// spread over overflow pages, each written to the WAL and again at
// checkpoint; larger pages mean fewer writes (BenchmarkLog100MB).
const pageSize = 16384

// initSQLite creates the database file at path with pageSize pages, which
// must be set before the first table and before WAL mode.
func initSQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path))
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", pageSize)); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return db.Close()
}
