//! 积分 pages (domain.md FORM: points are the member's own motivation — no public ranking unless a branch
//! switches it on, never an assessment input): `/learning/points` (her points and whether she appears on her
//! branch's board; for those who publish learning, links to their organizations' boards and rules),
//! `/orgs/{id}/points` (a branch's board and its switch, off by default), `/orgs/{id}/points-rules` (staff
//! set the points of each action).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learning::Learning;
use learning::points::model::{Action, Board, MyPoints, NOT_ASSESSMENT, PointsRules, RuleInput, RulesInput, Switch};
use platform::Capability;

use super::learnform::{first, respond};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;

fn fail(e: learning::Error, c: &Caller) -> Response {
    super::platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

fn switch_of(f: &Pairs) -> Switch {
    Switch {
        enabled: match first(f, "enabled") {
            Some("1" | "on" | "true") => Some(true),
            Some("0" | "off" | "false") => Some(false),
            _ => None,
        },
    }
}

#[derive(Template)]
#[template(path = "points.html")]
struct PointsPage {
    chrome: Chrome,
    mine: Option<MyPoints>,
    /// Organizations whose board the caller switches (and, with PointsConfig, whose rules she sets).
    orgs: Vec<(i64, String, bool)>,
    note: &'static str,
    message: Option<String>,
    error: Option<String>,
}

async fn points_page(
    s: &AppState,
    c: &Caller,
    message: Option<String>,
    error: Option<String>,
) -> Result<PointsPage, Response> {
    let learning = Learning::new(&s.platform);
    let mine = match c.actor.person_id {
        Some(_) => Some(learning.my_points(&c.ctx, &c.actor).await.map_err(|e| fail(e, c))?),
        None => None,
    };
    let config = |id: i64| {
        c.actor.grants.iter().any(|g| {
            g.org_id == Some(id) && g.org_path.as_deref().is_some_and(|p| c.actor.can(Capability::PointsConfig, p))
        })
    };
    let orgs = learning
        .publish_targets(&c.actor)
        .await
        .map_err(|e| fail(e, c))?
        .into_iter()
        .map(|(id, name)| (id, name, config(id)))
        .collect();
    Ok(PointsPage { chrome: Chrome::new(s, c, "learning"), mine, orgs, note: NOT_ASSESSMENT, message, error })
}

/// `/learning/points`.
pub async fn points_get(State(s): State<AppState>, c: Caller, Query(p): Query<BTreeMap<String, String>>) -> Response {
    let message = p.contains_key("saved").then(|| "已保存。".to_string());
    respond(StatusCode::OK, points_page(&s, &c, message, None).await)
}

/// The member chooses whether she appears on her branch's board.
pub async fn optin_post(State(s): State<AppState>, c: Caller, Form(f): Form<Pairs>) -> Response {
    match Learning::new(&s.platform).set_points_optin(&c.ctx, &c.actor, &switch_of(&f)).await {
        Ok(_) => Redirect::to("/learning/points?saved=1").into_response(),
        Err(learning::Error::Invalid(e)) => {
            respond(StatusCode::UNPROCESSABLE_ENTITY, points_page(&s, &c, None, e.into_values().next()).await)
        }
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "points_board.html")]
struct BoardPage {
    chrome: Chrome,
    b: Board,
    on: bool,
    can_switch: bool,
    message: Option<String>,
    error: Option<String>,
}

async fn board_page(
    s: &AppState,
    c: &Caller,
    id: i64,
    message: Option<String>,
    error: Option<String>,
) -> Result<BoardPage, Response> {
    let learning = Learning::new(&s.platform);
    let b = learning.points_board(&c.ctx, &c.actor, id).await.map_err(|e| fail(e, c))?;
    let targets = learning.publish_targets(&c.actor).await.map_err(|e| fail(e, c))?;
    // The switch shows to those who publish learning; the service decides (403 for others above it).
    let can_switch = !targets.is_empty();
    let on = b.enabled;
    Ok(BoardPage { chrome: Chrome::new(s, c, "learning"), b, on, can_switch, message, error })
}

/// `/orgs/{id}/points`: members read it while it is on (404 otherwise), those managing its learning always.
pub async fn board_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let message = p.contains_key("saved").then(|| "积分榜设置已保存。".to_string());
    respond(StatusCode::OK, board_page(&s, &c, id, message, None).await)
}

