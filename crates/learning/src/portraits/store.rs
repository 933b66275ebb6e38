//! The only SQL of the portraits: reads of learning's tables and the platform's `people` and `orgs` (paths,
//! names, stages, status; never a sealed item). A subtree is a range of the materialised path.

use kernel::{Db, DbError, on_db};
use time::{Date, OffsetDateTime};

/// Seconds studied per day since `from` — of one person, or of everyone in a subtree.
pub async fn person_days(db: &Db, person_id: i64, from: Date) -> Result<Vec<(Date, i64)>, DbError> {
    const SQL: &str = "SELECT day, seconds FROM learning_daily WHERE person_id = $1 AND day >= $2 ORDER BY day";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(from).fetch_all(p).await)?)
}

pub async fn subtree_days(db: &Db, start: &str, end: &str, from: Date) -> Result<Vec<(Date, i64)>, DbError> {
    const SQL: &str = "SELECT d.day, CAST(SUM(d.seconds) AS BIGINT) FROM learning_daily d JOIN people p ON p.id = d.person_id \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND d.day >= $3 GROUP BY d.day ORDER BY d.day";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(from).fetch_all(p).await)?)
}

/// A person's totals: seconds ever studied, days with study since `since`, materials studied to the end.
pub async fn person_totals(db: &Db, person_id: i64, since: Date) -> Result<(i64, i64, i64), DbError> {
    const SQL: &str = "SELECT \
        CAST(COALESCE((SELECT SUM(seconds) FROM learning_daily WHERE person_id = $1), 0) AS BIGINT), \
        CAST((SELECT COUNT(*) FROM learning_daily WHERE person_id = $1 AND day >= $2 AND seconds > 0) AS BIGINT), \
        CAST((SELECT COUNT(*) FROM learning_progress WHERE person_id = $1 AND completed_at IS NOT NULL) AS BIGINT)";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(since).fetch_one(p).await)?)
}

/// Materials studied to the end per category — of one person (ever), or of a subtree's people since `since`.
pub async fn person_topics(db: &Db, person_id: i64) -> Result<Vec<(String, i64)>, DbError> {
    const SQL: &str = "SELECT m.category, CAST(COUNT(*) AS BIGINT) FROM learning_progress lp JOIN materials m ON m.id = lp.material_id \
        WHERE lp.person_id = $1 AND lp.completed_at IS NOT NULL GROUP BY m.category ORDER BY 2 DESC, m.category";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

pub async fn subtree_topics(
    db: &Db,
    start: &str,
    end: &str,
    since: OffsetDateTime,
) -> Result<Vec<(String, i64)>, DbError> {
    const SQL: &str = "SELECT m.category, CAST(COUNT(*) AS BIGINT) FROM learning_progress lp \
        JOIN materials m ON m.id = lp.material_id JOIN people p ON p.id = lp.person_id \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND lp.completed_at >= $3 GROUP BY m.category ORDER BY 2 DESC, m.category";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(since).fetch_all(p).await)?)
}

/// A person's submitted exam attempts (practice left out), latest first: exam title, percent, passed, when.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub title: String,
    pub percent: i64,
    pub passed: Option<bool>,
    pub submitted_at: OffsetDateTime,
}

pub async fn person_attempts(db: &Db, person_id: i64, limit: i64) -> Result<Vec<AttemptRow>, DbError> {
    const SQL: &str = "SELECT e.title, a.percent, a.passed, a.submitted_at FROM exam_attempts a JOIN exams e ON e.id = a.exam_id \
        WHERE a.person_id = $1 AND a.submitted_at IS NOT NULL AND a.percent IS NOT NULL AND e.mode = 'exam' \
        ORDER BY a.submitted_at DESC, a.id DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(limit).fetch_all(p).await)?)
}

/// Online Party classes a person joined.
pub async fn person_classes(db: &Db, person_id: i64) -> Result<i64, DbError> {
    const SQL: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM party_class_attendance WHERE person_id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(person_id).fetch_one(p).await)?)
}

/// People who take part in learning: everyone in the register but those no longer in it.
macro_rules! present {
    () => {
        "p.status NOT IN ('deceased', 'left', 'transferred_out')"
    };
}

/// Per organization of a subtree: its people, and of them those with study since `since`.
pub async fn subtree_people(
    db: &Db,
    start: &str,
    end: &str,
    since: Date,
) -> Result<Vec<(i64, String, i64, i64)>, DbError> {
    const SQL: &str = concat!(
        "SELECT p.org_id, p.org_path, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM learning_daily d \
         WHERE d.person_id = p.id AND d.day >= $3 AND d.seconds > 0) THEN 1 ELSE 0 END) AS BIGINT) \
         FROM people p WHERE p.org_path >= $1 AND p.org_path < $2 AND ",
        present!(),
        " GROUP BY p.org_id, p.org_path"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(since).fetch_all(p).await)?)
}

/// Required materials (with a due date) that reach a subtree: published at one of `above` (the organization
/// and its ancestors) or inside the subtree; latest due first.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequiredRow {
    pub id: i64,
    pub title: String,
    pub org_path: String,
    pub stages: Option<String>,
    pub required_due: Date,
}

pub async fn required_reaching(
    db: &Db,
    above: &[String],
    start: &str,
    end: &str,
    limit: i64,
) -> Result<Vec<RequiredRow>, DbError> {
    const SQLITE: &str = "SELECT id, title, org_path, stages, required_due FROM materials \
        WHERE required_due IS NOT NULL AND withdrawn_at IS NULL \
        AND (org_path IN (SELECT value FROM json_each($1)) OR (org_path >= $2 AND org_path < $3)) \
        ORDER BY required_due DESC, id DESC LIMIT $4";
    const PG: &str = "SELECT id, title, org_path, stages, required_due FROM materials \
        WHERE required_due IS NOT NULL AND withdrawn_at IS NULL \
        AND (org_path = ANY($1) OR (org_path >= $2 AND org_path < $3)) \
        ORDER BY required_due DESC, id DESC LIMIT $4";
    Ok(match db {
        Db::Sqlite(p) => {
            let list = serde_json::to_string(above).unwrap_or_else(|_| "[]".into());
            sqlx::query_as(SQLITE).bind(list).bind(start).bind(end).bind(limit).fetch_all(p).await?
        }
        Db::Postgres(p) => sqlx::query_as(PG).bind(above).bind(start).bind(end).bind(limit).fetch_all(p).await?,
    })
}

/// Of the people of `[start, end)` (in the material's stages, when it names some), how many it reaches and how
/// many studied it to the end.
pub async fn required_progress(
    db: &Db,
    material_id: i64,
    start: &str,
    end: &str,
    stages: &str,
) -> Result<(i64, i64), DbError> {
    const SQL: &str = concat!(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COUNT(lp.completed_at) AS BIGINT) FROM people p \
         LEFT JOIN learning_progress lp ON lp.person_id = p.id AND lp.material_id = $1 \
         WHERE p.org_path >= $2 AND p.org_path < $3 AND (CAST($4 AS TEXT) = '' OR CAST($4 AS TEXT) LIKE '%,' || p.stage || ',%') AND ",
        present!()
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(material_id).bind(start).bind(end).bind(stages).fetch_one(p).await)?)
}

/// The materials a person studied to the end.
pub async fn completed_ids(db: &Db, person_id: i64) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT material_id FROM learning_progress WHERE person_id = $1 AND completed_at IS NOT NULL";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(person_id).fetch_all(p).await)?)
}
