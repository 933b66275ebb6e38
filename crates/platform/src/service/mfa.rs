//! The second factor and step-up re-authentication (等保三级 身份鉴别; security.md AT-5, AT-7).
//!
//! A right password for an account that needs a second factor yields a short-lived *challenge* instead
//! of a session: the login finishes with a 6-digit code from the account's authenticator app or with one
//! of its recovery codes, or, for an account that has none yet, with the enrolment of one (the account
//! cannot get a session with its password alone). Wrong codes count toward the account's lockout like
//! wrong passwords. Only another administrator can remove an account's authenticator, and that is
//! audited; a password change leaves it in place.
//!
//! Step-up: sensitive actions (granting roles, resetting someone's second factor, changing one's own)
//! need the password, and the code where one is set up, within the last `reauth_window`.

use security::audit;
use security::{token, totp};
use time::OffsetDateTime;

use super::{Ctx, Error, Login, Platform, Result, SessionKind, event, now};
use crate::access::{Actor, Capability, Reach};
use crate::model::UserRow;
use crate::store;

const COL_TOTP_SECRET: &str = "mfa_totp.secret";
/// Wrong codes one challenge accepts before the password must be entered again.
const CHALLENGE_ATTEMPTS: i64 = 5;

/// What the enrolment page shows: the secret for typing in and the URL its QR code carries.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
    pub account: String,
}

/// Where a login waiting for its second factor stands.
#[derive(Clone, Debug)]
pub enum ChallengeState {
    Enrolled,
    Pending(Enrolment),
    NotEnrolled,
}

/// The state of an account's second factor, for its own settings page.
#[derive(Clone, Debug)]
pub struct MfaStatus {
    pub enrolled: bool,
    pub required: bool,
    pub recovery_codes_left: i64,
}

/// A finished enrolment: the session it opened (a login) or the one that replaced the signed-in session
/// (security.md AT-6), and the recovery codes, shown once.
#[derive(Debug)]
pub struct Enrolled {
    pub login: Option<Login>,
    pub recovery_codes: Vec<String>,
}

fn unix(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp()).unwrap_or(0)
}

impl Platform {
    pub(super) async fn new_challenge(&self, user_id: i64, kind: SessionKind) -> Result<String> {
        let challenge = token::new_token()?;
        let t = now();
        store::insert_challenge(
            &self.db,
            &token::hash(&challenge),
            user_id,
            kind.code(),
            t,
            t + self.settings.challenge_ttl,
        )
        .await?;
        Ok(challenge)
    }

    /// Checks a 6-digit code (once per time step) or uses up a recovery code, in the caller's transaction.
    pub(super) async fn use_second_factor(&self, tx: &mut kernel::DbTx, user_id: i64, code: &str) -> Result<bool> {
        let t = now();
        if totp::is_recovery_code(code) {
            return Ok(store::use_recovery_code(tx, user_id, &totp::recovery_hash(code), t).await?);
        }
        let Some(row) = store::totp_of_tx(tx, user_id).await? else {
            return Ok(false);
        };
        let secret = totp::secret_from_base32(&self.cipher.decrypt(COL_TOTP_SECRET, &row.secret)?)?;
        let Some(step) = totp::check(&secret, code, unix(t))? else {
            return Ok(false);
        };
        Ok(store::use_totp_step(tx, user_id, i64::try_from(step).unwrap_or(i64::MAX), t).await?)
    }

    /// A wrong code: counts toward the lockout like a wrong password, and is audited.
    pub(super) async fn second_factor_failed(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        user_id: i64,
        challenge_id: Option<i64>,
    ) -> Result<Error> {
        if let Some(id) = challenge_id {
            store::challenge_failed(&self.db, id).await?;
        }
        let until = now() + self.settings.lockout_duration;
        let locked = store::record_login_failure(&self.db, user_id, self.settings.lockout_threshold, until).await?;
        let detail = if locked { format!("second_factor; locked until {until}") } else { "second_factor".into() };
        let target = format!("user:{}", actor.username);
        audit::append_alone(&self.db, event(Some(actor), ctx, "auth.login", target, "failed", detail)).await?;
        Ok(Error::BadSecondFactor)
    }

