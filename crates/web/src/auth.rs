//! Who is calling. [`Caller`] resolves the session cookie (web UI) or the bearer token (API) to an
//! [`Actor`]; a request without a live session gets 401 JSON on `/api` and a redirect to the login
//! page elsewhere.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use platform::{Actor, Ctx};

use crate::AppState;
use crate::error::json_error;

pub const SESSION_COOKIE: &str = "dj_session";
/// The name behind TLS (security.md AT-6): browsers accept a `__Host-` cookie only when it is Secure,
/// has Path=/ and no Domain, so neither a sibling subdomain nor a plain-HTTP page can plant or overwrite it.
pub const SESSION_COOKIE_SECURE: &str = "__Host-dj_session";

/// The session cookie's name for this deployment.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { SESSION_COOKIE_SECURE } else { SESSION_COOKIE }
}

/// The request's id (set by the request-id layer), peer address and user agent.
pub fn ctx_of(parts: &Parts) -> Ctx {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    Ctx { request_id: header("x-request-id"), ip: client_ip(&parts.extensions), user_agent: header("user-agent") }
}

/// The client's address (the forwarded one behind a trusted proxy, `crate::proxy`), or `-` when unknown.
pub fn client_ip(extensions: &axum::http::Extensions) -> String {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "-".into())
}

/// Request context alone, for handlers that need no signed-in caller (login).
pub struct RequestCtx(pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestCtx(ctx_of(parts)))
    }
}

/// The signed-in caller.
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub token: String,
    pub ctx: Ctx,
}

pub fn bearer(parts: &Parts) -> Option<String> {
    bearer_of(&parts.headers)
}

pub fn bearer_of(headers: &axum::http::HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

pub fn session_cookie(parts: &Parts, secure: bool) -> Option<String> {
    session_cookie_of(&parts.headers, secure)
}

pub fn session_cookie_of(headers: &axum::http::HeaderMap, secure: bool) -> Option<String> {
    cookie_of(headers, session_cookie_name(secure))
}

/// A cookie's value from the request.
pub fn cookie_of(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Already resolved by the rate limit of this route (crate::limits).
        if let Some(crate::limits::Resolved(caller)) = parts.extensions.remove::<crate::limits::Resolved>() {
            return Ok(caller);
        }
        let ctx = ctx_of(parts);
        let is_api = parts.uri.path().starts_with("/api/");
        let secure = state.secure_cookies;
        let token = if is_api {
            bearer(parts).or_else(|| session_cookie(parts, secure))
        } else {
            session_cookie(parts, secure)
        };
        let session = match &token {
            Some(t) => state.platform.session(t).await,
            None => Err(platform::Error::Unauthenticated),
        };
        match (session, token) {
            (Ok(s), Some(_)) if s.password_expired && !PASSWORD_EXPIRED_ALLOWS.contains(&parts.uri.path()) => {
                Err(password_expired(is_api, &ctx.request_id))
            }
            (Ok(s), Some(token)) => Ok(Caller { actor: s.actor, token, ctx }),
            (Err(e @ platform::Error::Db(_)), _) => {
                tracing::error!(request_id = %ctx.request_id, error = ?e, "session lookup failed");
                Err(crate::error::ApiError::new(e, &ctx.request_id).into_response())
            }
            _ if is_api => {
                Err(json_error(StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录".into(), None, &ctx.request_id))
            }
            _ => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                Err(Redirect::to(&format!("/login?next={}", encode(next))).into_response())
            }
        }
    }
}

/// What an account whose password is past its period may still do (security.md AT-1): change it, or
/// sign out. Everything else answers `password_expired`.
pub const PASSWORD_EXPIRED_ALLOWS: &[&str] =
    &["/account/password", "/logout", "/api/v1/auth/password", "/api/v1/auth/logout"];

/// The answer to any other route while the password is expired: 403 `password_expired` on the API, the
/// change-password page in the browser.
fn password_expired(is_api: bool, request_id: &str) -> Response {
    if is_api {
        json_error(
            StatusCode::FORBIDDEN,
            "password_expired",
            "密码已到期，请先修改密码（POST /api/v1/auth/password）".into(),
            None,
            request_id,
        )
    } else {
        Redirect::to("/account/password?expired=1").into_response()
    }
}

/// Counts a sign-in for `/metrics`: a session or token issued, or a wrong password or code (a login that
/// still waits for its second factor is neither yet).
pub fn count_login<T>(state: &AppState, result: &Result<T, platform::Error>) {
    match result {
        Ok(_) => state.metrics.login(true),
        Err(platform::Error::BadCredentials | platform::Error::BadSecondFactor) => state.metrics.login(false),
        Err(platform::Error::SigninBusy { .. }) => state.metrics.login_busy(),
        Err(_) => {}
    }
}

/// Percent-encodes a value for a query string.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Set-Cookie value of a new session (or of its removal when `token` is empty).
pub fn session_cookie_header(token: &str, secure: bool, max_age_secs: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let name = session_cookie_name(!secure.is_empty());
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}
