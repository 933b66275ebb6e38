//! Member services as the API takes and shows them: the request kinds and states (with the moves a state
//! allows, pure), the input checks (every bad item at once, in Chinese), the answers.

use platform::code_list;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use crate::model::FieldErrors;

/// The longest description of a request.
pub const MAX_DETAILS_CHARS: usize = 2_000;
/// The longest note of a handler (a refusal's reason, what was done).
pub const MAX_NOTE_CHARS: usize = 500;

code_list! {
    /// What a member asks for (党员服务).
    RequestKind {
        /// 党员身份证明: completed, it yields a certificate (PDF with a verification QR code).
        MembershipProof = "membership_proof", "开具党员身份证明";
        /// 组织关系证明: where her organizational relationship is; completed, it yields a certificate too.
        RelationProof = "relation_proof", "开具组织关系证明";
        /// 困难帮扶: help in hardship (the details are seen by her secretary and the staff above only).
        Hardship = "hardship", "困难帮扶";
        Other = "other", "其他";
    }
}

impl RequestKind {
    /// Whether completing it issues a certificate.
    pub fn certifies(self) -> bool {
        matches!(self, RequestKind::MembershipProof | RequestKind::RelationProof)
    }

    /// The certificate's title.
    pub fn certificate_title(self) -> &'static str {
        match self {
            RequestKind::RelationProof => "党员组织关系证明",
            _ => "党员身份证明",
        }
    }
}

code_list! {
    /// Where a request stands.
    RequestState {
        Submitted = "submitted", "已提交";
        /// 已受理: the secretary is handling it.
        Accepted = "accepted", "已受理";
        /// 不予办理, with the reason.
        Refused = "refused", "不予办理";
        Completed = "completed", "已办结";
        /// Withdrawn by the member before it was handled.
        Cancelled = "cancelled", "已撤销";
    }
}

code_list! {
    /// What a handler or the member does to a request.
    RequestAction {
        Accept = "accept", "受理";
        Refuse = "refuse", "不予办理";
        Complete = "complete", "办结";
        Cancel = "cancel", "撤销";
    }
}

/// The state an action leads to from `from`, or `None` when the action is not open there: a request is
/// accepted once it is submitted; refused or completed while it is open (submitted or accepted); cancelled by
/// the member only before anyone accepted it. Refused, completed and cancelled are final.
pub fn next_state(from: RequestState, action: RequestAction) -> Option<RequestState> {
    use RequestAction as A;
    use RequestState as S;
    match (from, action) {
        (S::Submitted, A::Accept) => Some(S::Accepted),
        (S::Submitted | S::Accepted, A::Refuse) => Some(S::Refused),
        (S::Submitted | S::Accepted, A::Complete) => Some(S::Completed),
        (S::Submitted, A::Cancel) => Some(S::Cancelled),
        _ => None,
    }
}

code_list! {
    /// Where a certificate stands.
    CertificateState {
        Valid = "valid", "有效";
        /// 已收回: withdrawn by the issuing side (a wrong item, a member who left); its page says so.
        Revoked = "revoked", "已收回";
    }
}

fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A request a member files.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RequestInput {
    /// membership_proof, relation_proof, hardship or other (or the Chinese label).
    #[schema(example = "membership_proof")]
    pub kind: Option<String>,
    /// What it is for (用途) or what she needs.
    #[schema(example = "用于报考选调生，需提交党员身份证明")]
    pub details: Option<String>,
}

/// A request that passed the checks that need no database.
#[derive(Clone, Debug)]
pub struct ValidRequest {
    pub kind: RequestKind,
    pub details: String,
}

