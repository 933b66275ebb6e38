//! The SQL of question banks, questions, exams and attempts. Who may read a bank or an exam is part of
//! the list queries ([`Reach`], the same condition as materials: the table is aliased `m`). Reads the
//! platform's `people` (name, organization path) and `orgs` (name) for results.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

use crate::store::{Reach, bind_reach, json_ranges, json_strings, pg_reach, sqlite_reach};

// ---------------------------------------------------------------- banks

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BankRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub title: String,
    pub description: String,
    pub stages: Option<String>,
    pub questions: i64,
    pub created_at: OffsetDateTime,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_bank(
    tx: &mut DbTx,
    org_id: i64,
    org_path: &str,
    title: &str,
    description: &str,
    stages: Option<&str>,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO question_banks (org_id, org_path, title, description, stages, created_by, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(org_id).bind(org_path).bind(title).bind(description).bind(stages)
        .bind(user_id).bind(now).fetch_one(c).await)?)
}

macro_rules! bank_columns {
    () => {
        "SELECT m.id, m.org_id, m.org_path, o.name AS org_name, m.title, m.description, m.stages, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM questions q WHERE q.bank_id = m.id AND q.active) AS questions, m.created_at \
         FROM question_banks m JOIN orgs o ON o.id = m.org_id WHERE "
    };
}

pub async fn get_bank(db: &Db, id: i64) -> Result<Option<BankRow>, DbError> {
    const SQL: &str = concat!(bank_columns!(), "m.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// The banks in reach (as materials: published at or above the caller's organizations, or in a managed
/// subtree), latest first.
pub async fn list_banks(db: &Db, reach: &Reach, limit: i64) -> Result<Vec<BankRow>, DbError> {
    const SQLITE: &str = concat!(bank_columns!(), sqlite_reach!(), " ORDER BY m.created_at DESC, m.id DESC LIMIT $5");
    const PG: &str = concat!(bank_columns!(), pg_reach!(), " ORDER BY m.created_at DESC, m.id DESC LIMIT $6");
    Ok(match db {
        Db::Sqlite(p) => bind_reach!(sqlite, sqlx::query_as(SQLITE), reach).bind(limit).fetch_all(p).await?,
        Db::Postgres(p) => bind_reach!(pg, sqlx::query_as(PG), reach).bind(limit).fetch_all(p).await?,
    })
}

// ---------------------------------------------------------------- questions

pub struct QuestionWrite<'a> {
    pub kind: &'a str,
    pub stem: &'a str,
    pub options: &'a str,
    pub answer: &'a str,
    pub explanation: &'a str,
    pub tags: &'a str,
    pub difficulty: i64,
}

pub async fn insert_question(
    tx: &mut DbTx,
    bank_id: i64,
    q: &QuestionWrite<'_>,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO questions (bank_id, kind, stem, options, answer, explanation, tags, difficulty, active, created_by, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(bank_id).bind(q.kind).bind(q.stem).bind(q.options).bind(q.answer)
        .bind(q.explanation).bind(q.tags).bind(q.difficulty).bind(user_id).bind(now).fetch_one(c).await)?)
}

pub async fn update_question(tx: &mut DbTx, id: i64, q: &QuestionWrite<'_>) -> Result<(), DbError> {
    const SQL: &str = "UPDATE questions SET kind = $2, stem = $3, options = $4, answer = $5, explanation = $6, tags = $7, \
        difficulty = $8 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(q.kind).bind(q.stem).bind(q.options).bind(q.answer)
        .bind(q.explanation).bind(q.tags).bind(q.difficulty).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn retire_question(tx: &mut DbTx, id: i64) -> Result<(), DbError> {
    const SQL: &str = "UPDATE questions SET active = FALSE WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QuestionRow {
    pub id: i64,
    pub bank_id: i64,
    pub kind: String,
    pub stem: String,
    pub options: String,
    pub answer: String,
    pub explanation: String,
    pub tags: String,
    pub difficulty: i64,
    pub active: bool,
}

pub async fn get_question(db: &Db, id: i64) -> Result<Option<QuestionRow>, DbError> {
    const SQL: &str = "SELECT id, bank_id, kind, stem, options, answer, explanation, tags, difficulty, active \
        FROM questions WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// A bank's questions, active first, in the order written.
pub async fn questions_of(db: &Db, bank_id: i64) -> Result<Vec<QuestionRow>, DbError> {
    const SQL: &str = "SELECT id, bank_id, kind, stem, options, answer, explanation, tags, difficulty, active \
        FROM questions WHERE bank_id = $1 ORDER BY active DESC, id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(bank_id).fetch_all(p).await)?)
}

/// Whether a question was ever drawn into an attempt (then it is never changed).
pub async fn question_used(db: &Db, id: i64) -> Result<bool, DbError> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM attempt_items WHERE question_id = $1)";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_one(p).await)?)
}

