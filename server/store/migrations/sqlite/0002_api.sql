-- 0002: tables the GitHub-compatible API owns: tokens, secrets, variables.
-- repo_id 0 means an entry for every repository (the service's global scope).

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	hash         BLOB NOT NULL UNIQUE,
	scope        TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE secrets (
	repo_id    BIGINT NOT NULL,
	name       TEXT NOT NULL,
	ciphertext BLOB NOT NULL,
	nonce      BLOB NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (repo_id, name)
);

CREATE TABLE variables (
	repo_id    BIGINT NOT NULL,
	name       TEXT NOT NULL,
	value      TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (repo_id, name)
);
