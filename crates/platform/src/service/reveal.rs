//! Field protection (security.md AT-14; issue 6 item 3): ID numbers, phones and addresses are shown
//! masked everywhere; whoever keeps the record (the branch secretary, org staff) may *reveal* one field
//! of one person, giving a reason. Each reveal is audited as a read of sensitive data in the same
//! transaction that hands the value out (no audit, no value: AT-27 fail-closed), and limited per account
//! and day. A member may reveal her own record's fields, and sees who revealed or changed hers
//! ("谁查看了我的信息").

use security::audit::{self, Entry};
use time::OffsetDateTime;

use super::{COL_ADDRESS, COL_ID_NUMBER, COL_PHONE, Ctx, Error, Platform, Result, event};
use crate::access::{Actor, Capability};
use crate::store;

/// The fields that can be revealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealedField {
    IdNumber,
    Phone,
    Address,
}

impl SealedField {
    pub fn parse(s: &str) -> Option<SealedField> {
        match s {
            "id_number" => Some(SealedField::IdNumber),
            "phone" => Some(SealedField::Phone),
            "address" => Some(SealedField::Address),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            SealedField::IdNumber => "id_number",
            SealedField::Phone => "phone",
            SealedField::Address => "address",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SealedField::IdNumber => "公民身份号码",
            SealedField::Phone => "联系电话",
            SealedField::Address => "家庭住址",
        }
    }
}

/// One line of a member's "who looked at my record".
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    /// RFC 3339, UTC.
    pub at: String,
    /// The account that acted.
    pub actor: String,
    /// `person.reveal`, `person.update`, `person.create`, `person.export` …
    pub action: String,
    /// What it was, in Chinese.
    pub what: String,
}

fn describe(e: &Entry) -> String {
    match e.action.as_str() {
        "person.reveal" => {
            let field =
                e.detail.split(':').next().and_then(SealedField::parse).map(SealedField::label).unwrap_or("敏感信息");
            format!("查看了您的{field}")
        }
        "person.update" => "修改了您的档案".into(),
        "person.create" => "建立了您的档案".into(),
        "person.export" => "导出了含您在内的名册".into(),
        "person.export_self" => "下载了您的个人信息副本".into(),
        "person.export_posthumous" => "为您的近亲属制作了个人信息副本".into(),
        other => other.to_string(),
    }
}

impl Platform {
    /// Reveals one sealed field of one person, for a stated reason.
    pub async fn reveal(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        person_id: i64,
        field: &str,
        reason: &str,
    ) -> Result<Option<String>> {
        let target = format!("person:{person_id}");
        let row = store::get_person(&self.db, person_id).await?.ok_or(Error::NotFound)?;
        let own = actor.person_id == Some(person_id);
        if !own && !actor.can(Capability::PersonRead, &row.org_path) {
            return Err(self.deny(ctx, actor, "person.reveal", &target).await?);
        }
        // Those who keep records reveal; a leader reads summaries and masked records only.
        if !own && !actor.can(Capability::PersonWrite, &row.org_path) {
            return Err(self.refuse(ctx, actor, "person.reveal", &target).await?);
        }
        let mut errors = crate::rules::FieldErrors::new();
        let field = SealedField::parse(field);
        if field.is_none() {
            errors.insert("field".into(), "只能查看公民身份号码、联系电话或家庭住址".into());
        }
        let reason: String = reason.trim().chars().filter(|c| !c.is_control()).collect();
        let n = reason.chars().count();
        if !own && !(4..=200).contains(&n) {
            errors.insert("reason".into(), "请写明查看原因（4-200字），例如“核对政审材料”".into());
        }
        let Some(field) = field.filter(|_| errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        if !own {
            // Per role (crate::limits::reveals_per_day), counted from the audit log: across instances.
            let limit = crate::limits::reveal_limit(actor);
            let day_start = kernel::dates::beijing_midnight(kernel::dates::today());
            let used = audit::count_by_actor_since(&self.db, actor.user_id, "person.reveal", day_start).await?;
            if used >= limit {
                audit::append_alone(
                    &self.db,
                    event(Some(actor), ctx, "person.reveal", target, "denied", format!("daily limit {limit}")),
                )
                .await?;
                return Err(Error::TooMany {
                    message: format!(
                        "今日查看敏感信息的次数已达上限（{limit}次），如确有需要请明日再试或联系党委组织部"
                    ),
                    retry_after: crate::limits::seconds_to_beijing_midnight(OffsetDateTime::now_utc()),
                });
            }
        }
        let mut tx = self.db.begin().await?;
        let (id_enc, _, phone_enc, address_enc) =
            store::person_sealed(&mut tx, person_id).await?.ok_or(Error::NotFound)?;
        let value = match field {
            SealedField::IdNumber => Some(self.cipher.decrypt(COL_ID_NUMBER, &id_enc)?),
            SealedField::Phone => phone_enc.map(|v| self.cipher.decrypt(COL_PHONE, &v)).transpose()?,
            SealedField::Address => address_enc.map(|v| self.cipher.decrypt(COL_ADDRESS, &v)).transpose()?,
        };
        let detail = format!("{}:{}", field.code(), if own { "本人查看" } else { reason.as_str() });
        audit::append(&mut tx, event(Some(actor), ctx, "person.reveal", target, "ok", detail)).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Who revealed, changed or exported the caller's own record, newest first.
    pub async fn my_access_log(&self, actor: &Actor) -> Result<Vec<AccessEntry>> {
        let Some(pid) = actor.person_id else {
            return Ok(vec![]);
        };
        self.access_log_of(pid).await
    }

    /// [`Platform::my_access_log`] of person `pid` (her copy, also the one made for a deceased member's relative).
    pub(super) async fn access_log_of(&self, pid: i64) -> Result<Vec<AccessEntry>> {
        let entries = audit::for_target(&self.db, &format!("person:{pid}"), 100).await?;
        Ok(entries
            .into_iter()
            .filter(|e| e.result == "ok" && e.action.starts_with("person."))
            .map(|e| AccessEntry {
                at: e.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                what: describe(&e),
                actor: e.actor,
                action: e.action,
            })
            .collect())
    }
}

/// For the pages: a timestamp in Beijing time.
pub fn beijing(at: &str) -> String {
    OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(|t| {
            let t = t.to_offset(kernel::dates::BEIJING);
            format!("{}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        })
        .unwrap_or_default()
}
