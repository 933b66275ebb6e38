//! Recurring plans as the API takes and shows them, and the rule of their days (pure): day N of every month —
//! the month's last day where N does not exist (domain.md C1, after 民法典 arts. 201–202) — or the K-th weekday
//! of every month (K = 1…4, or the last).

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, Weekday};
use utoipa::ToSchema;

use crate::model::{FieldErrors, MeetingSummary, parse_date};

/// The most meetings one plan writes (two years of a monthly meeting).
pub const MAX_OCCURRENCES: usize = 24;

/// Which day of each month a plan's meetings fall on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Day N (1…31); in a month without day N, its last day.
    Day(u8),
    /// The K-th (1…4) weekday of the month, or with `nth == 5` the last one.
    Weekday { nth: u8, weekday: Weekday },
}

const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Monday, "星期一"),
    (Weekday::Tuesday, "星期二"),
    (Weekday::Wednesday, "星期三"),
    (Weekday::Thursday, "星期四"),
    (Weekday::Friday, "星期五"),
    (Weekday::Saturday, "星期六"),
    (Weekday::Sunday, "星期日"),
];

fn weekday_label(w: Weekday) -> &'static str {
    WEEKDAYS.iter().find(|(d, _)| *d == w).map_or("", |(_, l)| l)
}

impl Rule {
    /// The stored form: `day:15`, `weekday:2:4` (the second Thursday), `weekday:5:5` (the last Friday).
    pub fn code(self) -> String {
        match self {
            Rule::Day(n) => format!("day:{n}"),
            Rule::Weekday { nth, weekday } => format!("weekday:{nth}:{}", weekday.number_from_monday()),
        }
    }

    pub fn parse(v: &str) -> Option<Rule> {
        let parts: Vec<&str> = v.split(':').collect();
        match parts.as_slice() {
            ["day", n] => n.parse::<u8>().ok().filter(|n| (1..=31).contains(n)).map(Rule::Day),
            ["weekday", k, d] => {
                let nth = k.parse::<u8>().ok().filter(|k| (1..=5).contains(k))?;
                let d = d.parse::<usize>().ok().filter(|d| (1..=7).contains(d))?;
                Some(Rule::Weekday { nth, weekday: WEEKDAYS[d - 1].0 })
            }
            _ => None,
        }
    }

    /// "每月15日", "每月31日（小月为当月最后一天）", "每月第二个星期四", "每月最后一个星期五".
    pub fn label(self) -> String {
        match self {
            Rule::Day(n) if n > 28 => format!("每月{n}日（当月没有{n}日的，为当月最后一天）"),
            Rule::Day(n) => format!("每月{n}日"),
            Rule::Weekday { nth: 5, weekday } => format!("每月最后一个{}", weekday_label(weekday)),
            Rule::Weekday { nth, weekday } => {
                let k = ["一", "二", "三", "四"][usize::from(nth.clamp(1, 4)) - 1];
                format!("每月第{k}个{}", weekday_label(weekday))
            }
        }
    }

    /// The day of this rule in one month.
    pub fn in_month(self, year: i32, month: Month) -> Option<Date> {
        let last = month.length(year);
        match self {
            Rule::Day(n) => Date::from_calendar_date(year, month, n.min(last)).ok(),
            Rule::Weekday { nth: 5, weekday } => {
                let end = Date::from_calendar_date(year, month, last).ok()?;
                let back = (7 + end.weekday().number_days_from_monday() - weekday.number_days_from_monday()) % 7;
                Some(end - time::Duration::days(i64::from(back)))
            }
            Rule::Weekday { nth, weekday } => {
                let first = Date::from_calendar_date(year, month, 1).ok()?;
                let ahead = (7 + weekday.number_days_from_monday() - first.weekday().number_days_from_monday()) % 7;
                Some(first + time::Duration::days(i64::from(ahead) + 7 * i64::from(nth - 1)))
            }
        }
    }

