//! What a backup is made of: the manifest, the tables and their columns, and the portable value of one
//! cell. A value is written the same way whichever database it came from (integers as JSON numbers,
//! bytes in base64, dates as `YYYY-MM-DD`, timestamps in UTC to the microsecond), so a row read back from
//! SQLite or from PostgreSQL gives the same bytes, and one checksum serves both.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Written in the first line; a reader refuses any other.
pub const FORMAT: &str = "dangjian-backup";
/// Raised whenever a reader of the previous version could misread a file of the new one.
pub const FORMAT_VERSION: u32 = 1;

/// Tables deliberately left out of every backup: live authentication state. `sessions` holds sign-ins
/// and `login_challenges` passwords waiting for their second factor (token hashes, minutes to hours of
/// life). A backup is kept for months and must not carry usable authentication data (security.md a.9,
/// AT-39), and a restored platform starts with everyone signed out, which is what an operator wants after
/// a disaster. Authenticators (`mfa_totp`, `mfa_recovery_codes`) are kept: they are enrolments, not
/// sign-ins, and administrators need them to sign in to the restored platform.
///
/// Also left out: the operations state of the instances that ran on the database — the job queue, its
/// schedules and the maintenance switch (migration 0007). A restored platform starts with an empty queue
/// (the schedules are written again from the settings at start) and out of maintenance, whatever the
/// moment the backup was taken.
///
/// And derived data: `development_due`, the development pipeline's maintained to-do list (migration 0011).
/// Restoring people fires the triggers that mark every person in the pipeline for recomputation, so the
/// list rebuilds itself from the restored steps.
///
/// And the audit watch's progress (`audit_watch`, migration 0017): a restored platform verifies its chain
/// from the start again.
pub const EXCLUDED: &[&str] = &[
    "sessions",
    "login_challenges",
    "jobs",
    "job_schedules",
    "maintenance",
    "development_due",
    "audit_watch",
    "import_jobs",
];

/// sqlx's bookkeeping of applied migrations. Not copied as rows: the manifest names the schema version and
/// a restore applies the same migrations to the empty database.
pub const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// The audit chain's table; its rows are checked as a chain wherever a backup is read.
pub const AUDIT_TABLE: &str = "audit_log";

/// The column name and the plaintext of the key check (see [`KeyCheck`]).
pub const KEY_CHECK_COLUMN: &str = "backup.key_check";
pub const KEY_CHECK_TEXT: &str = "dangjian backup key check";

/// How a column's values are written. Each database's declared type maps to one kind; a type without a
/// kind stops the backup with its name, so a new migration cannot be silently left out.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Int,
    Real,
    Bool,
    Text,
    Bytes,
    Date,
    Timestamp,
}

impl Kind {
    /// From an SQLite declared type (`BIGINT`, `TIMESTAMP`, …), after SQLite's own affinity rules where
    /// they apply.
    pub fn from_sqlite(declared: &str) -> Option<Kind> {
        let t = declared.to_ascii_uppercase();
        Some(if t.contains("INT") {
            Kind::Int
        } else if t.contains("BOOL") {
            Kind::Bool
        } else if t.contains("TIMESTAMP") || t.contains("DATETIME") {
            Kind::Timestamp
        } else if t == "DATE" {
            Kind::Date
        } else if t.contains("CHAR") || t.contains("TEXT") || t.contains("CLOB") {
            Kind::Text
        } else if t.contains("BLOB") || t.contains("BYTEA") {
            Kind::Bytes
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            Kind::Real
        } else {
            return None;
        })
    }

    /// From PostgreSQL's `information_schema.columns.data_type`.
    pub fn from_postgres(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "double precision" | "real" => Kind::Real,
            "boolean" => Kind::Bool,
            "text" | "character varying" | "character" => Kind::Text,
            "bytea" => Kind::Bytes,
            "date" => Kind::Date,
            // Only with time zone: a bare `timestamp` would depend on the session's zone when written.
            "timestamp with time zone" => Kind::Timestamp,
            _ => return None,
        })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A foreign key column of a table (one row per column of the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    pub constraint: String,
    pub column: String,
    pub ref_table: String,
    pub ref_column: String,
}

/// A table as the database's catalogue describes it.
#[derive(Clone, Debug)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Columns filled from a sequence (PostgreSQL `BIGSERIAL`), moved past the restored rows.
    pub serial: Vec<String>,
}

impl TableInfo {
    /// The columns rows are ordered by: the primary key, or every column for a table without one.
    pub fn order_by(&self) -> Vec<&Column> {
        if self.primary_key.is_empty() {
            return self.columns.iter().collect();
        }
        self.primary_key.iter().filter_map(|k| self.columns.iter().find(|c| &c.name == k)).collect()
    }
}

