//! The life of an account after its creation (security.md AT-16, AT-7): an administrator disables and
//! enables it, the nightly review disables the accounts whose roles have all ended, and a member changes
//! her own mobile number after re-authenticating.

use security::audit;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{COL_PHONE, Ctx, Error, Platform, Result, event, now};
use crate::access::{Actor, Capability, term_ends_at};
use crate::rules;
use crate::store;

/// How far back the accounts page shows a shared-account flag (security.md AT-16).
pub const SHARED_FLAG_DAYS: i64 = 30;

/// The newest sign-in of an account flagged as possibly shared (`auth.shared_account`, security.md §a.1 c,
/// AT-16), for the security administrator's accounts page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SharedAccountFlag {
    pub at: OffsetDateTime,
    /// Distinct client addresses of its live sessions at that sign-in.
    pub addresses: i64,
    /// Distinct devices (user-agents) of those sessions ([`rules::SHARED_ACCOUNT_DEVICES`]; 0 in flags
    /// raised before devices were counted).
    pub devices: i64,
    /// Within this many minutes ([`rules::SHARED_ACCOUNT_WINDOW`]).
    pub minutes: i64,
    /// Such flags in the last [`SHARED_FLAG_DAYS`] days.
    pub times: usize,
}

/// The kind of a security administrators' notification about a possibly shared account.
pub const NOTIFY_SHARED_ACCOUNT: &str = "shared_account";

/// What a security administrator found when she marks a shared-account flag 已核查 (security.md AT-16).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct SharedReviewInput {
    #[schema(example = "经核实为本人多设备登录")]
    pub note: String,
}

/// A notification for the security administrators (their home page; `GET /api/v1/security/notifications`),
/// open until the flag behind it is reviewed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SecurityNotification {
    pub id: i64,
    /// `shared_account`.
    pub kind: String,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// In Chinese: what was seen ("15 分钟内 3 个地址、1 台设备登录").
    pub message: String,
    /// Occurrences since it was raised.
    pub times: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub raised_at: OffsetDateTime,
}

/// "15 分钟内 3 个地址、1 台设备登录" from a flag's figures.
pub fn shared_signs_label(minutes: i64, addresses: i64, devices: i64) -> String {
    if devices > 0 {
        format!("{minutes} 分钟内 {addresses} 个地址、{devices} 台设备登录")
    } else {
        format!("{minutes} 分钟内 {addresses} 个地址登录")
    }
}

/// The reason the nightly review records on an account it disabled.
pub const NO_ROLE_LEFT: &str = "no_role_left";

/// What one run of the nightly review did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DormantReview {
    pub checked: usize,
    pub disabled: Vec<String>,
}

/// One grant of an account, as far as the review needs it: `(starts_on, ends_on)`.
type Term = (Option<time::Date>, Option<time::Date>);

/// Whether an account that is not linked to a person has nothing left to do on the platform at `now`
/// (security.md AT-16; 等保 GB/T 22239-2019 §8.1.4.2 c: 及时删除或停用多余的、过期的账户): every grant
/// it had ended ([`term_ends_at`]) at least `days` days ago; or, never granted anything, it was created
/// that long ago. A grant without an end date, or one still running or still to come, keeps it.
/// Accounts linked to a person are members (the member role is implied) and never dormant here.
pub fn account_dormant(terms: &[Term], created_at: OffsetDateTime, days: u32, now: OffsetDateTime) -> bool {
    let grace = time::Duration::days(i64::from(days));
    if terms.is_empty() {
        return created_at + grace <= now;
    }
    let mut last_end = None;
    for (_, ends_on) in terms {
        let Some(end) = ends_on else {
            return false;
        };
        let end = term_ends_at(*end);
        last_end = last_end.max(Some(end));
    }
    last_end.is_some_and(|end| end + grace <= now)
}

