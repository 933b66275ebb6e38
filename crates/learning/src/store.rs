//! The only SQL of 学习教育. Every statement is a constant; where SQLite and PostgreSQL differ — the search
//! (FTS5 `MATCH` with `bm25()` against `to_tsvector('simple', …) @@ to_tsquery('simple', …)` with `ts_rank`)
//! and list parameters (`json_each` against `= ANY`) — both texts stand side by side.
//!
//! **Who may read** is part of every list and search query, so a page of results is a page of readable
//! results ([`Reach`]): materials published exactly at the person's organization or one of its ancestors
//! (and for her stage), at or above an organization where the caller holds a role, or anywhere inside a
//! subtree she manages.
//!
//! Besides its own tables (`materials`, `learning_progress`, and SQLite's `materials_fts`) this store reads
//! the platform's `people` (organization path only) to count what a branch is studying, and `orgs` (name)
//! for display (docs/ARCHITECTURE.md, cross-part edges).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

use crate::rules::Viewer;

// ---------------------------------------------------------------- reach

/// The readable part of `materials` for one viewer, as query parameters.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// The person's organization and its ancestors (materials for her, at her stage).
    pub person_paths: Vec<String>,
    /// `%,stage,%`, matching a material's `stages` column.
    pub stage_like: String,
    /// Organizations at or above the caller's posts (every stage).
    pub post_paths: Vec<String>,
    /// Managed subtrees as `[start, end)` ranges.
    pub starts: Vec<String>,
    pub ends: Vec<String>,
}

impl Reach {
    pub fn of(v: &Viewer) -> Reach {
        let (starts, ends) =
            v.managed.iter().map(|p| (p.clone(), platform::model::subtree_end(p))).unzip::<_, _, Vec<_>, Vec<_>>();
        Reach {
            person_paths: v.person_paths(),
            stage_like: v.person.as_ref().map(|(_, s)| format!("%,{},%", s.code())).unwrap_or_default(),
            post_paths: v.post_paths(),
            starts,
            ends,
        }
    }
}

impl Reach {
    /// The scope words of this reach (migration 0030, [`crate::text::scope_words`]): a material in reach holds
    /// at least one. `None` when the reach is everything (a manager of the root): then no narrowing.
    pub fn scope_words(&self) -> Option<Vec<String>> {
        if self.starts.iter().any(|s| s == "/") {
            return None;
        }
        let mut words: Vec<String> = Vec::new();
        for p in self.person_paths.iter().chain(&self.post_paths) {
            let w = crate::text::scope_at(p);
            if !words.contains(&w) {
                words.push(w);
            }
        }
        for root in &self.starts {
            if let Some(w) = crate::text::scope_in(root).filter(|w| !words.contains(w)) {
                words.push(w);
            }
        }
        Some(words)
    }
}

pub(crate) fn json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(crate) fn json_strings(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| json_string(s)).collect();
    format!("[{}]", quoted.join(","))
}

pub(crate) fn json_ranges(starts: &[String], ends: &[String]) -> String {
    let pairs: Vec<String> =
        starts.iter().zip(ends).map(|(s, e)| format!("[{},{}]", json_string(s), json_string(e))).collect();
    format!("[{}]", pairs.join(","))
}

/// The readable-material condition on `m`, with the SQLite parameters $1…$4: person paths (JSON), stage
/// pattern, post paths (JSON), managed ranges (JSON pairs).
macro_rules! sqlite_reach {
    () => {
        "((m.org_path IN (SELECT value FROM json_each($1)) AND (m.stages IS NULL OR m.stages LIKE $2)) \
         OR m.org_path IN (SELECT value FROM json_each($3)) \
         OR EXISTS (SELECT 1 FROM json_each($4) r WHERE m.org_path >= json_extract(r.value, '$[0]') \
            AND m.org_path < json_extract(r.value, '$[1]')))"
    };
}

/// The same with the PostgreSQL parameters $1…$5: person paths, stage pattern, post paths, range starts,
/// range ends (text arrays).
macro_rules! pg_reach {
    () => {
        "((m.org_path = ANY($1) AND (m.stages IS NULL OR m.stages LIKE $2)) \
         OR m.org_path = ANY($3) \
         OR EXISTS (SELECT 1 FROM unnest($4::text[], $5::text[]) AS r(s, e) WHERE m.org_path >= r.s AND m.org_path < r.e))"
    };
}