/// Checks a request; every bad item is reported at once under its field.
pub fn validate_request(input: &RequestInput) -> Result<ValidRequest, FieldErrors> {
    let mut e = FieldErrors::new();
    let kind = match trimmed(&input.kind).map(RequestKind::parse) {
        None => {
            e.insert("kind".into(), "请选择服务事项".into());
            None
        }
        Some(None) => {
            let all: Vec<&str> = RequestKind::ALL.iter().map(|k| k.code()).collect();
            e.insert("kind".into(), format!("服务事项应为：{}", all.join("、")));
            None
        }
        Some(k) => k,
    };
    let details = match trimmed(&input.details) {
        None => {
            e.insert("details".into(), "请填写用途或需要办理的事项".into());
            String::new()
        }
        Some(d) if d.chars().count() > MAX_DETAILS_CHARS => {
            e.insert("details".into(), format!("说明不超过{MAX_DETAILS_CHARS}字"));
            String::new()
        }
        Some(d) => d.to_string(),
    };
    match kind {
        Some(kind) if e.is_empty() => Ok(ValidRequest { kind, details }),
        _ => Err(e),
    }
}

/// A handler's step on a request.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct HandleInput {
    /// Required to refuse (the member sees it); optional otherwise.
    #[schema(example = "已开具，请到学院党委办公室领取盖章件")]
    pub note: Option<String>,
}

/// Checks a handler's note: required for a refusal, at most [`MAX_NOTE_CHARS`].
pub fn validate_note(action: RequestAction, input: &HandleInput) -> Result<Option<String>, FieldErrors> {
    match trimmed(&input.note) {
        None if action == RequestAction::Refuse => {
            Err(FieldErrors::from([("note".into(), "请填写不予办理的原因".into())]))
        }
        None => Ok(None),
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => {
            Err(FieldErrors::from([("note".into(), format!("说明不超过{MAX_NOTE_CHARS}字"))]))
        }
        Some(n) => Ok(Some(n.to_string())),
    }
}

/// One step of a request's history.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RequestEvent {
    pub state: String,
    pub note: Option<String>,
    /// Who moved it (the account's display name).
    pub actor_name: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A certificate as its holder and handlers see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CertificateInfo {
    pub number: String,
    pub title: &'static str,
    pub state: CertificateState,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Date,
    pub revoke_reason: Option<String>,
}

/// A request with its history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServiceRequest {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub kind: RequestKind,
    pub kind_label: &'static str,
    pub details: String,
    pub state: RequestState,
    pub state_label: &'static str,
    pub note: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub history: Vec<RequestEvent>,
    /// The certificate a completed proof request yielded.
    pub certificate: Option<CertificateInfo>,
    /// The actions open to the caller now (accept, refuse, complete, cancel).
    pub actions: Vec<RequestAction>,
    pub version: i64,
}

/// A line of a request list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestSummary {
    pub id: i64,
    pub person_name: String,
    pub org_name: String,
    pub kind: RequestKind,
    pub kind_label: &'static str,
    pub state: RequestState,
    pub state_label: &'static str,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The requests a caller sees.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequestList {
    /// Her own, latest first.
    pub mine: Vec<RequestSummary>,
    /// Filed in the organizations she handles, open ones first, then latest first.
    pub to_handle: Vec<RequestSummary>,
}

/// Why a certificate is revoked.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RevokeInput {
    #[schema(example = "证明中党员身份有误，已重新开具")]
    pub reason: Option<String>,
}

/// Checks a revocation's reason (required).
pub fn validate_revoke(input: &RevokeInput) -> Result<String, FieldErrors> {
    match trimmed(&input.reason) {
        None => Err(FieldErrors::from([("reason".into(), "请填写收回原因".into())])),
        Some(r) if r.chars().count() > MAX_NOTE_CHARS => {
            Err(FieldErrors::from([("reason".into(), format!("收回原因不超过{MAX_NOTE_CHARS}字"))]))
        }
        Some(r) => Ok(r.to_string()),
    }
}

/// What the public verification page shows of a certificate: whether it stands, the name masked, the issuing
/// organization and the date — nothing else about the person.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    pub number: String,
    pub title: &'static str,
    pub valid: bool,
    pub masked_name: String,
    pub org_name: String,
    pub issued_on: Date,
}

/// A name masked for a public page: the surname and one asterisk per other character ("欧阳晓燕" → "欧***").
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().into_iter().chain(chars.map(|_| '*')).collect()
}