    /// The live challenge behind `challenge`, with its user, or `Unauthenticated` (expired, used, too many
    /// wrong codes, or the account locked or deactivated meanwhile).
    async fn live_challenge(&self, challenge: &str) -> Result<(store::ChallengeRow, UserRow)> {
        let row = store::challenge(&self.db, &token::hash(challenge)).await?.ok_or(Error::Unauthenticated)?;
        let t = now();
        if row.used_at.is_some() || row.expires_at <= t || row.attempts >= CHALLENGE_ATTEMPTS {
            return Err(Error::Unauthenticated);
        }
        let user = store::user_by_id(&self.db, row.user_id).await?.ok_or(Error::Unauthenticated)?;
        if !user.active || user.locked_until.is_some_and(|l| l > t) {
            return Err(Error::Unauthenticated);
        }
        Ok((row, user))
    }

    /// Where the login behind a challenge stands: the account has an authenticator (ask for a code), has
    /// begun setting one up (show it again), or has none yet.
    pub async fn challenge_state(&self, challenge: &str) -> Result<ChallengeState> {
        let (_, user) = self.live_challenge(challenge).await?;
        Ok(match store::totp_of(&self.db, user.id).await? {
            Some(f) if f.confirmed_at.is_some() => ChallengeState::Enrolled,
            Some(f) => {
                let b32 = self.cipher.decrypt(COL_TOTP_SECRET, &f.secret)?;
                let secret = totp::secret_from_base32(&b32)?;
                ChallengeState::Pending(Enrolment {
                    otpauth_url: totp::otpauth_url(&secret, &user.username),
                    secret_base32: b32,
                    account: user.username,
                })
            }
            None => ChallengeState::NotEnrolled,
        })
    }

    /// Finishes a login with the code of the account's authenticator or a recovery code.
    pub async fn login_second_factor(&self, ctx: &Ctx, challenge: &str, code: &str) -> Result<Login> {
        let (row, user) = self.live_challenge(challenge).await?;
        let actor = self.actor_of(&user).await?;
        let enrolled = store::totp_of(&self.db, user.id).await?.is_some_and(|f| f.confirmed_at.is_some());
        if !enrolled {
            return Err(Error::SecondFactor { challenge: challenge.to_string(), enrolled: false });
        }
        let kind = if row.kind == SessionKind::Web.code() { SessionKind::Web } else { SessionKind::Api };
        let mut tx = self.db.begin().await?;
        if !self.use_second_factor(&mut tx, user.id, code.trim()).await? {
            drop(tx);
            return Err(self.second_factor_failed(ctx, &actor, user.id, Some(row.id)).await?);
        }
        if !store::use_challenge(&mut tx, row.id, now()).await? {
            return Err(Error::Unauthenticated);
        }
        let how = format!("{}+totp", kind.code());
        let login = self.open_session(&mut tx, ctx, &user, actor, kind, &how).await?;
        tx.commit().await?;
        Ok(login)
    }

    /// Starts setting up an authenticator during a login that needs one.
    pub async fn enrol_with_challenge(&self, ctx: &Ctx, challenge: &str) -> Result<Enrolment> {
        let (_, user) = self.live_challenge(challenge).await?;
        self.start_enrolment(ctx, &user).await
    }

    /// Finishes the enrolment begun with [`Platform::enrol_with_challenge`] and opens the session.
    pub async fn confirm_with_challenge(&self, ctx: &Ctx, challenge: &str, code: &str) -> Result<Enrolled> {
        let (row, user) = self.live_challenge(challenge).await?;
        let actor = self.actor_of(&user).await?;
        let kind = if row.kind == SessionKind::Web.code() { SessionKind::Web } else { SessionKind::Api };
        let mut tx = self.db.begin().await?;
        let Some(codes) = self.confirm_enrolment(&mut tx, ctx, &actor, code).await? else {
            drop(tx);
            return Err(self.second_factor_failed(ctx, &actor, user.id, Some(row.id)).await?);
        };
        if !store::use_challenge(&mut tx, row.id, now()).await? {
            return Err(Error::Unauthenticated);
        }
        let how = format!("{}+totp", kind.code());
        let login = self.open_session(&mut tx, ctx, &user, actor, kind, &how).await?;
        tx.commit().await?;
        Ok(Enrolled { login: Some(login), recovery_codes: codes })
    }

