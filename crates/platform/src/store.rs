//! The only SQL of the platform. Every statement is a constant in the dialect SQLite and PostgreSQL
//! share; where they differ (id sequences, list parameters) both texts stand side by side.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::{Date, OffsetDateTime};

use crate::model::{OrgRow, PersonRow, UserRow};

pub mod import_job;
pub mod rights;

// ---------------------------------------------------------------- organizations

pub struct NewOrg<'a> {
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub short_name: Option<&'a str>,
    pub kind: &'a str,
    pub category: &'a str,
    pub parent_path: &'a str,
    pub depth: i32,
    pub secretary: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub established_on: Option<Date>,
    pub now: OffsetDateTime,
}

/// Inserts an organization and sets its path, which contains its own id.
pub async fn insert_org(tx: &mut DbTx, o: &NewOrg<'_>) -> Result<i64, DbError> {
    // The id is taken first so the path can be written in the same INSERT. SQLite's transaction is
    // IMMEDIATE (one writer), so MAX+1 cannot race; PostgreSQL draws from the sequence.
    let id: i64 = match tx {
        DbTx::Sqlite(t) => sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM orgs").fetch_one(&mut **t).await?,
        DbTx::Postgres(t) => sqlx::query_scalar("SELECT nextval('orgs_id_seq')").fetch_one(&mut **t).await?,
    };
    let path = format!("{}{id}/", o.parent_path);
    const SQL: &str = "INSERT INTO orgs (id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(id).bind(o.parent_id).bind(o.name).bind(o.short_name).bind(o.kind).bind(o.category)
        .bind(&path).bind(o.depth).bind(o.secretary).bind(o.contact_phone).bind(o.established_on).bind(o.now)
        .execute(c).await.map(|_| ()))?;
    Ok(id)
}

const ORG_BY_ID: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs WHERE id = $1";

pub async fn get_org(db: &Db, id: i64) -> Result<Option<OrgRow>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(ORG_BY_ID).bind(id).fetch_optional(p).await)?)
}

pub async fn get_org_tx(tx: &mut DbTx, id: i64) -> Result<Option<OrgRow>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_as(ORG_BY_ID).bind(id).fetch_optional(c).await)?)
}

/// Children of `parent` (roots when `None`), by name.
pub async fn org_children(db: &Db, parent: Option<i64>) -> Result<Vec<OrgRow>, DbError> {
    const CHILDREN: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs WHERE parent_id = $1 ORDER BY id";
    const ROOTS: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs WHERE parent_id IS NULL ORDER BY id";
    Ok(match parent {
        Some(id) => on_db!(db, p => sqlx::query_as(CHILDREN).bind(id).fetch_all(p).await)?,
        None => on_db!(db, p => sqlx::query_as(ROOTS).fetch_all(p).await)?,
    })
}

/// Organizations by id, in one round trip (breadcrumbs, names in lists).
pub async fn orgs_by_ids(db: &Db, ids: &[i64]) -> Result<Vec<OrgRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs WHERE id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs WHERE id = ANY($1)";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(ids).fetch_all(p).await?,
    })
}

/// Organizations of a subtree whose name contains `q` (for pickers), at most `limit`.
/// With `people_only`, only the kinds that hold people (branches, general branches, groups).
pub async fn search_orgs(
    db: &Db,
    start: &str,
    end: &str,
    q: &str,
    people_only: bool,
    limit: i64,
) -> Result<Vec<OrgRow>, DbError> {
    const SQL: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs \
        WHERE path >= $1 AND path < $2 AND name LIKE $3 ESCAPE '\\' \
        AND ($4 = FALSE OR kind IN ('branch', 'general_branch', 'group')) ORDER BY path LIMIT $5";
    let pattern = format!("%{}%", escape_like(q));
    Ok(on_db!(db, p => sqlx::query_as(SQL)
        .bind(start).bind(end).bind(&pattern).bind(people_only).bind(limit)
        .fetch_all(p).await)?)
}

fn json_ids(ids: &[i64]) -> String {
    let parts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(","))
}

pub fn escape_like(q: &str) -> String {
    q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Organizations whose full or short name is `name` (the register import names branches, not ids).
pub async fn orgs_named(db: &Db, name: &str) -> Result<Vec<OrgRow>, DbError> {
    const SQL: &str = "SELECT id, parent_id, name, short_name, kind, category, path, depth, secretary, contact_phone, established_on FROM orgs \
        WHERE name = $1 OR short_name = $1 ORDER BY path";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(name).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- head counts

/// Adds `delta` to the counts of every organization in `org_ids` (a person's lineage).
pub async fn add_counts(
    tx: &mut DbTx,
    org_ids: &[i64],
    stage: &str,
    category: &str,
    delta: i64,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO org_counts (org_id, stage, category, n) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (org_id, stage, category) DO UPDATE SET n = org_counts.n + excluded.n";
    for id in org_ids {
        on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(stage).bind(category).bind(delta).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// `(org_id, stage, category, n)` for each of `ids`.
pub async fn counts_for(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String, String, i64)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str =
        "SELECT org_id, stage, category, n FROM org_counts WHERE org_id IN (SELECT value FROM json_each($1))";
    const PG: &str = "SELECT org_id, stage, category, n FROM org_counts WHERE org_id = ANY($1)";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(ids).fetch_all(p).await?,
    })
}

/// The sum of the counts of `ids`, optionally of one stage and/or category: one row back, not twenty.
pub async fn count_total(db: &Db, ids: &[i64], stage: Option<&str>, category: Option<&str>) -> Result<i64, DbError> {
    if ids.is_empty() {
        return Ok(0);
    }
    const SQLITE: &str = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM org_counts WHERE org_id IN (SELECT value FROM json_each($1)) \
        AND ($2 IS NULL OR stage = $2) AND ($3 IS NULL OR category = $3)";
    const PG: &str = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM org_counts WHERE org_id = ANY($1) \
        AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR category = $3)";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_scalar(SQLITE).bind(json_ids(ids)).bind(stage).bind(category).fetch_one(p).await?,
        Db::Postgres(p) => sqlx::query_scalar(PG).bind(ids).bind(stage).bind(category).fetch_one(p).await?,
    })
}

// ---------------------------------------------------------------- people

