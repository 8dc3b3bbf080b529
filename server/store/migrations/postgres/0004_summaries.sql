-- 0004: each job's step summary (GITHUB_STEP_SUMMARY, masked Markdown), as
-- the web interface shows it under the run (additive).

CREATE TABLE job_summaries (
	job_id   BIGINT PRIMARY KEY,
	markdown TEXT NOT NULL
);
