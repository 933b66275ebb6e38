//! Member status (党籍状态): 流动党员, 出国（境）, 失联, 停止党籍 and back, with the TRF-01/03/04 clocks.
//!
//! Every change has a reason and a date and is kept in `status_changes` (the platform's person edit refuses a
//! status change for that reason). Suspension (停止党籍), restoration and removal are decided by the branch or
//! a higher body (条例 art. 24, C7): the platform records the decision with the body that took it, and only
//! raises flags — lost contact for 6 months, studying abroad for more than 5 years, 2 years after a suspension,
//! a mobile member away 6 months at a fixed place (the relationship should move), a member abroad not
//! contacted for half a year, a graduate kept beyond 2 years, and dues unpaid for 6 consecutive months (FEE-08,
//! from the dues ledger) — each from the rules of `crate::rules`.

use std::collections::HashMap;

use kernel::dates::{iso, today};
use platform::model::{Org, Stage, Status, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;
use time::{Date, OffsetDateTime};

use super::transfer::Transfers;
use super::{Error, Result, event};
use crate::model::FieldErrors;
use crate::model::transfer::*;
use crate::rules::status::{self as st, StatusCase};
use crate::rules::transfer::{self as trf, Move, TransferCase};
use crate::rules::{Finding, YearMonth};
use crate::store::transfer::{self as store, ContactRow, RetentionRow, StatusRow, StatusWrite};

/// The most people one status board shows.
pub const BOARD_LIMIT: i64 = 2_000;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// What is known about a member, for her clocks.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub status: Option<Status>,
    /// The history, latest first.
    pub history: Vec<StatusRow>,
    pub last_contact_on: Option<Date>,
    pub last_life_on: Option<Date>,
    pub retained_since: Option<Date>,
    /// FEE-08: the last month not unpaid in the dues ledger (none when the ledger knows no dues of hers).
    pub fee_last_covered: Option<YearMonth>,
}

/// The day the current status took effect: its latest change to that status.
fn since(f: &Facts) -> Option<Date> {
    let code = f.status?.code();
    f.history.iter().find(|h| h.to_status == code).map(|h| h.effective_on)
}

/// The flags and deadlines of one member on `as_of` — only the clocks her current status runs (a member in
/// normal standing raises none of TRF-04), plus a graduate's retention (TRF-03).
pub fn assess(f: &Facts, as_of: Date) -> (Vec<Finding>, st::StatusDeadlines) {
    let mut flags = Vec::new();
    let mut deadlines = st::StatusDeadlines::default();
    let started = since(f);
    let current = f.history.iter().find(|h| Some(h.to_status.as_str()) == f.status.map(Status::code));
    match f.status {
        Some(Status::Floating) => {
            // TRF-01: away at a relatively fixed place for 6 months or more → the relationship should move.
            if let (Some(from), Some(h)) = (started, current) {
                // The planned stay when one was given, otherwise the stay so far.
                let until = h.expected_until.unwrap_or(as_of);
                let fixed = h.fixed_place.unwrap_or(false);
                if trf::relationship_move(from, until, fixed) == Move::Transfer {
                    flags.push(Finding::warning(
                        "TRF-01",
                        "should_transfer",
                        format!(
                            "自{}起在{}相对固定地点学习、工作或生活满6个月，应转移正式组织关系（流动党员活动证不再适用）",
                            iso(from),
                            h.place.as_deref().unwrap_or("外地")
                        ),
                        trf::move_citations(Move::Transfer),
                    ));
                }
            }
        }
        Some(Status::Abroad) => {
            let a = st::assess(&StatusCase {
                abroad_since: started,
                last_contact_on: f.last_contact_on,
                ..StatusCase::new(as_of)
            });
            flags.extend(a.flags);
            deadlines = a.deadlines;
        }
        Some(Status::LostContact) => {
            // Lost since the latest sign of the member; when none is recorded, the day she was recorded lost.
            let contact = f.last_contact_on.or(started);
            let a = st::assess(&StatusCase {
                last_contact_on: contact,
                last_life_on: f.last_life_on,
                ..StatusCase::new(as_of)
            });
            flags.extend(a.flags);
            deadlines = a.deadlines;
        }
        Some(Status::Suspended) => {
            let a = st::assess(&StatusCase { suspended_on: started, ..StatusCase::new(as_of) });
            flags.extend(a.flags);
            deadlines = a.deadlines;
        }
        _ => {}
    }
    // FEE-08, whatever the status: six consecutive months unpaid raise a case for the branch (C7).
    if let Some(last) = f.fee_last_covered {
        let a = st::assess(&StatusCase { last_paid_month: Some(last), ..StatusCase::new(as_of) });
        flags.extend(a.flags);
        deadlines.fee_arrears_from = a.deadlines.fee_arrears_from;
    }
    if let Some(since) = f.retained_since {
        let a = trf::assess(&TransferCase { retained_since: Some(since), ..TransferCase::new(as_of) });
        flags.extend(a.violations);
    }
    (flags, deadlines)
}

