//! The development pipeline (发展党员, DEV-00): the steps of the five stages in their order, what each needs
//! before it, the date each is due by or allowed from, a person's next due step, and the check of one step
//! about to be recorded. Pure: the caller passes the person's dates, the steps recorded so far and "today".
//!
//! Nothing here restates a regulation: the dates come from [`development::assess`] (DEV-01…17) and the single
//! rules of [`development`] (contacts, introducers, review, vote, extension, publicity), so a rule changes in
//! one place. A step is judged by the difference it makes: the record with the step is assessed against the
//! record without it on the step's own date, and what the step adds is the step's doing (the overdue alerts
//! of *other* steps are the to-do list's business, not a reason to refuse this one).
//!
//! The outcome of a finding for the recorder (C7: the system flags and blocks, people decide): a
//! `violation` refuses the step; a `warning` (an exception the regulations allow, e.g. DEV-13 approval
//! beyond three months for a special circumstance, DEV-10 leaving the unit within three months) is accepted
//! only with a recorded reason.

use platform::model::Stage;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use utoipa::ToSchema;

use super::development::{self as dev, AdmissionVote, DecisionBody, ReviewConclusion, Standing, VoteOutcome};
use super::{Finding, RuleSelection, RuleSet, Severity, Xize, iso};

platform::code_list! {
    /// The steps of the pipeline in their order (DEV-00's 25 steps, those a branch records; filing,
    /// placing in a group and the archive are part of the step they close).
    StepKind {
        Application = "application", "递交入党申请";
        Talk = "talk", "党组织派人谈话";
        Activist = "activist", "推荐和确定入党积极分子";
        Examination = "examination", "培养教育考察";
        Candidate = "candidate", "确定发展对象";
        Introducers = "introducers", "确定入党介绍人";
        PoliticalReview = "political_review", "政治审查";
        Training = "training", "短期集中培训";
        Publicity = "publicity", "公示";
        PreReview = "prereview", "上级党委预审";
        AdmissionMeeting = "admission_meeting", "支部大会讨论接收预备党员";
        Approval = "approval", "上级党委审批";
        ConversionMeeting = "conversion_meeting", "支部大会讨论转正";
        ConversionApproval = "conversion_approval", "上级党委审批转正";
    }
}

/// The five stages (DEV-00), numbered 1 to 5.
pub const STAGES: [&str; 5] =
    ["申请入党", "入党积极分子的确定和培养教育", "发展对象的确定和考察", "预备党员的接收", "预备党员的教育考察和转正"];

impl StepKind {
    /// The stage (1–5) the step belongs to.
    pub fn stage_no(self) -> u8 {
        use StepKind::*;
        match self {
            Application | Talk => 1,
            Activist | Examination => 2,
            Candidate | Introducers | PoliticalReview | Training | Publicity | PreReview => 3,
            AdmissionMeeting | Approval => 4,
            ConversionMeeting | ConversionApproval => 5,
        }
    }

    /// The stage's title.
    pub fn stage_title(self) -> &'static str {
        STAGES[usize::from(self.stage_no() - 1)]
    }

    /// The rule of domain.md that sets the step's date or condition.
    pub fn rule(self) -> &'static str {
        use StepKind::*;
        match self {
            Application => "DEV-01",
            Talk => "DEV-02",
            Activist => "DEV-03",
            Examination => "DEV-05",
            Candidate => "DEV-06",
            Introducers => "DEV-07",
            PoliticalReview => "DEV-08",
            Training => "DEV-09",
            Publicity => "DEV-11",
            PreReview => "DEV-10",
            AdmissionMeeting => "DEV-12",
            Approval => "DEV-13",
            ConversionMeeting => "DEV-14",
            ConversionApproval => "DEV-16",
        }
    }

    fn article(self) -> Xize {
        use StepKind::*;
        match self {
            Application => Xize::MinAge,
            Talk => Xize::Talk,
            Activist => Xize::Activist,
            Examination => Xize::Examination,
            Candidate => Xize::Candidate,
            Introducers => Xize::Introducers,
            PoliticalReview => Xize::PoliticalReview,
            Training => Xize::Training,
            Publicity => Xize::Publicity,
            PreReview => Xize::PreReview,
            AdmissionMeeting => Xize::AdmissionMeeting,
            Approval => Xize::Approval,
            ConversionMeeting => Xize::Probation,
            ConversionApproval => Xize::ConversionApproval,
        }
    }

    /// The article of the version `set` the step follows.
    pub fn citation(self, set: RuleSet) -> &'static str {
        set.cite(self.article())
    }

    /// The stage a person reaches when this step is recorded, and the one she must be in for it.
    pub fn stage_change(self) -> Option<(Stage, Stage)> {
        use StepKind::*;
        match self {
            Activist => Some((Stage::Applicant, Stage::Activist)),
            Candidate => Some((Stage::Activist, Stage::Candidate)),
            Approval => Some((Stage::Candidate, Stage::Probationary)),
            ConversionApproval => Some((Stage::Probationary, Stage::Full)),
            _ => None,
        }
    }

    /// From this stage on the step counts as done even when it was never recorded here (people imported or
    /// entered with their stage: their earlier steps happened elsewhere, on paper).
    fn implied_from(self) -> Stage {
        use StepKind::*;
        match self {
            Application | Talk | Activist | Examination => Stage::Activist,
            Candidate => Stage::Candidate,
            Introducers | PoliticalReview | Training | Publicity | PreReview | AdmissionMeeting | Approval => {
                Stage::Probationary
            }
            ConversionMeeting | ConversionApproval => Stage::Full,
        }
    }

    /// Steps that may be recorded more than once: examinations every half year, a meeting that did not pass
    /// or extended probation, a publicity repeated.
    pub fn repeatable(self) -> bool {
        matches!(
            self,
            StepKind::Examination | StepKind::Publicity | StepKind::AdmissionMeeting | StepKind::ConversionMeeting
        )
    }

    /// The stage a person must be in for a step that is recorded again and again.
    fn recorded_in(self) -> Option<Stage> {
        match self {
            StepKind::Examination => Some(Stage::Activist),
            StepKind::Publicity | StepKind::AdmissionMeeting => Some(Stage::Candidate),
            StepKind::ConversionMeeting => Some(Stage::Probationary),
            _ => None,
        }
    }

    /// Whether the step carries a vote of the branch general meeting (DEV-12; conversion: art. 33).
    pub fn has_vote(self) -> bool {
        matches!(self, StepKind::AdmissionMeeting | StepKind::ConversionMeeting)
    }

    /// The steps that must be recorded (or implied) before this one (DEV-00; DEV-07, 08, 09, 10 for the
    /// admission meeting).
    pub fn needs(self) -> &'static [StepKind] {
        use StepKind::*;
        match self {
            Application => &[],
            Talk | Activist => &[Application],
            Examination | Candidate => &[Activist],
            Introducers | PoliticalReview | Training | Publicity | PreReview => &[Candidate],
            AdmissionMeeting => &[Introducers, PoliticalReview, Training, PreReview],
            Approval => &[AdmissionMeeting],
            ConversionMeeting => &[Approval],
            ConversionApproval => &[ConversionMeeting],
        }
    }
}

