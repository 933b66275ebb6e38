//! Data key rotation (security.md AT-38): `dangjian keys rotate` adds a field key version to the key file,
//! re-encrypts every encrypted column to it in batches — each batch its own short transaction, so the
//! platform keeps serving; readers decrypt either version meanwhile (each ciphertext names its version) —
//! and, once no value of an older version remains, marks the older versions retired. An interrupted
//! rotation is resumed by running the command again (the version being rotated to is recorded in
//! `data_keys`; values already re-encrypted are skipped). Start and end are audited. The blind index key
//! does not rotate (the index is a keyed hash, not a ciphertext).
//!
//! A batch replaces a value only if it is still the one read (compare-and-set), so an edit made while the
//! rotation runs is never overwritten; a value another instance wrote with the old version after the batch
//! passed (it reads the key file within seconds) is caught by the passes that follow.

use std::path::Path;

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

use crate::audit::{self, Event};
use crate::cipher::version_of;
use crate::profile::Profile;
use crate::{FieldCipher, KeyRing, SecurityError};

/// One encrypted column: where it is, the associated data its values are bound to, and its two statements
/// (keyset paging by the table's key; replace only if unchanged).
#[derive(Debug)]
pub struct EncryptedColumn {
    /// `table.column` as the schema names it.
    pub name: &'static str,
    /// The associated data of its ciphertexts (the platform's column name).
    pub aad: &'static str,
    select: &'static str,
    update: &'static str,
}

/// Every column that holds field ciphertexts. A BLOB column that is not here must be listed in
/// [`NOT_ENCRYPTED`] with its reason (a test compares both lists with the schema).
pub const ENCRYPTED: &[EncryptedColumn] = &[
    EncryptedColumn {
        name: "people.id_number_enc",
        aad: "people.id_number",
        select: "SELECT id, id_number_enc FROM people WHERE id > $1 ORDER BY id LIMIT $2",
        update: "UPDATE people SET id_number_enc = $1 WHERE id = $2 AND id_number_enc = $3",
    },
    EncryptedColumn {
        name: "people.phone_enc",
        aad: "people.phone",
        select: "SELECT id, phone_enc FROM people WHERE id > $1 AND phone_enc IS NOT NULL ORDER BY id LIMIT $2",
        update: "UPDATE people SET phone_enc = $1 WHERE id = $2 AND phone_enc = $3",
    },
    EncryptedColumn {
        name: "people.address_enc",
        aad: "people.address",
        select: "SELECT id, address_enc FROM people WHERE id > $1 AND address_enc IS NOT NULL ORDER BY id LIMIT $2",
        update: "UPDATE people SET address_enc = $1 WHERE id = $2 AND address_enc = $3",
    },
    EncryptedColumn {
        name: "privacy_requests.proposed_enc",
        aad: "privacy_requests.proposed",
        select: "SELECT id, proposed_enc FROM privacy_requests WHERE id > $1 AND proposed_enc IS NOT NULL ORDER BY id LIMIT $2",
        update: "UPDATE privacy_requests SET proposed_enc = $1 WHERE id = $2 AND proposed_enc = $3",
    },
    EncryptedColumn {
        // A deceased member's close relative who asked (PIPL 第四十九条): the name and the telephone.
        name: "privacy_requests.requester_name_enc",
        aad: "privacy_requests.requester_name",
        select: "SELECT id, requester_name_enc FROM privacy_requests WHERE id > $1 AND requester_name_enc IS NOT NULL ORDER BY id LIMIT $2",
        update: "UPDATE privacy_requests SET requester_name_enc = $1 WHERE id = $2 AND requester_name_enc = $3",
    },
    EncryptedColumn {
        name: "privacy_requests.requester_phone_enc",
        aad: "privacy_requests.requester_phone",
        select: "SELECT id, requester_phone_enc FROM privacy_requests WHERE id > $1 AND requester_phone_enc IS NOT NULL ORDER BY id LIMIT $2",
        update: "UPDATE privacy_requests SET requester_phone_enc = $1 WHERE id = $2 AND requester_phone_enc = $3",
    },
    EncryptedColumn {
        name: "mfa_totp.secret",
        aad: "mfa_totp.secret",
        select: "SELECT user_id, secret FROM mfa_totp WHERE user_id > $1 ORDER BY user_id LIMIT $2",
        update: "UPDATE mfa_totp SET secret = $1 WHERE user_id = $2 AND secret = $3",
    },
    EncryptedColumn {
        // An import job's uploaded register (platform service/import_job.rs), kept until the job is done.
        name: "import_jobs.content_enc",
        aad: "import_jobs.content",
        select: "SELECT id, content_enc FROM import_jobs WHERE id > $1 AND content_enc IS NOT NULL ORDER BY id LIMIT $2",
        update: "UPDATE import_jobs SET content_enc = $1 WHERE id = $2 AND content_enc = $3",
    },
];