/// Orders tables so that every table comes after the tables its foreign keys point to (a table pointing
/// to itself is fine: the restore mends forward references). Ties go by name, so the order is stable.
pub fn foreign_key_order(tables: &[TableInfo]) -> Result<Vec<usize>, String> {
    let mut placed: Vec<usize> = Vec::with_capacity(tables.len());
    let mut done = vec![false; tables.len()];
    let mut by_name: Vec<usize> = (0..tables.len()).collect();
    by_name.sort_by(|a, b| tables.get(*a).map(|t| &t.name).cmp(&tables.get(*b).map(|t| &t.name)));
    while placed.len() < tables.len() {
        let next = by_name.iter().copied().find(|&i| {
            !done.get(i).copied().unwrap_or(true)
                && tables.get(i).is_some_and(|t| {
                    t.foreign_keys.iter().all(|fk| {
                        fk.ref_table == t.name
                            || tables
                                .iter()
                                .position(|o| o.name == fk.ref_table)
                                .is_some_and(|j| done.get(j).copied().unwrap_or(false))
                    })
                })
        });
        let Some(i) = next else {
            let rest: Vec<&str> = by_name
                .iter()
                .filter(|&&i| !done.get(i).copied().unwrap_or(true))
                .filter_map(|&i| tables.get(i).map(|t| t.name.as_str()))
                .collect();
            return Err(format!(
                "the foreign keys of {} form a cycle or point to a table that is not backed up",
                rest.join(", ")
            ));
        };
        if let Some(d) = done.get_mut(i) {
            *d = true;
        }
        placed.push(i);
    }
    Ok(placed)
}

/// Proof that the key file at restore is the one the backup was taken with, without revealing it: a
/// ciphertext of a fixed text under the field key (AES-256-GCM withstands known plaintext) and the blind
/// index of that text under the index key (an HMAC, which reveals nothing of its key).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct KeyCheck {
    pub key_id: u8,
    pub field_check: String,
    pub index_check: String,
}

/// The first line of a backup: what a restore must know before reading any row.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    pub dangjian_version: String,
    /// `sqlite` or `postgres`: where the rows came from (either restores into either).
    pub backend: String,
    /// The latest migration applied to the source; a restore applies migrations up to it.
    pub schema_version: i64,
    /// RFC 3339, UTC: the moment of the snapshot.
    pub created_at: String,
    pub keys: KeyCheck,
    /// Tables left out on purpose ([`EXCLUDED`]).
    pub excluded: Vec<String>,
    /// The audit chain's hash, `sm3` under the 国密 profile; absent: SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_hash: Option<String>,
}

impl Header {
    /// The hash of the audit chain in this backup.
    pub fn chain_hash(&self) -> security::profile::HashAlg {
        self.chain_hash.as_deref().and_then(security::profile::HashAlg::parse).unwrap_or_default()
    }
}

/// The line that opens a table's rows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TableStart {
    pub table: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
}

/// The line that closes a table's rows.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TableEnd {
    pub end: String,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TableSummary {
    pub name: String,
    pub rows: u64,
    /// SHA-256 of the table's row lines, each with its newline, in primary-key order.
    pub sha256: String,
}

/// The audit chain as the snapshot held it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AuditHead {
    pub entries: u64,
    /// Hash of the last entry, hex (64 zeros for an empty chain).
    pub head: String,
    pub intact: bool,
    /// When not intact: the first broken entry and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
}

/// The last line: everything needed to check the file and the restored database.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    #[serde(flatten)]
    pub header: Header,
    pub tables: Vec<TableSummary>,
    pub audit: AuditHead,
    /// SHA-256 of every uncompressed byte before the manifest line.
    pub stream_sha256: String,
}

impl Manifest {
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// The trailer line wraps the manifest so that it cannot be taken for a table line.
#[derive(Serialize, Deserialize)]
pub struct Trailer {
    pub manifest: Manifest,
}

/// One cell, as the backup carries it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    Date(Date),
    Timestamp(OffsetDateTime),
}

