//! People: the list with filters and keyset paging, a person's page, and the create/edit form.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::model::{Gender, Org, Person, PersonCategory, Stage, Status};
use platform::rules::PersonInput;
use platform::service::{PeoplePage, PeopleQuery};
use platform::{Capability, Error, Platform};

use super::forms::{Field, Kind, apply_errors, options};
use super::session::FormPage;
use super::{Chrome, render};
use crate::AppState;
use crate::auth::{Caller, encode};

#[derive(Template)]
#[template(path = "people.html")]
struct PeopleListPage {
    chrome: Chrome,
    org: Option<Org>,
    q: String,
    stage: String,
    category: String,
    stages: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    page: std::sync::Arc<PeoplePage>,
    next_href: Option<String>,
    can_add: bool,
    can_import: bool,
    /// The organization whose register the export buttons download (the one listed, else the widest
    /// one the caller reads).
    export_org: Option<i64>,
}

fn query_of(q: &HashMap<String, String>) -> PeopleQuery {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    PeopleQuery {
        org_id: get("org_id").and_then(|v| v.parse().ok()),
        stage: get("stage"),
        category: get("category"),
        q: get("q"),
        cursor: get("cursor"),
        page: None,
        per_page: Some(20),
    }
}

pub async fn people_get(State(s): State<AppState>, c: Caller, Query(raw): Query<HashMap<String, String>>) -> Response {
    let q = query_of(&raw);
    let page = match s.platform.list_people(&c.ctx, &c.actor, &q).await {
        Ok(v) => v,
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    let org = page.org.clone();
    let keep =
        |k: &str| raw.get(k).filter(|v| !v.is_empty()).map(|v| format!("&{k}={}", encode(v))).unwrap_or_default();
    let next_href = page.next_cursor.as_ref().map(|cur| {
        format!("/people?cursor={}{}{}{}{}", encode(cur), keep("org_id"), keep("stage"), keep("category"), keep("q"))
    });
    let can_add = org.as_ref().is_some_and(|o| o.kind.holds_people() && c.actor.can(Capability::PersonWrite, &o.path));
    let export_org = org.as_ref().map(|o| o.id).or_else(|| {
        c.actor
            .grants
            .iter()
            .filter(|g| platform::access::reach(g.role, Capability::PersonRead) != platform::access::Reach::Nowhere)
            .filter_map(|g| Some((g.org_path.as_ref()?.len(), g.org_id?)))
            .min()
            .map(|(_, id)| id)
    });
    let mut stages = options(Stage::ALL, Stage::code, Stage::label);
    stages[0].1 = "全部阶段".into();
    let mut categories = options(PersonCategory::ALL, PersonCategory::code, PersonCategory::label);
    categories[0].1 = "全部类别".into();
    let page_html = PeopleListPage {
        chrome: Chrome::new(&s, &c, "people"),
        org,
        q: q.q.clone().unwrap_or_default(),
        stage: q.stage.clone().unwrap_or_default(),
        category: q.category.clone().unwrap_or_default(),
        stages,
        categories,
        page,
        next_href,
        can_add,
        can_import: c.actor.can_somewhere(Capability::PersonWrite),
        export_org,
    };
    render(StatusCode::OK, &page_html)
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    person: Person,
    crumbs: Vec<Org>,
    basic: Vec<(&'static str, String)>,
    party: Vec<(&'static str, String)>,
    steps: Vec<(&'static str, String, bool)>,
    can_edit: bool,
    saved: bool,
    warnings: Vec<String>,
    /// Keeps records of this person (or is this person): may reveal a masked item.
    can_reveal: bool,
    own: bool,
    /// A value just revealed: (label, value).
    revealed: Option<(&'static str, String)>,
    reveal_error: Option<String>,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".into())
}

async fn person_page(
    s: &AppState,
    c: &Caller,
    person: Person,
    saved: bool,
    warnings: Vec<String>,
) -> Result<PersonPage, Error> {
    // A member sees her own record without seeing her organization's pages: no breadcrumb, and no
    // refused read of the organization in the audit log.
    let crumbs = if c.actor.can(Capability::OrgRead, &person.org_path) {
        let org = s.platform.get_org(&c.ctx, &c.actor, person.org_id).await?;
        s.platform.lineage(&c.actor, &org).await?
    } else {
        Vec::new()
    };
    let basic = vec![
        ("性别", person.gender.label().to_string()),
        ("出生日期", kernel::dates::chinese(person.birth_date)),
        ("民族", opt(&person.ethnicity)),
        ("籍贯", opt(&person.native_place)),
        ("学历", opt(&person.education)),
        ("人员类别", person.category.label().to_string()),
        ("学号/工号", opt(&person.person_no)),
        ("公民身份号码", person.id_number.clone()),
        ("联系电话", opt(&person.phone)),
        ("职务/岗位", opt(&person.job_title)),
    ];
    let party = vec![
        ("所在党组织", person.org_name.clone()),
        ("发展阶段", person.stage.label().to_string()),
        ("党籍状态", person.status.label().to_string()),
        ("党内职务", opt(&person.party_post)),
    ];
    Ok(PersonPage {
        chrome: Chrome::new(s, c, if c.actor.person_id == Some(person.id) { "me" } else { "people" }),
        can_edit: Platform::may_edit(&c.actor, &person),
        can_reveal: Platform::may_edit(&c.actor, &person) || c.actor.person_id == Some(person.id),
        own: c.actor.person_id == Some(person.id),
        revealed: None,
        reveal_error: None,
        steps: super::home::progress(&person),
        person,
        crumbs,
        basic,
        party,
        saved,
        warnings,
    })
}

pub async fn person_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let person = s.platform.get_person(&c.ctx, &c.actor, id).await?;
        person_page(&s, &c, person, q.contains_key("saved"), vec![]).await
    };
    match result.await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// Reveals one masked item for a stated reason and shows the page with it, once (never cached: every
/// page is `no-store`).
pub async fn person_reveal_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let field = f.get("field").cloned().unwrap_or_default();
    let reason = f.get("reason").cloned().unwrap_or_default();
    let result = async {
        let outcome = s.platform.reveal(&c.ctx, &c.actor, id, &field, &reason).await;
        let person = s.platform.get_person(&c.ctx, &c.actor, id).await?;
        let mut page = person_page(&s, &c, person, false, vec![]).await?;
        let mut limited = None;
        let status = match outcome {
            Ok(value) => {
                let label = platform::service::SealedField::parse(&field).map(|f| f.label()).unwrap_or("");
                page.revealed = Some((label, value.unwrap_or_else(|| "（未登记）".into())));
                StatusCode::OK
            }
            Err(Error::Invalid(errors)) => {
                page.reveal_error = Some(errors.into_values().collect::<Vec<_>>().join("；"));
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Err(e @ Error::TooMany { .. }) => {
                page.reveal_error = Some(e.message());
                limited = Some(e);
                StatusCode::TOO_MANY_REQUESTS
            }
            Err(e) => return Err(e),
        };
        Ok::<_, Error>((status, page, limited))
    };
    match result.await {
        Ok((status, page, limited)) => {
            let mut resp = render(status, &page);
            if let Some(e) = limited {
                crate::error::with_retry_after(&mut resp, &e);
            }
            resp
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

#[derive(Template)]
#[template(path = "access_log.html")]
struct AccessLogPage {
    chrome: Chrome,
    entries: Vec<(String, String, String)>,
}

/// "谁查看了我的信息": who revealed, changed or exported the member's own record.
pub async fn access_log_get(State(s): State<AppState>, c: Caller) -> Response {
    match s.platform.my_access_log(&c.actor).await {
        Ok(entries) => {
            let entries = entries.into_iter().map(|e| (platform::service::beijing(&e.at), e.actor, e.what)).collect();
            render(StatusCode::OK, &AccessLogPage { chrome: Chrome::new(&s, &c, "access_log"), entries })
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The member's own copy of her data, as a download (the same document as `GET /api/v1/me/data`).
pub async fn my_data_get(State(s): State<AppState>, c: Caller) -> Response {
    match s.platform.my_data(&c.ctx, &c.actor, &crate::privacy::providers()).await {
        Ok(doc) => crate::privacy::download(&doc),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The form's fields, filled from submitted values (`f`).
pub(crate) async fn person_fields(
    s: &AppState,
    c: &Caller,
    f: &HashMap<String, String>,
    editing: bool,
) -> Result<Vec<Field>, Error> {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    // The organizations the actor may place people in; the current choice stays even if it is not
    // among the first results.
    let mut orgs: Vec<(String, String)> = vec![(String::new(), "请选择".into())];
    let current = get("org_id");
    if let Ok(id) = current.parse::<i64>()
        && let Ok(o) = s.platform.get_org(&c.ctx, &c.actor, id).await
    {
        orgs.push((o.id.to_string(), o.name));
    }
    // A university has a few hundred branches; a province-wide account picks from the first 500 in tree
    // order (or opens the form from the branch's page, which preselects it).
    for o in s.platform.search_orgs(&c.actor, "", true, 500).await? {
        if c.actor.can(Capability::PersonWrite, &o.path) && o.id.to_string() != current {
            orgs.push((o.id.to_string(), o.name));
        }
    }
    let id_hint = if editing {
        "已加密保存，不修改请留空"
    } else {
        "18位，末位可为X；系统校验并加密保存"
    };
    let mut id_field = Field::new("id_number", "公民身份号码", Kind::Text).value(get("id_number")).hint(id_hint);
    if !editing {
        id_field = id_field.required();
    }
    let phone_hint =
        if editing { "已加密保存，不修改请留空" } else { "11位手机号码或带区号的固定电话" };
    Ok(vec![
        Field::new("name", "姓名", Kind::Text).required().value(get("name")),
        Field::new("gender", "性别", Kind::Select(options(Gender::ALL, Gender::code, Gender::label)))
            .required()
            .value(get("gender")),
        Field::new("birth_date", "出生日期", Kind::Date).required().value(get("birth_date")).hint("须与身份证号码一致"),
        id_field,
        Field::new("phone", "联系电话", Kind::Tel).value(get("phone")).hint(phone_hint),
        Field::new("org_id", "所在党组织", Kind::Select(orgs)).required().value(current),
        Field::new("stage", "发展阶段", Kind::Select(options(Stage::ALL, Stage::code, Stage::label)))
            .required()
            .value(get("stage")),
        Field::new(
            "category",
            "人员类别",
            Kind::Select(options(PersonCategory::ALL, PersonCategory::code, PersonCategory::label)),
        )
        .required()
        .value(get("category")),
        Field::new("status", "党籍状态", Kind::Select(options(Status::ALL, Status::code, Status::label)))
            .value(get("status")),
        Field::new("ethnicity", "民族", Kind::Text).value(get("ethnicity")),
        Field::new("native_place", "籍贯", Kind::Text).value(get("native_place")),
        Field::new("education", "学历", Kind::Text).value(get("education")),
        Field::new("person_no", "学号/工号", Kind::Text).value(get("person_no")),
        Field::new("job_title", "职务/岗位", Kind::Text).value(get("job_title")),
        Field::new("party_post", "党内职务", Kind::Text).value(get("party_post")),
        Field::new("applied_on", "递交入党申请书日期", Kind::Date).value(get("applied_on")),
        Field::new("activist_on", "确定为积极分子日期", Kind::Date).value(get("activist_on")),
        Field::new("candidate_on", "确定为发展对象日期", Kind::Date).value(get("candidate_on")),
        Field::new("admitted_on", "接收为预备党员日期", Kind::Date).value(get("admitted_on")),
        Field::new("converted_on", "转为正式党员日期", Kind::Date).value(get("converted_on")),
        Field::new("version", "", Kind::Hidden).value(get("version")),
    ])
}

pub(crate) fn input_of(f: &HashMap<String, String>, editing: bool) -> PersonInput {
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string());
    // On edit, an empty sensitive field means "keep"; elsewhere an empty field clears the item.
    let sensitive = |k: &str| get(k).filter(|v| !(editing && v.is_empty()));
    PersonInput {
        name: get("name"),
        gender: get("gender"),
        birth_date: get("birth_date"),
        id_number: sensitive("id_number"),
        phone: sensitive("phone"),
        address: sensitive("address"),
        org_id: get("org_id").and_then(|v| v.parse().ok()),
        stage: get("stage"),
        category: get("category"),
        status: get("status"),
        ethnicity: get("ethnicity"),
        native_place: get("native_place"),
        education: get("education"),
        person_no: get("person_no"),
        party_post: get("party_post"),
        job_title: get("job_title"),
        applied_on: get("applied_on"),
        activist_on: get("activist_on"),
        candidate_on: get("candidate_on"),
        admitted_on: get("admitted_on"),
        converted_on: get("converted_on"),
        version: get("version").and_then(|v| v.parse().ok()),
    }
}

fn form_page(
    s: &AppState,
    c: &Caller,
    title: String,
    action: String,
    cancel: String,
    fields: Vec<Field>,
    summary: Option<String>,
) -> FormPage {
    FormPage {
        chrome: Chrome::new(s, c, "people"),
        title,
        crumbs: vec![("党员".into(), "/people".into())],
        action,
        fields,
        submit: "保存",
        cancel,
        notice: None,
        summary,
        warnings: vec![],
    }
}

pub async fn person_new_get(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !c.actor.can_somewhere(Capability::PersonWrite) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    let mut f = HashMap::new();
    if let Some(org) = q.get("org_id") {
        f.insert("org_id".to_string(), org.clone());
    }
    f.insert("status".into(), "normal".into());
    match person_fields(&s, &c, &f, false).await {
        Ok(fields) => render(
            StatusCode::OK,
            &form_page(&s, &c, "新增人员".into(), "/people/new".into(), "/people".into(), fields, None),
        ),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn person_new_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    match s.platform.create_person(&c.ctx, &c.actor, &input_of(&f, false)).await {
        Ok((p, _)) => Redirect::to(&format!("/people/{}?saved=1", p.id)).into_response(),
        Err(Error::Invalid(errors)) => match person_fields(&s, &c, &f, false).await {
            Ok(mut fields) => {
                apply_errors(&mut fields, &errors);
                let summary = Some(format!("有{}处需要修改，请查看标红的项目", errors.len()));
                render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form_page(&s, &c, "新增人员".into(), "/people/new".into(), "/people".into(), fields, summary),
                )
            }
            Err(e) => super::platform_error(&e, &c.ctx.request_id),
        },
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

fn values_of(p: &Person) -> HashMap<String, String> {
    let d = |v: Option<time::Date>| v.map(kernel::dates::iso).unwrap_or_default();
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    HashMap::from([
        ("name".into(), p.name.clone()),
        ("gender".into(), p.gender.code().into()),
        ("birth_date".into(), kernel::dates::iso(p.birth_date)),
        ("org_id".into(), p.org_id.to_string()),
        ("stage".into(), p.stage.code().into()),
        ("category".into(), p.category.code().into()),
        ("status".into(), p.status.code().into()),
        ("ethnicity".into(), o(&p.ethnicity)),
        ("native_place".into(), o(&p.native_place)),
        ("education".into(), o(&p.education)),
        ("person_no".into(), o(&p.person_no)),
        ("job_title".into(), o(&p.job_title)),
        ("party_post".into(), o(&p.party_post)),
        ("applied_on".into(), d(p.applied_on)),
        ("activist_on".into(), d(p.activist_on)),
        ("candidate_on".into(), d(p.candidate_on)),
        ("admitted_on".into(), d(p.admitted_on)),
        ("converted_on".into(), d(p.converted_on)),
        ("version".into(), p.version.to_string()),
    ])
}

pub async fn person_edit_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let result = async {
        let p = s.platform.get_person(&c.ctx, &c.actor, id).await?;
        if !Platform::may_edit(&c.actor, &p) {
            return Err(Error::Forbidden);
        }
        let fields = person_fields(&s, &c, &values_of(&p), true).await?;
        Ok(form_page(
            &s,
            &c,
            format!("编辑：{}", p.name),
            format!("/people/{id}/edit"),
            format!("/people/{id}"),
            fields,
            None,
        ))
    };
    match result.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn person_edit_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    match s.platform.update_person(&c.ctx, &c.actor, id, &input_of(&f, true)).await {
        Ok((p, _)) => Redirect::to(&format!("/people/{}?saved=1", p.id)).into_response(),
        Err(Error::Invalid(errors)) => match person_fields(&s, &c, &f, true).await {
            Ok(mut fields) => {
                apply_errors(&mut fields, &errors);
                let summary = Some(format!("有{}处需要修改，请查看标红的项目", errors.len()));
                let page = form_page(
                    &s,
                    &c,
                    "编辑人员".into(),
                    format!("/people/{id}/edit"),
                    format!("/people/{id}"),
                    fields,
                    summary,
                );
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(e) => super::platform_error(&e, &c.ctx.request_id),
        },
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}
