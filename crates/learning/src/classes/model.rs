//! The types of 线上党课.

use platform::model::Stage;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use platform::code_list;

code_list! {
    /// Where a class stands.
    ClassStatus {
        Scheduled = "scheduled", "未开始";
        Finished = "finished", "已结束";
        Cancelled = "cancelled", "已取消";
    }
}

/// Joining opens this long before the start.
pub const JOIN_EARLY_MINUTES: i64 = 30;

/// A new class.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ClassInput {
    /// The organization whose people attend (default: the widest where the caller may publish).
    pub org_id: Option<i64>,
    #[schema(example = "专题党课：学习《中国共产党纪律处分条例》")]
    pub title: Option<String>,
    #[schema(example = "张书记")]
    pub lecturer: Option<String>,
    /// `YYYY-MM-DD HH:MM`, Beijing time.
    #[schema(example = "2026-04-10 19:00")]
    pub starts_at: Option<String>,
    /// Length in minutes (default 60).
    pub minutes: Option<i64>,
    /// The online room (http or https) — a link or a room is needed.
    pub link: Option<String>,
    /// A physical room, for a class given in a room and streamed.
    pub room: Option<String>,
    pub description: Option<String>,
    pub stages: Option<Vec<String>>,
    /// Create a 党课 meeting of the organization (crates/life) with QR sign-in; it counts toward the branch's
    /// 党课 obligation once the class is finished.
    pub sign_in: Option<bool>,
    /// Link an existing 党课 meeting instead of creating one.
    pub meeting_id: Option<i64>,
}

/// After the class: the replay and materials.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct FinishInput {
    pub replay_url: Option<String>,
    /// Learning materials shown with the replay.
    pub material_ids: Option<Vec<i64>>,
}

/// A material of a class.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ClassMaterial {
    pub id: i64,
    pub title: String,
}

/// A class as its audience and managers see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PartyClass {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub title: String,
    pub lecturer: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub minutes: i64,
    pub link: Option<String>,
    pub room: Option<String>,
    pub description: String,
    pub stages: Vec<Stage>,
    /// The 党课 meeting (crates/life) that carries QR sign-in and the obligation.
    pub meeting_id: Option<i64>,
    pub replay_url: Option<String>,
    pub status: ClassStatus,
    pub status_label: &'static str,
    pub materials: Vec<ClassMaterial>,
    /// The caller joined through the page.
    pub joined: bool,
    /// Whether the caller may join now, and if not why.
    pub can_join: bool,
    pub join_note: Option<String>,
    /// For those managing learning there: how many joined through the page.
    pub joined_count: Option<i64>,
    pub manageable: bool,
    #[serde(skip)]
    pub org_path: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClassList {
    pub items: Vec<PartyClass>,
}
