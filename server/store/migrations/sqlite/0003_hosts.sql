-- 0003: several hosts on one database (additive): host heartbeats, cron
-- ticks claimed once, and cancel requests a run's host picks up.

CREATE TABLE hosts (
	name         TEXT PRIMARY KEY,
	started_at   BIGINT NOT NULL,
	heartbeat_at BIGINT NOT NULL
);

-- One row per schedule tick that was started: the host whose insert wins
-- queues its runs.
CREATE TABLE cron_ticks (
	repo_id BIGINT NOT NULL,
	cron    TEXT NOT NULL,
	tick    BIGINT NOT NULL,
	host    TEXT NOT NULL,
	PRIMARY KEY (repo_id, cron, tick)
);
CREATE INDEX cron_ticks_tick ON cron_ticks (tick);

-- 0: none; 1: cancel; 2: force-cancel. Read by the run's host.
ALTER TABLE runs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_lease_host ON runs (lease_host, status);
