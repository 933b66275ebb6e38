//! `/api/v1/users`: accounts and their grants.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use platform::model::Grant;
use platform::service::{
    AccountGrants, GrantInput, NewUserInput, Quarantine, ReleaseInput, SecurityNotification, SharedReviewInput,
    WithdrawInput,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Create an account, optionally with grants (security administrator; the system administrator too
/// until a security administrator exists).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody, description = "无权创建账号或授予角色")))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<NewUserInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = api(s.platform.create_user(&c.ctx, &c.actor, &b).await, &c.ctx)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Keyset: list accounts with a larger id.
    pub after_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserItem {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    pub active: bool,
    pub grants: Vec<Grant>,
}

/// List accounts (100 per page).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery), responses((status = 200, body = Vec<UserItem>)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<UserItem>>, ApiError> {
    let rows = api(s.platform.list_users(&c.ctx, &c.actor, q.after_id.unwrap_or(0)).await, &c.ctx)?;
    Ok(Json(
        rows.into_iter()
            .map(|(u, grants)| UserItem {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                person_id: u.person_id,
                active: u.active,
                grants,
            })
            .collect(),
    ))
}

/// End every session and token of an account (account administrators).
#[utoipa::path(post, path = "/api/v1/users/{id}/end-sessions", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn end_sessions(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.end_sessions(&c.ctx, &c.actor, id).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an account's authenticator (a lost phone): account administrators, never their own, after
/// re-authentication; the account's sessions end and its next login sets up a new one. Audited.
#[utoipa::path(post, path = "/api/v1/users/{id}/mfa/reset", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "无权限，或需要重新验证身份 (`reauth_required`)"),
              (status = 404, body = ErrorBody)))]
pub async fn reset_mfa(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.reset_mfa(&c.ctx, &c.actor, id).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable an account (account administrators, never their own): every session and token of it ends at
/// once, on every instance, and it cannot sign in (the same answer as a wrong password). Audited.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody, description = "无权限，或停用自己的账号"),
              (status = 404, body = ErrorBody)))]
pub async fn disable(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.set_account_active(&c.ctx, &c.actor, id, false).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled account again (account administrators). Audited.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn enable(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.set_account_active(&c.ctx, &c.actor, id, true).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account's grants, every one it was ever given, newest first, with their state (account and grant
/// administrators).
#[utoipa::path(get, path = "/api/v1/users/{id}/grants", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = AccountGrants), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn grants(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Json<AccountGrants>, ApiError> {
    Ok(Json(api(s.platform.account_grants(&c.ctx, &c.actor, id).await, &c.ctx)?))
}

/// Give an existing account a role for a term (the security administrator, never to itself, after
/// re-authentication; 三员分立 holds). Applies at the account's next request. Audited as `grant.add`.
#[utoipa::path(post, path = "/api/v1/users/{id}/grants", tag = "users", params(("id" = i64, Path)), request_body = GrantInput,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "无权限、给自己授权，或需要重新验证身份 (`reauth_required`)"),
              (status = 404, body = ErrorBody)))]
pub async fn add_grant(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Body(b): Body<GrantInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let id = api(s.platform.add_grant(&c.ctx, &c.actor, id, &b).await, &c.ctx)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Withdraw a grant before its term ends, with a reason: it stops counting at the account's next request,
/// on every instance; the record stays. Audited as `grant.withdraw`.
#[utoipa::path(post, path = "/api/v1/users/{id}/grants/{grant_id}/withdraw", tag = "users",
    params(("id" = i64, Path), ("grant_id" = i64, Path)), request_body = WithdrawInput,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody, description = "已撤销或任期已满"),
              (status = 403, body = ErrorBody, description = "无权限、撤销自己的授权，或需要重新验证身份 (`reauth_required`)"),
              (status = 404, body = ErrorBody)))]
pub async fn withdraw_grant(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path((id, grant_id)): axum::extract::Path<(i64, i64)>,
    Body(b): Body<WithdrawInput>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.withdraw_grant(&c.ctx, &c.actor, id, grant_id, &b).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark an account's shared-account flag 已核查 with what was found (security.md AT-16): the security
/// administrator only (三员分立), never on her own account. The flag leaves the 账号 page and the
/// notification closes until a flag raised after this review. Audited as `auth.shared_account_review`.
#[utoipa::path(post, path = "/api/v1/users/{id}/shared-account-review", tag = "users", params(("id" = i64, Path)),
    request_body = SharedReviewInput,
    responses((status = 204), (status = 422, body = ErrorBody, description = "核查结论为空或过长"),
              (status = 409, body = ErrorBody, description = "该账号没有待核查的疑似共用提示"),
              (status = 403, body = ErrorBody, description = "不是安全管理员，或核查自己的账号"),
              (status = 404, body = ErrorBody)))]
pub async fn review_shared_account(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Body(b): Body<SharedReviewInput>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.review_shared_account(&c.ctx, &c.actor, id, &b).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The open notifications for the security administrators (accounts possibly shared, AT-16), newest
/// first: the security administrator only.
#[utoipa::path(get, path = "/api/v1/security/notifications", tag = "users",
    responses((status = 200, body = Vec<SecurityNotification>), (status = 403, body = ErrorBody)))]
pub async fn security_notifications(
    State(s): State<AppState>,
    c: Caller,
) -> Result<Json<Vec<SecurityNotification>>, ApiError> {
    Ok(Json(api(s.platform.security_notifications(&c.ctx, &c.actor).await, &c.ctx)?))
}

/// The uploads a virus rescan quarantined (newest 200, with the total) and the latest releases: kind of record,
/// type, size, SHA-256 and signature — never a file's name or bytes. The security administrator only.
#[utoipa::path(get, path = "/api/v1/security/quarantine", tag = "users",
    responses((status = 200, body = Quarantine), (status = 403, body = ErrorBody)))]
pub async fn quarantine(State(s): State<AppState>, c: Caller) -> Result<Json<Quarantine>, ApiError> {
    Ok(Json(api(s.platform.quarantine(&c.ctx, &c.actor).await, &c.ctx)?))
}

/// Release an upload from quarantine (a false positive of the scanner), with a reason: it is served again,
/// and a rescan finding the same signature leaves it alone. The security administrator only, after a recent
/// re-authentication. Audited as `upload.release`.
#[utoipa::path(post, path = "/api/v1/security/quarantine/{id}/release", tag = "users",
    params(("id" = i64, Path)), request_body = ReleaseInput,
    responses((status = 204), (status = 422, body = ErrorBody, description = "放行理由为空、过短或过长"),
              (status = 409, body = ErrorBody, description = "该文件不在隔离区"),
              (status = 403, body = ErrorBody, description = "不是安全管理员，或需要重新验证身份 (`reauth_required`)"),
              (status = 404, body = ErrorBody)))]
pub async fn release_upload(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Body(b): Body<ReleaseInput>,
) -> Result<StatusCode, ApiError> {
    api(s.platform.release_upload(&c.ctx, &c.actor, id, &b).await, &c.ctx)?;
    Ok(StatusCode::NO_CONTENT)
}
