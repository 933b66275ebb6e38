//! The types of 学习教育, parsed at the boundary: the kinds and categories of materials, a material as the
//! API takes it ([`MaterialInput`], every bad item reported at once by [`validate_material`]) and shows it,
//! learning progress, search results and recommendations. Code lists are stored as stable English codes
//! and shown with Chinese labels.

use std::collections::BTreeMap;

use platform::model::Stage;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use crate::{rules, text};

/// Field name → Chinese message, every bad item of one request at once.
pub type FieldErrors = BTreeMap<String, String>;

use platform::code_list;

code_list! {
    /// What a material is (api-contract.md "Learning and search": `kind`).
    MaterialKind {
        /// An article read on the page (plain text or sanitized rich text).
        Article = "article", "文章";
        /// A document: an uploaded PDF read in the browser, or one behind a link.
        Document = "document", "文档";
        /// A video behind a link.
        Video = "video", "视频";
        /// A live stream behind a link.
        Live = "live", "直播";
    }
}

code_list! {
    /// The shelves of the learning page.
    Category {
        Theory = "theory", "理论学习";
        History = "history", "党史学习";
        Discipline = "discipline", "党纪党规";
        Policy = "policy", "形势政策";
        Practice = "practice", "党务实务";
    }
}

code_list! {
    /// How an article's body is written.
    BodyFormat {
        /// Shown as written (escaped), paragraphs at line breaks.
        Text = "text", "纯文本";
        /// Rich text, sanitized with ammonia before it is stored.
        Html = "html", "富文本";
    }
}

/// The most tags a material carries, and the longest tag.
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 12;
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BODY_CHARS: usize = 200_000;

/// A new material, as the API and the form take it. Only `title`, `body` and `kind` are needed for an
/// article; a video or live stream needs its `url`, a document its `url` or an uploaded PDF.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct MaterialInput {
    #[schema(example = "党员教育管理工作条例学习")]
    pub title: Option<String>,
    /// The article (or a description of the link). Plain text unless `body_format` is `html`.
    #[schema(example = "按时交纳党费是党员的义务。")]
    pub body: Option<String>,
    /// `text` (default) or `html` (sanitized: scripts, event handlers and `javascript:` links are removed).
    pub body_format: Option<String>,
    /// article, document, video, live.
    #[schema(example = "article")]
    pub kind: Option<String>,
    /// theory (default), history, discipline, policy, practice.
    pub category: Option<String>,
    #[schema(example = json!(["党费"]))]
    pub tags: Option<Vec<String>>,
    /// The document, video or live stream (http or https). A document uploaded as a PDF needs none.
    pub url: Option<String>,
    /// How long studying it takes, in minutes (default: estimated from the article's length).
    pub minutes: Option<i64>,
    /// The organization whose subtree the material is published to (default: the widest organization where
    /// the caller may publish).
    pub org_id: Option<i64>,
    /// Only people at these stages (e.g. `["activist"]` for 入党积极分子); default everyone in the subtree.
    pub stages: Option<Vec<String>>,
    /// Makes it required learning for its audience, due on this day (YYYY-MM-DD).
    pub required_due: Option<String>,
    /// When editing: the version the editor started from (a newer one saved meanwhile is 409). Ignored when
    /// publishing.
    pub version: Option<i64>,
    /// Set by the service, never by the caller: a PDF comes with this request or the material already shows
    /// one, so a document needs no `url`.
    #[serde(skip)]
    pub has_file: bool,
}

/// A PDF uploaded with a material (the form's file field, or the API's multipart part / raw body).
#[derive(Clone, Copy, Debug)]
pub struct Upload<'a> {
    /// The name the browser or the caller gave (neutralised by the platform's checks).
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// The PDF a document material shows: read in the browser (`url` serves it; the page draws it with pdf.js).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MaterialFile {
    pub id: i64,
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// Its address for whoever may read the material: `/api/v1/learning/materials/{id}/file`.
    pub url: String,
}

/// Withdrawing a material: why (shown on it and kept with the audit).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct WithdrawInput {
    #[schema(example = "内容已过时，请学习新版")]
    pub reason: Option<String>,
}

/// The longest withdrawal reason (characters).
pub const MAX_REASON_CHARS: usize = 200;

/// Checks a withdrawal reason: required, at most [`MAX_REASON_CHARS`].
pub fn validate_reason(input: &WithdrawInput) -> Result<String, FieldErrors> {
    let reason = trimmed(&input.reason).unwrap_or("");
    let mut e = FieldErrors::new();
    if reason.is_empty() {
        e.insert("reason".into(), "请填写撤回原因".into());
    } else if reason.chars().count() > MAX_REASON_CHARS {
        e.insert("reason".into(), format!("撤回原因最多{MAX_REASON_CHARS}个字"));
    }
    if e.is_empty() { Ok(reason.to_string()) } else { Err(e) }
}