/// Binary columns that hold no field ciphertext, and why.
pub const NOT_ENCRYPTED: &[(&str, &str)] = &[
    ("people.id_number_bidx", "blind index: a keyed hash under the index key, which does not rotate"),
    ("sessions.token_hash", "SHA-256 of a session token"),
    ("mfa_recovery_codes.code_hash", "SHA-256 of a recovery code"),
    ("login_challenges.token_hash", "SHA-256 of a login challenge"),
    ("audit_log.prev_hash", "the audit chain"),
    ("audit_checkpoints.head_hash", "the head of an archived part of the audit chain"),
    ("audit_restored.prev_hash", "the audit chain, restored from an archive file"),
    ("audit_restored.hash", "the audit chain, restored from an archive file"),
    ("audit_checkpoints.mac", "the checkpoint's signature under the audit seal key"),
    ("audit_watch.verified_hash", "the audit chain's hash where the watch last verified it"),
    ("privacy_requests.token_hash", "SHA-256 of a copy link's single-use token"),
    ("fee_payments.mac", "the dues entry's HMAC under the index key (affairs, AT-29), which does not rotate"),
    ("audit_log.hash", "the audit chain"),
    ("attachments.sha256", "the checksum of an uploaded file"),
    ("attachments.content", "uploaded files (no field the security baseline lists as sensitive)"),
    ("_sqlx_migrations.checksum", "the migration tool's checksums"),
    ("materials_fts_data.block", "SQLite's full-text index of the (public) learning materials"),
    ("materials_fts_docsize.sz", "SQLite's full-text index of the (public) learning materials"),
    ("notices_fts_data.block", "SQLite's full-text index of notices (no field the baseline lists as sensitive)"),
    ("notices_fts_docsize.sz", "SQLite's full-text index of notices (no field the baseline lists as sensitive)"),
];

/// What a rotation did.
#[derive(Debug, Default)]
pub struct RotationReport {
    /// The version that encrypts from now on.
    pub version: u8,
    /// The versions retired.
    pub retired: Vec<u8>,
    /// Whether an interrupted rotation was taken up again.
    pub resumed: bool,
    pub re_encrypted: u64,
    pub batches: u64,
    /// Stopped on request before the end (`progress` answered false): run again to resume.
    pub stopped: bool,
}

/// Values of each version in the encrypted columns (name, version, count), for `keys status` and tests.
pub async fn census(db: &Db) -> Result<Vec<(&'static str, u8, u64)>, SecurityError> {
    let mut out = Vec::new();
    for col in ENCRYPTED {
        let mut counts = std::collections::BTreeMap::<u8, u64>::new();
        let mut after = 0i64;
        loop {
            let rows: Vec<(i64, Vec<u8>)> =
                on_db!(db, p => sqlx::query_as(col.select).bind(after).bind(2000i64).fetch_all(p).await)
                    .map_err(DbError::from)?;
            let Some((last, _)) = rows.last() else { break };
            after = *last;
            for (_, v) in &rows {
                *counts.entry(version_of(v).unwrap_or(0)).or_default() += 1;
            }
        }
        out.extend(counts.into_iter().map(|(v, n)| (col.name, v, n)));
    }
    Ok(out)
}

/// The data key versions the database knows: (version, state).
pub async fn versions(db: &Db) -> Result<Vec<(i64, String)>, SecurityError> {
    const SQL: &str = "SELECT version, state FROM data_keys ORDER BY version";
    Ok(on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await).map_err(DbError::from)?)
}

