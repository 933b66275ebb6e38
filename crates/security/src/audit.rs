//! The tamper-evident audit log.
//!
//! Every write (and every refused access) appends one entry in the same transaction as the change it
//! records. Entries form a hash chain: `hash = SHA-256(prev_hash ‖ canonical bytes)`, where the
//! canonical bytes are fixed-order, length-prefixed fields (not ad-hoc JSON, so no two entries share
//! bytes). Appends are serialised — SQLite has one writer (transactions begin IMMEDIATE), PostgreSQL
//! takes a transaction-scoped advisory lock — so `seq` is gap-free. Triggers refuse UPDATE and DELETE;
//! [`verify`] finds any edit made around them and names the first broken entry.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

use crate::profile::HashAlg;

/// Advisory-lock key that serialises audit appends across PostgreSQL instances.
const PG_AUDIT_LOCK: i64 = 0x0064_6a61_7564_6974;

/// What happened, as the caller describes it. `seq`, time and hashes are added on append.
#[derive(Clone, Debug, Default)]
pub struct Event {
    pub actor_id: Option<i64>,
    /// Username, or `-` for an anonymous request, or `system` for the platform itself.
    pub actor: String,
    /// The actor's roles at the time (`branch_secretary,leader`); empty: filled on append from `actor`
    /// (`system`, or `anonymous` for `-`). See [`crate::audit_evidence::roles_of`].
    pub roles: String,
    /// The organizations the actor's grants reached at the time (`/1/3/,/1/4/`, `*` for everywhere,
    /// `self` for a member's own record, `-` for none); empty: filled on append like `roles`.
    pub org_scope: String,
    /// `person.create`, `auth.login`, `access.denied` …
    pub action: String,
    /// `person:42`, `org:7`, `user:admin` …
    pub target: String,
    /// `ok`, `denied`, `failed`.
    pub result: String,
    pub request_id: String,
    pub ip: String,
    /// Short JSON or text with what changed (never plaintext sensitive values).
    pub detail: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub result: String,
    pub request_id: String,
    pub ip: String,
    pub detail: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// `''` in entries written before roles were recorded (migration 0017).
    pub roles: String,
    pub org_scope: String,
}

/// The bytes that are hashed: every field, in a fixed order, each prefixed by its length.
pub fn canonical_bytes(e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + e.detail.len());
    out.extend_from_slice(&e.seq.to_be_bytes());
    out.extend_from_slice(&micros(e.at).to_be_bytes());
    out.extend_from_slice(&e.actor_id.unwrap_or(-1).to_be_bytes());
    for field in [&e.actor, &e.action, &e.target, &e.result, &e.request_id, &e.ip, &e.detail] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    // Roles and scope (AT-24) follow as two more length-prefixed fields. Entries from before they were
    // recorded have neither and hash exactly as they did; blanking them in a newer entry changes its bytes.
    if !e.roles.is_empty() || !e.org_scope.is_empty() {
        for field in [&e.roles, &e.org_scope] {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
    }
    out
}

/// The chain hash of `e` with the installation's hash (the profile's: SHA-256 or SM3).
pub fn chain_hash(alg: HashAlg, prev_hash: &[u8], e: &Entry) -> Vec<u8> {
    alg.digest(&[prev_hash, &canonical_bytes(e)])
}

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

/// Timestamps are kept to the microsecond, the precision PostgreSQL stores, so a hash computed before
/// the insert still matches the row read back.
fn now_micros() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
}

/// The last entry and the chain's hash (`crypto_profile`; none recorded: SHA-256), in one round trip.
const LAST: &str = "SELECT (SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1), \
     (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), (SELECT chain_hash FROM crypto_profile WHERE id = 1)";
const INSERT: &str = "INSERT INTO audit_log (seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