/// The decision of a conversion meeting (DEV-15); cancellation is recorded and left to the people (C7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversionDecision {
    Convert,
    Extend,
    Cancel,
}

/// The items of a step beyond its date (stored as JSON in `development_steps.detail`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StepDetail {
    /// Activist (DEV-03): who decided: `branch_committee`, `branch_assembly` or `party_group`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Activist and candidate: the decision was filed with the superior committee (备案).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed: Option<bool>,
    /// Political review (DEV-08): passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_passed: Option<bool>,
    /// Training (DEV-09).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_days: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_hours: Option<f64>,
    /// Publicity (DEV-11): working days (Monday–Friday; the date of the step is its first day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publicity_days: Option<u32>,
    /// Publicity: an objection lodged and not yet resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objection_open: Option<bool>,
    /// Pre-review (DEV-10): the candidate leaves the unit on this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub leaves_unit_on: Option<Date>,
    /// Conversion meeting (DEV-15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ConversionDecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_months: Option<u32>,
    /// Candidates decided by the same ballot (DEV-12: one by one, so 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates_on_ballot: Option<u32>,
}

/// The tally of a branch general meeting (DEV-12): formal members with a vote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Vote {
    /// Formal members with voting rights who should attend.
    pub eligible: u32,
    /// Of them, present.
    pub present: u32,
    /// Yes votes in the room.
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Yes votes in writing from absent voting members.
    pub written_yes: u32,
    /// Probationary members present (recorded, never counted).
    pub probationary: u32,
}

/// A step as recorded (or about to be).
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub kind: StepKind,
    pub on: Date,
    /// `passed` / `not_passed` for meetings and reviews, the decision for conversion meetings.
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub detail: StepDetail,
    pub vote: Option<Vote>,
}

impl Recorded {
    pub fn new(kind: StepKind, on: Date) -> Recorded {
        Recorded { kind, on, outcome: None, reason: None, detail: StepDetail::default(), vote: None }
    }

    /// Whether the step moved the person on: a passed meeting and review, a filed decision.
    pub fn counts(&self) -> bool {
        match self.kind {
            StepKind::AdmissionMeeting => self.outcome.as_deref() == Some("passed"),
            StepKind::ConversionMeeting => {
                self.outcome.as_deref() == Some("passed")
                    && matches!(self.detail.decision, None | Some(ConversionDecision::Convert))
            }
            StepKind::PoliticalReview => self.detail.review_passed != Some(false),
            _ => true,
        }
    }
}

/// What the person record says, for people whose earlier steps were not recorded here.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub birth_date: Date,
    pub stage: Stage,
    pub applied_on: Option<Date>,
    pub activist_on: Option<Date>,
    pub candidate_on: Option<Date>,
    pub admitted_on: Option<Date>,
    pub converted_on: Option<Date>,
}

/// A person's pipeline: her record, her steps in the order they happened, and the working-day calendar that
/// publicity periods count by (DEV-11).
#[derive(Clone, Debug)]
pub struct Case<'a> {
    pub person: &'a Person,
    pub steps: &'a [Recorded],
    pub calendar: &'a dev::WorkCalendar,
}

impl<'a> Case<'a> {
    /// A case counted without holidays (Monday to Friday); see [`Case::with_calendar`].
    pub fn new(person: &'a Person, steps: &'a [Recorded]) -> Case<'a> {
        Case { person, steps, calendar: &dev::NO_HOLIDAYS }
    }

    /// The same case, its publicity counted by `calendar`.
    pub fn with_calendar(self, calendar: &'a dev::WorkCalendar) -> Case<'a> {
        Case { calendar, ..self }
    }
}

