//! The second factor in the browser: the login's second step (`/login/mfa`), setting up an
//! authenticator (during a login that needs one, or of one's own accord at `/account/mfa`), the
//! recovery codes shown once, and step-up re-authentication (`/reauth`).
//!
//! Between the password and the code the browser holds only a short-lived challenge cookie, scoped to
//! `/login` and `SameSite=Strict`; it opens nothing but this second step.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use platform::Error;
use platform::service::{ChallengeState, Enrolment, Login};

use super::forms::{Field, Kind};
use super::session::{FormPage, safe_next};
use super::{platform_error, render};
use crate::AppState;
use crate::auth::{Caller, RequestCtx, cookie_of, encode, session_cookie_header};

const CHALLENGE_COOKIE: &str = "dj_challenge";
/// Behind TLS: `__Secure-` (a `__Host-` cookie must have Path=/, and this one is scoped to /login).
const CHALLENGE_COOKIE_SECURE: &str = "__Secure-dj_challenge";

fn challenge_cookie_name(secure: bool) -> &'static str {
    if secure { CHALLENGE_COOKIE_SECURE } else { CHALLENGE_COOKIE }
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    title: &'static str,
    account: String,
    mode: &'static str,
    action: &'static str,
    next: String,
    error: Option<String>,
    qr_svg: String,
    secret: String,
    codes: Vec<String>,
    /// Bound to the pre-session cookie during a login, to the session on `/account/mfa`.
    csrf: String,
}

impl MfaPage {
    fn new(mode: &'static str, action: &'static str, next: String, csrf: String) -> MfaPage {
        let title = match mode {
            "code" => "二次认证",
            "codes" => "保存恢复码",
            _ => "绑定动态口令",
        };
        MfaPage {
            title,
            account: String::new(),
            mode,
            action,
            next,
            error: None,
            qr_svg: String::new(),
            secret: String::new(),
            codes: vec![],
            csrf,
        }
    }

    fn enrolment(mut self, e: &Enrolment) -> MfaPage {
        self.qr_svg = documents::qr::svg(&e.otpauth_url, 200).unwrap_or_default();
        self.secret = e.secret_base32.clone();
        self.account = format!("账号 {}", e.account);
        self
    }
}

