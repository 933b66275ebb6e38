//! The SQL of transfers, letters, status changes, contacts and graduates' retention. Statements are constants
//! in the dialect SQLite and PostgreSQL share; list parameters differ and stand side by side.
//!
//! Besides its own tables this store reads the platform's `people` (name, gender, stage, category, status,
//! the stored masked ID number — never a sealed item) and `orgs` (names), and life's `meetings` with
//! `meeting_attendees` (the last organizational life a member attended, TRF-04); it moves people only through
//! `platform::store::move_person` / `set_person_status` (docs/ARCHITECTURE.md, cross-part edges).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::json_ids;

// ---------------------------------------------------------------- transfers

pub struct TransferWrite<'a> {
    pub person_id: i64,
    pub kind: &'a str,
    pub state: &'a str,
    pub from_org_id: Option<i64>,
    pub from_org_path: Option<&'a str>,
    pub to_org_id: Option<i64>,
    pub to_org_path: Option<&'a str>,
    pub external_org: Option<&'a str>,
    pub reason: &'a str,
    pub note: Option<&'a str>,
    pub initiated_on: Date,
    pub fee_paid_through: Option<&'a str>,
    pub decided_on: Option<Date>,
    pub decided_by: Option<i64>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_transfer(tx: &mut DbTx, t: &TransferWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO transfers (person_id, kind, state, from_org_id, from_org_path, to_org_id, to_org_path, external_org, \
        reason, note, initiated_on, fee_paid_through, decided_on, decided_by, version, created_by, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $16, $16) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(t.person_id).bind(t.kind).bind(t.state).bind(t.from_org_id).bind(t.from_org_path).bind(t.to_org_id)
        .bind(t.to_org_path).bind(t.external_org).bind(t.reason).bind(t.note).bind(t.initiated_on)
        .bind(t.fee_paid_through).bind(t.decided_on).bind(t.decided_by).bind(t.user_id).bind(t.now)
        .fetch_one(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TransferRow {
    pub id: i64,
    pub person_id: i64,
    pub kind: String,
    pub state: String,
    pub from_org_id: Option<i64>,
    pub from_org_path: Option<String>,
    pub from_org_name: Option<String>,
    pub to_org_id: Option<i64>,
    pub to_org_path: Option<String>,
    pub to_org_name: Option<String>,
    pub external_org: Option<String>,
    pub reason: String,
    pub note: Option<String>,
    pub initiated_on: Date,
    pub fee_paid_through: Option<String>,
    pub decided_on: Option<Date>,
    pub return_reason: Option<String>,
    pub receipt_on: Option<Date>,
    pub receipt_note: Option<String>,
    pub version: i64,
    pub p_name: String,
    pub p_gender: String,
    pub p_stage: String,
    pub p_category: String,
    pub p_status: String,
    pub p_id_masked: String,
    pub p_org_id: i64,
}

/// The columns of a transfer with its person and the names of both organizations, as a literal so each
/// query below is one constant.
macro_rules! transfer_columns {
    () => {
        "SELECT t.id, t.person_id, t.kind, t.state, t.from_org_id, t.from_org_path, fo.name AS from_org_name, \
        t.to_org_id, t.to_org_path, tor.name AS to_org_name, t.external_org, t.reason, t.note, t.initiated_on, \
        t.fee_paid_through, t.decided_on, t.return_reason, t.receipt_on, t.receipt_note, t.version, \
        p.name AS p_name, p.gender AS p_gender, p.stage AS p_stage, p.category AS p_category, p.status AS p_status, \
        p.id_number_masked AS p_id_masked, p.org_id AS p_org_id \
        FROM transfers t JOIN people p ON p.id = t.person_id \
        LEFT JOIN orgs fo ON fo.id = t.from_org_id LEFT JOIN orgs tor ON tor.id = t.to_org_id "
    };
}

pub async fn get_transfer(db: &Db, id: i64) -> Result<Option<TransferRow>, DbError> {
    const SQL: &str = concat!(transfer_columns!(), "WHERE t.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

pub async fn get_transfer_tx(tx: &mut DbTx, id: i64) -> Result<Option<TransferRow>, DbError> {
    const SQL: &str = concat!(transfer_columns!(), "WHERE t.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?)
}

/// Transfers leaving the subtree `[start, end)`: pending first, then the latest; at most `limit`.
pub async fn transfers_from(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<TransferRow>, DbError> {
    const SQL: &str = concat!(
        transfer_columns!(),
        "WHERE t.from_org_path >= $1 AND t.from_org_path < $2 \
        ORDER BY CASE WHEN t.state = 'pending' THEN 0 ELSE 1 END, t.id DESC LIMIT $3"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// Transfers reaching the subtree `[start, end)`: pending first, then the latest; at most `limit`.
pub async fn transfers_to(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<TransferRow>, DbError> {
    const SQL: &str = concat!(
        transfer_columns!(),
        "WHERE t.to_org_path >= $1 AND t.to_org_path < $2 \
        ORDER BY CASE WHEN t.state = 'pending' THEN 0 ELSE 1 END, t.id DESC LIMIT $3"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

pub async fn transfers_of_person(db: &Db, person_id: i64) -> Result<Vec<TransferRow>, DbError> {
    const SQL: &str = concat!(transfer_columns!(), "WHERE t.person_id = $1 ORDER BY t.id DESC");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// Whether the person has a transfer under way.
pub async fn open_transfer_tx(tx: &mut DbTx, person_id: i64) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT id FROM transfers WHERE person_id = $1 AND state = 'pending'";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(person_id).fetch_optional(c).await)?)
}

/// Closes a pending transfer (accepted, returned or cancelled); returns whether it was still pending.
#[allow(clippy::too_many_arguments)]
pub async fn close_transfer(
    tx: &mut DbTx,
    id: i64,
    state: &str,
    on: Date,
    user_id: Option<i64>,
    return_reason: Option<&str>,
    note: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE transfers SET state = $1, decided_on = $2, decided_by = $3, return_reason = $4, \
        note = COALESCE($5, note), version = version + 1, updated_at = $6 WHERE id = $7 AND state = 'pending'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(state).bind(on).bind(user_id).bind(return_reason).bind(note)
        .bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records the receipt of an outgoing transfer and closes it; returns whether it was pending.
pub async fn record_receipt(
    tx: &mut DbTx,
    id: i64,
    on: Date,
    note: Option<&str>,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE transfers SET state = 'accepted', receipt_on = $1, receipt_note = $2, decided_on = $1, \
        decided_by = $3, version = version + 1, updated_at = $4 WHERE id = $5 AND state = 'pending' AND kind = 'out'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(on).bind(note).bind(user_id).bind(now).bind(id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Moves a transfer's version (a reissue changes what the transfer shows).
pub async fn touch_transfer(tx: &mut DbTx, id: i64, now: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str = "UPDATE transfers SET version = version + 1, updated_at = $1 WHERE id = $2";
    on_tx!(tx, c => sqlx::query(SQL).bind(now).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Whether any transfer is stored (the demo adds its transfers only to a database without any).
pub async fn any_transfer(db: &Db) -> Result<bool, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM (SELECT id FROM transfers LIMIT 1) AS one";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await)?;
    Ok(n > 0)
}

// ---------------------------------------------------------------- letters

pub struct LetterWrite<'a> {
    pub transfer_id: i64,
    pub direction: &'a str,
    pub number: &'a str,
    pub issued_on: Date,
    pub valid_days: i64,
    pub valid_until: Date,
    pub replaces_id: Option<i64>,
    pub reissue_reason: Option<&'a str>,
    pub presented_on: Option<Date>,
    pub person_name: &'a str,
    pub gender: &'a str,
    pub age: i64,
    pub ethnicity: Option<&'a str>,
    pub id_number_masked: &'a str,
    pub standing: &'a str,
    pub from_org_name: &'a str,
    pub to_org_name: &'a str,
    pub issuer_name: &'a str,
    pub issuer_phone: Option<&'a str>,
    pub fee_paid_through: Option<&'a str>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_letter(tx: &mut DbTx, l: &LetterWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO transfer_letters (transfer_id, direction, number, issued_on, valid_days, valid_until, state, \
        replaces_id, reissue_reason, presented_on, person_name, gender, age, ethnicity, id_number_masked, standing, from_org_name, \
        to_org_name, issuer_name, issuer_phone, fee_paid_through, issued_by, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, 'current', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) \
        RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(l.transfer_id).bind(l.direction).bind(l.number).bind(l.issued_on).bind(l.valid_days).bind(l.valid_until)
        .bind(l.replaces_id).bind(l.reissue_reason).bind(l.presented_on).bind(l.person_name).bind(l.gender).bind(l.age)
        .bind(l.ethnicity).bind(l.id_number_masked).bind(l.standing).bind(l.from_org_name).bind(l.to_org_name)
        .bind(l.issuer_name).bind(l.issuer_phone).bind(l.fee_paid_through).bind(l.user_id).bind(l.now)
        .fetch_one(c).await)?)
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct LetterRow {
    pub id: i64,
    pub transfer_id: i64,
    pub direction: String,
    pub number: String,
    pub issued_on: Date,
    pub valid_days: i64,
    pub valid_until: Date,
    pub state: String,
    pub replaces_id: Option<i64>,
    pub reissue_reason: Option<String>,
    pub presented_on: Option<Date>,
    pub person_name: String,
    pub gender: String,
    pub age: i64,
    pub ethnicity: Option<String>,
    pub id_number_masked: String,
    pub standing: String,
    pub from_org_name: String,
    pub to_org_name: String,
    pub issuer_name: String,
    pub issuer_phone: Option<String>,
    pub fee_paid_through: Option<String>,
}

macro_rules! letter_columns {
    () => {
        "SELECT id, transfer_id, direction, number, issued_on, CAST(valid_days AS BIGINT) AS valid_days, valid_until, state, \
        replaces_id, reissue_reason, presented_on, person_name, gender, CAST(age AS BIGINT) AS age, ethnicity, id_number_masked, \
        standing, from_org_name, to_org_name, issuer_name, issuer_phone, fee_paid_through FROM transfer_letters "
    };
}

/// The letters of these transfers, oldest first.
pub async fn letters_of(db: &Db, transfer_ids: &[i64]) -> Result<Vec<LetterRow>, DbError> {
    if transfer_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str =
        concat!(letter_columns!(), "WHERE transfer_id IN (SELECT value FROM json_each($1)) ORDER BY transfer_id, id");
    const PG: &str = concat!(letter_columns!(), "WHERE transfer_id = ANY($1) ORDER BY transfer_id, id");
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(transfer_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(transfer_ids).fetch_all(p).await?,
    })
}

pub async fn letters_of_tx(tx: &mut DbTx, transfer_id: i64) -> Result<Vec<LetterRow>, DbError> {
    const SQL: &str = concat!(letter_columns!(), "WHERE transfer_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(transfer_id).fetch_all(c).await)?)
}

/// Marks the current letters of a transfer `superseded` or `void`.
pub async fn retire_letters(tx: &mut DbTx, transfer_id: i64, state: &str) -> Result<(), DbError> {
    const SQL: &str = "UPDATE transfer_letters SET state = $1 WHERE transfer_id = $2 AND state = 'current'";
    on_tx!(tx, c => sqlx::query(SQL).bind(state).bind(transfer_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// How many outgoing letters carry a number of `year` (the next number follows them).
pub async fn letters_in_year(tx: &mut DbTx, year: i32) -> Result<i64, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM transfer_letters WHERE direction = 'out' AND number LIKE $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(format!("{year}-%")).fetch_one(c).await)?)
}

// ---------------------------------------------------------------- status, contacts, retention

pub struct StatusWrite<'a> {
    pub person_id: i64,
    pub from_status: &'a str,
    pub to_status: &'a str,
    pub effective_on: Date,
    pub reason: &'a str,
    pub place: Option<&'a str>,
    pub fixed_place: Option<bool>,
    pub expected_until: Option<Date>,
    pub certificate_no: Option<&'a str>,
    pub decided_by: Option<&'a str>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_status_change(tx: &mut DbTx, s: &StatusWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO status_changes (person_id, from_status, to_status, effective_on, reason, place, fixed_place, \
        expected_until, certificate_no, decided_by, recorded_by, recorded_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(s.person_id).bind(s.from_status).bind(s.to_status).bind(s.effective_on).bind(s.reason).bind(s.place)
        .bind(s.fixed_place).bind(s.expected_until).bind(s.certificate_no).bind(s.decided_by).bind(s.user_id).bind(s.now)
        .fetch_one(c).await)?)
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub person_id: i64,
    pub from_status: String,
    pub to_status: String,
    pub effective_on: Date,
    pub reason: String,
    pub place: Option<String>,
    pub fixed_place: Option<bool>,
    pub expected_until: Option<Date>,
    pub certificate_no: Option<String>,
    pub decided_by: Option<String>,
    pub recorded_by: Option<String>,
}

macro_rules! status_columns {
    () => {
        "SELECT s.id, s.person_id, s.from_status, s.to_status, s.effective_on, s.reason, s.place, s.fixed_place, s.expected_until, \
        s.certificate_no, s.decided_by, u.display_name AS recorded_by FROM status_changes s LEFT JOIN users u ON u.id = s.recorded_by "
    };
}

/// The status history of these people, latest first per person.
pub async fn status_history(db: &Db, person_ids: &[i64]) -> Result<Vec<StatusRow>, DbError> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = concat!(
        status_columns!(),
        "WHERE s.person_id IN (SELECT value FROM json_each($1)) ORDER BY s.person_id, s.effective_on DESC, s.id DESC"
    );
    const PG: &str =
        concat!(status_columns!(), "WHERE s.person_id = ANY($1) ORDER BY s.person_id, s.effective_on DESC, s.id DESC");
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(person_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(person_ids).fetch_all(p).await?,
    })
}

pub async fn insert_contact(
    tx: &mut DbTx,
    person_id: i64,
    on: Date,
    channel: &str,
    note: Option<&str>,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO member_contacts (person_id, contacted_on, channel, note, recorded_by, recorded_at) \
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(SQL).bind(person_id).bind(on).bind(channel).bind(note).bind(user_id).bind(now)
        .fetch_one(c).await)?,
    )
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ContactRow {
    pub id: i64,
    pub person_id: i64,
    pub contacted_on: Date,
    pub channel: String,
    pub note: Option<String>,
}

/// The contacts of these people, latest first per person.
pub async fn contacts_of(db: &Db, person_ids: &[i64]) -> Result<Vec<ContactRow>, DbError> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT id, person_id, contacted_on, channel, note FROM member_contacts \
        WHERE person_id IN (SELECT value FROM json_each($1)) ORDER BY person_id, contacted_on DESC, id DESC";
    const PG: &str = "SELECT id, person_id, contacted_on, channel, note FROM member_contacts \
        WHERE person_id = ANY($1) ORDER BY person_id, contacted_on DESC, id DESC";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(person_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(person_ids).fetch_all(p).await?,
    })
}

pub async fn insert_retention(
    tx: &mut DbTx,
    person_id: i64,
    since: Date,
    reason: &str,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO graduate_retentions (person_id, since, reason, recorded_by, recorded_at) \
        VALUES ($1, $2, $3, $4, $5) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(person_id).bind(since).bind(reason).bind(user_id).bind(now)
        .fetch_one(c).await)?)
}

/// Ends the person's open retention; returns whether there was one.
pub async fn end_retention(tx: &mut DbTx, person_id: i64, on: Date, reason: &str) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE graduate_retentions SET ended_on = $1, end_reason = $2 \
        WHERE person_id = $3 AND ended_on IS NULL AND since <= $1";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(on).bind(reason).bind(person_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct RetentionRow {
    pub id: i64,
    pub person_id: i64,
    pub since: Date,
    pub reason: String,
    pub ended_on: Option<Date>,
    pub end_reason: Option<String>,
}

pub async fn retentions_of(db: &Db, person_ids: &[i64]) -> Result<Vec<RetentionRow>, DbError> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT id, person_id, since, reason, ended_on, end_reason FROM graduate_retentions \
        WHERE person_id IN (SELECT value FROM json_each($1)) ORDER BY person_id, since DESC, id DESC";
    const PG: &str = "SELECT id, person_id, since, reason, ended_on, end_reason FROM graduate_retentions \
        WHERE person_id = ANY($1) ORDER BY person_id, since DESC, id DESC";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(person_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(person_ids).fetch_all(p).await?,
    })
}

