//! Password hashing with argon2id. Production uses OWASP's minimum (m = 19 MiB, t = 2, p = 1);
//! tests lower the cost through [`PasswordParams::fast_for_tests`] so hashing does not dominate a
//! 2-core run.

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::{SecurityError, random_bytes};

#[derive(Clone, Copy, Debug)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams { memory_kib: 19_456, iterations: 2 }
    }
}

impl PasswordParams {
    pub fn fast_for_tests() -> Self {
        PasswordParams { memory_kib: 64, iterations: 1 }
    }

    fn params(&self) -> Result<Params, SecurityError> {
        Params::new(self.memory_kib, self.iterations, 1, None).map_err(|e| SecurityError::Password(e.to_string()))
    }

    /// The PHC string (`$argon2id$v=19$m=…`) of `password` with a fresh salt. argon2's working memory comes
    /// from [`WORKING_MEMORY`], as for [`PasswordParams::verify`]: new hashes (a password change, a new
    /// account, an import's accounts) no longer allocate and free 19 MiB each.
    pub fn hash(&self, password: &str) -> Result<String, SecurityError> {
        let failed = |e: &dyn std::fmt::Display| SecurityError::Password(e.to_string());
        let mut salt_bytes = [0u8; 16];
        random_bytes(&mut salt_bytes)?;
        let params = self.params()?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let mut blocks = WORKING_MEMORY.take(params.block_count());
        let computed = argon2.hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, &mut blocks);
        WORKING_MEMORY.give_back(blocks);
        computed.map_err(|e| failed(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
            salt: Some(Salt::new(&salt_bytes).map_err(|e| failed(&e))?),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches `phc`. The parameters stored in `phc` are used, so hashes made
    /// with older parameters still verify. The computed hash is compared in constant time
    /// (`phc::Output`'s equality), as argon2's own verifier does.
    ///
    /// argon2's working memory (19 MiB at OWASP's parameters) is taken from [`WORKING_MEMORY`] and given
    /// back, rather than allocated and freed per sign-in: with glibc's adaptive mmap threshold, blocks of
    /// that size freed by one sign-in stay in the heap and the heap grew to about 1 GB in a minute of
    /// sign-ins (docs/PERFORMANCE.md "AT-35 load over HTTP"); kept here, the memory is the hashes running at
    /// once times 19 MiB, whatever the allocator does.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let Ok(version) = parsed.version.map(Version::try_from).transpose() else {
            return false;
        };
        let mut blocks = WORKING_MEMORY.take(params.block_count());
        let mut out = vec![0u8; expected.len()];
        let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
        let computed = argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks);
        WORKING_MEMORY.give_back(blocks);
        computed.is_ok() && argon2::password_hash::phc::Output::new(&out).is_ok_and(|o| &o == expected)
    }
}

/// argon2's working memory, reused between verifications (see [`PasswordParams::verify`]). At most
/// [`KEPT_WORKING_MEMORY`] buffers are kept — the platform runs one hash per core at a time — and a buffer
/// holds only argon2's internal state, never the password.
static WORKING_MEMORY: WorkingMemory = WorkingMemory(std::sync::Mutex::new(Vec::new()));

/// How many buffers [`WORKING_MEMORY`] keeps (more than the cores of a usual server; extra ones are freed).
const KEPT_WORKING_MEMORY: usize = 16;

struct WorkingMemory(std::sync::Mutex<Vec<Vec<Block>>>);

impl WorkingMemory {
    /// A buffer of `blocks` blocks (its contents are overwritten by argon2 before they are read).
    fn take(&self, blocks: usize) -> Vec<Block> {
        let kept = self.0.lock().ok().and_then(|mut pool| pool.pop());
        let mut buffer = kept.unwrap_or_default();
        buffer.resize(blocks, Block::default());
        buffer
    }

    fn give_back(&self, buffer: Vec<Block>) {
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < KEPT_WORKING_MEMORY
        {
            pool.push(buffer);
        }
    }
}

/// Whether `password` is on the list of passwords too common to allow (compared without case).
pub fn is_common(password: &str) -> bool {
    static LIST: &str = include_str!("common-passwords.txt");
    let p = password.to_lowercase();
    LIST.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| l.to_lowercase() == p)
}

