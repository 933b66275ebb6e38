//! What the IT centre reads: the readiness check (`/readyz`), the database-backed part of `/metrics`, and
//! the system-status page (`/admin/status`): version and uptime, the database and its size, the data
//! directory's free disk, the last scheduled backups and their verification, the job queue, the audit
//! chain, recent errors, the maintenance switch and whether the virus scanner (clamd) answers.
//!
//! Who reads the page: the system administrator (who runs the platform and holds the switch) and the
//! security administrator (backups, the audit chain's health). It shows no personal data.

mod store;

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use kernel::{Backend, Db, DbError, on_db};
use platform::Actor;
use platform::model::Role;
use security::audit_evidence::{self, WatchState, WriteFailures};
use serde::Serialize;
use time::OffsetDateTime;

use crate::jobs::builtin::{AUDIT_VERIFY, BACKUP};
use crate::jobs::{self, JobRow, QueueSummary};
use crate::maintenance::State;
use crate::metrics::escape;
use crate::{Error, Metrics, Ops};

/// Whether `actor` may read the status page.
pub fn may_view(actor: &Actor) -> bool {
    actor.has_role(Role::SystemAdmin) || actor.has_role(Role::SecurityAdmin)
}

/// Whether `actor` may switch maintenance mode.
pub fn may_switch(actor: &Actor) -> bool {
    actor.has_role(Role::SystemAdmin)
}

pub fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// Migrations this build carries but the database has not applied (a database ahead of the build, during
/// a rolling upgrade, is fine: migrations are expand-then-contract).
pub async fn pending_migrations(db: &Db) -> Result<Vec<i64>, DbError> {
    let applied = store::applied_migrations(db).await?;
    Ok(db.migration_versions().into_iter().filter(|v| !applied.contains(v)).collect())
}

/// `/readyz`: the database answers and every migration of this build is applied. The reason otherwise.
pub async fn readiness(db: &Db) -> Result<(), String> {
    db.ping().await.map_err(|e| format!("database unavailable: {e}"))?;
    let pending = pending_migrations(db).await.map_err(|e| format!("migrations unknown: {e}"))?;
    if pending.is_empty() { Ok(()) } else { Err(format!("migrations pending: {pending:?}")) }
}

/// How long the health check waits for clamd's `PONG` (the status page and `/metrics` must not hang on it).
pub const CLAMD_PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the virus scanner answers (security.md AT-21): uploads are refused while it does not.
#[derive(Clone, Debug, Serialize)]
pub struct ScannerHealth {
    /// `unix:/run/clamav/clamd.ctl`, `tcp:host:3310`.
    pub address: String,
    /// `None`: `PONG` came back; otherwise why not.
    pub failure: Option<String>,
    pub millis: u128,
}

/// `PING` → `PONG` to the configured clamd; `None` when none is configured.
pub async fn scanner_health(clamd: Option<&platform::clamd::Clamd>) -> Option<ScannerHealth> {
    let clamd = clamd?;
    let probe = platform::clamd::Clamd { timeout: clamd.timeout.min(CLAMD_PING_TIMEOUT), ..clamd.clone() };
    let started = std::time::Instant::now();
    let failure = probe.ping().await.err().map(|f| f.to_string());
    Some(ScannerHealth { address: clamd.address.to_string(), failure, millis: started.elapsed().as_millis() })
}

/// Free and total bytes of the file system holding `dir` (POSIX `df -Pk`, present on every server this
/// runs on; `None` where it is not).
pub fn disk_space(dir: &Path) -> Option<(u64, u64)> {
    let out = std::process::Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    let cols: Vec<&str> = line.split_whitespace().collect();
    let total: u64 = cols.get(1)?.parse().ok()?;
    let free: u64 = cols.get(3)?.parse().ok()?;
    Some((free * 1024, total * 1024))
}

/// A scheduled backup as the page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct BackupRun {
    pub job: JobRow,
    pub file: Option<String>,
    pub bytes: Option<u64>,
    pub rows: Option<u64>,
    pub verified: bool,
    pub seconds: Option<f64>,
}

/// Everything the status page shows.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub instance: String,
    pub uptime: Duration,
    pub backend: &'static str,
    pub database_bytes: Option<i64>,
    pub pool_size: u32,
    pub pool_idle: usize,
    pub data_dir: String,
    /// Free and total bytes where the data directory is.
    pub disk: Option<(u64, u64)>,
    pub migrations_latest: Option<i64>,
    pub migrations_pending: Vec<i64>,
    pub backup_dir: String,
    pub backup_plan: Option<String>,
    pub backups: Vec<BackupRun>,
    pub last_backup_ok: Option<OffsetDateTime>,
    pub queue: QueueSummary,
    pub audit_entries: i64,
    pub audit_verify: Option<JobRow>,
    /// The watch's progress and finding (AT-25).
    pub audit_watch: Option<WatchState>,
    /// Failed audit appends of this instance (AT-27: the actions were refused).
    pub audit_write_failures: WriteFailures,
    /// The last archived entry and how many archive files hold the older part (AT-26).
    pub audit_archived_through: Option<i64>,
    pub audit_archive_files: usize,
    pub requests: u64,
    pub errors_5xx_last_hour: u64,
    pub maintenance: State,
    /// The virus scanner, when configured.
    pub scanner: Option<ScannerHealth>,
}

