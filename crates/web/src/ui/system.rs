//! System pages: accounts (system and security administrators) and the audit log (audit administrator).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::model::{Grant, Role, UserRow};
use platform::service::{
    AccountGrants, AuditQuery, GrantInput, NewUserInput, SHARED_FLAG_DAYS, SharedAccountFlag, SharedReviewInput,
    WithdrawInput,
};
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
    /// Shared-account flags by account (security.md AT-16): the security administrator's only.
    flags: HashMap<i64, SharedAccountFlag>,
    /// The account whose 已核查 form was refused, with why and the note typed (its box opens again).
    review_error: Option<(i64, String, String)>,
}

impl UsersPage {
    /// "疑似共用账号：15 分钟内 3 个地址登录，2026-11-24 22:10" for a flagged account.
    fn shared(&self, id: &i64) -> Option<String> {
        let f = self.flags.get(id)?;
        let more =
            if f.times > 1 { format!("（近{}天共{}次）", SHARED_FLAG_DAYS, f.times) } else { String::new() };
        let signs = platform::service::shared_signs_label(f.minutes, f.addresses, f.devices);
        Some(format!("{signs}，{}{more}", super::notices::when(f.at)))
    }

    /// The refusal and the note typed, for this account's 已核查 form.
    fn review_error_for(&self, id: &i64) -> Option<(&str, &str)> {
        self.review_error.as_ref().filter(|(u, _, _)| u == id).map(|(_, m, n)| (m.as_str(), n.as_str()))
    }
}

pub async fn users_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    users_page(&s, &c, &q, StatusCode::OK, None).await
}

