//! The only SQL of organizational life. Every statement is a constant in the dialect SQLite and PostgreSQL
//! share; where they differ (an optional text parameter, list parameters) both texts stand side by side.
//!
//! Besides its own tables (`meetings`, `meeting_attendees`) this store reads the platform's `people` and
//! `orgs` — names, paths, stages and party posts only, never a sealed item — to check attendees and to know
//! a branch's members (docs/ARCHITECTURE.md, cross-part edges).

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

// ---------------------------------------------------------------- meetings

/// `UPDATE meetings SET` the attendance counts from the meeting's attendees, to be followed by a `WHERE`
/// (the same text as migration 0029's backfill, per meeting).
macro_rules! recount_sql {
    () => {
        "UPDATE meetings SET \
         invited = (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = meetings.id), \
         present = (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = meetings.id AND a.attendance = 'present'), \
         recorded = (SELECT COUNT(a.attendance) FROM meeting_attendees a WHERE a.meeting_id = meetings.id) "
    };
}

/// A meeting's row as written.
pub struct MeetingWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub held_on: Date,
    pub start_time: Option<&'a str>,
    pub place: Option<&'a str>,
    pub online_link: Option<&'a str>,
    pub agenda: Option<&'a str>,
    pub minutes: Option<&'a str>,
    pub status: &'a str,
    pub user_id: Option<i64>,
    pub now: OffsetDateTime,
    /// The recurring plan that wrote it (only on insert; a meeting never changes plan).
    pub plan_id: Option<i64>,
}

pub async fn insert_meeting(tx: &mut DbTx, m: &MeetingWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO meetings (org_id, org_path, kind, title, held_on, start_time, place, online_link, agenda, minutes, \
        status, archived, version, created_by, created_at, updated_at, plan_id) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE, 1, $12, $13, $13, $14) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(m.org_id).bind(m.org_path).bind(m.kind).bind(m.title).bind(m.held_on).bind(m.start_time)
        .bind(m.place).bind(m.online_link).bind(m.agenda).bind(m.minutes).bind(m.status).bind(m.user_id).bind(m.now)
        .bind(m.plan_id)
        .fetch_one(c).await)?)
}

/// Rewrites a meeting that is not archived, if `version` is still the stored one; returns whether it was.
pub async fn update_meeting(tx: &mut DbTx, id: i64, version: i64, m: &MeetingWrite<'_>) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE meetings SET org_id = $1, org_path = $2, kind = $3, title = $4, held_on = $5, start_time = $6, place = $7, \
        online_link = $8, agenda = $9, minutes = $10, status = $11, updated_at = $12, version = version + 1 \
        WHERE id = $13 AND version = $14 AND archived = FALSE";
    let n = on_tx!(tx, c => sqlx::query(SQL)
        .bind(m.org_id).bind(m.org_path).bind(m.kind).bind(m.title).bind(m.held_on).bind(m.start_time)
        .bind(m.place).bind(m.online_link).bind(m.agenda).bind(m.minutes).bind(m.status).bind(m.now)
        .bind(id).bind(version)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Archives a meeting (one way); returns whether it was still open.
pub async fn archive_meeting(tx: &mut DbTx, id: i64, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE meetings SET archived = TRUE, updated_at = $2, version = version + 1 WHERE id = $1 AND archived = FALSE";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Moves the version of a meeting whose attendance changed (so a form read before refuses to overwrite).
pub async fn touch_meeting(tx: &mut DbTx, id: i64, now: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str = "UPDATE meetings SET updated_at = $2, version = version + 1 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(now).execute(c).await.map(|_| ()))?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MeetingRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub org_kind: String,
    pub kind: String,
    pub title: String,
    pub held_on: Date,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    pub minutes: Option<String>,
    pub status: String,
    pub archived: bool,
    pub version: i64,
    pub plan_id: Option<i64>,
}

const MEETING_BY_ID: &str = "SELECT m.id, m.org_id, m.org_path, o.name AS org_name, o.kind AS org_kind, m.kind, m.title, m.held_on, \
    m.start_time, m.place, m.online_link, m.agenda, m.minutes, m.status, m.archived, m.version, m.plan_id \
    FROM meetings m JOIN orgs o ON o.id = m.org_id WHERE m.id = $1";

pub async fn get_meeting(db: &Db, id: i64) -> Result<Option<MeetingRow>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(MEETING_BY_ID).bind(id).fetch_optional(p).await)?)
}

