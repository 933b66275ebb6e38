//! Field encryption (AES-256-GCM, or SM4-GCM under the 国密 profile) and the blind index.
//!
//! Stored layout: `[format=1][algorithm][key version][12-byte random nonce][ciphertext+tag]`, algorithm 1
//! = AES-256-GCM, 2 = SM4-GCM (GB/T 32907 in GCM as RFC 8998 specifies; its 128-bit key is derived from
//! the version's 256-bit field key with HMAC-SM3). Decrypt takes the version from the prefix, so while
//! `dangjian keys rotate` re-encrypts, values of the old and the new version both read; a version this
//! process does not know yet makes it read the key file again. The associated data names the column
//! ("people.id_number"), so a ciphertext moved into another column fails to decrypt. The blind index is
//! an HMAC (SHA-256, or SM3) of the normalised value under a second key that never rotates: equal values
//! give equal indexes (exact look-up, uniqueness), yet the index reveals nothing without the key.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};

use crate::profile::{HashAlg, Profile};
use crate::{KeyRing, SecurityError, random_bytes};

/// SM4 in Galois/Counter Mode with a 96-bit nonce: aes-gcm's generic GCM over the SM4 block cipher.
pub type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

const FORMAT: u8 = 1;
/// Algorithm byte of AES-256-GCM ciphertexts.
pub const ALG_AES256GCM: u8 = 1;
/// Algorithm byte of SM4-GCM ciphertexts.
pub const ALG_SM4GCM: u8 = 2;
/// Bytes before the ciphertext: format, algorithm, key version, nonce.
pub const HEADER: usize = 3 + 12;

/// How often an encrypting process looks whether the key file gained a new version.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// At most one re-read of the key file per this time when a ciphertext names an unknown version.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// The algorithm byte of a profile's field encryption.
pub fn algorithm_of(profile: Profile) -> u8 {
    match profile {
        Profile::Aes => ALG_AES256GCM,
        Profile::Sm => ALG_SM4GCM,
    }
}

/// The profile whose algorithm a stored value names (`None` for a value that is not a ciphertext or names
/// an algorithm this build does not know).
pub fn profile_of(stored: &[u8]) -> Option<Profile> {
    match stored {
        [FORMAT, ALG_AES256GCM, ..] => Some(Profile::Aes),
        [FORMAT, ALG_SM4GCM, ..] => Some(Profile::Sm),
        _ => None,
    }
}

/// The key version a stored value was encrypted with (`None` for a value that is not a ciphertext).
pub fn version_of(stored: &[u8]) -> Option<u8> {
    match stored {
        [FORMAT, _, version, ..] if stored.len() > HEADER => Some(*version),
        _ => None,
    }
}

/// One version's AEAD.
pub(crate) enum FieldAead {
    Aes(Box<Aes256Gcm>),
    Sm4(Box<Sm4Gcm>),
}

impl FieldAead {
    /// The AEAD of `key` under `profile` (SM4 uses a 128-bit key derived with HMAC-SM3, labelled).
    pub(crate) fn new(profile: Profile, key: &[u8; 32], label: &[u8]) -> Result<FieldAead, SecurityError> {
        Ok(match profile {
            Profile::Aes => {
                FieldAead::Aes(Box::new(Aes256Gcm::new_from_slice(key).map_err(|_| SecurityError::Encrypt)?))
            }
            Profile::Sm => {
                let derived = HashAlg::Sm3.hmac(key, &[label]);
                let k = derived.get(..16).ok_or(SecurityError::Encrypt)?;
                FieldAead::Sm4(Box::new(Sm4Gcm::new_from_slice(k).map_err(|_| SecurityError::Encrypt)?))
            }
        })
    }

    pub(crate) fn seal(&self, nonce: [u8; 12], msg: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let payload = Payload { msg, aad };
        match self {
            FieldAead::Aes(a) => a.encrypt(&Nonce::from(nonce), payload),
            FieldAead::Sm4(a) => a.encrypt(&Nonce::from(nonce), payload),
        }
        .map_err(|_| SecurityError::Encrypt)
    }

    pub(crate) fn open(&self, nonce: [u8; 12], msg: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let payload = Payload { msg, aad };
        match self {
            FieldAead::Aes(a) => a.decrypt(&Nonce::from(nonce), payload),
            FieldAead::Sm4(a) => a.decrypt(&Nonce::from(nonce), payload),
        }
        .map_err(|_| SecurityError::Decrypt)
    }
}

/// Label of the SM4 field key derivation.
const SM4_FIELD_LABEL: &[u8] = b"dangjian SM4-GCM field key v1";

