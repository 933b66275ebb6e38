//! The only SQL of the job queue and its schedules, both dialects side by side where they differ.
//!
//! Exactly once across instances rests on two statements. A job is claimed by one conditional `UPDATE …
//! RETURNING` that moves a due row to `running` with this instance's lease: on PostgreSQL the row is picked
//! `FOR UPDATE SKIP LOCKED`, so two instances pick two different rows and never wait on each other; SQLite
//! has one writer at a time, so the statement is atomic as it is. Every later write of a running job names
//! the lease holder (`AND locked_by = $me`), so an instance whose lease ran out cannot finish a job another
//! instance has taken over. A schedule is claimed by a compare-and-set on its `next_run_at`.
//!
//! Also here: the cleanup of expired sign-in state (platform's `sessions` and `login_challenges`, deleted by
//! expiry only — the one place ops writes a table it does not own; docs/ARCHITECTURE.md lists the edge).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

use super::model::{Job, JobRow, NewJob, Schedule};
use crate::ts::Ts;

const INSERT: &str = "INSERT INTO jobs (kind, payload, dedup_key, state, run_at, attempts, max_attempts, created_at) \
     VALUES ($1, $2, $3, 'pending', $4, 0, $5, $6) ON CONFLICT (dedup_key) DO NOTHING RETURNING id";

/// Puts a job on the queue; `None` when a job with its dedup key already exists.
pub async fn insert(tx: &mut DbTx, job: &NewJob, now: OffsetDateTime) -> Result<Option<i64>, DbError> {
    let payload = job.payload.to_string();
    Ok(on_tx!(tx, c => sqlx::query_scalar(INSERT)
        .bind(&job.kind).bind(&payload).bind(&job.dedup_key).bind(Ts(job.run_at)).bind(job.max_attempts).bind(Ts(now))
        .fetch_optional(c).await)?)
}

