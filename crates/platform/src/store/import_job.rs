//! The SQL of the import jobs (service/import_job.rs): the `import_jobs` table. Every change of status is a
//! compare-and-set on the status it leaves, so two instances (or a double click) never run one job twice.

use kernel::{Db, DbError, on_db};
use time::OffsetDateTime;

/// A job as lists and pages show it (the file itself is read only by the worker: [`content`]).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportJobRow {
    pub id: i64,
    pub status: String,
    pub file_name: String,
    pub format: String,
    pub file_size: i64,
    pub scope_path: String,
    pub confirmed: bool,
    pub rows_total: i64,
    pub rows_done: i64,
    pub valid_rows: i64,
    pub error_rows: i64,
    pub warning_rows: i64,
    pub imported: i64,
    pub report: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub worker: Option<String>,
    pub heartbeat_at: Option<OffsetDateTime>,
    pub created_by: Option<i64>,
    pub created_by_name: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

const SELECT: &str = "SELECT j.id, j.status, j.file_name, j.format, j.file_size, j.scope_path, j.confirmed, \
    j.rows_total, j.rows_done, j.valid_rows, j.error_rows, j.warning_rows, j.imported, j.report, j.error, j.attempts, \
    j.worker, j.heartbeat_at, j.created_by, u.display_name AS created_by_name, j.created_at, j.updated_at, j.finished_at \
    FROM import_jobs j LEFT JOIN users u ON u.id = j.created_by";

pub struct NewImportJob<'a> {
    pub file_name: &'a str,
    pub format: &'a str,
    pub file_size: i64,
    pub content_enc: Vec<u8>,
    pub scope_path: &'a str,
    pub created_by: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert(db: &Db, j: NewImportJob<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO import_jobs (status, file_name, format, file_size, content_enc, scope_path, confirmed, \
        rows_total, rows_done, valid_rows, error_rows, warning_rows, imported, attempts, created_by, created_at, updated_at, \
        heartbeat_at) VALUES ('queued', $1, $2, $3, $4, $5, FALSE, 0, 0, 0, 0, 0, 0, 0, $6, $7, $7, $7) RETURNING id";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(j.file_name).bind(j.format).bind(j.file_size).bind(j.content_enc)
        .bind(j.scope_path).bind(j.created_by).bind(j.now).fetch_one(p).await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<ImportJobRow>, DbError> {
    let sql = format!("{SELECT} WHERE j.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?)
}

/// The newest `limit` jobs whose scope lies in `[from, to)` or that `user_id` started, newest first.
pub async fn recent(db: &Db, from: &str, to: &str, user_id: i64, limit: i64) -> Result<Vec<ImportJobRow>, DbError> {
    let sql = format!(
        "{SELECT} WHERE (j.scope_path >= $1 AND j.scope_path < $2) OR j.created_by = $3 ORDER BY j.id DESC LIMIT $4"
    );
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).bind(user_id).bind(limit)
        .fetch_all(p).await)?)
}

/// The sealed file, while the job keeps it.
pub async fn content(db: &Db, id: i64) -> Result<Option<Vec<u8>>, DbError> {
    const SQL: &str = "SELECT content_enc FROM import_jobs WHERE id = $1";
    let v: Option<Option<Vec<u8>>> = on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_optional(p).await)?;
    Ok(v.flatten())
}