/// A person's row as written: plain items plus the sealed sensitive ones.
pub struct PersonWrite<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub name: &'a str,
    pub gender: &'a str,
    pub ethnicity: Option<&'a str>,
    pub birth_date: Date,
    pub native_place: Option<&'a str>,
    pub education: Option<&'a str>,
    pub category: &'a str,
    pub person_no: Option<&'a str>,
    pub stage: &'a str,
    pub status: &'a str,
    pub party_post: Option<&'a str>,
    pub job_title: Option<&'a str>,
    pub applied_on: Option<Date>,
    pub activist_on: Option<Date>,
    pub candidate_on: Option<Date>,
    pub admitted_on: Option<Date>,
    pub converted_on: Option<Date>,
    pub id_number_enc: &'a [u8],
    pub id_number_bidx: &'a [u8],
    pub id_number_masked: &'a str,
    pub phone_enc: Option<&'a [u8]>,
    pub phone_masked: Option<&'a str>,
    pub address_enc: Option<&'a [u8]>,
    pub now: OffsetDateTime,
}

pub async fn insert_person(tx: &mut DbTx, p: &PersonWrite<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO people (org_id, org_path, name, gender, ethnicity, birth_date, native_place, education, category, person_no, stage, status, \
        party_post, job_title, applied_on, activist_on, candidate_on, admitted_on, converted_on, id_number_enc, id_number_bidx, id_number_masked, \
        phone_enc, phone_masked, address_enc, version, created_at, updated_at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, 1, $26, $26) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(p.org_id).bind(p.org_path).bind(p.name).bind(p.gender).bind(p.ethnicity).bind(p.birth_date)
        .bind(p.native_place).bind(p.education).bind(p.category).bind(p.person_no).bind(p.stage).bind(p.status)
        .bind(p.party_post).bind(p.job_title).bind(p.applied_on).bind(p.activist_on).bind(p.candidate_on)
        .bind(p.admitted_on).bind(p.converted_on).bind(p.id_number_enc).bind(p.id_number_bidx).bind(p.id_number_masked)
        .bind(p.phone_enc).bind(p.phone_masked).bind(p.address_enc).bind(p.now)
        .fetch_one(c).await)?)
}

/// People one multi-row INSERT carries: 28 values a row, below SQLite's 32,766 bound values (and
/// PostgreSQL's 65,535).
pub const PEOPLE_PER_INSERT: usize = 500;

