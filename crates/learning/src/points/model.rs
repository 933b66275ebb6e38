//! The types of points: the actions that may earn them, a rule as staff set it, a member's points.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use platform::code_list;

code_list! {
    /// What may earn points.
    Action {
        /// A material counted as studied (by active reading time).
        Studied = "studied", "学完一份学习材料";
        /// An exam passed (once per exam).
        ExamPassed = "exam_passed", "通过一次考试";
        /// A 线上党课 attended.
        ClassAttended = "class_attended", "参加一次线上党课";
    }
}

/// One action's rule, as staff set it for their organization's subtree.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct RuleInput {
    /// studied, exam_passed, class_attended.
    #[schema(example = "studied")]
    pub action: Option<String>,
    pub enabled: Option<bool>,
    #[schema(example = 1)]
    pub points: Option<i64>,
    #[schema(example = 6)]
    pub daily_cap: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct RulesInput {
    pub rules: Vec<RuleInput>,
}

/// One action's rule in force for an organization.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RuleView {
    pub action: Action,
    pub action_label: &'static str,
    pub enabled: bool,
    pub points: i64,
    pub daily_cap: i64,
    /// The organization whose setting applies (itself or the nearest above); none: nobody set it (off).
    pub set_at_org: Option<String>,
    /// Set at this organization itself (not inherited).
    pub own: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PointsRules {
    pub org_id: i64,
    pub org_name: String,
    pub rules: Vec<RuleView>,
    /// Points are for the member's own motivation and are not an assessment input.
    pub note: &'static str,
    /// The branch's board (排行榜) is on.
    pub board_enabled: bool,
}

/// The note every points page and answer carries (domain.md FORM).
pub const NOT_ASSESSMENT: &str =
    "积分仅用于个人学习激励，不排名、不作为考核依据；排行榜默认关闭，支部开启后也只显示本人同意展示的党员。";

/// A point award.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Award {
    pub action: String,
    pub object_id: i64,
    pub points: i64,
    #[schema(value_type = String, format = Date)]
    pub day: Date,
}

/// A member's own points.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MyPoints {
    pub person_id: i64,
    pub total: i64,
    pub recent: Vec<Award>,
    /// Whether any rule is on for her (if none, points are off and the page says so).
    pub enabled: bool,
    /// Her branch's board is on, and whether she chose to appear on it.
    pub board_enabled: bool,
    pub on_board: bool,
    pub note: &'static str,
}

/// A line of a branch's board: only members who chose to appear.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct BoardLine {
    pub person_id: i64,
    pub name: String,
    pub points: i64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Board {
    pub org_id: i64,
    pub org_name: String,
    pub lines: Vec<BoardLine>,
    /// The branch switched its board on (off by default).
    pub enabled: bool,
    pub note: &'static str,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Switch {
    pub enabled: Option<bool>,
}

/// When an award is made.
#[derive(Clone, Copy, Debug)]
pub struct When {
    pub at: OffsetDateTime,
    pub day: Date,
}
