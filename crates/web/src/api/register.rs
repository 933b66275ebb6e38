//! `/api/v1/people/import` and `/api/v1/people/export`: the register (花名册) as a spreadsheet. The
//! file travels as the raw request or response body (xlsx or CSV), not as multipart.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use documents::sheet::Format;
use platform::service::ImportReport;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, ErrorDetail, json_error};

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `true` (the default) checks the file and writes nothing; `false` imports it when no row has an error.
    #[param(example = true)]
    pub dry_run: Option<bool>,
}

/// A real run refused because some rows have errors: nothing was written.
#[derive(Serialize, ToSchema)]
pub struct ImportRejected {
    pub error: ErrorDetail,
    pub report: ImportReport,
}

/// The format of an upload: the bytes decide when they are a workbook, else the Content-Type, else CSV.
pub fn upload_format(headers: &HeaderMap, bytes: &[u8]) -> Format {
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(Format::from_content_type);
    match (declared, Format::sniff(bytes)) {
        (_, Format::Xlsx) | (Some(Format::Xlsx), _) => Format::Xlsx,
        _ => Format::Csv,
    }
}

/// Import people from a register file (the national system's 党员信息 columns; see README 导入花名册).
/// The dry run reports every bad row (row, column, message) and writes nothing. The real run writes
/// every row in one transaction, or — when any row has an error — nothing (422 with the report). Each
/// branch is named in the file and must be one the caller may place people in (org staff, branch
/// secretary); a branch out of reach is an error of its rows and is audited.
#[utoipa::path(post, path = "/api/v1/people/import", tag = "people", params(ImportQuery),
    request_body(description = "The register file as the raw body (not multipart): xlsx, or CSV in UTF-8 (with or without BOM) or GB18030.",
        content(([u8] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))),
    responses((status = 200, body = ImportReport, description = "Dry run, or imported (`committed`)"),
              (status = 422, body = ImportRejected, description = "Real run with error rows: nothing written"),
              (status = 403, body = ErrorBody), (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn import(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dry_run = q.dry_run.unwrap_or(true);
    let format = upload_format(&headers, &body);
    let report = api(s.platform.import_people_file(&c.ctx, &c.actor, &body, Some(format), dry_run).await, &c.ctx)?;
    if !dry_run && !report.committed && report.error_rows > 0 {
        let error = ErrorDetail {
            code: "import_rejected".into(),
            message: format!("有{}行存在错误，未导入任何记录；请按报告修改后重新导入", report.error_rows),
            fields: None,
            challenge: None,
            request_id: c.ctx.request_id.clone(),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(ImportRejected { error, report })).into_response());
    }
    Ok(Json(report).into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// The organization whose subtree is exported (only what the caller may read).
    pub org_id: i64,
    /// `xlsx` (default) or `csv`.
    #[param(example = "xlsx")]
    pub format: Option<String>,
}

/// Export the people of a subtree the caller may read as a register file: ID number and phone masked,
/// no address, cells that look like formulas neutralised. Audited. 404 outside the caller's scope; 403
/// `reauth_required` when the last login or step-up is older than 10 minutes (security.md AT-7).
#[utoipa::path(get, path = "/api/v1/people/export", tag = "people", params(ExportQuery),
    responses((status = 200, description = "The file, as an attachment",
                content(([u8] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody, description = "reauth_required"),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn export(State(s): State<AppState>, c: Caller, Query(q): Query<ExportQuery>) -> Result<Response, ApiError> {
    let Some(format) = Format::parse(q.format.as_deref().unwrap_or("xlsx")) else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "format 应为 xlsx 或 csv".into(),
            None,
            &c.ctx.request_id,
        ));
    };
    let file = api(s.platform.export_people(&c.ctx, &c.actor, q.org_id, format).await, &c.ctx)?;
    Ok(attachment(file))
}

/// A file download: its type, `attachment` with the Chinese name (RFC 6266/5987) and an ASCII fallback.
pub fn attachment(file: platform::service::Export) -> Response {
    let encoded = crate::auth::encode(&file.file_name).replace('/', "%2F");
    let fallback = format!("people.{}", file.format.code());
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    (
        [(header::CONTENT_TYPE, file.format.content_type().to_string()), (header::CONTENT_DISPOSITION, disposition)],
        file.bytes,
    )
        .into_response()
}
