//! Transfers of the organizational relationship (组织关系转接), introduction letters (介绍信) and member
//! status (党籍状态): the code lists, the inputs as they arrive (strings, so every bad item gets its own
//! Chinese message) and the answers the API and the pages show.

use platform::code_list;
use platform::model::Status;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use super::FieldErrors;
use crate::rules::{Finding, YearMonth};

code_list! {
    /// Where a relationship goes.
    TransferKind {
        Internal = "internal", "校内转接";
        Out = "out", "转出";
        In = "in", "转入";
    }
}

code_list! {
    /// Where a transfer stands. `accepted` means: internal — the person moved; out — the receipt (回执) came
    /// back; in — the person was placed.
    TransferState {
        Pending = "pending", "待接收";
        Accepted = "accepted", "已接收";
        Returned = "returned", "已退回";
        Cancelled = "cancelled", "已撤回";
    }
}

code_list! {
    /// An introduction letter's standing.
    LetterState {
        Current = "current", "有效";
        Superseded = "superseded", "已补开新信，原信作废";
        Void = "void", "已作废";
    }
}

code_list! {
    /// How a member away was reached (TRF-03/04).
    ContactChannel {
        Phone = "phone", "电话";
        Wechat = "wechat", "微信";
        Email = "email", "电子邮件";
        Visit = "visit", "走访";
        Letter = "letter", "信函";
        Other = "other", "其他";
    }
}

/// The label of a transfer's state as each side reads it (TRF-01: a letter sent and not yet received leaves
/// the member "转出待接收" under the sending branch).
pub fn state_label(kind: TransferKind, state: TransferState) -> &'static str {
    use TransferKind::*;
    use TransferState::*;
    match (kind, state) {
        (Internal, Pending) => "待接收",
        (Internal, Accepted) => "已接收（已转入）",
        (Out, Pending) => "转出待接收",
        (Out, Accepted) => "已转出（回执已收到）",
        (In, _) => "已转入",
        (_, Returned) => "已退回",
        (_, Cancelled) => "已撤回",
    }
}

/// The longest free text kept (reasons, notes, organization names).
pub const TEXT_MAX: usize = 200;

/// A new transfer, as the API and the form send it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct TransferInput {
    /// internal (to another branch of the university) or out (to an organization elsewhere, with a letter).
    #[schema(example = "internal")]
    pub kind: Option<String>,
    #[schema(example = 12)]
    pub person_id: Option<i64>,
    /// internal: the receiving branch (or group, or 党总支) of the university.
    pub to_org_id: Option<i64>,
    /// out: the receiving organization's full name, as the letter is addressed.
    #[schema(example = "中共杭州市西湖区委员会组织部")]
    pub external_org: Option<String>,
    #[schema(example = "毕业后到杭州市工作")]
    pub reason: Option<String>,
    pub note: Option<String>,
    /// The day the transfer (and its letter) is issued, `YYYY-MM-DD`; default today; never in the future.
    pub initiated_on: Option<String>,
    /// out: the letter's validity in days (TRF-02: default 30, at most 90).
    #[schema(example = 30)]
    pub valid_days: Option<u32>,
    /// out: the month the dues are paid up to, `YYYY-MM` (printed on the letter); default: the last month the
    /// dues ledger has paid (or exempt), none when it keeps no dues for her.
    #[schema(example = "2025-06")]
    pub fee_paid_through: Option<String>,
}

