//! The audit log as evidence (security.md AT-24…AT-27), around the chain of [`crate::audit`]:
//!
//! * who acted in which capacity: the roles and organization scope an entry carries are filled here when
//!   the caller gave none ([`filled_roles`]);
//! * fail closed: a failed append becomes [`DbError::AuditUnavailable`] (the action is not done, 503) and
//!   is counted for `/metrics` and the status page ([`guard_write`], [`write_failures`]);
//! * retention: the online period ([`online_period`], at least 180 days by 网络安全法 第二十一条第（三）项),
//!   and [`archive`], which moves older entries into a sealed file and leaves a checkpoint row with the
//!   archived part's head, so the chain verifies across the boundary ([`online_checker`]);
//! * signed head marks in a file outside the database ([`write_head_mark`], [`check_head_marks`]): a
//!   truncated table no longer reaches the head it once had;
//! * the watch ([`watch`]): the scheduled, incremental verification that raises the alarm.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use aes_gcm::aead::KeyInit;
use hmac::{Hmac, Mac};
use kernel::{Db, DbError, DbTx, on_db, on_tx};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::{self, ChainChecker, Entry, Event, ExportLine, Verdict};
use crate::profile::HashAlg;
use crate::{KeyRing, SecurityError};

// ---------------------------------------------------------------------------------------------------
// AT-24: roles and scope of every entry.

/// Roles and organization scope for an event whose caller named none: the platform itself (`system`,
/// everywhere), an anonymous request (`anonymous`, nowhere) or an account not yet acting in a role
/// (`account`, nowhere).
pub fn filled_roles(e: &Event) -> (String, String) {
    let anonymous = e.actor == "-" || e.actor.is_empty();
    let roles = if !e.roles.is_empty() {
        e.roles.clone()
    } else if anonymous {
        "anonymous".into()
    } else if e.actor_id.is_some() {
        // An account acting before its roles are known (a second factor being set up at login).
        "account".into()
    } else {
        "system".into()
    };
    let scope = if !e.org_scope.is_empty() {
        e.org_scope.clone()
    } else if anonymous || e.actor_id.is_some() {
        "-".into()
    } else {
        "*".into()
    };
    (roles, scope)
}

// ---------------------------------------------------------------------------------------------------
// AT-27: fail closed, and say so.

static WRITE_FAILURES: AtomicU64 = AtomicU64::new(0);
static LAST_FAILURE: AtomicI64 = AtomicI64::new(0);

/// Failed audit appends of this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WriteFailures {
    pub total: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last: Option<OffsetDateTime>,
}

/// Failed audit appends of this process since it started, and when the last one was.
pub fn write_failures() -> WriteFailures {
    let last = LAST_FAILURE.load(Ordering::Relaxed);
    WriteFailures {
        total: WRITE_FAILURES.load(Ordering::Relaxed),
        last: (last > 0).then(|| OffsetDateTime::from_unix_timestamp(last).ok()).flatten(),
    }
}

