//! The first jobs. `dangjian serve` registers them with their schedules:
//!
//! * [`CLEANUP`] (hourly): deletes expired or ended sessions and second-factor challenges, and finished
//!   jobs after 30 days (failed ones after 90).
//! * [`BACKUP`] (daily, 02:30 Beijing time by default): an online backup into the backup directory through
//!   [`crate::backup::backup`], read back at once with [`crate::backup::verify`] (a backup that does not
//!   verify is renamed `….unverified` and the job fails), then retention deletes the scheduled backups
//!   [`Retention`] does not keep. Files with other names in the directory are never touched.
//! * [`AUDIT_VERIFY`] (daily): recomputes the audit chain; a broken chain fails the job, so it shows on the
//!   status page and in `/metrics`.
//! * [`ACCOUNT_REVIEW`] (nightly): disables the accounts, not linked to a person, whose every role ended
//!   more than `dormant_account_days` ago ([`platform::Platform::disable_dormant_accounts`], AT-16).
//! * [`AUDIT_WATCH`] (every 5 minutes at most): verifies what was appended since its last run, a moving
//!   slice of older entries and the signed head marks, then writes a new head mark
//!   ([`security::audit_evidence::watch`]); a broken chain fails the job naming the first broken entry,
//!   and `dangjian_audit_chain_intact` drops to 0 (security.md AT-25).
//! * [`AUDIT_ARCHIVE`] (daily): moves entries older than the online period into sealed files
//!   ([`security::audit_evidence::archive`], AT-26).
//! * [`COMMITTEES_REMIND`] (nightly): flags the committee terms whose election is due within 6 months or
//!   overdue, and clears flags that no longer hold ([`life::committees::remind`], ORG-10); the flags show on
//!   the compliance calendar of the organization and of every organization above it.
//! * [`UPLOADS_RESCAN`] (nightly, only where clamd is configured): every stored upload through clamd again
//!   with the day's signatures ([`platform::Platform::rescan_uploads`], AT-21); a file found infected is
//!   quarantined and the job fails naming it, so the status page and `/metrics` show it; clamd not
//!   answering, or a file without a verdict, fails it too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kernel::Db;
use security::KeyRing;
use security::audit::{self, Verdict};
use security::audit_evidence;
use serde_json::json;
use time::OffsetDateTime;

use super::model::{BACKUP_SUFFIX, Job, Retention, backup_file_name, parse_backup_name};
use super::service::JobFuture;

pub const CLEANUP: &str = "cleanup";
pub const BACKUP: &str = "backup";
pub const AUDIT_VERIFY: &str = "audit.verify";
pub const ACCOUNT_REVIEW: &str = "accounts.review";
pub const AUDIT_WATCH: &str = "audit.watch";
pub const AUDIT_ARCHIVE: &str = "audit.archive";
pub const COMMITTEES_REMIND: &str = "committees.remind";
pub const UPLOADS_RESCAN: &str = "uploads.rescan";

/// How long finished jobs stay on the queue (for the status page) before the cleanup removes them.
pub const KEEP_DONE: Duration = Duration::from_secs(30 * 86_400);
pub const KEEP_FAILED: Duration = Duration::from_secs(90 * 86_400);

/// The cleanup job.
pub fn cleanup(db: Db) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    move |_job: Job| -> JobFuture {
        let db = db.clone();
        Box::pin(async move {
            let t = OffsetDateTime::now_utc();
            let ago = |d: Duration| t - time::Duration::try_from(d).unwrap_or(time::Duration::ZERO);
            let (sessions, challenges, jobs) =
                super::service::purge(&db, ago(KEEP_DONE), ago(KEEP_FAILED), t).await.map_err(|e| e.to_string())?;
            // Copy links past their 72 hours (security.md AT-36), each expiry audited.
            let copy_links = platform::service::expire_copy_links(&db).await.map_err(|e| e.to_string())?;
            Ok(json!({"sessions": sessions, "login_challenges": challenges, "jobs": jobs, "copy_links": copy_links}))
        })
    }
}

/// The audit-chain verification job.
pub fn audit_verify(db: Db) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    move |_job: Job| -> JobFuture {
        let db = db.clone();
        Box::pin(async move {
            let started = Instant::now();
            match audit::verify(&db).await.map_err(|e| e.to_string())? {
                Verdict::Intact { entries, head_hash } => Ok(json!({
                    "intact": true, "entries": entries, "head": head_hash, "seconds": started.elapsed().as_secs_f64()
                })),
                Verdict::Broken { seq, reason } => Err(format!("audit chain BROKEN at entry {seq}: {reason}")),
            }
        })
    }
}

