//! The second factor (等保三级 身份鉴别 d: "two or more combined authentication techniques" for
//! administrators): RFC 6238 time-based one-time passwords as every authenticator app computes them
//! (SHA-1, 6 digits, 30-second steps, one step of clock skew either way), and one-time recovery codes
//! for a lost phone. The secret is stored encrypted like any other sensitive field; the recovery codes
//! only as SHA-256 hashes (they are long random strings, so a plain hash is enough).
//!
//! RFC 6238 §5.2 says a code must be accepted once only: [`check`] returns the matched time step, and the
//! caller stores the last accepted step and refuses any step not after it.

use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

use crate::{SecurityError, random_bytes};

/// 160 bits, as RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;
/// What authenticator apps show as the account's issuer.
pub const ISSUER: &str = "dangjian";

/// A fresh random secret.
pub fn new_secret() -> Result<Vec<u8>, SecurityError> {
    let mut raw = vec![0u8; SECRET_BYTES];
    random_bytes(&mut raw)?;
    Ok(raw)
}

fn totp(secret: &[u8]) -> Result<Totp, SecurityError> {
    Builder::new()
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .build()
        .map_err(|e| SecurityError::Totp(e.to_string()))
}

/// The secret as authenticator apps take it typed in by hand (RFC 4648 base32, no padding).
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::new(secret.to_vec().into_boxed_slice()).to_base32().trim_end_matches('=').to_string()
}

/// The secret back from its base32 form (as stored, encrypted).
pub fn secret_from_base32(text: &str) -> Result<Vec<u8>, SecurityError> {
    Secret::try_from_base32(text).map(|s| s.as_bytes().to_vec()).map_err(|e| SecurityError::Totp(e.to_string()))
}

/// The `otpauth://` URL of the Key URI format that authenticator apps read from a QR code.
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    let label = format!("{ISSUER}:{account}");
    format!(
        "otpauth://totp/{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
        percent_encode(&label),
        secret_base32(secret),
        percent_encode(ISSUER)
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters (the label may hold Chinese).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The time step the code matches at `unix_time` (± one step), or `None`.
pub fn check(secret: &[u8], code: &str, unix_time: u64) -> Result<Option<u64>, SecurityError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(totp(secret)?.check(&code, unix_time))
}

/// The code for `unix_time` (for tests and for the enrolment page's self-check).
pub fn code_at(secret: &[u8], unix_time: u64) -> Result<String, SecurityError> {
    Ok(totp(secret)?.generate(unix_time).to_string())
}

/// Ten recovery codes like `k7mq-x3tp-9wfa`: 60 bits each from an alphabet without look-alikes.
pub fn new_recovery_codes() -> Result<Vec<String>, SecurityError> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut raw = [0u8; 12];
        random_bytes(&mut raw)?;
        let chars: String = raw.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
        codes.push(format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]));
    }
    Ok(codes)
}

/// Whether typed text looks like a recovery code rather than a 6-digit code.
pub fn is_recovery_code(text: &str) -> bool {
    normalise_recovery(text).len() == 12
}

fn normalise_recovery(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// The stored form of a recovery code; dashes, spaces and case do not matter.
pub fn recovery_hash(code: &str) -> Vec<u8> {
    Sha256::digest(normalise_recovery(code).as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last six digits of the 8-digit values.
        let secret = b"12345678901234567890";
        for (t, want) in [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")] {
            assert_eq!(code_at(secret, t).unwrap(), want, "t={t}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_neighbours_only() {
        let secret = new_secret().unwrap();
        let t = 1_800_000_000;
        let code = code_at(&secret, t).unwrap();
        assert_eq!(check(&secret, &code, t).unwrap(), Some(t / 30));
        assert_eq!(check(&secret, &code, t + 30).unwrap(), Some(t / 30), "one step of skew");
        assert_eq!(check(&secret, &code, t + 90).unwrap(), None);
        assert_eq!(check(&secret, "12345", t).unwrap(), None);
        assert_eq!(check(&secret, "abcdef", t).unwrap(), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(&secret, &spaced, t).unwrap(), Some(t / 30));
    }

    #[test]
    fn otpauth_url_is_what_apps_read() {
        let url = otpauth_url(b"12345678901234567890", "李红");
        assert!(
            url.starts_with("otpauth://totp/dangjian%3A%E6%9D%8E%E7%BA%A2?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&")
        );
        assert!(url.ends_with("issuer=dangjian&algorithm=SHA1&digits=6&period=30"));
        let secret = new_secret().unwrap();
        assert_eq!(secret_from_base32(&secret_base32(&secret)).unwrap(), secret);
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving_to_type() {
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let c = &codes[0];
        assert!(is_recovery_code(c) && !is_recovery_code("123456"));
        assert_eq!(recovery_hash(c), recovery_hash(&c.to_uppercase().replace('-', " ")));
    }
}
