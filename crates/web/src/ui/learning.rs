//! 学习教育 pages: `/learning` (the search box, the member's recommendations with their reasons, the
//! materials by category), `/learning/{id}` (the reading page; `assets/learning.js` sends the heartbeats of
//! active reading — without it the page still reads, it only records no time), and `/learning/new` for
//! staff. Handlers call one `learning::Learning` function each (the list page also asks for the
//! recommendations and, with a query, the search).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use learning::Learning;
use learning::model::{
    BodyFormat, Category, Material, MaterialInput, MaterialKind, MaterialSummary, RecommendationItem, SearchHit,
    Upload, WithdrawInput,
};
use platform::Error;

use super::forms::{Field, Kind, apply_errors, body_format_field, options, stage_choices};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;
use crate::files::FormFile;

type Pairs = Vec<(String, String)>;

/// A posted material form: its fields and, from the multipart form the page sends, the PDF chosen (none
/// when the file input was left empty). A urlencoded post (no file) is read too.
async fn posted_form(s: &AppState, c: &Caller, req: Request) -> Result<(Pairs, Option<FormFile>), Response> {
    let unreadable = |m: &str| super::error_page(StatusCode::BAD_REQUEST, "表单未能读取", m, &c.ctx.request_id);
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let m = Multipart::from_request(req, s).await.map_err(|_| unreadable("未能读取提交的表单，请重试"))?;
        let form = crate::files::read_multipart(m).await.map_err(unreadable)?;
        let file = form.files.into_iter().find(|f| f.field == "file");
        Ok((form.pairs, file))
    } else {
        let Form(f) =
            Form::<Pairs>::from_request(req, s).await.map_err(|_| unreadable("未能读取提交的表单，请重试"))?;
        Ok((f, None))
    }
}

fn upload_of(file: &Option<FormFile>) -> Option<Upload<'_>> {
    file.as_ref().map(|f| Upload { name: &f.name, bytes: &f.bytes })
}

fn fail(e: learning::Error, c: &Caller) -> Response {
    super::platform_error(&Error::from(e), &c.ctx.request_id)
}

fn first<'p>(f: &'p [(String, String)], key: &str) -> Option<&'p str> {
    f.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// "约8分钟" from seconds.
fn minutes_label(seconds: i64) -> String {
    let m = (seconds + 59) / 60;
    format!("约{m}分钟")
}

/// A line of the list as the page shows it.
struct Line {
    m: MaterialSummary,
    due: String,
    status: String,
    status_class: &'static str,
}

impl Line {
    fn new(m: MaterialSummary) -> Line {
        let due = m.required_due.map(due_text).unwrap_or_default();
        let (status, status_class) = if m.completed {
            ("已学完".to_string(), "ok")
        } else if m.seconds > 0 {
            (format!("已学{}分钟", m.seconds / 60), "due")
        } else {
            (minutes_label(m.required_seconds), "")
        };
        Line { m, due, status, status_class }
    }
}

/// "必学 · 截止06-30（还有12天）".
fn due_text(d: time::Date) -> String {
    let left = (d - kernel::dates::today()).whole_days();
    let when = match left {
        n if n > 0 => format!("还有{n}天"),
        0 => "今天截止".into(),
        n => format!("已逾期{}天", -n),
    };
    format!("必学 · 截止{}（{when}）", kernel::dates::iso(d))
}

#[derive(Template)]
#[template(path = "learning.html")]
struct LearningPage {
    chrome: Chrome,
    q: String,
    category: String,
    categories: Vec<(String, String)>,
    hits: Vec<SearchHit>,
    searched: bool,
    search_error: Option<String>,
    recommendations: Vec<RecommendationItem>,
    lines: Vec<Line>,
    can_publish: bool,
    is_person: bool,
    people_search: bool,
}

