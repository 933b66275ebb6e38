//! `/api/v1/people`: people from applicant to full member. Sensitive items come back masked.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use platform::model::Person;
use platform::rules::PersonInput;
use platform::service::{PeoplePage, PeopleQuery};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct PersonSaved {
    #[serde(flatten)]
    pub person: Person,
    /// Doubtful items that were accepted (e.g. gender disagrees with the ID number).
    pub warnings: Vec<String>,
}

/// Register a person. The ID number is checked (GB 11643) and stored encrypted.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = PersonInput,
    responses((status = 201, body = PersonSaved), (status = 422, body = ErrorBody, description = "字段错误见 error.fields"),
              (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<PersonInput>,
) -> Result<(StatusCode, Json<PersonSaved>), ApiError> {
    let (person, warnings) = api(s.platform.create_person(&c.ctx, &c.actor, &b).await, &c.ctx)?;
    Ok((StatusCode::CREATED, Json(PersonSaved { person, warnings })))
}

/// The people the caller may read, recursively below `org_id`.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(PeopleQuery), responses((status = 200, body = PeoplePage)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<PeopleQuery>,
) -> Result<Json<std::sync::Arc<PeoplePage>>, ApiError> {
    Ok(Json(api(s.platform.list_people(&c.ctx, &c.actor, &q).await, &c.ctx)?))
}

/// One person (masked). 404 outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path)),
    responses((status = 200, body = Person), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Person>, ApiError> {
    Ok(Json(api(s.platform.get_person(&c.ctx, &c.actor, id).await, &c.ctx)?))
}

/// Change the items given; others keep their value. Pass `version` to refuse a lost update (409).
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people", params(("id" = i64, Path)), request_body = PersonInput,
    responses((status = 200, body = PersonSaved), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<PersonInput>,
) -> Result<Json<PersonSaved>, ApiError> {
    let (person, warnings) = api(s.platform.update_person(&c.ctx, &c.actor, id, &b).await, &c.ctx)?;
    Ok(Json(PersonSaved { person, warnings }))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct RevealBody {
    /// `id_number`, `phone` or `address`.
    #[schema(example = "id_number")]
    pub field: String,
    /// Why (4-200 characters); recorded in the audit log and shown to the person. Not needed for one's
    /// own record.
    #[schema(example = "核对政审材料")]
    #[serde(default)]
    pub reason: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RevealedBody {
    /// The unmasked value; `null` when none is registered.
    pub value: Option<String>,
}

/// Reveal one masked item of one person, with a reason: the secretary or staff who keep the record, or
/// the person herself. Audited as a read of sensitive data; at most 20 a day per account (429).
#[utoipa::path(post, path = "/api/v1/people/{id}/reveal", tag = "people", params(("id" = i64, Path)),
    request_body = RevealBody,
    responses((status = 200, body = RevealedBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody, description = "每日次数已用完")))]
pub async fn reveal(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    super::Body(b): super::Body<RevealBody>,
) -> Result<Json<RevealedBody>, ApiError> {
    let value = api(s.platform.reveal(&c.ctx, &c.actor, id, &b.field, &b.reason).await, &c.ctx)?;
    Ok(Json(RevealedBody { value }))
}

/// "谁查看了我的信息": who revealed, changed or exported the caller's own record (newest first).
#[utoipa::path(get, path = "/api/v1/me/access-log", tag = "people",
    responses((status = 200, body = Vec<platform::service::AccessEntry>)))]
pub async fn access_log(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<Vec<platform::service::AccessEntry>>, ApiError> {
    Ok(Json(api(s.platform.my_access_log(&c.actor).await, &c.ctx)?))
}

/// The caller's own data, all of it, with the purpose of each item (PIPL 第四十五条): her record with the
/// sealed items in full, her account and sign-ins, who looked at her record, her meetings. Audited. Only for
/// an account linked to a person (404 otherwise).
#[utoipa::path(get, path = "/api/v1/me/data", tag = "people",
    responses((status = 200, description = "JSON document, served as a download"), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn my_data(State(s): State<AppState>, c: Caller) -> Result<axum::response::Response, ApiError> {
    let doc = api(s.platform.my_data(&c.ctx, &c.actor, &crate::privacy::providers()).await, &c.ctx)?;
    Ok(crate::privacy::download(&doc))
}
