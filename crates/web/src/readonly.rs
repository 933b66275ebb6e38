//! Maintenance mode at the door: while the switch is on ([`ops::maintenance`]), every state-changing
//! request is refused with 503 and the notice — JSON on `/api`, the error page elsewhere — before it reaches
//! a handler. What still passes: signing in and out (an administrator must be able to sign in to switch it
//! off), the switch itself, and the POSTs that change nothing (the regulation calculators, verifying the
//! audit chain).

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::AppState;
use crate::error::json_error;

/// State-changing routes that stay open during maintenance (assets/app.css greys out the buttons of every
/// other form while the switch is on; keep its selector in step with this list).
const OPEN: &[&str] = &[
    "/login",
    "/logout",
    "/login/mfa",
    "/login/mfa/enrol",
    "/login/mfa/confirm",
    "/reauth",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/second-factor",
    "/api/v1/auth/mfa/enrol",
    "/api/v1/auth/mfa/confirm",
    "/api/v1/auth/reauth",
    "/admin/status/maintenance",
    "/audit",
];

fn stays_open(path: &str) -> bool {
    OPEN.contains(&path) || path.starts_with("/api/v1/rules/")
}

/// Reads the switch (cached per instance) for every request but the assets, so the page frame can show
/// the banner; answers the refusal of a state change while it is on. A database that cannot be asked lets
/// the request through: the handler will meet the same database and fail in its own way.
pub async fn refuse_during_maintenance(
    s: &AppState,
    method: &Method,
    path: &str,
    request_id: &str,
) -> Option<Response> {
    if path.starts_with("/assets/") || matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return None;
    }
    let state = match s.ops.maintenance.current(&s.platform.db).await {
        Ok(state) => state,
        Err(e) => {
            tracing::warn!(request_id, error = %e, "could not read the maintenance switch");
            return None;
        }
    };
    if !state.active || matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) || stays_open(path) {
        return None;
    }
    let notice = state.notice();
    let mut refused = if path.starts_with("/api/") {
        json_error(StatusCode::SERVICE_UNAVAILABLE, "maintenance", notice, None, request_id)
    } else {
        crate::ui::error_page(StatusCode::SERVICE_UNAVAILABLE, "系统维护中", &notice, request_id)
    };
    refused.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("300"));
    Some(refused)
}
