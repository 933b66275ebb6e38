//! The structural regulations of organizational life as pure functions: when a branch may stand alone and
//! when it needs a committee (ORG-09), how long a committee's term runs and how far re-election may move
//! (ORG-10), and how an election counts (ELE-01). No I/O; dates follow conventions C1–C3 of domain.md through
//! `kernel::dates::add_months`, and the engine only flags (C7).
//!
//! All the sources of this file are the constants of [`cite`]. Where domain.md marks an article number
//! UNVERIFIED the citation names the chapter or the regulation without a number rather than guess one.

use kernel::dates::add_months;
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

/// The sources, one constant per article.
pub mod cite {
    /// 《中国共产党支部工作条例（试行）》(2018) art. 4: units with 3 or more formal members set up a branch (fewer:
    /// a joint branch, generally covering ≤ 5 units); a branch generally has ≤ 50 members (ORG-09).
    pub const BRANCH_ART4: &str = "《中国共产党支部工作条例（试行）》第四条";
    /// 支部工作条例, chapter 6 (支部委员会建设): 7 or more formal members → a committee of 3 to 5, generally ≤ 7;
    /// fewer → a secretary and, if needed, a deputy (ORG-09; article number UNVERIFIED, the mirrors name the
    /// chapter).
    pub const BRANCH_COMMITTEE: &str = "《中国共产党支部工作条例（试行）》第六章";
    /// 支部工作条例 art. 21: village and community branch committees serve 5 years, others generally 3 (ORG-10).
    pub const BRANCH_ART21: &str = "《中国共产党支部工作条例（试行）》第二十一条";
    /// 《中国共产党章程》(2022) art. 31: base committees, general branches and branches serve 3 to 5 years (ORG-10).
    pub const DANGZHANG_ART31: &str = "《中国共产党章程》第三十一条";
    /// 《中国共产党基层组织选举工作条例》(2020) art. 3: re-election on time; a delay or advance needs the higher
    /// organization's approval and is generally ≤ 1 year (ORG-10).
    pub const ELECTION_ART3: &str = "《中国共产党基层组织选举工作条例》第三条";
    /// 《中国共产党基层组织选举工作条例》(2020): quorum (present voters exceed 4/5 of those entitled), election
    /// (yes votes exceed half of those entitled) and multi-candidate elections (≥ 20% more candidates than seats)
    /// (ELE-01; VERIFIED (secondary); article numbers not given in domain.md, and the 20% ratio is verified for
    /// delegates only).
    pub const ELECTION_VOTING: &str = "《中国共产党基层组织选举工作条例》（选举的实施：到会人数、当选票数、差额比例）";
    /// The higher organization reminds about 6 months before a term ends (条例 commentary, ORG-10).
    pub const TERM_REMINDER: &str = "《中国共产党支部工作条例（试行）》第二十一条（任期届满前约6个月提醒换届）";
}

/// ORG-09: formal members needed to set up a branch of one's own.
pub const BRANCH_MIN_FORMAL: u32 = 3;
/// ORG-09: members a branch generally does not exceed.
pub const BRANCH_MAX_MEMBERS: u32 = 50;
/// ORG-09: formal members from which a branch committee is required.
pub const COMMITTEE_MIN_FORMAL: u32 = 7;
/// ORG-09: the smallest committee.
pub const COMMITTEE_MIN_SIZE: u32 = 3;
/// ORG-09: the usual largest committee (3 to 5) …
pub const COMMITTEE_USUAL_MAX_SIZE: u32 = 5;
/// … and the limit it generally does not exceed.
pub const COMMITTEE_MAX_SIZE: u32 = 7;
/// ORG-09: without a committee, a secretary and, if needed, one deputy.
pub const LEADERS_WITHOUT_COMMITTEE: u32 = 2;
/// ORG-10: a branch committee's usual term (university and other units).
pub const DEFAULT_TERM_YEARS: u32 = 3;
/// ORG-10: the term of village and community branch committees.
pub const VILLAGE_TERM_YEARS: u32 = 5;
/// ORG-10 (党章 art. 31): the shortest and longest terms allowed.
pub const TERM_YEARS_RANGE: std::ops::RangeInclusive<u32> = 3..=5;
/// ORG-10: the reminder comes this many months before the term ends.
pub const REMINDER_MONTHS: i32 = 6;
/// ORG-10: a delay or an advance is generally at most this many months.
pub const MOVE_MAX_MONTHS: i32 = 12;

