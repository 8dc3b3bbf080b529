package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Job is one job of one attempt of a run (a matrix leg is a job).
type Job struct {
	ID          int64
	RunID       int64
	Attempt     int64
	Key         string // the job's id in the workflow, e.g. "build"
	Name        string // its display name, e.g. "build (ubuntu, 18)"
	Status      Status
	Conclusion  Conclusion
	RunnerName  string
	Labels      []string          // runs-on
	Matrix      json.RawMessage   // the leg's matrix values, or null
	Outputs     map[string]string // the job's outputs, once completed
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
}

const jobColumns = `id, run_id, attempt, job_key, name, status, conclusion, runner_name, labels, matrix, outputs,
	created_at, started_at, completed_at`

func scanJob(sc scanner) (Job, error) {
	var j Job
	var labels, matrix, outputs string
	var created, started, completed int64
	err := sc.Scan(&j.ID, &j.RunID, &j.Attempt, &j.Key, &j.Name, &j.Status, &j.Conclusion, &j.RunnerName,
		&labels, &matrix, &outputs, &created, &started, &completed)
	if err != nil {
		return j, err
	}
	if err := json.Unmarshal([]byte(labels), &j.Labels); err != nil {
		return j, fmt.Errorf("job %d labels: %w", j.ID, err)
	}
	if err := json.Unmarshal([]byte(outputs), &j.Outputs); err != nil {
		return j, fmt.Errorf("job %d outputs: %w", j.ID, err)
	}
	j.Matrix = json.RawMessage(matrix)
	j.CreatedAt, j.StartedAt, j.CompletedAt = fromNanos(created), fromNanos(started), fromNanos(completed)
	return j, nil
}

// marshal is v as JSON; the values the store marshals (strings, string
// maps) cannot fail.
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return string(b)
}

// CreateJob adds j (its ID is ignored) and returns it with its id. A job
// may be created already completed: a re-run of failed jobs carries the
// successful jobs of the previous attempt over that way, as GitHub does.
func (s *Store) CreateJob(ctx context.Context, j Job) (Job, error) {
	if j.Status == "" {
		j.Status = Queued
	}
	if j.Labels == nil {
		j.Labels = []string{}
	}
	if j.Outputs == nil {
		j.Outputs = map[string]string{}
	}
	created := j.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	row := s.db.QueryRowContext(ctx, `INSERT INTO jobs (run_id, attempt, job_key, name, status, conclusion,
			runner_name, labels, matrix, outputs, created_at, started_at, completed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+jobColumns,
		j.RunID, j.Attempt, j.Key, j.Name, j.Status, j.Conclusion, j.RunnerName, marshal(j.Labels),
		rawOr(j.Matrix, "null"), marshal(j.Outputs), nanos(created), nanos(j.StartedAt), nanos(j.CompletedAt))
	out, err := scanJob(row)
	if err != nil {
		return Job{}, fmt.Errorf("store: create job %s of run %d: %w", j.Name, j.RunID, err)
	}
	return out, nil
}

// Job returns the job with the given id.
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id)
	j, err := scanJob(row)
	if err != nil {
		return Job{}, notFound(err, "job", id)
	}
	return j, nil
}

// Jobs returns the jobs of attempt of run runID in the order they were
// created; attempt 0 means the run's latest attempt.
func (s *Store) Jobs(ctx context.Context, runID, attempt int64) ([]Job, error) {
	q := `SELECT ` + jobColumns + ` FROM jobs WHERE run_id = ? AND attempt = ? ORDER BY id`
	args := []any{runID, attempt}
	if attempt == 0 {
		q = `SELECT ` + jobColumns + ` FROM jobs WHERE run_id = ?
			AND attempt = (SELECT attempt FROM runs WHERE id = ?) ORDER BY id`
		args = []any{runID, runID}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: jobs of run %d: %w", runID, err)
	}
	return collect(rows, scanJob)
}

// StartJob marks job id in progress on runner at t.
func (s *Store) StartJob(ctx context.Context, id int64, runner string, t time.Time) error {
	return s.execOne(ctx, "start job", id, `UPDATE jobs SET status = ?, runner_name = ?, started_at = ? WHERE id = ?`,
		InProgress, runner, nanos(t), id)
}

// FinishJob concludes job id at t with its outputs.
func (s *Store) FinishJob(ctx context.Context, id int64, c Conclusion, outputs map[string]string, t time.Time) error {
	if outputs == nil {
		outputs = map[string]string{}
	}
	return s.execOne(ctx, "finish job", id, `UPDATE jobs SET status = ?, conclusion = ?, outputs = ?, completed_at = ?,
		started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END WHERE id = ?`,
		Completed, c, marshal(outputs), nanos(t), nanos(t), id)
}

// execOne runs an UPDATE or DELETE that must touch exactly the row id.
func (s *Store) execOne(ctx context.Context, what string, id int64, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", what, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: %s %d: %w", what, id, ErrNotFound)
	}
	return nil
}

// Step is one step of a job; numbers start at 1, in the order the steps
// ran (post steps included), as GitHub numbers them.
type Step struct {
	JobID       int64
	Number      int64
	Name        string
	Status      Status
	Conclusion  Conclusion
	StartedAt   time.Time
	CompletedAt time.Time
}

// StartStep records step number of job jobID as in progress from t.
func (s *Store) StartStep(ctx context.Context, jobID, number int64, name string, t time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO steps (job_id, number, name, status, started_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (job_id, number) DO UPDATE SET name = excluded.name, status = excluded.status,
			started_at = excluded.started_at`, jobID, number, name, InProgress, nanos(t))
	if err != nil {
		return fmt.Errorf("store: start step %d of job %d: %w", number, jobID, err)
	}
	return nil
}

