-- 0005: the web interface's sign-ins (additive). A row is a browser's
-- session, keyed by the SHA-256 of its cookie, so the database holds no
-- live cookie; signing out deletes it.

CREATE TABLE sessions (
	hash       BLOB PRIMARY KEY,
	token_id   BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