/// `/learning?q=&category=`: search, recommendations, the materials by category.
pub async fn learning_get(State(s): State<AppState>, c: Caller, Query(p): Query<BTreeMap<String, String>>) -> Response {
    let learning = Learning::new(&s.platform);
    let q = p.get("q").map(|v| v.trim().to_string()).unwrap_or_default();
    let category = p.get("category").and_then(|v| Category::parse(v));
    let (mut hits, mut search_error) = (Vec::new(), None);
    if !q.is_empty() {
        match learning.search(&c.ctx, &c.actor, &q).await {
            Ok(r) => hits = r.results,
            Err(learning::Error::Invalid(e)) => search_error = e.into_values().next(),
            Err(e) => return fail(e, &c),
        }
    }
    let recommendations = match c.actor.person_id {
        Some(_) if q.is_empty() => match learning.recommendations(&c.ctx, &c.actor, None).await {
            Ok(r) => r.items,
            Err(e) => return fail(e, &c),
        },
        _ => Vec::new(),
    };
    let list = match learning.list_materials(&c.actor, category).await {
        Ok(l) => l,
        Err(e) => return fail(e, &c),
    };
    let mut categories = vec![(String::new(), "全部".to_string())];
    categories.extend(Category::ALL.iter().map(|c| (c.code().to_string(), c.label().to_string())));
    let page = LearningPage {
        chrome: Chrome::new(&s, &c, "learning"),
        searched: !q.is_empty(),
        q,
        category: category.map(|c| c.code().to_string()).unwrap_or_default(),
        categories,
        hits,
        search_error,
        recommendations,
        lines: list.items.into_iter().map(Line::new).collect(),
        can_publish: Learning::may_publish(&c.actor),
        is_person: c.actor.person_id.is_some(),
        people_search: c.actor.can_somewhere(platform::Capability::PersonRead),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "material.html")]
struct MaterialPage {
    chrome: Chrome,
    m: Material,
    paragraphs: Vec<String>,
    due: String,
    stages: String,
    seconds: i64,
    completed: bool,
    minutes: String,
    saved: bool,
    updated: bool,
    withdrawn: Option<String>,
    may_edit: bool,
    /// pdf.js is embedded: a PDF is drawn on the page (otherwise only offered as a download).
    pdf_viewer: bool,
}

impl MaterialPage {
    /// "1.2 MB" / "350 KB" for the PDF's download link.
    fn file_size(&self) -> String {
        let size = self.m.file.as_ref().map_or(0, |f| f.size);
        if size >= 1024 * 1024 {
            format!("{:.1} MB", size as f64 / 1048576.0)
        } else {
            format!("{} KB", (size + 1023) / 1024)
        }
    }

    fn is_html(&self) -> bool {
        self.m.body_format == BodyFormat::Html
    }

    fn is_link(&self) -> bool {
        self.m.kind != MaterialKind::Article
    }

    fn progress_text(&self) -> String {
        if self.completed {
            "已学完".into()
        } else if self.seconds > 0 {
            format!("已学习{}分钟，{}可学完", self.seconds / 60, minutes_label(self.m.required_seconds))
        } else {
            format!("{}可学完；页面在前台且您在阅读时才计时", minutes_label(self.m.required_seconds))
        }
    }
}

/// `/learning/{id}`: the reading page. 404 outside the material's audience.
pub async fn material_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let m = match Learning::new(&s.platform).get_material(&c.ctx, &c.actor, id).await {
        Ok(m) => m,
        Err(e) => return fail(e, &c),
    };
    let paragraphs = if m.body_format == BodyFormat::Text {
        m.body.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
    } else {
        Vec::new()
    };
    let stages: Vec<&str> = m.stages.iter().map(|s| s.label()).collect();
    let page = MaterialPage {
        chrome: Chrome::new(&s, &c, "learning"),
        paragraphs,
        due: m.required_due.map(due_text).unwrap_or_default(),
        stages: stages.join("、"),
        seconds: m.progress.as_ref().map_or(0, |p| p.seconds),
        completed: m.progress.as_ref().is_some_and(|p| p.completed),
        minutes: minutes_label(m.required_seconds),
        saved: p.contains_key("saved"),
        updated: p.contains_key("updated"),
        withdrawn: m.withdrawn_at.map(super::notices::when),
        may_edit: Learning::may_edit(&c.actor, &m),
        pdf_viewer: crate::assets::has_pdfjs(),
        m,
    };
    render(StatusCode::OK, &page)
}

