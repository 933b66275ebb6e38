//! Recruitment (发展党员), DEV-00…17 of domain.md: the age limit, the deadlines between the steps of the five
//! stages, the quorum of the admission meeting, probation and its extension, and when 党龄 starts.
//!
//! [`assess`] judges the dates of one person's development so far (any subset) and answers with the
//! deadlines that follow from them and the rules they break. A date left out is *unknown*, not missing:
//! overdue alerts are raised only while no later step is recorded, and blocking a step whose records are
//! absent (DEV-00-T1, DEV-10-T3) is the pipeline's job. The other functions are the single rules the
//! pipeline will call on records this endpoint does not carry (contacts, introducers, votes, publicity).

use std::collections::BTreeSet;

use kernel::dates::{add_months, age_on};
use serde::Serialize;
use time::{Date, Duration};
use utoipa::ToSchema;

use super::{Finding, RuleSelection, RuleSet, Sources, Xize, cite, days_between, iso};

/// DEV-01: 年满十八岁 (age by C4 on the application date).
pub const MIN_AGE: i32 = 18;
/// DEV-02: the talk within one month of receiving the application.
pub const TALK_MONTHS: i32 = 1;
/// DEV-05: one examination in every half year.
pub const EXAMINATION_MONTHS: i32 = 6;
/// DEV-06: 一年以上 of cultivation (C2: the same date a year later is allowed).
pub const CULTIVATION_MONTHS: i32 = 12;
/// DEV-09: training of not less than 3 days …
pub const TRAINING_MIN_DAYS: f64 = 3.0;
/// … or not less than 24 class hours.
pub const TRAINING_MIN_HOURS: f64 = 24.0;
/// DEV-10: leaving the unit within 3 months of pre-review → generally not admitted.
pub const DEPARTURE_MONTHS: i32 = 3;
/// DEV-13: approval within 3 months of the branch resolution …
pub const APPROVAL_MONTHS: i32 = 3;
/// … extended in special circumstances, never beyond 6.
pub const APPROVAL_MAX_MONTHS: i32 = 6;
/// DEV-14: probation is one year from the branch meeting.
pub const PROBATION_MONTHS: i32 = 12;
/// DEV-15: an extension of not less than half a year …
pub const EXTENSION_MIN_MONTHS: u32 = 6;
/// … and at most one year, once.
pub const EXTENSION_MAX_MONTHS: u32 = 12;
/// DEV-16: approval of conversion within 3 months of the branch resolution.
pub const CONVERSION_APPROVAL_MONTHS: i32 = 3;
/// 2026 revision (claimed art. 19): the admission meeting within 1 month of passing pre-review.
pub const MEETING_AFTER_PREREVIEW_MONTHS_2026: i32 = 1;
/// 2026 revision (claimed art. 29): the oath generally within 1 month of approval.
pub const OATH_MONTHS_2026: i32 = 1;
/// 2026 revision (claimed art. 13): publicity of at least 5 working days before listing a development object.
pub const PUBLICITY_WORKING_DAYS_2026: u32 = 5;

/// The dates of one person's development so far; every item is optional except the day that counts as
/// "today".
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub birth_date: Option<Date>,
    /// The application was received (递交入党申请书).
    pub applied_on: Option<Date>,
    /// The organization's talk with the applicant.
    pub talked_on: Option<Date>,
    /// Determined as an activist (入党积极分子).
    pub activist_on: Option<Date>,
    /// Listed as a development object (发展对象).
    pub candidate_on: Option<Date>,
    /// Days of the short intensive training.
    pub training_days: Option<f64>,
    /// Class hours of the short intensive training.
    pub training_hours: Option<f64>,
    /// The superior committee's pre-review (预审) was passed.
    pub prereview_on: Option<Date>,
    /// The candidate will leave the unit (study or work) on this day (DEV-10).
    pub leaves_unit_on: Option<Date>,
    /// The branch general meeting admitted the candidate (支部大会讨论通过).
    pub admitted_on: Option<Date>,
    /// The superior committee approved the admission.
    pub approved_on: Option<Date>,
    /// The special circumstance recorded for an approval later than 3 months.
    pub approval_reason: Option<String>,
    /// The branch meeting on conversion.
    pub conversion_meeting_on: Option<Date>,
    /// The superior committee approved the conversion.
    pub converted_on: Option<Date>,
    /// The extension of probation decided at its end (0 or none: not extended).
    pub extension_months: Option<u32>,
    /// The day the record is judged on.
    pub as_of: Date,
}

impl Record {
    /// A record with no dates yet, judged on `as_of`.
    pub fn new(as_of: Date) -> Record {
        Record {
            birth_date: None,
            applied_on: None,
            talked_on: None,
            activist_on: None,
            candidate_on: None,
            training_days: None,
            training_hours: None,
            prereview_on: None,
            leaves_unit_on: None,
            admitted_on: None,
            approved_on: None,
            approval_reason: None,
            conversion_meeting_on: None,
            converted_on: None,
            extension_months: None,
            as_of,
        }
    }
}

/// The deadlines that follow from the dates given (only those that can be worked out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = DevelopmentDeadlines)]
pub struct Deadlines {
    /// The 18th birthday (DEV-01): the first day an application is allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub may_apply_from: Option<Date>,
    /// The talk is due by this day (DEV-02).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-04-10")]
    pub talk_by: Option<Date>,
    /// The earliest day to list the activist as a development object (DEV-06).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-03-15")]
    pub candidate_from: Option<Date>,
    /// Leaving the unit on or before this day means the admission is generally not processed (DEV-10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure_limit: Option<Date>,
    /// 2026 revision only: the admission meeting is due by this day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_meeting_by: Option<Date>,
    /// The superior committee approves by this day (DEV-13) …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-08-20")]
    pub approval_by: Option<Date>,
    /// … or, with a recorded special circumstance, by this day at the latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2025-11-20")]
    pub approval_latest: Option<Date>,
    /// 2026 revision only: the oath is due by this day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oath_by: Option<Date>,
    /// Probation ends on this day, extension included (DEV-14, DEV-15); the conversion meeting may not be
    /// held earlier.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-05-20")]
    pub probation_ends: Option<Date>,
    /// The superior committee decides on the conversion by this day (DEV-16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversion_approval_by: Option<Date>,
    /// 党龄 counts from this day (DEV-17), once the conversion is approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party_standing_from: Option<Date>,
}