async fn users_page(
    s: &AppState,
    c: &Caller,
    q: &HashMap<String, String>,
    status: StatusCode,
    review_error: Option<(i64, String, String)>,
) -> Response {
    let listed = match s.platform.list_users(&c.ctx, &c.actor, 0).await {
        Ok(users) => {
            let ids: Vec<i64> = users.iter().map(|(u, _)| u.id).collect();
            s.platform.shared_account_flags(&c.actor, &ids).await.map(|flags| (users, flags))
        }
        Err(e) => Err(e),
    };
    match listed {
        Ok((users, flags)) => render(
            status,
            &UsersPage {
                chrome: Chrome::new(s, c, "users"),
                users,
                created: q.get("created").cloned(),
                notice: if q.contains_key("mfa_reset") {
                    Some("已重置该账号的动态口令并退出其全部登录；其下次登录时须重新绑定。".to_string())
                } else if q.contains_key("disabled") {
                    Some("已停用该账号，其全部登录已立即退出；停用期间不能登录。".to_string())
                } else if q.contains_key("enabled") {
                    Some("已重新启用该账号。".to_string())
                } else if q.contains_key("reviewed") {
                    Some("已标记为已核查；该账号此后再有疑似共用登录时会重新提示。".to_string())
                } else {
                    None
                },
                me: c.actor.user_id,
                flags,
                review_error,
            },
        ),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// At most this many organizations in a grant form's list.
const ORG_OPTIONS_MAX: usize = 600;

/// The organizations a grant form offers: the actor's top organizations and two levels below, plus the
/// one the form was opened from.
async fn org_options(s: &AppState, c: &Caller, selected: &str) -> Result<Vec<(String, String)>, Error> {
    let mut orgs = vec![(String::new(), "（系统管理角色不选组织）".to_string())];
    let mut seen = std::collections::HashSet::new();
    if let Ok(id) = selected.parse::<i64>()
        && let Ok(o) = s.platform.get_org(&c.ctx, &c.actor, id).await
    {
        seen.insert(o.id);
        orgs.push((o.id.to_string(), format!("{}（{}）", o.name, o.kind_label)));
    }
    // Three levels (党委 → 二级党委 → 支部), where almost every grant goes; a deeper one is opened from its
    // organization's page (`?org_id=`) or given through the API.
    let mut push = |orgs: &mut Vec<(String, String)>, o: &platform::model::Org, indent: &str| {
        if seen.insert(o.id) && orgs.len() < ORG_OPTIONS_MAX {
            orgs.push((o.id.to_string(), format!("{indent}{}（{}）", o.name, o.kind_label)));
        }
    };
    for top in s.platform.org_children(&c.ctx, &c.actor, None).await? {
        push(&mut orgs, &top, "");
        for child in s.platform.org_children(&c.ctx, &c.actor, Some(top.id)).await? {
            push(&mut orgs, &child, "　");
            if orgs.len() < ORG_OPTIONS_MAX {
                for grandchild in s.platform.org_children(&c.ctx, &c.actor, Some(child.id)).await? {
                    push(&mut orgs, &grandchild, "　　");
                }
            }
        }
    }
    Ok(orgs)
}

/// The roles a grant form offers (the member role comes with a person record, never by hand).
fn role_options() -> Vec<(String, String)> {
    std::iter::once((String::new(), "请选择".to_string()))
        .chain(Role::ALL.iter().filter(|r| **r != Role::Member).map(|r| (r.code().to_string(), r.label().to_string())))
        .collect()
}

/// The account form: one grant at a time (more on the account's 授权记录 page or through the API).
async fn user_fields(s: &AppState, c: &Caller, f: &HashMap<String, String>) -> Result<Vec<Field>, Error> {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let orgs = org_options(s, c, &get("org_id")).await?;
    let roles = role_options();
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

/// Marks an account's shared-account flag 已核查 with the security administrator's note (AT-16); a refused
/// note shows in the account's form again, with what was typed.
pub async fn user_shared_review_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = SharedReviewInput { note: f.get("note").cloned().unwrap_or_default() };
    let refused = match s.platform.review_shared_account(&c.ctx, &c.actor, id, &input).await {
        Ok(()) => return Redirect::to("/admin/users?reviewed=1").into_response(),
        Err(Error::Invalid(errors)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, errors.into_values().next().unwrap_or_default())
        }
        Err(e @ Error::Conflict(_)) => (StatusCode::CONFLICT, e.message()),
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    users_page(&s, &c, &HashMap::new(), refused.0, Some((id, refused.1, input.note))).await
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

/// An account's 授权记录: every grant with its state; the security administrator adds one and withdraws
/// one (with a reason, after a confirmation).
#[derive(Template)]
#[template(path = "grants.html")]
struct GrantsPage {
    chrome: Chrome,
    account: AccountGrants,
    fields: Vec<Field>,
    summary: Option<String>,
    notice: Option<String>,
    /// The grant whose withdrawal was refused, and why (its confirmation box opens again with the message).
    withdraw_error: Option<(i64, String)>,
    reason: String,
}

async fn grant_fields(s: &AppState, c: &Caller, f: &HashMap<String, String>) -> Result<Vec<Field>, Error> {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    Ok(vec![
        Field::new("role", "角色", Kind::Select(role_options())).required().value(get("role")),
        Field::new("org_id", "所辖党组织", Kind::Select(org_options(s, c, &get("org_id")).await?))
            .value(get("org_id"))
            .hint("组织员、支部书记、校领导须选择；三员不选"),
        Field::new("starts_on", "任期开始", Kind::Date).value(get("starts_on")).hint("不填即日起生效"),
        Field::new("ends_on", "任期结束（最后一天）", Kind::Date)
            .value(get("ends_on"))
            .hint("不填则长期有效；到期次日0时（北京时间）起失效"),
    ])
}

impl GrantsPage {
    /// Why the withdrawal of this grant was just refused, if it was.
    fn failed(&self, grant_id: &i64) -> Option<&str> {
        self.withdraw_error.as_ref().filter(|(id, _)| id == grant_id).map(|(_, m)| m.as_str())
    }
}

struct GrantsView {
    fields: Vec<Field>,
    summary: Option<String>,
    notice: Option<String>,
    withdraw_error: Option<(i64, String)>,
    reason: String,
}

async fn grants_page(s: &AppState, c: &Caller, id: i64, status: StatusCode, v: GrantsView) -> Response {
    match s.platform.account_grants(&c.ctx, &c.actor, id).await {
        Ok(account) => render(
            status,
            &GrantsPage {
                chrome: Chrome::new(s, c, "users"),
                account,
                fields: v.fields,
                summary: v.summary,
                notice: v.notice,
                withdraw_error: v.withdraw_error,
                reason: v.reason,
            },
        ),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn grants_get(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = if q.contains_key("added") {
        Some("已授权。该账号下一次操作起即按新角色生效；管理员和组织员角色须设置12位以上的新密码。".to_string())
    } else if q.contains_key("withdrawn") {
        Some("已撤销该授权，该账号下一次操作起即不再拥有此角色；记录保留备查。".to_string())
    } else {
        None
    };
    match grant_fields(&s, &c, &HashMap::new()).await {
        Ok(fields) => {
            let v = GrantsView { fields, summary: None, notice, withdraw_error: None, reason: String::new() };
            grants_page(&s, &c, id, StatusCode::OK, v).await
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// A date field of a form: empty is none; anything else must be `YYYY-MM-DD`.
fn form_date(f: &HashMap<String, String>, key: &str, errors: &mut BTreeMap<String, String>) -> Option<time::Date> {
    let raw = f.get(key).map(|v| v.trim()).unwrap_or_default();
    if raw.is_empty() {
        return None;
    }
    let parsed = kernel::dates::parse_iso(raw);
    if parsed.is_none() {
        errors.insert(key.to_string(), "日期格式应为 年-月-日，例如 2027-06-30".into());
    }
    parsed
}

pub async fn grant_add_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let mut errors = BTreeMap::new();
    let input = GrantInput {
        role: f.get("role").map(|v| v.trim().to_string()).unwrap_or_default(),
        org_id: f.get("org_id").and_then(|v| v.trim().parse().ok()),
        starts_on: form_date(&f, "starts_on", &mut errors),
        ends_on: form_date(&f, "ends_on", &mut errors),
    };
    let result = if errors.is_empty() {
        s.platform.add_grant(&c.ctx, &c.actor, id, &input).await
    } else {
        Err(Error::Invalid(errors))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/admin/users/{id}/grants?added=1")).into_response(),
        Err(Error::Invalid(errors)) => match grant_fields(&s, &c, &f).await {
            Ok(mut fields) => {
                apply_errors(&mut fields, &errors);
                let summary = Some("请按提示修改".into());
                let v = GrantsView { fields, summary, notice: None, withdraw_error: None, reason: String::new() };
                grants_page(&s, &c, id, StatusCode::UNPROCESSABLE_ENTITY, v).await
            }
            Err(e) => super::platform_error(&e, &c.ctx.request_id),
        },
        Err(Error::ReauthRequired) => Redirect::to(&format!("/reauth?next=/admin/users/{id}/grants")).into_response(),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn grant_withdraw_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path((id, grant_id)): axum::extract::Path<(i64, i64)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = WithdrawInput { reason: f.get("reason").cloned().unwrap_or_default() };
    let refused = match s.platform.withdraw_grant(&c.ctx, &c.actor, id, grant_id, &input).await {
        Ok(()) => return Redirect::to(&format!("/admin/users/{id}/grants?withdrawn=1")).into_response(),
        Err(Error::ReauthRequired) => {
            return Redirect::to(&format!("/reauth?next=/admin/users/{id}/grants")).into_response();
        }
        Err(Error::Invalid(errors)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, errors.into_values().next().unwrap_or_default())
        }
        Err(e @ Error::Conflict(_)) => (StatusCode::CONFLICT, e.message()),
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    match grant_fields(&s, &c, &HashMap::new()).await {
        Ok(fields) => {
            let v = GrantsView {
                fields,
                summary: None,
                notice: None,
                withdraw_error: Some((grant_id, refused.1)),
                reason: input.reason,
            };
            grants_page(&s, &c, id, refused.0, v).await
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<Entry>,
    verdict: Option<Verdict>,
    /// The criteria as typed, kept in the form.
    query: AuditQuery,
    errors: BTreeMap<String, String>,
    searched: bool,
    /// The link to the next (older) page, with the same criteria.
    next: Option<String>,
    /// Entries up to this number are copies restored from the archive files.
    archived_through: i64,
}

impl AuditPage {
    fn at(&self, e: &Entry) -> String {
        let t = e.at.to_offset(kernel::dates::BEIJING);
        format!("{} {:02}:{:02}:{:02}", kernel::dates::iso(t.date()), t.hour(), t.minute(), t.second())
    }

    fn error(&self, name: &str) -> Option<&String> {
        self.errors.get(name)
    }
}

/// The audit query from the address's parameters (the service checks them).
fn audit_query(params: &HashMap<String, String>) -> AuditQuery {
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    AuditQuery {
        actor: get("actor"),
        action: get("action"),
        target: get("target"),
        result: get("result"),
        from: get("from"),
        to: get("to"),
        before: get("before"),
    }
}

fn next_link(q: &AuditQuery, before: i64) -> String {
    let pairs = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("target", &q.target),
        ("result", &q.result),
        ("from", &q.from),
        ("to", &q.to),
    ];
    let mut out = String::from("/audit?");
    for (k, v) in pairs.iter().filter(|(_, v)| !v.trim().is_empty()) {
        out.push_str(&format!("{k}={}&", encode(v.trim())));
    }
    out.push_str(&format!("before={before}"));
    out
}

async fn audit_page(s: &AppState, c: &Caller, params: &HashMap<String, String>, verdict: Option<Verdict>) -> Response {
    let query = audit_query(params);
    // The search checks the role (a refusal is audited and answered as not found) and the criteria.
    let found = s.platform.search_audit(&c.ctx, &c.actor, &query).await;
    let mut errors = BTreeMap::new();
    let (status, entries, searched, next, archived_through) = match found {
        Ok(p) => {
            let next = p.next_before.map(|b| next_link(&query, b));
            (StatusCode::OK, p.entries, p.searched, next, p.archived_through)
        }
        Err(Error::Invalid(e)) => {
            errors.extend(e);
            (StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), true, None, 0)
        }
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    let page = AuditPage {
        chrome: Chrome::new(s, c, "audit"),
        entries,
        verdict,
        query,
        errors,
        searched,
        next,
        archived_through,
    };
    render(status, &page)
}

pub async fn audit_get(
    State(s): State<AppState>,
    c: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    audit_page(&s, &c, &params, None).await
}

pub async fn audit_verify_post(State(s): State<AppState>, c: Caller) -> Response {
    if !c.actor.can_somewhere(Capability::AuditRead) {
        return super::platform_error(&Error::NotFound, &c.ctx.request_id);
    }
    match audit::verify(&s.platform.db).await {
        Ok(v) => audit_page(&s, &c, &HashMap::new(), Some(v)).await,
        Err(e) => super::platform_error(&Error::Db(e), &c.ctx.request_id),
    }
}