/// Binds the reach parameters of [`sqlite_reach`] / [`pg_reach`] on the query `$q`.
macro_rules! bind_reach {
    (sqlite, $q:expr, $r:expr) => {
        $q.bind(json_strings(&$r.person_paths))
            .bind($r.stage_like.clone())
            .bind(json_strings(&$r.post_paths))
            .bind(json_ranges(&$r.starts, &$r.ends))
    };
    (pg, $q:expr, $r:expr) => {
        $q.bind($r.person_paths.clone())
            .bind($r.stage_like.clone())
            .bind($r.post_paths.clone())
            .bind($r.starts.clone())
            .bind($r.ends.clone())
    };
}

pub(crate) use {bind_reach, pg_reach, sqlite_reach};

// ---------------------------------------------------------------- materials

/// A material's row as written.
pub struct MaterialWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub kind: &'a str,
    pub category: &'a str,
    pub title: &'a str,
    pub body_format: &'a str,
    pub body: &'a str,
    pub url: Option<&'a str>,
    pub tags: &'a str,
    pub stages: Option<&'a str>,
    pub required_due: Option<Date>,
    pub est_seconds: i64,
    pub keywords: &'a str,
    pub search_tokens: &'a str,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

/// Inserts a material; on SQLite the FTS5 index follows by trigger, on PostgreSQL the GIN index by itself.
pub async fn insert_material(tx: &mut DbTx, m: &MaterialWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO materials (org_id, org_path, kind, category, title, body_format, body, url, tags, stages, \
        required_due, est_seconds, keywords, search_tokens, created_by, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(m.org_id).bind(m.org_path).bind(m.kind).bind(m.category).bind(m.title).bind(m.body_format)
        .bind(m.body).bind(m.url).bind(m.tags).bind(m.stages).bind(m.required_due).bind(m.est_seconds)
        .bind(m.keywords).bind(m.search_tokens).bind(m.user_id).bind(m.now)
        .fetch_one(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MaterialRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub kind: String,
    pub category: String,
    pub title: String,
    pub body_format: String,
    pub body: String,
    pub url: Option<String>,
    pub tags: String,
    pub stages: Option<String>,
    pub required_due: Option<Date>,
    pub est_seconds: i64,
    pub keywords: String,
    pub created_at: OffsetDateTime,
    pub version: i64,
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdrawn_reason: Option<String>,
    /// The uploaded PDF it shows (an attachment of owner kind [`MATERIAL_FILES`]), if any.
    pub file_id: Option<i64>,
}

pub async fn get_material(db: &Db, id: i64) -> Result<Option<MaterialRow>, DbError> {
    const SQL: &str = "SELECT m.id, m.org_id, m.org_path, o.name AS org_name, m.kind, m.category, m.title, m.body_format, m.body, \
        m.url, m.tags, m.stages, m.required_due, m.est_seconds, m.keywords, m.created_at, m.version, m.withdrawn_at, \
        m.withdrawn_reason, m.attachment_id AS file_id FROM materials m JOIN orgs o ON o.id = m.org_id WHERE m.id = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// Keeps the material's current text as its version `version` in `material_versions` (before an edit).
pub async fn archive_version(tx: &mut DbTx, id: i64, user_id: Option<i64>, now: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO material_versions (material_id, version, title, body_format, body, url, tags, stages, \
        required_due, est_seconds, attachment_id, replaced_by, replaced_at) SELECT id, version, title, body_format, body, url, \
        tags, stages, required_due, est_seconds, attachment_id, $2, $3 FROM materials WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(user_id).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Replaces the text of the material if it is still at `version` and not withdrawn, raising its version;
/// on SQLite the FTS5 row follows by trigger in the same transaction. Returns whether it was.
pub async fn update_material(tx: &mut DbTx, id: i64, version: i64, m: &MaterialWrite<'_>) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE materials SET kind = $3, category = $4, title = $5, body_format = $6, body = $7, url = $8, \
        tags = $9, stages = $10, required_due = $11, est_seconds = $12, keywords = $13, search_tokens = $14, \
        updated_at = $15, version = version + 1 WHERE id = $1 AND version = $2 AND withdrawn_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL)
        .bind(id).bind(version).bind(m.kind).bind(m.category).bind(m.title).bind(m.body_format).bind(m.body)
        .bind(m.url).bind(m.tags).bind(m.stages).bind(m.required_due).bind(m.est_seconds).bind(m.keywords)
        .bind(m.search_tokens).bind(m.now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The owner kind of a material's uploaded files in the platform's attachment store.
pub const MATERIAL_FILES: &str = "material";

/// Points the material at the uploaded file it shows from now on (in the transaction that stored it).
pub async fn set_material_file(tx: &mut DbTx, id: i64, file_id: i64) -> Result<(), DbError> {
    const SQL: &str = "UPDATE materials SET attachment_id = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(file_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Withdraws the material (once): gone from lists, search and recommendations; the row, its versions and
/// everyone's records stay. Returns whether this call withdrew it.
pub async fn withdraw_material(tx: &mut DbTx, id: i64, reason: &str, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE materials SET withdrawn_at = $2, withdrawn_reason = $3, updated_at = $2 \
        WHERE id = $1 AND withdrawn_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(now).bind(reason)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A replaced version of a material (the text as it was).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub version: i64,
    pub title: String,
    pub body_format: String,
    pub body: String,
    pub url: Option<String>,
    pub tags: String,
    pub file_id: Option<i64>,
    pub replaced_by: Option<String>,
    pub replaced_at: OffsetDateTime,
}

/// The replaced versions of a material, newest first.
pub async fn versions(db: &Db, id: i64) -> Result<Vec<VersionRow>, DbError> {
    const SQL: &str = "SELECT v.version, v.title, v.body_format, v.body, v.url, v.tags, v.attachment_id AS file_id, u.username AS replaced_by, v.replaced_at \
        FROM material_versions v LEFT JOIN users u ON u.id = v.replaced_by WHERE v.material_id = $1 ORDER BY v.version DESC";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_all(p).await)?)
}

/// A line of a list: everything but the body.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: i64,
    pub org_path: String,
    pub org_name: String,
    pub kind: String,
    pub category: String,
    pub title: String,
    pub tags: String,
    pub stages: Option<String>,
    pub required_due: Option<Date>,
    pub est_seconds: i64,
    pub keywords: String,
    pub created_at: OffsetDateTime,
}

macro_rules! summary_columns {
    () => {
        "SELECT m.id, m.org_path, o.name AS org_name, m.kind, m.category, m.title, m.tags, m.stages, m.required_due, \
         m.est_seconds, m.keywords, m.created_at FROM materials m JOIN orgs o ON o.id = m.org_id WHERE "
    };
}

/// The readable materials, latest first, of one category when given, at most `limit`.
pub async fn list_materials(
    db: &Db,
    reach: &Reach,
    category: Option<&str>,
    limit: i64,
) -> Result<Vec<SummaryRow>, DbError> {
    const SQLITE: &str = concat!(
        summary_columns!(),
        sqlite_reach!(),
        " AND m.withdrawn_at IS NULL AND ($5 IS NULL OR m.category = $5) ORDER BY m.created_at DESC, m.id DESC LIMIT $6"
    );
    const PG: &str = concat!(
        summary_columns!(),
        pg_reach!(),
        " AND m.withdrawn_at IS NULL AND ($6::text IS NULL OR m.category = $6) ORDER BY m.created_at DESC, m.id DESC LIMIT $7"
    );
    Ok(match db {
        Db::Sqlite(p) => {
            bind_reach!(sqlite, sqlx::query_as(SQLITE), reach).bind(category).bind(limit).fetch_all(p).await?
        }
        Db::Postgres(p) => bind_reach!(pg, sqlx::query_as(PG), reach).bind(category).bind(limit).fetch_all(p).await?,
    })
}

/// The newest readable materials of a reach that holds no managed subtree (`reach.starts` empty: a member, a
/// secretary, anyone reading by where she is rather than by what she manages), of one category when given, at
/// most `limit`, newest first: the recommender's candidates and such a reader's list. Her organization and its
/// ancestors (`person_paths`, at her stage: `stage_like`) and the organizations at or above her posts
/// (`post_paths`, every stage) are exact paths, so each path's newest are read from the index
/// `materials_subtree (org_path, created_at)` backwards, stopping at `limit`, and merged: a few times `limit`
/// rows whatever the number of materials. (Walking every material newest first and filtering, as
/// [`list_materials`] does, reads on until `limit` of hers turn up — a member reads a few percent of a
/// province's; the scope words of the search index, used before for the candidates, made PostgreSQL fetch and
/// sort every material in her reach: ≈ 6,000 rows and 30 ms at 100,000 materials.)
pub async fn newest_on_paths(
    db: &Db,
    reach: &Reach,
    category: Option<&str>,
    limit: i64,
) -> Result<Vec<SummaryRow>, DbError> {
    const SQLITE: &str = "SELECT m.id, m.org_path, o.name AS org_name, m.kind, m.category, m.title, m.tags, m.stages, \
        m.required_due, m.est_seconds, m.keywords, m.created_at \
        FROM (SELECT path, MIN(staged) AS staged FROM (SELECT value AS path, 1 AS staged FROM json_each($1) \
              UNION ALL SELECT value, 0 FROM json_each($3)) GROUP BY path) j \
        JOIN materials m ON m.id IN (SELECT x.id FROM materials x WHERE x.org_path = j.path AND x.withdrawn_at IS NULL \
            AND (j.staged = 0 OR x.stages IS NULL OR x.stages LIKE $2) AND ($4 IS NULL OR x.category = $4) \
            ORDER BY x.created_at DESC, x.id DESC LIMIT $5) \
        JOIN orgs o ON o.id = m.org_id ORDER BY m.created_at DESC, m.id DESC LIMIT $5";
    const PG: &str = "SELECT m.id, m.org_path, o.name AS org_name, m.kind, m.category, m.title, m.tags, m.stages, \
        m.required_due, m.est_seconds, m.keywords, m.created_at \
        FROM (SELECT path, bool_and(staged) AS staged FROM (SELECT unnest($1::text[]) AS path, true AS staged \
              UNION ALL SELECT unnest($3::text[]), false) s GROUP BY path) p \
        CROSS JOIN LATERAL (SELECT * FROM materials x WHERE x.org_path = p.path AND x.withdrawn_at IS NULL \
            AND (NOT p.staged OR x.stages IS NULL OR x.stages LIKE $2) AND ($4::text IS NULL OR x.category = $4) \
            ORDER BY x.created_at DESC, x.id DESC LIMIT $5) m \
        JOIN orgs o ON o.id = m.org_id ORDER BY m.created_at DESC, m.id DESC LIMIT $5";
    debug_assert!(reach.starts.is_empty(), "a managed subtree is not a list of paths");
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_as(SQLITE)
                .bind(json_strings(&reach.person_paths))
                .bind(&reach.stage_like)
                .bind(json_strings(&reach.post_paths))
                .bind(category)
                .bind(limit)
                .fetch_all(p)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(PG)
                .bind(&reach.person_paths)
                .bind(&reach.stage_like)
                .bind(&reach.post_paths)
                .bind(category)
                .bind(limit)
                .fetch_all(p)
                .await?
        }
    })
}

/// A search hit with what its snippet and its rank are made from.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HitRow {
    pub id: i64,
    pub title: String,
    pub body_format: String,
    pub body: String,
    pub tags: String,
    pub search_tokens: String,
}