/// A replaced version of a material, as its publishers see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MaterialVersion {
    pub version: i64,
    pub title: String,
    pub body_format: BodyFormat,
    pub body: String,
    pub url: Option<String>,
    /// The uploaded PDF this version showed (kept when a new one replaced it).
    pub file_id: Option<i64>,
    pub tags: Vec<String>,
    /// The account that replaced it with the next version.
    pub replaced_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub replaced_at: OffsetDateTime,
}

/// A material that passed validation, ready to store.
#[derive(Clone, Debug)]
pub struct ValidMaterial {
    pub title: String,
    pub kind: MaterialKind,
    pub category: Category,
    pub body_format: BodyFormat,
    /// As stored: plain text, or sanitized HTML.
    pub body: String,
    /// The body as plain text (for the index, keywords and the estimate).
    pub body_text: String,
    pub url: Option<String>,
    pub tags: Vec<String>,
    pub stages: Vec<Stage>,
    pub required_due: Option<Date>,
    pub est_seconds: i64,
    pub org_id: Option<i64>,
}

fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a material; every bad item is reported at once under its field.
pub fn validate_material(input: &MaterialInput, today: Date) -> Result<ValidMaterial, FieldErrors> {
    let mut e = FieldErrors::new();
    let title = match trimmed(&input.title) {
        None => {
            e.insert("title".into(), "请填写标题".into());
            String::new()
        }
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => {
            e.insert("title".into(), format!("标题不超过{MAX_TITLE_CHARS}个字"));
            String::new()
        }
        Some(t) => t.to_string(),
    };
    let kind = match trimmed(&input.kind) {
        None => {
            e.insert("kind".into(), "请选择材料类型：文章、文档、视频或直播".into());
            MaterialKind::Article
        }
        Some(k) => MaterialKind::parse(k).unwrap_or_else(|| {
            e.insert(
                "kind".into(),
                "材料类型应为 article（文章）、document（文档）、video（视频）或 live（直播）".into(),
            );
            MaterialKind::Article
        }),
    };
    let category = match trimmed(&input.category) {
        None => Category::Theory,
        Some(c) => Category::parse(c).unwrap_or_else(|| {
            let all: Vec<&str> = Category::ALL.iter().map(|c| c.label()).collect();
            e.insert("category".into(), format!("栏目应为：{}", all.join("、")));
            Category::Theory
        }),
    };
    let body_format = match trimmed(&input.body_format) {
        None => BodyFormat::Text,
        Some(f) => BodyFormat::parse(f).unwrap_or_else(|| {
            e.insert("body_format".into(), "正文格式应为 text（纯文本）或 html（富文本）".into());
            BodyFormat::Text
        }),
    };
    let raw_body = input.body.as_deref().unwrap_or("").trim();
    let (body, body_text) = match body_format {
        BodyFormat::Text => (raw_body.to_string(), raw_body.to_string()),
        BodyFormat::Html => {
            let clean = text::sanitize_html(raw_body);
            let plain = text::html_to_text(&clean);
            (clean, plain)
        }
    };
    if raw_body.chars().count() > MAX_BODY_CHARS {
        e.insert("body".into(), format!("正文不超过{MAX_BODY_CHARS}字"));
    } else if kind == MaterialKind::Article && body_text.trim().is_empty() {
        e.insert("body".into(), "请填写正文".into());
    }
    let url = match trimmed(&input.url) {
        None => {
            if kind == MaterialKind::Document && !input.has_file {
                e.insert("url".into(), "文档须上传PDF文件或填写链接地址（以 http:// 或 https:// 开头）".into());
            } else if kind != MaterialKind::Article && kind != MaterialKind::Document {
                e.insert("url".into(), format!("{}须填写链接地址（以 http:// 或 https:// 开头）", kind.label()));
            }
            None
        }
        Some(u) => {
            let lower = u.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                e.insert("url".into(), "链接地址应以 http:// 或 https:// 开头".into());
            } else if u.chars().count() > 500 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
                e.insert("url".into(), "链接地址过长或含有空格".into());
            }
            Some(u.to_string())
        }
    };
    let mut tags: Vec<String> = Vec::new();
    for t in input.tags.iter().flatten() {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_TAG_CHARS || t.contains(',') || t.contains('，') {
            e.insert("tags".into(), format!("每个标签不超过{MAX_TAG_CHARS}个字，且不含逗号"));
        } else if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    if tags.len() > MAX_TAGS {
        e.insert("tags".into(), format!("标签不超过{MAX_TAGS}个"));
    }
    let minutes = match input.minutes {
        Some(m) if !(1..=600).contains(&m) => {
            e.insert("minutes".into(), "学习时长应为1至600分钟".into());
            None
        }
        other => other,
    };
    let stages = parse_stages(&input.stages, &mut e);
    let required_due = match trimmed(&input.required_due) {
        None => None,
        Some(d) => match kernel::dates::parse_iso(d) {
            None => {
                e.insert("required_due".into(), "截止日期格式应为 YYYY-MM-DD，例如 2026-06-30".into());
                None
            }
            Some(d) if d < today => {
                e.insert("required_due".into(), "截止日期不能早于今天".into());
                None
            }
            Some(d) => Some(d),
        },
    };
    if !e.is_empty() {
        return Err(e);
    }
    let est_seconds = rules::estimate_seconds(kind, body_text.chars().filter(|c| !c.is_whitespace()).count(), minutes);
    Ok(ValidMaterial {
        title,
        kind,
        category,
        body_format,
        body,
        body_text,
        url,
        tags,
        stages,
        required_due,
        est_seconds,
        org_id: input.org_id,
    })
}

