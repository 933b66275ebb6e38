//! The actions on member-service requests and certificates: authorise → validate → transaction → store →
//! audit → commit.
//!
//! Who sees a request: the member who filed it, and whoever holds `ServiceRead` over the organization it was
//! filed in (her branch secretary, the staff above, leaders read-only). Anyone else gets "not found", audited
//! as a refusal. Accepting, refusing and completing need `ServiceWrite` there; cancelling is the member's own.

use kernel::Db;
use platform::model::{Gender, Stage, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;

use super::model::*;
use super::store::{self, CertificateRow, PersonRow, RequestRow};
use crate::model::FieldErrors;
use crate::service::{Error, Result, event, now};

/// The most requests one list section returns.
pub const LIST_LIMIT: i64 = 200;

/// Member services over the platform's database and callers.
pub struct Services<'a> {
    platform: &'a Platform,
}

/// How the caller stands to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Standing {
    own: bool,
    reads: bool,
    handles: bool,
}

impl Standing {
    fn of(actor: &Actor, r: &RequestRow) -> Standing {
        Standing {
            own: actor.person_id == Some(r.person_id),
            reads: actor.can(Capability::ServiceRead, &r.org_path),
            handles: actor.can(Capability::ServiceWrite, &r.org_path),
        }
    }

    fn sees(self) -> bool {
        self.own || self.reads
    }

    fn may(self, action: RequestAction) -> bool {
        match action {
            RequestAction::Cancel => self.own,
            _ => self.handles,
        }
    }
}

/// "正式党员" / "预备党员" for someone who may hold a proof of membership; `None` for anyone else (not yet a
/// member, or no longer in the register: 党籍 suspended, left, deceased, transferred out).
fn standing_of(p: &PersonRow) -> Option<&'static str> {
    let active = !matches!(p.status.as_str(), "suspended" | "deceased" | "left" | "transferred_out");
    match Stage::parse(&p.stage) {
        Some(s @ (Stage::Full | Stage::Probationary)) if active => Some(s.label()),
        _ => None,
    }
}

