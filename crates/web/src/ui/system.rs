//! System pages: accounts (system and security administrators) and the audit log (audit administrator).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::model::{Grant, Role, UserRow};
use platform::service::{GrantInput, NewUserInput};
use platform::{Capability, Error};
use security::audit::{self, Entry, Verdict};

use super::forms::{Field, Kind, apply_errors};
use super::session::FormPage;
use super::{Chrome, render};
use crate::AppState;
use crate::auth::{Caller, encode};

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<(UserRow, Vec<Grant>)>,
    created: Option<String>,
    notice: Option<String>,
    me: i64,
}

pub async fn users_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    match s.platform.list_users(&c.ctx, &c.actor, 0).await {
        Ok(users) => render(
            StatusCode::OK,
            &UsersPage {
                chrome: Chrome::new(&s, &c, "users"),
                users,
                created: q.get("created").cloned(),
                notice: if q.contains_key("mfa_reset") {
                    Some("已重置该账号的动态口令并退出其全部登录；其下次登录时须重新绑定。".to_string())
                } else if q.contains_key("disabled") {
                    Some("已停用该账号，其全部登录已立即退出；停用期间不能登录。".to_string())
                } else if q.contains_key("enabled") {
                    Some("已重新启用该账号。".to_string())
                } else {
                    None
                },
                me: c.actor.user_id,
            },
        ),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The account form: one grant at a time (further grants through the API). The organization list is
/// the actor's top organizations and their children, plus the one the form was opened from.
async fn user_fields(s: &AppState, c: &Caller, f: &HashMap<String, String>) -> Result<Vec<Field>, Error> {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut orgs = vec![(String::new(), "（系统管理角色不选组织）".to_string())];
    let mut seen = std::collections::HashSet::new();
    if let Ok(id) = get("org_id").parse::<i64>()
        && let Ok(o) = s.platform.get_org(&c.ctx, &c.actor, id).await
    {
        seen.insert(o.id);
        orgs.push((o.id.to_string(), format!("{}（{}）", o.name, o.kind_label)));
    }
    for top in s.platform.org_children(&c.ctx, &c.actor, None).await? {
        let children = s.platform.org_children(&c.ctx, &c.actor, Some(top.id)).await?;
        for o in std::iter::once(top).chain(children).take(200) {
            if seen.insert(o.id) {
                orgs.push((o.id.to_string(), format!("{}（{}）", o.name, o.kind_label)));
            }
        }
    }
    let roles: Vec<(String, String)> = std::iter::once((String::new(), "请选择".to_string()))
        .chain(Role::ALL.iter().filter(|r| **r != Role::Member).map(|r| (r.code().to_string(), r.label().to_string())))
        .collect();
    Ok(vec![
        Field::new("username", "用户名", Kind::Text)
            .required()
            .value(get("username"))
            .hint("3-32位字母、数字、下划线、点或连字符"),
        Field::new("display_name", "姓名", Kind::Text).required().value(get("display_name")),
        Field::new("password", "初始密码", Kind::Password)
            .required()
            .autocomplete("new-password")
            .hint("至少8位，含大写字母、小写字母、数字、符号中的三类；请当面或电话告知本人"),
        Field::new("role", "角色", Kind::Select(roles)).required().value(get("role")),
        Field::new("org_id", "所辖党组织", Kind::Select(orgs))
            .value(get("org_id"))
            .hint("组织员、支部书记、校领导须选择；三员不选"),
    ])
}

fn user_form(s: &AppState, c: &Caller, fields: Vec<Field>, summary: Option<String>) -> FormPage {
    FormPage {
        chrome: Chrome::new(s, c, "users"),
        title: "新增账号".into(),
        crumbs: vec![("账号".into(), "/admin/users".into())],
        action: "/admin/users/new".into(),
        fields,
        submit: "创建账号",
        cancel: "/admin/users".into(),
        notice: None,
        summary,
        warnings: vec![],
    }
}

pub async fn user_new_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    if !c.actor.can_somewhere(Capability::AccountAdmin) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    match user_fields(&s, &c, &q).await {
        Ok(fields) => render(StatusCode::OK, &user_form(&s, &c, fields, None)),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn user_new_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let role = get("role");
    let grants = if role.is_empty() {
        vec![]
    } else {
        vec![GrantInput { role, org_id: get("org_id").parse().ok(), starts_on: None, ends_on: None }]
    };
    let input = NewUserInput {
        username: get("username"),
        password: f.get("password").cloned().unwrap_or_default(),
        display_name: get("display_name"),
        person_id: None,
        grants,
    };
    match s.platform.create_user(&c.ctx, &c.actor, &input).await {
        Ok(_) => Redirect::to(&format!("/admin/users?created={}", encode(&input.username))).into_response(),
        Err(e @ (Error::Invalid(_) | Error::Forbidden))
            if c.actor.can_somewhere(platform::Capability::AccountAdmin) =>
        {
            let mut errors = match e {
                Error::Invalid(errors) => errors,
                // The only refusal an account administrator meets here: granting while a security
                // administrator exists (三员分立). Say so beside the role instead of a bare 403 page.
                _ => [("role".to_string(), "角色授权由安全管理员负责（三员分立）；可先创建不带角色的账号".to_string())]
                    .into(),
            };
            if let Some(m) = errors.remove("grants[0]") {
                errors.insert(if m.contains("组织") { "org_id".into() } else { "role".into() }, m);
            }
            match user_fields(&s, &c, &f).await {
                Ok(mut fields) => {
                    apply_errors(&mut fields, &errors);
                    render(StatusCode::UNPROCESSABLE_ENTITY, &user_form(&s, &c, fields, Some("请按提示修改".into())))
                }
                Err(e) => super::platform_error(&e, &c.ctx.request_id),
            }
        }
        Err(Error::ReauthRequired) => Redirect::to("/reauth?next=/admin/users/new").into_response(),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// Removes another account's authenticator (a lost phone), after step-up.
pub async fn user_mfa_reset_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match s.platform.reset_mfa(&c.ctx, &c.actor, id).await {
        Ok(()) => Redirect::to("/admin/users?mfa_reset=1").into_response(),
        Err(Error::ReauthRequired) => Redirect::to("/reauth?next=/admin/users").into_response(),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// Disables another account (its sessions end at once; it cannot sign in). The page asks first.
pub async fn user_disable_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match s.platform.set_account_active(&c.ctx, &c.actor, id, false).await {
        Ok(()) => Redirect::to("/admin/users?disabled=1").into_response(),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// Enables a disabled account again.
pub async fn user_enable_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Response {
    match s.platform.set_account_active(&c.ctx, &c.actor, id, true).await {
        Ok(()) => Redirect::to("/admin/users?enabled=1").into_response(),
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
        format!("{} {:02}:{:02}:{:02}", kernel::dates::iso(t.date()), t.hour(), t.minute(), t.second())
    }
}

async fn audit_page(s: &AppState, c: &Caller, verdict: Option<Verdict>) -> Response {
    if !c.actor.can_somewhere(Capability::AuditRead) {
        return super::platform_error(&Error::NotFound, &c.ctx.request_id);
    }
    match audit::recent(&s.platform.db, None, 100).await {
        Ok(entries) => render(StatusCode::OK, &AuditPage { chrome: Chrome::new(s, c, "audit"), entries, verdict }),
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
