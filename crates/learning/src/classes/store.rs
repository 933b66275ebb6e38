//! The SQL of 线上党课 (`party_classes`, `party_class_materials`, `party_class_attendance`).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

use crate::classes::model::ClassMaterial;
use crate::store::{Reach, bind_reach, json_ranges, json_strings, pg_reach, sqlite_reach};

pub struct ClassWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub title: &'a str,
    pub lecturer: &'a str,
    pub starts_at: OffsetDateTime,
    pub minutes: i64,
    pub link: Option<&'a str>,
    pub room: Option<&'a str>,
    pub description: &'a str,
    pub stages: Option<&'a str>,
    pub meeting_id: Option<i64>,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_class(tx: &mut DbTx, c: &ClassWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO party_classes (org_id, org_path, title, lecturer, starts_at, minutes, link, room, description, \
        stages, meeting_id, replay_url, status, created_by, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, 'scheduled', $12, $13, $13) RETURNING id";
    Ok(on_tx!(tx, x => sqlx::query_scalar(SQL).bind(c.org_id).bind(c.org_path).bind(c.title).bind(c.lecturer)
        .bind(c.starts_at).bind(c.minutes).bind(c.link).bind(c.room).bind(c.description).bind(c.stages)
        .bind(c.meeting_id).bind(c.user_id).bind(c.now).fetch_one(x).await)?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClassRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub title: String,
    pub lecturer: String,
    pub starts_at: OffsetDateTime,
    pub minutes: i64,
    pub link: Option<String>,
    pub room: Option<String>,
    pub description: String,
    pub stages: Option<String>,
    pub meeting_id: Option<i64>,
    pub replay_url: Option<String>,
    pub status: String,
}

macro_rules! class_columns {
    () => {
        "SELECT m.id, m.org_id, m.org_path, o.name AS org_name, m.title, m.lecturer, m.starts_at, m.minutes, m.link, m.room, \
         m.description, m.stages, m.meeting_id, m.replay_url, m.status FROM party_classes m JOIN orgs o ON o.id = m.org_id WHERE "
    };
}

/// The meetings linked to a class not cancelled that starts at `since` or later (a meeting carries one class).
pub async fn linked_meetings(db: &Db, since: OffsetDateTime) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT meeting_id FROM party_classes \
        WHERE meeting_id IS NOT NULL AND status <> 'cancelled' AND starts_at >= $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(since).fetch_all(p).await)?)
}

/// The class (not cancelled) a meeting is linked to, if any.
pub async fn class_of_meeting(db: &Db, meeting_id: i64) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT id FROM party_classes WHERE meeting_id = $1 AND status <> 'cancelled' LIMIT 1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(meeting_id).fetch_optional(p).await)?)
}

pub async fn get_class(db: &Db, id: i64) -> Result<Option<ClassRow>, DbError> {
    const SQL: &str = concat!(class_columns!(), "m.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// The classes in reach, the latest start first.
pub async fn list_classes(db: &Db, reach: &Reach, limit: i64) -> Result<Vec<ClassRow>, DbError> {
    const SQLITE: &str = concat!(class_columns!(), sqlite_reach!(), " ORDER BY m.starts_at DESC, m.id DESC LIMIT $5");
    const PG: &str = concat!(class_columns!(), pg_reach!(), " ORDER BY m.starts_at DESC, m.id DESC LIMIT $6");
    Ok(match db {
        Db::Sqlite(p) => bind_reach!(sqlite, sqlx::query_as(SQLITE), reach).bind(limit).fetch_all(p).await?,
        Db::Postgres(p) => bind_reach!(pg, sqlx::query_as(PG), reach).bind(limit).fetch_all(p).await?,
    })
}

pub async fn materials_of(db: &Db, class_id: i64) -> Result<Vec<ClassMaterial>, DbError> {
    const SQL: &str = "SELECT m.id, m.title FROM party_class_materials c JOIN materials m ON m.id = c.material_id \
        WHERE c.class_id = $1 ORDER BY m.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(class_id).fetch_all(p).await)?)
}

pub async fn finish(
    tx: &mut DbTx,
    id: i64,
    replay_url: Option<&str>,
    material_ids: &[i64],
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const UPDATE: &str = "UPDATE party_classes SET status = 'finished', replay_url = $2, updated_at = $3 WHERE id = $1";
    const CLEAR: &str = "DELETE FROM party_class_materials WHERE class_id = $1";
    const ADD: &str = "INSERT INTO party_class_materials (class_id, material_id) VALUES ($1, $2)";
    on_tx!(tx, c => sqlx::query(UPDATE).bind(id).bind(replay_url).bind(now).execute(c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(CLEAR).bind(id).execute(c).await.map(|_| ()))?;
    for m in material_ids {
        on_tx!(tx, c => sqlx::query(ADD).bind(id).bind(m).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// Records that a person joined through the page; false if she had already.
pub async fn join(tx: &mut DbTx, class_id: i64, person_id: i64, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "INSERT INTO party_class_attendance (class_id, person_id, joined_at) VALUES ($1, $2, $3) \
        ON CONFLICT (class_id, person_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(class_id).bind(person_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn joined(db: &Db, class_id: i64, person_id: i64) -> Result<bool, DbError> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM party_class_attendance WHERE class_id = $1 AND person_id = $2)";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(class_id).bind(person_id).fetch_one(p).await)?)
}

pub async fn joined_people(db: &Db, class_id: i64) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT person_id FROM party_class_attendance WHERE class_id = $1 ORDER BY person_id";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(class_id).fetch_all(p).await)?)
}

/// A person's classes joined, for her copy of her data and her portrait.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct JoinedRow {
    pub class_id: i64,
    pub title: String,
    pub joined_at: OffsetDateTime,
}

pub async fn joined_by_person(db: &Db, person_id: i64) -> Result<Vec<JoinedRow>, DbError> {
    const SQL: &str = "SELECT a.class_id, c.title, a.joined_at FROM party_class_attendance a JOIN party_classes c ON c.id = a.class_id \
        WHERE a.person_id = $1 ORDER BY a.joined_at";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: the classes she joined through the page (the 党课 meeting's
/// attendance stays with organizational life).
pub const ERASE_PERSON: &[&str] = &["DELETE FROM party_class_attendance WHERE person_id = $1"];
