//! Backup and restore (技术保障与运维: 数据备份恢复, 等保 §8.1.4.9 a).
//!
//! `dangjian backup --out FILE` copies every table of the schema from one consistent snapshot, taken while
//! the platform keeps serving, into one portable file ([`file`]: gzip of JSON lines, with a manifest of
//! counts, checksums and the audit chain's head). `dangjian restore FILE` loads such a file into an empty
//! database of either kind — SQLite or PostgreSQL, whichever the backup came from — in one transaction,
//! reads everything back, and commits only when every count, checksum and the audit chain match.
//! `dangjian backup verify FILE` checks a file without any database. `dangjian restore FILE --only meetings
//! --org ID` puts one organization's deleted records back into the live database ([`partial`]).
//!
//! What a backup does not hold, on purpose: the key file (kept apart, or a stolen backup would reveal the
//! ID numbers it carries encrypted), sessions and pending second-factor challenges (live sign-ins, see
//! [`model::EXCLUDED`]), and sqlx's migration bookkeeping (the manifest names the schema version instead).
//!
//! Rooms: [`model`] (manifest, kinds, the portable value), [`file`] (the framed, compressed file),
//! `store` (the SQL), [`service`] (backup, restore, verify, key check, audit).

pub mod file;
pub mod model;
pub mod partial;
pub mod service;
mod store;

pub use file::Written;
pub use model::Manifest;
pub use partial::{PARTIAL_TABLES, PartialReport, PartialRequest, restore_part};
pub use service::{BackupReport, RestoreReport, backup, check_keys, restore, verify};

/// What can go wrong. `Refused` and `Damaged` are the operator's business (a clear message, nothing
/// written); the others are faults of the environment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the backup is damaged or not a dangjian backup: {0}")]
    Damaged(String),
    #[error("{0}")]
    Refused(String),
    #[error("the restored data does not match the backup: {0}")]
    Mismatch(String),
    /// Anything that went wrong once rows were being written: the transaction was rolled back.
    #[error("{0}; the restore was rolled back, nothing was written")]
    RolledBack(Box<Error>),
    #[error(transparent)]
    Db(#[from] kernel::DbError),
    #[error(transparent)]
    Security(#[from] security::SecurityError),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Db(e.into())
    }
}