/// An append's outcome as the caller sees it: a store that refused the entry is `AuditUnavailable`
/// (the caller's transaction is rolled back: nothing it did stays), counted and logged. Busy stays busy.
pub fn guard_write(r: Result<i64, DbError>) -> Result<i64, DbError> {
    match r {
        Ok(seq) => Ok(seq),
        Err(DbError::Busy) => Err(DbError::Busy),
        Err(e) => {
            WRITE_FAILURES.fetch_add(1, Ordering::Relaxed);
            LAST_FAILURE.store(OffsetDateTime::now_utc().unix_timestamp(), Ordering::Relaxed);
            tracing::error!(error = %e, "AUDIT LOG NOT WRITABLE: the action was refused (fail closed)");
            Err(DbError::AuditUnavailable(e.to_string()))
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// AT-26: the online period.

/// The shortest online period the law allows: 网络安全法 第二十一条第（三）项 — network logs are kept for
/// no less than six months (taken as 180 days).
pub const MIN_ONLINE_DAYS: u32 = 180;
/// The default online period (security.md a.3: online ≥ 12 months).
pub const DEFAULT_ONLINE_DAYS: u32 = 365;

/// The online period of `days`, refused below [`MIN_ONLINE_DAYS`] (网络安全法 第二十一条第（三）项：
/// 留存相关的网络日志不少于六个月).
pub fn online_period(days: u32) -> Result<time::Duration, SecurityError> {
    if days < MIN_ONLINE_DAYS {
        return Err(SecurityError::AuditRule(format!(
            "audit online period {days} days refused: 网络安全法 第二十一条第（三）项 requires network logs to be kept \
             at least six months ({MIN_ONLINE_DAYS} days)"
        )));
    }
    Ok(time::Duration::days(i64::from(days)))
}

// ---------------------------------------------------------------------------------------------------
// Keys and seals.

type HmacSha256 = Hmac<Sha256>;

impl KeyRing {
    /// The key that signs archive seals, archive checkpoints and head marks: derived from the index key
    /// with a label of its own, so it proves nothing else and is never stored.
    pub fn audit_seal_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(mut m) = HmacSha256::new_from_slice(&self.index_key) {
            m.update(b"dangjian-audit-seal-v1");
            out.copy_from_slice(&m.finalize().into_bytes());
        }
        out
    }
}

fn mac(key: &[u8; 32], text: &str) -> Vec<u8> {
    match HmacSha256::new_from_slice(key) {
        Ok(mut m) => {
            m.update(text.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn mac_ok(key: &[u8; 32], text: &str, given: &[u8]) -> bool {
    HmacSha256::new_from_slice(key)
        .map(|mut m| {
            m.update(text.as_bytes());
            m.verify_slice(given).is_ok()
        })
        .unwrap_or(false)
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> SecurityError {
    SecurityError::AuditFile { path: path.display().to_string(), reason: e.to_string() }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------
// Archive checkpoints in the database.

/// The head of an archived part of the chain, kept in the database (`audit_checkpoints`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Checkpoint {
    pub through_seq: i64,
    pub first_seq: i64,
    pub head_hash: Vec<u8>,
    pub entries: i64,
    pub oldest_at: OffsetDateTime,
    pub newest_at: OffsetDateTime,
    pub archived_at: OffsetDateTime,
    pub file: String,
    pub file_sha256: String,
    pub mac: Vec<u8>,
}

impl Checkpoint {
    fn signed_text(&self) -> String {
        format!(
            "dangjian-audit-checkpoint-v1|{}|{}|{}|{}|{}|{}",
            self.first_seq,
            self.through_seq,
            hex::encode(&self.head_hash),
            self.entries,
            self.file,
            self.file_sha256
        )
    }

    /// Whether the row was written by a holder of the key (a row forged in the database to excuse
    /// removed entries does not verify).
    pub fn signed_by(&self, key: &[u8; 32]) -> bool {
        mac_ok(key, &self.signed_text(), &self.mac)
    }
}

const CHECKPOINT_COLUMNS: &str =
    "through_seq, first_seq, head_hash, entries, oldest_at, newest_at, archived_at, file, file_sha256, mac";

/// Every archive checkpoint, oldest first.
pub async fn checkpoints(db: &Db) -> Result<Vec<Checkpoint>, DbError> {
    let sql = format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY through_seq");
    let sql = sqlx::AssertSqlSafe(sql);
    Ok(on_db!(db, p => sqlx::query_as(sql).fetch_all(p).await)?)
}

/// The latest archive checkpoint, if any part was archived.
pub async fn last_checkpoint(db: &Db) -> Result<Option<Checkpoint>, DbError> {
    let sql = format!("SELECT {CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY through_seq DESC LIMIT 1");
    let sql = sqlx::AssertSqlSafe(sql);
    Ok(on_db!(db, p => sqlx::query_as(sql).fetch_optional(p).await)?)
}

/// Where the online part of the chain starts: entry 1 after the zero hash, or the entry after the last
/// archived part, after its head hash.
pub async fn online_start(db: &Db) -> Result<(i64, Vec<u8>), DbError> {
    Ok(match last_checkpoint(db).await? {
        Some(c) => (c.through_seq + 1, c.head_hash),
        None => (1, vec![0u8; 32]),
    })
}

/// A checker for the online part of the chain (see [`online_start`]).
pub async fn online_checker(db: &Db) -> Result<ChainChecker, DbError> {
    let (next, prev) = online_start(db).await?;
    Ok(ChainChecker::resume(next, prev).hashing(audit::chain_hash_of(db).await?))
}

/// Inside an append's transaction, on an empty table: the head of the archived part (zeros before any).
pub(crate) async fn archived_head(tx: &mut DbTx) -> Result<(i64, Vec<u8>), DbError> {
    const SQL: &str = "SELECT through_seq, head_hash FROM audit_checkpoints ORDER BY through_seq DESC LIMIT 1";
    let last: Option<(i64, Vec<u8>)> = on_tx!(tx, c => sqlx::query_as(SQL).fetch_optional(c).await)?;
    Ok(last.unwrap_or((0, vec![0u8; 32])))
}

async fn entry_hash(db: &Db, seq: i64) -> Result<Option<Vec<u8>>, DbError> {
    const SQL: &str = "SELECT hash FROM audit_log WHERE seq = $1";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(seq).fetch_optional(p).await)?)
}

/// The newest entry's number and hash (the archive checkpoint's when the table is empty).
pub async fn head(db: &Db) -> Result<(i64, Vec<u8>), DbError> {
    const SQL: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
    let last: Option<(i64, Vec<u8>)> = on_db!(db, p => sqlx::query_as(SQL).fetch_optional(p).await)?;
    match last {
        Some(h) => Ok(h),
        None => {
            let (next, prev) = online_start(db).await?;
            Ok((next - 1, prev))
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Archive files.

/// The last line of an archive file: what it holds, signed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seal {
    pub first_seq: i64,
    pub last_seq: i64,
    /// Hash of the entry before the first (hex): the previous archive's head, or zeros.
    pub prev_hash: String,
    pub head_hash: String,
    pub entries: i64,
    pub oldest_at: String,
    pub newest_at: String,
    pub sealed_at: String,
    /// HMAC-SHA-256 under the key file's audit seal key (hex).
    pub mac: String,
}

impl Seal {
    fn signed_text(&self) -> String {
        format!(
            "dangjian-audit-archive-v1|{}|{}|{}|{}|{}|{}|{}|{}",
            self.first_seq,
            self.last_seq,
            self.prev_hash,
            self.head_hash,
            self.entries,
            self.oldest_at,
            self.newest_at,
            self.sealed_at
        )
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SealLine {
    seal: Seal,
}

/// What [`archive`] did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ArchiveReport {
    pub file: PathBuf,
    pub first_seq: i64,
    pub last_seq: i64,
    pub entries: i64,
    pub head_hash: String,
    pub file_sha256: String,
}

/// Most entries one archive file takes; the next run continues.
pub const ARCHIVE_BATCH: i64 = 500_000;

/// The file name of an archive: `audit-0000000001-0000012345.jsonl`.
pub fn archive_file_name(first: i64, last: i64) -> String {
    format!("audit-{first:010}-{last:010}.jsonl")
}

/// Moves the entries older than the online period (`online_days`, see [`online_period`]) at `now` — at
/// most [`ARCHIVE_BATCH`] of them, from the oldest on — into a sealed file in `dir`, then, in one
/// transaction, records the checkpoint, removes the archived rows and audits `audit.archive`. The file is
/// complete on disk (fsync) before any row goes. A broken chain is not archived (the error names the
/// entry): the evidence stays where it is. `None` when nothing is old enough.
pub async fn archive(
    db: &Db,
    keys: &KeyRing,
    dir: &Path,
    online_days: u32,
    now: OffsetDateTime,
) -> Result<Option<ArchiveReport>, SecurityError> {
    let cutoff = now - online_period(online_days)?;
    let (first, prev_hash) = online_start(db).await?;
    let key = keys.audit_seal_key();
    let alg = audit::chain_hash_of(db).await?;
    let mut checker = ChainChecker::resume(first, prev_hash.clone()).hashing(alg);
    let mut batch: Vec<Entry> = Vec::new();
    let mut after = first - 1;
    'pages: while (batch.len() as i64) < ARCHIVE_BATCH {
        let rows = audit::entries_after(db, after, 10_000).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for e in rows {
            if e.at >= cutoff || batch.len() as i64 >= ARCHIVE_BATCH {
                break 'pages;
            }
            if !checker.feed(&e) {
                if let Verdict::Broken { seq, reason } = checker.finish() {
                    return Err(SecurityError::AuditRule(format!(
                        "audit chain BROKEN at entry {seq}: {reason}; nothing archived"
                    )));
                }
                return Err(SecurityError::AuditRule("audit chain broken; nothing archived".into()));
            }
            batch.push(e);
        }
    }
    let (Some(oldest), Some(newest)) = (batch.first(), batch.last()) else { return Ok(None) };
    let seal = {
        let mut s = Seal {
            first_seq: oldest.seq,
            last_seq: newest.seq,
            prev_hash: hex::encode(&prev_hash),
            head_hash: hex::encode(&newest.hash),
            entries: batch.len() as i64,
            oldest_at: rfc3339(batch.iter().map(|e| e.at).min().unwrap_or(oldest.at)),
            newest_at: rfc3339(batch.iter().map(|e| e.at).max().unwrap_or(newest.at)),
            sealed_at: rfc3339(OffsetDateTime::now_utc()),
            mac: String::new(),
        };
        s.mac = hex::encode(mac(&key, &s.signed_text()));
        s
    };
    let name = archive_file_name(seal.first_seq, seal.last_seq);
    let path = dir.join(&name);
    let file_sha256 = write_sealed(dir, &path, &batch, &seal, alg)?;
    let mut cp = Checkpoint {
        through_seq: seal.last_seq,
        first_seq: seal.first_seq,
        head_hash: newest.hash.clone(),
        entries: seal.entries,
        oldest_at: batch.iter().map(|e| e.at).min().unwrap_or(oldest.at),
        newest_at: batch.iter().map(|e| e.at).max().unwrap_or(newest.at),
        archived_at: now_micros(),
        file: name.clone(),
        file_sha256: file_sha256.clone(),
        mac: Vec::new(),
    };
    cp.mac = mac(&key, &cp.signed_text());
    let mut tx = db.begin().await?;
    insert_checkpoint(&mut tx, &cp).await?;
    let removed = release(&mut tx, cp.through_seq).await?;
    if removed != cp.entries {
        return Err(SecurityError::AuditRule(format!(
            "archive of entries {}–{}: {removed} rows left the table, {} expected; nothing archived",
            cp.first_seq, cp.through_seq, cp.entries
        )));
    }
    audit::append(
        &mut tx,
        Event {
            actor: "system".into(),
            action: "audit.archive".into(),
            target: format!("audit:{}-{}", cp.first_seq, cp.through_seq),
            result: "ok".into(),
            detail: format!("file:{name} entries:{} sha256:{file_sha256}", cp.entries),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(ArchiveReport {
        file: path,
        first_seq: cp.first_seq,
        last_seq: cp.through_seq,
        entries: cp.entries,
        head_hash: seal.head_hash,
        file_sha256,
    }))
}

fn now_micros() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1000 * 1000).unwrap_or(now)
}

async fn insert_checkpoint(tx: &mut DbTx, cp: &Checkpoint) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO audit_checkpoints (through_seq, first_seq, head_hash, entries, oldest_at, newest_at, archived_at, file, file_sha256, mac) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(cp.through_seq)
        .bind(cp.first_seq)
        .bind(&cp.head_hash)
        .bind(cp.entries)
        .bind(cp.oldest_at)
        .bind(cp.newest_at)
        .bind(cp.archived_at)
        .bind(&cp.file)
        .bind(&cp.file_sha256)
        .bind(&cp.mac)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Removes the archived rows up to `through`. The tables' triggers let a row go only when a checkpoint
/// covers it and it is older than 180 days; on PostgreSQL the application's role has no DELETE on the log
/// and goes through `audit_log_release` (migration 0017).
async fn release(tx: &mut DbTx, through: i64) -> Result<i64, DbError> {
    Ok(match tx {
        DbTx::Sqlite(t) => {
            sqlx::query("DELETE FROM audit_log WHERE seq <= $1").bind(through).execute(&mut **t).await?.rows_affected()
                as i64
        }
        DbTx::Postgres(t) => {
            sqlx::query_scalar("SELECT audit_log_release($1)").bind(through).fetch_one(&mut **t).await?
        }
    })
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `entries` and the seal to `path` through a `.partial` file, fsynced, then read-only; returns
/// the file's SHA-256 (hex).
fn write_sealed(
    dir: &Path,
    path: &Path,
    entries: &[Entry],
    seal: &Seal,
    alg: HashAlg,
) -> Result<String, SecurityError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| file_err(dir, e))?;
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut sha = Sha256::new();
    {
        let file = std::fs::File::create(&partial).map_err(|e| file_err(&partial, e))?;
        let mut w = std::io::BufWriter::new(file);
        let mut line = Vec::with_capacity(512);
        for e in entries {
            line.clear();
            serde_json::to_writer(&mut line, &ExportLine::from_entry(alg, e)).map_err(|e| file_err(&partial, e))?;
            line.push(b'\n');
            sha.update(&line);
            w.write_all(&line).map_err(|e| file_err(&partial, e))?;
        }
        line.clear();
        serde_json::to_writer(&mut line, &SealLine { seal: seal.clone() }).map_err(|e| file_err(&partial, e))?;
        line.push(b'\n');
        sha.update(&line);
        w.write_all(&line).map_err(|e| file_err(&partial, e))?;
        let file = w.into_inner().map_err(|e| file_err(&partial, e.error()))?;
        file.sync_all().map_err(|e| file_err(&partial, e))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o400))
            .map_err(|e| file_err(&partial, e))?;
    }
    std::fs::rename(&partial, path).map_err(|e| file_err(path, e))?;
    sync_dir(dir);
    Ok(hex::encode(sha.finalize()))
}

/// What [`check_file`] found in an audit file (an archive or a plain export).
#[derive(Debug, PartialEq, Eq)]
pub struct FileVerdict {
    pub verdict: Verdict,
    /// The seal of an archive file; `None` for a plain export.
    pub seal: Option<Seal>,
    /// Whether the seal's signature was checked (a key was given) — and it held, else the verdict is broken.
    pub signature_checked: bool,
    pub first_seq: Option<i64>,
    /// The link of the first entry (hex): zeros at entry 1, else the head of the part before.
    pub first_prev_hash: Option<String>,
}

/// Verifies an audit file away from the database: every entry's hash and link; for an archive, the
/// seal's counts and hashes and — with `key` — its signature. A file's first entry is taken where it
/// stands ([`FileVerdict::first_seq`]; its link is the previous archive's head).
pub fn check_file(path: &Path, key: Option<&[u8; 32]>) -> Result<FileVerdict, SecurityError> {
    let reader = std::io::BufReader::new(std::fs::File::open(path).map_err(|e| file_err(path, e))?);
    let mut checker: Option<ChainChecker> = None;
    let mut first: Option<(i64, Vec<u8>)> = None;
    let mut last_hash: Option<Vec<u8>> = None;
    let mut seal: Option<Seal> = None;
    let broken = |seq: i64, reason: String| FileVerdict {
        verdict: Verdict::Broken { seq, reason },
        seal: None,
        signature_checked: false,
        first_seq: None,
        first_prev_hash: None,
    };
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| file_err(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        if seal.is_some() {
            return Ok(broken(0, format!("line {}: entries after the seal", n + 1)));
        }
        if let Ok(s) = serde_json::from_str::<SealLine>(&line) {
            seal = Some(s.seal);
            continue;
        }
        let parsed = serde_json::from_str::<ExportLine>(&line).ok();
        let alg = parsed.as_ref().and_then(ExportLine::chain_hash);
        let Some((e, alg)) = parsed.and_then(|l| l.to_entry()).zip(alg) else {
            return Ok(broken(0, format!("line {}: not an audit entry", n + 1)));
        };
        let c = checker.get_or_insert_with(|| {
            first = Some((e.seq, e.prev_hash.clone()));
            ChainChecker::resume(e.seq, e.prev_hash.clone()).hashing(alg)
        });
        if !c.feed(&e) {
            break;
        }
        last_hash = Some(e.hash);
    }
    let first_seq = first.as_ref().map(|f| f.0);
    let first_prev_hash = first.as_ref().map(|f| hex::encode(&f.1));
    let verdict = match checker {
        Some(c) => c.finish(),
        None => Verdict::Intact { entries: 0, head_hash: hex::encode([0u8; 32]) },
    };
    if matches!(verdict, Verdict::Broken { .. }) {
        return Ok(FileVerdict { verdict, seal, signature_checked: false, first_seq, first_prev_hash });
    }
    let Some(seal) = seal else {
        // A plain export (`audit export`): from entry 1, or from the entry after the archived part — the
        // caller shows where it starts, to be matched with that archive's head.
        return Ok(FileVerdict { verdict, seal: None, signature_checked: false, first_seq, first_prev_hash });
    };
    let entries = match &verdict {
        Verdict::Intact { entries, .. } => *entries as i64,
        Verdict::Broken { .. } => 0,
    };
    let mismatch = if Some(seal.first_seq) != first_seq
        || first.as_ref().map(|f| hex::encode(&f.1)) != Some(seal.prev_hash.clone())
    {
        Some("the seal's first entry or link differs from the file's first entry")
    } else if entries != seal.entries || seal.last_seq - seal.first_seq + 1 != seal.entries {
        Some("the seal counts a different number of entries (entries removed or added)")
    } else if last_hash.map(hex::encode) != Some(seal.head_hash.clone()) {
        Some("the seal's head hash differs from the last entry's")
    } else if let Some(k) = key
        && !hex::decode(&seal.mac).is_ok_and(|m| mac_ok(k, &seal.signed_text(), &m))
    {
        Some("the seal's signature does not verify under this key file (forged or re-sealed)")
    } else {
        None
    };
    if let Some(reason) = mismatch {
        return Ok(FileVerdict {
            verdict: Verdict::Broken { seq: seal.first_seq, reason: reason.into() },
            seal: Some(seal),
            signature_checked: key.is_some(),
            first_seq,
            first_prev_hash,
        });
    }
    Ok(FileVerdict { verdict, seal: Some(seal), signature_checked: key.is_some(), first_seq, first_prev_hash })
}

/// What to look for in an audit file ([`search_file`]); empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Exact target (`person:17`) or a prefix ending in `:` (`person:`).
    pub target: Option<String>,
    /// `ok`, `denied`, `error`, …
    pub result: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        self.actor.as_ref().is_none_or(|a| &e.actor == a)
            && self.action.as_ref().is_none_or(|a| &e.action == a)
            && self
                .target
                .as_ref()
                .is_none_or(|t| if t.ends_with(':') { e.target.starts_with(t) } else { &e.target == t })
            && self.result.as_ref().is_none_or(|r| &e.result == r)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }
}

/// The entries of an audit file (archive or export) that match `filter`, in order. Verify the file
/// first ([`check_file`]): this reads, it does not judge.
pub fn search_file(path: &Path, filter: &Filter) -> Result<Vec<Entry>, SecurityError> {
    let reader = std::io::BufReader::new(std::fs::File::open(path).map_err(|e| file_err(path, e))?);
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line.map_err(|e| file_err(path, e))?;
        if let Some(e) = serde_json::from_str::<ExportLine>(&line).ok().and_then(|l| l.to_entry())
            && filter.matches(&e)
        {
            out.push(e);
        }
    }
    Ok(out)
}

