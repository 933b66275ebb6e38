//! A member's copy of everything held about her (PIPL 第四十五条; security.md AT-36): her record with the
//! sealed items in full (they are hers), her account, its sign-ins, who looked at her record, and each
//! application's rows through [`PersonData`] providers; with the purpose of every item. Audited.

use security::audit;
use serde_json::{Value, json};

use super::{COL_ADDRESS, COL_ID_NUMBER, COL_PHONE, Ctx, Error, Platform, Result, event, now};
use crate::access::Actor;
use crate::model::Person;
use crate::privacy::{PURPOSES, PersonData};
use crate::store;

/// The tables the platform itself covers in a member's copy.
pub const PLATFORM_TABLES: &[&str] =
    &["people", "users", "grants", "sessions", "audit_log", "privacy_requests", "posthumous_arrangements"];

/// The tables the platform itself erases or pseudonymises in a deletion (service/rights.rs, AT-37), besides the
/// providers' (`audit_log` is append-only: its entries name accounts and record numbers, never a person's name,
/// ID number or phone, and are kept for the period the law sets, docs/SECURITY.md).
pub const PLATFORM_ERASED_TABLES: &[&str] = &[
    "people",
    "users",
    "grants",
    "sessions",
    "login_challenges",
    "mfa_totp",
    "mfa_recovery_codes",
    "password_history",
    "shared_account_reviews",
    "security_notifications",
    "privacy_requests",
    "posthumous_arrangements",
    "orgs",
    "audit_log",
];

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl Platform {
    /// The caller's own data as one JSON document. Only for an account linked to a person.
    pub async fn my_data(&self, ctx: &Ctx, actor: &Actor, providers: &[&dyn PersonData]) -> Result<Value> {
        let pid = actor.person_id.ok_or(Error::NotFound)?;
        let about = "本文件是平台保存的您的全部个人信息的副本（《个人信息保护法》第四十五条）。如发现信息有误，请联系所在党支部书记或党委组织部更正。";
        self.copy_of(ctx, actor, "person.export_self", pid, Some(actor), about.into(), providers).await
    }

    /// A deceased member's copy for the close relative who asked (PIPL 第四十九条), made for the record keeper
    /// who filed the request and hands it over: the same document as her own copy, with her account (if she
    /// had one) as it is now. Audited as `person.export_posthumous`, which she would have seen as a read.
    pub(super) async fn posthumous_copy(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        person_id: i64,
        relation: &str,
        providers: &[&dyn PersonData],
    ) -> Result<Value> {
        let account = match store::rights::user_of_person(&self.db, person_id).await? {
            Some(uid) => match store::user_by_id(&self.db, uid).await? {
                Some(user) => Some(self.actor_of(&user).await?),
                None => None,
            },
            None => None,
        };
        let about = format!(
            "本文件是平台保存的已故党员的全部个人信息的副本，应其近亲属（{relation}）的申请，依照《个人信息保护法》第四十九条提供。\
             近亲属仅可为自身合法、正当利益使用。"
        );
        self.copy_of(ctx, actor, "person.export_posthumous", person_id, account.as_ref(), about, providers).await
    }

    /// The copy of person `pid`'s data, for `actor` (audited as `action`); `account` is her own account.
    #[allow(clippy::too_many_arguments)]
    async fn copy_of(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        action: &str,
        pid: i64,
        account: Option<&Actor>,
        about: String,
        providers: &[&dyn PersonData],
    ) -> Result<Value> {
        let row = store::get_person(&self.db, pid).await?.ok_or(Error::NotFound)?;
        let org_name = self.org_row(row.org_id).await?.map(|o| o.name).unwrap_or_default();
        let mut tx = self.db.begin().await?;
        let (id_enc, _, phone_enc, address_enc) = store::person_sealed(&mut tx, pid).await?.ok_or(Error::NotFound)?;
        let id_number = self.cipher.decrypt(COL_ID_NUMBER, &id_enc)?;
        let phone = phone_enc.map(|v| self.cipher.decrypt(COL_PHONE, &v)).transpose()?;
        let address = address_enc.map(|v| self.cipher.decrypt(COL_ADDRESS, &v)).transpose()?;
        let target = format!("person:{pid}");
        audit::append(&mut tx, event(Some(actor), ctx, action, target, "ok", String::new())).await?;
        tx.commit().await?;

        let mut person = serde_json::to_value(Person::from_row(row, org_name)).unwrap_or(Value::Null);
        if let Some(p) = person.as_object_mut() {
            p.insert("id_number".into(), json!(id_number));
            p.insert("phone".into(), json!(phone));
            p.insert("address".into(), json!(address));
        }
        let sessions: Vec<Value> = match account {
            Some(a) => store::sessions_of(&self.db, a.user_id).await?,
            None => vec![],
        }
        .into_iter()
        .map(|s| {
            json!({"kind": s.kind, "created_at": rfc3339(s.created_at), "last_seen_at": rfc3339(s.last_seen_at),
                   "ip": s.ip, "user_agent": s.user_agent, "ended": s.revoked_at.is_some() || s.expires_at <= now()})
        })
        .collect();
        let account = account.map(|a| {
            let grants: Vec<Value> = a
                .grants
                .iter()
                .map(|g| json!({"role": g.role.code(), "role_label": g.role.label(), "org": g.org_name, "starts_on": g.starts_on, "ends_on": g.ends_on}))
                .collect();
            json!({"username": a.username, "display_name": a.display_name, "grants": grants})
        });
        let requests: Vec<_> =
            store::rights::of_person(&self.db, pid).await?.into_iter().map(|r| self.rights_view(r)).collect();
        // Without one, the law's default (relatives may), as the API shows it.
        let arrangement = match store::rights::arrangement(&self.db, pid).await? {
            Some(a) => json!({"relatives_may": a.relatives_may, "note": a.note, "set_at": rfc3339(a.set_at)}),
            None => json!({"relatives_may": true, "note": null, "set_at": null}),
        };
        let mut doc = json!({
            "generated_at": rfc3339(now()),
            "about": about,
            "purposes": PURPOSES.iter().map(|(item, why)| json!({"item": item, "purpose": why})).collect::<Vec<_>>(),
            "person": person,
            "account": account,
            "sign_ins": sessions,
            "who_looked_at_my_record": self.access_log_of(pid).await?,
            "privacy_requests": requests,
            "posthumous_arrangement": arrangement,
        });
        for p in providers {
            let (section, rows) = p.export(&self.db, pid).await?;
            if let Some(d) = doc.as_object_mut() {
                d.insert(section.to_string(), rows);
            }
        }
        Ok(doc)
    }
}
