//! The only SQL of member services: `service_requests`, `service_request_events`, `certificates`,
//! `volunteer_hours` and `calendar_feeds` (migration 0025), and reads of the platform's `people` and `orgs`
//! (names, stages, paths; never a sealed item). Every statement is one constant both databases run.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

use super::model::RequestEvent;

// ---------------------------------------------------------------- requests

/// The person a request is about, as the service needs her.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PersonRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub name: String,
    pub gender: String,
    pub stage: String,
    pub status: String,
    pub admitted_on: Option<Date>,
}

pub async fn person(db: &Db, id: i64) -> Result<Option<PersonRow>, DbError> {
    const SQL: &str = "SELECT p.id, p.org_id, p.org_path, o.name AS org_name, p.name, p.gender, p.stage, p.status, \
        p.admitted_on FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

pub struct RequestWrite<'a> {
    pub person_id: i64,
    pub org_id: i64,
    pub org_path: &'a str,
    pub kind: &'a str,
    pub details: &'a str,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_request(tx: &mut DbTx, r: &RequestWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO service_requests (person_id, org_id, org_path, kind, details, state, note, created_by, \
        version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'submitted', NULL, $6, 1, $7, $7) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(r.person_id).bind(r.org_id).bind(r.org_path).bind(r.kind).bind(r.details).bind(r.user_id).bind(r.now)
        .fetch_one(c).await)?)
}

