//! `/api/v1/learning/classes` (线上党课) and `/api/v1/learning/points` over HTTP (crates/learning `classes`,
//! `points`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use learning::Learning;
use learning::classes::model::{ClassInput, ClassList, FinishInput, PartyClass};
use learning::points::model::{Board, MyPoints, PointsRules, RulesInput, Switch};

use super::Body;
use super::learning::learning_api;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// Schedule a 线上党课. With `sign_in: true` the organization's 党课 meeting is planned in 组织生活 (QR sign-in;
/// it counts toward the 党课 obligation once the class is finished); `meeting_id` links an existing one.
#[utoipa::path(post, path = "/api/v1/learning/classes", tag = "learning",
    request_body(content = ClassInput, example = json!({"title": "专题党课：学习纪律处分条例", "lecturer": "张书记",
        "starts_at": "2026-04-10 19:00", "minutes": 60, "link": "https://meeting.example.edu.cn/r/123", "sign_in": true})),
    responses((status = 201, body = PartyClass), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_class(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<ClassInput>,
) -> Result<(StatusCode, Json<PartyClass>), ApiError> {
    let x = learning_api(Learning::new(&s.platform).create_class(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(x)))
}

/// The classes the caller may attend or manage, the latest first.
#[utoipa::path(get, path = "/api/v1/learning/classes", tag = "learning", responses((status = 200, body = ClassList)))]
pub async fn list_classes(State(s): State<AppState>, c: Caller) -> Result<Json<ClassList>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).list_classes(&c.actor).await, &c)?))
}

/// One class; 404 outside its audience.
#[utoipa::path(get, path = "/api/v1/learning/classes/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = PartyClass), (status = 404, body = ErrorBody)))]
pub async fn get_class(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PartyClass>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).get_class(&c.ctx, &c.actor, id).await, &c)?))
}

/// Join through the page (30 minutes before the start until the end): attendance recorded once, audited.
#[utoipa::path(post, path = "/api/v1/learning/classes/{id}/join", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = PartyClass), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn join_class(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PartyClass>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).join_class(&c.ctx, &c.actor, id).await, &c)?))
}

/// After the class: replay link and materials; the linked 党课 meeting is marked held and those who joined
/// through the page are recorded present there.
#[utoipa::path(post, path = "/api/v1/learning/classes/{id}/finish", tag = "learning", params(("id" = i64, Path)),
    request_body(content = FinishInput, example = json!({"replay_url": "https://video.example.edu.cn/replay/123", "material_ids": [1]})),
    responses((status = 200, body = PartyClass), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn finish_class(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<FinishInput>,
) -> Result<Json<PartyClass>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).finish_class(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The caller's own points (off unless staff switched them on; never a ranking, never an assessment input).
#[utoipa::path(get, path = "/api/v1/learning/points", tag = "learning",
    responses((status = 200, body = MyPoints), (status = 403, body = ErrorBody, description = "账号未关联党员档案")))]
pub async fn my_points(State(s): State<AppState>, c: Caller) -> Result<Json<MyPoints>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).my_points(&c.ctx, &c.actor).await, &c)?))
}

/// The member chooses whether she appears on her branch's board (when the branch has switched it on).
#[utoipa::path(put, path = "/api/v1/learning/points/optin", tag = "learning",
    request_body(content = Switch, example = json!({"enabled": true})),
    responses((status = 200, body = MyPoints), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_optin(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<Switch>,
) -> Result<Json<MyPoints>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).set_points_optin(&c.ctx, &c.actor, &b).await, &c)?))
}

/// The points rules in force at an organization (org staff of the subtree).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/points-rules", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = PointsRules), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn points_rules(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<PointsRules>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).points_rules(&c.ctx, &c.actor, id).await, &c)?))
}

/// Set the points of each action for an organization's subtree: on/off, points per event, daily cap.
#[utoipa::path(put, path = "/api/v1/orgs/{id}/points-rules", tag = "learning", params(("id" = i64, Path)),
    request_body(content = RulesInput, example = json!({"rules": [{"action": "studied", "enabled": true, "points": 1, "daily_cap": 6}]})),
    responses((status = 200, body = PointsRules), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn set_points_rules(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<RulesInput>,
) -> Result<Json<PointsRules>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).set_points_rules(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// A branch's board: read by its members while on and by those managing its learning; only members who
/// chose to appear are listed.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/points-board", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = Board), (status = 404, body = ErrorBody)))]
pub async fn points_board(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Board>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).points_board(&c.ctx, &c.actor, id).await, &c)?))
}

/// Switch a branch's board on or off (its secretary, org staff). Off by default.
#[utoipa::path(put, path = "/api/v1/orgs/{id}/points-board", tag = "learning", params(("id" = i64, Path)),
    request_body(content = Switch, example = json!({"enabled": true})),
    responses((status = 200, body = Board), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn set_points_board(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<Switch>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).set_points_board(&c.ctx, &c.actor, id, &b).await, &c)?))
}