pub async fn get_meeting_tx(tx: &mut DbTx, id: i64) -> Result<Option<MeetingRow>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_as(MEETING_BY_ID).bind(id).fetch_optional(c).await)?)
}

/// Whether any meeting is stored (the demo adds its meetings only to a database without any).
pub async fn any_meeting(db: &Db) -> Result<bool, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM (SELECT id FROM meetings LIMIT 1) AS one";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await)?;
    Ok(n > 0)
}

// ---------------------------------------------------------------- attendees

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttendeeRow {
    pub person_id: i64,
    pub name: String,
    pub attendance: Option<String>,
    pub reason: Option<String>,
}

/// The attendees of a meeting, by name.
pub async fn attendees(db: &Db, meeting_id: i64) -> Result<Vec<AttendeeRow>, DbError> {
    const SQL: &str = "SELECT a.person_id, p.name, a.attendance, a.reason FROM meeting_attendees a JOIN people p ON p.id = a.person_id \
        WHERE a.meeting_id = $1 ORDER BY p.name, a.person_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(meeting_id).fetch_all(p).await)?)
}

/// Whether `person_id` is invited to the meeting.
pub async fn is_attendee(db: &Db, meeting_id: i64, person_id: i64) -> Result<bool, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM meeting_attendees WHERE meeting_id = $1 AND person_id = $2";
    let n: i64 = on_db!(db, p => sqlx::query_scalar(SQL).bind(meeting_id).bind(person_id).fetch_one(p).await)?;
    Ok(n > 0)
}

// The meeting row's attendance counts (`invited`, `present`, `recorded`: what rules::COMMITTEE_QUORUM_SQL
// reads) are kept by the three functions below, in the caller's transaction, each with the row it writes:
// no other statement writes `meeting_attendees` (the province demo's set-based insert and a partial restore
// recount theirs with `recount_attendance`).