/// Appends `event` inside the caller's transaction; returns its sequence number.
/// Text as the log stores it: control characters (line breaks, ANSI escapes) written as `\u{..}`, so a value
/// typed by a user cannot forge a line or colour a terminal that shows the log (security.md AT-24).
pub fn inert(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

pub async fn append(tx: &mut DbTx, event: Event) -> Result<i64, DbError> {
    crate::audit_evidence::guard_write(append_unguarded(tx, event).await)
}

async fn append_unguarded(tx: &mut DbTx, event: Event) -> Result<i64, DbError> {
    let (roles, org_scope) = crate::audit_evidence::filled_roles(&event);
    if let DbTx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PG_AUDIT_LOCK).execute(&mut **t).await?;
    }
    let (seq, hash, alg): (Option<i64>, Option<Vec<u8>>, Option<String>) =
        on_tx!(tx, c => sqlx::query_as(LAST).fetch_one(c).await)?;
    let alg = alg.as_deref().and_then(HashAlg::parse).unwrap_or_default();
    let (prev_seq, prev_hash) = match seq.zip(hash) {
        Some(l) => l,
        None => crate::audit_evidence::archived_head(tx).await?,
    };
    let mut entry = Entry {
        seq: prev_seq + 1,
        at: now_micros(),
        actor_id: event.actor_id,
        actor: inert(event.actor),
        action: inert(event.action),
        target: inert(event.target),
        result: inert(event.result),
        request_id: inert(event.request_id),
        ip: inert(event.ip),
        detail: inert(event.detail),
        prev_hash,
        hash: Vec::new(),
        roles: inert(roles),
        org_scope: inert(org_scope),
    };
    entry.hash = chain_hash(alg, &entry.prev_hash, &entry);
    on_tx!(tx, c => sqlx::query(INSERT)
        .bind(entry.seq)
        .bind(entry.at)
        .bind(entry.actor_id)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.result)
        .bind(&entry.request_id)
        .bind(&entry.ip)
        .bind(&entry.detail)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .bind(&entry.roles)
        .bind(&entry.org_scope)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(entry.seq)
}

/// Appends `event` in a transaction of its own (refusals, logins: nothing else is written).
pub async fn append_alone(db: &Db, event: Event) -> Result<i64, DbError> {
    let mut tx = db.begin().await?;
    let seq = append(&mut tx, event).await?;
    tx.commit().await?;
    Ok(seq)
}

/// The outcome of a chain check.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact { entries: u64, head_hash: String },
    Broken { seq: i64, reason: String },
}

/// Checks entries one by one as they stream in: sequence without gaps from 1, each `prev_hash` equal
/// to the previous entry's hash, each hash recomputed. Works for the database and for an exported file.
#[derive(Default)]
pub struct ChainChecker {
    alg: HashAlg,
    expected_seq: i64,
    prev_hash: Vec<u8>,
    entries: u64,
    broken: Option<(i64, String)>,
    /// Take the first entry's place in the chain as given (a table whose older part was archived).
    anchor_on_first: bool,
}

impl ChainChecker {
    /// A checker of a SHA-256 chain.
    pub fn new() -> Self {
        Self::with_hash(HashAlg::Sha256)
    }

    /// A checker of a chain hashed with `alg`.
    pub fn with_hash(alg: HashAlg) -> Self {
        ChainChecker {
            alg,
            expected_seq: 1,
            prev_hash: vec![0u8; 32],
            entries: 0,
            broken: None,
            anchor_on_first: false,
        }
    }

    /// The same checker for a chain hashed with `alg` (a database's crypto profile, an export's lines).
    pub fn hashing(mut self, alg: HashAlg) -> Self {
        self.alg = alg;
        self
    }

    /// Continues a chain verified up to entry `next_seq - 1`, whose hash was `prev_hash` (an archive
    /// checkpoint, the watch's last verified entry); SHA-256 unless [`Self::hashing`] says otherwise.
    pub fn resume(next_seq: i64, prev_hash: Vec<u8>) -> Self {
        ChainChecker { expected_seq: next_seq, prev_hash, ..ChainChecker::new() }
    }

    /// Checks the links from the first entry fed on, whatever its place (a backup of a log whose older
    /// entries were archived: the archive checkpoint in the database vouches for the start).
    pub fn anchored() -> Self {
        ChainChecker { anchor_on_first: true, ..ChainChecker::new() }
    }

    /// The entry the next `feed` must be.
    pub fn next_seq(&self) -> i64 {
        self.expected_seq
    }

    /// Feeds the next entry; returns false once the chain is broken.
    pub fn feed(&mut self, e: &Entry) -> bool {
        if self.broken.is_some() {
            return false;
        }
        if std::mem::take(&mut self.anchor_on_first) && self.entries == 0 {
            self.expected_seq = e.seq;
            self.prev_hash.clone_from(&e.prev_hash);
        }
        let reason = if e.seq != self.expected_seq {
            Some(format!("expected entry {} but found {} (an entry is missing)", self.expected_seq, e.seq))
        } else if e.prev_hash != self.prev_hash {
            Some("its link to the previous entry does not match (an earlier entry was removed or replaced)".into())
        } else if chain_hash(self.alg, &e.prev_hash, e) != e.hash {
            Some("its content does not match its hash (the entry was edited)".into())
        } else {
            None
        };
        if let Some(r) = reason {
            self.broken = Some((self.expected_seq.min(e.seq), r));
            return false;
        }
        self.expected_seq += 1;
        self.prev_hash.clone_from(&e.hash);
        self.entries += 1;
        true
    }