// Only kinds this instance has a handler for: in a rolling upgrade a newer instance may enqueue work an
// older one does not know, and the older one must leave it alone rather than fail it.
const CLAIM_PG: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, \
     started_at = $3 \
     WHERE id = (SELECT id FROM jobs \
                 WHERE ((state = 'pending' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)) \
                   AND kind = ANY($4) \
                 ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, payload, dedup_key, attempts, max_attempts, run_at";
const CLAIM_SQLITE: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, \
     started_at = $3 \
     WHERE id = (SELECT id FROM jobs \
                 WHERE ((state = 'pending' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)) \
                   AND kind IN (SELECT value FROM json_each($4)) \
                 ORDER BY run_at, id LIMIT 1) \
     RETURNING id, kind, payload, dedup_key, attempts, max_attempts, run_at";

type Claimed = (i64, String, String, Option<String>, i64, i64, OffsetDateTime);

/// Takes the next due job of one of `kinds` (or such a running job whose lease ran out) for `instance`
/// until `lease_until`.
pub async fn claim(
    db: &Db,
    instance: &str,
    kinds: &[String],
    lease_until: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Option<Job>, DbError> {
    let row: Option<Claimed> = match db {
        Db::Sqlite(p) => {
            let kinds = serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into());
            sqlx::query_as(CLAIM_SQLITE)
                .bind(instance)
                .bind(Ts(lease_until))
                .bind(Ts(now))
                .bind(kinds)
                .fetch_optional(p)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(CLAIM_PG)
                .bind(instance)
                .bind(Ts(lease_until))
                .bind(Ts(now))
                .bind(kinds)
                .fetch_optional(p)
                .await?
        }
    };
    Ok(row.map(|(id, kind, payload, dedup_key, attempts, max_attempts, run_at)| Job {
        id,
        kind,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        dedup_key,
        attempts,
        max_attempts,
        run_at,
    }))
}

/// Extends the lease of a job this instance holds; `false` when it no longer holds it.
pub async fn extend(db: &Db, id: i64, instance: &str, lease_until: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'";
    Ok(
        on_db!(db, p => sqlx::query(SQL).bind(Ts(lease_until)).bind(id).bind(instance).execute(p).await.map(|r| r.rows_affected()))?
            == 1,
    )
}

/// Marks a held job done with its result; `false` when the lease was lost meanwhile.
pub async fn finish(db: &Db, id: i64, instance: &str, result: &str, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE jobs SET state = 'done', result = $1, finished_at = $2, locked_until = NULL \
         WHERE id = $3 AND locked_by = $4 AND state = 'running'";
    Ok(
        on_db!(db, p => sqlx::query(SQL).bind(result).bind(Ts(now)).bind(id).bind(instance).execute(p).await.map(|r| r.rows_affected()))?
            == 1,
    )
}

/// Puts a held job back on the queue to run again at `run_at`, with the error of this attempt.
pub async fn retry(db: &Db, id: i64, instance: &str, error: &str, run_at: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE jobs SET state = 'pending', run_at = $1, last_error = $2, locked_until = NULL \
         WHERE id = $3 AND locked_by = $4 AND state = 'running'";
    Ok(
        on_db!(db, p => sqlx::query(SQL).bind(Ts(run_at)).bind(error).bind(id).bind(instance).execute(p).await.map(|r| r.rows_affected()))?
            == 1,
    )
}

/// Gives a held job up for good.
pub async fn fail(db: &Db, id: i64, instance: &str, error: &str, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE jobs SET state = 'failed', last_error = $1, finished_at = $2, locked_until = NULL \
         WHERE id = $3 AND locked_by = $4 AND state = 'running'";
    Ok(
        on_db!(db, p => sqlx::query(SQL).bind(error).bind(Ts(now)).bind(id).bind(instance).execute(p).await.map(|r| r.rows_affected()))?
            == 1,
    )
}

/// `SELECT` of every column of `jobs`, followed by the rest of the statement.
macro_rules! select_jobs {
    ($tail:literal) => {
        concat!(
            "SELECT id, kind, payload, dedup_key, state, run_at, attempts, max_attempts, locked_by, locked_until, \
             last_error, result, created_at, started_at, finished_at FROM jobs ",
            $tail
        )
    };
}

type RowTuple = (
    i64,
    String,
    String,
    Option<String>,
    String,
    OffsetDateTime,
    i64,
    i64,
    Option<String>,
    Option<OffsetDateTime>,
    Option<String>,
    Option<String>,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

fn to_row(t: RowTuple) -> JobRow {
    let (id, kind, payload, dedup_key, state, run_at, attempts, max_attempts, locked_by, locked_until) =
        (t.0, t.1, t.2, t.3, t.4, t.5, t.6, t.7, t.8, t.9);
    JobRow {
        id,
        kind,
        payload,
        dedup_key,
        state,
        run_at,
        attempts,
        max_attempts,
        locked_by,
        locked_until,
        last_error: t.10,
        result: t.11,
        created_at: t.12,
        started_at: t.13,
        finished_at: t.14,
    }
}

/// One job by id.
pub async fn get(db: &Db, id: i64) -> Result<Option<JobRow>, DbError> {
    const SQL: &str = select_jobs!("WHERE id = $1");
    let row: Option<RowTuple> = on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?;
    Ok(row.map(to_row))
}

/// The newest jobs of one kind, newest first.
pub async fn recent(db: &Db, kind: &str, limit: i64) -> Result<Vec<JobRow>, DbError> {
    const SQL: &str = select_jobs!("WHERE kind = $1 ORDER BY id DESC LIMIT $2");
    let rows: Vec<RowTuple> = on_db!(db, p => sqlx::query_as(SQL).bind(kind).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(to_row).collect())
}

/// Jobs that are waiting, running, or failed for good, newest first: the queue an operator looks at.
pub async fn open_and_failed(db: &Db, limit: i64) -> Result<Vec<JobRow>, DbError> {
    const SQL: &str = select_jobs!("WHERE state <> 'done' ORDER BY id DESC LIMIT $1");
    let rows: Vec<RowTuple> = on_db!(db, p => sqlx::query_as(SQL).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(to_row).collect())
}

/// How many jobs there are by kind and state.
pub async fn counts(db: &Db) -> Result<Vec<(String, String, i64)>, DbError> {
    const SQL: &str = "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state";
    Ok(on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)?)
}

/// When a job of `kind` last finished well.
pub async fn last_done(db: &Db, kind: &str) -> Result<Option<OffsetDateTime>, DbError> {
    const SQL: &str = "SELECT MAX(finished_at) FROM jobs WHERE kind = $1 AND state = 'done'";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(kind).fetch_one(p).await)?)
}

/// Finished jobs older than the cut-offs go (the queue is not a history: backups and audit verifications
/// are also in the audit log).
pub async fn purge_finished(
    db: &Db,
    done_before: OffsetDateTime,
    failed_before: OffsetDateTime,
) -> Result<u64, DbError> {
    const SQL: &str =
        "DELETE FROM jobs WHERE (state = 'done' AND finished_at < $1) OR (state = 'failed' AND finished_at < $2)";
    Ok(
        on_db!(db, p => sqlx::query(SQL).bind(Ts(done_before)).bind(Ts(failed_before)).execute(p).await.map(|r| r.rows_affected()))?,
    )
}

/// Sessions past their absolute expiry or ended: they can never be used again, and sign-in state is kept
/// no longer than it is needed (security.md a.9).
pub async fn purge_sessions(db: &Db, now: OffsetDateTime) -> Result<u64, DbError> {
    const SQL: &str = "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at IS NOT NULL";
    Ok(on_db!(db, p => sqlx::query(SQL).bind(utc(now)).execute(p).await.map(|r| r.rows_affected()))?)
}

