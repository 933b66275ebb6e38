//! 定期计划 pages: the form of a recurring plan for an organization (`/orgs/{id}/meeting-plans/new`) and a
//! plan's page with its meetings (`/meeting-plans/{id}`). The plan's meetings are edited or cancelled one by
//! one on their own meeting pages.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use life::Life;
use life::model::{FieldErrors, MeetingKind};
use life::plans::Plans;
use life::plans::model::{Plan, PlanInput};

use super::forms::{Field, Kind, apply_errors, options};
use super::life::{SummaryView, fail};
use super::session::FormPage;
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

fn form(
    s: &AppState,
    c: &Caller,
    org_id: i64,
    org_name: &str,
    f: &[(String, String)],
    errors: Option<&FieldErrors>,
) -> FormPage {
    let mut fields = fields(f);
    let mut summary = None;
    if let Some(e) = errors {
        apply_errors(&mut fields, e);
        let extra: Vec<&str> =
            ["org_id", "attendee_ids"].iter().filter_map(|k| e.get(*k).map(String::as_str)).collect();
        let extra = if extra.is_empty() { String::new() } else { format!("；{}", extra.join("；")) };
        summary = Some(format!("有{}处需要修改，请查看标红的项目{extra}", e.len()));
    }
    FormPage {
        chrome: Chrome::new(s, c, "life"),
        title: "新建定期计划".into(),
        crumbs: vec![(format!("{org_name} · 组织生活"), format!("/orgs/{org_id}/meetings"))],
        action: format!("/orgs/{org_id}/meeting-plans/new"),
        fields,
        submit: "生成会议并通知",
        cancel: format!("/orgs/{org_id}/meetings"),
        notice: Some("按计划一次生成本期各次会议（计划召开），参会人员按会议类型默认（支委会为支委委员，其余为全体党员），并收到一份会议计划通知。".into()),
        summary,
        warnings: Vec::new(),
    }
}

/// `/orgs/{id}/meeting-plans/new`.
pub async fn new_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let (org, _) = match Life::new(&s.platform).planning(&c.ctx, &c.actor, id).await {
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
    render(StatusCode::OK, &form(&s, &c, org.id, &org.name, &f, None))
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
        attendee_ids: None,
    }
}

pub async fn new_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Form(f): Form<Pairs>) -> Response {
    match Plans::new(&s.platform).create(&c.ctx, &c.actor, &input_of(id, &f)).await {
        Ok(p) => Redirect::to(&format!("/meeting-plans/{}?saved=1", p.id)).into_response(),
        Err(life::Error::Invalid(errors)) => match Life::new(&s.platform).planning(&c.ctx, &c.actor, id).await {
            Ok((org, _)) => {
                render(StatusCode::UNPROCESSABLE_ENTITY, &form(&s, &c, org.id, &org.name, &f, Some(&errors)))
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
    notice: Option<String>,
}

/// `/meeting-plans/{id}`.
pub async fn plan_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    match Plans::new(&s.platform).get(&c.ctx, &c.actor, id).await {
        Ok(mut p) => {
            let rows = std::mem::take(&mut p.meetings).into_iter().map(SummaryView::new).collect::<Vec<_>>();
            let notice = q.contains_key("saved").then(|| format!("已生成{}次会议，并已通知参会人员。", rows.len()));
            let page = PlanPage {
                chrome: Chrome::new(&s, &c, "life"),
                starts_on: kernel::dates::chinese(p.starts_on),
                ends_on: kernel::dates::chinese(p.ends_on),
                p,
                rows,
                notice,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => fail(e, &c),
    }
}
