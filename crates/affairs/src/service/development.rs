//! The development pipeline (发展党员) on real person records: a person's timeline with its deadlines,
//! recording a step (checked by [`crate::rules::pipeline`], refused with the article cited or accepted with
//! a recorded reason where the regulations allow an exception, C7), the attachments of a step, and the
//! to-do list of a subtree (the maintained `development_due` table, recomputed where stale).
//!
//! Who: reading needs `PersonRead` on the person's organization (a secretary her branch, staff and leaders
//! their subtree; anything else is 404); recording needs `PersonWrite` (read-only roles get 403).

use std::collections::{BTreeMap, HashMap};

use kernel::dates::{iso, today};
use platform::files::{Attachment, AttachmentMeta, Owner};
use platform::model::{PersonRow, Stage, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;
use time::{Date, OffsetDateTime};

use super::{Error, Result, event};
use crate::model::FieldErrors;
use crate::model::development::*;
use crate::rules::development::{Standing, WorkCalendar};
use crate::rules::pipeline::{self as pipe, Case, DueKind, Recorded, Responsible, StepDetail, StepKind, Vote};
use crate::rules::{Finding, RuleSelection, Severity};
use crate::store::development::{self as store, DueWrite, StepRow, StepWrite};

/// The owner kind of a step's attachments.
pub const ATTACHMENT_KIND: &str = "development_step";
/// The most lines one to-do list shows.
pub const TODO_LIMIT: i64 = 2_000;
/// Stale to-do rows recomputed per transaction.
const REFRESH_BATCH: i64 = 500;
/// The longest notes and reason.
const MAX_TEXT: usize = 2_000;

const READ: Capability = Capability::PersonRead;
const WRITE: Capability = Capability::PersonWrite;

/// The pipeline's facts of a person record.
pub fn person_of(row: &PersonRow) -> pipe::Person {
    pipe::Person {
        birth_date: row.birth_date,
        stage: Stage::parse(&row.stage).unwrap_or(Stage::Applicant),
        applied_on: row.applied_on,
        activist_on: row.activist_on,
        candidate_on: row.candidate_on,
        admitted_on: row.admitted_on,
        converted_on: row.converted_on,
    }
}

fn vote_of(r: &StepRow) -> Option<Vote> {
    let n = |v: Option<i64>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
    r.vote_eligible.map(|_| Vote {
        eligible: n(r.vote_eligible),
        present: n(r.vote_present),
        yes: n(r.vote_for),
        no: n(r.vote_against),
        abstain: n(r.vote_abstain),
        written_yes: n(r.vote_written_for),
        probationary: n(r.vote_probationary),
    })
}

/// A stored step as the rules take it.
pub fn recorded_of(r: &StepRow) -> Option<Recorded> {
    Some(Recorded {
        kind: StepKind::parse(&r.step)?,
        on: r.done_on,
        outcome: r.outcome.clone(),
        reason: r.reason.clone(),
        detail: serde_json::from_str(&r.detail).unwrap_or_default(),
        vote: vote_of(r),
    })
}

/// The to-do row of a case.
fn due_row(due: Option<&pipe::Due>) -> Option<DueWrite<'_>> {
    due.map(|d| DueWrite {
        step: d.step.code(),
        rank: d.kind as i64,
        due_on: d.due_on.unwrap_or(store::NO_DATE),
        rule: d.rule,
        note: &d.note,
    })
}

/// The field a finding belongs to on the form.
fn field_of(f: &Finding) -> &'static str {
    match f.code {
        "steps_missing" | "wrong_stage" | "already_recorded" | "political_review_missing" => "step",
        "no_quorum" | "not_individual_vote" | "vote_missing" => "vote",
        "contacts_invalid" => "contacts",
        "introducers_invalid" => "introducers",
        "wrong_decision_body" | "not_filed" | "training_insufficient" | "extension_invalid" | "extension_repeated" => {
            "detail"
        }
        _ if f.severity == Severity::Warning => "reason",
        _ => "done_on",
    }
}

/// A finding as the refusal shows it: the message and the article(s) cited.
pub fn cited(f: &Finding) -> String {
    format!("{}（{}：{}）", f.message, f.rule, f.citations.join("、"))
}

