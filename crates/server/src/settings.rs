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
}

/// The optional file. Unknown keys are an error, so a typo does not pass silently.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    key_file: Option<PathBuf>,
    mfa_required: Option<bool>,
    secure_cookies: Option<bool>,
    session_idle_minutes: Option<u64>,
    session_absolute_hours: Option<u64>,
    cache_seconds: Option<u64>,
    log: Option<String>,
    log_json: Option<bool>,
}

#[derive(Debug)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub key_file: PathBuf,
    pub admin_password: Option<String>,
    pub secure_cookies: bool,
    pub log: String,
    pub log_json: bool,
    pub platform: platform::Settings,
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
        if let Some(h) = file.session_absolute_hours {
            platform.session_absolute = Duration::from_secs(h * 3600);
        }
        Ok(Settings {
            listen: file.listen.unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir,
            database_url: cli.database_url.clone().or(file.database_url),
            key_file,
            admin_password: env("DANGJIAN_ADMIN_PASSWORD"),
            secure_cookies: env_bool("DANGJIAN_SECURE_COOKIES")?.or(file.secure_cookies).unwrap_or(false),
            log: file.log.unwrap_or_else(|| "info,sqlx=warn".into()),
            log_json: env_bool("DANGJIAN_LOG_JSON")?.or(file.log_json).unwrap_or(false),
            platform,
        })
    }
}
