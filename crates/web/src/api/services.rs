//! `/api/v1/service-requests`, `/api/v1/certificates`, `/api/v1/volunteer-hours`, `/api/v1/calendar-feed`: 党员服务
//! (crates/life, `life::services`) over HTTP. A member files requests and records volunteer hours; her branch
//! secretary and the staff above handle and confirm them; a completed proof request yields a certificate PDF
//! whose QR code opens the public `/verify/certificates/{number}` page; her calendar feed is `/calendar/{token}.ics`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use life::services::Services;
use life::services::model::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

fn life_api<T>(r: Result<T, life::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

/// The address a certificate's QR code carries (the host the request came to), when it can be told.
pub fn verify_url(s: &AppState, headers: &HeaderMap, number: &str) -> Option<String> {
    super::transfers::public_url(s, headers, &format!("/verify/certificates/{number}"))
}

/// File a member-service request (党员服务). The caller must be a person in the register; it goes to the
/// organization she belongs to. A proof (`membership_proof`, `relation_proof`) only for full and probationary
/// members (422 `kind`).
#[utoipa::path(post, path = "/api/v1/service-requests", tag = "life",
    request_body(content = RequestInput, example = json!({"kind": "membership_proof", "details": "用于报考选调生，需提交党员身份证明"})),
    responses(
        (status = 201, body = ServiceRequest, description = "the request with its first history step"),
        (status = 422, body = ErrorBody, description = "服务事项或说明有误，见 error.fields"),
        (status = 403, body = ErrorBody, description = "账号未关联党员信息")
    ))]
