// Package store keeps everything `vermont serve` knows in one database:
// repositories, workflows, runs and their attempts, jobs, steps, log lines,
// annotations, artifacts, the webhook deliveries already seen, and the
// tables the GitHub-compatible API owns (tokens, secrets, variables).
//
// The database is an embedded SQLite file (modernc.org/sqlite, no cgo)
// under the service's data directory, in WAL mode, or a PostgreSQL
// database (WithDatabase, through pgx's database/sql driver) that several
// `vermont serve` hosts share (hosts.go: heartbeats, lost hosts' runs,
// cron ticks claimed once, cancel requests). Its schema is a list of
// numbered SQL migrations embedded in the package and recorded in a
// schema_migrations table; Open applies the missing ones in one
// transaction. The SQL is written for database/sql with ? placeholders and
// statements PostgreSQL accepts too (INSERT … ON CONFLICT … RETURNING,
// BIGINT times in Unix nanoseconds); what is SQLite's own (the DSN, its
// pragmas, INTEGER PRIMARY KEY ids, the migrations directory) lives in
// sqlite.go; PostgreSQL's (the ? → $n rewrite, BIGINT identity ids, BYTEA,
// its migrations directory, numbered as SQLite's) in postgres.go.
//
// Runs move queued → in_progress → completed. A host takes a queued run
// with ClaimRun, which records the host and a lease (on PostgreSQL the
// queued row is chosen FOR UPDATE SKIP LOCKED, so each run goes to exactly
// one host); a host that dies stops renewing its lease and heartbeat, and
// Abandon (at its own restart) or AbandonLost (from any other host)
// concludes its runs as GitHub concludes a job whose runner was lost.
//
// Log lines are stored in chunks of consecutive lines of one step
// (LogWriter): a chunk is committed every FlushInterval or FlushLines lines,
// whichever comes first, and readers (Logs) see only committed chunks, so
// a line that was ever shown survives a SIGKILL. The store writes the text
// it is given: callers mask secrets before a line reaches it (the exec
// package's events are masked already).
//
// Every method is safe for concurrent use.
package store