/// Second-factor challenges that expired or were used.
pub async fn purge_challenges(db: &Db, now: OffsetDateTime) -> Result<u64, DbError> {
    const SQL: &str = "DELETE FROM login_challenges WHERE expires_at < $1 OR used_at IS NOT NULL";
    Ok(on_db!(db, p => sqlx::query(SQL).bind(utc(now)).execute(p).await.map(|r| r.rows_affected()))?)
}

const UPSERT_SCHEDULE: &str = "INSERT INTO job_schedules \
     (name, kind, payload, every_seconds, offset_seconds, enabled, next_run_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, enabled = excluded.enabled, \
     every_seconds = excluded.every_seconds, offset_seconds = excluded.offset_seconds, \
     next_run_at = CASE WHEN job_schedules.every_seconds = excluded.every_seconds \
                         AND job_schedules.offset_seconds = excluded.offset_seconds \
                        THEN job_schedules.next_run_at ELSE excluded.next_run_at END";

/// Creates or updates a schedule. A schedule whose timing is unchanged keeps its `next_run_at` (so a
/// restart neither skips nor repeats a run); new timing starts at `next_run_at`.
pub async fn upsert_schedule(db: &Db, s: &Schedule, next_run_at: OffsetDateTime) -> Result<(), DbError> {
    let every = i64::try_from(s.every.as_secs()).unwrap_or(i64::MAX);
    let offset = i64::try_from(s.offset.as_secs()).unwrap_or(0);
    on_db!(db, p => sqlx::query(UPSERT_SCHEDULE)
        .bind(&s.name).bind(&s.kind).bind(s.payload.to_string()).bind(every).bind(offset).bind(s.enabled)
        .bind(Ts(next_run_at))
        .execute(p).await.map(|_| ()))?;
    Ok(())
}

/// A schedule as stored.
#[derive(Clone, Debug)]
pub struct ScheduleRow {
    pub name: String,
    pub kind: String,
    pub payload: String,
    pub every_seconds: i64,
    pub offset_seconds: i64,
    pub enabled: bool,
    pub next_run_at: OffsetDateTime,
    pub last_run_at: Option<OffsetDateTime>,
}

type ScheduleTuple = (String, String, String, i64, i64, bool, OffsetDateTime, Option<OffsetDateTime>);

fn to_schedule(
    (name, kind, payload, every_seconds, offset_seconds, enabled, next_run_at, last_run_at): ScheduleTuple,
) -> ScheduleRow {
    ScheduleRow { name, kind, payload, every_seconds, offset_seconds, enabled, next_run_at, last_run_at }
}

/// Every schedule, by name.
pub async fn schedules(db: &Db) -> Result<Vec<ScheduleRow>, DbError> {
    const SQL: &str = "SELECT name, kind, payload, every_seconds, offset_seconds, enabled, next_run_at, last_run_at \
         FROM job_schedules ORDER BY name";
    let rows: Vec<ScheduleTuple> = on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)?;
    Ok(rows.into_iter().map(to_schedule).collect())
}

/// The enabled schedules due at `now`.
pub async fn due_schedules(db: &Db, now: OffsetDateTime) -> Result<Vec<ScheduleRow>, DbError> {
    const SQL: &str = "SELECT name, kind, payload, every_seconds, offset_seconds, enabled, next_run_at, last_run_at \
         FROM job_schedules WHERE enabled = $1 AND next_run_at <= $2 ORDER BY next_run_at, name";
    let rows: Vec<ScheduleTuple> = on_db!(db, p => sqlx::query_as(SQL).bind(true).bind(Ts(now)).fetch_all(p).await)?;
    Ok(rows.into_iter().map(to_schedule).collect())
}

/// Moves a schedule from the run due at `due` to `next`, only if no one else did: `true` means this caller
/// won the run and enqueues it (in the same transaction).
pub async fn advance_schedule(
    tx: &mut DbTx,
    name: &str,
    due: OffsetDateTime,
    next: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str =
        "UPDATE job_schedules SET next_run_at = $1, last_run_at = $2 WHERE name = $3 AND next_run_at = $2";
    Ok(
        on_tx!(tx, c => sqlx::query(SQL).bind(Ts(next)).bind(Ts(due)).bind(name).execute(c).await.map(|r| r.rows_affected()))?
            == 1,
    )
}

/// The platform's own timestamps (sessions, challenges) are RFC 3339 text in UTC on SQLite; a parameter
/// compared with them has the same form (see [`crate::ts`] for the operations tables).
fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}