/// `/learning/{id}/file`: the PDF of a document for whoever may read it (the page's viewer reads it too),
/// always as a download with a sandboxing policy (crate::files::download).
pub async fn material_file_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Learning::new(&s.platform).material_file(&c.ctx, &c.actor, id).await {
        Ok(a) => crate::files::download(a),
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "material_form.html")]
struct MaterialFormPage {
    chrome: Chrome,
    fields: Vec<Field>,
    body: String,
    body_error: Option<String>,
    stages: Vec<(String, String, bool)>,
    stages_error: Option<String>,
    summary: Option<String>,
    heading: &'static str,
    action: String,
    submit: &'static str,
    cancel: String,
    /// When editing: the version the form started from.
    version: Option<i64>,
    /// The PDF the material shows now (name, size), when editing one.
    current_file: Option<String>,
}

impl MaterialFormPage {
    /// After a refusal of a form that carried a file: the browser cannot refill the input, so say so under it
    /// (unless the file itself was refused, whose message is already there).
    fn file_not_kept(mut self, posted: bool) -> Self {
        if let Some(f) = self.fields.iter_mut().find(|f| f.name == "file" && f.error.is_none())
            && posted
        {
            f.hint = "您选择的文件尚未保存：请改正上面的问题后重新选择PDF文件";
        }
        self
    }
}

fn form_page(
    s: &AppState,
    c: &Caller,
    targets: Vec<(i64, String)>,
    f: &Pairs,
    errors: Option<&BTreeMap<String, String>>,
) -> MaterialFormPage {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let org_options: Vec<(String, String)> = targets.into_iter().map(|(id, name)| (id.to_string(), name)).collect();
    let editing = org_options.is_empty();
    let mut fields = vec![
        Field::new("title", "标题", Kind::Text).required().value(v("title")),
        Field::new("kind", "类型", Kind::Select(options(MaterialKind::ALL, MaterialKind::code, MaterialKind::label)))
            .required()
            .value(first(f, "kind").unwrap_or("article")),
        Field::new("category", "栏目", Kind::Select(options(Category::ALL, Category::code, Category::label)))
            .value(first(f, "category").unwrap_or("theory")),
        Field::new("org_id", "发布范围", Kind::Select(org_options))
            .required()
            .value(v("org_id"))
            .hint("本组织及下级组织的人员可以看到"),
        Field::new("url", "链接地址", Kind::Text)
            .value(v("url"))
            .hint("视频、直播须填写；文档上传PDF文件或填写链接，以 http:// 或 https:// 开头"),
        Field::new("file", "PDF文件", Kind::File("application/pdf,.pdf"))
            .hint("类型为“文档”时上传PDF（25MB以内），在页面上直接阅读，无需下载；修改时不选则保留原文件"),
        Field::new("minutes", "学习时长（分钟）", Kind::Text).value(v("minutes")).hint("不填则按正文长度估算"),
        Field::new("tags", "标签", Kind::Text).value(v("tags")).hint("用空格或顿号分隔，例如：党费 党章"),
        Field::new("required_due", "必学截止日期", Kind::Date)
            .value(v("required_due"))
            .hint("填写后即为发布范围内人员的必学内容"),
        body_format_field(first(f, "body_format")),
    ];
    if editing {
        fields.retain(|f| f.name != "org_id");
    }
    if let Some(e) = errors {
        apply_errors(&mut fields, e);
    }
    let stages = stage_choices(f);
    MaterialFormPage {
        chrome: Chrome::new(s, c, "learning"),
        fields,
        body: v("body"),
        body_error: errors.and_then(|e| e.get("body").cloned()),
        stages,
        stages_error: errors.and_then(|e| e.get("stages").cloned()),
        summary: errors.map(|e| format!("有{}处需要修改，请按提示修改后再保存。", e.len())),
        heading: "发布学习材料",
        action: "/learning/new".into(),
        submit: "发布",
        cancel: "/learning".into(),
        version: None,
        current_file: None,
    }
}

