//! The register import page for org staff and branch secretaries: upload → the dry run's report (every
//! bad row with its row number, column and reason) → confirm, which imports all rows or none; the
//! empty template and the masked export as downloads.
//!
//! The confirm form carries the checked file back as a hidden field (base64), so the two steps need no
//! server-side state and work across instances and without JavaScript; the real run checks every row
//! again, so a file changed in between is judged afresh.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, FromRequest, Multipart, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use documents::sheet::Format;
use platform::roster::Issue;
use platform::service::ImportReport;
use platform::{Capability, Error};

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

/// Files larger than this are checked but not carried to the confirm step (its form would pass the
/// 2 MiB body limit once base64-encoded); the page says to split them or use `dangjian import people`.
const MAX_CONFIRMABLE: usize = 1_400_000;

#[derive(Template)]
#[template(path = "people_import.html")]
struct ImportPage {
    chrome: Chrome,
    error: Option<String>,
    file_name: String,
    report: Option<ImportReport>,
    issues: Vec<Issue>,
    /// The checked file, for the confirm form (empty when it cannot be confirmed).
    content: String,
    format: &'static str,
}

fn page(s: &AppState, c: &Caller) -> ImportPage {
    ImportPage {
        chrome: Chrome::new(s, c, "people"),
        error: None,
        file_name: String::new(),
        report: None,
        issues: Vec::new(),
        content: String::new(),
        format: "",
    }
}

pub async fn people_import_get(State(s): State<AppState>, c: Caller) -> Response {
    if !c.actor.can_somewhere(Capability::PersonWrite) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    render(StatusCode::OK, &page(&s, &c))
}

/// The uploaded file and its name, from the multipart form.
async fn upload(mut m: Multipart) -> Result<(String, Vec<u8>), String> {
    while let Ok(Some(field)) = m.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_string();
            let bytes = field.bytes().await.map_err(|_| "上传未完成或文件超过2MB，请重试或拆分后导入".to_string())?;
            if bytes.is_empty() {
                return Err("请选择要导入的文件".into());
            }
            return Ok((name, bytes.to_vec()));
        }
    }
    Err("请选择要导入的文件".into())
}

fn format_of(name: &str, bytes: &[u8]) -> Format {
    match Format::from_file_name(name) {
        Some(Format::Xlsx) => Format::Xlsx,
        _ => Format::sniff(bytes),
    }
}

/// The dry run of an uploaded file, with the confirm form when it has no error. The form is read only
/// after the caller is known to be one who may import (a refusal does not depend on the body).
pub async fn people_import_post(State(s): State<AppState>, c: Caller, req: Request) -> Response {
    if !c.actor.can_somewhere(Capability::PersonWrite) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    let mut p = page(&s, &c);
    let read = match Multipart::from_request(req, &s).await {
        Ok(m) => upload(m).await,
        Err(_) => Err("请选择要导入的文件".into()),
    };
    let (name, bytes) = match read {
        Ok(v) => v,
        Err(e) => {
            p.error = Some(e);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
    };
    let format = format_of(&name, &bytes);
    p.file_name = name;
    match s.platform.import_people_file(&c.ctx, &c.actor, &bytes, Some(format), true).await {
        Ok(report) => {
            if report.error_rows == 0 && report.valid_rows > 0 {
                if bytes.len() <= MAX_CONFIRMABLE {
                    p.content = URL_SAFE_NO_PAD.encode(&bytes);
                    p.format = format.code();
                } else {
                    p.error = Some("文件较大，无法在网页上确认导入：请拆分后分批导入，或由管理员用命令行 dangjian import people 导入".into());
                }
            }
            p.issues = report.issues.clone();
            p.report = Some(report);
            render(StatusCode::OK, &p)
        }
        Err(Error::Invalid(fields)) => {
            p.error = Some(fields.into_values().collect::<Vec<_>>().join("；"));
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The real run of the file the dry run checked.
pub async fn people_import_confirm_post(
    State(s): State<AppState>,
    c: Caller,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !c.actor.can_somewhere(Capability::PersonWrite) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    let mut p = page(&s, &c);
    p.file_name = f.get("file_name").cloned().unwrap_or_default();
    let bytes = f.get("content").and_then(|v| URL_SAFE_NO_PAD.decode(v.trim()).ok()).filter(|b| !b.is_empty());
    let format = f.get("format").and_then(|v| Format::parse(v));
    let (Some(bytes), Some(format)) = (bytes, format) else {
        p.error = Some("没有收到要导入的文件，请重新选择文件并检查".into());
        return render(StatusCode::UNPROCESSABLE_ENTITY, &p);
    };
    match s.platform.import_people_file(&c.ctx, &c.actor, &bytes, Some(format), false).await {
        Ok(report) => {
            let status = if report.committed { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            p.issues = report.issues.clone();
            p.report = Some(report);
            render(status, &p)
        }
        Err(Error::Invalid(fields)) => {
            p.error = Some(fields.into_values().collect::<Vec<_>>().join("；"));
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The register of a subtree as a download (masked; audited; after a recent login or step-up).
pub async fn people_export_get(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let org_id = q.get("org_id").and_then(|v| v.parse::<i64>().ok());
    let format = Format::parse(q.get("format").map(String::as_str).unwrap_or("xlsx"));
    let (Some(org_id), Some(format)) = (org_id, format) else {
        return super::error_page(
            StatusCode::BAD_REQUEST,
            "无法导出",
            "请从人员名册页面选择要导出的组织",
            &c.ctx.request_id,
        );
    };
    match s.platform.export_people(&c.ctx, &c.actor, org_id, format).await {
        Ok(file) => crate::api::register::attachment(file),
        // Back to the list after the step-up, not to the download (a boosted page cannot show a file).
        Err(Error::ReauthRequired) => {
            Redirect::to(&format!("/reauth?next={}", crate::auth::encode(&format!("/people?org_id={org_id}"))))
                .into_response()
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The empty template: the header row the importer reads first (for those who may import).
pub async fn people_import_template_get(c: Caller) -> Response {
    if !c.actor.can_somewhere(Capability::PersonWrite) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    match platform::roster::template() {
        Ok(bytes) => crate::api::register::attachment(platform::service::Export {
            file_name: "花名册导入模板.xlsx".into(),
            format: Format::Xlsx,
            bytes,
            rows: 0,
        }),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}