/// Member status over the platform's database and callers.
pub struct MemberStatus<'a> {
    platform: &'a Platform,
}

impl<'a> MemberStatus<'a> {
    pub fn new(platform: &'a Platform) -> MemberStatus<'a> {
        MemberStatus { platform }
    }

    fn db(&self) -> &kernel::Db {
        &self.platform.db
    }

    async fn record_refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<()> {
        super::refuse(self.platform, ctx, actor, action, target).await
    }

    /// The person, if the actor may read her status (TransferRead on her organization, or herself).
    async fn readable(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<platform::model::PersonRow> {
        super::person_readable(self.platform, ctx, actor, id, Capability::TransferRead, action).await
    }

    /// The person, if the actor may record her status; 404 when she may not even read it, 403 otherwise.
    async fn writable(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<platform::model::PersonRow> {
        super::person_writable(
            self.platform,
            ctx,
            actor,
            id,
            (Capability::TransferRead, Capability::TransferWrite),
            action,
        )
        .await
    }

    async fn facts(&self, ids: &[i64], statuses: &HashMap<i64, Status>) -> Result<HashMap<i64, Facts>> {
        let mut out: HashMap<i64, Facts> =
            ids.iter().map(|id| (*id, Facts { status: statuses.get(id).copied(), ..Facts::default() })).collect();
        for h in store::status_history(self.db(), ids).await? {
            if let Some(f) = out.get_mut(&h.person_id) {
                f.history.push(h);
            }
        }
        for c in store::contacts_of(self.db(), ids).await? {
            if let Some(f) = out.get_mut(&c.person_id) {
                f.last_contact_on = f.last_contact_on.max(Some(c.contacted_on));
            }
        }
        for (pid, on) in store::last_life(self.db(), ids).await? {
            if let Some(f) = out.get_mut(&pid) {
                f.last_life_on = Some(on);
            }
        }
        for (pid, last) in super::fee::Fees::new(self.platform).last_covered(ids, today()).await? {
            if let Some(f) = out.get_mut(&pid) {
                f.fee_last_covered = Some(last);
            }
        }
        for r in store::retentions_of(self.db(), ids).await? {
            if let Some(f) = out.get_mut(&r.person_id)
                && r.ended_on.is_none()
            {
                f.retained_since = Some(r.since);
            }
        }
        Ok(out)
    }

    /// A member's status card.
    pub async fn card(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<StatusCard> {
        let row = self.readable(ctx, actor, id, "person.status_read").await?;
        self.card_of(actor, row).await
    }

    async fn card_of(&self, actor: &Actor, row: platform::model::PersonRow) -> Result<StatusCard> {
        let status = Status::parse(&row.status).unwrap_or(Status::Normal);
        let id = row.id;
        let facts = self.facts(&[id], &HashMap::from([(id, status)])).await?.remove(&id).unwrap_or_default();
        let (flags, deadlines) = assess(&facts, today());
        let contacts = store::contacts_of(self.db(), &[id]).await?;
        let retentions = store::retentions_of(self.db(), &[id]).await?;
        let org_name = platform::store::get_org(self.db(), row.org_id).await?.map(|o| o.name).unwrap_or_default();
        let transfers = Transfers::new(self.platform).of_person(actor, id).await?;
        let can_write = actor.can(Capability::TransferWrite, &row.org_path);
        Ok(StatusCard {
            person: TransferPerson {
                id,
                name: row.name.clone(),
                gender_label: platform::model::Gender::parse(&row.gender).map(|g| g.label()).unwrap_or("").into(),
                stage_label: Stage::parse(&row.stage).map(Stage::label).unwrap_or("").into(),
                category_label: platform::model::PersonCategory::parse(&row.category)
                    .map(|c| c.label())
                    .unwrap_or("")
                    .into(),
                status,
                id_number_masked: row.id_number_masked.clone(),
            },
            org_id: row.org_id,
            org_name,
            status,
            status_label: status.label(),
            since: since(&facts),
            flags,
            deadlines,
            last_contact_on: facts.last_contact_on,
            last_life_on: facts.last_life_on,
            history: facts.history.iter().map(change_of).collect(),
            contacts: contacts.into_iter().map(contact_of).collect(),
            retentions: retentions.into_iter().map(retention_of).collect(),
            transfers,
            can_write,
        })
    }

    /// Records a status change with its reason and date (and the deciding body where the regulations reserve
    /// the decision to one).
    pub async fn change(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &StatusInput) -> Result<StatusCard> {
        let row = self.writable(ctx, actor, id, "person.status").await?;
        let current = Status::parse(&row.status).unwrap_or(Status::Normal);
        if matches!(current, Status::Deceased | Status::Left | Status::TransferredOut) {
            return Err(Error::Conflict("该同志已去世、出党或组织关系已转出，不能再变更党籍状态"));
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        if !matches!(Stage::parse(&row.stage), Some(Stage::Probationary | Stage::Full)) {
            errors.insert("status".into(), "党籍状态只适用于正式党员和预备党员".into());
        }
        let to = match input.status.as_deref().and_then(Status::parse) {
            None => {
                errors.insert("status".into(), "请选择新的党籍状态".into());
                None
            }
            Some(Status::TransferredOut) => {
                errors.insert("status".into(), "“已转出”在转出介绍信的回执登记后自动记录".into());
                None
            }
            Some(s) if s == current => {
                errors.insert("status".into(), format!("当前已是“{}”", s.label()));
                None
            }
            Some(s) => Some(s),
        };
        let on = match text(&input.effective_on) {
            None => {
                errors.insert("effective_on".into(), "请填写生效日期".into());
                as_of
            }
            Some(_) => past_date(&mut errors, "effective_on", &input.effective_on, as_of, as_of),
        };
        let reason = required_text(&mut errors, "reason", &input.reason, "变更原因");
        let place = optional_text(&mut errors, "place", &input.place);
        let certificate = optional_text(&mut errors, "certificate_no", &input.certificate_no);
        let decided_by = optional_text(&mut errors, "decided_by", &input.decided_by);
        let expected_until = optional_date(&mut errors, "expected_until", &input.expected_until);
        if expected_until.is_some_and(|u| u < on) {
            errors.insert("expected_until".into(), "预计返回日期不能早于生效日期".into());
        }
        match to {
            Some(Status::Floating | Status::Abroad) if place.is_none() => {
                errors.insert("place".into(), "请填写去向（流动去向或所在国家、地区）".into());
            }
            Some(Status::Suspended | Status::Left) if decided_by.is_none() => {
                errors.insert(
                    "decided_by".into(),
                    "停止党籍、除名须由党支部或上级党组织研究决定，请写明作出决定的组织和会议日期（系统不自动处理）"
                        .into(),
                );
            }
            Some(Status::Normal) if current == Status::Suspended && decided_by.is_none() => {
                errors.insert(
                    "decided_by".into(),
                    "恢复党籍须按程序由党组织研究决定，请写明作出决定的组织和会议日期".into(),
                );
            }
            _ => {}
        }
        let history = store::status_history(self.db(), &[id]).await?;
        if let Some(last) = history.first()
            && on < last.effective_on
        {
            errors.insert(
                "effective_on".into(),
                format!("生效日期不能早于上一次变更的生效日期{}", iso(last.effective_on)),
            );
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let (Some(to), Some(reason)) = (to, reason) else {
            return Err(Error::Invalid(errors));
        };
        let t = now();
        let user = Some(actor.user_id).filter(|u| *u > 0);
        let mut tx = self.db().begin().await?;
        if !platform::store::set_person_status(&mut tx, id, current.code(), to.code(), t).await? {
            return Err(Error::Conflict("该同志的党籍状态刚被他人修改，请刷新后重试"));
        }
        store::insert_status_change(
            &mut tx,
            &StatusWrite {
                person_id: id,
                from_status: current.code(),
                to_status: to.code(),
                effective_on: on,
                reason: &reason,
                place: place.as_deref(),
                fixed_place: (to == Status::Floating).then_some(input.fixed_place.unwrap_or(false)),
                expected_until,
                certificate_no: certificate.as_deref(),
                decided_by: decided_by.as_deref(),
                user_id: user,
                now: t,
            },
        )
        .await?;
        let detail = format!("{}→{} effective:{}", current.code(), to.code(), iso(on));
        audit::append(&mut tx, event(actor, ctx, "person.status", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.platform.people_changed().await;
        let row = platform::store::get_person(self.db(), id).await?.ok_or(Error::NotFound)?;
        self.card_of(actor, row).await
    }

    /// Records a contact with a member away (TRF-03/04 clocks restart from it).
    pub async fn contact(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ContactInput) -> Result<StatusCard> {
        let row = self.writable(ctx, actor, id, "person.contact").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        let on = past_date(&mut errors, "contacted_on", &input.contacted_on, as_of, as_of);
        let channel = input.channel.as_deref().and_then(ContactChannel::parse);
        if channel.is_none() {
            errors.insert("channel".into(), "请选择联系方式：电话、微信、电子邮件、走访、信函或其他".into());
        }
        let note = optional_text(&mut errors, "note", &input.note);
        let (Some(channel), true) = (channel, errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let mut tx = self.db().begin().await?;
        let user = Some(actor.user_id).filter(|u| *u > 0);
        store::insert_contact(&mut tx, id, on, channel.code(), note.as_deref(), user, now()).await?;
        let detail = format!("{} on:{}", channel.code(), iso(on));
        audit::append(&mut tx, event(actor, ctx, "person.contact", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.card_of(actor, row).await
    }

    /// Starts keeping a graduate's relationship at the university (TRF-03: generally at most 2 years).
    pub async fn retain(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &RetentionInput) -> Result<StatusCard> {
        let row = self.writable(ctx, actor, id, "person.retention").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        if !matches!(Stage::parse(&row.stage), Some(Stage::Probationary | Stage::Full)) {
            errors.insert("on".into(), "只有正式党员和预备党员的组织关系可以保留在学校".into());
        }
        let on = past_date(&mut errors, "on", &input.on, as_of, as_of);
        let reason = required_text(&mut errors, "reason", &input.reason, "保留原因");
        let (Some(reason), true) = (reason, errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let mut tx = self.db().begin().await?;
        let user = Some(actor.user_id).filter(|u| *u > 0);
        match store::insert_retention(&mut tx, id, on, &reason, user, now()).await {
            Err(kernel::DbError::Conflict { .. }) => {
                return Err(Error::Conflict("该同志的组织关系已在保留中，请先结束原保留记录"));
            }
            other => other?,
        };
        let ends = kernel::dates::add_months(on, trf::RETENTION_MONTHS);
        let detail = format!("since:{} ends:{}", iso(on), iso(ends));
        audit::append(&mut tx, event(actor, ctx, "person.retention", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.card_of(actor, row).await
    }

    /// Ends a graduate's retention (she found work and the relationship moved, or it was moved otherwise).
    pub async fn end_retention(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &RetentionInput) -> Result<StatusCard> {
        let row = self.writable(ctx, actor, id, "person.retention_end").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        let on = past_date(&mut errors, "on", &input.on, as_of, as_of);
        let reason = required_text(&mut errors, "reason", &input.reason, "结束原因");
        let (Some(reason), true) = (reason, errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let mut tx = self.db().begin().await?;
        if !store::end_retention(&mut tx, id, on, &reason).await? {
            return Err(Error::Conflict("没有正在保留的组织关系，或结束日期早于开始保留的日期"));
        }
        let detail = format!("ended:{}", iso(on));
        audit::append(&mut tx, event(actor, ctx, "person.retention_end", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.card_of(actor, row).await
    }

    /// The members of a subtree whose status or retention needs watching, with their flags (flagged first).
    pub async fn board(&self, ctx: &Ctx, actor: &Actor, org_id: Option<i64>) -> Result<Board> {
        if !actor.can_somewhere(Capability::TransferRead) {
            self.record_refusal(ctx, actor, "person.status_board", "people").await?;
            return Err(Error::NotFound);
        }
        let org = match org_id {
            Some(id) => {
                let org = platform::store::get_org(self.db(), id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
                if actor.ranges_within(Capability::TransferRead, &org.path).is_empty() {
                    self.record_refusal(ctx, actor, "person.status_board", &format!("org:{id}")).await?;
                    return Err(Error::NotFound);
                }
                Some(org)
            }
            None => None,
        };
        let within = org.as_ref().map(|o| o.path.clone()).unwrap_or_else(|| "/".into());
        let mut rows = Vec::new();
        for start in actor.ranges_within(Capability::TransferRead, &within) {
            rows.extend(store::watched_people(self.db(), &start, &subtree_end(&start), BOARD_LIMIT + 1).await?);
        }
        // Members in normal standing whose only flag would be six months of dues unpaid (FEE-08).
        let cutoff = YearMonth::of(today()).plus(-6).map(|m| m.to_string()).unwrap_or_default();
        let mut fee_only = Vec::new();
        for start in actor.ranges_within(Capability::TransferRead, &within) {
            let end = subtree_end(&start);
            fee_only.extend(store::fee_arrears_candidates(self.db(), &start, &end, &cutoff, BOARD_LIMIT + 1).await?);
        }
        fee_only.retain(|c| !rows.iter().any(|r| r.id == c.id));
        let fee_ids: Vec<i64> = fee_only.iter().map(|r| r.id).collect();
        let behind = super::fee::Fees::new(self.platform).last_covered(&fee_ids, today()).await?;
        let as_of = today();
        fee_only.retain(|c| {
            let f = Facts {
                status: Some(Status::Normal),
                fee_last_covered: behind.get(&c.id).copied(),
                ..Facts::default()
            };
            !assess(&f, as_of).0.is_empty()
        });
        rows.extend(fee_only);
        let truncated = rows.len() as i64 > BOARD_LIMIT;
        rows.truncate(BOARD_LIMIT as usize);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let statuses: HashMap<i64, Status> =
            rows.iter().map(|r| (r.id, Status::parse(&r.status).unwrap_or(Status::Normal))).collect();
        let facts = self.facts(&ids, &statuses).await?;
        let as_of = today();
        let mut lines: Vec<BoardLine> = rows
            .into_iter()
            .map(|r| {
                let f = facts.get(&r.id).cloned().unwrap_or_default();
                let (flags, _) = assess(&f, as_of);
                let status = statuses.get(&r.id).copied().unwrap_or(Status::Normal);
                BoardLine {
                    person_id: r.id,
                    name: r.name,
                    org_name: r.org_name,
                    status,
                    status_label: status.label(),
                    since: since(&f),
                    retained_since: f.retained_since,
                    flags,
                }
            })
            .collect();
        lines.sort_by_key(|l| l.flags.is_empty());
        let flagged = lines.iter().filter(|l| !l.flags.is_empty()).count();
        Ok(Board { org_id: org.map(|o| o.id).unwrap_or(0), as_of, lines, flagged, truncated })
    }
}

fn change_of(h: &StatusRow) -> StatusChange {
    let from = Status::parse(&h.from_status).unwrap_or(Status::Normal);
    let to = Status::parse(&h.to_status).unwrap_or(Status::Normal);
    StatusChange {
        id: h.id,
        from_status: from,
        from_label: from.label(),
        to_status: to,
        to_label: to.label(),
        effective_on: h.effective_on,
        reason: h.reason.clone(),
        place: h.place.clone(),
        fixed_place: h.fixed_place,
        expected_until: h.expected_until,
        certificate_no: h.certificate_no.clone(),
        decided_by: h.decided_by.clone(),
        recorded_by: h.recorded_by.clone(),
    }
}

fn contact_of(c: ContactRow) -> Contact {
    let ch = ContactChannel::parse(&c.channel).unwrap_or(ContactChannel::Other);
    Contact { id: c.id, contacted_on: c.contacted_on, channel: ch, channel_label: ch.label(), note: c.note }
}

fn retention_of(r: RetentionRow) -> Retention {
    Retention {
        id: r.id,
        since: r.since,
        reason: r.reason,
        ended_on: r.ended_on,
        end_reason: r.end_reason,
        retention_ends: kernel::dates::add_months(r.since, trf::RETENTION_MONTHS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn change(to: Status, on: Date) -> StatusRow {
        StatusRow {
            id: 1,
            person_id: 1,
            from_status: "normal".into(),
            to_status: to.code().into(),
            effective_on: on,
            reason: "r".into(),
            place: Some("上海".into()),
            fixed_place: Some(true),
            expected_until: None,
            certificate_no: None,
            decided_by: None,
            recorded_by: None,
        }
    }

    fn codes(f: &Facts, as_of: Date) -> Vec<&'static str> {
        assess(f, as_of).0.iter().map(|f| f.code).collect()
    }

    #[test]
    fn lost_contact_flags_suspension_for_the_branch_from_domain_examples() {
        // TRF-04: last org life 2025-01-10, last dues (here: contact) 2025-02-15 → eligible from 2025-08-15.
        let f = Facts {
            status: Some(Status::LostContact),
            history: vec![change(Status::LostContact, date!(2025 - 03 - 01))],
            last_contact_on: Some(date!(2025 - 02 - 15)),
            last_life_on: Some(date!(2025 - 01 - 10)),
            retained_since: None,
            fee_last_covered: None,
        };
        assert!(codes(&f, date!(2025 - 08 - 14)).is_empty());
        assert_eq!(codes(&f, date!(2025 - 08 - 15)), vec!["lost_contact"]);
        assert_eq!(assess(&f, date!(2025 - 08 - 15)).1.suspension_from, Some(date!(2025 - 08 - 15)));
        // A member in normal standing raises no TRF-04 flag, whatever her old records say.
        let normal = Facts { status: Some(Status::Normal), ..f.clone() };
        assert!(codes(&normal, date!(2026 - 08 - 15)).is_empty());
    }

    #[test]
    fn suspension_abroad_and_retention_clocks() {
        let suspended = Facts {
            status: Some(Status::Suspended),
            history: vec![change(Status::Suspended, date!(2025 - 09 - 01))],
            ..Facts::default()
        };
        assert!(codes(&suspended, date!(2027 - 08 - 31)).is_empty());
        assert_eq!(codes(&suspended, date!(2027 - 09 - 01)), vec!["removal_eligible"]);
        let abroad = Facts {
            status: Some(Status::Abroad),
            history: vec![change(Status::Abroad, date!(2020 - 09 - 01))],
            last_contact_on: Some(date!(2025 - 08 - 01)),
            ..Facts::default()
        };
        assert!(!codes(&abroad, date!(2025 - 09 - 01)).contains(&"abroad_over_five_years"));
        assert!(codes(&abroad, date!(2025 - 09 - 02)).contains(&"abroad_over_five_years"));
        let kept =
            Facts { status: Some(Status::Normal), retained_since: Some(date!(2025 - 07 - 01)), ..Facts::default() };
        assert!(codes(&kept, date!(2027 - 07 - 01)).is_empty());
        assert_eq!(codes(&kept, date!(2027 - 07 - 02)), vec!["retention_exceeded"]);
    }

    #[test]
    fn fee_arrears_join_the_card_whatever_the_status() {
        // FEE-08-T1/T2: last month not unpaid 2025-03.
        let f =
            Facts { status: Some(Status::Normal), fee_last_covered: YearMonth::parse("2025-03"), ..Facts::default() };
        assert!(codes(&f, date!(2025 - 09 - 15)).is_empty());
        assert_eq!(codes(&f, date!(2025 - 10 - 01)), vec!["fee_arrears_six_months"]);
        assert_eq!(assess(&f, date!(2025 - 09 - 15)).1.fee_arrears_from, Some(date!(2025 - 10 - 01)));
    }

    #[test]
    fn a_mobile_member_six_months_at_a_fixed_place_should_move_the_relationship() {
        // TRF-01: away 2025-03-01 → 2025-10-15 at a fixed place → transfer; → 2025-07-31 → certificate.
        let floating = |until: Date, fixed: bool| Facts {
            status: Some(Status::Floating),
            history: vec![StatusRow {
                expected_until: Some(until),
                fixed_place: Some(fixed),
                ..change(Status::Floating, date!(2025 - 03 - 01))
            }],
            ..Facts::default()
        };
        assert_eq!(codes(&floating(date!(2025 - 10 - 15), true), date!(2025 - 04 - 01)), vec!["should_transfer"]);
        assert!(codes(&floating(date!(2025 - 07 - 31), true), date!(2025 - 04 - 01)).is_empty());
        assert!(codes(&floating(date!(2025 - 10 - 15), false), date!(2025 - 04 - 01)).is_empty());
        // Without an expected end, the stay so far counts.
        let open = Facts {
            status: Some(Status::Floating),
            history: vec![change(Status::Floating, date!(2025 - 03 - 01))],
            ..Facts::default()
        };
        assert!(codes(&open, date!(2025 - 08 - 31)).is_empty());
        assert_eq!(codes(&open, date!(2025 - 09 - 01)), vec!["should_transfer"]);
    }
}
