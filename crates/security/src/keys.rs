//! The key file. Keys never live in the database: a stolen database file (or backup) reveals no
//! ID number. The file holds two independent 256-bit keys — one encrypts fields, one computes the
//! blind index — so that the look-up key can be given to a component that must not decrypt.

use std::path::{Path, PathBuf};

use crate::{SecurityError, random_bytes};

pub struct KeyRing {
    /// Identifies the field key inside each ciphertext, so that a rotation can re-encrypt lazily.
    pub key_id: u8,
    pub(crate) field_key: [u8; 32],
    pub(crate) index_key: [u8; 32],
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("key_id", &self.key_id).finish_non_exhaustive()
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
            let text = format!(
                "# dangjian field-encryption keys. Back this file up apart from the database; without it\n\
                 # encrypted ID numbers and phones cannot be read.\nkey_id=1\nfield={}\nindex={}\n",
                hex::encode(field_key),
                hex::encode(index_key)
            );
            write_private(path, &text).map_err(|e| err(e.to_string()))?;
            tracing::warn!(path = %path.display(), "created a new key file; back it up");
        }
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(err)
    }

    fn parse(text: &str) -> Result<KeyRing, String> {
        let mut key_id = 1u8;
        let mut field = None;
        let mut index = None;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (k, v) = line.split_once('=').ok_or("a line without '='")?;
            match k.trim() {
                "key_id" => key_id = v.trim().parse().map_err(|_| "key_id is not a number 0-255")?,
                "field" => field = Some(decode_key(v)?),
                "index" => index = Some(decode_key(v)?),
                other => return Err(format!("unknown entry {other}")),
            }
        }
        Ok(KeyRing { key_id, field_key: field.ok_or("no field key")?, index_key: index.ok_or("no index key")? })
    }

    /// Keys derived from a fixed seed, for tests only.
    pub fn for_tests() -> KeyRing {
        KeyRing { key_id: 1, field_key: [7u8; 32], index_key: [9u8; 32] }
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
        assert_eq!(a.field_key, b.field_key);
        assert_ne!(a.field_key, a.index_key);
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
}
