//! The actions on notices: authorise → validate → transaction → store → audit → commit.
//!
//! Who sees a notice: its recipients (a person it was sent to); whoever holds `NoticeRead` over the publishing
//! organization (all receipts); and a secretary or staff member below the publisher whose people received it
//! (the receipts of her own subtree only — a branch secretary sees her branch). Anyone else gets "not found",
//! audited as a refusal. Publishing and withdrawing need `NoticeWrite` over the publishing organization.

use std::collections::BTreeMap;

use kernel::Db;
use platform::model::{Org, Stage, child_of, path_within, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;

use super::model::*;
use super::store::{self, NoticeRow, NoticeWrite, SummaryRow};
use crate::model::FieldErrors;
use crate::service::{Error, Result, event, now};

/// The most notices one list section returns.
pub const LIST_LIMIT: i64 = 100;
/// The most people one "not confirmed yet" list returns.
pub const UNREAD_LIMIT: i64 = 5_000;
/// The most organizations the publishing form offers (a college has a few dozen; staff of a large university
/// reach a few hundred).
pub const TARGET_LIMIT: usize = 2_000;

/// A notice about a meeting: its plan, a change of its time or place, or its cancellation, for the people named.
pub(crate) struct MeetingNotice<'a> {
    pub org: &'a Org,
    pub meeting_id: i64,
    pub title: String,
    /// Plain text (a blank line between paragraphs).
    pub text: String,
    pub people: &'a [i64],
}

/// Sends a notice about a meeting inside the meeting's own transaction (so a failed meeting write sends nothing)
/// and audits it as a publication; `None` when nobody is named.
pub(crate) async fn send_about_meeting(
    tx: &mut kernel::DbTx,
    ctx: &Ctx,
    actor: &Actor,
    n: &MeetingNotice<'_>,
    t: time::OffsetDateTime,
) -> Result<Option<i64>> {
    if n.people.is_empty() {
        return Ok(None);
    }
    let body = platform::richtext::text_to_html(&n.text);
    let tokens = platform::search::index_text(&n.title, &[], &n.text);
    let write = NoticeWrite {
        org_id: n.org.id,
        org_path: &n.org.path,
        title: &n.title,
        body: &body,
        stages: "",
        needs_receipt: true,
        search_tokens: &tokens,
        user_id: Some(actor.user_id).filter(|id| *id > 0),
        now: t,
        meeting_id: Some(n.meeting_id),
    };
    let id = store::insert_notice(tx, &write).await?;
    let sent = store::add_recipient_ids(tx, id, n.people).await?;
    let detail = serde_json::json!({"org_id": n.org.id, "meeting_id": n.meeting_id, "recipients": sent});
    audit::append(tx, event(actor, ctx, "notice.publish", format!("notice:{id}"), "ok", detail.to_string())).await?;
    Ok(Some(id))
}

/// The notices about a meeting, earliest first (the meeting decides who may see this list).
pub(crate) async fn meeting_notices(db: &Db, meeting_id: i64) -> Result<Vec<NoticeSummary>> {
    Ok(store::of_meeting(db, meeting_id).await?.into_iter().map(summary_of).collect())
}

/// Notices over the platform's database and callers.
pub struct Notices<'a> {
    platform: &'a Platform,
}

/// How the caller stands to one notice.
enum Standing {
    /// Oversees the receipts of the subtree at this organization (the publisher's, or her own below it).
    Oversees(Org),
    /// Only a recipient.
    Recipient,
}

fn summary_of(r: SummaryRow) -> NoticeSummary {
    NoticeSummary {
        id: r.id,
        org_id: r.org_id,
        org_name: r.org_name,
        title: r.title,
        needs_receipt: r.needs_receipt,
        state: NoticeState::parse(&r.state).unwrap_or(NoticeState::Published),
        published_at: r.published_at,
        recipients: r.recipients,
        read: r.read_count,
        my_read_at: r.my_read_at,
    }
}

/// The paths strictly above `path` ("/1/2/4/" → "/1/", "/1/2/").
fn ancestors(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    (1..parts.len()).map(|n| format!("/{}/", parts[..n].join("/"))).collect()
}