/// The newest `window` readable materials matching the segmented query, newest first (the caller ranks
/// them: [`crate::text::rank`]). `fts5` and `tsquery` are the two renderings of one
/// [`crate::text::SearchQuery`], each already narrowed by the reach's scope words ([`Reach::scope_words`]),
/// so the index hands over only materials published where the caller may read; the reach itself is checked
/// here too, which keeps the answer exact (stages, and anything the words do not say).
///
/// Not ranked by `bm25()` / `ts_rank` in SQL: both cost a pass over every material holding the word (FTS5
/// counts each phrase's documents over the whole index), which for a word in 40% of 100,000 materials is
/// hundreds of milliseconds (docs/PERFORMANCE.md). On PostgreSQL the statement is planned with its values
/// (`persistent(false)`), so a rare word takes the GIN index and a common one the primary key backwards.
pub async fn search_materials(
    db: &Db,
    reach: &Reach,
    fts5: &str,
    tsquery: &str,
    window: i64,
) -> Result<Vec<HitRow>, DbError> {
    const SQLITE: &str = concat!(
        "SELECT m.id, m.title, m.body_format, m.body, m.tags, m.search_tokens FROM materials m \
         JOIN (SELECT rowid AS id FROM materials_fts WHERE materials_fts MATCH $5 ORDER BY rowid DESC) f \
         ON f.id = m.id WHERE m.withdrawn_at IS NULL AND ",
        sqlite_reach!(),
        " ORDER BY f.id DESC LIMIT $6"
    );
    const PG: &str = concat!(
        "SELECT m.id, m.title, m.body_format, m.body, m.tags, m.search_tokens FROM materials m \
         WHERE m.search_vector @@ to_tsquery('simple', $6) AND m.withdrawn_at IS NULL AND ",
        pg_reach!(),
        " ORDER BY m.id DESC LIMIT $7"
    );
    Ok(match db {
        Db::Sqlite(p) => {
            bind_reach!(sqlite, sqlx::query_as(SQLITE), reach).bind(fts5).bind(window).fetch_all(p).await?
        }
        Db::Postgres(p) => {
            bind_reach!(pg, sqlx::query_as(PG).persistent(false), reach).bind(tsquery).bind(window).fetch_all(p).await?
        }
    })
}