    pub fn finish(self) -> Verdict {
        match self.broken {
            Some((seq, reason)) => Verdict::Broken { seq, reason },
            None => Verdict::Intact { entries: self.entries, head_hash: hex::encode(&self.prev_hash) },
        }
    }
}

const PAGE: &str = "SELECT seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope \
     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";

/// Entries after `after`, in order, at most `limit` (for verifying and exporting in pages).
pub async fn entries_after(db: &Db, after: i64, limit: i64) -> Result<Vec<Entry>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(PAGE).bind(after).bind(limit).fetch_all(p).await)?)
}

/// One entry as a line of an export file: every hashed field, times in microseconds and hashes in hex,
/// so that `audit verify --file` recomputes exactly what the database holds, away from the database.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ExportLine {
    pub seq: i64,
    pub at_micros: i64,
    /// The same time for people: RFC 3339 in UTC with its offset (`2026-11-24T07:30:00.123456Z`); not
    /// hashed, not read back.
    #[serde(default, skip_serializing_if = "String::is_empty", skip_deserializing)]
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub result: String,
    pub request_id: String,
    pub ip: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    /// Absent in files exported before roles were recorded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub roles: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org_scope: String,
    /// The chain's hash, `sm3` under the 国密 profile; absent means SHA-256 (files from before profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_alg: Option<String>,
}

impl ExportLine {
    /// The chain hash a line names (absent: SHA-256; an unknown name: `None`).
    pub fn chain_hash(&self) -> Option<HashAlg> {
        self.hash_alg.as_deref().map_or(Some(HashAlg::Sha256), HashAlg::parse)
    }

    pub fn from_entry(alg: HashAlg, e: &Entry) -> ExportLine {
        ExportLine {
            hash_alg: (alg != HashAlg::Sha256).then(|| alg.code().to_owned()),
            seq: e.seq,
            at_micros: micros(e.at),
            at: e
                .at
                .to_offset(time::UtcOffset::UTC)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            actor_id: e.actor_id,
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            result: e.result.clone(),
            request_id: e.request_id.clone(),
            ip: e.ip.clone(),
            detail: e.detail.clone(),
            prev_hash: hex::encode(&e.prev_hash),
            hash: hex::encode(&e.hash),
            roles: e.roles.clone(),
            org_scope: e.org_scope.clone(),
        }
    }

    /// The entry back, or `None` when a field cannot be read (a damaged file).
    pub fn to_entry(&self) -> Option<Entry> {
        Some(Entry {
            seq: self.seq,
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.at_micros) * 1000).ok()?,
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            result: self.result.clone(),
            request_id: self.request_id.clone(),
            ip: self.ip.clone(),
            detail: self.detail.clone(),
            prev_hash: hex::decode(&self.prev_hash).ok()?,
            hash: hex::decode(&self.hash).ok()?,
            roles: self.roles.clone(),
            org_scope: self.org_scope.clone(),
        })
    }
}

/// The hash of this database's chain (its crypto profile's; none recorded: SHA-256).
pub async fn chain_hash_of(db: &Db) -> Result<HashAlg, DbError> {
    const SQL: &str = "SELECT chain_hash FROM crypto_profile WHERE id = 1";
    let alg: Option<String> = on_db!(db, p => sqlx::query_scalar(SQL).fetch_optional(p).await)?;
    Ok(alg.as_deref().and_then(HashAlg::parse).unwrap_or_default())
}

/// Verifies the whole chain in the database, reading it in pages: from entry 1, or from the head of the
/// last archived part (its checkpoint row, [`crate::audit_evidence`]), with the chain's hash.
pub async fn verify(db: &Db) -> Result<Verdict, DbError> {
    let mut checker = crate::audit_evidence::online_checker(db).await?;
    let mut after = checker.next_seq() - 1;
    loop {
        let rows = entries_after(db, after, 20_000).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for e in &rows {
            if !checker.feed(e) {
                return Ok(checker.finish());
            }
        }
    }
    Ok(checker.finish())
}

const RECENT: &str = "SELECT seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope \
     FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2";

/// Newest entries first, before `before_seq` (keyset paging).
pub async fn recent(db: &Db, before_seq: Option<i64>, limit: i64) -> Result<Vec<Entry>, DbError> {
    let before = before_seq.unwrap_or(i64::MAX);
    Ok(on_db!(db, p => sqlx::query_as(RECENT).bind(before).bind(limit).fetch_all(p).await)?)
}