/// Switches the board (its secretary, staff above); only a 党支部 has one (422 otherwise).
pub async fn board_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Form(f): Form<Pairs>) -> Response {
    match Learning::new(&s.platform).set_points_board(&c.ctx, &c.actor, id, &switch_of(&f)).await {
        Ok(_) => Redirect::to(&format!("/orgs/{id}/points?saved=1")).into_response(),
        Err(learning::Error::Invalid(e)) => {
            respond(StatusCode::UNPROCESSABLE_ENTITY, board_page(&s, &c, id, None, e.into_values().next()).await)
        }
        Err(e) => fail(e, &c),
    }
}

/// A rule as the form shows it: what is in force, or what was typed after a refusal.
struct RuleLine {
    code: &'static str,
    label: &'static str,
    enabled: bool,
    points: String,
    daily_cap: String,
    set_at: String,
    points_error: Option<String>,
    cap_error: Option<String>,
}

#[derive(Template)]
#[template(path = "points_rules.html")]
struct RulesPage {
    chrome: Chrome,
    r: PointsRules,
    lines: Vec<RuleLine>,
    summary: Option<String>,
    saved: bool,
}

fn rules_page(
    s: &AppState,
    c: &Caller,
    r: PointsRules,
    typed: Option<&Pairs>,
    errors: Option<&BTreeMap<String, String>>,
    saved: bool,
) -> RulesPage {
    let lines = r
        .rules
        .iter()
        .map(|v| {
            let code = v.action.code();
            let key = |k: &str| format!("{code}.{k}");
            let typed_of = |k: &str| typed.and_then(|f| first(f, &key(k))).map(str::to_string);
            RuleLine {
                code,
                label: v.action_label,
                enabled: match typed {
                    Some(f) => first(f, &key("enabled")).is_some(),
                    None => v.enabled,
                },
                points: typed_of("points").unwrap_or_else(|| v.points.to_string()),
                daily_cap: typed_of("daily_cap").unwrap_or_else(|| v.daily_cap.to_string()),
                set_at: match (&v.set_at_org, v.own) {
                    (_, true) => "本组织设置".into(),
                    (Some(o), false) => format!("沿用{o}的设置"),
                    (None, _) => "未设置（关闭）".into(),
                },
                points_error: errors.and_then(|e| e.get(&key("points")).cloned()),
                cap_error: errors.and_then(|e| e.get(&key("daily_cap")).cloned()),
            }
        })
        .collect();
    RulesPage {
        chrome: Chrome::new(s, c, "learning"),
        r,
        lines,
        summary: errors.map(|e| format!("有{}处需要修改，请按提示修改后再保存。", e.len())),
        saved,
    }
}

/// `/orgs/{id}/points-rules`: staff of the subtree (403 for others who see the organization, 404 outside).
pub async fn rules_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    match Learning::new(&s.platform).points_rules(&c.ctx, &c.actor, id).await {
        Ok(r) => render(StatusCode::OK, &rules_page(&s, &c, r, None, None, p.contains_key("saved"))),
        Err(e) => fail(e, &c),
    }
}

/// Saves every action's rule at once; refused: the form as typed with the messages (422), nothing changed.
pub async fn rules_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Form(f): Form<Pairs>) -> Response {
    let num = |k: String| first(&f, &k).map(str::trim).filter(|v| !v.is_empty()).map(|v| v.parse().unwrap_or(-1));
    let rules = Action::ALL
        .iter()
        .map(|a| {
            let code = a.code();
            RuleInput {
                action: Some(code.into()),
                enabled: Some(first(&f, &format!("{code}.enabled")).is_some()),
                points: num(format!("{code}.points")),
                daily_cap: num(format!("{code}.daily_cap")),
            }
        })
        .collect();
    let learning = Learning::new(&s.platform);
    match learning.set_points_rules(&c.ctx, &c.actor, id, &RulesInput { rules }).await {
        Ok(_) => Redirect::to(&format!("/orgs/{id}/points-rules?saved=1")).into_response(),
        Err(learning::Error::Invalid(errors)) => match learning.points_rules(&c.ctx, &c.actor, id).await {
            Ok(r) => render(StatusCode::UNPROCESSABLE_ENTITY, &rules_page(&s, &c, r, Some(&f), Some(&errors), false)),
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}