// ---------------------------------------------------------------- learning progress

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProgressRow {
    pub material_id: i64,
    pub seconds: i64,
    pub last_beat_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
}

pub async fn progress(db: &Db, material_id: i64, person_id: i64) -> Result<Option<ProgressRow>, DbError> {
    const SQL: &str = "SELECT material_id, seconds, last_beat_at, completed_at FROM learning_progress \
        WHERE material_id = $1 AND person_id = $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(material_id).bind(person_id).fetch_optional(p).await)?)
}

/// The first heartbeat of a person on a material: 0 seconds, the clock started. Nothing if a row exists.
pub async fn start_progress(
    db: &Db,
    material_id: i64,
    person_id: i64,
    version: i64,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO learning_progress (material_id, person_id, seconds, first_at, last_beat_at, completed_at, version) \
        VALUES ($1, $2, 0, $3, $3, NULL, $4) ON CONFLICT (material_id, person_id) DO NOTHING";
    on_db!(db, p => sqlx::query(SQL).bind(material_id).bind(person_id).bind(now).bind(version).execute(p).await.map(|_| ()))?;
    Ok(())
}

/// A heartbeat's change of a person's progress.
pub struct Advance {
    pub material_id: i64,
    pub person_id: i64,
    /// `last_beat_at` as read (compared to refuse a concurrent heartbeat of another tab that got there first).
    pub seen_last: OffsetDateTime,
    pub seconds: i64,
    pub completed_at: Option<OffsetDateTime>,
    /// The material's version being read; kept once the material is studied.
    pub version: i64,
    pub now: OffsetDateTime,
}