// FinishStep concludes step number of job jobID at t.
func (s *Store) FinishStep(ctx context.Context, jobID, number int64, c Conclusion, t time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE steps SET status = ?, conclusion = ?, completed_at = ?
		WHERE job_id = ? AND number = ?`, Completed, c, nanos(t), jobID, number)
	if err != nil {
		return fmt.Errorf("store: finish step %d of job %d: %w", number, jobID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: finish step %d of job %d: %w", number, jobID, ErrNotFound)
	}
	return nil
}

// Steps returns job jobID's steps by number.
func (s *Store) Steps(ctx context.Context, jobID int64) ([]Step, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT job_id, number, name, status, conclusion, started_at, completed_at
		FROM steps WHERE job_id = ? ORDER BY number`, jobID)
	if err != nil {
		return nil, fmt.Errorf("store: steps of job %d: %w", jobID, err)
	}
	return collect(rows, func(sc scanner) (Step, error) {
		var st Step
		var started, completed int64
		err := sc.Scan(&st.JobID, &st.Number, &st.Name, &st.Status, &st.Conclusion, &started, &completed)
		st.StartedAt, st.CompletedAt = fromNanos(started), fromNanos(completed)
		return st, err
	})
}

// Annotation is a check-run annotation of a job: a ::error::/::warning::/
// ::notice:: command, or a message from the service itself (a lost runner).
type Annotation struct {
	ID        int64
	JobID     int64
	Level     string // "failure", "warning" or "notice", as GitHub's check annotations
	Message   string
	Title     string
	Path      string
	StartLine int64
	CreatedAt time.Time
}

// AddAnnotation records a on its job.
func (s *Store) AddAnnotation(ctx context.Context, a Annotation) error {
	return addAnnotation(ctx, s.db, a, s.now())
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func addAnnotation(ctx context.Context, db execer, a Annotation, now time.Time) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	_, err := db.ExecContext(ctx, `INSERT INTO annotations (job_id, level, message, title, path, start_line, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.JobID, a.Level, a.Message, a.Title, a.Path, a.StartLine, nanos(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: annotate job %d: %w", a.JobID, err)
	}
	return nil
}

// Annotations returns job jobID's annotations in the order they were made.
func (s *Store) Annotations(ctx context.Context, jobID int64) ([]Annotation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, job_id, level, message, title, path, start_line, created_at
		FROM annotations WHERE job_id = ? ORDER BY id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("store: annotations of job %d: %w", jobID, err)
	}
	return collect(rows, func(sc scanner) (Annotation, error) {
		var a Annotation
		var created int64
		err := sc.Scan(&a.ID, &a.JobID, &a.Level, &a.Message, &a.Title, &a.Path, &a.StartLine, &created)
		a.CreatedAt = fromNanos(created)
		return a, err
	})
}
