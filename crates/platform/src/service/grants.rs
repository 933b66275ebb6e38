//! Grants by hand (security.md AT-15, AT-16): the security administrator gives an existing account a role
//! for a term, and withdraws one before its term ends. A change applies at the account's next request,
//! on every instance (the session cache is dropped everywhere, as for a disabled account).

use security::audit;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use super::{Ctx, Error, GrantInput, Platform, Result, event, now};
use crate::access::{Actor, Capability, grant_in_force_at};
use crate::model::Role;
use crate::rules::FieldErrors;
use crate::store::{self, GrantRecord};

/// The longest reason a withdrawal keeps.
const REASON_MAX: usize = 200;

/// Where a grant stands at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    /// In force now.
    InForce,
    /// Its term has not begun.
    Upcoming,
    /// Its term is over.
    Ended,
    /// Withdrawn by hand before its term ended.
    Withdrawn,
}

impl GrantState {
    pub fn label(self) -> &'static str {
        match self {
            GrantState::InForce => "有效",
            GrantState::Upcoming => "未到期始",
            GrantState::Ended => "任期已满",
            GrantState::Withdrawn => "已撤销",
        }
    }
}

/// The state of a grant at `at`: a withdrawal wins over the dates; otherwise the one rule of terms.
pub fn grant_state(withdrawn: bool, starts_on: Option<Date>, ends_on: Option<Date>, at: OffsetDateTime) -> GrantState {
    if withdrawn {
        GrantState::Withdrawn
    } else if grant_in_force_at(starts_on, ends_on, at) {
        GrantState::InForce
    } else if ends_on.is_some_and(|e| crate::access::term_ends_at(e) <= at) {
        GrantState::Ended
    } else {
        GrantState::Upcoming
    }
}

/// One grant on an account's record.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub id: i64,
    pub role: Role,
    pub role_label: &'static str,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<Date>,
    pub state: GrantState,
    pub state_label: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// The account that gave it (none for the installation's own first account and the demo).
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub withdrawn_at: Option<OffsetDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdraw_reason: Option<String>,
}

impl GrantView {
    pub fn in_force(&self) -> bool {
        self.state == GrantState::InForce
    }

    /// Only a grant in force or still to begin can be withdrawn.
    pub fn withdrawable(&self) -> bool {
        matches!(self.state, GrantState::InForce | GrantState::Upcoming)
    }

    fn of(r: GrantRecord, at: OffsetDateTime) -> Option<GrantView> {
        let role = Role::parse(&r.role)?;
        let state = grant_state(r.withdrawn_at.is_some(), r.starts_on, r.ends_on, at);
        Some(GrantView {
            id: r.id,
            role,
            role_label: role.label(),
            org_id: r.org_id,
            org_name: r.org_name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            state,
            state_label: state.label(),
            created_at: r.created_at,
            created_by: r.created_by,
            withdrawn_at: r.withdrawn_at,
            withdrawn_by: r.withdrawn_by,
            withdraw_reason: r.withdraw_reason,
        })
    }
}

/// An account with every grant it was ever given, newest first.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AccountGrants {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub active: bool,
    /// Whether the caller may give and withdraw this account's grants.
    pub may_change: bool,
    pub grants: Vec<GrantView>,
}

/// Why a grant is withdrawn (kept on the grant and in the audit log).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct WithdrawInput {
    #[schema(example = "已调离学院，不再担任组织员")]
    pub reason: String,
}

impl Platform {
    /// Whether the caller may grant and withdraw roles: the security administrator (三员分立); the system
    /// administrator too while no security administrator exists, so a fresh install can be set up from the
    /// API alone (api-contract.md).
    pub(crate) async fn may_grant(&self, actor: &Actor) -> Result<bool> {
        if actor.can_somewhere(Capability::GrantAdmin) {
            return Ok(true);
        }
        Ok(actor.has_role(Role::SystemAdmin) && store::role_holders(&self.db, Role::SecurityAdmin.code()).await? == 0)
    }