/// Moves a person's progress from the row read; returns whether it was still that row.
pub async fn advance_progress(tx: &mut DbTx, a: &Advance) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE learning_progress SET seconds = $4, last_beat_at = $5, completed_at = COALESCE(completed_at, $6), \
        version = CASE WHEN completed_at IS NULL THEN $7 ELSE version END \
        WHERE material_id = $1 AND person_id = $2 AND last_beat_at = $3";
    let n = on_tx!(tx, p => sqlx::query(SQL)
        .bind(a.material_id).bind(a.person_id).bind(a.seen_last).bind(a.seconds).bind(a.now).bind(a.completed_at)
        .bind(a.version)
        .execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// [`advance_progress`] and, when it moved the row, [`add_daily`] of `credit` seconds, atomically and on
/// their own: on PostgreSQL one statement (a heartbeat comes every 15 s from every open reading page, and
/// each round trip is a wake-up of the server and of a database backend); on SQLite a short transaction.
pub async fn advance_and_credit(db: &Db, a: &Advance, day: Date, credit: i64) -> Result<bool, DbError> {
    const PG: &str = "WITH moved AS (UPDATE learning_progress SET seconds = $4, last_beat_at = $5, \
            completed_at = COALESCE(completed_at, $6), version = CASE WHEN completed_at IS NULL THEN $7 ELSE version END \
            WHERE material_id = $1 AND person_id = $2 AND last_beat_at = $3 RETURNING person_id), \
        credited AS (INSERT INTO learning_daily (person_id, day, seconds) SELECT person_id, $8, $9 FROM moved WHERE $9 > 0 \
            ON CONFLICT (person_id, day) DO UPDATE SET seconds = learning_daily.seconds + excluded.seconds RETURNING 1) \
        SELECT (SELECT COUNT(*) FROM moved), (SELECT COUNT(*) FROM credited)";
    match db {
        Db::Postgres(p) => {
            let (moved, _): (i64, i64) = sqlx::query_as(PG)
                .bind(a.material_id)
                .bind(a.person_id)
                .bind(a.seen_last)
                .bind(a.seconds)
                .bind(a.now)
                .bind(a.completed_at)
                .bind(a.version)
                .bind(day)
                .bind(credit)
                .fetch_one(p)
                .await?;
            Ok(moved == 1)
        }
        Db::Sqlite(_) => {
            let mut tx = db.begin().await?;
            let moved = advance_progress(&mut tx, a).await?;
            if moved && credit > 0 {
                add_daily(&mut tx, a.person_id, day, credit).await?;
            }
            tx.commit().await?;
            Ok(moved)
        }
    }
}

/// Adds credited seconds to a person's day (learning portraits).
pub async fn add_daily(tx: &mut DbTx, person_id: i64, day: Date, seconds: i64) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO learning_daily (person_id, day, seconds) VALUES ($1, $2, $3) \
        ON CONFLICT (person_id, day) DO UPDATE SET seconds = learning_daily.seconds + excluded.seconds";
    on_tx!(tx, c => sqlx::query(SQL).bind(person_id).bind(day).bind(seconds).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// A person's progress on the listed materials.
pub async fn progress_of(db: &Db, person_id: i64, ids: &[i64]) -> Result<Vec<ProgressRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT material_id, seconds, last_beat_at, completed_at FROM learning_progress \
        WHERE person_id = $1 AND material_id IN (SELECT value FROM json_each($2))";
    const PG: &str = "SELECT material_id, seconds, last_beat_at, completed_at FROM learning_progress \
        WHERE person_id = $1 AND material_id = ANY($2)";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(person_id).bind(json_ids(ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(person_id).bind(ids).fetch_all(p).await?,
    })
}

pub(crate) fn json_ids(ids: &[i64]) -> String {
    let parts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// What a person has studied (time credited), with what the recommender compares.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StudiedRow {
    pub material_id: i64,
    pub title: String,
    pub tags: String,
    pub keywords: String,
    pub seconds: i64,
    pub completed: bool,
}

pub async fn studied(db: &Db, person_id: i64, limit: i64) -> Result<Vec<StudiedRow>, DbError> {
    const SQL: &str = "SELECT lp.material_id, m.title, m.tags, m.keywords, lp.seconds, lp.completed_at IS NOT NULL AS completed \
        FROM learning_progress lp JOIN materials m ON m.id = lp.material_id \
        WHERE lp.person_id = $1 AND lp.seconds > 0 ORDER BY lp.last_beat_at DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(limit).fetch_all(p).await)?)
}

/// The people (besides `person_id`) who most lately studied each of the listed materials (time credited), at
/// most `limit` a material, each person once: where collaborative filtering looks for a member's co-learners.
/// One statement for all the materials (a look-up each was a round trip each); each material's look-up walks
/// the index `learning_progress_material_recent` (migration 0030) newest first and stops at `limit`, so the cost
/// does not grow with how many studied a popular material.
pub async fn recent_learners(db: &Db, materials: &[i64], person_id: i64, limit: i64) -> Result<Vec<i64>, DbError> {
    if materials.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT DISTINCT lp.person_id FROM json_each($1) j JOIN learning_progress lp ON lp.rowid IN \
        (SELECT x.rowid FROM learning_progress x WHERE x.material_id = j.value AND x.person_id <> $2 AND x.seconds > 0 \
         ORDER BY x.last_beat_at DESC LIMIT $3)";
    const PG: &str = "SELECT DISTINCT l.person_id FROM unnest($1::BIGINT[]) AS m(id) CROSS JOIN LATERAL \
        (SELECT person_id FROM learning_progress WHERE material_id = m.id AND person_id <> $2 AND seconds > 0 \
         ORDER BY last_beat_at DESC LIMIT $3) l";
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar(SQLITE).bind(json_ids(materials)).bind(person_id).bind(limit).fetch_all(p).await?
        }
        Db::Postgres(p) => sqlx::query_scalar(PG).bind(materials).bind(person_id).bind(limit).fetch_all(p).await?,
    })
}