/// How grave a finding is: a `violation` breaks a rule; a `warning` is a "generally" rule to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Violation,
    Warning,
}

/// One thing a rule found, with its sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    #[schema(example = "postpone_too_long")]
    pub code: &'static str,
    #[schema(example = "ORG-10")]
    pub rule: &'static str,
    pub severity: Severity,
    #[schema(example = "延期换届一般不超过1年（最迟2027-06-30），所请延至2027-07-15")]
    pub message: String,
    pub citations: Vec<&'static str>,
}

impl Finding {
    fn violation(rule: &'static str, code: &'static str, message: String, citations: &[&'static str]) -> Self {
        Finding { code, rule, severity: Severity::Violation, message, citations: citations.to_vec() }
    }

    fn warning(rule: &'static str, code: &'static str, message: String, citations: &[&'static str]) -> Self {
        Finding { code, rule, severity: Severity::Warning, message, citations: citations.to_vec() }
    }
}

/// ORG-09: a branch of `formal` formal members needs a committee.
pub fn committee_required(formal: u32) -> bool {
    formal >= COMMITTEE_MIN_FORMAL
}

/// ORG-10/ELE-01 of a committee that is (to be) elected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeQuestion {
    pub formal_members: u32,
    pub probationary_members: u32,
    /// Seats of the committee (or, without a committee, secretary plus deputy).
    pub proposed_size: Option<u32>,
    /// The day the committee was elected.
    pub elected_on: Option<Date>,
    /// A requested date for the next election other than the term's end (a delay or an advance).
    pub postpone_to: Option<Date>,
    /// The term in years (3 unless given; 5 for village and community branches).
    pub term_years: Option<u32>,
    /// Candidates on the ballot for `proposed_size` seats.
    pub candidates: Option<u32>,
}

impl CommitteeQuestion {
    pub fn new(formal_members: u32, probationary_members: u32) -> CommitteeQuestion {
        CommitteeQuestion {
            formal_members,
            probationary_members,
            proposed_size: None,
            elected_on: None,
            postpone_to: None,
            term_years: None,
            candidates: None,
        }
    }
}

/// The answer about a branch's committee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CommitteeAnswer {
    /// ORG-09: 7 or more formal members.
    pub committee_required: bool,
    /// The smallest committee allowed (`null` when no committee is set up).
    #[schema(example = 3)]
    pub size_min: Option<u32>,
    /// The largest committee generally allowed (`null` when no committee is set up).
    #[schema(example = 7)]
    pub size_max: Option<u32>,
    /// The term's last day (ORG-10).
    #[schema(value_type = Option<String>, format = Date, example = "2026-06-30")]
    pub term_ends: Option<Date>,
    /// The higher organization's reminder is due (about 6 months before the term ends).
    #[schema(value_type = Option<String>, format = Date, example = "2025-12-30")]
    pub reminder_on: Option<Date>,
    /// The latest an approved delay may put the election.
    #[schema(value_type = Option<String>, format = Date, example = "2027-06-30")]
    pub postpone_latest: Option<Date>,
    /// The earliest an approved advance may put the election.
    #[schema(value_type = Option<String>, format = Date, example = "2025-06-30")]
    pub advance_earliest: Option<Date>,
    /// ELE-01: the fewest candidates for the proposed seats in a multi-candidate election.
    #[schema(example = 6)]
    pub candidates_min: Option<u32>,
    pub violations: Vec<Finding>,
    pub citations: Vec<&'static str>,
}

