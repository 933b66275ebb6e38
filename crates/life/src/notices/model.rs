//! Notices as the API takes and shows them. The input arrives as optional strings, so every bad item gets its
//! own Chinese message at once; the body is kept as sanitized rich text (plain text becomes paragraphs).

use platform::code_list;
use platform::model::Stage;
use platform::richtext;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::model::FieldErrors;

/// The longest title (a notice title is a line: "关于开展2026年度民主评议党员工作的通知").
pub const MAX_TITLE_CHARS: usize = 100;
/// The longest body as written (a long notice with its attachments listed is a few thousand characters).
pub const MAX_BODY_CHARS: usize = 20_000;
/// The longest reason for a withdrawal.
pub const MAX_REASON_CHARS: usize = 500;

code_list! {
    /// Where a notice stands.
    NoticeState {
        Published = "published", "已发布";
        /// 撤回: its recipients no longer see it; the record and its receipts stay.
        Withdrawn = "withdrawn", "已撤回";
    }
}

/// A notice to publish.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NoticeInput {
    /// The publishing organization: the notice goes to the people of its subtree.
    pub org_id: Option<i64>,
    #[schema(example = "关于开展2026年度民主评议党员工作的通知")]
    pub title: Option<String>,
    /// Plain text (a blank line between paragraphs) or, with `body_format = "html"`, rich text that is sanitized
    /// before it is stored (scripts, event handlers, images and frames removed).
    pub body: Option<String>,
    /// `text` (default) or `html`.
    pub body_format: Option<String>,
    /// The stages it is for (`applicant`, `activist`, `candidate`, `probationary`, `full`); none: everyone.
    pub stages: Option<Vec<String>>,
    /// Whether recipients are asked to confirm reading it (回执); default true.
    pub needs_receipt: Option<bool>,
}

/// A notice that passed the checks that need no database.
#[derive(Clone, Debug)]
pub struct ValidNotice {
    pub org_id: i64,
    pub title: String,
    /// Sanitized HTML.
    pub body: String,
    pub stages: Vec<Stage>,
    pub needs_receipt: bool,
}

fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a notice; every bad item is reported at once under its field.
pub fn validate_notice(input: &NoticeInput) -> Result<ValidNotice, FieldErrors> {
    let mut e = FieldErrors::new();
    if input.org_id.is_none() {
        e.insert("org_id".into(), "请选择发布通知的党组织".into());
    }
    let title = match trimmed(&input.title) {
        None => {
            e.insert("title".into(), "请填写标题".into());
            String::new()
        }
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => {
            e.insert("title".into(), format!("标题不超过{MAX_TITLE_CHARS}字"));
            String::new()
        }
        Some(t) if t.chars().any(char::is_control) => {
            e.insert("title".into(), "标题不能含有换行或控制字符".into());
            String::new()
        }
        Some(t) => t.to_string(),
    };
    let html = match trimmed(&input.body_format) {
        None | Some("text") => false,
        Some("html") => true,
        Some(_) => {
            e.insert("body_format".into(), "正文格式应为 text（纯文本）或 html（富文本）".into());
            false
        }
    };
    let raw = input.body.as_deref().unwrap_or("").trim();
    let body = if html { richtext::sanitize_html(raw) } else { richtext::text_to_html(raw) };
    if raw.chars().count() > MAX_BODY_CHARS {
        e.insert("body".into(), format!("正文不超过{MAX_BODY_CHARS}字"));
    } else if richtext::html_to_text(&body).trim().is_empty() {
        e.insert("body".into(), "请填写正文".into());
    }
    let mut stages = Vec::new();
    for s in input.stages.iter().flatten() {
        match Stage::parse(s) {
            Some(st) if !stages.contains(&st) => stages.push(st),
            Some(_) => {}
            None => {
                let all: Vec<&str> = Stage::ALL.iter().map(|s| s.code()).collect();
                e.insert("stages".into(), format!("面向对象应为：{}", all.join("、")));
            }
        }
    }
    stages.sort();
    if !e.is_empty() {
        return Err(e);
    }
    Ok(ValidNotice {
        org_id: input.org_id.unwrap_or_default(),
        title,
        body,
        stages,
        needs_receipt: input.needs_receipt.unwrap_or(true),
    })
}

/// Why a notice is withdrawn.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct WithdrawInput {
    #[schema(example = "时间调整，另行通知")]
    pub reason: Option<String>,
}

/// Checks a withdrawal's reason (required: the recipients' secretaries see why a notice they acted on is gone).
pub fn validate_withdrawal(input: &WithdrawInput) -> Result<String, FieldErrors> {
    match trimmed(&input.reason) {
        None => Err(FieldErrors::from([("reason".into(), "请填写撤回原因".into())])),
        Some(r) if r.chars().count() > MAX_REASON_CHARS => {
            Err(FieldErrors::from([("reason".into(), format!("撤回原因不超过{MAX_REASON_CHARS}字"))]))
        }
        Some(r) => Ok(r.to_string()),
    }
}

/// The receipts of one organization's people (the whole subtree below it that the caller reaches).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReceiptLine {
    pub org_id: i64,
    pub org_name: String,
    /// People it was sent to.
    pub total: i64,
    /// Of them, who confirmed reading it.
    pub read: i64,
}

/// The receipts the caller may see: of the whole notice for its publisher's side, of her own subtree for a
/// secretary below.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Receipts {
    /// The organization these receipts are of (the notice's, or the caller's own below it).
    pub org_id: i64,
    pub org_name: String,
    pub total: i64,
    pub read: i64,
    /// One line per organization directly below `org_id` that has recipients (its people counted with all
    /// below it), and one for `org_id`'s own people when it has any.
    pub lines: Vec<ReceiptLine>,
}

