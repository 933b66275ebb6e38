//! The key file under a hardware security module (security.md AT-38: "decryption works only through the
//! service with KMS access"). A plain key file is the custody itself: whoever copies it with a database dump
//! reads every ID number. Sealed, the file holds the keys encrypted (AES-256-GCM) under a key-encryption key
//! that never leaves the HSM (sensitive, not extractable); opening it needs the HSM, its module, its token and
//! the user PIN, which the service is given apart from the file (`DANGJIAN_PKCS11_PIN`, or
//! `DANGJIAN_PKCS11_PIN_FILE` such as a systemd credential). A stolen disk, backup or key file reads nothing.
//!
//! The HSM is driven through PKCS #11, which the HSMs (密码机) campuses buy and SoftHSM 2 (the tests) speak.
//! `dangjian keys seal` seals a plain file (creating the key-encryption key in the token if asked) and
//! `dangjian keys unseal` turns it back; rotation keeps a sealed file sealed. The sealed file:
//!
//! ```text
//! dangjian-key-file=pkcs11-v1
//! module=/usr/lib/softhsm/libsofthsm2.so
//! token=dangjian
//! key=dangjian-kek
//! sealed=<hex: 12-byte nonce ‖ ciphertext ‖ 16-byte tag>
//! ```
//!
//! The token and key labels are the associated data, so a file cannot be moved under another key unnoticed.
//! The HSM is used at start and when a rotation's new version appears, never per request.

use std::path::PathBuf;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
pub use cryptoki::types::AuthPin;

use crate::random_bytes;

/// The first line of a sealed key file.
pub const SEALED_HEADER: &str = "dangjian-key-file=pkcs11-v1";
/// The token user's PIN, given to the service apart from the file.
pub const PIN_ENV: &str = "DANGJIAN_PKCS11_PIN";
/// A file holding that PIN (a systemd credential, a secret mounted by the orchestrator).
pub const PIN_FILE_ENV: &str = "DANGJIAN_PKCS11_PIN_FILE";

const NONCE_LEN: usize = 12;
const TAG_BITS: u64 = 128;

/// One PKCS #11 library per process: the module is initialised, used and finalised under this lock, so a
/// reload on one thread never meets another's half-finished session.
static HSM: Mutex<()> = Mutex::new(());

/// Where the key-encryption key is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs11Custody {
    /// The HSM vendor's PKCS #11 module (a shared library).
    pub module: PathBuf,
    /// The label of the token (slot) holding the key.
    pub token: String,
    /// The label of the AES-256 key that seals the key file.
    pub key_label: String,
}

/// Whether a key file's text is sealed.
pub fn is_sealed(text: &str) -> bool {
    text.lines().next().map(str::trim) == Some(SEALED_HEADER)
}

/// The token PIN from the environment ([`PIN_ENV`], else the file named by [`PIN_FILE_ENV`]).
pub fn pin_from_env() -> Result<AuthPin, String> {
    if let Ok(pin) = std::env::var(PIN_ENV)
        && !pin.is_empty()
    {
        return Ok(AuthPin::from(pin));
    }
    match std::env::var(PIN_FILE_ENV) {
        Ok(path) if !path.is_empty() => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{PIN_FILE_ENV}={path}: {e}"))?;
            Ok(AuthPin::from(text.trim_end_matches(['\r', '\n']).to_string()))
        }
        _ => Err(format!(
            "the key file is sealed by a hardware security module: give the token's PIN in {PIN_ENV} or {PIN_FILE_ENV}"
        )),
    }
}

