//! 线上党课 pages: `/learning/classes` (upcoming and past classes of the caller's audience), `/learning/
//! classes/new` (scheduling, for those who publish learning: lecturer, time, link or room, audience, and
//! whether the organization's 党课 meeting with QR sign-in is planned in 组织生活 — that is what makes the
//! class count toward the branch's 党课), `/learning/classes/{id}` (a member joins — attendance recorded once —
//! and then sees the link; its secretary finishes it with the replay link and materials).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learning::Learning;
use learning::classes::model::{ClassInput, ClassStatus, FinishInput, PartyClass};
use learning::exams::model::local_text;
use learning::model::MaterialSummary;
use life::model::MeetingSummary;

use super::forms::stage_choices;
use super::learnform::{Input, apply, first, flash, number, opt, org_choices, respond};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;
type Errors = BTreeMap<String, String>;

fn fail(e: learning::Error, c: &Caller) -> Response {
    super::platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

/// A class as the pages show it.
struct ClassView {
    x: PartyClass,
    when: String,
    /// 未开始 / 进行中 / 已结束 / 已取消: a scheduled class between its start and end is 进行中.
    label: &'static str,
}

impl ClassView {
    fn new(x: PartyClass) -> ClassView {
        let end = x.starts_at + time::Duration::minutes(x.minutes);
        let end = local_text(end);
        let when = format!("{}–{}", local_text(x.starts_at), end.get(11..).unwrap_or(&end));
        let now = time::OffsetDateTime::now_utc();
        let label = if x.status == ClassStatus::Scheduled && x.starts_at <= now { "进行中" } else { x.status_label };
        ClassView { x, when, label }
    }
    fn past(&self) -> bool {
        self.x.status != ClassStatus::Scheduled
            || self.x.starts_at + time::Duration::minutes(self.x.minutes) < time::OffsetDateTime::now_utc()
    }
}

#[derive(Template)]
#[template(path = "classes.html")]
struct ClassesPage {
    chrome: Chrome,
    upcoming: Vec<ClassView>,
    past: Vec<ClassView>,
    can_publish: bool,
}

/// `/learning/classes`: upcoming (soonest first) and past (latest first).
pub async fn classes_get(State(s): State<AppState>, c: Caller) -> Response {
    let list = match Learning::new(&s.platform).list_classes(&c.actor).await {
        Ok(l) => l,
        Err(e) => return fail(e, &c),
    };
    let (past, mut upcoming): (Vec<ClassView>, Vec<ClassView>) =
        list.items.into_iter().map(ClassView::new).partition(ClassView::past);
    upcoming.sort_by_key(|v| v.x.starts_at);
    let page = ClassesPage {
        chrome: Chrome::new(&s, &c, "learning"),
        upcoming,
        past,
        can_publish: Learning::may_publish(&c.actor),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "class_form.html")]
struct ClassFormPage {
    chrome: Chrome,
    fields: Vec<Input>,
    stages: Vec<(String, String, bool)>,
    stages_error: Option<String>,
    sign_in: bool,
    sign_in_error: Option<String>,
    /// The planned 党课 meetings it may be linked to instead: (id, words, chosen).
    meetings: Vec<(i64, String, bool)>,
    meeting_error: Option<String>,
    summary: Option<String>,
}

/// What a new class form needs from the services: where it may be published and the meetings it may link.
async fn form_choices(s: &AppState, c: &Caller) -> Result<(Vec<(i64, String)>, Vec<MeetingSummary>), learning::Error> {
    let learning = Learning::new(&s.platform);
    Ok((learning.publish_targets(&c.actor).await?, learning.linkable_meetings(&c.actor).await?))
}

fn class_form(
    s: &AppState,
    c: &Caller,
    (targets, meetings): (Vec<(i64, String)>, Vec<MeetingSummary>),
    f: &Pairs,
    errors: Option<&Errors>,
) -> ClassFormPage {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let mut fields = vec![
        Input::new("class", "title", "课程名称").required().value(v("title")),
        Input::new("class", "lecturer", "主讲人").required().value(v("lecturer")),
        Input::new("class", "org_id", "参加范围")
            .required()
            .choices(org_choices(targets))
            .value(v("org_id"))
            .hint("本组织及下级组织的人员可以参加"),
        Input::new("class", "starts_at", "开课时间")
            .required()
            .kind("datetime-local")
            .value(v("starts_at"))
            .hint("北京时间"),
        Input::new("class", "minutes", "时长（分钟）").kind("number").value(first(f, "minutes").unwrap_or("60")),
        Input::new("class", "link", "线上课堂链接")
            .kind("url")
            .value(v("link"))
            .hint("以 http:// 或 https:// 开头；参加后才显示给党员"),
        Input::new("class", "room", "授课地点").value(v("room")).hint("线下授课同步直播时填写；链接和地点至少填一项"),
        Input::new("class", "description", "简介").rows(4).value(v("description")),
    ];
    let summary = apply(&mut fields, errors);
    ClassFormPage {
        chrome: Chrome::new(s, c, "learning"),
        fields,
        stages: stage_choices(f),
        stages_error: errors.and_then(|e| e.get("stages").cloned()),
        // A new form has sign-in on: a class counts toward 党课 only through its meeting.
        sign_in: if f.is_empty() { true } else { first(f, "sign_in").is_some() },
        sign_in_error: errors.and_then(|e| e.get("sign_in").cloned()),
        meetings: meetings
            .into_iter()
            .map(|m| {
                let time = m.start_time.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
                let words = format!("{}{time} · {} · {}", kernel::dates::iso(m.held_on), m.org_name, m.title);
                (m.id, words, first(f, "meeting_id") == Some(m.id.to_string().as_str()))
            })
            .collect(),
        meeting_error: errors.and_then(|e| e.get("meeting_id").cloned()),
        summary,
    }
}

/// `/learning/classes/new`: those who publish learning (others 403).
pub async fn class_new_get(State(s): State<AppState>, c: Caller) -> Response {
    if !Learning::may_publish(&c.actor) {
        return super::platform_error(&platform::Error::Forbidden, &c.ctx.request_id);
    }
    match form_choices(&s, &c).await {
        Ok(choices) => render(StatusCode::OK, &class_form(&s, &c, choices, &Vec::new(), None)),
        Err(e) => fail(e, &c),
    }
}

/// Schedules a class and opens it; a refused input comes back under its fields (422), nothing written.
pub async fn class_new_post(State(s): State<AppState>, c: Caller, Form(f): Form<Pairs>) -> Response {
    let learning = Learning::new(&s.platform);
    let input = ClassInput {
        org_id: opt(&f, "org_id").and_then(|v| v.parse().ok()),
        title: opt(&f, "title"),
        lecturer: opt(&f, "lecturer"),
        starts_at: opt(&f, "starts_at"),
        minutes: number(&f, "minutes"),
        link: opt(&f, "link"),
        room: opt(&f, "room"),
        description: opt(&f, "description"),
        stages: Some(f.iter().filter(|(k, _)| k == "stage").map(|(_, v)| v.clone()).collect()),
        sign_in: Some(first(&f, "sign_in").is_some()),
        meeting_id: opt(&f, "meeting_id").and_then(|v| v.parse().ok()),
    };
    match learning.create_class(&c.ctx, &c.actor, &input).await {
        Ok(x) => Redirect::to(&format!("/learning/classes/{}?created=1", x.id)).into_response(),
        Err(learning::Error::Invalid(errors)) => match form_choices(&s, &c).await {
            Ok(choices) => render(StatusCode::UNPROCESSABLE_ENTITY, &class_form(&s, &c, choices, &f, Some(&errors))),
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "class.html")]
struct ClassPage {
    chrome: Chrome,
    v: ClassView,
    /// The link shows to those who joined and to those managing the class.
    show_link: bool,
    can_finish: bool,
    materials: Vec<(MaterialSummary, bool)>,
    replay: String,
    errors: Errors,
    message: Option<(String, &'static str)>,
}

async fn class_page(
    s: &AppState,
    c: &Caller,
    id: i64,
    f: Option<&Pairs>,
    errors: Errors,
    message: Option<(String, &'static str)>,
) -> Result<ClassPage, Response> {
    let learning = Learning::new(&s.platform);
    let x = learning.get_class(&c.ctx, &c.actor, id).await.map_err(|e| fail(e, c))?;
    let can_finish = x.manageable && x.status == ClassStatus::Scheduled && Learning::may_publish(&c.actor);
    let materials = if can_finish {
        let chosen: Vec<String> =
            f.map(|f| f.iter().filter(|(k, _)| k == "material").map(|(_, v)| v.clone()).collect()).unwrap_or_default();
        let list = learning.list_materials(&c.actor, None).await.map_err(|e| fail(e, c))?;
        list.items
            .into_iter()
            .take(30)
            .map(|m| {
                let on = chosen.contains(&m.id.to_string());
                (m, on)
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ClassPage {
        chrome: Chrome::new(s, c, "learning"),
        show_link: x.joined || x.manageable,
        can_finish,
        materials,
        replay: f.and_then(|f| first(f, "replay_url")).unwrap_or("").to_string(),
        errors,
        message,
        v: ClassView::new(x),
    })
}

/// `/learning/classes/{id}`: 404 outside its audience and its managers.
pub async fn class_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let message = flash(
        &p,
        &[
            ("created", "党课已安排。"),
            ("joined", "已签到，出勤已记录。请点击“进入课堂”参加。"),
            ("finished", "党课已结束，回放和学习材料已发布。"),
        ],
    );
    respond(StatusCode::OK, class_page(&s, &c, id, None, Errors::new(), message).await)
}

/// Joins (attendance recorded once) and comes back to the page, which now shows the link; outside the
/// joining time 409 with the reason.
pub async fn class_join_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Learning::new(&s.platform).join_class(&c.ctx, &c.actor, id).await {
        Ok(_) => Redirect::to(&format!("/learning/classes/{id}?joined=1")).into_response(),
        Err(learning::Error::Conflict(m)) => {
            respond(StatusCode::CONFLICT, class_page(&s, &c, id, None, Errors::new(), Some((m.into(), "warn"))).await)
        }
        Err(e) => fail(e, &c),
    }
}

/// Finishes a class with its replay and materials (its secretary, staff above); 422 with the message under
/// the field, 409 before it began.
pub async fn class_finish_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let input = FinishInput {
        replay_url: opt(&f, "replay_url"),
        material_ids: Some(f.iter().filter(|(k, _)| k == "material").filter_map(|(_, v)| v.parse().ok()).collect()),
    };
    match Learning::new(&s.platform).finish_class(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/learning/classes/{id}?finished=1")).into_response(),
        Err(learning::Error::Invalid(errors)) => {
            let msg = Some((format!("有{}处需要修改，请按提示修改后再提交。", errors.len()), "error"));
            respond(StatusCode::UNPROCESSABLE_ENTITY, class_page(&s, &c, id, Some(&f), errors, msg).await)
        }
        Err(learning::Error::Conflict(m)) => respond(
            StatusCode::CONFLICT,
            class_page(&s, &c, id, Some(&f), Errors::new(), Some((m.into(), "warn"))).await,
        ),
        Err(e) => fail(e, &c),
    }
}
