//! The organization tree: one organization at a time, with its breadcrumb, its subtree's head counts
//! and its children (loaded lazily, so a province of 30k organizations opens as fast as a college).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::model::{Counts, Org, OrgCategory, OrgKind};
use platform::service::NewOrgInput;
use platform::{Capability, Error};

use super::forms::{Field, Kind, apply_errors, options};
use super::session::FormPage;
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

/// A horizontal bar chart of the five stages, drawn as SVG by the server (no script, prints well).
pub struct StageBars {
    pub bars: Vec<Bar>,
    pub height: u32,
}

pub struct Bar {
    pub label: &'static str,
    pub n: i64,
    pub width: u32,
    pub y: u32,
    pub class: &'static str,
}

impl StageBars {
    pub fn new(c: &Counts) -> StageBars {
        let max = c.by_stage.iter().map(|i| i.n).max().unwrap_or(0).max(1);
        let classes = ["s1", "s2", "s3", "s4", "s5"];
        let bars = c
            .by_stage
            .iter()
            .enumerate()
            .map(|(i, item)| Bar {
                label: item.label,
                n: item.n,
                width: ((item.n as f64 / max as f64) * 180.0).round() as u32,
                y: i as u32 * 26,
                class: classes.get(i).copied().unwrap_or("s1"),
            })
            .collect();
        StageBars { bars, height: 5 * 26 }
    }
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    chrome: Chrome,
    org: Option<Org>,
    crumbs: Vec<Org>,
    counts: Counts,
    bars: StageBars,
    children: Vec<(Org, i64)>,
    can_add_child: bool,
    can_add_person: bool,
    can_see_people: bool,
    can_add_account: bool,
    /// 委员会与换届 (life::committees): all but Party groups, for those who see organizational life.
    can_see_committee: bool,
}

