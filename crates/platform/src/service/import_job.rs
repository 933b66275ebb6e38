//! The register import as a persisted job (issue 3 item 6, security.md AT-28). Uploading a file makes a
//! job (`queued`) and answers at once; a task of this instance checks it (`validating` → `validated`, or
//! `failed` with every bad row in the report); confirming runs the real import (`importing` → `done`), all
//! rows in one transaction ([`Platform::import_people`]). The file is kept, sealed, until the job is done.
//!
//! While it works, the task moves the job's heartbeat with its progress every [`BEAT`]. A process that dies
//! (killed, crashed, restarted) stops the heartbeat: after [`IMPORT_JOB_STALE`] the job is marked `failed`
//! and can be retried ([`Platform::retry_import_job`]); the real run's transaction never committed, so
//! nothing of it is in the database. On SQLite (one instance) the start of the server marks every job
//! in progress failed at once, and the heartbeat is not written while the real run holds the database's
//! write lock; this instance's own jobs are never judged stale by it.
//!
//! Scope: a job belongs to the widest range where its uploader may place people (`scope_path`); it is
//! seen by the uploader and by those whose reach for placing people covers that range; others get 404.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use documents::sheet::Format;
use security::audit;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::import::{ImportProgress, ImportReport, ImportStep};
use super::{Ctx, Error, Platform, Result, event, now};
use crate::access::{Actor, Capability};
use crate::model::subtree_end;
use crate::store::import_job::{self as store, Finished, ImportJobRow, NewImportJob};

/// A job in progress whose heartbeat is older than this was interrupted (its process stopped).
pub const IMPORT_JOB_STALE: Duration = Duration::from_secs(60);
/// How often a working job's heartbeat and progress are written.
const BEAT: Duration = Duration::from_secs(2);
/// The AAD of the sealed file (key rotation lists the column: security::rotation).
const COL_FILE: &str = "import_jobs.content";
/// The largest file a job takes (the upload routes' body limit is 26 MiB).
pub const MAX_IMPORT_FILE: usize = 25 * 1024 * 1024;
/// How long a failed job keeps its file for a retry.
pub const KEEP_FAILED_FILE: time::Duration = time::Duration::days(7);
/// How many jobs the list shows.
const RECENT: i64 = 20;
const INTERRUPTED: &str = "处理中断（服务重启或进程退出），未写入任何记录，可重试";

pub(crate) fn worker_name() -> String {
    let mut r = [0u8; 4];
    let _ = security::random_bytes(&mut r);
    format!("{}-{}", std::process::id(), hex::encode(r))
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportJobStatus {
    Queued,
    Validating,
    Validated,
    Failed,
    Importing,
    Done,
}

impl ImportJobStatus {
    pub fn parse(s: &str) -> Option<ImportJobStatus> {
        Some(match s {
            "queued" => ImportJobStatus::Queued,
            "validating" => ImportJobStatus::Validating,
            "validated" => ImportJobStatus::Validated,
            "failed" => ImportJobStatus::Failed,
            "importing" => ImportJobStatus::Importing,
            "done" => ImportJobStatus::Done,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportJobStatus::Queued => "排队中",
            ImportJobStatus::Validating => "检查中",
            ImportJobStatus::Validated => "检查通过，待确认",
            ImportJobStatus::Failed => "未通过或已中断",
            ImportJobStatus::Importing => "导入中",
            ImportJobStatus::Done => "已完成",
        }
    }

    /// Still being worked on (the page keeps polling).
    pub fn in_progress(self) -> bool {
        matches!(self, ImportJobStatus::Queued | ImportJobStatus::Validating | ImportJobStatus::Importing)
    }
}

/// An import job as the API and the pages show it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ImportJob {
    pub id: i64,
    pub status: ImportJobStatus,
    /// The status in Chinese.
    pub status_label: String,
    pub file_name: String,
    /// `xlsx` or `csv`.
    pub format: String,
    pub file_size: i64,
    /// Whether the real run was asked for (confirm); a retry of a confirmed job imports again.
    pub confirmed: bool,
    /// The step under way, while this instance works on the job.
    pub step: Option<ImportStep>,
    /// Rows through the current step, and in all (the check counts each row twice, see [`ImportStep`]).
    pub rows_done: i64,
    pub rows_total: i64,
    /// 0–100, of the current step.
    pub percent: i64,
    pub valid_rows: i64,
    pub error_rows: i64,
    pub warning_rows: i64,
    pub imported: i64,
    /// The check's (or the real run's) report: every bad row with its reason, in Chinese.
    pub report: Option<ImportReport>,
    /// Why it failed, in Chinese.
    pub error: Option<String>,
    pub attempts: i64,
    /// `POST …/confirm` is possible.
    pub confirmable: bool,
    /// `POST …/retry` is possible.
    pub retryable: bool,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// Ends a worker's registration when it stops, however it stops (a panic included): the heartbeat ends
/// and the job no longer counts as this instance's.
struct Working<'a> {
    platform: &'a Platform,
    id: i64,
    beat: tokio::task::JoinHandle<()>,
}

impl Drop for Working<'_> {
    fn drop(&mut self) {
        self.beat.abort();
        if let Ok(mut live) = self.platform.import_live.lock() {
            live.remove(&self.id);
        }
    }
}