/// Moves the job from `from` to `to` (a worker taking it: `worker` recorded, one more attempt); false when it
/// was no longer in `from`.
pub async fn take(db: &Db, id: i64, from: &str, to: &str, worker: &str, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE import_jobs SET status = $3, worker = $4, heartbeat_at = $5, updated_at = $5, \
        attempts = attempts + 1, rows_done = 0, error = NULL \
        WHERE id = $1 AND status = $2";
    let n = on_db!(db, p => sqlx::query(SQL).bind(id).bind(from).bind(to).bind(worker).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Queues the job again from `from` (confirmed, or failed for a retry), `confirm` marking the real run as
/// asked for; false when it was no longer `from`.
pub async fn requeue(db: &Db, id: i64, from: &str, confirm: bool, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE import_jobs SET status = 'queued', confirmed = (confirmed OR $3), updated_at = $4, \
        heartbeat_at = $4, finished_at = NULL WHERE id = $1 AND status = $2";
    let n = on_db!(db, p => sqlx::query(SQL).bind(id).bind(from).bind(confirm).bind(now)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The worker's heartbeat with its progress, while the job is still `status` and its own.
pub async fn beat(
    db: &Db,
    id: i64,
    status: &str,
    worker: &str,
    done: i64,
    total: i64,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "UPDATE import_jobs SET rows_done = $4, rows_total = $5, heartbeat_at = $6 \
        WHERE id = $1 AND status = $2 AND worker = $3";
    on_db!(db, p => sqlx::query(SQL).bind(id).bind(status).bind(worker).bind(done).bind(total).bind(now)
        .execute(p).await.map(|_| ()))?;
    Ok(())
}

/// What a finished step recorded.
pub struct Finished<'a> {
    pub status: &'a str,
    pub rows_total: i64,
    pub valid_rows: i64,
    pub error_rows: i64,
    pub warning_rows: i64,
    pub imported: i64,
    pub report: Option<String>,
    pub error: Option<&'a str>,
    /// Done: the file is dropped.
    pub drop_content: bool,
    pub now: OffsetDateTime,
}

/// Ends the worker's step (`from`, its own) with `f`; false when the job was no longer its own in `from`
/// (someone marked it interrupted meanwhile).
pub async fn finish(db: &Db, id: i64, from: &str, worker: &str, f: Finished<'_>) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE import_jobs SET status = $4, rows_total = $5, rows_done = $5, valid_rows = $6, \
        error_rows = $7, warning_rows = $8, imported = $9, report = COALESCE($10, report), error = $11, \
        content_enc = CASE WHEN $12 THEN NULL ELSE content_enc END, updated_at = $13, heartbeat_at = $13, \
        finished_at = CASE WHEN $4 IN ('done', 'failed') THEN $13 ELSE NULL END \
        WHERE id = $1 AND status = $2 AND worker = $3";
    let n = on_db!(db, p => sqlx::query(SQL).bind(id).bind(from).bind(worker).bind(f.status).bind(f.rows_total)
        .bind(f.valid_rows).bind(f.error_rows).bind(f.warning_rows).bind(f.imported).bind(f.report).bind(f.error)
        .bind(f.drop_content).bind(f.now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Marks failed every job in progress whose heartbeat is older than `before` (its worker stopped), except
/// those of `live` (this instance's own, which may be inside a long transaction); returns their ids.
pub async fn fail_stale(
    db: &Db,
    before: OffsetDateTime,
    live: &[i64],
    message: &str,
    now: OffsetDateTime,
) -> Result<Vec<i64>, DbError> {
    const PICK: &str = "SELECT id, status FROM import_jobs WHERE status IN ('queued', 'validating', 'importing') \
        AND heartbeat_at < $1";
    const SQL: &str = "UPDATE import_jobs SET status = 'failed', error = $3, updated_at = $4, finished_at = $4 \
        WHERE id = $1 AND status = $2 AND heartbeat_at < $5";
    let rows: Vec<(i64, String)> = on_db!(db, p => sqlx::query_as(PICK).bind(before).fetch_all(p).await)?;
    let mut out = Vec::new();
    for (id, status) in rows.into_iter().filter(|(id, _)| !live.contains(id)) {
        let n = on_db!(db, p => sqlx::query(SQL).bind(id).bind(&status).bind(message).bind(now).bind(before)
            .execute(p).await.map(|r| r.rows_affected()))?;
        if n == 1 {
            out.push(id);
        }
    }
    Ok(out)
}

/// Drops the files of jobs that failed before `before` (the uploader re-uploads after fixing the file; a
/// register of ID numbers is not kept longer than its use). Returns how many.
pub async fn drop_old_files(db: &Db, before: OffsetDateTime) -> Result<u64, DbError> {
    const SQL: &str = "UPDATE import_jobs SET content_enc = NULL \
        WHERE status = 'failed' AND finished_at < $1 AND content_enc IS NOT NULL";
    Ok(on_db!(db, p => sqlx::query(SQL).bind(before).execute(p).await.map(|r| r.rows_affected()))?)
}
