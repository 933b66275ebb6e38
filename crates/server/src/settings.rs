//! Settings: command-line flags and `DANGJIAN_*` variables win over the optional TOML file
//! (`--config FILE` / `DANGJIAN_CONFIG`), which wins over the defaults. Every knob has a default that
//! works for a first `cargo run`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

#[derive(Args, Debug)]
pub struct Cli {
    /// Optional TOML settings file.
    #[arg(long, global = true, env = "DANGJIAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory: the SQLite database, the key file [default: ./data].
    #[arg(long, global = true, env = "DANGJIAN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL; without it, SQLite at DATA_DIR/dangjian.db.
    #[arg(long, global = true, env = "DANGJIAN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Crypto profile, chosen once on an empty database: aes (AES-256-GCM + SHA-256, the default) or sm
    /// (国密 SM4-GCM + SM3). Afterwards only the recorded profile is accepted.
    #[arg(long, global = true, env = "DANGJIAN_CRYPTO", value_parser = ["aes", "sm"])]
    pub crypto: Option<String>,
}

/// The optional file. Unknown keys are an error, so a typo does not pass silently.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    key_file: Option<PathBuf>,
    /// "aes" or "sm" (国密), see [`Cli::crypto`].
    crypto: Option<String>,
    mfa_required: Option<bool>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<u64>,
    session_absolute_hours: Option<u64>,
    /// The nightly review disables an account without a person once all its roles ended this many days
    /// ago (default 30; security.md AT-16).
    dormant_account_days: Option<u32>,
    /// Sign-ins that may wait for password hashing before more are answered 503 with `Retry-After`
    /// (security.md AT-35's global limit; default 25 per core, about a second of argon2 work).
    signin_queue: Option<usize>,
    cache_seconds: Option<u64>,
    /// How long an instance reuses a session's caller (default 60; `platform::Settings::session_cache_ttl`).
    session_cache_seconds: Option<u64>,
    log: Option<String>,
    log_json: Option<bool>,
    backup: Option<BackupFile>,
    jobs: Option<JobsFile>,
    audit: Option<AuditFile>,
    uploads: Option<UploadsFile>,
    /// Addresses of reverse proxies whose X-Forwarded-For is believed (docs/OPERATIONS.md, nginx).
    trusted_proxies: Option<Vec<std::net::IpAddr>>,
}

/// `[backup]`: scheduled backups inside the server (docs/OPERATIONS.md).
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct BackupFile {
    enabled: Option<bool>,
    dir: Option<PathBuf>,
    /// Daily at this Beijing time, "HH:MM".
    at: Option<String>,
    /// Instead of daily: every this many seconds (for drills and tests).
    every_seconds: Option<u64>,
    keep_daily: Option<usize>,
    keep_weekly: Option<usize>,
    keep_monthly: Option<usize>,
}

/// `[jobs]`: the job runner.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct JobsFile {
    enabled: Option<bool>,
    poll_seconds: Option<u64>,
    cleanup_every_minutes: Option<u64>,
    /// The daily audit-chain verification, Beijing time "HH:MM".
    audit_verify_at: Option<String>,
    /// The nightly review of accounts whose roles ended, Beijing time "HH:MM".
    account_review_at: Option<String>,
    /// The nightly reminder of committee terms ending (ORG-10), Beijing time "HH:MM".
    committees_remind_at: Option<String>,
    /// The nightly rescan of stored uploads through clamd (AT-21; only where clamd is configured), Beijing
    /// time "HH:MM".
    uploads_rescan_at: Option<String>,
}

/// `[audit]`: retention, archive and watch of the audit log (docs/OPERATIONS.md, security.md AT-25/26).
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    /// Entries older than this many days move to the archive (at least 180: 网络安全法 21(三)).
    online_days: Option<u32>,
    archive_dir: Option<PathBuf>,
    /// The daily archive run, Beijing time "HH:MM".
    archive_at: Option<String>,
    /// The signed head marks: a file outside the database, best on another disk or a WORM mount.
    head_file: Option<PathBuf>,
    /// How often the watch verifies what was appended (at most 300 seconds: AT-25 alarms within 5 min).
    watch_every_seconds: Option<u64>,
    /// How many older entries each watch run verifies again.
    sweep: Option<i64>,
}

/// `[uploads]`: the virus scanner every upload passes (security.md AT-21, docs/OPERATIONS.md "Virus
/// scanning").
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct UploadsFile {
    /// ClamAV's clamd: "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310" (or `DANGJIAN_CLAMD`). Set, every
    /// upload is scanned and refused when clamd gives no verdict; unset, the built-in checks only.
    clamd: Option<String>,
    /// How long one scan may take, connecting included (default 30).
    clamd_timeout_seconds: Option<u64>,
}