/// ORG-09, ORG-10 and ELE-01 on one branch.
pub fn committee(q: &CommitteeQuestion) -> CommitteeAnswer {
    let mut findings = Vec::new();
    let mut sources: Vec<&'static str> = Vec::new();
    let required = committee_required(q.formal_members);
    cite_once(&[cite::BRANCH_ART4, cite::BRANCH_COMMITTEE], &mut sources);

    // ORG-09: standing alone and size.
    if q.formal_members < BRANCH_MIN_FORMAL {
        findings.push(Finding::violation(
            "ORG-09",
            "too_few_for_branch",
            format!(
                "正式党员{}人，不足3人，不能单独成立党支部，应与邻近单位联合成立党支部（联合党支部覆盖单位一般不超过5个）",
                q.formal_members
            ),
            &[cite::BRANCH_ART4],
        ));
    }
    let total = q.formal_members.saturating_add(q.probationary_members);
    if total > BRANCH_MAX_MEMBERS {
        findings.push(Finding::warning(
            "ORG-09",
            "branch_over_50",
            format!("党支部党员人数一般不超过50人，现有{total}人，可考虑分设党支部或成立党总支"),
            &[cite::BRANCH_ART4],
        ));
    }
    let (size_min, size_max) =
        if required { (Some(COMMITTEE_MIN_SIZE), Some(COMMITTEE_MAX_SIZE)) } else { (None, None) };
    if let Some(size) = q.proposed_size {
        if required && !(COMMITTEE_MIN_SIZE..=COMMITTEE_MAX_SIZE).contains(&size) {
            findings.push(Finding::violation(
                "ORG-09",
                "committee_size",
                format!("正式党员7人以上的党支部设支部委员会，由3至5人组成，一般不超过7人；拟设{size}人"),
                &[cite::BRANCH_COMMITTEE],
            ));
        } else if !required && size > LEADERS_WITHOUT_COMMITTEE {
            findings.push(Finding::violation(
                "ORG-09",
                "no_committee_below_seven",
                format!(
                    "正式党员{}人，不足7人，不设支部委员会，设书记1名，必要时设副书记1名；拟设{size}人",
                    q.formal_members
                ),
                &[cite::BRANCH_COMMITTEE],
            ));
        }
    }

    // ORG-10: the term and how far the election may move.
    let years = q.term_years.unwrap_or(DEFAULT_TERM_YEARS);
    if !TERM_YEARS_RANGE.contains(&years) {
        findings.push(Finding::violation(
            "ORG-10",
            "term_out_of_range",
            format!("党的基层委员会每届任期3年至5年（支部委员会一般3年，村、社区5年），所填{years}年"),
            &[cite::DANGZHANG_ART31, cite::BRANCH_ART21],
        ));
    }
    let mut term_ends = None;
    let mut reminder_on = None;
    let mut postpone_latest = None;
    let mut advance_earliest = None;
    if let Some(elected) = q.elected_on {
        cite_once(&[cite::BRANCH_ART21, cite::DANGZHANG_ART31, cite::TERM_REMINDER, cite::ELECTION_ART3], &mut sources);
        let ends = term_end(elected, years);
        let (earliest, latest) = move_window(ends);
        term_ends = Some(ends);
        reminder_on = Some(add_months(ends, -REMINDER_MONTHS));
        postpone_latest = Some(latest);
        advance_earliest = Some(earliest);
        if let Some(to) = q.postpone_to {
            if to > latest {
                findings.push(Finding::violation(
                    "ORG-10",
                    "postpone_too_long",
                    format!(
                        "任期至{}届满，延期换届须报上级党组织批准，一般不超过1年（最迟{}），所请延至{}",
                        kernel::dates::iso(ends),
                        kernel::dates::iso(latest),
                        kernel::dates::iso(to)
                    ),
                    &[cite::ELECTION_ART3],
                ));
            } else if to < earliest {
                findings.push(Finding::violation(
                    "ORG-10",
                    "advance_too_early",
                    format!(
                        "任期至{}届满，提前换届须报上级党组织批准，一般不超过1年（最早{}），所请提前至{}",
                        kernel::dates::iso(ends),
                        kernel::dates::iso(earliest),
                        kernel::dates::iso(to)
                    ),
                    &[cite::ELECTION_ART3],
                ));
            }
        }
    }

    // ELE-01: multi-candidate elections.
    let candidates_min = q.proposed_size.filter(|s| *s > 0).map(min_candidates);
    if let Some(min) = candidates_min {
        cite_once(&[cite::ELECTION_VOTING], &mut sources);
        if let Some(c) = q.candidates.filter(|c| *c < min) {
            findings.push(Finding::warning(
                "ELE-01",
                "too_few_candidates",
                format!(
                    "差额选举的候选人数应多于应选人数的20%：{}个名额至少{min}名候选人，现有{c}名",
                    q.proposed_size.unwrap_or(0)
                ),
                &[cite::ELECTION_VOTING],
            ));
        }
    }

    for f in &findings {
        cite_once(&f.citations, &mut sources);
    }
    CommitteeAnswer {
        committee_required: required,
        size_min,
        size_max,
        term_ends,
        reminder_on,
        postpone_latest,
        advance_earliest,
        candidates_min,
        violations: findings,
        citations: sources,
    }
}