/// What [`restore`] did with an archive file.
#[derive(Debug, PartialEq, Eq)]
pub struct RestoreReport {
    /// The archive's name, as its checkpoint records it.
    pub file: String,
    pub first_seq: i64,
    pub through_seq: i64,
    /// Entries copied now; entries the database held already (a second restore of the same file).
    pub restored: u64,
    pub already: u64,
}

/// Restores a sealed archive into the database (security.md AT-26: "archive restore works"), so the audit
/// administrator's search finds its entries again: the file must verify entry by entry and by its seal's
/// signature ([`check_file`] with the key), and must be the very file an archive checkpoint of this database
/// recorded (same name, same SHA-256, a checkpoint signed with the key) — a file from elsewhere, or edited,
/// is refused with the reason and nothing is written. The entries go to `audit_restored` (migration 0035),
/// beside the chain, never back into `audit_log` (whose chain continues after the archived head), in one
/// transaction with the `audit.restore` entry; restoring a file twice copies nothing the second time.
pub async fn restore(db: &Db, path: &Path, key: &[u8; 32]) -> Result<RestoreReport, SecurityError> {
    let refuse = |why: String| SecurityError::AuditRule(format!("{}: {why}", path.display()));
    let v = check_file(path, Some(key))?;
    if let Verdict::Broken { seq, reason } = &v.verdict {
        return Err(refuse(format!("the file does not verify at entry {seq}: {reason}; nothing restored")));
    }
    if v.seal.is_none() {
        return Err(refuse("not a sealed archive (an export has no seal); nothing restored".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| file_err(path, e))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let checkpoint = checkpoints(db).await?.into_iter().find(|c| c.file_sha256 == sha);
    let Some(cp) = checkpoint.filter(|c| c.signed_by(key) && c.file == name) else {
        return Err(refuse(format!(
            "no signed archive checkpoint of this database records this file (name {name}, sha256 {sha}); nothing restored"
        )));
    };
    let entries = search_file(path, &Filter::default())?;
    if entries.first().map(|e| e.seq) != Some(cp.first_seq) || entries.last().map(|e| e.seq) != Some(cp.through_seq) {
        return Err(refuse(format!(
            "the file holds entries other than its checkpoint's {}–{}; nothing restored",
            cp.first_seq, cp.through_seq
        )));
    }
    let mut tx = db.begin().await?;
    let mut restored = 0u64;
    for e in &entries {
        restored += insert_restored(&mut tx, e, &cp.file).await?;
    }
    let already = entries.len() as u64 - restored;
    audit::append(
        &mut tx,
        Event {
            actor: "system".into(),
            action: "audit.restore".into(),
            target: format!("audit:{}-{}", cp.first_seq, cp.through_seq),
            result: "ok".into(),
            detail: format!("file:{} restored:{restored} already:{already} sha256:{sha}", cp.file),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(RestoreReport { file: cp.file, first_seq: cp.first_seq, through_seq: cp.through_seq, restored, already })
}

async fn insert_restored(tx: &mut DbTx, e: &Entry, file: &str) -> Result<u64, DbError> {
    const SQL: &str = "INSERT INTO audit_restored (seq, at, actor_id, actor, action, target, result, request_id, ip, \
        detail, prev_hash, hash, roles, org_scope, file) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
        ON CONFLICT (seq) DO NOTHING";
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(e.seq).bind(e.at).bind(e.actor_id).bind(&e.actor).bind(&e.action).bind(&e.target).bind(&e.result)
        .bind(&e.request_id).bind(&e.ip).bind(&e.detail).bind(&e.prev_hash).bind(&e.hash).bind(&e.roles)
        .bind(&e.org_scope).bind(file)
        .execute(c).await.map(|r| r.rows_affected()))
    .map_err(DbError::from)
}

// ---------------------------------------------------------------------------------------------------
// Signed head marks outside the database.

/// One line of the head-mark file: the chain's head at a time, signed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HeadMark {
    pub seq: i64,
    pub hash: String,
    pub at: String,
    pub mac: String,
}

impl HeadMark {
    fn signed_text(seq: i64, hash: &str, at: &str) -> String {
        format!("dangjian-audit-head-v1|{seq}|{hash}|{at}")
    }
}

/// Appends the chain's current head, signed, to the file at `path` (created owner-only), fsynced.
pub async fn write_head_mark(db: &Db, keys: &KeyRing, path: &Path) -> Result<HeadMark, SecurityError> {
    let (seq, hash) = head(db).await?;
    let hash = hex::encode(hash);
    let at = rfc3339(OffsetDateTime::now_utc());
    let mark = HeadMark {
        mac: hex::encode(mac(&keys.audit_seal_key(), &HeadMark::signed_text(seq, &hash, &at))),
        seq,
        hash,
        at,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| file_err(path, e))?;
    let mut line = serde_json::to_vec(&mark).map_err(|e| file_err(path, e))?;
    line.push(b'\n');
    f.write_all(&line).map_err(|e| file_err(path, e))?;
    f.sync_all().map_err(|e| file_err(path, e))?;
    Ok(mark)
}

/// Checks the head-mark file against the database: every line's signature, and that the chain still
/// reaches the newest mark with the same hash. `Some((first broken entry, reason))` when not: a table
/// truncated after the mark was written ends before it. A missing file is no finding (none written yet).
pub async fn check_head_marks(db: &Db, keys: &KeyRing, path: &Path) -> Result<Option<(i64, String)>, SecurityError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_err(path, e)),
    };
    let key = keys.audit_seal_key();
    let mut newest: Option<HeadMark> = None;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let Ok(m) = serde_json::from_str::<HeadMark>(line) else {
            return Ok(Some((0, format!("head mark line {} of {} is damaged", n + 1, path.display()))));
        };
        let signed =
            hex::decode(&m.mac).is_ok_and(|mac| mac_ok(&key, &HeadMark::signed_text(m.seq, &m.hash, &m.at), &mac));
        if !signed {
            return Ok(Some((
                m.seq,
                format!("head mark line {} of {} is not signed by this key file", n + 1, path.display()),
            )));
        }
        if newest.as_ref().is_none_or(|o| m.seq >= o.seq) {
            newest = Some(m);
        }
    }
    let Some(mark) = newest else { return Ok(None) };
    let (archived_through, archived_head) = match last_checkpoint(db).await? {
        Some(c) => (c.through_seq, c.head_hash),
        None => (0, vec![0u8; 32]),
    };
    if mark.seq < archived_through {
        return Ok(None);
    }
    let found = if mark.seq == archived_through { Some(archived_head) } else { entry_hash(db, mark.seq).await? };
    Ok(match found {
        Some(h) if hex::encode(&h) == mark.hash => None,
        Some(_) => {
            Some((mark.seq, format!("entry {} differs from the head signed at {} (rewritten)", mark.seq, mark.at)))
        }
        None => {
            let (head_seq, _) = head(db).await?;
            Some((
                head_seq + 1,
                format!(
                    "the log ends at entry {head_seq}, but entry {} was signed as the head at {}: entries were removed (truncated)",
                    mark.seq, mark.at
                ),
            ))
        }
    })
}