pub async fn orgs_get(State(s): State<AppState>, c: Caller) -> Response {
    // Someone who reaches one subtree starts at its top; everyone else sees the top organizations.
    let tops = match s.platform.org_children(&c.ctx, &c.actor, None).await {
        Ok(t) => t,
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    if let [only] = tops.as_slice() {
        return Redirect::to(&format!("/orgs/{}", only.id)).into_response();
    }
    match page(&s, &c, None, tops).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn org_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let result = async {
        let org = s.platform.get_org(&c.ctx, &c.actor, id).await?;
        let children = s.platform.org_children(&c.ctx, &c.actor, Some(id)).await?;
        page(&s, &c, Some(org), children).await
    };
    match result.await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

async fn page(s: &AppState, c: &Caller, org: Option<Org>, children: Vec<Org>) -> Result<OrgPage, Error> {
    let p = &s.platform;
    let mut all = children.clone();
    if let Some(o) = &org {
        all.push(o.clone());
    }
    let mut counts = p.counts(&all).await?;
    let own = match &org {
        Some(o) => counts.remove(&o.id).unwrap_or_default(),
        None => {
            // The sum over the top organizations.
            let mut sum = Counts::default();
            for ch in &children {
                if let Some(cc) = counts.get(&ch.id) {
                    sum.total += cc.total;
                    if sum.by_stage.is_empty() {
                        sum.by_stage = cc.by_stage.clone();
                        sum.by_category = cc.by_category.clone();
                    } else {
                        sum.by_stage.iter_mut().zip(&cc.by_stage).for_each(|(a, b)| a.n += b.n);
                        sum.by_category.iter_mut().zip(&cc.by_category).for_each(|(a, b)| a.n += b.n);
                    }
                }
            }
            sum
        }
    };
    let crumbs = match &org {
        Some(o) => {
            let mut l = p.lineage(&c.actor, o).await?;
            l.retain(|x| x.id != o.id);
            l
        }
        None => Vec::new(),
    };
    let path = org.as_ref().map(|o| o.path.clone());
    let children = children.into_iter().map(|ch| {
        let n = counts.get(&ch.id).map(|x| x.total).unwrap_or(0);
        (ch, n)
    });
    Ok(OrgPage {
        chrome: Chrome::new(s, c, "orgs"),
        can_add_child: path.as_deref().is_some_and(|p| c.actor.can(Capability::OrgWrite, p))
            && org.as_ref().is_some_and(|o| o.kind != OrgKind::Group),
        can_add_person: path.as_deref().is_some_and(|p| c.actor.can(Capability::PersonWrite, p))
            && org.as_ref().is_some_and(|o| o.kind.holds_people()),
        can_see_people: path.as_deref().is_some_and(|p| !c.actor.ranges_within(Capability::PersonRead, p).is_empty()),
        can_add_account: c.actor.can_somewhere(Capability::AccountAdmin),
        can_see_committee: path.as_deref().is_some_and(|p| c.actor.can(Capability::MeetingRead, p))
            && org.as_ref().is_some_and(|o| o.kind != OrgKind::Group),
        bars: StageBars::new(&own),
        counts: own,
        org,
        crumbs,
        children: children.collect(),
    })
}

fn org_fields(parent: &Org, f: &HashMap<String, String>) -> Vec<Field> {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let kinds: Vec<OrgKind> = OrgKind::ALL.iter().copied().filter(|k| parent.kind.allows_child(*k)).collect();
    vec![
        Field::new("name", "组织全称", Kind::Text)
            .required()
            .value(get("name"))
            .hint("与印章一致，如“信息学院学生第一党支部”"),
        Field::new("short_name", "简称", Kind::Text).value(get("short_name")),
        Field::new("kind", "组织类型", Kind::Select(options(&kinds, OrgKind::code, OrgKind::label)))
            .required()
            .value(get("kind")),
        Field::new(
            "category",
            "组织类别",
            Kind::Select(options(OrgCategory::ALL, OrgCategory::code, OrgCategory::label)),
        )
        .required()
        .value(get("category")),
        Field::new("secretary", "书记", Kind::Text).value(get("secretary")),
        Field::new("contact_phone", "联系电话", Kind::Tel).value(get("contact_phone")),
        Field::new("established_on", "成立日期", Kind::Date).value(get("established_on")),
    ]
}

fn org_form(s: &AppState, c: &Caller, parent: &Org, fields: Vec<Field>, summary: Option<String>) -> FormPage {
    FormPage {
        chrome: Chrome::new(s, c, "orgs"),
        title: format!("在“{}”下新增组织", parent.name),
        crumbs: vec![("组织".into(), "/orgs".into()), (parent.name.clone(), format!("/orgs/{}", parent.id))],
        action: format!("/orgs/{}/new", parent.id),
        fields,
        submit: "创建组织",
        cancel: format!("/orgs/{}", parent.id),
        notice: None,
        summary,
        warnings: vec![],
    }
}

pub async fn org_new_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match s.platform.get_org(&c.ctx, &c.actor, id).await {
        Ok(parent) if c.actor.can(Capability::OrgWrite, &parent.path) => {
            render(StatusCode::OK, &org_form(&s, &c, &parent, org_fields(&parent, &HashMap::new()), None))
        }
        Ok(_) => super::platform_error(&Error::Forbidden, &c.ctx.request_id),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn org_new_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let parent = match s.platform.get_org(&c.ctx, &c.actor, id).await {
        Ok(p) => p,
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    let text = |k: &str| f.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let established_on = text("established_on").map(|v| platform::rules::parse_date(&v));
    let mut fields = org_fields(&parent, &f);
    if let Some(None) = established_on {
        apply_errors(&mut fields, &[("established_on".to_string(), "日期格式应为 2024-09-01".to_string())].into());
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &org_form(&s, &c, &parent, fields, Some("请按提示修改".into())),
        );
    }
    let input = NewOrgInput {
        name: text("name").unwrap_or_default(),
        kind: text("kind").unwrap_or_default(),
        parent_id: Some(id),
        category: text("category").unwrap_or_default(),
        short_name: text("short_name"),
        secretary: text("secretary"),
        contact_phone: text("contact_phone"),
        established_on: established_on.flatten(),
    };
    match s.platform.create_org(&c.ctx, &c.actor, &input).await {
        Ok(org) => Redirect::to(&format!("/orgs/{}", org.id)).into_response(),
        Err(Error::Invalid(errors)) => {
            apply_errors(&mut fields, &errors);
            render(StatusCode::UNPROCESSABLE_ENTITY, &org_form(&s, &c, &parent, fields, Some("请按提示修改".into())))
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}
