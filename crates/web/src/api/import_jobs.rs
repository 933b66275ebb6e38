//! `/api/v1/people/imports`: the register import as a job (platform service/import_job.rs, security.md
//! AT-28). Upload a file (multipart) → 202 with the job, checked in the background; poll it; confirm the
//! real run (all rows or none, one transaction); retry a failed one. The contract's
//! `POST /api/v1/people/import` (raw body, answered at once) stays as it was.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use documents::sheet::Format;
use platform::Error;
use platform::service::ImportJob;
use utoipa::ToSchema;

use super::api;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// The upload form: one file field.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The register: xlsx, or CSV in UTF-8 (with or without BOM) or GB18030.
    #[schema(format = Binary, value_type = String)]
    pub file: Vec<u8>,
}

/// The format of an uploaded file: a workbook by its bytes or name, else CSV.
pub fn format_of(name: &str, bytes: &[u8]) -> Format {
    match (Format::from_file_name(name), Format::sniff(bytes)) {
        (_, Format::Xlsx) | (Some(Format::Xlsx), _) => Format::Xlsx,
        _ => Format::Csv,
    }
}

/// The `file` field of a multipart form: (name, bytes), or the field error to answer.
pub async fn file_field(s: &AppState, req: Request) -> Result<(String, Vec<u8>), Error> {
    let m = Multipart::from_request(req, s).await.map_err(|_| Error::field("file", "请以表单方式上传文件"))?;
    let form = crate::files::read_multipart(m).await.map_err(|e| Error::field("file", e))?;
    match form.files.into_iter().find(|f| f.field == "file") {
        Some(f) if !f.bytes.is_empty() => Ok((f.name, f.bytes.to_vec())),
        _ => Err(Error::field("file", "请选择要导入的文件")),
    }
}

/// Upload a register file for import (multipart, field `file`): answers 202 with the job (`queued`), then
/// checks every row in the background (`validating` → `validated`, or `failed` with the report of every bad
/// row). Nothing is written before `confirm`. For org staff and branch secretaries; audited.
#[utoipa::path(post, path = "/api/v1/people/imports", tag = "people",
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses((status = 202, body = ImportJob, description = "The job, queued"),
              (status = 422, body = ErrorBody, description = "没有文件、文件为空或超过25MB"),
              (status = 403, body = ErrorBody), (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    req: Request,
) -> Result<(StatusCode, Json<ImportJob>), ApiError> {
    // Refused before the body is read: a refusal does not depend on the upload.
    api(s.platform.may_import(&c.ctx, &c.actor).await, &c.ctx)?;
    let (name, bytes) = api(file_field(&s, req).await, &c.ctx)?;
    let format = format_of(&name, &bytes);
    let job = api(s.platform.create_import_job(&c.ctx, &c.actor, &name, &bytes, format).await, &c.ctx)?;
    s.platform.spawn_import_job(&c.ctx, &c.actor, job.id);
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The newest import jobs the caller may see (the ones she started and those of the organizations she
/// places people in), newest first, without their reports.
#[utoipa::path(get, path = "/api/v1/people/imports", tag = "people",
    responses((status = 200, body = Vec<ImportJob>), (status = 403, body = ErrorBody)))]
pub async fn list(State(s): State<AppState>, c: Caller) -> Result<Json<Vec<ImportJob>>, ApiError> {
    Ok(Json(api(s.platform.import_jobs(&c.ctx, &c.actor).await, &c.ctx)?))
}

/// One import job with its progress and report. A job in progress whose worker stopped (the process was
/// killed or restarted) is `failed` and `retryable`; nothing of it was written. 404 outside the caller's
/// scope.
#[utoipa::path(get, path = "/api/v1/people/imports/{id}", tag = "people",
    params(("id" = i64, Path, description = "The job")),
    responses((status = 200, body = ImportJob), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<ImportJob>, ApiError> {
    Ok(Json(api(s.platform.import_job(&c.ctx, &c.actor, id).await, &c.ctx)?))
}

/// Import a checked job (`validated`): every row is checked again and written in one transaction, or none
/// when a row has an error now (`failed` with the report). 202: the job, queued for the real run.
#[utoipa::path(post, path = "/api/v1/people/imports/{id}/confirm", tag = "people",
    params(("id" = i64, Path, description = "The job")),
    responses((status = 202, body = ImportJob), (status = 409, body = ErrorBody, description = "只有检查通过的任务可以确认"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn confirm(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ImportJob>), ApiError> {
    let job = api(s.platform.confirm_import_job(&c.ctx, &c.actor, id).await, &c.ctx)?;
    s.platform.spawn_import_job(&c.ctx, &c.actor, job.id);
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// Run a failed job again with its kept file: checked again, or imported again if it had been confirmed.
#[utoipa::path(post, path = "/api/v1/people/imports/{id}/retry", tag = "people",
    params(("id" = i64, Path, description = "The job")),
    responses((status = 202, body = ImportJob), (status = 409, body = ErrorBody, description = "只有失败的任务可以重试"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<ImportJob>), ApiError> {
    let job = api(s.platform.retry_import_job(&c.ctx, &c.actor, id).await, &c.ctx)?;
    s.platform.spawn_import_job(&c.ctx, &c.actor, job.id);
    Ok((StatusCode::ACCEPTED, Json(job)))
}