/// The entries matching `filter`, newest first, before `before_seq` (keyset paging), at most `limit`: the audit
/// administrator's search (`/audit`). The statement is put together from fixed fragments, one per given
/// criterion, so each search uses the index that fits it (`audit_log_target (target, seq)` for a target,
/// `audit_log_at` for a period, the primary key walked newest first otherwise); every value is bound.
pub async fn search(
    db: &Db,
    filter: &crate::audit_evidence::Filter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    // Entries restored from archives (`audit_restored`, `audit_evidence::restore`) are found beside the
    // online ones: both searched alike, merged newest first.
    let mut found = search_in(db, "audit_log", filter, before_seq, limit).await?;
    found.extend(search_in(db, "audit_restored", filter, before_seq, limit).await?);
    found.sort_by_key(|e| std::cmp::Reverse(e.seq));
    found.dedup_by_key(|e| e.seq);
    found.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(found)
}

async fn search_in(
    db: &Db,
    table: &'static str,
    filter: &crate::audit_evidence::Filter,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    enum Value<'a> {
        Text(&'a str),
        At(OffsetDateTime),
    }
    let mut sql = String::from(
        "SELECT seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope \
         FROM ",
    );
    sql.push_str(table);
    sql.push_str(" WHERE seq < $1");
    let mut values: Vec<Value> = Vec::new();
    let push = |sql: &mut String, fragment: &str, n: usize| {
        sql.push_str(" AND ");
        sql.push_str(&fragment.replace('?', &format!("${n}")));
    };
    if let Some(a) = filter.actor.as_deref() {
        values.push(Value::Text(a));
        push(&mut sql, "actor = ?", values.len() + 1);
    }
    if let Some(a) = filter.action.as_deref() {
        values.push(Value::Text(a));
        push(&mut sql, "action = ?", values.len() + 1);
    }
    if let Some(t) = filter.target.as_deref() {
        values.push(Value::Text(t));
        let fragment = if t.ends_with(':') { "substr(target, 1, length(?)) = ?" } else { "target = ?" };
        push(&mut sql, fragment, values.len() + 1);
    }
    if let Some(r) = filter.result.as_deref() {
        values.push(Value::Text(r));
        push(&mut sql, "result = ?", values.len() + 1);
    }
    if let Some(f) = filter.from {
        values.push(Value::At(f));
        push(&mut sql, "at >= ?", values.len() + 1);
    }
    if let Some(t) = filter.to {
        values.push(Value::At(t));
        push(&mut sql, "at < ?", values.len() + 1);
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${}", values.len() + 2));
    let before = before_seq.unwrap_or(i64::MAX);
    macro_rules! run {
        ($p:expr) => {{
            let mut q = sqlx::query_as::<_, Entry>(sqlx::AssertSqlSafe(sql.clone())).bind(before);
            for v in &values {
                q = match v {
                    Value::Text(t) => q.bind(*t),
                    Value::At(at) => q.bind(*at),
                };
            }
            q.bind(limit).fetch_all($p).await
        }};
    }
    Ok(match db {
        Db::Sqlite(p) => run!(p)?,
        Db::Postgres(p) => run!(p)?,
    })
}

/// The grants that give the application a PostgreSQL role of its own which cannot UPDATE, DELETE or
/// TRUNCATE audit rows (security.md AT-25); for the database administrator, see docs/OPERATIONS.md.
/// `schema` and `role` must be plain identifiers (checked: letters, digits, underscore).
pub fn pg_app_role_sql(schema: &str, role: &str) -> Option<String> {
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (plain(schema) && plain(role))
        .then(|| include_str!("pg-app-role.sql").replace("{schema}", schema).replace("{role}", role))
}

/// The entries about one target (`person:17`), newest first: what a member sees of her own record.
pub async fn for_target(db: &Db, target: &str, limit: i64) -> Result<Vec<Entry>, DbError> {
    const SQL: &str = "SELECT seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope \
         FROM audit_log WHERE target = $1 ORDER BY seq DESC LIMIT $2";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(target).bind(limit).fetch_all(p).await)?)
}

