//! Login, logout and the own-password page.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use platform::service::SessionKind;

use super::forms::{Field, Kind, apply_errors};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::{Caller, RequestCtx, session_cookie_header, session_cookie_of};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    username: String,
    error: Option<String>,
    /// The notice of maintenance mode while it is on (signing in still works).
    maintenance: Option<String>,
    /// Bound to the pre-session cookie ([`crate::csrf::pre_session`]).
    csrf: String,
}

/// The maintenance notice for a page outside the frame (the request's own check has just read it).
fn maintenance(s: &AppState) -> Option<String> {
    Some(s.ops.maintenance.cached()).filter(|m| m.active).map(|m| m.notice())
}

/// Only local paths are followed after login (no open redirect).
pub fn safe_next(next: Option<&String>) -> String {
    match next {
        // Printable ASCII only: a tab or newline would let a browser read "/\t/evil" as "//evil", and would
        // not fit a Location header.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.clone()
        }
        _ => "/".into(),
    }
}

pub async fn login_get(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let error = q.contains_key("expired").then(|| "二次认证已超时，请重新输入密码".to_string());
    let next = safe_next(q.get("next"));
    let (csrf, set_cookie) = crate::csrf::pre_session(&headers, s.secure_cookies);
    let page =
        render(StatusCode::OK, &LoginPage { next, username: String::new(), error, maintenance: maintenance(&s), csrf });
    with_cookie(page, set_cookie)
}

/// Adds a `Set-Cookie` to a response when there is one.
pub fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(v) = cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login_post(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let username = f.get("username").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let next = safe_next(f.get("next"));
    let result = s.platform.login(&ctx, &username, &password, None, SessionKind::Web).await;
    crate::auth::count_login(&s, &result);
    match result {
        Ok(login) => {
            // A new login gets a new session; the one this browser had before ends (no session fixation).
            if let Some(old) = session_cookie_of(&headers, s.secure_cookies)
                && let Ok(previous) = s.platform.authenticate(&old).await
                && let Err(e) = s.platform.logout(&ctx, &previous, &old).await
            {
                tracing::warn!(request_id = %ctx.request_id, error = ?e, "could not end the previous session");
            }
            let max_age = s.platform.settings.session_absolute.as_secs() as i64;
            let cookie = session_cookie_header(&login.token, s.secure_cookies, max_age);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Err(platform::Error::SecondFactor { challenge, .. }) => {
            let ttl = s.platform.settings.challenge_ttl.as_secs();
            let cookie = super::mfa::challenge_cookie_header(&challenge, s.secure_cookies, ttl);
            let to = format!("/login/mfa?next={}", crate::auth::encode(&next));
            ([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response()
        }
        Err(e) => {
            let status = crate::error::status_of(&e);
            let (csrf, _) = crate::csrf::pre_session(&headers, s.secure_cookies);
            let page = LoginPage { next, username, error: Some(e.message()), maintenance: maintenance(&s), csrf };
            // The form again, with the name typed and never the password; 429 and 503 say when to retry.
            let mut resp = render(status, &page);
            crate::error::with_retry_after(&mut resp, &e);
            resp
        }
    }
}

pub async fn logout_post(State(s): State<AppState>, c: Caller) -> Response {
    if let Err(e) = s.platform.logout(&c.ctx, &c.actor, &c.token).await {
        return super::platform_error(&e, &c.ctx.request_id);
    }
    let cookie = session_cookie_header("", s.secure_cookies, 0);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub action: String,
    pub fields: Vec<Field>,
    pub submit: &'static str,
    pub cancel: String,
    pub notice: Option<String>,
    pub summary: Option<String>,
    pub warnings: Vec<String>,
}

fn password_fields() -> Vec<Field> {
    vec![
        Field::new("old_password", "原密码", Kind::Password).required().autocomplete("current-password"),
        Field::new("new_password", "新密码", Kind::Password)
            .required()
            .autocomplete("new-password")
            .hint("至少8位（管理员和组织员12位），含大写字母、小写字母、数字、符号中的三类；不含用户名、姓名拼音、生日、身份证号和“dangjian”“党”等常用词；不能与最近5次的密码相同"),
        Field::new("confirm", "再次输入新密码", Kind::Password).required().autocomplete("new-password"),
    ]
}

fn password_page(
    s: &AppState,
    c: &Caller,
    fields: Vec<Field>,
    notice: Option<String>,
    summary: Option<String>,
) -> FormPage {
    FormPage {
        chrome: Chrome::new(s, c, "password"),
        title: "修改密码".into(),
        crumbs: vec![],
        action: "/account/password".into(),
        fields,
        submit: "保存新密码",
        cancel: "/".into(),
        notice,
        summary,
        warnings: vec![],
    }
}

pub async fn password_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut page = password_page(&s, &c, password_fields(), None, None);
    if q.contains_key("expired") {
        // Where every other page sends an account whose password is past its period (security.md AT-1).
        page.warnings.push(
            "您的密码已超过有效期（管理员和组织员90天，其他用户180天），请先修改密码，再继续使用其他功能。".into(),
        );
    }
    render(StatusCode::OK, &page)
}

pub async fn password_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut fields = password_fields();
    if get("new_password") != get("confirm") {
        apply_errors(&mut fields, &[("confirm".to_string(), "两次输入的新密码不一致".to_string())].into());
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &password_page(&s, &c, fields, None, Some("请按提示修改".into())),
        );
    }
    match s.platform.change_password(&c.ctx, &c.actor, &get("old_password"), &get("new_password"), &c.token).await {
        Ok(()) => render(
            StatusCode::OK,
            &password_page(&s, &c, password_fields(), Some("密码已修改，其他设备上的登录已退出。".into()), None),
        ),
        Err(platform::Error::Invalid(errors)) => {
            apply_errors(&mut fields, &errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &password_page(&s, &c, fields, None, Some("请按提示修改".into())))
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_printable_paths_are_followed() {
        let n = |s: &str| safe_next(Some(&s.to_string()));
        assert_eq!(n("/people?org_id=3"), "/people?org_id=3");
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a\r\nSet-Cookie: x",
            "/a b",
        ] {
            assert_eq!(n(bad), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