/// Adds citations to an answer's sources once each, in the order of first use.
fn cite_once(citations: &[&'static str], sources: &mut Vec<&'static str>) {
    for c in citations {
        if !sources.contains(c) {
            sources.push(c);
        }
    }
}

/// ORG-10: the last day of a term of `years` from the election (C2).
pub fn term_end(elected_on: Date, years: u32) -> Date {
    add_months(elected_on, 12 * i32::try_from(years.min(100)).unwrap_or(100))
}

/// ORG-10: the earliest advance and the latest delay of the election (≤ 1 year either way, with approval).
pub fn move_window(term_ends: Date) -> (Date, Date) {
    (add_months(term_ends, -MOVE_MAX_MONTHS), add_months(term_ends, MOVE_MAX_MONTHS))
}

/// ELE-01: the vote is valid when the voters present exceed four fifths of those entitled to attend
/// (5·present > 4·entitled).
pub fn quorum_met(entitled: u32, present: u32) -> bool {
    5 * u64::from(present) > 4 * u64::from(entitled)
}

/// ELE-01: the fewest voters present for a valid vote.
pub fn quorum_min(entitled: u32) -> u32 {
    u32::try_from(4 * u64::from(entitled) / 5 + 1).unwrap_or(u32::MAX)
}

/// ELE-01: a candidate is elected with yes votes exceeding half of those entitled to attend.
pub fn elected(entitled: u32, yes: u32) -> bool {
    2 * u64::from(yes) > u64::from(entitled)
}

/// ELE-01: the fewest yes votes to be elected.
pub fn elected_min(entitled: u32) -> u32 {
    entitled / 2 + 1
}

/// ELE-01: candidates exceed the seats by at least 20%, rounded up (进一法): seats + ⌈seats / 5⌉.
pub fn min_candidates(seats: u32) -> u32 {
    seats.saturating_add(seats.div_ceil(5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn codes(a: &CommitteeAnswer) -> Vec<&'static str> {
        a.violations.iter().map(|f| f.code).collect()
    }

    #[test]
    fn org_09_when_a_committee_is_required() {
        let a = committee(&CommitteeQuestion::new(6, 3));
        assert!(!a.committee_required);
        assert_eq!((a.size_min, a.size_max), (None, None));
        assert!(codes(&a).is_empty());
        let a = committee(&CommitteeQuestion::new(7, 0));
        assert!(a.committee_required);
        assert_eq!((a.size_min, a.size_max), (Some(3), Some(7)));
        assert!(a.citations.contains(&cite::BRANCH_COMMITTEE));
        let sized = |formal, size| {
            codes(&committee(&CommitteeQuestion { proposed_size: Some(size), ..CommitteeQuestion::new(formal, 0) }))
        };
        for size in 3..=7 {
            assert!(sized(7, size).is_empty(), "{size}");
        }
        assert_eq!(sized(7, 8), vec!["committee_size"]);
        assert_eq!(sized(7, 2), vec!["committee_size"]);
        assert!(sized(6, 2).is_empty(), "secretary and deputy");
        assert_eq!(sized(6, 3), vec!["no_committee_below_seven"]);
    }

    #[test]
    fn org_09_branch_size() {
        assert_eq!(codes(&committee(&CommitteeQuestion::new(2, 0))), vec!["too_few_for_branch"]);
        assert_eq!(
            codes(&committee(&CommitteeQuestion::new(2, 5))),
            vec!["too_few_for_branch"],
            "probationary members do not count"
        );
        assert!(codes(&committee(&CommitteeQuestion::new(3, 0))).is_empty());
        let big = committee(&CommitteeQuestion::new(50, 5));
        assert_eq!(codes(&big), vec!["branch_over_50"]);
        assert_eq!(big.violations[0].severity, Severity::Warning);
        assert!(big.violations[0].message.contains("一般不超过50人"));
        assert!(codes(&committee(&CommitteeQuestion::new(45, 5))).is_empty());
    }

    #[test]
    fn org_10_term_reminder_and_delay() {
        let q = |postpone_to| CommitteeQuestion {
            elected_on: Some(date!(2023 - 06 - 30)),
            postpone_to,
            ..CommitteeQuestion::new(9, 1)
        };
        let a = committee(&q(None));
        assert_eq!(a.term_ends, Some(date!(2026 - 06 - 30)));
        assert_eq!(a.reminder_on, Some(date!(2025 - 12 - 30)));
        assert_eq!(a.postpone_latest, Some(date!(2027 - 06 - 30)));
        assert_eq!(a.advance_earliest, Some(date!(2025 - 06 - 30)));
        assert!(a.citations.contains(&cite::ELECTION_ART3));
        assert!(codes(&committee(&q(Some(date!(2027 - 06 - 30))))).is_empty());
        assert_eq!(codes(&committee(&q(Some(date!(2027 - 07 - 15))))), vec!["postpone_too_long"]);
        assert_eq!(codes(&committee(&q(Some(date!(2025 - 06 - 29))))), vec!["advance_too_early"]);
        assert!(codes(&committee(&q(Some(date!(2025 - 06 - 30))))).is_empty());
        // Village and community committees: 5 years; 6 years is beyond 党章 art. 31.
        let village = committee(&CommitteeQuestion { term_years: Some(5), ..q(None) });
        assert_eq!(village.term_ends, Some(date!(2028 - 06 - 30)));
        assert_eq!(codes(&committee(&CommitteeQuestion { term_years: Some(6), ..q(None) })), vec!["term_out_of_range"]);
        // Month ends and leap days.
        assert_eq!(term_end(date!(2024 - 02 - 29), 3), date!(2027 - 02 - 28));
        let leap =
            committee(&CommitteeQuestion { elected_on: Some(date!(2023 - 08 - 31)), ..CommitteeQuestion::new(9, 0) });
        assert_eq!(leap.reminder_on, Some(date!(2026 - 02 - 28)));
    }

    #[test]
    fn ele_01_quorum_majority_and_candidates() {
        assert_eq!(quorum_min(40), 33);
        assert!(quorum_met(40, 33));
        assert!(!quorum_met(40, 32), "32×5 = 160 is not more than 40×4");
        assert_eq!(elected_min(40), 21);
        assert!(elected(40, 21));
        assert!(!elected(40, 20));
        assert_eq!(min_candidates(5), 6);
        assert_eq!(min_candidates(7), 9);
        assert_eq!(min_candidates(3), 4);
        assert_eq!(min_candidates(10), 12);
        let q = |candidates| CommitteeQuestion { proposed_size: Some(5), candidates, ..CommitteeQuestion::new(20, 0) };
        assert_eq!(committee(&q(None)).candidates_min, Some(6));
        assert_eq!(codes(&committee(&q(Some(5)))), vec!["too_few_candidates"]);
        assert!(codes(&committee(&q(Some(6)))).is_empty());
    }
}
