//! The actions on committees: read an organization's committee (its current term with the ORG-09/10 answer,
//! the history of terms, the elections), record a term as it stands, record an approved postponement, record
//! an election — each authorise → validate → transaction → store → audit → commit — and the nightly reminder
//! ([`remind`]) that flags terms whose election is due soon or overdue. Permissions are those of
//! organizational life: `MeetingRead` to see, `MeetingWrite` to record, in the caller's subtree; an
//! organization outside it is `NotFound` (audited).

use std::collections::{BTreeMap, HashMap};

use kernel::dates::add_months;
use kernel::{Db, DbError};
use platform::model::{Org, OrgKind, path_within, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use super::model::*;
use super::store::{self, ElectionWrite, PostponeWrite, TermWrite};
use crate::model::FieldErrors;
use crate::rules::{self, CommitteeAnswer, CommitteeQuestion, ElectionQuestion, Finding, Severity, TermStatus};
use crate::service::{Error, Result, event, now};

/// The most flagged terms one reminder list shows (a province has tens of thousands of branches; the list
/// is read organization by organization).
pub const REMINDERS_MAX: i64 = 500;
/// Terms the reminder job reads per batch.
const REMIND_BATCH: i64 = 1_000;

/// An organization's committee: the rules' answer for it, its current term, the earlier terms and the
/// elections recorded.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Committee {
    pub org_id: i64,
    pub org_name: String,
    /// 正式党员 in the organization's subtree.
    pub formal_members: u32,
    pub probationary_members: u32,
    /// ORG-09/ORG-10/ELE-01 for the current term (its members as the proposed size); ORG-09 only for
    /// branches.
    pub rules: CommitteeAnswer,
    pub current: Option<Term>,
    /// Earlier terms, newest first.
    pub history: Vec<Term>,
    pub elections: Vec<Election>,
    /// The day the status was judged.
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    #[serde(skip)]
    pub org: Option<Org>,
}

/// What one run of the reminder job did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RemindReport {
    pub checked: u64,
    pub due_soon: u64,
    pub overdue: u64,
    /// Flags set or changed by this run.
    pub changed: u64,
}

/// Organizations that have a committee (or a secretary and deputy): all but Party groups.
fn holds_terms(kind: OrgKind) -> bool {
    kind != OrgKind::Group
}

/// The finding as one field message: its sentence and its sources.
fn with_citation(f: &Finding) -> String {
    format!("{}（依据：{}）", f.message, f.citations.join("；"))
}

/// ORG-09 applies to branches only; a branch too small to stand alone is the structure's question, not the
/// term's.
fn applies(f: &Finding, kind: OrgKind) -> bool {
    f.code != "too_few_for_branch" && f.code != "branch_over_50" && (f.rule != "ORG-09" || kind == OrgKind::Branch)
}

/// The field a refusing rule speaks to.
fn field_of(code: &str, size_field: &str) -> String {
    match code {
        "term_out_of_range" => "term_years".into(),
        "no_quorum" => "present".into(),
        "postpone_too_long" | "advance_too_early" => "postpone_to".into(),
        "tie_for_last_seat" | "nobody_elected" => "candidates".into(),
        _ => size_field.into(),
    }
}

/// Violations become field errors (422, nothing written); warnings are returned to be kept with the record.
fn split(findings: Vec<Finding>, size_field: &str) -> std::result::Result<Vec<Finding>, FieldErrors> {
    let (violations, warnings): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.severity == Severity::Violation);
    if violations.is_empty() {
        return Ok(warnings);
    }
    let mut e = FieldErrors::new();
    for v in &violations {
        e.entry(field_of(v.code, size_field)).or_insert_with(|| with_citation(v));
    }
    Err(e)
}

fn term_of(r: store::TermRow, members: &mut HashMap<i64, Vec<TermMember>>, as_of: Date) -> Term {
    let mut t = Term {
        id: r.id,
        number: r.number,
        elected_on: r.elected_on,
        term_years: r.term_years,
        due_on: r.due_on,
        postponed_to: r.postponed_to,
        postpone_reason: r.postpone_reason,
        postpone_approved_by: r.postpone_approved_by,
        postpone_approved_on: r.postpone_approved_on,
        ended_on: r.ended_on,
        election_id: r.election_id,
        status: None,
        status_label: None,
        flag: None,
        members: members.remove(&r.id).unwrap_or_default(),
    };
    if t.ended_on.is_none() {
        let status = rules::term_status(t.election_due(), as_of);
        t.status = Some(status);
        t.status_label = Some(status.label());
        t.flag = rules::term_message(status, t.election_due(), t.postponed_to.is_some());
    }
    t
}

