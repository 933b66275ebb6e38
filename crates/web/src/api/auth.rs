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
    /// The 6-digit code of the account's authenticator app, or a recovery code, where the account has
    /// one. Without it such an account gets 401 `mfa_required` with a `challenge` to continue.
    #[serde(default)]
    pub otp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Sign in; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()), request_body = LoginBody,
    responses((status = 200, body = TokenBody),
              (status = 401, body = ErrorBody, description = "用户名或密码错误 (`bad_credentials`)；需要动态口令 (`mfa_required`, with `challenge`)"),
              (status = 403, body = ErrorBody, description = "须先绑定动态口令 (`mfa_enrollment_required`, with `challenge`)"),
              (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试"),
              (status = 503, body = ErrorBody, description = "登录人数较多（全局，等待校验密码的登录超过队列）：`busy`，`Retry-After` 秒后再试；未计入失败次数")))]
pub async fn login(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Body(b): Body<LoginBody>,
) -> Result<Json<TokenBody>, ApiError> {
    let r = s.platform.login(&ctx, &b.username, &b.password, b.otp.as_deref(), SessionKind::Api).await;
    crate::auth::count_login(&s, &r);
    let l = api(r, &ctx)?;
    Ok(Json(token_body(l)))
}

fn token_body(l: platform::service::Login) -> TokenBody {
    let expires_at = l.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    TokenBody { token: l.token, expires_at }
}

#[derive(Deserialize, ToSchema)]
pub struct SecondFactorBody {
    /// From the `mfa_required` answer of the login.
    pub challenge: String,
    /// The 6-digit code or a recovery code.
    #[schema(example = "123456")]
    pub otp: String,
}

/// Finish a login with the code of the account's authenticator (or a recovery code).
#[utoipa::path(post, path = "/api/v1/auth/second-factor", tag = "auth", security(()), request_body = SecondFactorBody,
    responses((status = 200, body = TokenBody), (status = 401, body = ErrorBody, description = "动态口令错误或登录已过期")))]
pub async fn second_factor(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Body(b): Body<SecondFactorBody>,
) -> Result<Json<TokenBody>, ApiError> {
    let r = s.platform.login_second_factor(&ctx, &b.challenge, &b.otp).await;
    crate::auth::count_login(&s, &r);
    let l = api(r, &ctx)?;
    Ok(Json(token_body(l)))
}

#[derive(Deserialize, ToSchema)]
pub struct ChallengeBody {
    /// From the `mfa_enrollment_required` answer of the login.
    pub challenge: String,
}

#[derive(Serialize, ToSchema)]
pub struct EnrolmentBody {
    /// For typing into the authenticator app (base32).
    pub secret: String,
    /// For a QR code (Key URI format).
    pub otpauth_url: String,
}

/// Set up an authenticator during a login that needs one: returns its secret; confirm with a code.
#[utoipa::path(post, path = "/api/v1/auth/mfa/enrol", tag = "auth", security(()), request_body = ChallengeBody,
    responses((status = 200, body = EnrolmentBody), (status = 401, body = ErrorBody, description = "登录已过期")))]
pub async fn mfa_enrol(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Body(b): Body<ChallengeBody>,
) -> Result<Json<EnrolmentBody>, ApiError> {
    let e = api(s.platform.enrol_with_challenge(&ctx, &b.challenge).await, &ctx)?;
    Ok(Json(EnrolmentBody { secret: e.secret_base32, otpauth_url: e.otpauth_url }))
}

#[derive(Serialize, ToSchema)]
pub struct EnrolledBody {
    pub token: String,
    pub expires_at: String,
    /// Ten one-time recovery codes, shown this once: keep them apart from the phone.
    pub recovery_codes: Vec<String>,
}

/// Confirm the new authenticator with its first code; finishes the login and returns recovery codes.
#[utoipa::path(post, path = "/api/v1/auth/mfa/confirm", tag = "auth", security(()), request_body = SecondFactorBody,
    responses((status = 200, body = EnrolledBody), (status = 401, body = ErrorBody, description = "动态口令错误或登录已过期")))]
pub async fn mfa_confirm(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Body(b): Body<SecondFactorBody>,
) -> Result<Json<EnrolledBody>, ApiError> {
    let r = s.platform.confirm_with_challenge(&ctx, &b.challenge, &b.otp).await;
    crate::auth::count_login(&s, &r);
    let done = api(r, &ctx)?;
    let login =
        done.login.map(token_body).ok_or_else(|| ApiError::new(platform::Error::Unauthenticated, &ctx.request_id))?;
    Ok(Json(EnrolledBody { token: login.token, expires_at: login.expires_at, recovery_codes: done.recovery_codes }))
}

#[derive(Deserialize, ToSchema)]
pub struct ReauthBody {
    pub password: String,
    /// Required when the account has an authenticator.
    #[serde(default)]
    pub otp: Option<String>,
}

/// Prove identity again before a sensitive action (granting roles, resetting a second factor, changing
/// one's own phone): valid for ten minutes. Sensitive actions without it answer 403 `reauth_required`.
///
/// The elevated session is a **new token** (security.md AT-6, session rotation on privilege elevation):
/// use the `token` of the answer from now on; the one this request carried answers 401 at once, on
/// every instance. The new token keeps the old one's `expires_at` (rotation never extends a session).
#[utoipa::path(post, path = "/api/v1/auth/reauth", tag = "auth", request_body = ReauthBody,
    responses((status = 200, body = TokenBody, description = "新的令牌；原令牌立即失效"),
              (status = 401, body = ErrorBody, description = "密码或动态口令错误")))]
pub async fn reauth(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<ReauthBody>,
) -> Result<Json<TokenBody>, ApiError> {
    let login = api(s.platform.reauth(&c.ctx, &c.actor, &c.token, &b.password, b.otp.as_deref()).await, &c.ctx)?;
    Ok(Json(token_body(login)))
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

#[derive(Deserialize, ToSchema)]
pub struct PhoneBody {
    /// A mainland mobile number, 11 digits from 13–19 (`+86`, spaces and hyphens are ignored).
    #[schema(example = "13800138000")]
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhoneChanged {
    /// The new number as lists show it.
    #[schema(example = "138****8000")]
    pub phone: String,
}

/// Change the caller's own mobile number (an account linked to a person). Needs re-authentication within
/// the last ten minutes (`POST /api/v1/auth/reauth`), else 403 `reauth_required`. Stored encrypted;
/// audited as `person.phone_change`.
#[utoipa::path(post, path = "/api/v1/me/phone", tag = "auth", request_body = PhoneBody,
    responses((status = 200, body = PhoneChanged),
              (status = 403, body = ErrorBody, description = "需要重新验证身份 (`reauth_required`)"),
              (status = 404, body = ErrorBody, description = "账号未关联党员信息"),
              (status = 422, body = ErrorBody, description = "手机号码不正确")))]
pub async fn my_phone(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<PhoneBody>,
) -> Result<Json<PhoneChanged>, ApiError> {
    let phone = api(s.platform.change_own_phone(&c.ctx, &c.actor, &b.phone).await, &c.ctx)?;
    Ok(Json(PhoneChanged { phone }))
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