// ---------------------------------------------------------------- volunteer hours

/// The most hours one entry records (one day of service).
pub const MAX_HOURS_TENTHS: i64 = 240;
/// The longest description of a volunteer activity.
pub const MAX_ACTIVITY_CHARS: usize = 200;

code_list! {
    /// Where a volunteer entry stands: only confirmed hours count in the totals.
    HoursState {
        Pending = "pending", "待确认";
        Confirmed = "confirmed", "已确认";
        Rejected = "rejected", "未确认";
    }
}

/// Volunteer service a member records.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct HoursInput {
    #[schema(example = "社区疫苗接种点秩序维护")]
    pub activity: Option<String>,
    /// YYYY-MM-DD, not after today.
    #[schema(example = "2026-03-14")]
    pub served_on: Option<String>,
    /// Hours, at most one decimal (0.5 steps are common), more than 0 and at most 24.
    #[schema(example = 2.5)]
    pub hours: Option<f64>,
}

/// An entry that passed the checks.
#[derive(Clone, Debug)]
pub struct ValidHours {
    pub activity: String,
    pub served_on: Date,
    pub hours_tenths: i64,
}

/// Checks a volunteer entry against `today`; every bad item is reported at once.
pub fn validate_hours(input: &HoursInput, today: Date) -> Result<ValidHours, FieldErrors> {
    let mut e = FieldErrors::new();
    let activity = match trimmed(&input.activity) {
        None => {
            e.insert("activity".into(), "请填写志愿服务内容".into());
            String::new()
        }
        Some(a) if a.chars().count() > MAX_ACTIVITY_CHARS => {
            e.insert("activity".into(), format!("服务内容不超过{MAX_ACTIVITY_CHARS}字"));
            String::new()
        }
        Some(a) => a.to_string(),
    };
    let served_on = match trimmed(&input.served_on).map(kernel::dates::parse_iso) {
        None => {
            e.insert("served_on".into(), "请填写服务日期".into());
            None
        }
        Some(None) => {
            e.insert("served_on".into(), "日期格式应为 YYYY-MM-DD".into());
            None
        }
        Some(Some(d)) if d > today => {
            e.insert("served_on".into(), "服务日期不能晚于今天".into());
            None
        }
        Some(d) => d,
    };
    let hours_tenths = match input.hours {
        None => {
            e.insert("hours".into(), "请填写服务时长（小时）".into());
            0
        }
        Some(h) if !h.is_finite() || h <= 0.0 || (h * 10.0).round() > MAX_HOURS_TENTHS as f64 => {
            e.insert("hours".into(), "服务时长应大于0且不超过24小时".into());
            0
        }
        Some(h) if ((h * 10.0).round() - h * 10.0).abs() > 1e-6 => {
            e.insert("hours".into(), "服务时长最多保留一位小数，例如 2.5".into());
            0
        }
        Some(h) => (h * 10.0).round() as i64,
    };
    match served_on {
        Some(served_on) if e.is_empty() => Ok(ValidHours { activity, served_on, hours_tenths }),
        _ => Err(e),
    }
}

/// Tenths of an hour as the hours shown ("2.5").
pub fn hours_text(tenths: i64) -> String {
    if tenths % 10 == 0 { format!("{}", tenths / 10) } else { format!("{}.{}", tenths / 10, (tenths % 10).abs()) }
}

/// A confirmer's decision.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DecideInput {
    /// Required to reject.
    #[schema(example = "活动当天未签到，请补充证明材料")]
    pub reason: Option<String>,
}

/// A volunteer entry.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HoursEntry {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub activity: String,
    #[schema(value_type = String, format = Date)]
    pub served_on: Date,
    pub hours: f64,
    pub state: HoursState,
    pub state_label: &'static str,
    pub reason: Option<String>,
    /// Whether the caller may confirm or reject it now.
    pub can_decide: bool,
}

/// One person's confirmed hours.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PersonHours {
    pub person_id: i64,
    pub person_name: String,
    pub org_id: i64,
    pub hours: f64,
    pub entries: i64,
}