/// Inserts `people` with one multi-row INSERT per [`PEOPLE_PER_INSERT`] (the register import: a
/// statement a row costs a round trip, a parse and a bind each, and was most of a 100k-row import's
/// writing time). Ids are not returned; a taken ID number is `Conflict` for the whole call.
pub async fn insert_people(tx: &mut DbTx, people: &[PersonWrite<'_>]) -> Result<(), DbError> {
    const HEAD: &str = "INSERT INTO people (org_id, org_path, name, gender, ethnicity, birth_date, native_place, education, category, person_no, stage, status, \
        party_post, job_title, applied_on, activist_on, candidate_on, admitted_on, converted_on, id_number_enc, id_number_bidx, id_number_masked, \
        phone_enc, phone_masked, address_enc, version, created_at, updated_at) ";
    macro_rules! values {
        ($q:ident, $chunk:ident) => {
            $q.push_values($chunk, |mut b, p| {
                b.push_bind(p.org_id)
                    .push_bind(p.org_path)
                    .push_bind(p.name)
                    .push_bind(p.gender)
                    .push_bind(p.ethnicity)
                    .push_bind(p.birth_date)
                    .push_bind(p.native_place)
                    .push_bind(p.education)
                    .push_bind(p.category)
                    .push_bind(p.person_no)
                    .push_bind(p.stage)
                    .push_bind(p.status)
                    .push_bind(p.party_post)
                    .push_bind(p.job_title)
                    .push_bind(p.applied_on)
                    .push_bind(p.activist_on)
                    .push_bind(p.candidate_on)
                    .push_bind(p.admitted_on)
                    .push_bind(p.converted_on)
                    .push_bind(p.id_number_enc)
                    .push_bind(p.id_number_bidx)
                    .push_bind(p.id_number_masked)
                    .push_bind(p.phone_enc)
                    .push_bind(p.phone_masked)
                    .push_bind(p.address_enc)
                    .push_bind(1_i64)
                    .push_bind(p.now)
                    .push_bind(p.now);
            })
        };
    }
    for chunk in people.chunks(PEOPLE_PER_INSERT) {
        match tx {
            DbTx::Sqlite(t) => {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(HEAD);
                values!(q, chunk);
                q.build().execute(&mut **t).await?;
            }
            DbTx::Postgres(t) => {
                let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(HEAD);
                values!(q, chunk);
                q.build().execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}

/// Rewrites a person if `version` is still the stored one; returns whether it was.
pub async fn update_person(tx: &mut DbTx, id: i64, version: i64, p: &PersonWrite<'_>) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE people SET org_id = $1, org_path = $2, name = $3, gender = $4, ethnicity = $5, birth_date = $6, native_place = $7, \
        education = $8, category = $9, person_no = $10, stage = $11, status = $12, party_post = $13, job_title = $14, applied_on = $15, \
        activist_on = $16, candidate_on = $17, admitted_on = $18, converted_on = $19, id_number_enc = $20, id_number_bidx = $21, \
        id_number_masked = $22, phone_enc = $23, phone_masked = $24, address_enc = $25, version = version + 1, updated_at = $26 \
        WHERE id = $27 AND version = $28";
    let n = on_tx!(tx, c => sqlx::query(SQL)
        .bind(p.org_id).bind(p.org_path).bind(p.name).bind(p.gender).bind(p.ethnicity).bind(p.birth_date)
        .bind(p.native_place).bind(p.education).bind(p.category).bind(p.person_no).bind(p.stage).bind(p.status)
        .bind(p.party_post).bind(p.job_title).bind(p.applied_on).bind(p.activist_on).bind(p.candidate_on)
        .bind(p.admitted_on).bind(p.converted_on).bind(p.id_number_enc).bind(p.id_number_bidx).bind(p.id_number_masked)
        .bind(p.phone_enc).bind(p.phone_masked).bind(p.address_enc).bind(p.now).bind(id).bind(version)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Moves a person to another organization if she is still in `from_org_id` (a transfer accepted: the
/// caller moves the head counts in the same transaction); returns whether she was.
pub async fn move_person(
    tx: &mut DbTx,
    id: i64,
    from_org_id: i64,
    to_org_id: i64,
    to_org_path: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE people SET org_id = $1, org_path = $2, version = version + 1, updated_at = $3 \
        WHERE id = $4 AND org_id = $5";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(to_org_id).bind(to_org_path).bind(now).bind(id).bind(from_org_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Sets a person's status (党籍/组织关系 status) if it is still `from`; returns whether it was.
pub async fn set_person_status(
    tx: &mut DbTx,
    id: i64,
    from: &str,
    to: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str =
        "UPDATE people SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND status = $4";
    let n = on_tx!(tx, c => sqlx::query(SQL).bind(to).bind(now).bind(id).bind(from)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// A person's row inside a transaction.
pub async fn get_person_tx(tx: &mut DbTx, id: i64) -> Result<Option<PersonRow>, DbError> {
    const SQL: &str = "SELECT id, org_id, org_path, name, gender, ethnicity, birth_date, native_place, education, category, person_no, stage, status, party_post, job_title, \
        applied_on, activist_on, candidate_on, admitted_on, converted_on, id_number_masked, phone_masked, version FROM people WHERE id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?)
}

pub async fn get_person(db: &Db, id: i64) -> Result<Option<PersonRow>, DbError> {
    const SQL: &str = "SELECT id, org_id, org_path, name, gender, ethnicity, birth_date, native_place, education, category, person_no, stage, status, party_post, job_title, \
        applied_on, activist_on, candidate_on, admitted_on, converted_on, id_number_masked, phone_masked, version FROM people WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// The person registered with this ID number (by its blind index), if any.
pub async fn person_by_bidx(db: &Db, bidx: &[u8]) -> Result<Option<i64>, DbError> {
    const SQL: &str = "SELECT id FROM people WHERE id_number_bidx = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(bidx).fetch_optional(p).await)?)
}

/// Which of the blind indexes `bidx` are registered already: one query per 500 (the import checks a whole
/// file at once; a query per row made 100,000 round trips).
pub async fn registered_bidx(db: &Db, bidx: &[Vec<u8>]) -> Result<std::collections::HashSet<Vec<u8>>, DbError> {
    let mut out = std::collections::HashSet::new();
    for chunk in bidx.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT id_number_bidx FROM people WHERE id_number_bidx IN ({})", marks.join(", "));
        let found: Vec<Vec<u8>> = on_db!(db, p => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()));
            for b in chunk {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

/// The sealed items of a person, for an edit that keeps them.
pub async fn person_sealed(
    tx: &mut DbTx,
    id: i64,
) -> Result<Option<(Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>)>, DbError> {
    const SQL: &str = "SELECT id_number_enc, id_number_bidx, phone_enc, address_enc FROM people WHERE id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)?)
}

/// A person of a list, with the name of her organization (joined, not fetched in a second query).
#[derive(Debug, sqlx::FromRow)]
pub struct PersonListRow {
    #[sqlx(flatten)]
    pub person: PersonRow,
    pub org_name: String,
}

/// Filters of the people list; a `None` filter is not applied.
#[derive(Clone, Debug, Default)]
pub struct PeopleFilter {
    pub stage: Option<String>,
    pub category: Option<String>,
    /// Substring of the name, or the exact student/staff number.
    pub text: Option<String>,
    /// Exact ID number, as its blind index.
    pub id_number_bidx: Option<Vec<u8>>,
}

/// One page of the people in the subtree range `[start, end)`, ordered by (org_path, id), after the
/// keyset cursor `after`. The (org_path, id) index serves every subtree, large or small, without a sort.
/// The lower bound is one row value, so the planner of either database starts the index scan exactly
/// there (two separate lower bounds let SQLite pick the weaker one and scan from the index's start).
pub async fn list_people(
    db: &Db,
    start: &str,
    end: &str,
    f: &PeopleFilter,
    after: Option<(&str, i64)>,
    limit: i64,
) -> Result<Vec<PersonListRow>, DbError> {
    const PAGE: &str = "SELECT p.id, p.org_id, p.org_path, p.name, p.gender, p.ethnicity, p.birth_date, p.native_place, p.education, p.category, \
        p.person_no, p.stage, p.status, p.party_post, p.job_title, p.applied_on, p.activist_on, p.candidate_on, p.admitted_on, p.converted_on, \
        p.id_number_masked, p.phone_masked, p.version, o.name AS org_name \
        FROM people p JOIN orgs o ON o.id = p.org_id \
        WHERE (p.org_path, p.id) > ($1, $2) AND p.org_path < $3 \
        AND ($4 IS NULL OR p.stage = $4) AND ($5 IS NULL OR p.category = $5) \
        AND ($6 IS NULL OR p.name LIKE '%' || $6 || '%' ESCAPE '\\' OR p.person_no = $7) \
        AND ($8 IS NULL OR p.id_number_bidx = $8) \
        ORDER BY p.org_path, p.id LIMIT $9";
    let (from_path, from_id) = match after {
        Some((p, id)) if (p, id) > (start, 0) => (p, id),
        _ => (start, 0),
    };
    let like = f.text.as_deref().map(escape_like);
    Ok(on_db!(db, p => sqlx::query_as(PAGE)
        .bind(from_path).bind(from_id).bind(end).bind(f.stage.as_deref()).bind(f.category.as_deref())
        .bind(like.as_deref()).bind(f.text.as_deref()).bind(f.id_number_bidx.as_deref()).bind(limit)
        .fetch_all(p).await)?)
}

// ---------------------------------------------------------------- accounts and grants

pub async fn count_users(db: &Db) -> Result<i64, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?)
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub person_id: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_user(tx: &mut DbTx, u: &NewUser<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO users (username, display_name, password_hash, person_id, active, created_at, password_changed_at) \
        VALUES ($1, $2, $3, $4, TRUE, $5, $5) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(u.username).bind(u.display_name).bind(u.password_hash).bind(u.person_id).bind(u.now)
        .fetch_one(c).await)?)
}

/// The load test's member accounts (`demo::member_accounts`): one for each of the first `limit` people
/// without an account, in the order of their ids, named `prefix` and a number (counting on after the accounts
/// already named so), with her name and one shared password hash, in one statement. Returns how many rows were
/// written.
pub async fn insert_member_accounts(
    tx: &mut DbTx,
    prefix: &str,
    password_hash: &str,
    limit: i64,
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    const SQL: &str = "INSERT INTO users (username, display_name, password_hash, person_id, active, created_at, password_changed_at) \
        SELECT $1 || CAST(ROW_NUMBER() OVER (ORDER BY p.id) + (SELECT COUNT(*) FROM users WHERE username LIKE $1 || '%') AS TEXT), \
        p.name, $2, p.id, TRUE, $3, $3 FROM people p \
        WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.person_id = p.id) ORDER BY p.id LIMIT $4";
    Ok(on_tx!(tx, c => sqlx::query(SQL)
        .bind(prefix).bind(password_hash).bind(now).bind(limit)
        .execute(c).await.map(|r| r.rows_affected()))?)
}

pub async fn user_by_username(db: &Db, username: &str) -> Result<Option<UserRow>, DbError> {
    const SQL: &str = "SELECT id, username, display_name, password_hash, person_id, active, failed_logins, locked_until FROM users WHERE username = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(username).fetch_optional(p).await)?)
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, DbError> {
    const SQL: &str = "SELECT id, username, display_name, password_hash, person_id, active, failed_logins, locked_until FROM users WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

pub async fn list_users(db: &Db, after_id: i64, limit: i64) -> Result<Vec<UserRow>, DbError> {
    const SQL: &str = "SELECT id, username, display_name, password_hash, person_id, active, failed_logins, locked_until FROM users WHERE id > $1 ORDER BY id LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(after_id).bind(limit).fetch_all(p).await)?)
}

/// Counts a failed password; at `threshold` failures in a row the account locks until `lock_until` and
/// the count starts again. Returns whether this failure locked it.
pub async fn record_login_failure(
    db: &Db,
    user_id: i64,
    threshold: i64,
    lock_until: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE users SET \
        locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END, \
        failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
        WHERE id = $1 RETURNING failed_logins";
    // The count starts again only when this failure locked the account.
    let count: i64 =
        on_db!(db, p => sqlx::query_scalar(SQL).bind(user_id).bind(threshold).bind(lock_until).fetch_one(p).await)?;
    Ok(count == 0)
}

/// A successful login clears the failure count and any expired lock.
pub async fn clear_login_failures(tx: &mut DbTx, user_id: i64) -> Result<(), DbError> {
    const SQL: &str = "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)";
    on_tx!(tx, c => sqlx::query(SQL).bind(user_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn set_password(tx: &mut DbTx, user_id: i64, hash: &str, now: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str = "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3";
    on_tx!(tx, c => sqlx::query(SQL).bind(hash).bind(now).bind(user_id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The account's previous password hashes, newest first (at most `limit`).
pub async fn password_history(db: &Db, user_id: i64, limit: i64) -> Result<Vec<String>, DbError> {
    const SQL: &str = "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(user_id).bind(limit).fetch_all(p).await)?)
}

/// Keeps the hash a password change replaces, and only the newest `keep` of the account's.
pub async fn push_password_history(
    tx: &mut DbTx,
    user_id: i64,
    hash: &str,
    now: OffsetDateTime,
    keep: i64,
) -> Result<(), DbError> {
    const INSERT: &str = "INSERT INTO password_history (user_id, password_hash, replaced_at) VALUES ($1, $2, $3)";
    const PRUNE: &str = "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN \
        (SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)";
    on_tx!(tx, c => sqlx::query(INSERT).bind(user_id).bind(hash).bind(now).execute(&mut *c).await.map(|_| ()))?;
    on_tx!(tx, c => sqlx::query(PRUNE).bind(user_id).bind(keep).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Makes the account's password due for a change at once (its holder was given a role that needs a
/// longer one): the next sign-in leads to 修改密码.
pub async fn expire_password(tx: &mut DbTx, user_id: i64) -> Result<(), DbError> {
    const SQL: &str = "UPDATE users SET password_changed_at = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(OffsetDateTime::UNIX_EPOCH).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// When the account's password was last set.
pub async fn password_changed_at(db: &Db, user_id: i64) -> Result<Option<OffsetDateTime>, DbError> {
    const SQL: &str = "SELECT password_changed_at FROM users WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(user_id).fetch_optional(p).await)?)
}

/// Enables or disables an account; returns whether it changed (false: it already was so).
pub async fn set_user_active(
    tx: &mut DbTx,
    user_id: i64,
    active: bool,
    now: OffsetDateTime,
    reason: Option<&str>,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE users SET active = $2, \
        disabled_at = CASE WHEN $2 THEN NULL ELSE $3 END, disabled_reason = CASE WHEN $2 THEN NULL ELSE $4 END \
        WHERE id = $1 AND active <> $2";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(active).bind(now).bind(reason)
        .execute(c).await.map(|r| r.rows_affected() == 1))?)
}

/// `(user_id, username, created_at, role, starts_on, ends_on)`: every active account that is not linked
/// to a person, with each of its grants (one row with empty grant columns when it has none).
pub type UnlinkedGrantRow = (i64, String, OffsetDateTime, Option<String>, Option<Date>, Option<Date>);

pub async fn unlinked_active_accounts(db: &Db) -> Result<Vec<UnlinkedGrantRow>, DbError> {
    const SQL: &str = "SELECT u.id, u.username, u.created_at, g.role, g.starts_on, g.ends_on FROM users u \
        LEFT JOIN grants g ON g.user_id = u.id WHERE u.active = TRUE AND u.person_id IS NULL ORDER BY u.id, g.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)?)
}

/// Rewrites a person's phone (sealed and masked) and bumps her version.
pub async fn set_person_phone(
    tx: &mut DbTx,
    id: i64,
    phone_enc: &[u8],
    phone_masked: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str =
        "UPDATE people SET phone_enc = $1, phone_masked = $2, version = version + 1, updated_at = $3 WHERE id = $4";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(phone_enc).bind(phone_masked).bind(now).bind(id)
        .execute(c).await.map(|r| r.rows_affected() == 1))?)
}

pub struct NewGrant<'a> {
    pub user_id: i64,
    pub role: &'a str,
    pub org_id: Option<i64>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub created_by: Option<i64>,
    pub now: OffsetDateTime,
}

pub async fn insert_grant(tx: &mut DbTx, g: &NewGrant<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO grants (user_id, role, org_id, starts_on, ends_on, created_at, created_by) \
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(g.user_id).bind(g.role).bind(g.org_id).bind(g.starts_on).bind(g.ends_on).bind(g.now).bind(g.created_by)
        .fetch_one(c).await)?)
}

/// One grant as its record shows it: the term, who gave it, and whether and why it was withdrawn.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct GrantRecord {
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub created_at: OffsetDateTime,
    pub created_by: Option<String>,
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdraw_reason: Option<String>,
}

/// The columns of [`GrantRecord`], with the names of the accounts that gave and withdrew the grant.
macro_rules! grant_record_select {
    () => {
        "SELECT g.id, g.user_id, g.role, g.org_id, o.name AS org_name, g.starts_on, g.ends_on, g.created_at, \
         cu.username AS created_by, g.withdrawn_at, wu.username AS withdrawn_by, g.withdraw_reason \
         FROM grants g LEFT JOIN orgs o ON o.id = g.org_id \
         LEFT JOIN users cu ON cu.id = g.created_by LEFT JOIN users wu ON wu.id = g.withdrawn_by "
    };
}

/// Every grant an account was ever given, newest first.
pub async fn grant_records(db: &Db, user_id: i64) -> Result<Vec<GrantRecord>, DbError> {
    const SQL: &str = concat!(grant_record_select!(), "WHERE g.user_id = $1 ORDER BY g.id DESC");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(user_id).fetch_all(p).await)?)
}

pub async fn grant_record(db: &Db, grant_id: i64) -> Result<Option<GrantRecord>, DbError> {
    const SQL: &str = concat!(grant_record_select!(), "WHERE g.id = $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(grant_id).fetch_optional(p).await)?)
}

/// Withdraws a grant that was not withdrawn yet: its term ends on `ends_on` (the day before the
/// withdrawal, so it is out of force at once) and the act is recorded. False when it was withdrawn already.
pub async fn withdraw_grant(
    tx: &mut DbTx,
    grant_id: i64,
    ends_on: Date,
    by: i64,
    reason: &str,
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE grants SET ends_on = $2, withdrawn_at = $3, withdrawn_by = $4, withdraw_reason = $5 \
        WHERE id = $1 AND withdrawn_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(grant_id).bind(ends_on).bind(now).bind(by).bind(reason)
        .execute(c).await.map(|r| r.rows_affected() == 1))?)
}

/// `(role, org_id, org_name, org_path, starts_on, ends_on)` of every grant of a user.
pub type GrantRow = (String, Option<i64>, Option<String>, Option<String>, Option<Date>, Option<Date>);

pub async fn grants_of(db: &Db, user_id: i64) -> Result<Vec<GrantRow>, DbError> {
    const SQL: &str = "SELECT g.role, g.org_id, o.name, o.path, g.starts_on, g.ends_on FROM grants g LEFT JOIN orgs o ON o.id = g.org_id WHERE g.user_id = $1 ORDER BY g.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(user_id).fetch_all(p).await)?)
}

pub async fn role_holders(db: &Db, role: &str) -> Result<i64, DbError> {
    const SQL: &str =
        "SELECT COUNT(*) FROM grants g JOIN users u ON u.id = g.user_id WHERE g.role = $1 AND u.active = TRUE";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(role).fetch_one(p).await)?)
}

// ---------------------------------------------------------------- sessions

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: i64,
    pub kind: &'a str,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub async fn insert_session(tx: &mut DbTx, s: &NewSession<'_>) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at, ip, user_agent, reauth_at) VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $4)";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(s.token_hash).bind(s.user_id).bind(s.kind).bind(s.now).bind(s.expires_at).bind(s.ip).bind(s.user_agent)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The client address and user-agent of each of an account's live sessions seen since `since` (the
/// shared-account heuristic, `rules::shared_account_signs`); `-` where the client sent none.
pub async fn recent_session_clients(
    tx: &mut DbTx,
    user_id: i64,
    since: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Vec<(String, String)>, DbError> {
    const SQL: &str = "SELECT DISTINCT COALESCE(ip, '-'), COALESCE(user_agent, '-') FROM sessions WHERE user_id = $1 \
        AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at >= $3";
    Ok(on_tx!(tx, c => sqlx::query_as(SQL).bind(user_id).bind(now).bind(since).fetch_all(c).await)?)
}

/// A security administrator's review of an account's shared-account flag (security.md AT-16).
pub async fn insert_shared_account_review(
    tx: &mut DbTx,
    user_id: i64,
    reviewed_by: i64,
    at: OffsetDateTime,
    note: &str,
) -> Result<(), DbError> {
    const SQL: &str =
        "INSERT INTO shared_account_reviews (user_id, reviewed_by, reviewed_at, note) VALUES ($1, $2, $3, $4)";
    on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(reviewed_by).bind(at).bind(note).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The reviews of shared-account flags of these accounts: `(user_id, reviewed_at)`, by account then time.
pub async fn shared_account_reviews(db: &Db, user_ids: &[i64]) -> Result<Vec<(i64, OffsetDateTime)>, DbError> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT user_id, reviewed_at FROM shared_account_reviews \
        WHERE user_id IN (SELECT value FROM json_each($1)) ORDER BY user_id, id";
    const PG: &str =
        "SELECT user_id, reviewed_at FROM shared_account_reviews WHERE user_id = ANY($1) ORDER BY user_id, id";
    Ok(match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(json_ids(user_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(user_ids).fetch_all(p).await?,
    })
}

/// Raises a notification of `kind` about an account for the security administrators, or — one is still
/// open — brings it up to date (newest detail and time, one more occurrence).
pub async fn raise_security_notification(
    tx: &mut DbTx,
    kind: &str,
    user_id: i64,
    detail: &str,
    at: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO security_notifications (kind, user_id, detail, times, raised_at) VALUES ($1, $2, $3, 1, $4) \
        ON CONFLICT (kind, user_id) WHERE cleared_at IS NULL \
        DO UPDATE SET detail = excluded.detail, raised_at = excluded.raised_at, times = security_notifications.times + 1";
    on_tx!(tx, c => sqlx::query(SQL).bind(kind).bind(user_id).bind(detail).bind(at).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Closes the open notification of `kind` about an account; how many were closed (0 or 1).
pub async fn clear_security_notification(
    tx: &mut DbTx,
    kind: &str,
    user_id: i64,
    cleared_by: i64,
    at: OffsetDateTime,
) -> Result<u64, DbError> {
    const SQL: &str = "UPDATE security_notifications SET cleared_at = $1, cleared_by = $2 \
        WHERE kind = $3 AND user_id = $4 AND cleared_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(at).bind(cleared_by).bind(kind).bind(user_id).execute(c).await
        .map(|r| r.rows_affected()))?)
}

/// An open notification for the security administrators, with the account it is about.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SecurityNotificationRow {
    pub id: i64,
    pub kind: String,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub detail: String,
    pub times: i64,
    pub raised_at: OffsetDateTime,
}

/// The open notifications for the security administrators, newest first, at most `limit`.
pub async fn open_security_notifications(db: &Db, limit: i64) -> Result<Vec<SecurityNotificationRow>, DbError> {
    const SQL: &str = "SELECT n.id, n.kind, n.user_id, u.username, u.display_name, n.detail, n.times, n.raised_at \
        FROM security_notifications n JOIN users u ON u.id = n.user_id WHERE n.cleared_at IS NULL \
        ORDER BY n.raised_at DESC, n.id DESC LIMIT $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(limit).fetch_all(p).await)?)
}

/// A live-or-not session with its user and each of the user's grants: one row per grant (one row with
/// empty grant columns when there is none). Everything a request needs to know about its caller, in one
/// round trip.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionActorRow {
    pub session_id: i64,
    pub kind: String,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub reauth_at: Option<OffsetDateTime>,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    pub active: bool,
    pub password_changed_at: OffsetDateTime,
    pub role: Option<String>,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub org_path: Option<String>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
}

pub async fn session_actor(db: &Db, hash: &[u8]) -> Result<Vec<SessionActorRow>, DbError> {
    const SQL: &str = "SELECT s.id AS session_id, s.kind, s.last_seen_at, s.expires_at, s.revoked_at, s.reauth_at, \
        u.id AS user_id, u.username, u.display_name, u.person_id, u.active, u.password_changed_at, \
        g.role, g.org_id, o.name AS org_name, o.path AS org_path, g.starts_on, g.ends_on \
        FROM sessions s JOIN users u ON u.id = s.user_id \
        LEFT JOIN grants g ON g.user_id = u.id LEFT JOIN orgs o ON o.id = g.org_id \
        WHERE s.token_hash = $1 ORDER BY g.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(hash).fetch_all(p).await)?)
}

pub async fn touch_session(db: &Db, id: i64, now: OffsetDateTime) -> Result<(), DbError> {
    const SQL: &str = "UPDATE sessions SET last_seen_at = $1 WHERE id = $2";
    on_db!(db, p => sqlx::query(SQL).bind(now).bind(id).execute(p).await.map(|_| ()))?;
    Ok(())
}

pub async fn revoke_session(tx: &mut DbTx, hash: &[u8], now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(now).bind(hash).execute(c).await.map(|r| r.rows_affected() == 1))?)
}

/// Ends every session of a user except the one whose token hashes to `except`.
pub async fn revoke_user_sessions(
    tx: &mut DbTx,
    user_id: i64,
    except: &[u8],
    now: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str =
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND token_hash <> $3 AND revoked_at IS NULL";
    on_tx!(tx, c => sqlx::query(SQL).bind(now).bind(user_id).bind(except).execute(c).await.map(|_| ()))?;
    Ok(())
}

// ---------------------------------------------------------------- second factor and step-up

/// An account's authenticator: the encrypted secret, whether its enrolment was confirmed, and the last
/// accepted time step.
#[derive(Debug, sqlx::FromRow)]
pub struct TotpRow {
    pub secret: Vec<u8>,
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_step: i64,
}

const TOTP_OF: &str = "SELECT secret, confirmed_at, last_step FROM mfa_totp WHERE user_id = $1";

pub async fn totp_of(db: &Db, user_id: i64) -> Result<Option<TotpRow>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(TOTP_OF).bind(user_id).fetch_optional(p).await)?)
}

