//! The portraits as the API shows them, and the week arithmetic (pure).

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime, Weekday};
use utoipa::ToSchema;

/// Weeks shown in a portrait's time chart.
pub const WEEKS: i64 = 12;
/// A member counts as active with study on a day within this many days.
pub const ACTIVE_DAYS: i64 = 30;
/// Exam results shown in a member's trend.
pub const ATTEMPTS: i64 = 10;
/// Required materials shown in an organization's portrait.
pub const REQUIRED: i64 = 20;

/// Minutes studied in one week (Monday to Sunday).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Week {
    #[schema(value_type = String, format = Date)]
    pub monday: Date,
    pub minutes: i64,
}

/// Materials studied to the end in one category (栏目).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Topic {
    pub category: String,
    pub label: String,
    pub count: i64,
}

/// One exam result of a member.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExamResult {
    pub exam: String,
    pub percent: i64,
    pub passed: Option<bool>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
}

/// A required material and where the member stands.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequiredItem {
    pub material_id: i64,
    pub title: String,
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    pub completed: bool,
}

/// A member's portrait.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PersonPortrait {
    pub person_id: i64,
    pub name: String,
    /// Minutes of active reading ever recorded.
    pub minutes: i64,
    /// Days with study in the last 30.
    pub active_days: i64,
    /// Materials studied to the end.
    pub studied: i64,
    /// Online Party classes joined.
    pub classes: i64,
    /// The last 12 weeks, oldest first.
    pub weeks: Vec<Week>,
    pub topics: Vec<Topic>,
    /// Her last exam results, latest first (practices left out).
    pub exams: Vec<ExamResult>,
    pub required: Vec<RequiredItem>,
    /// Points and records are never an assessment input (domain.md FORM).
    pub note: &'static str,
}

/// Required learning in an organization: how many it reaches there and how many finished it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RequiredCompletion {
    pub material_id: i64,
    pub title: String,
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    pub audience: i64,
    pub completed: i64,
}

/// An organization directly below, in an organization's portrait.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrgLine {
    pub org_id: i64,
    pub name: String,
    pub people: i64,
    /// Of them, with study in the last 30 days.
    pub active: i64,
}

/// A branch's or college's portrait.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrgPortrait {
    pub org_id: i64,
    pub name: String,
    pub people: i64,
    pub active: i64,
    pub weeks: Vec<Week>,
    /// Materials studied to the end in the last 12 weeks, per category.
    pub topics: Vec<Topic>,
    pub required: Vec<RequiredCompletion>,
    /// The organizations directly below (with all below them), and the organization's own people when it has
    /// any.
    pub below: Vec<OrgLine>,
    pub note: &'static str,
}

/// The Monday of the week of `d`.
pub fn monday_of(d: Date) -> Date {
    let back = i64::from(d.weekday().number_days_from_monday());
    d - Duration::days(back)
}

/// The first day of the chart that ends in the week of `today`.
pub fn chart_start(today: Date) -> Date {
    monday_of(today) - Duration::weeks(WEEKS - 1)
}

/// Seconds per day folded into the chart's weeks (every week present, zero when nothing was studied).
pub fn weeks(days: &[(Date, i64)], today: Date) -> Vec<Week> {
    let start = chart_start(today);
    let mut out: Vec<Week> = (0..WEEKS).map(|i| Week { monday: start + Duration::weeks(i), minutes: 0 }).collect();
    let mut seconds = vec![0i64; out.len()];
    for (day, s) in days {
        if *day < start {
            continue;
        }
        let i = usize::try_from((*day - start).whole_weeks()).unwrap_or(usize::MAX);
        if let Some(slot) = seconds.get_mut(i) {
            *slot += s;
        }
    }
    for (w, s) in out.iter_mut().zip(seconds) {
        w.minutes = s / 60;
    }
    out
}

/// Whether `d` is a Monday (a week's label).
pub fn is_monday(d: Date) -> bool {
    d.weekday() == Weekday::Monday
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn days_fold_into_twelve_weeks_ending_this_week() {
        let today = date!(2026 - 11 - 25); // a Wednesday
        assert_eq!(monday_of(today), date!(2026 - 11 - 23));
        assert_eq!(chart_start(today), date!(2026 - 09 - 07));
        let days = [
            (date!(2026 - 09 - 06), 6_000), // before the chart
            (date!(2026 - 09 - 07), 600),   // its first day
            (date!(2026 - 09 - 13), 59),    // the same week, a Sunday
            (date!(2026 - 11 - 24), 1_200), // this week
        ];
        let w = weeks(&days, today);
        assert_eq!(w.len(), 12);
        assert!(w.iter().all(|x| is_monday(x.monday)));
        assert_eq!((w[0].monday, w[0].minutes), (date!(2026 - 09 - 07), 10), "600 + 59 seconds is 10 minutes");
        assert_eq!(w[11].minutes, 20);
        assert_eq!(w[1..11].iter().map(|x| x.minutes).sum::<i64>(), 0);
    }
}
