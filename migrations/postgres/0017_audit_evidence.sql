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
    head_hash    BYTEA NOT NULL,
    entries      BIGINT NOT NULL,
    oldest_at    TIMESTAMPTZ NOT NULL,
    newest_at    TIMESTAMPTZ NOT NULL,
    archived_at  TIMESTAMPTZ NOT NULL,
    file         TEXT NOT NULL,
    file_sha256  TEXT NOT NULL,
    mac          BYTEA NOT NULL
);
CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only';
END;
$$;
CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();

-- A row leaves the log only when an archive checkpoint covers it AND it is older than 180 days
-- (网络安全法 第二十一条第（三）项: network logs kept at least six months), whoever asks. UPDATE and
-- TRUNCATE stay refused.
DROP TRIGGER audit_log_no_update ON audit_log;
CREATE FUNCTION audit_log_release_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.at < now() - interval '180 days'
       AND EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.through_seq >= OLD.seq AND c.first_seq <= OLD.seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (only archived entries older than 180 days leave it)';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_release_only();

-- The application's role has no DELETE on audit_log (security/src/pg-app-role.sql); archived rows leave
-- through this function, run with the owner's rights and still subject to the trigger above.
CREATE FUNCTION audit_log_release(through BIGINT) RETURNS BIGINT LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
DECLARE
    n BIGINT;
BEGIN
    DELETE FROM audit_log WHERE seq <= through;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- AT-25: how far the scheduled watch has verified the chain (one row), and what it found.
CREATE TABLE audit_watch (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    verified_seq   BIGINT NOT NULL,
    verified_hash  BYTEA NOT NULL,
    sweep_seq      BIGINT NOT NULL,
    checked_at     TIMESTAMPTZ NOT NULL,
    broken_seq     BIGINT,
    broken_reason  TEXT
);