/// The audit log's retention, archive and watch.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    pub online_days: u32,
    /// Default: DATA_DIR/archive/audit.
    pub archive_dir: PathBuf,
    pub archive_at: (u8, u8),
    /// Default: DATA_DIR/audit-heads.jsonl.
    pub head_file: PathBuf,
    pub watch_every: Duration,
    pub sweep: i64,
}

/// Scheduled backups.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub enabled: bool,
    /// Default: DATA_DIR/backups.
    pub dir: PathBuf,
    /// Beijing time (hour, minute) of the daily backup.
    pub at: (u8, u8),
    /// Overrides the daily time: every this long.
    pub every: Option<Duration>,
    pub retention: ops::jobs::Retention,
}

impl BackupSettings {
    /// The plan in one sentence, for the status page.
    pub fn plan(&self) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let when = match self.every {
            Some(d) => format!("每 {} 秒", d.as_secs()),
            None => format!("每天 {:02}:{:02}（北京时间）", self.at.0, self.at.1),
        };
        let r = self.retention;
        Some(format!("{when}，写入后立即读回校验；保留最近 {} 天、{} 周、{} 个月各一份", r.daily, r.weekly, r.monthly))
    }
}

/// The job runner.
#[derive(Debug, Clone)]
pub struct JobSettings {
    pub enabled: bool,
    pub poll: Duration,
    pub cleanup_every: Duration,
    pub audit_verify_at: (u8, u8),
    /// The nightly account review, Beijing time (default 01:30).
    pub account_review_at: (u8, u8),
    /// The nightly reminder of committee terms ending, Beijing time (default 01:45).
    pub committees_remind_at: (u8, u8),
    /// The nightly rescan of stored uploads, Beijing time (default 03:45; scheduled only with clamd).
    pub uploads_rescan_at: (u8, u8),
}

/// "HH:MM" → (hour, minute).
fn clock(name: &str, v: &str) -> anyhow::Result<(u8, u8)> {
    let parsed =
        v.split_once(':').and_then(|(h, m)| Some((h.trim().parse::<u8>().ok()?, m.trim().parse::<u8>().ok()?)));
    match parsed {
        Some((h, m)) if h < 24 && m < 60 => Ok((h, m)),
        _ => anyhow::bail!("{name} = \"{v}\": expected a time of day as HH:MM (Beijing time)"),
    }
}

#[derive(Debug)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub key_file: PathBuf,
    /// The crypto profile asked for (`None`: whatever the database records; `aes` for a new one).
    pub crypto: Option<security::profile::Profile>,
    pub admin_password: Option<String>,
    pub secure_cookies: bool,
    pub log: String,
    pub log_json: bool,
    pub platform: platform::Settings,
    pub backup: BackupSettings,
    pub jobs: JobSettings,
    pub audit: AuditSettings,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_bool(name: &str) -> anyhow::Result<Option<bool>> {
    match env(name).as_deref() {
        None => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(other) => anyhow::bail!("{name}={other}: expected true or false"),
    }
}