/// An incoming letter: the letter's items and the person to place (the platform's person fields).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct IncomingInput {
    /// The organization that issued the letter.
    #[schema(example = "中共某某大学委员会组织部")]
    pub from_org: Option<String>,
    /// The number printed on the letter.
    #[schema(example = "2025-0312")]
    pub letter_number: Option<String>,
    /// `YYYY-MM-DD`.
    pub issued_on: Option<String>,
    /// The validity printed on the letter, in days (default 30).
    pub valid_days: Option<u32>,
    /// The day the member presented it; default today. An expired letter is refused (TRF-02: reissue).
    pub presented_on: Option<String>,
    /// `YYYY-MM`.
    pub fee_paid_through: Option<String>,
    #[schema(example = "研究生入学")]
    pub reason: Option<String>,
    pub note: Option<String>,
    /// The person as `POST /api/v1/people` takes her; `org_id` is the receiving branch.
    #[schema(value_type = Object)]
    pub person: Option<platform::rules::PersonInput>,
}

/// A decision by the receiving side, or the sender's withdrawal.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct DecisionInput {
    /// Required to return a transfer; optional to accept or withdraw.
    #[schema(example = "该同志不属于本支部，请核实接收支部")]
    pub reason: Option<String>,
    /// `YYYY-MM-DD`, default today.
    pub on: Option<String>,
}

/// The receipt (回执) of an outgoing letter.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ReceiptInput {
    /// The day the receipt came back, `YYYY-MM-DD` (default today).
    pub received_on: Option<String>,
    pub note: Option<String>,
}

/// A new letter for an expired one (TRF-03: within 6 months of the transfer out).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ReissueInput {
    #[schema(example = "原介绍信因就业单位变更未能按期报到，已过有效期")]
    pub reason: Option<String>,
    /// `YYYY-MM-DD`, default today.
    pub issued_on: Option<String>,
    pub valid_days: Option<u32>,
}

/// The person as a transfer shows her to both sides (masked; enough to decide, nothing more).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransferPerson {
    pub id: i64,
    pub name: String,
    pub gender_label: String,
    pub stage_label: String,
    pub category_label: String,
    pub status: Status,
    pub id_number_masked: String,
}

/// One introduction letter.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Letter {
    pub id: i64,
    /// out (issued here) or in (recorded).
    pub direction: String,
    pub number: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Date,
    pub valid_days: i64,
    #[schema(value_type = String, format = Date)]
    pub valid_until: Date,
    pub state: LetterState,
    pub state_label: &'static str,
    pub reissue_reason: Option<String>,
    pub from_org_name: String,
    pub to_org_name: String,
    pub issuer_name: String,
    pub fee_paid_through: Option<String>,
}

/// A transfer as both sides see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Transfer {
    pub id: i64,
    pub kind: TransferKind,
    pub kind_label: &'static str,
    pub state: TransferState,
    pub state_label: &'static str,
    pub person: TransferPerson,
    pub from_org_id: Option<i64>,
    pub from_org_name: Option<String>,
    pub to_org_id: Option<i64>,
    pub to_org_name: Option<String>,
    /// The organization outside the university (out: receiving; in: sending).
    pub external_org: Option<String>,
    pub reason: String,
    pub note: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub initiated_on: Date,
    pub fee_paid_through: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub decided_on: Option<Date>,
    pub return_reason: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub receipt_on: Option<Date>,
    pub receipt_note: Option<String>,
    pub letters: Vec<Letter>,
    /// TRF-02/03 findings today: an expired letter, the reissue window, a receipt overdue.
    pub flags: Vec<Finding>,
    /// TRF-02/03 deadlines of the current letter.
    pub deadlines: crate::rules::transfer::TransferDeadlines,
    /// What the caller may do now (for the buttons; the service checks again).
    pub can_accept: bool,
    pub can_cancel: bool,
    pub can_receipt: bool,
    pub can_reissue: bool,
    pub version: i64,
}

/// A list of transfers of one organization's subtree.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransferList {
    /// Transfers reaching the subtree (the receiving side: accept or return).
    pub incoming: Vec<Transfer>,
    /// Transfers leaving the subtree (the sending side).
    pub outgoing: Vec<Transfer>,
    /// More than the list limit: the oldest closed ones were left out.
    pub truncated: bool,
}