impl Platform {
    /// The shared-account flags of the last [`SHARED_FLAG_DAYS`] days of `user_ids`, by account: only for
    /// the security administrator (who manages accounts and reads the log's findings; the system
    /// administrator reads no audit contents, 三员分立), empty for everyone else.
    pub async fn shared_account_flags(
        &self,
        actor: &Actor,
        user_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, SharedAccountFlag>> {
        let mut flags = std::collections::HashMap::new();
        if !actor.has_role(crate::model::Role::SecurityAdmin) {
            return Ok(flags);
        }
        let since = now() - time::Duration::days(SHARED_FLAG_DAYS);
        let entries = audit::by_actors_since(&self.db, user_ids, "auth.shared_account", "flagged", since).await?;
        let flagged: Vec<i64> = entries.iter().filter_map(|e| e.actor_id).collect();
        // A flag raised at or before the account's newest review was dealt with (已核查).
        let mut reviewed: std::collections::HashMap<i64, OffsetDateTime> = std::collections::HashMap::new();
        for (user_id, at) in store::shared_account_reviews(&self.db, &flagged).await? {
            let newest = reviewed.entry(user_id).or_insert(at);
            *newest = (*newest).max(at);
        }
        for e in entries {
            let Some(user_id) = e.actor_id else { continue };
            if reviewed.get(&user_id).is_some_and(|r| e.at <= *r) {
                continue;
            }
            // Newest first per account: the first one is shown, the others counted.
            let flag = flags.entry(user_id).or_insert_with(|| SharedAccountFlag {
                at: e.at,
                addresses: shared_flag_figure(&e.detail, "addresses:")
                    .unwrap_or(rules::SHARED_ACCOUNT_ADDRESSES as i64),
                devices: shared_flag_figure(&e.detail, "devices:").unwrap_or(0),
                minutes: rules::SHARED_ACCOUNT_WINDOW.whole_minutes(),
                times: 0,
            });
            flag.times += 1;
        }
        Ok(flags)
    }

    /// Marks an account's shared-account flag 已核查 with what was found (security.md §a.1 c, AT-16): the
    /// security administrator only (三员分立: she manages accounts and reads the log's findings; not the
    /// system administrator, not org staff), never on her own account (AT-15). The flag leaves the 账号
    /// page and the notification closes, both until a flag raised after the review. Refused
    /// (`Conflict`) when the account has no flag left to review. Audited `auth.shared_account_review`
    /// with the note.
    pub async fn review_shared_account(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        user_id: i64,
        input: &SharedReviewInput,
    ) -> Result<()> {
        const ACTION: &str = "auth.shared_account_review";
        if !actor.has_role(crate::model::Role::SecurityAdmin) || actor.user_id == user_id {
            return Err(self.refuse(ctx, actor, ACTION, &format!("user_id:{user_id}")).await?);
        }
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let note = input.note.trim();
        if !(2..=rules::SHARED_REVIEW_NOTE_MAX).contains(&note.chars().count()) {
            let max = rules::SHARED_REVIEW_NOTE_MAX;
            return Err(Error::field("note", format!("请填写核查结论（2-{max}字），如“经核实为本人多设备登录”")));
        }
        if !self.shared_account_flags(actor, &[user_id]).await?.contains_key(&user_id) {
            return Err(Error::Conflict("该账号没有待核查的疑似共用提示"));
        }
        let t = now();
        let mut tx = self.db.begin().await?;
        store::insert_shared_account_review(&mut tx, user_id, actor.user_id, t, note).await?;
        store::clear_security_notification(&mut tx, NOTIFY_SHARED_ACCOUNT, user_id, actor.user_id, t).await?;
        let target = format!("user:{}", user.username);
        audit::append(&mut tx, event(Some(actor), ctx, ACTION, target, "ok", format!("note: {note}"))).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The open notifications for the security administrators, newest first (at most 100): only for the
    /// security administrator; `Forbidden` for everyone else (the system administrator reads no audit
    /// findings, 三员分立).
    pub async fn security_notifications(&self, ctx: &Ctx, actor: &Actor) -> Result<Vec<SecurityNotification>> {
        if !actor.has_role(crate::model::Role::SecurityAdmin) {
            return Err(self.refuse(ctx, actor, "security.notifications", "notifications").await?);
        }
        let rows = store::open_security_notifications(&self.db, 100).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let minutes =
                    shared_flag_figure(&r.detail, "within:").unwrap_or(rules::SHARED_ACCOUNT_WINDOW.whole_minutes());
                let addresses = shared_flag_figure(&r.detail, "addresses:").unwrap_or(0);
                let devices = shared_flag_figure(&r.detail, "devices:").unwrap_or(0);
                SecurityNotification {
                    id: r.id,
                    message: format!("疑似共用账号：{}", shared_signs_label(minutes, addresses, devices)),
                    kind: r.kind,
                    user_id: r.user_id,
                    username: r.username,
                    display_name: r.display_name,
                    times: r.times,
                    raised_at: r.raised_at,
                }
            })
            .collect())
    }

    /// Disables (`active = false`) or enables an account. Account administrators (the system and the
    /// security administrator, 三员分立: accounts, not roles), never their own. Disabling ends every session
    /// and token of the account in the same transaction, on every instance at once; a disabled account
    /// cannot sign in (the same message as a wrong password). Audited as `account.disable` / `.enable`.
    pub async fn set_account_active(&self, ctx: &Ctx, actor: &Actor, user_id: i64, active: bool) -> Result<()> {
        let action = if active { "account.enable" } else { "account.disable" };
        let target = format!("user_id:{user_id}");
        if !actor.can_somewhere(Capability::AccountAdmin) || actor.user_id == user_id {
            return Err(self.refuse(ctx, actor, action, &target).await?);
        }
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let t = now();
        let mut tx = self.db.begin().await?;
        let changed = store::set_user_active(&mut tx, user.id, active, t, (!active).then_some("administrator")).await?;
        if !active {
            store::revoke_user_sessions(&mut tx, user.id, &[], t).await?;
        }
        let detail = if changed { "" } else { "unchanged" };
        let target = format!("user:{}", user.username);
        audit::append(&mut tx, event(Some(actor), ctx, action, target, "ok", detail.into())).await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(())
    }

    /// The nightly review: disables every active account, not linked to a person, that
    /// [`account_dormant`] finds idle for `dormant_account_days`; each in its own transaction with its
    /// sessions ended and an `account.disable` entry by `system` (detail `no_role_left`).
    pub async fn disable_dormant_accounts(&self, ctx: &Ctx) -> Result<DormantReview> {
        let t = now();
        let days = self.settings.dormant_account_days;
        let rows = store::unlinked_active_accounts(&self.db).await?;
        let mut review = DormantReview::default();
        let mut i = 0;
        while i < rows.len() {
            let (id, username, created_at) = (rows[i].0, rows[i].1.clone(), rows[i].2);
            let mut terms = Vec::new();
            while i < rows.len() && rows[i].0 == id {
                if rows[i].3.is_some() {
                    terms.push((rows[i].4, rows[i].5));
                }
                i += 1;
            }
            review.checked += 1;
            if !account_dormant(&terms, created_at, days, t) {
                continue;
            }
            let mut tx = self.db.begin().await?;
            if !store::set_user_active(&mut tx, id, false, t, Some(NO_ROLE_LEFT)).await? {
                continue;
            }
            store::revoke_user_sessions(&mut tx, id, &[], t).await?;
            let detail = format!("{NO_ROLE_LEFT}; {days} days");
            let mut e = event(None, ctx, "account.disable", format!("user:{username}"), "ok", detail);
            e.actor = "system".into();
            audit::append(&mut tx, e).await?;
            tx.commit().await?;
            review.disabled.push(username);
        }
        if !review.disabled.is_empty() {
            self.sessions_ended().await;
        }
        Ok(review)
    }

    /// A member changes her own mobile number (security.md AT-7, ASVS 7.5.1): only with a proof of identity
    /// from the last `reauth_window` (else `ReauthRequired`), a Chinese mobile number
    /// ([`rules::parse_mobile`]), sealed and masked like every phone, audited as `person.phone_change`.
    /// An account without a person record has no phone here (`NotFound`).
    pub async fn change_own_phone(&self, ctx: &Ctx, actor: &Actor, raw: &str) -> Result<String> {
        let pid = actor.person_id.ok_or(Error::NotFound)?;
        self.require_recent_auth(actor)?;
        let phone = rules::parse_mobile(raw).map_err(|m| Error::field("phone", m))?;
        let sealed = self.cipher.encrypt(COL_PHONE, &phone)?;
        let masked = security::mask::phone(&phone);
        let mut tx = self.db.begin().await?;
        if !store::set_person_phone(&mut tx, pid, &sealed, &masked, now()).await? {
            return Err(Error::NotFound);
        }
        let target = format!("person:{pid}");
        audit::append(&mut tx, event(Some(actor), ctx, "person.phone_change", target, "ok", "self".into())).await?;
        tx.commit().await?;
        self.people_changed().await;
        Ok(masked)
    }
}

