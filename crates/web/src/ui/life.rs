//! 组织生活 pages: a branch's meetings with "新建会议" and the year's attendance per person, the meeting page
//! with the secretary's sign-in sheet and members' leave requests, and the compliance calendar (a year grid
//! of the required meetings, ✓ held / ✗ missing with the article), with the roll-up for a college or the
//! university. Handlers call one `life::Life` function each; every change is a POST form without script.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use life::Life;
use life::model::{
    Attendance, AttendanceEntry, AttendanceInput, Candidate, FieldErrors, LeaveInput, Meeting, MeetingInput,
    MeetingKind, MeetingStatus, MeetingSummary, PersonAttendance, RollupLine, parse_as_of_year,
};
use life::rules::{CellState, Compliance, Flag, Severity};
use life::service::{MeetingQuery, Rollup};
use platform::model::{Org, OrgKind};
use platform::{Capability, Error};

use super::forms::{Field, Kind, apply_errors, options};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::{Caller, encode};

type Pairs = Vec<(String, String)>;

pub(super) fn fail(e: life::Error, c: &Caller) -> Response {
    super::platform_error(&Error::from(e), &c.ctx.request_id)
}

fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The organization a caller's 组织生活 pages start from: the widest one her meeting grants reach.
fn home_org(c: &Caller) -> Option<i64> {
    c.actor
        .grants
        .iter()
        .filter(|g| g.org_path.as_deref().is_some_and(|p| c.actor.can(Capability::MeetingRead, p)))
        .min_by_key(|g| g.org_path.as_deref().map_or(usize::MAX, str::len))
        .and_then(|g| g.org_id)
}

