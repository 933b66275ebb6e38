//! 通知公告 pages: the list (sent to me, published in my reach, from above), the publishing form, a notice with
//! the recipient's 确认已读 button and, for those who oversee its recipients, the receipts per organization, the
//! people who have not confirmed, and 撤回. Handlers call one `life::notices::Notices` function each; every
//! change is a POST form without script.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use life::notices::Notices;
use life::notices::model::{Notice, NoticeInput, NoticeList, NoticeSummary, ReceiptLine, Unread, WithdrawInput};
use platform::Error;
use serde::Deserialize;

use super::forms::{Field, Kind, apply_errors, body_format_field, stage_choices};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;

fn fail(e: life::Error, c: &Caller) -> Response {
    super::platform_error(&Error::from(e), &c.ctx.request_id)
}

fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// "2026-03-20 14:05" in Beijing time.
pub(crate) fn when(t: time::OffsetDateTime) -> String {
    let b = t.to_offset(kernel::dates::BEIJING);
    format!("{} {:02}:{:02}", kernel::dates::iso(b.date()), b.hour(), b.minute())
}

fn rate(read: i64, total: i64) -> String {
    if total == 0 { "—".into() } else { format!("{}%", read * 100 / total) }
}

/// A line of a notice list as the page shows it.
struct Line {
    n: NoticeSummary,
    at: String,
    rate: String,
}

impl Line {
    fn new(n: NoticeSummary) -> Line {
        let rate = rate(n.read, n.recipients);
        Line { at: when(n.published_at), rate, n }
    }
}

#[derive(Template)]
#[template(path = "notices.html")]
struct ListPage {
    chrome: Chrome,
    received: Vec<Line>,
    published: Vec<Line>,
    from_above: Vec<Line>,
    unconfirmed: i64,
    can_publish: bool,
    oversees: bool,
}

/// `/notices`.
pub async fn notices_get(State(s): State<AppState>, c: Caller) -> Response {
    let notices = Notices::new(&s.platform);
    match notices.list(&c.actor).await {
        Ok(NoticeList { received, published, from_above, unconfirmed }) => render(
            StatusCode::OK,
            &ListPage {
                chrome: Chrome::new(&s, &c, "notices"),
                received: received.into_iter().map(Line::new).collect(),
                published: published.into_iter().map(Line::new).collect(),
                from_above: from_above.into_iter().map(Line::new).collect(),
                unconfirmed,
                can_publish: c.actor.can_somewhere(platform::Capability::NoticeWrite),
                oversees: c.actor.can_somewhere(platform::Capability::NoticeRead),
            },
        ),
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "notice_form.html")]
struct FormPage {
    chrome: Chrome,
    fields: Vec<Field>,
    body: String,
    body_error: Option<String>,
    stages: Vec<(String, String, bool)>,
    stages_error: Option<String>,
    needs_receipt: bool,
    summary: Option<String>,
}

fn form_page(
    s: &AppState,
    c: &Caller,
    targets: Vec<(i64, String)>,
    f: &Pairs,
    errors: Option<&BTreeMap<String, String>>,
) -> FormPage {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let org_options: Vec<(String, String)> = targets.into_iter().map(|(id, name)| (id.to_string(), name)).collect();
    let mut fields = vec![
        Field::new("org_id", "发布组织", Kind::Select(org_options))
            .required()
            .value(v("org_id"))
            .hint("通知发给本组织及下级组织的人员"),
        Field::new("title", "标题", Kind::Text)
            .required()
            .value(v("title"))
            .hint("例如：关于开展3月主题党日活动的通知"),
        body_format_field(first(f, "body_format")),
    ];
    if let Some(e) = errors {
        apply_errors(&mut fields, e);
    }
    let stages = stage_choices(f);
    // A fresh form asks for receipts; a form sent back keeps the author's choice.
    let needs_receipt = f.is_empty() || first(f, "needs_receipt").is_some();
    let summary = errors.filter(|e| !e.is_empty()).map(|e| format!("有{}项需要修改，见下方红字。", e.len()));
    FormPage {
        chrome: Chrome::new(s, c, "notices"),
        fields,
        body: v("body"),
        body_error: errors.and_then(|e| e.get("body").cloned()),
        stages,
        stages_error: errors.and_then(|e| e.get("stages").cloned()),
        needs_receipt,
        summary,
    }
}

#[derive(Deserialize)]
pub struct NewParams {
    pub org_id: Option<i64>,
}

/// `/notices/new[?org_id=]`.
pub async fn new_get(State(s): State<AppState>, c: Caller, Query(q): Query<NewParams>) -> Response {
    let notices = Notices::new(&s.platform);
    if let Some(id) = q.org_id
        && let Err(e) = notices.publishing(&c.ctx, &c.actor, id).await
    {
        return fail(e, &c);
    }
    match notices.publish_targets(&c.actor).await {
        Ok(t) if t.is_empty() => super::platform_error(&Error::Forbidden, &c.ctx.request_id),
        Ok(t) => {
            let pre: Pairs = q.org_id.map(|id| vec![("org_id".to_string(), id.to_string())]).unwrap_or_default();
            let mut page = form_page(&s, &c, t, &pre, None);
            page.needs_receipt = true;
            render(StatusCode::OK, &page)
        }
        Err(e) => fail(e, &c),
    }
}

