//! The only SQL of notices: `notices` and `notice_recipients` (migration 0020), and reads of the platform's
//! `people` and `orgs` (paths, names, stages; never a sealed item). Every statement is one constant that
//! SQLite and PostgreSQL both run: a stage list is matched with `LIKE` against the stored ",a,b," form, and a
//! subtree is a range of the materialised path.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

/// People who receive notices: everyone in the register but those no longer in it or with 党籍 suspended.
macro_rules! receiving {
    () => {
        "status NOT IN ('deceased', 'left', 'transferred_out', 'suspended')"
    };
}

pub struct NoticeWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub stages: &'a str,
    pub needs_receipt: bool,
    /// platform::search::index_text of the title and the body's text.
    pub search_tokens: &'a str,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
    /// The meeting a notice is about (sent to its attendees), or none (sent to a subtree).
    pub meeting_id: Option<i64>,
}

pub async fn insert_notice(tx: &mut DbTx, n: &NoticeWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO notices (org_id, org_path, title, body, stages, needs_receipt, state, recipients, read_count, \
        published_at, search_tokens, created_by, version, created_at, updated_at, meeting_id) \
        VALUES ($1, $2, $3, $4, $5, $6, 'published', 0, 0, $7, $8, $9, 1, $7, $7, $10) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(n.org_id).bind(n.org_path).bind(n.title).bind(n.body).bind(n.stages).bind(n.needs_receipt)
        .bind(n.now).bind(n.search_tokens).bind(n.user_id).bind(n.meeting_id)
        .fetch_one(c).await)?)
}

/// Sends a notice to the people named (a meeting's attendees, checked by the meeting), and records how many;
/// returns that number.
pub async fn add_recipient_ids(tx: &mut DbTx, notice_id: i64, people: &[i64]) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO notice_recipients (notice_id, person_id) VALUES ($1, $2) \
        ON CONFLICT (notice_id, person_id) DO NOTHING";
    const COUNT: &str = "UPDATE notices SET recipients = (SELECT COUNT(*) FROM notice_recipients WHERE notice_id = $1) \
        WHERE id = $1 RETURNING recipients";
    for p in people {
        on_tx!(tx, c => sqlx::query(SQL).bind(notice_id).bind(*p).execute(c).await.map(|_| ()))?;
    }
    Ok(on_tx!(tx, c => sqlx::query_scalar(COUNT).bind(notice_id).fetch_one(c).await)?)
}

/// The notices about a meeting, earliest first (whatever their state: the meeting page shows the history).
pub async fn of_meeting(db: &Db, meeting_id: i64) -> Result<Vec<SummaryRow>, DbError> {
    const SQL: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, CAST(NULL AS TIMESTAMP) AS my_read_at \
        FROM notices n JOIN orgs o ON o.id = n.org_id WHERE n.meeting_id = $1 ORDER BY n.published_at, n.id";
    const PG: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, CAST(NULL AS TIMESTAMPTZ) AS my_read_at \
        FROM notices n JOIN orgs o ON o.id = n.org_id WHERE n.meeting_id = $1 ORDER BY n.published_at, n.id";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQL).bind(meeting_id).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(meeting_id).fetch_all(p).await?,
    })
}

/// Sends a notice to the receiving people of the subtree `[start, end)` whose stage is in `stages` (the
/// stored ",a,b," form; empty: all), and records how many; returns that number.
pub async fn add_recipients(
    tx: &mut DbTx,
    notice_id: i64,
    start: &str,
    end: &str,
    stages: &str,
) -> Result<i64, DbError> {
    const SQL: &str = concat!(
        "INSERT INTO notice_recipients (notice_id, person_id) SELECT $1, id FROM people \
        WHERE org_path >= $2 AND org_path < $3 AND (CAST($4 AS TEXT) = '' OR CAST($4 AS TEXT) LIKE '%,' || stage || ',%') AND ",
        receiving!()
    );
    const COUNT: &str = "UPDATE notices SET recipients = (SELECT COUNT(*) FROM notice_recipients WHERE notice_id = $1) \
        WHERE id = $1 RETURNING recipients";
    on_tx!(tx, c => sqlx::query(SQL).bind(notice_id).bind(start).bind(end).bind(stages).execute(c).await.map(|_| ()))?;
    Ok(on_tx!(tx, c => sqlx::query_scalar(COUNT).bind(notice_id).fetch_one(c).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub title: String,
    pub body: String,
    pub stages: String,
    pub needs_receipt: bool,
    pub state: String,
    pub recipients: i64,
    pub read_count: i64,
    pub published_at: OffsetDateTime,
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdraw_reason: Option<String>,
    pub version: i64,
    pub meeting_id: Option<i64>,
}

const NOTICE_BY_ID: &str = "SELECT n.id, n.org_id, n.org_path, o.name AS org_name, n.title, n.body, n.stages, n.needs_receipt, \
    n.state, n.recipients, n.read_count, n.published_at, n.withdrawn_at, n.withdraw_reason, n.version, n.meeting_id \
    FROM notices n JOIN orgs o ON o.id = n.org_id WHERE n.id = $1";

pub async fn get_notice(db: &Db, id: i64) -> Result<Option<NoticeRow>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(NOTICE_BY_ID).bind(id).fetch_optional(p).await)?)
}

