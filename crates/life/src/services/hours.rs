//! Volunteer-service hours (志愿服务时长): a member records what she did, on which day, for how long; the
//! secretary of her organization (or staff above) confirms or rejects it with a reason; confirmed hours are
//! summed per person and per organization for a calendar year. Authorise → validate → transaction → store →
//! audit → commit, with `ServiceRead` / `ServiceWrite` as for requests.

use std::collections::BTreeMap;

use platform::model::{Org, child_of, subtree_end};
use platform::{Actor, Capability, Ctx};
use security::audit;

use super::Services;
use super::model::*;
use super::store::{self, HoursRow};
use crate::service::{Error, Result, event, now};

/// The most entries one list returns.
pub const ENTRY_LIMIT: i64 = 1_000;

fn hours(tenths: i64) -> f64 {
    tenths as f64 / 10.0
}

fn year_bounds(year: i32) -> (time::Date, time::Date) {
    let first = time::Date::from_calendar_date(year, time::Month::January, 1).unwrap_or(time::Date::MIN);
    let last = time::Date::from_calendar_date(year, time::Month::December, 31).unwrap_or(time::Date::MAX);
    (first, last)
}

fn entry_of(actor: &Actor, r: HoursRow) -> HoursEntry {
    let state = HoursState::parse(&r.state).unwrap_or(HoursState::Pending);
    HoursEntry {
        can_decide: state == HoursState::Pending && actor.can(Capability::ServiceWrite, &r.org_path),
        id: r.id,
        person_id: r.person_id,
        person_name: r.person_name,
        org_id: r.org_id,
        org_name: r.org_name,
        activity: r.activity,
        served_on: r.served_on,
        hours: hours(r.hours_tenths),
        state,
        state_label: state.label(),
        reason: r.reason,
    }
}