impl Platform {
    fn job_answer(&self, r: ImportJobRow, with_report: bool) -> ImportJob {
        let status = ImportJobStatus::parse(&r.status).unwrap_or(ImportJobStatus::Failed);
        let live = self.import_live.lock().ok().and_then(|l| l.get(&r.id).cloned());
        let (step, done, total) = match (&live, status.in_progress()) {
            (Some(p), true) => {
                let (step, d, t) = p.get();
                (Some(step), d as i64, t as i64)
            }
            _ => (None, r.rows_done, r.rows_total),
        };
        let percent = match status {
            ImportJobStatus::Done | ImportJobStatus::Validated => 100,
            _ if total > 0 => (done * 100 / total).clamp(0, 100),
            _ => 0,
        };
        let report = if with_report { r.report.as_deref().and_then(|j| serde_json::from_str(j).ok()) } else { None };
        ImportJob {
            id: r.id,
            status,
            status_label: status.label().into(),
            file_name: r.file_name,
            format: r.format,
            file_size: r.file_size,
            confirmed: r.confirmed,
            step,
            rows_done: done,
            rows_total: total,
            percent,
            valid_rows: r.valid_rows,
            error_rows: r.error_rows,
            warning_rows: r.warning_rows,
            imported: r.imported,
            report,
            error: r.error,
            attempts: r.attempts,
            confirmable: status == ImportJobStatus::Validated,
            retryable: status == ImportJobStatus::Failed,
            created_by: r.created_by_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
        }
    }

    fn sees_job(actor: &Actor, r: &ImportJobRow) -> bool {
        actor.can_somewhere(Capability::PersonWrite)
            && (r.created_by == Some(actor.user_id) || actor.can(Capability::PersonWrite, &r.scope_path))
    }