pub async fn get_notice_tx(tx: &mut DbTx, id: i64) -> Result<Option<NoticeRow>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_as(NOTICE_BY_ID).bind(id).fetch_optional(c).await)?)
}

/// `Some(read_at)` when the person is a recipient of the notice, `None` when not.
pub async fn receipt(db: &Db, notice_id: i64, person_id: i64) -> Result<Option<Option<OffsetDateTime>>, DbError> {
    const SQL: &str = "SELECT read_at FROM notice_recipients WHERE notice_id = $1 AND person_id = $2";
    let row: Option<(Option<OffsetDateTime>,)> =
        on_db!(db, p => sqlx::query_as(SQL).bind(notice_id).bind(person_id).fetch_optional(p).await)?;
    Ok(row.map(|r| r.0))
}

/// Records a recipient's confirmation (the first one only) and counts it on the notice; returns whether it was
/// new.
pub async fn mark_read(tx: &mut DbTx, notice_id: i64, person_id: i64, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str =
        "UPDATE notice_recipients SET read_at = $3 WHERE notice_id = $1 AND person_id = $2 AND read_at IS NULL";
    const COUNT: &str = "UPDATE notices SET read_count = read_count + 1 WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(notice_id).bind(person_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        on_tx!(tx, c => sqlx::query(COUNT).bind(notice_id).execute(c).await.map(|_| ()))?;
    }
    Ok(n == 1)
}

/// Withdraws a published notice if `version` is still the stored one; returns whether it was.
pub async fn withdraw(
    tx: &mut DbTx,
    id: i64,
    version: i64,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE notices SET state = 'withdrawn', withdrawn_at = $3, withdraw_reason = $4, updated_at = $3, \
        version = version + 1 WHERE id = $1 AND version = $2 AND state = 'published'";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(version).bind(now).bind(reason)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Receipts of one notice per organization of the recipients' current place, for those in `[start, end)`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReceiptCount {
    pub org_id: i64,
    pub org_path: String,
    pub total: i64,
    pub read: i64,
}

pub async fn receipts_by_org(db: &Db, notice_id: i64, start: &str, end: &str) -> Result<Vec<ReceiptCount>, DbError> {
    const SQL: &str = "SELECT p.org_id, p.org_path, CAST(COUNT(*) AS BIGINT) AS total, CAST(COUNT(r.read_at) AS BIGINT) AS read \
        FROM notice_recipients r JOIN people p ON p.id = r.person_id \
        WHERE r.notice_id = $1 AND p.org_path >= $2 AND p.org_path < $3 GROUP BY p.org_id, p.org_path";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(notice_id).bind(start).bind(end).fetch_all(p).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UnreadRow {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
}

/// Recipients in `[start, end)` who have not confirmed, by organization and name, at most `limit`.
pub async fn unread(db: &Db, notice_id: i64, start: &str, end: &str, limit: i64) -> Result<Vec<UnreadRow>, DbError> {
    const SQL: &str = "SELECT p.id AS person_id, p.name, o.name AS org_name \
        FROM notice_recipients r JOIN people p ON p.id = r.person_id JOIN orgs o ON o.id = p.org_id \
        WHERE r.notice_id = $1 AND r.read_at IS NULL AND p.org_path >= $2 AND p.org_path < $3 \
        ORDER BY p.org_path, p.name, p.id LIMIT $4";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(notice_id).bind(start).bind(end).bind(limit).fetch_all(p).await)?)
}

/// The organizations of a subtree `[start, end)`: id, path, name.
pub async fn orgs_in(db: &Db, start: &str, end: &str) -> Result<Vec<(i64, String, String)>, DbError> {
    const SQL: &str = "SELECT id, path, name FROM orgs WHERE path >= $1 AND path < $2 ORDER BY path";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).fetch_all(p).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub title: String,
    pub needs_receipt: bool,
    pub state: String,
    pub published_at: OffsetDateTime,
    pub recipients: i64,
    pub read_count: i64,
    pub my_read_at: Option<OffsetDateTime>,
}

