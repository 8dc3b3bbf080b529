package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where a run, attempt, job or step is, with GitHub's names
// (https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository).
type Status string

// The statuses Vermont uses.
const (
	Queued     Status = "queued"
	InProgress Status = "in_progress"
	Completed  Status = "completed"
)

// Conclusion is how a completed run, job or step ended, with GitHub's
// names; it is empty until the status is Completed.
type Conclusion string

// The conclusions Vermont uses.
const (
	Success   Conclusion = "success"
	Failure   Conclusion = "failure"
	Cancelled Conclusion = "cancelled"
	Skipped   Conclusion = "skipped"
)

// Run is one workflow run: one workflow file started by one event.
type Run struct {
	ID           int64
	RepoID       int64
	WorkflowID   int64
	WorkflowPath string // joined from the workflow, for convenience
	WorkflowName string
	RunNumber    int64 // 1, 2, 3, … per workflow
	Attempt      int64 // the latest attempt, from 1
	Event        string
	HeadSHA      string
	HeadBranch   string // the branch, or the tag for a tag push
	Ref          string // the full ref: refs/heads/main, refs/tags/v1, refs/pull/7/merge
	Actor        string
	DisplayTitle string
	Status       Status
	Conclusion   Conclusion
	Concurrency  string          // the workflow-level concurrency group, "" for none
	Payload      json.RawMessage // github.event: the webhook delivery's payload
	Inputs       json.RawMessage // workflow_dispatch inputs, typed, as a JSON object
	LeaseHost    string          // the host running it, while in progress
	LeaseUntil   time.Time       // when that host's claim lapses unless renewed
	CreatedAt    time.Time
	UpdatedAt    time.Time
	StartedAt    time.Time // when the latest attempt started
	CompletedAt  time.Time
}

// NewRun is what CreateRun needs to queue a run.
type NewRun struct {
	RepoID       int64
	WorkflowPath string
	WorkflowName string
	Event        string
	HeadSHA      string
	HeadBranch   string
	Ref          string
	Actor        string
	DisplayTitle string
	Concurrency  string
	Payload      json.RawMessage // nil stores {}
	Inputs       json.RawMessage // nil stores {}
}

const runColumns = `runs.id, runs.repo_id, runs.workflow_id, workflows.path, workflows.name, runs.run_number,
	runs.attempt, runs.event, runs.head_sha, runs.head_branch, runs.ref, runs.actor, runs.display_title,
	runs.status, runs.conclusion, runs.concurrency, runs.payload, runs.inputs, runs.lease_host, runs.lease_until,
	runs.created_at, runs.updated_at, runs.started_at, runs.completed_at`

const runFrom = ` FROM runs JOIN workflows ON workflows.id = runs.workflow_id`

func scanRun(sc scanner) (Run, error) {
	var r Run
	var payload, inputs string
	var lease, created, updated, started, completed int64
	err := sc.Scan(&r.ID, &r.RepoID, &r.WorkflowID, &r.WorkflowPath, &r.WorkflowName, &r.RunNumber,
		&r.Attempt, &r.Event, &r.HeadSHA, &r.HeadBranch, &r.Ref, &r.Actor, &r.DisplayTitle,
		&r.Status, &r.Conclusion, &r.Concurrency, &payload, &inputs, &r.LeaseHost, &lease,
		&created, &updated, &started, &completed)
	r.Payload, r.Inputs = json.RawMessage(payload), json.RawMessage(inputs)
	r.LeaseUntil, r.CreatedAt, r.UpdatedAt = fromNanos(lease), fromNanos(created), fromNanos(updated)
	r.StartedAt, r.CompletedAt = fromNanos(started), fromNanos(completed)
	return r, err
}

// rawOr is m as a string, or def when m is empty.
func rawOr(m json.RawMessage, def string) string {
	if len(m) == 0 {
		return def
	}
	return string(m)
}