/// Invites `person_id` (nothing if she already is), counting her on the meeting's row.
pub async fn add_attendee(tx: &mut DbTx, meeting_id: i64, person_id: i64) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO meeting_attendees (meeting_id, person_id) VALUES ($1, $2) \
        ON CONFLICT (meeting_id, person_id) DO NOTHING";
    const COUNT: &str = "UPDATE meetings SET invited = invited + 1 WHERE id = $1";
    let n =
        on_tx!(tx, c => sqlx::query(SQL).bind(meeting_id).bind(person_id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 1 {
        on_tx!(tx, c => sqlx::query(COUNT).bind(meeting_id).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// Withdraws an invitation, taking the attendee (and her attendance, if recorded) off the meeting's counts.
pub async fn remove_attendee(tx: &mut DbTx, meeting_id: i64, person_id: i64) -> Result<(), DbError> {
    const SQL: &str = "DELETE FROM meeting_attendees WHERE meeting_id = $1 AND person_id = $2 RETURNING attendance";
    const COUNT: &str = "UPDATE meetings SET invited = invited - 1, present = present - $2, recorded = recorded - $3 \
        WHERE id = $1";
    let gone: Option<Option<String>> =
        on_tx!(tx, c => sqlx::query_scalar(SQL).bind(meeting_id).bind(person_id).fetch_optional(c).await)?;
    if let Some(attendance) = gone {
        let (present, recorded) = counted(attendance.as_deref());
        on_tx!(tx, c => sqlx::query(COUNT).bind(meeting_id).bind(present).bind(recorded).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// What one attendance adds to a meeting's `present` and `recorded` counts.
fn counted(attendance: Option<&str>) -> (i64, i64) {
    (i64::from(attendance == Some("present")), i64::from(attendance.is_some()))
}

/// Sets the attendance counts of the meetings `ids` from their attendees (after a set-based write).
pub async fn recount_attendance(tx: &mut DbTx, ids: &[i64]) -> Result<(), DbError> {
    const SQL: &str = concat!(recount_sql!(), "WHERE id = $1");
    for id in ids {
        on_tx!(tx, c => sqlx::query(SQL).bind(id).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// The ids invited to a meeting, inside the transaction.
pub async fn attendee_ids_tx(tx: &mut DbTx, meeting_id: i64) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT person_id FROM meeting_attendees WHERE meeting_id = $1 ORDER BY person_id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(meeting_id).fetch_all(c).await)?)
}

/// Records one attendee's attendance (`None` clears it), moving the meeting's counts from her previous
/// attendance to this one; returns whether the person is invited.
pub async fn set_attendance(
    tx: &mut DbTx,
    meeting_id: i64,
    person_id: i64,
    attendance: Option<&str>,
    reason: Option<&str>,
    user_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    // First the counts, against the attendance still stored (nothing if she is not invited): a write
    // before any read, so the transaction never has to upgrade a read lock.
    const COUNT: &str = "UPDATE meetings SET \
        present = present + $3 - (SELECT CASE WHEN a.attendance = 'present' THEN 1 ELSE 0 END FROM meeting_attendees a \
          WHERE a.meeting_id = $1 AND a.person_id = $2), \
        recorded = recorded + $4 - (SELECT CASE WHEN a.attendance IS NULL THEN 0 ELSE 1 END FROM meeting_attendees a \
          WHERE a.meeting_id = $1 AND a.person_id = $2) \
        WHERE id = $1 AND EXISTS (SELECT 1 FROM meeting_attendees a WHERE a.meeting_id = $1 AND a.person_id = $2)";
    const SQL: &str = "UPDATE meeting_attendees SET attendance = $3, reason = $4, recorded_by = $5, recorded_at = $6 \
        WHERE meeting_id = $1 AND person_id = $2";
    let (present, recorded) = counted(attendance);
    on_tx!(tx, c => sqlx::query(COUNT).bind(meeting_id).bind(person_id).bind(present).bind(recorded)
        .execute(c).await.map(|_| ()))?;
    let n = on_tx!(tx, c => sqlx::query(SQL)
        .bind(meeting_id).bind(person_id).bind(attendance).bind(reason).bind(user_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The attendance counts of one meeting as kept on its row and as counted over its attendees:
/// `((invited, present, recorded), (invited, present, recorded))` (the tests hold the two equal).
pub async fn attendance_counts(db: &Db, meeting_id: i64) -> Result<((i64, i64, i64), (i64, i64, i64)), DbError> {
    const KEPT: &str = "SELECT invited, present, recorded FROM meetings WHERE id = $1";
    const COUNTED: &str = "SELECT CAST(COUNT(*) AS BIGINT), \
        CAST(COALESCE(SUM(CASE WHEN attendance = 'present' THEN 1 ELSE 0 END), 0) AS BIGINT), \
        CAST(COUNT(attendance) AS BIGINT) FROM meeting_attendees WHERE meeting_id = $1";
    let kept = on_db!(db, p => sqlx::query_as(KEPT).bind(meeting_id).fetch_one(p).await)?;
    let counted = on_db!(db, p => sqlx::query_as(COUNTED).bind(meeting_id).fetch_one(p).await)?;
    Ok((kept, counted))
}

// ---------------------------------------------------------------- lists

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub title: String,
    pub held_on: Date,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub status: String,
    pub archived: bool,
    pub invited: i64,
    pub present: i64,
    pub on_leave: i64,
    pub absent: i64,
}

/// The columns of a meeting list line, as a literal so each query below is one constant (`concat!`).
macro_rules! summary_columns {
    () => {
        "SELECT m.id, m.org_id, o.name AS org_name, m.kind, m.title, m.held_on, m.start_time, m.place, m.status, m.archived, \
        CAST(COUNT(a.person_id) AS BIGINT) AS invited, \
        CAST(COALESCE(SUM(CASE WHEN a.attendance = 'present' THEN 1 ELSE 0 END), 0) AS BIGINT) AS present, \
        CAST(COALESCE(SUM(CASE WHEN a.attendance = 'leave' THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_leave, \
        CAST(COALESCE(SUM(CASE WHEN a.attendance = 'absent' THEN 1 ELSE 0 END), 0) AS BIGINT) AS absent \
        FROM meetings m JOIN orgs o ON o.id = m.org_id LEFT JOIN meeting_attendees a ON a.meeting_id = m.id "
    };
}

/// Meetings of the subtree `[start, end)` held between `from` and `to` (inclusive), latest first, at most
/// `limit`; of one kind when given.
pub async fn list_meetings(
    db: &Db,
    start: &str,
    end: &str,
    from: Date,
    to: Date,
    kind: Option<&str>,
    limit: i64,
) -> Result<Vec<SummaryRow>, DbError> {
    const SQLITE: &str = concat!(
        summary_columns!(),
        "WHERE m.org_path >= $1 AND m.org_path < $2 AND m.held_on >= $3 AND m.held_on <= $4 \
        AND ($5 IS NULL OR m.kind = $5) GROUP BY m.id, o.name ORDER BY m.held_on DESC, m.id DESC LIMIT $6"
    );
    const PG: &str = concat!(
        summary_columns!(),
        "WHERE m.org_path >= $1 AND m.org_path < $2 AND m.held_on >= $3 AND m.held_on <= $4 \
        AND ($5::text IS NULL OR m.kind = $5) GROUP BY m.id, o.name ORDER BY m.held_on DESC, m.id DESC LIMIT $6"
    );
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_as(SQLITE).bind(start).bind(end).bind(from).bind(to).bind(kind).bind(limit).fetch_all(p).await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(PG).bind(start).bind(end).bind(from).bind(to).bind(kind).bind(limit).fetch_all(p).await?
        }
    })
}

/// The meetings a recurring plan wrote, earliest first.
pub async fn meetings_of_plan(db: &Db, plan_id: i64) -> Result<Vec<SummaryRow>, DbError> {
    const SQL: &str =
        concat!(summary_columns!(), "WHERE m.plan_id = $1 GROUP BY m.id, o.name ORDER BY m.held_on, m.id");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(plan_id).fetch_all(p).await)?)
}

/// Meetings `person_id` is invited to, held between `from` and `to`, latest first.
pub async fn meetings_of_person(
    db: &Db,
    person_id: i64,
    from: Date,
    to: Date,
    limit: i64,
) -> Result<Vec<SummaryRow>, DbError> {
    const SQL: &str = concat!(
        summary_columns!(),
        "WHERE m.id IN (SELECT meeting_id FROM meeting_attendees WHERE person_id = $1) \
        AND m.held_on >= $2 AND m.held_on <= $3 GROUP BY m.id, o.name ORDER BY m.held_on DESC, m.id DESC LIMIT $4"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).bind(from).bind(to).bind(limit).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- the compliance calendar

/// A held meeting of the subtree with what the calendar needs of its attendance.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CalendarRow {
    pub id: i64,
    pub org_id: i64,
    pub kind: String,
    pub held_on: Date,
    pub invited: i64,
    pub present: i64,
    /// Attendees whose attendance has been recorded.
    pub recorded: i64,
}

/// The held meetings of the subtree `[start, end)` (of `org_id` alone, if given) between `from` and `to`.
pub async fn calendar(
    db: &Db,
    start: &str,
    end: &str,
    org_id: Option<i64>,
    from: Date,
    to: Date,
) -> Result<Vec<CalendarRow>, DbError> {
    /// `GROUP BY +m.id` on SQLite: grouped by the plain rowid, its planner scanned the whole table in rowid
    /// order instead of the subtree's range of `meetings_subtree` (0.23 s for one branch at province scale).
    macro_rules! calendar_sql {
        ($group:literal) => {
            concat!(
                "SELECT m.id, m.org_id, m.kind, m.held_on, \
                 CAST(COUNT(a.person_id) AS BIGINT) AS invited, \
                 CAST(COALESCE(SUM(CASE WHEN a.attendance = 'present' THEN 1 ELSE 0 END), 0) AS BIGINT) AS present, \
                 CAST(COUNT(a.attendance) AS BIGINT) AS recorded \
                 FROM meetings m LEFT JOIN meeting_attendees a ON a.meeting_id = m.id \
                 WHERE m.org_path >= $1 AND m.org_path < $2 AND m.held_on >= $3 AND m.held_on <= $4 AND m.status = 'held' \
                 AND ($5 IS NULL OR m.org_id = $5) GROUP BY ",
                $group,
                " ORDER BY m.held_on, m.id"
            )
        };
    }
    let sql = match db {
        Db::Sqlite(_) => calendar_sql!("+m.id"),
        Db::Postgres(_) => calendar_sql!("m.id"),
    };
    Ok(on_db!(db, p => sqlx::query_as(sql).bind(start).bind(end).bind(from).bind(to).bind(org_id).fetch_all(p).await)?)
}

/// One organization's held meetings of one kind over a year, as months (bit `m - 1` for month `m`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MonthsRow {
    pub org_id: i64,
    pub kind: String,
    /// Meetings held.
    pub held: i64,
    /// Months with at least one meeting of the kind.
    pub months: i64,
    /// Months with at least one that counts: a 支委会 counts once its attendance, if recorded, has its
    /// quorum (rules::COMMITTEE_QUORUM_SQL); every other kind counts.
    pub counting: i64,
}

/// The held meetings of the subtree `[start, end)` between `from` and `to` (one year), grouped by
/// organization and kind into months: one grouped scan of the subtree's range of `meetings`, nothing else —
/// a 支委会's quorum is judged on the attendance counts its row keeps (migration 0029). The roll-up's query.
pub async fn calendar_months(db: &Db, start: &str, end: &str, from: Date, to: Date) -> Result<Vec<MonthsRow>, DbError> {
    let sql = |month: &str| {
        format!(
            "SELECT org_id, kind, CAST(COUNT(*) AS BIGINT) AS held, CAST(SUM(DISTINCT bit) AS BIGINT) AS months, \
             CAST(COALESCE(SUM(DISTINCT CASE WHEN ok = 1 THEN bit END), 0) AS BIGINT) AS counting FROM ( \
               SELECT m.org_id, m.kind, (1 << ({month} - 1)) AS bit, \
               CASE WHEN m.kind <> 'committee' OR m.recorded = 0 THEN 1 WHEN {quorum} THEN 1 ELSE 0 END AS ok \
               FROM meetings m \
               WHERE m.org_path >= $1 AND m.org_path < $2 AND m.held_on >= $3 AND m.held_on <= $4 AND m.status = 'held' \
             ) AS x GROUP BY org_id, kind",
            quorum = crate::rules::COMMITTEE_QUORUM_SQL
        )
    };
    let sql = sql(match db {
        Db::Sqlite(_) => "CAST(strftime('%m', m.held_on) AS INTEGER)",
        Db::Postgres(_) => "CAST(EXTRACT(MONTH FROM m.held_on) AS INTEGER)",
    });
    Ok(on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(start).bind(end).bind(from).bind(to)
        .fetch_all(p).await)?)
}

/// `(meeting_id, org_id, person_id)` of everyone who took part in a held 谈心谈话 of the subtree (of `org_id`
/// alone, if given) between `from` and `to`: invited and not recorded on leave or absent.
pub async fn talk_participants(
    db: &Db,
    start: &str,
    end: &str,
    org_id: Option<i64>,
    from: Date,
    to: Date,
) -> Result<Vec<(i64, i64, i64)>, DbError> {
    const SQL: &str = "SELECT a.meeting_id, m.org_id, a.person_id FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id \
        WHERE m.org_path >= $1 AND m.org_path < $2 AND m.held_on >= $3 AND m.held_on <= $4 AND m.status = 'held' \
        AND ($5 IS NULL OR m.org_id = $5) \
        AND m.kind = 'heart_talk' AND (a.attendance IS NULL OR a.attendance = 'present') ORDER BY a.meeting_id, a.person_id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(from).bind(to).bind(org_id).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- people and organizations (read only)

/// A member of the platform's people, as organizational life needs her.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_path: String,
    pub stage: String,
    pub party_post: Option<String>,
}

/// The Party members (full and probationary) of the subtree `[start, end)` whose membership is in force —
/// not deceased, left or suspended — in tree order.
pub async fn members(db: &Db, start: &str, end: &str) -> Result<Vec<MemberRow>, DbError> {
    const SQL: &str = "SELECT id, name, org_id, org_path, stage, party_post FROM people \
        WHERE org_path >= $1 AND org_path < $2 AND stage IN ('full', 'probationary') \
        AND status NOT IN ('deceased', 'left', 'suspended') ORDER BY org_path, id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).fetch_all(p).await)?)
}

/// `(org_id, org_path, n)`: each organization of the subtree `[start, end)` with the full members of its own
/// subtree as the platform's maintained head counts (`org_counts`, by stage whatever the status) have them.
pub async fn full_member_counts(db: &Db, start: &str, end: &str) -> Result<Vec<(i64, String, i64)>, DbError> {
    const SQL: &str = "SELECT o.id, o.path, CAST(SUM(c.n) AS BIGINT) FROM orgs o JOIN org_counts c ON c.org_id = o.id \
        WHERE o.path >= $1 AND o.path < $2 AND c.stage = 'full' GROUP BY o.id, o.path";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).fetch_all(p).await)?)
}

