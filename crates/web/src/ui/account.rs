//! The member's own mobile number (`/account/phone`, security.md AT-7): changed only after re-entering
//! the password (and code) within the last ten minutes; the page sends her to `/reauth` and back.

use std::collections::HashMap;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::Error;

use super::forms::{Field, Kind, apply_errors};
use super::session::FormPage;
use super::{Chrome, platform_error, render};
use crate::AppState;
use crate::auth::Caller;

const PAGE: &str = "/account/phone";

fn fields(value: &str) -> Vec<Field> {
    vec![
        Field::new("phone", "新手机号码", Kind::Tel)
            .required()
            .value(value)
            .autocomplete("tel")
            .hint("11位中国大陆手机号码；保存后加密存储，列表中只显示部分数字"),
    ]
}

fn page(s: &AppState, c: &Caller, fields: Vec<Field>, notice: Option<String>, summary: Option<String>) -> FormPage {
    FormPage {
        chrome: Chrome::new(s, c, "me"),
        title: "修改我的手机号".into(),
        crumbs: vec![],
        action: PAGE.into(),
        fields,
        submit: "保存",
        cancel: c.actor.person_id.map(|p| format!("/people/{p}")).unwrap_or_else(|| "/".into()),
        notice,
        summary,
        warnings: vec!["修改手机号属于敏感操作，须在10分钟内重新验证身份；修改记入审计日志。".into()],
    }
}

/// The current number (masked) as the notice of the page.
async fn current(s: &AppState, c: &Caller, pid: i64) -> Result<String, Error> {
    let person = s.platform.get_person(&c.ctx, &c.actor, pid).await?;
    Ok(format!("当前号码：{}", person.phone.unwrap_or_else(|| "未填写".into())))
}

pub async fn phone_get(State(s): State<AppState>, c: Caller) -> Response {
    let Some(pid) = c.actor.person_id else {
        return platform_error(&Error::NotFound, &c.ctx.request_id);
    };
    if s.platform.require_recent_auth(&c.actor).is_err() {
        return Redirect::to("/reauth?next=/account/phone").into_response();
    }
    match current(&s, &c, pid).await {
        Ok(now) => render(StatusCode::OK, &page(&s, &c, fields(""), Some(now), None)),
        Err(e) => platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn phone_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let raw = f.get("phone").cloned().unwrap_or_default();
    match s.platform.change_own_phone(&c.ctx, &c.actor, &raw).await {
        Ok(masked) => {
            let notice = format!("手机号码已修改为 {masked}。");
            render(StatusCode::OK, &page(&s, &c, fields(""), Some(notice), None))
        }
        Err(Error::Invalid(errors)) => {
            let mut fs = fields(&raw);
            apply_errors(&mut fs, &errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page(&s, &c, fs, None, Some("请按提示修改".into())))
        }
        Err(Error::ReauthRequired) => Redirect::to("/reauth?next=/account/phone").into_response(),
        Err(e) => platform_error(&e, &c.ctx.request_id),
    }
}