fn system_event(action: &str, target: String, detail: String) -> Event {
    Event {
        actor_id: None,
        actor: "system".into(),
        action: action.into(),
        target,
        result: "ok".into(),
        request_id: format!("cli-{}", std::process::id()),
        ip: "-".into(),
        detail,
        // Filled on append: `system` (crate::audit_evidence::filled_roles).
        roles: String::new(),
        org_scope: String::new(),
    }
}

/// Answers, after each batch, (column, values re-encrypted so far) → whether to go on.
pub type Progress<'a> = &'a (dyn Fn(&str, u64) -> bool + Sync);

/// Rotates the data key (see the module's documentation). `progress` hears about each batch and may stop the
/// rotation between two batches (Ctrl-C): the next run resumes it. `batch` values per transaction.
pub async fn rotate(
    db: &Db,
    key_file: &Path,
    profile: Profile,
    batch: i64,
    progress: Progress<'_>,
) -> Result<RotationReport, SecurityError> {
    let now = OffsetDateTime::now_utc();
    let mut report = RotationReport::default();
    let rotating: Option<i64> =
        on_db!(db, p => sqlx::query_scalar("SELECT version FROM data_keys WHERE state = 'rotating'")
        .fetch_optional(p)
        .await)
        .map_err(DbError::from)?;
    let target = match rotating {
        Some(v) => {
            report.resumed = true;
            u8::try_from(v).map_err(|_| SecurityError::Encrypt)?
        }
        None => {
            let ring = KeyRing::load(key_file)?;
            let known = versions(db).await?;
            let highest = known.iter().map(|(v, _)| *v).chain(ring.versions().into_iter().map(i64::from)).max();
            let target = u8::try_from(highest.unwrap_or(0) + 1).map_err(|_| SecurityError::KeyFile {
                path: key_file.display().to_string(),
                reason: "all 255 key versions are used".into(),
            })?;
            let mut tx = db.begin().await?;
            if known.is_empty() {
                // The version the installation has used so far, recorded the first time.
                let sql =
                    "INSERT INTO data_keys (version, state, created_at, activated_at) VALUES ($1, 'active', $2, $2)";
                on_tx!(&mut tx, c => sqlx::query(sql).bind(i64::from(ring.key_id)).bind(now).execute(c).await.map(|r| r.rows_affected()))
                    .map_err(DbError::from)?;
            }
            let sql = "INSERT INTO data_keys (version, state, created_at) VALUES ($1, 'rotating', $2)";
            on_tx!(&mut tx, c => sqlx::query(sql).bind(i64::from(target)).bind(now).execute(c).await.map(|r| r.rows_affected()))
                .map_err(DbError::from)?;
            let detail = format!("version {} → {target} ({})", ring.key_id, profile.describe());
            audit::append(&mut tx, system_event("keys.rotate.start", format!("key:{target}"), detail)).await?;
            tx.commit().await?;
            target
        }
    };
    report.version = target;
    // The key file gets the new version — again only if it was lost before anything was encrypted with it: a new
    // key under the same version would make the values already re-encrypted unreadable.
    if !KeyRing::load(key_file)?.versions().contains(&target) {
        let written: u64 = census(db).await?.iter().filter(|(_, v, _)| *v == target).map(|(_, _, n)| n).sum();
        if written > 0 {
            return Err(SecurityError::KeyFile {
                path: key_file.display().to_string(),
                reason: format!(
                    "it lacks key version {target}, which already encrypts {written} values: put back the key file \
                     written by the interrupted rotation (docs/OPERATIONS.md, key custody)"
                ),
            });
        }
    }
    let ring = KeyRing::add_version(key_file, target)?.with_profile(profile);
    let cipher = FieldCipher::new(&ring)?;

    // Passes until a whole pass finds nothing left under an older version.
    let mut left = u64::MAX;
    for _ in 0..5 {
        let (changed, batches, stopped) =
            re_encrypt_all(db, &cipher, target, batch, progress, report.re_encrypted).await?;
        report.re_encrypted += changed;
        report.batches += batches;
        if stopped {
            report.stopped = true;
            return Ok(report);
        }
        left = census(db).await?.iter().filter(|(_, v, _)| *v != target).map(|(_, _, n)| n).sum();
        if left == 0 {
            break;
        }
    }
    if left > 0 {
        return Err(SecurityError::KeyFile {
            path: key_file.display().to_string(),
            reason: format!(
                "{left} values are still under an older key version (an instance that cannot read this key file \
                 keeps writing them?); run `dangjian keys rotate` again to resume"
            ),
        });
    }

    let mut tx = db.begin().await?;
    let retired: Vec<i64> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT version FROM data_keys WHERE state <> 'retired' AND version <> $1 ORDER BY version"
    )
    .bind(i64::from(target))
    .fetch_all(c)
    .await)
    .map_err(DbError::from)?;
    let sql = "UPDATE data_keys SET state = 'retired', retired_at = $1 WHERE state <> 'retired' AND version <> $2";
    on_tx!(&mut tx, c => sqlx::query(sql).bind(now).bind(i64::from(target)).execute(c).await.map(|r| r.rows_affected())).map_err(DbError::from)?;
    let sql =
        "UPDATE data_keys SET state = 'active', activated_at = $1, re_encrypted = re_encrypted + $2 WHERE version = $3";
    on_tx!(&mut tx, c => sqlx::query(sql)
        .bind(OffsetDateTime::now_utc())
        .bind(i64::try_from(report.re_encrypted).unwrap_or(i64::MAX))
        .bind(i64::from(target))
        .execute(c)
        .await
        .map(|_| ()))
    .map_err(DbError::from)?;
    report.retired = retired.iter().filter_map(|v| u8::try_from(*v).ok()).collect();
    let detail = format!(
        "version {target} active{} ({}); {} values re-encrypted in {} batches; retired: {:?}",
        if report.resumed { ", resumed" } else { "" },
        profile.describe(),
        report.re_encrypted,
        report.batches,
        report.retired
    );
    audit::append(&mut tx, system_event("keys.rotate", format!("key:{target}"), detail)).await?;
    tx.commit().await?;
    Ok(report)
}