/// The answer about one development record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = DevelopmentAssessment)]
pub struct Assessment {
    /// The version of the 细则 that judged the record.
    pub rule_set: RuleSet,
    pub rule_set_title: &'static str,
    pub violations: Vec<Finding>,
    pub deadlines: Deadlines,
    /// Every source the answer relied on.
    pub citations: Vec<&'static str>,
}

struct Judge {
    set: RuleSet,
    findings: Vec<Finding>,
    sources: Sources,
}

impl Judge {
    fn push(&mut self, f: Finding) {
        self.sources.add_all(&f.citations);
        self.findings.push(f);
    }

    fn violation(&mut self, rule: &'static str, code: &'static str, message: String, citations: Vec<&'static str>) {
        self.push(Finding::violation(rule, code, message, citations));
    }
}

/// DEV-00…17 on one record. The version of the 细则 is the one in force on the branch admission meeting (or
/// on `as_of` while there is none).
pub fn assess(r: &Record, selection: &RuleSelection) -> Assessment {
    let set = selection.in_force_on(r.admitted_on.unwrap_or(r.as_of));
    let mut j = Judge { set, findings: Vec::new(), sources: Sources::default() };
    let mut d = Deadlines::default();

    check_order(r, &mut j);

    // DEV-01
    if let Some(birth) = r.birth_date {
        d.may_apply_from = Some(add_months(birth, 12 * MIN_AGE));
        if let Some(applied) = r.applied_on {
            j.sources.add_all(&[set.cite(Xize::MinAge), cite::DANGZHANG_ART1]);
            if let Some(f) = check_age(birth, applied, set) {
                j.push(f);
            }
        }
    }

    // DEV-02
    if let Some(applied) = r.applied_on {
        let by = add_months(applied, TALK_MONTHS);
        d.talk_by = Some(by);
        j.sources.add(set.cite(Xize::Talk));
        let later_step = [r.activist_on, r.candidate_on, r.prereview_on, r.admitted_on, r.approved_on]
            .iter()
            .chain([r.conversion_meeting_on, r.converted_on].iter())
            .any(Option::is_some);
        match r.talked_on {
            Some(talked) if talked > by => j.violation(
                "DEV-02",
                "talk_late",
                format!(
                    "党组织应在收到入党申请后一个月内（{}前）派人谈话，实际谈话日期{}，晚了{}天",
                    iso(by),
                    iso(talked),
                    days_between(by, talked)
                ),
                vec![set.cite(Xize::Talk)],
            ),
            None if !later_step && r.as_of > by => j.violation(
                "DEV-02",
                "talk_overdue",
                format!("收到入党申请已超过一个月，尚无谈话记录（应在{}前谈话）", iso(by)),
                vec![set.cite(Xize::Talk)],
            ),
            _ => {}
        }
    }

    // DEV-06
    if let Some(activist) = r.activist_on {
        let from = candidate_from(activist);
        d.candidate_from = Some(from);
        j.sources.add(set.cite(Xize::Candidate));
        if let Some(listed) = r.candidate_on.filter(|l| *l < from) {
            j.violation(
                "DEV-06",
                "cultivation_too_short",
                format!(
                    "入党积极分子须经过一年以上培养教育和考察才能列为发展对象：最早{}，实际{}，早了{}天",
                    iso(from),
                    iso(listed),
                    days_between(listed, from)
                ),
                vec![set.cite(Xize::Candidate)],
            );
        }
    }

    // DEV-09
    if r.training_days.is_some() || r.training_hours.is_some() {
        j.sources.add(set.cite(Xize::Training));
        let (days, hours) = (r.training_days.unwrap_or(0.0), r.training_hours.unwrap_or(0.0));
        if !training_sufficient(days, hours) {
            j.violation(
                "DEV-09",
                "training_insufficient",
                format!("发展对象短期集中培训一般不少于3天（或不少于24学时），记录为{days}天、{hours}学时"),
                vec![set.cite(Xize::Training)],
            );
        }
    }

    // DEV-10
    if let Some(prereview) = r.prereview_on {
        let limit = add_months(prereview, DEPARTURE_MONTHS);
        d.departure_limit = Some(limit);
        if let Some(f) = r.leaves_unit_on.and_then(|leaves| departure_warning(prereview, leaves, set)) {
            j.push(f);
        }
        // 2026 revision: the branch meeting within one month of pre-review.
        if set == RuleSet::Xize2026 {
            let by = add_months(prereview, MEETING_AFTER_PREREVIEW_MONTHS_2026);
            d.admission_meeting_by = Some(by);
            j.sources.add(set.cite(Xize::MeetingAfterPreReview));
            let late = match r.admitted_on {
                Some(admitted) => admitted > by,
                None => r.as_of > by,
            };
            if late {
                j.violation(
                    "DEV-10",
                    "admission_meeting_late",
                    format!("预审合格后应在一个月内（{}前）召开支部大会讨论接收预备党员", iso(by)),
                    vec![set.cite(Xize::MeetingAfterPreReview)],
                );
            }
        }
    }

    // DEV-13, and DEV-14…17 from the admission meeting on.
    if let Some(admitted) = r.admitted_on {
        let (by, latest) = approval_deadlines(admitted);
        d.approval_by = Some(by);
        d.approval_latest = Some(latest);
        j.sources.add(set.cite(Xize::Approval));
        let reason = r.approval_reason.as_deref().is_some_and(|s| !s.trim().is_empty());
        match r.approved_on {
            Some(approved) => {
                if let Some(f) = check_approval(admitted, approved, reason, set) {
                    j.push(f);
                }
                if set == RuleSet::Xize2026 {
                    d.oath_by = Some(add_months(approved, OATH_MONTHS_2026));
                    j.sources.add(set.cite(Xize::Oath));
                }
            }
            None if r.conversion_meeting_on.is_none() && r.converted_on.is_none() => {
                if r.as_of > latest {
                    j.violation(
                        "DEV-13",
                        "approval_overdue",
                        format!("支部大会通过接收决议已超过六个月（最迟{}），上级党委仍未审批", iso(latest)),
                        vec![set.cite(Xize::Approval)],
                    );
                } else if r.as_of > by && !reason {
                    j.violation(
                        "DEV-13",
                        "approval_overdue",
                        format!(
                            "上级党委应在三个月内（{}前）审批；遇特殊情况须记录原因，最迟不超过{}",
                            iso(by),
                            iso(latest)
                        ),
                        vec![set.cite(Xize::Approval)],
                    );
                }
            }
            None => {}
        }

        let extension = r.extension_months.filter(|m| *m > 0);
        let ends = probation_ends(admitted, extension.unwrap_or(0));
        d.probation_ends = Some(ends);
        j.sources.add_all(&[set.cite(Xize::Probation), cite::DANGZHANG_ART7]);
        if let Some(f) = extension.and_then(|m| check_extension(m, 0, set)) {
            j.push(f);
        }
        if let Some(meeting) = r.conversion_meeting_on.filter(|m| *m < ends) {
            j.violation(
                "DEV-14",
                "conversion_meeting_early",
                format!(
                    "预备期至{}期满，转正讨论不得提前：支部大会于{}召开，早了{}天",
                    iso(ends),
                    iso(meeting),
                    days_between(meeting, ends)
                ),
                vec![set.cite(Xize::Probation), cite::DANGZHANG_ART7],
            );
        }
        if r.converted_on.is_some() {
            d.party_standing_from = Some(ends);
        }
    }

    // DEV-16
    if let Some(meeting) = r.conversion_meeting_on {
        let by = add_months(meeting, CONVERSION_APPROVAL_MONTHS);
        d.conversion_approval_by = Some(by);
        j.sources.add(set.cite(Xize::ConversionApproval));
        match r.converted_on {
            Some(converted) if converted > by => j.violation(
                "DEV-16",
                "conversion_approval_late",
                format!("上级党委应在三个月内（{}前）审批预备党员转正，实际{}审批", iso(by), iso(converted)),
                vec![set.cite(Xize::ConversionApproval)],
            ),
            None if r.as_of > by => j.violation(
                "DEV-16",
                "conversion_approval_overdue",
                format!("支部大会讨论转正已超过三个月（应在{}前审批），上级党委仍未审批", iso(by)),
                vec![set.cite(Xize::ConversionApproval)],
            ),
            _ => {}
        }
    }

    Assessment {
        rule_set: set,
        rule_set_title: set.title(),
        violations: j.findings,
        deadlines: d,
        citations: j.sources.into_vec(),
    }
}