/// The nightly review of accounts whose roles have all ended (security.md AT-16).
pub fn account_review(platform: Arc<platform::Platform>) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    move |job: Job| -> JobFuture {
        let platform = platform.clone();
        Box::pin(async move {
            let ctx = platform::Ctx { request_id: format!("job-{}", job.id), ip: "-".into(), ..Default::default() };
            let review = platform.disable_dormant_accounts(&ctx).await.map_err(|e| e.to_string())?;
            Ok(json!({"checked": review.checked, "disabled": review.disabled}))
        })
    }
}

/// The nightly rescan of stored uploads (security.md AT-21): files stored before clamd knew a signature are
/// judged again with today's. The job's result counts what was scanned; it fails — shown on the status page
/// and in `/metrics` — when a file was quarantined (named, with its signature: someone must look at where it
/// came from), when a file got no verdict, or when clamd does not answer (nothing is scanned then).
pub fn uploads_rescan(
    platform: Arc<platform::Platform>,
    clamd: platform::clamd::Clamd,
) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    move |job: Job| -> JobFuture {
        let platform = platform.clone();
        let clamd = clamd.clone();
        Box::pin(async move {
            clamd
                .ping()
                .await
                .map_err(|e| format!("clamd {} not answering ({e}): nothing rescanned", clamd.address))?;
            let ctx = platform::Ctx {
                request_id: format!("job-{}", job.id),
                ip: "-".into(),
                user_agent: "job uploads.rescan".into(),
            };
            let actor = platform::service::system_actor();
            let r = platform.rescan_uploads(&ctx, &actor, &clamd, &|_| {}).await.map_err(|e| e.to_string())?;
            if !r.quarantined.is_empty() {
                let found: Vec<String> = r
                    .quarantined
                    .iter()
                    .map(|q| format!("{} ({}:{}) {}", q.id, q.owner_kind, q.owner_id, q.signature))
                    .collect();
                return Err(format!("quarantined {} stored file(s): {}", found.len(), found.join("; ")));
            }
            if !r.unscanned.is_empty() {
                let ids: Vec<String> = r.unscanned.iter().map(|(id, why)| format!("{id}: {why}")).collect();
                return Err(format!("{} file(s) got no verdict (not judged): {}", ids.len(), ids.join("; ")));
            }
            Ok(json!({"scanned": r.scanned, "bytes": r.bytes, "clean": r.clean,
                      "already_quarantined": r.already_quarantined, "released": r.released}))
        })
    }
}

/// The nightly reminder of committee terms (ORG-10), judged on the day the job runs (Beijing time).
pub fn committees_remind(db: Db) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    move |_job: Job| -> JobFuture {
        let db = db.clone();
        Box::pin(async move {
            let r = life::committees::remind(&db, kernel::dates::today()).await.map_err(|e| e.to_string())?;
            Ok(json!({"checked": r.checked, "due_soon": r.due_soon, "overdue": r.overdue, "changed": r.changed}))
        })
    }
}

/// The watch's and the archive's settings.
#[derive(Clone, Debug)]
pub struct AuditSettings {
    /// The signed head marks (outside the database); `None`: no marks.
    pub head_file: Option<PathBuf>,
    /// Older entries verified again per watch run.
    pub sweep: i64,
    pub archive_dir: PathBuf,
    pub online_days: u32,
}

/// One run of an audit job, borrowing the job's shared state.
type AuditRun = for<'a> fn(
    &'a Db,
    &'a KeyRing,
    &'a AuditSettings,
) -> std::pin::Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send + 'a>>;

fn audit_job(
    db: Db,
    keys: Arc<KeyRing>,
    settings: AuditSettings,
    run: AuditRun,
) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    let shared = Arc::new((db, keys, settings));
    move |_job: Job| -> JobFuture {
        let shared = shared.clone();
        Box::pin(async move {
            let (db, keys, s) = &*shared;
            run(db, keys, s).await
        })
    }
}

/// The audit watch job (AT-25).
pub fn audit_watch(
    db: Db,
    keys: Arc<KeyRing>,
    settings: AuditSettings,
) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    audit_job(db, keys, settings, |db, keys, s| Box::pin(watch_once(db, keys, s)))
}

async fn watch_once(db: &Db, keys: &KeyRing, s: &AuditSettings) -> Result<serde_json::Value, String> {
    let started = Instant::now();
    let r = audit_evidence::watch(db, keys, s.head_file.as_deref(), s.sweep).await.map_err(|e| e.to_string())?;
    match r.broken {
        Some((seq, reason)) => Err(format!("audit chain BROKEN at entry {seq}: {reason}")),
        None => Ok(json!({
            "intact": true,
            "verified_seq": r.verified_seq,
            "new_entries": r.new_entries,
            "swept": r.swept,
            "sweep_next": r.sweep_next,
            "head_mark": r.head_mark,
            "seconds": started.elapsed().as_secs_f64(),
        })),
    }
}

