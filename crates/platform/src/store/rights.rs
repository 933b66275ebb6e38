//! The SQL of the PIPL rights (service/rights.rs): members' requests (`privacy_requests`) and the platform's
//! part of a deletion (people, accounts, sessions, second factor, an organization's secretary name).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

/// A request with the names the pages show.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub person_id: i64,
    /// Her organization's path today (the queue's scope is checked against it).
    pub person_org_path: String,
    pub person_name: String,
    pub kind: String,
    pub state: String,
    pub field: Option<String>,
    pub proposed_enc: Option<Vec<u8>>,
    pub reason: Option<String>,
    pub due_on: Option<Date>,
    pub expires_at: Option<OffsetDateTime>,
    pub requested_at: OffsetDateTime,
    pub endorsed_by: Option<i64>,
    pub endorsed_by_name: Option<String>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub decision_note: Option<String>,
    pub pseudonym: Option<String>,
    /// Who filed it when it was not the member herself (a record keeper, on her behalf).
    pub filed_by_name: Option<String>,
    /// The account that filed it (a relative's copy is handed to this record keeper).
    pub requested_by: Option<i64>,
    /// A deceased member's close relative who asked (PIPL 第四十九条): the relationship, and the name and
    /// telephone sealed.
    pub requester_relation: Option<String>,
    pub requester_name_enc: Option<Vec<u8>>,
    pub requester_phone_enc: Option<Vec<u8>>,
}

const SELECT: &str = "SELECT r.id, r.person_id, p.org_path AS person_org_path, p.name AS person_name, r.kind, r.state, \
    r.field, r.proposed_enc, r.reason, r.due_on, r.expires_at, r.requested_at, r.endorsed_by, \
    e.display_name AS endorsed_by_name, d.display_name AS decided_by_name, r.decided_at, r.decision_note, r.pseudonym, \
    CASE WHEN q.person_id IS NULL OR q.person_id <> r.person_id THEN q.display_name END AS filed_by_name, \
    r.requested_by, r.requester_relation, r.requester_name_enc, r.requester_phone_enc \
    FROM privacy_requests r JOIN people p ON p.id = r.person_id \
    LEFT JOIN users e ON e.id = r.endorsed_by LEFT JOIN users d ON d.id = r.decided_by \
    LEFT JOIN users q ON q.id = r.requested_by";

pub struct NewRequest<'a> {
    pub person_id: i64,
    pub org_path: &'a str,
    pub kind: &'a str,
    pub state: &'a str,
    pub field: Option<&'a str>,
    pub proposed_enc: Option<Vec<u8>>,
    pub reason: Option<&'a str>,
    pub due_on: Option<Date>,
    pub token_hash: Option<Vec<u8>>,
    pub expires_at: Option<OffsetDateTime>,
    pub requested_by: i64,
    pub now: OffsetDateTime,
    /// A deceased member's close relative who asked: relationship, sealed name, sealed telephone.
    pub requester: Option<(&'a str, Vec<u8>, Vec<u8>)>,
}

pub async fn insert(tx: &mut DbTx, r: NewRequest<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO privacy_requests (person_id, org_path, kind, state, field, proposed_enc, reason, due_on, \
        token_hash, expires_at, requested_by, requested_at, requester_relation, requester_name_enc, requester_phone_enc) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id";
    let (relation, name_enc, phone_enc) = match r.requester {
        Some((rel, name, phone)) => (Some(rel), Some(name), Some(phone)),
        None => (None, None, None),
    };
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(r.person_id).bind(r.org_path).bind(r.kind).bind(r.state)
        .bind(r.field).bind(r.proposed_enc).bind(r.reason).bind(r.due_on).bind(r.token_hash).bind(r.expires_at)
        .bind(r.requested_by).bind(r.now).bind(relation).bind(name_enc).bind(phone_enc).fetch_one(c).await)?)
}

const ERASED: &str = "SELECT erased_at IS NOT NULL FROM people WHERE id = $1";

