//! The only SQL of committees: `committee_terms`, `committee_members`, `committee_elections` and
//! `election_candidates` (migration 0024), and reads of the platform's `people` and `orgs` (names, paths).
//! Every statement is one constant that SQLite and PostgreSQL both run; a subtree is a range of the
//! materialised path.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TermRow {
    pub id: i64,
    pub org_id: i64,
    pub number: i64,
    pub elected_on: Date,
    pub term_years: i64,
    pub due_on: Date,
    pub postponed_to: Option<Date>,
    pub postpone_reason: Option<String>,
    pub postpone_approved_by: Option<String>,
    pub postpone_approved_on: Option<Date>,
    pub ended_on: Option<Date>,
    pub election_id: Option<i64>,
    pub flag: Option<String>,
    pub flagged_on: Option<Date>,
    pub version: i64,
}

macro_rules! term_columns {
    () => {
        "SELECT id, org_id, number, elected_on, term_years, due_on, postponed_to, postpone_reason, \
        postpone_approved_by, postpone_approved_on, ended_on, election_id, flag, flagged_on, version FROM committee_terms "
    };
}

/// The terms of an organization, newest first, at most `limit`.
pub async fn terms(db: &Db, org_id: i64, limit: i64) -> Result<Vec<TermRow>, DbError> {
    const SQL: &str = concat!(term_columns!(), "WHERE org_id = $1 ORDER BY number DESC LIMIT $2");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(org_id).bind(limit).fetch_all(p).await)?)
}

/// The current term (not ended) of an organization, read inside the transaction that changes it.
pub async fn current_term_tx(tx: &mut DbTx, org_id: i64) -> Result<Option<TermRow>, DbError> {
    const SQL: &str = concat!(term_columns!(), "WHERE org_id = $1 AND ended_on IS NULL");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(org_id).fetch_optional(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub term_id: i64,
    pub person_id: i64,
    pub name: String,
    pub post: String,
}

/// The members of every term of an organization, secretary first.
pub async fn members(db: &Db, org_id: i64) -> Result<Vec<MemberRow>, DbError> {
    const SQL: &str = "SELECT m.term_id, m.person_id, p.name, m.post FROM committee_members m \
        JOIN committee_terms t ON t.id = m.term_id JOIN people p ON p.id = m.person_id WHERE t.org_id = $1 \
        ORDER BY m.term_id, CASE m.post WHEN 'secretary' THEN 0 WHEN 'deputy' THEN 1 WHEN 'member' THEN 3 ELSE 2 END, \
        m.person_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(org_id).fetch_all(p).await)?)
}

pub struct TermWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub elected_on: Date,
    pub term_years: i64,
    pub due_on: Date,
    pub election_id: Option<i64>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

/// Opens a term numbered after the organization's last one; returns its id and number.
pub async fn insert_term(tx: &mut DbTx, t: &TermWrite<'_>) -> Result<(i64, i64), DbError> {
    const SQL: &str = "INSERT INTO committee_terms (org_id, org_path, number, elected_on, term_years, due_on, \
        election_id, created_by, version, created_at, updated_at) \
        VALUES ($1, $2, (SELECT COALESCE(MAX(number), 0) + 1 FROM committee_terms WHERE org_id = $1), $3, $4, $5, \
        $6, $7, 1, $8, $8) RETURNING id, number";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL)
        .bind(t.org_id).bind(t.org_path).bind(t.elected_on).bind(t.term_years).bind(t.due_on)
        .bind(t.election_id).bind(t.user_id).bind(t.now)
        .fetch_one(c).await)?)
}

