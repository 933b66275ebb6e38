//! `/api/v1/auth/*` and `/api/v1/me`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use platform::model::Grant;
use platform::service::SessionKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Body, api};
use crate::AppState;
use crate::auth::{Caller, RequestCtx};
use crate::error::{ApiError, ErrorBody};

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    #[schema(example = "admin")]
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Sign in; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = LoginBody,
    responses((status = 200, body = TokenBody), (status = 401, body = ErrorBody, description = "用户名或密码错误"),
              (status = 403, body = ErrorBody, description = "需要二次认证")))]
pub async fn login(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Body(b): Body<LoginBody>,
) -> Result<Json<TokenBody>, ApiError> {
    let l = api(s.platform.login(&ctx, &b.username, &b.password, SessionKind::Api).await, &ctx)?;
    let expires_at = l.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    Ok(Json(TokenBody { token: l.token, expires_at }))
}

/// End the session of this token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, c: Caller) -> Result<StatusCode, ApiError> {
    api(s.platform.logout(&c.ctx, &c.actor, &c.token).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    pub old_password: String,
    pub new_password: String,
}

/// Change the caller's password; every other session of the caller ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.change_password(&c.ctx, &c.actor, &b.old_password, &b.new_password, &c.token).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MeBody {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    pub grants: Vec<Grant>,
}

/// The signed-in account and its grants in force.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = MeBody)))]
pub async fn me(c: Caller) -> Json<MeBody> {
    let a = c.actor;
    Json(MeBody {
        user_id: a.user_id,
        username: a.username,
        display_name: a.display_name,
        person_id: a.person_id,
        grants: a.grants,
    })
}
