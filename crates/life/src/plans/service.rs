//! The actions on recurring plans: authorise → validate → transaction → store → audit → commit. A plan's
//! meeting items are checked exactly as a meeting's (crate::service::Life::check, on its first meeting), its
//! rule and period by [`validate_rule`]; a refused plan writes nothing, neither the plan nor a meeting nor a
//! notice.

use kernel::Db;
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;

use super::model::*;
use super::store::{self, PlanWrite};
use crate::model::{FieldErrors, MeetingInput, MeetingKind, ValidMeeting};
use crate::service::{Error, Life, Result, event, now, summary_of, write_of};

/// Recurring plans over the platform's database and callers.
pub struct Plans<'a> {
    platform: &'a Platform,
}

impl<'a> Plans<'a> {
    pub fn new(platform: &'a Platform) -> Plans<'a> {
        Plans { platform }
    }

    fn db(&self) -> &Db {
        &self.platform.db
    }

    /// Makes a plan and writes its meetings (one per month of the period), then tells their attendees once.
    pub async fn create(&self, ctx: &Ctx, actor: &Actor, input: &PlanInput) -> Result<Plan> {
        let life = Life::new(self.platform);
        if !actor.can_somewhere(Capability::MeetingWrite) {
            return Err(life.refuse(ctx, actor, "meeting_plan.create", "meeting_plan:new").await?);
        }
        let today = kernel::dates::today();
        let mut errors = FieldErrors::new();
        let rule = validate_rule(input, today).map_err(|e| errors.extend(e)).ok();
        let plan_title = input.title.as_deref().map(str::trim).unwrap_or("").to_string();
        let first = rule.as_ref().and_then(|r| r.days.first().copied()).unwrap_or(today);
        let as_meeting = MeetingInput {
            org_id: input.org_id,
            kind: input.kind.clone(),
            title: Some(plan_title.clone()).filter(|t| !t.is_empty()).map(|t| meeting_title(&t, first)),
            held_on: Some(kernel::dates::iso(first)),
            start_time: input.start_time.clone(),
            place: input.place.clone(),
            online_link: input.online_link.clone(),
            agenda: input.agenda.clone(),
            minutes: None,
            status: Some("planned".into()),
            attendee_ids: input.attendee_ids.clone(),
            version: None,
        };
        let checked = match life.check(ctx, actor, &as_meeting, "meeting_plan.create").await {
            Ok(c) => Some(c),
            Err(Error::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        };
        errors.remove("held_on");
        errors.remove("status");
        let (Some(rule), Some((v, Some(org)))) = (rule, checked) else {
            return Err(Error::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let attendees = match &v.attendee_ids {
            Some(ids) => ids.clone(),
            None => life.default_attendees(&org, v.kind).await?,
        };
        let t = now();
        let rule_code = rule.rule.code();
        let mut tx = self.db().begin().await?;
        let write = PlanWrite {
            org_id: org.id,
            org_path: &org.path,
            kind: v.kind.code(),
            title: &plan_title,
            rule: &rule_code,
            start_time: v.start_time.as_deref(),
            place: v.place.as_deref(),
            online_link: v.online_link.as_deref(),
            agenda: v.agenda.as_deref(),
            starts_on: rule.starts_on,
            ends_on: rule.ends_on,
            user_id: Some(actor.user_id).filter(|id| *id > 0),
            now: t,
        };
        let id = store::insert_plan(&mut tx, &write).await?;
        let mut first_meeting = None;
        for d in &rule.days {
            let m = ValidMeeting { title: meeting_title(&plan_title, *d), held_on: *d, ..v.clone() };
            let mut w = write_of(&m, &org, actor, t);
            w.plan_id = Some(id);
            let meeting_id = crate::store::insert_meeting(&mut tx, &w).await?;
            for p in &attendees {
                crate::store::add_attendee(&mut tx, meeting_id, *p).await?;
            }
            first_meeting.get_or_insert(meeting_id);
        }
        if let Some(meeting_id) = first_meeting {
            let (title, text) =
                crate::news::plan_notice_text(&plan_title, &rule.rule.label(), &v, &org.name, &rule.days);
            let n = crate::notices::service::MeetingNotice { org: &org, meeting_id, title, text, people: &attendees };
            crate::notices::service::send_about_meeting(&mut tx, ctx, actor, &n, t).await?;
        }
        let detail = format!(
            "org:{} kind:{} rule:{rule_code} meetings:{} attendees:{}",
            org.id,
            v.kind.code(),
            rule.days.len(),
            attendees.len()
        );
        audit::append(&mut tx, event(actor, ctx, "meeting_plan.create", format!("meeting_plan:{id}"), "ok", detail))
            .await?;
        tx.commit().await?;
        self.get(ctx, actor, id).await
    }

    /// The plans still running of an organization and those below it (for its meeting list), without their
    /// meetings; the caller has already read the organization's meetings.
    pub async fn running(&self, actor: &Actor, org: &platform::model::Org) -> Result<Vec<Plan>> {
        if !actor.can(Capability::MeetingRead, &org.path) {
            return Ok(Vec::new());
        }
        let end = platform::model::subtree_end(&org.path);
        let rows = store::running_in(self.db(), &org.path, &end, kernel::dates::today()).await?;
        Ok(rows.into_iter().map(|r| plan_of(actor, r, Vec::new())).collect())
    }

    /// A plan with its meetings as they stand, for whoever may read its organization's meetings (404 otherwise,
    /// audited).
    pub async fn get(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Plan> {
        let row = store::get_plan(self.db(), id).await?.ok_or(Error::NotFound)?;
        if !actor.can(Capability::MeetingRead, &row.org_path) {
            return Err(Life::new(self.platform)
                .deny(ctx, actor, "meeting_plan.read", &format!("meeting_plan:{id}"))
                .await?);
        }
        let meetings = crate::store::meetings_of_plan(self.db(), id).await?.into_iter().map(summary_of).collect();
        Ok(plan_of(actor, row, meetings))
    }

    /// Cancels a whole plan: its meetings still ahead and planned become cancelled (those held keep their
    /// records, and a meeting changed alone to another status is left as it is), and their attendees get one
    /// 会议计划取消通知 with the reason. 404 outside the caller's reach, 403 for a reader, 409 once cancelled or
    /// over; nothing is written unless all of it is.
    pub async fn cancel(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &CancelPlanInput) -> Result<Plan> {
        let life = Life::new(self.platform);
        let target = format!("meeting_plan:{id}");
        let row = store::get_plan(self.db(), id).await?.ok_or(Error::NotFound)?;
        if !actor.can(Capability::MeetingRead, &row.org_path) {
            return Err(life.deny(ctx, actor, "meeting_plan.cancel", &target).await?);
        }
        if !actor.can(Capability::MeetingWrite, &row.org_path) {
            return Err(life.refuse(ctx, actor, "meeting_plan.cancel", &target).await?);
        }
        if row.cancelled_at.is_some() {
            return Err(Error::Conflict("该计划已取消"));
        }
        let today = kernel::dates::today();
        if row.ends_on < today {
            return Err(Error::Conflict("该计划已结束，无需取消"));
        }
        let reason = validate_cancel(input).map_err(Error::Invalid)?;
        let org = life.readable_org(ctx, actor, row.org_id, "meeting_plan.cancel").await?;
        let t = now();
        let mut tx = self.db().begin().await?;
        if !store::cancel_plan(&mut tx, id, &reason, Some(actor.user_id).filter(|u| *u > 0), t).await? {
            return Err(Error::Conflict("该计划已取消"));
        }
        let cancelled = store::cancel_meetings_ahead(&mut tx, id, today, t).await?;
        let mut people = Vec::new();
        for (meeting_id, _) in &cancelled {
            for p in crate::store::attendee_ids_tx(&mut tx, *meeting_id).await? {
                if !people.contains(&p) {
                    people.push(p);
                }
            }
        }
        if let Some((first, _)) = cancelled.first()
            && !people.is_empty()
        {
            let kind = MeetingKind::parse(&row.kind).unwrap_or(MeetingKind::ThemeDay);
            let days: Vec<_> = cancelled.iter().map(|(_, d)| *d).collect();
            let (title, text) = crate::news::plan_cancel_notice_text(
                &row.title,
                kind,
                row.start_time.as_deref(),
                &row.org_name,
                &days,
                &reason,
            );
            let n =
                crate::notices::service::MeetingNotice { org: &org, meeting_id: *first, title, text, people: &people };
            crate::notices::service::send_about_meeting(&mut tx, ctx, actor, &n, t).await?;
        }
        let ids: Vec<String> = cancelled.iter().map(|(m, _)| m.to_string()).collect();
        let detail = serde_json::json!({"reason": reason, "meetings": ids.join(","), "notified": people.len()});
        audit::append(&mut tx, event(actor, ctx, "meeting_plan.cancel", target, "ok", detail.to_string())).await?;
        tx.commit().await?;
        self.get(ctx, actor, id).await
    }
}

fn plan_of(actor: &Actor, row: store::PlanRow, meetings: Vec<crate::model::MeetingSummary>) -> Plan {
    let kind = MeetingKind::parse(&row.kind).unwrap_or(MeetingKind::ThemeDay);
    let can_cancel = row.cancelled_at.is_none()
        && row.ends_on >= kernel::dates::today()
        && actor.can(Capability::MeetingWrite, &row.org_path);
    let rule_label = Rule::parse(&row.rule).map(Rule::label).unwrap_or_default();
    Plan {
        id: row.id,
        org_id: row.org_id,
        org_name: row.org_name,
        kind,
        kind_label: kind.label(),
        title: row.title,
        rule: row.rule,
        rule_label,
        start_time: row.start_time,
        place: row.place,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        meetings,
        cancelled_at: row.cancelled_at,
        cancel_reason: row.cancel_reason,
        can_cancel,
        org_path: row.org_path,
    }
}