fn input_of(f: &Pairs) -> NoticeInput {
    let opt = |k: &str| first(f, k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    NoticeInput {
        org_id: opt("org_id").and_then(|v| v.parse().ok()),
        title: opt("title"),
        body: opt("body"),
        body_format: opt("body_format"),
        stages: Some(f.iter().filter(|(k, _)| k == "stage").map(|(_, v)| v.clone()).collect()),
        needs_receipt: Some(first(f, "needs_receipt").is_some()),
    }
}

/// Publishes; a refused input comes back with every message beside its field (422), nothing lost.
pub async fn new_post(State(s): State<AppState>, c: Caller, Form(f): Form<Pairs>) -> Response {
    let notices = Notices::new(&s.platform);
    match notices.publish(&c.ctx, &c.actor, &input_of(&f)).await {
        Ok(n) => Redirect::to(&format!("/notices/{}?published=1", n.id)).into_response(),
        Err(life::Error::Invalid(errors)) => match notices.publish_targets(&c.actor).await {
            Ok(t) => render(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&s, &c, t, &f, Some(&errors))),
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    chrome: Chrome,
    n: Notice,
    published_at: String,
    my_read_at: String,
    withdrawn_at: String,
    lines: Vec<(ReceiptLine, String)>,
    flash: &'static str,
    reason: String,
    reason_error: Option<String>,
}

impl NoticePage {
    fn new(s: &AppState, c: &Caller, n: Notice, flash: &'static str) -> NoticePage {
        let lines = n
            .receipts
            .as_ref()
            .map(|r| r.lines.iter().map(|l| (l.clone(), rate(l.read, l.total))).collect())
            .unwrap_or_default();
        NoticePage {
            chrome: Chrome::new(s, c, "notices"),
            published_at: when(n.published_at),
            my_read_at: n.my_read_at.map(when).unwrap_or_default(),
            withdrawn_at: n.withdrawn_at.map(when).unwrap_or_default(),
            lines,
            flash,
            reason: String::new(),
            reason_error: None,
            n,
        }
    }

    fn overall_rate(&self) -> String {
        self.n.receipts.as_ref().map(|r| rate(r.read, r.total)).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct Flash {
    pub published: Option<String>,
    pub read: Option<String>,
    pub withdrawn: Option<String>,
}

/// `/notices/{id}`.
pub async fn notice_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Query(q): Query<Flash>) -> Response {
    let flash = if q.published.is_some() {
        "通知已发布。接收人登录后会在“通知公告”中看到它。"
    } else if q.read.is_some() {
        "已确认阅读，谢谢。"
    } else if q.withdrawn.is_some() {
        "通知已撤回。接收人将看到撤回原因。"
    } else {
        ""
    };
    match Notices::new(&s.platform).get(&c.ctx, &c.actor, id).await {
        Ok(n) => render(StatusCode::OK, &NoticePage::new(&s, &c, n, flash)),
        Err(e) => fail(e, &c),
    }
}

/// `POST /notices/{id}/read`: 确认已读.
pub async fn read_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Notices::new(&s.platform).confirm(&c.ctx, &c.actor, id).await {
        Ok(_) => Redirect::to(&format!("/notices/{id}?read=1")).into_response(),
        Err(e) => fail(e, &c),
    }
}

/// `POST /notices/{id}/withdraw`: 撤回 with a reason; a missing reason comes back beside the field (422).
pub async fn withdraw_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let notices = Notices::new(&s.platform);
    let input = WithdrawInput { reason: first(&f, "reason").map(str::to_string) };
    let version = first(&f, "version").and_then(|v| v.parse().ok());
    match notices.withdraw(&c.ctx, &c.actor, id, &input, version).await {
        Ok(_) => Redirect::to(&format!("/notices/{id}?withdrawn=1")).into_response(),
        Err(life::Error::Invalid(errors)) => match notices.get(&c.ctx, &c.actor, id).await {
            Ok(n) => {
                let mut page = NoticePage::new(&s, &c, n, "");
                page.reason = input.reason.unwrap_or_default();
                page.reason_error = errors.get("reason").cloned();
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "notice_unread.html")]
struct UnreadPage {
    chrome: Chrome,
    n: Notice,
    people: Vec<Unread>,
    limit: i64,
}

/// `/notices/{id}/unread`: who of my part has not confirmed yet.
pub async fn unread_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Notices::new(&s.platform).unread(&c.ctx, &c.actor, id).await {
        Ok((n, people)) => render(
            StatusCode::OK,
            &UnreadPage {
                chrome: Chrome::new(&s, &c, "notices"),
                n,
                people,
                limit: life::notices::service::UNREAD_LIMIT,
            },
        ),
        Err(e) => fail(e, &c),
    }
}
