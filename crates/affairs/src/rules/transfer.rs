//! Transfers of the organizational relationship (组织关系转接), TRF-01…03: when the relationship must move,
//! how long an introduction letter is valid, how long a graduate's relationship may stay at the university
//! and until when an expired letter may be reissued.
//!
//! The validity of a letter is not fixed by any national text domain.md could verify; this project's
//! CONVENTION is that the issuer sets it, 30 days by default and 90 at most, and the last valid day is the
//! issue date plus that many days (the start day not counted, as in C1).

use kernel::dates::add_months;
use serde::Serialize;
use time::{Date, Duration};
use utoipa::ToSchema;

use super::{Finding, Sources, cite, iso};

/// TRF-01: an absence of 6 months or more at a relatively fixed place moves the relationship.
pub const FIXED_PLACE_MONTHS: i32 = 6;
/// TRF-02 (CONVENTION): a letter's validity when the issuer sets none.
pub const DEFAULT_VALIDITY_DAYS: u32 = 30;
/// TRF-02 (CONVENTION): the longest validity a letter may carry.
pub const MAX_VALIDITY_DAYS: u32 = 90;
/// TRF-03: a graduate's relationship stays at the university generally ≤ 2 years.
pub const RETENTION_MONTHS: i32 = 24;
/// TRF-03 (组通字〔2015〕33号): an expired letter may be reissued within 6 months of the transfer out.
pub const REISSUE_MONTHS: i32 = 6;

/// What an absence asks for (TRF-01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// The formal relationship must be transferred.
    Transfer,
    /// A 《流动党员活动证》 is enough; the relationship stays.
    Certificate,
}

/// TRF-01 (党员教育管理工作条例 art. 25): away from `from` to `until` at a relatively fixed place for 6 months or
/// more (C3: the boundary included) → transfer; shorter or not at a fixed place → certificate.
pub fn relationship_move(from: Date, until: Date, fixed_place: bool) -> Move {
    if fixed_place && until >= add_months(from, FIXED_PLACE_MONTHS) { Move::Transfer } else { Move::Certificate }
}

/// The citations of TRF-01.
pub fn move_citations(m: Move) -> Vec<&'static str> {
    match m {
        Move::Transfer => vec![cite::JYGL_ART25],
        Move::Certificate => vec![cite::JYGL_ART25, cite::MOBILE_CERTIFICATE],
    }
}

/// Where a transfer stands at the sender (TRF-01, TRF-02).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferState {
    /// Sent and not yet received: the member stays listed under the sending branch, which remains
    /// responsible ("转出待接收").
    PendingReceipt,
    /// The receipt came back: the transfer is closed at the sender.
    Received,
}

/// TRF-01/02: the sender's view of a transfer sent on `out_on`.
pub fn transfer_state(out_on: Date, receipt_on: Option<Date>, as_of: Date) -> TransferState {
    match receipt_on {
        Some(r) if r >= out_on && r <= as_of => TransferState::Received,
        _ => TransferState::PendingReceipt,
    }
}

/// A question about a letter, a retained graduate or a reissue; every item optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferCase {
    pub letter_issued_on: Option<Date>,
    /// The validity the issuer set (default 30 days).
    pub validity_days: Option<u32>,
    /// The letter was presented to the receiving organization.
    pub presented_on: Option<Date>,
    /// A graduate's relationship has been kept by the university since.
    pub retained_since: Option<Date>,
    /// The relationship was transferred out (the letter was issued for it).
    pub transferred_out_on: Option<Date>,
    /// A new letter was asked for after the old one expired.
    pub reissue_requested_on: Option<Date>,
    pub as_of: Date,
}

impl TransferCase {
    /// A case with nothing known yet, judged on `as_of`.
    pub fn new(as_of: Date) -> TransferCase {
        TransferCase {
            letter_issued_on: None,
            validity_days: None,
            presented_on: None,
            retained_since: None,
            transferred_out_on: None,
            reissue_requested_on: None,
            as_of,
        }
    }
}

/// The deadlines of a transfer case.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct TransferDeadlines {
    /// The letter's last valid day (TRF-02).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-07-31")]
    pub letter_valid_until: Option<Date>,
    /// The graduate's relationship must have left the university by this day (TRF-03).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2027-07-01")]
    pub retention_ends: Option<Date>,
    /// The last day an expired letter may be reissued (TRF-03).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-01-01")]
    pub reissue_latest: Option<Date>,
}