/// The most characters a profile keeps (about 170 ids of six digits); the id cut at the end is dropped on read.
pub const PROFILE_CHARS: i64 = 1200;

/// Puts `material_id` first in the person's profile (`learning_profiles`, migration 0030): called in the
/// transaction of the heartbeat that first credits time to it, so the profile is never behind her records.
/// One statement (no read first), so two tabs of hers cannot lose each other's update.
pub async fn touch_profile(
    tx: &mut DbTx,
    person_id: i64,
    material_id: i64,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO learning_profiles (person_id, recent, updated_at) VALUES ($1, $2, $3) \
        ON CONFLICT (person_id) DO UPDATE SET recent = substr($2 || ' ' || learning_profiles.recent, 1, CAST($4 AS INTEGER)), \
        updated_at = $3";
    on_tx!(tx, c => sqlx::query(SQL).bind(person_id).bind(material_id.to_string()).bind(now).bind(PROFILE_CHARS)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The material ids of a profile's text, newest first (a last id cut by [`PROFILE_CHARS`] left out).
pub fn profile_ids(recent: &str) -> Vec<i64> {
    let mut parts: Vec<&str> = recent.split(' ').collect();
    if recent.len() as i64 >= PROFILE_CHARS {
        parts.pop();
    }
    parts.iter().filter_map(|p| p.parse().ok()).collect()
}

/// The profiles of the listed people: `(person, her latest studies)`.
pub async fn profiles(db: &Db, people: &[i64]) -> Result<Vec<(i64, Vec<i64>)>, DbError> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str =
        "SELECT person_id, recent FROM learning_profiles WHERE person_id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT person_id, recent FROM learning_profiles WHERE person_id = ANY($1)";
    let rows: Vec<(i64, String)> = match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(people)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(people).fetch_all(p).await?,
    };
    Ok(rows.into_iter().map(|(p, r)| (p, profile_ids(&r))).collect())
}

