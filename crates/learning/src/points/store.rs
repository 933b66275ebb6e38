//! The SQL of points: rules per organization, the ledger, the boards and the members' choice to appear.
//! Reads the platform's `people` (name, organization path) for a board.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

use crate::points::model::{Award, BoardLine};
use crate::store::json_strings;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RuleRow {
    pub org_path: String,
    pub org_name: String,
    pub action: String,
    pub enabled: bool,
    pub points: i64,
    pub daily_cap: i64,
}

/// The rules set at any of `paths` (an organization and its ancestors).
pub async fn rules_at(db: &Db, paths: &[String]) -> Result<Vec<RuleRow>, DbError> {
    const SQLITE: &str = "SELECT r.org_path, o.name AS org_name, r.action, r.enabled, r.points, r.daily_cap \
        FROM points_rules r JOIN orgs o ON o.id = r.org_id WHERE r.org_path IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT r.org_path, o.name AS org_name, r.action, r.enabled, r.points, r.daily_cap \
        FROM points_rules r JOIN orgs o ON o.id = r.org_id WHERE r.org_path = ANY($1)";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_strings(paths)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(paths).fetch_all(p).await?,
    })
}

/// The rule of `action` in force at the deepest of `paths`, inside a transaction.
pub async fn rule_in_force(tx: &mut DbTx, paths: &[String], action: &str) -> Result<Option<(bool, i64, i64)>, DbError> {
    const SQLITE: &str = "SELECT enabled, points, daily_cap FROM points_rules \
        WHERE action = $2 AND org_path IN (SELECT value FROM json_each($1)) ORDER BY LENGTH(org_path) DESC LIMIT 1";
    const PG: &str = "SELECT enabled, points, daily_cap FROM points_rules \
        WHERE action = $2 AND org_path = ANY($1) ORDER BY LENGTH(org_path) DESC LIMIT 1";
    Ok(match tx {
        DbTx::Sqlite(c) => {
            sqlx::query_as(SQLITE).bind(json_strings(paths)).bind(action).fetch_optional(&mut **c).await?
        }
        DbTx::Postgres(c) => sqlx::query_as(PG).bind(paths).bind(action).fetch_optional(&mut **c).await?,
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn set_rule(
    tx: &mut DbTx,
    org_id: i64,
    org_path: &str,
    action: &str,
    enabled: bool,
    points: i64,
    daily_cap: i64,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO points_rules (org_id, org_path, action, enabled, points, daily_cap, updated_by, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, action) DO UPDATE SET enabled = excluded.enabled, \
        points = excluded.points, daily_cap = excluded.daily_cap, updated_by = excluded.updated_by, updated_at = excluded.updated_at";
    on_tx!(tx, c => sqlx::query(SQL).bind(org_id).bind(org_path).bind(action).bind(enabled).bind(points).bind(daily_cap)
        .bind(user_id).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Points a person got for `action` on `day`.
pub async fn awarded_on(tx: &mut DbTx, person_id: i64, action: &str, day: Date) -> Result<i64, DbError> {
    const SQL: &str = "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger \
        WHERE person_id = $1 AND day = $2 AND action = $3";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(person_id).bind(day).bind(action).fetch_one(c).await)?)
}

/// Records an award once per person, action and object; false if it was there already.
#[allow(clippy::too_many_arguments)]
pub async fn insert_award(
    tx: &mut DbTx,
    person_id: i64,
    action: &str,
    object_id: i64,
    points: i64,
    day: Date,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "INSERT INTO points_ledger (person_id, action, object_id, points, day, at) VALUES ($1, $2, $3, $4, $5, $6) \
        ON CONFLICT (person_id, action, object_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(person_id).bind(action).bind(object_id).bind(points).bind(day).bind(at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn total(db: &Db, person_id: i64) -> Result<i64, DbError> {
    const SQL: &str = "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_ledger WHERE person_id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(person_id).fetch_one(p).await)?)
}

pub async fn recent(db: &Db, person_id: i64, limit: i64) -> Result<Vec<Award>, DbError> {
    const SQL: &str = "SELECT action, object_id, points, day FROM points_ledger WHERE person_id = $1 ORDER BY at DESC, id DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(limit).fetch_all(p).await)?)
}

pub async fn board_enabled(db: &Db, org_id: i64) -> Result<bool, DbError> {
    const SQL: &str = "SELECT enabled FROM points_boards WHERE org_id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(org_id).fetch_optional(p).await)?.unwrap_or(false))
}

pub async fn set_board(
    tx: &mut DbTx,
    org_id: i64,
    enabled: bool,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO points_boards (org_id, enabled, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (org_id) DO UPDATE SET enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at";
    on_tx!(tx, c => sqlx::query(SQL).bind(org_id).bind(enabled).bind(user_id).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn opted_in(db: &Db, person_id: i64) -> Result<bool, DbError> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM points_optin WHERE person_id = $1)";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(person_id).fetch_one(p).await)?)
}

pub async fn set_optin(tx: &mut DbTx, person_id: i64, on: bool, now: OffsetDateTime) -> Result<(), DbError> {
    const ON: &str = "INSERT INTO points_optin (person_id, at) VALUES ($1, $2) ON CONFLICT (person_id) DO NOTHING";
    const OFF: &str = "DELETE FROM points_optin WHERE person_id = $1";
    if on {
        on_tx!(tx, c => sqlx::query(ON).bind(person_id).bind(now).execute(c).await.map(|_| ()))?;
    } else {
        on_tx!(tx, c => sqlx::query(OFF).bind(person_id).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// The board of a subtree `[start, end)`: members who chose to appear, by points.
pub async fn board(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<BoardLine>, DbError> {
    const SQL: &str = "SELECT p.id AS person_id, p.name, CAST(COALESCE(SUM(l.points), 0) AS BIGINT) AS points \
        FROM points_optin x JOIN people p ON p.id = x.person_id LEFT JOIN points_ledger l ON l.person_id = p.id \
        WHERE p.org_path >= $1 AND p.org_path < $2 GROUP BY p.id, p.name ORDER BY 3 DESC, p.name LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// A person's ledger, for her copy of her data.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct LedgerRow {
    pub action: String,
    pub object_id: i64,
    pub points: i64,
    pub at: OffsetDateTime,
}

pub async fn ledger_of_person(db: &Db, person_id: i64) -> Result<Vec<LedgerRow>, DbError> {
    const SQL: &str = "SELECT action, object_id, points, at FROM points_ledger WHERE person_id = $1 ORDER BY at";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: her points and her choice to appear on a board.
pub const ERASE_PERSON: &[&str] =
    &["DELETE FROM points_ledger WHERE person_id = $1", "DELETE FROM points_optin WHERE person_id = $1"];