/// The last day each of these people attended organizational life (life's meetings held, present).
pub async fn last_life(db: &Db, person_ids: &[i64]) -> Result<Vec<(i64, Date)>, DbError> {
    if person_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT a.person_id, MAX(m.held_on) FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id \
        WHERE a.attendance = 'present' AND a.person_id IN (SELECT value FROM json_each($1)) GROUP BY a.person_id";
    const PG: &str = "SELECT a.person_id, MAX(m.held_on) FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id \
        WHERE a.attendance = 'present' AND a.person_id = ANY($1) GROUP BY a.person_id";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(person_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(person_ids).fetch_all(p).await?,
    })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WatchRow {
    pub id: i64,
    pub name: String,
    pub org_name: String,
    pub status: String,
}

/// The people of the subtree `[start, end)` whose status is not normal (nor ended: deceased, left,
/// transferred out) or whose relationship is kept as a graduate's: the status board's candidates, in tree
/// order, at most `limit`.
pub async fn watched_people(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<WatchRow>, DbError> {
    const SQL: &str = "SELECT p.id, p.name, o.name AS org_name, p.status FROM people p JOIN orgs o ON o.id = p.org_id \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND (p.status IN ('floating', 'abroad', 'lost_contact', 'suspended') \
        OR EXISTS (SELECT 1 FROM graduate_retentions g WHERE g.person_id = p.id AND g.ended_on IS NULL)) \
        ORDER BY p.org_path, p.id LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// The people of the subtree `[start, end)` in normal standing whose dues may be six months behind (FEE-08): a
/// fee profile that began by `cutoff` (`YYYY-MM`) and no monthly dues paid (and not reversed) for a month after
/// it. A superset — exemptions and reductions are judged after, by the ledger's own rules — so the status
/// board reads the month grids of these few people only, not of everyone with a profile.
pub async fn fee_arrears_candidates(
    db: &Db,
    start: &str,
    end: &str,
    cutoff: &str,
    limit: i64,
) -> Result<Vec<WatchRow>, DbError> {
    const SQL: &str = "SELECT p.id, p.name, o.name AS org_name, p.status FROM people p JOIN orgs o ON o.id = p.org_id \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND p.status = 'normal' AND p.stage IN ('probationary', 'full') \
        AND EXISTS (SELECT 1 FROM fee_profiles f WHERE f.person_id = p.id AND f.effective_from <= $3) \
        AND NOT EXISTS (SELECT 1 FROM fee_payments y WHERE y.person_id = p.id AND y.kind = 'dues' AND y.to_month > $3 \
            AND NOT EXISTS (SELECT 1 FROM fee_payments r WHERE r.reverses_id = y.id)) \
        ORDER BY p.org_path, p.id LIMIT $4";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(cutoff).bind(limit).fetch_all(p).await)?)
}

