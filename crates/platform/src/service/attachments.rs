//! The attachment store's actions (see crate::files for the checks and who decides access). An application
//! checks the caller against the record a file belongs to, then:
//!
//! 1. [`Platform::check_upload`] before its transaction — the built-in checks, then clamd when it is
//!    configured; a refused file is a field error (a scanner without a verdict `ScanUnavailable`) and
//!    nothing is written;
//! 2. [`Platform::attach`] inside its transaction, after writing its own record — the file, the per-owner
//!    limit and the `attachment.add` audit entry commit or roll back with the record;
//! 3. [`Platform::attachments_of`] to list the files of many records in one query;
//! 4. [`Platform::attachment`] to download one (audited as `attachment.download`), always naming the owner.

use kernel::DbTx;
use security::audit;

use super::{Ctx, Error, Platform, Result, event, now};
use crate::access::{Actor, Capability};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::clamd::Verdict;
use crate::files::{self, Attachment, AttachmentMeta, Checked, FileType, MAX_PER_OWNER, Owner, Refusal};
use crate::store;

impl Platform {
    /// Every check of security.md AT-21 on one upload: the built-in checks of [`files::check`], then, when
    /// configured, ClamAV's clamd ([`Platform::scan_upload`]). A refusal is `Invalid` with the Chinese
    /// reason under `field`, so a form shows it next to the file input and the API answers 422; a scanner
    /// that gives no verdict is `ScanUnavailable` (503: fail closed). Malware found is audited
    /// (`upload.malware` / `refused`), and so is a scanner that failed (`upload.scan` / `error`).
    pub async fn check_upload(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        field: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<Checked> {
        let checked = match files::check(name, bytes) {
            Ok(c) => c,
            Err(r) => {
                if r == Refusal::Malware {
                    let detail = upload_detail(field, bytes, "built-in: EICAR test signature");
                    self.audit_upload(ctx, actor, "upload.malware", "refused", detail).await?;
                }
                return Err(Error::field(field, r.to_string()));
            }
        };
        self.scan_upload(ctx, actor, field, bytes).await?;
        Ok(checked)
    }

    /// clamd's verdict on an upload when clamd is configured (nothing otherwise): for the files the
    /// platform stores ([`Platform::check_upload`]) and for the imports, whose files are read, not kept.
    /// A signature found → `Invalid` under `field` with its name; no verdict (unreachable, timed out, an
    /// error answer) → `ScanUnavailable`. Both audited before the answer.
    pub async fn scan_upload(&self, ctx: &Ctx, actor: &Actor, field: &str, bytes: &[u8]) -> Result<()> {
        let Some(clamd) = &self.settings.clamd else {
            return Ok(());
        };
        match clamd.scan(bytes).await {
            Ok(Verdict::Clean) => Ok(()),
            Ok(Verdict::Found(signature)) => {
                let detail = upload_detail(field, bytes, &format!("clamd: {signature}"));
                self.audit_upload(ctx, actor, "upload.malware", "refused", detail).await?;
                Err(Error::field(field, Refusal::Virus(signature).to_string()))
            }
            Err(failure) => {
                tracing::error!(request_id = %ctx.request_id, clamd = %clamd.address, %failure,
                    "upload refused: no verdict from the virus scanner");
                let detail = upload_detail(field, bytes, &format!("clamd {}: {failure}", clamd.address));
                self.audit_upload(ctx, actor, "upload.scan", "error", detail).await?;
                Err(Error::ScanUnavailable)
            }
        }
    }

    async fn audit_upload(&self, ctx: &Ctx, actor: &Actor, action: &str, result: &str, detail: String) -> Result<()> {
        audit::append_alone(&self.db, event(Some(actor), ctx, action, "upload".into(), result, detail)).await?;
        Ok(())
    }

    /// Stores a checked upload for `owner` in the caller's transaction, with its audit entry. At most
    /// [`MAX_PER_OWNER`] files per owner (a `Conflict` beyond).
    pub async fn attach(
        &self,
        tx: &mut DbTx,
        ctx: &Ctx,
        actor: &Actor,
        owner: &Owner<'_>,
        checked: &Checked,
        bytes: &[u8],
    ) -> Result<AttachmentMeta> {
        if store::count_attachments(tx, owner.kind, owner.id).await? >= MAX_PER_OWNER {
            return Err(Error::Conflict("每条记录最多上传20个附件"));
        }
        let t = now();
        let new = store::NewAttachment {
            owner_kind: owner.kind,
            owner_id: owner.id,
            org_path: owner.org_path,
            person_id: owner.person_id,
            name: &checked.name,
            file_type: checked.file_type.code(),
            content_type: checked.file_type.content_type(),
            size: checked.size,
            sha256: &checked.sha256,
            uploaded_by: (actor.user_id > 0).then_some(actor.user_id),
            now: t,
            content: bytes,
        };
        let id = store::insert_attachment(tx, &new).await?;
        let sha = hex::encode(checked.sha256);
        let detail =
            format!("{}:{} {} {}B sha256:{}", owner.kind, owner.id, checked.file_type.code(), checked.size, &sha[..16]);
        audit::append(tx, event(Some(actor), ctx, "attachment.add", format!("attachment:{id}"), "ok", detail)).await?;
        Ok(AttachmentMeta {
            id,
            owner_kind: owner.kind.to_string(),
            owner_id: owner.id,
            name: checked.name.clone(),
            file_type: checked.file_type.code().to_string(),
            size: checked.size,
            sha256: sha,
            sha256_raw: checked.sha256.to_vec(),
            created_at: t,
            quarantine_signature: None,
        })
    }

    /// The files of several records of one kind, in one query, by record then upload order.
    pub async fn attachments_of(&self, owner_kind: &str, owner_ids: &[i64]) -> Result<Vec<AttachmentMeta>> {
        Ok(store::attachments_of(&self.db, owner_kind, owner_ids).await?)
    }

    /// One file with its bytes, for a download the caller was already allowed (by the owning application)
    /// to make. `NotFound` unless the file belongs to this owner. Audited (a political review's files are
    /// personal data: domain.md SEC, every read logged).
    pub async fn attachment(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        owner_kind: &str,
        owner_id: i64,
        id: i64,
    ) -> Result<Attachment> {
        let (meta, content) =
            store::attachment_with_content(&self.db, owner_kind, owner_id, id).await?.ok_or(Error::NotFound)?;
        // A type no longer on the allow-list is never served.
        let file_type = FileType::parse(&meta.file_type).ok_or(Error::NotFound)?;
        // Nor a file in which a rescan found malware (AT-21): refused, audited, kept.
        if let Some(signature) = &meta.quarantine_signature {
            let detail = format!("{owner_kind}:{owner_id} quarantined: {signature}");
            let target = format!("attachment:{id}");
            audit::append_alone(&self.db, event(Some(actor), ctx, "attachment.download", target, "denied", detail))
                .await?;
            return Err(Error::Quarantined(signature.clone()));
        }
        let detail = format!("{owner_kind}:{owner_id}");
        audit::append_alone(
            &self.db,
            event(Some(actor), ctx, "attachment.download", format!("attachment:{id}"), "ok", detail),
        )
        .await?;
        Ok(Attachment { meta, file_type, content })
    }

    /// One file of a record that holds no personal data and is published to its readers (a learning
    /// material's PDF), for a read the owning application already allowed. Not audited as a read: every
    /// member opening a published document would otherwise write an audit entry, and it tells nothing about
    /// anyone (the upload, replacement and withdrawal are audited). `NotFound` unless it belongs to the owner.
    pub async fn published_file(&self, owner_kind: &str, owner_id: i64, id: i64) -> Result<Attachment> {
        let (meta, content) =
            store::attachment_with_content(&self.db, owner_kind, owner_id, id).await?.ok_or(Error::NotFound)?;
        let file_type = FileType::parse(&meta.file_type).ok_or(Error::NotFound)?;
        // A file in which a rescan found malware is never served (AT-21).
        if let Some(signature) = &meta.quarantine_signature {
            return Err(Error::Quarantined(signature.clone()));
        }
        Ok(Attachment { meta, file_type, content })
    }

    /// Scans every stored upload again through `clamd` (`dangjian uploads rescan`, security.md AT-21: files
    /// stored before clamd was configured, or before its signatures knew them). A signature found
    /// quarantines the file — kept, never downloaded again ([`Error::Quarantined`]) — audited
    /// `upload.malware` / `quarantined` with the signature; files already quarantined are not scanned
    /// again. A file clamd gives no verdict on is counted and named in the report, never passed. One
    /// `upload.rescan` entry records the counts. The bytes are read one file at a time.
    pub async fn rescan_uploads(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        clamd: &crate::clamd::Clamd,
        progress: &(dyn Fn(&RescanReport) + Sync),
    ) -> Result<RescanReport> {
        const PAGE: i64 = 500;
        let mut report = RescanReport::default();
        let mut after = 0;
        loop {
            let ids = store::attachment_ids_after(&self.db, after, PAGE).await?;
            let Some(&(last, _)) = ids.last() else { break };
            after = last;
            for (id, quarantined) in ids {
                if quarantined {
                    report.already_quarantined += 1;
                    continue;
                }
                let Some((owner_kind, owner_id, bytes, released)) = store::attachment_for_scan(&self.db, id).await?
                else {
                    continue; // removed since it was listed
                };
                report.scanned += 1;
                report.bytes += bytes.len() as u64;
                match clamd.scan(&bytes).await {
                    Ok(Verdict::Clean) => report.clean += 1,
                    // A security administrator released it from this very signature: a known false positive.
                    Ok(Verdict::Found(signature)) if released.as_deref() == Some(signature.as_str()) => {
                        report.released += 1;
                    }
                    Ok(Verdict::Found(signature)) => {
                        let t = now();
                        let mut tx = self.db.begin().await?;
                        if store::quarantine_attachment(&mut tx, id, &signature, t).await? {
                            let sha = hex::encode(Sha256::digest(&bytes));
                            let detail = format!(
                                "{owner_kind}:{owner_id} {}B sha256:{} rescan clamd: {signature}",
                                bytes.len(),
                                &sha[..16]
                            );
                            let target = format!("attachment:{id}");
                            let e = event(Some(actor), ctx, "upload.malware", target, "quarantined", detail);
                            audit::append(&mut tx, e).await?;
                        }
                        tx.commit().await?;
                        report.quarantined.push(QuarantinedFile { id, owner_kind, owner_id, signature });
                    }
                    Err(failure) => {
                        tracing::warn!(attachment = id, clamd = %clamd.address, %failure, "rescan: no verdict");
                        report.unscanned.push((id, failure.to_string()));
                    }
                }
                progress(&report);
            }
        }
        let detail = format!(
            "scanned:{} clean:{} quarantined:{} already_quarantined:{} released:{} unscanned:{} clamd:{}",
            report.scanned,
            report.clean,
            report.quarantined.len(),
            report.already_quarantined,
            report.released,
            report.unscanned.len(),
            clamd.address
        );
        let result = if report.unscanned.is_empty() { "ok" } else { "incomplete" };
        audit::append_alone(&self.db, event(Some(actor), ctx, "upload.rescan", "uploads".into(), result, detail))
            .await?;
        Ok(report)
    }

    /// The uploads in quarantine (newest first) and the latest releases, for the security administrator
    /// (security.md AT-21; 三员分立: she decides on security events, and reads no member's record — so neither
    /// a file's name, which may name a person, nor its bytes). Anyone else: 403, audited.
    pub async fn quarantine(&self, ctx: &Ctx, actor: &Actor) -> Result<Quarantine> {
        if !actor.can_somewhere(Capability::QuarantineAdmin) {
            return Err(self.refuse(ctx, actor, "upload.quarantine", "uploads").await?);
        }
        let held = store::quarantined_attachments(&self.db, QUARANTINE_PAGE).await?;
        let released = store::released_attachments(&self.db, QUARANTINE_PAGE).await?;
        Ok(Quarantine {
            total: store::quarantined_count(&self.db).await?,
            held: held.into_iter().map(QuarantinedUpload::from).collect(),
            released: released.into_iter().map(QuarantinedUpload::from).collect(),
        })
    }

    /// How many uploads are in quarantine, for the security administrator's home page; `None` for anyone else.
    pub async fn quarantined_count(&self, actor: &Actor) -> Result<Option<i64>> {
        if !actor.can_somewhere(Capability::QuarantineAdmin) {
            return Ok(None);
        }
        Ok(Some(store::quarantined_count(&self.db).await?))
    }

    /// Releases an upload from quarantine: the scanner's verdict was a false positive (the campus AV team or
    /// the vendor confirmed it). The security administrator only (403 otherwise, audited), after a recent
    /// re-authentication (AT-7: a security decision), with a reason of 4–200 characters. The file is served
    /// again; the release (who, when, why, from which signature) stays on the record, so the nightly rescan
    /// finding the same signature leaves it alone, and another signature quarantines it again. Audited as
    /// `upload.release` with the signature and the reason. `Conflict` when the file is not in quarantine
    /// (released already, or never), `NotFound` when there is no such file.
    pub async fn release_upload(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ReleaseInput) -> Result<()> {
        let target = format!("attachment:{id}");
        if !actor.can_somewhere(Capability::QuarantineAdmin) {
            return Err(self.refuse(ctx, actor, "upload.release", &target).await?);
        }
        self.require_recent_auth(actor)?;
        let reason = input.reason.trim();
        let length = reason.chars().count();
        if !(RELEASE_REASON_MIN..=RELEASE_REASON_MAX).contains(&length) {
            return Err(Error::field(
                "reason",
                format!("请写明放行理由（{RELEASE_REASON_MIN}-{RELEASE_REASON_MAX}字），如误报的核实情况"),
            ));
        }
        let mut tx = self.db.begin().await?;
        let signature = match store::release_attachment(&mut tx, id, actor.user_id, reason, now()).await? {
            store::Release::Released(signature) => signature,
            // Nothing written: the transaction rolls back as it is dropped.
            store::Release::NotQuarantined => return Err(Error::Conflict("该文件不在隔离区（可能已被放行）")),
            store::Release::Missing => return Err(Error::NotFound),
        };
        let detail = format!("released from {signature}; reason: {reason}");
        audit::append(&mut tx, event(Some(actor), ctx, "upload.release", target, "ok", detail)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes one file of a record in the caller's transaction, with its audit entry.
    pub async fn detach(
        &self,
        tx: &mut DbTx,
        ctx: &Ctx,
        actor: &Actor,
        owner_kind: &str,
        owner_id: i64,
        id: i64,
    ) -> Result<()> {
        if !store::delete_attachment(tx, owner_kind, owner_id, id).await? {
            return Err(Error::NotFound);
        }
        let detail = format!("{owner_kind}:{owner_id}");
        audit::append(tx, event(Some(actor), ctx, "attachment.remove", format!("attachment:{id}"), "ok", detail))
            .await?;
        Ok(())
    }
}

/// What one rescan of the stored uploads found ([`Platform::rescan_uploads`]).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RescanReport {
    /// Files sent to clamd (those already quarantined are not).
    pub scanned: u64,
    pub bytes: u64,
    pub clean: u64,
    /// Quarantined by this run.
    pub quarantined: Vec<QuarantinedFile>,
    pub already_quarantined: u64,
    /// Files in which clamd found the signature a security administrator released them from
    /// ([`Platform::release_upload`]): left served.
    pub released: u64,
    /// Files clamd gave no verdict on (unreachable, timed out, an error answer), with why: not judged.
    pub unscanned: Vec<(i64, String)>,
}

/// At most this many quarantined (and, apart, released) uploads are listed; the total is always counted.
const QUARANTINE_PAGE: i64 = 200;
/// A release's reason: long enough to say what was checked, short enough for one audit line.
const RELEASE_REASON_MIN: usize = 4;
const RELEASE_REASON_MAX: usize = 200;

/// Why an upload is released from quarantine (kept on the record and in the audit log).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ReleaseInput {
    #[schema(example = "经信息中心核实为误报（厂商已更正特征库），文件内容为会议纪要扫描件")]
    pub reason: String,
}

/// The security administrator's view of the quarantine ([`Platform::quarantine`]).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Quarantine {
    /// Uploads in quarantine now.
    pub total: i64,
    /// The newest 200 of them.
    pub held: Vec<QuarantinedUpload>,
    /// The 200 latest releases still in force.
    pub released: Vec<QuarantinedUpload>,
}