// CreateRun queues a run of n.WorkflowPath (recording the workflow on its
// first run) with the workflow's next run number, and its first attempt.
func (s *Store) CreateRun(ctx context.Context, n NewRun) (Run, error) {
	name := n.WorkflowName
	if name == "" {
		name = n.WorkflowPath
	}
	now := nanos(s.now())
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// The workflow row is the run-number counter: one upsert both
		// records the workflow and takes its next number, atomically in
		// SQLite and PostgreSQL alike.
		var wfID, number int64
		err := tx.QueryRowContext(ctx, `INSERT INTO workflows (repo_id, path, name, last_run_number, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?)
			ON CONFLICT (repo_id, path) DO UPDATE SET last_run_number = workflows.last_run_number + 1,
				name = excluded.name
			RETURNING id, last_run_number`, n.RepoID, n.WorkflowPath, name, now, now).Scan(&wfID, &number)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO runs (repo_id, workflow_id, run_number, attempt, event, head_sha,
				head_branch, ref, actor, display_title, status, concurrency, payload, inputs, created_at, updated_at)
			VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			n.RepoID, wfID, number, n.Event, n.HeadSHA, n.HeadBranch, n.Ref, n.Actor, n.DisplayTitle,
			Queued, n.Concurrency, rawOr(n.Payload, "{}"), rawOr(n.Inputs, "{}"), now, now).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO attempts (run_id, number, actor, status, created_at)
			VALUES (?, 1, ?, ?, ?)`, id, n.Actor, Queued, now)
		return err
	})
	if err != nil {
		return Run{}, fmt.Errorf("store: create run of %s: %w", n.WorkflowPath, err)
	}
	return s.Run(ctx, id)
}

// Run returns the run with the given id.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+runColumns+runFrom+` WHERE runs.id = ?`, id)
	r, err := scanRun(row)
	if err != nil {
		return Run{}, notFound(err, "run", id)
	}
	return r, nil
}

// RunFilter selects runs, as the query parameters of GitHub's "list
// workflow runs" do. Zero fields select everything.
type RunFilter struct {
	RepoID      int64
	WorkflowID  int64
	Branch      string
	Event       string
	Actor       string
	HeadSHA     string
	Concurrency string
	// Status is a status (queued, in_progress, completed) or a conclusion
	// (success, failure, cancelled, …), as GitHub's status parameter.
	Status        string
	CreatedAfter  time.Time // inclusive
	CreatedBefore time.Time // exclusive
	Limit         int       // 0: no limit
	Offset        int
}

// where is f's WHERE clause and its arguments.
func (f RunFilter) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if f.RepoID != 0 {
		add("runs.repo_id = ?", f.RepoID)
	}
	if f.WorkflowID != 0 {
		add("runs.workflow_id = ?", f.WorkflowID)
	}
	if f.Branch != "" {
		add("runs.head_branch = ?", f.Branch)
	}
	if f.Event != "" {
		add("runs.event = ?", f.Event)
	}
	if f.Actor != "" {
		add("runs.actor = ?", f.Actor)
	}
	if f.HeadSHA != "" {
		add("runs.head_sha = ?", f.HeadSHA)
	}
	if f.Concurrency != "" {
		add("runs.concurrency = ?", f.Concurrency)
	}
	switch Status(f.Status) {
	case "":
	case Queued, InProgress, Completed:
		add("runs.status = ?", f.Status)
	default:
		add("runs.conclusion = ?", f.Status)
	}
	if !f.CreatedAfter.IsZero() {
		add("runs.created_at >= ?", nanos(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		add("runs.created_at < ?", nanos(f.CreatedBefore))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ListRuns returns the runs f selects, newest first.
func (s *Store) ListRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	where, args := f.where()
	q := `SELECT ` + runColumns + runFrom + where + ` ORDER BY runs.id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, f.Offset)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	return collect(rows, scanRun)
}

// CountRuns counts the runs f selects, ignoring its Limit and Offset
// (the total_count of GitHub's list responses).
func (s *Store) CountRuns(ctx context.Context, f RunFilter) (int, error) {
	where, args := f.where()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count runs: %w", err)
	}
	return n, nil
}

// ClaimRun hands host the oldest queued run whose concurrency group has no
// run in progress, marking it (and its latest attempt) in progress with a
// lease until now+lease. It returns ErrNoRun when there is none.
func (s *Store) ClaimRun(ctx context.Context, host string, lease time.Duration) (Run, error) {
	for range 8 {
		run, err := s.claimRun(ctx, host, lease)
		if !errors.Is(err, errGroupTaken) {
			return run, err
		}
		// Another host started a run of the same concurrency group at
		// the same moment; the next try sees it and passes over the group.
	}
	return Run{}, ErrNoRun
}

// errGroupTaken is claimRun's answer when, on PostgreSQL, another host's
// concurrent claim took a run of the same concurrency group.
var errGroupTaken = errors.New("concurrency group taken")

func (s *Store) claimRun(ctx context.Context, host string, lease time.Duration) (Run, error) {
	now := s.now()
	var id, repoID int64
	var group string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE runs SET status = ?, lease_host = ?, lease_until = ?,
				started_at = ?, updated_at = ?, cancel_requested = 0
			WHERE id = (SELECT id FROM runs AS q WHERE q.status = ?
				AND (q.concurrency = '' OR NOT EXISTS (SELECT 1 FROM runs AS g
					WHERE g.repo_id = q.repo_id AND g.concurrency = q.concurrency AND g.status = ?))
				ORDER BY q.id LIMIT 1`+s.claimLock()+`)
			RETURNING id, repo_id, concurrency`,
			InProgress, host, nanos(now.Add(lease)), nanos(now), nanos(now), Queued, InProgress).Scan(&id, &repoID, &group)
		if err != nil {
			return err
		}
		if s.pg && group != "" {
			// Under READ COMMITTED the NOT EXISTS above cannot see another
			// host's uncommitted claim in the same group. Claims of one
			// group take turns on an advisory lock, held to commit, and
			// look again once they hold it.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`,
				fmt.Sprintf("vermont-group/%d/%s", repoID, group)); err != nil {
				return err
			}
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE repo_id = ? AND concurrency = ?
				AND status = ? AND id <> ?`, repoID, group, InProgress, id).Scan(&others); err != nil {
				return err
			}
			if others > 0 {
				return errGroupTaken
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE attempts SET status = ?, started_at = ?
			WHERE run_id = ? AND number = (SELECT attempt FROM runs WHERE id = ?)`, InProgress, nanos(now), id, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNoRun
	}
	if errors.Is(err, errGroupTaken) {
		return Run{}, err
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: claim run: %w", err)
	}
	return s.Run(ctx, id)
}

