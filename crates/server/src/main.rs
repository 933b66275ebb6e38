//! `dangjian`: the one binary. Reads settings (flags > `DANGJIAN_*` environment > TOML file >
//! defaults), opens the database, and runs the command. `anyhow` lives here, at the edge, only.

mod register;
mod settings;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use platform::Platform;
use platform::demo::{self, Scale};
use security::KeyRing;
use security::audit::{self, Verdict};
use security::audit_evidence;

use crate::settings::{Cli, Settings};

#[derive(Parser)]
#[command(name = "dangjian", version, about = "dangjian 数字党建平台 — the 1+5+2 digital Party-building platform")]
struct Args {
    #[command(flatten)]
    cli: Cli,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (the default). Applies pending migrations first.
    Serve {
        /// Address to listen on [env: DANGJIAN_LISTEN] [default: 127.0.0.1:8080].
        #[arg(long, env = "DANGJIAN_LISTEN")]
        listen: Option<String>,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Fill the database with a deterministic demo university.
    Demo {
        #[arg(long, default_value = "small", value_parser = ["small", "university", "province", "load"])]
        scale: String,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The dues ledger (党费).
    Fees {
        #[command(subcommand)]
        action: FeesAction,
    },
    /// Online, consistent backup of the whole database into one file (while the platform keeps serving).
    /// The key file is NOT in the backup: keep it apart (docs/OPERATIONS.md).
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        /// The file to write (must not exist), e.g. dangjian-2026-05-01.jsonl.gz.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(subcommand)]
        action: Option<BackupAction>,
    },
    /// Restore a backup into an EMPTY database (a new data dir, or a new PostgreSQL database), checked
    /// row for row before it is committed. The key file the backup was taken with must be in place.
    /// With --only and --org: put one organization's deleted records back into the live database,
    /// leaving every record that still exists as it is.
    Restore {
        file: std::path::PathBuf,
        /// Restore only this table's rows of one organization's subtree (and the rows that hang on them):
        /// meetings.
        #[arg(long, requires = "org")]
        only: Option<String>,
        /// The organization (id) whose subtree's rows come back; with --only.
        #[arg(long, requires = "only")]
        org: Option<i64>,
        /// With --only: report what would come back, write nothing.
        #[arg(long, requires = "only")]
        dry_run: bool,
    },
    /// Maintenance mode: the whole platform read-only (every instance within its cache time), for
    /// upgrades and restores. Audited.
    Maintenance {
        #[command(subcommand)]
        action: MaintenanceAction,
    },
    /// Import the register (党员花名册) from an xlsx or csv file, as the system: all rows or none.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export the register of an organization's subtree, ID numbers and phones masked.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// The data keys (key file) and the crypto profile (docs/OPERATIONS.md, key custody).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The stored uploads (attachments).
    Uploads {
        #[command(subcommand)]
        action: UploadsAction,
    },
}

#[derive(Subcommand)]
enum UploadsAction {
    /// Scan every stored upload again through the configured clamd ([uploads] clamd / DANGJIAN_CLAMD) and
    /// quarantine those in which it finds a signature (kept, never downloaded). Exit 0: all clean; 1: files
    /// quarantined; 2: files clamd gave no verdict on. Refused (exit 2) when clamd is not configured.
    Rescan,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Add a new data key version and re-encrypt every encrypted column to it in batches while the platform
    /// keeps serving; then retire the older versions. Audited. Run again to resume an interrupted one.
    Rotate {
        /// Values per batch (each batch is one transaction).
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
    /// The crypto profile, the key versions and how many values each version encrypts, and whether the key
    /// file is sealed by an HSM.
    Status,
    /// Seal the key file with a key held in a hardware security module over PKCS #11 (security.md AT-38):
    /// afterwards the file alone reads nothing, and every start needs the HSM and the token's PIN
    /// (DANGJIAN_PKCS11_PIN or DANGJIAN_PKCS11_PIN_FILE). The data keys do not change. Audited.
    Seal {
        /// The HSM vendor's PKCS #11 module, e.g. /usr/lib/softhsm/libsofthsm2.so.
        #[arg(long)]
        module: std::path::PathBuf,
        /// The label of the token (slot) that holds the key.
        #[arg(long)]
        token: String,
        /// The label of the AES-256 key that seals the file.
        #[arg(long, default_value = "dangjian-kek")]
        key_label: String,
        /// Make that key in the token (sensitive, never extractable) when it has none.
        #[arg(long)]
        create_key: bool,
    },
    /// Write a sealed key file back as a plain one (leaving the HSM, or before sealing under another). Needs
    /// the HSM and the PIN. Audited.
    Unseal,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// People: one row each, branches named as in the organization tree (README 导入花名册). Exits 1 when
    /// any row has an error (then nothing is written).
    People {
        file: std::path::PathBuf,
        /// Check every row and print the report; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum ExportWhat {
    People {
        /// The organization whose subtree is exported.
        #[arg(long)]
        org: i64,
        #[arg(long, default_value = "xlsx", value_parser = ["xlsx", "csv"])]
        format: String,
        /// The file to write (must not exist).
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum MaintenanceAction {
    /// Switch maintenance mode on: writes are refused with a notice, every page shows it.
    On {
        /// Added to the notice users read, e.g. when the work should end.
        #[arg(long)]
        message: Option<String>,
    },
    /// Switch maintenance mode off.
    Off,
    /// Print whether maintenance mode is on.
    Status,
}

#[derive(Subcommand)]
enum BackupAction {
    /// Check a backup file's integrity (checksums, audit chain, manifest) without any database.
    Verify { file: std::path::PathBuf },
}

#[derive(Subcommand)]
enum FeesAction {
    /// Recompute the HMAC of every payments-ledger entry: exit 0 when all match, 1 naming the entries that
    /// were edited behind the platform's back (needs the key file the entries were recorded with).
    Verify,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the whole hash chain (from the last archive checkpoint on) and the signed head marks: exit 0
    /// when intact, 1 with the first broken entry named. With --file, check an exported file or an
    /// archive file instead, away from the database (an archive's seal is checked with the key file when
    /// it is present).
    Verify {
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
    /// Move entries older than the online period ([audit] online_days, at least 180 days) into sealed
    /// files in the archive directory now (the daily job does the same); prints the files written.
    Archive,
    /// Print the entries of an archive or export file that match, one JSON line each, after verifying
    /// the file (exit 1 when it is broken).
    Search {
        #[arg(long)]
        file: std::path::PathBuf,
        /// Username.
        #[arg(long)]
        actor: Option<String>,
        /// e.g. person.export.
        #[arg(long)]
        action: Option<String>,
        /// e.g. person:17, or a kind: person:
        #[arg(long)]
        target: Option<String>,
    },
    /// Bring an archive file's entries back into the database, where the audit administrator's search
    /// (审计) finds them again: only a file that verifies (every entry, the seal's signature) and that an
    /// archive checkpoint of this database recorded (name and SHA-256); exit 1 with the reason otherwise,
    /// nothing written. A second restore of the same file copies nothing.
    Restore {
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Write the whole chain to a file (one JSON entry per line) and print its head hash, to keep apart
    /// from the database (a later rewrite of the chain no longer matches the head kept elsewhere).
    Export {
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut settings = Settings::load(&args.cli)?;
    if matches!(args.command, Some(Command::Backup { .. } | Command::Restore { .. })) {
        // Backup and restore read whole tables in one statement by design; sqlx's slow-statement warning
        // would only alarm the operator.
        settings.log.push_str(",sqlx::query=error");
    }
    init_logging(&settings);
    match args.command.unwrap_or(Command::Serve { listen: None }) {
        Command::Serve { listen } => serve(settings, listen).await,
        Command::Migrate => {
            let p = open(&settings).await?;
            p.db.close().await;
            println!("数据库迁移已完成（{:?}）", p.db.backend());
            Ok(())
        }
        Command::Demo { scale, seed } => demo_cmd(settings, &scale, seed).await,
        Command::Audit { action: AuditAction::Verify { file: None } } => audit_verify(settings).await,
        Command::Audit { action: AuditAction::Verify { file: Some(file) } } => audit_verify_file(&settings, &file),
        Command::Audit { action: AuditAction::Archive } => audit_archive(settings).await,
        Command::Audit { action: AuditAction::Search { file, actor, action, target } } => {
            let filter = audit_evidence::Filter { actor, action, target, ..Default::default() };
            audit_search(&settings, &file, &filter)
        }
        Command::Audit { action: AuditAction::Export { out } } => audit_export(settings, &out).await,
        Command::Audit { action: AuditAction::Restore { file } } => audit_restore(settings, &file).await,
        Command::Fees { action: FeesAction::Verify } => fees_verify(settings).await,
        Command::Backup { action: Some(BackupAction::Verify { file }), .. } => backup_verify(&settings, &file),
        Command::Backup { out: Some(out), action: None } => backup_cmd(settings, &out).await,
        Command::Backup { out: None, action: None } => bail!("backup needs --out FILE (or: backup verify FILE)"),
        Command::Restore { file, only: None, .. } => restore_cmd(settings, &file).await,
        Command::Restore { file, only: Some(table), org, dry_run } => {
            let req = ops::backup::PartialRequest { table, org_id: org.unwrap_or_default(), dry_run };
            restore_part_cmd(settings, &file, req).await
        }
        Command::Maintenance { action } => maintenance_cmd(settings, action).await,
        Command::Import { what: ImportWhat::People { file, dry_run } } => {
            register::import_people(settings, &file, dry_run).await
        }
        Command::Export { what: ExportWhat::People { org, format, out } } => {
            register::export_people(settings, org, &format, &out).await
        }
        Command::Keys { action } => keys_cmd(settings, action).await,
        Command::Uploads { action: UploadsAction::Rescan } => uploads_rescan(settings).await,
    }
}

fn init_logging(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DANGJIAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(s.log.clone()));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if s.log_json { builder.json().init() } else { builder.init() }
}

/// Opens the database, applies migrations, records or checks the crypto profile, and builds the platform
/// service.
async fn open(s: &Settings) -> anyhow::Result<Platform> {
    let db = kernel::Db::connect(s.database_url.as_deref(), &s.data_dir).await.context("opening the database")?;
    db.migrate().await.context("applying migrations")?;
    let profile = security::profile::establish(&db, s.crypto).await?;
    let keys = KeyRing::load_or_create(&s.key_file).context("reading the key file")?.with_profile(profile);
    Ok(Platform::new(db, &keys, s.platform.clone())?)
}

/// `dangjian uploads rescan` (security.md AT-21): every stored upload through clamd again, as the system.
async fn uploads_rescan(s: Settings) -> anyhow::Result<()> {
    let Some(clamd) = s.platform.clamd.clone() else {
        eprintln!(
            "未配置病毒扫描服务（clamd），无法复查：请在设置文件 [uploads] clamd 或环境变量 DANGJIAN_CLAMD 中指定 \
             clamd 地址（docs/OPERATIONS.md“病毒扫描”）。clamd is not configured: nothing was scanned."
        );
        std::process::exit(2);
    };
    if let Err(failure) = clamd.ping().await {
        eprintln!("病毒扫描服务 {} 无法连接（{failure}），未复查任何文件。", clamd.address);
        std::process::exit(2);
    }
    let platform = open(&s).await?;
    let ctx = platform::Ctx {
        request_id: format!("cli-uploads-rescan-{}", std::process::id()),
        ip: "-".into(),
        user_agent: "dangjian uploads rescan".into(),
    };
    let started = std::time::Instant::now();
    let progress = |r: &platform::service::RescanReport| {
        if r.scanned.is_multiple_of(1000) {
            tracing::info!(scanned = r.scanned, quarantined = r.quarantined.len(), "rescanning uploads");
        }
    };
    let actor = platform::service::system_actor();
    let report = platform.rescan_uploads(&ctx, &actor, &clamd, &progress).await;
    platform.db.close().await;
    let report = report.context("rescanning the stored uploads")?;
    for q in &report.quarantined {
        println!("已隔离 附件 {}（{}:{}）：检出 {}", q.id, q.owner_kind, q.owner_id, q.signature);
    }
    for (id, why) in &report.unscanned {
        println!("未能扫描 附件 {id}：{why}");
    }
    println!(
        "复查完成（{}）：扫描 {} 个文件（{:.1} MB），未见病毒 {}，检出并隔离 {}，此前已隔离 {}，已放行的误报 {}，未能扫描 {}；用时 {:.1} 秒。",
        clamd.address,
        report.scanned,
        report.bytes as f64 / 1_048_576.0,
        report.clean,
        report.quarantined.len(),
        report.already_quarantined,
        report.released,
        report.unscanned.len(),
        started.elapsed().as_secs_f64()
    );
    if !report.unscanned.is_empty() {
        eprintln!("有文件未能扫描（clamd 未给出结论）：请检查 clamd 后再次运行；已扫描的文件不受影响。");
        std::process::exit(2);
    }
    if !report.quarantined.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

async fn keys_cmd(s: Settings, action: KeysAction) -> anyhow::Result<()> {
    use security::rotation;
    let platform = open(&s).await?;
    let db = platform.db.clone();
    let profile = platform.crypto_profile();
    match action {
        KeysAction::Rotate { batch } => {
            if !(1..=100_000).contains(&batch) {
                bail!("--batch must be between 1 and 100000");
            }
            let started = std::time::Instant::now();
            // Ctrl-C / SIGTERM stops between two batches; the next run resumes.
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = stop.clone();
            let watcher = tokio::spawn(async move {
                shutdown_signal().await;
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            let progress = |column: &str, n: u64| {
                tracing::info!(column, re_encrypted = n, "re-encrypting");
                !stop.load(std::sync::atomic::Ordering::Relaxed)
            };
            let report = rotation::rotate(&db, &s.key_file, profile, batch, &progress).await;
            watcher.abort();
            db.close().await;
            let report = report.context("rotating the data key")?;
            if report.stopped {
                println!(
                    "轮换已暂停：已重新加密 {} 个值；再次运行 dangjian keys rotate 继续（期间新旧版本均可解密）。",
                    report.re_encrypted
                );
                return Ok(());
            }
            println!(
                "数据密钥已轮换：版本 {} 启用（{}），{} 个加密值在 {} 批中重新加密，停用版本 {:?}（{:.1} 秒）。",
                report.version,
                profile.describe(),
                report.re_encrypted,
                report.batches,
                report.retired,
                started.elapsed().as_secs_f64()
            );
            if report.resumed {
                println!("（继续了上次中断的轮换。）");
            }
            println!(
                "密钥文件 {} 已更新：请立即重新备份密钥文件；旧版本仍保留在文件中，用于打开轮换前的备份。",
                s.key_file.display()
            );
        }
        KeysAction::Seal { module, token, key_label, create_key } => {
            let pin = security::custody::pin_from_env().map_err(anyhow::Error::msg)?;
            let custody = security::custody::Pkcs11Custody { module, token, key_label };
            KeyRing::seal_file(&s.key_file, &custody, &pin, create_key).context("sealing the key file")?;
            let detail = format!("token:{} key:{}", custody.token, custody.key_label);
            audit_system(&db, "keys.seal", detail).await?;
            db.close().await;
            println!(
                "密钥文件 {} 已由硬件密码模块（令牌 {}，密钥 {}）加密封存：此后单独的密钥文件无法读出任何数据；\
                 每次启动须能访问该模块，并通过 DANGJIAN_PKCS11_PIN 或 DANGJIAN_PKCS11_PIN_FILE 提供令牌口令。请重新备份密钥文件。",
                s.key_file.display(),
                custody.token,
                custody.key_label
            );
        }
        KeysAction::Unseal => {
            KeyRing::unseal_file(&s.key_file).context("unsealing the key file")?;
            audit_system(&db, "keys.unseal", String::new()).await?;
            db.close().await;
            println!(
                "密钥文件 {} 已解除封存，恢复为明文密钥文件：请按明文密钥文件的要求保管和备份。",
                s.key_file.display()
            );
        }
        KeysAction::Status => {
            println!("crypto profile: {} ({})", profile.code(), profile.describe());
            let text = std::fs::read_to_string(&s.key_file).unwrap_or_default();
            match security::custody::Pkcs11Custody::parse(&text) {
                Ok((c, _)) => println!(
                    "key file: sealed by the HSM token {} (key {}, module {})",
                    c.token,
                    c.key_label,
                    c.module.display()
                ),
                Err(_) => println!("key file: plain (not sealed by an HSM)"),
            }
            for (v, state) in rotation::versions(&db).await? {
                println!("key version {v}: {state}");
            }
            for (column, v, n) in rotation::census(&db).await? {
                println!("  {column:<24} version {v}: {n} values");
            }
            db.close().await;
        }
    }
    Ok(())
}

/// An audit entry of an operator's command (actor `system`), in its own transaction.
async fn audit_system(db: &kernel::Db, action: &str, detail: String) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let e = security::audit::Event {
        actor: "system".into(),
        action: action.into(),
        target: "key_file".into(),
        result: "ok".into(),
        request_id: format!("cli-{}", std::process::id()),
        ip: "-".into(),
        detail,
        ..Default::default()
    };
    security::audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

async fn serve(s: Settings, listen: Option<String>) -> anyhow::Result<()> {
    let listen = listen.unwrap_or_else(|| s.listen.clone());
    let platform = open(&s).await?;
    let profile = platform.crypto_profile();
    if let Some(pw) = platform.bootstrap_admin(s.admin_password.as_deref()).await? {
        println!("已创建系统管理员 admin，初始密码（只显示这一次）：{pw}");
    }
    if platform.db.autovacuum_off().await.unwrap_or(false) {
        tracing::warn!(
            "PostgreSQL's autovacuum is off: dead rows and stale planner statistics pile up and queries slow \
             down under load; turn it on (docs/OPERATIONS.md, PostgreSQL)"
        );
    }
    // Import jobs that were being worked on when the server stopped are failed and retryable (AT-28).
    for id in platform.recover_import_jobs_at_start().await? {
        tracing::warn!(job = id, "import job interrupted by the restart: marked failed, retryable");
    }
    match &s.platform.clamd {
        None => tracing::warn!(
            "[uploads] clamd is not set: uploads get the built-in checks only, no virus scan (docs/OPERATIONS.md)"
        ),
        Some(c) => match c.ping().await {
            Ok(()) => tracing::info!(clamd = %c.address, "uploads are scanned by clamd"),
            Err(e) => tracing::error!(clamd = %c.address, error = %e,
                "clamd does not answer: every upload is refused until it does"),
        },
    }
    if !s.platform.mfa_required {
        tracing::warn!("DANGJIAN_MFA_REQUIRED=false: administrators sign in without a second factor");
    }
    let instance = ops::instance_id();
    let state = web::AppState {
        platform: Arc::new(platform),
        metrics: Arc::new(ops::Metrics::default()),
        ops: Arc::new(ops::Ops::new(ops::Settings {
            data_dir: s.data_dir.clone(),
            backup_dir: s.backup.dir.clone(),
            backup_plan: s.backup.plan(),
            cache_ttl: s.platform.cache_ttl,
            instance: instance.clone(),
            trusted_proxies: s.trusted_proxies.clone(),
            clamd: s.platform.clamd.clone(),
        })),
        secure_cookies: s.secure_cookies,
    };
    let db = state.platform.db.clone();
    let platform = state.platform.clone();
    // On PostgreSQL, other instances' logouts and changes drop this instance's caches at once.
    let ops_state = state.ops.clone();
    let follower =
        tokio::spawn(state.platform.clone().follow_other_instances(move |what| ops_state.maintenance.hear(what)));
    let app = web::build_router(state);
    let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let runner = if s.jobs.enabled { Some(job_runner(&s, &platform, instance, profile)?.start()) } else { None };
    tracing::info!(%addr, backend = ?db.backend(), jobs = runner.is_some(), "dangjian is serving");
    println!("dangjian 已启动：http://{addr}/");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    if let Some(runner) = runner {
        runner.stop(std::time::Duration::from_secs(30)).await;
    }
    follower.abort();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The job runner of this instance with the first jobs and their schedules (docs/OPERATIONS.md).
fn job_runner(
    s: &Settings,
    platform: &Arc<Platform>,
    instance: String,
    profile: security::profile::Profile,
) -> anyhow::Result<ops::jobs::Runner> {
    use ops::jobs::builtin::{
        self, ACCOUNT_REVIEW, AUDIT_ARCHIVE, AUDIT_VERIFY, AUDIT_WATCH, BACKUP, CLEANUP, COMMITTEES_REMIND,
        UPLOADS_RESCAN,
    };
    let db = &platform.db;
    use ops::jobs::{Runner, RunnerSettings, Schedule};
    let keys = Arc::new(KeyRing::load_or_create(&s.key_file).context("reading the key file")?.with_profile(profile));
    let settings = RunnerSettings { instance, poll: s.jobs.poll, ..RunnerSettings::default() };
    let backups = builtin::BackupSettings { dir: s.backup.dir.clone(), retention: s.backup.retention };
    let (vh, vm) = s.jobs.audit_verify_at;
    let mut backup = match s.backup.every {
        Some(every) => Schedule::every("backup", BACKUP, every),
        None => Schedule::daily_beijing("backup", BACKUP, s.backup.at.0, s.backup.at.1),
    };
    backup.enabled = s.backup.enabled;
    backup.max_attempts = 3;
    let audit = builtin::AuditSettings {
        head_file: Some(s.audit.head_file.clone()),
        sweep: s.audit.sweep,
        archive_dir: s.audit.archive_dir.clone(),
        online_days: s.audit.online_days,
    };
    let (ah, am) = s.audit.archive_at;
    let mut runner = Runner::new(db.clone(), settings);
    // The nightly rescan only where clamd is configured (without it there is nothing to rescan with).
    if let Some(clamd) = s.platform.clamd.clone() {
        let (rh, rm) = s.jobs.uploads_rescan_at;
        let mut rescan = Schedule::daily_beijing("uploads.rescan", UPLOADS_RESCAN, rh, rm);
        // A quarantine fails the job on purpose (to be seen); running it again at once would only repeat that.
        rescan.max_attempts = 1;
        runner = runner.handle(UPLOADS_RESCAN, builtin::uploads_rescan(platform.clone(), clamd)).schedule(rescan);
    }
    Ok(runner
        .handle(AUDIT_WATCH, builtin::audit_watch(db.clone(), keys.clone(), audit.clone()))
        .handle(AUDIT_ARCHIVE, builtin::audit_archive(db.clone(), keys.clone(), audit))
        .schedule(Schedule::every("audit.watch", AUDIT_WATCH, s.audit.watch_every))
        .schedule(Schedule::daily_beijing("audit.archive", AUDIT_ARCHIVE, ah, am))
        .handle(CLEANUP, builtin::cleanup(db.clone()))
        .handle(AUDIT_VERIFY, builtin::audit_verify(db.clone()))
        .handle(BACKUP, builtin::backup(db.clone(), keys, backups))
        .handle(ACCOUNT_REVIEW, builtin::account_review(platform.clone()))
        .schedule(Schedule::every("cleanup", CLEANUP, s.jobs.cleanup_every))
        .schedule(Schedule::daily_beijing("audit.verify", AUDIT_VERIFY, vh, vm))
        .schedule(Schedule::daily_beijing(
            "accounts.review",
            ACCOUNT_REVIEW,
            s.jobs.account_review_at.0,
            s.jobs.account_review_at.1,
        ))
        .handle(COMMITTEES_REMIND, builtin::committees_remind(db.clone()))
        .schedule(Schedule::daily_beijing(
            "committees.remind",
            COMMITTEES_REMIND,
            s.jobs.committees_remind_at.0,
            s.jobs.committees_remind_at.1,
        ))
        .schedule(backup))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn demo_cmd(s: Settings, scale: &str, seed: u64) -> anyhow::Result<()> {
    let Some(scale) = Scale::parse(scale) else { bail!("unknown scale {scale}") };
    let platform = open(&s).await?;
    let bar = indicatif::ProgressBar::new(scale.people_estimate());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} 人 ({per_sec}, 约剩 {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("生成演示数据");
    let started = std::time::Instant::now();
    let progress = |n: u64| bar.set_position(n);
    let report = demo::generate(&platform, scale, seed, &progress).await?;
    bar.finish_and_clear();
    if report.already_present {
        println!("数据库中已有组织数据，未重复生成演示数据。");
    } else {
        // Organizational life lives in its own crate, which the platform's demo cannot call.
        let meetings =
            life::demo::generate(&platform, seed, kernel::dates::today()).await.map_err(platform::Error::from)?;
        if scale == Scale::Province {
            // The per-branch demo fills its first branches; the rest get this year's meetings in bulk.
            life::demo::province_year(&platform, kernel::dates::today()).await.map_err(platform::Error::from)?;
        }
        let transfers =
            affairs::demo::generate(&platform, kernel::dates::today()).await.map_err(platform::Error::from)?;
        // The learning materials, a question bank, a practice and an exam.
        let materials = learning::demo::generate(&platform).await.map_err(platform::Error::from)?;
        platform.db.analyze().await.context("gathering the planner's statistics")?;
        println!(
            "演示数据已生成：{} 个党组织，{} 人，{} 次组织生活会议，{} 件组织关系转接，{} 条党籍状态记录，{} 名党员的党费档案和 {} 条交纳记录，{} 份学习材料（含题库、练习与考试），用时 {:.1} 秒。",
            report.orgs,
            report.people,
            meetings,
            transfers.transfers,
            transfers.statuses,
            transfers.fee_profiles,
            transfers.fee_payments,
            materials,
            started.elapsed().as_secs_f64()
        );
    }
    println!("演示账号（密码均为 {}）：", demo::DEMO_PASSWORD);
    for (user, role) in &report.accounts {
        println!("  {user:<11} {role}");
    }
    platform.db.close().await;
    Ok(())
}

async fn audit_verify(s: Settings) -> anyhow::Result<()> {
    let platform = open(&s).await?;
    let started = std::time::Instant::now();
    let mut verdict = audit::verify(&platform.db).await?;
    // With the key file: the archive checkpoints and the head marks outside the database are signed.
    if matches!(verdict, Verdict::Intact { .. }) && s.key_file.exists() {
        let keys = KeyRing::load_or_create(&s.key_file)?;
        let key = keys.audit_seal_key();
        if let Some(c) = audit_evidence::checkpoints(&platform.db).await?.into_iter().find(|c| !c.signed_by(&key)) {
            verdict = Verdict::Broken {
                seq: c.first_seq,
                reason: format!(
                    "the archive checkpoint of entries {}–{} is not signed by this key file",
                    c.first_seq, c.through_seq
                ),
            };
        } else if let Some((seq, reason)) =
            audit_evidence::check_head_marks(&platform.db, &keys, &s.audit.head_file).await?
        {
            verdict = Verdict::Broken { seq, reason };
        }
    }
    if let Some(c) = audit_evidence::last_checkpoint(&platform.db).await? {
        println!(
            "archived: entries up to {} in {} ({} checkpoint(s)); the chain here continues from its head {}",
            c.through_seq,
            s.audit.archive_dir.display(),
            audit_evidence::checkpoints(&platform.db).await?.len(),
            hex::encode(&c.head_hash)
        );
    }
    platform.db.close().await;
    report(verdict, started)
}

async fn fees_verify(s: Settings) -> anyhow::Result<()> {
    let platform = open(&s).await?;
    let started = std::time::Instant::now();
    let check = affairs::service::fee::verify(&platform).await.map_err(platform::Error::from)?;
    platform.db.close().await;
    if check.broken.is_empty() {
        println!(
            "fee ledger intact: {} entries, every HMAC matches ({:.2} s)",
            check.entries,
            started.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        let ids: Vec<String> = check.broken.iter().map(i64::to_string).collect();
        eprintln!(
            "fee ledger BROKEN: {} of {} entries do not match their HMAC (edited outside the platform): {}",
            ids.len(),
            check.entries,
            ids.join(", ")
        );
        std::process::exit(1);
    }
}

fn report(verdict: Verdict, started: std::time::Instant) -> anyhow::Result<()> {
    match verdict {
        Verdict::Intact { entries, head_hash } => {
            println!(
                "audit chain intact: {entries} entries, head {head_hash} ({:.2} s)",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Verdict::Broken { seq, reason } => {
            eprintln!("audit chain BROKEN at entry {seq}: {reason}");
            std::process::exit(1);
        }
    }
}

/// The seal key when the key file is there (an archive taken elsewhere is still checked link by link).
fn seal_key(s: &Settings) -> anyhow::Result<Option<[u8; 32]>> {
    if !s.key_file.exists() {
        return Ok(None);
    }
    Ok(Some(KeyRing::load_or_create(&s.key_file).context("reading the key file")?.audit_seal_key()))
}

fn audit_verify_file(s: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let key = seal_key(s)?;
    let v = audit_evidence::check_file(file, key.as_ref())?;
    if let Some(seal) = &v.seal {
        println!(
            "archive of entries {}–{} sealed {} ({}); continues the chain after {}",
            seal.first_seq,
            seal.last_seq,
            seal.sealed_at,
            if v.signature_checked { "seal signature verified" } else { "no key file: seal signature NOT checked" },
            seal.prev_hash
        );
    } else if let (Some(first), Some(prev)) = (v.first_seq, &v.first_prev_hash)
        && first > 1
    {
        println!("export starting at entry {first}, after {prev} (the head of the archive ending at {})", first - 1);
    }
    report(v.verdict, started)
}

async fn audit_archive(s: Settings) -> anyhow::Result<()> {
    let platform = open(&s).await?;
    let keys = existing_keys(&s)?;
    let mut any = false;
    while let Some(r) = audit_evidence::archive(
        &platform.db,
        &keys,
        &s.audit.archive_dir,
        s.audit.online_days,
        time::OffsetDateTime::now_utc(),
    )
    .await?
    {
        any = true;
        println!(
            "archived entries {}–{} ({}) into {}, sha256 {}",
            r.first_seq,
            r.last_seq,
            r.entries,
            r.file.display(),
            r.file_sha256
        );
    }
    if !any {
        println!("nothing to archive: no entry is older than {} days", s.audit.online_days);
    }
    platform.db.close().await;
    Ok(())
}

fn audit_search(s: &Settings, file: &std::path::Path, filter: &audit_evidence::Filter) -> anyhow::Result<()> {
    use std::io::Write;
    let key = seal_key(s)?;
    let v = audit_evidence::check_file(file, key.as_ref())?;
    if let Verdict::Broken { seq, reason } = v.verdict {
        eprintln!("audit file BROKEN at entry {seq}: {reason}");
        std::process::exit(1);
    }
    let found = audit_evidence::search_file(file, filter)?;
    let mut out = std::io::stdout().lock();
    for e in &found {
        // The matching lines are for reading; `audit verify --file` checks the archive itself.
        serde_json::to_writer(&mut out, &audit::ExportLine::from_entry(security::profile::HashAlg::default(), e))?;
        out.write_all(b"\n")?;
    }
    eprintln!("{} matching entries", found.len());
    Ok(())
}

async fn audit_restore(s: Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let platform = open(&s).await?;
    let key = existing_keys(&s)?.audit_seal_key();
    let result = audit_evidence::restore(&platform.db, file, &key).await;
    platform.db.close().await;
    match result {
        Ok(r) => {
            println!(
                "restored entries {}–{} of {}: {} copied, {} already in the database",
                r.first_seq, r.through_seq, r.file, r.restored, r.already
            );
            Ok(())
        }
        Err(security::SecurityError::AuditRule(why)) => {
            eprintln!("audit restore REFUSED: {why}");
            std::process::exit(1);
        }
        Err(e) => Err(e.into()),
    }
}

async fn audit_export(s: Settings, out: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let platform = open(&s).await?;
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?);
    let alg = audit::chain_hash_of(&platform.db).await?;
    let mut checker = audit_evidence::online_checker(&platform.db).await?;
    let mut after = checker.next_seq() - 1;
    loop {
        let rows = audit::entries_after(&platform.db, after, 20_000).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for e in &rows {
            checker.feed(e);
            serde_json::to_writer(&mut file, &audit::ExportLine::from_entry(alg, e))?;
            file.write_all(b"\n")?;
        }
    }
    file.flush()?;
    platform.db.close().await;
    // Exporting a broken chain is allowed (it is evidence), but the operator is told.
    report(checker.finish(), std::time::Instant::now())
}

/// The key file the platform runs with, which must already exist: backup and restore never create one
/// (a new key could decrypt nothing that is stored).
fn existing_keys(s: &Settings) -> anyhow::Result<KeyRing> {
    if !s.key_file.exists() {
        bail!(
            "key file {} not found. A backup and a restore need the key file the platform runs with; before a \
             restore, copy the key file kept apart from the backups to this path (or set DANGJIAN_KEY_FILE)",
            s.key_file.display()
        );
    }
    KeyRing::load_or_create(&s.key_file).context("reading the key file")
}

/// Opens the database without migrating it: a backup must not change the schema under a running server,
/// and a restore migrates only as far as its backup.
async fn connect_only(s: &Settings) -> anyhow::Result<kernel::Db> {
    if s.database_url.is_none() && !s.data_dir.join("dangjian.db").exists() {
        bail!("no database at {}", s.data_dir.join("dangjian.db").display());
    }
    kernel::Db::connect(s.database_url.as_deref(), &s.data_dir).await.context("opening the database")
}

fn print_manifest(m: &ops::backup::Manifest, w: &ops::backup::Written) {
    let h = &m.header;
    println!(
        "  from {} (dangjian {}), schema version {}, taken at {}",
        h.backend, h.dangjian_version, h.schema_version, h.created_at
    );
    println!("  {} rows in {} tables (not included: {}):", m.total_rows(), m.tables.len(), h.excluded.join(", "));
    for t in &m.tables {
        println!("    {:<24} {:>10} rows  sha256 {}", t.name, t.rows, t.sha256);
    }
    println!("  audit chain: {} entries, head {}", m.audit.entries, m.audit.head);
    println!("  file: {} bytes, sha256 {}", w.bytes, w.sha256);
}

async fn backup_cmd(s: Settings, out: &std::path::Path) -> anyhow::Result<()> {
    let keys = existing_keys(&s)?;
    let db = connect_only(&s).await?;
    let keys = keys.with_profile(security::profile::recorded(&db).await?.unwrap_or_default());
    let result = ops::backup::backup(&db, &keys, out).await;
    db.close().await;
    let report = result.with_context(|| format!("backing up to {}", out.display()))?;
    println!("backup written: {} ({:.2} s)", report.written.path.display(), report.seconds);
    print_manifest(&report.manifest, &report.written);
    println!(
        "密钥文件不在备份中：请将 {} 与备份分开妥善保管，恢复时需要它。(The key file is not in the backup: keep it apart.)",
        s.key_file.display()
    );
    if let Some(broken) = &report.manifest.audit.broken {
        eprintln!(
            "WARNING: the audit chain is BROKEN ({broken}); the backup was kept as evidence but will not restore"
        );
        std::process::exit(1);
    }
    Ok(())
}

fn backup_verify(s: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // The key file opens the sealed file; without one only a backup from before encryption can be read.
    let keys = if s.key_file.exists() {
        Some(KeyRing::load_or_create(&s.key_file).with_context(|| format!("key file {}", s.key_file.display()))?)
    } else {
        None
    };
    let (manifest, written) =
        ops::backup::verify(file, keys.as_ref()).with_context(|| format!("verifying {}", file.display()))?;
    println!("backup intact: {} ({:.2} s)", file.display(), started.elapsed().as_secs_f64());
    print_manifest(&manifest, &written);
    if let Some(k) = &keys {
        let verdict = if ops::backup::check_keys(&manifest.header.keys, k).is_ok() {
            "matches this backup"
        } else {
            "does NOT match this backup (a restore would refuse)"
        };
        println!("  key file {}: {verdict}", s.key_file.display());
    }
    Ok(())
}

async fn maintenance_cmd(s: Settings, action: MaintenanceAction) -> anyhow::Result<()> {
    // Not migrated: the switch is used before an upgrade, while older instances still serve.
    let db = connect_only(&s).await?;
    let result = match action {
        MaintenanceAction::On { message } => ops::maintenance::switch_as_system(&db, true, message.as_deref()).await,
        MaintenanceAction::Off => ops::maintenance::switch_as_system(&db, false, None).await,
        MaintenanceAction::Status => ops::maintenance::read(&db).await.map_err(ops::Error::from),
    };
    db.close().await;
    let state = result.context("maintenance mode (does the database have migration 7? run dangjian migrate)")?;
    if state.active {
        println!("维护模式：开启（只读）。{}", state.notice());
    } else {
        println!("维护模式：关闭。");
    }
    if let (Some(by), Some(at)) = (&state.changed_by, state.changed_at) {
        println!("  last switched by {by} at {at}");
    }
    Ok(())
}

async fn restore_part_cmd(s: Settings, file: &std::path::Path, req: ops::backup::PartialRequest) -> anyhow::Result<()> {
    let keys = existing_keys(&s)?;
    let (manifest, written) =
        ops::backup::verify(file, Some(&keys)).with_context(|| format!("verifying {}", file.display()))?;
    ops::backup::check_keys(&manifest.header.keys, &keys)
        .with_context(|| format!("key file {}", s.key_file.display()))?;
    println!("backup intact: {} (taken at {})", file.display(), manifest.header.created_at);
    // The live database, as it is: no migration (the backup's rows must fit the schema that serves).
    let db = connect_only(&s).await?;
    let result = ops::backup::restore_part(&db, file, &keys, &manifest, &written, &req).await;
    db.close().await;
    let r = result
        .with_context(|| format!("restoring {} of organization {} from {}", req.table, req.org_id, file.display()))?;
    let verb = if r.dry_run { "would restore (dry run, nothing written)" } else { "restored" };
    println!("{} of organization {} ({}), {verb}:", r.table, r.org_id, r.org_path);
    for t in &r.tables {
        println!(
            "  {:<20} {:>6} in the backup, {:>6} {}, {:>6} kept (still there, left as they are), {:>6} left out",
            t.table,
            t.in_backup,
            t.restored,
            if r.dry_run { "to restore" } else { "restored" },
            t.kept,
            t.left_out
        );
    }
    for why in &r.left_out {
        println!("  left out: {why}");
    }
    if !r.dry_run {
        println!("audited as backup.partial_restore ({:.2} s)", r.seconds);
    }
    Ok(())
}

async fn restore_cmd(s: Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let keys = existing_keys(&s)?;
    let (manifest, written) =
        ops::backup::verify(file, Some(&keys)).with_context(|| format!("verifying {}", file.display()))?;
    println!("backup intact: {}", file.display());
    print_manifest(&manifest, &written);
    ops::backup::check_keys(&manifest.header.keys, &keys)
        .with_context(|| format!("key file {}", s.key_file.display()))?;
    let db = kernel::Db::connect(s.database_url.as_deref(), &s.data_dir).await.context("opening the database")?;
    let result = ops::backup::restore(&db, file, &keys, &manifest, &written).await;
    db.close().await;
    let report = result.with_context(|| format!("restoring {}", file.display()))?;
    println!(
        "restore complete and verified: {} rows in {} tables, audit chain {} entries with head {} ({:.2} s)",
        report.tables.iter().map(|t| t.rows).sum::<u64>(),
        report.tables.len(),
        report.manifest.audit.entries,
        report.manifest.audit.head,
        report.seconds
    );
    println!("sessions are not restored: everyone signs in again. Later migrations are applied at the next start.");
    Ok(())
}
