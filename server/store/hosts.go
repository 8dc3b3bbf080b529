package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Several `vermont serve` hosts may share one PostgreSQL database. What
// they coordinate through lives here: each host's heartbeat row, the lost
// hosts' runs, cron ticks started once, and cancel requests for a run
// another host executes. On SQLite (one host) the same calls work and
// cost a row each.

// Host is a `vermont serve` process sharing the database.
type Host struct {
	Name        string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// Heartbeat records that host is alive now (started at started).
func (s *Store) Heartbeat(ctx context.Context, host string, started time.Time) error {
	now := nanos(s.now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO hosts (name, started_at, heartbeat_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
		host, nanos(started), now)
	if err != nil {
		return fmt.Errorf("store: heartbeat of %s: %w", host, err)
	}
	return nil
}

// Hosts returns the hosts that have heartbeat, by name.
func (s *Store) Hosts(ctx context.Context) ([]Host, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, started_at, heartbeat_at FROM hosts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	return collect(rows, func(sc scanner) (Host, error) {
		var h Host
		var started, beat int64
		err := sc.Scan(&h.Name, &started, &beat)
		h.StartedAt, h.HeartbeatAt = fromNanos(started), fromNanos(beat)
		return h, err
	})
}

// AbandonLost concludes, as Abandon does, the in-progress runs of hosts
// that are gone: runs whose lease lapsed, and runs of a host whose last
// heartbeat is older than deadAfter. The rows of such hosts are removed.
// Any host may call it; each lost run is concluded once. It returns the
// runs it concluded.
func (s *Store) AbandonLost(ctx context.Context, deadAfter time.Duration, message string) ([]int64, error) {
	now := s.now()
	cutoff := nanos(now.Add(-deadAfter))
	var ids []int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = abandonRuns(ctx, tx, `(lease_until < ? OR lease_host IN (SELECT name FROM hosts WHERE heartbeat_at < ?))
			ORDER BY id`+s.claimLock(), message, now, nanos(now), cutoff)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM hosts WHERE heartbeat_at < ?`, cutoff)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: abandon the runs of lost hosts: %w", err)
	}
	return ids, nil
}

// RequestCancel asks the host running run id to cancel it (force: also
// the steps that run on cancellation), as a cancel through the API of
// another host does. The run must be in progress (ErrConflict).
func (s *Store) RequestCancel(ctx context.Context, id int64, force bool) error {
	level := 1
	if force {
		level = 2
	}
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET cancel_requested = CASE WHEN cancel_requested > ? THEN cancel_requested ELSE ? END
		WHERE id = ? AND status = ?`, level, level, id, InProgress)
	if err != nil {
		return fmt.Errorf("store: cancel run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: cancel run %d: not in progress: %w", id, ErrConflict)
	}
	return nil
}

// CancelRequests returns the in-progress runs of host that were asked to
// cancel, each with whether the cancel is forced.
func (s *Store) CancelRequests(ctx context.Context, host string) (map[int64]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, cancel_requested FROM runs
		WHERE lease_host = ? AND status = ? AND cancel_requested > 0`, host, InProgress)
	if err != nil {
		return nil, fmt.Errorf("store: cancel requests of %s: %w", host, err)
	}
	type req struct {
		id    int64
		level int
	}
	list, err := collect(rows, func(sc scanner) (req, error) {
		var r req
		return r, sc.Scan(&r.id, &r.level)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(list))
	for _, r := range list {
		out[r.id] = r.level > 1
	}
	return out, nil
}

// ClaimTick claims the schedule tick of cron at minute tick for
// repository repoID, for host: true for the one caller (across hosts)
// that is to queue its runs, false for every other.
func (s *Store) ClaimTick(ctx context.Context, repoID int64, cron string, tick time.Time, host string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO cron_ticks (repo_id, cron, tick, host) VALUES (?, ?, ?, ?)
		ON CONFLICT (repo_id, cron, tick) DO NOTHING`, repoID, cron, nanos(tick), host)
	if err != nil {
		return false, fmt.Errorf("store: claim tick %s of %q: %w", tick.Format(time.RFC3339), cron, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim tick %s of %q: %w", tick.Format(time.RFC3339), cron, err)
	}
	return n == 1, nil
}

// PruneTicks removes the claims of ticks before before.
func (s *Store) PruneTicks(ctx context.Context, before time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM cron_ticks WHERE tick < ?`, nanos(before)); err != nil {
		return fmt.Errorf("store: prune cron ticks: %w", err)
	}
	return nil
}

// CancelQueued concludes run id as cancelled if it is still queued, and
// reports whether it was: a host may have claimed it since it was read,
// and then the cancel is that host's to carry out (RequestCancel).
func (s *Store) CancelQueued(ctx context.Context, id int64) (bool, error) {
	now := nanos(s.now())
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, conclusion = ?, completed_at = ?, updated_at = ?
			WHERE id = ? AND status = ?`, Completed, Cancelled, now, now, id, Queued)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		done = true
		_, err = tx.ExecContext(ctx, `UPDATE attempts SET status = ?, conclusion = ?, completed_at = ?
			WHERE run_id = ? AND number = (SELECT attempt FROM runs WHERE id = ?)`, Completed, Cancelled, now, id, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: cancel queued run %d: %w", id, err)
	}
	return done, nil
}