pub async fn add_member(tx: &mut DbTx, term_id: i64, person_id: i64, post: &str) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO committee_members (term_id, person_id, post) VALUES ($1, $2, $3)";
    on_tx!(tx, c => sqlx::query(SQL).bind(term_id).bind(person_id).bind(post).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Ends a term on the day the next one began (its reminder flag goes with it).
pub async fn end_term(tx: &mut DbTx, term_id: i64, ended_on: Date, now: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str = "UPDATE committee_terms SET ended_on = $2, flag = NULL, flagged_on = NULL, updated_at = $3, \
        version = version + 1 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(term_id).bind(ended_on).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub struct PostponeWrite<'a> {
    pub postpone_to: Date,
    pub reason: &'a str,
    pub approved_by: &'a str,
    pub approved_on: Date,
    /// The term's status against the new day (the reminder job's flag, set again at once).
    pub flag: Option<&'a str>,
    pub flagged_on: Option<Date>,
    pub now: OffsetDateTime,
}

/// Records an approved postponement on the current term if `version` is still the stored one.
pub async fn postpone(tx: &mut DbTx, term_id: i64, version: i64, w: &PostponeWrite<'_>) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE committee_terms SET postponed_to = $3, postpone_reason = $4, postpone_approved_by = $5, \
        postpone_approved_on = $6, flag = $7, flagged_on = $8, updated_at = $9, version = version + 1 \
        WHERE id = $1 AND version = $2 AND ended_on IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(term_id).bind(version).bind(w.postpone_to).bind(w.reason)
        .bind(w.approved_by).bind(w.approved_on).bind(w.flag).bind(w.flagged_on).bind(w.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub struct ElectionWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub held_on: Date,
    pub entitled: i64,
    pub present: i64,
    pub seats: i64,
    pub findings: &'a str,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_election(tx: &mut DbTx, e: &ElectionWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO committee_elections (org_id, org_path, held_on, entitled, present, seats, findings, \
        created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(e.org_id).bind(e.org_path).bind(e.held_on).bind(e.entitled).bind(e.present).bind(e.seats)
        .bind(e.findings).bind(e.user_id).bind(e.now)
        .fetch_one(c).await)?)
}