/// The keys of one reading of the key file.
struct Loaded {
    profile: Profile,
    active: u8,
    aeads: BTreeMap<u8, FieldAead>,
    index_key: [u8; 32],
    modified: Option<SystemTime>,
}

impl Loaded {
    fn new(keys: &KeyRing) -> Result<Loaded, SecurityError> {
        let mut aeads = BTreeMap::new();
        for (v, k) in &keys.field_keys {
            aeads.insert(*v, FieldAead::new(keys.profile, k, SM4_FIELD_LABEL)?);
        }
        if !aeads.contains_key(&keys.key_id) {
            return Err(SecurityError::Encrypt);
        }
        let modified = keys.source.as_deref().and_then(|p| std::fs::metadata(p).ok()?.modified().ok());
        Ok(Loaded { profile: keys.profile, active: keys.key_id, aeads, index_key: keys.index_key, modified })
    }
}

pub struct FieldCipher {
    loaded: RwLock<Arc<Loaded>>,
    source: Option<PathBuf>,
    looked: Mutex<Instant>,
    reloaded: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = self.current();
        f.debug_struct("FieldCipher").field("profile", &l.profile).field("key_id", &l.active).finish_non_exhaustive()
    }
}

impl FieldCipher {
    pub fn new(keys: &KeyRing) -> Result<FieldCipher, SecurityError> {
        Ok(FieldCipher {
            loaded: RwLock::new(Arc::new(Loaded::new(keys)?)),
            source: keys.source.clone(),
            looked: Mutex::new(Instant::now()),
            reloaded: Mutex::new(None),
        })
    }