impl Pkcs11Custody {
    /// Reads a sealed file: where its key is, and the sealed bytes.
    pub fn parse(text: &str) -> Result<(Pkcs11Custody, Vec<u8>), String> {
        if !is_sealed(text) {
            return Err("not a sealed key file".into());
        }
        let (mut module, mut token, mut key, mut sealed) = (None, None, None, None);
        for line in text.lines().skip(1).map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (k, v) = line.split_once('=').ok_or("a line without '='")?;
            let v = v.trim().to_string();
            match k.trim() {
                "module" => module = Some(PathBuf::from(v)),
                "token" => token = Some(v),
                "key" => key = Some(v),
                "sealed" => sealed = Some(hex::decode(&v).map_err(|_| "the sealed keys are not hexadecimal")?),
                other => return Err(format!("unknown entry {other} in a sealed key file")),
            }
        }
        let sealed = sealed.ok_or("no sealed keys")?;
        if sealed.len() <= NONCE_LEN + 16 {
            return Err("the sealed keys are too short".into());
        }
        let custody = Pkcs11Custody {
            module: module.ok_or("no module= line")?,
            token: token.ok_or("no token= line")?,
            key_label: key.ok_or("no key= line")?,
        };
        Ok((custody, sealed))
    }

    /// The file's text for `sealed` bytes.
    pub fn file_text(&self, sealed: &[u8]) -> String {
        format!(
            "{SEALED_HEADER}\n\
             # dangjian field-encryption keys, sealed by the key {key} of the HSM token {token}: this file alone\n\
             # reads nothing. Back it up apart from the database, and keep the HSM's own backup of the key\n\
             # (docs/OPERATIONS.md, key custody).\n\
             module={module}\ntoken={token}\nkey={key}\nsealed={sealed}\n",
            module = self.module.display(),
            token = self.token,
            key = self.key_label,
            sealed = hex::encode(sealed),
        )
    }

    /// The associated data: the sealed keys belong to this token's key.
    fn aad(&self) -> Vec<u8> {
        format!("{SEALED_HEADER}\ntoken={}\nkey={}", self.token, self.key_label).into_bytes()
    }

    /// Encrypts `plain` under the token's key; with `create_key`, first makes the key (AES-256, sensitive,
    /// never extractable) when the token has none of that label.
    pub fn seal(&self, pin: &AuthPin, plain: &[u8], create_key: bool) -> Result<Vec<u8>, String> {
        self.with_key(pin, create_key, |session, key| {
            let mut nonce = [0u8; NONCE_LEN];
            random_bytes(&mut nonce).map_err(|e| e.to_string())?;
            let aad = self.aad();
            let sealed = {
                let params = GcmParams::new(&mut nonce, &aad, TAG_BITS.into()).map_err(|e| e.to_string())?;
                session
                    .encrypt(&Mechanism::AesGcm(params), key, plain)
                    .map_err(|e| format!("the HSM refused to seal: {e}"))?
            };
            let mut out = nonce.to_vec();
            out.extend(sealed);
            Ok(out)
        })
    }

    /// Decrypts what [`Pkcs11Custody::seal`] made; a changed file, another key or another label fails.
    pub fn open(&self, pin: &AuthPin, sealed: &[u8]) -> Result<Vec<u8>, String> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or("the sealed keys are too short")?;
        self.with_key(pin, false, |session, key| {
            let mut nonce = nonce.to_vec();
            let aad = self.aad();
            let params = GcmParams::new(&mut nonce, &aad, TAG_BITS.into()).map_err(|e| e.to_string())?;
            session.decrypt(&Mechanism::AesGcm(params), key, body).map_err(|e| {
                format!("the HSM could not open the sealed keys (another key, or the file was changed): {e}")
            })
        })
    }

    /// Runs `f` with a session logged in as the token's user and the key's handle; the library is finalised
    /// afterwards whatever happened.
    fn with_key<T>(
        &self,
        pin: &AuthPin,
        create_key: bool,
        f: impl FnOnce(&Session, ObjectHandle) -> Result<T, String>,
    ) -> Result<T, String> {
        let _one_at_a_time = HSM.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pkcs11 = Pkcs11::new(&self.module)
            .map_err(|e| format!("cannot load the PKCS #11 module {}: {e}", self.module.display()))?;
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| format!("the PKCS #11 module {} does not start: {e}", self.module.display()))?;
        let out = self.in_session(&pkcs11, pin, create_key, f);
        if let Err(e) = pkcs11.finalize() {
            tracing::warn!(error = %e, "PKCS #11 finalize");
        }
        out
    }

    fn in_session<T>(
        &self,
        pkcs11: &Pkcs11,
        pin: &AuthPin,
        create_key: bool,
        f: impl FnOnce(&Session, ObjectHandle) -> Result<T, String>,
    ) -> Result<T, String> {
        let slots = pkcs11.get_slots_with_token().map_err(|e| e.to_string())?;
        let slot = slots
            .into_iter()
            .find(|s| pkcs11.get_token_info(*s).is_ok_and(|i| i.label().trim_end() == self.token))
            .ok_or_else(|| format!("no HSM token labelled {}", self.token))?;
        let session = if create_key { pkcs11.open_rw_session(slot) } else { pkcs11.open_ro_session(slot) }
            .map_err(|e| e.to_string())?;
        session
            .login(UserType::User, Some(pin))
            .map_err(|e| format!("cannot log in to the HSM token {} (check the PIN): {e}", self.token))?;
        let label = Attribute::Label(self.key_label.as_bytes().to_vec());
        let template = [Attribute::Class(ObjectClass::SECRET_KEY), Attribute::KeyType(KeyType::AES), label.clone()];
        let found = session.find_objects(&template).map_err(|e| e.to_string())?;
        let key = match found.as_slice() {
            [key] => *key,
            [] if create_key => {
                let template = [
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::ValueLen(32u64.into()),
                    label,
                ];
                let key = session
                    .generate_key(&Mechanism::AesKeyGen, &template)
                    .map_err(|e| format!("the HSM could not make the key {}: {e}", self.key_label))?;
                tracing::warn!(token = %self.token, key = %self.key_label, "made the key-encryption key in the HSM; back it up with the HSM's own tools");
                key
            }
            [] => return Err(format!("the HSM token {} has no AES key labelled {}", self.token, self.key_label)),
            _ => return Err(format!("the HSM token {} has several keys labelled {}", self.token, self.key_label)),
        };
        f(&session, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_reads_back_and_refuses_what_is_not_one() {
        let custody = Pkcs11Custody {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            token: "dangjian".into(),
            key_label: "dangjian-kek".into(),
        };
        let sealed: Vec<u8> = (0u8..60).collect();
        let text = custody.file_text(&sealed);
        assert!(is_sealed(&text));
        assert_eq!(Pkcs11Custody::parse(&text), Ok((custody.clone(), sealed)));
        assert!(!is_sealed("key_id=1\nfield.1=00\n"));
        let short = custody.file_text(&[1, 2, 3]);
        assert!(Pkcs11Custody::parse(&short).is_err());
        let no_key = text.replace("key=dangjian-kek\n", "");
        assert!(Pkcs11Custody::parse(&no_key).is_err());
        assert_ne!(custody.aad(), Pkcs11Custody { key_label: "other".into(), ..custody.clone() }.aad());
    }
}
