-- Operations (issue 7): the job queue, the schedules that feed it, and the maintenance switch. Several
-- instances on one PostgreSQL share these rows, so a job runs once and a switch is seen by all. None of
-- these tables is in a backup (operational state, see crates/ops/src/backup/model.rs EXCLUDED), and no row
-- is inserted here: a restore needs an empty schema.

-- One unit of background work. A runner claims a due job by moving it to 'running' with a lease
-- (locked_by, locked_until) in one conditional UPDATE; a lease that runs out (the instance died) makes the
-- job claimable again. Failures go back to 'pending' with a later run_at until max_attempts, then 'failed'.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    -- A schedule's run ("backup@2026-05-01T18:30:00Z"): enqueued once whichever instance gets there first.
    dedup_key     TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'failed')),
    run_at        TIMESTAMP NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    max_attempts  BIGINT NOT NULL,
    locked_by     TEXT,
    locked_until  TIMESTAMP,
    last_error    TEXT,
    result        TEXT,
    created_at    TIMESTAMP NOT NULL,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP
);
CREATE UNIQUE INDEX jobs_dedup ON jobs(dedup_key);
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_kind ON jobs(kind, finished_at);

-- Periodic work: every `every_seconds`, at `offset_seconds` past the epoch's multiple (daily at 02:30 Beijing
-- time is every 86400 s at offset 66600 s). The instance that moves next_run_at forward (a compare-and-set
-- on the old value) enqueues the run; the others see the new value and do nothing.
CREATE TABLE job_schedules (
    name            TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    every_seconds   BIGINT NOT NULL,
    offset_seconds  BIGINT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    next_run_at     TIMESTAMP NOT NULL,
    last_run_at     TIMESTAMP
);

-- The platform-wide read-only switch (one row, id 1, written the first time it is switched).
CREATE TABLE maintenance (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    active      BOOLEAN NOT NULL,
    message     TEXT,
    changed_at  TIMESTAMP NOT NULL,
    changed_by  TEXT NOT NULL
);
