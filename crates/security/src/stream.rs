//! Encryption of whole files with the data key (backups): the STREAM construction of Hoang, Reyhanitabar,
//! Rogaway and Vizár ("Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015)
//! over AES-256-GCM (SM4-GCM under the 国密 profile, with HMAC-SM3 deriving), the same construction as RustCrypto's `aead-stream` and Tink's streaming AEAD.
//!
//! A file is cut into chunks; chunk *i* is sealed with the nonce `prefix(7) ‖ i (u32, big-endian) ‖ last
//! (0 or 1)`. The counter makes a dropped, repeated or reordered chunk fail to open, and the last-chunk flag
//! makes a file cut at a chunk boundary fail too. Each file gets its own key,
//! `HMAC-SHA-256(field key, "dangjian file key v1" ‖ salt)` with a random 32-byte salt, so nonces never
//! repeat across files and a file key opens nothing else. The envelope's header is the associated data of
//! every chunk, so it cannot be swapped either. A key check in the header ([`FileKey::check`]) tells a
//! wrong key file from a damaged file.

use crate::cipher::FieldAead;
use crate::profile::Profile;
use crate::{KeyRing, SecurityError};

/// Bytes of the per-file salt.
pub const SALT_LEN: usize = 32;
/// Bytes of the random nonce prefix.
pub const PREFIX_LEN: usize = 7;
/// Bytes the AEAD tag adds to each chunk.
pub const TAG_LEN: usize = 16;

/// Bytes of the key check stored in the header.
pub const CHECK_LEN: usize = 16;

const KDF_LABEL: &[u8] = b"dangjian file key v1";
const CHECK_LABEL: &[u8] = b"dangjian file key check v1";
const SM4_FILE_LABEL: &[u8] = b"dangjian SM4-GCM file key v1";

/// The key of one file, derived from the key ring's field key and the file's salt.
pub struct FileKey {
    aead: FieldAead,
    prefix: [u8; PREFIX_LEN],
    check: [u8; CHECK_LEN],
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey").finish_non_exhaustive()
    }
}

impl KeyRing {
    /// The key of the file with this salt and nonce prefix (both stored in the file's header), under the
    /// version that encrypts now.
    pub fn file_key(&self, salt: &[u8; SALT_LEN], prefix: &[u8; PREFIX_LEN]) -> Result<FileKey, SecurityError> {
        self.file_key_of(self.key_id, salt, prefix)
    }

    /// The key of a file sealed with key `version` (a backup taken before a rotation).
    pub fn file_key_of(
        &self,
        version: u8,
        salt: &[u8; SALT_LEN],
        prefix: &[u8; PREFIX_LEN],
    ) -> Result<FileKey, SecurityError> {
        let field_key = self.field_key(version).ok_or(SecurityError::Decrypt)?;
        let hash = self.profile.hash();
        let derived: [u8; 32] =
            hash.hmac(field_key, &[KDF_LABEL, salt]).try_into().map_err(|_| SecurityError::Encrypt)?;
        let aead = match self.profile {
            Profile::Aes => FieldAead::new(Profile::Aes, &derived, &[])?,
            Profile::Sm => FieldAead::new(Profile::Sm, &derived, SM4_FILE_LABEL)?,
        };
        let mut check = [0u8; CHECK_LEN];
        check.copy_from_slice(
            hash.hmac(field_key, &[CHECK_LABEL, salt]).get(..CHECK_LEN).ok_or(SecurityError::Encrypt)?,
        );
        Ok(FileKey { aead, prefix: *prefix, check })
    }
}

impl FileKey {
    /// A value stored in the file's header that tells, before any chunk is opened, whether a key file is
    /// the one the file was sealed with (an independent derivation: it reveals nothing of the file key),
    /// so that a wrong key file and a damaged file get different answers.
    pub fn check(&self) -> [u8; CHECK_LEN] {
        self.check
    }

    fn nonce(&self, counter: u32, last: bool) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..PREFIX_LEN].copy_from_slice(&self.prefix);
        n[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        n[11] = u8::from(last);
        n
    }

    /// Seals chunk number `counter`; `last` marks the final chunk of the file.
    pub fn seal(&self, counter: u32, last: bool, header: &[u8], chunk: &[u8]) -> Result<Vec<u8>, SecurityError> {
        self.aead.seal(self.nonce(counter, last), chunk, header)
    }

    /// Opens chunk number `counter`: fails when the chunk, its position, the last flag, the header or the
    /// key differ from what was sealed.
    pub fn open(&self, counter: u32, last: bool, header: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SecurityError> {
        self.aead.open(self.nonce(counter, last), sealed, header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ring: &KeyRing) -> FileKey {
        ring.file_key(&[1; SALT_LEN], &[2; PREFIX_LEN]).unwrap()
    }

    #[test]
    fn a_chunk_opens_only_at_its_place_with_its_flag_header_and_key() {
        let ring = KeyRing::for_tests();
        let k = key(&ring);
        let sealed = k.seal(3, false, b"hdr", b"some rows").unwrap();
        assert_eq!(sealed.len(), b"some rows".len() + TAG_LEN);
        assert_eq!(k.open(3, false, b"hdr", &sealed).unwrap(), b"some rows");
        assert!(k.open(4, false, b"hdr", &sealed).is_err(), "moved to another place");
        assert!(k.open(3, true, b"hdr", &sealed).is_err(), "passed off as the last chunk");
        assert!(k.open(3, false, b"HDR", &sealed).is_err(), "another header");
        let other_salt = ring.file_key(&[9; SALT_LEN], &[2; PREFIX_LEN]).unwrap();
        assert!(other_salt.open(3, false, b"hdr", &sealed).is_err(), "another file's key");
        let other_ring = KeyRing::for_tests_with(&[(1, [8; 32])]);
        assert!(key(&other_ring).open(3, false, b"hdr", &sealed).is_err(), "another key file");
        assert_ne!(key(&other_ring).check(), k.check(), "the check tells key files apart");
        assert_ne!(other_salt.check(), k.check());
        let mut flipped = sealed.clone();
        flipped[0] ^= 1;
        assert!(k.open(3, false, b"hdr", &flipped).is_err(), "an edited byte");
    }

    #[test]
    fn the_sm_profile_seals_with_sm4_and_older_versions_still_open() {
        let ring = KeyRing::for_tests_with(&[(1, [1; 32]), (2, [2; 32])]).with_profile(Profile::Sm);
        let k = key(&ring);
        let sealed = k.seal(0, true, b"h", b"rows").unwrap();
        assert_eq!(k.open(0, true, b"h", &sealed).unwrap(), b"rows");
        let aes = KeyRing::for_tests_with(&[(1, [1; 32]), (2, [2; 32])]);
        assert!(key(&aes).open(0, true, b"h", &sealed).is_err(), "SM4-GCM is not AES-256-GCM");
        assert_ne!(key(&aes).check(), k.check());
        let old = ring.file_key_of(1, &[1; SALT_LEN], &[2; PREFIX_LEN]).unwrap();
        let by_v1 = old.seal(0, true, b"h", b"v1").unwrap();
        let only_v1 = KeyRing::for_tests_with(&[(1, [1; 32])]).with_profile(Profile::Sm);
        assert_eq!(key(&only_v1).open(0, true, b"h", &by_v1).unwrap(), b"v1");
        assert!(ring.file_key_of(3, &[1; SALT_LEN], &[2; PREFIX_LEN]).is_err());
    }
}
