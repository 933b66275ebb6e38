//! Transfers of the organizational relationship (组织关系转接, TRF-01…03).
//!
//! * **Within the university** the sending side (the person's branch secretary, or org staff above it)
//!   initiates; the receiving side accepts or returns it with a reason. The person moves only on acceptance,
//!   in one transaction with her organization and path, the head counts of every ancestor on both sides and
//!   the audit entry; until then she stays in the sending branch (TRF-01: the sender remains responsible).
//! * **Out of the university** the sender issues an introduction letter (介绍信, [`crate::letter`]) with its
//!   validity (TRF-02); the transfer stays "转出待接收" until the receipt (回执) is recorded, which marks the
//!   person 已转出. An expired letter is reissued within 6 months of the transfer out (TRF-03).
//! * **Into the university** an incoming letter is recorded — refused when it has expired (TRF-02) — and the
//!   person placed in the receiving branch, in one transaction.
//!
//! Both sides see a transfer: the sender through `from_org_path`, the receiver through `to_org_path`, each
//! within its `TransferRead` reach; the person sees her own.

use kernel::DbError;
use kernel::dates::{age_on, iso, today};
use platform::model::{Gender, Org, OrgKind, PersonCategory, Stage, Status, path_ids, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;
use time::{Date, OffsetDateTime};

use super::{Error, Result, event, field};
use crate::model::FieldErrors;
use crate::model::transfer::*;
use crate::rules::YearMonth;
use crate::rules::transfer::{self as trf, TransferCase};
use crate::rules::{Finding, Severity};
use crate::store::transfer::{self as store, LetterRow, LetterWrite, TransferRow, TransferWrite};

/// The most transfers one side's list returns (pending ones first).
pub const LIST_LIMIT: i64 = 200;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Whether a person of this stage holds a Party membership whose relationship a letter moves.
fn is_member(stage: &str) -> bool {
    matches!(Stage::parse(stage), Some(Stage::Probationary | Stage::Full))
}

/// Statuses that end a person's relationship with the university's organizations.
fn ended(status: &str) -> bool {
    matches!(Status::parse(status), Some(Status::Deceased | Status::Left | Status::TransferredOut))
}

/// The findings of TRF-02/03 for an outgoing transfer still waiting for its receipt on `as_of`: the
/// current letter expired (reissue), and the reissue window closed.
pub fn pending_out_flags(initiated_on: Date, current: &LetterRow, as_of: Date) -> trf::TransferAssessment {
    let expired = as_of > current.valid_until;
    trf::assess(&TransferCase {
        letter_issued_on: Some(current.issued_on),
        validity_days: u32::try_from(current.valid_days).ok(),
        transferred_out_on: Some(initiated_on),
        reissue_requested_on: expired.then_some(as_of),
        ..TransferCase::new(as_of)
    })
}

/// Transfers over the platform's database and callers.
pub struct Transfers<'a> {
    platform: &'a Platform,
}