/// [`totp_of`] inside the caller's transaction.
pub async fn totp_of_tx(tx: &mut DbTx, user_id: i64) -> Result<Option<TotpRow>, DbError> {
    Ok(on_tx!(tx, c => sqlx::query_as(TOTP_OF).bind(user_id).fetch_optional(c).await)?)
}

/// Starts (or starts again) an enrolment that is not confirmed yet; a confirmed authenticator is kept.
pub async fn put_pending_totp(
    tx: &mut DbTx,
    user_id: i64,
    secret: &[u8],
    now: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "INSERT INTO mfa_totp (user_id, secret, confirmed_at, last_step, created_at) \
        VALUES ($1, $2, NULL, 0, $3) \
        ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at \
        WHERE mfa_totp.confirmed_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(secret).bind(now).execute(c).await
        .map(|r| r.rows_affected() == 1))?)
}

/// Accepts time step `step` for the account once: false when that step or a later one was already used
/// (RFC 6238 §5.2), so two requests racing with one code cannot both win.
pub async fn use_totp_step(
    tx: &mut DbTx,
    user_id: i64,
    step: i64,
    confirm_at: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE mfa_totp SET last_step = $2, confirmed_at = COALESCE(confirmed_at, $3) \
        WHERE user_id = $1 AND last_step < $2";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(step).bind(confirm_at).execute(c).await
        .map(|r| r.rows_affected() == 1))?)
}

