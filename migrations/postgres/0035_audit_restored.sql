-- Audit entries restored from a sealed archive file into the database (security.md AT-26: "records older than
-- the configured online period move to archive, not to oblivion; archive restore works"): `dangjian audit
-- restore --file ARCHIVE` checks the file (every hash and link, the seal's signature, the checkpoint that
-- archived it) and copies its entries here, where the audit administrator's search finds them beside the online
-- ones. A copy apart from `audit_log`, whose chain continues after the archived head; as append-only as it
-- (the triggers here, and the application role's privileges: crates/security/src/pg-app-role.sql).
CREATE TABLE audit_restored (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    BIGINT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    result      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    ip          TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL,
    roles       TEXT NOT NULL DEFAULT '',
    org_scope   TEXT NOT NULL DEFAULT '',
    -- The archive file it came from (its name, as in audit_checkpoints.file).
    file        TEXT NOT NULL
);
CREATE INDEX audit_restored_target ON audit_restored(target, seq);
CREATE INDEX audit_restored_at ON audit_restored(at);
CREATE FUNCTION audit_restored_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_restored is append-only';
END;
$$;
CREATE TRIGGER audit_restored_no_update BEFORE UPDATE OR DELETE ON audit_restored
    FOR EACH ROW EXECUTE FUNCTION audit_restored_append_only();
CREATE TRIGGER audit_restored_no_truncate BEFORE TRUNCATE ON audit_restored
    FOR EACH STATEMENT EXECUTE FUNCTION audit_restored_append_only();