/// A status change as the API takes it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct StatusInput {
    /// normal, floating (流动党员), abroad (出国（境）), lost_contact (失联), suspended (停止党籍, decided by the
    /// branch or higher), deceased, left.
    #[schema(example = "abroad")]
    pub status: Option<String>,
    /// `YYYY-MM-DD`; not in the future.
    pub effective_on: Option<String>,
    #[schema(example = "赴英国攻读博士学位")]
    pub reason: Option<String>,
    /// Where the member is (流动去向, the country or region abroad).
    pub place: Option<String>,
    /// floating: at a relatively fixed place (TRF-01).
    pub fixed_place: Option<bool>,
    /// The expected end of the stay, `YYYY-MM-DD`.
    pub expected_until: Option<String>,
    /// The 《流动党员活动证》 number.
    pub certificate_no: Option<String>,
    /// suspended / restored: the body and meeting that decided (e.g. "支部党员大会 2025-09-01").
    pub decided_by: Option<String>,
}

/// A contact with a member away.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ContactInput {
    pub contacted_on: Option<String>,
    /// phone, wechat, email, visit, letter, other.
    pub channel: Option<String>,
    pub note: Option<String>,
}

/// The start or the end of a graduate's retention at the university (TRF-03).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct RetentionInput {
    /// start: the day the relationship began to be kept; end: the day it ended.
    pub on: Option<String>,
    #[schema(example = "毕业后暂未落实工作单位，本人申请组织关系保留在学校")]
    pub reason: Option<String>,
}

/// One entry of a member's status history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatusChange {
    pub id: i64,
    pub from_status: Status,
    pub from_label: &'static str,
    pub to_status: Status,
    pub to_label: &'static str,
    #[schema(value_type = String, format = Date)]
    pub effective_on: Date,
    pub reason: String,
    pub place: Option<String>,
    pub fixed_place: Option<bool>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expected_until: Option<Date>,
    pub certificate_no: Option<String>,
    pub decided_by: Option<String>,
    pub recorded_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: i64,
    #[schema(value_type = String, format = Date)]
    pub contacted_on: Date,
    pub channel: ContactChannel,
    pub channel_label: &'static str,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Retention {
    pub id: i64,
    #[schema(value_type = String, format = Date)]
    pub since: Date,
    pub reason: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
    pub end_reason: Option<String>,
    /// TRF-03: the relationship should have left the university by this day.
    #[schema(value_type = String, format = Date)]
    pub retention_ends: Date,
}

/// A member's status card: where she stands, since when, the clocks of TRF-01/03/04 and the flags they
/// raise for the branch (never a decision, C7), the history, contacts, retention and open transfer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StatusCard {
    pub person: TransferPerson,
    pub org_id: i64,
    pub org_name: String,
    pub status: Status,
    pub status_label: &'static str,
    /// The day the current status took effect (from its history), when recorded.
    #[schema(value_type = Option<String>, format = Date)]
    pub since: Option<Date>,
    pub flags: Vec<Finding>,
    pub deadlines: crate::rules::status::StatusDeadlines,
    /// The latest contact, organizational life attended and dues payment known to the platform.
    #[schema(value_type = Option<String>, format = Date)]
    pub last_contact_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub last_life_on: Option<Date>,
    pub history: Vec<StatusChange>,
    pub contacts: Vec<Contact>,
    pub retentions: Vec<Retention>,
    pub transfers: Vec<Transfer>,
    /// Whether the caller may record changes (buttons; the service checks again).
    pub can_write: bool,
}

/// One line of an organization's status board: a member whose status or retention raises a flag or needs
/// watching.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BoardLine {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub status: Status,
    pub status_label: &'static str,
    #[schema(value_type = Option<String>, format = Date)]
    pub since: Option<Date>,
    /// Retained graduate since (TRF-03).
    #[schema(value_type = Option<String>, format = Date)]
    pub retained_since: Option<Date>,
    pub flags: Vec<Finding>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Board {
    pub org_id: i64,
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    pub lines: Vec<BoardLine>,
    /// Lines that carry at least one flag.
    pub flagged: usize,
    pub truncated: bool,
}