pub async fn delete_totp(tx: &mut DbTx, user_id: i64) -> Result<bool, DbError> {
    const SQL_CODES: &str = "DELETE FROM mfa_recovery_codes WHERE user_id = $1";
    const SQL: &str = "DELETE FROM mfa_totp WHERE user_id = $1";
    on_tx!(tx, c => sqlx::query(SQL_CODES).bind(user_id).execute(c).await.map(|_| ()))?;
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(user_id).execute(c).await.map(|r| r.rows_affected() == 1))?)
}

/// Replaces the account's recovery codes.
pub async fn put_recovery_codes(tx: &mut DbTx, user_id: i64, hashes: &[Vec<u8>]) -> Result<(), DbError> {
    const SQL_DELETE: &str = "DELETE FROM mfa_recovery_codes WHERE user_id = $1";
    const SQL: &str = "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)";
    on_tx!(tx, c => sqlx::query(SQL_DELETE).bind(user_id).execute(c).await.map(|_| ()))?;
    for h in hashes {
        on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(h.as_slice()).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}

/// Uses up one recovery code; false when it is not one of the account's unused codes.
pub async fn use_recovery_code(tx: &mut DbTx, user_id: i64, hash: &[u8], now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE mfa_recovery_codes SET used_at = $3 WHERE id = \
        (SELECT id FROM mfa_recovery_codes WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL LIMIT 1)";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(user_id).bind(hash).bind(now).execute(c).await
        .map(|r| r.rows_affected() == 1))?)
}