/// The entries of `action` with `result` that the accounts `actor_ids` wrote since `since`, newest first
/// per account (the index on (actor_id, action, at) answers it): the accounts page's shared-account flags.
pub async fn by_actors_since(
    db: &Db,
    actor_ids: &[i64],
    action: &str,
    result: &str,
    since: OffsetDateTime,
) -> Result<Vec<Entry>, DbError> {
    const SQLITE: &str = "SELECT seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope \
         FROM audit_log WHERE actor_id IN (SELECT value FROM json_each($1)) AND action = $2 AND result = $3 AND at >= $4 \
         ORDER BY actor_id, seq DESC";
    const PG: &str = "SELECT seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope \
         FROM audit_log WHERE actor_id = ANY($1) AND action = $2 AND result = $3 AND at >= $4 ORDER BY actor_id, seq DESC";
    if actor_ids.is_empty() {
        return Ok(Vec::new());
    }
    let since = since.to_offset(time::UtcOffset::UTC);
    Ok(match db {
        Db::Sqlite(p) => {
            let ids = serde_json::to_string(actor_ids).unwrap_or_else(|_| "[]".into());
            sqlx::query_as(SQLITE).bind(ids).bind(action).bind(result).bind(since).fetch_all(p).await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(PG).bind(actor_ids).bind(action).bind(result).bind(since).fetch_all(p).await?
        }
    })
}

/// How often an account did `action` successfully since `since` (rate limits that must hold across
/// instances: the log is the one place every instance writes).
pub async fn count_by_actor_since(db: &Db, actor_id: i64, action: &str, since: OffsetDateTime) -> Result<i64, DbError> {
    const SQL: &str =
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = $1 AND action = $2 AND result = 'ok' AND at >= $3";
    let since = since.to_offset(time::UtcOffset::UTC);
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(actor_id).bind(action).bind(since).fetch_one(p).await)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_stored_inert() {
        assert_eq!(inert("核对材料".into()), "核对材料");
        assert_eq!(inert("a\nb".into()), "a\\u{a}b");
        assert_eq!(inert("\u{1b}[31mred".into()), "\\u{1b}[31mred");
        assert!(!inert("x\r\n2026-01-01 admin ok".into()).contains('\n'));
    }

    fn entry(seq: i64, prev: &[u8]) -> Entry {
        let mut e = Entry {
            seq,
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: Some(1),
            actor: "admin".into(),
            action: "person.create".into(),
            target: format!("person:{seq}"),
            result: "ok".into(),
            request_id: "r".into(),
            ip: "127.0.0.1".into(),
            detail: String::new(),
            prev_hash: prev.to_vec(),
            hash: vec![],
            roles: String::new(),
            org_scope: String::new(),
        };
        e.hash = chain_hash(HashAlg::Sha256, prev, &e);
        e
    }

    fn chain(n: i64) -> Vec<Entry> {
        let mut prev = vec![0u8; 32];
        (1..=n)
            .map(|s| {
                let e = entry(s, &prev);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn check(entries: &[Entry]) -> Verdict {
        let mut c = ChainChecker::new();
        for e in entries {
            c.feed(e);
        }
        c.finish()
    }

    #[test]
    fn intact_chain_verifies() {
        assert!(matches!(check(&chain(5)), Verdict::Intact { entries: 5, .. }));
    }

    #[test]
    fn edit_delete_and_reorder_are_found() {
        let mut edited = chain(5);
        edited[2].target = "person:99".into();
        assert!(matches!(check(&edited), Verdict::Broken { seq: 3, .. }));

        let mut deleted = chain(5);
        deleted.remove(1);
        assert!(matches!(check(&deleted), Verdict::Broken { seq: 2, .. }));
    }

    #[test]
    fn an_sm3_chain_verifies_only_as_sm3() {
        let mut prev = vec![0u8; 32];
        let sm3: Vec<Entry> = (1..=3)
            .map(|s| {
                let mut e = entry(s, &prev);
                e.hash = chain_hash(HashAlg::Sm3, &prev, &e);
                prev = e.hash.clone();
                e
            })
            .collect();
        let mut c = ChainChecker::with_hash(HashAlg::Sm3);
        sm3.iter().for_each(|e| {
            c.feed(e);
        });
        assert!(matches!(c.finish(), Verdict::Intact { entries: 3, .. }));
        assert!(matches!(check(&sm3), Verdict::Broken { seq: 1, .. }), "not a SHA-256 chain");
        let mut edited = sm3.clone();
        edited[1].detail = "x".into();
        let mut c = ChainChecker::with_hash(HashAlg::Sm3);
        edited.iter().for_each(|e| {
            c.feed(e);
        });
        assert!(matches!(c.finish(), Verdict::Broken { seq: 2, .. }));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = entry(1, &[0; 32]);
        let mut b = entry(1, &[0; 32]);
        a.actor = "ab".into();
        a.action = "c".into();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(canonical_bytes(&a), canonical_bytes(&b));
    }
}