/// The status page's content, for an administrator who may read it.
pub async fn status(ops: &Ops, metrics: &Metrics, db: &Db, actor: &Actor) -> Result<Status, Error> {
    if !may_view(actor) {
        return Err(Error::NotFound);
    }
    let s = &ops.settings;
    let backups = jobs::recent(db, BACKUP, 10)
        .await?
        .into_iter()
        .map(|job| {
            let r = job.result_json();
            BackupRun {
                file: r["file"].as_str().map(str::to_owned),
                bytes: r["bytes"].as_u64(),
                rows: r["rows"].as_u64(),
                verified: r["verified"].as_bool().unwrap_or(false),
                seconds: r["seconds"].as_f64(),
                job,
            }
        })
        .collect();
    let data_dir = s.data_dir.clone();
    let disk = tokio::task::spawn_blocking(move || disk_space(&data_dir)).await.ok().flatten();
    let (pool_size, pool_idle) = on_db!(db, p => (p.size(), p.num_idle()));
    let (requests, _) = metrics.totals();
    let archived = audit_evidence::checkpoints(db).await?;
    Ok(Status {
        version: env!("CARGO_PKG_VERSION"),
        instance: s.instance.clone(),
        uptime: metrics.uptime(),
        backend: backend_name(db.backend()),
        database_bytes: store::database_bytes(db).await.ok(),
        pool_size,
        pool_idle,
        data_dir: s.data_dir.display().to_string(),
        disk,
        migrations_latest: db.migration_versions().into_iter().max(),
        migrations_pending: pending_migrations(db).await?,
        backup_dir: s.backup_dir.display().to_string(),
        backup_plan: s.backup_plan.clone(),
        backups,
        last_backup_ok: jobs::service::last_done(db, BACKUP).await?,
        queue: jobs::summary(db).await?,
        audit_entries: store::audit_length(db).await?,
        audit_verify: jobs::recent(db, AUDIT_VERIFY, 1).await?.into_iter().next(),
        audit_watch: audit_evidence::watch_state(db).await?,
        audit_write_failures: audit_evidence::write_failures(),
        audit_archived_through: archived.last().map(|c| c.through_seq),
        audit_archive_files: archived.len(),
        requests,
        errors_5xx_last_hour: metrics.errors_5xx_last_hour(),
        maintenance: ops.maintenance.current(db).await?,
        scanner: scanner_health(s.clamd.as_ref()).await,
    })
}

/// The whole `/metrics` text: this process's counters and what the database says (shared by all
/// instances: the queue, the audit chain, the last backup, the switch). A database that does not answer
/// leaves its part out and `dangjian_up` at 0.
pub async fn render_metrics(metrics: &Metrics, ops: &Ops, db: &Db) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let backend = match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let ready = readiness(db).await;
    let _ = writeln!(out, "# HELP dangjian_up Whether the database answers and its migrations are current.");
    let _ = writeln!(out, "# TYPE dangjian_up gauge");
    let _ = writeln!(out, "dangjian_up{{backend=\"{backend}\"}} {}", u8::from(ready.is_ok()));
    metrics.render(&mut out);
    let (size, idle) = on_db!(db, p => (p.size(), p.num_idle()));
    let _ = writeln!(out, "# HELP dangjian_db_pool_connections Connections of this instance's database pool.");
    let _ = writeln!(out, "# TYPE dangjian_db_pool_connections gauge");
    let _ = writeln!(out, "dangjian_db_pool_connections{{state=\"open\"}} {size}");
    let _ = writeln!(out, "dangjian_db_pool_connections{{state=\"idle\"}} {idle}");
    if let Some(h) = scanner_health(ops.settings.clamd.as_ref()).await {
        let _ = writeln!(
            out,
            "# HELP dangjian_clamd_up Whether the virus scanner (clamd) answered PING; uploads are refused while it does not."
        );
        let _ = writeln!(out, "# TYPE dangjian_clamd_up gauge");
        let _ =
            writeln!(out, "dangjian_clamd_up{{address=\"{}\"}} {}", escape(&h.address), u8::from(h.failure.is_none()));
    }
    if let Err(e) = db_metrics(&mut out, ops, db).await {
        tracing::warn!(error = %e, "metrics: the database part is missing");
    }
    out
}

