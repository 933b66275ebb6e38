//! Cross-site request forgery (security.md AT-19): two independent locks on every state change a browser
//! can be tricked into sending.
//!
//! 1. [`cross_site`]: a state change that the browser marks as sent by another site (Fetch Metadata
//!    `Sec-Fetch-Site`, or a foreign `Origin` where that header is missing) is refused.
//! 2. [`guard`]: a state change that rides on the session cookie must also carry the session's
//!    anti-forgery token ([`security::csrf`]): a hidden `csrf` field in every form the templates render, or
//!    the `X-CSRF-Token` header (htmx sends it from `hx-headers` on `<body>`; `learning.js` reads it from the
//!    `csrf-token` meta tag). Which requests:
//!    * the UI (every path outside `/api/`): every POST with a session cookie. One without any session
//!      cookie carries no authority and is passed on: its handler answers with the login page, nothing
//!      changes (a test walks the route list to prove it).
//!    * the login pages (`/login`, `/login/…`) have no session yet: their token is bound to a pre-session
//!      cookie set by the login page (double submit; `__Host-` behind TLS, `SameSite=Strict`), so a
//!      foreign page cannot sign a browser into an account of its choosing (login CSRF).
//!    * the API: a call with `Authorization: Bearer` sends no ambient credential and is exempt; a call that
//!      authenticates with the session cookie needs the header.
//!
//! A refusal is 403 — a Chinese page on the UI, `{"error": {"code": "csrf"}}` on the API — and an audit
//! entry (`request.forged` / `request.cross_site`, result `denied`). The token is checked here, before any
//! handler, so a route added later is covered without doing anything.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::{bearer_of, cookie_of, session_cookie_of};
use crate::error::json_error;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The header that carries it (htmx, scripts, API calls with the session cookie).
pub const HEADER: &str = "x-csrf-token";
/// The login pages' own cookie (there is no session yet to bind the token to).
pub const PRE_SESSION_COOKIE: &str = "dj_csrf";
/// Its name behind TLS: `__Host-` so that no sibling subdomain can plant one (cookie tossing).
pub const PRE_SESSION_COOKIE_SECURE: &str = "__Host-dj_csrf";

pub fn pre_session_cookie_name(secure: bool) -> &'static str {
    if secure { PRE_SESSION_COOKIE_SECURE } else { PRE_SESSION_COOKIE }
}

/// Paths whose forms are bound to the pre-session cookie instead of a session.
pub fn is_pre_session(path: &str) -> bool {
    path == "/login" || path.starts_with("/login/")
}

/// A token for one page of the session (or pre-session cookie) `binding`: a fresh masked form of its
/// secret. Empty only if the system's random source fails, and then every submission is refused.
pub fn token(binding: &str) -> String {
    security::csrf::mask(&security::csrf::secret(binding)).unwrap_or_default()
}

/// The login pages' token and, when the browser has no pre-session cookie yet, the `Set-Cookie` value
/// that gives it one.
pub fn pre_session(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    if let Some(v) = cookie_of(headers, pre_session_cookie_name(secure)).filter(|v| v.len() >= 32) {
        return (token(&v), None);
    }
    let value = security::token::new_token().unwrap_or_default();
    let name = pre_session_cookie_name(secure);
    let secure_attr = if secure { "; Secure" } else { "" };
    // No Max-Age: the cookie lives as long as the browser session.
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure_attr}");
    (token(&value), Some(cookie))
}

