//! The SQL of dues (党费): `fee_profiles`, `fee_reductions` and the append-only `fee_payments` (migration
//! 0019). Besides its own tables it reads the platform's `people` (name, stage, status, admission date, path —
//! never a sealed item), `orgs` (names) and `users` (who recorded).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

use super::json_ids;

/// `id IN (the list)` on both databases: SQLite reads a JSON array, PostgreSQL an array parameter.
macro_rules! by_ids {
    ($db:expr, $sqlite:expr, $pg:expr, $ids:expr) => {
        match $db {
            Db::Sqlite(p) => sqlx::query_as($sqlite).bind(json_ids($ids)).fetch_all(p).await?,
            Db::Postgres(p) => sqlx::query_as($pg).bind($ids).fetch_all(p).await?,
        }
    };
}

// ---------------------------------------------------------------- profiles

pub struct ProfileWrite<'a> {
    pub person_id: i64,
    pub effective_from: &'a str,
    pub category: &'a str,
    pub base_fen: Option<i64>,
    pub base_policy: &'a str,
    pub wage_policy: &'a str,
    pub farmer_fen: Option<i64>,
    pub payslip: Option<(i64, i64, i64)>,
    pub note: Option<&'a str>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_profile(tx: &mut DbTx, w: &ProfileWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO fee_profiles (person_id, effective_from, category, base_fen, base_policy, wage_policy, \
        farmer_fen, payslip_included_fen, payslip_tax_fen, payslip_contributions_fen, note, recorded_by, recorded_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
    let (inc, tax, contrib) = match w.payslip {
        Some((a, b, c)) => (Some(a), Some(b), Some(c)),
        None => (None, None, None),
    };
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(w.person_id).bind(w.effective_from).bind(w.category).bind(w.base_fen).bind(w.base_policy)
        .bind(w.wage_policy).bind(w.farmer_fen).bind(inc).bind(tax).bind(contrib).bind(w.note).bind(w.user_id)
        .bind(w.now).fetch_one(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: i64,
    pub person_id: i64,
    pub effective_from: String,
    pub category: String,
    pub base_fen: Option<i64>,
    pub base_policy: String,
    pub wage_policy: String,
    pub farmer_fen: Option<i64>,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: OffsetDateTime,
}

macro_rules! profile_cols {
    () => {
        "SELECT f.id, f.person_id, f.effective_from, f.category, f.base_fen, f.base_policy, f.wage_policy, \
        f.farmer_fen, f.note, u.username AS recorded_by, f.recorded_at FROM fee_profiles f \
        LEFT JOIN users u ON u.id = f.recorded_by "
    };
}

/// The profiles of these people, oldest first (by effective month, then by id).
pub async fn profiles_of(db: &Db, ids: &[i64]) -> Result<Vec<ProfileRow>, DbError> {
    const SQLITE: &str = concat!(
        profile_cols!(),
        "WHERE f.person_id IN (SELECT value FROM json_each($1)) ORDER BY f.person_id, f.effective_from, f.id"
    );
    const PG: &str =
        concat!(profile_cols!(), "WHERE f.person_id = ANY($1) ORDER BY f.person_id, f.effective_from, f.id");
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(by_ids!(db, SQLITE, PG, ids))
}

// ---------------------------------------------------------------- reductions

pub struct ReductionWrite<'a> {
    pub person_id: i64,
    pub kind: &'a str,
    pub from_month: &'a str,
    pub to_month: &'a str,
    pub monthly_fen: Option<i64>,
    pub reason: &'a str,
    pub branch_decision: &'a str,
    pub branch_decided_on: Date,
    pub approved_by: Option<&'a str>,
    pub approved_on: Option<Date>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_reduction(tx: &mut DbTx, w: &ReductionWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO fee_reductions (person_id, kind, from_month, to_month, monthly_fen, reason, branch_decision, \
        branch_decided_on, approved_by, approved_on, recorded_by, recorded_at, approval_recorded_by, approval_recorded_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id";
    let approval_at = w.approved_on.map(|_| w.now);
    let approval_by = w.approved_on.and(w.user_id);
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(w.person_id).bind(w.kind).bind(w.from_month).bind(w.to_month).bind(w.monthly_fen).bind(w.reason)
        .bind(w.branch_decision).bind(w.branch_decided_on).bind(w.approved_by).bind(w.approved_on).bind(w.user_id)
        .bind(w.now).bind(approval_by).bind(approval_at).fetch_one(c).await)?)
}