/// Stages named by an input (codes or Chinese names), in the order of the stage list; an unknown one is an
/// error under `stages`.
pub fn parse_stages(input: &Option<Vec<String>>, e: &mut FieldErrors) -> Vec<Stage> {
    let mut stages = Vec::new();
    for s in input.iter().flatten().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match Stage::parse(s) {
            Some(st) if !stages.contains(&st) => stages.push(st),
            Some(_) => {}
            None => {
                e.insert("stages".into(), "面向对象应为入党申请人、入党积极分子、发展对象、预备党员或正式党员".into());
            }
        }
    }
    stages.sort_by_key(|s| Stage::ALL.iter().position(|x| x == s));
    stages
}

/// Tags as stored: `,a,b,` ('' without tags), so one tag is a `LIKE '%,a,%'` away.
pub fn tags_column(tags: &[String]) -> String {
    if tags.is_empty() { String::new() } else { format!(",{},", tags.join(",")) }
}

pub fn tags_of(column: &str) -> Vec<String> {
    column.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// Stages as stored: `,activist,candidate,`, or NULL for everyone.
pub fn stages_column(stages: &[Stage]) -> Option<String> {
    if stages.is_empty() {
        None
    } else {
        let codes: Vec<&str> = stages.iter().map(|s| s.code()).collect();
        Some(format!(",{},", codes.join(",")))
    }
}

pub fn stages_of(column: Option<&str>) -> Vec<Stage> {
    column.unwrap_or("").split(',').filter_map(Stage::parse).collect()
}

/// A material as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Material {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: MaterialKind,
    pub kind_label: &'static str,
    pub category: Category,
    pub category_label: &'static str,
    pub title: String,
    pub body_format: BodyFormat,
    /// Plain text, or sanitized HTML when `body_format` is `html`.
    pub body: String,
    pub url: Option<String>,
    /// The uploaded PDF of a document, read in the browser.
    pub file: Option<MaterialFile>,
    pub tags: Vec<String>,
    /// The stages the material is for; empty: everyone in the organization's subtree.
    pub stages: Vec<Stage>,
    /// Required learning for its audience, due on this day.
    #[schema(value_type = Option<String>, format = Date)]
    pub required_due: Option<Date>,
    /// Active reading time after which it counts as studied.
    pub required_seconds: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The caller's own progress (when the account belongs to a person in the audience).
    pub progress: Option<Progress>,
    /// 1 when published, raised by each edit (the earlier ones: `GET …/materials/{id}/versions`).
    pub version: i64,
    /// Set when its publisher withdrew it: no longer listed, searched or recommended; records stay.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdrawn_reason: Option<String>,
    #[serde(skip)]
    pub org_path: String,
}

/// A line of the material list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MaterialSummary {
    pub id: i64,
    pub org_name: String,
    pub kind: MaterialKind,
    pub kind_label: &'static str,
    pub category: Category,
    pub category_label: &'static str,
    pub title: String,
    pub tags: Vec<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub required_due: Option<Date>,
    pub required_seconds: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The caller's studied seconds, and whether it counts as studied.
    pub seconds: i64,
    pub completed: bool,
}

/// The materials a caller may read, latest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MaterialList {
    pub items: Vec<MaterialSummary>,
}

/// One heartbeat from the reading page.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ProgressInput {
    /// Seconds of visible, active reading since the page's previous heartbeat (the first heartbeat of a
    /// visit starts the clock and counts nothing). At most 30 count per heartbeat, and never more than the
    /// time since the previous one.
    #[schema(example = 15)]
    pub seconds: Option<i64>,
}