pub async fn unused_recovery_codes(db: &Db, user_id: i64) -> Result<i64, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(user_id).fetch_one(p).await)?)
}

pub async fn insert_challenge(
    db: &Db,
    token_hash: &[u8],
    user_id: i64,
    kind: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    const SQL: &str =
        "INSERT INTO login_challenges (token_hash, user_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
    on_db!(db, p => sqlx::query(SQL).bind(token_hash).bind(user_id).bind(kind).bind(now).bind(expires_at)
        .execute(p).await.map(|_| ()))?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct ChallengeRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    pub expires_at: OffsetDateTime,
    pub attempts: i64,
    pub used_at: Option<OffsetDateTime>,
}

pub async fn challenge(db: &Db, token_hash: &[u8]) -> Result<Option<ChallengeRow>, DbError> {
    const SQL: &str =
        "SELECT id, user_id, kind, expires_at, attempts, used_at FROM login_challenges WHERE token_hash = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(token_hash).fetch_optional(p).await)?)
}

pub async fn challenge_failed(db: &Db, id: i64) -> Result<(), DbError> {
    const SQL: &str = "UPDATE login_challenges SET attempts = attempts + 1 WHERE id = $1";
    on_db!(db, p => sqlx::query(SQL).bind(id).execute(p).await.map(|_| ()))?;
    Ok(())
}

/// Marks a challenge used; false when another request used it first.
pub async fn use_challenge(tx: &mut DbTx, id: i64, now: OffsetDateTime) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE login_challenges SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected() == 1))?)
}

