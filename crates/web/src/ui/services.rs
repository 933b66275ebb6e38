//! 党员服务 pages: `/services` (file a request, my requests, the requests to handle, the calendar feed),
//! `/services/{id}` (a request with its history, the handler's and the member's buttons, the certificate),
//! `/services/hours` (volunteer hours: record, confirm, totals), and the two pages without a session: the
//! certificate check `/verify/certificates/{number}` and the calendar feed `/calendar/{token}.ics`. Handlers
//! call one `life::services::Services` function each; every change is a POST form without script.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use life::services::Services;
use life::services::model::*;
use platform::{Capability, Error};
use serde::Deserialize;

use super::forms::{Field, Kind, apply_errors};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;

fn fail(e: life::Error, c: &Caller) -> Response {
    super::platform_error(&Error::from(e), &c.ctx.request_id)
}

fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).map(str::trim).filter(|v| !v.is_empty())
}

/// "2026-03-20 14:05" in Beijing time.
fn when(t: time::OffsetDateTime) -> String {
    let b = t.to_offset(kernel::dates::BEIJING);
    format!("{} {:02}:{:02}", kernel::dates::iso(b.date()), b.hour(), b.minute())
}

fn request_fields(f: &Pairs, errors: Option<&BTreeMap<String, String>>) -> Vec<Field> {
    let mut kinds = vec![(String::new(), "请选择".to_string())];
    kinds.extend(RequestKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())));
    let mut fields = vec![
        Field::new("kind", "服务事项", Kind::Select(kinds)).required().value(first(f, "kind").unwrap_or("")),
        Field::new("details", "用途或说明", Kind::Text)
            .required()
            .value(first(f, "details").unwrap_or(""))
            .hint("例如：用于报考选调生，需提交党员身份证明"),
    ];
    if let Some(e) = errors {
        apply_errors(&mut fields, e);
    }
    fields
}

#[derive(Template)]
#[template(path = "services.html")]
struct ListPage {
    chrome: Chrome,
    flash: String,
    is_person: bool,
    fields: Vec<Field>,
    summary: Option<String>,
    mine: Vec<(RequestSummary, String)>,
    to_handle: Vec<(RequestSummary, String)>,
    handles: bool,
    feed_since: String,
    feed_path: String,
}

async fn list_page(
    s: &AppState,
    c: &Caller,
    f: &Pairs,
    errors: Option<&BTreeMap<String, String>>,
    flash: String,
    feed_path: String,
) -> Result<ListPage, life::Error> {
    let services = Services::new(&s.platform);
    let list = services.list(&c.actor).await?;
    let feed_since = services.feed_since(&c.actor).await?.map(when).unwrap_or_default();
    let lines = |v: Vec<RequestSummary>| v.into_iter().map(|r| (r.clone(), when(r.created_at))).collect();
    Ok(ListPage {
        chrome: Chrome::new(s, c, "services"),
        flash,
        is_person: c.actor.person_id.is_some(),
        fields: request_fields(f, errors),
        summary: errors.filter(|e| !e.is_empty()).map(|e| format!("有{}项需要修改，见下方红字。", e.len())),
        mine: lines(list.mine),
        to_handle: lines(list.to_handle),
        handles: c.actor.can_somewhere(Capability::ServiceRead),
        feed_since,
        feed_path,
    })
}

#[derive(Deserialize)]
pub struct ListFlash {
    pub revoked: Option<String>,
}

/// `/services`.
pub async fn services_get(State(s): State<AppState>, c: Caller, Query(q): Query<ListFlash>) -> Response {
    let flash = if q.revoked.is_some() { "日历订阅地址已停用。".to_string() } else { String::new() };
    match list_page(&s, &c, &Vec::new(), None, flash, String::new()).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => fail(e, &c),
    }
}