/// A person's progress on one material.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Progress {
    pub material_id: i64,
    /// Active reading seconds credited so far.
    pub seconds: i64,
    /// What counts as studied.
    pub required_seconds: i64,
    pub completed: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
}

/// One search result (api-contract.md: `{"type", "id", "title", "snippet"}`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// `material`, `notice` or `person`.
    #[serde(rename = "type")]
    #[schema(example = "material")]
    pub kind: &'static str,
    pub id: i64,
    pub title: String,
    /// HTML-escaped text around the first hit, the matched words wrapped in `<mark>` (added after escaping,
    /// so the snippet can be shown as HTML as it is).
    #[schema(example = "按时交纳<mark>党费</mark>是党员的义务。")]
    pub snippet: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub results: Vec<SearchHit>,
}

/// One recommended material with the reason, in Chinese.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RecommendationItem {
    pub material_id: i64,
    pub title: String,
    #[schema(example = "因为你学习了《党章学习》")]
    pub reason: String,
    /// required, continue, content, collaborative, branch, fresh.
    pub reason_code: &'static str,
    pub kind_label: &'static str,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Recommendations {
    pub person_id: i64,
    pub items: Vec<RecommendationItem>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn article(title: &str, body: &str) -> MaterialInput {
        MaterialInput {
            title: Some(title.into()),
            body: Some(body.into()),
            kind: Some("article".into()),
            ..MaterialInput::default()
        }
    }

    #[test]
    fn an_article_needs_a_title_and_a_body() {
        let e = validate_material(
            &MaterialInput { kind: Some("article".into()), ..Default::default() },
            date!(2026 - 1 - 1),
        )
        .unwrap_err();
        assert!(e.contains_key("title") && e.contains_key("body"));
        let v = validate_material(&article("党费", "按时交纳党费是党员的义务。"), date!(2026 - 1 - 1)).unwrap();
        assert_eq!(v.category, Category::Theory);
        assert!(v.est_seconds >= rules::MIN_SECONDS);
    }

    #[test]
    fn every_bad_item_is_reported_at_once() {
        let input = MaterialInput {
            title: Some("标".repeat(101)),
            kind: Some("podcast".into()),
            category: Some("娱乐".into()),
            url: Some("javascript:alert(1)".into()),
            tags: Some(vec!["一个非常非常非常非常长的标签".into()]),
            minutes: Some(0),
            stages: Some(vec!["群众".into()]),
            required_due: Some("2025-13-01".into()),
            ..Default::default()
        };
        let e = validate_material(&input, date!(2026 - 1 - 1)).unwrap_err();
        for f in ["title", "kind", "category", "url", "tags", "minutes", "stages", "required_due"] {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
    }

    #[test]
    fn links_need_a_web_address_and_due_dates_lie_ahead() {
        let mut v = MaterialInput { title: Some("微党课".into()), kind: Some("video".into()), ..Default::default() };
        assert!(validate_material(&v, date!(2026 - 1 - 1)).unwrap_err().contains_key("url"));
        v.url = Some("https://example.edu.cn/v/1".into());
        v.required_due = Some("2025-12-31".into());
        assert!(validate_material(&v, date!(2026 - 1 - 1)).unwrap_err().contains_key("required_due"));
        v.required_due = Some("2026-01-01".into());
        v.stages = Some(vec!["入党积极分子".into(), "activist".into()]);
        let ok = validate_material(&v, date!(2026 - 1 - 1)).unwrap();
        assert_eq!(ok.stages, vec![Stage::Activist]);
        assert_eq!(stages_column(&ok.stages).as_deref(), Some(",activist,"));
    }

    #[test]
    fn rich_text_is_sanitized_before_it_is_stored() {
        let mut input = article(
            "XSS",
            "<p onclick=\"x()\">按时交纳党费</p><script>alert(1)</script><a href=\"javascript:alert(2)\">链接</a>",
        );
        input.body_format = Some("html".into());
        let v = validate_material(&input, date!(2026 - 1 - 1)).unwrap();
        assert!(
            !v.body.contains("script") && !v.body.contains("onclick") && !v.body.contains("javascript"),
            "{}",
            v.body
        );
        assert!(v.body.contains("<p>按时交纳党费</p>"), "{}", v.body);
        assert!(v.body_text.contains("按时交纳党费") && !v.body_text.contains('<'));
    }

    #[test]
    fn tags_round_trip_through_their_column() {
        let tags = vec!["党费".to_string(), "党章".to_string()];
        assert_eq!(tags_column(&tags), ",党费,党章,");
        assert_eq!(tags_of(",党费,党章,"), tags);
        assert!(tags_of("").is_empty());
    }
}
