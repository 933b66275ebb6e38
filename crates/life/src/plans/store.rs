//! The only SQL of recurring plans: `meeting_plans` (migration 0027). The plan's meetings are ordinary rows of
//! `meetings` with `plan_id` set, written and read through crate::store.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

pub struct PlanWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub rule: &'a str,
    pub start_time: Option<&'a str>,
    pub place: Option<&'a str>,
    pub online_link: Option<&'a str>,
    pub agenda: Option<&'a str>,
    pub starts_on: Date,
    pub ends_on: Date,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_plan(tx: &mut DbTx, p: &PlanWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO meeting_plans (org_id, org_path, kind, title, rule, start_time, place, online_link, agenda, \
        starts_on, ends_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(p.org_id).bind(p.org_path).bind(p.kind).bind(p.title).bind(p.rule).bind(p.start_time).bind(p.place)
        .bind(p.online_link).bind(p.agenda).bind(p.starts_on).bind(p.ends_on).bind(p.user_id).bind(p.now)
        .fetch_one(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PlanRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub kind: String,
    pub title: String,
    pub rule: String,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub starts_on: Date,
    pub ends_on: Date,
    pub cancelled_at: Option<OffsetDateTime>,
    pub cancel_reason: Option<String>,
}

/// The columns of a [`PlanRow`], `p` the plan and `o` its organization.
macro_rules! plan_columns {
    () => {
        "SELECT p.id, p.org_id, p.org_path, o.name AS org_name, p.kind, p.title, p.rule, p.start_time, p.place, \
        p.starts_on, p.ends_on, p.cancelled_at, p.cancel_reason FROM meeting_plans p JOIN orgs o ON o.id = p.org_id "
    };
}

pub async fn get_plan(db: &Db, id: i64) -> Result<Option<PlanRow>, DbError> {
    const SQL: &str = concat!(plan_columns!(), "WHERE p.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// The plans of the organizations of `[start, end)` still running on `today` (ends_on not past, not
/// cancelled), by start.
pub async fn running_in(db: &Db, start: &str, end: &str, today: Date) -> Result<Vec<PlanRow>, DbError> {
    const SQL: &str = concat!(
        plan_columns!(),
        "WHERE p.org_path >= $1 AND p.org_path < $2 AND p.ends_on >= $3 AND p.cancelled_at IS NULL \
        ORDER BY p.starts_on, p.id LIMIT 100"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(today).fetch_all(p).await)?)
}

/// Marks a plan cancelled; returns whether it was not already.
pub async fn cancel_plan(
    tx: &mut DbTx,
    id: i64,
    reason: &str,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE meeting_plans SET cancelled_at = $2, cancelled_by = $3, cancel_reason = $4 \
        WHERE id = $1 AND cancelled_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(now).bind(user_id).bind(reason)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Cancels the plan's meetings that are still planned, not archived, and held on `today` or later; returns
/// their ids and days, earliest first. The meetings already held (or changed to held) keep their records.
pub async fn cancel_meetings_ahead(
    tx: &mut DbTx,
    plan_id: i64,
    today: Date,
    now: OffsetDateTime,
) -> Result<Vec<(i64, Date)>, DbError> {
    const SQL: &str = "UPDATE meetings SET status = 'cancelled', updated_at = $3, version = version + 1 \
        WHERE plan_id = $1 AND status = 'planned' AND archived = FALSE AND held_on >= $2 RETURNING id, held_on";
    let mut rows: Vec<(i64, Date)> =
        on_tx!(tx, c => sqlx::query_as(SQL).bind(plan_id).bind(today).bind(now).fetch_all(c).await)?;
    rows.sort_by_key(|(id, d)| (*d, *id));
    Ok(rows)
}