impl Case<'_> {
    fn last(&self, kind: StepKind) -> Option<&Recorded> {
        self.steps.iter().rev().find(|s| s.kind == kind && s.counts())
    }

    fn on(&self, kind: StepKind) -> Option<Date> {
        self.last(kind).map(|s| s.on)
    }

    /// Whether `kind` is done: recorded (and counting), or implied by the person's stage.
    pub fn done(&self, kind: StepKind) -> bool {
        self.last(kind).is_some()
            || self.person.stage >= kind.implied_from()
            || (kind == StepKind::Application && self.person.applied_on.is_some())
    }

    /// The months of the extension decided, if any (DEV-15).
    fn extension_months(&self) -> u32 {
        self.extensions().iter().map(|s| s.detail.extension_months.unwrap_or(0)).sum()
    }

    fn extensions(&self) -> Vec<&Recorded> {
        self.steps
            .iter()
            .filter(|s| {
                s.kind == StepKind::ConversionMeeting
                    && s.outcome.as_deref() == Some("passed")
                    && s.detail.decision == Some(ConversionDecision::Extend)
            })
            .collect()
    }

    /// The dates as the rule engine takes them, judged on `as_of`.
    pub fn record(&self, as_of: Date) -> dev::Record {
        use StepKind::*;
        let p = self.person;
        let training = self.last(Training);
        let prereview = self.last(PreReview);
        let approval = self.last(Approval);
        let extension = self.extension_months();
        dev::Record {
            birth_date: Some(p.birth_date),
            applied_on: self.on(Application).or(p.applied_on),
            talked_on: self.on(Talk),
            activist_on: self.on(Activist).or(p.activist_on),
            candidate_on: self.on(Candidate).or(p.candidate_on),
            training_days: training.and_then(|t| t.detail.training_days),
            training_hours: training.and_then(|t| t.detail.training_hours),
            prereview_on: prereview.map(|s| s.on),
            leaves_unit_on: prereview.and_then(|s| s.detail.leaves_unit_on),
            admitted_on: self.on(AdmissionMeeting).or(p.admitted_on),
            approved_on: approval.map(|s| s.on),
            approval_reason: approval.and_then(|s| s.reason.clone()),
            conversion_meeting_on: self.on(ConversionMeeting),
            converted_on: self.on(ConversionApproval),
            extension_months: (extension > 0).then_some(extension),
            as_of,
        }
    }
}

/// One step of the timeline: when it was done, and the date it is due by or allowed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlanStep {
    pub step: StepKind,
    pub label: &'static str,
    pub stage_no: u8,
    pub stage: &'static str,
    /// The dates it was recorded on (several for examinations and repeated meetings).
    #[schema(value_type = Vec<String>)]
    pub done_on: Vec<Date>,
    /// Implied by the person's stage without a record here.
    pub implied: bool,
    /// The last day allowed.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_by: Option<Date>,
    /// The first day allowed.
    #[schema(value_type = Option<String>, format = Date)]
    pub allowed_from: Option<Date>,
    pub rule: &'static str,
    pub citation: &'static str,
}

/// The kind of date a person's next step has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueKind {
    /// `due_on` is the last day.
    Deadline = 0,
    /// The step is allowed from `due_on` (a waiting period).
    From = 1,
    /// No date: whenever the branch is ready.
    Open = 2,
}

/// A person's next due step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Due {
    pub step: StepKind,
    pub label: &'static str,
    pub kind: DueKind,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub rule: &'static str,
    pub citation: &'static str,
    /// What is due, in Chinese.
    pub note: String,
}

/// The day before `d` (the last day of a half-open window).
fn day_before(d: Date) -> Date {
    d.checked_sub(Duration::DAY).unwrap_or(d)
}

/// The version that judges the case.
fn rule_set(case: &Case, selection: &RuleSelection, as_of: Date) -> RuleSet {
    selection.in_force_on(case.record(as_of).admitted_on.unwrap_or(as_of))
}

/// The publicity that precedes the admission meeting, if one was recorded: its last day (DEV-11).
fn publicity_end(case: &Case) -> Option<(Date, bool)> {
    let p = case.steps.iter().rev().find(|s| s.kind == StepKind::Publicity)?;
    let days = p.detail.publicity_days.unwrap_or(5);
    dev::publicity_ends(p.on, days, case.calendar).map(|end| (end, p.detail.objection_open == Some(true)))
}

/// The timeline of all steps with their dates (DEV-00…17).
pub fn plan(case: &Case, selection: &RuleSelection, as_of: Date) -> Vec<PlanStep> {
    let set = rule_set(case, selection, as_of);
    let a = dev::assess(&case.record(as_of), selection);
    let d = &a.deadlines;
    let publicity = publicity_end(case);
    StepKind::ALL
        .iter()
        .map(|&kind| {
            use StepKind::*;
            let done_on: Vec<Date> = case.steps.iter().filter(|s| s.kind == kind).map(|s| s.on).collect();
            let (due_by, allowed_from) = match kind {
                Application => (None, d.may_apply_from),
                Talk => (d.talk_by, None),
                Examination => (examination_due(case, as_of), None),
                Candidate => (None, d.candidate_from),
                AdmissionMeeting => (d.admission_meeting_by, publicity.map(|(end, _)| end.next_day().unwrap_or(end))),
                Approval => (d.approval_by, None),
                ConversionMeeting => (None, d.probation_ends),
                ConversionApproval => (d.conversion_approval_by, None),
                _ => (None, None),
            };
            PlanStep {
                step: kind,
                label: kind.label(),
                stage_no: kind.stage_no(),
                stage: kind.stage_title(),
                implied: done_on.is_empty() && case.done(kind),
                done_on,
                due_by,
                allowed_from,
                rule: kind.rule(),
                citation: kind.citation(set),
            }
        })
        .collect()
}

/// DEV-05: the last day of the first half-year window since the activist date without an examination, while
/// the person is an activist.
fn examination_due(case: &Case, as_of: Date) -> Option<Date> {
    if case.person.stage != Stage::Activist {
        return None;
    }
    let since = case.record(as_of).activist_on?;
    let exams: Vec<Date> = case.steps.iter().filter(|s| s.kind == StepKind::Examination).map(|s| s.on).collect();
    // The windows elapsed so far that lack one, else the current window.
    let missing = dev::missing_examinations(since, &exams, as_of);
    if let Some((_, end)) = missing.first() {
        return Some(day_before(*end));
    }
    let mut k = 0;
    loop {
        let start = kernel::dates::add_months(since, dev::EXAMINATION_MONTHS * k);
        let end = kernel::dates::add_months(since, dev::EXAMINATION_MONTHS * (k + 1));
        if end > as_of {
            let covered = exams.iter().any(|e| *e >= start && *e < end);
            let end = if covered { kernel::dates::add_months(end, dev::EXAMINATION_MONTHS) } else { end };
            return Some(day_before(end));
        }
        k += 1;
    }
}

fn due(kind: StepKind, dk: DueKind, due_on: Option<Date>, set: RuleSet, note: String) -> Due {
    Due { step: kind, label: kind.label(), kind: dk, due_on, rule: kind.rule(), citation: kind.citation(set), note }
}

