//! 发展党员 pages: a person's development (the timeline of the five stages with each step's date and
//! deadline, the recorded steps, a form to record the next one — a refusal shows beside its field in Chinese
//! with the article, and nothing typed is lost) and the to-do list of a subtree. POST forms, no script.

use std::collections::{BTreeMap, HashMap};

use affairs::Development;
use affairs::model::development::*;
use affairs::rules::pipeline::{ConversionDecision, StepDetail, StepKind, Vote};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::Capability;
use serde::Deserialize;

use super::transfers::{date, err, get};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "development.html")]
struct PersonPage {
    chrome: Chrome,
    v: DevelopmentView,
    errors: BTreeMap<String, String>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
    today: String,
    kinds: Vec<(&'static str, &'static str)>,
}

impl PersonPage {
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn date(&self, d: &Option<time::Date>) -> String {
        date(*d)
    }
    fn dates(&self, d: &[time::Date]) -> String {
        d.iter().map(|d| kernel::dates::iso(*d)).collect::<Vec<_>>().join("、")
    }
    fn selected(&self) -> String {
        let v = self.value("step");
        if v.is_empty() { self.v.next.as_ref().map(|n| n.step.code().to_string()).unwrap_or_default() } else { v }
    }
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    attached: Option<String>,
}

async fn person_page(
    s: &AppState,
    c: &Caller,
    id: i64,
    errors: BTreeMap<String, String>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    match Development::new(&s.platform).view(&c.ctx, &c.actor, id).await {
        Ok(v) => {
            let active = if c.actor.person_id == Some(id) && !v.can_write { "me" } else { "development" };
            render(
                status,
                &PersonPage {
                    chrome: Chrome::new(s, c, active),
                    v,
                    errors,
                    values,
                    notice,
                    today: kernel::dates::iso(kernel::dates::today()),
                    kinds: StepKind::ALL.iter().map(|k| (k.code(), k.label())).collect(),
                },
            )
        }
        Err(e) => err(e, c),
    }
}

pub async fn person_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Query(q): Query<Done>) -> Response {
    let notice = if q.attached.is_some() {
        Some("附件已上传。")
    } else {
        q.done.is_some().then_some("已记录，并写入审计日志。")
    };
    person_page(&s, &c, id, BTreeMap::new(), HashMap::new(), notice).await
}

fn ids(f: &HashMap<String, String>, k: &str) -> (Vec<i64>, bool) {
    let mut out = Vec::new();
    let mut bad = false;
    for part in get(f, k).unwrap_or_default().split([',', '，', ' ', '、']).filter(|p| !p.is_empty()) {
        match part.parse() {
            Ok(n) => out.push(n),
            Err(_) => bad = true,
        }
    }
    (out, bad)
}

fn num<T: std::str::FromStr>(f: &HashMap<String, String>, k: &str) -> Option<T> {
    get(f, k).and_then(|v| v.parse().ok())
}

/// The form as the service's input.
fn input(f: &HashMap<String, String>) -> (StepInput, BTreeMap<String, String>) {
    let mut errors = BTreeMap::new();
    let (contacts, bad_c) = ids(f, "contacts");
    let (introducers, bad_i) = ids(f, "introducers");
    for (bad, k) in [(bad_c, "contacts"), (bad_i, "introducers")] {
        if bad {
            errors.insert(k.to_string(), "请填写人员编号，多个用逗号分隔".to_string());
        }
    }
    let vote = get(f, "vote_eligible").map(|_| Vote {
        eligible: num(f, "vote_eligible").unwrap_or(0),
        present: num(f, "vote_present").unwrap_or(0),
        yes: num(f, "vote_yes").unwrap_or(0),
        no: num(f, "vote_no").unwrap_or(0),
        abstain: num(f, "vote_abstain").unwrap_or(0),
        written_yes: num(f, "vote_written_yes").unwrap_or(0),
        probationary: num(f, "vote_probationary").unwrap_or(0),
    });
    let detail = StepDetail {
        decided_by: get(f, "decided_by"),
        filed: Some(f.contains_key("filed")),
        review_passed: get(f, "review").map(|r| r != "failed"),
        training_days: num(f, "training_days"),
        training_hours: num(f, "training_hours"),
        publicity_days: num(f, "publicity_days"),
        objection_open: f.contains_key("objection_open").then_some(true),
        leaves_unit_on: get(f, "leaves_unit_on").and_then(|d| kernel::dates::parse_iso(&d)),
        decision: match get(f, "decision").as_deref() {
            Some("extend") => Some(ConversionDecision::Extend),
            Some("cancel") => Some(ConversionDecision::Cancel),
            Some("convert") => Some(ConversionDecision::Convert),
            _ => None,
        },
        extension_months: num(f, "extension_months"),
        candidates_on_ballot: None,
    };
    let input = StepInput {
        step: get(f, "step"),
        done_on: get(f, "done_on"),
        notes: get(f, "notes"),
        reason: get(f, "reason"),
        contacts,
        introducers,
        talker: num(f, "talker"),
        detail,
        vote,
    };
    (input, errors)
}

