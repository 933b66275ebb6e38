//! The development pipeline's types at the boundary: a step to record (as the API and the form send it)
//! and the answers (a person's development with its timeline, the to-do list).

use platform::files::AttachmentMeta;
use platform::model::Stage;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::rules::Finding;
use crate::rules::pipeline::{Due, DueKind, PlanStep, StepDetail, StepKind, Vote};

/// A step to record for a person.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct StepInput {
    /// The step's code, e.g. `activist` (see the timeline's `step` values).
    #[schema(example = "activist")]
    pub step: Option<String>,
    /// The day it happened (`YYYY-MM-DD`), not in the future.
    #[schema(example = "2025-03-15")]
    pub done_on: Option<String>,
    pub notes: Option<String>,
    /// Why a step the regulations allow only as an exception was taken (DEV-10, DEV-13).
    pub reason: Option<String>,
    /// Cultivation contacts (DEV-04, activist step): person ids of formal members in the caller's scope.
    #[serde(default)]
    pub contacts: Vec<i64>,
    /// Introducers (DEV-07, introducers step): two person ids of formal members.
    #[serde(default)]
    pub introducers: Vec<i64>,
    /// The one who talked with the applicant (talk step).
    pub talker: Option<i64>,
    #[serde(default)]
    pub detail: StepDetail,
    /// The tally of a branch general meeting (admission and conversion meetings, DEV-12).
    pub vote: Option<Vote>,
}

/// A person named for a step.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StepPerson {
    /// `talker`, `contact` or `introducer`.
    pub role: String,
    pub person_id: i64,
    pub name: String,
}

/// A recorded step.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StepView {
    pub id: i64,
    pub step: StepKind,
    pub label: &'static str,
    pub stage_no: u8,
    #[schema(value_type = String, format = Date)]
    pub done_on: Date,
    /// `passed` / `not_passed` for meetings (DEV-12).
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub reason: Option<String>,
    /// The warnings it was accepted with (each with its article).
    #[schema(value_type = Vec<Object>)]
    pub findings: serde_json::Value,
    pub detail: StepDetail,
    pub vote: Option<Vote>,
    pub rule_set: String,
    pub people: Vec<StepPerson>,
    pub attachments: Vec<AttachmentMeta>,
}

/// A person's development: the timeline of every step with its dates, her next step, what was recorded.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DevelopmentView {
    pub person_id: i64,
    pub name: String,
    pub stage: Stage,
    pub stage_label: &'static str,
    pub org_id: i64,
    pub org_name: String,
    pub rule_set_title: &'static str,
    pub plan: Vec<PlanStep>,
    pub next: Option<Due>,
    /// The next step's deadline has passed.
    pub overdue: bool,
    pub steps: Vec<StepView>,
    /// The caller may record steps.
    pub can_write: bool,
}

/// One line of the to-do list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TodoItem {
    pub person_id: i64,
    pub name: String,
    pub stage: Stage,
    pub stage_label: &'static str,
    pub org_id: i64,
    pub org_name: String,
    pub step: StepKind,
    pub label: &'static str,
    pub kind: DueKind,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub overdue: bool,
    pub rule: String,
    pub note: String,
}

/// The to-do list of an organization's subtree, the overdue and the nearest deadlines first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TodoList {
    pub org_id: i64,
    pub org_name: String,
    pub items: Vec<TodoItem>,
    pub overdue: usize,
    /// More people are due than the list shows.
    pub truncated: bool,
}

/// The findings a refused step answers with, for the caller that wants them whole.
pub type Findings = Vec<Finding>;

/// Which version of the 细则 judges development cases (the administrator's switch for the reported 2026
/// revision; domain.md §0.2: unverified, so off by default).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleSettings {
    /// From this date on, cases whose admission meeting is on or after it are judged by the 2026 revision;
    /// `null`: the 2014 细则 judges every case.
    #[schema(value_type = Option<String>, format = Date)]
    pub revision_2026_from: Option<Date>,
    /// The version in force today, e.g. `2014`.
    pub in_force_today: crate::rules::RuleSet,
    /// Its title in Chinese.
    pub in_force_title: String,
    /// The day the 2026 revision was reported issued (the earliest date it may be switched on from).
    #[schema(value_type = String, format = Date)]
    pub reported_issue: Date,
    /// Who changed the setting last, and when.
    pub updated_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<time::OffsetDateTime>,
    /// Whether the caller may change it (the system administrator).
    pub can_change: bool,
}

/// A change of the rule-version setting.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct RuleSettingsInput {
    /// `YYYY-MM-DD`: the 2026 revision applies from this date; empty or absent: never (back to 2014).
    #[schema(example = "2026-12-01")]
    pub revision_2026_from: Option<String>,
    /// Why (e.g. the number of the 党委组织部's notice); kept in the audit log.
    #[schema(example = "校党委组织部〔2026〕12号通知")]
    pub reason: Option<String>,
}

/// One year of the working-day calendar that publicity periods count by (DEV-11): the days off of the State
/// Council's holiday notice and the weekend days worked instead (调休).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WorkCalendarYear {
    pub year: i32,
    #[schema(value_type = Vec<String>)]
    pub holidays: Vec<Date>,
    /// Saturdays and Sundays that are working days.
    #[schema(value_type = Vec<String>)]
    pub working_days: Vec<Date>,
    /// Whether the caller may change it (the system administrator).
    pub can_change: bool,
}

/// A year's calendar as entered: each item a day (`2026-10-01`) or a range (`2026-10-01~2026-10-08`, or with
/// 至); the year's earlier entries are replaced.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct WorkCalendarInput {
    #[schema(example = 2026)]
    pub year: Option<i32>,
    #[serde(default)]
    #[schema(example = json!(["2026-10-01~2026-10-07"]))]
    pub holidays: Vec<String>,
    #[serde(default)]
    #[schema(example = json!(["2026-09-27", "2026-10-10"]))]
    pub working_days: Vec<String>,
    /// The notice it follows (e.g. 国办发明电〔2025〕7号); kept in the audit log.
    pub reason: Option<String>,
}
