//! The crypto profile of an installation: which algorithms protect its data, chosen once, when the
//! database is still empty (`crypto = "sm"` in dangjian.toml, `--crypto sm`, `DANGJIAN_CRYPTO=sm`), and
//! recorded in the database (`crypto_profile`, one row). Afterwards a setting that differs is refused at
//! start: ciphertexts and the audit chain would otherwise become unreadable, so the choice never changes
//! silently.
//!
//! | profile | field encryption | audit chain | blind index |
//! | --- | --- | --- | --- |
//! | `aes` (default) | AES-256-GCM | SHA-256 | HMAC-SHA-256 |
//! | `sm` (国密) | SM4-GCM (GB/T 32907, GCM as in RFC 8998) | SM3 (GB/T 32905) | HMAC-SM3 |

use hmac::{Hmac, KeyInit, Mac};
use kernel::{Db, DbError, on_db};
use sha2::{Digest, Sha256};
use sm3::Sm3;

/// The algorithms of one installation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// AES-256-GCM, SHA-256 (the default).
    #[default]
    Aes,
    /// 国密: SM4-GCM, SM3.
    Sm,
}

impl Profile {
    pub fn parse(s: &str) -> Option<Profile> {
        match s.trim().to_ascii_lowercase().as_str() {
            "aes" | "standard" => Some(Profile::Aes),
            "sm" | "gm" | "guomi" => Some(Profile::Sm),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Profile::Aes => "aes",
            Profile::Sm => "sm",
        }
    }

    /// How operators and the audit log name it.
    pub fn describe(self) -> &'static str {
        match self {
            Profile::Aes => "AES-256-GCM + SHA-256",
            Profile::Sm => "国密 SM4-GCM + SM3",
        }
    }

    /// The hash of the audit chain and of the blind index's HMAC.
    pub fn hash(self) -> HashAlg {
        match self {
            Profile::Aes => HashAlg::Sha256,
            Profile::Sm => HashAlg::Sm3,
        }
    }
}

/// A 256-bit hash function of a profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HashAlg {
    #[default]
    Sha256,
    Sm3,
}

impl HashAlg {
    /// The name written into exported audit files (`"sha256"`, `"sm3"`).
    pub fn code(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha256",
            HashAlg::Sm3 => "sm3",
        }
    }

    pub fn parse(s: &str) -> Option<HashAlg> {
        match s {
            "sha256" => Some(HashAlg::Sha256),
            "sm3" => Some(HashAlg::Sm3),
            _ => None,
        }
    }

    /// The hash of the parts, concatenated.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => {
                let mut h = Sha256::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
            HashAlg::Sm3 => {
                let mut h = Sm3::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
        }
    }

    /// HMAC of the parts, concatenated, under `key` (RFC 2104 with this hash).
    pub fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        // new_from_slice accepts keys of any length for HMAC; the empty fallback is unreachable.
        match self {
            HashAlg::Sha256 => match Hmac::<Sha256>::new_from_slice(key) {
                Ok(mut mac) => {
                    parts.iter().for_each(|p| mac.update(p));
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            },
            HashAlg::Sm3 => match Hmac::<Sm3>::new_from_slice(key) {
                Ok(mut mac) => {
                    parts.iter().for_each(|p| mac.update(p));
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            },
        }
    }
}

