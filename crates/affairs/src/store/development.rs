//! The development pipeline's SQL: its steps, the people responsible for them, the
//! maintained to-do list and the rule-version setting (migration 0011). It also reads the platform's
//! `people` (id, name, path, stage, stage dates, status — never a sealed item) and `orgs` (name), and
//! updates a person's stage and stage dates when a step changes them.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::json_ids;

/// A recorded step as a member's copy of her data shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct StepCopyRow {
    pub step: String,
    pub done_on: Date,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub reason: Option<String>,
    pub rule_set: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The steps recorded about a person, in the order they happened.
pub async fn steps_for_copy(db: &Db, person_id: i64) -> Result<Vec<StepCopyRow>, DbError> {
    const SQL: &str = "SELECT step, done_on, outcome, notes, reason, rule_set, created_at FROM development_steps \
        WHERE person_id = $1 ORDER BY done_on, id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// The steps of other people for which a person was named responsible (talker, contact, introducer):
/// `(role, step, done_on)` — the other person's name is not part of her copy.
pub async fn responsibilities_for_copy(db: &Db, person_id: i64) -> Result<Vec<(String, String, Date)>, DbError> {
    const SQL: &str = "SELECT r.role, s.step, s.done_on FROM development_step_people r JOIN development_steps s ON s.id = r.step_id \
        WHERE r.person_id = $1 ORDER BY s.done_on, s.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// A person's next due step as last computed: `(step, due_on, note)`.
pub async fn due_for_copy(db: &Db, person_id: i64) -> Result<Option<(String, Date, String)>, DbError> {
    const SQL: &str = "SELECT step, due_on, note FROM development_due WHERE person_id = $1 AND step <> ''";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_optional(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: her development steps stay (membership history, domain.md ARC) with
/// their dates, votes and structured items, their free text (notes, reasons) goes; in the steps of others
/// she was responsible for, her name `$3` in the notes becomes the pseudonym `$2`.
pub const ERASE_PERSON: &[&str] = &[
    "UPDATE development_steps SET notes = NULL, reason = NULL WHERE person_id = $1",
    "UPDATE development_steps SET notes = REPLACE(notes, $3, $2), reason = REPLACE(reason, $3, $2) \
     WHERE id IN (SELECT step_id FROM development_step_people WHERE person_id = $1)",
];

// ---------------------------------------------------------------- the pipeline

/// A recorded step as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StepRow {
    pub id: i64,
    pub person_id: i64,
    pub step: String,
    pub done_on: Date,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub reason: Option<String>,
    pub findings: String,
    pub detail: String,
    pub rule_set: String,
    pub vote_eligible: Option<i64>,
    pub vote_present: Option<i64>,
    pub vote_for: Option<i64>,
    pub vote_against: Option<i64>,
    pub vote_abstain: Option<i64>,
    pub vote_written_for: Option<i64>,
    pub vote_probationary: Option<i64>,
    pub recorded_by: Option<i64>,
    pub created_at: OffsetDateTime,
}

macro_rules! step_select {
    () => {
        "SELECT id, person_id, step, done_on, outcome, notes, reason, findings, detail, rule_set, vote_eligible, \
         vote_present, vote_for, vote_against, vote_abstain, vote_written_for, vote_probationary, recorded_by, created_at \
         FROM development_steps "
    };
}

/// The steps of the people `ids`, each person's in the order they happened.
pub async fn steps_of(db: &Db, ids: &[i64]) -> Result<Vec<StepRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str =
        concat!(step_select!(), "WHERE person_id IN (SELECT value FROM json_each($1)) ORDER BY person_id, done_on, id");
    const PG: &str = concat!(step_select!(), "WHERE person_id = ANY($1) ORDER BY person_id, done_on, id");
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(ids).fetch_all(p).await?,
    })
}