pub async fn add_candidate(
    tx: &mut DbTx,
    election_id: i64,
    person_id: i64,
    votes: i64,
    elected: bool,
) -> Result<(), DbError> {
    const SQL: &str =
        "INSERT INTO election_candidates (election_id, person_id, votes, elected) VALUES ($1, $2, $3, $4)";
    on_tx!(tx, c => sqlx::query(SQL).bind(election_id).bind(person_id).bind(votes).bind(elected)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn set_election_term(tx: &mut DbTx, election_id: i64, term_id: i64) -> Result<(), DbError> {
    const SQL: &str = "UPDATE committee_elections SET term_id = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(election_id).bind(term_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ElectionRow {
    pub id: i64,
    pub held_on: Date,
    pub entitled: i64,
    pub present: i64,
    pub seats: i64,
    pub term_id: Option<i64>,
    pub findings: String,
}

/// The elections of an organization, newest first.
pub async fn elections(db: &Db, org_id: i64, limit: i64) -> Result<Vec<ElectionRow>, DbError> {
    const SQL: &str = "SELECT id, held_on, entitled, present, seats, term_id, findings FROM committee_elections \
        WHERE org_id = $1 ORDER BY held_on DESC, id DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(org_id).bind(limit).fetch_all(p).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CandidateRow {
    pub election_id: i64,
    pub person_id: i64,
    pub name: String,
    pub votes: i64,
    pub elected: bool,
}

/// The candidates of every election of an organization, most votes first.
pub async fn candidates(db: &Db, org_id: i64) -> Result<Vec<CandidateRow>, DbError> {
    const SQL: &str = "SELECT c.election_id, c.person_id, p.name, c.votes, c.elected FROM election_candidates c \
        JOIN committee_elections e ON e.id = c.election_id JOIN people p ON p.id = c.person_id WHERE e.org_id = $1 \
        ORDER BY c.election_id, c.votes DESC, c.person_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(org_id).fetch_all(p).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueRow {
    pub id: i64,
    pub due_on: Date,
    pub postponed_to: Option<Date>,
    pub flag: Option<String>,
}

/// The current terms whose election falls due before `before` or that carry a flag (the reminder job's
/// work list: everything it may flag or unflag), at most `limit` after id `after`.
pub async fn terms_to_check(db: &Db, before: Date, after: i64, limit: i64) -> Result<Vec<DueRow>, DbError> {
    const SQL: &str = "SELECT id, due_on, postponed_to, flag FROM committee_terms WHERE ended_on IS NULL AND id > $2 \
        AND (COALESCE(postponed_to, due_on) < $1 OR flag IS NOT NULL) ORDER BY id LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(before).bind(after).bind(limit).fetch_all(p).await)?)
}

/// Sets (or clears) the reminder flag of a term; a flag found again keeps the day it was first found.
pub async fn set_flag(tx: &mut DbTx, term_id: i64, flag: Option<&str>, on: Date) -> Result<(), DbError> {
    const SQL: &str = "UPDATE committee_terms SET flag = $2, \
        flagged_on = CASE WHEN $2 IS NULL THEN NULL WHEN flag = $2 THEN flagged_on ELSE $3 END WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(term_id).bind(flag).bind(on).execute(c).await.map(|_| ()))?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FlaggedRow {
    pub org_id: i64,
    pub org_name: String,
    pub term_id: i64,
    pub number: i64,
    pub due_on: Date,
    pub postponed_to: Option<Date>,
    pub flag: String,
    pub flagged_on: Option<Date>,
}

/// The flagged current terms of the subtree `[start, end)`, overdue first then by due day, at most `limit`.
pub async fn flagged(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<FlaggedRow>, DbError> {
    const SQL: &str = "SELECT t.org_id, o.name AS org_name, t.id AS term_id, t.number, t.due_on, t.postponed_to, \
        t.flag, t.flagged_on FROM committee_terms t JOIN orgs o ON o.id = t.org_id \
        WHERE t.org_path >= $1 AND t.org_path < $2 AND t.ended_on IS NULL AND t.flag IS NOT NULL \
        ORDER BY CASE t.flag WHEN 'overdue' THEN 0 ELSE 1 END, COALESCE(t.postponed_to, t.due_on), t.org_path \
        LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// The terms a person served on and the elections she stood in, for her copy of her data.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct ServedRow {
    pub org_name: String,
    pub number: i64,
    pub elected_on: Date,
    pub ended_on: Option<Date>,
    pub post: String,
}

pub async fn terms_of_person(db: &Db, person_id: i64) -> Result<Vec<ServedRow>, DbError> {
    const SQL: &str = "SELECT o.name AS org_name, t.number, t.elected_on, t.ended_on, m.post \
        FROM committee_members m JOIN committee_terms t ON t.id = m.term_id JOIN orgs o ON o.id = t.org_id \
        WHERE m.person_id = $1 ORDER BY t.elected_on";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct StoodRow {
    pub org_name: String,
    pub held_on: Date,
    pub votes: i64,
    pub elected: bool,
}

pub async fn elections_of_person(db: &Db, person_id: i64) -> Result<Vec<StoodRow>, DbError> {
    const SQL: &str = "SELECT o.name AS org_name, e.held_on, c.votes, c.elected FROM election_candidates c \
        JOIN committee_elections e ON e.id = c.election_id JOIN orgs o ON o.id = e.org_id \
        WHERE c.person_id = $1 ORDER BY e.held_on";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// The members of a term with their post codes, inside the transaction that replaces it.
pub async fn term_members_tx(tx: &mut DbTx, term_id: i64) -> Result<Vec<(i64, String)>, DbError> {
    const SQL: &str = "SELECT person_id, post FROM committee_members WHERE term_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(term_id).fetch_all(c).await)?)
}

/// Writes the register's 党内职务 (`people.party_post`) for a new term: the members of the ended term who are
/// not on the new one lose the post only while it is still the one this term gave them (a post typed by
/// hand since is kept); the new members get theirs. Returns how many people changed.
pub async fn set_party_posts(
    tx: &mut DbTx,
    leaving: &[(i64, String)],
    arriving: &[(i64, String)],
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    const CLEAR: &str = "UPDATE people SET party_post = NULL, version = version + 1, updated_at = $3 \
        WHERE id = $1 AND party_post = $2";
    const SET: &str = "UPDATE people SET party_post = $2, version = version + 1, updated_at = $3 \
        WHERE id = $1 AND (party_post IS NULL OR party_post <> $2)";
    let mut changed = 0;
    for (sql, rows) in [(CLEAR, leaving), (SET, arriving)] {
        for (id, post) in rows {
            changed += on_tx!(tx, c => sqlx::query(sql).bind(id).bind(post).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        }
    }
    Ok(changed)
}
