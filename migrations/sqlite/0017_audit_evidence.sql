-- The audit log as evidence (security.md AT-24…AT-27).
--
-- AT-24: who acted, with which roles and over which organizations, at the time of the entry. Entries
-- written before this migration keep '' (their hash covers no such field, see security::audit).
ALTER TABLE audit_log ADD COLUMN roles TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN org_scope TEXT NOT NULL DEFAULT '';

-- AT-26: entries older than the online period are moved to a sealed archive file; the head of the
-- archived part stays here, so the chain still verifies across the boundary. Append-only, like the log.
CREATE TABLE audit_checkpoints (
    through_seq  BIGINT PRIMARY KEY,
    first_seq    BIGINT NOT NULL,
    head_hash    BLOB NOT NULL,
    entries      BIGINT NOT NULL,
    oldest_at    TIMESTAMP NOT NULL,
    newest_at    TIMESTAMP NOT NULL,
    archived_at  TIMESTAMP NOT NULL,
    file         TEXT NOT NULL,
    file_sha256  TEXT NOT NULL,
    mac          BLOB NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

-- A row leaves the log only when an archive checkpoint covers it AND it is older than 180 days
-- (网络安全法 第二十一条第（三）项: network logs kept at least six months), whoever asks.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.through_seq >= OLD.seq AND c.first_seq <= OLD.seq)
  OR julianday(OLD.at) > julianday('now', '-180 days')
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (only archived entries older than 180 days leave it)'); END;

-- AT-25: how far the scheduled watch has verified the chain (one row), and what it found.
CREATE TABLE audit_watch (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    verified_seq   BIGINT NOT NULL,
    verified_hash  BLOB NOT NULL,
    sweep_seq      BIGINT NOT NULL,
    checked_at     TIMESTAMP NOT NULL,
    broken_seq     BIGINT,
    broken_reason  TEXT
);
