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
        Ok(rows.into_iter().map(|r| plan_of(r, Vec::new())).collect())
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
        Ok(plan_of(row, meetings))
    }
}

fn plan_of(row: store::PlanRow, meetings: Vec<crate::model::MeetingSummary>) -> Plan {
    let kind = MeetingKind::parse(&row.kind).unwrap_or(MeetingKind::ThemeDay);
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
        org_path: row.org_path,
    }
}