fn text(errors: &mut FieldErrors, name: &str, v: &Option<String>) -> Option<String> {
    let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if v.chars().count() > MAX_TEXT {
        errors.insert(name.into(), format!("不能超过{MAX_TEXT}个字"));
    }
    Some(v.to_string())
}

/// The most days one list of a year's calendar holds (a year has about 30 days off and 10 worked weekend days).
const MAX_CALENDAR_DAYS: usize = 80;

/// The days of a calendar list: each item a day or a range `A~B` / `A至B` inside `year`, sorted, once each.
fn calendar_days(errors: &mut FieldErrors, field: &str, items: &[String], year: i32) -> Vec<Date> {
    let mut out = std::collections::BTreeSet::new();
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (a, b) = match item.split_once(['~', '至', '～']) {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (item, item),
        };
        let (Some(from), Some(to)) = (platform::rules::parse_date(a), platform::rules::parse_date(b)) else {
            errors.insert(field.into(), format!("“{item}”不是日期，请写成 2026-10-01 或 2026-10-01~2026-10-08"));
            return Vec::new();
        };
        if from > to || from.year() != year || to.year() != year {
            errors.insert(field.into(), format!("“{item}”应是{year}年内从前到后的日期"));
            return Vec::new();
        }
        let mut d = from;
        while d <= to {
            out.insert(d);
            if out.len() > MAX_CALENDAR_DAYS {
                errors.insert(field.into(), format!("一年最多{MAX_CALENDAR_DAYS}天"));
                return Vec::new();
            }
            let Some(next) = d.next_day() else { break };
            d = next;
        }
    }
    out.into_iter().collect()
}

/// The development pipeline over the platform's database and callers.
pub struct Development<'a> {
    platform: &'a Platform,
}