const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// A timestamp in UTC to the microsecond, the precision PostgreSQL keeps, so that a value moved from
/// SQLite (which stores what it is given) reads back equal from either database.
pub fn canonical_time(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// Formats an instant as the backup does (also used for `created_at`).
pub fn format_time(t: OffsetDateTime) -> String {
    canonical_time(t).format(TIMESTAMP).unwrap_or_default()
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Appends one row as a JSON array and a newline. Fails only on a non-finite float, which JSON cannot
/// carry.
pub fn write_row(out: &mut Vec<u8>, values: &[Value]) -> Result<(), String> {
    use base64::Engine;
    out.push(b'[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match v {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Real(f) => {
                let n = serde_json::Number::from_f64(*f).ok_or_else(|| format!("{f} cannot be written in JSON"))?;
                out.extend_from_slice(n.to_string().as_bytes());
            }
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Text(s) => json_string(out, s),
            Value::Bytes(b) => json_string(out, &b64().encode(b)),
            Value::Date(d) => json_string(out, &d.format(DATE).map_err(|e| e.to_string())?),
            Value::Timestamp(t) => json_string(out, &canonical_time(*t).format(TIMESTAMP).map_err(|e| e.to_string())?),
        }
    }
    out.extend_from_slice(b"]\n");
    Ok(())
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    // serde_json escapes exactly what JSON requires and nothing else, the same way every time.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// Reads a row line back into values of the columns' kinds.
pub fn parse_row(line: &str, columns: &[Column]) -> Result<Vec<Value>, String> {
    use base64::Engine;
    let cells: Vec<serde_json::Value> = serde_json::from_str(line).map_err(|e| format!("not a row: {e}"))?;
    if cells.len() != columns.len() {
        return Err(format!("{} values for {} columns", cells.len(), columns.len()));
    }
    cells
        .into_iter()
        .zip(columns)
        .map(|(cell, col)| {
            let bad = || format!("column {}: not a {:?} value", col.name, col.kind);
            Ok(match (col.kind, cell) {
                (_, serde_json::Value::Null) => Value::Null,
                (Kind::Int, serde_json::Value::Number(n)) => Value::Int(n.as_i64().ok_or_else(bad)?),
                (Kind::Real, serde_json::Value::Number(n)) => Value::Real(n.as_f64().ok_or_else(bad)?),
                (Kind::Bool, serde_json::Value::Bool(b)) => Value::Bool(b),
                (Kind::Text, serde_json::Value::String(s)) => Value::Text(s),
                (Kind::Bytes, serde_json::Value::String(s)) => Value::Bytes(b64().decode(s).map_err(|_| bad())?),
                (Kind::Date, serde_json::Value::String(s)) => Value::Date(Date::parse(&s, DATE).map_err(|_| bad())?),
                (Kind::Timestamp, serde_json::Value::String(s)) => {
                    Value::Timestamp(PrimitiveDateTime::parse(&s, TIMESTAMP).map_err(|_| bad())?.assume_utc())
                }
                _ => return Err(bad()),
            })
        })
        .collect()
}

/// An audit entry from a row of `audit_log`, by column name; `None` when a field is missing or of
/// another kind.
pub fn audit_entry(columns: &[Column], values: &[Value]) -> Option<security::audit::Entry> {
    let get = |name: &str| columns.iter().position(|c| c.name == name).and_then(|i| values.get(i));
    let int = |name: &str| match get(name) {
        Some(Value::Int(n)) => Some(Some(*n)),
        Some(Value::Null) => Some(None),
        _ => None,
    };
    let text = |name: &str| match get(name) {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    };
    let bytes = |name: &str| match get(name) {
        Some(Value::Bytes(b)) => Some(b.clone()),
        _ => None,
    };
    Some(security::audit::Entry {
        seq: int("seq")??,
        at: match get("at") {
            Some(Value::Timestamp(t)) => *t,
            _ => return None,
        },
        actor_id: int("actor_id")?,
        actor: text("actor")?,
        action: text("action")?,
        target: text("target")?,
        result: text("result")?,
        request_id: text("request_id")?,
        ip: text("ip")?,
        detail: text("detail")?,
        prev_hash: bytes("prev_hash")?,
        hash: bytes("hash")?,
        // Absent in backups of databases from before migration 0017.
        roles: text("roles").unwrap_or_default(),
        org_scope: text("org_scope").unwrap_or_default(),
    })
}

/// Counts and hashes a table's row lines and, for the audit table, checks the chain as it goes. The
/// same digest is computed when writing a backup, when reading one, and when reading the restored
/// database back, so all three can be compared.
pub struct TableDigest {
    pub rows: u64,
    sha: Sha256,
    chain: Option<security::audit::ChainChecker>,
}

impl TableDigest {
    pub fn new(table: &str, chain: security::profile::HashAlg) -> TableDigest {
        TableDigest {
            rows: 0,
            sha: Sha256::new(),
            chain: (table == AUDIT_TABLE).then(|| security::audit::ChainChecker::anchored().hashing(chain)),
        }
    }

    /// Adds one row: `line` is its encoded form (with the newline), `values` its cells.
    pub fn add(&mut self, line: &[u8], columns: &[Column], values: &[Value]) -> Result<(), String> {
        self.rows += 1;
        self.sha.update(line);
        if let Some(chain) = &mut self.chain {
            let entry = audit_entry(columns, values).ok_or("an audit_log row lacks a field of the audit chain")?;
            chain.feed(&entry);
        }
        Ok(())
    }

    pub fn finish(self, name: &str) -> (TableSummary, Option<AuditHead>) {
        let summary = TableSummary { name: name.to_owned(), rows: self.rows, sha256: hex::encode(self.sha.finalize()) };
        let audit = self.chain.map(|c| match c.finish() {
            security::audit::Verdict::Intact { entries, head_hash } => {
                AuditHead { entries, head: head_hash, intact: true, broken: None }
            }
            security::audit::Verdict::Broken { seq, reason } => AuditHead {
                entries: summary.rows,
                head: String::new(),
                intact: false,
                broken: Some(format!("entry {seq}: {reason}")),
            },
        });
        (summary, audit)
    }
}

/// The audit head of a database without an audit table (or with no entries).
pub fn empty_audit() -> AuditHead {
    AuditHead { entries: 0, head: hex::encode([0u8; 32]), intact: true, broken: None }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cols(kinds: &[Kind]) -> Vec<Column> {
        kinds.iter().enumerate().map(|(i, k)| Column { name: format!("c{i}"), kind: *k }).collect()
    }

    #[test]
    fn a_row_survives_the_round_trip_in_canonical_form() {
        let columns = cols(&[
            Kind::Int,
            Kind::Real,
            Kind::Bool,
            Kind::Text,
            Kind::Bytes,
            Kind::Date,
            Kind::Timestamp,
            Kind::Text,
        ]);
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789).unwrap();
        let values = vec![
            Value::Int(-42),
            Value::Real(0.1),
            Value::Bool(true),
            Value::Text("党支部 \"一\"\n\\".into()),
            Value::Bytes(vec![0, 1, 255]),
            Value::Date(Date::from_calendar_date(2026, time::Month::March, 1).unwrap()),
            Value::Timestamp(t.to_offset(UtcOffset::from_hms(8, 0, 0).unwrap())),
            Value::Null,
        ];
        let mut line = Vec::new();
        write_row(&mut line, &values).unwrap();
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(text.contains("\"2026-01-01T00:00:00.123456Z\""), "{text}");
        let back = parse_row(text.trim_end(), &columns).unwrap();
        let mut again = Vec::new();
        write_row(&mut again, &back).unwrap();
        assert_eq!(line, again, "reading and writing again gives the same bytes");
        assert_eq!(back.get(6), Some(&Value::Timestamp(canonical_time(t))));
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused() {
        assert!(parse_row("[\"1\"]", &cols(&[Kind::Int])).is_err());
        assert!(parse_row("[1, 2]", &cols(&[Kind::Int])).is_err());
        assert!(parse_row("[\"not base64!\"]", &cols(&[Kind::Bytes])).is_err());
        assert!(write_row(&mut Vec::new(), &[Value::Real(f64::NAN)]).is_err());
    }

    #[test]
    fn declared_types_map_to_the_same_kind_on_both_databases() {
        for (sqlite, pg, kind) in [
            ("INTEGER", "bigint", Kind::Int),
            ("BIGINT", "integer", Kind::Int),
            ("TEXT", "text", Kind::Text),
            ("BLOB", "bytea", Kind::Bytes),
            ("BOOLEAN", "boolean", Kind::Bool),
            ("DATE", "date", Kind::Date),
            ("TIMESTAMP", "timestamp with time zone", Kind::Timestamp),
        ] {
            assert_eq!(Kind::from_sqlite(sqlite), Some(kind));
            assert_eq!(Kind::from_postgres(pg), Some(kind));
        }
        assert_eq!(Kind::from_sqlite("NUMERIC"), None);
        assert_eq!(Kind::from_postgres("jsonb"), None);
        assert_eq!(Kind::from_postgres("timestamp without time zone"), None);
    }

    fn table(name: &str, refs: &[&str]) -> TableInfo {
        TableInfo {
            name: name.into(),
            columns: vec![],
            primary_key: vec![],
            foreign_keys: refs
                .iter()
                .map(|r| ForeignKey {
                    constraint: format!("{name}_{r}"),
                    column: "x".into(),
                    ref_table: (*r).into(),
                    ref_column: "id".into(),
                })
                .collect(),
            serial: vec![],
        }
    }

    #[test]
    fn tables_come_after_what_they_reference() {
        let tables = vec![
            table("grants", &["users", "orgs"]),
            table("users", &["people"]),
            table("people", &["orgs"]),
            table("orgs", &["orgs"]),
            table("audit_log", &[]),
        ];
        let order: Vec<&str> =
            foreign_key_order(&tables).unwrap().into_iter().map(|i| tables[i].name.as_str()).collect();
        assert_eq!(order, ["audit_log", "orgs", "people", "users", "grants"]);
        assert!(foreign_key_order(&[table("a", &["b"]), table("b", &["a"])]).is_err());
        assert!(foreign_key_order(&[table("a", &["sessions"])]).is_err());
    }
}