/// Appends a step to a request's history.
pub async fn add_event(
    tx: &mut DbTx,
    request_id: i64,
    state: &str,
    note: Option<&str>,
    user_id: Option<i64>,
    actor_name: &str,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO service_request_events (request_id, state, note, user_id, actor_name, at) \
        VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, c => sqlx::query(SQL).bind(request_id).bind(state).bind(note).bind(user_id).bind(actor_name).bind(at)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub kind: String,
    pub details: String,
    pub state: String,
    pub note: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

macro_rules! request_columns {
    () => {
        "SELECT r.id, r.person_id, p.name AS person_name, r.org_id, r.org_path, o.name AS org_name, \
    r.kind, r.details, r.state, r.note, r.version, r.created_at, r.updated_at \
    FROM service_requests r JOIN people p ON p.id = r.person_id JOIN orgs o ON o.id = r.org_id"
    };
}

pub async fn get_request(db: &Db, id: i64) -> Result<Option<RequestRow>, DbError> {
    const SQL: &str = concat!(request_columns!(), " WHERE r.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// Moves a request from `from` to `to` if its version is still `version`; returns whether it moved.
pub async fn move_request(
    tx: &mut DbTx,
    id: i64,
    version: i64,
    to: &str,
    note: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE service_requests SET state = $3, note = COALESCE($4, note), updated_at = $5, \
        version = version + 1 WHERE id = $1 AND version = $2";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(version).bind(to).bind(note).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn history(db: &Db, request_id: i64) -> Result<Vec<RequestEvent>, DbError> {
    const SQL: &str =
        "SELECT state, note, actor_name, at FROM service_request_events WHERE request_id = $1 ORDER BY id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(request_id).fetch_all(p).await)?)
}

/// A person's requests, latest first.
pub async fn requests_of_person(db: &Db, person_id: i64, limit: i64) -> Result<Vec<RequestRow>, DbError> {
    const SQL: &str =
        concat!(request_columns!(), " WHERE r.person_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(limit).fetch_all(p).await)?)
}

/// The requests filed in the subtree `[start, end)`: open ones first, then latest first.
pub async fn requests_in(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<RequestRow>, DbError> {
    const SQL: &str = concat!(
        request_columns!(),
        " WHERE r.org_path >= $1 AND r.org_path < $2 \
        ORDER BY CASE WHEN r.state IN ('submitted', 'accepted') THEN 0 ELSE 1 END, r.created_at DESC, r.id DESC LIMIT $3"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- certificates

pub struct CertificateWrite<'a> {
    pub number: &'a str,
    pub request_id: i64,
    pub person: &'a PersonRow,
    pub kind: &'a str,
    pub standing: &'a str,
    pub org_id: i64,
    pub org_name: &'a str,
    pub issued_on: Date,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_certificate(tx: &mut DbTx, c: &CertificateWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO certificates (number, request_id, person_id, kind, person_name, gender, standing, \
        admitted_on, org_id, org_name, issued_on, state, issued_by, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'valid', $12, $13) RETURNING id";
    Ok(on_tx!(tx, t => sqlx::query_scalar(SQL)
        .bind(c.number).bind(c.request_id).bind(c.person.id).bind(c.kind).bind(&c.person.name).bind(&c.person.gender)
        .bind(c.standing).bind(c.person.admitted_on).bind(c.org_id).bind(c.org_name).bind(c.issued_on)
        .bind(c.user_id).bind(c.now)
        .fetch_one(t).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CertificateRow {
    pub id: i64,
    pub number: String,
    pub request_id: i64,
    pub person_id: i64,
    pub kind: String,
    pub person_name: String,
    pub gender: String,
    pub standing: String,
    pub admitted_on: Option<Date>,
    pub org_id: i64,
    pub org_name: String,
    pub org_path: String,
    pub issued_on: Date,
    pub state: String,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoke_reason: Option<String>,
}

macro_rules! certificate_columns {
    () => {
        "SELECT c.id, c.number, c.request_id, c.person_id, c.kind, c.person_name, c.gender, \
    c.standing, c.admitted_on, c.org_id, c.org_name, o.path AS org_path, c.issued_on, c.state, c.revoked_at, \
    c.revoke_reason FROM certificates c JOIN orgs o ON o.id = c.org_id"
    };
}

pub async fn certificate_of_request(db: &Db, request_id: i64) -> Result<Option<CertificateRow>, DbError> {
    const SQL: &str = concat!(certificate_columns!(), " WHERE c.request_id = $1 ORDER BY c.id DESC LIMIT 1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(request_id).fetch_optional(p).await)?)
}

pub async fn certificate_by_number(db: &Db, number: &str) -> Result<Option<CertificateRow>, DbError> {
    const SQL: &str = concat!(certificate_columns!(), " WHERE c.number = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(number).fetch_optional(p).await)?)
}

/// Revokes a valid certificate; returns whether it was valid.
pub async fn revoke_certificate(tx: &mut DbTx, id: i64, reason: &str, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE certificates SET state = 'revoked', revoked_at = $2, revoke_reason = $3 \
        WHERE id = $1 AND state = 'valid'";
    let n =
        on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(now).bind(reason).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- a person's copy and erasure

/// A request of hers with its state, for her copy.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct RequestOfPerson {
    pub id: i64,
    pub kind: String,
    pub details: String,
    pub state: String,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

pub async fn requests_for_copy(db: &Db, person_id: i64) -> Result<Vec<RequestOfPerson>, DbError> {
    const SQL: &str = "SELECT id, kind, details, state, note, created_at, updated_at FROM service_requests \
        WHERE person_id = $1 ORDER BY id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// A certificate issued to her, for her copy.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct CertificateOfPerson {
    pub number: String,
    pub kind: String,
    pub person_name: String,
    pub standing: String,
    pub org_name: String,
    pub issued_on: Date,
    pub state: String,
    pub revoke_reason: Option<String>,
}

pub async fn certificates_for_copy(db: &Db, person_id: i64) -> Result<Vec<CertificateOfPerson>, DbError> {
    const SQL: &str = "SELECT number, kind, person_name, standing, org_name, issued_on, state, revoke_reason \
        FROM certificates WHERE person_id = $1 ORDER BY id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// Her deletion (each statement binds `$1` the person, `$2` the pseudonym, `$3` her former name): the text of
/// her requests goes (what she asked and why is hers alone; the records stay for the counts), the handlers'
/// notes lose her name, her certificates print the pseudonym (the verification page shows it masked), her
/// volunteer activities lose her name, and her calendar feed is revoked.
pub const ERASE_PERSON: &[&str] = &[
    "UPDATE service_requests SET details = '', note = REPLACE(note, $3, $2) WHERE person_id = $1",
    "UPDATE service_request_events SET note = REPLACE(note, $3, $2) \
     WHERE request_id IN (SELECT id FROM service_requests WHERE person_id = $1)",
    "UPDATE certificates SET person_name = $2 WHERE person_id = $1",
    "UPDATE volunteer_hours SET activity = REPLACE(activity, $3, $2), reason = REPLACE(reason, $3, $2) \
     WHERE person_id = $1",
    "DELETE FROM calendar_feeds WHERE person_id = $1",
];

// ---------------------------------------------------------------- volunteer hours

pub struct HoursWrite<'a> {
    pub person: &'a PersonRow,
    pub activity: &'a str,
    pub served_on: Date,
    pub hours_tenths: i64,
    pub now: OffsetDateTime,
}

pub async fn insert_hours(tx: &mut DbTx, h: &HoursWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO volunteer_hours (person_id, org_id, org_path, activity, served_on, hours_tenths, state, \
        created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(h.person.id).bind(h.person.org_id).bind(&h.person.org_path).bind(h.activity).bind(h.served_on)
        .bind(h.hours_tenths).bind(h.now)
        .fetch_one(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HoursRow {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub activity: String,
    pub served_on: Date,
    pub hours_tenths: i64,
    pub state: String,
    pub reason: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
}

macro_rules! hours_columns {
    () => {
        "SELECT h.id, h.person_id, p.name AS person_name, h.org_id, h.org_path, o.name AS org_name, h.activity, \
         h.served_on, h.hours_tenths, h.state, h.reason, h.decided_at \
         FROM volunteer_hours h JOIN people p ON p.id = h.person_id JOIN orgs o ON o.id = h.org_id "
    };
}

pub async fn get_hours(db: &Db, id: i64) -> Result<Option<HoursRow>, DbError> {
    const SQL: &str = concat!(hours_columns!(), "WHERE h.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// Decides a pending entry (confirmed or rejected); returns whether it was pending.
pub async fn decide_hours(
    tx: &mut DbTx,
    id: i64,
    state: &str,
    reason: Option<&str>,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE volunteer_hours SET state = $2, reason = $3, decided_by = $4, decided_at = $5 \
        WHERE id = $1 AND state = 'pending'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(state).bind(reason).bind(user_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A person's entries served in `[from, to]`, latest first.
pub async fn hours_of_person(
    db: &Db,
    person_id: i64,
    from: Date,
    to: Date,
    limit: i64,
) -> Result<Vec<HoursRow>, DbError> {
    const SQL: &str = concat!(
        hours_columns!(),
        "WHERE h.person_id = $1 AND h.served_on >= $2 AND h.served_on <= $3 ORDER BY h.served_on DESC, h.id DESC LIMIT $4"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(from).bind(to).bind(limit).fetch_all(p).await)?)
}

/// The entries of the subtree `[start, end)` served in `[from, to]`: pending ones first, then latest first.
pub async fn hours_in(
    db: &Db,
    start: &str,
    end: &str,
    from: Date,
    to: Date,
    limit: i64,
) -> Result<Vec<HoursRow>, DbError> {
    const SQL: &str = concat!(
        hours_columns!(),
        "WHERE h.org_path >= $1 AND h.org_path < $2 AND h.served_on >= $3 AND h.served_on <= $4 \
         ORDER BY CASE WHEN h.state = 'pending' THEN 0 ELSE 1 END, h.served_on DESC, h.id DESC LIMIT $5"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(from).bind(to).bind(limit).fetch_all(p).await)?)
}

/// Confirmed hours (in tenths) per person of the subtree `[start, end)` served in `[from, to]`, with the
/// organization each entry was recorded in.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HoursTotalRow {
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_path: String,
    pub tenths: i64,
    pub entries: i64,
}

pub async fn confirmed_totals(
    db: &Db,
    start: &str,
    end: &str,
    from: Date,
    to: Date,
) -> Result<Vec<HoursTotalRow>, DbError> {
    const SQL: &str = "SELECT h.person_id, p.name AS person_name, h.org_id, h.org_path, \
        CAST(SUM(h.hours_tenths) AS BIGINT) AS tenths, CAST(COUNT(*) AS BIGINT) AS entries \
        FROM volunteer_hours h JOIN people p ON p.id = h.person_id \
        WHERE h.org_path >= $1 AND h.org_path < $2 AND h.served_on >= $3 AND h.served_on <= $4 AND h.state = 'confirmed' \
        GROUP BY h.person_id, p.name, h.org_id, h.org_path ORDER BY h.org_path, p.name, h.person_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(from).bind(to).fetch_all(p).await)?)
}

/// Her entries, for her copy.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct HoursOfPerson {
    pub activity: String,
    pub served_on: Date,
    pub hours_tenths: i64,
    pub state: String,
    pub reason: Option<String>,
}

pub async fn volunteer_for_copy(db: &Db, person_id: i64) -> Result<Vec<HoursOfPerson>, DbError> {
    const SQL: &str = "SELECT activity, served_on, hours_tenths, state, reason FROM volunteer_hours \
        WHERE person_id = $1 ORDER BY served_on, id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- calendar feeds

/// Sets a person's feed to the token whose SHA-256 (hex) is `hash`, replacing any earlier one.
pub async fn set_feed(tx: &mut DbTx, person_id: i64, hash: &str, now: OffsetDateTime) -> Result<(), DbError> {
    const DELETE: &str = "DELETE FROM calendar_feeds WHERE person_id = $1";
    const INSERT: &str = "INSERT INTO calendar_feeds (person_id, token_hash, created_at) VALUES ($1, $2, $3)";
    on_tx!(tx, c => sqlx::query(DELETE).bind(person_id).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(INSERT).bind(person_id).bind(hash).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Revokes a person's feed; returns whether she had one.
pub async fn delete_feed(tx: &mut DbTx, person_id: i64) -> Result<bool, DbError> {
    const SQL: &str = "DELETE FROM calendar_feeds WHERE person_id = $1";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(person_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The person whose feed has this token hash.
pub async fn person_of_feed(db: &Db, hash: &str) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT person_id FROM calendar_feeds WHERE token_hash = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(hash).fetch_optional(p).await)?)
}

/// When a person's feed was made, if she has one.
pub async fn feed_created(db: &Db, person_id: i64) -> Result<Option<OffsetDateTime>, DbError> {
    const SQL: &str = "SELECT created_at FROM calendar_feeds WHERE person_id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(person_id).fetch_optional(p).await)?)
}

/// A meeting in a person's calendar.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FeedMeeting {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub held_on: Date,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub status: String,
    pub org_name: String,
    pub updated_at: OffsetDateTime,
}

/// The meetings a person is invited to held on `from` or later (cancelled ones too, so a calendar drops them),
/// soonest first.
pub async fn feed_meetings(db: &Db, person_id: i64, from: Date, limit: i64) -> Result<Vec<FeedMeeting>, DbError> {
    const SQL: &str = "SELECT m.id, m.kind, m.title, m.held_on, m.start_time, m.place, m.online_link, m.status, \
        o.name AS org_name, m.updated_at FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id \
        JOIN orgs o ON o.id = m.org_id WHERE a.person_id = $1 AND m.held_on >= $2 ORDER BY m.held_on, m.id LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(from).bind(limit).fetch_all(p).await)?)
}

/// Whether any member-service request exists (the demo adds its own only to an empty database).
pub async fn any_request(db: &Db) -> Result<bool, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM (SELECT id FROM service_requests LIMIT 1) AS one";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await)?;
    Ok(n > 0)
}