/// A person's own rows for her copy of her data (transfers with their letters, status history, contacts,
/// retention).
pub async fn person_export(db: &Db, person_id: i64) -> Result<serde_json::Value, DbError> {
    #[derive(Serialize, sqlx::FromRow)]
    struct Row {
        id: i64,
        kind: String,
        state: String,
        from_org: Option<String>,
        to_org: Option<String>,
        external_org: Option<String>,
        reason: String,
        initiated_on: Date,
        decided_on: Option<Date>,
        return_reason: Option<String>,
        receipt_on: Option<Date>,
    }
    const SQL: &str = "SELECT t.id, t.kind, t.state, fo.name AS from_org, tor.name AS to_org, t.external_org, t.reason, \
        t.initiated_on, t.decided_on, t.return_reason, t.receipt_on FROM transfers t \
        LEFT JOIN orgs fo ON fo.id = t.from_org_id LEFT JOIN orgs tor ON tor.id = t.to_org_id \
        WHERE t.person_id = $1 ORDER BY t.id";
    let transfers: Vec<Row> = on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?;
    let ids: Vec<i64> = transfers.iter().map(|t| t.id).collect();
    let letters = letters_of(db, &ids).await?;
    let history = status_history(db, &[person_id]).await?;
    let contacts = contacts_of(db, &[person_id]).await?;
    let retentions = retentions_of(db, &[person_id]).await?;
    Ok(serde_json::json!({
        "transfers": transfers,
        "letters": letters,
        "status_history": history,
        "contacts": contacts,
        "graduate_retention": retentions,
    }))
}