/// The flag the reminder keeps for a status (`None` while the term runs).
fn flag_code(status: TermStatus) -> Option<&'static str> {
    (status != TermStatus::Running).then(|| status.code())
}

/// Organizations' committees over the platform's database and callers.
pub struct Committees<'a> {
    platform: &'a Platform,
}

impl<'a> Committees<'a> {
    pub fn new(platform: &'a Platform) -> Committees<'a> {
        Committees { platform }
    }

    fn db(&self) -> &Db {
        &self.platform.db
    }

    async fn refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, org_id: i64) -> Result<()> {
        let e = event(actor, ctx, action, format!("org:{org_id}"), "denied", String::new());
        audit::append_alone(self.db(), e).await?;
        Ok(())
    }

    /// The organization, when the caller may read its committee (else `NotFound`, audited when it exists) and,
    /// with `write`, record it (else `Forbidden`, audited).
    async fn org(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str, write: bool) -> Result<Org> {
        let org = platform::store::get_org(self.db(), id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
        if !actor.can(Capability::MeetingRead, &org.path) || !holds_terms(org.kind) {
            self.refusal(ctx, actor, action, id).await?;
            return Err(Error::NotFound);
        }
        if write && !actor.can(Capability::MeetingWrite, &org.path) {
            self.refusal(ctx, actor, action, id).await?;
            return Err(Error::Forbidden);
        }
        Ok(org)
    }

    /// Whether the caller may record terms, postponements and elections for this organization.
    pub fn may_write(actor: &Actor, org: &Org) -> bool {
        actor.can(Capability::MeetingWrite, &org.path) && holds_terms(org.kind)
    }

    /// Formal and probationary members of the organization's subtree.
    async fn counts(&self, org: &Org) -> Result<(u32, u32)> {
        let members = crate::store::members(self.db(), &org.path, &subtree_end(&org.path)).await?;
        let formal = members.iter().filter(|m| m.stage == "full").count();
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Ok((n(formal), n(members.len() - formal)))
    }

    /// People among `ids` who are not in the organization's subtree, as one field message.
    async fn outsiders(&self, org: &Org, ids: &[i64]) -> Result<Option<String>> {
        let found: HashMap<i64, String> = crate::store::people_paths(self.db(), ids).await?.into_iter().collect();
        let mut out: Vec<String> = ids
            .iter()
            .filter(|id| found.get(id).is_none_or(|p| !path_within(p, &org.path)))
            .map(i64::to_string)
            .collect();
        out.dedup();
        Ok((!out.is_empty()).then(|| format!("应为{}（含下级组织）的人员，以下编号不符：{}", org.name, out.join("、"))))
    }

    /// The ORG-09/ORG-10/ELE-01 answer for the organization with `counts` (formal, probationary members) and the
    /// term asked about in `q`; ORG-09's sizes apply to branches only.
    fn answer(org: &Org, counts: (u32, u32), q: CommitteeQuestion) -> CommitteeAnswer {
        let mut a =
            rules::committee(&CommitteeQuestion { formal_members: counts.0, probationary_members: counts.1, ..q });
        a.violations.retain(|f| applies(f, org.kind));
        if org.kind != OrgKind::Branch {
            a.committee_required = false;
            a.size_min = None;
            a.size_max = None;
        }
        a
    }

    /// An organization's committee on `as_of`.
    pub async fn get(&self, ctx: &Ctx, actor: &Actor, org_id: i64, as_of: Date) -> Result<Committee> {
        let org = self.org(ctx, actor, org_id, "committee.read", false).await?;
        self.load(org, as_of).await
    }

    async fn load(&self, org: Org, as_of: Date) -> Result<Committee> {
        let counts = self.counts(&org).await?;
        let mut members: HashMap<i64, Vec<TermMember>> = HashMap::new();
        for m in store::members(self.db(), org.id).await? {
            let post = Post::parse(&m.post).unwrap_or(Post::Member);
            members.entry(m.term_id).or_default().push(TermMember {
                person_id: m.person_id,
                name: m.name,
                post,
                post_label: post.label(),
            });
        }
        let mut terms: Vec<Term> = store::terms(self.db(), org.id, HISTORY_MAX)
            .await?
            .into_iter()
            .map(|r| term_of(r, &mut members, as_of))
            .collect();
        let current = terms.iter().position(|t| t.ended_on.is_none()).map(|i| terms.remove(i));
        let mut q = CommitteeQuestion::new(counts.0, counts.1);
        if let Some(t) = &current {
            q.elected_on = Some(t.elected_on);
            q.term_years = u32::try_from(t.term_years).ok();
            q.proposed_size = u32::try_from(t.members.len()).ok();
            q.postpone_to = t.postponed_to;
        }
        let rules = Self::answer(&org, counts, q);
        let mut candidates: HashMap<i64, Vec<CandidateResult>> = HashMap::new();
        for c in store::candidates(self.db(), org.id).await? {
            candidates.entry(c.election_id).or_default().push(CandidateResult {
                person_id: c.person_id,
                name: c.name,
                votes: c.votes,
                elected: c.elected,
            });
        }
        let elections = store::elections(self.db(), org.id, HISTORY_MAX)
            .await?
            .into_iter()
            .map(|e| Election {
                id: e.id,
                held_on: e.held_on,
                entitled: e.entitled,
                present: e.present,
                seats: e.seats,
                term_id: e.term_id,
                findings: serde_json::from_str(&e.findings).unwrap_or_default(),
                candidates: candidates.remove(&e.id).unwrap_or_default(),
            })
            .collect();
        Ok(Committee {
            org_id: org.id,
            org_name: org.name.clone(),
            formal_members: counts.0,
            probationary_members: counts.1,
            rules,
            current,
            history: terms,
            elections,
            as_of,
            org: Some(org),
        })
    }

    /// Records a term as it stands (a committee elected before the platform was used, or corrected
    /// afterwards): it becomes the current term and the one before ends on its election day.
    pub async fn record_term(&self, ctx: &Ctx, actor: &Actor, org_id: i64, input: &TermInput) -> Result<Committee> {
        let org = self.org(ctx, actor, org_id, "committee.term", true).await?;
        let today = kernel::dates::today();
        let mut errors = validate_term(input, today).err().unwrap_or_default();
        let ids: Vec<i64> = input.members.iter().flatten().filter_map(|m| m.person_id).collect();
        if let Some(m) = self.outsiders(&org, &ids).await? {
            errors.entry("members".into()).or_insert(m);
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let v = validate_term(input, today).map_err(Error::Invalid)?;
        let counts = self.counts(&org).await?;
        let q = CommitteeQuestion {
            elected_on: Some(v.elected_on),
            term_years: v.term_years,
            proposed_size: u32::try_from(v.members.len()).ok(),
            ..CommitteeQuestion::new(0, 0)
        };
        let answer = Self::answer(&org, counts, q);
        split(answer.violations, "members").map_err(Error::Invalid)?;
        let years = v.term_years.unwrap_or(rules::DEFAULT_TERM_YEARS);
        let t = now();
        let mut tx = self.db().begin().await?;
        let previous = store::current_term_tx(&mut tx, org.id).await?;
        if let Some(p) = &previous
            && p.elected_on >= v.elected_on
        {
            let msg = format!("选举日期应晚于现任第{}届的选举日期（{}）", p.number, kernel::dates::iso(p.elected_on));
            return Err(Error::Invalid(FieldErrors::from([("elected_on".to_string(), msg)])));
        }
        let before = match &previous {
            Some(p) => {
                store::end_term(&mut tx, p.id, v.elected_on, t).await?;
                store::term_members_tx(&mut tx, p.id).await?
            }
            None => Vec::new(),
        };
        let write = TermWrite {
            org_id: org.id,
            org_path: &org.path,
            elected_on: v.elected_on,
            term_years: i64::from(years),
            due_on: rules::term_end(v.elected_on, years),
            election_id: None,
            user_id: Some(actor.user_id).filter(|id| *id > 0),
            now: t,
        };
        let (id, number) = store::insert_term(&mut tx, &write).await?;
        for m in &v.members {
            store::add_member(&mut tx, id, m.person_id, m.post.code()).await?;
        }
        let after: Vec<(i64, String)> = v.members.iter().map(|m| (m.person_id, m.post.code().to_string())).collect();
        let posts = self.write_party_posts(&mut tx, &org, &before, &after, t).await?;
        let detail = format!(
            "term:{id} number:{number} elected_on:{} years:{years} members:{} party_posts:{posts}",
            kernel::dates::iso(v.elected_on),
            v.members.len()
        );
        audit::append(&mut tx, event(actor, ctx, "committee.term", format!("org:{org_id}"), "ok", detail)).await?;
        tx.commit().await?;
        if posts > 0 {
            self.platform.people_changed().await;
        }
        self.load(org, today).await
    }

    /// The register's 党内职务 follows the committee: "党支部书记", "党委组织委员" … by the organization's kind
    /// and the post (the words of 全国党员管理信息系统's 党内职务 item).
    async fn write_party_posts(
        &self,
        tx: &mut kernel::DbTx,
        org: &Org,
        before: &[(i64, String)],
        after: &[(i64, String)],
        t: time::OffsetDateTime,
    ) -> Result<u64> {
        let prefix = match org.kind {
            platform::model::OrgKind::Branch => "党支部",
            platform::model::OrgKind::GeneralBranch => "党总支",
            platform::model::OrgKind::Group => "党小组",
            _ => "党委",
        };
        let label = |(id, code): &(i64, String)| {
            (*id, format!("{prefix}{}", Post::parse(code).unwrap_or(Post::Member).label()))
        };
        let arriving: Vec<(i64, String)> = after.iter().map(label).collect();
        let leaving: Vec<(i64, String)> =
            before.iter().filter(|(id, _)| !after.iter().any(|(a, _)| a == id)).map(label).collect();
        Ok(store::set_party_posts(tx, &leaving, &arriving, t).await?)
    }

    /// Records an approved delay or advance of the current term's election (ORG-10: at most one year either
    /// way from the term's end; a second approval replaces the first, both stay in the audit log).
    pub async fn postpone(&self, ctx: &Ctx, actor: &Actor, org_id: i64, input: &PostponeInput) -> Result<Committee> {
        let org = self.org(ctx, actor, org_id, "committee.postpone", true).await?;
        let today = kernel::dates::today();
        let v = validate_postpone(input, today).map_err(Error::Invalid)?;
        let t = now();
        let mut tx = self.db().begin().await?;
        let Some(term) = store::current_term_tx(&mut tx, org.id).await? else {
            return Err(Error::Conflict("尚未登记本届委员会，不能延期换届"));
        };
        let q = CommitteeQuestion {
            elected_on: Some(term.elected_on),
            term_years: u32::try_from(term.term_years).ok(),
            postpone_to: Some(v.postpone_to),
            ..CommitteeQuestion::new(0, 0)
        };
        let answer = rules::committee(&q);
        let findings: Vec<Finding> = answer.violations.into_iter().filter(|f| f.rule == "ORG-10").collect();
        split(findings, "postpone_to").map_err(Error::Invalid)?;
        if v.approved_on < term.elected_on {
            let msg = format!("批准日期不能早于本届的选举日期（{}）", kernel::dates::iso(term.elected_on));
            return Err(Error::Invalid(FieldErrors::from([("approved_on".to_string(), msg)])));
        }
        let status = rules::term_status(v.postpone_to, today);
        let flag = flag_code(status);
        let w = PostponeWrite {
            postpone_to: v.postpone_to,
            reason: &v.reason,
            approved_by: &v.approved_by,
            approved_on: v.approved_on,
            flag,
            flagged_on: flag.map(|_| today),
            now: t,
        };
        if !store::postpone(&mut tx, term.id, term.version, &w).await? {
            return Err(Error::Conflict("本届委员会已被他人修改，请刷新后重试"));
        }
        let detail = format!(
            "term:{} due_on:{} postpone_to:{} approved_on:{}",
            term.id,
            kernel::dates::iso(term.due_on),
            kernel::dates::iso(v.postpone_to),
            kernel::dates::iso(v.approved_on)
        );
        audit::append(&mut tx, event(actor, ctx, "committee.postpone", format!("org:{org_id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.load(org, today).await
    }

    /// Records an election as counted. The count is judged by ELE-01 ([`rules::election`]) and the committee
    /// it makes by ORG-09/ORG-10 ([`rules::committee`]); a violation (no quorum, nobody elected, a tie for the
    /// last seats, a committee of the wrong size, a term outside 3–5 years) refuses it with the article and
    /// writes nothing. A valid election ends the current term and opens the next with those elected; its
    /// warnings (too few candidates, seats unfilled) are kept with it.
    pub async fn record_election(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        input: &ElectionInput,
    ) -> Result<(Election, Committee)> {
        let org = self.org(ctx, actor, org_id, "committee.election", true).await?;
        let today = kernel::dates::today();
        let mut errors = validate_election(input, today).err().unwrap_or_default();
        let ids: Vec<i64> = input.candidates.iter().flatten().filter_map(|c| c.person_id).collect();
        if let Some(m) = self.outsiders(&org, &ids).await? {
            errors.entry("candidates".into()).or_insert(m);
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let v = validate_election(input, today).map_err(Error::Invalid)?;
        let counts = self.counts(&org).await?;
        let q = CommitteeQuestion {
            elected_on: Some(v.held_on),
            term_years: v.term_years,
            proposed_size: Some(v.seats),
            candidates: u32::try_from(v.candidates.len()).ok(),
            ..CommitteeQuestion::new(0, 0)
        };
        let mut findings = split(Self::answer(&org, counts, q).violations, "seats").map_err(Error::Invalid)?;
        let count = rules::election(&ElectionQuestion {
            entitled: v.entitled,
            present: v.present,
            seats: v.seats,
            votes: v.candidates.iter().map(|c| (c.person_id, c.votes)).collect(),
        });
        findings.extend(split(count.findings.clone(), "candidates").map_err(Error::Invalid)?);
        let mut posts = FieldErrors::new();
        for (i, c) in v.candidates.iter().enumerate() {
            if c.post.is_some() && !count.elected.contains(&c.person_id) {
                posts.insert(format!("candidates.{i}.post"), "未当选的候选人不能担任职务".into());
            }
        }
        if !posts.is_empty() {
            return Err(Error::Invalid(posts));
        }
        let years = v.term_years.unwrap_or(rules::DEFAULT_TERM_YEARS);
        let t = now();
        let user_id = Some(actor.user_id).filter(|id| *id > 0);
        let mut tx = self.db().begin().await?;
        let previous = store::current_term_tx(&mut tx, org.id).await?;
        if let Some(p) = &previous
            && p.elected_on >= v.held_on
        {
            let msg = format!("选举日期应晚于现任第{}届的选举日期（{}）", p.number, kernel::dates::iso(p.elected_on));
            return Err(Error::Invalid(FieldErrors::from([("held_on".to_string(), msg)])));
        }
        let findings_json = serde_json::to_string(&findings).unwrap_or_else(|_| "[]".into());
        let ew = ElectionWrite {
            org_id: org.id,
            org_path: &org.path,
            held_on: v.held_on,
            entitled: i64::from(v.entitled),
            present: i64::from(v.present),
            seats: i64::from(v.seats),
            findings: &findings_json,
            user_id,
            now: t,
        };
        let election_id = store::insert_election(&mut tx, &ew).await?;
        for c in &v.candidates {
            let won = count.elected.contains(&c.person_id);
            store::add_candidate(&mut tx, election_id, c.person_id, i64::from(c.votes), won).await?;
        }
        let before = match &previous {
            Some(p) => {
                store::end_term(&mut tx, p.id, v.held_on, t).await?;
                store::term_members_tx(&mut tx, p.id).await?
            }
            None => Vec::new(),
        };
        let tw = TermWrite {
            org_id: org.id,
            org_path: &org.path,
            elected_on: v.held_on,
            term_years: i64::from(years),
            due_on: rules::term_end(v.held_on, years),
            election_id: Some(election_id),
            user_id,
            now: t,
        };
        let (term_id, number) = store::insert_term(&mut tx, &tw).await?;
        let mut after = Vec::new();
        for person in &count.elected {
            let post =
                v.candidates.iter().find(|c| c.person_id == *person).and_then(|c| c.post).unwrap_or(Post::Member);
            store::add_member(&mut tx, term_id, *person, post.code()).await?;
            after.push((*person, post.code().to_string()));
        }
        store::set_election_term(&mut tx, election_id, term_id).await?;
        let party_posts = self.write_party_posts(&mut tx, &org, &before, &after, t).await?;
        let codes: Vec<&str> = findings.iter().map(|f| f.code).collect();
        let detail = format!(
            "election:{election_id} term:{term_id} number:{number} entitled:{} present:{} seats:{} elected:{} flags:{} party_posts:{party_posts}",
            v.entitled,
            v.present,
            v.seats,
            count.elected.len(),
            codes.join(",")
        );
        audit::append(&mut tx, event(actor, ctx, "committee.election", format!("org:{org_id}"), "ok", detail)).await?;
        tx.commit().await?;
        if party_posts > 0 {
            self.platform.people_changed().await;
        }
        let committee = self.load(org, today).await?;
        let election = committee.elections.iter().find(|e| e.id == election_id).cloned().ok_or(Error::NotFound)?;
        Ok((election, committee))
    }

    /// The Party members of the organization's subtree who may be candidates or members (id, name, formal),
    /// for the forms.
    pub async fn roster(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<Vec<(i64, String, bool)>> {
        let org = self.org(ctx, actor, org_id, "committee.read", false).await?;
        let members = crate::store::members(self.db(), &org.path, &subtree_end(&org.path)).await?;
        Ok(members.into_iter().map(|m| (m.id, m.name, m.stage == "full")).collect())
    }

    /// The terms of the organization's subtree that the reminder job flagged (due soon or overdue), overdue
    /// first, for its calendar and the organizations above.
    pub async fn reminders(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<(Org, Vec<TermReminder>)> {
        let org = platform::store::get_org(self.db(), org_id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
        if !actor.can(Capability::MeetingRead, &org.path) {
            self.refusal(ctx, actor, "committee.reminders", org_id).await?;
            return Err(Error::NotFound);
        }
        let list = reminders_below(self.db(), &org).await?;
        Ok((org, list))
    }
}

/// The flagged terms of an organization's subtree (no access check: the caller has made it).
pub async fn reminders_below(db: &Db, org: &Org) -> Result<Vec<TermReminder>> {
    let rows = store::flagged(db, &org.path, &subtree_end(&org.path), REMINDERS_MAX).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let status = TermStatus::parse(&r.flag)?;
            let due = r.postponed_to.unwrap_or(r.due_on);
            Some(TermReminder {
                org_id: r.org_id,
                org_name: r.org_name,
                term_id: r.term_id,
                number: r.number,
                election_due: due,
                status,
                status_label: status.label(),
                flagged_on: r.flagged_on,
                flag: rules::term_message(status, due, r.postponed_to.is_some()),
            })
        })
        .collect())
}

/// The nightly reminder (job `committees.remind`): every current term whose election falls due within
/// [`rules::REMINDER_MONTHS`] months of `today` is flagged due_soon, every one past it overdue, and a flag
/// that no longer holds (a postponement approved since) is cleared. Reads in batches; each batch's changes
/// are one transaction.
pub async fn remind(db: &Db, today: Date) -> Result<RemindReport, DbError> {
    // A superset of the terms that may be due soon (add_months clamps month ends; term_status decides).
    let horizon = add_months(today, rules::REMINDER_MONTHS + 1);
    let mut report = RemindReport::default();
    let mut after = 0;
    loop {
        let rows = store::terms_to_check(db, horizon, after, REMIND_BATCH).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut changes: BTreeMap<i64, Option<&'static str>> = BTreeMap::new();
        for r in &rows {
            report.checked += 1;
            let status = rules::term_status(r.postponed_to.unwrap_or(r.due_on), today);
            match status {
                TermStatus::DueSoon => report.due_soon += 1,
                TermStatus::Overdue => report.overdue += 1,
                TermStatus::Running => {}
            }
            let flag = flag_code(status);
            if flag != r.flag.as_deref() {
                changes.insert(r.id, flag);
            }
        }
        if !changes.is_empty() {
            let mut tx = db.begin().await?;
            for (id, flag) in &changes {
                store::set_flag(&mut tx, *id, *flag, today).await?;
            }
            tx.commit().await?;
            report.changed += changes.len() as u64;
        }
        if i64::try_from(rows.len()).unwrap_or(0) < REMIND_BATCH {
            break;
        }
    }
    Ok(report)
}