impl<'a> Development<'a> {
    pub fn new(platform: &'a Platform) -> Development<'a> {
        Development { platform }
    }

    fn db(&self) -> &kernel::Db {
        &self.platform.db
    }

    async fn selection(&self) -> Result<RuleSelection> {
        Ok(RuleSelection { revision_2026_from: store::revision_2026_from(self.db()).await? })
    }

    /// The working-day calendar publicity is counted by (DEV-11): the holidays and worked weekend days the
    /// system administrator entered; Monday to Friday where none are.
    async fn calendar(&self) -> Result<WorkCalendar> {
        let mut c = WorkCalendar::default();
        for (day, kind) in store::work_calendar(self.db(), None).await? {
            if kind == "working" {
                c.extra_working_days.insert(day);
            } else {
                c.holidays.insert(day);
            }
        }
        Ok(c)
    }

    /// Which version of the 细则 judges cases, for anyone signed in (it is a fact of the rules, not a secret).
    pub async fn rule_settings(&self, actor: &Actor) -> Result<RuleSettings> {
        let row = store::rule_settings(self.db()).await?;
        let from = row.as_ref().and_then(|r| r.revision_2026_from);
        let in_force = RuleSelection { revision_2026_from: from }.in_force_on(today());
        Ok(RuleSettings {
            revision_2026_from: from,
            in_force_today: in_force,
            in_force_title: in_force.title().into(),
            reported_issue: crate::rules::REVISION_2026_REPORTED_ISSUE,
            updated_by: row.as_ref().and_then(|r| r.updated_by_name.clone()),
            updated_at: row.map(|r| r.updated_at),
            can_change: actor.can_somewhere(Capability::RulesConfig),
        })
    }

    /// Switches the reported 2026 revision on from a date (or off, with no date): the system administrator,
    /// freshly authenticated, with a reason (the 党委组织部's decision); audited. Every to-do line is judged
    /// again by the version now in force. The revision is unverified (domain.md §0.2): it cannot apply before
    /// the day it was reported issued.
    pub async fn set_rule_settings(&self, ctx: &Ctx, actor: &Actor, input: &RuleSettingsInput) -> Result<RuleSettings> {
        self.may_configure(ctx, actor, "development.rules", "development_settings").await?;
        let mut errors = FieldErrors::new();
        let from = match input.revision_2026_from.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match platform::rules::parse_date(s) {
                None => {
                    errors.insert("revision_2026_from".into(), "请填写有效日期，如 2026-12-01".into());
                    None
                }
                Some(d) if d < crate::rules::REVISION_2026_REPORTED_ISSUE => {
                    errors.insert(
                        "revision_2026_from".into(),
                        format!(
                            "不能早于2026年修订版的发布日期（{}）",
                            kernel::dates::chinese(crate::rules::REVISION_2026_REPORTED_ISSUE)
                        ),
                    );
                    None
                }
                Some(d) => Some(d),
            },
        };
        let reason = text(&mut errors, "reason", &input.reason);
        if reason.is_none() && !errors.contains_key("reason") {
            errors.insert("reason".into(), "请填写依据（如党委组织部的通知文号）".into());
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let t = OffsetDateTime::now_utc();
        let mut tx = self.db().begin().await?;
        store::set_revision_2026_from(&mut tx, from, Some(actor.user_id).filter(|id| *id > 0), t).await?;
        let detail = format!(
            "revision_2026_from:{} reason:{}",
            from.map(iso).unwrap_or_else(|| "none".into()),
            reason.unwrap_or_default()
        );
        audit::append(&mut tx, event(actor, ctx, "development.rules", "development_settings".into(), "ok", detail))
            .await?;
        tx.commit().await?;
        self.rule_settings(actor).await
    }

    /// The rules' configuration (version, holiday calendar) is the system administrator's, freshly
    /// authenticated; anyone else is refused (403) and the refusal audited.
    async fn may_configure(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<()> {
        if !actor.can_somewhere(Capability::RulesConfig) {
            audit::append_alone(self.db(), event(actor, ctx, action, target.into(), "denied", String::new())).await?;
            return Err(Error::Forbidden);
        }
        Ok(self.platform.require_recent_auth(actor)?)
    }

    /// A year of the working-day calendar (anyone signed in may read it).
    pub async fn work_calendar_year(&self, actor: &Actor, year: i32) -> Result<WorkCalendarYear> {
        let mut out = WorkCalendarYear {
            year,
            holidays: Vec::new(),
            working_days: Vec::new(),
            can_change: actor.can_somewhere(Capability::RulesConfig),
        };
        for (day, kind) in store::work_calendar(self.db(), Some(year)).await? {
            if kind == "working" { out.working_days.push(day) } else { out.holidays.push(day) }
        }
        Ok(out)
    }

    /// Replaces a year of the working-day calendar: the system administrator, freshly authenticated, with the
    /// notice it follows; audited; every to-do line is judged again (publicity ends move with the calendar).
    pub async fn set_work_calendar(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        input: &WorkCalendarInput,
    ) -> Result<WorkCalendarYear> {
        self.may_configure(ctx, actor, "development.calendar", "work_calendar").await?;
        let mut errors = FieldErrors::new();
        let year = match input.year {
            Some(y) if (2000..=2100).contains(&y) => y,
            _ => {
                errors.insert("year".into(), "请填写年份（2000至2100）".into());
                0
            }
        };
        let holidays = calendar_days(&mut errors, "holidays", &input.holidays, year);
        let working = calendar_days(&mut errors, "working_days", &input.working_days, year);
        if !errors.contains_key("working_days")
            && let Some(d) =
                working.iter().find(|d| !matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday))
        {
            errors.insert("working_days".into(), format!("{}不是周末，周一至周五本来就是工作日", iso(*d)));
        }
        if let Some(d) = holidays.iter().find(|d| working.contains(d)) {
            errors.insert("working_days".into(), format!("{}已列为节假日，不能同时是调休上班日", iso(*d)));
        }
        let reason = text(&mut errors, "reason", &input.reason);
        if reason.is_none() && !errors.contains_key("reason") {
            errors.insert("reason".into(), "请填写依据（如国务院办公厅关于节假日安排的通知文号）".into());
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let entries: Vec<(Date, &str)> =
            holidays.iter().map(|d| (*d, "holiday")).chain(working.iter().map(|d| (*d, "working"))).collect();
        let t = OffsetDateTime::now_utc();
        let mut tx = self.db().begin().await?;
        store::replace_work_calendar(&mut tx, year, &entries, Some(actor.user_id).filter(|id| *id > 0), t).await?;
        let detail = format!(
            "year:{year} holidays:{} working_days:{} reason:{}",
            holidays.len(),
            working.len(),
            reason.unwrap_or_default()
        );
        audit::append(
            &mut tx,
            event(actor, ctx, "development.calendar", format!("work_calendar:{year}"), "ok", detail),
        )
        .await?;
        tx.commit().await?;
        self.work_calendar_year(actor, year).await
    }

    /// A person's development: the timeline with deadlines, the next step, the recorded steps.
    pub async fn view(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<DevelopmentView> {
        let row = super::person_readable(self.platform, ctx, actor, id, READ, "development.read").await?;
        let rows = store::steps_of(self.db(), &[id]).await?;
        let steps: Vec<Recorded> = rows.iter().filter_map(recorded_of).collect();
        let person = person_of(&row);
        let calendar = self.calendar().await?;
        let case = Case::new(&person, &steps).with_calendar(&calendar);
        let selection = self.selection().await?;
        let as_of = today();
        let next = pipe::next_due(&case, &selection, as_of);
        let set = selection.in_force_on(case.record(as_of).admitted_on.unwrap_or(as_of));
        let mut people: HashMap<i64, Vec<StepPerson>> = HashMap::new();
        for (step_id, role, person_id, name) in store::step_people(self.db(), id).await? {
            people.entry(step_id).or_default().push(StepPerson { role, person_id, name });
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut files: HashMap<i64, Vec<AttachmentMeta>> = HashMap::new();
        for a in self.platform.attachments_of(ATTACHMENT_KIND, &ids).await? {
            files.entry(a.owner_id).or_default().push(a);
        }
        let org_name = platform::store::get_org(self.db(), row.org_id).await?.map(|o| o.name).unwrap_or_default();
        Ok(DevelopmentView {
            person_id: id,
            name: row.name.clone(),
            stage: person.stage,
            stage_label: person.stage.label(),
            org_id: row.org_id,
            org_name,
            rule_set_title: set.title(),
            plan: pipe::plan(&case, &selection, as_of),
            overdue: next.as_ref().is_some_and(|n| is_overdue(n.kind, n.due_on, as_of)),
            next,
            steps: rows
                .iter()
                .filter_map(|r| {
                    let kind = StepKind::parse(&r.step)?;
                    Some(StepView {
                        id: r.id,
                        step: kind,
                        label: kind.label(),
                        stage_no: kind.stage_no(),
                        done_on: r.done_on,
                        outcome: r.outcome.clone(),
                        notes: r.notes.clone(),
                        reason: r.reason.clone(),
                        findings: serde_json::from_str(&r.findings).unwrap_or_default(),
                        detail: serde_json::from_str(&r.detail).unwrap_or_default(),
                        vote: vote_of(r),
                        rule_set: r.rule_set.clone(),
                        people: people.remove(&r.id).unwrap_or_default(),
                        attachments: files.remove(&r.id).unwrap_or_default(),
                    })
                })
                .collect(),
            can_write: actor.can(WRITE, &row.org_path),
        })
    }

    /// The people named for a step: each must exist in the caller's scope and not be the person herself;
    /// their standing for DEV-04 and DEV-07.
    async fn responsible(
        &self,
        actor: &Actor,
        id: i64,
        field: &str,
        ids: &[i64],
        errors: &mut FieldErrors,
    ) -> Result<Vec<Standing>> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for pid in ids {
            let row = platform::store::get_person(self.db(), *pid).await?;
            match row {
                Some(r) if *pid != id && !seen.contains(pid) && actor.can(READ, &r.org_path) => {
                    seen.push(*pid);
                    out.push(if Stage::parse(&r.stage) == Some(Stage::Full) {
                        Standing::Formal
                    } else {
                        Standing::Probationary
                    });
                }
                _ => {
                    errors.insert(field.into(), format!("人员编号{pid}无效：须为本组织范围内的其他人员，且不能重复"));
                }
            }
        }
        Ok(out)
    }

    /// Records a step for a person. A step that breaks a rule is refused (`Invalid`, the article cited in
    /// Chinese under the field concerned) and nothing is written; one that needs an exception is accepted
    /// only with a reason. The step, the people named, the person's new stage and date, the head counts,
    /// her to-do row and the audit entry commit together.
    pub async fn record(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &StepInput) -> Result<DevelopmentView> {
        super::person_writable(self.platform, ctx, actor, id, (READ, WRITE), "development.record").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        let kind = match input.step.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errors.insert("step".into(), "请选择步骤".into());
                None
            }
            Some(s) => StepKind::parse(s).or_else(|| {
                errors.insert("step".into(), format!("未知的步骤“{s}”"));
                None
            }),
        };
        let on = match input.done_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                errors.insert("done_on".into(), "请填写日期".into());
                None
            }
            Some(s) => match kernel::dates::parse_iso(s) {
                Some(d) if d > as_of => {
                    errors.insert("done_on".into(), format!("日期不能晚于今天（{}）", iso(as_of)));
                    None
                }
                Some(d) => Some(d),
                None => {
                    errors.insert("done_on".into(), "日期格式应为YYYY-MM-DD".into());
                    None
                }
            },
        };
        let notes = text(&mut errors, "notes", &input.notes);
        let reason = text(&mut errors, "reason", &input.reason);
        let contacts = self.responsible(actor, id, "contacts", &input.contacts, &mut errors).await?;
        let introducers = self.responsible(actor, id, "introducers", &input.introducers, &mut errors).await?;
        let talker: Vec<i64> = input.talker.into_iter().collect();
        self.responsible(actor, id, "talker", &talker, &mut errors).await?;
        if let Some(v) = &input.vote {
            if v.present > v.eligible {
                errors.insert("vote".into(), "实到人数不能多于应到人数".into());
            } else if v.yes + v.no + v.abstain > v.present {
                errors.insert("vote".into(), "赞成、反对、弃权票之和不能多于实到人数".into());
            } else if v.written_yes > v.eligible - v.present {
                errors.insert("vote".into(), "书面赞成票不能多于未到会的有表决权党员人数".into());
            }
        }
        if let Some(k) = kind {
            if input.vote.is_some() && !k.has_vote() {
                errors.insert("vote".into(), format!("「{}」没有表决", k.label()));
            }
            if !input.contacts.is_empty() && k != StepKind::Activist {
                errors.insert("contacts".into(), "培养联系人在确定入党积极分子时指定".into());
            }
            if !input.introducers.is_empty() && k != StepKind::Introducers {
                errors.insert("introducers".into(), "入党介绍人在“确定入党介绍人”步骤中指定".into());
            }
        }
        let (Some(kind), Some(on)) = (kind, on) else {
            return Err(Error::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let mut step = Recorded {
            kind,
            on,
            outcome: None,
            reason: reason.clone(),
            detail: StepDetail { ..input.detail.clone() },
            vote: input.vote,
        };
        step.outcome = match (kind, input.vote) {
            (_, Some(v)) if kind.has_vote() => Some(pipe::vote_outcome(&v).into()),
            (StepKind::PoliticalReview, _) => {
                Some(if step.detail.review_passed == Some(false) { "not_passed" } else { "passed" }.into())
            }
            _ => None,
        };
        let selection = self.selection().await?;
        let calendar = self.calendar().await?;
        let t = OffsetDateTime::now_utc();
        let mut tx = self.db().begin().await?;
        let current = platform::store::get_person_tx(&mut tx, id).await?.ok_or(Error::NotFound)?;
        let rows = store::steps_of_tx(&mut tx, id).await?;
        let history: Vec<Recorded> = rows.iter().filter_map(recorded_of).collect();
        let person = person_of(&current);
        let case = Case::new(&person, &history).with_calendar(&calendar);
        let who = Responsible { contacts, introducers };
        let findings = pipe::check_step(&case, &step, &who, &selection, as_of);
        let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in &findings {
            let needs_reason = f.severity == Severity::Warning && reason.is_none();
            if f.severity == Severity::Violation || needs_reason {
                let mut m = cited(f);
                if needs_reason {
                    m.push_str("；如确需办理，请填写理由");
                }
                refused.entry(field_of(f).into()).or_default().push(m);
            }
        }
        if !refused.is_empty() {
            drop(tx);
            let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
            let target = format!("person:{id}");
            let detail = format!("{} {} refused: {}", kind.code(), iso(on), codes.join(","));
            audit::append_alone(self.db(), event(actor, ctx, "development.record", target, "denied", detail)).await?;
            return Err(Error::Invalid(refused.into_iter().map(|(k, v)| (k, v.join("；"))).collect()));
        }
        let set = selection.in_force_on(match kind {
            StepKind::AdmissionMeeting => on,
            _ => case.record(as_of).admitted_on.unwrap_or(on),
        });
        let warnings = serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into());
        let detail = serde_json::to_string(&step.detail).unwrap_or_else(|_| "{}".into());
        let vote = step
            .vote
            .map(|v| [v.eligible, v.present, v.yes, v.no, v.abstain, v.written_yes, v.probationary].map(i64::from));
        let step_id = store::insert_step(
            &mut tx,
            &StepWrite {
                person_id: id,
                step: kind.code(),
                done_on: on,
                outcome: step.outcome.as_deref(),
                notes: notes.as_deref(),
                reason: reason.as_deref(),
                findings: &warnings,
                detail: &detail,
                rule_set: match set {
                    crate::rules::RuleSet::Xize2014 => "2014",
                    crate::rules::RuleSet::Xize2026 => "2026",
                },
                vote,
                recorded_by: Some(actor.user_id).filter(|u| *u > 0),
                now: t,
            },
        )
        .await?;
        for (role, ids) in [("contact", &input.contacts), ("introducer", &input.introducers), ("talker", &talker)] {
            for pid in ids {
                store::insert_step_person(&mut tx, step_id, role, *pid).await?;
            }
        }
        let mut stage_change = String::new();
        if let Some((to, column, date)) = pipe::person_update(&case, &step) {
            let from = person.stage;
            if !store::set_stage(&mut tx, id, (from.code(), to.code()), column, date, t).await? {
                return Err(Error::Conflict("该同志的发展阶段刚被他人修改，请刷新后重试"));
            }
            if from != to {
                let lineage = platform::model::path_ids(&current.org_path);
                platform::store::add_counts(&mut tx, &lineage, from.code(), &current.category, -1).await?;
                platform::store::add_counts(&mut tx, &lineage, to.code(), &current.category, 1).await?;
                stage_change = format!(" stage {}→{}", from.code(), to.code());
            }
        }
        let mut after = history.clone();
        after.push(step.clone());
        let mut new_person = person.clone();
        if let Some((to, _, _)) = pipe::person_update(&case, &step) {
            new_person.stage = to;
        }
        let next = pipe::next_due(&Case::new(&new_person, &after).with_calendar(&calendar), &selection, as_of);
        store::put_due(&mut tx, id, due_row(next.as_ref()).as_ref(), t).await?;
        let outcome = step.outcome.as_deref().map(|o| format!(" {o}")).unwrap_or_default();
        let warned = if findings.is_empty() { String::new() } else { " with reason".into() };
        let audit_detail = format!("step:{step_id} {} {}{outcome}{stage_change}{warned}", kind.code(), iso(on));
        audit::append(&mut tx, event(actor, ctx, "development.record", format!("person:{id}"), "ok", audit_detail))
            .await?;
        tx.commit().await?;
        self.platform.people_changed().await;
        self.view(ctx, actor, id).await
    }