/// DEV-00: the steps happen in the order of the five stages; each date must not precede the date of the
/// step before it that is recorded, and the talk not precede the application.
fn check_order(r: &Record, j: &mut Judge) {
    let chain = [
        ("递交入党申请", r.applied_on),
        ("确定为入党积极分子", r.activist_on),
        ("列为发展对象", r.candidate_on),
        ("上级党委预审", r.prereview_on),
        ("支部大会讨论接收", r.admitted_on),
        ("上级党委审批接收", r.approved_on),
        ("支部大会讨论转正", r.conversion_meeting_on),
        ("上级党委审批转正", r.converted_on),
    ];
    let mut pairs = Vec::new();
    let mut previous: Option<(&str, Date)> = None;
    for (label, date) in chain {
        if let Some(date) = date {
            if let Some((before, before_date)) = previous {
                pairs.push((before, before_date, label, date));
            }
            previous = Some((label, date));
        }
    }
    if let (Some(applied), Some(talked)) = (r.applied_on, r.talked_on) {
        pairs.push(("递交入党申请", applied, "派人谈话", talked));
    }
    for (before, before_date, after, after_date) in pairs {
        if after_date < before_date {
            let cites = vec![j.set.cite(Xize::Process)];
            j.violation(
                "DEV-00",
                "out_of_order",
                format!("「{after}」（{}）早于「{before}」（{}），步骤顺序有误", iso(after_date), iso(before_date)),
                cites,
            );
        }
    }
}

/// DEV-01: an applicant must be 年满十八岁 on the application date (C4).
pub fn check_age(birth: Date, applied_on: Date, set: RuleSet) -> Option<Finding> {
    let age = age_on(birth, applied_on);
    (age < MIN_AGE).then(|| {
        Finding::violation(
            "DEV-01",
            "under_age",
            format!(
                "申请入党须年满十八岁：申请日{}时未年满十八岁（{}年满十八岁）",
                iso(applied_on),
                iso(add_months(birth, 12 * MIN_AGE))
            ),
            vec![set.cite(Xize::MinAge), cite::DANGZHANG_ART1],
        )
    })
}

/// DEV-06: the earliest day an activist since `activist_on` may be listed as a development object (C2).
pub fn candidate_from(activist_on: Date) -> Date {
    add_months(activist_on, CULTIVATION_MONTHS)
}

/// DEV-09: ≥ 3 days or ≥ 24 class hours.
pub fn training_sufficient(days: f64, hours: f64) -> bool {
    days >= TRAINING_MIN_DAYS || hours >= TRAINING_MIN_HOURS
}

/// DEV-10: leaving the unit within three months of pre-review (C3: the boundary day included) → admission is
/// generally not processed; a warning that needs a documented override.
pub fn departure_warning(prereview_on: Date, leaves_on: Date, set: RuleSet) -> Option<Finding> {
    let limit = add_months(prereview_on, DEPARTURE_MONTHS);
    (leaves_on <= limit).then(|| {
        Finding::warning(
            "DEV-10",
            "leaving_within_three_months",
            format!(
                "发展对象将于{}离开工作、学习单位，在预审后三个月内（{}前），一般不办理接收预备党员的手续；如确需办理，须记录理由",
                iso(leaves_on),
                iso(limit)
            ),
            vec![set.cite(Xize::PreReview)],
        )
    })
}

/// DEV-13: the approval is due within 3 months of the branch resolution; with a recorded special
/// circumstance within 6 at the latest.
pub fn approval_deadlines(admitted_on: Date) -> (Date, Date) {
    (add_months(admitted_on, APPROVAL_MONTHS), add_months(admitted_on, APPROVAL_MAX_MONTHS))
}

/// DEV-13 on an approval that happened.
pub fn check_approval(admitted_on: Date, approved_on: Date, reason_recorded: bool, set: RuleSet) -> Option<Finding> {
    let (by, latest) = approval_deadlines(admitted_on);
    let cites = vec![set.cite(Xize::Approval)];
    if approved_on > latest {
        Some(Finding::violation(
            "DEV-13",
            "approval_beyond_six_months",
            format!("上级党委审批最迟不得超过六个月（{}），实际{}审批", iso(latest), iso(approved_on)),
            cites,
        ))
    } else if approved_on > by && !reason_recorded {
        Some(Finding::violation(
            "DEV-13",
            "approval_late",
            format!(
                "上级党委应在三个月内（{}前）审批，实际{}审批，且未记录特殊情况（可延长至{}）",
                iso(by),
                iso(approved_on),
                iso(latest)
            ),
            cites,
        ))
    } else if approved_on > by {
        Some(Finding::warning(
            "DEV-13",
            "approval_extended",
            format!("因特殊情况延长审批时间，于{}审批（三个月期限{}，最迟{}）", iso(approved_on), iso(by), iso(latest)),
            cites,
        ))
    } else {
        None
    }
}