    /// The days of the rule within `[from, to]`, in order.
    pub fn occurrences(self, from: Date, to: Date) -> Vec<Date> {
        let mut out = Vec::new();
        let (mut year, mut month) = (from.year(), from.month());
        while (year, u8::from(month)) <= (to.year(), u8::from(to.month())) {
            if let Some(d) = self.in_month(year, month).filter(|d| *d >= from && *d <= to) {
                out.push(d);
            }
            if month == Month::December {
                year += 1;
            }
            month = month.next();
        }
        out
    }
}

/// A recurring plan as the API takes it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PlanInput {
    #[schema(example = 5)]
    pub org_id: Option<i64>,
    /// A meeting kind, as for a meeting (e.g. `theme_day`).
    #[schema(example = "theme_day")]
    pub kind: Option<String>,
    /// The meetings are titled "2026年12月" + this.
    #[schema(example = "主题党日")]
    pub title: Option<String>,
    /// `day` (day N of every month) or `weekday` (the K-th weekday of every month).
    #[schema(example = "day")]
    pub rule: Option<String>,
    /// For `day`: 1…31 (a month without that day: its last day).
    #[schema(example = 15)]
    pub day: Option<i64>,
    /// For `weekday`: 1…4, or 5 for the last.
    pub nth: Option<i64>,
    /// For `weekday`: 1 (Monday) … 7 (Sunday).
    pub weekday: Option<i64>,
    #[schema(example = "14:30")]
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    /// First day of the plan, `YYYY-MM-DD`, not before today (default today).
    pub starts_on: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: the 31 December of `starts_on`'s year); at most 24 meetings.
    pub ends_on: Option<String>,
    /// As for a meeting; default: the organization's members (for a 支委会 its committee members).
    pub attendee_ids: Option<Vec<i64>>,
}

/// The plan's own items once checked (the meeting items are checked as a meeting's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidRule {
    pub rule: Rule,
    pub starts_on: Date,
    pub ends_on: Date,
    pub days: Vec<Date>,
}

fn number(v: Option<i64>, range: std::ops::RangeInclusive<i64>) -> Option<u8> {
    v.filter(|n| range.contains(n)).and_then(|n| u8::try_from(n).ok())
}

/// Checks the rule and the period of a plan; every bad item at once.
pub fn validate_rule(input: &PlanInput, today: Date) -> Result<ValidRule, FieldErrors> {
    let mut e = FieldErrors::new();
    let rule = match input.rule.as_deref().map(str::trim) {
        Some("day") | None => match number(input.day, 1..=31) {
            Some(n) => Some(Rule::Day(n)),
            None => {
                e.insert("day".into(), "请填写每月的日期（1至31）".into());
                None
            }
        },
        Some("weekday") => {
            let nth = number(input.nth, 1..=5);
            let wd = number(input.weekday, 1..=7);
            if nth.is_none() {
                e.insert("nth".into(), "请选择第几个（第一至第四个，或最后一个）".into());
            }
            if wd.is_none() {
                e.insert("weekday".into(), "请选择星期几".into());
            }
            match (nth, wd) {
                (Some(nth), Some(w)) => Some(Rule::Weekday { nth, weekday: WEEKDAYS[usize::from(w) - 1].0 }),
                _ => None,
            }
        }
        Some(_) => {
            e.insert("rule".into(), "重复方式应为每月某日（day）或每月第几个星期几（weekday）".into());
            None
        }
    };
    let date = |v: &Option<String>, key: &str, e: &mut FieldErrors| match v
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Ok(None),
        Some(s) => parse_date(s).map(Some).map_err(|m| {
            e.insert(key.into(), m.into());
        }),
    };
    let starts_on = date(&input.starts_on, "starts_on", &mut e).ok().map(|d| d.unwrap_or(today));
    if starts_on.is_some_and(|d| d < today) {
        e.insert("starts_on".into(), "计划的开始日期不能早于今天".into());
    }
    let ends_on = match (date(&input.ends_on, "ends_on", &mut e), starts_on) {
        (Ok(Some(d)), _) => Some(d),
        (Ok(None), Some(s)) => Date::from_calendar_date(s.year(), Month::December, 31).ok(),
        _ => None,
    };
    if let (Some(s), Some(end)) = (starts_on, ends_on)
        && end < s
    {
        e.insert("ends_on".into(), "结束日期不能早于开始日期".into());
    }
    if !e.is_empty() {
        return Err(e);
    }
    let (Some(rule), Some(starts_on), Some(ends_on)) = (rule, starts_on, ends_on) else { return Err(e) };
    let days = rule.occurrences(starts_on, ends_on);
    if days.is_empty() {
        e.insert(
            "ends_on".into(),
            format!(
                "{}至{}之间没有符合“{}”的日期",
                kernel::dates::iso(starts_on),
                kernel::dates::iso(ends_on),
                rule.label()
            ),
        );
    } else if days.len() > MAX_OCCURRENCES {
        e.insert("ends_on".into(), format!("一个计划最多安排{MAX_OCCURRENCES}次会议（两年），请缩短计划期限"));
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(ValidRule { rule, starts_on, ends_on, days })
}

