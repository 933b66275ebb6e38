//! `/api/v1/meetings` and the organizational-life views of an organization (`/api/v1/orgs/{id}/compliance`,
//! its roll-up, attendance statistics): the 组织生活 application (crates/life) over HTTP. Query items arrive
//! as strings and are parsed here, so a malformed date or year is a 422 with its field, like a bad body.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use life::Life;
use life::model::{AttendanceInput, LeaveInput, Meeting, MeetingInput, PersonAttendance, parse_as_of_year, parse_year};
use life::plans::Plans;
use life::plans::model::{CancelPlanInput, Plan, PlanInput};
use life::rules::Flag;
use life::service::{MeetingList, MeetingQuery, Rollup};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::files::{RawUpload, download};
use platform::files::AttachmentMeta;

/// A life result as an API result (life's errors are the platform's, same codes and messages).
fn life_api<T>(r: Result<T, life::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

fn invalid(c: &Caller, fields: BTreeMap<String, String>) -> ApiError {
    ApiError::new(platform::Error::Invalid(fields), &c.ctx.request_id)
}

/// Plan or record a meeting (api-contract.md "Organizational life"). Attendees default to the members of the
/// organization (for a 支委会: those holding a committee post; for a talk: nobody). A meeting dated up to
/// today is recorded as held unless `status` says otherwise. Branch secretaries and org staff, in their
/// subtree; every write is audited.
#[utoipa::path(post, path = "/api/v1/meetings", tag = "life",
    request_body(content = MeetingInput, example = json!({"org_id": 5, "kind": "committee", "title": "1月支委会", "held_on": "2025-01-13"})),
    responses(
        (status = 201, body = Meeting, description = "the meeting as stored, `id` first"),
        (status = 422, body = ErrorBody, description = "未知会议类型、日期格式错误、参会人员不属于本组织等，见 error.fields"),
        (status = 403, body = ErrorBody, description = "只读角色（如校领导）不能登记会议")
    ))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<MeetingInput>,
) -> Result<(StatusCode, Json<Meeting>), ApiError> {
    let meeting = life_api(Life::new(&s.platform).create_meeting(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(meeting)))
}

/// Query of the meeting list, as it arrives.
#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// The organization (with the groups below it); without it, the meetings the caller is invited to.
    pub org_id: Option<i64>,
    /// Calendar year, default this year.
    pub year: Option<String>,
    pub kind: Option<String>,
}

/// Meetings of an organization in a year, latest first, with attendance counts.
#[utoipa::path(get, path = "/api/v1/meetings", tag = "life", params(ListParams),
    responses((status = 200, body = MeetingList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<ListParams>,
) -> Result<Json<MeetingList>, ApiError> {
    let year = parse_year(q.year.as_deref()).map_err(|f| invalid(&c, f))?;
    let query = MeetingQuery { org_id: q.org_id, year, kind: q.kind };
    Ok(Json(life_api(Life::new(&s.platform).list_meetings(&c.ctx, &c.actor, &query).await, &c)?))
}

/// One meeting with its attendees and attendance. 404 outside the caller's scope (a member reads the
/// meetings she is invited to).
#[utoipa::path(get, path = "/api/v1/meetings/{id}", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Meeting>, ApiError> {
    Ok(Json(life_api(Life::new(&s.platform).get_meeting(&c.ctx, &c.actor, id).await, &c)?))
}