/// `POST /services`: files a request; a refused input comes back with its messages (422), nothing lost.
pub async fn services_post(State(s): State<AppState>, c: Caller, Form(f): Form<Pairs>) -> Response {
    let input =
        RequestInput { kind: first(&f, "kind").map(str::to_string), details: first(&f, "details").map(str::to_string) };
    match Services::new(&s.platform).file(&c.ctx, &c.actor, &input).await {
        Ok(r) => Redirect::to(&format!("/services/{}?filed=1", r.id)).into_response(),
        Err(life::Error::Invalid(errors)) => {
            match list_page(&s, &c, &f, Some(&errors), String::new(), String::new()).await {
                Ok(p) => render(StatusCode::UNPROCESSABLE_ENTITY, &p),
                Err(e) => fail(e, &c),
            }
        }
        Err(e) => fail(e, &c),
    }
}

/// `POST /services/calendar`: a new feed address, shown once on the page.
pub async fn calendar_post(State(s): State<AppState>, c: Caller) -> Response {
    match Services::new(&s.platform).new_feed(&c.ctx, &c.actor).await {
        Ok(token) => {
            let flash =
                "已生成新的日历订阅地址，之前的地址已停用。请复制下面的地址到手机日历中订阅；离开本页后不再显示。";
            match list_page(&s, &c, &Vec::new(), None, flash.into(), format!("/calendar/{token}.ics")).await {
                Ok(p) => render(StatusCode::OK, &p),
                Err(e) => fail(e, &c),
            }
        }
        Err(e) => fail(e, &c),
    }
}

/// `POST /services/calendar/revoke`.
pub async fn calendar_revoke_post(State(s): State<AppState>, c: Caller) -> Response {
    match Services::new(&s.platform).revoke_feed(&c.ctx, &c.actor).await {
        Ok(_) => Redirect::to("/services?revoked=1").into_response(),
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "service_request.html")]
struct RequestPage {
    chrome: Chrome,
    r: ServiceRequest,
    flash: &'static str,
    created_at: String,
    history: Vec<(RequestEvent, String, &'static str)>,
    note: String,
    note_error: Option<String>,
    can_revoke: bool,
}

impl RequestPage {
    fn new(s: &AppState, c: &Caller, r: ServiceRequest, flash: &'static str) -> RequestPage {
        let history = r
            .history
            .iter()
            .map(|e| (e.clone(), when(e.at), RequestState::parse(&e.state).map_or("", |s| s.label())))
            .collect();
        RequestPage {
            chrome: Chrome::new(s, c, "services"),
            created_at: when(r.created_at),
            history,
            flash,
            note: String::new(),
            note_error: None,
            can_revoke: r.certificate.as_ref().is_some_and(|c| c.state == CertificateState::Valid)
                && r.actions.is_empty()
                && c.actor.can_somewhere(Capability::ServiceWrite)
                && c.actor.person_id != Some(r.person_id),
            r,
        }
    }

    fn may(&self, code: &str) -> bool {
        self.r.actions.iter().any(|a| a.code() == code)
    }

    fn is_handler(&self) -> bool {
        self.may("accept") || self.may("refuse") || self.may("complete")
    }
}

#[derive(Deserialize)]
pub struct RequestFlash {
    pub filed: Option<String>,
    pub done: Option<String>,
}

/// `/services/{id}`.
pub async fn request_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<RequestFlash>,
) -> Response {
    let flash = if q.filed.is_some() {
        "申请已提交，党支部书记会尽快办理，办理进度会显示在这里。"
    } else if q.done.is_some() {
        "已保存。"
    } else {
        ""
    };
    match Services::new(&s.platform).get(&c.ctx, &c.actor, id).await {
        Ok(r) => render(StatusCode::OK, &RequestPage::new(&s, &c, r, flash)),
        Err(e) => fail(e, &c),
    }
}