/// The answer about a transfer case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct TransferAssessment {
    pub violations: Vec<Finding>,
    pub deadlines: TransferDeadlines,
    pub citations: Vec<&'static str>,
}

/// TRF-02: the last valid day of a letter issued on `issued_on` for `validity_days`.
pub fn letter_valid_until(issued_on: Date, validity_days: u32) -> Option<Date> {
    issued_on.checked_add(Duration::days(i64::from(validity_days)))
}

/// TRF-02/03 on one case.
pub fn assess(c: &TransferCase) -> TransferAssessment {
    let mut findings = Vec::new();
    let mut sources = Sources::default();
    let mut d = TransferDeadlines::default();
    let mut push = |f: Finding, sources: &mut Sources| {
        sources.add_all(&f.citations);
        findings.push(f);
    };

    if let Some(issued) = c.letter_issued_on {
        sources.add(cite::ZUTONG_2006_45);
        let days = c.validity_days.unwrap_or(DEFAULT_VALIDITY_DAYS);
        if days > MAX_VALIDITY_DAYS {
            push(
                Finding::violation(
                    "TRF-02",
                    "validity_too_long",
                    format!("介绍信有效期最长{MAX_VALIDITY_DAYS}天（本平台约定，待组织部门确认），所填为{days}天"),
                    vec![cite::ZUTONG_2006_45],
                ),
                &mut sources,
            );
        } else if let Some(until) = letter_valid_until(issued, days) {
            d.letter_valid_until = Some(until);
            let expired = |on: Date| {
                Finding::violation(
                    "TRF-02",
                    "letter_expired",
                    format!("介绍信有效期至{}，{}已过期，须重新开具", iso(until), iso(on)),
                    vec![cite::ZUTONG_2006_45],
                )
            };
            match c.presented_on {
                Some(p) if p < issued => push(
                    Finding::violation(
                        "TRF-02",
                        "out_of_order",
                        format!("报到日期{}早于介绍信开具日期{}", iso(p), iso(issued)),
                        vec![cite::ZUTONG_2006_45],
                    ),
                    &mut sources,
                ),
                Some(p) if p > until => push(expired(p), &mut sources),
                None if c.as_of > until => push(expired(c.as_of), &mut sources),
                _ => {}
            }
        }
    }

    if let Some(since) = c.retained_since {
        let ends = add_months(since, RETENTION_MONTHS);
        d.retention_ends = Some(ends);
        sources.add(cite::JYGL_ART34);
        if c.as_of > ends {
            push(
                Finding::violation(
                    "TRF-03",
                    "retention_exceeded",
                    format!("毕业生党员组织关系在学校保留一般不超过2年（至{}），请及时转出", iso(ends)),
                    vec![cite::JYGL_ART34],
                ),
                &mut sources,
            );
        }
    }

    if let Some(out) = c.transferred_out_on {
        let latest = add_months(out, REISSUE_MONTHS);
        d.reissue_latest = Some(latest);
        sources.add(cite::ZUTONG_2015_33);
        match c.reissue_requested_on {
            Some(r) if r < out => push(
                Finding::violation(
                    "TRF-03",
                    "out_of_order",
                    format!("补开申请日期{}早于转出日期{}", iso(r), iso(out)),
                    vec![cite::ZUTONG_2015_33],
                ),
                &mut sources,
            ),
            Some(r) if r > latest => push(
                Finding::violation(
                    "TRF-03",
                    "reissue_too_late",
                    format!("介绍信因客观原因过期的，可在转出后6个月内（{}前）补开，{}已超过期限", iso(latest), iso(r)),
                    vec![cite::ZUTONG_2015_33],
                ),
                &mut sources,
            ),
            _ => {}
        }
    }

    TransferAssessment { violations: findings, deadlines: d, citations: sources.into_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn case(as_of: Date) -> TransferCase {
        TransferCase::new(as_of)
    }

    fn codes(a: &TransferAssessment) -> Vec<&'static str> {
        a.violations.iter().map(|f| f.code).collect()
    }

    #[test]
    fn trf_01_when_the_relationship_moves() {
        let from = date!(2025 - 03 - 01);
        assert_eq!(relationship_move(from, date!(2025 - 10 - 15), true), Move::Transfer);
        assert_eq!(relationship_move(from, date!(2025 - 07 - 31), true), Move::Certificate);
        assert_eq!(relationship_move(from, date!(2025 - 09 - 01), true), Move::Transfer, "6 months exactly (以上)");
        assert_eq!(relationship_move(from, date!(2025 - 08 - 31), true), Move::Certificate);
        assert_eq!(relationship_move(from, date!(2026 - 03 - 01), false), Move::Certificate, "no fixed place");
        assert!(move_citations(Move::Certificate).contains(&cite::MOBILE_CERTIFICATE));
        // Sent 2025-05-10, not received by 2025-06-30: still the sender's member.
        assert_eq!(transfer_state(date!(2025 - 05 - 10), None, date!(2025 - 06 - 30)), TransferState::PendingReceipt);
        assert_eq!(
            transfer_state(date!(2025 - 05 - 10), Some(date!(2025 - 06 - 01)), date!(2025 - 06 - 30)),
            TransferState::Received
        );
    }

    #[test]
    fn trf_02_letter_validity() {
        let issued = date!(2025 - 07 - 01);
        let with = |presented: Option<Date>, days: Option<u32>, as_of| TransferCase {
            letter_issued_on: Some(issued),
            validity_days: days,
            presented_on: presented,
            ..case(as_of)
        };
        let a = assess(&with(Some(date!(2025 - 08 - 05)), Some(30), date!(2025 - 08 - 05)));
        assert_eq!(a.deadlines.letter_valid_until, Some(date!(2025 - 07 - 31)));
        assert_eq!(codes(&a), vec!["letter_expired"]);
        assert!(
            codes(&assess(&with(Some(date!(2025 - 07 - 31)), None, date!(2025 - 08 - 05)))).is_empty(),
            "default 30 days, last day valid"
        );
        assert_eq!(codes(&assess(&with(None, Some(120), date!(2025 - 07 - 02)))), vec!["validity_too_long"]);
        assert!(codes(&assess(&with(None, Some(90), date!(2025 - 07 - 02)))).is_empty());
        assert_eq!(
            assess(&with(None, Some(90), date!(2025 - 07 - 02))).deadlines.letter_valid_until,
            Some(date!(2025 - 09 - 29))
        );
        // Never presented and now past its validity.
        assert_eq!(codes(&assess(&with(None, None, date!(2025 - 08 - 01)))), vec!["letter_expired"]);
        assert_eq!(
            codes(&assess(&with(Some(date!(2025 - 06 - 30)), None, date!(2025 - 07 - 02)))),
            vec!["out_of_order"]
        );
    }

    #[test]
    fn trf_03_retention_and_reissue() {
        let kept = |as_of| assess(&TransferCase { retained_since: Some(date!(2025 - 07 - 01)), ..case(as_of) });
        assert_eq!(kept(date!(2027 - 07 - 01)).deadlines.retention_ends, Some(date!(2027 - 07 - 01)));
        assert!(codes(&kept(date!(2027 - 07 - 01))).is_empty());
        assert_eq!(codes(&kept(date!(2027 - 07 - 02))), vec!["retention_exceeded"]);
        let reissue = |on| {
            assess(&TransferCase {
                transferred_out_on: Some(date!(2025 - 07 - 01)),
                reissue_requested_on: Some(on),
                ..case(on)
            })
        };
        assert_eq!(reissue(date!(2026 - 01 - 01)).deadlines.reissue_latest, Some(date!(2026 - 01 - 01)));
        assert!(codes(&reissue(date!(2026 - 01 - 01))).is_empty());
        assert_eq!(codes(&reissue(date!(2026 - 01 - 02))), vec!["reissue_too_late"]);
        // Month end: transferred out on 31 August → reissue through 28 February.
        let end =
            assess(&TransferCase { transferred_out_on: Some(date!(2025 - 08 - 31)), ..case(date!(2025 - 09 - 01)) });
        assert_eq!(end.deadlines.reissue_latest, Some(date!(2026 - 02 - 28)));
        assert!(end.citations.contains(&cite::ZUTONG_2015_33));
    }
}