    /// The job `id` if the actor may see it, after marking it failed if its worker stopped; a job out of
    /// reach is audited as a refusal and answered `NotFound`.
    async fn visible_job(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<ImportJobRow> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, action, &format!("import_job:{id}")).await?);
        }
        self.recover_import_jobs().await?;
        match store::get(&self.db, id).await? {
            Some(r) if Self::sees_job(actor, &r) => Ok(r),
            _ => Err(self.deny(ctx, actor, action, &format!("import_job:{id}")).await?),
        }
    }

    /// Whether the actor may import at all (org staff, branch secretaries); a refusal is audited (403).
    /// Upload handlers ask before they read the body.
    pub async fn may_import(&self, ctx: &Ctx, actor: &Actor) -> Result<()> {
        if actor.can_somewhere(Capability::PersonWrite) {
            return Ok(());
        }
        Err(self.refuse(ctx, actor, "person.import_job", "people").await?)
    }

    /// Makes a job of an uploaded register file (`queued`); start its work with
    /// [`Platform::spawn_import_job`]. An empty file, one over [`MAX_IMPORT_FILE`], or one that is neither
    /// xlsx nor text is `Invalid` under `file`.
    pub async fn create_import_job(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        file_name: &str,
        bytes: &[u8],
        format: Format,
    ) -> Result<ImportJob> {
        self.may_import(ctx, actor).await?;
        if bytes.is_empty() {
            return Err(Error::field("file", "请选择要导入的文件"));
        }
        if bytes.len() > MAX_IMPORT_FILE {
            return Err(Error::field("file", format!("文件超过{}MB，请拆分后导入", MAX_IMPORT_FILE >> 20)));
        }
        // Kept until the job is done: clamd's verdict first when it is configured (security.md AT-21).
        self.scan_upload(ctx, actor, "file", bytes).await?;
        let name: String = file_name.chars().filter(|c| !c.is_control()).take(200).collect();
        let name = if name.trim().is_empty() { format!("花名册.{}", format.code()) } else { name };
        let scope = actor.ranges_within(Capability::PersonWrite, "/").into_iter().next().unwrap_or_else(|| "/".into());
        let sealed = self.cipher.encrypt(COL_FILE, &STANDARD.encode(bytes))?;
        let t = now();
        let new = NewImportJob {
            file_name: &name,
            format: format.code(),
            file_size: bytes.len() as i64,
            content_enc: sealed,
            scope_path: &scope,
            created_by: Some(actor.user_id).filter(|id| *id > 0),
            now: t,
        };
        let id = store::insert(&self.db, new).await?;
        store::drop_old_files(&self.db, t - KEEP_FAILED_FILE).await?;
        let detail = format!("format:{} size:{}", format.code(), bytes.len());
        audit::append_alone(
            &self.db,
            event(Some(actor), ctx, "person.import_job", format!("import_job:{id}"), "ok", detail),
        )
        .await?;
        let row = store::get(&self.db, id).await?.ok_or(Error::NotFound)?;
        Ok(self.job_answer(row, true))
    }

    /// One job, with its report.
    pub async fn import_job(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<ImportJob> {
        let r = self.visible_job(ctx, actor, id, "person.import_job.read").await?;
        Ok(self.job_answer(r, true))
    }

    /// The newest jobs the actor may see (without their reports).
    pub async fn import_jobs(&self, ctx: &Ctx, actor: &Actor) -> Result<Vec<ImportJob>> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "person.import_job.read", "import_jobs").await?);
        }
        self.recover_import_jobs().await?;
        let mut rows: BTreeMap<i64, ImportJobRow> = BTreeMap::new();
        for range in actor.ranges_within(Capability::PersonWrite, "/") {
            for r in store::recent(&self.db, &range, &subtree_end(&range), actor.user_id, RECENT).await? {
                rows.insert(r.id, r);
            }
        }
        Ok(rows.into_values().rev().take(RECENT as usize).map(|r| self.job_answer(r, false)).collect())
    }

    /// Asks for the real run of a checked job (`validated` → `queued`, confirmed); start it with
    /// [`Platform::spawn_import_job`]. Any other status is a `Conflict`.
    pub async fn confirm_import_job(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<ImportJob> {
        let r = self.visible_job(ctx, actor, id, "person.import_job.confirm").await?;
        if !store::requeue(&self.db, id, "validated", true, now()).await? {
            return Err(Error::Conflict("该导入任务当前不能确认：只有检查通过的任务可以确认导入"));
        }
        let detail = format!("rows:{}", r.valid_rows);
        audit::append_alone(
            &self.db,
            event(Some(actor), ctx, "person.import_job.confirm", format!("import_job:{id}"), "ok", detail),
        )
        .await?;
        let row = store::get(&self.db, id).await?.ok_or(Error::NotFound)?;
        Ok(self.job_answer(row, true))
    }

    /// Queues a failed job again: checked again, or imported again if it had been confirmed. Start it with
    /// [`Platform::spawn_import_job`]. A job that has not failed is a `Conflict`.
    pub async fn retry_import_job(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<ImportJob> {
        self.visible_job(ctx, actor, id, "person.import_job.retry").await?;
        if !store::requeue(&self.db, id, "failed", false, now()).await? {
            return Err(Error::Conflict("该导入任务当前不能重试：只有失败的任务可以重试"));
        }
        audit::append_alone(
            &self.db,
            event(Some(actor), ctx, "person.import_job.retry", format!("import_job:{id}"), "ok", String::new()),
        )
        .await?;
        let row = store::get(&self.db, id).await?.ok_or(Error::NotFound)?;
        Ok(self.job_answer(row, true))
    }

    /// Runs the job's next step in a task of this instance, acting as `actor`.
    pub fn spawn_import_job(self: &Arc<Self>, ctx: &Ctx, actor: &Actor, id: i64) {
        let (p, ctx, actor) = (Arc::clone(self), ctx.clone(), actor.clone());
        tokio::spawn(async move {
            if let Err(e) = p.work_import_job(&ctx, &actor, id).await {
                tracing::warn!(job = id, error = %e, "import job");
            }
        });
    }

    /// Runs the step of a `queued` job: the check, or the real run when it was confirmed. Returns false when
    /// the job was not queued (another worker took it). Every outcome is recorded in the job.
    pub async fn work_import_job(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<bool> {
        let Some(row) = store::get(&self.db, id).await? else { return Ok(false) };
        let real = row.confirmed;
        let status = if real { "importing" } else { "validating" };
        if !store::take(&self.db, id, "queued", status, &self.worker, now()).await? {
            return Ok(false);
        }
        let progress = Arc::new(ImportProgress::default());
        if let Ok(mut live) = self.import_live.lock() {
            live.insert(id, Arc::clone(&progress));
        }
        let beat = {
            let (db, worker, progress) = (self.db.clone(), self.worker.clone(), Arc::clone(&progress));
            // SQLite: the real run's transaction holds the only write lock; its progress is shown from memory.
            let sqlite = matches!(self.db, kernel::Db::Sqlite(_));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(BEAT).await;
                    let (step, done, total) = progress.get();
                    if sqlite && step == ImportStep::Writing {
                        continue;
                    }
                    let _ = store::beat(&db, id, status, &worker, done as i64, total as i64, now()).await;
                }
            })
        };
        let _working = Working { platform: self, id, beat };

        let outcome = match self.job_file(id).await {
            Ok((bytes, format)) => {
                self.import_people_file_with(ctx, actor, &bytes, Some(format), !real, &progress).await
            }
            Err(e) => Err(e),
        };
        let total = progress.get().2 as i64;
        let (next, message) = match &outcome {
            Ok(r) if r.committed => ("done", None),
            Ok(r) if !real && r.error_rows == 0 && r.valid_rows > 0 => ("validated", None),
            Ok(r) if r.error_rows > 0 => {
                ("failed", Some(format!("有{}行存在错误，未导入任何记录；请按报告修改后重新上传", r.error_rows)))
            }
            Ok(_) => ("failed", Some("文件中没有可导入的人员".to_string())),
            Err(Error::Invalid(fields)) => ("failed", Some(fields.values().cloned().collect::<Vec<_>>().join("；"))),
            Err(e) => ("failed", Some(format!("处理出错：{}", e.message()))),
        };
        let report = outcome.as_ref().ok();
        let f = Finished {
            status: next,
            rows_total: report.map_or(total / 2, |r| r.rows as i64),
            valid_rows: report.map_or(0, |r| r.valid_rows as i64),
            error_rows: report.map_or(0, |r| r.error_rows as i64),
            warning_rows: report.map_or(0, |r| r.warning_rows as i64),
            imported: report.map_or(0, |r| r.imported as i64),
            report: report.and_then(|r| serde_json::to_string(r).ok()),
            error: message.as_deref(),
            drop_content: next == "done",
            now: now(),
        };
        store::finish(&self.db, id, status, &self.worker, f).await?;
        Ok(true)
    }

    /// The job's file, opened.
    async fn job_file(&self, id: i64) -> Result<(Vec<u8>, Format)> {
        let row = store::get(&self.db, id).await?.ok_or(Error::NotFound)?;
        let sealed = store::content(&self.db, id)
            .await?
            .ok_or_else(|| Error::field("file", "导入文件已删除（失败的任务只保留文件7天），请重新上传"))?;
        let text = self.cipher.decrypt(COL_FILE, &sealed)?;
        let bytes = STANDARD.decode(text).map_err(|_| Error::field("file", "导入文件已损坏，请重新上传"))?;
        let format = Format::parse(&row.format).unwrap_or_else(|| Format::sniff(&bytes));
        Ok((bytes, format))
    }

    /// Marks failed the jobs whose worker stopped (heartbeat older than [`IMPORT_JOB_STALE`]), except this
    /// instance's own, each audited. Run by every read of jobs; it writes only when there is such a job (a
    /// read must not wait for SQLite's write lock, which a real run holds).
    pub async fn recover_import_jobs(&self) -> Result<Vec<i64>> {
        let t = now();
        let stale = time::Duration::try_from(IMPORT_JOB_STALE).unwrap_or(time::Duration::MINUTE);
        self.fail_interrupted(t - stale).await
    }

    /// At the start of the server: on SQLite (one instance) every job in progress was this database's only
    /// server's, now gone, so all are marked failed; on PostgreSQL those whose heartbeat is stale.
    /// Also drops the files of jobs failed more than [`KEEP_FAILED_FILE`] ago (as every new upload does).
    pub async fn recover_import_jobs_at_start(&self) -> Result<Vec<i64>> {
        let ids = match self.db {
            kernel::Db::Sqlite(_) => self.fail_interrupted(now() + time::Duration::DAY).await?,
            kernel::Db::Postgres(_) => self.recover_import_jobs().await?,
        };
        store::drop_old_files(&self.db, now() - KEEP_FAILED_FILE).await?;
        Ok(ids)
    }

    async fn fail_interrupted(&self, before: OffsetDateTime) -> Result<Vec<i64>> {
        let live: Vec<i64> = self.import_live.lock().map(|l| l.keys().copied().collect()).unwrap_or_default();
        let ids = store::fail_stale(&self.db, before, &live, INTERRUPTED, now()).await?;
        for id in &ids {
            let e = event(
                None,
                &Ctx::default(),
                "person.import_job.interrupted",
                format!("import_job:{id}"),
                "error",
                String::new(),
            );
            audit::append_alone(&self.db, e).await?;
        }
        Ok(ids)
    }
}
