//! Anti-forgery tokens (security.md AT-19, OWASP ASVS 3.5): every state-changing request a browser sends
//! with its session cookie must also carry a token that only a page of this site can know.
//!
//! The token is bound to the session: its secret is `SHA-256("dangjian-csrf-v1" ‖ session token)`. So it
//! needs no table, is the same on every instance, ends with the session and changes whenever the session
//! id does (login, step-up). It cannot be computed without the session token, which the browser keeps in
//! an HttpOnly cookie; and it differs from the stored `SHA-256(session token)`, so a copy of the sessions
//! table does not yield it.
//!
//! Each page gets the secret *masked* with fresh random bytes (`pad ‖ pad ⊕ secret`, 128 hex digits), so
//! the bytes in a page differ every time and a compressing proxy cannot leak the secret through response
//! sizes (BREACH). Any masked form of the secret is accepted.

use sha2::{Digest, Sha256};

use crate::{SecurityError, random_bytes};

const DOMAIN: &[u8] = b"dangjian-csrf-v1\0";

/// The secret of the session (or pre-session cookie) `binding`.
pub fn secret(binding: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(binding.as_bytes());
    h.finalize().into()
}

/// A fresh masked form of `secret`, for one page.
pub fn mask(secret: &[u8; 32]) -> Result<String, SecurityError> {
    let mut pad = [0u8; 32];
    random_bytes(&mut pad)?;
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&pad);
    for (i, b) in secret.iter().enumerate() {
        out[32 + i] = pad[i] ^ b;
    }
    Ok(hex::encode(out))
}

/// Whether `token` is a masked form of `secret`. Compares in constant time.
pub fn verify(token: &str, secret: &[u8; 32]) -> bool {
    let Ok(raw) = hex::decode(token.trim()) else {
        return false;
    };
    if raw.len() != 64 {
        return false;
    }
    let diff = (0..32).fold(0u8, |acc, i| acc | (raw[i] ^ raw[32 + i] ^ secret[i]));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_differ_and_all_verify() {
        let s = secret("session-a");
        let a = mask(&s).unwrap();
        let b = mask(&s).unwrap();
        assert_ne!(a, b, "each page gets its own bytes");
        assert_eq!(a.len(), 128);
        assert!(verify(&a, &s) && verify(&b, &s));
    }

    #[test]
    fn another_session_or_a_damaged_token_is_refused() {
        let s = secret("session-a");
        let t = mask(&s).unwrap();
        assert!(!verify(&t, &secret("session-b")));
        assert!(!verify("", &s));
        assert!(!verify(&t[..126], &s));
        assert!(!verify(&"0".repeat(128), &s));
        let mut flipped = t.into_bytes();
        flipped[127] = if flipped[127] == b'0' { b'1' } else { b'0' };
        assert!(!verify(std::str::from_utf8(&flipped).unwrap(), &s));
        // The secret itself is not a token, nor is the stored hash of the session token.
        assert!(!verify(&hex::encode(s), &s));
        assert_ne!(s.to_vec(), crate::token::hash("session-a"));
    }
}