fn summary_of(r: RequestRow) -> RequestSummary {
    let kind = RequestKind::parse(&r.kind).unwrap_or(RequestKind::Other);
    let state = RequestState::parse(&r.state).unwrap_or(RequestState::Submitted);
    RequestSummary {
        id: r.id,
        person_name: r.person_name,
        org_name: r.org_name,
        kind,
        kind_label: kind.label(),
        state,
        state_label: state.label(),
        created_at: r.created_at,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

impl<'a> Services<'a> {
    pub fn new(platform: &'a Platform) -> Services<'a> {
        Services { platform }
    }

    pub(super) fn db(&self) -> &Db {
        &self.platform.db
    }

    pub(super) async fn refusal(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        action: &str,
        target: &str,
        answer: Error,
    ) -> Result<Error> {
        audit::append_alone(self.db(), event(actor, ctx, action, target.into(), "denied", String::new())).await?;
        Ok(answer)
    }

    /// The certificate number of a request issued on a day: the year, the request's number and a keyed MAC, so
    /// numbers cannot be guessed from one another (the verification page is public).
    pub fn certificate_number(&self, request_id: i64, issued_on: time::Date) -> String {
        let mac = self.platform.sign("life.certificate", &format!("{request_id}|{}", kernel::dates::iso(issued_on)));
        format!("{}-{request_id:06}-{}", issued_on.year(), hex(&mac[..4.min(mac.len())]))
    }

    /// A member files a request; it goes to the organization she belongs to.
    pub async fn file(&self, ctx: &Ctx, actor: &Actor, input: &RequestInput) -> Result<ServiceRequest> {
        let person = match actor.person_id {
            Some(p) => store::person(self.db(), p).await?,
            None => None,
        };
        let Some(person) = person else {
            // Only someone in the register files requests (an administrator's account is no one's).
            return Err(self.refusal(ctx, actor, "service.file", "service_request:new", Error::Forbidden).await?);
        };
        let v = validate_request(input).map_err(Error::Invalid)?;
        if v.kind.certifies() && standing_of(&person).is_none() {
            return Err(Error::Invalid(FieldErrors::from([(
                "kind".into(),
                "只有正式党员和预备党员可以申请开具党员身份证明或组织关系证明".into(),
            )])));
        }
        let t = now();
        let user_id = Some(actor.user_id).filter(|id| *id > 0);
        let mut tx = self.db().begin().await?;
        let write = store::RequestWrite {
            person_id: person.id,
            org_id: person.org_id,
            org_path: &person.org_path,
            kind: v.kind.code(),
            details: &v.details,
            user_id,
            now: t,
        };
        let id = store::insert_request(&mut tx, &write).await?;
        store::add_event(&mut tx, id, RequestState::Submitted.code(), None, user_id, &actor.display_name, t).await?;
        let detail = serde_json::json!({"kind": v.kind.code(), "org_id": person.org_id});
        audit::append(
            &mut tx,
            event(actor, ctx, "service.file", format!("service_request:{id}"), "ok", detail.to_string()),
        )
        .await?;
        tx.commit().await?;
        self.get(ctx, actor, id).await
    }

    async fn visible(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<(RequestRow, Standing)> {
        let target = format!("service_request:{id}");
        let Some(r) = store::get_request(self.db(), id).await? else {
            return Err(Error::NotFound);
        };
        let s = Standing::of(actor, &r);
        if !s.sees() {
            return Err(self.refusal(ctx, actor, action, &target, Error::NotFound).await?);
        }
        Ok((r, s))
    }

    /// One request with its history, as the caller may see it (404 otherwise, audited).
    pub async fn get(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<ServiceRequest> {
        let (r, s) = self.visible(ctx, actor, id, "service.view").await?;
        let history = store::history(self.db(), id).await?;
        let certificate = store::certificate_of_request(self.db(), id).await?.map(|c| {
            let kind = RequestKind::parse(&c.kind).unwrap_or(RequestKind::MembershipProof);
            CertificateInfo {
                number: c.number,
                title: kind.certificate_title(),
                state: CertificateState::parse(&c.state).unwrap_or(CertificateState::Valid),
                issued_on: c.issued_on,
                revoke_reason: c.revoke_reason,
            }
        });
        let kind = RequestKind::parse(&r.kind).unwrap_or(RequestKind::Other);
        let state = RequestState::parse(&r.state).unwrap_or(RequestState::Submitted);
        let actions =
            RequestAction::ALL.iter().copied().filter(|a| s.may(*a) && next_state(state, *a).is_some()).collect();
        Ok(ServiceRequest {
            id: r.id,
            person_id: r.person_id,
            person_name: r.person_name,
            org_id: r.org_id,
            org_name: r.org_name,
            kind,
            kind_label: kind.label(),
            details: r.details,
            state,
            state_label: state.label(),
            note: r.note,
            created_at: r.created_at,
            updated_at: r.updated_at,
            history,
            certificate,
            actions,
            version: r.version,
        })
    }

    /// Accept, refuse, complete (the handler) or cancel (the member) a request. `version`, when given, refuses a
    /// lost update (409). Completing a proof request issues its certificate in the same transaction.
    pub async fn act(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        action: RequestAction,
        input: &HandleInput,
        version: Option<i64>,
    ) -> Result<ServiceRequest> {
        let audit_action = format!("service.{}", action.code());
        let target = format!("service_request:{id}");
        let (r, s) = self.visible(ctx, actor, id, &audit_action).await?;
        if !s.may(action) {
            return Err(self.refusal(ctx, actor, &audit_action, &target, Error::Forbidden).await?);
        }
        let note = validate_note(action, input).map_err(Error::Invalid)?;
        let from = RequestState::parse(&r.state).unwrap_or(RequestState::Submitted);
        let Some(to) = next_state(from, action) else {
            return Err(Error::Conflict("该申请当前的状态不能执行这一操作"));
        };
        if version.is_some_and(|v| v != r.version) {
            return Err(Error::Conflict("该申请已被他人处理，请刷新后再试"));
        }
        let kind = RequestKind::parse(&r.kind).unwrap_or(RequestKind::Other);
        let t = now();
        let user_id = Some(actor.user_id).filter(|id| *id > 0);
        // The person a certificate is about, read before the transaction (which never waits for a second
        // connection).
        let certified = match to == RequestState::Completed && kind.certifies() {
            true => Some(store::person(self.db(), r.person_id).await?.ok_or(Error::NotFound)?),
            false => None,
        };
        let mut tx = self.db().begin().await?;
        if !store::move_request(&mut tx, id, r.version, to.code(), note.as_deref(), t).await? {
            return Err(Error::Conflict("该申请已被他人处理，请刷新后再试"));
        }
        store::add_event(&mut tx, id, to.code(), note.as_deref(), user_id, &actor.display_name, t).await?;
        let mut detail = serde_json::json!({"from": from.code(), "to": to.code()});
        if let Some(person) = certified {
            let Some(standing) = standing_of(&person) else {
                return Err(Error::Conflict(
                    "该同志目前不是正式党员或预备党员，不能开具证明，请选择不予办理并说明原因",
                ));
            };
            let issued_on = kernel::dates::today();
            let number = self.certificate_number(id, issued_on);
            let gender = Gender::parse(&person.gender).map_or(person.gender.clone(), |g| g.label().to_string());
            let person = PersonRow { gender, ..person };
            let cert = store::CertificateWrite {
                number: &number,
                request_id: id,
                person: &person,
                kind: kind.code(),
                standing,
                org_id: r.org_id,
                org_name: &r.org_name,
                issued_on,
                user_id,
                now: t,
            };
            store::insert_certificate(&mut tx, &cert).await?;
            detail["certificate"] = serde_json::json!(number);
        }
        audit::append(&mut tx, event(actor, ctx, &audit_action, target, "ok", detail.to_string())).await?;
        tx.commit().await?;
        self.get(ctx, actor, id).await
    }

    /// The requests the caller sees: her own, and those filed where she handles them.
    pub async fn list(&self, actor: &Actor) -> Result<RequestList> {
        let mine = match actor.person_id {
            Some(p) => store::requests_of_person(self.db(), p, LIST_LIMIT).await?.into_iter().map(summary_of).collect(),
            None => Vec::new(),
        };
        let roots: Vec<String> = match actor.scope(Capability::ServiceRead) {
            platform::access::Scope::Everywhere => vec!["/".into()],
            platform::access::Scope::Subtrees(paths) => paths,
        };
        let mut rows: Vec<RequestRow> = Vec::new();
        for root in &roots {
            for r in store::requests_in(self.db(), root, &subtree_end(root), LIST_LIMIT).await? {
                if !rows.iter().any(|k| k.id == r.id) {
                    rows.push(r);
                }
            }
        }
        let open = |r: &RequestRow| matches!(r.state.as_str(), "submitted" | "accepted");
        rows.sort_by(|a, b| open(b).cmp(&open(a)).then(b.created_at.cmp(&a.created_at)).then(b.id.cmp(&a.id)));
        rows.truncate(LIST_LIMIT as usize);
        Ok(RequestList { mine, to_handle: rows.into_iter().map(summary_of).collect() })
    }

    /// The certificate of a request the caller sees (for its PDF); 404 when none was issued.
    pub async fn certificate(&self, ctx: &Ctx, actor: &Actor, request_id: i64) -> Result<CertificateRow> {
        self.visible(ctx, actor, request_id, "certificate.download").await?;
        store::certificate_of_request(self.db(), request_id).await?.ok_or(Error::NotFound)
    }

    /// Revokes (收回) a valid certificate with a reason; whoever handles its organization's requests.
    pub async fn revoke(&self, ctx: &Ctx, actor: &Actor, number: &str, input: &RevokeInput) -> Result<CertificateRow> {
        let target = format!("certificate:{number}");
        let Some(c) = store::certificate_by_number(self.db(), number).await? else {
            return Err(Error::NotFound);
        };
        if !actor.can(Capability::ServiceWrite, &c.org_path) {
            let answer = if actor.can(Capability::ServiceRead, &c.org_path) || actor.person_id == Some(c.person_id) {
                Error::Forbidden
            } else {
                Error::NotFound
            };
            return Err(self.refusal(ctx, actor, "certificate.revoke", &target, answer).await?);
        }
        let reason = validate_revoke(input).map_err(Error::Invalid)?;
        let mut tx = self.db().begin().await?;
        if !store::revoke_certificate(&mut tx, c.id, &reason, now()).await? {
            return Err(Error::Conflict("该证明已经收回"));
        }
        let detail = serde_json::json!({"request_id": c.request_id});
        audit::append(&mut tx, event(actor, ctx, "certificate.revoke", target, "ok", detail.to_string())).await?;
        tx.commit().await?;
        store::certificate_by_number(self.db(), number).await?.ok_or(Error::NotFound)
    }

    /// What the public verification page shows for a number, if a certificate has it.
    pub async fn verify(&self, number: &str) -> Result<Option<Verification>> {
        let number: String = number.chars().take(40).collect();
        Ok(store::certificate_by_number(self.db(), &number).await?.map(|c| {
            let kind = RequestKind::parse(&c.kind).unwrap_or(RequestKind::MembershipProof);
            Verification {
                number: c.number,
                title: kind.certificate_title(),
                valid: c.state == CertificateState::Valid.code(),
                masked_name: mask_name(&c.person_name),
                org_name: c.org_name,
                issued_on: c.issued_on,
            }
        }))
    }
}
