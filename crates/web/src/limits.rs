//! Which routes count toward the per-user rate limits (security.md AT-35; the limits themselves are in
//! `platform::limits`), checked in the router's one middleware after the anti-forgery check. The caller is
//! resolved here once and handed to the handler through the request's extensions, so a limited route costs
//! one counter update and no second session look-up. Requests without a session pass to the handler,
//! which answers 401 / the login page. Logins are limited per account name inside `Platform::login`; the
//! public verification pages (no session) per client address.

use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use platform::limits::Bucket;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// The bucket of a route (method and route template), if it is limited.
pub fn bucket_of(method: &Method, route: &str, query: Option<&str>) -> Option<Bucket> {
    let searching = || query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("q=") && kv.len() > 2));
    match (method.as_str(), route) {
        ("GET", "/api/v1/people/export" | "/people/export" | "/api/v1/me/data" | "/account/my-data") => {
            Some(Bucket::Export)
        }
        (
            "POST",
            "/api/v1/people/import"
            | "/people/import"
            | "/people/import/confirm"
            | "/api/v1/orgs/{id}/fee-payments/import",
        ) => Some(Bucket::Import),
        ("GET", "/api/v1/search") => Some(Bucket::Search),
        ("GET", "/learning") if searching() => Some(Bucket::Search),
        ("POST", "/api/v1/learning/exams/{id}/attempts" | "/learning/exams/{id}/start") => Some(Bucket::QuizStart),
        (
            "POST",
            "/api/v1/learning/attempts/{id}/submit"
            | "/api/v1/learning/attempts/{id}/check"
            | "/learning/attempts/{id}/submit"
            | "/learning/attempts/{id}/check",
        )
        | ("PUT", "/api/v1/learning/attempts/{id}/answers") => Some(Bucket::QuizAnswer),
        ("GET", "/verify/letters/{code}" | "/verify/certificates/{number}") => Some(Bucket::Verify),
        _ => None,
    }
}

/// The caller already resolved by [`limited`].
#[derive(Clone)]
pub struct Resolved(pub Caller);

/// Counts the request when its route is limited; the 429 (JSON with `Retry-After`, or the Chinese page) when
/// the caller went beyond the limit.
pub async fn limited(s: &AppState, route: Option<&str>, req: Request) -> Result<Request, Response> {
    if !s.platform.settings.rate_limits {
        return Ok(req);
    }
    let Some(bucket) = route.and_then(|r| bucket_of(req.method(), r, req.uri().query())) else {
        return Ok(req);
    };
    if bucket == Bucket::Verify {
        // Public pages: the one who asks is the client address (after the trusted proxies).
        let ip = crate::auth::client_ip(req.extensions());
        if let Err(e) = s.platform.limit(bucket, &format!("ip:{ip}")).await {
            tracing::info!(bucket = bucket.code(), ip, "rate limited");
            let error = platform::Error::from(e);
            return Err(crate::ui::platform_error(&error, "-"));
        }
        return Ok(req);
    }
    let (mut parts, body) = req.into_parts();
    let Ok(caller) = Caller::from_request_parts(&mut parts, s).await else {
        return Ok(Request::from_parts(parts, body));
    };
    let subject = caller.actor.user_id.to_string();
    if let Err(e) = s.platform.limit(bucket, &subject).await {
        let error = platform::Error::from(e);
        let request_id = caller.ctx.request_id.clone();
        tracing::info!(request_id, bucket = bucket.code(), user = caller.actor.user_id, "rate limited");
        return Err(if parts.uri.path().starts_with("/api/") {
            ApiError::new(error, &request_id).into_response()
        } else {
            crate::ui::platform_error(&error, &request_id)
        });
    }
    parts.extensions.insert(Resolved(caller));
    Ok(Request::from_parts(parts, body))
}
