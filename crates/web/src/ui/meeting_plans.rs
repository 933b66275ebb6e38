//! 定期计划 pages: the form of a recurring plan for an organization (`/orgs/{id}/meeting-plans/new`) and a
//! plan's page with its meetings (`/meeting-plans/{id}`). The plan's meetings are edited or cancelled one by
//! one on their own meeting pages.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use life::Life;
use life::model::{Candidate, FieldErrors, MeetingKind};
use life::plans::Plans;
use life::plans::model::{CancelPlanInput, Plan, PlanInput};
use platform::model::Org;

use super::forms::{Field, Kind, apply_errors, options};
use super::life::{Attendees, SummaryView, fail};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;

fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn choices(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
}

fn fields(f: &[(String, String)]) -> Vec<Field> {
    let get = |k: &str| first(f, k).unwrap_or("").to_string();
    let days: Vec<(String, String)> = std::iter::once((String::new(), "请选择".into()))
        .chain((1..=31).map(|d| (d.to_string(), format!("{d}日"))))
        .collect();
    vec![
        Field::new("kind", "会议类型", Kind::Select(options(MeetingKind::ALL, MeetingKind::code, MeetingKind::label)))
            .required()
            .value(get("kind")),
        Field::new("title", "会议名称", Kind::Text)
            .required()
            .value(get("title"))
            .hint("每次会议的名称为“2026年12月”加上此名称，例如：主题党日"),
        Field::new("rule", "重复方式", Kind::Select(choices(&[("day", "每月某日"), ("weekday", "每月第几个星期几")])))
            .required()
            .value(get("rule")),
        Field::new("day", "每月几日", Kind::Select(days))
            .value(get("day"))
            .hint("按“每月某日”时填写；当月没有该日的（如31日），为当月最后一天"),
        Field::new(
            "nth",
            "第几个",
            Kind::Select(choices(&[
                ("", "请选择"),
                ("1", "第一个"),
                ("2", "第二个"),
                ("3", "第三个"),
                ("4", "第四个"),
                ("5", "最后一个"),
            ])),
        )
        .value(get("nth"))
        .hint("按“每月第几个星期几”时填写"),
        Field::new(
            "weekday",
            "星期几",
            Kind::Select(choices(&[
                ("", "请选择"),
                ("1", "星期一"),
                ("2", "星期二"),
                ("3", "星期三"),
                ("4", "星期四"),
                ("5", "星期五"),
                ("6", "星期六"),
                ("7", "星期日"),
            ])),
        )
        .value(get("weekday")),
        Field::new("start_time", "开始时间", Kind::Text).value(get("start_time")).hint("24小时制，例如 14:30"),
        Field::new("place", "会议地点", Kind::Text).value(get("place")),
        Field::new("online_link", "线上会议链接", Kind::Text)
            .value(get("online_link"))
            .hint("线上召开时填写，以 https:// 开头"),
        Field::new("agenda", "会议议程", Kind::Text).value(get("agenda")),
        Field::new("starts_on", "开始日期", Kind::Date).required().value(get("starts_on")).hint("不早于今天"),
        Field::new("ends_on", "结束日期", Kind::Date)
            .required()
            .value(get("ends_on"))
            .hint("默认到今年年底；一个计划最多24次会议"),
    ]
}

#[derive(Template)]
#[template(path = "meeting_plan_form.html")]
struct PlanFormPage {
    chrome: Chrome,
    org_id: i64,
    org_name: String,
    fields: Vec<Field>,
    attendees: Attendees,
    summary: Option<String>,
}

fn form(
    s: &AppState,
    c: &Caller,
    org: &Org,
    people: Vec<Candidate>,
    f: &[(String, String)],
    errors: Option<&FieldErrors>,
) -> PlanFormPage {
    let mut fields = fields(f);
    let mut summary = None;
    if let Some(e) = errors {
        apply_errors(&mut fields, e);
        // An organization error has no field on this page (the organization is fixed): show it on top.
        let org_error = e.get("org_id").map(|m| format!("；{m}")).unwrap_or_default();
        summary = Some(format!("有{}处需要修改，请查看标红的项目{org_error}", e.len()));
    }
    PlanFormPage {
        chrome: Chrome::new(s, c, "life"),
        org_id: org.id,
        org_name: org.name.clone(),
        fields,
        attendees: Attendees::of(people, f, errors),
        summary,
    }
}