/// The audit archive job (AT-26): archives batch after batch until nothing is older than the online
/// period (at most 20 batches a run; the next run goes on).
pub fn audit_archive(
    db: Db,
    keys: Arc<KeyRing>,
    settings: AuditSettings,
) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    audit_job(db, keys, settings, |db, keys, s| Box::pin(archive_once(db, keys, s)))
}

async fn archive_once(db: &Db, keys: &KeyRing, s: &AuditSettings) -> Result<serde_json::Value, String> {
    let mut files = Vec::new();
    let mut entries = 0;
    for _ in 0..20 {
        let now = OffsetDateTime::now_utc();
        match audit_evidence::archive(db, keys, &s.archive_dir, s.online_days, now).await.map_err(|e| e.to_string())? {
            Some(r) => {
                entries += r.entries;
                files.push(r.file.file_name().map(|n| n.to_string_lossy().into_owned()));
            }
            None => break,
        }
    }
    Ok(json!({"files": files, "entries": entries, "online_days": s.online_days}))
}

/// Where scheduled backups go and how many are kept.
#[derive(Clone, Debug)]
pub struct BackupSettings {
    pub dir: PathBuf,
    pub retention: Retention,
}

/// The scheduled backup job.
pub fn backup(
    db: Db,
    keys: Arc<KeyRing>,
    settings: BackupSettings,
) -> impl Fn(Job) -> JobFuture + Send + Sync + 'static {
    let shared = Arc::new((db, keys, settings));
    move |_job: Job| -> JobFuture {
        let shared = shared.clone();
        Box::pin(async move {
            let (db, keys, settings) = &*shared;
            scheduled_backup(db, keys.clone(), settings).await
        })
    }
}

async fn scheduled_backup(db: &Db, keys: Arc<KeyRing>, settings: &BackupSettings) -> Result<serde_json::Value, String> {
    let dir = &settings.dir;
    create_private_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(backup_file_name(OffsetDateTime::now_utc()));
    let report = crate::backup::backup(db, &keys, &path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(broken) = &report.manifest.audit.broken {
        return Err(format!(
            "backup {} written, but the audit chain is BROKEN ({broken}); kept as evidence, it will not restore",
            path.display()
        ));
    }
    // Read it back from the disk as a restore would, in a blocking thread (it is seconds of CPU).
    let started = Instant::now();
    let check = path.clone();
    let verified = tokio::task::spawn_blocking(move || crate::backup::verify(&check, Some(&keys)))
        .await
        .map_err(|e| format!("verification did not finish: {e}"))?;
    let verify_seconds = started.elapsed().as_secs_f64();
    let mismatch = match &verified {
        Ok((manifest, written)) if *manifest == report.manifest && written.sha256 == report.written.sha256 => None,
        Ok(_) => Some("the file read back differs from what was written".to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(why) = mismatch {
        let mut bad = path.clone().into_os_string();
        bad.push(".unverified");
        let _ = std::fs::rename(&path, &bad);
        return Err(format!(
            "backup {} did not verify: {why}; renamed to {}",
            path.display(),
            Path::new(&bad).display()
        ));
    }
    let deleted =
        apply_retention(dir, settings.retention).map_err(|e| format!("retention in {}: {e}", dir.display()))?;
    let m = &report.manifest;
    Ok(json!({
        "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "bytes": report.written.bytes,
        "sha256": report.written.sha256,
        "rows": m.total_rows(),
        "tables": m.tables.len(),
        "schema_version": m.header.schema_version,
        "audit_entries": m.audit.entries,
        "audit_head": m.audit.head,
        "seconds": report.seconds,
        "verified": true,
        "verify_seconds": verify_seconds,
        "deleted": deleted,
    }))
}

/// The backup directory holds personal data: owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Deletes the scheduled backups `retention` does not keep, and `.partial` leftovers of scheduled backups
/// (a process killed mid-backup) older than a day. Returns the names deleted.
pub fn apply_retention(dir: &Path, retention: Retention) -> std::io::Result<Vec<String>> {
    let mut backups = Vec::new();
    let mut deleted = Vec::new();
    let day_ago = SystemTime::now().checked_sub(Duration::from_secs(86_400)).unwrap_or(SystemTime::UNIX_EPOCH);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stamp) = parse_backup_name(&name) {
            backups.push((name, stamp));
        } else if let Some(stem) = name.strip_suffix(".partial")
            && stem.ends_with(BACKUP_SUFFIX)
            && parse_backup_name(stem).is_some()
            && entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < day_ago)
        {
            std::fs::remove_file(entry.path())?;
            deleted.push(name);
        }
    }
    let stamps: Vec<_> = backups.iter().map(|(_, s)| *s).collect();
    let keep = retention.keep(&stamps);
    for (i, (name, _)) in backups.iter().enumerate() {
        if !keep.contains(&i) {
            std::fs::remove_file(dir.join(name))?;
            deleted.push(name.clone());
        }
    }
    deleted.sort();
    Ok(deleted)
}