pub async fn file(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<RequestInput>,
) -> Result<(StatusCode, Json<ServiceRequest>), ApiError> {
    let r = life_api(Services::new(&s.platform).file(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The requests the caller sees: her own, and (secretaries, staff, leaders) those filed in her organizations,
/// open ones first.
#[utoipa::path(get, path = "/api/v1/service-requests", tag = "life", responses((status = 200, body = RequestList)))]
pub async fn list(State(s): State<AppState>, c: Caller) -> Result<Json<RequestList>, ApiError> {
    Ok(Json(life_api(Services::new(&s.platform).list(&c.actor).await, &c)?))
}

/// One request with its history, its certificate and the actions open to the caller. 404 for anyone but the
/// member and those who handle her organization's requests.
#[utoipa::path(get, path = "/api/v1/service-requests/{id}", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceRequest), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<ServiceRequest>, ApiError> {
    Ok(Json(life_api(Services::new(&s.platform).get(&c.ctx, &c.actor, id).await, &c)?))
}

async fn act(
    s: &AppState,
    c: &Caller,
    id: i64,
    a: RequestAction,
    b: &HandleInput,
) -> Result<Json<ServiceRequest>, ApiError> {
    Ok(Json(life_api(Services::new(&s.platform).act(&c.ctx, &c.actor, id, a, b, None).await, c)?))
}

/// Accept (受理) a submitted request. Secretaries and staff over its organization; 403 read-only, 409 not open.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/accept", tag = "life", params(("id" = i64, Path)),
    request_body(content = HandleInput, example = json!({"note": "已受理，三个工作日内办结"})),
    responses((status = 200, body = ServiceRequest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn accept(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<HandleInput>,
) -> Result<Json<ServiceRequest>, ApiError> {
    act(&s, &c, id, RequestAction::Accept, &b).await
}

/// Refuse (不予办理) an open request; `note` (the reason the member sees) is required (422).
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/refuse", tag = "life", params(("id" = i64, Path)),
    request_body(content = HandleInput, example = json!({"note": "组织关系已转出本校，请向现所在党组织申请"})),
    responses((status = 200, body = ServiceRequest), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn refuse(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<HandleInput>,
) -> Result<Json<ServiceRequest>, ApiError> {
    act(&s, &c, id, RequestAction::Refuse, &b).await
}

/// Complete (办结) an open request. A proof request issues its certificate in the same transaction (409 when
/// the person is no longer a full or probationary member).
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/complete", tag = "life", params(("id" = i64, Path)),
    request_body(content = HandleInput, example = json!({"note": "已开具，请到学院党委办公室加盖公章"})),
    responses((status = 200, body = ServiceRequest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn complete(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<HandleInput>,
) -> Result<Json<ServiceRequest>, ApiError> {
    act(&s, &c, id, RequestAction::Complete, &b).await
}

/// The member withdraws (撤销) her own request before it is accepted.
#[utoipa::path(post, path = "/api/v1/service-requests/{id}/cancel", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceRequest), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ServiceRequest>, ApiError> {
    act(&s, &c, id, RequestAction::Cancel, &HandleInput::default()).await
}

/// The certificate of a completed proof request as a PDF (A4, with its number and verification QR code). The
/// member and those who see the request; 404 when no certificate was issued; 503 when the CJK fonts are missing.
#[utoipa::path(get, path = "/api/v1/service-requests/{id}/certificate", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", description = "the certificate"),
              (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn certificate(State(s): State<AppState>, c: Caller, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    match Services::new(&s.platform).certificate(&c.ctx, &c.actor, id).await {
        Ok(cert) => {
            let verify = verify_url(&s, &headers, &cert.number);
            let doc = life::services::certificate::document(&cert, verify.as_deref());
            super::transfers::pdf_response(doc, format!("certificate-{}.pdf", cert.number), &c.ctx.request_id).await
        }
        Err(e) => ApiError::new(platform::Error::from(e), &c.ctx.request_id).into_response(),
    }
}

/// A certificate after its revocation.
#[derive(Serialize, ToSchema)]
pub struct Revoked {
    pub number: String,
    pub state: CertificateState,
    pub revoke_reason: Option<String>,
}

/// Revoke (收回) a certificate with a reason: its verification page then shows 已收回. Secretaries and staff over
/// the issuing organization.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/revoke", tag = "life", params(("number" = String, Path)),
    request_body(content = RevokeInput, example = json!({"reason": "证明中党员身份有误，已重新开具"})),
    responses((status = 200, body = Revoked), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(s): State<AppState>,
    c: Caller,
    Path(number): Path<String>,
    Body(b): Body<RevokeInput>,
) -> Result<Json<Revoked>, ApiError> {
    let r = life_api(Services::new(&s.platform).revoke(&c.ctx, &c.actor, &number, &b).await, &c)?;
    let state = CertificateState::parse(&r.state).unwrap_or(CertificateState::Revoked);
    Ok(Json(Revoked { number: r.number, state, revoke_reason: r.revoke_reason }))
}

// ---------------------------------------------------------------- volunteer hours

/// The year of a volunteer-hours query.
#[derive(Deserialize, IntoParams)]
pub struct YearParams {
    /// Calendar year, default this year.
    pub year: Option<String>,
}

fn year_of(q: &YearParams, c: &Caller) -> Result<i32, ApiError> {
    let y = life::model::parse_year(q.year.as_deref())
        .map_err(|f| ApiError::new(platform::Error::Invalid(f), &c.ctx.request_id))?;
    Ok(y.unwrap_or_else(|| kernel::dates::today().year()))
}

/// Record volunteer service (志愿服务): what, which day, how many hours (one decimal). It counts once the
/// secretary confirms it.
#[utoipa::path(post, path = "/api/v1/volunteer-hours", tag = "life",
    request_body(content = HoursInput, example = json!({"activity": "社区疫苗接种点秩序维护", "served_on": "2026-03-14", "hours": 2.5})),
    responses((status = 201, body = HoursEntry), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn record_hours(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<HoursInput>,
) -> Result<(StatusCode, Json<HoursEntry>), ApiError> {
    let e = life_api(Services::new(&s.platform).record_hours(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// The caller's own volunteer entries of a year with her confirmed and pending hours.
#[utoipa::path(get, path = "/api/v1/volunteer-hours", tag = "life", params(YearParams),
    responses((status = 200, body = MyHours), (status = 422, body = ErrorBody)))]
pub async fn my_hours(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<YearParams>,
) -> Result<Json<MyHours>, ApiError> {
    let year = year_of(&q, &c)?;
    Ok(Json(life_api(Services::new(&s.platform).my_hours(&c.actor, year).await, &c)?))
}

/// Confirm a volunteer entry waiting in the caller's organizations.
#[utoipa::path(post, path = "/api/v1/volunteer-hours/{id}/confirm", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = HoursEntry), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn confirm_hours(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<HoursEntry>, ApiError> {
    let r = Services::new(&s.platform).decide_hours(&c.ctx, &c.actor, id, true, &DecideInput::default()).await;
    Ok(Json(life_api(r, &c)?))
}

/// Reject a volunteer entry with a reason (required, the member sees it).
#[utoipa::path(post, path = "/api/v1/volunteer-hours/{id}/reject", tag = "life", params(("id" = i64, Path)),
    request_body(content = DecideInput, example = json!({"reason": "活动当天未签到，请补充证明材料"})),
    responses((status = 200, body = HoursEntry), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject_hours(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<DecideInput>,
) -> Result<Json<HoursEntry>, ApiError> {
    Ok(Json(life_api(Services::new(&s.platform).decide_hours(&c.ctx, &c.actor, id, false, &b).await, &c)?))
}

/// An organization's volunteer hours of a year: confirmed totals per person and per organization directly
/// below it, and the entries (pending first). 404 outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/volunteer-hours", tag = "life", params(("id" = i64, Path), YearParams),
    responses((status = 200, body = OrgHoursReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn org_hours(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearParams>,
) -> Result<Json<OrgHoursReport>, ApiError> {
    let year = year_of(&q, &c)?;
    Ok(Json(life_api(Services::new(&s.platform).org_hours(&c.ctx, &c.actor, id, year).await, &c)?))
}

// ---------------------------------------------------------------- calendar feed

/// A new calendar feed: its address, shown this once.
#[derive(Serialize, ToSchema)]
pub struct Feed {
    /// `/calendar/{token}.ics`; subscribe to it in the phone's calendar. Anyone holding it sees the meetings'
    /// titles and places, so keep it to yourself; a new one replaces it.
    pub path: String,
}

/// Make (or make anew) the caller's calendar feed; the previous address stops working at once.
#[utoipa::path(post, path = "/api/v1/calendar-feed", tag = "life",
    responses((status = 201, body = Feed), (status = 403, body = ErrorBody, description = "账号未关联党员信息")))]
pub async fn new_feed(State(s): State<AppState>, c: Caller) -> Result<(StatusCode, Json<Feed>), ApiError> {
    let token = life_api(Services::new(&s.platform).new_feed(&c.ctx, &c.actor).await, &c)?;
    Ok((StatusCode::CREATED, Json(Feed { path: format!("/calendar/{token}.ics") })))
}

/// Revoke the caller's calendar feed (204; 404 when she has none).
#[utoipa::path(delete, path = "/api/v1/calendar-feed", tag = "life",
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_feed(State(s): State<AppState>, c: Caller) -> Result<StatusCode, ApiError> {
    if life_api(Services::new(&s.platform).revoke_feed(&c.ctx, &c.actor).await, &c)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(platform::Error::NotFound, &c.ctx.request_id))
    }
}
