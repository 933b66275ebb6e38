-- The register import as a persisted job (issue 3 item 6, security.md AT-28; crates/platform
-- service/import_job.rs, docs/AFFAIRS.md "Import jobs"). Kept column-for-column equal to
-- migrations/postgres/0022_import_jobs.sql; the schema-parity test compares the two.
--
-- status: queued → validating → validated (the dry run found no error row) → importing (confirmed) → done,
-- or failed at any step (error rows, or an interrupted process: a job whose worker stopped is failed and
-- retryable; the real run is one transaction, so nothing of it is left). content_enc: the uploaded file,
-- base64 sealed with the field cipher (it holds ID numbers and phones), kept until the job is done.
-- scope_path: the widest range where the uploader may place people; the job is seen by those whose reach
-- covers it. heartbeat_at: moved by the worker while it works (an instance that died stops moving it).
-- report: the dry run's or the real run's ImportReport as JSON (every bad row with its reason).
-- Operational state: not in a backup (crates/ops/src/backup/model.rs EXCLUDED).
CREATE TABLE import_jobs (
    id            INTEGER PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'validating', 'validated', 'failed', 'importing', 'done')),
    file_name     TEXT NOT NULL,
    format        TEXT NOT NULL,
    file_size     BIGINT NOT NULL,
    content_enc   BLOB,
    scope_path    TEXT NOT NULL,
    confirmed     BOOLEAN NOT NULL,
    rows_total    BIGINT NOT NULL,
    rows_done     BIGINT NOT NULL,
    valid_rows    BIGINT NOT NULL,
    error_rows    BIGINT NOT NULL,
    warning_rows  BIGINT NOT NULL,
    imported      BIGINT NOT NULL,
    report        TEXT,
    error         TEXT,
    attempts      BIGINT NOT NULL,
    worker        TEXT,
    heartbeat_at  TIMESTAMP,
    created_by    BIGINT REFERENCES users(id),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP
);
CREATE INDEX import_jobs_scope ON import_jobs(scope_path, id);
CREATE INDEX import_jobs_status ON import_jobs(status);