    fn current(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The profile this cipher encrypts under.
    pub fn profile(&self) -> Profile {
        self.current().profile
    }

    /// The key version that encrypts now.
    pub fn active_version(&self) -> u8 {
        self.current().active
    }

    /// Reads the key file again (keeping the profile) when it changed since the last reading.
    fn reload(&self) {
        let Some(path) = &self.source else { return };
        let before = self.current();
        let modified = std::fs::metadata(path).ok().and_then(|m| m.modified().ok());
        if modified.is_some() && modified == before.modified {
            return;
        }
        match KeyRing::load(path).map(|k| k.with_profile(before.profile)).and_then(|k| Loaded::new(&k)) {
            Ok(l) => {
                tracing::info!(active = l.active, versions = l.aeads.len(), "read the key file again");
                if let Ok(mut w) = self.loaded.write() {
                    *w = Arc::new(l);
                }
            }
            Err(e) => tracing::error!(error = %e, "the key file changed but cannot be read; keeping the keys in use"),
        }
    }

    /// Looks at the key file now and then (a rotation makes a new version the one that encrypts).
    fn look_now_and_then(&self) {
        if self.source.is_none() {
            return;
        }
        let due = match self.looked.lock() {
            Ok(mut t) if t.elapsed() >= LOOK_EVERY => {
                *t = Instant::now();
                true
            }
            _ => false,
        };
        if due {
            self.reload();
        }
    }

    pub fn encrypt(&self, column: &str, plaintext: &str) -> Result<Vec<u8>, SecurityError> {
        self.look_now_and_then();
        let l = self.current();
        let aead = l.aeads.get(&l.active).ok_or(SecurityError::Encrypt)?;
        let mut nonce = [0u8; 12];
        random_bytes(&mut nonce)?;
        let ct = aead.seal(nonce, plaintext.as_bytes(), column.as_bytes())?;
        let mut out = Vec::with_capacity(HEADER + ct.len());
        out.extend_from_slice(&[FORMAT, algorithm_of(l.profile), l.active]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn decrypt(&self, column: &str, stored: &[u8]) -> Result<String, SecurityError> {
        let (header, ct) = stored.split_at_checked(HEADER).ok_or(SecurityError::Decrypt)?;
        let [format, alg, version, nonce @ ..] = header else { return Err(SecurityError::Decrypt) };
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecurityError::Decrypt)?;
        let mut l = self.current();
        if *format != FORMAT || *alg != algorithm_of(l.profile) {
            return Err(SecurityError::Decrypt);
        }
        if !l.aeads.contains_key(version) && self.source.is_some() {
            // A version written by another process's rotation: read the key file again (not too often).
            let due = match self.reloaded.lock() {
                Ok(mut t) if t.is_none_or(|t| t.elapsed() >= RELOAD_AT_MOST_EVERY) => {
                    *t = Some(Instant::now());
                    true
                }
                _ => false,
            };
            if due {
                self.reload();
                l = self.current();
            }
        }
        let aead = l.aeads.get(version).ok_or(SecurityError::Decrypt)?;
        let pt = aead.open(nonce, ct, column.as_bytes())?;
        String::from_utf8(pt).map_err(|_| SecurityError::Decrypt)
    }

    /// The blind index of an already normalised value, bound to its column.
    pub fn blind_index(&self, column: &str, normalised: &str) -> Vec<u8> {
        let l = self.current();
        l.profile.hash().hmac(&l.index_key, &[column.as_bytes(), &[0], normalised.as_bytes()])
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

    /// GB/T 32907-2016 appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210, one block;
    /// and example 2: the same block encrypted 1,000,000 times.
    #[test]
    fn sm4_standard_examples() {
        use sm4::cipher::{Array, BlockCipherEncrypt};
        let key = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let sm4 = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut block = Array::try_from(key.as_slice()).unwrap();
        sm4.encrypt_block(&mut block);
        assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
        for _ in 1..1_000_000 {
            sm4.encrypt_block(&mut block);
        }
        assert_eq!(hex::encode(block), "595298c7c6fd271f0402f804c33d3f66");
    }

    /// RFC 8998 appendix A.1: SM4-GCM (the GCM construction of the TLS 1.3 国密 suites).
    #[test]
    fn sm4_gcm_rfc8998_vector() {
        let key = hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let nonce: [u8; 12] = hex::decode("00001234567800000000ABCD").unwrap().try_into().unwrap();
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let pt = hex::decode(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF\
             EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        )
        .unwrap();
        let gcm = Sm4Gcm::new_from_slice(&key).unwrap();
        let sealed = gcm.encrypt(&Nonce::from(nonce), Payload { msg: &pt, aad: &aad }).unwrap();
        let (ct, tag) = sealed.split_at(pt.len());
        assert_eq!(
            hex::encode_upper(ct),
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15\
             A56834CBCF98C397B4024A2691233B8D"
        );
        assert_eq!(hex::encode_upper(tag), "83DE3541E4C2B58177E065A9BF7B62EC");
    }

    #[test]
    fn sm_profile_round_trip_column_binding_and_tamper() {
        let c = FieldCipher::new(&KeyRing::for_tests().with_profile(Profile::Sm)).unwrap();
        let ct = c.encrypt("people.id_number", "33010619990101123X").unwrap();
        assert_eq!(&ct[..3], &[1, ALG_SM4GCM, 1], "the prefix names SM4-GCM and key version 1");
        assert_eq!(c.decrypt("people.id_number", &ct).unwrap(), "33010619990101123X");
        assert!(c.decrypt("people.phone", &ct).is_err());
        for i in [3, HEADER, ct.len() - 1] {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert!(c.decrypt("people.id_number", &bad).is_err(), "byte {i} edited");
        }
        // The same key file under the other profile opens nothing of this one's.
        let aes = FieldCipher::new(&KeyRing::for_tests()).unwrap();
        assert!(aes.decrypt("people.id_number", &ct).is_err());
        assert!(c.decrypt("people.id_number", &aes.encrypt("people.id_number", "1").unwrap()).is_err());
        assert_ne!(c.blind_index("x", "1"), aes.blind_index("x", "1"), "HMAC-SM3 against HMAC-SHA-256");
    }

    #[test]
    fn every_version_decrypts_and_the_newest_encrypts() {
        let old = FieldCipher::new(&KeyRing::for_tests_with(&[(1, [1; 32])])).unwrap();
        let both = FieldCipher::new(&KeyRing::for_tests_with(&[(1, [1; 32]), (2, [2; 32])])).unwrap();
        let v1 = old.encrypt("c", "甲").unwrap();
        let v2 = both.encrypt("c", "乙").unwrap();
        assert_eq!((version_of(&v1), version_of(&v2)), (Some(1), Some(2)));
        assert_eq!(both.decrypt("c", &v1).unwrap(), "甲");
        assert_eq!(both.decrypt("c", &v2).unwrap(), "乙");
        assert!(old.decrypt("c", &v2).is_err(), "a version the ring does not hold");
        assert_eq!(old.blind_index("c", "1"), both.blind_index("c", "1"), "the index survives a rotation");
    }

    #[test]
    fn same_value_same_index_nonce_differs() {
        let c = FieldCipher::new(&KeyRing::for_tests()).unwrap();
        assert_eq!(c.blind_index("people.id_number", "1"), c.blind_index("people.id_number", "1"));
        assert_ne!(c.blind_index("people.id_number", "1"), c.blind_index("people.id_number", "2"));
        assert_ne!(c.encrypt("x", "1").unwrap(), c.encrypt("x", "1").unwrap());
    }
}