/// One pass over every encrypted column; returns (values re-encrypted, batches, stopped on request).
async fn re_encrypt_all(
    db: &Db,
    cipher: &FieldCipher,
    target: u8,
    batch: i64,
    progress: Progress<'_>,
    done_before: u64,
) -> Result<(u64, u64, bool), SecurityError> {
    let (mut changed, mut batches) = (0u64, 0u64);
    for col in ENCRYPTED {
        let mut after = 0i64;
        loop {
            let mut tx = db.begin().await?;
            let rows: Vec<(i64, Vec<u8>)> =
                on_tx!(&mut tx, c => sqlx::query_as(col.select).bind(after).bind(batch).fetch_all(c).await)
                    .map_err(DbError::from)?;
            let Some((last, _)) = rows.last() else { break };
            after = *last;
            let full = rows.len() as i64 == batch;
            let mut n = 0u64;
            for (key, old) in rows.iter().filter(|(_, v)| version_of(v) != Some(target)) {
                let fresh = cipher.encrypt(col.aad, &cipher.decrypt(col.aad, old)?)?;
                n += replace(&mut tx, col, *key, old, &fresh).await?;
            }
            if n > 0 {
                let sql = "UPDATE data_keys SET re_encrypted = re_encrypted + $1 WHERE version = $2";
                on_tx!(&mut tx, c => sqlx::query(sql).bind(n as i64).bind(i64::from(target)).execute(c).await.map(|r| r.rows_affected()))
                    .map_err(DbError::from)?;
                batches += 1;
            }
            tx.commit().await?;
            changed += n;
            if !progress(col.name, done_before + changed) {
                return Ok((changed, batches, true));
            }
            if !full {
                break;
            }
        }
    }
    Ok((changed, batches, false))
}

async fn replace(tx: &mut DbTx, col: &EncryptedColumn, key: i64, old: &[u8], fresh: &[u8]) -> Result<u64, DbError> {
    Ok(
        on_tx!(tx, c => sqlx::query(col.update).bind(fresh).bind(key).bind(old).execute(c).await.map(|r| r.rows_affected()))?,
    )
}