/// Records the upper committee's approval of a reduction of this person not approved yet; whether it was.
pub async fn approve_reduction(
    tx: &mut DbTx,
    id: i64,
    person_id: i64,
    approved_by: &str,
    approved_on: Date,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE fee_reductions SET approved_by = $1, approved_on = $2, approval_recorded_by = $3, \
        approval_recorded_at = $4 WHERE id = $5 AND person_id = $6 AND approved_on IS NULL AND branch_decided_on <= $2";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(approved_by).bind(approved_on).bind(user_id).bind(now).bind(id)
        .bind(person_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReductionRow {
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub from_month: String,
    pub to_month: String,
    pub monthly_fen: Option<i64>,
    pub reason: String,
    pub branch_decision: String,
    pub branch_decided_on: Date,
    pub approved_by: Option<String>,
    pub approved_on: Option<Date>,
}

macro_rules! reduction_cols {
    () => {
        "SELECT id, person_id, kind, from_month, to_month, monthly_fen, reason, branch_decision, \
        branch_decided_on, approved_by, approved_on FROM fee_reductions "
    };
}

pub async fn reductions_of(db: &Db, ids: &[i64]) -> Result<Vec<ReductionRow>, DbError> {
    const SQLITE: &str = concat!(
        reduction_cols!(),
        "WHERE person_id IN (SELECT value FROM json_each($1)) ORDER BY person_id, from_month, id"
    );
    const PG: &str = concat!(reduction_cols!(), "WHERE person_id = ANY($1) ORDER BY person_id, from_month, id");
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(by_ids!(db, SQLITE, PG, ids))
}

/// One person's profiles and reductions inside the caller's transaction (a payment judges them under the
/// person's lock, and a transaction never waits for a second connection).
pub async fn profiles_and_reductions_tx(
    tx: &mut DbTx,
    person_id: i64,
) -> Result<(Vec<ProfileRow>, Vec<ReductionRow>), DbError> {
    const PROFILES: &str = concat!(profile_cols!(), "WHERE f.person_id = $1 ORDER BY f.effective_from, f.id");
    const REDUCTIONS: &str = concat!(reduction_cols!(), "WHERE person_id = $1 ORDER BY from_month, id");
    let profiles = on_tx!(tx, c => sqlx::query_as(PROFILES).bind(person_id).fetch_all(c).await)?;
    let reductions = on_tx!(tx, c => sqlx::query_as(REDUCTIONS).bind(person_id).fetch_all(c).await)?;
    Ok((profiles, reductions))
}

// ---------------------------------------------------------------- payments

/// The fields of a ledger entry, as written and as covered by its HMAC.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: i64,
    pub person_id: i64,
    pub org_id: i64,
    pub kind: String,
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    pub months: i64,
    pub amount_fen: i64,
    pub paid_on: Date,
    pub method: String,
    pub payment_id: String,
    pub reverses_id: Option<i64>,
    pub remit_status: Option<String>,
    pub warning: Option<String>,
    pub note: Option<String>,
    pub recorded_by: Option<i64>,
    pub recorded_at: OffsetDateTime,
    pub mac: Vec<u8>,
}

/// Locks the person's row until the transaction ends (PostgreSQL; SQLite's write transaction already holds
/// the database), so two payments of one person are checked one after the other.
pub async fn lock_person(tx: &mut DbTx, person_id: i64) -> Result<(), DbError> {
    if let DbTx::Postgres(t) = tx {
        sqlx::query("SELECT id FROM people WHERE id = $1 FOR UPDATE").bind(person_id).execute(&mut **t).await?;
    }
    Ok(())
}

/// Appends an entry; `None` when an entry with the same `payment_id` exists (the idempotent replay).
pub async fn insert_payment(tx: &mut DbTx, r: &PaymentRow) -> Result<Option<i64>, DbError> {
    const SQL: &str = "INSERT INTO fee_payments (person_id, org_id, kind, from_month, to_month, months, amount_fen, paid_on, \
        method, payment_id, reverses_id, remit_status, warning, note, recorded_by, recorded_at, mac) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
        ON CONFLICT (payment_id) DO NOTHING RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(r.person_id).bind(r.org_id).bind(&r.kind).bind(&r.from_month).bind(&r.to_month).bind(r.months)
        .bind(r.amount_fen).bind(r.paid_on).bind(&r.method).bind(&r.payment_id).bind(r.reverses_id)
        .bind(&r.remit_status).bind(&r.warning).bind(&r.note).bind(r.recorded_by).bind(r.recorded_at).bind(&r.mac)
        .fetch_optional(c).await)?)
}

