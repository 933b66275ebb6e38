//! The home page: what each role needs first. Staff, secretaries and leaders see their organization's
//! head counts and the way into its tree and people; administrators see their duties; a member sees
//! her own record and development progress.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use platform::model::{Counts, Org, Person, Stage};
use platform::{Capability, Error};

use super::orgs::StageBars;
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    greeting: String,
    orgs: Vec<(Org, Counts, StageBars)>,
    me: Option<Person>,
    /// Notices sent to her that still wait for her confirmation (回执).
    waiting: Vec<life::notices::model::NoticeSummary>,
    /// The security administrators' open notifications (accounts possibly shared, AT-16): hers only.
    alerts: Vec<platform::service::SecurityNotification>,
    /// Uploads in quarantine (AT-21), for the security administrator: `None` for anyone else.
    quarantined: Option<i64>,
    steps: Vec<(&'static str, String, bool)>,
    can_accounts: bool,
    can_audit: bool,
    can_write_people: bool,
}

impl HomePage {
    /// "2026-11-24 22:10" (Beijing time) for a notification.
    fn when(&self, at: &time::OffsetDateTime) -> String {
        super::notices::when(*at)
    }
}

pub async fn home_get(State(s): State<AppState>, c: Caller) -> Response {
    match home(&s, &c).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

async fn home(s: &AppState, c: &Caller) -> Result<HomePage, Error> {
    let p = &s.platform;
    let orgs = if c.actor.can_somewhere(Capability::PersonRead) {
        p.org_children(&c.ctx, &c.actor, None).await?
    } else {
        Vec::new()
    };
    let mut counts = p.counts(&orgs).await?;
    let orgs = orgs
        .into_iter()
        .take(6)
        .map(|o| {
            let cnt = counts.remove(&o.id).unwrap_or_default();
            let bars = StageBars::new(&cnt);
            (o, cnt, bars)
        })
        .collect();
    let me = match c.actor.person_id {
        Some(id) => Some(p.get_person(&c.ctx, &c.actor, id).await?),
        None => None,
    };
    let steps = me.as_ref().map(progress).unwrap_or_default();
    let waiting = life::notices::Notices::new(p).waiting(&c.actor).await.map_err(Error::from)?;
    let alerts = if c.actor.has_role(platform::model::Role::SecurityAdmin) {
        p.security_notifications(&c.ctx, &c.actor).await?
    } else {
        Vec::new()
    };
    let quarantined = p.quarantined_count(&c.actor).await?;
    let hour = time::OffsetDateTime::now_utc().to_offset(kernel::dates::BEIJING).hour();
    let part = match hour {
        5..=11 => "上午好",
        12..=13 => "中午好",
        14..=18 => "下午好",
        _ => "晚上好",
    };
    Ok(HomePage {
        chrome: Chrome::new(s, c, "home"),
        greeting: format!("{}，{}", c.actor.display_name, part),
        orgs,
        me,
        waiting,
        alerts,
        quarantined,
        steps,
        can_accounts: c.actor.can_somewhere(Capability::AccountAdmin),
        can_audit: c.actor.can_somewhere(Capability::AuditRead),
        can_write_people: c.actor.can_somewhere(Capability::PersonWrite),
    })
}

/// The development path with the date each step was reached (empty while not reached).
pub fn progress(p: &Person) -> Vec<(&'static str, String, bool)> {
    let d = |v: Option<time::Date>| v.map(kernel::dates::chinese).unwrap_or_default();
    let reached = |s: Stage| Stage::ALL.iter().position(|x| *x == p.stage) >= Stage::ALL.iter().position(|x| *x == s);
    vec![
        ("递交入党申请书", d(p.applied_on), reached(Stage::Applicant)),
        ("入党积极分子", d(p.activist_on), reached(Stage::Activist)),
        ("发展对象", d(p.candidate_on), reached(Stage::Candidate)),
        ("预备党员", d(p.admitted_on), reached(Stage::Probationary)),
        ("正式党员", d(p.converted_on), reached(Stage::Full)),
    ]
}