// ---------------------------------------------------------------------------------------------------
// AT-25: the watch.

/// The watch's progress and finding (`audit_watch`, one row).
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct WatchState {
    pub verified_seq: i64,
    #[serde(skip)]
    pub verified_hash: Vec<u8>,
    pub sweep_seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    pub broken_seq: Option<i64>,
    pub broken_reason: Option<String>,
}

/// The watch's state, `None` before its first run.
pub async fn watch_state(db: &Db) -> Result<Option<WatchState>, DbError> {
    const SQL: &str = "SELECT verified_seq, verified_hash, sweep_seq, checked_at, broken_seq, broken_reason FROM audit_watch WHERE id = 1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).fetch_optional(p).await)?)
}

async fn save_watch(db: &Db, s: &WatchState) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO audit_watch (id, verified_seq, verified_hash, sweep_seq, checked_at, broken_seq, broken_reason) \
         VALUES (1, $1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET verified_seq = excluded.verified_seq, verified_hash = excluded.verified_hash, \
         sweep_seq = excluded.sweep_seq, checked_at = excluded.checked_at, broken_seq = excluded.broken_seq, \
         broken_reason = excluded.broken_reason";
    on_db!(db, p => sqlx::query(SQL)
        .bind(s.verified_seq)
        .bind(&s.verified_hash)
        .bind(s.sweep_seq)
        .bind(s.checked_at)
        .bind(s.broken_seq)
        .bind(&s.broken_reason)
        .execute(p)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// What one run of the watch did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct WatchReport {
    /// Entries newly verified (appended since the last run).
    pub new_entries: u64,
    /// Older entries verified again this run (the sweep), and where the sweep goes on next time.
    pub swept: u64,
    pub sweep_next: i64,
    pub verified_seq: i64,
    /// The first broken entry and why; `None`: intact.
    pub broken: Option<(i64, String)>,
    /// The head mark written, when a mark file is configured and the chain is intact.
    pub head_mark: Option<i64>,
}

/// Verifies what was appended since the last run (so a run costs what was written in the meantime, not
/// the length of the log), checks that the last verified entry is still what it was, verifies `sweep`
/// older entries again (a slice that moves on each run, so every entry is re-read within
/// `length / sweep` runs), and checks the head-mark file, then marks the new head in it. The state and
/// the finding are saved for the status page and `/metrics`; a broken chain is reported, never repaired.
pub async fn watch(
    db: &Db,
    keys: &KeyRing,
    head_file: Option<&Path>,
    sweep: i64,
) -> Result<WatchReport, SecurityError> {
    let (online_next, online_prev) = online_start(db).await?;
    let alg = audit::chain_hash_of(db).await?;
    let state = watch_state(db).await?;
    let mut broken: Option<(i64, String)> = None;
    let key = keys.audit_seal_key();
    if let Some(c) = checkpoints(db).await?.into_iter().find(|c| !c.signed_by(&key)) {
        broken = Some((
            c.first_seq,
            format!(
                "the archive checkpoint of entries {}–{} is not signed by this key file (forged)",
                c.first_seq, c.through_seq
            ),
        ));
    }
    // Where the verified part ends, and whether it still ends there.
    let (mut verified_seq, mut verified_hash, sweep_seq) = match &state {
        _ if broken.is_some() => (online_next - 1, online_prev.clone(), online_next),
        Some(s) if s.verified_seq >= online_next => {
            match entry_hash(db, s.verified_seq).await? {
                Some(h) if h == s.verified_hash => {}
                Some(_) => {
                    broken = Some((s.verified_seq, "an entry verified earlier has changed".into()));
                }
                None => {
                    broken = Some((s.verified_seq, "an entry verified earlier is gone (removed)".into()));
                }
            }
            (s.verified_seq, s.verified_hash.clone(), s.sweep_seq)
        }
        Some(s) if s.verified_seq == online_next - 1 && s.verified_hash != online_prev => {
            broken = Some((online_next, "the archive checkpoint differs from the entry verified earlier".into()));
            (online_next - 1, online_prev.clone(), s.sweep_seq)
        }
        Some(s) => (online_next - 1, online_prev.clone(), s.sweep_seq.max(online_next)),
        None => (online_next - 1, online_prev.clone(), online_next),
    };
    let mut new_entries = 0u64;
    if broken.is_none() {
        let mut checker = ChainChecker::resume(verified_seq + 1, verified_hash.clone()).hashing(alg);
        let mut after = verified_seq;
        'pages: loop {
            let rows = audit::entries_after(db, after, 20_000).await?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for e in &rows {
                if !checker.feed(e) {
                    break 'pages;
                }
                verified_seq = e.seq;
                verified_hash.clone_from(&e.hash);
                new_entries += 1;
            }
        }
        if let Verdict::Broken { seq, reason } = checker.finish() {
            broken = Some((seq, reason));
        }
    }
    // The sweep: re-verify a slice of what was verified before.
    let mut swept = 0u64;
    let mut sweep_next = sweep_seq.max(online_next);
    if broken.is_none() && sweep > 0 && sweep_next <= verified_seq {
        let prev =
            if sweep_next == online_next { Some(online_prev.clone()) } else { entry_hash(db, sweep_next - 1).await? };
        match prev {
            None => broken = Some((sweep_next - 1, "an entry verified earlier is gone (removed)".into())),
            Some(prev) => {
                let mut checker = ChainChecker::resume(sweep_next, prev).hashing(alg);
                let upto = (sweep_next + sweep - 1).min(verified_seq);
                let mut after = sweep_next - 1;
                'sweep: while after < upto {
                    let rows = audit::entries_after(db, after, (upto - after).min(20_000)).await?;
                    let Some(last) = rows.last() else { break };
                    after = last.seq;
                    for e in rows.iter().filter(|e| e.seq <= upto) {
                        if !checker.feed(e) {
                            break 'sweep;
                        }
                        swept += 1;
                    }
                }
                match checker.finish() {
                    Verdict::Broken { seq, reason } => broken = Some((seq, reason)),
                    Verdict::Intact { .. } => {
                        sweep_next = if upto >= verified_seq { online_next } else { upto + 1 };
                    }
                }
            }
        }
    }
    let mut head_mark = None;
    if let Some(file) = head_file {
        if broken.is_none() {
            broken = check_head_marks(db, keys, file).await?;
        }
        if broken.is_none() {
            head_mark = Some(write_head_mark(db, keys, file).await?.seq);
        }
    }
    if let Some((seq, reason)) = &broken {
        tracing::error!(entry = seq, reason = %audit::inert(reason.clone()), "AUDIT CHAIN BROKEN");
    }
    save_watch(
        db,
        &WatchState {
            verified_seq,
            verified_hash,
            sweep_seq: sweep_next,
            checked_at: OffsetDateTime::now_utc(),
            broken_seq: broken.as_ref().map(|b| b.0),
            broken_reason: broken.as_ref().map(|b| b.1.clone()),
        },
    )
    .await?;
    Ok(WatchReport { new_entries, swept, sweep_next, verified_seq, broken, head_mark })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_online_period_cannot_go_below_six_months() {
        assert!(online_period(179).is_err());
        let msg = online_period(30).unwrap_err().to_string();
        assert!(msg.contains("网络安全法") && msg.contains("180"), "{msg}");
        assert_eq!(online_period(180).ok(), Some(time::Duration::days(180)));
        assert_eq!(online_period(DEFAULT_ONLINE_DAYS).ok(), Some(time::Duration::days(365)));
    }

    #[test]
    fn roles_of_the_platform_and_of_strangers() {
        let sys = Event { actor: "system".into(), ..Event::default() };
        assert_eq!(filled_roles(&sys), ("system".into(), "*".into()));
        let anon = Event { actor: "-".into(), ..Event::default() };
        assert_eq!(filled_roles(&anon), ("anonymous".into(), "-".into()));
        let given = Event { actor: "a".into(), roles: "leader".into(), org_scope: "/1/".into(), ..Event::default() };
        assert_eq!(filled_roles(&given), ("leader".into(), "/1/".into()));
    }

    #[test]
    fn seals_and_marks_need_the_key() {
        let keys = KeyRing::for_tests();
        let k = keys.audit_seal_key();
        assert_ne!(k, [0u8; 32]);
        let m = mac(&k, "x");
        assert!(mac_ok(&k, "x", &m));
        assert!(!mac_ok(&k, "y", &m));
        assert!(!mac_ok(&[1u8; 32], "x", &m));
    }

    #[test]
    fn a_failed_append_is_counted_and_becomes_unavailable() {
        let before = write_failures().total;
        let r = guard_write(Err(DbError::Other(sqlx::Error::PoolClosed)));
        assert!(matches!(r, Err(DbError::AuditUnavailable(_))));
        assert!(matches!(guard_write(Err(DbError::Busy)), Err(DbError::Busy)));
        let after = write_failures();
        assert_eq!(after.total, before + 1);
        assert!(after.last.is_some());
    }
}