    /// The signed-in account's second factor.
    pub async fn mfa_status(&self, actor: &Actor) -> Result<MfaStatus> {
        let enrolled = store::totp_of(&self.db, actor.user_id).await?.is_some_and(|f| f.confirmed_at.is_some());
        Ok(MfaStatus {
            enrolled,
            required: self.settings.mfa_required && actor.is_privileged(),
            recovery_codes_left: store::unused_recovery_codes(&self.db, actor.user_id).await?,
        })
    }

    /// A signed-in account sets up an authenticator of its own accord (or replaces its recovery codes by
    /// enrolling again after a reset). Needs a recent proof of identity.
    pub async fn enrol_signed_in(&self, ctx: &Ctx, actor: &Actor) -> Result<Enrolment> {
        self.require_recent_auth(actor)?;
        if store::totp_of(&self.db, actor.user_id).await?.is_some_and(|f| f.confirmed_at.is_some()) {
            return Err(Error::Conflict("该账号已绑定动态口令；如需更换手机，请联系管理员重置"));
        }
        let user = store::user_by_id(&self.db, actor.user_id).await?.ok_or(Error::Unauthenticated)?;
        self.start_enrolment(ctx, &user).await
    }

    /// Confirms the authenticator set up by [`Platform::enrol_signed_in`]. The account's protection has just
    /// risen, so the session is replaced by a new one (security.md AT-6): `login` carries the new token, and
    /// `token`, the one the request came with, no longer works on any instance.
    pub async fn confirm_signed_in(&self, ctx: &Ctx, actor: &Actor, token: &str, code: &str) -> Result<Enrolled> {
        self.require_recent_auth(actor)?;
        let mut tx = self.db.begin().await?;
        let Some(codes) = self.confirm_enrolment(&mut tx, ctx, actor, code).await? else {
            drop(tx);
            return Err(self.second_factor_failed(ctx, actor, actor.user_id, None).await?);
        };
        let login = self.rotate_session(&mut tx, ctx, actor, token).await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(Enrolled { login: Some(login), recovery_codes: codes })
    }

    /// Replaces the session behind `token` by a new one in the caller's transaction (security.md AT-6:
    /// a new session id on privilege elevation): same account, kind and absolute expiry, a fresh proof of
    /// identity; the old token ends with the commit. The caller runs [`Platform::sessions_ended`] after
    /// the commit, so no instance keeps the old one in its cache.
    pub(super) async fn rotate_session(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        actor: &Actor,
        token: &str,
    ) -> Result<Login> {
        let fresh = token::new_token()?;
        let t = now();
        let ua: String = ctx.user_agent.chars().take(200).collect();
        let expires_at = store::rotate_session(tx, &token::hash(token), &token::hash(&fresh), t, &ctx.ip, &ua)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let target = format!("user:{}", actor.username);
        audit::append(tx, event(Some(actor), ctx, "auth.session_rotate", target, "ok", String::new())).await?;
        let mut actor = actor.clone();
        actor.reauth_at = Some(t);
        Ok(Login { token: fresh, expires_at, actor })
    }

    async fn start_enrolment(&self, ctx: &Ctx, user: &UserRow) -> Result<Enrolment> {
        let secret = totp::new_secret()?;
        let b32 = totp::secret_base32(&secret);
        let sealed = self.cipher.encrypt(COL_TOTP_SECRET, &b32)?;
        let mut tx = self.db.begin().await?;
        if !store::put_pending_totp(&mut tx, user.id, &sealed, now()).await? {
            return Err(Error::Conflict("该账号已绑定动态口令"));
        }
        let e = event(None, ctx, "mfa.enrol", format!("user:{}", user.username), "started", String::new());
        audit::append(&mut tx, super::Event { actor_id: Some(user.id), actor: user.username.clone(), ..e }).await?;
        tx.commit().await?;
        Ok(Enrolment {
            otpauth_url: totp::otpauth_url(&secret, &user.username),
            secret_base32: b32,
            account: user.username.clone(),
        })
    }