/// DEV-14/15: probation ends one year after the branch meeting (C2), plus an extension counted from the
/// original end.
pub fn probation_ends(admitted_on: Date, extension_months: u32) -> Date {
    let months = i32::try_from(extension_months).unwrap_or(i32::MAX - PROBATION_MONTHS);
    add_months(admitted_on, PROBATION_MONTHS + months.min(1200))
}

/// DEV-15: an extension is at least 6 and at most 12 months, and only one is allowed.
pub fn check_extension(months: u32, earlier_extensions: u32, set: RuleSet) -> Option<Finding> {
    let cites = vec![set.cite(Xize::Probation), cite::DANGZHANG_ART7];
    if earlier_extensions > 0 {
        Some(Finding::violation("DEV-15", "extension_repeated", "预备期只能延长一次".into(), cites))
    } else if !(EXTENSION_MIN_MONTHS..=EXTENSION_MAX_MONTHS).contains(&months) {
        Some(Finding::violation(
            "DEV-15",
            "extension_invalid",
            format!("延长预备期不能少于半年，最长不超过一年，记录为{months}个月"),
            cites,
        ))
    } else {
        None
    }
}

/// DEV-16: the superior committee decides on the conversion within 3 months of the branch resolution.
pub fn conversion_approval_by(conversion_meeting_on: Date) -> Date {
    add_months(conversion_meeting_on, CONVERSION_APPROVAL_MONTHS)
}

/// DEV-17: 党龄 counts from the end of probation (extension included), however late the conversion meeting
/// or its approval came.
pub fn party_standing_from(admitted_on: Date, extension_months: u32) -> Date {
    probation_ends(admitted_on, extension_months)
}

/// Who decided an activist's status (DEV-03).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecisionBody {
    BranchCommittee,
    BranchAssembly,
    PartyGroup,
}

/// DEV-03: the branch committee decides (the branch general meeting where there is no committee) and the
/// decision is filed with the superior committee. `Ok(Some(day))`: an activist from the decision day;
/// `Ok(None)`: pending until filed (the cultivation clock does not start); `Err`: the wrong body decided.
pub fn activist_status(
    branch_has_committee: bool,
    body: DecisionBody,
    decided_on: Date,
    filed: bool,
) -> Result<Option<Date>, Finding> {
    let right = if branch_has_committee { DecisionBody::BranchCommittee } else { DecisionBody::BranchAssembly };
    if body != right {
        let who = if branch_has_committee { "支部委员会" } else { "支部党员大会" };
        return Err(Finding::violation(
            "DEV-03",
            "wrong_decision_body",
            format!("确定入党积极分子应由{who}研究决定"),
            vec![RuleSet::Xize2014.cite(Xize::Activist)],
        ));
    }
    Ok(filed.then_some(decided_on))
}

/// A member's standing, for contacts and introducers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Formal,
    Probationary,
}

/// DEV-04: one or two cultivation contacts, all formal members.
pub fn check_contacts(contacts: &[Standing]) -> Option<Finding> {
    let ok = (1..=2).contains(&contacts.len()) && contacts.iter().all(|s| *s == Standing::Formal);
    (!ok).then(|| {
        Finding::violation(
            "DEV-04",
            "contacts_invalid",
            "应指定一至两名正式党员作为入党积极分子的培养联系人".into(),
            vec![RuleSet::Xize2014.cite(Xize::Contacts)],
        )
    })
}

/// DEV-07: exactly two introducers, both formal members.
pub fn check_introducers(introducers: &[Standing]) -> Option<Finding> {
    let ok = introducers.len() == 2 && introducers.iter().all(|s| *s == Standing::Formal);
    (!ok).then(|| {
        Finding::violation(
            "DEV-07",
            "introducers_invalid",
            "发展党员须有两名正式党员作入党介绍人".into(),
            vec![RuleSet::Xize2014.cite(Xize::Introducers), cite::DANGZHANG_ART5],
        )
    })
}

/// DEV-05: the half-year windows `[D + 6k months, D + 6(k+1) months)` that have fully elapsed by `as_of`
/// (C6) without an examination.
pub fn missing_examinations(activist_since: Date, examinations: &[Date], as_of: Date) -> Vec<(Date, Date)> {
    let mut missing = Vec::new();
    for k in 0..2400 {
        let start = add_months(activist_since, EXAMINATION_MONTHS * k);
        let end = add_months(activist_since, EXAMINATION_MONTHS * (k + 1));
        if end > as_of {
            break;
        }
        if !examinations.iter().any(|e| *e >= start && *e < end) {
            missing.push((start, end));
        }
    }
    missing
}

/// The conclusion of a political review (DEV-08).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewConclusion {
    Passed,
    Failed,
}

/// DEV-08: no admission without a written, passed political review.
pub fn check_political_review(conclusion: Option<ReviewConclusion>) -> Option<Finding> {
    let message = match conclusion {
        Some(ReviewConclusion::Passed) => return None,
        Some(ReviewConclusion::Failed) => "政治审查不合格，不能发展入党",
        None => "尚无政治审查结论，不能提交支部大会讨论",
    };
    Some(Finding::violation(
        "DEV-08",
        "political_review_missing",
        message.into(),
        vec![RuleSet::Xize2014.cite(Xize::PoliticalReview)],
    ))
}

/// Working days for publicity (DEV-11): Monday to Friday, minus the holidays, plus the weekend days declared
/// working (调休). The calendar is data the university supplies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    pub holidays: BTreeSet<Date>,
    pub extra_working_days: BTreeSet<Date>,
}

/// No holidays known: Monday to Friday.
pub static NO_HOLIDAYS: WorkCalendar = WorkCalendar { holidays: BTreeSet::new(), extra_working_days: BTreeSet::new() };

impl WorkCalendar {
    pub fn is_working_day(&self, d: Date) -> bool {
        if self.extra_working_days.contains(&d) {
            return true;
        }
        let weekend = matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday);
        !weekend && !self.holidays.contains(&d)
    }
}