/// The edit form of a material: the publishing form without the organization, filled from `f`.
fn edit_page(
    s: &AppState,
    c: &Caller,
    m: &Material,
    f: &Pairs,
    errors: Option<&BTreeMap<String, String>>,
) -> MaterialFormPage {
    let mut page = form_page(s, c, Vec::new(), f, errors);
    page.heading = "修改学习材料";
    page.action = format!("/learning/{}/edit", m.id);
    page.submit = "保存修改";
    page.cancel = format!("/learning/{}", m.id);
    page.version = Some(first(f, "version").and_then(|v| v.parse().ok()).unwrap_or(m.version));
    page.current_file = m.file.as_ref().map(|file| {
        let kb = (file.size + 1023) / 1024;
        format!("{}（{kb} KB）", file.name)
    });
    page
}

/// A material as the form's pairs (what the edit form starts from).
fn pairs_of(m: &Material) -> Pairs {
    let mut f: Pairs = vec![
        ("title".into(), m.title.clone()),
        ("kind".into(), m.kind.code().into()),
        ("category".into(), m.category.code().into()),
        ("url".into(), m.url.clone().unwrap_or_default()),
        // An article's time is estimated from its text again; a link keeps its minutes.
        (
            "minutes".into(),
            if m.kind == MaterialKind::Article { String::new() } else { (m.required_seconds / 60).max(1).to_string() },
        ),
        ("tags".into(), m.tags.join(" ")),
        ("required_due".into(), m.required_due.map(kernel::dates::iso).unwrap_or_default()),
        ("body_format".into(), m.body_format.code().into()),
        ("body".into(), m.body.clone()),
        ("version".into(), m.version.to_string()),
    ];
    f.extend(m.stages.iter().map(|s| ("stage".to_string(), s.code().to_string())));
    f
}

/// The material if the caller may edit it (404 outside her reach, 403 when she only reads it).
async fn editable(s: &AppState, c: &Caller, id: i64) -> Result<Material, Response> {
    let m = Learning::new(&s.platform).get_material(&c.ctx, &c.actor, id).await.map_err(|e| fail(e, c))?;
    if !Learning::may_edit(&c.actor, &m) {
        let e = if m.withdrawn_at.is_some() {
            Error::Conflict("该学习材料已撤回，不能再修改")
        } else {
            Error::Forbidden
        };
        return Err(super::platform_error(&e, &c.ctx.request_id));
    }
    Ok(m)
}

/// `/learning/{id}/edit`: the form filled with the material (its publishers and staff above; others 403/404).
pub async fn material_edit_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match editable(&s, &c, id).await {
        Ok(m) => render(StatusCode::OK, &edit_page(&s, &c, &m, &pairs_of(&m), None)),
        Err(r) => r,
    }
}

/// Saves an edit; a refused input comes back beside its fields (422), nothing changed.
pub async fn material_edit_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, req: Request) -> Response {
    // Refused before the body is read when the caller may not edit it.
    if let Err(r) = editable(&s, &c, id).await {
        return r;
    }
    let (f, file) = match posted_form(&s, &c, req).await {
        Ok(form) => form,
        Err(r) => return r,
    };
    let learning = Learning::new(&s.platform);
    let mut input = input_of(&f);
    input.version = first(&f, "version").and_then(|v| v.parse().ok());
    match learning.update_material(&c.ctx, &c.actor, id, &input, upload_of(&file)).await {
        Ok(m) => Redirect::to(&format!("/learning/{}?updated=1", m.id)).into_response(),
        Err(learning::Error::Invalid(errors)) => match editable(&s, &c, id).await {
            Ok(m) => render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &edit_page(&s, &c, &m, &f, Some(&errors)).file_not_kept(file.is_some()),
            ),
            Err(r) => r,
        },
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "material_withdraw.html")]
struct WithdrawPage {
    chrome: Chrome,
    m: Material,
    reason: String,
    reason_error: Option<String>,
}

