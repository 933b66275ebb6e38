//! Field encryption (AES-256-GCM) and the blind index.
//!
//! Stored layout: `[format=1][algorithm=1 (AES-256-GCM)][key id][12-byte random nonce][ciphertext+tag]`.
//! The associated data names the column ("people.id_number"), so a ciphertext moved into another
//! column fails to decrypt. The blind index is HMAC-SHA-256 of the normalised value under a second key:
//! equal values give equal indexes (exact look-up, uniqueness), yet the index reveals nothing without
//! the key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{KeyRing, SecurityError, random_bytes};

const FORMAT: u8 = 1;
const ALG_AES256GCM: u8 = 1;
const HEADER: usize = 3 + 12;

pub struct FieldCipher {
    key_id: u8,
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldCipher").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl FieldCipher {
    pub fn new(keys: &KeyRing) -> Result<FieldCipher, SecurityError> {
        let aead = Aes256Gcm::new_from_slice(&keys.field_key).map_err(|_| SecurityError::Encrypt)?;
        Ok(FieldCipher { key_id: keys.key_id, aead, index_key: keys.index_key })
    }

    pub fn encrypt(&self, column: &str, plaintext: &str) -> Result<Vec<u8>, SecurityError> {
        let mut nonce = [0u8; 12];
        random_bytes(&mut nonce)?;
        let ct = self
            .aead
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: column.as_bytes() })
            .map_err(|_| SecurityError::Encrypt)?;
        let mut out = Vec::with_capacity(HEADER + ct.len());
        out.extend_from_slice(&[FORMAT, ALG_AES256GCM, self.key_id]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn decrypt(&self, column: &str, stored: &[u8]) -> Result<String, SecurityError> {
        let (header, ct) = stored.split_at_checked(HEADER).ok_or(SecurityError::Decrypt)?;
        let (tag, nonce) = header.split_at(3);
        if tag != [FORMAT, ALG_AES256GCM, self.key_id] {
            return Err(SecurityError::Decrypt);
        }
        let nonce = Nonce::try_from(nonce).map_err(|_| SecurityError::Decrypt)?;
        let pt = self
            .aead
            .decrypt(&nonce, Payload { msg: ct, aad: column.as_bytes() })
            .map_err(|_| SecurityError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| SecurityError::Decrypt)
    }

    /// The blind index of an already normalised value, bound to its column.
    pub fn blind_index(&self, column: &str, normalised: &str) -> Vec<u8> {
        // new_from_slice accepts keys of any length for HMAC; the fallback is unreachable.
        match Hmac::<Sha256>::new_from_slice(&self.index_key) {
            Ok(mut mac) => {
                mac.update(column.as_bytes());
                mac.update(&[0]);
                mac.update(normalised.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_column_binding() {
        let c = FieldCipher::new(&KeyRing::for_tests()).unwrap();
        let ct = c.encrypt("people.id_number", "33010619990101123X").unwrap();
        assert!(!String::from_utf8_lossy(&ct).contains("330106"));
        assert_eq!(c.decrypt("people.id_number", &ct).unwrap(), "33010619990101123X");
        assert!(c.decrypt("people.phone", &ct).is_err());
        let mut bad = ct.clone();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        assert!(c.decrypt("people.id_number", &bad).is_err());
    }

    #[test]
    fn same_value_same_index_nonce_differs() {
        let c = FieldCipher::new(&KeyRing::for_tests()).unwrap();
        assert_eq!(c.blind_index("people.id_number", "1"), c.blind_index("people.id_number", "1"));
        assert_ne!(c.blind_index("people.id_number", "1"), c.blind_index("people.id_number", "2"));
        assert_ne!(c.encrypt("x", "1").unwrap(), c.encrypt("x", "1").unwrap());
    }
}