impl Services<'_> {
    /// A member records volunteer service; it waits for her secretary's confirmation.
    pub async fn record_hours(&self, ctx: &Ctx, actor: &Actor, input: &HoursInput) -> Result<HoursEntry> {
        let person = match actor.person_id {
            Some(p) => store::person(self.db(), p).await?,
            None => None,
        };
        let Some(person) = person else {
            return Err(self.refusal(ctx, actor, "volunteer.record", "volunteer_hours:new", Error::Forbidden).await?);
        };
        let v = validate_hours(input, kernel::dates::today()).map_err(Error::Invalid)?;
        let mut tx = self.db().begin().await?;
        let write = store::HoursWrite {
            person: &person,
            activity: &v.activity,
            served_on: v.served_on,
            hours_tenths: v.hours_tenths,
            now: now(),
        };
        let id = store::insert_hours(&mut tx, &write).await?;
        let detail = serde_json::json!({"hours_tenths": v.hours_tenths, "served_on": kernel::dates::iso(v.served_on)});
        audit::append(
            &mut tx,
            event(actor, ctx, "volunteer.record", format!("volunteer_hours:{id}"), "ok", detail.to_string()),
        )
        .await?;
        tx.commit().await?;
        let row = store::get_hours(self.db(), id).await?.ok_or(Error::NotFound)?;
        Ok(entry_of(actor, row))
    }

    /// Confirms (`confirm`) or rejects an entry waiting in the caller's subtree. 404 outside it, 403 for a
    /// read-only caller or the member herself, 409 once decided.
    pub async fn decide_hours(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        confirm: bool,
        input: &DecideInput,
    ) -> Result<HoursEntry> {
        let action = if confirm { "volunteer.confirm" } else { "volunteer.reject" };
        let target = format!("volunteer_hours:{id}");
        let Some(r) = store::get_hours(self.db(), id).await? else {
            return Err(Error::NotFound);
        };
        if !actor.can(Capability::ServiceWrite, &r.org_path) {
            let sees = actor.can(Capability::ServiceRead, &r.org_path) || actor.person_id == Some(r.person_id);
            let answer = if sees { Error::Forbidden } else { Error::NotFound };
            return Err(self.refusal(ctx, actor, action, &target, answer).await?);
        }
        let reason = input.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
        match reason {
            None if !confirm => {
                return Err(Error::Invalid(BTreeMap::from([("reason".into(), "请填写未予确认的原因".into())])));
            }
            Some(r) if r.chars().count() > MAX_NOTE_CHARS => {
                return Err(Error::Invalid(BTreeMap::from([(
                    "reason".into(),
                    format!("原因不超过{MAX_NOTE_CHARS}字"),
                )])));
            }
            _ => {}
        }
        let state = if confirm { HoursState::Confirmed } else { HoursState::Rejected };
        let mut tx = self.db().begin().await?;
        let user_id = Some(actor.user_id).filter(|id| *id > 0);
        if !store::decide_hours(&mut tx, id, state.code(), reason, user_id, now()).await? {
            return Err(Error::Conflict("该记录已经确认或退回"));
        }
        let detail = serde_json::json!({"person_id": r.person_id, "hours_tenths": r.hours_tenths});
        audit::append(&mut tx, event(actor, ctx, action, target, "ok", detail.to_string())).await?;
        tx.commit().await?;
        let row = store::get_hours(self.db(), id).await?.ok_or(Error::NotFound)?;
        Ok(entry_of(actor, row))
    }

    /// The caller's own entries of a year with her confirmed and pending totals.
    pub async fn my_hours(&self, actor: &Actor, year: i32) -> Result<MyHours> {
        let (from, to) = year_bounds(year);
        let rows = match actor.person_id {
            Some(p) => store::hours_of_person(self.db(), p, from, to, ENTRY_LIMIT).await?,
            None => Vec::new(),
        };
        let sum = |s: &str| rows.iter().filter(|r| r.state == s).map(|r| r.hours_tenths).sum::<i64>();
        let (confirmed, pending) = (hours(sum("confirmed")), hours(sum("pending")));
        let entries = rows.into_iter().map(|r| entry_of(actor, r)).collect();
        Ok(MyHours { year, confirmed, pending, entries })
    }

    /// An organization's hours of a year: confirmed totals per person and per organization directly below it,
    /// and its entries, pending first. `ServiceRead` over it; 404 otherwise (audited).
    pub async fn org_hours(&self, ctx: &Ctx, actor: &Actor, org_id: i64, year: i32) -> Result<OrgHoursReport> {
        let org = platform::store::get_org(self.db(), org_id).await?.map(Org::from_row);
        let Some(org) = org.filter(|o| actor.can(Capability::ServiceRead, &o.path)) else {
            let target = format!("org:{org_id}");
            return Err(self.refusal(ctx, actor, "volunteer.view", &target, Error::NotFound).await?);
        };
        let (from, to) = year_bounds(year);
        let end = subtree_end(&org.path);
        let totals = store::confirmed_totals(self.db(), &org.path, &end, from, to).await?;
        let names: BTreeMap<String, (i64, String)> = crate::notices::store::orgs_in(self.db(), &org.path, &end)
            .await?
            .into_iter()
            .map(|(id, p, n)| (p, (id, n)))
            .collect();
        // Sums in tenths (exact), shown as hours at the end.
        let mut per_person: BTreeMap<i64, (PersonHours, i64)> = BTreeMap::new();
        let mut per_org: BTreeMap<String, (OrgHours, i64, Vec<i64>)> = BTreeMap::new();
        for t in &totals {
            let p = per_person.entry(t.person_id).or_insert((
                PersonHours {
                    person_id: t.person_id,
                    person_name: t.person_name.clone(),
                    org_id: t.org_id,
                    hours: 0.0,
                    entries: 0,
                },
                0,
            ));
            p.1 += t.tenths;
            p.0.entries += t.entries;
            let child = child_of(&org.path, &t.org_path);
            let (id, name) = names.get(&child).cloned().unwrap_or((t.org_id, String::new()));
            let line = per_org.entry(child).or_insert((
                OrgHours { org_id: id, org_name: name, hours: 0.0, people: 0 },
                0,
                vec![],
            ));
            line.1 += t.tenths;
            if !line.2.contains(&t.person_id) {
                line.2.push(t.person_id);
                line.0.people += 1;
            }
        }
        let mut per_person: Vec<PersonHours> =
            per_person.into_values().map(|(p, tenths)| PersonHours { hours: hours(tenths), ..p }).collect();
        per_person.sort_by(|a, b| b.hours.total_cmp(&a.hours).then(a.person_name.cmp(&b.person_name)));
        let total = hours(totals.iter().map(|t| t.tenths).sum());
        let entries = store::hours_in(self.db(), &org.path, &end, from, to, ENTRY_LIMIT)
            .await?
            .into_iter()
            .map(|r| entry_of(actor, r))
            .collect();
        Ok(OrgHoursReport {
            org_id: org.id,
            org_name: org.name,
            year,
            total,
            per_person,
            per_org: per_org.into_values().map(|(o, tenths, _)| OrgHours { hours: hours(tenths), ..o }).collect(),
            entries,
        })
    }
}