    /// Attaches a file to a recorded step (security.md AT-21 checks before the transaction).
    pub async fn attach(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        step_id: i64,
        name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentMeta> {
        let row = super::person_writable(self.platform, ctx, actor, id, (READ, WRITE), "development.attach").await?;
        if !store::step_of_person(self.db(), id, step_id).await? {
            return Err(Error::NotFound);
        }
        let checked = self.platform.check_upload(ctx, actor, "file", name, bytes).await?;
        let mut tx = self.db().begin().await?;
        let owner = Owner { kind: ATTACHMENT_KIND, id: step_id, org_path: &row.org_path, person_id: Some(id) };
        let meta = self.platform.attach(&mut tx, ctx, actor, &owner, &checked, bytes).await?;
        tx.commit().await?;
        Ok(meta)
    }

    /// One file of a step, for those who may read the person's development.
    pub async fn attachment(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        step_id: i64,
        file_id: i64,
    ) -> Result<Attachment> {
        super::person_readable(self.platform, ctx, actor, id, READ, "development.attachment").await?;
        if !store::step_of_person(self.db(), id, step_id).await? {
            return Err(Error::NotFound);
        }
        Ok(self.platform.attachment(ctx, actor, ATTACHMENT_KIND, step_id, file_id).await?)
    }

    /// Recomputes the stale to-do rows of the subtree `[start, end)`.
    async fn refresh(&self, start: &str, end: &str) -> Result<()> {
        let selection = self.selection().await?;
        let calendar = self.calendar().await?;
        let as_of = today();
        loop {
            let ids = store::stale_in(self.db(), start, end, REFRESH_BATCH).await?;
            if ids.is_empty() {
                return Ok(());
            }
            let mut steps: HashMap<i64, Vec<Recorded>> = HashMap::new();
            for r in store::steps_of(self.db(), &ids).await? {
                if let Some(s) = recorded_of(&r) {
                    steps.entry(r.person_id).or_default().push(s);
                }
            }
            let people = store::pipeline_people(self.db(), &ids).await?;
            let t = OffsetDateTime::now_utc();
            let mut tx = self.db().begin().await?;
            for row in &people {
                let person = pipe::Person {
                    birth_date: row.birth_date,
                    stage: Stage::parse(&row.stage).unwrap_or(Stage::Applicant),
                    applied_on: row.applied_on,
                    activist_on: row.activist_on,
                    candidate_on: row.candidate_on,
                    admitted_on: row.admitted_on,
                    converted_on: row.converted_on,
                };
                let history = steps.remove(&row.id).unwrap_or_default();
                let next = pipe::next_due(&Case::new(&person, &history).with_calendar(&calendar), &selection, as_of);
                store::put_due(&mut tx, row.id, due_row(next.as_ref()).as_ref(), t).await?;
            }
            // Rows whose person vanished from the list (none today: people are never deleted) would loop.
            for pid in ids.iter().filter(|i| !people.iter().any(|p| p.id == **i)) {
                store::put_due(&mut tx, *pid, None, t).await?;
            }
            tx.commit().await?;
        }
    }

    /// The to-do list of an organization's subtree: every person's next step and its date, the overdue and
    /// the nearest deadlines first.
    pub async fn todo(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<TodoList> {
        let org = platform::store::get_org(self.db(), org_id).await?.ok_or(Error::NotFound)?;
        if !actor.can(READ, &org.path) {
            super::refuse(self.platform, ctx, actor, "development.todo", &format!("org:{org_id}")).await?;
            return Err(Error::NotFound);
        }
        let end = subtree_end(&org.path);
        self.refresh(&org.path, &end).await?;
        let rows = store::todo(self.db(), &org.path, &end, TODO_LIMIT + 1).await?;
        let truncated = rows.len() as i64 > TODO_LIMIT;
        let as_of = today();
        let items: Vec<TodoItem> = rows
            .into_iter()
            .take(TODO_LIMIT as usize)
            .filter_map(|r| {
                let step = StepKind::parse(&r.step)?;
                let stage = Stage::parse(&r.stage).unwrap_or(Stage::Applicant);
                let kind = match r.rank {
                    0 => DueKind::Deadline,
                    1 => DueKind::From,
                    _ => DueKind::Open,
                };
                let due_on = (r.due_on != store::NO_DATE).then_some(r.due_on);
                Some(TodoItem {
                    person_id: r.person_id,
                    name: r.name,
                    stage,
                    stage_label: stage.label(),
                    org_id: r.org_id,
                    org_name: r.org_name,
                    step,
                    label: step.label(),
                    kind,
                    due_on,
                    overdue: is_overdue(kind, due_on, as_of),
                    rule: r.rule,
                    note: r.note,
                })
            })
            .collect();
        let overdue = items.iter().filter(|i| i.overdue).count();
        Ok(TodoList { org_id, org_name: org.name, items, overdue, truncated })
    }
}

/// A deadline passed: the last day is before today.
pub fn is_overdue(kind: DueKind, due_on: Option<Date>, as_of: Date) -> bool {
    kind == DueKind::Deadline && due_on.is_some_and(|d| d < as_of)
}
