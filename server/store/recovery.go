package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Abandon concludes, as failed, every in-progress run that host holds or
// whose lease has lapsed: the runs a crashed or killed host left behind.
// Their unfinished jobs and steps fail too, and each unfinished job gets
// a failure annotation with message, as GitHub annotates a job whose
// runner was lost ("The runner has received a shutdown signal…", or "…lost
// communication with the server…"). It returns the runs it concluded.
func (s *Store) Abandon(ctx context.Context, host, message string) ([]int64, error) {
	now := s.now()
	var ids []int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = abandonRuns(ctx, tx, `(lease_host = ? OR lease_until < ?) ORDER BY id`+s.claimLock(), message, now, host, nanos(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: abandon runs of %s: %w", host, err)
	}
	return ids, nil
}

// abandonRuns concludes the in-progress runs that match where (a
// condition on runs, with its args) as abandonRun does, by id.
func abandonRuns(ctx context.Context, tx *sql.Tx, where, message string, now time.Time, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM runs WHERE status = ? AND `+where, append([]any{InProgress}, args...)...)
	if err != nil {
		return nil, err
	}
	ids, err := collect(rows, func(sc scanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := abandonRun(ctx, tx, id, message, now); err != nil {
			return nil, fmt.Errorf("run %d: %w", id, err)
		}
	}
	return ids, nil
}

func abandonRun(ctx context.Context, tx *sql.Tx, id int64, message string, now time.Time) error {
	t := now.UnixNano()
	rows, err := tx.QueryContext(ctx, `SELECT id FROM jobs WHERE run_id = ? AND status <> ?
		AND attempt = (SELECT attempt FROM runs WHERE id = ?)`, id, Completed, id)
	if err != nil {
		return err
	}
	jobs, err := collect(rows, func(sc scanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if _, err := tx.ExecContext(ctx, `UPDATE steps SET status = ?, conclusion = ?, completed_at = ?
			WHERE job_id = ? AND status <> ?`, Completed, Failure, t, j, Completed); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = ?, conclusion = ?, completed_at = ? WHERE id = ?`,
			Completed, Failure, t, j); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO annotations (job_id, level, message, created_at) VALUES (?, ?, ?, ?)`,
			j, "failure", message, t); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, conclusion = ?, completed_at = ?, updated_at = ?,
		lease_host = '', lease_until = 0 WHERE id = ?`, Completed, Failure, t, t, id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE attempts SET status = ?, conclusion = ?, completed_at = ?
		WHERE run_id = ? AND number = (SELECT attempt FROM runs WHERE id = ?)`, Completed, Failure, t, id, id)
	return err
}