    /// An account's grants, for the account administrators (who see who holds what) and the grant
    /// administrator; anyone else gets `NotFound` (a read, like the list of accounts).
    pub async fn account_grants(&self, ctx: &Ctx, actor: &Actor, user_id: i64) -> Result<AccountGrants> {
        let target = format!("user_id:{user_id}");
        if !actor.can_somewhere(Capability::AccountAdmin) && !actor.can_somewhere(Capability::GrantAdmin) {
            return Err(self.deny(ctx, actor, "grant.list", &target).await?);
        }
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let t = now();
        let grants =
            store::grant_records(&self.db, user.id).await?.into_iter().filter_map(|r| GrantView::of(r, t)).collect();
        Ok(AccountGrants {
            user_id: user.id,
            username: user.username,
            display_name: user.display_name,
            active: user.active,
            may_change: actor.user_id != user.id && self.may_grant(actor).await?,
            grants,
        })
    }

    /// Gives an existing account a role for a term. Refused: for anyone but the grant administrator
    /// ([`Platform::may_grant`]); on one's own account (AT-15: the security administrator cannot assign a
    /// role to itself); without a recent re-authentication (AT-7). Invalid (422, nothing written): an
    /// unknown role, the member role (it comes with the person record), a missing or unsuitable
    /// organization, a term ending before today or before it starts, the same role and organization
    /// already granted for a term that is not over, and 三员分立 — an administrator's role beside any other
    /// role. A role that needs a 12-character password makes the account's password expire, so its holder
    /// sets a long one at the next sign-in. Audited as `grant.add`; applies at the account's next request.
    pub async fn add_grant(&self, ctx: &Ctx, actor: &Actor, user_id: i64, input: &GrantInput) -> Result<i64> {
        let target = format!("user_id:{user_id}");
        if !self.may_grant(actor).await? || actor.user_id == user_id {
            return Err(self.refuse(ctx, actor, "grant.add", &target).await?);
        }
        self.require_recent_auth(actor)?;
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let t = now();
        let today = kernel::dates::today();
        let mut errors = FieldErrors::new();
        let role = match self.check_grant(input).await? {
            Ok(Role::Member) => {
                errors.insert("role".into(), "党员角色随关联的人员记录自动获得，无须授予".into());
                None
            }
            Ok(role) => Some(role),
            Err(m) => {
                let field = if m.contains("日期") {
                    "ends_on"
                } else if m.contains("组织") {
                    "org_id"
                } else {
                    "role"
                };
                errors.insert(field.into(), m.into());
                None
            }
        };
        if input.ends_on.is_some_and(|e| e < today) {
            errors.insert("ends_on".into(), "任期结束日期不能早于今天".into());
        }
        if let Some(role) = role {
            let live: Vec<GrantRecord> = store::grant_records(&self.db, user.id)
                .await?
                .into_iter()
                .filter(|g| {
                    let state = grant_state(g.withdrawn_at.is_some(), g.starts_on, g.ends_on, t);
                    matches!(state, GrantState::InForce | GrantState::Upcoming)
                })
                .collect();
            if live.iter().any(|g| g.role == role.code() && g.org_id == input.org_id) {
                errors.insert("role".into(), "该账号已有这一角色和范围的授权（任期未满）".into());
            } else if !live.is_empty()
                && (role.is_system_wide()
                    || live.iter().any(|g| Role::parse(&g.role).is_some_and(Role::is_system_wide)))
            {
                errors.insert(
                    "role".into(),
                    "三员分立：系统管理员、安全管理员、审计管理员不能与其他角色由同一账号兼任".into(),
                );
            }
        }
        let Some(role) = role.filter(|_| errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let mut tx = self.db.begin().await?;
        let id = store::insert_grant(
            &mut tx,
            &store::NewGrant {
                user_id: user.id,
                role: role.code(),
                org_id: input.org_id,
                starts_on: input.starts_on,
                ends_on: input.ends_on,
                created_by: Some(actor.user_id),
                now: t,
            },
        )
        .await?;
        let privileged = role.is_system_wide() || role == Role::OrgStaff;
        if privileged {
            store::expire_password(&mut tx, user.id).await?;
        }
        let term = |d: Option<Date>| d.map(kernel::dates::iso).unwrap_or_else(|| "-".into());
        let detail = format!(
            "grant:{id} {}@{} {}..{}{}",
            role.code(),
            input.org_id.map(|o| o.to_string()).unwrap_or_default(),
            term(input.starts_on),
            term(input.ends_on),
            if privileged { "; password expired" } else { "" }
        );
        audit::append(&mut tx, event(Some(actor), ctx, "grant.add", format!("user:{}", user.username), "ok", detail))
            .await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(id)
    }

    /// Withdraws a grant before its term ends: from this instant it no longer counts, at the account's next
    /// request on every instance. The grant stays on the record with when, by whom and why; its end date
    /// becomes yesterday (Beijing time), so the one rule of terms takes it out of force. Same refusals as
    /// [`Platform::add_grant`]; a reason is required; a grant of another account is `NotFound`; one already
    /// withdrawn or whose term is over is a conflict. Audited as `grant.withdraw`.
    pub async fn withdraw_grant(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        user_id: i64,
        grant_id: i64,
        input: &WithdrawInput,
    ) -> Result<()> {
        let target = format!("user_id:{user_id}");
        if !self.may_grant(actor).await? || actor.user_id == user_id {
            return Err(self.refuse(ctx, actor, "grant.withdraw", &target).await?);
        }
        self.require_recent_auth(actor)?;
        let grant = store::grant_record(&self.db, grant_id).await?.filter(|g| g.user_id == user_id);
        let grant = grant.ok_or(Error::NotFound)?;
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let reason = input.reason.trim();
        let length = reason.chars().count();
        if !(2..=REASON_MAX).contains(&length) {
            return Err(Error::field("reason", format!("请填写撤销原因（2-{REASON_MAX}字）")));
        }
        let t = now();
        match grant_state(grant.withdrawn_at.is_some(), grant.starts_on, grant.ends_on, t) {
            GrantState::Withdrawn => return Err(Error::Conflict("该授权已经撤销")),
            GrantState::Ended => return Err(Error::Conflict("该授权任期已满，已不再有效，无须撤销")),
            GrantState::InForce | GrantState::Upcoming => {}
        }
        let yesterday = kernel::dates::today().previous_day().ok_or(Error::Conflict("日期超出范围"))?;
        let mut tx = self.db.begin().await?;
        if !store::withdraw_grant(&mut tx, grant.id, yesterday, actor.user_id, reason, t).await? {
            return Err(Error::Conflict("该授权已经撤销"));
        }
        let was = grant.ends_on.map(kernel::dates::iso).unwrap_or_else(|| "-".into());
        let detail = format!(
            "grant:{} {}@{} (ends_on was {was}); reason: {reason}",
            grant.id,
            grant.role,
            grant.org_id.map(|o| o.to_string()).unwrap_or_default()
        );
        let target = format!("user:{}", user.username);
        audit::append(&mut tx, event(Some(actor), ctx, "grant.withdraw", target, "ok", detail)).await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::{GrantState, grant_state};

    #[test]
    fn a_withdrawal_wins_over_the_term_and_the_term_ends_at_midnight_beijing_time() {
        // 2026-11-24 23:59 Beijing time is 15:59 UTC: a term whose last day is the 24th is still running.
        let at = datetime!(2026-11-24 15:59 UTC);
        assert_eq!(grant_state(false, None, Some(date!(2026 - 11 - 24)), at), GrantState::InForce);
        assert_eq!(grant_state(true, None, Some(date!(2026 - 11 - 24)), at), GrantState::Withdrawn);
        // At 00:00 Beijing time on the 25th it is over.
        let midnight = datetime!(2026-11-24 16:00 UTC);
        assert_eq!(grant_state(false, None, Some(date!(2026 - 11 - 24)), midnight), GrantState::Ended);
        assert_eq!(grant_state(false, Some(date!(2026 - 12 - 01)), None, midnight), GrantState::Upcoming);
        assert_eq!(grant_state(false, None, None, midnight), GrantState::InForce);
    }
}