fn request_id(h: &HeaderMap) -> String {
    h.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The refusal of a state change that a browser sends on behalf of another site (Fetch Metadata, then
/// Origin).
pub fn cross_site(method: &Method, h: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match site {
        Some(s) => !matches!(s, "same-origin" | "none"),
        None => {
            let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
            let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
            match (origin, host) {
                (Some(o), Some(host)) => o.split("://").nth(1) != Some(host),
                _ => false,
            }
        }
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    CrossSite,
    Forged,
}

/// Checks the anti-forgery token of a state change; hands the request back (its body read and restored
/// where the token was in a form) or the reason to refuse it.
pub async fn guard(s: &AppState, req: Request) -> Result<Request, Refusal> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(req);
    }
    let path = req.uri().path();
    let secure = s.secure_cookies;
    let headers = req.headers();
    let api = path.starts_with("/api/");
    let binding = if api {
        if bearer_of(headers).is_some() {
            return Ok(req);
        }
        session_cookie_of(headers, secure)
    } else if is_pre_session(path) {
        match cookie_of(headers, pre_session_cookie_name(secure)) {
            Some(v) => Some(v),
            None => return Err(Refusal::Forged),
        }
    } else {
        session_cookie_of(headers, secure)
    };
    // No cookie, no authority: the handler answers 401 or the login page.
    let Some(binding) = binding.filter(|b| !b.is_empty()) else {
        return Ok(req);
    };
    let secret = security::csrf::secret(&binding);
    if let Some(t) = headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return if security::csrf::verify(t, &secret) { Ok(req) } else { Err(Refusal::Forged) };
    }
    if api {
        return Err(Refusal::Forged);
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (parts, body) = req.into_parts();
    // The body limit layer outside bounds what is read here.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Err(Refusal::Forged);
    };
    let found = if content_type.starts_with("application/x-www-form-urlencoded") {
        form_urlencoded_field(&bytes, FIELD)
    } else if content_type.starts_with("multipart/form-data") {
        let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        multipart_field(probe, s, FIELD).await
    } else {
        None
    };
    match found {
        Some(t) if security::csrf::verify(&t, &secret) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(Refusal::Forged),
    }
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

async fn multipart_field(req: Request, s: &AppState, name: &str) -> Option<String> {
    let mut m = Multipart::from_request(req, s).await.ok()?;
    while let Ok(Some(field)) = m.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// The answer to a refused request, after its audit entry.
pub async fn refuse(s: &AppState, req: &Parts, why: Refusal) -> Response {
    let h = &req.headers;
    let request_id = request_id(h);
    let path = req.uri.path().to_owned();
    let token = if path.starts_with("/api/") { bearer_of(h) } else { None };
    let actor = match token.or_else(|| session_cookie_of(h, s.secure_cookies)) {
        Some(t) => s.platform.authenticate(&t).await.ok(),
        None => None,
    };
    let ip = req
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "-".into());
    let ctx = platform::Ctx {
        request_id: request_id.clone(),
        ip,
        user_agent: h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
    };
    let action = match why {
        Refusal::CrossSite => "request.cross_site",
        Refusal::Forged => "request.forged",
    };
    let target = format!("route:{} {}", req.method, path.chars().take(200).collect::<String>());
    if let Err(e) = s.platform.record_denied(&ctx, actor.as_ref(), action, &target).await {
        tracing::error!(request_id, error = ?e, "could not audit a refused request");
    }
    tracing::warn!(request_id, %path, reason = action, "state change refused");
    if path.starts_with("/api/") {
        let message = match why {
            Refusal::CrossSite => "拒绝跨站提交的请求",
            Refusal::Forged => "请求缺少有效的防伪令牌（X-CSRF-Token），已拒绝",
        };
        let code = match why {
            Refusal::CrossSite => "cross_site",
            Refusal::Forged => "csrf",
        };
        return json_error(StatusCode::FORBIDDEN, code, message.into(), None, &request_id);
    }
    let message = match why {
        Refusal::CrossSite => "这次提交来自其他网站，为保护您的账号已被拒绝。请直接在本系统中操作。",
        Refusal::Forged if is_pre_session(&path) => {
            "登录页面已过期（或浏览器未保存登录所需的信息）。请重新打开登录页面后再登录。"
        }
        Refusal::Forged => {
            "页面已过期，或这次提交不是从本系统的页面发出的，为保护您的账号已被拒绝。请返回上一页，刷新后重新提交。"
        }
    };
    crate::ui::error_page(StatusCode::FORBIDDEN, "提交已被拒绝", message, &request_id).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        let body = b"name=%E6%9D%8E+%E7%BA%A2&csrf=ab%2Bcd&empty=&flag";
        assert_eq!(form_urlencoded_field(body, "name").as_deref(), Some("李 红"));
        assert_eq!(form_urlencoded_field(body, "csrf").as_deref(), Some("ab+cd"));
        assert_eq!(form_urlencoded_field(body, "empty").as_deref(), Some(""));
        assert_eq!(form_urlencoded_field(b"a=1", "csrf"), None);
    }

    #[test]
    fn only_the_login_pages_are_pre_session() {
        assert!(is_pre_session("/login") && is_pre_session("/login/mfa/confirm"));
        assert!(!is_pre_session("/logout") && !is_pre_session("/loginx") && !is_pre_session("/reauth"));
    }
}