/// The title of a plan's meeting in the month of `d`: "2026年12月主题党日".
pub fn meeting_title(title: &str, d: Date) -> String {
    format!("{}年{}月{}", d.year(), u8::from(d.month()), title.trim())
}

/// A plan as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Plan {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: crate::model::MeetingKind,
    pub kind_label: &'static str,
    pub title: String,
    /// The stored rule (`day:15`, `weekday:2:4`) and its words.
    pub rule: String,
    #[schema(example = "每月15日")]
    pub rule_label: String,
    pub start_time: Option<String>,
    pub place: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: Date,
    #[schema(value_type = String, format = Date)]
    pub ends_on: Date,
    /// Its meetings, earliest first, as they stand now (each may have been changed or cancelled alone).
    pub meetings: Vec<MeetingSummary>,
    /// When the whole plan was cancelled (`null` while it runs), and why.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    pub cancel_reason: Option<String>,
    /// Whether the caller may cancel it now (she plans this organization's meetings, and it is neither
    /// cancelled nor over).
    pub can_cancel: bool,
    #[serde(skip)]
    pub org_path: String,
}

/// The most characters of a plan's cancellation reason.
pub const MAX_CANCEL_REASON_CHARS: usize = 200;

/// Why a whole plan is cancelled (required: its attendees read it in the notice).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CancelPlanInput {
    #[schema(example = "学院统一安排主题党日，本支部计划取消")]
    pub reason: Option<String>,
}

