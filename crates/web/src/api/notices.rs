//! `/api/v1/notices`: 通知公告 with read receipts (crates/life, `life::notices`) over HTTP. A notice is
//! published by an organization to the people of its subtree; each recipient confirms it with one call; the
//! publisher and the secretaries below see the receipts of their part.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use life::notices::Notices;
use life::notices::model::{Notice, NoticeInput, NoticeList, Unread, WithdrawInput};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

fn life_api<T>(r: Result<T, life::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

/// Publish a notice to the people of an organization's subtree (all of them, or the stages listed). Branch
/// secretaries and org staff, in their subtree; audited with the number of recipients. A subtree without anyone
/// of the stages chosen is a 422 (`stages`).
#[utoipa::path(post, path = "/api/v1/notices", tag = "life",
    request_body(content = NoticeInput, example = json!({"org_id": 5, "title": "关于开展3月主题党日活动的通知",
        "body": "各位党员：\n\n请于3月20日下午参加主题党日活动。", "stages": ["full", "probationary"]})),
    responses(
        (status = 201, body = Notice, description = "the notice as published, with its receipts"),
        (status = 422, body = ErrorBody, description = "标题、正文、面向对象或党组织有误，见 error.fields"),
        (status = 403, body = ErrorBody, description = "只读角色（如校领导）不能发布通知")
    ))]
pub async fn publish(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<NoticeInput>,
) -> Result<(StatusCode, Json<Notice>), ApiError> {
    let n = life_api(Notices::new(&s.platform).publish(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(n)))
}

/// The notices the caller sees: sent to her (with her confirmation), published in her reach, and published
/// above her organizations (their receipts for her part are on the notice).
#[utoipa::path(get, path = "/api/v1/notices", tag = "life", responses((status = 200, body = NoticeList)))]
pub async fn list(State(s): State<AppState>, c: Caller) -> Result<Json<NoticeList>, ApiError> {
    Ok(Json(life_api(Notices::new(&s.platform).list(&c.actor).await, &c)?))
}

/// One notice. Its recipients read it; whoever oversees its recipients also gets `receipts` (of the whole
/// notice for the publisher's side, of her own subtree for a secretary below). 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Notice), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Notice>, ApiError> {
    Ok(Json(life_api(Notices::new(&s.platform).get(&c.ctx, &c.actor, id).await, &c)?))
}

/// The caller confirms reading a notice sent to her (回执); a second call keeps the first time. 403 for someone
/// who sees the notice but was not sent it; 409 once it is withdrawn.
#[utoipa::path(post, path = "/api/v1/notices/{id}/read", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Notice), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn confirm(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Notice>, ApiError> {
    Ok(Json(life_api(Notices::new(&s.platform).confirm(&c.ctx, &c.actor, id).await, &c)?))
}

/// Withdraw a published notice (撤回) with a reason; its recipients see that it was withdrawn and why. The
/// record and its receipts stay.
#[utoipa::path(post, path = "/api/v1/notices/{id}/withdraw", tag = "life", params(("id" = i64, Path)),
    request_body(content = WithdrawInput, example = json!({"reason": "时间调整，另行通知"})),
    responses((status = 200, body = Notice), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn withdraw(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<WithdrawInput>,
) -> Result<Json<Notice>, ApiError> {
    Ok(Json(life_api(Notices::new(&s.platform).withdraw(&c.ctx, &c.actor, id, &b, None).await, &c)?))
}

/// Who has not confirmed yet.
#[derive(Serialize, ToSchema)]
pub struct UnreadList {
    pub notice_id: i64,
    /// The organization whose people are listed (the caller's part).
    pub org_id: i64,
    pub people: Vec<Unread>,
}

/// The people of the caller's part who have not confirmed a notice yet, by organization and name (at most
/// 5,000), to remind them in person. For those who oversee its recipients; 403 for a plain recipient.
#[utoipa::path(get, path = "/api/v1/notices/{id}/unread", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = UnreadList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unread(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<UnreadList>, ApiError> {
    let (notice, people) = life_api(Notices::new(&s.platform).unread(&c.ctx, &c.actor, id).await, &c)?;
    let org_id = notice.receipts.map_or(notice.org_id, |r| r.org_id);
    Ok(Json(UnreadList { notice_id: id, org_id, people }))
}