/// Whether a person's data was erased (a pseudonymised record: nothing of hers is left to ask about).
pub async fn erased_tx(tx: &mut DbTx, person_id: i64) -> Result<bool, DbError> {
    let erased: Option<bool> = on_tx!(tx, c => sqlx::query_scalar(ERASED).bind(person_id).fetch_optional(c).await)?;
    Ok(erased.unwrap_or(false))
}

/// [`erased_tx`] outside a transaction (the page that offers the forms).
pub async fn erased(db: &Db, person_id: i64) -> Result<bool, DbError> {
    let erased: Option<bool> = on_db!(db, p => sqlx::query_scalar(ERASED).bind(person_id).fetch_optional(p).await)?;
    Ok(erased.unwrap_or(false))
}

/// The account linked to a person, if she has one.
pub async fn user_of_person(db: &Db, person_id: i64) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT id FROM users WHERE person_id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(person_id).fetch_optional(p).await)?)
}

/// A member's arrangement for after her death (PIPL 第四十九条).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ArrangementRow {
    pub relatives_may: bool,
    pub note: Option<String>,
    pub set_at: OffsetDateTime,
}

const ARRANGEMENT: &str = "SELECT relatives_may, note, set_at FROM posthumous_arrangements WHERE person_id = $1";

pub async fn arrangement(db: &Db, person_id: i64) -> Result<Option<ArrangementRow>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(ARRANGEMENT).bind(person_id).fetch_optional(p).await)?)
}

/// [`arrangement`] inside the caller's transaction (a relative's request is checked against it there).
pub async fn arrangement_tx(tx: &mut DbTx, person_id: i64) -> Result<Option<ArrangementRow>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_as(ARRANGEMENT).bind(person_id).fetch_optional(c).await)?)
}

/// Records (or replaces) her arrangement.
pub async fn set_arrangement(
    tx: &mut DbTx,
    person_id: i64,
    relatives_may: bool,
    note: Option<&str>,
    by: i64,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO posthumous_arrangements (person_id, relatives_may, note, set_by, set_at) \
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id) DO UPDATE SET relatives_may = excluded.relatives_may, \
        note = excluded.note, set_by = excluded.set_by, set_at = excluded.set_at";
    on_tx!(tx, c => sqlx::query(SQL).bind(person_id).bind(relatives_may).bind(note).bind(by).bind(at).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn get(tx: &mut DbTx, id: i64) -> Result<Option<RequestRow>, DbError> {
    let sql = format!("{SELECT} WHERE r.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?)
}

pub async fn by_token(tx: &mut DbTx, hash: &[u8]) -> Result<Option<RequestRow>, DbError> {
    let sql = format!("{SELECT} WHERE r.token_hash = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(hash).fetch_optional(c).await)?)
}

/// [`of_person`] inside the caller's transaction (a new request is checked against the open ones there).
pub async fn of_person_tx(tx: &mut DbTx, person_id: i64) -> Result<Vec<RequestRow>, DbError> {
    let sql = format!("{SELECT} WHERE r.person_id = $1 ORDER BY r.id DESC");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(person_id).fetch_all(c).await)?)
}

/// A person's requests, newest first.
pub async fn of_person(db: &Db, person_id: i64) -> Result<Vec<RequestRow>, DbError> {
    let sql = format!("{SELECT} WHERE r.person_id = $1 ORDER BY r.id DESC");
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(person_id).fetch_all(p).await)?)
}

/// Open corrections and deletions of the people in the subtree range `[from, to)`, oldest due first.
pub async fn open_in(db: &Db, from: &str, to: &str) -> Result<Vec<RequestRow>, DbError> {
    let sql = format!(
        "{SELECT} WHERE r.kind IN ('correction', 'deletion') AND r.state IN ('pending', 'endorsed') \
         AND p.org_path >= $1 AND p.org_path < $2 ORDER BY r.due_on, r.id"
    );
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(p).await)?)
}