/// A person who has not confirmed yet.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Unread {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
}

/// A notice.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Notice {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub title: String,
    /// Sanitized rich text.
    pub body: String,
    pub stages: Vec<Stage>,
    /// "全体人员" or the stages' labels.
    pub audience: String,
    pub needs_receipt: bool,
    pub state: NoticeState,
    pub state_label: &'static str,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdraw_reason: Option<String>,
    /// How many people it was sent to.
    pub recipients: i64,
    /// Whether the caller is one of them.
    pub to_me: bool,
    /// When the caller confirmed reading it (only when `to_me`).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub my_read_at: Option<OffsetDateTime>,
    /// Receipts, for a caller who oversees the notice's recipients (not for a plain recipient).
    pub receipts: Option<Receipts>,
    /// Whether the caller may withdraw it.
    pub can_withdraw: bool,
    pub version: i64,
    /// The meeting it is about (会议通知, sent to that meeting's attendees), or `null`.
    pub meeting_id: Option<i64>,
}

/// A line of a notice list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticeSummary {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub title: String,
    pub needs_receipt: bool,
    pub state: NoticeState,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
    /// People it was sent to, and of them who confirmed (the whole notice).
    pub recipients: i64,
    pub read: i64,
    /// For a notice sent to the caller: whether she confirmed.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub my_read_at: Option<OffsetDateTime>,
}

/// The notices a caller sees.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NoticeList {
    /// Sent to the caller (published ones), latest first.
    pub received: Vec<NoticeSummary>,
    /// Published by organizations in the caller's reach (staff, secretaries, leaders), latest first.
    pub published: Vec<NoticeSummary>,
    /// Published above the caller's organizations and reaching them: their receipts are on the notice page.
    pub from_above: Vec<NoticeSummary>,
    /// Of `received`, how many still wait for the caller's confirmation.
    pub unconfirmed: i64,
}

/// "全体人员" or the stages' labels joined.
pub fn audience_label(stages: &[Stage]) -> String {
    if stages.is_empty() {
        "本组织全体人员".into()
    } else {
        stages.iter().map(|s| s.label()).collect::<Vec<_>>().join("、")
    }
}

/// Who a notice about a meeting goes to.
pub const MEETING_AUDIENCE: &str = "会议参会人员";

/// The stages column as stored: ",full,probationary," (empty for everyone), so one `LIKE` finds a stage.
pub fn stages_column(stages: &[Stage]) -> String {
    if stages.is_empty() {
        String::new()
    } else {
        format!(",{},", stages.iter().map(|s| s.code()).collect::<Vec<_>>().join(","))
    }
}

/// The stages column read back.
pub fn parse_stages_column(v: &str) -> Vec<Stage> {
    v.split(',').filter_map(Stage::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NoticeInput {
        NoticeInput {
            org_id: Some(5),
            title: Some(" 关于开展主题党日活动的通知 ".into()),
            body: Some("各党支部：\n\n请于本月底前开展主题党日活动。".into()),
            ..NoticeInput::default()
        }
    }

    #[test]
    fn a_plain_notice_becomes_paragraphs_and_asks_for_receipts() {
        let v = validate_notice(&input()).unwrap();
        assert_eq!(v.title, "关于开展主题党日活动的通知");
        assert_eq!(v.body, "<p>各党支部：</p><p>请于本月底前开展主题党日活动。</p>");
        assert!(v.needs_receipt && v.stages.is_empty());
    }

    #[test]
    fn every_bad_item_is_reported_at_once() {
        let bad = NoticeInput {
            org_id: None,
            title: Some("标".repeat(101)),
            body: Some("<script>alert(1)</script>".into()),
            body_format: Some("html".into()),
            stages: Some(vec!["member".into()]),
            needs_receipt: None,
        };
        let e = validate_notice(&bad).unwrap_err();
        for f in ["org_id", "title", "body", "stages"] {
            assert!(e.contains_key(f), "{f} missing from {e:?}");
        }
        assert_eq!(e["body"], "请填写正文", "a body that is only script is empty once sanitized");
    }

    #[test]
    fn rich_text_is_sanitized_and_stages_are_kept_in_order() {
        let v = validate_notice(&NoticeInput {
            body: Some(r#"<p>请<img src=x onerror=alert(1)>按时参加<a href="javascript:alert(1)">此处</a></p><svg onload=alert(1)>"#.into()),
            body_format: Some("html".into()),
            stages: Some(vec!["full".into(), "预备党员".into(), "full".into()]),
            ..input()
        })
        .unwrap();
        for bad in ["onerror", "javascript", "<img", "svg", "onload"] {
            assert!(!v.body.contains(bad), "{bad} in {}", v.body);
        }
        assert_eq!(v.stages, vec![Stage::Probationary, Stage::Full]);
        assert_eq!(stages_column(&v.stages), ",probationary,full,");
        assert_eq!(parse_stages_column(",probationary,full,"), v.stages);
        assert_eq!(audience_label(&v.stages), "预备党员、正式党员");
        assert!(parse_stages_column("").is_empty());
    }

    #[test]
    fn a_withdrawal_needs_a_reason() {
        assert!(validate_withdrawal(&WithdrawInput { reason: Some("  ".into()) }).is_err());
        assert_eq!(validate_withdrawal(&WithdrawInput { reason: Some(" 另行通知 ".into()) }).unwrap(), "另行通知");
    }
}
