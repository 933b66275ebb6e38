//! `/api/v1/people/{id}/development…` and `/api/v1/orgs/{id}/development/todo` (发展党员): crates/affairs's
//! development pipeline over HTTP. A step that breaks a rule answers 422 with the article cited in Chinese
//! under `error.fields` and writes nothing; a read outside the caller's scope answers 404, a write her role
//! never has 403.

use affairs::Development;
use affairs::model::development::*;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use platform::files::AttachmentMeta;

use super::Body;
use super::transfers::aff;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::files::{RawUpload, download};

/// A person's development: every step of the five stages with the date it is due by or allowed from and
/// its article, her next step (overdue marked) and the steps recorded with their people, votes and files.
#[utoipa::path(get, path = "/api/v1/people/{id}/development/steps", tag = "development", params(("id" = i64, Path)),
    responses((status = 200, body = DevelopmentView), (status = 404, body = ErrorBody)))]
pub async fn steps(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<DevelopmentView>, ApiError> {
    Ok(Json(aff(Development::new(&s.platform).view(&c.ctx, &c.actor, id).await, &c)?))
}

/// Record a step of a person's development. Refused (422, the article cited) when it breaks a rule; an
/// exception the regulations allow (DEV-10 leaving within three months, DEV-13 approval after three months)
/// needs `reason`. Stage-changing steps (activist, candidate, approval, conversion_approval) move the
/// person's stage and its date in the same transaction.
#[utoipa::path(post, path = "/api/v1/people/{id}/development/steps", tag = "development", params(("id" = i64, Path)),
    request_body(content = StepInput, example = json!({"step": "activist", "done_on": "2025-03-15", "contacts": [12, 13],
        "detail": {"decided_by": "branch_committee", "filed": true}, "notes": "支委会研究确定"})),
    responses((status = 200, body = DevelopmentView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn record_step(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<StepInput>,
) -> Result<Json<DevelopmentView>, ApiError> {
    Ok(Json(aff(Development::new(&s.platform).record(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Attach a file to a recorded step: the raw request body, its name in `name` (security.md AT-21 checks:
/// size, type by content, archives, malware test file; scanned by clamd when configured).
#[utoipa::path(post, path = "/api/v1/people/{id}/development/steps/{step_id}/attachments", tag = "development",
    params(("id" = i64, Path), ("step_id" = i64, Path), ("name" = Option<String>, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = AttachmentMeta), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody, description = "病毒扫描服务（clamd）已配置但无应答：`scan_unavailable`，文件未保存")))]
pub async fn attach(
    State(s): State<AppState>,
    c: Caller,
    Path((id, step_id)): Path<(i64, i64)>,
    upload: RawUpload,
) -> Result<Json<AttachmentMeta>, ApiError> {
    let dev = Development::new(&s.platform);
    Ok(Json(aff(dev.attach(&c.ctx, &c.actor, id, step_id, &upload.name, &upload.bytes).await, &c)?))
}

/// Download a file of a step (audited).
#[utoipa::path(get, path = "/api/v1/people/{id}/development/steps/{step_id}/attachments/{file_id}", tag = "development",
    params(("id" = i64, Path), ("step_id" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "病毒复查检出病毒，文件已隔离：`quarantined`")))]
pub async fn attachment(
    State(s): State<AppState>,
    c: Caller,
    Path((id, step_id, file_id)): Path<(i64, i64, i64)>,
) -> Result<Response, ApiError> {
    let a = aff(Development::new(&s.platform).attachment(&c.ctx, &c.actor, id, step_id, file_id).await, &c)?;
    Ok(download(a))
}

/// The to-do list of an organization's subtree: every person in the pipeline with her next step and its
/// date, the overdue first, then by date.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/development/todo", tag = "development", params(("id" = i64, Path)),
    responses((status = 200, body = TodoList), (status = 404, body = ErrorBody)))]
pub async fn todo(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<TodoList>, ApiError> {
    Ok(Json(aff(Development::new(&s.platform).todo(&c.ctx, &c.actor, id).await, &c)?))
}

/// Which version of the 发展党员工作细则 judges cases: the 2014 细则 (default) or, from a date the system
/// administrator set, the reported 2026 revision (unverified, domain.md §0.2).
#[utoipa::path(get, path = "/api/v1/development/settings", tag = "development",
    responses((status = 200, body = RuleSettings), (status = 401, body = ErrorBody)))]
pub async fn settings(State(s): State<AppState>, c: Caller) -> Result<Json<RuleSettings>, ApiError> {
    Ok(Json(aff(Development::new(&s.platform).rule_settings(&c.actor).await, &c)?))
}

/// Switch the reported 2026 revision on from a date, or off (no date). The system administrator only,
/// within 10 minutes of signing in or a step-up (403 `reauth_required` otherwise), with a reason; audited.
/// Every to-do line is judged again by the version now in force.
#[utoipa::path(put, path = "/api/v1/development/settings", tag = "development",
    request_body(content = RuleSettingsInput, example = json!({"revision_2026_from": "2026-12-01", "reason": "校党委组织部〔2026〕12号通知"})),
    responses((status = 200, body = RuleSettings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_settings(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<RuleSettingsInput>,
) -> Result<Json<RuleSettings>, ApiError> {
    Ok(Json(aff(Development::new(&s.platform).set_rule_settings(&c.ctx, &c.actor, &b).await, &c)?))
}

/// Query of the working-day calendar.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct YearQuery {
    /// The year (default: this year, Beijing time).
    pub year: Option<i32>,
}

/// A year of the working-day calendar that publicity periods count by (DEV-11): holidays and the weekend days
/// worked instead. Without entries, Monday to Friday count.
#[utoipa::path(get, path = "/api/v1/development/calendar", tag = "development", params(YearQuery),
    responses((status = 200, body = WorkCalendarYear), (status = 401, body = ErrorBody)))]
pub async fn calendar(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Query(q): axum::extract::Query<YearQuery>,
) -> Result<Json<WorkCalendarYear>, ApiError> {
    let year = q.year.unwrap_or_else(|| kernel::dates::today().year());
    Ok(Json(aff(Development::new(&s.platform).work_calendar_year(&c.actor, year).await, &c)?))
}

/// Replace a year of the working-day calendar (items are days or ranges `A~B`). The system administrator
/// only, after a step-up, with the notice it follows; audited; the to-do lists are judged again.
#[utoipa::path(put, path = "/api/v1/development/calendar", tag = "development",
    request_body(content = WorkCalendarInput, example = json!({"year": 2026, "holidays": ["2026-10-01~2026-10-07"],
        "working_days": ["2026-09-27", "2026-10-10"], "reason": "国务院办公厅关于2026年部分节假日安排的通知"})),
    responses((status = 200, body = WorkCalendarYear), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_calendar(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<WorkCalendarInput>,
) -> Result<Json<WorkCalendarYear>, ApiError> {
    Ok(Json(aff(Development::new(&s.platform).set_work_calendar(&c.ctx, &c.actor, &b).await, &c)?))
}
