//! System pages: accounts (system and security administrators) and the audit log (audit administrator).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::model::{Grant, UserRow};
use platform::{Capability, Error};
use security::audit::{self, Entry, Verdict};

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<(UserRow, Vec<Grant>)>,
}

pub async fn users_get(State(s): State<AppState>, c: Caller) -> Response {
    match s.platform.list_users(&c.ctx, &c.actor, 0).await {
        Ok(users) => render(
            StatusCode::OK,
            &UsersPage {
                chrome: Chrome::new(&s, &c.actor, "users", &c.ctx.request_id),
                users,
            },
        ),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<Entry>,
    verdict: Option<Verdict>,
}

impl AuditPage {
    fn at(&self, e: &Entry) -> String {
        let t = e.at.to_offset(kernel::dates::BEIJING);
        format!(
            "{} {:02}:{:02}:{:02}",
            kernel::dates::iso(t.date()),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

async fn audit_page(s: &AppState, c: &Caller, verdict: Option<Verdict>) -> Response {
    if !c.actor.can_somewhere(Capability::AuditRead) {
        return super::platform_error(&Error::NotFound, &c.ctx.request_id);
    }
    match audit::recent(&s.platform.db, None, 100).await {
        Ok(entries) => render(
            StatusCode::OK,
            &AuditPage {
                chrome: Chrome::new(s, &c.actor, "audit", &c.ctx.request_id),
                entries,
                verdict,
            },
        ),
        Err(e) => super::platform_error(&Error::Db(e), &c.ctx.request_id),
    }
}

pub async fn audit_get(State(s): State<AppState>, c: Caller) -> Response {
    audit_page(&s, &c, None).await
}

pub async fn audit_verify_post(State(s): State<AppState>, c: Caller) -> Response {
    if !c.actor.can_somewhere(Capability::AuditRead) {
        return super::platform_error(&Error::NotFound, &c.ctx.request_id);
    }
    match audit::verify(&s.platform.db).await {
        Ok(v) => audit_page(&s, &c, Some(v)).await,
        Err(e) => super::platform_error(&Error::Db(e), &c.ctx.request_id),
    }
}