/// Checks a cancellation's reason.
pub fn validate_cancel(input: &CancelPlanInput) -> Result<String, FieldErrors> {
    let reason = input.reason.as_deref().map(str::trim).unwrap_or("");
    let error = if reason.is_empty() {
        "请填写取消原因，参会人员会在通知中看到".to_string()
    } else if reason.chars().count() > MAX_CANCEL_REASON_CHARS {
        format!("取消原因不超过{MAX_CANCEL_REASON_CHARS}字")
    } else {
        return Ok(reason.to_string());
    };
    Err(FieldErrors::from([("reason".into(), error)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn day_31_falls_on_the_last_day_of_shorter_months() {
        let days = Rule::Day(31).occurrences(date!(2027 - 01 - 01), date!(2027 - 06 - 30));
        let expected = [
            date!(2027 - 01 - 31),
            date!(2027 - 02 - 28),
            date!(2027 - 03 - 31),
            date!(2027 - 04 - 30),
            date!(2027 - 05 - 31),
            date!(2027 - 06 - 30),
        ];
        assert_eq!(days, expected);
        // 29 February in a leap year, 28 in a common one (C1).
        assert_eq!(Rule::Day(29).in_month(2028, Month::February), Some(date!(2028 - 02 - 29)));
        assert_eq!(Rule::Day(30).in_month(2027, Month::February), Some(date!(2027 - 02 - 28)));
    }

    #[test]
    fn nth_and_last_weekdays() {
        let second_thursday = Rule::Weekday { nth: 2, weekday: Weekday::Thursday };
        // December 2026 begins on a Tuesday: its Thursdays are the 3rd, 10th, 17th, 24th and 31st.
        assert_eq!(second_thursday.in_month(2026, Month::December), Some(date!(2026 - 12 - 10)));
        let last_friday = Rule::Weekday { nth: 5, weekday: Weekday::Friday };
        assert_eq!(last_friday.in_month(2026, Month::December), Some(date!(2026 - 12 - 25)));
        assert_eq!(last_friday.in_month(2027, Month::April), Some(date!(2027 - 04 - 30)));
        let first_monday = Rule::Weekday { nth: 1, weekday: Weekday::Monday };
        assert_eq!(first_monday.in_month(2027, Month::March), Some(date!(2027 - 03 - 01)));
        for r in [second_thursday, last_friday, Rule::Day(15)] {
            assert_eq!(Rule::parse(&r.code()), Some(r));
        }
        assert_eq!(second_thursday.label(), "每月第二个星期四");
        assert_eq!(last_friday.label(), "每月最后一个星期五");
    }

    #[test]
    fn the_period_bounds_the_days_across_a_year_end() {
        let days = Rule::Day(15).occurrences(date!(2026 - 11 - 24), date!(2027 - 02 - 10));
        assert_eq!(days, [date!(2026 - 12 - 15), date!(2027 - 01 - 15)]);
    }

    #[test]
    fn rule_and_period_are_checked() {
        let today = date!(2026 - 11 - 24);
        let ok = validate_rule(&PlanInput { day: Some(31), ..PlanInput::default() }, today).unwrap();
        assert_eq!(ok.days, [date!(2026 - 11 - 30), date!(2026 - 12 - 31)], "default: to the end of the year");
        let bad = PlanInput {
            rule: Some("weekday".into()),
            nth: Some(6),
            starts_on: Some("2026-11-01".into()),
            ends_on: Some("2026-13-01".into()),
            ..PlanInput::default()
        };
        let e = validate_rule(&bad, today).unwrap_err();
        assert_eq!(e.keys().map(String::as_str).collect::<Vec<_>>(), ["ends_on", "nth", "starts_on", "weekday"]);
        let long = PlanInput { day: Some(1), ends_on: Some("2029-12-31".into()), ..PlanInput::default() };
        assert!(validate_rule(&long, today).unwrap_err()["ends_on"].contains("最多"));
        let none = PlanInput { day: Some(1), ends_on: Some("2026-11-28".into()), ..PlanInput::default() };
        assert!(validate_rule(&none, today).unwrap_err()["ends_on"].contains("没有"));
        assert_eq!(meeting_title(" 主题党日 ", date!(2026 - 12 - 15)), "2026年12月主题党日");
    }

    #[test]
    fn a_cancellation_needs_a_short_reason() {
        let of = |r: &str| validate_cancel(&CancelPlanInput { reason: Some(r.into()) });
        assert_eq!(of("  学院统一安排  ").unwrap(), "学院统一安排");
        assert!(of("   ").unwrap_err()["reason"].contains("请填写取消原因"));
        assert!(validate_cancel(&CancelPlanInput::default()).unwrap_err().contains_key("reason"));
        assert!(of(&"因".repeat(MAX_CANCEL_REASON_CHARS)).is_ok());
        assert!(of(&"因".repeat(MAX_CANCEL_REASON_CHARS + 1)).unwrap_err()["reason"].contains("200"));
    }
}