/// DEV-11: the last day of a publicity of `working_days` starting on `start` (CONVENTION: the start day is
/// day 1 when it is a working day). `None` if the calendar holds no such run within ten years.
pub fn publicity_ends(start: Date, working_days: u32, calendar: &WorkCalendar) -> Option<Date> {
    let mut counted = 0;
    let mut day = start;
    for _ in 0..3660 {
        if calendar.is_working_day(day) {
            counted += 1;
            if counted >= working_days {
                return Some(day);
            }
        }
        day = day.checked_add(Duration::DAY)?;
    }
    None
}

/// DEV-11: how many working days of publicity a version asks for: the 2014 text sets none (the university's
/// own rule, `configured`, applies); the 2026 revision at least 5 before listing a development object.
pub fn publicity_days(set: RuleSet, configured: Option<u32>) -> Option<u32> {
    match set {
        RuleSet::Xize2014 => configured,
        RuleSet::Xize2026 => Some(configured.unwrap_or(0).max(PUBLICITY_WORKING_DAYS_2026)),
    }
}

/// DEV-11: the decision a publicity precedes may be dated no earlier than the day after its last day
/// (CONVENTION chosen here), and not while an objection is unresolved.
pub fn check_publicity(ends: Date, decision_on: Date, objection_open: bool, set: RuleSet) -> Option<Finding> {
    let cites = vec![set.cite(Xize::Publicity)];
    if decision_on <= ends {
        Some(Finding::violation(
            "DEV-11",
            "publicity_not_over",
            format!("公示至{}结束，决定最早于次日作出，实际{}", iso(ends), iso(decision_on)),
            cites,
        ))
    } else if objection_open {
        Some(Finding::violation(
            "DEV-11",
            "objection_unresolved",
            "公示期间收到的意见尚未调查核实处理，不能进入下一步".into(),
            cites,
        ))
    } else {
        None
    }
}

/// The tally of a branch general meeting on one candidate (DEV-12). Counts are formal members with voting
/// rights; probationary members present are recorded but never counted (选举工作条例 art. 5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdmissionVote {
    /// Formal members with voting rights who should attend.
    pub eligible: u32,
    /// Of them, present.
    pub present: u32,
    /// Yes votes in the room.
    pub yes_present: u32,
    /// Yes votes in writing from absent voting members.
    pub yes_written: u32,
    /// Probationary members present (no vote).
    pub probationary_present: u32,
    /// Candidates decided by this ballot (must be 1: one by one).
    pub candidates_on_ballot: u32,
}

/// The result of a branch general meeting's vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteOutcome {
    /// Not more than half of the voting members present: the meeting cannot vote.
    NoQuorum,
    Passed,
    NotPassed,
}

/// DEV-12: quorum when present voting members exceed half of those who should attend; passed when the yes
/// votes (written ones included) exceed half of them; candidates one by one.
pub fn admission_vote(v: &AdmissionVote) -> Result<VoteOutcome, Finding> {
    if v.candidates_on_ballot != 1 {
        return Err(Finding::violation(
            "DEV-12",
            "not_individual_vote",
            "讨论两个以上的发展对象入党时，必须逐个讨论和表决".into(),
            vec![RuleSet::Xize2014.cite(Xize::AdmissionMeeting)],
        ));
    }
    let (n, present, yes) =
        (u64::from(v.eligible), u64::from(v.present), u64::from(v.yes_present) + u64::from(v.yes_written));
    Ok(if 2 * present <= n {
        VoteOutcome::NoQuorum
    } else if 2 * yes > n {
        VoteOutcome::Passed
    } else {
        VoteOutcome::NotPassed
    })
}