/// Copies whose link has not been used nor expired yet: (id, person_id, expires_at).
pub async fn ready_copies(db: &Db) -> Result<Vec<(i64, i64, OffsetDateTime)>, DbError> {
    const SQL: &str =
        "SELECT id, person_id, expires_at FROM privacy_requests WHERE kind = 'copy' AND state = 'ready' ORDER BY id";
    let rows: Vec<(i64, i64, Option<OffsetDateTime>)> = on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)?;
    Ok(rows.into_iter().map(|(id, pid, at)| (id, pid, at.unwrap_or(OffsetDateTime::UNIX_EPOCH))).collect())
}

/// Moves a request from `from` to `to`, recording who decided and why; false when it was no longer in `from`
/// (someone else was quicker: every change is this one compare-and-set).
pub async fn decide(
    tx: &mut DbTx,
    id: i64,
    from: &str,
    to: &str,
    by: i64,
    at: OffsetDateTime,
    note: Option<&str>,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE privacy_requests SET state = $3, decided_by = $4, decided_at = $5, decision_note = $6 \
        WHERE id = $1 AND state = $2";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(from).bind(to).bind(by).bind(at).bind(note)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The first of two approvals of a deletion.
pub async fn endorse(tx: &mut DbTx, id: i64, by: i64, at: OffsetDateTime, note: Option<&str>) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE privacy_requests SET state = 'endorsed', endorsed_by = $2, endorsed_at = $3, decision_note = $4 \
        WHERE id = $1 AND state = 'pending' AND kind = 'deletion'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(by).bind(at).bind(note).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A copy's link used or lapsed: `state` becomes downloaded or expired; the token hash is dropped either way.
pub async fn close_copy(tx: &mut DbTx, id: i64, state: &str, at: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE privacy_requests SET state = $2, decided_at = $3, token_hash = NULL \
        WHERE id = $1 AND kind = 'copy' AND state = 'ready'";
    let n =
        on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(state).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A deletion carried out: the pseudonym it left.
pub async fn finish_deletion(
    tx: &mut DbTx,
    id: i64,
    by: i64,
    at: OffsetDateTime,
    pseudonym: &str,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE privacy_requests SET state = 'done', decided_by = $2, decided_at = $3, pseudonym = $4 \
        WHERE id = $1 AND state = 'endorsed' AND kind = 'deletion'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(by).bind(at).bind(pseudonym).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// What the platform itself holds about a person, erased or pseudonymised (AT-37): her record keeps its
/// membership items (gender, ethnicity, education, category, stage, status, the stage dates, birth year) under
/// the pseudonym; name, ID number (a sealed empty value and a random blind index in its place), phone,
/// address, native place, student/staff number, post and title go. Her account is renamed to the pseudonym,
/// cannot sign in and has no session, challenge or second factor left; her terms of office end today; her
/// name as an organization's secretary is replaced; the free text of her own requests goes.
pub struct PlatformErasure<'a> {
    pub person_id: i64,
    pub pseudonym: &'a str,
    pub name: &'a str,
    pub sealed_empty_id: Vec<u8>,
    pub random_bidx: Vec<u8>,
    pub today: Date,
    pub now: OffsetDateTime,
}

pub async fn erase_platform(tx: &mut DbTx, e: PlatformErasure<'_>) -> Result<u64, DbError> {
    let pid = e.person_id;
    let mut n = 0;
    const PERSON: &str = "UPDATE people SET name = $2, id_number_enc = $3, id_number_bidx = $4, id_number_masked = '已删除', \
        phone_enc = NULL, phone_masked = NULL, address_enc = NULL, native_place = NULL, person_no = NULL, party_post = NULL, \
        job_title = NULL, birth_date = $5, erased_at = $6, updated_at = $6, version = version + 1 WHERE id = $1";
    let birth: Option<Date> = on_tx!(tx, c => sqlx::query_scalar("SELECT birth_date FROM people WHERE id = $1").bind(pid).fetch_optional(c).await)?;
    let year_only = birth.and_then(|b| Date::from_ordinal_date(b.year(), 1).ok()).unwrap_or(e.today);
    n += on_tx!(tx, c => sqlx::query(PERSON).bind(pid).bind(e.pseudonym).bind(&e.sealed_empty_id).bind(&e.random_bidx)
        .bind(year_only).bind(e.now).execute(c).await.map(|r| r.rows_affected()))?;
    let user: Option<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM users WHERE person_id = $1").bind(pid).fetch_optional(c).await)?;
    if let Some(uid) = user {
        for sql in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM login_challenges WHERE user_id = $1",
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1",
            "DELETE FROM mfa_totp WHERE user_id = $1",
            "DELETE FROM password_history WHERE user_id = $1",
            "DELETE FROM shared_account_reviews WHERE user_id = $1",
            "DELETE FROM security_notifications WHERE user_id = $1",
        ] {
            n += on_tx!(tx, c => sqlx::query(sql).bind(uid).execute(c).await.map(|r| r.rows_affected()))?;
        }
        const USER: &str =
            "UPDATE users SET username = $2, display_name = $2, password_hash = '!erased', active = $3 WHERE id = $1";
        n += on_tx!(tx, c => sqlx::query(USER).bind(uid).bind(e.pseudonym).bind(false).execute(c).await.map(|r| r.rows_affected()))?;
        const GRANTS: &str = "UPDATE grants SET ends_on = $2 WHERE user_id = $1 AND (ends_on IS NULL OR ends_on > $2)";
        n += on_tx!(tx, c => sqlx::query(GRANTS).bind(uid).bind(e.today).execute(c).await.map(|r| r.rows_affected()))?;
    }
    const SECRETARY: &str = "UPDATE orgs SET secretary = $2 WHERE secretary = $1";
    n += on_tx!(tx, c => sqlx::query(SECRETARY).bind(e.name).bind(e.pseudonym).execute(c).await.map(|r| r.rows_affected()))?;
    // A relative's name and telephone go too: they would lead from the pseudonym back to her family.
    const REQUESTS: &str = "UPDATE privacy_requests SET proposed_enc = NULL, reason = NULL, decision_note = NULL, token_hash = NULL, \
        requester_name_enc = NULL, requester_phone_enc = NULL WHERE person_id = $1";
    n += on_tx!(tx, c => sqlx::query(REQUESTS).bind(pid).execute(c).await.map(|r| r.rows_affected()))?;
    const ARRANGEMENTS: &str = "DELETE FROM posthumous_arrangements WHERE person_id = $1";
    n += on_tx!(tx, c => sqlx::query(ARRANGEMENTS).bind(pid).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// After a deletion on SQLite: the write-ahead log is copied into the database and truncated, so the old
/// pages are gone from the log too (busy readers may delay it until the next checkpoint). Freed content in
/// the database file itself is zeroed by `secure_delete`, which every connection sets (kernel::db).
pub async fn checkpoint(db: &Db) -> Result<(), DbError> {
    if let Db::Sqlite(p) = db {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(p).await?;
    }
    Ok(())
}

/// Runs an application's erasure statements for one person inside the deletion's transaction. Each statement
/// may use `$1` (the person's id), `$2` (the pseudonym) and `$3` (her name as it was, to replace in text others
/// wrote); only the parameters a statement uses are bound (PostgreSQL refuses extra ones). Returns the rows
/// touched.
pub async fn execute_each(
    tx: &mut DbTx,
    statements: &[&'static str],
    person_id: i64,
    pseudonym: &str,
    name: &str,
) -> Result<u64, DbError> {
    let mut n = 0;
    for sql in statements {
        let used = if sql.contains("$3") {
            3
        } else if sql.contains("$2") {
            2
        } else {
            1
        };
        n += on_tx!(tx, c => {
            let mut q = sqlx::query(*sql).bind(person_id);
            if used >= 2 {
                q = q.bind(pseudonym.to_string());
            }
            if used >= 3 {
                q = q.bind(name.to_string());
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(n)
}