/// Id, tags and difficulty of a bank's active questions: what a paper is drawn from.
pub async fn drawable(db: &Db, bank_id: i64) -> Result<Vec<(i64, String, i64)>, DbError> {
    const SQL: &str = "SELECT id, tags, difficulty FROM questions WHERE bank_id = $1 AND active ORDER BY id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(bank_id).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- exams

pub struct ExamWrite<'a> {
    pub bank_id: i64,
    pub org_id: i64,
    pub org_path: &'a str,
    pub title: &'a str,
    pub mode: &'a str,
    pub tag: Option<&'a str>,
    pub difficulty: Option<i64>,
    pub question_count: i64,
    pub time_limit_min: Option<i64>,
    pub max_attempts: Option<i64>,
    pub pass_percent: i64,
    pub stages: Option<&'a str>,
    pub opens_at: Option<OffsetDateTime>,
    pub closes_at: Option<OffsetDateTime>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_exam(tx: &mut DbTx, e: &ExamWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO exams (bank_id, org_id, org_path, title, mode, tag, difficulty, question_count, time_limit_min, \
        max_attempts, pass_percent, stages, opens_at, closes_at, created_by, created_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(SQL).bind(e.bank_id).bind(e.org_id).bind(e.org_path).bind(e.title).bind(e.mode)
        .bind(e.tag).bind(e.difficulty).bind(e.question_count).bind(e.time_limit_min).bind(e.max_attempts)
        .bind(e.pass_percent).bind(e.stages).bind(e.opens_at).bind(e.closes_at).bind(e.user_id).bind(e.now)
        .fetch_one(c).await)?,
    )
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExamRow {
    pub id: i64,
    pub bank_id: i64,
    pub bank_title: String,
    pub bank_path: String,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub title: String,
    pub mode: String,
    pub tag: Option<String>,
    pub difficulty: Option<i64>,
    pub question_count: i64,
    pub time_limit_min: Option<i64>,
    pub max_attempts: Option<i64>,
    pub pass_percent: i64,
    pub stages: Option<String>,
    pub opens_at: Option<OffsetDateTime>,
    pub closes_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

macro_rules! exam_columns {
    () => {
        "SELECT m.id, m.bank_id, b.title AS bank_title, b.org_path AS bank_path, m.org_id, m.org_path, o.name AS org_name, \
         m.title, m.mode, m.tag, m.difficulty, m.question_count, m.time_limit_min, m.max_attempts, m.pass_percent, m.stages, \
         m.opens_at, m.closes_at, m.created_at \
         FROM exams m JOIN question_banks b ON b.id = m.bank_id JOIN orgs o ON o.id = m.org_id WHERE "
    };
}

pub async fn get_exam(db: &Db, id: i64) -> Result<Option<ExamRow>, DbError> {
    const SQL: &str = concat!(exam_columns!(), "m.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// The exams in reach, latest first. The stage filter of a person's own audience is applied by the
/// reach (as materials).
pub async fn list_exams(db: &Db, reach: &Reach, limit: i64) -> Result<Vec<ExamRow>, DbError> {
    const SQLITE: &str = concat!(exam_columns!(), sqlite_reach!(), " ORDER BY m.created_at DESC, m.id DESC LIMIT $5");
    const PG: &str = concat!(exam_columns!(), pg_reach!(), " ORDER BY m.created_at DESC, m.id DESC LIMIT $6");
    Ok(match db {
        Db::Sqlite(p) => bind_reach!(sqlite, sqlx::query_as(SQLITE), reach).bind(limit).fetch_all(p).await?,
        Db::Postgres(p) => bind_reach!(pg, sqlx::query_as(PG), reach).bind(limit).fetch_all(p).await?,
    })
}

// ---------------------------------------------------------------- attempts

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub exam_id: i64,
    pub person_id: i64,
    pub number: i64,
    pub seed: i64,
    pub started_at: OffsetDateTime,
    pub deadline_at: Option<OffsetDateTime>,
    pub submitted_at: Option<OffsetDateTime>,
    pub earned: Option<i64>,
    pub possible: i64,
    pub percent: Option<i64>,
    pub passed: Option<bool>,
    pub late: bool,
}

macro_rules! attempt_columns {
    () => {
        "SELECT id, exam_id, person_id, number, seed, started_at, deadline_at, submitted_at, earned, possible, percent, \
         passed, late FROM exam_attempts WHERE "
    };
}

pub async fn get_attempt(db: &Db, id: i64) -> Result<Option<AttemptRow>, DbError> {
    const SQL: &str = concat!(attempt_columns!(), "id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// A person's attempts at an exam, latest first.
pub async fn attempts_of(db: &Db, exam_id: i64, person_id: i64) -> Result<Vec<AttemptRow>, DbError> {
    const SQL: &str = concat!(attempt_columns!(), "exam_id = $1 AND person_id = $2 ORDER BY number DESC");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(exam_id).bind(person_id).fetch_all(p).await)?)
}

pub struct AttemptWrite {
    pub exam_id: i64,
    pub person_id: i64,
    pub number: i64,
    pub seed: i64,
    pub started_at: OffsetDateTime,
    pub deadline_at: Option<OffsetDateTime>,
    pub possible: i64,
}

/// Inserts an attempt; a second start of the same number at the same moment fails on the unique key.
pub async fn insert_attempt(tx: &mut DbTx, a: &AttemptWrite) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO exam_attempts (exam_id, person_id, number, seed, started_at, deadline_at, possible, late) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(a.exam_id).bind(a.person_id).bind(a.number).bind(a.seed)
        .bind(a.started_at).bind(a.deadline_at).bind(a.possible).fetch_one(c).await)?)
}

