-- 0001: repositories, workflows, runs and everything a run produces.
-- Times are Unix nanoseconds (BIGINT) so the same columns work in SQLite and PostgreSQL.

CREATE TABLE repositories (
	id             INTEGER PRIMARY KEY,
	owner          TEXT NOT NULL,
	name           TEXT NOT NULL,
	clone_url      TEXT NOT NULL DEFAULT '',
	default_branch TEXT NOT NULL DEFAULT '',
	upstream       TEXT NOT NULL DEFAULT 'git',
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	UNIQUE (owner, name)
);

CREATE TABLE workflows (
	id              INTEGER PRIMARY KEY,
	repo_id         BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
	path            TEXT NOT NULL,
	name            TEXT NOT NULL,
	state           TEXT NOT NULL DEFAULT 'active',
	last_run_number BIGINT NOT NULL DEFAULT 0,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (repo_id, path)
);

CREATE TABLE runs (
	id             INTEGER PRIMARY KEY,
	repo_id        BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
	workflow_id    BIGINT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
	run_number     BIGINT NOT NULL,
	attempt        BIGINT NOT NULL DEFAULT 1,
	event          TEXT NOT NULL,
	head_sha       TEXT NOT NULL DEFAULT '',
	head_branch    TEXT NOT NULL DEFAULT '',
	ref            TEXT NOT NULL DEFAULT '',
	actor          TEXT NOT NULL DEFAULT '',
	display_title  TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL,
	conclusion     TEXT NOT NULL DEFAULT '',
	concurrency    TEXT NOT NULL DEFAULT '',
	payload        TEXT NOT NULL DEFAULT '{}',
	inputs         TEXT NOT NULL DEFAULT '{}',
	lease_host     TEXT NOT NULL DEFAULT '',
	lease_until    BIGINT NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	started_at     BIGINT NOT NULL DEFAULT 0,
	completed_at   BIGINT NOT NULL DEFAULT 0,
	UNIQUE (workflow_id, run_number)
);
-- The filters of GET /repos/{owner}/{repo}/actions/runs, newest first.
CREATE INDEX runs_repo ON runs (repo_id, id DESC);
CREATE INDEX runs_repo_workflow ON runs (repo_id, workflow_id, id DESC);
CREATE INDEX runs_repo_branch ON runs (repo_id, head_branch, id DESC);
CREATE INDEX runs_repo_event ON runs (repo_id, event, id DESC);
CREATE INDEX runs_repo_status ON runs (repo_id, status, id DESC);
CREATE INDEX runs_repo_actor ON runs (repo_id, actor, id DESC);
CREATE INDEX runs_head_sha ON runs (head_sha);
-- The queue: oldest queued run first.
CREATE INDEX runs_queue ON runs (status, id);

CREATE TABLE attempts (
	run_id       BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	number       BIGINT NOT NULL,
	actor        TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL,
	conclusion   TEXT NOT NULL DEFAULT '',
	failed_only  BOOLEAN NOT NULL DEFAULT FALSE,
	created_at   BIGINT NOT NULL,
	started_at   BIGINT NOT NULL DEFAULT 0,
	completed_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, number)
);

CREATE TABLE jobs (
	id           INTEGER PRIMARY KEY,
	run_id       BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	attempt      BIGINT NOT NULL,
	job_key      TEXT NOT NULL,
	name         TEXT NOT NULL,
	status       TEXT NOT NULL,
	conclusion   TEXT NOT NULL DEFAULT '',
	runner_name  TEXT NOT NULL DEFAULT '',
	labels       TEXT NOT NULL DEFAULT '[]',
	matrix       TEXT NOT NULL DEFAULT 'null',
	outputs      TEXT NOT NULL DEFAULT '{}',
	created_at   BIGINT NOT NULL,
	started_at   BIGINT NOT NULL DEFAULT 0,
	completed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_run ON jobs (run_id, attempt, id);

CREATE TABLE steps (
	job_id       BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	number       BIGINT NOT NULL,
	name         TEXT NOT NULL,
	status       TEXT NOT NULL,
	conclusion   TEXT NOT NULL DEFAULT '',
	started_at   BIGINT NOT NULL DEFAULT 0,
	completed_at BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, number)
);

-- A job's log in chunks of consecutive lines of one step: one row per batch,
-- so a 100 MB step costs thousands of rows, not a million.
CREATE TABLE log_chunks (
	job_id     BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	first_line BIGINT NOT NULL,
	last_line  BIGINT NOT NULL,
	step       BIGINT NOT NULL,
	data       BLOB NOT NULL,
	PRIMARY KEY (job_id, first_line)
);

CREATE TABLE annotations (
	id         INTEGER PRIMARY KEY,
	job_id     BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	level      TEXT NOT NULL,
	message    TEXT NOT NULL,
	title      TEXT NOT NULL DEFAULT '',
	path       TEXT NOT NULL DEFAULT '',
	start_line BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE INDEX annotations_job ON annotations (job_id, id);

CREATE TABLE artifacts (
	id         INTEGER PRIMARY KEY,
	run_id     BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	size       BIGINT NOT NULL,
	path       TEXT NOT NULL,
	digest     TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	UNIQUE (run_id, name)
);
CREATE INDEX artifacts_expiry ON artifacts (expires_at);

CREATE TABLE deliveries (
	id          TEXT PRIMARY KEY,
	received_at BIGINT NOT NULL
);
CREATE INDEX deliveries_received ON deliveries (received_at);
