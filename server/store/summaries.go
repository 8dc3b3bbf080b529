package store

import (
	"context"
	"fmt"
)

// PutSummary records a job's step summary (GITHUB_STEP_SUMMARY, the
// Markdown its steps wrote, masked), replacing one recorded before.
func (s *Store) PutSummary(ctx context.Context, jobID int64, markdown string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO job_summaries (job_id, markdown) VALUES (?, ?)
		ON CONFLICT (job_id) DO UPDATE SET markdown = excluded.markdown`, jobID, markdown)
	if err != nil {
		return fmt.Errorf("store: summary of job %d: %w", jobID, err)
	}
	return nil
}

// Summaries returns the step summaries of a run's attempt by job id; jobs
// without one are absent.
func (s *Store) Summaries(ctx context.Context, runID, attempt int64) (map[int64]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.job_id, s.markdown FROM job_summaries s JOIN jobs j ON j.id = s.job_id
		WHERE j.run_id = ? AND j.attempt = ?`, runID, attempt)
	if err != nil {
		return nil, fmt.Errorf("store: summaries of run %d: %w", runID, err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var md string
		if err := rows.Scan(&id, &md); err != nil {
			return nil, fmt.Errorf("store: summaries of run %d: %w", runID, err)
		}
		out[id] = md
	}
	return out, rows.Err()
}
