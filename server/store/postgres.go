package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// What is PostgreSQL's own lives in this file: opening a postgres:// URL
// through pgx's database/sql driver, the ? → $n placeholder rewrite that
// lets the store's SQL serve both databases, and the migrations directory
// (BIGINT identity ids, BYTEA blobs).

//go:embed migrations/postgres/*.sql
var pgMigrationFS embed.FS

// pgMigrations are the PostgreSQL migrations, numbered as the SQLite ones:
// migration N of each creates the same tables and columns.
var pgMigrations = mustLoad(pgMigrationFS, "migrations/postgres")

// IsPostgres reports whether database names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite data directory.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// WithDatabase keeps the store in the PostgreSQL database at url
// (postgres://user:password@host:port/db?sslmode=…, or host=/socket/dir
// for a unix socket) instead of the SQLite file in the data directory;
// the data directory still holds what is the host's own (mirrors, work
// directories). Several hosts may open the same database: they share the
// queue (ClaimRun), cron ticks (ClaimTick) and run control.
func WithDatabase(url string) Option {
	return func(s *Store) error {
		if !IsPostgres(url) {
			return errors.New("store: --database wants a postgres:// or postgresql:// URL")
		}
		s.url = url
		return nil
	}
}

// openPostgres opens the database at url. Errors name the host and
// database, never the URL: it may hold a password.
func openPostgres(ctx context.Context, url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message quotes no password, but may quote the URL's
		// other parts; say only what is wrong.
		return nil, errors.New("store: the PostgreSQL URL does not parse (want postgres://user:password@host:port/database)")
	}
	where := fmt.Sprintf("postgres database %q on %s:%d", cfg.Database, cfg.Host, cfg.Port)
	db := sql.OpenDB(rewriteConnector{inner: stdlib.GetConnector(*cfg), cache: &sync.Map{}})
	// Enough connections for the workers, log writers and the API; a
	// PostgreSQL server allows 100 by default, shared by every host.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", where, redact(err, cfg.Password))
	}
	return db, nil
}

// redact removes password from err's text.
func redact(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "********"))
}

// rewriteConnector hands out connections whose queries have their ?
// placeholders rewritten to PostgreSQL's $1, $2, …. The rewrites are
// cached: the store's queries are a fixed set (a RunFilter's few
// combinations included).
type rewriteConnector struct {
	inner driver.Connector
	cache *sync.Map // query → rewritten query
}

func (c rewriteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: pgx returned a %T connection", conn)
	}
	return rewriteConn{Conn: sc, cache: c.cache}, nil
}

func (c rewriteConnector) Driver() driver.Driver { return c.inner.Driver() }

// rewriteConn is pgx's connection (every optional interface of it
// promoted) with the query-taking methods rewriting placeholders.
type rewriteConn struct {
	*stdlib.Conn
	cache *sync.Map
}

// rewrite is placeholders(q), cached.
func (c rewriteConn) rewrite(q string) string {
	if v, ok := c.cache.Load(q); ok {
		return v.(string)
	}
	out := placeholders(q)
	c.cache.Store(q, out)
	return out
}

func (c rewriteConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(c.rewrite(query))
}

func (c rewriteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, c.rewrite(query))
}

func (c rewriteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, c.rewrite(query), args)
}

func (c rewriteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, c.rewrite(query), args)
}

// placeholders rewrites each ? outside string literals, quoted
// identifiers and comments to $1, $2, … in order.
func placeholders(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				i = len(q)
				continue
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q) - i
			}
			b.WriteString(q[i : i+end])
			i += end - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				b.WriteString(q[i:])
				i = len(q)
				continue
			}
			b.WriteString(q[i : i+end+4])
			i += end + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// migrationLock is the advisory lock key hosts hold while migrating, so
// that several starting at once apply each migration once.
const migrationLock = 0x7665726d6f6e74 // "vermont"

// isPgUniqueViolation reports a PostgreSQL unique_violation (23505).
func isPgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