async fn db_metrics(out: &mut String, ops: &Ops, db: &Db) -> Result<(), Error> {
    let counts = jobs::summary(db).await?.counts;
    let _ =
        writeln!(out, "# HELP dangjian_jobs Jobs on the queue by kind and state (failed: given up after every retry).");
    let _ = writeln!(out, "# TYPE dangjian_jobs gauge");
    for (kind, state, n) in &counts {
        let _ = writeln!(out, "dangjian_jobs{{kind=\"{}\",state=\"{}\"}} {n}", escape(kind), escape(state));
    }
    let _ = writeln!(out, "# HELP dangjian_audit_entries Length of the audit hash chain.");
    let _ = writeln!(out, "# TYPE dangjian_audit_entries gauge");
    let _ = writeln!(out, "dangjian_audit_entries {}", store::audit_length(db).await?);
    audit_metrics(out, db).await?;
    let last = jobs::service::last_done(db, BACKUP).await?;
    let age = last.map_or(f64::INFINITY, |t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0));
    let _ = writeln!(
        out,
        "# HELP dangjian_backup_age_seconds Seconds since the last scheduled backup that was written and verified (+Inf: none yet)."
    );
    let _ = writeln!(out, "# TYPE dangjian_backup_age_seconds gauge");
    if age.is_finite() {
        let _ = writeln!(out, "dangjian_backup_age_seconds {age:.0}");
    } else {
        let _ = writeln!(out, "dangjian_backup_age_seconds +Inf");
    }
    let _ = writeln!(out, "# HELP dangjian_maintenance Whether maintenance mode (read-only) is on.");
    let _ = writeln!(out, "# TYPE dangjian_maintenance gauge");
    let _ = writeln!(out, "dangjian_maintenance {}", u8::from(ops.maintenance.current(db).await?.active));
    let _ = writeln!(out, "# HELP dangjian_migrations_pending Migrations of this build not applied to the database.");
    let _ = writeln!(out, "# TYPE dangjian_migrations_pending gauge");
    let _ = writeln!(out, "dangjian_migrations_pending {}", pending_migrations(db).await?.len());
    Ok(())
}

/// The audit log's health (security.md AT-25…AT-27): the watch's finding and age, this instance's failed
/// appends, the archive. Alert on `dangjian_audit_chain_intact == 0`, on
/// `dangjian_audit_chain_checked_age_seconds > 600` (the watch is not running) and on any increase of
/// `dangjian_audit_write_failures_total`.
async fn audit_metrics(out: &mut String, db: &Db) -> Result<(), Error> {
    let watch = audit_evidence::watch_state(db).await?;
    let _ = writeln!(
        out,
        "# HELP dangjian_audit_chain_intact Whether the audit watch found the chain intact at its last run (absent before the first run)."
    );
    let _ = writeln!(out, "# TYPE dangjian_audit_chain_intact gauge");
    let _ = writeln!(
        out,
        "# HELP dangjian_audit_chain_broken_entry The first broken entry the audit watch found (0: none)."
    );
    let _ = writeln!(out, "# TYPE dangjian_audit_chain_broken_entry gauge");
    let _ = writeln!(
        out,
        "# HELP dangjian_audit_chain_checked_age_seconds Seconds since the audit watch last ran (+Inf: never)."
    );
    let _ = writeln!(out, "# TYPE dangjian_audit_chain_checked_age_seconds gauge");
    match &watch {
        Some(w) => {
            let _ = writeln!(out, "dangjian_audit_chain_intact {}", u8::from(w.broken_seq.is_none()));
            let _ = writeln!(out, "dangjian_audit_chain_broken_entry {}", w.broken_seq.unwrap_or(0));
            let age = (OffsetDateTime::now_utc() - w.checked_at).as_seconds_f64().max(0.0);
            let _ = writeln!(out, "dangjian_audit_chain_checked_age_seconds {age:.0}");
        }
        None => {
            let _ = writeln!(out, "dangjian_audit_chain_broken_entry 0");
            let _ = writeln!(out, "dangjian_audit_chain_checked_age_seconds +Inf");
        }
    }
    let f = audit_evidence::write_failures();
    let _ = writeln!(
        out,
        "# HELP dangjian_audit_write_failures_total Audit appends of this instance that failed (each refused its action: fail closed)."
    );
    let _ = writeln!(out, "# TYPE dangjian_audit_write_failures_total counter");
    let _ = writeln!(out, "dangjian_audit_write_failures_total {}", f.total);
    let _ = writeln!(
        out,
        "# HELP dangjian_audit_write_failure_last_seconds Unix time of this instance's last failed audit append (0: none)."
    );
    let _ = writeln!(out, "# TYPE dangjian_audit_write_failure_last_seconds gauge");
    let _ = writeln!(out, "dangjian_audit_write_failure_last_seconds {}", f.last.map_or(0, |t| t.unix_timestamp()));
    let archived = audit_evidence::last_checkpoint(db).await?;
    let _ = writeln!(
        out,
        "# HELP dangjian_audit_archived_through The last audit entry moved to an archive file (0: none)."
    );
    let _ = writeln!(out, "# TYPE dangjian_audit_archived_through gauge");
    let _ = writeln!(out, "dangjian_audit_archived_through {}", archived.map_or(0, |c| c.through_seq));
    Ok(())
}