/// Published notices sent to a person, latest first, with her confirmation.
pub async fn received(db: &Db, person_id: i64, limit: i64) -> Result<Vec<SummaryRow>, DbError> {
    const SQL: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, r.read_at AS my_read_at \
        FROM notice_recipients r JOIN notices n ON n.id = r.notice_id JOIN orgs o ON o.id = n.org_id \
        WHERE r.person_id = $1 AND n.state = 'published' ORDER BY n.published_at DESC, n.id DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(limit).fetch_all(p).await)?)
}

/// Notices published by the organizations of `[start, end)`, latest first.
pub async fn published_in(db: &Db, start: &str, end: &str, limit: i64) -> Result<Vec<SummaryRow>, DbError> {
    const SQL: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, CAST(NULL AS TIMESTAMP) AS my_read_at \
        FROM notices n JOIN orgs o ON o.id = n.org_id \
        WHERE n.org_path >= $1 AND n.org_path < $2 ORDER BY n.published_at DESC, n.id DESC LIMIT $3";
    const PG: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, CAST(NULL AS TIMESTAMPTZ) AS my_read_at \
        FROM notices n JOIN orgs o ON o.id = n.org_id \
        WHERE n.org_path >= $1 AND n.org_path < $2 ORDER BY n.published_at DESC, n.id DESC LIMIT $3";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQL).bind(start).bind(end).bind(limit).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(start).bind(end).bind(limit).fetch_all(p).await?,
    })
}

/// Published notices of the organization at exactly `path` (an organization above the caller's), latest first.
pub async fn published_at_path(db: &Db, path: &str, limit: i64) -> Result<Vec<SummaryRow>, DbError> {
    const SQL: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, CAST(NULL AS TIMESTAMP) AS my_read_at \
        FROM notices n JOIN orgs o ON o.id = n.org_id \
        WHERE n.org_path = $1 AND n.state = 'published' ORDER BY n.published_at DESC, n.id DESC LIMIT $2";
    const PG: &str = "SELECT n.id, n.org_id, o.name AS org_name, n.title, n.needs_receipt, n.state, n.published_at, n.recipients, \
        n.read_count, CAST(NULL AS TIMESTAMPTZ) AS my_read_at \
        FROM notices n JOIN orgs o ON o.id = n.org_id \
        WHERE n.org_path = $1 AND n.state = 'published' ORDER BY n.published_at DESC, n.id DESC LIMIT $2";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQL).bind(path).bind(limit).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(path).bind(limit).fetch_all(p).await?,
    })
}

/// A person's receipts, for her copy (PIPL 第四十五条).
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct ReceiptOfPerson {
    pub notice_id: i64,
    pub title: String,
    pub org_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub read_at: Option<OffsetDateTime>,
}

pub async fn receipts_of_person(db: &Db, person_id: i64) -> Result<Vec<ReceiptOfPerson>, DbError> {
    const SQL: &str = "SELECT n.id AS notice_id, n.title, o.name AS org_name, n.published_at, r.read_at \
        FROM notice_recipients r JOIN notices n ON n.id = r.notice_id JOIN orgs o ON o.id = n.org_id \
        WHERE r.person_id = $1 ORDER BY n.published_at, n.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// Whether any notice is stored (the demo adds its notices only to a database without any).
pub async fn any_notice(db: &Db) -> Result<bool, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM (SELECT id FROM notices LIMIT 1) AS one";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await)?;
    Ok(n > 0)
}

/// The demo: marks about `tenths`/10 of a notice's recipients (chosen by person id, deterministic) as having
/// confirmed at `at`, and counts them on the notice.
pub async fn demo_confirm_share(tx: &mut DbTx, notice_id: i64, tenths: i64, at: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str =
        "UPDATE notice_recipients SET read_at = $3 WHERE notice_id = $1 AND read_at IS NULL AND person_id % 10 < $2";
    const COUNT: &str = "UPDATE notices SET read_count = (SELECT COUNT(read_at) FROM notice_recipients WHERE notice_id = $1) \
        WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(notice_id).bind(tenths).bind(at).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(COUNT).bind(notice_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

// ---------------------------------------------------------------- search

/// A notice found by a search.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoticeHit {
    pub id: i64,
    pub title: String,
    pub body: String,
}