/// The citations of DEV-12 (for the meeting records).
pub fn admission_vote_citations() -> [&'static str; 2] {
    [RuleSet::Xize2014.cite(Xize::AdmissionMeeting), cite::ELECTION_ART5]
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const SET: RuleSet = RuleSet::Xize2014;

    fn record(as_of: Date) -> Record {
        Record::new(as_of)
    }

    fn codes(a: &Assessment) -> Vec<&'static str> {
        a.violations.iter().map(|f| f.code).collect()
    }

    fn judge(r: &Record) -> Assessment {
        assess(r, &RuleSelection::DEFAULT)
    }

    #[test]
    fn dev_00_order_of_steps() {
        // T2: a talk before the application.
        let r = Record {
            applied_on: Some(date!(2025 - 03 - 10)),
            talked_on: Some(date!(2025 - 03 - 05)),
            ..record(date!(2025 - 04 - 01))
        };
        assert_eq!(codes(&judge(&r)), vec!["out_of_order"]);
        // T3: the committee approved before the branch meeting.
        let r = Record {
            admitted_on: Some(date!(2025 - 05 - 20)),
            approved_on: Some(date!(2025 - 05 - 01)),
            ..record(date!(2025 - 06 - 01))
        };
        let a = judge(&r);
        assert_eq!(codes(&a), vec!["out_of_order"]);
        assert!(a.violations[0].message.contains("上级党委审批接收"));
        // Gaps are skipped: the application is compared with the next recorded step.
        let r = Record {
            applied_on: Some(date!(2025 - 03 - 10)),
            candidate_on: Some(date!(2025 - 01 - 01)),
            ..record(date!(2025 - 04 - 01))
        };
        assert_eq!(codes(&judge(&r)), vec!["out_of_order"]);
        // The same day is in order.
        let r = Record {
            applied_on: Some(date!(2025 - 03 - 10)),
            talked_on: Some(date!(2025 - 03 - 10)),
            ..record(date!(2025 - 04 - 01))
        };
        assert!(codes(&judge(&r)).is_empty());
    }

    #[test]
    fn dev_01_minimum_age() {
        let cases = [
            (date!(2007 - 09 - 15), date!(2025 - 09 - 15), true),
            (date!(2007 - 09 - 16), date!(2025 - 09 - 15), false),
            (date!(2006 - 02 - 28), date!(2024 - 02 - 28), true),
            // Leap-day birthday: the 18th birthday in a common year is 28 February (C4).
            (date!(2004 - 02 - 29), date!(2022 - 02 - 28), true),
            (date!(2004 - 02 - 29), date!(2022 - 02 - 27), false),
        ];
        for (birth, applied, ok) in cases {
            assert_eq!(check_age(birth, applied, SET).is_none(), ok, "{birth} {applied}");
            let r = Record { birth_date: Some(birth), applied_on: Some(applied), ..record(applied) };
            let a = judge(&r);
            assert_eq!(codes(&a).contains(&"under_age"), !ok);
            assert!(a.citations.contains(&cite::DANGZHANG_ART1));
        }
        let r = Record { birth_date: Some(date!(2007 - 09 - 16)), ..record(date!(2025 - 01 - 01)) };
        assert_eq!(judge(&r).deadlines.may_apply_from, Some(date!(2025 - 09 - 16)));
    }

    /// Received, talked, checked on, deadline, the violation expected.
    type TalkCase = (Date, Option<Date>, Date, Date, Option<&'static str>);

    #[test]
    fn dev_02_talk_within_a_month() {
        let cases: &[TalkCase] = &[
            (date!(2025 - 03 - 10), Some(date!(2025 - 04 - 10)), date!(2025 - 05 - 01), date!(2025 - 04 - 10), None),
            (
                date!(2025 - 03 - 10),
                Some(date!(2025 - 04 - 20)),
                date!(2025 - 05 - 01),
                date!(2025 - 04 - 10),
                Some("talk_late"),
            ),
            (date!(2025 - 01 - 31), Some(date!(2025 - 02 - 28)), date!(2025 - 03 - 05), date!(2025 - 02 - 28), None),
            (
                date!(2025 - 01 - 31),
                Some(date!(2025 - 03 - 01)),
                date!(2025 - 03 - 05),
                date!(2025 - 02 - 28),
                Some("talk_late"),
            ),
            (date!(2025 - 05 - 06), None, date!(2025 - 06 - 07), date!(2025 - 06 - 06), Some("talk_overdue")),
            (date!(2025 - 05 - 06), None, date!(2025 - 06 - 06), date!(2025 - 06 - 06), None),
            // Leap year: 31 January 2024 → 29 February.
            (date!(2024 - 01 - 31), Some(date!(2024 - 02 - 29)), date!(2024 - 03 - 05), date!(2024 - 02 - 29), None),
        ];
        for (applied, talked, as_of, by, code) in cases {
            let r = Record { applied_on: Some(*applied), talked_on: *talked, ..record(*as_of) };
            let a = judge(&r);
            assert_eq!(a.deadlines.talk_by, Some(*by), "{applied}");
            assert_eq!(codes(&a).first().copied(), *code, "{applied} {talked:?}");
        }
        let late = judge(&Record {
            applied_on: Some(date!(2025 - 03 - 10)),
            talked_on: Some(date!(2025 - 04 - 20)),
            ..record(date!(2025 - 05 - 01))
        });
        assert!(late.violations[0].message.contains("10天"), "{}", late.violations[0].message);
        // No overdue alert once a later step is recorded (the talk is then unknown, not missing).
        let r = Record {
            applied_on: Some(date!(2024 - 03 - 10)),
            activist_on: Some(date!(2024 - 09 - 10)),
            ..record(date!(2025 - 01 - 01))
        };
        assert!(codes(&judge(&r)).is_empty());
    }

    #[test]
    fn dev_03_who_decides_activists() {
        let d = date!(2025 - 03 - 01);
        assert_eq!(activist_status(true, DecisionBody::BranchCommittee, d, true), Ok(Some(d)));
        assert_eq!(activist_status(true, DecisionBody::PartyGroup, d, true).unwrap_err().code, "wrong_decision_body");
        assert_eq!(activist_status(false, DecisionBody::BranchAssembly, d, true), Ok(Some(d)));
        assert_eq!(activist_status(true, DecisionBody::BranchCommittee, d, false), Ok(None), "T4: not filed → pending");
        assert!(activist_status(false, DecisionBody::BranchCommittee, d, true).is_err());
    }

    #[test]
    fn dev_04_and_07_contacts_and_introducers() {
        use Standing::*;
        assert_eq!(check_contacts(&[Formal, Formal]), None);
        assert_eq!(check_contacts(&[Formal]), None);
        assert!(check_contacts(&[Probationary]).is_some());
        assert!(check_contacts(&[Formal, Formal, Formal]).is_some());
        assert!(check_contacts(&[]).is_some());
        assert_eq!(check_introducers(&[Formal, Formal]), None);
        assert!(check_introducers(&[Formal, Probationary]).is_some());
        assert!(check_introducers(&[Formal]).is_some());
        assert!(check_introducers(&[Formal, Formal]).is_none());
    }

    #[test]
    fn dev_05_half_yearly_examinations() {
        let since = date!(2024 - 09 - 01);
        let as_of = date!(2025 - 09 - 01);
        assert!(missing_examinations(since, &[date!(2025 - 02 - 20), date!(2025 - 08 - 25)], as_of).is_empty());
        assert_eq!(missing_examinations(since, &[date!(2025 - 07 - 10)], as_of), vec![(since, date!(2025 - 03 - 01))]);
        // A window is judged only once it has fully elapsed.
        assert_eq!(missing_examinations(since, &[], date!(2025 - 02 - 28)), vec![]);
        // Windows from a month end keep their day (C1 from the start, no drift).
        let w = missing_examinations(date!(2024 - 08 - 31), &[], date!(2025 - 09 - 01));
        assert_eq!(
            w,
            vec![(date!(2024 - 08 - 31), date!(2025 - 02 - 28)), (date!(2025 - 02 - 28), date!(2025 - 08 - 31))]
        );
    }

    #[test]
    fn dev_06_one_calendar_year_of_cultivation() {
        let cases = [
            (date!(2024 - 03 - 15), date!(2025 - 03 - 15), date!(2025 - 03 - 15), true),
            (date!(2024 - 03 - 15), date!(2025 - 03 - 14), date!(2025 - 03 - 15), false),
            (date!(2024 - 02 - 29), date!(2025 - 02 - 28), date!(2025 - 02 - 28), true),
            // T4: 365 days after 2023-03-01 is 2024-02-29, still too early.
            (date!(2023 - 03 - 01), date!(2024 - 02 - 29), date!(2024 - 03 - 01), false),
        ];
        for (activist, listed, from, ok) in cases {
            assert_eq!(candidate_from(activist), from);
            let r = Record { activist_on: Some(activist), candidate_on: Some(listed), ..record(date!(2025 - 12 - 31)) };
            let a = judge(&r);
            assert_eq!(a.deadlines.candidate_from, Some(from));
            assert_eq!(codes(&a).contains(&"cultivation_too_short"), !ok, "{activist} {listed}");
        }
    }

    #[test]
    fn dev_08_political_review() {
        assert_eq!(check_political_review(Some(ReviewConclusion::Passed)), None);
        assert!(check_political_review(None).is_some());
        assert!(check_political_review(Some(ReviewConclusion::Failed)).is_some());
    }

    #[test]
    fn dev_09_training_days_or_hours() {
        let cases = [
            (Some(3.0), Some(18.0), true),
            (Some(2.0), Some(24.0), true),
            (Some(2.5), Some(20.0), false),
            (None, Some(24.0), true),
            (Some(2.9), None, false),
        ];
        for (days, hours, ok) in cases {
            let r = Record { training_days: days, training_hours: hours, ..record(date!(2025 - 01 - 01)) };
            assert_eq!(codes(&judge(&r)).contains(&"training_insufficient"), !ok, "{days:?} {hours:?}");
        }
    }

    #[test]
    fn dev_10_leaving_within_three_months() {
        let pre = date!(2025 - 06 - 15);
        assert!(departure_warning(pre, date!(2025 - 08 - 31), SET).is_some());
        assert!(departure_warning(pre, date!(2025 - 09 - 15), SET).is_some(), "the boundary day is within (C3)");
        assert!(departure_warning(pre, date!(2025 - 09 - 16), SET).is_none());
        assert!(departure_warning(pre, date!(2025 - 10 - 01), SET).is_none());
        let r = Record {
            prereview_on: Some(pre),
            leaves_unit_on: Some(date!(2025 - 08 - 31)),
            ..record(date!(2025 - 06 - 20))
        };
        let a = judge(&r);
        assert_eq!(a.deadlines.departure_limit, Some(date!(2025 - 09 - 15)));
        assert_eq!(a.violations[0].severity, super::super::Severity::Warning);
    }

    #[test]
    fn dev_11_publicity_in_working_days() {
        let none = WorkCalendar::default();
        let ends = publicity_ends(date!(2025 - 06 - 09), 5, &none).unwrap();
        assert_eq!(ends, date!(2025 - 06 - 13));
        assert!(check_publicity(ends, date!(2025 - 06 - 12), false, SET).is_some());
        assert!(check_publicity(ends, date!(2025 - 06 - 13), false, SET).is_some(), "not over on its last day");
        assert!(check_publicity(ends, date!(2025 - 06 - 16), false, SET).is_none());
        // T2: National Day holidays and a working Sunday.
        let mut cal = WorkCalendar::default();
        let mut d = date!(2025 - 10 - 01);
        while d <= date!(2025 - 10 - 08) {
            cal.holidays.insert(d);
            d = d.next_day().unwrap();
        }
        cal.extra_working_days.insert(date!(2025 - 09 - 28));
        assert_eq!(publicity_ends(date!(2025 - 09 - 25), 5, &cal), Some(date!(2025 - 09 - 30)));
        assert_eq!(publicity_ends(date!(2025 - 09 - 25), 6, &cal), Some(date!(2025 - 10 - 09)));
        // T3: an open objection blocks the step.
        assert_eq!(check_publicity(ends, date!(2025 - 06 - 16), true, SET).unwrap().code, "objection_unresolved");
        assert_eq!(publicity_days(RuleSet::Xize2014, None), None);
        assert_eq!(publicity_days(RuleSet::Xize2014, Some(7)), Some(7));
        assert_eq!(publicity_days(RuleSet::Xize2026, Some(3)), Some(5));
    }

    #[test]
    fn dev_12_quorum_and_vote() {
        let v = |eligible, present, yes_present, yes_written| AdmissionVote {
            eligible,
            present,
            yes_present,
            yes_written,
            probationary_present: 0,
            candidates_on_ballot: 1,
        };
        assert_eq!(admission_vote(&v(12, 7, 6, 1)), Ok(VoteOutcome::Passed));
        assert_eq!(admission_vote(&v(12, 6, 6, 0)), Ok(VoteOutcome::NoQuorum));
        assert_eq!(admission_vote(&v(12, 11, 6, 0)), Ok(VoteOutcome::NotPassed));
        // T4: probationary members present change nothing.
        let t4 = AdmissionVote { probationary_present: 2, ..v(9, 5, 5, 0) };
        assert_eq!(admission_vote(&t4), Ok(VoteOutcome::Passed));
        let t5 = AdmissionVote { candidates_on_ballot: 2, ..v(12, 11, 11, 0) };
        assert_eq!(admission_vote(&t5).unwrap_err().code, "not_individual_vote");
        assert!(admission_vote_citations().contains(&cite::ELECTION_ART5));
    }

    #[test]
    fn dev_13_approval_within_three_months() {
        let admitted = date!(2025 - 05 - 20);
        assert_eq!(approval_deadlines(admitted), (date!(2025 - 08 - 20), date!(2025 - 11 - 20)));
        assert_eq!(check_approval(admitted, date!(2025 - 08 - 20), false, SET), None);
        assert_eq!(check_approval(admitted, date!(2025 - 10 - 01), false, SET).unwrap().code, "approval_late");
        let with_reason = check_approval(admitted, date!(2025 - 10 - 01), true, SET).unwrap();
        assert_eq!((with_reason.code, with_reason.severity), ("approval_extended", super::super::Severity::Warning));
        assert_eq!(check_approval(admitted, date!(2025 - 11 - 20), true, SET).unwrap().code, "approval_extended");
        for reason in [false, true] {
            assert_eq!(
                check_approval(admitted, date!(2025 - 11 - 21), reason, SET).unwrap().code,
                "approval_beyond_six_months"
            );
        }
        // T4: month ends.
        assert_eq!(approval_deadlines(date!(2025 - 11 - 30)), (date!(2026 - 02 - 28), date!(2026 - 05 - 30)));
        // Not yet approved: overdue after three months without a reason, after six in any case.
        let waiting = |as_of, reason: Option<&str>| {
            codes(&judge(&Record {
                admitted_on: Some(admitted),
                approval_reason: reason.map(String::from),
                ..record(as_of)
            }))
        };
        assert!(waiting(date!(2025 - 08 - 20), None).is_empty());
        assert_eq!(waiting(date!(2025 - 08 - 21), None), vec!["approval_overdue"]);
        assert!(waiting(date!(2025 - 08 - 21), Some("上级党委换届")).is_empty());
        assert_eq!(waiting(date!(2025 - 11 - 21), Some("上级党委换届")), vec!["approval_overdue"]);
        assert_eq!(waiting(date!(2025 - 11 - 21), Some("  ")), vec!["approval_overdue"], "a blank reason is none");
    }

    #[test]
    fn dev_14_probation_and_no_early_conversion() {
        assert_eq!(probation_ends(date!(2025 - 05 - 20), 0), date!(2026 - 05 - 20));
        assert_eq!(probation_ends(date!(2024 - 02 - 29), 0), date!(2025 - 02 - 28));
        let r = |meeting| Record {
            admitted_on: Some(date!(2025 - 05 - 20)),
            approved_on: Some(date!(2025 - 06 - 10)),
            conversion_meeting_on: Some(meeting),
            ..record(date!(2026 - 05 - 21))
        };
        assert!(codes(&judge(&r(date!(2026 - 05 - 20)))).is_empty());
        assert_eq!(codes(&judge(&r(date!(2026 - 05 - 19)))), vec!["conversion_meeting_early"]);
        assert_eq!(judge(&r(date!(2026 - 05 - 20))).deadlines.probation_ends, Some(date!(2026 - 05 - 20)));
    }

    #[test]
    fn dev_15_extension_once_six_to_twelve_months() {
        assert_eq!(probation_ends(date!(2025 - 05 - 20), 6), date!(2026 - 11 - 20));
        assert_eq!(probation_ends(date!(2025 - 05 - 20), 12), date!(2027 - 05 - 20));
        assert_eq!(check_extension(6, 0, SET), None);
        assert_eq!(check_extension(12, 0, SET), None);
        assert_eq!(check_extension(4, 0, SET).unwrap().code, "extension_invalid");
        assert_eq!(check_extension(13, 0, SET).unwrap().code, "extension_invalid");
        assert_eq!(check_extension(6, 1, SET).unwrap().code, "extension_repeated");
        let r = |months| Record {
            admitted_on: Some(date!(2025 - 05 - 20)),
            approved_on: Some(date!(2025 - 06 - 10)),
            extension_months: Some(months),
            ..record(date!(2026 - 06 - 01))
        };
        assert_eq!(judge(&r(6)).deadlines.probation_ends, Some(date!(2026 - 11 - 20)));
        assert_eq!(codes(&judge(&r(4))), vec!["extension_invalid"]);
        assert_eq!(judge(&r(0)).deadlines.probation_ends, Some(date!(2026 - 05 - 20)), "0: not extended");
        assert_eq!(probation_ends(date!(2025 - 05 - 20), u32::MAX), add_months(date!(2025 - 05 - 20), 1212));
    }

    #[test]
    fn dev_16_conversion_approval_within_three_months() {
        assert_eq!(conversion_approval_by(date!(2026 - 05 - 25)), date!(2026 - 08 - 25));
        let r = |converted| Record {
            conversion_meeting_on: Some(date!(2026 - 05 - 25)),
            converted_on: Some(converted),
            ..record(date!(2026 - 09 - 01))
        };
        assert!(codes(&judge(&r(date!(2026 - 08 - 25)))).is_empty());
        assert_eq!(codes(&judge(&r(date!(2026 - 08 - 26)))), vec!["conversion_approval_late"]);
        let waiting = Record { conversion_meeting_on: Some(date!(2026 - 05 - 25)), ..record(date!(2026 - 08 - 26)) };
        assert_eq!(codes(&judge(&waiting)), vec!["conversion_approval_overdue"]);
    }

    #[test]
    fn dev_17_party_standing_from_the_end_of_probation() {
        let admitted = date!(2025 - 05 - 20);
        assert_eq!(party_standing_from(admitted, 0), date!(2026 - 05 - 20));
        assert_eq!(party_standing_from(admitted, 6), date!(2026 - 11 - 20));
        // A conversion meeting held late for organizational reasons does not move 党龄.
        let r = Record {
            admitted_on: Some(admitted),
            approved_on: Some(date!(2025 - 07 - 01)),
            conversion_meeting_on: Some(date!(2026 - 06 - 10)),
            converted_on: Some(date!(2026 - 07 - 01)),
            ..record(date!(2026 - 07 - 02))
        };
        let a = judge(&r);
        assert_eq!(a.deadlines.party_standing_from, Some(date!(2026 - 05 - 20)));
        assert!(codes(&a).is_empty(), "{:?}", a.violations);
    }

    #[test]
    fn a_clean_record_cites_every_rule_it_applied() {
        let r = Record {
            birth_date: Some(date!(2000 - 01 - 01)),
            applied_on: Some(date!(2023 - 03 - 10)),
            talked_on: Some(date!(2023 - 03 - 20)),
            activist_on: Some(date!(2023 - 09 - 10)),
            candidate_on: Some(date!(2024 - 09 - 10)),
            training_days: Some(3.0),
            prereview_on: Some(date!(2025 - 04 - 01)),
            admitted_on: Some(date!(2025 - 05 - 20)),
            approved_on: Some(date!(2025 - 07 - 01)),
            ..record(date!(2025 - 07 - 02))
        };
        let a = judge(&r);
        assert!(a.violations.is_empty(), "{:?}", a.violations);
        assert_eq!(a.rule_set, RuleSet::Xize2014);
        for article in [Xize::MinAge, Xize::Talk, Xize::Candidate, Xize::Training, Xize::Approval, Xize::Probation] {
            assert!(a.citations.contains(&SET.cite(article)), "{article:?}");
        }
        assert_eq!(a.deadlines.admission_meeting_by, None, "2026-only deadlines stay off by default");
    }

    #[test]
    fn the_2026_revision_applies_only_when_selected() {
        let r = Record {
            prereview_on: Some(date!(2026 - 06 - 01)),
            admitted_on: Some(date!(2026 - 07 - 15)),
            approved_on: Some(date!(2026 - 08 - 01)),
            ..record(date!(2026 - 08 - 02))
        };
        let default = assess(&r, &RuleSelection::DEFAULT);
        assert_eq!(default.rule_set, RuleSet::Xize2014);
        assert!(default.violations.is_empty());
        let revised = assess(&r, &RuleSelection::with_revision_2026_from(date!(2026 - 05 - 11)));
        assert_eq!(revised.rule_set, RuleSet::Xize2026);
        assert_eq!(revised.deadlines.admission_meeting_by, Some(date!(2026 - 07 - 01)));
        assert_eq!(revised.deadlines.oath_by, Some(date!(2026 - 09 - 01)));
        assert_eq!(codes(&revised), vec!["admission_meeting_late"]);
        assert!(revised.citations.contains(&"《中国共产党发展党员工作细则》（2026年修订）第三十一条"));
        // A candidate admitted before the revision took effect stays under 2014.
        let earlier = Record { admitted_on: Some(date!(2025 - 12 - 01)), ..r.clone() };
        let sel = RuleSelection::with_revision_2026_from(date!(2026 - 05 - 11));
        assert_eq!(assess(&earlier, &sel).rule_set, RuleSet::Xize2014);
    }
}