/// Trims a free text; `None` when empty.
pub fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// A required free text of at most [`TEXT_MAX`] characters, or the field's error.
pub fn required_text(errors: &mut FieldErrors, field: &str, v: &Option<String>, what: &str) -> Option<String> {
    match text(v) {
        None => {
            errors.insert(field.into(), format!("请填写{what}"));
            None
        }
        Some(t) if t.chars().count() > TEXT_MAX => {
            errors.insert(field.into(), format!("{what}最多{TEXT_MAX}字"));
            None
        }
        Some(t) => Some(t),
    }
}

/// An optional free text of at most [`TEXT_MAX`] characters.
pub fn optional_text(errors: &mut FieldErrors, field: &str, v: &Option<String>) -> Option<String> {
    let t = text(v)?;
    if t.chars().count() > TEXT_MAX {
        errors.insert(field.into(), format!("最多{TEXT_MAX}字"));
        return None;
    }
    Some(t)
}

/// A date `YYYY-MM-DD` (default `default`), not after `today`.
pub fn past_date(errors: &mut FieldErrors, field: &str, v: &Option<String>, default: Date, today: Date) -> Date {
    match text(v) {
        None => default,
        Some(s) => match kernel::dates::parse_iso(&s) {
            None => {
                errors.insert(field.into(), "日期格式应为 YYYY-MM-DD，例如 2025-07-01".into());
                default
            }
            Some(d) if d > today => {
                errors.insert(field.into(), "日期不能晚于今天".into());
                default
            }
            Some(d) => d,
        },
    }
}

/// An optional date `YYYY-MM-DD`.
pub fn optional_date(errors: &mut FieldErrors, field: &str, v: &Option<String>) -> Option<Date> {
    let s = text(v)?;
    let d = kernel::dates::parse_iso(&s);
    if d.is_none() {
        errors.insert(field.into(), "日期格式应为 YYYY-MM-DD，例如 2025-07-01".into());
    }
    d
}

/// An optional month `YYYY-MM`, not after the month of `today`.
pub fn optional_month(errors: &mut FieldErrors, field: &str, v: &Option<String>, today: Date) -> Option<String> {
    let s = text(v)?;
    match YearMonth::parse(&s) {
        None => {
            errors.insert(field.into(), "月份格式应为 YYYY-MM，例如 2025-06".into());
            None
        }
        Some(m) if m > YearMonth::of(today) => {
            errors.insert(field.into(), "党费交至月份不能晚于本月".into());
            None
        }
        Some(m) => Some(m.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn labels_follow_the_side_and_the_kind() {
        assert_eq!(state_label(TransferKind::Out, TransferState::Pending), "转出待接收");
        assert_eq!(state_label(TransferKind::Internal, TransferState::Returned), "已退回");
        assert_eq!(TransferKind::parse("转出"), Some(TransferKind::Out));
    }

    #[test]
    fn inputs_are_checked_item_by_item() {
        let today = date!(2025 - 07 - 10);
        let mut e = FieldErrors::new();
        assert_eq!(past_date(&mut e, "on", &Some("2025-07-11".into()), today, today), today);
        assert!(e["on"].contains("晚于今天"));
        let mut e = FieldErrors::new();
        assert_eq!(past_date(&mut e, "on", &None, today, today), today);
        assert_eq!(optional_month(&mut e, "m", &Some("2025-06".into()), today).as_deref(), Some("2025-06"));
        assert!(optional_month(&mut e, "m2", &Some("2025-08".into()), today).is_none());
        assert!(required_text(&mut e, "reason", &Some("   ".into()), "原因").is_none());
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(required_text(&mut e, "r2", &Some("字".repeat(201)), "原因").is_none());
    }
}