/// An attempt's questions, at positions 1, 2, … in the order given, in one statement (an exam start is
/// one of a burst of thousands: AT-35).
pub async fn insert_items(tx: &mut DbTx, attempt_id: i64, question_ids: &[i64]) -> Result<(), DbError> {
    const PG: &str = "INSERT INTO attempt_items (attempt_id, position, question_id) \
        SELECT $1, t.position, t.question_id FROM UNNEST($2::BIGINT[]) WITH ORDINALITY AS t(question_id, position)";
    const SQLITE: &str = "INSERT INTO attempt_items (attempt_id, position, question_id) \
        SELECT $1, key + 1, value FROM json_each($2)";
    match tx {
        DbTx::Postgres(t) => {
            sqlx::query(PG).bind(attempt_id).bind(question_ids).execute(&mut **t).await?;
        }
        DbTx::Sqlite(t) => {
            let ids = serde_json::to_string(question_ids).unwrap_or_else(|_| "[]".into());
            sqlx::query(SQLITE).bind(attempt_id).bind(ids).execute(&mut **t).await?;
        }
    }
    Ok(())
}

/// One question of an attempt with the question itself.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ItemRow {
    pub position: i64,
    pub question_id: i64,
    pub answer: Option<String>,
    pub earned: Option<i64>,
    pub checked_at: Option<OffsetDateTime>,
    pub kind: String,
    pub stem: String,
    pub options: String,
    pub key: String,
    pub explanation: String,
}

pub async fn items_of(db: &Db, attempt_id: i64) -> Result<Vec<ItemRow>, DbError> {
    const SQL: &str = "SELECT i.position, i.question_id, i.answer, i.earned, i.checked_at, q.kind, q.stem, q.options, \
        q.answer AS key, q.explanation FROM attempt_items i JOIN questions q ON q.id = i.question_id \
        WHERE i.attempt_id = $1 ORDER BY i.position";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(attempt_id).fetch_all(p).await)?)
}