/// `/learning/{id}/withdraw`: what withdrawing does, the reason, and the confirmation.
pub async fn material_withdraw_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match editable(&s, &c, id).await {
        Ok(m) => {
            let page =
                WithdrawPage { chrome: Chrome::new(&s, &c, "learning"), m, reason: String::new(), reason_error: None };
            render(StatusCode::OK, &page)
        }
        Err(r) => r,
    }
}

/// Withdraws after the confirmation; without a reason the page comes back with its message (422).
pub async fn material_withdraw_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let input = WithdrawInput { reason: first(&f, "reason").map(str::to_string) };
    match Learning::new(&s.platform).withdraw_material(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/learning/{id}")).into_response(),
        Err(learning::Error::Invalid(errors)) => match editable(&s, &c, id).await {
            Ok(m) => {
                let page = WithdrawPage {
                    chrome: Chrome::new(&s, &c, "learning"),
                    m,
                    reason: input.reason.unwrap_or_default(),
                    reason_error: errors.get("reason").cloned(),
                };
                render(StatusCode::UNPROCESSABLE_ENTITY, &page)
            }
            Err(r) => r,
        },
        Err(e) => fail(e, &c),
    }
}

/// `/learning/new`: the publishing form (org staff and branch secretaries; others 403).
pub async fn material_new_get(State(s): State<AppState>, c: Caller) -> Response {
    if !Learning::may_publish(&c.actor) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    match Learning::new(&s.platform).publish_targets(&c.actor).await {
        Ok(t) => render(StatusCode::OK, &form_page(&s, &c, t, &Vec::new(), None)),
        Err(e) => fail(e, &c),
    }
}

fn input_of(f: &Pairs) -> MaterialInput {
    let opt = |k: &str| first(f, k).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let tags = first(f, "tags")
        .unwrap_or("")
        .split(|c: char| c.is_whitespace() || matches!(c, '、' | ',' | '，' | ';' | '；'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    MaterialInput {
        title: opt("title"),
        body: opt("body"),
        body_format: opt("body_format"),
        kind: opt("kind"),
        category: opt("category"),
        tags: Some(tags),
        url: opt("url"),
        minutes: opt("minutes").map(|m| m.parse().unwrap_or(-1)),
        org_id: opt("org_id").and_then(|v| v.parse().ok()),
        stages: Some(f.iter().filter(|(k, _)| k == "stage").map(|(_, v)| v.clone()).collect()),
        required_due: opt("required_due"),
        version: None,
        has_file: false,
    }
}

/// Publishes; a refused input comes back with every message beside its field (422), nothing lost (but
/// the chosen file, which a browser cannot refill).
pub async fn material_new_post(State(s): State<AppState>, c: Caller, req: Request) -> Response {
    let learning = Learning::new(&s.platform);
    // Refused before the body is read when the caller may publish nowhere.
    if let Err(e) = learning.check_may_publish(&c.ctx, &c.actor).await {
        return fail(e, &c);
    }
    let (f, file) = match posted_form(&s, &c, req).await {
        Ok(form) => form,
        Err(r) => return r,
    };
    match learning.create_material(&c.ctx, &c.actor, &input_of(&f), upload_of(&file)).await {
        Ok(m) => Redirect::to(&format!("/learning/{}?saved=1", m.id)).into_response(),
        Err(learning::Error::Invalid(errors)) => match learning.publish_targets(&c.actor).await {
            Ok(t) => render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(&s, &c, t, &f, Some(&errors)).file_not_kept(file.is_some()),
            ),
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}
