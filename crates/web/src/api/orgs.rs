//! `/api/v1/orgs`: the organization tree.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use platform::model::{Counts, Org};
use platform::service::NewOrgInput;
use serde::Deserialize;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// Create an organization under `parent_id` (null for a top committee: system administrator only).
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", request_body = NewOrgInput,
    responses((status = 201, body = Org), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<NewOrgInput>,
) -> Result<(StatusCode, Json<Org>), ApiError> {
    let org = api(s.platform.create_org(&c.ctx, &c.actor, &b).await, &c.ctx)?;
    Ok((StatusCode::CREATED, Json(org)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ChildrenQuery {
    /// The parent; without it, the top organizations the caller may see.
    pub parent_id: Option<i64>,
}

/// Children of an organization.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", params(ChildrenQuery), responses((status = 200, body = Vec<Org>)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<ChildrenQuery>,
) -> Result<Json<Vec<Org>>, ApiError> {
    Ok(Json(api(s.platform.org_children(&c.ctx, &c.actor, q.parent_id).await, &c.ctx)?))
}

/// One organization.
#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = Org), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Org>, ApiError> {
    Ok(Json(api(s.platform.get_org(&c.ctx, &c.actor, id).await, &c.ctx)?))
}

/// Head counts of the organization's whole subtree by stage and category (maintained as data changes).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/stats", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = Counts), (status = 404, body = ErrorBody)))]
pub async fn stats(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Counts>, ApiError> {
    Ok(Json(api(s.platform.org_counts(&c.ctx, &c.actor, id).await, &c.ctx)?))
}
