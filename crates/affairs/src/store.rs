//! The only SQL of 党务管理, one file per part: [`transfer`] (transfers, letters, status changes, contacts,
//! graduates' retention), [`development`] (the development pipeline's steps, the people responsible, the
//! to-do list, the rule-version setting: migration 0011), [`fee`] (fee profiles, reductions and the append-only
//! payments ledger: migration 0019).

pub mod development;
pub mod fee;
pub mod transfer;

/// `ids` as the JSON array SQLite's `json_each` reads (PostgreSQL binds the array itself).
fn json_ids(ids: &[i64]) -> String {
    let parts: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("[{}]", parts.join(","))
}