pub async fn person_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (input, errors) = input(&f);
    if !errors.is_empty() {
        return person_page(&s, &c, id, errors, f, None).await;
    }
    match Development::new(&s.platform).record(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/people/{id}/development?done=1")).into_response(),
        Err(affairs::Error::Invalid(fields)) => person_page(&s, &c, id, fields, f, None).await,
        Err(affairs::Error::Conflict(msg)) => {
            person_page(&s, &c, id, BTreeMap::from([("step".to_string(), msg.to_string())]), f, None).await
        }
        Err(e) => err(e, &c),
    }
}

/// `POST /people/{id}/development/steps/{step_id}/attachments`: a file for a recorded step from the page
/// (multipart, field `file`), through the same checks as the API (security.md AT-21). A refusal shows under
/// the step's upload form.
pub async fn attach_post(
    State(s): State<AppState>,
    c: Caller,
    Path((id, step_id)): Path<(i64, i64)>,
    req: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequest;
    let form = match axum::extract::Multipart::from_request(req, &s).await {
        Ok(m) => crate::files::read_multipart(m).await,
        Err(_) => Err("请以表单方式上传文件"),
    };
    let refused = |msg: String| {
        let values = HashMap::from([("attach_step".to_string(), step_id.to_string())]);
        (BTreeMap::from([("attachment".to_string(), msg)]), values)
    };
    // A form that cannot be read, or no file chosen, goes through the service too (with nothing), so a role
    // that may not attach hears 403/404 before it hears about the form.
    let (name, bytes, unreadable) = match form {
        Ok(form) => match form.files.into_iter().find(|f| f.field == "file") {
            Some(f) => (f.name, f.bytes, None),
            None => Default::default(),
        },
        Err(msg) => (String::new(), Default::default(), Some(msg)),
    };
    let dev = Development::new(&s.platform);
    let (errors, values) = match dev.attach(&c.ctx, &c.actor, id, step_id, &name, &bytes).await {
        Ok(_) => {
            return Redirect::to(&format!("/people/{id}/development?attached=1#step-{step_id}")).into_response();
        }
        // The file checks are the platform's (AT-21): their refusals arrive wrapped.
        Err(e) => match platform::Error::from(e) {
            platform::Error::Invalid(fields) => refused(
                unreadable.map(String::from).unwrap_or_else(|| fields.into_values().collect::<Vec<_>>().join("；")),
            ),
            platform::Error::Conflict(msg) => refused(msg.into()),
            e => return super::platform_error(&e, &c.ctx.request_id),
        },
    };
    person_page(&s, &c, id, errors, values, None).await
}

#[derive(Template)]
#[template(path = "development_todo.html")]
struct TodoPage {
    chrome: Chrome,
    list: TodoList,
}

impl TodoPage {
    fn date(&self, d: &Option<time::Date>) -> String {
        date(*d)
    }
    fn kind(&self, i: &TodoItem) -> &'static str {
        match i.kind {
            affairs::rules::pipeline::DueKind::Deadline => "截止",
            affairs::rules::pipeline::DueKind::From => "起可办",
            affairs::rules::pipeline::DueKind::Open => "",
        }
    }
}

#[derive(Deserialize)]
pub struct OrgQuery {
    org_id: Option<i64>,
}

/// The to-do list of `org_id`, or of the caller's first organization she reads people in.
pub async fn todo_get(State(s): State<AppState>, c: Caller, Query(q): Query<OrgQuery>) -> Response {
    let org = q.org_id.or_else(|| {
        c.actor
            .grants
            .iter()
            .filter(|g| platform::access::reach(g.role, Capability::PersonRead) != platform::access::Reach::Nowhere)
            .find_map(|g| g.org_id)
    });
    let Some(org) = org else {
        return err(affairs::Error::NotFound, &c);
    };
    match Development::new(&s.platform).todo(&c.ctx, &c.actor, org).await {
        Ok(list) => render(StatusCode::OK, &TodoPage { chrome: Chrome::new(&s, &c, "development"), list }),
        Err(e) => err(e, &c),
    }
}

/// `/admin/development-rules`: which version of the 发展党员工作细则 judges cases; the system administrator
/// switches the reported 2026 revision on from a date, or off, with the decision it follows.
#[derive(Template)]
#[template(path = "development_rules.html")]
struct RulesPage {
    chrome: Chrome,
    v: RuleSettings,
    fields: Vec<super::forms::Field>,
    notice: Option<&'static str>,
    summary: Option<&'static str>,
    cal: WorkCalendarYear,
    /// The calendar form as typed (after a refusal) and its errors.
    cal_values: HashMap<String, String>,
    cal_errors: BTreeMap<String, String>,
}