impl<'a> Transfers<'a> {
    pub fn new(platform: &'a Platform) -> Transfers<'a> {
        Transfers { platform }
    }

    fn db(&self) -> &kernel::Db {
        &self.platform.db
    }

    async fn record_refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<()> {
        audit::append_alone(self.db(), event(actor, ctx, action, target.into(), "denied", String::new())).await?;
        Ok(())
    }

    /// A refused read: audited, answered as not found.
    async fn deny(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<Error> {
        self.record_refusal(ctx, actor, action, target).await?;
        Ok(Error::NotFound)
    }

    /// A refused write: audited, answered 403.
    async fn refuse(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<Error> {
        self.record_refusal(ctx, actor, action, target).await?;
        Ok(Error::Forbidden)
    }

    async fn org(&self, id: i64) -> Result<Option<Org>> {
        Ok(platform::store::get_org(self.db(), id).await?.map(Org::from_row))
    }

    fn sees(actor: &Actor, r: &TransferRow) -> bool {
        let on = |p: &Option<String>| p.as_deref().is_some_and(|p| actor.can(Capability::TransferRead, p));
        on(&r.from_org_path) || on(&r.to_org_path) || actor.person_id == Some(r.person_id)
    }

    fn writes(actor: &Actor, path: &Option<String>) -> bool {
        path.as_deref().is_some_and(|p| actor.can(Capability::TransferWrite, p))
    }

    /// A transfer the actor may see, or `NotFound` (audited when it exists).
    async fn visible(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<TransferRow> {
        let row = store::get_transfer(self.db(), id).await?.ok_or(Error::NotFound)?;
        if Self::sees(actor, &row) {
            Ok(row)
        } else {
            Err(self.deny(ctx, actor, action, &format!("transfer:{id}")).await?)
        }
    }

    /// Builds the answers for rows, with their letters (one query) and today's findings.
    pub async fn build(&self, actor: &Actor, rows: Vec<TransferRow>) -> Result<Vec<Transfer>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut letters = store::letters_of(self.db(), &ids).await?;
        let as_of = today();
        Ok(rows
            .into_iter()
            .map(|r| {
                let mine: Vec<LetterRow> = letters.extract_if(.., |l| l.transfer_id == r.id).collect();
                transfer_of(actor, r, mine, as_of)
            })
            .collect())
    }

    async fn one(&self, actor: &Actor, id: i64) -> Result<Transfer> {
        let row = store::get_transfer(self.db(), id).await?.ok_or(Error::NotFound)?;
        self.build(actor, vec![row]).await?.pop().ok_or(Error::NotFound)
    }

    pub async fn get(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Transfer> {
        let row = self.visible(ctx, actor, id, "transfer.read").await?;
        self.build(actor, vec![row]).await?.pop().ok_or(Error::NotFound)
    }

    /// The transfers reaching and leaving the subtree of `org_id` (default: everything the actor reads).
    pub async fn list(&self, ctx: &Ctx, actor: &Actor, org_id: Option<i64>) -> Result<TransferList> {
        if !actor.can_somewhere(Capability::TransferRead) {
            return Err(self.deny(ctx, actor, "transfer.list", "transfers").await?);
        }
        let within = match org_id {
            None => "/".to_string(),
            Some(id) => {
                let org = self.org(id).await?.ok_or(Error::NotFound)?;
                if actor.ranges_within(Capability::TransferRead, &org.path).is_empty() {
                    return Err(self.deny(ctx, actor, "transfer.list", &format!("org:{id}")).await?);
                }
                org.path
            }
        };
        let ranges = actor.ranges_within(Capability::TransferRead, &within);
        let (mut incoming, mut outgoing) = (Vec::new(), Vec::new());
        for start in &ranges {
            let end = subtree_end(start);
            incoming.extend(store::transfers_to(self.db(), start, &end, LIST_LIMIT).await?);
            outgoing.extend(store::transfers_from(self.db(), start, &end, LIST_LIMIT).await?);
        }
        let order = |v: &mut Vec<TransferRow>| {
            v.sort_by_key(|r| (r.state != TransferState::Pending.code(), std::cmp::Reverse(r.id)));
            v.dedup_by_key(|r| r.id);
        };
        order(&mut incoming);
        order(&mut outgoing);
        let truncated = incoming.len() as i64 > LIST_LIMIT || outgoing.len() as i64 > LIST_LIMIT;
        incoming.truncate(LIST_LIMIT as usize);
        outgoing.truncate(LIST_LIMIT as usize);
        Ok(TransferList {
            incoming: self.build(actor, incoming).await?,
            outgoing: self.build(actor, outgoing).await?,
            truncated,
        })
    }

    /// The transfers of one person (her status card), for a caller who may see her.
    pub async fn of_person(&self, actor: &Actor, person_id: i64) -> Result<Vec<Transfer>> {
        let rows = store::transfers_of_person(self.db(), person_id).await?;
        self.build(actor, rows).await
    }

    /// Starts a transfer within the university (`internal`) or out of it (`out`, with its letter).
    pub async fn initiate(&self, ctx: &Ctx, actor: &Actor, input: &TransferInput) -> Result<Transfer> {
        if !actor.can_somewhere(Capability::TransferWrite) {
            return Err(self.refuse(ctx, actor, "transfer.create", "transfer:new").await?);
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        let kind = match input.kind.as_deref().and_then(TransferKind::parse) {
            Some(k @ (TransferKind::Internal | TransferKind::Out)) => Some(k),
            Some(TransferKind::In) => {
                errors.insert("kind".into(), "转入请登记接收到的介绍信（“登记转入”）".into());
                None
            }
            None => {
                errors.insert("kind".into(), "请选择转接类型：校内转接或转出".into());
                None
            }
        };
        let Some(pid) = input.person_id else {
            errors.insert("person_id".into(), "请选择要转接的人员".into());
            return Err(Error::Invalid(errors));
        };
        let person = platform::store::get_person(self.db(), pid).await?;
        let Some(person) = person.filter(|p| actor.can(Capability::TransferRead, &p.org_path)) else {
            return Err(self.deny(ctx, actor, "transfer.create", &format!("person:{pid}")).await?);
        };
        if !actor.can(Capability::TransferWrite, &person.org_path) {
            return Err(self.refuse(ctx, actor, "transfer.create", &format!("person:{pid}")).await?);
        }
        let reason = required_text(&mut errors, "reason", &input.reason, "转接原因");
        let note = optional_text(&mut errors, "note", &input.note);
        let on = past_date(&mut errors, "initiated_on", &input.initiated_on, as_of, as_of);
        if ended(&person.status) {
            let label = Status::parse(&person.status).map(Status::label).unwrap_or("");
            errors.insert("person_id".into(), format!("该同志党籍状态为“{label}”，不能办理组织关系转接"));
        } else if person.status == Status::Suspended.code() {
            errors.insert("person_id".into(), "该同志已停止党籍，恢复党籍前不能办理组织关系转接".into());
        }
        let mut to_org = None;
        let mut external = None;
        let mut valid_days = i64::from(trf::DEFAULT_VALIDITY_DAYS);
        let mut fee = None;
        match kind {
            Some(TransferKind::Internal) => match input.to_org_id {
                None => {
                    errors.insert("to_org_id".into(), "请选择接收的党支部".into());
                }
                Some(id) => match self.org(id).await? {
                    None => {
                        errors.insert("to_org_id".into(), "接收党组织不存在".into());
                    }
                    Some(o) if !o.kind.holds_people() => {
                        errors.insert("to_org_id".into(), "应转入党支部、党总支或党小组，不能直接转入党委".into());
                    }
                    Some(o) if o.id == person.org_id => {
                        errors.insert("to_org_id".into(), "接收党组织与该同志现在所在的党组织相同".into());
                    }
                    Some(o) => to_org = Some(o),
                },
            },
            Some(TransferKind::Out) => {
                if !is_member(&person.stage) {
                    errors.insert(
                        "person_id".into(),
                        "只有正式党员和预备党员开具组织关系介绍信；入党积极分子、发展对象的培养材料随本人转递".into(),
                    );
                }
                external = required_text(&mut errors, "external_org", &input.external_org, "接收党组织全称");
                fee = optional_month(&mut errors, "fee_paid_through", &input.fee_paid_through, as_of);
                valid_days = self.validity(&mut errors, "valid_days", input.valid_days, on);
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        if kind == Some(TransferKind::Out) && fee.is_none() {
            // Not typed: the letter prints what the dues ledger knows (the last month paid, exempt or reduced
            // to nothing), so the receiving branch knows from when to collect; nothing when the ledger has no
            // dues for her.
            let covered = super::fee::Fees::new(self.platform).last_covered(&[person.id], as_of).await?;
            fee = covered.get(&person.id).filter(|m| **m <= YearMonth::of(as_of)).map(|m| m.to_string());
        }
        let (Some(kind), Some(reason)) = (kind, reason) else {
            return Err(Error::Invalid(errors));
        };
        let from = self.org(person.org_id).await?.ok_or(Error::NotFound)?;
        let t = now();
        // Read before the transaction, which never waits for a second connection.
        let issuer = match kind {
            TransferKind::Out => Some(self.issuer_of(&from).await?),
            _ => None,
        };
        let mut tx = self.db().begin().await?;
        if let Some(open) = store::open_transfer_tx(&mut tx, pid).await? {
            let _ = open;
            return Err(Error::Conflict("该同志已有正在办理的组织关系转接，请先办结或撤回后再发起"));
        }
        let id = match store::insert_transfer(
            &mut tx,
            &TransferWrite {
                person_id: pid,
                kind: kind.code(),
                state: TransferState::Pending.code(),
                from_org_id: Some(from.id),
                from_org_path: Some(&from.path),
                to_org_id: to_org.as_ref().map(|o| o.id),
                to_org_path: to_org.as_ref().map(|o| o.path.as_str()),
                external_org: external.as_deref(),
                reason: &reason,
                note: note.as_deref(),
                initiated_on: on,
                fee_paid_through: fee.as_deref(),
                decided_on: None,
                decided_by: None,
                user_id: Some(actor.user_id).filter(|u| *u > 0),
                now: t,
            },
        )
        .await
        {
            Err(DbError::Conflict { .. }) => {
                return Err(Error::Conflict("该同志已有正在办理的组织关系转接，请先办结或撤回后再发起"));
            }
            other => other?,
        };
        let mut detail = format!("{} person:{pid} from org:{}", kind.code(), from.id);
        if let Some(o) = &to_org {
            detail.push_str(&format!(" to org:{}", o.id));
        }
        if let Some(issuer) = issuer {
            let number = self.next_number(&mut tx, on).await?;
            let birth = person.birth_date;
            let letter = LetterWrite {
                transfer_id: id,
                direction: "out",
                number: &number,
                issued_on: on,
                valid_days,
                valid_until: trf::letter_valid_until(on, valid_days as u32).unwrap_or(on),
                replaces_id: None,
                reissue_reason: None,
                presented_on: None,
                person_name: &person.name,
                gender: Gender::parse(&person.gender).map(Gender::label).unwrap_or(""),
                age: i64::from(age_on(birth, on)),
                ethnicity: person.ethnicity.as_deref(),
                id_number_masked: &person.id_number_masked,
                standing: Stage::parse(&person.stage).map(Stage::label).unwrap_or(""),
                from_org_name: &from.name,
                to_org_name: external.as_deref().unwrap_or(""),
                issuer_name: &issuer.name,
                issuer_phone: issuer.contact_phone.as_deref(),
                fee_paid_through: fee.as_deref(),
                user_id: Some(actor.user_id).filter(|u| *u > 0),
                now: t,
            };
            self.insert_letter(&mut tx, &letter).await?;
            detail.push_str(&format!(" letter:{number}"));
        }
        audit::append(&mut tx, event(actor, ctx, "transfer.create", format!("transfer:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.one(actor, id).await
    }

    /// The validity of a letter (TRF-02: default 30 days, at most 90), or the rule's message under `field`.
    fn validity(&self, errors: &mut FieldErrors, name: &str, days: Option<u32>, on: Date) -> i64 {
        let days = days.unwrap_or(trf::DEFAULT_VALIDITY_DAYS);
        if days == 0 {
            errors.insert(name.into(), "有效期至少1天".into());
        }
        let a = trf::assess(&TransferCase {
            letter_issued_on: Some(on),
            validity_days: Some(days),
            ..TransferCase::new(on)
        });
        if let Some(f) = a.violations.iter().find(|f| f.code == "validity_too_long") {
            errors.insert(name.into(), cited(f));
        }
        i64::from(days)
    }

    async fn insert_letter(&self, tx: &mut kernel::DbTx, l: &LetterWrite<'_>) -> Result<i64> {
        match store::insert_letter(tx, l).await {
            Err(DbError::Conflict { .. }) => Err(Error::Conflict("介绍信编号冲突（他人同时开具），请重试")),
            other => Ok(other?),
        }
    }

    /// The committee that issues a letter for a branch: its nearest 二级党委 or 党委 (a base committee with the
    /// power to transfer relationships, TRF-01), or the branch itself when there is none above.
    async fn issuer_of(&self, from: &Org) -> Result<Org> {
        let ids = path_ids(&from.path);
        let rows = platform::store::orgs_by_ids(self.db(), &ids).await?;
        let mut orgs: Vec<Org> = rows.into_iter().map(Org::from_row).collect();
        orgs.sort_by_key(|o| std::cmp::Reverse(o.depth));
        Ok(orgs
            .iter()
            .find(|o| matches!(o.kind, OrgKind::CollegeCommittee | OrgKind::Committee))
            .cloned()
            .unwrap_or_else(|| from.clone()))
    }

    /// The next outgoing letter number of the issue year, `YYYY-NNNN`.
    async fn next_number(&self, tx: &mut kernel::DbTx, on: Date) -> Result<String> {
        let n = store::letters_in_year(tx, on.year()).await?;
        Ok(format!("{}-{:04}", on.year(), n + 1))
    }

    /// The receiving side accepts: the person moves with her head counts, in one transaction.
    pub async fn accept(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &DecisionInput) -> Result<Transfer> {
        let row = self.visible(ctx, actor, id, "transfer.accept").await?;
        let side = if row.kind == TransferKind::Internal.code() { &row.to_org_path } else { &row.from_org_path };
        if !Self::writes(actor, side) {
            return Err(self.refuse(ctx, actor, "transfer.accept", &format!("transfer:{id}")).await?);
        }
        if row.kind != TransferKind::Internal.code() {
            return Err(Error::Conflict("转出到校外的转接以收到回执办结，转入的已办结；只有校内转接由接收方接收"));
        }
        if row.state != TransferState::Pending.code() {
            return Err(Error::Conflict("该转接已办结，不能再接收"));
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        let on = past_date(&mut errors, "on", &input.on, as_of, as_of);
        if on < row.initiated_on {
            errors.insert("on".into(), format!("接收日期不能早于发起日期{}", iso(row.initiated_on)));
        }
        let note = optional_text(&mut errors, "reason", &input.reason);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let (Some(from_id), Some(to_id), Some(to_path)) = (row.from_org_id, row.to_org_id, row.to_org_path.clone())
        else {
            return Err(Error::NotFound);
        };
        let t = now();
        let mut tx = self.db().begin().await?;
        let user = Some(actor.user_id).filter(|u| *u > 0);
        if !store::close_transfer(&mut tx, id, TransferState::Accepted.code(), on, user, None, note.as_deref(), t)
            .await?
        {
            return Err(Error::Conflict("该转接已被他人办理，请刷新后查看"));
        }
        // The person must still be where the transfer found her; otherwise nothing of the above stays.
        let person = platform::store::get_person_tx(&mut tx, row.person_id).await?.ok_or(Error::NotFound)?;
        if person.org_id != from_id
            || !platform::store::move_person(&mut tx, row.person_id, from_id, to_id, &to_path, t).await?
        {
            return Err(Error::Conflict("该同志所在党组织在转接期间已变更，请转出方撤回后重新发起"));
        }
        platform::store::add_counts(&mut tx, &path_ids(&person.org_path), &person.stage, &person.category, -1).await?;
        platform::store::add_counts(&mut tx, &path_ids(&to_path), &person.stage, &person.category, 1).await?;
        let detail = format!("person:{} from org:{from_id} to org:{to_id}", row.person_id);
        audit::append(&mut tx, event(actor, ctx, "transfer.accept", format!("transfer:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.platform.people_changed().await;
        self.one(actor, id).await
    }

    /// The receiving side returns it with a reason; nothing else changes.
    pub async fn send_back(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &DecisionInput) -> Result<Transfer> {
        let row = self.visible(ctx, actor, id, "transfer.return").await?;
        let side = if row.kind == TransferKind::Internal.code() { &row.to_org_path } else { &row.from_org_path };
        if !Self::writes(actor, side) {
            return Err(self.refuse(ctx, actor, "transfer.return", &format!("transfer:{id}")).await?);
        }
        if row.kind != TransferKind::Internal.code() {
            return Err(Error::Conflict("只有校内转接由接收方退回"));
        }
        self.close(ctx, actor, &row, TransferState::Returned, input, "transfer.return").await
    }

    /// The sender withdraws a pending transfer (an outgoing letter becomes void).
    pub async fn cancel(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &DecisionInput) -> Result<Transfer> {
        let row = self.visible(ctx, actor, id, "transfer.cancel").await?;
        if !Self::writes(actor, &row.from_org_path) {
            return Err(self.refuse(ctx, actor, "transfer.cancel", &format!("transfer:{id}")).await?);
        }
        self.close(ctx, actor, &row, TransferState::Cancelled, input, "transfer.cancel").await
    }

    async fn close(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        row: &TransferRow,
        to: TransferState,
        input: &DecisionInput,
        action: &str,
    ) -> Result<Transfer> {
        if row.state != TransferState::Pending.code() {
            return Err(Error::Conflict("该转接已办结"));
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        let on = past_date(&mut errors, "on", &input.on, as_of, as_of);
        let reason = if to == TransferState::Returned {
            required_text(&mut errors, "reason", &input.reason, "退回原因")
        } else {
            optional_text(&mut errors, "reason", &input.reason)
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let t = now();
        let mut tx = self.db().begin().await?;
        let user = Some(actor.user_id).filter(|u| *u > 0);
        let (return_reason, note) =
            if to == TransferState::Returned { (reason.as_deref(), None) } else { (None, reason.as_deref()) };
        if !store::close_transfer(&mut tx, row.id, to.code(), on, user, return_reason, note, t).await? {
            return Err(Error::Conflict("该转接已被他人办理，请刷新后查看"));
        }
        if row.kind == TransferKind::Out.code() {
            store::retire_letters(&mut tx, row.id, LetterState::Void.code()).await?;
        }
        let detail = format!("person:{}", row.person_id);
        audit::append(&mut tx, event(actor, ctx, action, format!("transfer:{}", row.id), "ok", detail)).await?;
        tx.commit().await?;
        self.one(actor, row.id).await
    }

    /// The receipt of an outgoing letter came back: the transfer closes and the person is 已转出 (her record
    /// stays with its history); a graduate's retention ends.
    pub async fn receipt(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ReceiptInput) -> Result<Transfer> {
        let row = self.visible(ctx, actor, id, "transfer.receipt").await?;
        if !Self::writes(actor, &row.from_org_path) && !Self::writes(actor, &row.to_org_path) {
            return Err(self.refuse(ctx, actor, "transfer.receipt", &format!("transfer:{id}")).await?);
        }
        if row.kind != TransferKind::Out.code() {
            return Err(Error::Conflict("只有转出到校外的转接需要登记回执"));
        }
        if row.state != TransferState::Pending.code() {
            return Err(Error::Conflict("该转接已办结"));
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        let on = past_date(&mut errors, "received_on", &input.received_on, as_of, as_of);
        if on < row.initiated_on {
            errors.insert("received_on".into(), format!("回执日期不能早于介绍信开具日期{}", iso(row.initiated_on)));
        }
        let note = optional_text(&mut errors, "note", &input.note);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let t = now();
        let user = Some(actor.user_id).filter(|u| *u > 0);
        let mut tx = self.db().begin().await?;
        if !store::record_receipt(&mut tx, id, on, note.as_deref(), user, t).await? {
            return Err(Error::Conflict("该转接已被他人办理，请刷新后查看"));
        }
        let person = platform::store::get_person_tx(&mut tx, row.person_id).await?.ok_or(Error::NotFound)?;
        let out = Status::TransferredOut.code();
        if !platform::store::set_person_status(&mut tx, row.person_id, &person.status, out, t).await? {
            return Err(Error::Conflict("该同志的党籍状态刚被他人修改，请刷新后重试"));
        }
        let reason = format!(
            "组织关系转至{}，回执已于{}收到",
            row.external_org.as_deref().unwrap_or("校外党组织"),
            kernel::dates::chinese(on)
        );
        store::insert_status_change(
            &mut tx,
            &store::StatusWrite {
                person_id: row.person_id,
                from_status: &person.status,
                to_status: out,
                effective_on: on,
                reason: &reason,
                place: row.external_org.as_deref(),
                fixed_place: None,
                expected_until: None,
                certificate_no: None,
                decided_by: None,
                user_id: user,
                now: t,
            },
        )
        .await?;
        store::end_retention(&mut tx, row.person_id, on, "组织关系已转出").await?;
        let detail = format!("person:{} received_on:{}", row.person_id, iso(on));
        audit::append(&mut tx, event(actor, ctx, "transfer.receipt", format!("transfer:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.platform.people_changed().await;
        self.one(actor, id).await
    }

    /// A new letter for an expired one, within 6 months of the transfer out (TRF-03); the old one is
    /// superseded.
    pub async fn reissue(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ReissueInput) -> Result<Transfer> {
        let row = self.visible(ctx, actor, id, "transfer.reissue").await?;
        if !Self::writes(actor, &row.from_org_path) && !Self::writes(actor, &row.to_org_path) {
            return Err(self.refuse(ctx, actor, "transfer.reissue", &format!("transfer:{id}")).await?);
        }
        if row.kind != TransferKind::Out.code() {
            return Err(Error::Conflict("只有转出到校外的介绍信可以补开"));
        }
        if row.state != TransferState::Pending.code() {
            return Err(Error::Conflict("该转接已办结，不能补开介绍信"));
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        let reason = required_text(&mut errors, "reason", &input.reason, "补开原因");
        let on = past_date(&mut errors, "issued_on", &input.issued_on, as_of, as_of);
        let valid_days = self.validity(&mut errors, "valid_days", input.valid_days, on);
        let letters = store::letters_of(self.db(), &[id]).await?;
        let Some(current) = letters.iter().rev().find(|l| l.state == LetterState::Current.code()).cloned() else {
            return Err(Error::Conflict("该转接没有有效的介绍信"));
        };
        if on <= current.valid_until {
            errors.insert(
                "issued_on".into(),
                format!("原介绍信有效期至{}，尚未过期，无需补开", kernel::dates::chinese(current.valid_until)),
            );
        } else {
            let a = trf::assess(&TransferCase {
                transferred_out_on: Some(row.initiated_on),
                reissue_requested_on: Some(on),
                ..TransferCase::new(on)
            });
            if let Some(f) = a.violations.iter().find(|f| f.code == "reissue_too_late") {
                errors.insert("issued_on".into(), cited(f));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let reason = reason.unwrap_or_default();
        let t = now();
        let mut tx = self.db().begin().await?;
        store::retire_letters(&mut tx, id, LetterState::Superseded.code()).await?;
        let number = self.next_number(&mut tx, on).await?;
        let letter = LetterWrite {
            transfer_id: id,
            direction: "out",
            number: &number,
            issued_on: on,
            valid_days,
            valid_until: trf::letter_valid_until(on, valid_days as u32).unwrap_or(on),
            replaces_id: Some(current.id),
            reissue_reason: Some(&reason),
            presented_on: None,
            person_name: &current.person_name,
            gender: &current.gender,
            age: current.age,
            ethnicity: current.ethnicity.as_deref(),
            id_number_masked: &current.id_number_masked,
            standing: &current.standing,
            from_org_name: &current.from_org_name,
            to_org_name: &current.to_org_name,
            issuer_name: &current.issuer_name,
            issuer_phone: current.issuer_phone.as_deref(),
            fee_paid_through: current.fee_paid_through.as_deref(),
            user_id: Some(actor.user_id).filter(|u| *u > 0),
            now: t,
        };
        self.insert_letter(&mut tx, &letter).await?;
        store::touch_transfer(&mut tx, id, t).await?;
        let detail = format!("person:{} letter:{number} replaces:{}", row.person_id, current.number);
        audit::append(&mut tx, event(actor, ctx, "transfer.reissue", format!("transfer:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.one(actor, id).await
    }

    /// Records an incoming letter and places the person in the receiving branch, in one transaction. An
    /// expired letter is refused (TRF-02: it must be reissued by the sender).
    pub async fn incoming(&self, ctx: &Ctx, actor: &Actor, input: &IncomingInput) -> Result<Transfer> {
        if !actor.can_somewhere(Capability::TransferWrite) {
            return Err(self.refuse(ctx, actor, "transfer.incoming", "transfer:new").await?);
        }
        let as_of = today();
        let mut errors = FieldErrors::new();
        let from = required_text(&mut errors, "from_org", &input.from_org, "开出介绍信的党组织");
        let number = required_text(&mut errors, "letter_number", &input.letter_number, "介绍信编号");
        let issued = match text(&input.issued_on) {
            None => {
                errors.insert("issued_on".into(), "请填写介绍信开具日期".into());
                None
            }
            Some(_) => Some(past_date(&mut errors, "issued_on", &input.issued_on, as_of, as_of)),
        };
        let presented = past_date(&mut errors, "presented_on", &input.presented_on, as_of, as_of);
        let valid_days = self.validity(&mut errors, "valid_days", input.valid_days, issued.unwrap_or(as_of));
        let fee = optional_month(&mut errors, "fee_paid_through", &input.fee_paid_through, as_of);
        let reason = required_text(&mut errors, "reason", &input.reason, "转入原因");
        let note = optional_text(&mut errors, "note", &input.note);
        if let Some(issued) = issued.filter(|_| !errors.contains_key("valid_days")) {
            let a = trf::assess(&TransferCase {
                letter_issued_on: Some(issued),
                validity_days: u32::try_from(valid_days).ok(),
                presented_on: Some(presented),
                ..TransferCase::new(presented)
            });
            if let Some(f) = a.violations.iter().find(|f| matches!(f.code, "letter_expired" | "out_of_order")) {
                errors.insert("presented_on".into(), cited(f));
            }
        }
        let prepared = match &input.person {
            None => {
                errors.insert("person".into(), "请填写转入人员的信息".into());
                None
            }
            Some(p) => match self.platform.prepare_person(ctx, actor, p).await {
                Ok(prep) => Some(prep),
                Err(platform::Error::Invalid(fields)) => {
                    for (k, v) in fields {
                        errors.insert(format!("person.{k}"), v);
                    }
                    None
                }
                Err(platform::Error::Forbidden) => {
                    return Err(self.refuse(ctx, actor, "transfer.incoming", "transfer:new").await?);
                }
                Err(e) => return Err(e.into()),
            },
        };
        if let Some(p) = &prepared {
            if !actor.can(Capability::TransferWrite, &p.org.path) {
                return Err(self.refuse(ctx, actor, "transfer.incoming", &format!("org:{}", p.org.id)).await?);
            }
            if !matches!(p.valid.stage, Stage::Probationary | Stage::Full) {
                errors.insert("person.stage".into(), "凭组织关系介绍信转入的应为正式党员或预备党员".into());
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let (Some(from), Some(number), Some(issued), Some(reason), Some(p)) = (from, number, issued, reason, prepared)
        else {
            return Err(Error::Invalid(errors));
        };
        let t = now();
        let user = Some(actor.user_id).filter(|u| *u > 0);
        let mut tx = self.db().begin().await?;
        let pid = self.platform.insert_prepared(&mut tx, ctx, actor, &p).await?;
        let id = store::insert_transfer(
            &mut tx,
            &TransferWrite {
                person_id: pid,
                kind: TransferKind::In.code(),
                state: TransferState::Accepted.code(),
                from_org_id: None,
                from_org_path: None,
                to_org_id: Some(p.org.id),
                to_org_path: Some(&p.org.path),
                external_org: Some(&from),
                reason: &reason,
                note: note.as_deref(),
                initiated_on: issued,
                fee_paid_through: fee.as_deref(),
                decided_on: Some(presented),
                decided_by: user,
                user_id: user,
                now: t,
            },
        )
        .await?;
        let v = &p.valid;
        let letter = LetterWrite {
            transfer_id: id,
            direction: "in",
            number: &number,
            issued_on: issued,
            valid_days,
            valid_until: trf::letter_valid_until(issued, valid_days as u32).unwrap_or(issued),
            replaces_id: None,
            reissue_reason: None,
            presented_on: Some(presented),
            person_name: &v.name,
            gender: v.gender.label(),
            age: i64::from(age_on(v.birth_date, issued)),
            ethnicity: v.ethnicity.as_deref(),
            id_number_masked: &security::mask::id_number(v.id_number.as_str()),
            standing: v.stage.label(),
            from_org_name: &from,
            to_org_name: &p.org.name,
            issuer_name: &from,
            issuer_phone: None,
            fee_paid_through: fee.as_deref(),
            user_id: user,
            now: t,
        };
        match store::insert_letter(&mut tx, &letter).await {
            Err(DbError::Conflict { .. }) => return Err(field("letter_number", "该编号的介绍信已经登记过，请核对")),
            other => other?,
        };
        let detail = format!("person:{pid} to org:{} letter:{number}", p.org.id);
        audit::append(&mut tx, event(actor, ctx, "transfer.incoming", format!("transfer:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.platform.people_changed().await;
        self.one(actor, id).await
    }

    /// The letter to print: the current outgoing one, or the one named. Reading it is audited (it carries
    /// personal items).
    pub async fn letter(&self, ctx: &Ctx, actor: &Actor, id: i64, letter_id: Option<i64>) -> Result<LetterRow> {
        let row = self.visible(ctx, actor, id, "transfer.letter").await?;
        let on = |p: &Option<String>| p.as_deref().is_some_and(|p| actor.can(Capability::TransferRead, p));
        if !on(&row.from_org_path) && !on(&row.to_org_path) {
            // The person herself reads the transfer, not the letter (it is handed over by the committee).
            return Err(self.deny(ctx, actor, "transfer.letter", &format!("transfer:{id}")).await?);
        }
        let letters = store::letters_of(self.db(), &[id]).await?;
        let letter = match letter_id {
            Some(l) => letters.into_iter().find(|x| x.id == l),
            None => letters.into_iter().rev().find(|x| x.direction == "out" && x.state == LetterState::Current.code()),
        }
        .ok_or(Error::NotFound)?;
        audit::append_alone(
            self.db(),
            event(actor, ctx, "transfer.letter", format!("transfer:{id}"), "ok", format!("letter:{}", letter.number)),
        )
        .await?;
        Ok(letter)
    }

    /// The code printed in a letter's verification QR code: its id and a keyed MAC of what it certifies.
    pub fn verification_code(&self, l: &LetterRow) -> String {
        let mac = self.platform.sign("transfer.letter", &format!("{}|{}|{}", l.id, l.number, iso(l.issued_on)));
        format!("{}-{}", l.id, hex_of(&mac[..8.min(mac.len())]))
    }

    /// What a verification code certifies, if it is genuine: the letter and its transfer's state.
    pub async fn verify(&self, code: &str) -> Result<Option<(LetterRow, TransferState)>> {
        let Some((id, _)) = code.split_once('-') else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let Some(transfer_id) = self.transfer_of_letter(id).await? else {
            return Ok(None);
        };
        let letters = store::letters_of(self.db(), &[transfer_id]).await?;
        let Some(letter) = letters.into_iter().find(|l| l.id == id && l.direction == "out") else {
            return Ok(None);
        };
        // Constant-time comparison of the whole code.
        let expected = self.verification_code(&letter);
        if expected.len() != code.len() || !expected.bytes().zip(code.bytes()).fold(true, |ok, (a, b)| ok & (a == b)) {
            return Ok(None);
        }
        let state = store::get_transfer(self.db(), transfer_id)
            .await?
            .and_then(|t| TransferState::parse(&t.state))
            .unwrap_or(TransferState::Pending);
        Ok(Some((letter, state)))
    }

    async fn transfer_of_letter(&self, letter_id: i64) -> Result<Option<i64>> {
        Ok(store::transfer_of_letter(self.db(), letter_id).await?)
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A finding's message with its sources, for a field error.
fn cited(f: &Finding) -> String {
    if f.citations.is_empty() { f.message.clone() } else { format!("{}（{}）", f.message, f.citations.join("；")) }
}

/// A transfer row as the API shows it, with what the caller may do and today's findings.
fn transfer_of(actor: &Actor, r: TransferRow, letters: Vec<LetterRow>, as_of: Date) -> Transfer {
    let kind = TransferKind::parse(&r.kind).unwrap_or(TransferKind::Internal);
    let state = TransferState::parse(&r.state).unwrap_or(TransferState::Pending);
    let pending = state == TransferState::Pending;
    let writes = |p: &Option<String>| p.as_deref().is_some_and(|p| actor.can(Capability::TransferWrite, p));
    let current = letters.iter().rev().find(|l| l.direction == "out" && l.state == LetterState::Current.code());
    let (flags, deadlines) = match (kind, pending, current) {
        (TransferKind::Out, true, Some(l)) => {
            let a = pending_out_flags(r.initiated_on, l, as_of);
            let mut flags = a.violations;
            // Still waiting: say until when the letter is valid, as a reminder rather than a breach.
            if flags.is_empty() {
                flags.push(Finding {
                    code: "awaiting_receipt",
                    rule: "TRF-02",
                    severity: Severity::Warning,
                    message: format!(
                        "转出待接收：介绍信有效期至{}，收到回执后办结；原党组织在接收前仍负责管理",
                        kernel::dates::chinese(l.valid_until)
                    ),
                    citations: vec![crate::rules::cite::ZUTONG_2006_45, crate::rules::cite::JYGL_ART25],
                });
            }
            (flags, a.deadlines)
        }
        _ => (Vec::new(), Default::default()),
    };
    let expired = current.is_some_and(|l| as_of > l.valid_until);
    let within_window = as_of <= kernel::dates::add_months(r.initiated_on, trf::REISSUE_MONTHS);
    Transfer {
        id: r.id,
        kind,
        kind_label: kind.label(),
        state,
        state_label: state_label(kind, state),
        person: TransferPerson {
            id: r.person_id,
            name: r.p_name,
            gender_label: Gender::parse(&r.p_gender).map(Gender::label).unwrap_or("").into(),
            stage_label: Stage::parse(&r.p_stage).map(Stage::label).unwrap_or("").into(),
            category_label: PersonCategory::parse(&r.p_category).map(PersonCategory::label).unwrap_or("").into(),
            status: Status::parse(&r.p_status).unwrap_or(Status::Normal),
            id_number_masked: r.p_id_masked,
        },
        from_org_id: r.from_org_id,
        from_org_name: r.from_org_name,
        to_org_id: r.to_org_id,
        to_org_name: r.to_org_name,
        external_org: r.external_org,
        reason: r.reason,
        note: r.note,
        initiated_on: r.initiated_on,
        fee_paid_through: r.fee_paid_through,
        decided_on: r.decided_on,
        return_reason: r.return_reason,
        receipt_on: r.receipt_on,
        receipt_note: r.receipt_note,
        letters: letters
            .into_iter()
            .map(|l| {
                let st = LetterState::parse(&l.state).unwrap_or(LetterState::Current);
                Letter {
                    id: l.id,
                    direction: l.direction,
                    number: l.number,
                    issued_on: l.issued_on,
                    valid_days: l.valid_days,
                    valid_until: l.valid_until,
                    state: st,
                    state_label: st.label(),
                    reissue_reason: l.reissue_reason,
                    from_org_name: l.from_org_name,
                    to_org_name: l.to_org_name,
                    issuer_name: l.issuer_name,
                    fee_paid_through: l.fee_paid_through,
                }
            })
            .collect(),
        flags,
        deadlines,
        can_accept: pending && kind == TransferKind::Internal && writes(&r.to_org_path),
        can_cancel: pending && kind != TransferKind::In && writes(&r.from_org_path),
        can_receipt: pending && kind == TransferKind::Out && writes(&r.from_org_path),
        can_reissue: pending && kind == TransferKind::Out && writes(&r.from_org_path) && expired && within_window,
        version: r.version,
    }
}
