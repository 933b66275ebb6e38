//! Member status (党籍), TRF-03/04 and FEE-08: members who lost contact, members studying abroad, suspended
//! members and dues arrears. The engine only raises flags with the article cited; suspending or removing
//! anyone is for the branch and the committees to decide (C7, and 党章 art. 9 reserves it to them).

use kernel::dates::add_months;
use serde::Serialize;
use time::{Date, Duration};
use utoipa::ToSchema;

use super::{Finding, Sources, YearMonth, cite, iso};

/// TRF-04: lost contact for 6 months or more → 停止党籍 may be considered.
pub const LOST_CONTACT_MONTHS: i32 = 6;
/// TRF-04: 2 years after suspension, still unreachable → removal may be considered.
pub const REMOVAL_MONTHS: i32 = 24;
/// TRF-04: studying abroad for more than 5 years (超过: strictly more, C3).
pub const ABROAD_YEARS: i32 = 5;
/// TRF-03: members studying abroad keep contact at least once every half year.
pub const ABROAD_CONTACT_MONTHS: i32 = 6;
/// FEE-08 / 党章 art. 9: 6 consecutive months without paying dues.
pub const ARREARS_MONTHS: i64 = 6;

/// What is known about a member; every item optional except the day of judgement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusCase {
    /// The last time the organization reached the member.
    pub last_contact_on: Option<Date>,
    /// The last organizational life the member attended.
    pub last_life_on: Option<Date>,
    /// The day of the last dues payment.
    pub last_paid_on: Option<Date>,
    /// Studying (or working) abroad since.
    pub abroad_since: Option<Date>,
    /// 党籍 suspended (停止党籍) since.
    pub suspended_on: Option<Date>,
    /// The last month the dues were paid for.
    pub last_paid_month: Option<YearMonth>,
    pub as_of: Date,
}

impl StatusCase {
    /// A member about whom nothing is known yet, judged on `as_of`.
    pub fn new(as_of: Date) -> StatusCase {
        StatusCase {
            last_contact_on: None,
            last_life_on: None,
            last_paid_on: None,
            abroad_since: None,
            suspended_on: None,
            last_paid_month: None,
            as_of,
        }
    }
}

/// The deadlines of a member's status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusDeadlines {
    /// The latest of last contact, last organizational life and last payment (TRF-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_since: Option<Date>,
    /// From this day the branch may consider 停止党籍 for lost contact (TRF-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-08-15")]
    pub suspension_from: Option<Date>,
    /// A member abroad must be contacted by this day (TRF-03).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_due: Option<Date>,
    /// From this day a member studying abroad has been away more than 5 years (TRF-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abroad_suspension_from: Option<Date>,
    /// From this day a suspended member may be removed if still unreachable (TRF-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal_from: Option<Date>,
    /// From this day six consecutive months are unpaid (FEE-08).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-10-01")]
    pub fee_arrears_from: Option<Date>,
}

/// The flags raised about a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusAssessment {
    pub flags: Vec<Finding>,
    pub deadlines: StatusDeadlines,
    pub citations: Vec<&'static str>,
}

/// FEE-08: the months after `last_paid` that have fully elapsed by `as_of` (C6) — all unpaid.
pub fn unpaid_elapsed_months(last_paid: YearMonth, as_of: Date) -> i64 {
    (last_paid.months_until(YearMonth::of(as_of)) - 1).max(0)
}

/// TRF-04: the day lost contact has lasted six months, counted from the latest sign of the member.
pub fn suspension_from(lost_since: Date) -> Date {
    add_months(lost_since, LOST_CONTACT_MONTHS)
}

/// TRF-04: "超过5年" — the first day a member abroad since `since` has been away more than five years.
pub fn abroad_suspension_from(since: Date) -> Date {
    let five_years = add_months(since, 12 * ABROAD_YEARS);
    five_years.checked_add(Duration::DAY).unwrap_or(five_years)
}