/// `/orgs/{id}/meeting-plans/new`.
pub async fn new_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let (org, people) = match Life::new(&s.platform).planning(&c.ctx, &c.actor, id).await {
        Ok(v) => v,
        Err(e) => return fail(e, &c),
    };
    let today = kernel::dates::today();
    let end = time::Date::from_calendar_date(today.year(), time::Month::December, 31).unwrap_or(today);
    let kind = if org.kind == platform::model::OrgKind::Group { MeetingKind::Group } else { MeetingKind::ThemeDay };
    let f: Pairs = vec![
        ("kind".into(), kind.code().into()),
        ("title".into(), kind.label().into()),
        ("rule".into(), "day".into()),
        ("start_time".into(), "14:30".into()),
        ("starts_on".into(), kernel::dates::iso(today)),
        ("ends_on".into(), kernel::dates::iso(end)),
    ];
    render(StatusCode::OK, &form(&s, &c, &org, people, &f, None))
}

fn input_of(org_id: i64, f: &[(String, String)]) -> PlanInput {
    let get = |k: &str| first(f, k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let num = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
    PlanInput {
        org_id: Some(org_id),
        kind: get("kind"),
        title: get("title"),
        rule: get("rule"),
        day: num("day"),
        nth: num("nth"),
        weekday: num("weekday"),
        start_time: get("start_time"),
        place: get("place"),
        online_link: get("online_link"),
        agenda: get("agenda"),
        starts_on: get("starts_on"),
        ends_on: get("ends_on"),
        attendee_ids: Attendees::ids(f),
    }
}

pub async fn new_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Form(f): Form<Pairs>) -> Response {
    match Plans::new(&s.platform).create(&c.ctx, &c.actor, &input_of(id, &f)).await {
        Ok(p) => Redirect::to(&format!("/meeting-plans/{}?saved=1", p.id)).into_response(),
        Err(life::Error::Invalid(errors)) => match Life::new(&s.platform).planning(&c.ctx, &c.actor, id).await {
            Ok((org, people)) => {
                render(StatusCode::UNPROCESSABLE_ENTITY, &form(&s, &c, &org, people, &f, Some(&errors)))
            }
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "meeting_plan.html")]
struct PlanPage {
    chrome: Chrome,
    p: Plan,
    rows: Vec<SummaryView>,
    starts_on: String,
    ends_on: String,
    cancelled_at: Option<String>,
    notice: Option<String>,
    reason: String,
    reason_error: Option<String>,
}

impl PlanPage {
    fn new(s: &AppState, c: &Caller, mut p: Plan, notice: Option<String>) -> PlanPage {
        let rows = std::mem::take(&mut p.meetings).into_iter().map(SummaryView::new).collect::<Vec<_>>();
        PlanPage {
            chrome: Chrome::new(s, c, "life"),
            starts_on: kernel::dates::chinese(p.starts_on),
            ends_on: kernel::dates::chinese(p.ends_on),
            cancelled_at: p.cancelled_at.map(super::notices::when),
            p,
            rows,
            notice,
            reason: String::new(),
            reason_error: None,
        }
    }
}

/// `/meeting-plans/{id}`.
pub async fn plan_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    match Plans::new(&s.platform).get(&c.ctx, &c.actor, id).await {
        Ok(p) => {
            let notice = if q.contains_key("saved") {
                Some(format!("已生成{}次会议，并已通知参会人员。", p.meetings.len()))
            } else {
                q.get("cancelled").map(|n| format!("计划已取消：{n}次尚未召开的会议改为“已取消”，并已通知参会人员。"))
            };
            render(StatusCode::OK, &PlanPage::new(&s, &c, p, notice))
        }
        Err(e) => fail(e, &c),
    }
}

/// `POST /meeting-plans/{id}/cancel` (`reason`): the whole plan; a refused reason shows under its field.
pub async fn cancel_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Form(f): Form<Pairs>) -> Response {
    let plans = Plans::new(&s.platform);
    let reason = first(&f, "reason").unwrap_or("").to_string();
    let before = match plans.get(&c.ctx, &c.actor, id).await {
        Ok(p) => p,
        Err(e) => return fail(e, &c),
    };
    let ahead = |p: &Plan| p.meetings.iter().filter(|m| m.status == life::model::MeetingStatus::Planned).count();
    let was_ahead = ahead(&before);
    match plans.cancel(&c.ctx, &c.actor, id, &CancelPlanInput { reason: Some(reason.clone()) }).await {
        Ok(after) => {
            let n = was_ahead.saturating_sub(ahead(&after));
            Redirect::to(&format!("/meeting-plans/{id}?cancelled={n}")).into_response()
        }
        Err(life::Error::Invalid(errors)) => {
            let mut page = PlanPage::new(&s, &c, before, None);
            page.reason = reason;
            page.reason_error = errors.get("reason").cloned();
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => fail(e, &c),
    }
}