/// Whether `password` is a password of the public breach corpora that zxcvbn ranks (30,000 of them, e.g.
/// `Password1`, `Qwerty123`, `Iloveyou`): as a whole, in any case, with l33t substitutions (`P@ssw0rd` is
/// `password`) or reversed, or such a password with one or two digits or symbols added at its end — the
/// first rules a password cracker tries (security.md AT-1; ASVS 5.0 §6.2.12). A password that merely
/// contains such a word among others is not refused here: its length and character classes judge it.
pub fn is_breached(password: &str) -> bool {
    if is_listed_whole(password) {
        return true;
    }
    let mut stem = password;
    for _ in 0..2 {
        match stem.char_indices().last() {
            Some((i, c)) if !c.is_alphabetic() => stem = &stem[..i],
            _ => break,
        }
        if stem.chars().count() >= 4 && is_listed_whole(stem) {
            return true;
        }
    }
    false
}

/// Whether zxcvbn's best reading of `text` is one word of its password list, covering all of it.
fn is_listed_whole(text: &str) -> bool {
    let entropy = zxcvbn::zxcvbn(text, &[]);
    let length = text.chars().count();
    let sequence = entropy.sequence();
    sequence.len() == 1
        && sequence.iter().all(|m| {
            // The dictionary's type sits in a private module of zxcvbn: it is named by its debug form.
            matches!(&m.pattern, zxcvbn::matching::patterns::MatchPattern::Dictionary(d)
                if format!("{:?}", d.dictionary_name) == "Passwords")
                && m.i == 0
                && m.j + 1 == length
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_known_whatever_the_case() {
        assert!(is_common("P@ssw0rd"));
        assert!(is_common("ADMIN@123"));
        assert!(is_common("Dangjian@123"));
        assert!(!is_common("Check-User-2026!x"));
    }

    #[test]
    fn breached_passwords_are_known_in_any_case_and_spelling() {
        // In the list as written, capitalised, with l33t substitutions, reversed.
        assert!(is_breached("password1"));
        assert!(is_breached("Password1"));
        assert!(is_breached("P@ssw0rd1"));
        assert!(is_breached("Password1!"), "a symbol added at the end");
        assert!(is_breached("Bond007!"));
        assert!(is_breached("1drowssap"));
        assert!(is_breached("Qwerty123"));
        assert!(is_breached("Iloveyou1"));
        // A passphrase that only contains a listed word, and a random one, are not.
        assert!(!is_breached("Password1-for-the-branch"));
        assert!(!is_breached("Check-User-2026!x"));
        assert!(!is_breached("Demo-Pass-2026!"));
    }

    /// The verifier with reused working memory agrees with argon2's own, across parameters (a buffer sized
    /// for one set is resized for the next) and for a tampered hash.
    #[test]
    fn verification_with_reused_memory_agrees_with_argon2s_own() {
        use argon2::PasswordVerifier;
        let owasp = PasswordParams::default();
        let fast = PasswordParams::fast_for_tests();
        let odd = PasswordParams { memory_kib: 1_000, iterations: 3 };
        let hashes: Vec<String> =
            [&owasp, &fast, &odd, &owasp].iter().map(|p| p.hash("Secret-2026!").unwrap()).collect();
        for h in &hashes {
            for (password, expected) in [("Secret-2026!", true), ("Secret-2026?", false), ("", false)] {
                let theirs =
                    Argon2::default().verify_password(password.as_bytes(), &PasswordHash::new(h).unwrap()).is_ok();
                assert_eq!(theirs, expected);
                assert_eq!(fast.verify(password, h), expected, "{h}");
            }
        }
        // One character of the stored hash changed: refused.
        let h = &hashes[1];
        let tampered = format!("{}{}", &h[..h.len() - 1], if h.ends_with('A') { 'B' } else { 'A' });
        assert!(!fast.verify("Secret-2026!", &tampered));
        // A hash of another algorithm's name is refused, not panicked on.
        assert!(!fast.verify("Secret-2026!", &h.replacen("argon2id", "argon2x", 1)));
    }

    /// A hash made with the reused working memory is the PHC string argon2's own hasher makes, byte for byte.
    #[test]
    fn hashing_with_reused_memory_makes_argon2s_own_phc_string() {
        use argon2::PasswordHasher;
        for p in [
            PasswordParams::default(),
            PasswordParams::fast_for_tests(),
            PasswordParams { memory_kib: 1_000, iterations: 3 },
        ] {
            let ours = p.hash("Secret-2026!").unwrap();
            let parsed = PasswordHash::new(&ours).unwrap();
            let salt = parsed.salt.unwrap();
            let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.params().unwrap())
                .hash_password_with_salt(b"Secret-2026!", salt.as_ref())
                .unwrap();
            assert_eq!(ours, theirs.to_string());
        }
    }

    #[test]
    fn hash_and_verify() {
        let p = PasswordParams::fast_for_tests();
        let h = p.hash("Secret-2026!").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(p.verify("Secret-2026!", &h));
        assert!(!p.verify("secret-2026!", &h));
        assert!(!p.verify("x", "not a hash"));
    }
}