/// One person's steps inside a transaction (the check of a new step reads what the write will follow).
pub async fn steps_of_tx(tx: &mut DbTx, person_id: i64) -> Result<Vec<StepRow>, DbError> {
    const SQL: &str = concat!(step_select!(), "WHERE person_id = $1 ORDER BY done_on, id");
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(person_id).fetch_all(c).await)?)
}

/// A step as written.
pub struct StepWrite<'a> {
    pub person_id: i64,
    pub step: &'a str,
    pub done_on: Date,
    pub outcome: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub findings: &'a str,
    pub detail: &'a str,
    pub rule_set: &'a str,
    /// eligible, present, for, against, abstain, written for, probationary
    pub vote: Option<[i64; 7]>,
    pub recorded_by: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_step(tx: &mut DbTx, s: &StepWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO development_steps (person_id, step, done_on, outcome, notes, reason, findings, detail, rule_set, \
        vote_eligible, vote_present, vote_for, vote_against, vote_abstain, vote_written_for, vote_probationary, recorded_by, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id";
    let v = |i: usize| s.vote.map(|v| v[i]);
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(s.person_id).bind(s.step).bind(s.done_on).bind(s.outcome).bind(s.notes).bind(s.reason).bind(s.findings)
        .bind(s.detail).bind(s.rule_set).bind(v(0)).bind(v(1)).bind(v(2)).bind(v(3)).bind(v(4)).bind(v(5)).bind(v(6))
        .bind(s.recorded_by).bind(s.now)
        .fetch_one(c).await)?)
}