/// `(org_path, n)`: the full members of the subtree `[start, end)` whose membership is not in force (deceased,
/// left, suspended), grouped by organization: what [`full_member_counts`] counts and [`members`] does not. A
/// few rows, found through the index `people_out_of_force` (migration 0029) without walking the members.
pub async fn full_members_out_of_force(db: &Db, start: &str, end: &str) -> Result<Vec<(String, i64)>, DbError> {
    macro_rules! out_sql {
        ($from:literal) => {
            concat!(
                "SELECT org_path, CAST(COUNT(*) AS BIGINT) FROM ",
                $from,
                " WHERE stage = 'full' AND status IN ('deceased', 'left', 'suspended') \
                 AND org_path >= $1 AND org_path < $2 GROUP BY org_path"
            )
        };
    }
    // SQLite's planner, without statistics, would take the subtree's range of `people_subtree` (every
    // member of a province) over the few rows of the status index.
    let sql = match db {
        Db::Sqlite(_) => out_sql!("people INDEXED BY people_out_of_force"),
        Db::Postgres(_) => out_sql!("people"),
    };
    Ok(on_db!(db, p => sqlx::query_as(sql).bind(start).bind(end).fetch_all(p).await)?)
}

/// People of the subtree `[start, end)` who have an account (whatever their stage): the demo invites them, so
/// that every demo login has meetings to see.
pub async fn people_with_accounts(db: &Db, start: &str, end: &str) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT p.id FROM people p JOIN users u ON u.person_id = p.id \
        WHERE p.org_path >= $1 AND p.org_path < $2 ORDER BY p.id";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(start).bind(end).fetch_all(p).await)?)
}

