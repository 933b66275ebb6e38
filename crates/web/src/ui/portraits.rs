//! 学习画像 pages: a member's (`/learning/portraits/people/{id}`; her own from 学习教育) and a branch's or
//! college's (`/learning/portraits/orgs/{id}`), with server-drawn SVG charts (no script, no CDN): minutes per
//! week as columns, topics and organizations below as bars, exam results as columns coloured by pass.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learning::portraits::Portraits;
use learning::portraits::model::{OrgPortrait, PersonPortrait, Week};
use platform::{Capability, Error};

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

fn fail(e: learning::Error, c: &Caller) -> Response {
    super::platform_error(&Error::from(e), &c.ctx.request_id)
}

/// One column of a column chart (SVG units).
pub struct Column {
    pub x: i64,
    pub y: i64,
    pub h: i64,
    pub label: String,
    pub value: String,
    pub class: &'static str,
}

/// Height of a column chart's plot area.
const PLOT: i64 = 100;
const COLUMN_STEP: i64 = 28;

fn scaled(v: i64, max: i64, full: i64) -> i64 {
    if max <= 0 { 0 } else { (v * full + max - 1) / max }
}

/// Minutes per week: the first week of each month labelled.
fn week_columns(weeks: &[Week]) -> Vec<Column> {
    let max = weeks.iter().map(|w| w.minutes).max().unwrap_or(0);
    let mut last_month = None;
    weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let h = scaled(w.minutes, max, PLOT);
            let month = w.monday.month();
            let label = if last_month != Some(month) { format!("{}月", u8::from(month)) } else { String::new() };
            last_month = Some(month);
            Column {
                x: 8 + i64::try_from(i).unwrap_or(0) * COLUMN_STEP,
                y: 10 + PLOT - h,
                h,
                label,
                value: if w.minutes > 0 { w.minutes.to_string() } else { String::new() },
                class: "s4",
            }
        })
        .collect()
}

/// One bar of a bar chart.
pub struct Bar {
    pub y: i64,
    pub width: i64,
    /// The label as shown (at most LABEL_CHARS characters and "…").
    pub label: String,
    /// The whole name (the SVG title, read out by screen readers and shown on hover).
    pub title: String,
    pub value: String,
}

const BAR_WIDTH: i64 = 180;
/// The characters a bar's label keeps (the label column is 96 units wide; a longer name ends in "…").
const LABEL_CHARS: usize = 7;

fn short_label(name: &str) -> String {
    if name.chars().count() <= LABEL_CHARS + 1 {
        name.to_string()
    } else {
        let kept: String = name.chars().take(LABEL_CHARS).collect();
        format!("{kept}…")
    }
}

fn bars(items: Vec<(String, i64, String)>) -> Vec<Bar> {
    let max = items.iter().map(|(_, v, _)| *v).max().unwrap_or(0);
    items
        .into_iter()
        .enumerate()
        .map(|(i, (label, v, value))| Bar {
            y: i64::try_from(i).unwrap_or(0) * 26,
            width: scaled(v, max, BAR_WIDTH),
            label: short_label(&label),
            title: label,
            value,
        })
        .collect()
}

fn percent(part: i64, whole: i64) -> i64 {
    if whole > 0 { part * 100 / whole } else { 0 }
}

#[derive(Template)]
#[template(path = "portrait_person.html")]
struct PersonPage {
    chrome: Chrome,
    p: PersonPortrait,
    weeks: Vec<Column>,
    topics: Vec<Bar>,
    exams: Vec<Column>,
    mine: bool,
}

/// `/learning/portrait`: the caller's own portrait.
pub async fn mine_get(c: Caller) -> Response {
    match c.actor.person_id {
        Some(id) => Redirect::to(&format!("/learning/portraits/people/{id}")).into_response(),
        None => super::platform_error(&Error::NotFound, &c.ctx.request_id),
    }
}

/// `/learning/portraits/people/{id}`.
pub async fn person_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Portraits::new(&s.platform).person(&c.ctx, &c.actor, id).await {
        Ok(p) => {
            let weeks = week_columns(&p.weeks);
            let topics = bars(p.topics.iter().map(|t| (t.label.clone(), t.count, format!("{}篇", t.count))).collect());
            let exams = p
                .exams
                .iter()
                .rev()
                .enumerate()
                .map(|(i, e)| {
                    let h = scaled(e.percent, 100, PLOT);
                    Column {
                        x: 8 + i64::try_from(i).unwrap_or(0) * COLUMN_STEP,
                        y: 10 + PLOT - h,
                        h,
                        label: String::new(),
                        value: e.percent.to_string(),
                        class: if e.passed == Some(false) { "fail" } else { "s4" },
                    }
                })
                .collect();
            let mine = c.actor.person_id == Some(id);
            render(
                StatusCode::OK,
                &PersonPage { chrome: Chrome::new(&s, &c, "learning"), p, weeks, topics, exams, mine },
            )
        }
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "portrait_org.html")]
struct OrgPage {
    chrome: Chrome,
    o: OrgPortrait,
    active_rate: i64,
    weeks: Vec<Column>,
    topics: Vec<Bar>,
    below: Vec<Bar>,
    required: Vec<(i64, String, String, i64, i64, i64)>,
}

/// `/learning/portraits/orgs/{id}`.
pub async fn org_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Portraits::new(&s.platform).org(&c.ctx, &c.actor, id).await {
        Ok(o) => {
            let weeks = week_columns(&o.weeks);
            let topics = bars(o.topics.iter().map(|t| (t.label.clone(), t.count, format!("{}篇", t.count))).collect());
            let below = bars(
                o.below
                    .iter()
                    .filter(|l| l.people > 0)
                    .map(|l| {
                        let rate = percent(l.active, l.people);
                        (l.name.clone(), rate, format!("{rate}%（{}/{}）", l.active, l.people))
                    })
                    .collect(),
            );
            let required = o
                .required
                .iter()
                .map(|r| {
                    let rate = percent(r.completed, r.audience);
                    (r.material_id, r.title.clone(), kernel::dates::iso(r.due), r.completed, r.audience, rate)
                })
                .collect();
            let active_rate = percent(o.active, o.people);
            let page =
                OrgPage { chrome: Chrome::new(&s, &c, "learning"), o, active_rate, weeks, topics, below, required };
            render(StatusCode::OK, &page)
        }
        Err(e) => fail(e, &c),
    }
}

/// `/learning/portraits`: the widest organization whose learning the caller manages.
pub async fn home_org_get(c: Caller) -> Response {
    let widest = c
        .actor
        .grants
        .iter()
        .filter(|g| g.org_path.as_deref().is_some_and(|p| c.actor.can(Capability::LearningRead, p)))
        .min_by_key(|g| g.org_path.as_deref().map_or(usize::MAX, str::len))
        .and_then(|g| g.org_id);
    match widest {
        Some(id) => Redirect::to(&format!("/learning/portraits/orgs/{id}")).into_response(),
        None => super::platform_error(&Error::NotFound, &c.ctx.request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_in_the_label_column() {
        assert_eq!(short_label("马克思主义学院党委"), "马克思主义学院…");
        assert_eq!(short_label("文学院党委"), "文学院党委");
        assert_eq!(short_label("理论学习"), "理论学习");
    }
}