/// Names a person responsible for a step (`talker`, `contact`, `introducer`).
pub async fn insert_step_person(tx: &mut DbTx, step_id: i64, role: &str, person_id: i64) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO development_step_people (step_id, role, person_id) VALUES ($1, $2, $3)";
    on_tx!(tx, c => sqlx::query(SQL).bind(step_id).bind(role).bind(person_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The people responsible for the steps of the person `$1`: `(step_id, role, person_id, name)`.
pub async fn step_people(db: &Db, person_id: i64) -> Result<Vec<(i64, String, i64, String)>, DbError> {
    const SQL: &str = "SELECT r.step_id, r.role, r.person_id, p.name FROM development_step_people r \
        JOIN development_steps s ON s.id = r.step_id JOIN people p ON p.id = r.person_id \
        WHERE s.person_id = $1 ORDER BY r.step_id, r.role, r.person_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// Whether the step `$2` belongs to the person `$1`.
pub async fn step_of_person(db: &Db, person_id: i64, step_id: i64) -> Result<bool, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM development_steps WHERE id = $1 AND person_id = $2";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(step_id).bind(person_id).fetch_one(p).await)?;
    Ok(n == 1)
}

/// Moves a person to `to` and sets the stage date `column` if she is still at `from`; returns whether she
/// was. The trigger of migration 0011 marks her to-do row stale; the caller rewrites it after.
pub async fn set_stage(
    tx: &mut DbTx,
    id: i64,
    (from, to): (&str, &str),
    column: &str,
    on: Date,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    let sql = match column {
        "applied_on" => {
            "UPDATE people SET stage = $1, applied_on = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND stage = $5"
        }
        "activist_on" => {
            "UPDATE people SET stage = $1, activist_on = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND stage = $5"
        }
        "candidate_on" => {
            "UPDATE people SET stage = $1, candidate_on = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND stage = $5"
        }
        "admitted_on" => {
            "UPDATE people SET stage = $1, admitted_on = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND stage = $5"
        }
        "converted_on" => {
            "UPDATE people SET stage = $1, converted_on = $2, version = version + 1, updated_at = $3 WHERE id = $4 AND stage = $5"
        }
        _ => return Ok(false),
    };
    let n = on_tx!(tx, c => sqlx::query(sql).bind(to).bind(on).bind(now).bind(id).bind(from)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A to-do row as written: `(step, rank, due_on, rule, note)`; rank 0 a deadline, 1 allowed from, 2 no date.
pub struct DueWrite<'a> {
    pub step: &'a str,
    pub rank: i64,
    pub due_on: Date,
    pub rule: &'a str,
    pub note: &'a str,
}

/// The date of a to-do row without one.
pub const NO_DATE: Date = time::macros::date!(9999 - 12 - 31);

/// Rewrites a person's to-do row (removes it when she has nothing due), not stale.
pub async fn put_due(
    tx: &mut DbTx,
    person_id: i64,
    due: Option<&DueWrite<'_>>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const DELETE: &str = "DELETE FROM development_due WHERE person_id = $1";
    const UPSERT: &str = "INSERT INTO development_due (person_id, step, rank, due_on, rule, note, stale, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (person_id) DO UPDATE SET step = excluded.step, rank = excluded.rank, \
        due_on = excluded.due_on, rule = excluded.rule, note = excluded.note, stale = excluded.stale, updated_at = excluded.updated_at";
    match due {
        None => on_tx!(tx, c => sqlx::query(DELETE).bind(person_id).execute(c).await.map(|_| ()))?,
        Some(d) => {
            on_tx!(tx, c => sqlx::query(UPSERT).bind(person_id).bind(d.step).bind(d.rank).bind(d.due_on).bind(d.rule)
            .bind(d.note).bind(false).bind(now).execute(c).await.map(|_| ()))?
        }
    }
    Ok(())
}

/// The people of the subtree `[start, end)` whose to-do row is stale, at most `limit`.
pub async fn stale_in(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT d.person_id FROM development_due d JOIN people p ON p.id = d.person_id \
        WHERE d.stale AND p.org_path >= $1 AND p.org_path < $2 ORDER BY d.person_id LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// One line of the to-do list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TodoRow {
    pub person_id: i64,
    pub name: String,
    pub stage: String,
    pub org_id: i64,
    pub org_name: String,
    pub step: String,
    pub rank: i64,
    pub due_on: Date,
    pub rule: String,
    pub note: String,
}

/// The to-do list of the subtree `[start, end)`: people in the pipeline with their next step, the overdue
/// and the nearest deadlines first (rank, date, person), at most `limit`. People whose status ended
/// (deceased, left, transferred out) are not listed.
pub async fn todo(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<TodoRow>, DbError> {
    const SQL: &str = "SELECT d.person_id, p.name, p.stage, p.org_id, o.name AS org_name, d.step, d.rank, d.due_on, d.rule, d.note \
        FROM development_due d JOIN people p ON p.id = d.person_id JOIN orgs o ON o.id = p.org_id \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND d.step <> '' AND p.stage <> 'full' \
        AND p.status NOT IN ('deceased', 'left', 'transferred_out') \
        ORDER BY d.rank, d.due_on, d.person_id LIMIT $3";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// The date from which the 2026 revision judges cases (migration 0011's setting; none by default).
pub async fn revision_2026_from(db: &Db) -> Result<Option<Date>, DbError> {
    const SQL: &str = "SELECT revision_2026_from FROM development_settings WHERE id = 1";
    let row: Option<Option<Date>> = on_db!(db, p => sqlx::query_scalar(SQL).fetch_optional(p).await)?;
    Ok(row.flatten())
}

/// The rule-version setting with who last changed it and when (`None`: never set).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RuleSettingsRow {
    pub revision_2026_from: Option<Date>,
    pub updated_by_name: Option<String>,
    pub updated_at: OffsetDateTime,
}

pub async fn rule_settings(db: &Db) -> Result<Option<RuleSettingsRow>, DbError> {
    const SQL: &str = "SELECT s.revision_2026_from, u.display_name AS updated_by_name, s.updated_at \
        FROM development_settings s LEFT JOIN users u ON u.id = s.updated_by WHERE s.id = 1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).fetch_optional(p).await)?)
}

/// Sets the date from which the 2026 revision judges cases (`None`: never) and marks every person's
/// computed next step stale, so the to-do lists are judged again by the version now in force.
pub async fn set_revision_2026_from(
    tx: &mut DbTx,
    from: Option<Date>,
    by: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const UPSERT: &str = "INSERT INTO development_settings (id, revision_2026_from, updated_by, updated_at) VALUES (1, $1, $2, $3) \
        ON CONFLICT (id) DO UPDATE SET revision_2026_from = excluded.revision_2026_from, updated_by = excluded.updated_by, \
        updated_at = excluded.updated_at";
    const STALE: &str = "UPDATE development_due SET stale = TRUE WHERE NOT stale";
    // Someone with nothing due under one version may have a step due under the other.
    const MISSING: &str = "INSERT INTO development_due (person_id, step, rank, due_on, rule, note, stale, updated_at) \
        SELECT p.id, '', 2, '9999-12-31', '', '', TRUE, $1 FROM people p WHERE p.stage <> 'full' \
        AND NOT EXISTS (SELECT 1 FROM development_due d WHERE d.person_id = p.id)";
    on_tx!(tx, c => sqlx::query(UPSERT).bind(from).bind(by).bind(now).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(STALE).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(MISSING).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The pipeline's facts of a person (no sealed item).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PipelinePerson {
    pub id: i64,
    pub birth_date: Date,
    pub stage: String,
    pub applied_on: Option<Date>,
    pub activist_on: Option<Date>,
    pub candidate_on: Option<Date>,
    pub admitted_on: Option<Date>,
    pub converted_on: Option<Date>,
}

/// The pipeline's facts of the people `ids`.
pub async fn pipeline_people(db: &Db, ids: &[i64]) -> Result<Vec<PipelinePerson>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! cols {
        () => {
            "SELECT id, birth_date, stage, applied_on, activist_on, candidate_on, admitted_on, converted_on FROM people "
        };
    }
    const SQLITE: &str = concat!(cols!(), "WHERE id IN (SELECT value FROM json_each($1))");
    const PG: &str = concat!(cols!(), "WHERE id = ANY($1)");
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(ids).fetch_all(p).await?,
    })
}

/// The working-day calendar's entries `(day, kind)` (`holiday` or `working`), of one year or all, by day.
pub async fn work_calendar(db: &Db, year: Option<i32>) -> Result<Vec<(Date, String)>, DbError> {
    const SQL: &str = "SELECT day, kind FROM work_calendar WHERE $1 IS NULL OR (day >= $2 AND day <= $3) ORDER BY day";
    let (from, to) =
        match year.map(|y| (Date::from_ordinal_date(y, 1), Date::from_calendar_date(y, time::Month::December, 31))) {
            Some((Ok(f), Ok(t))) => (Some(f), Some(t)),
            _ => (None, None),
        };
    let marker = year.map(i64::from);
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(marker).bind(from).bind(to).fetch_all(p).await)?)
}

/// Replaces a year's entries of the working-day calendar and marks every to-do line stale (publicity ends
/// move with it).
pub async fn replace_work_calendar(
    tx: &mut DbTx,
    year: i32,
    entries: &[(Date, &str)],
    by: Option<i64>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const DELETE: &str = "DELETE FROM work_calendar WHERE day >= $1 AND day <= $2";
    const INSERT: &str = "INSERT INTO work_calendar (day, kind, updated_by, updated_at) VALUES ($1, $2, $3, $4)";
    const STALE: &str = "UPDATE development_due SET stale = TRUE WHERE NOT stale";
    let (Ok(from), Ok(to)) =
        (Date::from_ordinal_date(year, 1), Date::from_calendar_date(year, time::Month::December, 31))
    else {
        return Ok(());
    };
    on_tx!(tx, c => sqlx::query(DELETE).bind(from).bind(to).execute(c).await.map(|_| ()))?;
    for (day, kind) in entries {
        on_tx!(tx, c => sqlx::query(INSERT).bind(day).bind(kind).bind(by).bind(now).execute(c).await.map(|_| ()))?;
    }
    on_tx!(tx, c => sqlx::query(STALE).execute(c).await.map(|_| ()))?;
    Ok(())
}