/// One organization's confirmed hours (with all below it).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrgHours {
    pub org_id: i64,
    pub org_name: String,
    pub hours: f64,
    pub people: i64,
}

/// A member's own volunteer record for a year.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MyHours {
    pub year: i32,
    /// Confirmed hours.
    pub confirmed: f64,
    /// Hours waiting for confirmation.
    pub pending: f64,
    pub entries: Vec<HoursEntry>,
}

/// An organization's volunteer hours for a year: totals per person and per organization directly below, and
/// the entries (pending first).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrgHoursReport {
    pub org_id: i64,
    pub org_name: String,
    pub year: i32,
    /// Confirmed hours of the whole subtree.
    pub total: f64,
    pub per_person: Vec<PersonHours>,
    pub per_org: Vec<OrgHours>,
    pub entries: Vec<HoursEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moves_of_a_request() {
        use RequestAction as A;
        use RequestState as S;
        assert_eq!(next_state(S::Submitted, A::Accept), Some(S::Accepted));
        assert_eq!(next_state(S::Accepted, A::Complete), Some(S::Completed));
        assert_eq!(next_state(S::Submitted, A::Complete), Some(S::Completed));
        assert_eq!(next_state(S::Accepted, A::Refuse), Some(S::Refused));
        assert_eq!(next_state(S::Submitted, A::Cancel), Some(S::Cancelled));
        assert_eq!(next_state(S::Accepted, A::Cancel), None, "once accepted the member cannot withdraw it");
        assert_eq!(next_state(S::Accepted, A::Accept), None);
        for end in [S::Refused, S::Completed, S::Cancelled] {
            for a in RequestAction::ALL {
                assert_eq!(next_state(end, *a), None, "{end:?} is final");
            }
        }
    }

    #[test]
    fn every_bad_item_of_a_request_is_reported_at_once() {
        let e =
            validate_request(&RequestInput { kind: Some("passport".into()), details: Some("  ".into()) }).unwrap_err();
        assert!(e["kind"].contains("membership_proof"));
        assert_eq!(e["details"], "请填写用途或需要办理的事项");
        let v = validate_request(&RequestInput {
            kind: Some("困难帮扶".into()), details: Some(" 家中受灾 ".into())
        })
        .unwrap();
        assert_eq!((v.kind, v.details.as_str()), (RequestKind::Hardship, "家中受灾"));
    }

    #[test]
    fn a_refusal_needs_a_reason_and_names_are_masked() {
        assert!(validate_note(RequestAction::Refuse, &HandleInput { note: None }).is_err());
        assert_eq!(validate_note(RequestAction::Accept, &HandleInput { note: Some(" ".into()) }).unwrap(), None);
        assert_eq!(mask_name("欧阳晓燕"), "欧***");
        assert_eq!(mask_name("李红"), "李*");
        assert!(validate_revoke(&RevokeInput::default()).is_err());
    }

    #[test]
    fn volunteer_hours_are_checked_and_kept_in_tenths() {
        let today = time::macros::date!(2026 - 03 - 20);
        let ok = |h: f64| HoursInput {
            activity: Some("社区服务".into()),
            served_on: Some("2026-03-14".into()),
            hours: Some(h),
        };
        assert_eq!(validate_hours(&ok(2.5), today).unwrap().hours_tenths, 25);
        assert_eq!(validate_hours(&ok(24.0), today).unwrap().hours_tenths, 240);
        for bad in [0.0, -1.0, 24.5, f64::NAN] {
            assert!(validate_hours(&ok(bad), today).unwrap_err()["hours"].contains("24"), "{bad}");
        }
        assert!(validate_hours(&ok(1.25), today).unwrap_err()["hours"].contains("一位小数"));
        let e =
            validate_hours(&HoursInput { activity: None, served_on: Some("2026-03-21".into()), hours: None }, today)
                .unwrap_err();
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e["served_on"], "服务日期不能晚于今天");
        assert_eq!((hours_text(25), hours_text(40)), ("2.5".to_string(), "4".to_string()));
    }
}