/// TRF-03/04 and FEE-08 on one member.
pub fn assess(c: &StatusCase) -> StatusAssessment {
    let mut flags = Vec::new();
    let mut sources = Sources::default();
    let mut d = StatusDeadlines::default();
    let as_of = c.as_of;

    let lost_since = [c.last_contact_on, c.last_life_on, c.last_paid_on].into_iter().flatten().max();
    if let Some(since) = lost_since {
        let from = suspension_from(since);
        d.lost_since = Some(since);
        d.suspension_from = Some(from);
        sources.add(cite::JYGL_ART24);
        if as_of >= from {
            flags.push(Finding::warning(
                "TRF-04",
                "lost_contact",
                format!(
                    "自{}起已失去联系满6个月：经多方查找仍无法取得联系的，可由党支部研究决定停止其党籍（系统不自动处理）",
                    iso(since)
                ),
                vec![cite::JYGL_ART24],
            ));
        }
    }

    if let Some(since) = c.abroad_since {
        let contact_from = [Some(since), c.last_contact_on].into_iter().flatten().max().unwrap_or(since);
        let due = add_months(contact_from, ABROAD_CONTACT_MONTHS);
        d.contact_due = Some(due);
        sources.add(cite::JYGL_ART34);
        if as_of > due {
            flags.push(Finding::warning(
                "TRF-03",
                "abroad_contact_overdue",
                format!("出国（境）学习研究的党员，党组织应至少每半年与其联系一次；应在{}前联系，已逾期", iso(due)),
                vec![cite::JYGL_ART34],
            ));
        }
        let from = abroad_suspension_from(since);
        d.abroad_suspension_from = Some(from);
        sources.add(cite::JYGL_ART24);
        if as_of >= from {
            flags.push(Finding::warning(
                "TRF-04",
                "abroad_over_five_years",
                format!("自{}出国（境）学习研究已超过5年，一般应停止党籍，请党支部研究处理", iso(since)),
                vec![cite::JYGL_ART24],
            ));
        }
    }

    if let Some(suspended) = c.suspended_on {
        let from = add_months(suspended, REMOVAL_MONTHS);
        d.removal_from = Some(from);
        sources.add(cite::JYGL_ART24);
        if as_of >= from {
            flags.push(Finding::warning(
                "TRF-04",
                "removal_eligible",
                format!(
                    "自{}停止党籍已满2年：仍无法取得联系的，可按程序予以除名；已恢复联系的，可按程序恢复党籍",
                    iso(suspended)
                ),
                vec![cite::JYGL_ART24],
            ));
        }
    }

    if let Some(last) = c.last_paid_month {
        sources.add(cite::DANGZHANG_ART9);
        d.fee_arrears_from = last.plus(ARREARS_MONTHS + 1).and_then(YearMonth::first_day);
        let unpaid = unpaid_elapsed_months(last, as_of);
        if unpaid >= ARREARS_MONTHS {
            let first = last.plus(1).map(|m| m.to_string()).unwrap_or_default();
            flags.push(Finding::warning(
                "FEE-08",
                "fee_arrears_six_months",
                format!(
                    "自{first}起连续{unpaid}个月未交纳党费（连续6个月未交纳党费）：没有正当理由的，按党章规定被认为是自行脱党，请党支部了解情况并研究处理"
                ),
                vec![cite::DANGZHANG_ART9],
            ));
        }
    }

    StatusAssessment { flags, deadlines: d, citations: sources.into_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn case(as_of: Date) -> StatusCase {
        StatusCase::new(as_of)
    }

    fn codes(a: &StatusAssessment) -> Vec<&'static str> {
        a.flags.iter().map(|f| f.code).collect()
    }

    #[test]
    fn fee_08_six_elapsed_unpaid_months() {
        let march = YearMonth::parse("2025-03").unwrap();
        let cases = [
            (date!(2025 - 10 - 01), 6, true),
            (date!(2025 - 09 - 30), 5, false),
            (date!(2025 - 09 - 15), 5, false),
            (date!(2025 - 03 - 31), 0, false),
            (date!(2025 - 01 - 15), 0, false),
            (date!(2026 - 01 - 01), 9, true),
        ];
        for (as_of, unpaid, flagged) in cases {
            assert_eq!(unpaid_elapsed_months(march, as_of), unpaid, "{as_of}");
            let a = assess(&StatusCase { last_paid_month: Some(march), ..case(as_of) });
            assert_eq!(codes(&a).contains(&"fee_arrears_six_months"), flagged, "{as_of}");
            assert_eq!(a.deadlines.fee_arrears_from, Some(date!(2025 - 10 - 01)));
            assert!(a.citations.contains(&cite::DANGZHANG_ART9));
        }
        let flag = &assess(&StatusCase { last_paid_month: Some(march), ..case(date!(2025 - 10 - 01)) }).flags[0];
        assert!(flag.message.contains("连续6个月未交纳党费") && flag.message.contains("2025-04"), "{}", flag.message);
        // Across a year end.
        let nov = YearMonth::parse("2024-11").unwrap();
        assert_eq!(unpaid_elapsed_months(nov, date!(2025 - 06 - 01)), 6);
    }

    #[test]
    fn trf_04_lost_contact_and_suspension() {
        let a = assess(&StatusCase {
            last_life_on: Some(date!(2025 - 01 - 10)),
            last_paid_on: Some(date!(2025 - 02 - 15)),
            ..case(date!(2025 - 08 - 15))
        });
        assert_eq!(a.deadlines.lost_since, Some(date!(2025 - 02 - 15)));
        assert_eq!(a.deadlines.suspension_from, Some(date!(2025 - 08 - 15)));
        assert_eq!(codes(&a), vec!["lost_contact"]);
        let day_before =
            assess(&StatusCase { last_contact_on: Some(date!(2025 - 02 - 15)), ..case(date!(2025 - 08 - 14)) });
        assert!(codes(&day_before).is_empty());
        let suspended = |as_of| assess(&StatusCase { suspended_on: Some(date!(2025 - 09 - 01)), ..case(as_of) });
        assert_eq!(suspended(date!(2027 - 09 - 01)).deadlines.removal_from, Some(date!(2027 - 09 - 01)));
        assert_eq!(codes(&suspended(date!(2027 - 09 - 01))), vec!["removal_eligible"]);
        assert!(codes(&suspended(date!(2027 - 08 - 31))).is_empty());
        // Month end: lost since 31 August → 28 February.
        assert_eq!(suspension_from(date!(2025 - 08 - 31)), date!(2026 - 02 - 28));
    }

    #[test]
    fn trf_04_abroad_more_than_five_years() {
        let since = date!(2020 - 09 - 01);
        assert_eq!(abroad_suspension_from(since), date!(2025 - 09 - 02));
        let on =
            |as_of, contact| assess(&StatusCase { abroad_since: Some(since), last_contact_on: contact, ..case(as_of) });
        assert!(!codes(&on(date!(2025 - 09 - 01), Some(date!(2025 - 08 - 01)))).contains(&"abroad_over_five_years"));
        assert!(codes(&on(date!(2025 - 09 - 02), Some(date!(2025 - 08 - 01)))).contains(&"abroad_over_five_years"));
        // Leap day: abroad since 2020-02-29 → five years end 2025-02-28, flagged from 2025-03-01.
        assert_eq!(abroad_suspension_from(date!(2020 - 02 - 29)), date!(2025 - 03 - 01));
    }

    #[test]
    fn trf_03_contact_abroad_every_half_year() {
        let a = |as_of| {
            assess(&StatusCase {
                abroad_since: Some(date!(2024 - 09 - 01)),
                last_contact_on: Some(date!(2025 - 01 - 15)),
                ..case(as_of)
            })
        };
        assert_eq!(a(date!(2025 - 07 - 16)).deadlines.contact_due, Some(date!(2025 - 07 - 15)));
        assert!(codes(&a(date!(2025 - 07 - 16))).contains(&"abroad_contact_overdue"));
        assert!(!codes(&a(date!(2025 - 07 - 15))).contains(&"abroad_contact_overdue"));
    }

    #[test]
    fn flags_never_decide() {
        let all = assess(&StatusCase {
            last_contact_on: Some(date!(2019 - 01 - 01)),
            abroad_since: Some(date!(2018 - 01 - 01)),
            suspended_on: Some(date!(2020 - 01 - 01)),
            last_paid_month: YearMonth::parse("2019-01"),
            ..case(date!(2025 - 01 - 01))
        });
        assert_eq!(all.flags.len(), 5);
        assert!(all.flags.iter().all(|f| f.severity == super::super::Severity::Warning && !f.citations.is_empty()));
    }
}