/// The count of addresses in a flag's detail (`addresses:3 within:15min (…)`).
fn shared_flag_figure(detail: &str, key: &str) -> Option<i64> {
    detail.split_whitespace().find_map(|w| w.strip_prefix(key))?.trim_end_matches("min").parse().ok()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::account_dormant;

    #[test]
    fn an_account_is_dormant_n_days_after_its_last_term_ended() {
        let created = datetime!(2025-01-01 00:00 UTC);
        // Term to 2026-10-01: over at 2026-09-30 16:00 UTC; 30 days later is 2026-10-31 16:00 UTC.
        let ended = [(None, Some(date!(2026 - 10 - 01)))];
        assert!(!account_dormant(&ended, created, 30, datetime!(2026-10-31 15:59 UTC)));
        assert!(account_dormant(&ended, created, 30, datetime!(2026-10-31 16:00 UTC)));
        // Another grant without an end, or ending later, keeps it.
        let open = [(None, Some(date!(2026 - 10 - 01))), (None, None)];
        assert!(!account_dormant(&open, created, 30, datetime!(2027-06-01 00:00 UTC)));
        let later = [(None, Some(date!(2026 - 10 - 01))), (None, Some(date!(2026 - 12 - 31)))];
        assert!(!account_dormant(&later, created, 30, datetime!(2026-12-01 00:00 UTC)));
        // Never granted anything: counted from its creation.
        assert!(!account_dormant(&[], created, 30, datetime!(2025-01-30 23:59 UTC)));
        assert!(account_dormant(&[], created, 30, datetime!(2025-01-31 00:00 UTC)));
    }
}