/// Rebuilds every profile from `learning_progress` (what migration 0030 did once): for data loaded around
/// the service (the benchmark's generator, a bulk import).
pub async fn rebuild_profiles(db: &Db) -> Result<u64, DbError> {
    const SQLITE: &[&str] = &[
        "DELETE FROM learning_profiles",
        "INSERT INTO learning_profiles (person_id, recent, updated_at) \
         SELECT person_id, substr(group_concat(material_id, ' '), 1, 1200), max(last_beat_at) \
         FROM (SELECT person_id, material_id, last_beat_at FROM learning_progress WHERE seconds > 0 \
               ORDER BY person_id, first_at DESC, material_id DESC) GROUP BY person_id",
    ];
    const PG: &[&str] = &[
        "DELETE FROM learning_profiles",
        "INSERT INTO learning_profiles (person_id, recent, updated_at) \
         SELECT person_id, substr(string_agg(material_id::text, ' ' ORDER BY first_at DESC, material_id DESC), 1, 1200), \
         max(last_beat_at) FROM learning_progress WHERE seconds > 0 GROUP BY person_id",
    ];
    let mut tx = db.begin().await?;
    let mut n = 0;
    for sql in if matches!(db, Db::Postgres(_)) { PG } else { SQLITE } {
        n = on_tx!(&mut tx, c => sqlx::query(*sql).execute(c).await.map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(n)
}

/// For each of the listed materials (the recommender's candidates), how many people of the subtree
/// `[start, end)` besides `person_id` studied it (time credited) since `since`; materials nobody did are left
/// out. The subtree's people come from `people_subtree` and their studies since `since` from
/// `learning_progress_person` alone (it carries the material and the seconds: migration 0033), and only the
/// candidates' counts leave the database — a branch of a few hundred people studies thousands of materials
/// in a month, and every row handed over costs more than counting it.
pub async fn studying_in(
    db: &Db,
    start: &str,
    end: &str,
    person_id: i64,
    since: OffsetDateTime,
    materials: &[i64],
) -> Result<Vec<(i64, i64)>, DbError> {
    if materials.is_empty() {
        return Ok(Vec::new());
    }
    // SQLite: `CROSS JOIN` keeps people first and `+` keeps the list from driving the join (a popular
    // candidate has thousands of learners in the province; the branch's month is a few thousand rows).
    const SQLITE: &str = "SELECT lp.material_id, CAST(COUNT(*) AS BIGINT) FROM people p \
        CROSS JOIN learning_progress lp ON lp.person_id = p.id AND lp.last_beat_at >= $4 \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND p.id <> $3 AND lp.seconds > 0 \
        AND +lp.material_id IN (SELECT value FROM json_each($5)) GROUP BY lp.material_id";
    // PostgreSQL: the branch's people drive, one index probe each, whatever the statistics say (`OFFSET 0`
    // keeps the lateral subquery from being flattened into a join the planner may turn around). Under the
    // AT-35 load with stale statistics it read every recent row of the candidates instead — 117,000 for 93
    // people, 37 ms a call against 2.6 ms (docs/PERFORMANCE.md).
    const PG: &str = "SELECT lp.material_id, CAST(COUNT(*) AS BIGINT) FROM people p \
        CROSS JOIN LATERAL (SELECT l.material_id FROM learning_progress l WHERE l.person_id = p.id \
        AND l.last_beat_at >= $4 AND l.seconds > 0 AND l.material_id = ANY($5) OFFSET 0) lp \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND p.id <> $3 GROUP BY lp.material_id";
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_as(SQLITE)
                .bind(start)
                .bind(end)
                .bind(person_id)
                .bind(since)
                .bind(json_ids(materials))
                .fetch_all(p)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(PG).bind(start).bind(end).bind(person_id).bind(since).bind(materials).fetch_all(p).await?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_json_for_sqlite() {
        assert_eq!(json_strings(&["/1/".into(), "/1/2/".into()]), r#"["/1/","/1/2/"]"#);
        assert_eq!(json_strings(&[]), "[]");
        assert_eq!(json_ranges(&["/1/2/".into()], &["/1/20".into()]), r#"[["/1/2/","/1/20"]]"#);
        assert_eq!(json_ids(&[3, 4]), "[3,4]");
    }
}

// ---------------------------------------------------------------- a member's copy of her data

/// A person's learning records, for her copy of her data (PIPL 第四十五条).
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct MyProgressRow {
    pub title: String,
    /// The version of the material she read (studied, once completed).
    pub version: i64,
    /// When the material was withdrawn by its publisher (her record stays).
    pub withdrawn_at: Option<OffsetDateTime>,
    pub seconds: i64,
    pub first_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
}

pub async fn progress_of_person(db: &Db, person_id: i64) -> Result<Vec<MyProgressRow>, DbError> {
    const SQL: &str = "SELECT m.title, p.version, m.withdrawn_at, p.seconds, p.first_at, p.completed_at FROM learning_progress p \
        JOIN materials m ON m.id = p.material_id WHERE p.person_id = $1 ORDER BY p.first_at DESC";
    Ok(on_db!(db, c => sqlx::query_as(SQL).bind(person_id).fetch_all(c).await)?)
}

/// Seconds studied per day (Beijing time), oldest first.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct DailyRow {
    pub day: Date,
    pub seconds: i64,
}

pub async fn daily_of_person(db: &Db, person_id: i64) -> Result<Vec<DailyRow>, DbError> {
    const SQL: &str = "SELECT day, seconds FROM learning_daily WHERE person_id = $1 ORDER BY day";
    Ok(on_db!(db, c => sqlx::query_as(SQL).bind(person_id).fetch_all(c).await)?)
}

/// A deletion (AT-37) of the person `$1`: what she studied and for how long is removed (no law keeps it).
pub const ERASE_PERSON: &[&str] = &[
    "DELETE FROM learning_progress WHERE person_id = $1",
    "DELETE FROM learning_daily WHERE person_id = $1",
    "DELETE FROM learning_profiles WHERE person_id = $1",
];