/// The transfer a letter belongs to.
pub async fn transfer_of_letter(db: &Db, letter_id: i64) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT transfer_id FROM transfer_letters WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(letter_id).fetch_optional(p).await)?)
}

// ---------------------------------------------------------------- demo

/// Full members in normal standing of one organization, by id (the demo picks its cases among them).
pub async fn demo_members(db: &Db, org_id: i64, limit: i64) -> Result<Vec<i64>, DbError> {
    const SQL: &str =
        "SELECT id FROM people WHERE org_id = $1 AND stage = 'full' AND status = 'normal' ORDER BY id LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(org_id).bind(limit).fetch_all(p).await)?)
}

/// The organization of an account's first grant (the demo's secretaries).
pub async fn demo_grant_org(db: &Db, username: &str) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT g.org_id FROM grants g JOIN users u ON u.id = g.user_id \
        WHERE u.username = $1 AND g.org_id IS NOT NULL ORDER BY g.id LIMIT 1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(username).fetch_optional(p).await)?.flatten())
}

/// The organizations of the whole tree that can receive a person (branches, groups, 党总支), in tree order:
/// a sender may address any of them, whatever her own reach (names only).
pub async fn destinations(db: &Db, limit: i64) -> Result<Vec<(i64, String)>, DbError> {
    const SQL: &str =
        "SELECT id, name FROM orgs WHERE kind IN ('branch', 'group', 'general_branch') ORDER BY path LIMIT $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(limit).fetch_all(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: her transfers, letters, status history, contacts and retention stay
/// (membership history, domain.md ARC) under the pseudonym `$2` that replaces her name on the letters; their
/// free text goes; a letter she issued as a record keeper carries the pseudonym instead of her name `$3`.
pub const ERASE_PERSON: &[&str] = &[
    "UPDATE transfers SET reason = '（已删除）', note = NULL, return_reason = NULL, receipt_note = NULL WHERE person_id = $1",
    "UPDATE transfer_letters SET person_name = $2, id_number_masked = '已删除', reissue_reason = NULL \
     WHERE transfer_id IN (SELECT id FROM transfers WHERE person_id = $1)",
    "UPDATE transfer_letters SET issuer_name = $2, issuer_phone = NULL WHERE issuer_name = $3 AND CAST($1 AS BIGINT) IS NOT NULL",
    "UPDATE status_changes SET reason = '（已删除）', place = NULL, certificate_no = NULL WHERE person_id = $1",
    "UPDATE member_contacts SET note = NULL WHERE person_id = $1",
    "UPDATE graduate_retentions SET reason = '（已删除）', end_reason = NULL WHERE person_id = $1",
];
