//! Support system 2b — 技术保障与运维 (operations): what the IT centre's monitoring reads and what it runs
//! to keep the platform safe and available.
//!
//! * [`metrics`]: request counters and latency histograms by route, sign-ins; rendered with the database's
//!   part by [`status::render_metrics`] as `/metrics`.
//! * [`backup`]: online backup, verification and restore.
//! * [`jobs`]: the job queue and schedules shared by all instances, with the first jobs (cleanup, scheduled
//!   verified backups with retention, audit-chain verification).
//! * [`maintenance`]: the platform-wide read-only switch.
//! * [`status`]: readiness, the system-status page.

pub mod backup;
pub mod jobs;
pub mod maintenance;
pub mod metrics;
pub mod status;
mod ts;

use std::path::PathBuf;
use std::time::Duration;

pub use metrics::Metrics;

/// Errors of the actions an administrator takes here (the status page, the maintenance switch).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not this caller's page: answered as not found, like any read outside the caller's reach.
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// Input refused; the message is for the user (Chinese).
    #[error("invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] kernel::DbError),
    #[error(transparent)]
    Jobs(#[from] jobs::Error),
}

/// What the operations part of the web layer needs to know about this instance.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the database (SQLite) and the key file live; the status page shows its free disk.
    pub data_dir: PathBuf,
    /// Where scheduled backups go.
    pub backup_dir: PathBuf,
    /// A sentence describing the backup schedule and retention, or `None` when scheduled backups are off.
    pub backup_plan: Option<String>,
    /// How long the maintenance switch is cached (the platform's `cache_ttl`).
    pub cache_ttl: Duration,
    /// This instance's name in job leases and on the status page.
    pub instance: String,
    /// Reverse proxies whose `X-Forwarded-For` names the client (nginx on the same host: 127.0.0.1).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The virus scanner uploads pass (the platform's `clamd`): the status page and `/metrics` report
    /// whether it answers.
    pub clamd: Option<platform::clamd::Clamd>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            backup_dir: PathBuf::from("./data/backups"),
            backup_plan: None,
            cache_ttl: Duration::from_secs(2),
            instance: instance_id(),
            trusted_proxies: Vec::new(),
            clamd: None,
        }
    }
}

/// The operations state of one instance, shared by every request.
pub struct Ops {
    pub settings: Settings,
    pub maintenance: maintenance::Maintenance,
}

impl Ops {
    pub fn new(settings: Settings) -> Ops {
        let maintenance = maintenance::Maintenance::new(settings.cache_ttl);
        Ops { settings, maintenance }
    }
}

impl Default for Ops {
    fn default() -> Self {
        Ops::new(Settings::default())
    }
}

/// A name for this process that differs between instances and between restarts: host, process id and a
/// random part (`web1-4242-9f3a`).
pub fn instance_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut r = [0u8; 2];
    let _ = security::random_bytes(&mut r);
    format!("{host}-{}-{}", std::process::id(), hex::encode(r))
}