/// `POST /services/{id}/{action}` (accept, refuse, complete, cancel).
pub async fn request_action_post(
    State(s): State<AppState>,
    c: Caller,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<Pairs>,
) -> Response {
    let Some(action) = RequestAction::ALL.iter().copied().find(|a| a.code() == action) else {
        return super::platform_error(&Error::NotFound, &c.ctx.request_id);
    };
    let input = HandleInput { note: first(&f, "note").map(str::to_string) };
    let version = first(&f, "version").and_then(|v| v.parse().ok());
    let services = Services::new(&s.platform);
    match services.act(&c.ctx, &c.actor, id, action, &input, version).await {
        Ok(_) => Redirect::to(&format!("/services/{id}?done=1")).into_response(),
        Err(life::Error::Invalid(errors)) => match services.get(&c.ctx, &c.actor, id).await {
            Ok(r) => {
                let mut page = RequestPage::new(&s, &c, r, "");
                page.note = input.note.unwrap_or_default();
                page.note_error = errors.get("note").cloned();
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

/// `GET /services/{id}/certificate`: the certificate PDF.
pub async fn certificate_get(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    match Services::new(&s.platform).certificate(&c.ctx, &c.actor, id).await {
        Ok(cert) => {
            let verify = crate::api::services::verify_url(&s, &headers, &cert.number);
            let doc = life::services::certificate::document(&cert, verify.as_deref());
            crate::api::transfers::pdf_response(doc, format!("certificate-{}.pdf", cert.number), &c.ctx.request_id)
                .await
        }
        Err(e) => fail(e, &c),
    }
}

/// `POST /certificates/{number}/revoke` (from the request's page).
pub async fn revoke_post(
    State(s): State<AppState>,
    c: Caller,
    Path(number): Path<String>,
    Form(f): Form<Pairs>,
) -> Response {
    let input = RevokeInput { reason: first(&f, "reason").map(str::to_string) };
    let services = Services::new(&s.platform);
    match services.revoke(&c.ctx, &c.actor, &number, &input).await {
        Ok(cert) => Redirect::to(&format!("/services/{}?done=1", cert.request_id)).into_response(),
        Err(e) => fail(e, &c),
    }
}

// ---------------------------------------------------------------- volunteer hours

#[derive(Template)]
#[template(path = "volunteer.html")]
struct HoursPage {
    chrome: Chrome,
    flash: &'static str,
    year: i32,
    is_person: bool,
    fields: Vec<Field>,
    summary: Option<String>,
    mine: Option<MyHours>,
    report: Option<OrgHoursReport>,
}

#[derive(Deserialize)]
pub struct HoursQuery {
    pub year: Option<i32>,
    pub org_id: Option<i64>,
    pub saved: Option<String>,
}

fn hours_fields(f: &Pairs, errors: Option<&BTreeMap<String, String>>) -> Vec<Field> {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let mut fields = vec![
        Field::new("activity", "服务内容", Kind::Text)
            .required()
            .value(v("activity"))
            .hint("例如：社区疫苗接种点秩序维护"),
        Field::new("served_on", "服务日期", Kind::Date).required().value(v("served_on")),
        Field::new("hours", "时长（小时）", Kind::Text).required().value(v("hours")).hint("最多一位小数，例如 2.5"),
    ];
    if let Some(e) = errors {
        apply_errors(&mut fields, e);
    }
    fields
}

async fn hours_page(
    s: &AppState,
    c: &Caller,
    q: &HoursQuery,
    f: &Pairs,
    errors: Option<&BTreeMap<String, String>>,
) -> Result<HoursPage, life::Error> {
    let services = Services::new(&s.platform);
    let year = q.year.filter(|y| (2000..=2100).contains(y)).unwrap_or_else(|| kernel::dates::today().year());
    let mine = match c.actor.person_id {
        Some(_) => Some(services.my_hours(&c.actor, year).await?),
        None => None,
    };
    // The organization to report on: the one asked for, else the caller's first organization she sees.
    let org_id = q.org_id.or_else(|| {
        c.actor
            .grants
            .iter()
            .find(|g| g.org_path.as_deref().is_some_and(|p| c.actor.can(Capability::ServiceRead, p)))
            .and_then(|g| g.org_id)
    });
    let report = match org_id {
        Some(id) => Some(services.org_hours(&c.ctx, &c.actor, id, year).await?),
        None => None,
    };
    Ok(HoursPage {
        chrome: Chrome::new(s, c, "volunteer"),
        flash: if q.saved.is_some() { "已保存。" } else { "" },
        year,
        is_person: c.actor.person_id.is_some(),
        fields: hours_fields(f, errors),
        summary: errors.filter(|e| !e.is_empty()).map(|e| format!("有{}项需要修改，见下方红字。", e.len())),
        mine,
        report,
    })
}

/// `/services/hours[?year=&org_id=]`.
pub async fn hours_get(State(s): State<AppState>, c: Caller, Query(q): Query<HoursQuery>) -> Response {
    match hours_page(&s, &c, &q, &Vec::new(), None).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => fail(e, &c),
    }
}

/// `POST /services/hours`: records an entry.
pub async fn hours_post(State(s): State<AppState>, c: Caller, Form(f): Form<Pairs>) -> Response {
    let hours = first(&f, "hours").map(|h| h.parse::<f64>().unwrap_or(f64::NAN));
    let input = HoursInput {
        activity: first(&f, "activity").map(str::to_string),
        served_on: first(&f, "served_on").map(str::to_string),
        hours,
    };
    match Services::new(&s.platform).record_hours(&c.ctx, &c.actor, &input).await {
        Ok(_) => Redirect::to("/services/hours?saved=1").into_response(),
        Err(life::Error::Invalid(errors)) => {
            let q = HoursQuery { year: None, org_id: None, saved: None };
            match hours_page(&s, &c, &q, &f, Some(&errors)).await {
                Ok(p) => render(StatusCode::UNPROCESSABLE_ENTITY, &p),
                Err(e) => fail(e, &c),
            }
        }
        Err(e) => fail(e, &c),
    }
}

/// `POST /services/hours/{id}/{confirm|reject}`.
pub async fn hours_decide_post(
    State(s): State<AppState>,
    c: Caller,
    Path((id, decision)): Path<(i64, String)>,
    Form(f): Form<Pairs>,
) -> Response {
    let confirm = match decision.as_str() {
        "confirm" => true,
        "reject" => false,
        _ => return super::platform_error(&Error::NotFound, &c.ctx.request_id),
    };
    let input = DecideInput { reason: first(&f, "reason").map(str::to_string) };
    match Services::new(&s.platform).decide_hours(&c.ctx, &c.actor, id, confirm, &input).await {
        Ok(e) => Redirect::to(&format!("/services/hours?saved=1&year={}", e.served_on.year())).into_response(),
        Err(e) => fail(e, &c),
    }
}

// ---------------------------------------------------------------- without a session

#[derive(Template)]
#[template(path = "verify_certificate.html")]
struct VerifyPage {
    v: Option<Verification>,
    issued_on: String,
}

/// `/verify/certificates/{number}`: what a certificate's QR code opens, without signing in — whether it stands,
/// the name masked, the issuing organization and the date; nothing else about the person.
pub async fn verify_get(State(s): State<AppState>, Path(number): Path<String>) -> Response {
    let v = Services::new(&s.platform).verify(&number).await.ok().flatten();
    let issued_on = v.as_ref().map(|v| kernel::dates::chinese(v.issued_on)).unwrap_or_default();
    let status = if v.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    render(status, &VerifyPage { v, issued_on })
}

/// `/calendar/{token}.ics`: a person's meetings for her phone's calendar (no session: the token is the key).
pub async fn calendar_get(State(s): State<AppState>, headers: HeaderMap, Path(file): Path<String>) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("dangjian").to_string();
    let feed = match file.strip_suffix(".ics") {
        Some(token) => Services::new(&s.platform).feed(token, &host).await,
        None => Ok(None),
    };
    match feed {
        Ok(Some(body)) => ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "订阅地址无效或已停用").into_response(),
        Err(e) => {
            tracing::error!(error = %Error::from(e), "calendar feed");
            (StatusCode::INTERNAL_SERVER_ERROR, "日历暂时无法生成").into_response()
        }
    }
}