/// The Set-Cookie value of the challenge (or of its removal when empty).
pub fn challenge_cookie_header(challenge: &str, secure: bool, max_age_secs: u64) -> String {
    let name = challenge_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={challenge}; Path=/login; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// The login pages' token on a page answering a POST (which the guard let through, so the pre-session
/// cookie is there).
fn pre_session_token(s: &AppState, headers: &axum::http::HeaderMap) -> String {
    crate::csrf::pre_session(headers, s.secure_cookies).0
}

/// The login page again, saying the second step expired.
fn expired() -> Response {
    Redirect::to("/login?expired=1").into_response()
}

/// `then` with the cookie of a session that replaced the request's own (step-up, own enrolment). Its
/// Max-Age is what is left of the session's absolute lifetime (rotation never extends it).
fn with_session(s: &AppState, login: &Login, then: Response) -> Response {
    let left = (login.expires_at - kernel::clock::now_utc()).whole_seconds().max(0);
    let cookie = session_cookie_header(&login.token, s.secure_cookies, left);
    super::session::with_cookie(then, Some(cookie))
}

/// A finished login: the session cookie, the challenge cookie removed, on to `next`.
fn signed_in(s: &AppState, login: &Login, then: Response) -> Response {
    let max_age = s.platform.settings.session_absolute.as_secs() as i64;
    let mut resp = then;
    let headers = resp.headers_mut();
    for cookie in [
        session_cookie_header(&login.token, s.secure_cookies, max_age),
        challenge_cookie_header("", s.secure_cookies, 0),
    ] {
        if let Ok(v) = cookie.parse() {
            headers.append(header::SET_COOKIE, v);
        }
    }
    resp
}

pub async fn login_mfa_get(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(challenge) = cookie_of(&headers, challenge_cookie_name(s.secure_cookies)) else {
        return expired();
    };
    let next = safe_next(q.get("next"));
    let (csrf, set_cookie) = crate::csrf::pre_session(&headers, s.secure_cookies);
    let mut page = match s.platform.challenge_state(&challenge).await {
        Ok(ChallengeState::Enrolled) => MfaPage::new("code", "/login/mfa", next, csrf),
        Ok(ChallengeState::Pending(e)) => MfaPage::new("enrol", "/login/mfa/confirm", next, csrf).enrolment(&e),
        Ok(ChallengeState::NotEnrolled) => MfaPage::new("intro", "/login/mfa/enrol", next, csrf),
        Err(_) => return expired(),
    };
    if q.contains_key("wrong") {
        page.error = Some(Error::BadSecondFactor.message());
    }
    super::session::with_cookie(render(StatusCode::OK, &page), set_cookie)
}

pub async fn login_mfa_post(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(challenge) = cookie_of(&headers, challenge_cookie_name(s.secure_cookies)) else {
        return expired();
    };
    let next = safe_next(f.get("next"));
    let code = f.get("otp").cloned().unwrap_or_default();
    let result = s.platform.login_second_factor(&ctx, &challenge, &code).await;
    crate::auth::count_login(&s, &result);
    match result {
        Ok(login) => signed_in(&s, &login, Redirect::to(&next).into_response()),
        Err(Error::BadSecondFactor) => {
            let mut page = MfaPage::new("code", "/login/mfa", next, pre_session_token(&s, &headers));
            page.error = Some(Error::BadSecondFactor.message());
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Err(Error::SecondFactor { .. }) => Redirect::to(&format!("/login/mfa?next={}", encode(&next))).into_response(),
        Err(Error::Unauthenticated) => expired(),
        Err(e) => platform_error(&e, &ctx.request_id),
    }
}

pub async fn login_mfa_enrol_post(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(challenge) = cookie_of(&headers, challenge_cookie_name(s.secure_cookies)) else {
        return expired();
    };
    let next = safe_next(f.get("next"));
    match s.platform.enrol_with_challenge(&ctx, &challenge).await {
        Ok(e) => {
            let page = MfaPage::new("enrol", "/login/mfa/confirm", next, pre_session_token(&s, &headers));
            render(StatusCode::OK, &page.enrolment(&e))
        }
        Err(Error::Unauthenticated) => expired(),
        // Already set up (another tab): ask for the code.
        Err(Error::Conflict(_)) => Redirect::to(&format!("/login/mfa?next={}", encode(&next))).into_response(),
        Err(e) => platform_error(&e, &ctx.request_id),
    }
}

pub async fn login_mfa_confirm_post(
    State(s): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(challenge) = cookie_of(&headers, challenge_cookie_name(s.secure_cookies)) else {
        return expired();
    };
    let next = safe_next(f.get("next"));
    let code = f.get("otp").cloned().unwrap_or_default();
    let result = s.platform.confirm_with_challenge(&ctx, &challenge, &code).await;
    crate::auth::count_login(&s, &result);
    match result {
        Ok(done) => {
            let mut page = MfaPage::new("codes", "", next, String::new());
            page.codes = done.recovery_codes;
            match done.login {
                Some(login) => signed_in(&s, &login, render(StatusCode::OK, &page)),
                None => expired(),
            }
        }
        Err(Error::BadSecondFactor) => {
            Redirect::to(&format!("/login/mfa?wrong=1&next={}", encode(&next))).into_response()
        }
        Err(Error::Unauthenticated) => expired(),
        Err(e) => platform_error(&e, &ctx.request_id),
    }
}

// ------------------------------------------------------------------ signed in: own authenticator

fn reauth_redirect(next: &str) -> Response {
    Redirect::to(&format!("/reauth?next={}", encode(next))).into_response()
}

pub async fn account_mfa_get(State(s): State<AppState>, c: Caller) -> Response {
    let status = match s.platform.mfa_status(&c.actor).await {
        Ok(st) => st,
        Err(e) => return platform_error(&e, &c.ctx.request_id),
    };
    let notice = if status.enrolled {
        Some(format!(
            "已绑定动态口令；剩余恢复码 {} 个。如需更换手机，请联系系统管理员或安全管理员重置后重新绑定。",
            status.recovery_codes_left
        ))
    } else {
        None
    };
    let mut warnings = vec![];
    if !status.enrolled {
        warnings.push(if status.required {
            "您的账号拥有管理权限，须绑定动态口令（二次认证）。".to_string()
        } else {
            "尚未绑定动态口令。绑定后，登录时除密码外还须输入手机身份验证器显示的6位数字，账号更安全。".to_string()
        });
    }
    let page = FormPage {
        chrome: super::Chrome::new(&s, &c, "mfa"),
        title: "二次认证（动态口令）".into(),
        crumbs: vec![],
        action: "/account/mfa/enrol".into(),
        fields: vec![],
        submit: if status.enrolled { "" } else { "开始绑定" },
        cancel: "/".into(),
        notice,
        summary: None,
        warnings,
    };
    render(StatusCode::OK, &page)
}

pub async fn account_mfa_enrol_post(State(s): State<AppState>, c: Caller) -> Response {
    match s.platform.enrol_signed_in(&c.ctx, &c.actor).await {
        Ok(e) => {
            let mut page =
                MfaPage::new("enrol", "/account/mfa/confirm", "/account/mfa".into(), crate::csrf::token(&c.token))
                    .enrolment(&e);
            page.account = format!("账号 {}", c.actor.username);
            render(StatusCode::OK, &page)
        }
        Err(Error::ReauthRequired) => reauth_redirect("/account/mfa"),
        Err(e) => platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn account_mfa_confirm_post(
    State(s): State<AppState>,
    c: Caller,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let code = f.get("otp").cloned().unwrap_or_default();
    match s.platform.confirm_signed_in(&c.ctx, &c.actor, &c.token, &code).await {
        // A second factor raised the account's protection: the session is a new one (security.md AT-6),
        // and the page carries the new session's anti-forgery token.
        Ok(done) => match done.login {
            Some(login) => {
                let mut page = MfaPage::new("codes", "", "/account/mfa".into(), crate::csrf::token(&login.token));
                page.codes = done.recovery_codes;
                with_session(&s, &login, render(StatusCode::OK, &page))
            }
            None => platform_error(&Error::Unauthenticated, &c.ctx.request_id),
        },
        Err(Error::BadSecondFactor) => {
            let token = crate::csrf::token(&c.token);
            let mut page = MfaPage::new("code", "/account/mfa/confirm", "/account/mfa".into(), token);
            page.error = Some(Error::BadSecondFactor.message());
            render(StatusCode::UNAUTHORIZED, &page)
        }
        Err(Error::ReauthRequired) => reauth_redirect("/account/mfa"),
        Err(e) => platform_error(&e, &c.ctx.request_id),
    }
}

// ------------------------------------------------------------------ step-up

fn reauth_fields(with_code: bool) -> Vec<Field> {
    let mut f = vec![Field::new("password", "密码", Kind::Password).required().autocomplete("current-password")];
    if with_code {
        f.push(
            Field::new("otp", "动态口令", Kind::Text)
                .required()
                .autocomplete("one-time-code")
                .hint("手机身份验证器显示的6位数字"),
        );
    }
    f
}

fn reauth_page(s: &AppState, c: &Caller, next: &str, with_code: bool, summary: Option<String>) -> FormPage {
    let mut fields = reauth_fields(with_code);
    fields.push(Field::new("next", "", Kind::Hidden).value(next));
    FormPage {
        chrome: super::Chrome::new(s, c, "mfa"),
        title: "重新验证身份".into(),
        crumbs: vec![],
        action: "/reauth".into(),
        fields,
        submit: "验证",
        cancel: next.to_string(),
        notice: None,
        summary,
        warnings: vec!["授予角色、重置动态口令等敏感操作前，须在10分钟内重新验证身份。".into()],
    }
}

pub async fn reauth_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let with_code = s.platform.mfa_status(&c.actor).await.map(|m| m.enrolled).unwrap_or(true);
    render(StatusCode::OK, &reauth_page(&s, &c, &safe_next(q.get("next")), with_code, None))
}

pub async fn reauth_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let next = safe_next(f.get("next"));
    let password = f.get("password").cloned().unwrap_or_default();
    match s.platform.reauth(&c.ctx, &c.actor, &c.token, &password, f.get("otp").map(String::as_str)).await {
        // The elevated session is a new one (security.md AT-6): its cookie replaces the old, whose token
        // no longer works; the next page is rendered for the new session, with its anti-forgery token.
        Ok(login) => with_session(&s, &login, Redirect::to(&next).into_response()),
        Err(e @ (Error::BadCredentials | Error::BadSecondFactor)) => {
            let with_code = s.platform.mfa_status(&c.actor).await.map(|m| m.enrolled).unwrap_or(true);
            render(StatusCode::UNAUTHORIZED, &reauth_page(&s, &c, &next, with_code, Some(e.message())))
        }
        Err(e) => platform_error(&e, &c.ctx.request_id),
    }
}