/// Replaces a live session by a new one (privilege elevation, security.md AT-6): the new token inherits the
/// old session's account, kind and absolute expiry, carries the fresh proof of identity, and the old one
/// ends in the same transaction. Returns the expiry, or `None` when the old session was not live.
pub async fn rotate_session(
    tx: &mut DbTx,
    old_hash: &[u8],
    new_hash: &[u8],
    now: OffsetDateTime,
    ip: &str,
    user_agent: &str,
) -> Result<Option<OffsetDateTime>, DbError> {
    const INSERT: &str = "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at, ip, user_agent, reauth_at) \
        SELECT $1, user_id, kind, $2, $2, expires_at, $3, $4, $2 FROM sessions \
        WHERE token_hash = $5 AND revoked_at IS NULL RETURNING expires_at";
    const REVOKE: &str = "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL";
    let expires: Option<OffsetDateTime> = on_tx!(tx, c => sqlx::query_scalar(INSERT)
        .bind(new_hash).bind(now).bind(ip).bind(user_agent).bind(old_hash)
        .fetch_optional(&mut *c).await)?;
    if expires.is_some() {
        on_tx!(tx, c => sqlx::query(REVOKE).bind(now).bind(old_hash).execute(c).await.map(|_| ()))?;
    }
    Ok(expires)
}

/// An account's sessions and tokens, newest first (for the member's own copy of her data).
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub kind: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub async fn sessions_of(db: &Db, user_id: i64) -> Result<Vec<SessionRow>, DbError> {
    const SQL: &str = "SELECT kind, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent FROM sessions \
        WHERE user_id = $1 ORDER BY id DESC LIMIT 200";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(user_id).fetch_all(p).await)?)
}

// ---------------------------------------------------------------- caches across instances

/// Announces a change on `channel` to the other instances (PostgreSQL only). A failure is logged, not
/// returned: the change itself is committed, and the other instances' caches expire by time anyway.
pub async fn notify_cache(db: &Db, channel: &str, what: &str) {
    const SQL: &str = "SELECT pg_notify($1, $2)";
    if let Db::Postgres(p) = db
        && let Err(e) = sqlx::query(SQL).bind(channel).bind(what).execute(p).await
    {
        tracing::warn!(error = %e, "could not announce a change to the other instances");
    }
}

/// A connection that receives the announcements on `channel`.
pub async fn listen(pool: &sqlx::PgPool, channel: &str) -> Result<sqlx::postgres::PgListener, DbError> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// A person's sealed ID number (for the password rule).
pub async fn person_id_number_enc(db: &Db, id: i64) -> Result<Option<Vec<u8>>, DbError> {
    const SQL: &str = "SELECT id_number_enc FROM people WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(id).fetch_optional(p).await)?)
}

// ---------------------------------------------------------------- attachments (files.rs)

/// An attachment as stored, checked before (files::check).
pub struct NewAttachment<'a> {
    pub owner_kind: &'a str,
    pub owner_id: i64,
    pub org_path: &'a str,
    pub person_id: Option<i64>,
    pub name: &'a str,
    pub file_type: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a [u8],
    pub uploaded_by: Option<i64>,
    pub now: OffsetDateTime,
    pub content: &'a [u8],
}

pub async fn insert_attachment(tx: &mut DbTx, a: &NewAttachment<'_>) -> Result<i64, DbError> {
    const SQL: &str = "INSERT INTO attachments (owner_kind, owner_id, org_path, person_id, name, file_type, content_type, size, sha256, \
        uploaded_by, created_at, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL)
        .bind(a.owner_kind).bind(a.owner_id).bind(a.org_path).bind(a.person_id).bind(a.name).bind(a.file_type)
        .bind(a.content_type).bind(a.size).bind(a.sha256).bind(a.uploaded_by).bind(a.now).bind(a.content)
        .fetch_one(c).await)?)
}

/// How many attachments an owner holds (inside the writing transaction, for the per-owner limit).
pub async fn count_attachments(tx: &mut DbTx, owner_kind: &str, owner_id: i64) -> Result<i64, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM attachments WHERE owner_kind = $1 AND owner_id = $2";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(owner_kind).bind(owner_id).fetch_one(c).await)?)
}

/// The attachments of several owners of one kind, in one query (a person's timeline lists every step's
/// files without a query per step), by owner then upload order. Never reads the content.
pub async fn attachments_of(
    db: &Db,
    owner_kind: &str,
    owner_ids: &[i64],
) -> Result<Vec<crate::files::AttachmentMeta>, DbError> {
    if owner_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQLITE: &str = "SELECT id, owner_kind, owner_id, name, file_type, size, sha256 AS sha256_raw, created_at, quarantine_signature FROM attachments \
        WHERE owner_kind = $1 AND owner_id IN (SELECT value FROM json_each($2)) ORDER BY owner_id, id";
    const PG: &str = "SELECT id, owner_kind, owner_id, name, file_type, size, sha256 AS sha256_raw, created_at, quarantine_signature FROM attachments \
        WHERE owner_kind = $1 AND owner_id = ANY($2) ORDER BY owner_id, id";
    let rows: Vec<crate::files::AttachmentMeta> = match db {
        Db::Sqlite(p) => sqlx::query_as(SQLITE).bind(owner_kind).bind(json_ids(owner_ids)).fetch_all(p).await?,
        Db::Postgres(p) => sqlx::query_as(PG).bind(owner_kind).bind(owner_ids).fetch_all(p).await?,
    };
    Ok(rows.into_iter().map(crate::files::AttachmentMeta::finish).collect())
}

/// One attachment with its bytes, only if it belongs to this owner.
pub async fn attachment_with_content(
    db: &Db,
    owner_kind: &str,
    owner_id: i64,
    id: i64,
) -> Result<Option<(crate::files::AttachmentMeta, Vec<u8>)>, DbError> {
    const META: &str = "SELECT id, owner_kind, owner_id, name, file_type, size, sha256 AS sha256_raw, created_at, quarantine_signature FROM attachments \
        WHERE id = $1 AND owner_kind = $2 AND owner_id = $3";
    const CONTENT: &str = "SELECT content FROM attachments WHERE id = $1";
    let meta: Option<crate::files::AttachmentMeta> =
        on_db!(db, p => sqlx::query_as(META).bind(id).bind(owner_kind).bind(owner_id).fetch_optional(p).await)?;
    let Some(meta) = meta else {
        return Ok(None);
    };
    let content: Vec<u8> = on_db!(db, p => sqlx::query_scalar(CONTENT).bind(id).fetch_one(p).await)?;
    Ok(Some((meta.finish(), content)))
}

/// The stored uploads after `after` in id order, at most `limit`: `(id, quarantined)` (the rescan walks them
/// all without holding their bytes).
pub async fn attachment_ids_after(db: &Db, after: i64, limit: i64) -> Result<Vec<(i64, bool)>, DbError> {
    const SQL: &str = "SELECT id, quarantined_at IS NOT NULL FROM attachments WHERE id > $1 ORDER BY id LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(after).bind(limit).fetch_all(p).await)?)
}

