//! QR sign-in pages: the secretary's screen for the projector (`/meetings/{id}/checkin`: a QR code that
//! changes every ten seconds through a plain meta refresh, no script) and the member's page it opens
//! (`/checkin/{id}?t=…`: one button, a POST, so a link preview or a prefetch never signs anyone in).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use life::{CheckIn, Life, REFRESH_SECONDS};

use super::{platform_error, render};
use crate::AppState;
use crate::auth::{Caller, encode};

#[derive(Template)]
#[template(path = "checkin_screen.html")]
struct ScreenPage {
    title: String,
    org: String,
    held_on: String,
    qr_svg: String,
    present: usize,
    invited: usize,
    refresh: u32,
    meeting_id: i64,
    url: String,
}

#[derive(Template)]
#[template(path = "checkin.html")]
struct CheckInPage {
    title: String,
    meeting_id: i64,
    token: String,
    /// `confirm`, `done`, `already` or `error`.
    state: &'static str,
    message: String,
    /// The confirm button's anti-forgery token.
    csrf: String,
}

/// The address the phone should open: this server as the browser reached it.
fn origin(s: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let scheme = if s.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

pub async fn checkin_screen_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    match Life::new(&s.platform).checkin_token(&c.ctx, &c.actor, id).await {
        Ok((m, token)) => {
            let url = format!("{}/checkin/{id}?t={}", origin(&s, &headers), encode(&token));
            let present = m.attendees.iter().filter(|a| a.attendance == Some(life::model::Attendance::Present)).count();
            let page = ScreenPage {
                qr_svg: documents::qr::svg(&url, 360).unwrap_or_default(),
                title: m.title.clone(),
                org: m.org_name.clone(),
                held_on: kernel::dates::chinese(m.held_on),
                present,
                invited: m.attendees.len(),
                refresh: REFRESH_SECONDS,
                meeting_id: id,
                url,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => platform_error(&e.into(), &c.ctx.request_id),
    }
}

pub async fn checkin_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // Reading the meeting checks that the caller may see it; the sign-in itself waits for the button.
    match Life::new(&s.platform).get_meeting(&c.ctx, &c.actor, id).await {
        Ok(m) => render(
            StatusCode::OK,
            &CheckInPage {
                title: m.title,
                meeting_id: id,
                token: q.get("t").cloned().unwrap_or_default(),
                state: "confirm",
                message: String::new(),
                csrf: crate::csrf::token(&c.token),
            },
        ),
        Err(e) => platform_error(&e.into(), &c.ctx.request_id),
    }
}

pub async fn checkin_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let token = f.get("t").cloned().unwrap_or_default();
    let page = |title: String, state, message: &str, status| {
        let csrf = String::new();
        render(
            status,
            &CheckInPage { title, meeting_id: id, token: String::new(), state, message: message.into(), csrf },
        )
    };
    match Life::new(&s.platform).check_in(&c.ctx, &c.actor, id, &token).await {
        Ok((m, CheckIn::Recorded)) => page(m.title, "done", "签到成功", StatusCode::OK),
        Ok((m, CheckIn::AlreadyPresent)) => page(m.title, "already", "您已签到，无需重复签到", StatusCode::OK),
        Err(life::Error::Conflict(msg)) => page(String::new(), "error", msg, StatusCode::CONFLICT),
        Err(life::Error::Forbidden) => {
            page(String::new(), "error", "您不在本次会议的参会名单中；如有疑问请联系支部书记", StatusCode::FORBIDDEN)
        }
        Err(e) => platform_error(&e.into(), &c.ctx.request_id),
    }
}