/// `/life`: a secretary lands on her branch's meetings, staff and leaders on their organization's calendar,
/// a member on the meetings she is invited to.
pub async fn life_get(State(s): State<AppState>, c: Caller) -> Response {
    if let Some(id) = home_org(&c) {
        return match s.platform.get_org(&c.ctx, &c.actor, id).await {
            Ok(o) if matches!(o.kind, OrgKind::Branch | OrgKind::Group) => {
                Redirect::to(&format!("/orgs/{id}/meetings")).into_response()
            }
            Ok(_) => Redirect::to(&format!("/orgs/{id}/compliance")).into_response(),
            Err(e) => super::platform_error(&e, &c.ctx.request_id),
        };
    }
    let q = MeetingQuery::default();
    match Life::new(&s.platform).list_meetings(&c.ctx, &c.actor, &q).await {
        Ok(list) => {
            let page = MeetingsPage {
                chrome: Chrome::new(&s, &c, "life"),
                org: None,
                crumbs: Vec::new(),
                year: list.year,
                kind: String::new(),
                years: years_around(list.year),
                kinds: kind_options("全部类型"),
                rows: list.items.into_iter().map(SummaryView::new).collect(),
                people: Vec::new(),
                can_plan: false,
                mine: true,
                plans: Vec::new(),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => fail(e, &c),
    }
}

/// `/life/compliance`: the calendar of the caller's organization.
pub async fn life_compliance_get(c: Caller) -> Response {
    match home_org(&c) {
        Some(id) => Redirect::to(&format!("/orgs/{id}/compliance")).into_response(),
        None => super::platform_error(&Error::NotFound, &c.ctx.request_id),
    }
}

fn years_around(year: i32) -> Vec<(String, String)> {
    let this = kernel::dates::today().year();
    let mut ys: Vec<i32> = (this - 3..=this + 1).collect();
    if !ys.contains(&year) {
        ys.push(year);
    }
    ys.sort_unstable_by(|a, b| b.cmp(a));
    ys.into_iter().map(|y| (y.to_string(), format!("{y}年"))).collect()
}

fn kind_options(all: &str) -> Vec<(String, String)> {
    let mut o = options(MeetingKind::ALL, MeetingKind::code, MeetingKind::label);
    if let Some(first) = o.first_mut() {
        first.1 = all.into();
    }
    o
}

/// A line of the meeting list as the page shows it.
pub(super) struct SummaryView {
    pub(super) m: MeetingSummary,
    pub(super) date: String,
    attendance: String,
}

impl SummaryView {
    pub(super) fn new(m: MeetingSummary) -> SummaryView {
        let date = match &m.start_time {
            Some(t) => format!("{} {t}", kernel::dates::iso(m.held_on)),
            None => kernel::dates::iso(m.held_on),
        };
        let st = &m.stats;
        let attendance = if st.invited == 0 {
            "—".into()
        } else if st.unrecorded == st.invited {
            format!("应到{}人，未签到", st.invited)
        } else {
            format!("应到{} 出席{} 请假{} 缺席{}", st.invited, st.present, st.leave, st.absent)
        };
        SummaryView { m, date, attendance }
    }

    pub(super) fn status_class(&self) -> &'static str {
        match self.m.status {
            MeetingStatus::Held => "ok",
            MeetingStatus::Planned => "due",
            MeetingStatus::Cancelled => "off",
        }
    }
}

fn rate(p: &PersonAttendance) -> String {
    p.stats.present_percent.map_or_else(|| "—".into(), |n| format!("{n}%"))
}

#[derive(Template)]
#[template(path = "meetings.html")]
struct MeetingsPage {
    chrome: Chrome,
    org: Option<Org>,
    crumbs: Vec<Org>,
    year: i32,
    kind: String,
    years: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    rows: Vec<SummaryView>,
    people: Vec<(PersonAttendance, String)>,
    can_plan: bool,
    /// A member's own meetings (no organization).
    mine: bool,
    /// The recurring plans still running (定期计划), for those who oversee the organization.
    plans: Vec<life::plans::model::Plan>,
}

/// `/orgs/{id}/meetings?year=&kind=`: the organization's meetings of a year and each person's attendance.
pub async fn meetings_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let year = q.get("year").and_then(|y| y.trim().parse::<i32>().ok());
    let kind = q.get("kind").cloned().filter(|k| !k.trim().is_empty());
    let life = Life::new(&s.platform);
    let result = async {
        let list =
            life.list_meetings(&c.ctx, &c.actor, &MeetingQuery { org_id: Some(id), year, kind: kind.clone() }).await?;
        let people = life.attendance(&c.ctx, &c.actor, id, Some(list.year)).await?;
        let plans = match &list.org {
            Some(org) => life::plans::Plans::new(&s.platform).running(&c.actor, org).await?,
            None => Vec::new(),
        };
        Ok::<_, life::Error>((list, people, plans))
    };
    let (mut list, people, plans) = match result.await {
        Ok(v) => v,
        Err(e) => return fail(e, &c),
    };
    let Some(org) = list.org.take() else {
        return super::platform_error(&Error::NotFound, &c.ctx.request_id);
    };
    let crumbs = match s.platform.lineage(&c.actor, &org).await {
        Ok(v) => v,
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    let page = MeetingsPage {
        chrome: Chrome::new(&s, &c, "life"),
        can_plan: Life::may_plan(&c.actor, &org),
        org: Some(org),
        crumbs,
        year: list.year,
        kind: kind.unwrap_or_default(),
        years: years_around(list.year),
        kinds: kind_options("全部类型"),
        rows: list.items.into_iter().map(SummaryView::new).collect(),
        people: people
            .into_iter()
            .map(|p| {
                let r = rate(&p);
                (p, r)
            })
            .collect(),
        mine: false,
        plans,
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- the meeting form

/// A multi-line item of the form.
struct TextArea {
    name: &'static str,
    label: &'static str,
    value: String,
    hint: &'static str,
    rows: u32,
    error: Option<String>,
    autofocus: bool,
}

pub(super) struct PersonChoice {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) checked: bool,
    pub(super) committee: bool,
    pub(super) stage: &'static str,
}

/// The 参会人员 chooser of the meeting and plan forms (templates/attendees.html): the organization's default
/// (by kind) or the people ticked.
pub(super) struct Attendees {
    pub(super) people: Vec<PersonChoice>,
    pub(super) selected_mode: bool,
    pub(super) error: Option<String>,
}

impl Attendees {
    /// The chooser as the form `f` left it: `attendees_mode` (`default` | `selected`), the ticked `attendee`s,
    /// and `attendee_name` (`id:name`) of people invited earlier who are no longer members, so they stay listed.
    pub(super) fn of(people: Vec<Candidate>, f: &[(String, String)], errors: Option<&FieldErrors>) -> Attendees {
        let checked: Vec<i64> = f.iter().filter(|(k, _)| k == "attendee").filter_map(|(_, v)| v.parse().ok()).collect();
        let mut choices: Vec<PersonChoice> = people
            .into_iter()
            .map(|p| PersonChoice {
                checked: checked.contains(&p.id),
                id: p.id,
                name: p.name,
                committee: p.on_committee,
                stage: p.stage,
            })
            .collect();
        for (k, v) in f {
            if k == "attendee_name"
                && let Some((id, name)) = v.split_once(':')
                && let Ok(id) = id.parse::<i64>()
                && !choices.iter().any(|p| p.id == id)
            {
                choices.push(PersonChoice {
                    id,
                    name: name.into(),
                    checked: checked.contains(&id),
                    committee: false,
                    stage: "",
                });
            }
        }
        Attendees {
            people: choices,
            selected_mode: first(f, "attendees_mode") == Some("selected"),
            error: errors.and_then(|e| e.get("attendee_ids").cloned()),
        }
    }

    /// The ids the form chose, or `None` for the organization's default.
    pub(super) fn ids(f: &[(String, String)]) -> Option<Vec<i64>> {
        (first(f, "attendees_mode").map(str::trim) == Some("selected"))
            .then(|| f.iter().filter(|(k, _)| k == "attendee").filter_map(|(_, v)| v.trim().parse().ok()).collect())
    }
}

#[derive(Template)]
#[template(path = "meeting_form.html")]
struct MeetingFormPage {
    chrome: Chrome,
    title: String,
    org: Org,
    action: String,
    cancel: String,
    fields: Vec<Field>,
    texts: Vec<TextArea>,
    attendees: Attendees,
    summary: Option<String>,
}

fn meeting_fields(f: &[(String, String)]) -> Vec<Field> {
    let get = |k: &str| first(f, k).unwrap_or("").to_string();
    vec![
        Field::new("kind", "会议类型", Kind::Select(options(MeetingKind::ALL, MeetingKind::code, MeetingKind::label)))
            .required()
            .value(get("kind")),
        Field::new("title", "会议名称", Kind::Text)
            .required()
            .value(get("title"))
            .hint("例如：3月支委会——研究发展党员工作"),
        Field::new("held_on", "会议日期", Kind::Date).required().value(get("held_on")),
        Field::new("start_time", "开始时间", Kind::Text).value(get("start_time")).hint("24小时制，例如 14:30"),
        Field::new("status", "会议状态", Kind::Select(status_options()))
            .value(get("status"))
            .hint("不选时：日期在今天及以前为“已召开”，以后为“计划召开”"),
        Field::new("place", "会议地点", Kind::Text).value(get("place")),
        Field::new("online_link", "线上会议链接", Kind::Text)
            .value(get("online_link"))
            .hint("线上召开时填写，以 https:// 开头"),
        Field::new("version", "", Kind::Hidden).value(get("version")),
    ]
}

fn status_options() -> Vec<(String, String)> {
    let mut o = options(MeetingStatus::ALL, MeetingStatus::code, MeetingStatus::label);
    if let Some(first) = o.first_mut() {
        first.1 = "按日期自动".into();
    }
    o
}

fn meeting_texts(f: &[(String, String)]) -> Vec<TextArea> {
    let get = |k: &str| first(f, k).unwrap_or("").to_string();
    vec![
        TextArea {
            name: "agenda",
            label: "会议议程",
            value: get("agenda"),
            hint: "每项一行",
            rows: 4,
            error: None,
            autofocus: false,
        },
        TextArea {
            name: "minutes",
            label: "会议记录",
            value: get("minutes"),
            hint: "纯文本，按原样保存和显示",
            rows: 8,
            error: None,
            autofocus: false,
        },
    ]
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    s: &AppState,
    c: &Caller,
    org: Org,
    people: Vec<Candidate>,
    title: String,
    action: String,
    cancel: String,
    f: &[(String, String)],
    errors: Option<&FieldErrors>,
) -> MeetingFormPage {
    let mut fields = meeting_fields(f);
    let mut texts = meeting_texts(f);
    let mut summary = None;
    if let Some(errors) = errors {
        apply_errors(&mut fields, errors);
        let mut focused = fields.iter().any(|f| f.autofocus);
        for t in &mut texts {
            t.error = errors.get(t.name).cloned();
            if t.error.is_some() && !focused {
                t.autofocus = true;
                focused = true;
            }
        }
        // An organization error has no field on this page (the organization is fixed): show it on top.
        let org_error = errors.get("org_id").map(|m| format!("；{m}")).unwrap_or_default();
        summary = Some(format!("有{}处需要修改，请查看标红的项目{org_error}", errors.len()));
    }
    MeetingFormPage {
        chrome: Chrome::new(s, c, "life"),
        title,
        org,
        action,
        cancel,
        fields,
        texts,
        attendees: Attendees::of(people, f, errors),
        summary,
    }
}

fn input_of(org_id: i64, f: &[(String, String)]) -> MeetingInput {
    let get = |k: &str| first(f, k).map(|v| v.trim().to_string());
    let attendee_ids = Attendees::ids(f);
    MeetingInput {
        org_id: Some(org_id),
        kind: get("kind"),
        title: get("title"),
        held_on: get("held_on"),
        start_time: get("start_time"),
        place: get("place"),
        online_link: get("online_link"),
        agenda: get("agenda"),
        minutes: get("minutes"),
        status: get("status"),
        attendee_ids,
        version: get("version").and_then(|v| v.parse().ok()),
    }
}

/// `/orgs/{id}/meetings/new?kind=`: the form for a new meeting of this organization.
pub async fn meeting_new_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (org, people) = match Life::new(&s.platform).planning(&c.ctx, &c.actor, id).await {
        Ok(v) => v,
        Err(e) => return fail(e, &c),
    };
    let mut f: Pairs = vec![("held_on".into(), kernel::dates::iso(kernel::dates::today()))];
    let kind = q.get("kind").and_then(|k| MeetingKind::parse(k)).filter(|k| k.held_by(org.kind));
    let kind = kind.or_else(|| (org.kind == OrgKind::Group).then_some(MeetingKind::Group));
    if let Some(k) = kind {
        f.push(("kind".into(), k.code().into()));
    }
    let page = form_page(
        &s,
        &c,
        org,
        people,
        "新建会议".into(),
        format!("/orgs/{id}/meetings/new"),
        format!("/orgs/{id}/meetings"),
        &f,
        None,
    );
    render(StatusCode::OK, &page)
}

pub async fn meeting_new_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let life = Life::new(&s.platform);
    match life.create_meeting(&c.ctx, &c.actor, &input_of(id, &f)).await {
        Ok(m) => Redirect::to(&format!("/meetings/{}?saved=1", m.id)).into_response(),
        Err(life::Error::Invalid(errors)) => match life.planning(&c.ctx, &c.actor, id).await {
            Ok((org, people)) => {
                let page = form_page(
                    &s,
                    &c,
                    org,
                    people,
                    "新建会议".into(),
                    format!("/orgs/{id}/meetings/new"),
                    format!("/orgs/{id}/meetings"),
                    &f,
                    Some(&errors),
                );
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

fn values_of(m: &Meeting) -> Pairs {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut f: Pairs = vec![
        ("kind".into(), m.kind.code().into()),
        ("title".into(), m.title.clone()),
        ("held_on".into(), kernel::dates::iso(m.held_on)),
        ("start_time".into(), o(&m.start_time)),
        ("status".into(), m.status.code().into()),
        ("place".into(), o(&m.place)),
        ("online_link".into(), o(&m.online_link)),
        ("agenda".into(), o(&m.agenda)),
        ("minutes".into(), o(&m.minutes)),
        ("version".into(), m.version.to_string()),
        ("attendees_mode".into(), "selected".into()),
    ];
    for a in &m.attendees {
        f.push(("attendee".into(), a.person_id.to_string()));
        f.push(("attendee_name".into(), format!("{}:{}", a.person_id, a.name)));
    }
    f
}

/// `/meetings/{id}/edit`.
pub async fn meeting_edit_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let life = Life::new(&s.platform);
    let result = async {
        let m = life.get_meeting(&c.ctx, &c.actor, id).await?;
        if !Life::may_write(&c.actor, &m) {
            return Err(life::Error::Forbidden);
        }
        if m.archived {
            return Err(life::Error::Conflict("会议已归档，不能再修改"));
        }
        let (org, people) = life.planning(&c.ctx, &c.actor, m.org_id).await?;
        Ok((m, org, people))
    };
    match result.await {
        Ok((m, org, people)) => {
            let page = form_page(
                &s,
                &c,
                org,
                people,
                format!("编辑：{}", m.title),
                format!("/meetings/{id}/edit"),
                format!("/meetings/{id}"),
                &values_of(&m),
                None,
            );
            render(StatusCode::OK, &page)
        }
        Err(e) => fail(e, &c),
    }
}

pub async fn meeting_edit_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let life = Life::new(&s.platform);
    let current = match life.get_meeting(&c.ctx, &c.actor, id).await {
        Ok(m) => m,
        Err(e) => return fail(e, &c),
    };
    match life.update_meeting(&c.ctx, &c.actor, id, &input_of(current.org_id, &f)).await {
        Ok(m) => Redirect::to(&format!("/meetings/{}?saved=1", m.id)).into_response(),
        Err(life::Error::Invalid(errors)) => match life.planning(&c.ctx, &c.actor, current.org_id).await {
            Ok((org, people)) => {
                let mut f = f;
                for a in &current.attendees {
                    f.push(("attendee_name".into(), format!("{}:{}", a.person_id, a.name)));
                }
                let page = form_page(
                    &s,
                    &c,
                    org,
                    people,
                    format!("编辑：{}", current.title),
                    format!("/meetings/{id}/edit"),
                    format!("/meetings/{id}"),
                    &f,
                    Some(&errors),
                );
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

// ---------------------------------------------------------------- the meeting page

/// One attendee's line of the sign-in sheet.
struct SheetRow {
    person_id: i64,
    name: String,
    status: String,
    label: &'static str,
    reason: String,
    error: Option<String>,
    mine: bool,
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct MeetingPage {
    chrome: Chrome,
    m: Meeting,
    crumbs: Vec<Org>,
    facts: Vec<(&'static str, String)>,
    sheet: Vec<SheetRow>,
    choices: Vec<(String, String)>,
    can_write: bool,
    can_archive: bool,
    /// Today (Beijing): the QR sign-in screen is offered on the meeting's day.
    today: time::Date,
    can_take: bool,
    /// The caller is invited and may still ask for leave.
    can_leave: bool,
    my_status: Option<&'static str>,
    notice: Option<&'static str>,
    error: Option<String>,
    leave_reason: String,
    /// The notices sent about the meeting (for those who oversee it).
    notices: Vec<NoticeLine>,
}

/// A notice about the meeting, with its publication time as the page shows it.
struct NoticeLine {
    id: i64,
    title: String,
    at: String,
    n: life::notices::model::NoticeSummary,
}

async fn meeting_page(
    s: &AppState,
    c: &Caller,
    m: Meeting,
    notice: Option<&'static str>,
    errors: Option<(&FieldErrors, &[(String, String)])>,
) -> Result<MeetingPage, Error> {
    let crumbs = if c.actor.can(Capability::OrgRead, &m.org_path) {
        let org = s.platform.get_org(&c.ctx, &c.actor, m.org_id).await?;
        s.platform.lineage(&c.actor, &org).await?
    } else {
        Vec::new()
    };
    let can_write = Life::may_write(&c.actor, &m) && !m.archived;
    let today = kernel::dates::today();
    let mut facts = vec![
        ("党组织", m.org_name.clone()),
        ("会议类型", m.kind_label.to_string()),
        ("日期", kernel::dates::chinese(m.held_on)),
    ];
    if let Some(t) = &m.start_time {
        facts.push(("开始时间", t.clone()));
    }
    if let Some(p) = &m.place {
        facts.push(("地点", p.clone()));
    }
    if let Some(l) = &m.online_link {
        facts.push(("线上链接", l.clone()));
    }
    let sent = |k: &str| errors.and_then(|(_, f)| first(f, k).map(str::to_string));
    let sheet = m
        .attendees
        .iter()
        .map(|a| SheetRow {
            person_id: a.person_id,
            name: a.name.clone(),
            status: sent(&format!("status.{}", a.person_id))
                .unwrap_or_else(|| a.attendance.map(Attendance::code).unwrap_or("").to_string()),
            label: a.attendance_label,
            reason: sent(&format!("reason.{}", a.person_id)).unwrap_or_else(|| a.reason.clone().unwrap_or_default()),
            error: errors.and_then(|(e, _)| e.get(&format!("attendance.{}", a.person_id)).cloned()),
            mine: Some(a.person_id) == c.actor.person_id,
        })
        .collect();
    let mine = c.actor.person_id.and_then(|p| m.attendees.iter().find(|a| a.person_id == p));
    let notices = Life::new(&s.platform)
        .meeting_notices(&c.actor, &m)
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|n| NoticeLine { id: n.id, title: n.title.clone(), at: super::notices::when(n.published_at), n })
        .collect();
    let mut choices = options(Attendance::ALL, Attendance::code, Attendance::label);
    if let Some(first) = choices.first_mut() {
        first.1 = "未登记".into();
    }
    Ok(MeetingPage {
        chrome: Chrome::new(s, c, "life"),
        crumbs,
        facts,
        sheet,
        choices,
        can_archive: can_write && m.status != MeetingStatus::Planned,
        today: kernel::dates::today(),
        can_take: can_write && m.status != MeetingStatus::Cancelled,
        can_leave: mine.is_some() && !m.archived && m.status != MeetingStatus::Cancelled && m.held_on >= today,
        my_status: mine.map(|a| a.attendance_label),
        can_write,
        notice,
        error: errors.map(|(e, _)| {
            let reason = e.get("reason").or_else(|| e.get("file")).map(|r| format!("：{r}")).unwrap_or_default();
            format!("有{}处需要修改，请查看标红的项目{reason}", e.len())
        }),
        leave_reason: sent("reason").unwrap_or_default(),
        notices,
        m,
    })
}

/// `/meetings/{id}`.
pub async fn meeting_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let m = match Life::new(&s.platform).get_meeting(&c.ctx, &c.actor, id).await {
        Ok(m) => m,
        Err(e) => return fail(e, &c),
    };
    let notice = match q.get("saved").map(String::as_str) {
        Some("attendance") => Some("签到情况已保存。"),
        Some("leave") => Some("请假申请已提交，支部书记可在签到表中看到。"),
        Some("archived") => Some("会议已归档。"),
        Some("file") => Some("附件已上传。"),
        Some("file_removed") => Some("附件已删除。"),
        Some(_) => Some("已保存。"),
        None => None,
    };
    match meeting_page(&s, &c, m, notice, None).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

async fn after_error(s: &AppState, c: &Caller, id: i64, e: life::Error, f: &[(String, String)]) -> Response {
    match e {
        life::Error::Invalid(errors) => match Life::new(&s.platform).get_meeting(&c.ctx, &c.actor, id).await {
            Ok(m) => match meeting_page(s, c, m, None, Some((&errors, f))).await {
                Ok(p) => render(StatusCode::UNPROCESSABLE_ENTITY, &p),
                Err(e) => super::platform_error(&e, &c.ctx.request_id),
            },
            Err(e) => fail(e, c),
        },
        e => fail(e, c),
    }
}

/// The sign-in sheet: `status.{person_id}` and `reason.{person_id}` per attendee.
pub async fn meeting_attendance_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let entries = f
        .iter()
        .filter_map(|(k, v)| {
            let pid = k.strip_prefix("status.")?.parse::<i64>().ok()?;
            Some(AttendanceEntry {
                person_id: pid,
                status: Some(v.clone()),
                reason: first(&f, &format!("reason.{pid}")).map(str::to_string),
            })
        })
        .collect();
    match Life::new(&s.platform).record_attendance(&c.ctx, &c.actor, id, &AttendanceInput { entries }).await {
        Ok(_) => Redirect::to(&format!("/meetings/{id}?saved=attendance")).into_response(),
        Err(e) => after_error(&s, &c, id, e, &f).await,
    }
}

/// A member's leave request.
pub async fn meeting_leave_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let input = LeaveInput { reason: first(&f, "reason").map(str::to_string) };
    match Life::new(&s.platform).request_leave(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/meetings/{id}?saved=leave")).into_response(),
        Err(e) => after_error(&s, &c, id, e, &f).await,
    }
}

/// Attaches a file to the minutes (multipart form, field `file`); a refused file shows its reason on the page.
pub async fn minutes_file_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, req: Request) -> Response {
    let life = Life::new(&s.platform);
    // Refused before the body is read when the caller may not change the meeting.
    let m = match life.get_meeting(&c.ctx, &c.actor, id).await {
        Ok(m) if Life::may_write(&c.actor, &m) => m,
        Ok(_) => return fail(life::Error::Forbidden, &c),
        Err(e) => return fail(e, &c),
    };
    let uploaded = match crate::api::import_jobs::file_field(&s, req).await {
        Ok((name, bytes)) => life.attach_minutes(&c.ctx, &c.actor, m.id, &name, &bytes).await.map(|_| ()),
        Err(Error::Invalid(f)) => Err(life::Error::Invalid(f)),
        Err(e) => Err(life::Error::Platform(e)),
    };
    match uploaded {
        Ok(()) => Redirect::to(&format!("/meetings/{id}?saved=file")).into_response(),
        Err(e) => after_error(&s, &c, id, e, &[]).await,
    }
}

/// Downloads a file of the minutes (always as an attachment; see crate::files::download).
pub async fn minutes_file_get(State(s): State<AppState>, c: Caller, Path((id, file_id)): Path<(i64, i64)>) -> Response {
    match Life::new(&s.platform).minutes_file(&c.ctx, &c.actor, id, file_id).await {
        Ok(a) => crate::files::download(a),
        Err(e) => fail(e, &c),
    }
}

pub async fn minutes_file_delete_post(
    State(s): State<AppState>,
    c: Caller,
    Path((id, file_id)): Path<(i64, i64)>,
) -> Response {
    match Life::new(&s.platform).detach_minutes(&c.ctx, &c.actor, id, file_id).await {
        Ok(()) => Redirect::to(&format!("/meetings/{id}?saved=file_removed")).into_response(),
        Err(e) => after_error(&s, &c, id, e, &[]).await,
    }
}

pub async fn meeting_archive_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Life::new(&s.platform).archive_meeting(&c.ctx, &c.actor, id).await {
        Ok(_) => Redirect::to(&format!("/meetings/{id}?saved=archived")).into_response(),
        Err(e) => after_error(&s, &c, id, e, &[]).await,
    }
}

// ---------------------------------------------------------------- the compliance calendar

struct CellView {
    short: String,
    class: &'static str,
    mark: &'static str,
    word: String,
}

struct RowView {
    title: String,
    rule: &'static str,
    reminder: bool,
    requirement: &'static str,
    citations: Vec<&'static str>,
    note: Option<String>,
    cells: Vec<CellView>,
    /// Periods judged and missing.
    missing: usize,
    /// `m`, `q` or `y`: a quarter's cell spans three months' width, a year's the whole row.
    span: &'static str,
}

fn row_views(c: &Compliance) -> Vec<RowView> {
    c.rows
        .iter()
        .map(|r| {
            let reminder = r.severity == Severity::Reminder;
            let cells: Vec<CellView> = r
                .cells
                .iter()
                .map(|cell| {
                    let (class, mark, word) = match cell.state {
                        CellState::Held if cell.held > 1 => ("held", "✓", format!("{}次", cell.held)),
                        CellState::Held => ("held", "✓", "已开".into()),
                        CellState::Missing if reminder => ("remind", "!", "提醒".into()),
                        CellState::Missing => ("missing", "✗", "未开".into()),
                        CellState::Invalid => ("missing", "✗", "无效".into()),
                        CellState::Pending => ("pending", "·", "未到期".into()),
                        CellState::NotJudged => ("na", "—", "不检查".into()),
                    };
                    CellView { short: cell.short.clone(), class, mark, word }
                })
                .collect();
            RowView {
                title: format!("{}（{}）", r.kind.label(), r.cadence.label()),
                rule: r.rule,
                reminder,
                requirement: r.requirement,
                citations: r.citations.clone(),
                note: r.note.clone(),
                missing: cells.iter().filter(|c| c.class == "missing" || c.class == "remind").count(),
                cells,
                span: match r.cadence {
                    life::rules::Cadence::Monthly => "m",
                    life::rules::Cadence::Quarterly => "q",
                    life::rules::Cadence::Yearly => "y",
                },
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct CompliancePage {
    chrome: Chrome,
    org: Org,
    crumbs: Vec<Org>,
    year: i32,
    as_of: String,
    years: Vec<(String, String)>,
    rows: Vec<RowView>,
    flags: Vec<Flag>,
    violations: usize,
    reminders: usize,
    talks: Option<(usize, usize, bool)>,
    lines: Vec<RollupLine>,
    rollup_flags: usize,
    truncated: bool,
    can_see_meetings: bool,
    keeps_calendar: bool,
    /// Committee terms of this organization and below that the nightly reminder flagged (ORG-10).
    terms: Vec<life::committees::model::TermReminder>,
    error: Option<String>,
}

/// `/orgs/{id}/compliance?year=&as_of=`: the year grid of one organization and, below a college or the
/// university (or a branch with groups), the roll-up of every organization under it.
pub async fn compliance_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (as_of, year, error) = match parse_as_of_year(
        q.get("as_of").map(String::as_str),
        q.get("year").map(String::as_str),
        kernel::dates::today(),
    ) {
        Ok((d, y)) => (d, y, None),
        Err(fields) => {
            let msg: Vec<String> = fields.values().cloned().collect();
            (kernel::dates::today(), None, Some(msg.join("；")))
        }
    };
    let life = Life::new(&s.platform);
    let (org, c_answer) = match life.compliance(&c.ctx, &c.actor, id, as_of, year).await {
        Ok(v) => v,
        Err(e) => return fail(e, &c),
    };
    let rollup: Option<Rollup> = if org.kind == OrgKind::Group {
        None
    } else {
        match life.rollup(&c.ctx, &c.actor, id, as_of, Some(c_answer.year)).await {
            Ok(r) => Some(r),
            Err(e) => return fail(e, &c),
        }
    };
    let crumbs = match s.platform.lineage(&c.actor, &org).await {
        Ok(v) => v,
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    let terms = match life::committees::service::reminders_below(&s.platform.db, &org).await {
        Ok(v) => v,
        Err(e) => return fail(e, &c),
    };
    let (lines, rollup_flags, truncated) = match rollup {
        Some(r) => {
            let lines: Vec<RollupLine> = r.lines.into_iter().filter(|l| l.org_id != org.id).collect();
            let flags = lines.iter().map(|l| l.flags).sum();
            (lines, flags, r.truncated)
        }
        None => (Vec::new(), 0, false),
    };
    let page = CompliancePage {
        chrome: Chrome::new(&s, &c, "compliance"),
        can_see_meetings: matches!(org.kind, OrgKind::Branch | OrgKind::Group),
        keeps_calendar: !c_answer.rows.is_empty(),
        crumbs,
        year: c_answer.year,
        as_of: kernel::dates::iso(c_answer.as_of),
        years: years_around(c_answer.year),
        rows: row_views(&c_answer),
        violations: c_answer.violations(),
        reminders: c_answer.reminders(),
        talks: c_answer.talks.as_ref().map(|t| (t.covered, t.members, t.judged)),
        flags: c_answer.flags,
        lines,
        rollup_flags,
        truncated,
        terms,
        org,
        error,
    };
    render(StatusCode::OK, &page)
}

/// Page helpers for the templates.
fn severity_class(f: &Flag) -> &'static str {
    match f.severity {
        Severity::Reminder => "remind",
        _ => "missing",
    }
}

impl CompliancePage {
    fn flag_class(&self, f: &Flag) -> &'static str {
        severity_class(f)
    }

    fn link(&self, line: &RollupLine) -> String {
        format!("/orgs/{}/compliance?year={}&as_of={}", line.org_id, self.year, encode(&self.as_of))
    }
}