/// One stored upload's owner and bytes, for the rescan: `(owner_kind, owner_id, content, released_signature)`
/// — the last is the signature a security administrator released the file from, if she did.
pub async fn attachment_for_scan(db: &Db, id: i64) -> Result<Option<(String, i64, Vec<u8>, Option<String>)>, DbError> {
    const SQL: &str = "SELECT owner_kind, owner_id, content, released_signature FROM attachments WHERE id = $1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await)?)
}

/// A stored upload in quarantine, or one released from it, as the security administrator reviews it: never
/// its name (which may name a person) nor its bytes.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct QuarantineRow {
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub file_type: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub quarantined_at: Option<OffsetDateTime>,
    pub quarantine_signature: Option<String>,
    pub released_at: Option<OffsetDateTime>,
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
    pub released_signature: Option<String>,
}

/// The one SELECT of [`QuarantineRow`], with its condition and order: a static string all the same.
macro_rules! quarantine_select {
    ($rest:literal) => {
        concat!(
            "SELECT a.id, a.owner_kind, a.owner_id, a.file_type, a.size, a.sha256, a.created_at, a.quarantined_at, ",
            "a.quarantine_signature, a.released_at, u.username AS released_by, a.release_reason, a.released_signature ",
            "FROM attachments a LEFT JOIN users u ON u.id = a.released_by ",
            $rest
        )
    };
}

/// The uploads in quarantine, newest quarantine first, at most `limit` (the partial index
/// `attachments_quarantined` holds only them).
pub async fn quarantined_attachments(db: &Db, limit: i64) -> Result<Vec<QuarantineRow>, DbError> {
    const SQL: &str =
        quarantine_select!("WHERE a.quarantined_at IS NOT NULL ORDER BY a.quarantined_at DESC, a.id DESC LIMIT $1");
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(limit).fetch_all(p).await)?)
}

/// The uploads released from quarantine, newest release first, at most `limit`.
pub async fn released_attachments(db: &Db, limit: i64) -> Result<Vec<QuarantineRow>, DbError> {
    const SQL: &str = quarantine_select!(
        "WHERE a.released_at IS NOT NULL AND a.quarantined_at IS NULL ORDER BY a.released_at DESC, a.id DESC LIMIT $1"
    );
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(limit).fetch_all(p).await)?)
}

/// How many uploads are in quarantine.
pub async fn quarantined_count(db: &Db) -> Result<i64, DbError> {
    const SQL: &str = "SELECT COUNT(*) FROM attachments WHERE quarantined_at IS NOT NULL";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await)?)
}

/// What [`release_attachment`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Release {
    /// Released from this signature.
    Released(String),
    /// The file is not in quarantine (released already, or never held).
    NotQuarantined,
    /// No such file.
    Missing,
}

/// Releases a quarantined upload (a false positive, decided by a security administrator): it is served again,
/// and the release — who, when, why, from which signature — stays on the row so that a rescan finding that
/// same signature leaves it alone.
pub async fn release_attachment(
    tx: &mut DbTx,
    id: i64,
    by: i64,
    reason: &str,
    at: OffsetDateTime,
) -> Result<Release, DbError> {
    // Read and change under the row's lock (PostgreSQL) or the database's write lock (SQLite's immediate
    // transaction), so that two releases of one file record one. Never the content.
    const PG: &str = "SELECT quarantine_signature FROM attachments WHERE id = $1 FOR UPDATE";
    const SQLITE: &str = "SELECT quarantine_signature FROM attachments WHERE id = $1";
    let signature: Option<Option<String>> = match tx {
        DbTx::Sqlite(c) => sqlx::query_scalar(SQLITE).bind(id).fetch_optional(&mut **c).await?,
        DbTx::Postgres(c) => sqlx::query_scalar(PG).bind(id).fetch_optional(&mut **c).await?,
    };
    let signature = match signature {
        None => return Ok(Release::Missing),
        Some(None) => return Ok(Release::NotQuarantined),
        Some(Some(s)) => s,
    };
    const SQL: &str = "UPDATE attachments SET quarantined_at = NULL, quarantine_signature = NULL, \
        released_at = $1, released_by = $2, release_reason = $3, released_signature = $4 \
        WHERE id = $5 AND quarantined_at IS NOT NULL";
    let changed = on_tx!(tx, c => sqlx::query(SQL).bind(at).bind(by).bind(reason).bind(&signature).bind(id)
        .execute(c).await.map(|r| r.rows_affected() == 1))?;
    Ok(if changed { Release::Released(signature) } else { Release::NotQuarantined })
}

/// Marks a stored upload quarantined (a signature found in it; it stays, never served); false when it was
/// already quarantined or is gone.
pub async fn quarantine_attachment(
    tx: &mut DbTx,
    id: i64,
    signature: &str,
    at: OffsetDateTime,
) -> Result<bool, DbError> {
    const SQL: &str = "UPDATE attachments SET quarantined_at = $1, quarantine_signature = $2 \
        WHERE id = $3 AND quarantined_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(at).bind(signature).bind(id).execute(c).await
        .map(|r| r.rows_affected() == 1))?)
}

/// Removes one attachment of this owner; false when there was none.
pub async fn delete_attachment(tx: &mut DbTx, owner_kind: &str, owner_id: i64, id: i64) -> Result<bool, DbError> {
    const SQL: &str = "DELETE FROM attachments WHERE id = $1 AND owner_kind = $2 AND owner_id = $3";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(id).bind(owner_kind).bind(owner_id).execute(c).await
        .map(|r| r.rows_affected() == 1))?)
}

/// The attachments about a person (her copy of her data): what they are, never their bytes.
pub async fn attachments_about(db: &Db, person_id: i64) -> Result<Vec<crate::files::AttachmentMeta>, DbError> {
    const SQL: &str = "SELECT id, owner_kind, owner_id, name, file_type, size, sha256 AS sha256_raw, created_at, quarantine_signature FROM attachments \
        WHERE person_id = $1 ORDER BY id";
    let rows: Vec<crate::files::AttachmentMeta> =
        on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?;
    Ok(rows.into_iter().map(crate::files::AttachmentMeta::finish).collect())
}

/// The attachments about a person removed (her deletion, AT-37); the number removed.
pub async fn erase_attachments_about(tx: &mut DbTx, person_id: i64) -> Result<u64, DbError> {
    const SQL: &str = "DELETE FROM attachments WHERE person_id = $1";
    Ok(on_tx!(tx, c => sqlx::query(SQL).bind(person_id).execute(c).await.map(|r| r.rows_affected()))?)
}