/// The person's next due step on `as_of` and its date; `None` for a full member.
pub fn next_due(case: &Case, selection: &RuleSelection, as_of: Date) -> Option<Due> {
    use StepKind::*;
    let set = rule_set(case, selection, as_of);
    let a = dev::assess(&case.record(as_of), selection);
    let d = &a.deadlines;
    match case.person.stage {
        Stage::Full => None,
        Stage::Applicant if !case.done(Application) => {
            Some(due(Application, DueKind::Open, None, set, "登记入党申请书的递交日期".into()))
        }
        Stage::Applicant if !case.done(Talk) => Some(due(
            Talk,
            DueKind::Deadline,
            d.talk_by,
            set,
            format!("收到入党申请后一个月内派人谈话（{}前）", d.talk_by.map(iso).unwrap_or_default()),
        )),
        Stage::Applicant => Some(due(
            Activist,
            DueKind::Open,
            None,
            set,
            "经党员推荐、群团组织推优，由支部委员会研究确定入党积极分子并报上级党委备案".into(),
        )),
        Stage::Activist => {
            let from = d.candidate_from;
            let exam = examination_due(case, as_of);
            match (exam, from) {
                (Some(e), Some(f)) if e < f || e < as_of => Some(due(
                    Examination,
                    DueKind::Deadline,
                    Some(e),
                    set,
                    format!("每半年对入党积极分子进行一次考察（{}前）", iso(e)),
                )),
                (_, Some(f)) => Some(due(
                    Candidate,
                    DueKind::From,
                    Some(f),
                    set,
                    format!("培养教育考察一年以上，{}起可列为发展对象", iso(f)),
                )),
                _ => Some(due(Candidate, DueKind::Open, None, set, "确定为发展对象".into())),
            }
        }
        Stage::Candidate => {
            if let Some(meeting) = case.last(AdmissionMeeting) {
                let (by, latest) = dev::approval_deadlines(meeting.on);
                return Some(due(
                    Approval,
                    DueKind::Deadline,
                    Some(by),
                    set,
                    format!("上级党委应在三个月内（{}前）审批；特殊情况记录原因后最迟{}", iso(by), iso(latest)),
                ));
            }
            if let Some(missing) =
                [Introducers, PoliticalReview, Training, PreReview].into_iter().find(|k| !case.done(*k))
            {
                return Some(due(missing, DueKind::Open, None, set, format!("完成「{}」", missing.label())));
            }
            match (d.admission_meeting_by, publicity_end(case)) {
                (Some(by), _) => Some(due(
                    AdmissionMeeting,
                    DueKind::Deadline,
                    Some(by),
                    set,
                    format!("预审合格后一个月内（{}前）召开支部大会讨论接收", iso(by)),
                )),
                (None, Some((end, _))) => {
                    let from = end.next_day().unwrap_or(end);
                    Some(due(
                        AdmissionMeeting,
                        DueKind::From,
                        Some(from),
                        set,
                        format!("公示期满，{}起可召开支部大会讨论接收", iso(from)),
                    ))
                }
                (None, None) => {
                    Some(due(AdmissionMeeting, DueKind::Open, None, set, "召开支部大会讨论接收预备党员".into()))
                }
            }
        }
        Stage::Probationary => {
            if let Some(meeting) = case.last(ConversionMeeting) {
                let by = dev::conversion_approval_by(meeting.on);
                return Some(due(
                    ConversionApproval,
                    DueKind::Deadline,
                    Some(by),
                    set,
                    format!("上级党委应在三个月内（{}前）审批转正", iso(by)),
                ));
            }
            let ends = d.probation_ends;
            Some(due(
                ConversionMeeting,
                DueKind::From,
                ends,
                set,
                format!("预备期{}期满，期满后及时讨论其能否转为正式党员", ends.map(iso).unwrap_or_default()),
            ))
        }
    }
}

/// The people named for a step with their standing (DEV-04, DEV-07).
#[derive(Clone, Debug, Default)]
pub struct Responsible {
    pub contacts: Vec<Standing>,
    pub introducers: Vec<Standing>,
}

fn process(set: RuleSet, code: &'static str, message: String) -> Finding {
    Finding::violation("DEV-00", code, message, vec![set.cite(Xize::Process)])
}

