//! Session and API tokens: 256 random bits shown once to the client; only their SHA-256 is stored, so a
//! copy of the sessions table cannot be replayed.

use sha2::{Digest, Sha256};

use crate::{SecurityError, random_bytes};

pub fn new_token() -> Result<String, SecurityError> {
    let mut raw = [0u8; 32];
    random_bytes(&mut raw)?;
    Ok(hex::encode(raw))
}

pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}