/// Change the items given (others keep their value); `attendee_ids` replaces the list. Pass `version` to
/// refuse a lost update (409). An archived meeting cannot change (409).
#[utoipa::path(patch, path = "/api/v1/meetings/{id}", tag = "life", params(("id" = i64, Path)), request_body = MeetingInput,
    responses((status = 200, body = Meeting), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<MeetingInput>,
) -> Result<Json<Meeting>, ApiError> {
    Ok(Json(life_api(Life::new(&s.platform).update_meeting(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The secretary's sign-in sheet: present / leave (with a reason) / absent per attendee; an empty status
/// clears the entry. Errors are keyed `attendance.{person_id}`.
#[utoipa::path(put, path = "/api/v1/meetings/{id}/attendance", tag = "life", params(("id" = i64, Path)),
    request_body(content = AttendanceInput, example = json!({"entries": [{"person_id": 12, "status": "present"},
        {"person_id": 13, "status": "leave", "reason": "外出实习"}]})),
    responses((status = 200, body = Meeting), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attendance(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<AttendanceInput>,
) -> Result<Json<Meeting>, ApiError> {
    Ok(Json(life_api(Life::new(&s.platform).record_attendance(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// A member's leave request for a meeting she is invited to, up to its day.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/leave", tag = "life", params(("id" = i64, Path)),
    request_body = LeaveInput,
    responses((status = 200, body = Meeting), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn leave(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<LeaveInput>,
) -> Result<Json<Meeting>, ApiError> {
    Ok(Json(life_api(Life::new(&s.platform).request_leave(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Archive a held or cancelled meeting (归档): it cannot change afterwards.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/archive", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Meeting), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn archive(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Meeting>, ApiError> {
    Ok(Json(life_api(Life::new(&s.platform).archive_meeting(&c.ctx, &c.actor, id).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct YearParams {
    /// Calendar year, default this year.
    pub year: Option<String>,
}

/// Attendance per person of the organization's subtree over the year's held meetings (planned and cancelled
/// ones left out); the rate counts recorded entries only.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/attendance", tag = "life", params(("id" = i64, Path), YearParams),
    responses((status = 200, body = Vec<PersonAttendance>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn org_attendance(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearParams>,
) -> Result<Json<Vec<PersonAttendance>>, ApiError> {
    let year = parse_year(q.year.as_deref()).map_err(|f| invalid(&c, f))?;
    Ok(Json(life_api(Life::new(&s.platform).attendance(&c.ctx, &c.actor, id, year).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct ComplianceParams {
    /// "Today" for the check, `YYYY-MM-DD` (default today, Beijing time). Only periods that ended before it
    /// are judged (domain.md C6).
    pub as_of: Option<String>,
    /// The year to judge (default: the year of the day before `as_of`, so on 2026-01-01 it is 2025).
    pub year: Option<String>,
}

/// The compliance flags (api-contract.md).
#[derive(Serialize, ToSchema)]
pub struct ComplianceFlags {
    pub flags: Vec<Flag>,
}

/// Every required meeting missing in a fully elapsed period of the year, for that organization (domain.md
/// ORG-01…06, ORG-08): monthly 支委会 (where the branch has a committee) and 主题党日, quarterly 支部党员大会 and
/// 党课 (a reminder), yearly 组织生活会 and 谈心谈话 for a branch; monthly 党小组会 for a group; the secretary's
/// yearly 党课 for a committee. Each flag names its period (`2025-02`, `2025-Q4`, `2025`) and its articles.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/compliance", tag = "life", params(("id" = i64, Path), ComplianceParams),
    responses(
        (status = 200, body = ComplianceFlags, example = json!({"flags": [{"code": "committee_meeting_missing", "period": "2025-02",
            "message": "2025年2月未召开支委会（支委会一般每月召开1次）",
            "citations": ["《中国共产党支部工作条例（试行）》第十二条"], "rule": "ORG-02", "severity": "violation"}]})),
        (status = 404, body = ErrorBody, description = "组织不存在或不在您的范围内"),
        (status = 422, body = ErrorBody, description = "as_of 或 year 格式错误")
    ))]
pub async fn compliance(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ComplianceParams>,
) -> Result<Json<ComplianceFlags>, ApiError> {
    let (as_of, year) =
        parse_as_of_year(q.as_of.as_deref(), q.year.as_deref(), kernel::dates::today()).map_err(|f| invalid(&c, f))?;
    let (_, answer) = life_api(Life::new(&s.platform).compliance(&c.ctx, &c.actor, id, as_of, year).await, &c)?;
    Ok(Json(ComplianceFlags { flags: answer.flags }))
}

/// For a college or the university: the flags of every branch, group and committee below, counted per
/// organization and rule (an extension of the contract's compliance call).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/compliance/rollup", tag = "life", params(("id" = i64, Path), ComplianceParams),
    responses((status = 200, body = Rollup), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rollup(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ComplianceParams>,
) -> Result<Json<Rollup>, ApiError> {
    let (as_of, year) =
        parse_as_of_year(q.as_of.as_deref(), q.year.as_deref(), kernel::dates::today()).map_err(|f| invalid(&c, f))?;
    Ok(Json(life_api(Life::new(&s.platform).rollup(&c.ctx, &c.actor, id, as_of, year).await, &c)?))
}

/// Attach a file to the meeting's minutes (会议记录附件): the raw request body, its name in `name`. The checks of
/// security.md AT-21 (≤ 25 MB, PDF/PNG/JPEG/DOCX/XLSX/text decided by the content, no zip bomb, no malware test
/// file; scanned by clamd when configured: a signature found is 422 with its name); at most 20 files a meeting. For those who may change the meeting; not once it is archived.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/attachments", tag = "life",
    params(("id" = i64, Path), ("name" = Option<String>, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentMeta), (status = 422, body = ErrorBody, description = "文件类型或内容不被接受"),
              (status = 409, body = ErrorBody, description = "会议已归档，或附件已满20个"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "病毒扫描服务（clamd）已配置但无应答：`scan_unavailable`，文件未保存")))]
pub async fn attach(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    upload: RawUpload,
) -> Result<(StatusCode, Json<AttachmentMeta>), ApiError> {
    let life = Life::new(&s.platform);
    let meta = life_api(life.attach_minutes(&c.ctx, &c.actor, id, &upload.name, &upload.bytes).await, &c)?;
    Ok((StatusCode::CREATED, Json(meta)))
}

/// Download a file of the meeting's minutes (audited): always as an attachment, of the type its content
/// decided, `nosniff`. 404 for those who cannot read the meeting, and for a file of another meeting.
#[utoipa::path(get, path = "/api/v1/meetings/{id}/attachments/{file_id}", tag = "life",
    params(("id" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "病毒复查检出病毒，文件已隔离：`quarantined`")))]
pub async fn attachment(
    State(s): State<AppState>,
    c: Caller,
    Path((id, file_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    Ok(download(life_api(Life::new(&s.platform).minutes_file(&c.ctx, &c.actor, id, file_id).await, &c)?))
}

/// Remove a file of the meeting's minutes (audited); not once the meeting is archived.
#[utoipa::path(delete, path = "/api/v1/meetings/{id}/attachments/{file_id}", tag = "life",
    params(("id" = i64, Path), ("file_id" = i64, Path)),
    responses((status = 204), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn detach(
    State(s): State<AppState>,
    c: Caller,
    Path((id, file_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    life_api(Life::new(&s.platform).detach_minutes(&c.ctx, &c.actor, id, file_id).await, &c)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make a recurring plan (定期计划): a meeting every month on day N (`rule: "day"`, `day`; a month without that
/// day: its last day, domain.md C1) or on the K-th weekday (`rule: "weekday"`, `nth` 1…4 or 5 = last, `weekday`
/// 1 = Monday … 7), from `starts_on` (default today) to `ends_on` (default the end of the year), at most 24
/// meetings. The meetings are written at once, each an ordinary planned meeting afterwards (changed or
/// cancelled alone with `PATCH /api/v1/meetings/{id}`); the attendees get one notice with the schedule.
#[utoipa::path(post, path = "/api/v1/meeting-plans", tag = "life",
    request_body(content = PlanInput, example = json!({"org_id": 5, "kind": "theme_day", "title": "主题党日", "rule": "day",
        "day": 15, "start_time": "14:30", "place": "党员活动室", "ends_on": "2026-12-31"})),
    responses((status = 201, body = Plan, description = "the plan with its meetings"),
              (status = 422, body = ErrorBody, description = "日期、重复方式或会议信息不合规，见 error.fields"),
              (status = 403, body = ErrorBody)))]
pub async fn create_plan(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<PlanInput>,
) -> Result<(StatusCode, Json<Plan>), ApiError> {
    let plan = life_api(Plans::new(&s.platform).create(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(plan)))
}

/// A recurring plan with its meetings as they stand now. 404 outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/meeting-plans/{id}", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Plan), (status = 404, body = ErrorBody)))]
pub async fn get_plan(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Plan>, ApiError> {
    Ok(Json(life_api(Plans::new(&s.platform).get(&c.ctx, &c.actor, id).await, &c)?))
}

/// Cancel a whole recurring plan, with a reason: its meetings still ahead and planned become 已取消 (those held
/// keep their records) and their attendees get one 会议计划取消通知 with the reason. 409 once cancelled or over;
/// 404 outside the caller's scope; 403 for a role that may only read meetings.
#[utoipa::path(post, path = "/api/v1/meeting-plans/{id}/cancel", tag = "life", params(("id" = i64, Path)),
    request_body(content = CancelPlanInput, example = json!({"reason": "学院统一安排主题党日，本支部计划取消"})),
    responses((status = 200, body = Plan, description = "the plan, cancelled, with its meetings as they stand"),
              (status = 422, body = ErrorBody, description = "取消原因未填写或过长"),
              (status = 409, body = ErrorBody, description = "计划已取消或已结束"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_plan(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<CancelPlanInput>,
) -> Result<Json<Plan>, ApiError> {
    Ok(Json(life_api(Plans::new(&s.platform).cancel(&c.ctx, &c.actor, id, &b).await, &c)?))
}