/// Judges a step about to be recorded for the person: the findings it raises. A `violation` refuses it;
/// a `warning` needs a recorded reason (C7). `as_of` is today (a step may not be dated in the future).
pub fn check_step(
    case: &Case,
    step: &Recorded,
    who: &Responsible,
    selection: &RuleSelection,
    as_of: Date,
) -> Vec<Finding> {
    use StepKind::*;
    let set = selection.in_force_on(match step.kind {
        AdmissionMeeting => step.on,
        _ => case.record(as_of).admitted_on.unwrap_or(step.on),
    });
    let mut out = Vec::new();
    // DEV-00: the order of the stages.
    let missing: Vec<&str> = step.kind.needs().iter().filter(|k| !case.done(**k)).map(|k| k.label()).collect();
    if !missing.is_empty() {
        out.push(process(
            set,
            "steps_missing",
            format!("「{}」之前须先完成：{}", step.kind.label(), missing.join("、")),
        ));
    }
    if let Some((from, _)) = step.kind.stage_change()
        && case.person.stage != from
    {
        out.push(process(
            set,
            "wrong_stage",
            format!("「{}」只适用于{}，该同志当前为{}", step.kind.label(), from.label(), case.person.stage.label()),
        ));
    }
    let once = !step.kind.repeatable() || step.kind.has_vote();
    if once && case.last(step.kind).is_some() {
        out.push(process(set, "already_recorded", format!("「{}」已记录", step.kind.label())));
    }
    if let Some(stage) = step.kind.recorded_in()
        && case.person.stage != stage
    {
        out.push(process(
            set,
            "wrong_stage",
            format!("「{}」只适用于{}，该同志当前为{}", step.kind.label(), stage.label(), case.person.stage.label()),
        ));
    }

    // The dates: what the step adds to the assessment of the record on its own date.
    let before = dev::assess(&case.record(step.on), selection);
    let mut with: Vec<Recorded> = case.steps.to_vec();
    with.push(step.clone());
    if let (Some(v), Some(last)) = (step.vote, with.last_mut())
        && last.outcome.is_none()
    {
        last.outcome = Some(vote_outcome(&v).into());
    }
    let after_case = Case::new(case.person, &with).with_calendar(case.calendar);
    let after = dev::assess(&after_case.record(step.on), selection);
    for f in after.violations {
        if !f.code.ends_with("_overdue") && !before.violations.contains(&f) {
            out.push(f);
        }
    }

    // The single rules of the step itself.
    match step.kind {
        Activist => {
            let body = match step.detail.decided_by.as_deref() {
                Some("branch_assembly") => DecisionBody::BranchAssembly,
                Some("party_group") => DecisionBody::PartyGroup,
                _ => DecisionBody::BranchCommittee,
            };
            // Which body is right depends on whether the branch has a committee (ORG-09); the branch says
            // which of the two decided, a Party group never may.
            let has_committee = body != DecisionBody::BranchAssembly;
            match dev::activist_status(has_committee, body, step.on, step.detail.filed == Some(true)) {
                Err(f) => out.push(f),
                Ok(None) => out.push(Finding::violation(
                    "DEV-03",
                    "not_filed",
                    "确定入党积极分子须报上级党委备案；备案前仍为入党申请人，培养考察期不起算".into(),
                    vec![set.cite(Xize::Activist)],
                )),
                Ok(Some(_)) => {}
            }
            out.extend(dev::check_contacts(&who.contacts));
        }
        Introducers => out.extend(dev::check_introducers(&who.introducers)),
        PoliticalReview => {
            let c = match step.detail.review_passed {
                Some(true) => Some(ReviewConclusion::Passed),
                Some(false) => Some(ReviewConclusion::Failed),
                None => None,
            };
            // A failed review is recorded (the branch's conclusion); it blocks the meeting later.
            if c.is_none() {
                out.extend(dev::check_political_review(None));
            }
        }
        Training if step.detail.training_days.is_none() && step.detail.training_hours.is_none() => {
            out.push(Finding::violation(
                "DEV-09",
                "training_insufficient",
                "请填写培训天数或学时".into(),
                vec![set.cite(Xize::Training)],
            ));
        }
        AdmissionMeeting | ConversionMeeting => {
            if step.kind == AdmissionMeeting {
                let review = case.steps.iter().rev().find(|s| s.kind == PoliticalReview).map(|s| {
                    if s.detail.review_passed == Some(false) {
                        ReviewConclusion::Failed
                    } else {
                        ReviewConclusion::Passed
                    }
                });
                let review = review.or((case.person.stage >= Stage::Probationary).then_some(ReviewConclusion::Passed));
                if case.done(PoliticalReview) || review.is_some() {
                    out.extend(dev::check_political_review(review));
                }
                if let Some((end, objection)) = publicity_end(case) {
                    out.extend(dev::check_publicity(end, step.on, objection, set));
                }
            }
            if step.kind == ConversionMeeting && step.detail.decision == Some(ConversionDecision::Extend) {
                let months = step.detail.extension_months.unwrap_or(0);
                // The months themselves are judged by the assessment above; here only the one extension.
                let earlier = u32::try_from(case.extensions().len()).unwrap_or(u32::MAX);
                if earlier > 0 {
                    out.extend(dev::check_extension(months, earlier, set));
                }
            }
            match step.vote {
                None => out.push(Finding::violation(
                    "DEV-12",
                    "vote_missing",
                    "请填写支部大会的表决情况（应到、实到有表决权的正式党员人数和赞成票数）".into(),
                    dev::admission_vote_citations().to_vec(),
                )),
                Some(v) => match dev::admission_vote(&AdmissionVote {
                    eligible: v.eligible,
                    present: v.present,
                    yes_present: v.yes,
                    yes_written: v.written_yes,
                    probationary_present: v.probationary,
                    candidates_on_ballot: step.detail.candidates_on_ballot.unwrap_or(1),
                }) {
                    Err(f) => out.push(f),
                    Ok(VoteOutcome::NoQuorum) => out.push(Finding::violation(
                        "DEV-12",
                        "no_quorum",
                        format!(
                            "有表决权的到会人数须超过应到会人数的半数：应到{}人，实到{}人，会议不能进行表决",
                            v.eligible, v.present
                        ),
                        dev::admission_vote_citations().to_vec(),
                    )),
                    Ok(_) => {}
                },
            }
        }
        Approval | ConversionApproval => {
            // DEV-13's exception (a special circumstance) comes back from the assessment as a warning only
            // when a reason is recorded; without one it is a violation. Ask for the reason instead.
            if step.kind == Approval
                && let Some(admitted) = case.record(as_of).admitted_on
                && let Some(f) = dev::check_approval(admitted, step.on, true, set)
                && f.severity == Severity::Warning
                && step.reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                out.retain(|x| x.code != "approval_late");
                out.push(f);
            }
        }
        _ => {}
    }
    out
}

/// The outcome of a meeting's vote, for the stored step: `passed` or `not_passed` (DEV-12).
pub fn vote_outcome(v: &Vote) -> &'static str {
    let outcome = dev::admission_vote(&AdmissionVote {
        eligible: v.eligible,
        present: v.present,
        yes_present: v.yes,
        yes_written: v.written_yes,
        probationary_present: v.probationary,
        candidates_on_ballot: 1,
    });
    if outcome == Ok(VoteOutcome::Passed) { "passed" } else { "not_passed" }
}

