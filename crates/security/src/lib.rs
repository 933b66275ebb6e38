//! Support system 2a — 数据安全与隐私保护 (security and privacy).
//!
//! What every other part relies on to keep personal data safe: the key file ([`keys`]), field
//! encryption with a blind index for exact look-ups ([`cipher`]), password hashing ([`password`]),
//! masking for display ([`mask`]), the installation's algorithms ([`profile`]: AES-256-GCM/SHA-256 or
//! 国密 SM4-GCM/SM3), the key file sealed by an HSM ([`custody`]), key rotation ([`rotation`]), anti-forgery tokens ([`csrf`]), the second factor ([`totp`]), and the tamper-evident, hash-chained audit log ([`audit`]).

pub mod audit;
pub mod audit_evidence;
pub mod cipher;
pub mod csrf;
pub mod custody;
pub mod keys;
pub mod mask;
pub mod password;
pub mod profile;
pub mod rotation;
pub mod stream;
pub mod token;
pub mod totp;

pub use cipher::FieldCipher;
pub use keys::KeyRing;

/// The one error type of this crate.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("a stored value cannot be decrypted with the configured key")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error("password hashing: {0}")]
    Password(String),
    #[error("one-time password: {0}")]
    Totp(String),
    #[error("the system's random source failed")]
    Random,
    #[error(transparent)]
    Db(#[from] kernel::DbError),
    /// An audit archive or head-checkpoint file that cannot be written or read.
    #[error("{path}: {reason}")]
    AuditFile { path: String, reason: String },
    /// An audit setting or request the rules refuse (the message cites the rule).
    #[error("{0}")]
    AuditRule(String),
}

/// Fills `buf` from the operating system's random source.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), SecurityError> {
    getrandom::fill(buf).map_err(|_| SecurityError::Random)
}