/// `(id, org_path)` of the people among `ids` that exist.
pub async fn people_paths(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT id, org_path FROM people WHERE id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT id, org_path FROM people WHERE id = ANY($1)";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(ids).fetch_all(p).await?,
    })
}

fn json_ids(ids: &[i64]) -> String {
    let parts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// One person's attendance counts over the meetings of a period.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PersonAttendanceRow {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub invited: i64,
    pub present: i64,
    pub on_leave: i64,
    pub absent: i64,
}

/// Attendance per person of the subtree `[start, end)` over the meetings held between `from` and `to`
/// (planned and cancelled ones left out), by organization and name, at most `limit` people.
pub async fn person_attendance(
    db: &Db,
    start: &str,
    end: &str,
    from: Date,
    to: Date,
    limit: i64,
) -> Result<Vec<PersonAttendanceRow>, DbError> {
    const SQL: &str = "SELECT p.id AS person_id, p.name, o.name AS org_name, \
        CAST(COUNT(a.meeting_id) AS BIGINT) AS invited, \
        CAST(COALESCE(SUM(CASE WHEN a.attendance = 'present' THEN 1 ELSE 0 END), 0) AS BIGINT) AS present, \
        CAST(COALESCE(SUM(CASE WHEN a.attendance = 'leave' THEN 1 ELSE 0 END), 0) AS BIGINT) AS on_leave, \
        CAST(COALESCE(SUM(CASE WHEN a.attendance = 'absent' THEN 1 ELSE 0 END), 0) AS BIGINT) AS absent \
        FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id JOIN people p ON p.id = a.person_id \
        JOIN orgs o ON o.id = p.org_id \
        WHERE p.org_path >= $1 AND p.org_path < $2 AND m.held_on >= $3 AND m.held_on <= $4 AND m.status = 'held' \
        GROUP BY p.id, p.name, o.name, p.org_path ORDER BY p.org_path, p.name, p.id LIMIT $5";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(start).bind(end).bind(from).bind(to).bind(limit).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- a member's copy of her data

/// A person's invitations and attendance, for her copy of her data (PIPL 第四十五条).
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct MyAttendanceRow {
    pub held_on: Date,
    pub kind: String,
    pub title: String,
    pub attendance: Option<String>,
    pub reason: Option<String>,
}

pub async fn attendance_of_person(db: &Db, person_id: i64) -> Result<Vec<MyAttendanceRow>, DbError> {
    const SQL: &str = "SELECT m.held_on, m.kind, m.title, a.attendance, a.reason FROM meeting_attendees a \
        JOIN meetings m ON m.id = a.meeting_id WHERE a.person_id = $1 ORDER BY m.held_on DESC, m.id DESC";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: her attendance stays (the branch's organizational life record) without
/// her leave reasons; in the meetings she was invited to, her name `$3` in the title, agenda, place and minutes
/// becomes the pseudonym `$2`.
pub const ERASE_PERSON: &[&str] = &[
    "UPDATE meeting_attendees SET reason = NULL WHERE person_id = $1",
    "UPDATE meetings SET title = REPLACE(title, $3, $2), agenda = REPLACE(agenda, $3, $2), \
     place = REPLACE(place, $3, $2), minutes = REPLACE(minutes, $3, $2) \
     WHERE id IN (SELECT meeting_id FROM meeting_attendees WHERE person_id = $1)",
];

// ---------------------------------------------------------------- the province demo (set-based)

/// Demo only (the province scale): one held meeting of `kind` titled `title` on `held_on` for every branch
/// whose id modulo `gap` is not `skip` (deterministic gaps for the calendar), with its attendees — the
/// branch's members in force among those whose id modulo `share` is `pick` (`share` = 1: all) — recorded
/// present except about one in eleven absent. Branches with a meeting before `before` (those the per-branch
/// demo already filled) are left alone. Three statements whatever the number of branches (the third sets
/// the new meetings' attendance counts); returns the attendee rows written.
#[allow(clippy::too_many_arguments)]
pub async fn demo_bulk_meetings(
    tx: &mut DbTx,
    kind: &str,
    title: &str,
    held_on: Date,
    (gap, skip): (i64, i64),
    (share, pick): (i64, i64),
    before: Date,
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    const MEETINGS: &str = "INSERT INTO meetings (org_id, org_path, kind, title, held_on, start_time, place, minutes, \
        status, archived, version, created_at, updated_at) \
        SELECT id, path, $1, $2, $3, '14:30', '党员活动室', '会议按议程进行，与会同志充分讨论，形成一致意见。', 'held', FALSE, 1, $4, $4 \
        FROM orgs WHERE kind = 'branch' AND id % $5 <> $6 \
        AND NOT EXISTS (SELECT 1 FROM meetings x WHERE x.org_id = orgs.id AND x.held_on < $7)";
    const ATTENDEES: &str = "INSERT INTO meeting_attendees (meeting_id, person_id, attendance, recorded_at) \
        SELECT m.id, p.id, CASE WHEN (p.id + m.id) % 11 = 0 THEN 'absent' ELSE 'present' END, $4 \
        FROM meetings m JOIN people p ON p.org_id = m.org_id \
        WHERE m.kind = $1 AND m.title = $2 AND m.held_on = $3 AND p.stage IN ('full', 'probationary') \
        AND p.status NOT IN ('deceased', 'left', 'suspended') AND p.id % $5 = $6";
    on_tx!(tx, c => sqlx::query(MEETINGS).bind(kind).bind(title).bind(held_on).bind(now).bind(gap).bind(skip).bind(before)
        .execute(c).await.map(|_| ()))?;
    const COUNTS: &str = concat!(recount_sql!(), "WHERE kind = $1 AND title = $2 AND held_on = $3");
    let n = on_tx!(tx, c => sqlx::query(ATTENDEES).bind(kind).bind(title).bind(held_on).bind(now).bind(share).bind(pick)
        .execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query(COUNTS).bind(kind).bind(title).bind(held_on).execute(c).await.map(|_| ()))?;
    Ok(n)
}