/// Where the actor oversees notices: the subtrees of her `NoticeRead` grants, and the organizations above them
/// whose notices reach her part (without those inside another of her subtrees).
fn oversight(actor: &Actor) -> (Vec<String>, Vec<String>) {
    let roots: Vec<String> = match actor.scope(Capability::NoticeRead) {
        platform::access::Scope::Everywhere => vec!["/".into()],
        platform::access::Scope::Subtrees(paths) => paths,
    };
    let mut above: Vec<String> = Vec::new();
    for root in &roots {
        for a in ancestors(root) {
            if !roots.iter().any(|other| path_within(&a, other)) && !above.contains(&a) {
                above.push(a);
            }
        }
    }
    (roots, above)
}

impl<'a> Notices<'a> {
    pub fn new(platform: &'a Platform) -> Notices<'a> {
        Notices { platform }
    }

    fn db(&self) -> &Db {
        &self.platform.db
    }

    async fn refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str, answer: Error) -> Result<Error> {
        audit::append_alone(self.db(), event(actor, ctx, action, target.into(), "denied", String::new())).await?;
        Ok(answer)
    }

    async fn org(&self, id: i64) -> Result<Option<Org>> {
        Ok(platform::store::get_org(self.db(), id).await?.map(Org::from_row))
    }

    /// Whether the actor may publish notices from this organization (for showing the button).
    pub fn may_publish(actor: &Actor, org: &Org) -> bool {
        actor.can(Capability::NoticeWrite, &org.path)
    }

