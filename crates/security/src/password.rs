//! Password hashing with argon2id. Production uses OWASP's minimum (m = 19 MiB, t = 2, p = 1);
//! tests lower the cost through [`PasswordParams::fast_for_tests`] so hashing does not dominate a
//! 2-core run.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

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

    fn argon2(&self) -> Result<Argon2<'static>, SecurityError> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .map_err(|e| SecurityError::Password(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// The PHC string (`$argon2id$v=19$m=…`) of `password` with a fresh salt.
    pub fn hash(&self, password: &str) -> Result<String, SecurityError> {
        let mut salt = [0u8; 16];
        random_bytes(&mut salt)?;
        let hash = self
            .argon2()?
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|e| SecurityError::Password(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// Whether `password` matches `phc`. The parameters stored in `phc` are used, so hashes made
    /// with older parameters still verify.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    }
}

/// Whether `password` is on the list of passwords too common to allow (compared without case).
pub fn is_common(password: &str) -> bool {
    static LIST: &str = include_str!("common-passwords.txt");
    let p = password.to_lowercase();
    LIST.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).any(|l| l.to_lowercase() == p)
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
    fn hash_and_verify() {
        let p = PasswordParams::fast_for_tests();
        let h = p.hash("Secret-2026!").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(p.verify("Secret-2026!", &h));
        assert!(!p.verify("secret-2026!", &h));
        assert!(!p.verify("x", "not a hash"));
    }
}
