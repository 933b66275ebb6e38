//! PIPL rights (个人信息保护法 第四十五至四十七条; security.md AT-36, AT-37): a member's requests for a copy, a
//! correction or a deletion of her data, the copy's download by its single-use token, and the record keepers'
//! queue and decisions. The rules are in `platform::service` (rights.rs); these handlers parse and answer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::service::{Arrangement, ArrangementInput, Decision, RightsInput, RightsRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// A request made; a copy's single-use token is in `token`, this once.
#[derive(Serialize, ToSchema)]
pub struct Requested {
    pub request: RightsRequest,
    /// For a copy: send it as `{"token": …}` to `POST /api/v1/me/copy` within 72 hours, once. Only its hash is
    /// kept; it never appears in a URL, so no access log holds it.
    pub token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(default)]
#[derive(Default)]
pub struct CopyToken {
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionInput {
    /// `accept` (a correction), `endorse` and then, by someone else, `approve` (a deletion), or `refuse`.
    #[schema(example = "accept")]
    pub decision: String,
    /// The reason shown to the member; required for `refuse` (4–200 characters).
    pub note: Option<String>,
}

/// The caller's own requests about her data, newest first.
#[utoipa::path(get, path = "/api/v1/me/privacy-requests", tag = "people",
    responses((status = 200, body = Vec<RightsRequest>)))]
pub async fn mine(State(s): State<AppState>, c: Caller) -> Result<Json<Vec<RightsRequest>>, ApiError> {
    Ok(Json(api(s.platform.my_rights_requests(&c.actor).await, &c.ctx)?))
}

/// Ask for a copy of one's data, a correction of one item, or its deletion (only for an account linked to a
/// person: 404 otherwise). Corrections and deletions are due within 30 days (GB/T 35273-2020 8.7 c)).
#[utoipa::path(post, path = "/api/v1/me/privacy-requests", tag = "people", request_body = RightsInput,
    responses((status = 201, body = Requested), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn request(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<RightsInput>,
) -> Result<(StatusCode, Json<Requested>), ApiError> {
    let r = api(s.platform.request_right(&c.ctx, &c.actor, &b).await, &c.ctx)?;
    Ok((StatusCode::CREATED, Json(Requested { request: r.request, token: r.token })))
}

/// File a correction or deletion request for a member who made it in person, on paper or by telephone: the
/// record keepers of her record (those who may edit it) only, 404 for anyone else. It then goes through the
/// queue like her own, she sees it with `filed_by`; a copy must be asked by herself (422).
///
/// For a **deceased** member it is her close relative's request (PIPL 第四十九条): `requester_name`,
/// `requester_relation` (spouse, parent, child, sibling, grandparent, grandchild), `requester_phone` and
/// `identity_checked: true` are required and `reason` states the relative's lawful and legitimate interest; a
/// copy may be asked, its single-use `token` is given to the caller, who downloads it with `POST
/// /api/v1/me/copy` and hands it over. 409 when she arranged in her lifetime that relatives may not, or when
/// her data was already erased.
#[utoipa::path(post, path = "/api/v1/people/{id}/privacy-requests", tag = "people", params(("id" = i64, Path)),
    request_body = RightsInput,
    responses((status = 201, body = Requested), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn request_for(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<RightsInput>,
) -> Result<(StatusCode, Json<Requested>), ApiError> {
    let r = api(s.platform.request_right_for(&c.ctx, &c.actor, id, &b).await, &c.ctx)?;
    Ok((StatusCode::CREATED, Json(Requested { request: r.request, token: r.token })))
}

/// The copy as a ZIP (JSON, a CSV per table, a readable Chinese page), for the single-use token of a copy
/// request of the same person (or, for a deceased member's relative, of the record keeper who filed it), within
/// 72 hours. Audited; a second use, another person's token or a lapsed one
/// gets nothing.
#[utoipa::path(post, path = "/api/v1/me/copy", tag = "people", request_body = CopyToken,
    responses((status = 200, description = "application/zip, as a download"), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "used or lapsed")))]
pub async fn copy(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<CopyToken>,
) -> Result<axum::response::Response, ApiError> {
    let doc = api(s.platform.take_copy(&c.ctx, &c.actor, &b.token, &crate::privacy::providers()).await, &c.ctx)?;
    Ok(crate::privacy::zip_download(&doc, &c.ctx.request_id).await)
}

/// The open corrections and deletions of the people whose records the caller keeps (branch secretary, org
/// staff), oldest due first, with `overdue` marks.
#[utoipa::path(get, path = "/api/v1/privacy-requests", tag = "people",
    responses((status = 200, body = Vec<RightsRequest>), (status = 403, body = ErrorBody)))]
pub async fn queue(State(s): State<AppState>, c: Caller) -> Result<Json<Vec<RightsRequest>>, ApiError> {
    Ok(Json(api(s.platform.rights_queue(&c.ctx, &c.actor).await, &c.ctx)?))
}

/// Decide a request: accept a correction (applied at once), endorse a deletion, approve one endorsed by
/// someone else (the data is erased or pseudonymised), or refuse with a reason.
#[utoipa::path(post, path = "/api/v1/privacy-requests/{id}/decision", tag = "people", request_body = DecisionInput,
    params(("id" = i64, Path)),
    responses((status = 200, body = RightsRequest), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn decide(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<DecisionInput>,
) -> Result<Json<RightsRequest>, ApiError> {
    let Some(decision) = Decision::parse(&b.decision) else {
        let fields = std::collections::BTreeMap::from([(
            "decision".to_string(),
            "只能是 accept、refuse、endorse 或 approve".to_string(),
        )]);
        return Err(ApiError::new(platform::Error::Invalid(fields), &c.ctx.request_id));
    };
    let providers = crate::privacy::providers();
    Ok(Json(api(s.platform.decide_right(&c.ctx, &c.actor, id, decision, b.note.as_deref(), &providers).await, &c.ctx)?))
}

/// The caller's arrangement for her data after her death (PIPL 第四十九条): whether her close relatives may
/// exercise her rights of access, copy, correction and deletion; `relatives_may: true` and no `set_at` when she
/// made none (the law's default). 404 for an account not linked to a person.
#[utoipa::path(get, path = "/api/v1/me/posthumous-arrangement", tag = "people",
    responses((status = 200, body = Arrangement), (status = 404, body = ErrorBody)))]
pub async fn arrangement(State(s): State<AppState>, c: Caller) -> Result<Json<Arrangement>, ApiError> {
    Ok(Json(api(s.platform.my_arrangement(&c.actor).await, &c.ctx)?))
}

/// Make or change that arrangement (`relatives_may` required, `note` up to 200 characters). Audited.
#[utoipa::path(put, path = "/api/v1/me/posthumous-arrangement", tag = "people", request_body = ArrangementInput,
    responses((status = 200, body = Arrangement), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_arrangement(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<ArrangementInput>,
) -> Result<Json<Arrangement>, ApiError> {
    Ok(Json(api(s.platform.set_my_arrangement(&c.ctx, &c.actor, &b).await, &c.ctx)?))
}