/// An upload in quarantine or released from it: what it belongs to, its type, size and hash — never its name
/// or bytes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuarantinedUpload {
    pub id: i64,
    /// The kind of record it belongs to: `development_step`, `meeting_minutes`, `material`.
    pub owner_kind: String,
    pub owner_id: i64,
    pub file_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex: to look the file up in the campus AV team's or the vendor's database.
    pub sha256: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub quarantined_at: Option<OffsetDateTime>,
    /// The signature that holds it (in quarantine).
    pub signature: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub released_at: Option<OffsetDateTime>,
    /// The account that released it.
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
    /// The signature it was released from (a rescan finding it again leaves the file served).
    pub released_signature: Option<String>,
}

impl From<store::QuarantineRow> for QuarantinedUpload {
    fn from(r: store::QuarantineRow) -> QuarantinedUpload {
        QuarantinedUpload {
            id: r.id,
            owner_kind: r.owner_kind,
            owner_id: r.owner_id,
            file_type: r.file_type,
            size: r.size,
            sha256: hex::encode(r.sha256),
            uploaded_at: r.created_at,
            quarantined_at: r.quarantined_at,
            signature: r.quarantine_signature,
            released_at: r.released_at,
            released_by: r.released_by,
            release_reason: r.release_reason,
            released_signature: r.released_signature,
        }
    }
}

/// A stored upload a rescan quarantined.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QuarantinedFile {
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub signature: String,
}

/// What a refused upload's audit entry says: the form field, the size, the start of the SHA-256 (to find
/// the same file again) and why — never the file's name, which may name a person.
fn upload_detail(field: &str, bytes: &[u8], why: &str) -> String {
    let sha = hex::encode(Sha256::digest(bytes));
    format!("{field} {}B sha256:{} {why}", bytes.len(), &sha[..16])
}