// RenewLease extends host's lease on the in-progress run id to now+lease.
// It returns ErrNotFound when host no longer holds the run.
func (s *Store) RenewLease(ctx context.Context, id int64, host string, lease time.Duration) error {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET lease_until = ? WHERE id = ? AND lease_host = ? AND status = ?`,
		nanos(now.Add(lease)), id, host, InProgress)
	if err != nil {
		return fmt.Errorf("store: renew lease of run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: renew lease of run %d by %s: %w", id, host, ErrNotFound)
	}
	return nil
}

// CompleteRun concludes run id and its latest attempt, and releases its
// lease.
func (s *Store) CompleteRun(ctx context.Context, id int64, c Conclusion) error {
	now := nanos(s.now())
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, conclusion = ?, completed_at = ?, updated_at = ?,
			lease_host = '', lease_until = 0 WHERE id = ?`, Completed, c, now, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		_, err = tx.ExecContext(ctx, `UPDATE attempts SET status = ?, conclusion = ?, completed_at = ?
			WHERE run_id = ? AND number = (SELECT attempt FROM runs WHERE id = ?)`, Completed, c, now, id, id)
		return err
	})
	if err != nil {
		return notFound(err, "complete run", id)
	}
	return nil
}

// NewAttempt queues run id again as its next attempt (a re-run), which it
// returns. The run must be completed. failedOnly records a re-run of
// failed jobs; which jobs run again is the caller's to decide.
func (s *Store) NewAttempt(ctx context.Context, id int64, actor string, failedOnly bool) (Attempt, error) {
	now := nanos(s.now())
	var number int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE runs SET attempt = attempt + 1, status = ?, conclusion = '',
				actor = CASE WHEN ? = '' THEN actor ELSE ? END,
				started_at = 0, completed_at = 0, updated_at = ?, cancel_requested = 0
			WHERE id = ? AND status = ? RETURNING attempt`, Queued, actor, actor, now, id, Completed).Scan(&number)
		if errors.Is(err, sql.ErrNoRows) {
			var st Status
			if err := tx.QueryRowContext(ctx, `SELECT status FROM runs WHERE id = ?`, id).Scan(&st); err != nil {
				return err
			}
			return fmt.Errorf("run is %s: %w", st, ErrConflict)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO attempts (run_id, number, actor, status, failed_only, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, id, number, actor, Queued, failedOnly, now)
		return err
	})
	if err != nil {
		return Attempt{}, notFound(err, "re-run run", id)
	}
	return s.Attempt(ctx, id, number)
}

// DeleteRun removes run id and everything it produced.
func (s *Store) DeleteRun(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete run %d: %w", id, ErrNotFound)
	}
	return nil
}

// Attempt is one attempt of a run (the first run, or a re-run).
type Attempt struct {
	RunID       int64
	Number      int64
	Actor       string
	Status      Status
	Conclusion  Conclusion
	FailedOnly  bool // a re-run of failed jobs
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
}

const attemptColumns = `run_id, number, actor, status, conclusion, failed_only, created_at, started_at, completed_at`

func scanAttempt(sc scanner) (Attempt, error) {
	var a Attempt
	var created, started, completed int64
	err := sc.Scan(&a.RunID, &a.Number, &a.Actor, &a.Status, &a.Conclusion, &a.FailedOnly, &created, &started, &completed)
	a.CreatedAt, a.StartedAt, a.CompletedAt = fromNanos(created), fromNanos(started), fromNanos(completed)
	return a, err
}

// Attempt returns attempt number of run id.
func (s *Store) Attempt(ctx context.Context, id, number int64) (Attempt, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE run_id = ? AND number = ?`, id, number)
	a, err := scanAttempt(row)
	if err != nil {
		return Attempt{}, notFound(err, "attempt", fmt.Sprintf("%d/%d", id, number))
	}
	return a, nil
}

// Attempts returns run id's attempts, first first.
func (s *Store) Attempts(ctx context.Context, id int64) ([]Attempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+attemptColumns+` FROM attempts WHERE run_id = ? ORDER BY number`, id)
	if err != nil {
		return nil, fmt.Errorf("store: attempts of run %d: %w", id, err)
	}
	return collect(rows, scanAttempt)
}