impl Settings {
    pub fn load(cli: &Cli) -> anyhow::Result<Settings> {
        let file: File = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => File::default(),
        };
        let data_dir = cli.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("./data"));
        let key_file = env("DANGJIAN_KEY_FILE")
            .map(PathBuf::from)
            .or(file.key_file)
            .unwrap_or_else(|| security::KeyRing::default_path(&data_dir));
        let crypto = match cli.crypto.clone().or(file.crypto) {
            Some(c) => Some(
                security::profile::Profile::parse(&c)
                    .with_context(|| format!("crypto = \"{c}\": expected \"aes\" or \"sm\" (国密)"))?,
            ),
            None => None,
        };
        let mut platform = platform::Settings::default();
        if let Some(v) = env_bool("DANGJIAN_MFA_REQUIRED")?.or(file.mfa_required) {
            platform.mfa_required = v;
        }
        if let Some(m) = file.session_idle_minutes {
            platform.session_idle = Duration::from_secs(m * 60);
        }
        if let Some(c) = file.cache_seconds {
            platform.cache_ttl = Duration::from_secs(c);
        }
        if let Some(c) = file.session_cache_seconds {
            platform.session_cache_ttl = Duration::from_secs(c);
        }
        if let Some(h) = file.session_absolute_hours {
            platform.session_absolute = Duration::from_secs(h * 3600);
        }
        if let Some(q) = file.signin_queue {
            platform.signin_queue = q;
        }
        if let Some(d) = file.dormant_account_days {
            platform.dormant_account_days = d.max(1);
        }
        let u = file.uploads.unwrap_or_default();
        if let Some(spec) = env("DANGJIAN_CLAMD").or(u.clamd).filter(|v| !v.trim().is_empty()) {
            let timeout = u.clamd_timeout_seconds.map_or(platform::clamd::DEFAULT_TIMEOUT, Duration::from_secs);
            platform.clamd =
                Some(platform::clamd::Clamd::parse(&spec, timeout).map_err(anyhow::Error::msg).context("[uploads]")?);
        }
        let b = file.backup.unwrap_or_default();
        let defaults = ops::jobs::Retention::default();
        let backup = BackupSettings {
            enabled: env_bool("DANGJIAN_BACKUP_ENABLED")?.or(b.enabled).unwrap_or(true),
            dir: env("DANGJIAN_BACKUP_DIR").map(PathBuf::from).or(b.dir).unwrap_or_else(|| data_dir.join("backups")),
            at: clock("backup.at", b.at.as_deref().unwrap_or("02:30"))?,
            every: b.every_seconds.filter(|s| *s > 0).map(Duration::from_secs),
            retention: ops::jobs::Retention {
                daily: b.keep_daily.unwrap_or(defaults.daily),
                weekly: b.keep_weekly.unwrap_or(defaults.weekly),
                monthly: b.keep_monthly.unwrap_or(defaults.monthly),
            },
        };
        let j = file.jobs.unwrap_or_default();
        let jobs = JobSettings {
            enabled: env_bool("DANGJIAN_JOBS_ENABLED")?.or(j.enabled).unwrap_or(true),
            poll: Duration::from_secs(j.poll_seconds.unwrap_or(5).max(1)),
            cleanup_every: Duration::from_secs(j.cleanup_every_minutes.unwrap_or(60).max(1) * 60),
            audit_verify_at: clock("jobs.audit_verify_at", j.audit_verify_at.as_deref().unwrap_or("03:30"))?,
            account_review_at: clock("jobs.account_review_at", j.account_review_at.as_deref().unwrap_or("01:30"))?,
            committees_remind_at: clock(
                "jobs.committees_remind_at",
                j.committees_remind_at.as_deref().unwrap_or("01:45"),
            )?,
            uploads_rescan_at: clock("jobs.uploads_rescan_at", j.uploads_rescan_at.as_deref().unwrap_or("03:45"))?,
        };
        let a = file.audit.unwrap_or_default();
        let online_days = match env("DANGJIAN_AUDIT_ONLINE_DAYS") {
            Some(v) => v.parse().with_context(|| format!("DANGJIAN_AUDIT_ONLINE_DAYS={v}: expected days"))?,
            None => a.online_days.unwrap_or(security::audit_evidence::DEFAULT_ONLINE_DAYS),
        };
        security::audit_evidence::online_period(online_days).context("audit.online_days")?;
        let watch_every = a.watch_every_seconds.unwrap_or(300);
        if !(1..=300).contains(&watch_every) {
            anyhow::bail!(
                "audit.watch_every_seconds = {watch_every}: between 1 and 300 (a broken chain must alarm within 5 minutes)"
            );
        }
        let audit = AuditSettings {
            online_days,
            archive_dir: env("DANGJIAN_AUDIT_ARCHIVE_DIR")
                .map(PathBuf::from)
                .or(a.archive_dir)
                .unwrap_or_else(|| data_dir.join("archive").join("audit")),
            archive_at: clock("audit.archive_at", a.archive_at.as_deref().unwrap_or("04:00"))?,
            head_file: env("DANGJIAN_AUDIT_HEAD_FILE")
                .map(PathBuf::from)
                .or(a.head_file)
                .unwrap_or_else(|| data_dir.join("audit-heads.jsonl")),
            watch_every: Duration::from_secs(watch_every),
            sweep: a.sweep.unwrap_or(100_000).max(0),
        };
        Ok(Settings {
            listen: file.listen.unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir,
            database_url: cli.database_url.clone().or(file.database_url),
            key_file,
            crypto,
            admin_password: env("DANGJIAN_ADMIN_PASSWORD"),
            secure_cookies: env_bool("DANGJIAN_SECURE_COOKIES")?.or(file.secure_cookies).unwrap_or(false),
            log: file.log.unwrap_or_else(|| "info,sqlx=warn".into()),
            log_json: env_bool("DANGJIAN_LOG_JSON")?.or(file.log_json).unwrap_or(false),
            platform,
            backup,
            jobs,
            audit,
            trusted_proxies: file.trusted_proxies.unwrap_or_default(),
        })
    }
}