    /// Confirms a pending enrolment with its first code; `None` when the code is wrong.
    async fn confirm_enrolment(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        actor: &Actor,
        code: &str,
    ) -> Result<Option<Vec<String>>> {
        let row = store::totp_of_tx(tx, actor.user_id).await?;
        if row.as_ref().is_none_or(|r| r.confirmed_at.is_some()) {
            return Err(Error::Conflict("没有待确认的动态口令绑定，请重新开始绑定"));
        }
        if totp::is_recovery_code(code) || !self.use_second_factor(tx, actor.user_id, code.trim()).await? {
            return Ok(None);
        }
        let codes = totp::new_recovery_codes()?;
        let hashes: Vec<Vec<u8>> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
        store::put_recovery_codes(tx, actor.user_id, &hashes).await?;
        let target = format!("user:{}", actor.username);
        audit::append(tx, event(Some(actor), ctx, "mfa.enrol", target, "ok", String::new())).await?;
        Ok(Some(codes))
    }

    /// Removes another account's authenticator (a lost phone). Only account administrators, never for
    /// themselves, with a recent proof of identity; the account's sessions end, and its next login sets
    /// up a new authenticator.
    pub async fn reset_mfa(&self, ctx: &Ctx, actor: &Actor, user_id: i64) -> Result<()> {
        let target = format!("user_id:{user_id}");
        if !actor.grants.iter().any(|g| crate::access::reach(g.role, Capability::AccountAdmin) == Reach::Everywhere) {
            return Err(self.refuse(ctx, actor, "mfa.reset", &target).await?);
        }
        if actor.user_id == user_id {
            // 三员分立: nobody weakens their own account's protection.
            return Err(self.refuse(ctx, actor, "mfa.reset", &target).await?);
        }
        self.require_recent_auth(actor)?;
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let mut tx = self.db.begin().await?;
        let removed = store::delete_totp(&mut tx, user.id).await?;
        store::revoke_user_sessions(&mut tx, user.id, &[], now()).await?;
        let detail = if removed { "removed" } else { "none" };
        let target = format!("user:{}", user.username);
        audit::append(&mut tx, event(Some(actor), ctx, "mfa.reset", target, "ok", detail.into())).await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(())
    }

    /// Step-up: the password again (and the code, where the account has an authenticator) proves identity
    /// for `reauth_window`. The elevated session is a new one (security.md AT-6): the answer carries its
    /// token, and `token` stops working at once, here and on every other instance.
    pub async fn reauth(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        token: &str,
        password: &str,
        otp: Option<&str>,
    ) -> Result<Login> {
        let user = store::user_by_id(&self.db, actor.user_id).await?.ok_or(Error::Unauthenticated)?;
        let target = format!("user:{}", user.username);
        if !self.password_matches(None, password, vec![user.password_hash.clone()]).await? {
            let until = now() + self.settings.lockout_duration;
            store::record_login_failure(&self.db, user.id, self.settings.lockout_threshold, until).await?;
            audit::append_alone(&self.db, event(Some(actor), ctx, "auth.reauth", target, "failed", String::new()))
                .await?;
            return Err(Error::BadCredentials);
        }
        let enrolled = store::totp_of(&self.db, user.id).await?.is_some_and(|f| f.confirmed_at.is_some());
        let mut tx = self.db.begin().await?;
        if enrolled {
            let code = otp.map(str::trim).unwrap_or("");
            if !self.use_second_factor(&mut tx, user.id, code).await? {
                drop(tx);
                return Err(self.second_factor_failed(ctx, actor, user.id, None).await?);
            }
        }
        audit::append(&mut tx, event(Some(actor), ctx, "auth.reauth", target, "ok", String::new())).await?;
        let login = self.rotate_session(&mut tx, ctx, actor, token).await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(login)
    }

    /// Refuses with `ReauthRequired` unless the caller proved who they are within `reauth_window`.
    pub fn require_recent_auth(&self, actor: &Actor) -> Result<()> {
        match actor.reauth_at {
            Some(at) if at + self.settings.reauth_window > now() => Ok(()),
            _ => Err(Error::ReauthRequired),
        }
    }
}
