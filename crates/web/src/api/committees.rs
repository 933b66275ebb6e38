//! `/api/v1/orgs/{id}/committee…`: an organization's committee and terms (委员会与换届, crates/life,
//! `life::committees`) over HTTP — the current term with its ORG-09/ORG-10 answer and the history, a term
//! recorded as it stands, an approved postponement, an election as counted (ELE-01), and the terms of a
//! subtree flagged by the nightly reminder. Organizations outside the caller's scope are 404.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use life::committees::Committees;
use life::committees::model::{Election, ElectionInput, PostponeInput, TermInput, TermReminder};
use life::committees::service::Committee;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

fn life_api<T>(r: Result<T, life::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

/// An organization's committee: the ORG-09/ORG-10 answer (committee required, allowed size, the term's end,
/// the reminder day, the postponement window), the current term with its members and status (`running`,
/// `due_soon`, `overdue`, with the article), the earlier terms and the elections recorded.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/committee", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Committee), (status = 404, body = ErrorBody, description = "组织不存在或不在您的范围内")))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Committee>, ApiError> {
    let today = kernel::dates::today();
    Ok(Json(life_api(Committees::new(&s.platform).get(&c.ctx, &c.actor, id, today).await, &c)?))
}

/// Record a term as it stands (a committee elected before the platform was used): the election day, the
/// term in years (3 unless given, 3 to 5 allowed, ORG-10) and the members with their posts (one secretary).
/// It becomes the current term; the one before ends on its election day. A committee of the wrong size for
/// the branch (ORG-09) is a 422 with the article; nothing is written.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/committee/terms", tag = "life", params(("id" = i64, Path)),
    request_body(content = TermInput, example = json!({"elected_on": "2023-06-30", "term_years": 3,
        "members": [{"person_id": 12, "post": "secretary"}, {"person_id": 13, "post": "organizing"},
                    {"person_id": 14, "post": "publicity"}]})),
    responses((status = 201, body = Committee), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn record_term(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<TermInput>,
) -> Result<(StatusCode, Json<Committee>), ApiError> {
    let r = life_api(Committees::new(&s.platform).record_term(&c.ctx, &c.actor, id, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Record the higher organization's approval to delay (or advance) the current term's election (延期换届):
/// the new day, the reason, who approved it and when. More than one year from the term's end is a 422 citing
/// 《中国共产党基层组织选举工作条例》第三条; without a current term, 409.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/committee/postpone", tag = "life", params(("id" = i64, Path)),
    request_body(content = PostponeInput, example = json!({"postpone_to": "2027-03-31", "reason": "支部书记援疆，待返校后换届",
        "approved_by": "马克思主义学院党委 院党委〔2026〕12号", "approved_on": "2026-05-20"})),
    responses((status = 200, body = Committee), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn postpone(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<PostponeInput>,
) -> Result<Json<Committee>, ApiError> {
    Ok(Json(life_api(Committees::new(&s.platform).postpone(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The election recorded and the committee after it.
#[derive(Serialize, ToSchema)]
pub struct ElectionResult {
    pub election: Election,
    pub committee: Committee,
}

/// Record an election as counted (换届选举): those entitled to attend, those present, the seats, each
/// candidate's yes votes and, for those elected, their posts. ELE-01 decides: more than 4/5 present, yes
/// votes above half of those entitled, surplus winners by votes; no quorum, nobody elected or a tie for the
/// last seats is a 422 with the article, as is a committee of the wrong size (ORG-09). A valid election ends
/// the current term and opens the next; its warnings (too few candidates, seats unfilled) are in `findings`.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/committee/elections", tag = "life", params(("id" = i64, Path)),
    request_body(content = ElectionInput, example = json!({"held_on": "2026-06-28", "entitled": 40, "present": 36,
        "seats": 3, "candidates": [{"person_id": 12, "votes": 34, "post": "secretary"},
        {"person_id": 13, "votes": 30}, {"person_id": 14, "votes": 28}, {"person_id": 15, "votes": 12}]})),
    responses((status = 201, body = ElectionResult), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn record_election(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ElectionInput>,
) -> Result<(StatusCode, Json<ElectionResult>), ApiError> {
    let (election, committee) =
        life_api(Committees::new(&s.platform).record_election(&c.ctx, &c.actor, id, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(ElectionResult { election, committee })))
}

/// Terms flagged by the nightly reminder.
#[derive(Serialize, ToSchema)]
pub struct Reminders {
    pub org_id: i64,
    pub items: Vec<TermReminder>,
}

/// The terms of the organization and everything below it whose election the nightly `committees.remind` job
/// found due within 6 months or overdue (ORG-10), overdue first (at most 500).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/committee/reminders", tag = "life", params(("id" = i64, Path)),
    responses((status = 200, body = Reminders), (status = 404, body = ErrorBody)))]
pub async fn reminders(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Reminders>, ApiError> {
    let (org, items) = life_api(Committees::new(&s.platform).reminders(&c.ctx, &c.actor, id).await, &c)?;
    Ok(Json(Reminders { org_id: org.id, items }))
}