/// A notice search: `$1` is the query (FTS5 or tsquery text), the caller's condition follows from `$2`, the
/// limit is the last parameter.
macro_rules! notice_search {
    (sqlite, $cond:literal, $limit:literal) => {
        concat!(
            "SELECT n.id, n.title, n.body FROM notices n \
             JOIN (SELECT rowid AS id, bm25(notices_fts) AS score FROM notices_fts WHERE notices_fts MATCH $1) f \
             ON f.id = n.id WHERE ",
            $cond,
            " ORDER BY f.score, n.id DESC LIMIT ",
            $limit
        )
    };
    (pg, $cond:literal, $limit:literal) => {
        concat!(
            "SELECT n.id, n.title, n.body FROM notices n, to_tsquery('simple', $1) q \
             WHERE to_tsvector('simple', n.search_tokens) @@ q AND ",
            $cond,
            " ORDER BY ts_rank(to_tsvector('simple', n.search_tokens), q) DESC, n.id DESC LIMIT ",
            $limit
        )
    };
}

/// Where a caller's notices are: sent to a person, published in a subtree, or published at one organization
/// above her (those reach her part).
pub enum NoticeReach<'a> {
    Received { person_id: i64 },
    Subtree { start: &'a str, end: &'a str },
    At { path: &'a str },
}

/// Notices matching a query in one part of the caller's reach, best first. A recipient and a secretary below
/// the publisher find published notices only; those who oversee the publisher find withdrawn ones as well.
pub async fn search(
    db: &Db,
    reach: &NoticeReach<'_>,
    fts5: &str,
    tsquery: &str,
    limit: i64,
) -> Result<Vec<NoticeHit>, DbError> {
    macro_rules! received {
        ($d:ident) => {
            notice_search!(
                $d,
                "n.state = 'published' AND EXISTS (SELECT 1 FROM notice_recipients r WHERE r.notice_id = n.id AND r.person_id = $2)",
                "$3"
            )
        };
    }
    macro_rules! subtree {
        ($d:ident) => {
            notice_search!($d, "n.org_path >= $2 AND n.org_path < $3", "$4")
        };
    }
    macro_rules! at {
        ($d:ident) => {
            notice_search!($d, "n.state = 'published' AND n.org_path = $2", "$3")
        };
    }
    Ok(match (db, reach) {
        (Db::Sqlite(p), NoticeReach::Received { person_id }) => {
            sqlx::query_as(received!(sqlite)).bind(fts5).bind(person_id).bind(limit).fetch_all(p).await?
        }
        (Db::Postgres(p), NoticeReach::Received { person_id }) => {
            sqlx::query_as(received!(pg)).bind(tsquery).bind(person_id).bind(limit).fetch_all(p).await?
        }
        (Db::Sqlite(p), NoticeReach::Subtree { start, end }) => {
            sqlx::query_as(subtree!(sqlite)).bind(fts5).bind(start).bind(end).bind(limit).fetch_all(p).await?
        }
        (Db::Postgres(p), NoticeReach::Subtree { start, end }) => {
            sqlx::query_as(subtree!(pg)).bind(tsquery).bind(start).bind(end).bind(limit).fetch_all(p).await?
        }
        (Db::Sqlite(p), NoticeReach::At { path }) => {
            sqlx::query_as(at!(sqlite)).bind(fts5).bind(path).bind(limit).fetch_all(p).await?
        }
        (Db::Postgres(p), NoticeReach::At { path }) => {
            sqlx::query_as(at!(pg)).bind(tsquery).bind(path).bind(limit).fetch_all(p).await?
        }
    })
}

/// The notices sent to a person whose title or body names her (her deletion, AT-37): (id, title, body).
pub async fn notices_naming(tx: &mut DbTx, person_id: i64, name: &str) -> Result<Vec<(i64, String, String)>, DbError> {
    const SQL: &str = "SELECT n.id, n.title, n.body FROM notices n JOIN notice_recipients r ON r.notice_id = n.id \
        WHERE r.person_id = $1 AND (n.title LIKE '%' || $2 || '%' OR n.body LIKE '%' || $2 || '%')";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(person_id).bind(name).fetch_all(c).await)?)
}

/// A notice's text rewritten with its search words (the SQLite index follows by its trigger).
pub async fn rewrite_text(tx: &mut DbTx, id: i64, title: &str, body: &str, tokens: &str) -> Result<(), DbError> {
    const SQL: &str = "UPDATE notices SET title = $2, body = $3, search_tokens = $4 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(title).bind(body).bind(tokens).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// SQLite's full-text index keeps a removed word in its older segments until they are merged: merge them all
/// now, so a rewritten notice's old words are gone from the file (PostgreSQL computes its vectors from the
/// row).
pub async fn purge_index(tx: &mut DbTx) -> Result<(), DbError> {
    if let DbTx::Sqlite(t) = tx {
        sqlx::query("INSERT INTO notices_fts(notices_fts) VALUES ('optimize')").execute(&mut **t).await?;
    }
    Ok(())
}