macro_rules! payment_cols {
    () => {
        "SELECT id, person_id, org_id, kind, from_month, to_month, months, amount_fen, paid_on, method, \
        payment_id, reverses_id, remit_status, warning, note, recorded_by, recorded_at, mac FROM fee_payments "
    };
}

pub async fn payment_by_payment_id(tx: &mut DbTx, payment_id: &str) -> Result<Option<PaymentRow>, DbError> {
    const SQL: &str = concat!(payment_cols!(), "WHERE payment_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(payment_id).fetch_optional(c).await)?)
}

/// One person's entries inside the transaction, oldest first.
pub async fn payments_of_tx(tx: &mut DbTx, person_id: i64) -> Result<Vec<PaymentRow>, DbError> {
    const SQL: &str = concat!(payment_cols!(), "WHERE person_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(person_id).fetch_all(c).await)?)
}

/// These people's entries, oldest first.
pub async fn payments_of(db: &Db, ids: &[i64]) -> Result<Vec<PaymentRow>, DbError> {
    const SQLITE: &str = concat!(payment_cols!(), "WHERE person_id IN (SELECT value FROM json_each($1)) ORDER BY id");
    const PG: &str = concat!(payment_cols!(), "WHERE person_id = ANY($1) ORDER BY id");
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(by_ids!(db, SQLITE, PG, ids))
}

/// A page of the whole ledger after entry `after`, for the verification.
pub async fn payments_after(db: &Db, after: i64, limit: i64) -> Result<Vec<PaymentRow>, DbError> {
    const SQL: &str = concat!(payment_cols!(), "WHERE id > $1 ORDER BY id LIMIT $2");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(p).await)?)
}

/// Usernames of these accounts.
pub async fn usernames(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    const SQLITE: &str = "SELECT id, username FROM users WHERE id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT id, username FROM users WHERE id = ANY($1)";
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(by_ids!(db, SQLITE, PG, ids))
}

// ---------------------------------------------------------------- members

/// A member as the ledger lists her.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_name: String,
    pub stage: String,
    pub category: String,
    pub admitted_on: Option<Date>,
}

/// The probationary and full members of the subtree `[start, end)` who belong to it now (not deceased, left
/// or transferred out), by organization and name; at most `limit`.
pub async fn members(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<MemberRow>, DbError> {
    const SQL: &str = "SELECT p.id, p.name, p.org_id, o.name AS org_name, p.stage, p.category, p.admitted_on FROM people p \
        JOIN orgs o ON o.id = p.org_id WHERE p.org_path >= $1 AND p.org_path < $2 \
        AND p.stage IN ('probationary', 'full') AND p.status NOT IN ('deceased', 'left', 'transferred_out') \
        ORDER BY p.org_path, p.name, p.id LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// The admission dates (FEE-07's first due month) of these people.
pub async fn admitted_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, Option<Date>)>, DbError> {
    const SQLITE: &str = "SELECT id, admitted_on FROM people WHERE id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT id, admitted_on FROM people WHERE id = ANY($1)";
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(by_ids!(db, SQLITE, PG, ids))
}

/// Whether any fee profile exists (the demo adds its own only to an empty ledger).
pub async fn any_profile(db: &Db) -> Result<bool, DbError> {
    const SQL: &str = "SELECT id FROM fee_profiles LIMIT 1";
    let row: Option<i64> = on_db!(db, p => sqlx::query_scalar(SQL).fetch_optional(p).await)?;
    Ok(row.is_some())
}

/// A member's erasure (PIPL 第四十七条, platform::privacy): the notes of her profiles and the reasons of her
/// reductions go; the amounts, months and decisions stay under her pseudonymous row (the dues accounts are
/// kept, domain.md ARC). The payments ledger is append-only (AT-29) and holds no free text about her beyond a
/// staff note, which stays with the entry its HMAC covers.
pub const ERASE_PERSON: &[&str] = &[
    "UPDATE fee_profiles SET note = NULL WHERE person_id = $1",
    "UPDATE fee_reductions SET reason = '（已删除）', branch_decision = '（已删除）' WHERE person_id = $1",
];