/// Saves the answer of one item (not yet graded).
pub async fn save_answer(tx: &mut DbTx, attempt_id: i64, position: i64, answer: &str) -> Result<(), DbError> {
    const SQL: &str =
        "UPDATE attempt_items SET answer = $3 WHERE attempt_id = $1 AND position = $2 AND checked_at IS NULL";
    on_tx!(tx, c => sqlx::query(SQL).bind(attempt_id).bind(position).bind(answer).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Grades one item (at submission, or a practice check: only if not checked yet). Returns whether it
/// changed.
/// One graded question of [`grade_items`]: its position, the answer kept and the points earned.
pub struct Grade {
    pub position: i64,
    pub answer: String,
    pub earned: i64,
}

/// Grades the questions not yet checked, in one statement (a submission is one of a burst: AT-35).
pub async fn grade_items(tx: &mut DbTx, attempt_id: i64, grades: &[Grade], now: OffsetDateTime) -> Result<(), DbError> {
    if grades.is_empty() {
        return Ok(());
    }
    const PG: &str = "UPDATE attempt_items i SET answer = g.answer, earned = g.earned, checked_at = $2 \
        FROM UNNEST($3::BIGINT[], $4::TEXT[], $5::BIGINT[]) AS g(position, answer, earned) \
        WHERE i.attempt_id = $1 AND i.position = g.position AND i.checked_at IS NULL";
    const SQLITE: &str = "UPDATE attempt_items SET answer = json_extract(g.value, '$[1]'), \
        earned = json_extract(g.value, '$[2]'), checked_at = $2 \
        FROM json_each($3) AS g \
        WHERE attempt_items.attempt_id = $1 AND attempt_items.position = json_extract(g.value, '$[0]') \
        AND attempt_items.checked_at IS NULL";
    match tx {
        DbTx::Postgres(t) => {
            let positions: Vec<i64> = grades.iter().map(|g| g.position).collect();
            let answers: Vec<&str> = grades.iter().map(|g| g.answer.as_str()).collect();
            let earned: Vec<i64> = grades.iter().map(|g| g.earned).collect();
            sqlx::query(PG)
                .bind(attempt_id)
                .bind(now)
                .bind(positions)
                .bind(answers)
                .bind(earned)
                .execute(&mut **t)
                .await?;
        }
        DbTx::Sqlite(t) => {
            let rows: Vec<(i64, &str, i64)> =
                grades.iter().map(|g| (g.position, g.answer.as_str(), g.earned)).collect();
            let rows = serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into());
            sqlx::query(SQLITE).bind(attempt_id).bind(now).bind(rows).execute(&mut **t).await?;
        }
    }
    Ok(())
}

pub async fn grade_item(
    tx: &mut DbTx,
    attempt_id: i64,
    position: i64,
    answer: Option<&str>,
    earned: i64,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE attempt_items SET answer = COALESCE($3, answer), earned = $4, checked_at = $5 \
        WHERE attempt_id = $1 AND position = $2 AND checked_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(attempt_id).bind(position).bind(answer).bind(earned).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Closes an attempt with its score, only if still open; false if another request closed it first.
#[allow(clippy::too_many_arguments)]
pub async fn close_attempt(
    tx: &mut DbTx,
    id: i64,
    submitted_at: OffsetDateTime,
    earned: i64,
    percent: i64,
    passed: bool,
    late: bool,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE exam_attempts SET submitted_at = $2, earned = $3, percent = $4, passed = $5, late = $6 \
        WHERE id = $1 AND submitted_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(submitted_at).bind(earned).bind(percent).bind(passed).bind(late)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Per person of the ranges (`[start, end)` pairs) who submitted the exam: attempts and best percentage.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ResultRow {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub attempts: i64,
    pub best: Option<i64>,
}

pub async fn results(db: &Db, exam_id: i64, starts: &[String], ends: &[String]) -> Result<Vec<ResultRow>, DbError> {
    const SQLITE: &str = "SELECT a.person_id, p.name, o.name AS org_name, CAST(COUNT(*) AS BIGINT) AS attempts, MAX(a.percent) AS best \
        FROM exam_attempts a JOIN people p ON p.id = a.person_id JOIN orgs o ON o.id = p.org_id \
        WHERE a.exam_id = $1 AND a.submitted_at IS NOT NULL \
          AND EXISTS (SELECT 1 FROM json_each($2) r WHERE p.org_path >= json_extract(r.value, '$[0]') AND p.org_path < json_extract(r.value, '$[1]')) \
        GROUP BY a.person_id, p.name, o.name, p.org_path ORDER BY p.org_path, p.name LIMIT 5000";
    const PG: &str = "SELECT a.person_id, p.name, o.name AS org_name, CAST(COUNT(*) AS BIGINT) AS attempts, MAX(a.percent) AS best \
        FROM exam_attempts a JOIN people p ON p.id = a.person_id JOIN orgs o ON o.id = p.org_id \
        WHERE a.exam_id = $1 AND a.submitted_at IS NOT NULL \
          AND EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS r(s, e) WHERE p.org_path >= r.s AND p.org_path < r.e) \
        GROUP BY a.person_id, p.name, o.name, p.org_path ORDER BY p.org_path, p.name LIMIT 5000";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(exam_id).bind(json_ranges(starts, ends)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(exam_id).bind(starts).bind(ends).fetch_all(p).await?,
    })
}

/// Per question of a bank: graded answers of exam-mode attempts, and how many earned full credit.
pub async fn question_counts(db: &Db, bank_id: i64) -> Result<Vec<(i64, i64, i64)>, DbError> {
    const SQL: &str = "SELECT i.question_id, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN i.earned = 100 THEN 1 ELSE 0 END) AS BIGINT) \
        FROM attempt_items i JOIN questions q ON q.id = i.question_id JOIN exam_attempts a ON a.id = i.attempt_id \
        JOIN exams e ON e.id = a.exam_id \
        WHERE q.bank_id = $1 AND a.submitted_at IS NOT NULL AND e.mode = 'exam' GROUP BY i.question_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(bank_id).fetch_all(p).await)?)
}

/// Per question of a bank: the answers without full credit and how often each was given.
pub async fn wrong_answers(db: &Db, bank_id: i64) -> Result<Vec<(i64, String, i64)>, DbError> {
    const SQL: &str = "SELECT i.question_id, COALESCE(i.answer, '[]'), CAST(COUNT(*) AS BIGINT) \
        FROM attempt_items i JOIN questions q ON q.id = i.question_id JOIN exam_attempts a ON a.id = i.attempt_id \
        JOIN exams e ON e.id = a.exam_id \
        WHERE q.bank_id = $1 AND a.submitted_at IS NOT NULL AND e.mode = 'exam' AND i.earned < 100 \
        GROUP BY i.question_id, COALESCE(i.answer, '[]') ORDER BY i.question_id, 3 DESC";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(bank_id).fetch_all(p).await)?)
}

/// A person's submitted exam-mode attempts (for her portrait), oldest first.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct PersonAttemptRow {
    pub exam_id: i64,
    pub title: String,
    pub mode: String,
    pub number: i64,
    pub started_at: OffsetDateTime,
    pub submitted_at: Option<OffsetDateTime>,
    pub percent: Option<i64>,
    pub passed: Option<bool>,
}

pub async fn attempts_of_person(db: &Db, person_id: i64, limit: i64) -> Result<Vec<PersonAttemptRow>, DbError> {
    const SQL: &str = "SELECT a.exam_id, e.title, e.mode, a.number, a.started_at, a.submitted_at, a.percent, a.passed \
        FROM exam_attempts a JOIN exams e ON e.id = a.exam_id WHERE a.person_id = $1 \
        ORDER BY a.started_at DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(limit).fetch_all(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: her attempts and answers are removed.
pub const ERASE_PERSON: &[&str] = &[
    "DELETE FROM attempt_items WHERE attempt_id IN (SELECT id FROM exam_attempts WHERE person_id = $1)",
    "DELETE FROM exam_attempts WHERE person_id = $1",
];