impl RulesPage {
    fn cal_value(&self, k: &str) -> String {
        if let Some(v) = self.cal_values.get(k) {
            return v.clone();
        }
        let days = match k {
            "holidays" => &self.cal.holidays,
            "working_days" => &self.cal.working_days,
            _ => return String::new(),
        };
        days.iter().map(|d| kernel::dates::iso(*d)).collect::<Vec<_>>().join("\n")
    }
    fn cal_error(&self, k: &str) -> String {
        self.cal_errors.get(k).cloned().unwrap_or_default()
    }
}

fn rules_fields(v: &RuleSettings, f: &HashMap<String, String>) -> Vec<super::forms::Field> {
    use super::forms::{Field, Kind};
    let from = match f.get("revision_2026_from") {
        Some(d) => d.clone(),
        None => v.revision_2026_from.map(kernel::dates::iso).unwrap_or_default(),
    };
    vec![
        Field::new("revision_2026_from", "2026年修订版生效日期", Kind::Date)
            .value(from)
            .hint("留空则始终按2014年《细则》判断；接收预备党员的支部大会在此日及以后的，按修订版判断"),
        Field::new("reason", "依据", Kind::Text)
            .required()
            .value(f.get("reason").cloned().unwrap_or_default())
            .hint("例如：校党委组织部〔2026〕12号通知"),
    ]
}

/// What the rules page shows besides the settings: the year of the calendar, and a refused form of either.
#[derive(Default)]
struct RulesView {
    year: Option<i32>,
    form: HashMap<String, String>,
    errors: BTreeMap<String, String>,
    cal_form: HashMap<String, String>,
    cal_errors: BTreeMap<String, String>,
    notice: Option<&'static str>,
}

async fn rules_page(s: &AppState, c: &Caller, status: StatusCode, r: RulesView) -> Response {
    let dev = Development::new(&s.platform);
    let year = r.year.unwrap_or_else(|| kernel::dates::today().year());
    match (dev.rule_settings(&c.actor).await, dev.work_calendar_year(&c.actor, year).await) {
        (Ok(v), Ok(cal)) => {
            let mut fields = rules_fields(&v, &r.form);
            super::forms::apply_errors(&mut fields, &r.errors);
            let summary = (!r.errors.is_empty() || !r.cal_errors.is_empty()).then_some("请按提示修改");
            let page = RulesPage {
                chrome: Chrome::new(s, c, "development_rules"),
                v,
                fields,
                notice: r.notice,
                summary,
                cal,
                cal_values: r.cal_form,
                cal_errors: r.cal_errors,
            };
            render(status, &page)
        }
        (Err(e), _) | (_, Err(e)) => err(e, c),
    }
}

pub async fn rules_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let notice = if q.contains_key("saved") {
        Some("已保存。各支部的发展党员待办将按现行版本重新计算。")
    } else {
        q.contains_key("calendar").then_some("节假日安排已保存，公示期将按新的工作日计算。")
    };
    let year = q.get("year").and_then(|y| y.parse().ok());
    rules_page(&s, &c, StatusCode::OK, RulesView { year, notice, ..RulesView::default() }).await
}

/// `POST /admin/development-rules/calendar`: a year's holidays and worked weekend days, one per line.
pub async fn calendar_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let lines =
        |k: &str| -> Vec<String> { f.get(k).map(|v| v.lines().map(str::to_string).collect()).unwrap_or_default() };
    let year = get(&f, "year").and_then(|y| y.parse().ok());
    let input = WorkCalendarInput {
        year,
        holidays: lines("holidays"),
        working_days: lines("working_days"),
        reason: get(&f, "reason"),
    };
    match Development::new(&s.platform).set_work_calendar(&c.ctx, &c.actor, &input).await {
        Ok(cal) => {
            Redirect::to(&format!("/admin/development-rules?calendar=1&year={}#calendar", cal.year)).into_response()
        }
        Err(affairs::Error::Invalid(errors)) => {
            let view = RulesView { year, cal_form: f, cal_errors: errors, ..RulesView::default() };
            rules_page(&s, &c, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
        Err(affairs::Error::Platform(platform::Error::ReauthRequired)) => {
            Redirect::to("/reauth?next=/admin/development-rules").into_response()
        }
        Err(e) => err(e, &c),
    }
}

pub async fn rules_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let input = RuleSettingsInput { revision_2026_from: get(&f, "revision_2026_from"), reason: get(&f, "reason") };
    match Development::new(&s.platform).set_rule_settings(&c.ctx, &c.actor, &input).await {
        Ok(_) => Redirect::to("/admin/development-rules?saved=1").into_response(),
        Err(affairs::Error::Invalid(errors)) => {
            let view = RulesView { form: f, errors, ..RulesView::default() };
            rules_page(&s, &c, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
        Err(affairs::Error::Platform(platform::Error::ReauthRequired)) => {
            Redirect::to("/reauth?next=/admin/development-rules").into_response()
        }
        Err(e) => err(e, &c),
    }
}