/// What the person's record becomes when `step` is recorded: `(stage, column, date)`; the column is the
/// stage date of `people` it sets.
pub fn person_update(case: &Case, step: &Recorded) -> Option<(Stage, &'static str, Date)> {
    use StepKind::*;
    match step.kind {
        Application => Some((Stage::Applicant, "applied_on", step.on)),
        Activist => Some((Stage::Activist, "activist_on", step.on)),
        Candidate => Some((Stage::Candidate, "candidate_on", step.on)),
        // A probationary member from the approval; her probation counts from the branch meeting (DEV-14).
        Approval => case.record(step.on).admitted_on.map(|m| (Stage::Probationary, "admitted_on", m)),
        // 党龄 from the end of probation (DEV-17), whenever the approval came.
        ConversionApproval => case
            .record(step.on)
            .admitted_on
            .map(|m| (Stage::Full, "converted_on", dev::party_standing_from(m, case.extension_months()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn person(stage: Stage) -> Person {
        Person {
            birth_date: date!(2000 - 01 - 01),
            stage,
            applied_on: None,
            activist_on: None,
            candidate_on: None,
            admitted_on: None,
            converted_on: None,
        }
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code).collect()
    }

    const SEL: RuleSelection = RuleSelection::DEFAULT;

    fn check(p: &Person, steps: &[Recorded], step: &Recorded) -> Vec<Finding> {
        check_step(&Case::new(p, steps), step, &Responsible::default(), &SEL, date!(2027 - 01 - 01))
    }

    #[test]
    fn steps_in_order_with_their_stages_and_citations() {
        let labels: Vec<u8> = StepKind::ALL.iter().map(|k| k.stage_no()).collect();
        assert!(labels.windows(2).all(|w| w[0] <= w[1]), "{labels:?}");
        assert_eq!(StepKind::ALL.first(), Some(&StepKind::Application));
        assert_eq!(StepKind::ALL.last(), Some(&StepKind::ConversionApproval));
        assert_eq!(StepKind::Talk.citation(RuleSet::Xize2014), "《中国共产党发展党员工作细则》（2014）第七条");
        assert_eq!(StepKind::Candidate.rule(), "DEV-06");
    }

    #[test]
    fn dev_00_t1_the_meeting_lists_the_missing_steps() {
        let p = Person { candidate_on: Some(date!(2025 - 03 - 15)), ..person(Stage::Candidate) };
        let mut m = Recorded::new(StepKind::AdmissionMeeting, date!(2025 - 06 - 01));
        m.vote = Some(Vote { eligible: 12, present: 7, yes: 7, ..Vote::default() });
        let f = check(&p, &[], &m);
        assert_eq!(codes(&f), vec!["steps_missing"]);
        for s in ["确定入党介绍人", "政治审查", "短期集中培训", "上级党委预审"] {
            assert!(f[0].message.contains(s), "{}", f[0].message);
        }
        assert!(f[0].citations[0].contains("第二章至第五章"));
    }

    #[test]
    fn dev_00_t2_a_talk_before_the_application_is_refused() {
        let p = person(Stage::Applicant);
        let steps = [Recorded::new(StepKind::Application, date!(2025 - 03 - 10))];
        let f = check(&p, &steps, &Recorded::new(StepKind::Talk, date!(2025 - 03 - 05)));
        assert_eq!(codes(&f), vec!["out_of_order"]);
        // DEV-02-T1 on time, T2 late.
        assert!(check(&p, &steps, &Recorded::new(StepKind::Talk, date!(2025 - 04 - 10))).is_empty());
        let f = check(&p, &steps, &Recorded::new(StepKind::Talk, date!(2025 - 04 - 20)));
        assert_eq!(codes(&f), vec!["talk_late"]);
        assert!(f[0].message.contains("晚了10天"));
    }

    #[test]
    fn dev_01_age_on_the_application() {
        let p = Person { birth_date: date!(2007 - 09 - 16), ..person(Stage::Applicant) };
        let f = check(&p, &[], &Recorded::new(StepKind::Application, date!(2025 - 09 - 15)));
        assert_eq!(codes(&f), vec!["under_age"]);
        let p = Person { birth_date: date!(2007 - 09 - 15), ..p };
        assert!(check(&p, &[], &Recorded::new(StepKind::Application, date!(2025 - 09 - 15))).is_empty());
    }

    fn activist(on: Date) -> Recorded {
        let mut s = Recorded::new(StepKind::Activist, on);
        s.detail.filed = Some(true);
        s
    }

    #[test]
    fn dev_03_and_04_the_activist_decision() {
        let p = person(Stage::Applicant);
        let steps = [
            Recorded::new(StepKind::Application, date!(2024 - 01 - 10)),
            Recorded::new(StepKind::Talk, date!(2024 - 01 - 20)),
        ];
        let case = Case::new(&p, &steps);
        let two = Responsible { contacts: vec![Standing::Formal, Standing::Formal], ..Responsible::default() };
        let ok = check_step(&case, &activist(date!(2024 - 03 - 15)), &two, &SEL, date!(2025 - 01 - 01));
        assert!(ok.is_empty(), "{ok:?}");
        let mut group = activist(date!(2024 - 03 - 15));
        group.detail.decided_by = Some("party_group".into());
        assert_eq!(codes(&check_step(&case, &group, &two, &SEL, date!(2025 - 01 - 01))), vec!["wrong_decision_body"]);
        let mut unfiled = activist(date!(2024 - 03 - 15));
        unfiled.detail.filed = Some(false);
        assert_eq!(codes(&check_step(&case, &unfiled, &two, &SEL, date!(2025 - 01 - 01))), vec!["not_filed"]);
        let probationary = Responsible { contacts: vec![Standing::Probationary], ..Responsible::default() };
        let f = check_step(&case, &activist(date!(2024 - 03 - 15)), &probationary, &SEL, date!(2025 - 01 - 01));
        assert_eq!(codes(&f), vec!["contacts_invalid"]);
        // Before the talk? The talk is not a prerequisite of the decision; the application is.
        let f = check_step(&Case::new(&p, &[]), &activist(date!(2024 - 03 - 15)), &two, &SEL, date!(2025 - 01 - 01));
        assert_eq!(codes(&f), vec!["steps_missing"]);
    }

    #[test]
    fn dev_06_listing_a_development_object_too_early() {
        let p = Person { activist_on: Some(date!(2024 - 03 - 15)), ..person(Stage::Activist) };
        let f = check(&p, &[], &Recorded::new(StepKind::Candidate, date!(2025 - 03 - 14)));
        assert_eq!(codes(&f), vec!["cultivation_too_short"]);
        assert!(f[0].message.contains("早了1天"));
        assert!(check(&p, &[], &Recorded::new(StepKind::Candidate, date!(2025 - 03 - 15))).is_empty());
        // The to-do: allowed from the anniversary (DEV-06-T3 leap year).
        let p = Person { activist_on: Some(date!(2024 - 02 - 29)), ..person(Stage::Activist) };
        let exam = Recorded::new(StepKind::Examination, date!(2024 - 08 - 01));
        let exam2 = Recorded::new(StepKind::Examination, date!(2025 - 01 - 10));
        let n = next_due(&Case::new(&p, &[exam, exam2]), &SEL, date!(2025 - 02 - 01)).unwrap();
        assert_eq!((n.step, n.kind, n.due_on), (StepKind::Candidate, DueKind::From, Some(date!(2025 - 02 - 28))));
    }

    #[test]
    fn dev_05_examination_due_within_the_half_year() {
        let p = Person { activist_on: Some(date!(2024 - 09 - 01)), ..person(Stage::Activist) };
        let n = next_due(&Case::new(&p, &[]), &SEL, date!(2024 - 10 - 01)).unwrap();
        assert_eq!((n.step, n.due_on), (StepKind::Examination, Some(date!(2025 - 02 - 28))));
        // T2: only an examination in the second window → the first is overdue.
        let steps = [Recorded::new(StepKind::Examination, date!(2025 - 07 - 10))];
        let n = next_due(&Case::new(&p, &steps), &SEL, date!(2025 - 09 - 01)).unwrap();
        assert_eq!((n.step, n.due_on), (StepKind::Examination, Some(date!(2025 - 02 - 28))));
    }

    fn candidate_ready() -> (Person, Vec<Recorded>) {
        let p = Person { candidate_on: Some(date!(2025 - 03 - 15)), ..person(Stage::Candidate) };
        let mut review = Recorded::new(StepKind::PoliticalReview, date!(2025 - 04 - 01));
        review.detail.review_passed = Some(true);
        let mut training = Recorded::new(StepKind::Training, date!(2025 - 04 - 10));
        training.detail.training_days = Some(3.0);
        let steps = vec![
            Recorded::new(StepKind::Introducers, date!(2025 - 03 - 20)),
            review,
            training,
            Recorded::new(StepKind::PreReview, date!(2025 - 05 - 01)),
        ];
        (p, steps)
    }

    fn meeting(on: Date, eligible: u32, present: u32, yes: u32, written: u32) -> Recorded {
        let mut m = Recorded::new(StepKind::AdmissionMeeting, on);
        m.vote = Some(Vote { eligible, present, yes, written_yes: written, ..Vote::default() });
        m
    }

    #[test]
    fn dev_12_quorum_and_majority_of_the_admission_meeting() {
        let (p, steps) = candidate_ready();
        // T1 passed with a written vote; T2 no quorum → refused; T3 recorded as not passed.
        let t1 = meeting(date!(2025 - 05 - 20), 12, 7, 6, 1);
        assert!(check(&p, &steps, &t1).is_empty());
        assert_eq!(vote_outcome(t1.vote.as_ref().unwrap()), "passed");
        assert_eq!(codes(&check(&p, &steps, &meeting(date!(2025 - 05 - 20), 12, 6, 6, 0))), vec!["no_quorum"]);
        let t3 = meeting(date!(2025 - 05 - 20), 12, 11, 6, 0);
        assert!(check(&p, &steps, &t3).is_empty());
        assert_eq!(vote_outcome(t3.vote.as_ref().unwrap()), "not_passed");
        // T5: two candidates on one ballot.
        let mut t5 = meeting(date!(2025 - 05 - 20), 12, 7, 7, 0);
        t5.detail.candidates_on_ballot = Some(2);
        assert_eq!(codes(&check(&p, &steps, &t5)), vec!["not_individual_vote"]);
        // DEV-08: a failed review blocks the meeting.
        let mut failed = steps.clone();
        failed[1].detail.review_passed = Some(false);
        assert_eq!(codes(&check(&p, &failed, &t1)), vec!["steps_missing", "political_review_missing"]);
    }

    #[test]
    fn dev_13_approval_needs_a_reason_beyond_three_months() {
        let (p, mut steps) = candidate_ready();
        let mut m = meeting(date!(2025 - 05 - 20), 12, 7, 7, 0);
        m.outcome = Some("passed".into());
        steps.push(m);
        let case = Case::new(&p, &steps);
        assert_eq!(next_due(&case, &SEL, date!(2025 - 06 - 01)).unwrap().due_on, Some(date!(2025 - 08 - 20)));
        assert!(check(&p, &steps, &Recorded::new(StepKind::Approval, date!(2025 - 08 - 20))).is_empty());
        let late = Recorded::new(StepKind::Approval, date!(2025 - 10 - 01));
        let f = check(&p, &steps, &late);
        assert_eq!(codes(&f), vec!["approval_extended"]);
        assert_eq!(f[0].severity, Severity::Warning);
        let with_reason = Recorded { reason: Some("党委会议推迟".into()), ..late };
        let f = check(&p, &steps, &with_reason);
        assert_eq!(codes(&f), vec!["approval_extended"]);
        assert_eq!(f[0].severity, Severity::Warning);
        let f = check(
            &p,
            &steps,
            &Recorded { reason: Some("x".into()), ..Recorded::new(StepKind::Approval, date!(2025 - 11 - 21)) },
        );
        assert_eq!(codes(&f), vec!["approval_beyond_six_months"]);
        // T3 of DEV-00: before the meeting.
        let f = check(&p, &steps, &Recorded::new(StepKind::Approval, date!(2025 - 05 - 01)));
        assert_eq!(codes(&f), vec!["out_of_order"]);
        // The approval makes her a probationary member from the meeting.
        let upd = person_update(&case, &Recorded::new(StepKind::Approval, date!(2025 - 06 - 01)));
        assert_eq!(upd, Some((Stage::Probationary, "admitted_on", date!(2025 - 05 - 20))));
    }

    #[test]
    fn dev_10_leaving_within_three_months_needs_a_reason() {
        let p = Person { candidate_on: Some(date!(2025 - 03 - 15)), ..person(Stage::Candidate) };
        let mut pre = Recorded::new(StepKind::PreReview, date!(2025 - 06 - 15));
        pre.detail.leaves_unit_on = Some(date!(2025 - 08 - 31));
        let f = check(&p, &[], &pre);
        assert_eq!(codes(&f), vec!["leaving_within_three_months"]);
        assert_eq!(f[0].severity, Severity::Warning);
        pre.detail.leaves_unit_on = Some(date!(2025 - 10 - 01));
        assert!(check(&p, &[], &pre).is_empty());
    }

    #[test]
    fn dev_14_to_17_probation_conversion_and_standing() {
        let p = Person { admitted_on: Some(date!(2025 - 05 - 20)), ..person(Stage::Probationary) };
        let steps = [Recorded::new(StepKind::Approval, date!(2025 - 06 - 10))];
        let case = Case::new(&p, &steps);
        let n = next_due(&case, &SEL, date!(2025 - 07 - 01)).unwrap();
        assert_eq!(
            (n.step, n.kind, n.due_on),
            (StepKind::ConversionMeeting, DueKind::From, Some(date!(2026 - 05 - 20)))
        );
        let mut early = Recorded::new(StepKind::ConversionMeeting, date!(2026 - 05 - 19));
        early.vote = Some(Vote { eligible: 9, present: 5, yes: 5, ..Vote::default() });
        assert_eq!(codes(&check(&p, &steps, &early)), vec!["conversion_meeting_early"]);
        // DEV-15: an extension of 4 months is refused, 6 accepted; then the conversion after it.
        let mut ext = Recorded { on: date!(2026 - 05 - 20), outcome: Some("passed".into()), ..early.clone() };
        ext.detail.decision = Some(ConversionDecision::Extend);
        ext.detail.extension_months = Some(4);
        assert_eq!(codes(&check(&p, &steps, &ext)), vec!["extension_invalid"]);
        ext.detail.extension_months = Some(6);
        assert!(check(&p, &steps, &ext).is_empty());
        let mut with = steps.to_vec();
        with.push(ext.clone());
        let case = Case::new(&p, &with);
        assert_eq!(next_due(&case, &SEL, date!(2026 - 06 - 01)).unwrap().due_on, Some(date!(2026 - 11 - 20)));
        let mut second = ext.clone();
        second.on = date!(2026 - 11 - 20);
        assert_eq!(codes(&check(&p, &with, &second)), vec!["extension_repeated"]);
        let conv = Recorded { on: date!(2026 - 11 - 25), detail: StepDetail::default(), ..ext };
        assert!(check(&p, &with, &conv).is_empty());
        with.push(conv);
        let case = Case::new(&p, &with);
        let n = next_due(&case, &SEL, date!(2026 - 12 - 01)).unwrap();
        assert_eq!((n.step, n.due_on), (StepKind::ConversionApproval, Some(date!(2027 - 02 - 25))));
        // DEV-17: 党龄 from the end of the extended probation.
        let upd = person_update(&case, &Recorded::new(StepKind::ConversionApproval, date!(2027 - 01 - 10)));
        assert_eq!(upd, Some((Stage::Full, "converted_on", date!(2026 - 11 - 20))));
    }

    #[test]
    fn dev_11_t2_publicity_counts_the_holiday_calendar_of_the_case() {
        // A candidate whose publicity starts Thu 2025-09-25 for 5 working days.
        let p = Person { candidate_on: Some(date!(2025 - 06 - 01)), ..person(Stage::Candidate) };
        let steps = [Recorded::new(StepKind::Publicity, date!(2025 - 09 - 25))];
        let meeting_from = |case: &Case| {
            plan(case, &SEL, date!(2025 - 09 - 26))
                .into_iter()
                .find(|s| s.step == StepKind::AdmissionMeeting)
                .unwrap()
                .allowed_from
        };
        // Monday to Friday only: 9-25, 26, 29, 30, 10-01 → the meeting from 10-02.
        assert_eq!(meeting_from(&Case::new(&p, &steps)), Some(date!(2025 - 10 - 02)));
        // DEV-11-T2's calendar: National Day off, Sunday 9-28 worked → ends 9-30, the meeting from 10-01.
        let mut cal = dev::WorkCalendar::default();
        let mut d = date!(2025 - 10 - 01);
        while d <= date!(2025 - 10 - 08) {
            cal.holidays.insert(d);
            d = d.next_day().unwrap();
        }
        cal.extra_working_days.insert(date!(2025 - 09 - 28));
        assert_eq!(meeting_from(&Case::new(&p, &steps).with_calendar(&cal)), Some(date!(2025 - 10 - 01)));
    }

    #[test]
    fn the_timeline_carries_every_step_with_its_dates() {
        let p = person(Stage::Applicant);
        let steps = [Recorded::new(StepKind::Application, date!(2025 - 01 - 31))];
        let case = Case::new(&p, &steps);
        let plan = plan(&case, &SEL, date!(2025 - 02 - 10));
        assert_eq!(plan.len(), StepKind::ALL.len());
        let talk = plan.iter().find(|s| s.step == StepKind::Talk).unwrap();
        assert_eq!(talk.due_by, Some(date!(2025 - 02 - 28)));
        let n = next_due(&case, &SEL, date!(2025 - 03 - 01)).unwrap();
        assert_eq!((n.step, n.kind, n.due_on), (StepKind::Talk, DueKind::Deadline, Some(date!(2025 - 02 - 28))));
        assert!(next_due(&Case::new(&person(Stage::Full), &[]), &SEL, date!(2025 - 03 - 01)).is_none());
    }
}
