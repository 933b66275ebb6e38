//! The key file. Keys never live in the database: a stolen database file (or backup) reveals no
//! ID number. The file holds the data (field) keys by version — `key_id` names the one that encrypts,
//! older versions stay to decrypt what a rotation has not reached yet and old backups — and one
//! independent blind-index key, so that the look-up key can be given to a component that must not
//! decrypt. `dangjian keys rotate` adds a version (docs/OPERATIONS.md, key custody).
//!
//! ```text
//! key_id=2
//! field.1=<64 hex digits>
//! field.2=<64 hex digits>
//! index=<64 hex digits>
//! ```
//! (A file written before versions, `key_id=1` with `field=…`, reads as version 1.)
//!
//! The file may be sealed by a hardware security module ([`crate::custody`]): then it holds this text
//! encrypted under a key that never leaves the HSM, and reading it needs the HSM and its PIN.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::custody::{self, Pkcs11Custody};
use crate::profile::Profile;
use crate::{SecurityError, random_bytes};

#[derive(Clone)]
pub struct KeyRing {
    /// The version that encrypts; each ciphertext names its version, so that a rotation can re-encrypt
    /// in batches while every version still decrypts.
    pub key_id: u8,
    pub(crate) field_keys: BTreeMap<u8, [u8; 32]>,
    pub(crate) index_key: [u8; 32],
    /// The installation's algorithms (from the database's `crypto_profile`, [`KeyRing::with_profile`]).
    pub profile: Profile,
    /// The file the ring was read from: a running platform reads it again when a ciphertext names a
    /// version it does not know yet (a rotation started by `dangjian keys rotate`).
    pub(crate) source: Option<PathBuf>,
    /// The HSM that seals the file, when it is sealed: the file is written back sealed.
    pub(crate) custody: Option<Pkcs11Custody>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_id", &self.key_id)
            .field("versions", &self.versions())
            .field("profile", &self.profile)
            .field("custody", &self.custody)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Reads the key file at `path`, creating it (mode 0600) with fresh random keys when it does not
    /// exist. Several instances on PostgreSQL must share one file (or one `DANGJIAN_KEY_FILE`).
    pub fn load_or_create(path: &Path) -> Result<KeyRing, SecurityError> {
        let err = |reason: String| SecurityError::KeyFile { path: path.display().to_string(), reason };
        if !path.exists() {
            let mut field_key = [0u8; 32];
            let mut index_key = [0u8; 32];
            random_bytes(&mut field_key)?;
            random_bytes(&mut index_key)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
            }
            let ring = KeyRing {
                key_id: 1,
                field_keys: BTreeMap::from([(1, field_key)]),
                index_key,
                profile: Profile::default(),
                source: None,
                custody: None,
            };
            write_private(path, &ring.file_text()).map_err(|e| err(e.to_string()))?;
            tracing::warn!(path = %path.display(), "created a new key file; back it up");
        }
        Self::load(path)
    }

    /// Reads an existing key file; a sealed one through its HSM, with the PIN from the environment
    /// ([`custody::pin_from_env`]).
    pub fn load(path: &Path) -> Result<KeyRing, SecurityError> {
        let err = |reason: String| SecurityError::KeyFile { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut ring = if custody::is_sealed(&text) {
            let (custody, sealed) = Pkcs11Custody::parse(&text).map_err(err)?;
            let pin = custody::pin_from_env().map_err(err)?;
            let plain = custody.open(&pin, &sealed).map_err(err)?;
            let plain = String::from_utf8(plain).map_err(|_| err("the sealed keys are not text".into()))?;
            let mut ring = Self::parse(&plain).map_err(err)?;
            ring.custody = Some(custody);
            ring
        } else {
            Self::parse(&text).map_err(err)?
        };
        ring.source = Some(path.to_path_buf());
        Ok(ring)
    }

    /// The HSM that seals the file the ring was read from, if any.
    pub fn custody(&self) -> Option<&Pkcs11Custody> {
        self.custody.as_ref()
    }

    /// Seals the plain key file at `path` with `custody`'s key (made in the token first when `create_key`
    /// and it has none), replacing the file atomically, and reads it back through the HSM to prove it opens.
    /// The keys themselves do not change: nothing in the database is re-encrypted.
    pub fn seal_file(
        path: &Path,
        custody: &Pkcs11Custody,
        pin: &custody::AuthPin,
        create_key: bool,
    ) -> Result<KeyRing, SecurityError> {
        let err = |reason: String| SecurityError::KeyFile { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        if custody::is_sealed(&text) {
            return Err(err("already sealed (keys unseal first to move it under another key)".into()));
        }
        let mut ring = Self::parse(&text).map_err(err)?;
        let sealed = custody.seal(pin, ring.file_text().as_bytes(), create_key).map_err(err)?;
        replace(path, &custody.file_text(&sealed)).map_err(|e| err(e.to_string()))?;
        let opened = custody.open(pin, &sealed).map_err(err)?;
        if opened != ring.file_text().as_bytes() {
            return Err(err("the HSM gave back other bytes than it sealed".into()));
        }
        ring.custody = Some(custody.clone());
        ring.source = Some(path.to_path_buf());
        tracing::warn!(path = %path.display(), token = %custody.token, key = %custody.key_label, "sealed the key file with the HSM");
        Ok(ring)
    }

    /// Writes the keys of a sealed file at `path` back as a plain file (leaving an HSM, or moving to another:
    /// seal it again there). Needs the HSM and its PIN, as reading does.
    pub fn unseal_file(path: &Path) -> Result<KeyRing, SecurityError> {
        let err = |reason: String| SecurityError::KeyFile { path: path.display().to_string(), reason };
        let mut ring = Self::load(path)?;
        if ring.custody.is_none() {
            return Err(err("not sealed".into()));
        }
        ring.custody = None;
        replace(path, &ring.file_text()).map_err(|e| err(e.to_string()))?;
        tracing::warn!(path = %path.display(), "unsealed the key file: it is the custody again; back it up");
        Ok(ring)
    }

    /// The file's text as stored: sealed by the ring's HSM when it has one.
    fn stored_text(&self) -> Result<String, String> {
        match &self.custody {
            None => Ok(self.file_text()),
            Some(c) => {
                let pin = custody::pin_from_env()?;
                Ok(c.file_text(&c.seal(&pin, self.file_text().as_bytes(), false)?))
            }
        }
    }

    /// The same keys under the installation's profile (read from the database at start).
    pub fn with_profile(mut self, profile: Profile) -> KeyRing {
        self.profile = profile;
        self
    }

    fn parse(text: &str) -> Result<KeyRing, String> {
        let mut key_id = 1u8;
        let mut unversioned = None;
        let mut field_keys = BTreeMap::new();
        let mut index = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (k, v) = line.split_once('=').ok_or("a line without '='")?;
            match k.trim() {
                "key_id" => key_id = v.trim().parse().map_err(|_| "key_id is not a number 1-255")?,
                "field" => unversioned = Some(decode_key(v)?),
                "index" => index = Some(decode_key(v)?),
                other => match other.strip_prefix("field.").map(str::parse::<u8>) {
                    Some(Ok(version)) if version > 0 => {
                        if field_keys.insert(version, decode_key(v)?).is_some() {
                            return Err(format!("key version {version} appears twice"));
                        }
                    }
                    _ => return Err(format!("unknown entry {other}")),
                },
            }
        }
        if let Some(k) = unversioned
            && field_keys.insert(key_id, k).is_some()
        {
            return Err(format!("key version {key_id} appears twice"));
        }
        if !field_keys.contains_key(&key_id) {
            return Err(format!("no field key of version {key_id} (key_id)"));
        }
        Ok(KeyRing {
            key_id,
            field_keys,
            index_key: index.ok_or("no index key")?,
            profile: Profile::default(),
            source: None,
            custody: None,
        })
    }

    fn file_text(&self) -> String {
        let mut text = String::from(
            "# dangjian field-encryption keys. Back this file up apart from the database; without it\n\
             # encrypted ID numbers and phones cannot be read. key_id is the version that encrypts; keep older\n\
             # versions as long as a backup taken with them is kept (docs/OPERATIONS.md, key custody).\n",
        );
        text.push_str(&format!("key_id={}\n", self.key_id));
        for (v, k) in &self.field_keys {
            text.push_str(&format!("field.{v}={}\n", hex::encode(k)));
        }
        text.push_str(&format!("index={}\n", hex::encode(self.index_key)));
        text
    }

    /// Adds field key `version` (fresh random bytes) to the key file at `path` and makes it the one that
    /// encrypts; every older version stays. Does nothing when the file already has that version as its
    /// active one (a resumed rotation). The file is replaced atomically (written beside, then renamed).
    pub fn add_version(path: &Path, version: u8) -> Result<KeyRing, SecurityError> {
        let err = |reason: String| SecurityError::KeyFile { path: path.display().to_string(), reason };
        let mut ring = Self::load(path)?;
        if ring.key_id == version {
            return Ok(ring);
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = ring.field_keys.entry(version) {
            let mut key = [0u8; 32];
            random_bytes(&mut key)?;
            slot.insert(key);
        }
        ring.key_id = version;
        let text = ring.stored_text().map_err(err)?;
        replace(path, &text).map_err(|e| err(e.to_string()))?;
        tracing::warn!(path = %path.display(), version, "added a data key version to the key file; back it up");
        Ok(ring)
    }

    /// The versions the ring holds, oldest first.
    pub fn versions(&self) -> Vec<u8> {
        self.field_keys.keys().copied().collect()
    }

    /// The field key of `version`.
    pub(crate) fn field_key(&self, version: u8) -> Option<&[u8; 32]> {
        self.field_keys.get(&version)
    }

    /// Keys derived from a fixed seed, for tests only.
    pub fn for_tests() -> KeyRing {
        KeyRing {
            key_id: 1,
            field_keys: BTreeMap::from([(1, [7u8; 32])]),
            index_key: [9u8; 32],
            profile: Profile::default(),
            source: None,
            custody: None,
        }
    }

    /// A ring with the field keys given by version (the last encrypts), for tests only.
    pub fn for_tests_with(versions: &[(u8, [u8; 32])]) -> KeyRing {
        let mut ring = Self::for_tests();
        ring.field_keys = versions.iter().copied().collect();
        ring.key_id = versions.last().map(|(v, _)| *v).unwrap_or(1);
        ring
    }

    /// The default location under a data dir.
    pub fn default_path(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("dangjian.key")
    }
}

fn decode_key(v: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(v.trim()).map_err(|_| "a key is not hexadecimal".to_string())?;
    bytes.try_into().map_err(|_| "a key is not 32 bytes".to_string())
}

/// Replaces the file at `path` atomically: written beside (mode 0600), then renamed over it.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let beside = path.with_extension("key.new");
    let _ = std::fs::remove_file(&beside);
    write_private(&beside, text)?;
    std::fs::rename(&beside, path)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reads_the_same_keys() {
        let dir = std::env::temp_dir().join(format!("dj-keys-{}", std::process::id()));
        let path = dir.join("k.key");
        let a = KeyRing::load_or_create(&path).unwrap();
        let b = KeyRing::load_or_create(&path).unwrap();
        assert_eq!(a.field_keys, b.field_keys);
        assert_ne!(a.field_key(a.key_id).unwrap(), &a.index_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key file must not be readable by others");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn rejects_a_short_key() {
        assert!(KeyRing::parse("field=00\nindex=00").is_err());
    }

    #[test]
    fn a_new_version_encrypts_and_the_old_ones_stay() {
        let dir = std::env::temp_dir().join(format!("dj-keys-v-{}", std::process::id()));
        let path = dir.join("k.key");
        let one = KeyRing::load_or_create(&path).unwrap();
        let two = KeyRing::add_version(&path, 2).unwrap();
        assert_eq!((two.key_id, two.versions()), (2, vec![1, 2]));
        assert_eq!(two.field_key(1), one.field_key(1));
        assert_eq!(two.index_key, one.index_key, "the blind index key does not rotate");
        let again = KeyRing::add_version(&path, 2).unwrap();
        assert_eq!(again.field_key(2), two.field_key(2), "a resumed rotation keeps the new key");
        assert_eq!(KeyRing::load(&path).unwrap().key_id, 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o077, 0);
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_file_from_before_versions_reads_as_its_key_id() {
        let k = "11".repeat(32);
        let i = "22".repeat(32);
        let ring = KeyRing::parse(&format!("key_id=1\nfield={k}\nindex={i}\n")).unwrap();
        assert_eq!((ring.key_id, ring.versions()), (1, vec![1]));
        assert!(KeyRing::parse(&format!("key_id=3\nfield.1={k}\nindex={i}\n")).is_err(), "no key of version 3");
        assert!(KeyRing::parse(&format!("field={k}\nfield.1={k}\nindex={i}\n")).is_err(), "twice");
    }
}