/// Why the profile of a database cannot be used as asked.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "this database was installed with the crypto profile \"{}\" ({}), but the settings ask for \"{}\" \
         ({}). The profile is chosen once, on an empty database, and cannot be changed afterwards: remove the \
         `crypto` setting (or set it to \"{}\")",
        recorded.code(), recorded.describe(), asked.code(), asked.describe(), recorded.code()
    )]
    Mismatch { recorded: Profile, asked: Profile },
    #[error(
        "this database already holds data protected with AES-256-GCM + SHA-256 (installed before crypto profiles \
         were recorded); the 国密 profile can only be chosen for a new, empty database"
    )]
    NotEmpty,
    #[error("the database records an unknown crypto profile \"{0}\" (a newer dangjian?)")]
    Unknown(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The profile recorded in the database, if any.
pub async fn recorded(db: &Db) -> Result<Option<Profile>, ProfileError> {
    const SQL: &str = "SELECT profile FROM crypto_profile WHERE id = 1";
    let code: Option<String> =
        on_db!(db, p => sqlx::query_scalar(SQL).fetch_optional(p).await).map_err(DbError::from)?;
    code.map(|c| Profile::parse(&c).ok_or(ProfileError::Unknown(c))).transpose()
}

/// The profile of this database, recorded now if it has none: the one `asked` (default [`Profile::Aes`]) on an
/// empty database; on a database that already holds data from before profiles were recorded, `aes` (what
/// it was written with), and a request for `sm` is refused. A recorded profile that differs from `asked` is
/// refused. Run after the migrations, before anything is written.
pub async fn establish(db: &Db, asked: Option<Profile>) -> Result<Profile, ProfileError> {
    if let Some(rec) = recorded(db).await? {
        return match asked {
            Some(a) if a != rec => Err(ProfileError::Mismatch { recorded: rec, asked: a }),
            _ => Ok(rec),
        };
    }
    // Anything already written (an audit entry is written by every change, and a person or account by
    // installation) was protected with the only algorithms there were before.
    const USED: &str =
        "SELECT (SELECT COUNT(*) FROM audit_log) + (SELECT COUNT(*) FROM people) + (SELECT COUNT(*) FROM users)";
    let used: i64 = on_db!(db, p => sqlx::query_scalar(USED).fetch_one(p).await).map_err(DbError::from)?;
    let profile = match (used > 0, asked) {
        (true, Some(Profile::Sm)) => return Err(ProfileError::NotEmpty),
        (true, _) => Profile::Aes,
        (false, a) => a.unwrap_or_default(),
    };
    const INSERT: &str = "INSERT INTO crypto_profile (id, profile, field_algorithm, chain_hash, chosen_at) \
         VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING";
    let field = match profile {
        Profile::Aes => "AES-256-GCM",
        Profile::Sm => "SM4-GCM",
    };
    let now = time::OffsetDateTime::now_utc();
    on_db!(db, p => sqlx::query(INSERT)
        .bind(profile.code())
        .bind(field)
        .bind(profile.hash().code())
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
    .map_err(DbError::from)?;
    // Two instances starting at once on an empty PostgreSQL: the first insert wins, both use it.
    let rec = recorded(db).await?.unwrap_or(profile);
    match asked {
        Some(a) if a != rec => Err(ProfileError::Mismatch { recorded: rec, asked: a }),
        _ => Ok(rec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GB/T 32905-2016 appendix A: example 1 ("abc") and example 2 ("abcd" × 16).
    #[test]
    fn sm3_standard_examples() {
        assert_eq!(
            hex::encode(HashAlg::Sm3.digest(&[b"abc"])),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex::encode(HashAlg::Sm3.digest(&[b"abcd".repeat(16).as_slice()])),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        // Parts are hashed as their concatenation.
        assert_eq!(HashAlg::Sm3.digest(&[b"ab", b"c"]), HashAlg::Sm3.digest(&[b"abc"]));
        assert_eq!(
            hex::encode(HashAlg::Sha256.digest(&[b"abc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_differs_by_algorithm_and_key() {
        let a = HashAlg::Sm3.hmac(b"k", &[b"v"]);
        assert_eq!(a.len(), 32);
        assert_ne!(a, HashAlg::Sha256.hmac(b"k", &[b"v"]));
        assert_ne!(a, HashAlg::Sm3.hmac(b"K", &[b"v"]));
        assert_eq!(a, HashAlg::Sm3.hmac(b"k", &[b"v"]));
    }

    #[test]
    fn profiles_parse() {
        assert_eq!(Profile::parse("SM"), Some(Profile::Sm));
        assert_eq!(Profile::parse("aes"), Some(Profile::Aes));
        assert_eq!(Profile::parse("des"), None);
        assert_eq!(Profile::Sm.hash(), HashAlg::Sm3);
    }
}