    /// The organization a notice form is for: readable (else 404) and writable (else 403).
    pub async fn publishing(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<Org> {
        let target = format!("org:{org_id}");
        match self.org(org_id).await? {
            Some(o) if Self::may_publish(actor, &o) => Ok(o),
            Some(o) if actor.can(Capability::NoticeRead, &o.path) => {
                Err(self.refusal(ctx, actor, "notice.publish", &target, Error::Forbidden).await?)
            }
            _ => Err(self.refusal(ctx, actor, "notice.publish", &target, Error::NotFound).await?),
        }
    }

    /// The organizations the actor may publish from, in tree order, each name indented by its depth below the
    /// grant's organization (at most [`TARGET_LIMIT`]).
    pub async fn publish_targets(&self, actor: &Actor) -> Result<Vec<(i64, String)>> {
        let mut roots: Vec<String> = actor
            .grants
            .iter()
            .filter_map(|g| g.org_path.clone())
            .filter(|p| actor.can(Capability::NoticeWrite, p))
            .collect();
        roots.sort_by_key(String::len);
        let mut kept: Vec<String> = Vec::new();
        for r in roots {
            if !kept.iter().any(|k| path_within(&r, k)) {
                kept.push(r);
            }
        }
        kept.sort();
        let mut out = Vec::new();
        for root in &kept {
            let depth0 = root.matches('/').count();
            for (id, path, name) in store::orgs_in(self.db(), root, &subtree_end(root)).await? {
                if out.len() >= TARGET_LIMIT {
                    return Ok(out);
                }
                let indent = "　".repeat(path.matches('/').count().saturating_sub(depth0));
                out.push((id, format!("{indent}{name}")));
            }
        }
        Ok(out)
    }

    /// Publishes a notice to the people of the organization's subtree (of the stages chosen) and returns it.
    pub async fn publish(&self, ctx: &Ctx, actor: &Actor, input: &NoticeInput) -> Result<Notice> {
        if !actor.can_somewhere(Capability::NoticeWrite) {
            return Err(self.refusal(ctx, actor, "notice.publish", "notice:new", Error::Forbidden).await?);
        }
        let mut errors = match validate_notice(input) {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let mut org = None;
        if let Some(id) = input.org_id {
            match self.org(id).await? {
                Some(o) if actor.can(Capability::NoticeRead, &o.path) => {
                    if !Self::may_publish(actor, &o) {
                        let target = format!("org:{id}");
                        return Err(self.refusal(ctx, actor, "notice.publish", &target, Error::Forbidden).await?);
                    }
                    org = Some(o);
                }
                _ => {
                    errors.insert("org_id".into(), "所选党组织不存在或不在您的管理范围内".into());
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let v = validate_notice(input).map_err(Error::Invalid)?;
        let org = org.ok_or(Error::NotFound)?;
        let stages = stages_column(&v.stages);
        let tokens = platform::search::index_text(&v.title, &[], &platform::richtext::html_to_text(&v.body));
        let t = now();
        let mut tx = self.db().begin().await?;
        let write = NoticeWrite {
            org_id: org.id,
            org_path: &org.path,
            title: &v.title,
            body: &v.body,
            stages: &stages,
            needs_receipt: v.needs_receipt,
            search_tokens: &tokens,
            user_id: Some(actor.user_id).filter(|id| *id > 0),
            now: t,
            meeting_id: None,
        };
        let id = store::insert_notice(&mut tx, &write).await?;
        let sent = store::add_recipients(&mut tx, id, &org.path, &subtree_end(&org.path), &stages).await?;
        if sent == 0 {
            drop(tx); // nothing was sent: the notice is not kept
            let who = audience_label(&v.stages);
            return Err(Error::Invalid(FieldErrors::from([(
                "stages".into(),
                format!("{}（含下级组织）目前没有{who}，通知无人可收", org.name),
            )])));
        }
        let detail = serde_json::json!({"org_id": org.id, "recipients": sent, "stages": stages, "needs_receipt": v.needs_receipt});
        audit::append(&mut tx, event(actor, ctx, "notice.publish", format!("notice:{id}"), "ok", detail.to_string()))
            .await?;
        tx.commit().await?;
        self.get(ctx, actor, id).await
    }

    /// How the actor stands to a notice; `None`: not at all.
    async fn standing(&self, actor: &Actor, n: &NoticeRow, to_me: bool) -> Result<Option<Standing>> {
        if actor.can(Capability::NoticeRead, &n.org_path) {
            return Ok(self.org(n.org_id).await?.map(Standing::Oversees));
        }
        // The widest organization of hers below the publisher: the receipts of her part.
        let below = actor
            .grants
            .iter()
            .filter(|g| {
                g.org_path
                    .as_deref()
                    .is_some_and(|p| path_within(p, &n.org_path) && actor.can(Capability::NoticeRead, p))
            })
            .min_by_key(|g| g.org_path.as_deref().map_or(usize::MAX, str::len))
            .and_then(|g| g.org_id);
        if let Some(id) = below
            && let Some(o) = self.org(id).await?
        {
            return Ok(Some(Standing::Oversees(o)));
        }
        Ok(to_me.then_some(Standing::Recipient))
    }

    /// The receipts of the subtree at `root`, one line per organization directly below it.
    async fn receipts(&self, notice_id: i64, root: &Org) -> Result<Receipts> {
        let end = subtree_end(&root.path);
        let counts = store::receipts_by_org(self.db(), notice_id, &root.path, &end).await?;
        let names: BTreeMap<String, (i64, String)> =
            store::orgs_in(self.db(), &root.path, &end).await?.into_iter().map(|(id, p, n)| (p, (id, n))).collect();
        let mut lines: BTreeMap<String, ReceiptLine> = BTreeMap::new();
        for c in counts {
            let child = child_of(&root.path, &c.org_path);
            let (org_id, org_name) = names.get(&child).cloned().unwrap_or((c.org_id, String::new()));
            let line = lines.entry(child).or_insert(ReceiptLine { org_id, org_name, total: 0, read: 0 });
            line.total += c.total;
            line.read += c.read;
        }
        let lines: Vec<ReceiptLine> = lines.into_values().collect();
        Ok(Receipts {
            org_id: root.id,
            org_name: root.name.clone(),
            total: lines.iter().map(|l| l.total).sum(),
            read: lines.iter().map(|l| l.read).sum(),
            lines,
        })
    }

    /// One notice as the caller may see it (404 otherwise, audited).
    pub async fn get(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Notice> {
        let target = format!("notice:{id}");
        let Some(n) = store::get_notice(self.db(), id).await? else {
            return Err(Error::NotFound);
        };
        let mine = match actor.person_id {
            Some(p) => store::receipt(self.db(), id, p).await?,
            None => None,
        };
        let standing = self.standing(actor, &n, mine.is_some()).await?;
        let receipts = match &standing {
            None => return Err(self.refusal(ctx, actor, "notice.view", &target, Error::NotFound).await?),
            Some(Standing::Oversees(root)) => Some(self.receipts(id, root).await?),
            Some(Standing::Recipient) => None,
        };
        let state = NoticeState::parse(&n.state).unwrap_or(NoticeState::Published);
        let stages: Vec<Stage> = parse_stages_column(&n.stages);
        // A withdrawn notice keeps its record; a plain recipient sees that it was withdrawn and why, not the text.
        let body = if state == NoticeState::Withdrawn && receipts.is_none() { String::new() } else { n.body };
        Ok(Notice {
            id: n.id,
            org_id: n.org_id,
            org_name: n.org_name,
            title: n.title,
            body,
            audience: if n.meeting_id.is_some() { MEETING_AUDIENCE.into() } else { audience_label(&stages) },
            stages,
            needs_receipt: n.needs_receipt,
            state,
            state_label: state.label(),
            published_at: n.published_at,
            withdrawn_at: n.withdrawn_at,
            withdraw_reason: n.withdraw_reason,
            recipients: n.recipients,
            to_me: mine.is_some(),
            my_read_at: mine.flatten(),
            receipts,
            can_withdraw: state == NoticeState::Published && actor.can(Capability::NoticeWrite, &n.org_path),
            version: n.version,
            meeting_id: n.meeting_id,
        })
    }

    /// The caller confirms reading a notice sent to her (回执). Idempotent: a second confirmation keeps the first
    /// time.
    pub async fn confirm(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Notice> {
        let target = format!("notice:{id}");
        let Some(n) = store::get_notice(self.db(), id).await? else {
            return Err(Error::NotFound);
        };
        let mine = match actor.person_id {
            Some(p) => store::receipt(self.db(), id, p).await?.map(|r| (p, r)),
            None => None,
        };
        let Some((person_id, read_at)) = mine else {
            // Someone who sees the notice but was not sent it has nothing to confirm.
            let answer = match self.standing(actor, &n, false).await? {
                Some(_) => Error::Forbidden,
                None => Error::NotFound,
            };
            return Err(self.refusal(ctx, actor, "notice.read", &target, answer).await?);
        };
        if n.state != NoticeState::Published.code() {
            return Err(Error::Conflict("该通知已撤回，无需确认"));
        }
        if read_at.is_none() {
            let mut tx = self.db().begin().await?;
            if store::mark_read(&mut tx, id, person_id, now()).await? {
                audit::append(&mut tx, event(actor, ctx, "notice.read", target, "ok", String::new())).await?;
            }
            tx.commit().await?;
        }
        self.get(ctx, actor, id).await
    }

    /// Withdraws a published notice with a reason. `version`, when given, refuses a lost update (409).
    pub async fn withdraw(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        input: &WithdrawInput,
        version: Option<i64>,
    ) -> Result<Notice> {
        let target = format!("notice:{id}");
        let Some(n) = store::get_notice(self.db(), id).await? else {
            return Err(Error::NotFound);
        };
        if !actor.can(Capability::NoticeWrite, &n.org_path) {
            let to_me = match actor.person_id {
                Some(p) => store::receipt(self.db(), id, p).await?.is_some(),
                None => false,
            };
            let answer = match self.standing(actor, &n, to_me).await? {
                Some(_) => Error::Forbidden,
                None => Error::NotFound,
            };
            return Err(self.refusal(ctx, actor, "notice.withdraw", &target, answer).await?);
        }
        let reason = validate_withdrawal(input).map_err(Error::Invalid)?;
        if n.state != NoticeState::Published.code() {
            return Err(Error::Conflict("该通知已经撤回"));
        }
        let mut tx = self.db().begin().await?;
        if !store::withdraw(&mut tx, id, version.unwrap_or(n.version), &reason, now()).await? {
            return Err(Error::Conflict("通知已被他人修改或撤回，请刷新后重试"));
        }
        let detail = serde_json::json!({"reason": reason});
        audit::append(&mut tx, event(actor, ctx, "notice.withdraw", target, "ok", detail.to_string())).await?;
        tx.commit().await?;
        self.get(ctx, actor, id).await
    }

    /// The people of the caller's part who have not confirmed a notice yet (for reminding them in person).
    pub async fn unread(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<(Notice, Vec<Unread>)> {
        let notice = self.get(ctx, actor, id).await?;
        let Some(receipts) = &notice.receipts else {
            let target = format!("notice:{id}");
            return Err(self.refusal(ctx, actor, "notice.unread", &target, Error::Forbidden).await?);
        };
        let root = self.org(receipts.org_id).await?.ok_or(Error::NotFound)?;
        let rows = store::unread(self.db(), id, &root.path, &subtree_end(&root.path), UNREAD_LIMIT).await?;
        let people =
            rows.into_iter().map(|r| Unread { person_id: r.person_id, name: r.name, org_name: r.org_name }).collect();
        Ok((notice, people))
    }

    /// Notices matching a search (the FTS5 and tsquery renderings of one `platform::search::SearchQuery`) among
    /// those the caller may read, best first within each part, at most `limit`.
    pub async fn search(&self, actor: &Actor, fts5: &str, tsquery: &str, limit: i64) -> Result<Vec<store::NoticeHit>> {
        let (roots, above) = oversight(actor);
        let ends: Vec<String> = roots.iter().map(|r| subtree_end(r)).collect();
        let mut reaches: Vec<store::NoticeReach> = Vec::new();
        if let Some(person_id) = actor.person_id {
            reaches.push(store::NoticeReach::Received { person_id });
        }
        reaches.extend(roots.iter().zip(&ends).map(|(start, end)| store::NoticeReach::Subtree { start, end }));
        reaches.extend(above.iter().map(|path| store::NoticeReach::At { path }));
        let mut hits: Vec<store::NoticeHit> = Vec::new();
        for reach in &reaches {
            for h in store::search(self.db(), reach, fts5, tsquery, limit).await? {
                if !hits.iter().any(|k| k.id == h.id) {
                    hits.push(h);
                }
            }
            if hits.len() as i64 >= limit {
                break;
            }
        }
        hits.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(hits)
    }

    /// Notices sent to the caller that ask for her confirmation and do not have it yet, latest first.
    pub async fn waiting(&self, actor: &Actor) -> Result<Vec<NoticeSummary>> {
        let Some(p) = actor.person_id else {
            return Ok(Vec::new());
        };
        Ok(store::received(self.db(), p, LIST_LIMIT)
            .await?
            .into_iter()
            .map(summary_of)
            .filter(|s| s.needs_receipt && s.my_read_at.is_none())
            .collect())
    }

    /// The notices the caller sees: sent to her, published in her reach, and published above it.
    pub async fn list(&self, actor: &Actor) -> Result<NoticeList> {
        let received: Vec<NoticeSummary> = match actor.person_id {
            Some(p) => store::received(self.db(), p, LIST_LIMIT).await?.into_iter().map(summary_of).collect(),
            None => Vec::new(),
        };
        let (roots, above) = oversight(actor);
        let mut published: Vec<NoticeSummary> = Vec::new();
        let mut from_above: Vec<NoticeSummary> = Vec::new();
        for root in &roots {
            for r in store::published_in(self.db(), root, &subtree_end(root), LIST_LIMIT).await? {
                published.push(summary_of(r));
            }
        }
        for a in &above {
            for r in store::published_at_path(self.db(), a, LIST_LIMIT).await? {
                from_above.push(summary_of(r));
            }
        }
        for list in [&mut published, &mut from_above] {
            list.sort_by(|a, b| b.published_at.cmp(&a.published_at).then(b.id.cmp(&a.id)));
            list.dedup_by_key(|s| s.id);
            list.truncate(LIST_LIMIT as usize);
        }
        let unconfirmed = received.iter().filter(|s| s.needs_receipt && s.my_read_at.is_none()).count() as i64;
        Ok(NoticeList { received, published, from_above, unconfirmed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_above_and_below() {
        assert_eq!(ancestors("/1/2/4/"), vec!["/1/".to_string(), "/1/2/".to_string()]);
        assert!(ancestors("/1/").is_empty());
    }
}
