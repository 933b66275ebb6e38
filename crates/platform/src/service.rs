//! The actions of the platform. Each public function: authorise → validate → transaction → store →
//! audit → commit. A read outside the caller's scope is `NotFound` (and audited as a refusal); a write
//! where the caller can read but not write is `Forbidden`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use kernel::cache::{EndableCache, TtlCache};
use kernel::{Db, DbError};
use security::audit::{self, Event};
use security::password::PasswordParams;
use security::{FieldCipher, KeyRing, SecurityError, mask, token};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use crate::access::{Actor, Capability, grant_in_force_at, next_term_change};
use crate::model::*;
use crate::rules::{self, FieldErrors, IdNumber, PersonInput, ValidPerson};
use crate::store::{self, PeopleFilter};

mod accounts;
mod attachments;
mod audit_search;
mod grants;
pub mod hashing;
mod import;
mod import_job;
mod mfa;
mod my_data;
mod reveal;
mod rights;
pub use accounts::{
    DormantReview, NO_ROLE_LEFT, SHARED_FLAG_DAYS, SecurityNotification, SharedAccountFlag, SharedReviewInput,
    shared_signs_label,
};
pub use attachments::{Quarantine, QuarantinedFile, QuarantinedUpload, ReleaseInput, RescanReport};
pub use audit_search::{AUDIT_PAGE, AuditPage, AuditQuery};
pub use grants::{AccountGrants, GrantState, GrantView, WithdrawInput, grant_state};
pub use import::{Export, ImportProgress, ImportReport, ImportStep, MAX_IMPORT_ROWS, OrgTally, system_actor};
pub use import_job::{IMPORT_JOB_STALE, ImportJob, ImportJobStatus};
pub use mfa::{ChallengeState, Enrolled, Enrolment, MfaStatus};
pub use my_data::{PLATFORM_ERASED_TABLES, PLATFORM_TABLES};
pub use reveal::{AccessEntry, SealedField, beijing};
pub use rights::{Arrangement, ArrangementInput, Decision, Requested, RightsInput, RightsRequest, expire_copy_links};

/// The one error type of the platform crate. `code()` is the stable API code; `message()` the Chinese
/// text users read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    /// The password was right; the second factor is still needed (`enrolled`) or must first be set up.
    /// `challenge` continues this login without asking for the password again.
    #[error("a second factor is required")]
    SecondFactor { challenge: String, enrolled: bool },
    #[error("wrong one-time password or recovery code")]
    BadSecondFactor,
    /// A sensitive action needs the password (and second factor) again within the last minutes.
    #[error("re-authentication required")]
    ReauthRequired,
    /// A rate limit was reached; the message says which; try again after `retry_after` seconds.
    #[error("rate limited")]
    TooMany { message: String, retry_after: u64 },
    /// More sign-ins are waiting for password hashing than the queue allows ([`Settings::signin_queue`]): this
    /// one was refused before anything was looked up or written; try again after `retry_after` seconds.
    #[error("too many sign-ins at once")]
    SigninBusy { retry_after: u64 },
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The virus scanner (clamd) is configured but gave no verdict: the upload was refused, nothing stored
    /// (fail closed, security.md AT-21).
    #[error("virus scanner unavailable")]
    ScanUnavailable,
    /// A stored file in which a rescan found the named signature (`dangjian uploads rescan`, security.md
    /// AT-21): kept for the security administrator, never served.
    #[error("quarantined: {0}")]
    Quarantined(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Security(#[from] SecurityError),
}

impl Platform {
    /// Whether `password` matches any of `hashes` (argon2 off the async workers: [`hashing`]). A sign-in
    /// passes its place in the queue (taken first thing in [`Platform::login`]); other callers wait without one.
    pub(crate) async fn password_matches(
        &self,
        place: Option<hashing::SigninPlace>,
        password: &str,
        hashes: Vec<String>,
    ) -> Result<bool> {
        let (params, password) = (self.settings.passwords, password.to_owned());
        self.hashing.run(place, move || hashes.iter().any(|h| params.verify(&password, h))).await
    }

    /// A new argon2id hash of `password` (off the async workers: [`hashing`]).
    pub(crate) async fn hash_password(&self, place: Option<hashing::SigninPlace>, password: &str) -> Result<String> {
        let (params, password) = (self.settings.passwords, password.to_owned());
        Ok(self.hashing.run(place, move || params.hash(&password)).await??)
    }

    /// Takes every hashing permit of this platform until the answer is dropped: sign-ins then queue, and
    /// beyond [`Settings::signin_queue`] are refused with [`Error::SigninBusy`]. For tests and drills.
    pub async fn hold_hashing(&self) -> Result<hashing::HashingHeld> {
        self.hashing.hold().await
    }

    /// Sign-ins waiting for a hashing permit now (at most [`Settings::signin_queue`]).
    pub fn signins_waiting(&self) -> usize {
        self.hashing.waiting()
    }

    /// Sign-ins refused for load ([`Error::SigninBusy`]) since this platform started.
    pub fn signins_refused(&self) -> u64 {
        self.hashing.refused()
    }
}

impl From<crate::limits::Exceeded> for Error {
    fn from(e: crate::limits::Exceeded) -> Error {
        Error::TooMany { message: e.bucket.message().into(), retry_after: e.retry_after }
    }
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound => "not_found",
            Error::Forbidden => "forbidden",
            Error::Unauthenticated => "unauthenticated",
            Error::BadCredentials => "bad_credentials",
            Error::SecondFactor { enrolled: true, .. } => "mfa_required",
            Error::SecondFactor { enrolled: false, .. } => "mfa_enrollment_required",
            Error::BadSecondFactor => "bad_second_factor",
            Error::ReauthRequired => "reauth_required",
            Error::TooMany { .. } => "rate_limited",
            Error::SigninBusy { .. } => "busy",
            Error::Invalid(_) => "validation_failed",
            Error::Conflict(_) => "conflict",
            Error::ScanUnavailable => "scan_unavailable",
            Error::Quarantined(_) => "quarantined",
            Error::Db(DbError::Busy) => "busy",
            Error::Db(DbError::AuditUnavailable(_)) => "audit_unavailable",
            Error::Db(_) | Error::Security(_) => "internal",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Error::NotFound => "未找到该记录，或您无权查看".into(),
            Error::Forbidden => "您没有执行此操作的权限".into(),
            Error::Unauthenticated => "请先登录".into(),
            Error::BadCredentials => "用户名或密码错误；连续输错多次，账号将被临时锁定".into(),
            Error::SecondFactor { enrolled: true, .. } => "请输入手机验证器（身份验证器应用）中的6位动态口令".into(),
            Error::SecondFactor { enrolled: false, .. } => {
                "该账号须使用二次认证（动态口令）登录，请先用手机身份验证器绑定".into()
            }
            Error::BadSecondFactor => "动态口令或恢复码错误；动态口令每30秒更新，且每个只能使用一次".into(),
            Error::ReauthRequired => "此操作较为敏感，请重新验证身份（10分钟内有效）后再试".into(),
            Error::Invalid(_) => "提交的内容有误，请按提示修改".into(),
            Error::Conflict(m) => (*m).into(),
            Error::ScanUnavailable => "病毒扫描服务暂不可用，文件未保存；请稍后重试，或联系信息中心".into(),
            Error::Quarantined(signature) => {
                format!("该文件在病毒复查中检出病毒（{signature}），已隔离，不能下载；如有疑问请联系安全管理员")
            }
            Error::TooMany { message, .. } => message.clone(),
            Error::SigninBusy { retry_after } => format!("登录人数较多，请稍后再试（约{retry_after}秒）"),
            Error::Db(DbError::Busy) => "系统繁忙，请稍后重试".into(),
            Error::Db(DbError::AuditUnavailable(_)) => {
                "审计日志暂时无法写入，为保证操作可追溯，本操作未执行；请稍后重试，或联系信息中心".into()
            }
            Error::Db(_) | Error::Security(_) => "系统内部错误，请联系信息中心并提供请求编号".into(),
        }
    }

    pub fn field(name: &str, msg: impl Into<String>) -> Error {
        Error::Invalid(BTreeMap::from([(name.to_string(), msg.into())]))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Who is asking, from where: what every audit entry records besides the actor.
#[derive(Clone, Debug, Default)]
pub struct Ctx {
    pub request_id: String,
    pub ip: String,
    pub user_agent: String,
}

/// Tunables of the platform (sessions, password hashing, the second factor).
#[derive(Clone, Debug)]
pub struct Settings {
    pub passwords: PasswordParams,
    /// A web session ends after this long without a request.
    pub session_idle: Duration,
    /// The same for administrators and org staff (security.md AT-4: 15 minutes).
    pub session_idle_privileged: Duration,
    /// How recent the last proof of identity must be for a sensitive action (security.md AT-7).
    pub reauth_window: Duration,
    /// How long a right password waits for its second factor.
    pub challenge_ttl: Duration,
    /// A web session ends this long after login, whatever happens.
    pub session_absolute: Duration,
    /// An API token's lifetime.
    pub token_ttl: Duration,
    /// Administrators and org staff need a second factor (api-contract: DANGJIAN_MFA_REQUIRED).
    pub mfa_required: bool,
    /// How long an instance may reuse an organization's row and a people-list page without asking the
    /// database (the caller behind a token: `session_cache_ttl`). This instance forgets an entry the moment
    /// it changes it; the other instances on the same PostgreSQL are told by the cache channel, and this
    /// bounds only what they miss while their listening connection is down.
    pub cache_ttl: Duration,
    /// How long an instance reuses the caller behind a session token. Longer than `cache_ttl`: a member's
    /// requests come half a minute apart, and every change that ends or alters a session removes the entry
    /// here at once and on the other instances by the cache channel, so this bounds only what an instance
    /// misses while its listening connection is down (it forgets every session when it reconnects).
    pub session_cache_ttl: Duration,
    /// Failed passwords in a row that lock an account (per account, never per address).
    pub lockout_threshold: i64,
    /// How long a locked account stays locked.
    pub lockout_duration: Duration,
    /// The nightly account review disables an account not linked to a person once every role it had
    /// ended more than this many days ago (security.md AT-16; 等保 §8.1.4.2 c).
    pub dormant_account_days: u32,
    /// The per-user rate limits of `crate::limits` (AT-35). Only test suites that call far faster than a
    /// person switch them off; their own tests run with them on.
    pub rate_limits: bool,
    /// ClamAV's clamd, which scans every upload when set (security.md AT-21; `[uploads] clamd`). Unreachable
    /// or failing, it refuses the upload (fail closed). `None`: the built-in checks only.
    pub clamd: Option<crate::clamd::Clamd>,
    /// How many sign-ins may wait for a hashing permit (one per core) before more are refused at once with
    /// 503 and `Retry-After` (AT-35's global limit, [`hashing`]). Default: [`hashing::SIGNINS_QUEUED_PER_CORE`]
    /// per core, about a second of argon2 work (`signin_queue` in the settings file).
    pub signin_queue: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            passwords: PasswordParams::default(),
            session_idle: Duration::from_secs(30 * 60),
            session_idle_privileged: Duration::from_secs(15 * 60),
            reauth_window: Duration::from_secs(10 * 60),
            challenge_ttl: Duration::from_secs(5 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            token_ttl: Duration::from_secs(12 * 3600),
            mfa_required: true,
            cache_ttl: Duration::from_secs(2),
            session_cache_ttl: Duration::from_secs(60),
            lockout_threshold: 5,
            lockout_duration: Duration::from_secs(30 * 60),
            dormant_account_days: 30,
            rate_limits: true,
            clamd: None,
            signin_queue: hashing::default_signin_queue(),
        }
    }
}

/// The platform service: the database, the field cipher, and the settings.
pub struct Platform {
    pub db: Db,
    cipher: FieldCipher,
    pub settings: Settings,
    /// Per-user rate limits (AT-35), counted across instances on PostgreSQL.
    pub limits: crate::limits::Limiter,
    /// The hashing permits and the sign-in queue (AT-35's global limit), of this instance.
    hashing: hashing::Hashing,
    /// A hash of a random password with this platform's parameters, made on first need: an unknown or locked
    /// account's sign-in is checked against it, so it costs what a real check costs (timing tells nothing
    /// about the account) and uses the same reused working memory (`PasswordParams::verify`).
    decoy_hash: tokio::sync::OnceCell<String>,
    /// Sessions by their token's hash; a logout ends its own entry only (see [`EndableCache`]).
    callers: EndableCache<Vec<u8>, CachedSession>,
    orgs: TtlCache<i64, OrgRow>,
    /// Bumped after every commit that ends sessions. A cached session is used only while its generation
    /// is current, so no request in flight can bring back a session that has just ended.
    session_generation: std::sync::atomic::AtomicU64,
    /// Pages of the people list, for `cache_ttl`, while `people_generation` is unchanged.
    pages: TtlCache<PageKey, (u64, Arc<PeoplePage>)>,
    /// Bumped after every commit that changes people or organizations on this instance, so this
    /// instance never serves a list page older than its own last write.
    people_generation: std::sync::atomic::AtomicU64,
    /// The import jobs this instance is working on, with their progress (import_job.rs).
    import_live: std::sync::Mutex<HashMap<i64, Arc<ImportProgress>>>,
    /// Names this process in `import_jobs.worker`.
    worker: String,
}

/// What decides a people-list page: the caller's readable ranges (not the caller: two secretaries of one
/// branch share their pages), the filters and the position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PageKey {
    ranges: Vec<String>,
    org_id: Option<i64>,
    stage: Option<String>,
    category: Option<String>,
    text: Option<String>,
    id_number_bidx: Option<Vec<u8>>,
    cursor: Option<String>,
    skip_pages: i64,
    per_page: i64,
}

/// A session as a request needs it, kept for `cache_ttl` (see [`Settings::cache_ttl`]).
#[derive(Clone, Debug)]
struct CachedSession {
    generation: u64,
    session_id: i64,
    web: bool,
    last_seen_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    revoked: bool,
    active: bool,
    actor: Actor,
    /// When a grant of the account begins or ends next (00:00 Beijing time): the grants in force are
    /// judged again from then on, however fresh the cache (security.md AT-16).
    grants_until: Option<OffsetDateTime>,
    /// The password is older than its period ([`rules::password_expired`]): every route but the change
    /// of password answers `password_expired` (security.md AT-1).
    password_expired: bool,
}

/// A live session: who calls, and whether the password must be changed before anything else.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub actor: Actor,
    pub password_expired: bool,
}

/// The PostgreSQL notification channel on which instances announce changes that make caches stale.
pub const CACHE_CHANNEL: &str = "dangjian_cache";
/// What [`Platform::follow_other_instances`] tells its listener when anything may have been missed.
pub const ANNOUNCE_ALL: &str = "*";
/// The announcement of one ended session: this prefix and the hex of its token's hash.
const SESSION_ENDED: &str = "session:";

/// Tells the other instances of this PostgreSQL that `what` changed (after the commit), so that they drop
/// their cached copy at once: for state cached outside the platform, such as the maintenance switch. Does
/// nothing on SQLite.
pub async fn announce_to_other_instances(db: &Db, what: &str) {
    store::notify_cache(db, CACHE_CHANNEL, what).await;
}

const COL_ID_NUMBER: &str = "people.id_number";
const COL_PHONE: &str = "people.phone";
const COL_ADDRESS: &str = "people.address";

pub(crate) fn now() -> OffsetDateTime {
    kernel::clock::now_utc()
}

pub(crate) fn event(
    actor: Option<&Actor>,
    ctx: &Ctx,
    action: &str,
    target: String,
    result: &str,
    detail: String,
) -> Event {
    Event {
        actor_id: actor.map(|a| a.user_id).filter(|id| *id > 0),
        actor: actor.map(|a| a.username.clone()).unwrap_or_else(|| "-".into()),
        roles: actor.map(Actor::audit_roles).unwrap_or_default(),
        org_scope: actor.map(Actor::audit_scope).unwrap_or_default(),
        action: action.into(),
        target,
        result: result.into(),
        request_id: ctx.request_id.clone(),
        ip: ctx.ip.clone(),
        detail,
    }
}

/// A new account, as the API takes it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewUserInput {
    #[schema(example = "zhang_san")]
    pub username: String,
    pub password: String,
    #[schema(example = "张三")]
    pub display_name: String,
    pub person_id: Option<i64>,
    #[serde(default)]
    pub grants: Vec<GrantInput>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct GrantInput {
    /// system_admin, security_admin, audit_admin, org_staff, branch_secretary, leader, member.
    #[schema(example = "branch_secretary")]
    pub role: String,
    pub org_id: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<Date>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct NewOrgInput {
    #[schema(example = "信息学院党委")]
    pub name: String,
    /// committee, college_committee, general_branch, branch, group.
    #[schema(example = "college_committee")]
    pub kind: String,
    pub parent_id: Option<i64>,
    /// student, faculty, retired, mixed.
    #[schema(example = "mixed")]
    pub category: String,
    pub short_name: Option<String>,
    pub secretary: Option<String>,
    pub contact_phone: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub established_on: Option<Date>,
}

/// Query of the people list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct PeopleQuery {
    /// The subtree to list (default: everything the caller may read).
    pub org_id: Option<i64>,
    pub stage: Option<String>,
    pub category: Option<String>,
    /// Name (part of it), student/staff number, or a whole ID number.
    pub q: Option<String>,
    /// Keyset cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Offset paging for API clients that want it (1-based); the cursor is faster.
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PeoplePage {
    /// The organization listed below, when one was asked for (for the page's heading).
    #[serde(skip)]
    pub org: Option<Org>,
    pub items: Vec<Person>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many match, when it can be known without scanning (filters by org, stage, category only).
    pub total: Option<i64>,
}

/// A session or token handed out at login.
#[derive(Clone, Debug)]
pub struct Login {
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub actor: Actor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn code(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

impl Platform {
    pub fn new(db: Db, keys: &KeyRing, settings: Settings) -> Result<Platform> {
        Ok(Platform {
            db,
            cipher: FieldCipher::new(keys)?,
            limits: crate::limits::Limiter::default(),
            hashing: hashing::Hashing::new(settings.signin_queue),
            decoy_hash: tokio::sync::OnceCell::new(),
            // A campus's signed-in members, with room: a full cache drops what has expired, then everything.
            callers: EndableCache::new(settings.session_cache_ttl, 100_000),
            orgs: TtlCache::new(settings.cache_ttl, 50_000),
            session_generation: std::sync::atomic::AtomicU64::new(0),
            pages: TtlCache::new(settings.cache_ttl, 2_000),
            people_generation: std::sync::atomic::AtomicU64::new(0),
            import_live: std::sync::Mutex::new(HashMap::new()),
            worker: import_job::worker_name(),
            settings,
        })
    }

    /// Counts one request of `subject` toward `bucket`'s limit ([`crate::limits`]); refused beyond it.
    pub async fn limit(&self, bucket: crate::limits::Bucket, subject: &str) -> Result<(), crate::limits::Exceeded> {
        if !self.settings.rate_limits {
            return Ok(());
        }
        self.limits.hit(&self.db, bucket, subject).await
    }

    /// The person registered under an ID number (by its blind index; the number is never stored in the clear),
    /// for a caller that has already checked its own scope on the answer. A malformed number is `None`.
    pub async fn person_id_by_id_number(&self, raw: &str) -> Result<Option<i64>> {
        let Ok(id) = IdNumber::parse(raw) else { return Ok(None) };
        Ok(store::person_by_bidx(&self.db, &self.cipher.blind_index(COL_ID_NUMBER, id.as_str())).await?)
    }

    /// The installation's crypto profile (AES-256-GCM + SHA-256, or 国密 SM4-GCM + SM3).
    pub fn crypto_profile(&self) -> security::profile::Profile {
        self.cipher.profile()
    }

    /// An organization's row, from the cache when fresh.
    async fn org_row(&self, id: i64) -> Result<Option<OrgRow>> {
        if let Some(row) = self.orgs.get(&id) {
            return Ok(Some(row));
        }
        let row = store::get_org(&self.db, id).await?;
        if let Some(r) = &row {
            self.orgs.put(id, r.clone());
        }
        Ok(row)
    }

    // ------------------------------------------------------------ accounts and sessions

    /// On a database with no account, creates the system administrator `admin`. Returns the password
    /// when it was generated (to be printed once).
    pub async fn bootstrap_admin(&self, password: Option<&str>) -> Result<Option<String>> {
        if store::count_users(&self.db).await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match password {
            Some(p) => (p.to_string(), false),
            None => (generate_password()?, true),
        };
        let hash = self.hash_password(None, &password).await?;
        let t = now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_user(
            &mut tx,
            &store::NewUser {
                username: "admin",
                display_name: "系统管理员",
                password_hash: &hash,
                person_id: None,
                now: t,
            },
        )
        .await?;
        store::insert_grant(
            &mut tx,
            &store::NewGrant {
                user_id: id,
                role: Role::SystemAdmin.code(),
                org_id: None,
                starts_on: None,
                ends_on: None,
                created_by: None,
                now: t,
            },
        )
        .await?;
        let ctx = Ctx { request_id: "bootstrap".into(), ip: "-".into(), ..Ctx::default() };
        let mut e = event(None, &ctx, "account.bootstrap", "user:admin".into(), "ok", "system_admin".into());
        e.actor = "system".into();
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        Ok(generated.then_some(password))
    }

    /// Checks a username and password and opens a session (web) or a token (API). Where a second factor
    /// is needed, `otp` may carry it (a 6-digit code or a recovery code); without it the answer is
    /// [`Error::SecondFactor`] with a challenge that [`Platform::login_second_factor`] completes.
    pub async fn login(
        &self,
        ctx: &Ctx,
        username: &str,
        password: &str,
        otp: Option<&str>,
        kind: SessionKind,
    ) -> Result<Login> {
        let username = username.trim();
        // The global limit first (AT-35, [`hashing`]): refused for load, a sign-in has looked nothing up,
        // counted nothing and written nothing, whatever the name.
        let place = self.hashing.enter_signin()?;
        // Per account name, never per address (AT-35): before any work, so a flood costs no argon2 either.
        let subject: String = username.chars().take(64).collect::<String>().to_lowercase();
        if let Err(e) = self.limit(crate::limits::Bucket::Login, &subject).await {
            let target = format!("user:{subject}");
            audit::append_alone(&self.db, event(None, ctx, "auth.login", target, "denied", "rate limited".into()))
                .await?;
            return Err(e.into());
        }
        let user = store::user_by_username(&self.db, username).await?;
        let t = now();
        let locked = user.as_ref().is_some_and(|u| u.locked_until.is_some_and(|l| l > t));
        let ok = match &user {
            // Verify first: skipping argon2 for a deactivated account would tell which accounts exist.
            Some(u) if !locked => {
                self.password_matches(Some(place), password, vec![u.password_hash.clone()]).await? && u.active
            }
            _ => {
                // Spend the same time as a real check, so timing tells nothing about the account.
                // Made once: a wave of unknown names waits for the one being made rather than each making its own.
                let decoy = self
                    .decoy_hash
                    .get_or_try_init(|| async {
                        let mut secret = [0u8; 24];
                        security::random_bytes(&mut secret)?;
                        self.hash_password(None, &hex::encode(secret)).await
                    })
                    .await?
                    .clone();
                let _ = self.password_matches(Some(place), password, vec![decoy]).await;
                false
            }
        };
        let target = format!("user:{}", username.chars().take(64).collect::<String>());
        let user_id = user.as_ref().map(|u| u.id);
        let Some(user) = user.filter(|_| ok) else {
            let mut detail = if locked { "locked".to_string() } else { String::new() };
            if let Some(id) = user_id.filter(|_| !locked) {
                let until = t + self.settings.lockout_duration;
                if store::record_login_failure(&self.db, id, self.settings.lockout_threshold, until).await? {
                    detail = format!("locked until {until}");
                }
            }
            audit::append_alone(&self.db, event(None, ctx, "auth.login", target, "failed", detail)).await?;
            return Err(Error::BadCredentials);
        };
        let actor = self.actor_of(&user).await?;
        let factor = store::totp_of(&self.db, user.id).await?;
        let enrolled = factor.as_ref().is_some_and(|f| f.confirmed_at.is_some());
        let role_needs_mfa = actor.is_privileged();
        // Whoever set up an authenticator uses it, required or not.
        let needs_mfa = enrolled || (self.settings.mfa_required && role_needs_mfa);
        let mut tx = self.db.begin().await?;
        let mut how = kind.code().to_string();
        if needs_mfa {
            let Some(code) = otp.map(str::trim).filter(|c| !c.is_empty() && enrolled) else {
                drop(tx);
                let challenge = self.new_challenge(user.id, kind).await?;
                audit::append_alone(
                    &self.db,
                    event(Some(&actor), ctx, "auth.login", target, "challenge", "second_factor".into()),
                )
                .await?;
                return Err(Error::SecondFactor { challenge, enrolled });
            };
            if !self.use_second_factor(&mut tx, user.id, code).await? {
                drop(tx);
                return Err(self.second_factor_failed(ctx, &actor, user.id, None).await?);
            }
            how.push_str("+totp");
        }
        let login = self.open_session(&mut tx, ctx, &user, actor, kind, &how).await?;
        tx.commit().await?;
        Ok(login)
    }

    /// Opens a session for a user whose password (and second factor, where needed) were just checked,
    /// in the caller's transaction.
    pub(crate) async fn open_session(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        user: &UserRow,
        mut actor: Actor,
        kind: SessionKind,
        how: &str,
    ) -> Result<Login> {
        let token = token::new_token()?;
        let t = now();
        let ttl = match kind {
            SessionKind::Web => self.settings.session_absolute,
            SessionKind::Api => self.settings.token_ttl,
        };
        let expires_at = t + ttl;
        store::clear_login_failures(tx, user.id).await?;
        store::insert_session(
            tx,
            &store::NewSession {
                token_hash: &token::hash(&token),
                user_id: user.id,
                kind: kind.code(),
                now: t,
                expires_at,
                ip: &ctx.ip,
                user_agent: &ctx.user_agent.chars().take(200).collect::<String>(),
            },
        )
        .await?;
        actor.reauth_at = Some(t);
        let target = format!("user:{}", user.username);
        audit::append(tx, event(Some(&actor), ctx, "auth.login", target.clone(), "ok", how.into())).await?;
        // No shared accounts (security.md §a.1 c): flagged for the security administrator, never blocked
        // (a heuristic; the person may be travelling between networks).
        let since = t - rules::SHARED_ACCOUNT_WINDOW;
        let clients = store::recent_session_clients(tx, user.id, since, t).await?;
        if let Some((addresses, devices)) = rules::shared_account_signs(&clients) {
            let detail = format!(
                "addresses:{addresses} devices:{devices} within:{}min ({})",
                rules::SHARED_ACCOUNT_WINDOW.whole_minutes(),
                rules::CITE_SHARED_ACCOUNT
            );
            audit::append(tx, event(Some(&actor), ctx, "auth.shared_account", target, "flagged", detail.clone()))
                .await?;
            // The security administrators are told on their home page until one of them reviews it.
            store::raise_security_notification(tx, accounts::NOTIFY_SHARED_ACCOUNT, user.id, &detail, t).await?;
            tracing::warn!(user = user.id, addresses, devices, "account possibly shared");
        }
        Ok(Login { token, expires_at, actor })
    }

    /// The actor behind a session token, if the session is alive. Web sessions also end after
    /// `session_idle` without a request.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        Ok(self.session(token).await?.actor)
    }

    /// [`Platform::authenticate`] with what the web layer needs besides the actor.
    pub async fn session(&self, token: &str) -> Result<SessionInfo> {
        let hash = token::hash(token);
        // The generation is read before the database, so an entry loaded across a logout's commit is
        // tagged with the old generation and never used again.
        let generation = self.session_generation.load(std::sync::atomic::Ordering::SeqCst);
        let t = now();
        let cached = self.callers.get(&hash).filter(|s| s.generation == generation);
        let mut s = match cached.filter(|s| s.grants_until.is_none_or(|u| t < u)) {
            Some(s) => s,
            None => {
                let mut s = self.load_session(&hash).await?.ok_or(Error::Unauthenticated)?;
                s.generation = generation;
                self.callers.remember(hash.clone(), s.clone());
                s
            }
        };
        let idle =
            if s.actor.is_privileged() { self.settings.session_idle_privileged } else { self.settings.session_idle };
        let idle_over = s.web && s.last_seen_at + idle < t;
        if s.revoked || s.expires_at <= t || idle_over || !s.active {
            return Err(Error::Unauthenticated);
        }
        // Writing last_seen on every request would make every read a write; a minute's grain is enough.
        if t - s.last_seen_at > Duration::from_secs(60) {
            store::touch_session(&self.db, s.session_id, t).await?;
            s.last_seen_at = t;
            self.callers.remember(hash, s.clone());
        }
        Ok(SessionInfo { password_expired: s.password_expired, actor: s.actor })
    }

    /// After a commit that ended one session (a logout): its cached entry goes, here at once and through
    /// [`CACHE_CHANNEL`] on every other instance; every other session stays cached.
    async fn session_ended(&self, hash: &[u8]) {
        self.forget_session(hash);
        let what = format!("{SESSION_ENDED}{}", hex::encode(hash));
        store::notify_cache(&self.db, CACHE_CHANNEL, &what).await;
    }

    /// Drops one cached session of this instance (its token's hash): its next use reads the database.
    pub fn forget_session(&self, hash: &[u8]) {
        self.callers.end(hash.to_vec());
    }

    /// After a commit that ended sessions: every cached session is reloaded before its next use, here at
    /// once and, through [`CACHE_CHANNEL`], on every other instance of the same PostgreSQL.
    async fn sessions_ended(&self) {
        self.forget_sessions();
        store::notify_cache(&self.db, CACHE_CHANNEL, "sessions").await;
    }

    /// Drops this instance's cached sessions (their next use reads the database).
    pub fn forget_sessions(&self) {
        self.session_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Drops this instance's cached list pages.
    pub fn forget_pages(&self) {
        self.people_generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// On PostgreSQL, keeps this instance's caches in step with the others: every change another instance
    /// announces on [`CACHE_CHANNEL`] drops the matching cache here within milliseconds, so a logout, an
    /// ended session or a changed record is never served from a stale cache for its `cache_ttl`. Runs until
    /// the process ends; when the listening connection drops it reconnects, and `cache_ttl` bounds what is
    /// missed meanwhile. Does nothing on SQLite (one instance).
    ///
    /// `also` hears every announcement too (the payload, e.g. `"maintenance"`, or [`ANNOUNCE_ALL`] after a
    /// (re)connect), for the caches that live outside the platform.
    pub async fn follow_other_instances(self: std::sync::Arc<Self>, also: impl Fn(&str) + Send + 'static) {
        let kernel::Db::Postgres(pool) = &self.db else {
            return;
        };
        loop {
            match store::listen(pool, CACHE_CHANNEL).await {
                Ok(mut listener) => {
                    // Whatever happened while no one listened: start from the database.
                    self.forget_sessions();
                    self.forget_pages();
                    also(ANNOUNCE_ALL);
                    while let Ok(n) = listener.recv().await {
                        match n.payload() {
                            "sessions" => self.forget_sessions(),
                            one if one.starts_with(SESSION_ENDED) => match hex::decode(&one[SESSION_ENDED.len()..]) {
                                Ok(hash) => self.forget_session(&hash),
                                Err(_) => self.forget_sessions(),
                            },
                            "people" => self.forget_pages(),
                            other => {
                                self.forget_pages();
                                also(other);
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cache notifications unavailable; caches expire by time"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The context words of an account's password ([`rules::password_context`]): the account's name and,
    /// when it is linked to a person, her name and birthday; and the university's name
    /// ([`rules::password_university`], from the top organizations).
    async fn check_password_context(
        &self,
        password: &str,
        display_name: &str,
        person_id: Option<i64>,
    ) -> Result<std::result::Result<(), &'static str>> {
        let person = match person_id {
            Some(pid) => store::get_person(&self.db, pid).await?,
            None => None,
        };
        let mut names = vec![display_name];
        if let Some(p) = &person {
            names.push(&p.name);
        }
        let tops = store::org_children(&self.db, None).await?;
        let top_names: Vec<&str> = tops.iter().map(|o| o.name.as_str()).collect();
        Ok(rules::password_context(password, &names, person.as_ref().map(|p| p.birth_date))
            .and_then(|()| rules::password_university(password, &top_names)))
    }

    /// A person's ID number in clear, for the password rule only (never shown, never logged).
    async fn id_number_of(&self, person_id: Option<i64>) -> Result<Option<String>> {
        let Some(pid) = person_id else {
            return Ok(None);
        };
        match store::person_id_number_enc(&self.db, pid).await? {
            Some(enc) => Ok(Some(self.cipher.decrypt(COL_ID_NUMBER, &enc)?)),
            None => Ok(None),
        }
    }

    /// A keyed MAC of `text` for `purpose` (short-lived signed tokens such as a meeting's sign-in QR code),
    /// under the blind-index key: never stored, only compared.
    pub fn sign(&self, purpose: &str, text: &str) -> Vec<u8> {
        self.cipher.blind_index(purpose, text)
    }

    /// After a commit that changed people or organizations: every cached list page is read again before
    /// its next use, here and on the other instances. The applications call this after their own commits
    /// that move or change people.
    pub async fn people_changed(&self) {
        self.forget_pages();
        store::notify_cache(&self.db, CACHE_CHANNEL, "people").await;
    }

    async fn load_session(&self, hash: &[u8]) -> Result<Option<CachedSession>> {
        let rows = store::session_actor(&self.db, hash).await?;
        let Some(s) = rows.first() else {
            return Ok(None);
        };
        let t = now();
        let grants: Vec<Grant> = rows
            .iter()
            .filter(|r| r.role.is_some() && grant_in_force_at(r.starts_on, r.ends_on, t))
            .filter_map(|r| {
                Some(Grant {
                    role: Role::parse(r.role.as_deref()?)?,
                    org_id: r.org_id,
                    org_name: r.org_name.clone(),
                    org_path: r.org_path.clone(),
                    starts_on: r.starts_on,
                    ends_on: r.ends_on,
                })
            })
            .collect();
        let grants_until =
            next_term_change(rows.iter().filter(|r| r.role.is_some()).map(|r| (r.starts_on, r.ends_on)), t);
        let privileged = grants.iter().any(|g| g.role.is_system_wide() || g.role == Role::OrgStaff);
        Ok(Some(CachedSession {
            grants_until,
            password_expired: rules::password_expired(s.password_changed_at, privileged, t),
            generation: 0,
            session_id: s.session_id,
            web: s.kind == SessionKind::Web.code(),
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            revoked: s.revoked_at.is_some(),
            active: s.active,
            actor: Actor {
                user_id: s.user_id,
                username: s.username.clone(),
                display_name: s.display_name.clone(),
                person_id: s.person_id,
                grants,
                reauth_at: s.reauth_at,
            },
        }))
    }

    async fn actor_of(&self, user: &UserRow) -> Result<Actor> {
        let t = now();
        let grants = store::grants_of(&self.db, user.id)
            .await?
            .into_iter()
            .filter(|g| grant_in_force_at(g.4, g.5, t))
            .filter_map(|(role, org_id, org_name, org_path, starts_on, ends_on)| {
                Some(Grant { role: Role::parse(&role)?, org_id, org_name, org_path, starts_on, ends_on })
            })
            .collect();
        Ok(Actor {
            user_id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            person_id: user.person_id,
            grants,
            reauth_at: None,
        })
    }

    pub async fn logout(&self, ctx: &Ctx, actor: &Actor, token: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        store::revoke_session(&mut tx, &token::hash(token), now()).await?;
        audit::append(
            &mut tx,
            event(Some(actor), ctx, "auth.logout", format!("user:{}", actor.username), "ok", String::new()),
        )
        .await?;
        tx.commit().await?;
        self.session_ended(&token::hash(token)).await;
        Ok(())
    }

    /// Changes the caller's own password and ends the caller's other sessions.
    pub async fn change_password(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        old: &str,
        new: &str,
        keep_token: &str,
    ) -> Result<()> {
        let user = store::user_by_id(&self.db, actor.user_id).await?.ok_or(Error::Unauthenticated)?;
        // The old password is guessed against the same per-account lockout as a login, so a stolen
        // session cannot be used to find it.
        let t = now();
        if user.locked_until.is_some_and(|l| l > t) {
            return Err(Error::field("old_password", "输错次数过多，账号已临时锁定，请稍后再试"));
        }
        if !self.password_matches(None, old, vec![user.password_hash.clone()]).await? {
            let until = t + self.settings.lockout_duration;
            let locked = store::record_login_failure(&self.db, user.id, self.settings.lockout_threshold, until).await?;
            let detail = if locked { format!("locked until {until}") } else { String::new() };
            let target = format!("user:{}", user.username);
            audit::append_alone(&self.db, event(Some(actor), ctx, "account.password_change", target, "failed", detail))
                .await?;
            return Err(Error::field("old_password", "原密码不正确"));
        }
        let id_number = self.id_number_of(user.person_id).await?;
        check_password(new, &user.username, actor.is_privileged(), id_number.as_deref())
            .map_err(|m| Error::field("new_password", m))?;
        self.check_password_context(new, &user.display_name, user.person_id)
            .await?
            .map_err(|m| Error::field("new_password", m))?;
        // None of the last five (the current one and four before it), each checked with argon2.
        let history = store::password_history(&self.db, user.id, rules::PASSWORD_HISTORY as i64 - 1).await?;
        let used: Vec<String> = std::iter::once(user.password_hash.clone()).chain(history).collect();
        if self.password_matches(None, new, used).await? {
            return Err(Error::field("new_password", "新密码不能与最近5次使用过的密码相同"));
        }
        let hash = self.hash_password(None, new).await?;
        let t = now();
        let mut tx = self.db.begin().await?;
        store::push_password_history(&mut tx, user.id, &user.password_hash, t, rules::PASSWORD_HISTORY as i64 - 1)
            .await?;
        store::set_password(&mut tx, user.id, &hash, t).await?;
        // The session that made the change stays signed in; every other one ends.
        store::revoke_user_sessions(&mut tx, user.id, &token::hash(keep_token), t).await?;
        audit::append(
            &mut tx,
            event(Some(actor), ctx, "account.password_change", format!("user:{}", user.username), "ok", String::new()),
        )
        .await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(())
    }

    pub async fn create_user(&self, ctx: &Ctx, actor: &Actor, input: &NewUserInput) -> Result<i64> {
        if !actor.can_somewhere(Capability::AccountAdmin) {
            return Err(self.refuse(ctx, actor, "account.create", "user:new").await?);
        }
        if !input.grants.is_empty() && !self.may_grant(actor).await? {
            return Err(self.refuse(ctx, actor, "account.create", "user:new").await?);
        }
        // Granting a role is a sensitive action (security.md AT-7).
        if !input.grants.is_empty() {
            self.require_recent_auth(actor)?;
        }
        let mut errors = FieldErrors::new();
        let username = input.username.trim();
        if !(3..=32).contains(&username.len())
            || !username.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            errors.insert("username".into(), "用户名为3-32位字母、数字、下划线、点或连字符".into());
        }
        let display_name = input.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 50 {
            errors.insert("display_name".into(), "请填写姓名（不超过50字）".into());
        }
        let privileged = input
            .grants
            .iter()
            .any(|g| Role::parse(&g.role).is_some_and(|r| r.is_system_wide() || r == Role::OrgStaff));
        let id_number = self.id_number_of(input.person_id).await?;
        if let Err(m) = check_password(&input.password, username, privileged, id_number.as_deref()) {
            errors.insert("password".into(), m.into());
        } else if let Err(m) = self.check_password_context(&input.password, display_name, input.person_id).await? {
            errors.insert("password".into(), m.into());
        }
        if let Some(pid) = input.person_id
            && store::get_person(&self.db, pid).await?.is_none()
        {
            errors.insert("person_id".into(), "关联的人员不存在".into());
        }
        let mut grants = Vec::new();
        for (i, g) in input.grants.iter().enumerate() {
            match self.check_grant(g).await? {
                Ok(role) => grants.push((role, g)),
                Err(m) => {
                    errors.insert(format!("grants[{i}]"), m.into());
                }
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let hash = self.hash_password(None, &input.password).await?;
        let t = now();
        let mut tx = self.db.begin().await?;
        let new_user =
            store::NewUser { username, display_name, password_hash: &hash, person_id: input.person_id, now: t };
        let id = match store::insert_user(&mut tx, &new_user).await {
            Err(DbError::Conflict { constraint }) if constraint.contains("person") => {
                return Err(Error::field("person_id", "该人员已有账号"));
            }
            Err(DbError::Conflict { .. }) => {
                return Err(Error::field("username", "该用户名已被使用"));
            }
            other => other?,
        };
        for (role, g) in &grants {
            let ng = store::NewGrant {
                user_id: id,
                role: role.code(),
                org_id: g.org_id,
                starts_on: g.starts_on,
                ends_on: g.ends_on,
                // user 0 is the platform itself (demo set-up), which has no account row.
                created_by: (actor.user_id > 0).then_some(actor.user_id),
                now: t,
            };
            store::insert_grant(&mut tx, &ng).await?;
        }
        let roles: Vec<String> = grants
            .iter()
            .map(|(r, g)| format!("{}@{}", r.code(), g.org_id.map(|o| o.to_string()).unwrap_or_default()))
            .collect();
        audit::append(
            &mut tx,
            event(Some(actor), ctx, "account.create", format!("user:{username}"), "ok", roles.join(",")),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn check_grant(&self, g: &GrantInput) -> Result<Result<Role, &'static str>> {
        let Some(role) = Role::parse(&g.role) else {
            return Ok(Err("未知的角色"));
        };
        if let (Some(s), Some(e)) = (g.starts_on, g.ends_on)
            && e < s
        {
            return Ok(Err("任期结束日期不能早于开始日期"));
        }
        if role.is_system_wide() || role == Role::Member {
            return Ok(if g.org_id.is_some() && role != Role::Member {
                Err("系统管理角色不限定组织，请不要填写组织")
            } else {
                Ok(role)
            });
        }
        let Some(org_id) = g.org_id else {
            return Ok(Err("该角色需要指定所辖党组织"));
        };
        let Some(org) = self.org_row(org_id).await? else {
            return Ok(Err("所辖党组织不存在"));
        };
        let kind = OrgKind::parse(&org.kind).unwrap_or(OrgKind::Branch);
        if role == Role::BranchSecretary && !matches!(kind, OrgKind::Branch | OrgKind::GeneralBranch) {
            return Ok(Err("支部书记只能授予党支部或党总支"));
        }
        Ok(Ok(role))
    }

    /// Ends every session and token of a user (a lost phone, a departure). Account administrators only.
    pub async fn end_sessions(&self, ctx: &Ctx, actor: &Actor, user_id: i64) -> Result<()> {
        if !actor.can_somewhere(Capability::AccountAdmin) {
            return Err(self.refuse(ctx, actor, "account.end_sessions", &format!("user:{user_id}")).await?);
        }
        let user = store::user_by_id(&self.db, user_id).await?.ok_or(Error::NotFound)?;
        let mut tx = self.db.begin().await?;
        store::revoke_user_sessions(&mut tx, user.id, &[], now()).await?;
        let target = format!("user:{}", user.username);
        audit::append(&mut tx, event(Some(actor), ctx, "account.end_sessions", target, "ok", String::new())).await?;
        tx.commit().await?;
        self.sessions_ended().await;
        Ok(())
    }

    pub async fn list_users(&self, ctx: &Ctx, actor: &Actor, after_id: i64) -> Result<Vec<(UserRow, Vec<Grant>)>> {
        if !actor.can_somewhere(Capability::AccountAdmin) {
            return Err(self.deny(ctx, actor, "account.list", "user:*").await?);
        }
        let mut out = Vec::new();
        for u in store::list_users(&self.db, after_id, 100).await? {
            let grants = self.actor_of(&u).await?.grants;
            out.push((u, grants));
        }
        Ok(out)
    }

    /// Records a refused read and returns the error to answer with (not found: the caller learns nothing).
    async fn deny(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<Error> {
        self.record_refusal(ctx, actor, action, target).await?;
        Ok(Error::NotFound)
    }

    /// Records a refused write of a kind the caller's roles never allow, and answers 403.
    async fn refuse(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<Error> {
        self.record_refusal(ctx, actor, action, target).await?;
        Ok(Error::Forbidden)
    }

    /// Records a request the web layer refused before any service saw it (a forged or cross-site state
    /// change): the actor when the request carried a live session, `-` otherwise.
    pub async fn record_denied(&self, ctx: &Ctx, actor: Option<&Actor>, action: &str, target: &str) -> Result<()> {
        audit::append_alone(&self.db, event(actor, ctx, action, target.into(), "denied", String::new())).await?;
        Ok(())
    }

    async fn record_refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<()> {
        audit::append_alone(&self.db, event(Some(actor), ctx, action, target.into(), "denied", String::new())).await?;
        Ok(())
    }

    // ------------------------------------------------------------ organizations

    pub async fn create_org(&self, ctx: &Ctx, actor: &Actor, input: &NewOrgInput) -> Result<Org> {
        // A role that never creates organizations is refused before its input is looked at.
        if !actor.can_somewhere(Capability::OrgWrite) {
            return Err(self.refuse(ctx, actor, "org.create", "org:new").await?);
        }
        let mut errors = FieldErrors::new();
        let name = input.name.trim();
        if name.chars().count() < 2 || name.chars().count() > 100 {
            errors.insert("name".into(), "请填写组织全称（2-100字，与印章一致）".into());
        }
        let kind = OrgKind::parse(&input.kind);
        if kind.is_none() {
            errors.insert("kind".into(), "组织类型应为党委、二级党委、党总支、党支部或党小组".into());
        }
        let category = OrgCategory::parse(&input.category);
        if category.is_none() {
            errors.insert("category".into(), "组织类别应为学生、教工、离退休或混合".into());
        }
        if let Some(p) = input.contact_phone.as_deref().filter(|p| !p.trim().is_empty())
            && let Err(m) = rules::parse_phone(p)
        {
            errors.insert("contact_phone".into(), m.into());
        }
        if input.established_on.is_some_and(|d| d > kernel::dates::today()) {
            errors.insert("established_on".into(), "成立日期不能晚于今天".into());
        }
        let parent = match input.parent_id {
            None => {
                if !actor.can_everywhere(Capability::OrgWrite) {
                    return Err(self.refuse(ctx, actor, "org.create", "org:root").await?);
                }
                None
            }
            Some(pid) => {
                let parent = self.readable_org(ctx, actor, pid, "org.create").await.map_err(|e| match e {
                    Error::NotFound => Error::field("parent_id", "上级党组织不存在"),
                    other => other,
                })?;
                if !actor.can(Capability::OrgWrite, &parent.path) {
                    return Err(Error::Forbidden);
                }
                if let Some(k) = kind
                    && !parent.kind.allows_child(k)
                {
                    errors.insert("kind".into(), format!("{}下不能设立{}", parent.kind.label(), k.label()));
                }
                Some(parent)
            }
        };
        let (Some(kind), Some(category)) = (kind, category) else {
            return Err(Error::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let t = now();
        let new = store::NewOrg {
            parent_id: parent.as_ref().map(|p| p.id),
            name,
            short_name: input.short_name.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            kind: kind.code(),
            category: category.code(),
            parent_path: parent.as_ref().map(|p| p.path.as_str()).unwrap_or("/"),
            depth: parent.as_ref().map(|p| p.depth + 1).unwrap_or(0),
            secretary: input.secretary.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            contact_phone: input.contact_phone.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            established_on: input.established_on,
            now: t,
        };
        let mut tx = self.db.begin().await?;
        let id = match store::insert_org(&mut tx, &new).await {
            Err(DbError::Conflict { .. }) => {
                return Err(Error::field("name", "同一上级下已有同名组织"));
            }
            other => other?,
        };
        audit::append(
            &mut tx,
            event(Some(actor), ctx, "org.create", format!("org:{id}"), "ok", format!("{}:{}", kind.code(), name)),
        )
        .await?;
        let row = store::get_org_tx(&mut tx, id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        self.people_changed().await;
        Ok(Org::from_row(row))
    }

    /// An organization the actor may see, or `NotFound` (audited when it exists but is out of scope).
    async fn readable_org(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<Org> {
        let org = self.org_row(id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
        if actor.can(Capability::OrgRead, &org.path) {
            Ok(org)
        } else {
            Err(self.deny(ctx, actor, action, &format!("org:{id}")).await?)
        }
    }

    pub async fn get_org(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Org> {
        self.readable_org(ctx, actor, id, "org.read").await
    }

    /// The organizations from the root down to `org` that the actor may see (breadcrumbs).
    pub async fn lineage(&self, actor: &Actor, org: &Org) -> Result<Vec<Org>> {
        let ids = org.lineage();
        let mut rows: Vec<Org> = store::orgs_by_ids(&self.db, &ids).await?.into_iter().map(Org::from_row).collect();
        rows.retain(|o| actor.can(Capability::OrgRead, &o.path));
        rows.sort_by_key(|o| o.depth);
        Ok(rows)
    }

    /// Children of `parent_id`, or the top organizations the actor may see when `None`.
    pub async fn org_children(&self, ctx: &Ctx, actor: &Actor, parent_id: Option<i64>) -> Result<Vec<Org>> {
        if !actor.can_somewhere(Capability::OrgRead) {
            return Err(self.deny(ctx, actor, "org.list", "orgs").await?);
        }
        match parent_id {
            Some(id) => {
                self.readable_org(ctx, actor, id, "org.list").await?;
                Ok(store::org_children(&self.db, Some(id)).await?.into_iter().map(Org::from_row).collect())
            }
            None if actor.can_everywhere(Capability::OrgRead) => {
                Ok(store::org_children(&self.db, None).await?.into_iter().map(Org::from_row).collect())
            }
            None => {
                let ids: Vec<i64> = actor.grants.iter().filter_map(|g| g.org_id).collect();
                let mut rows: Vec<Org> =
                    store::orgs_by_ids(&self.db, &ids).await?.into_iter().map(Org::from_row).collect();
                rows.retain(|o| actor.can(Capability::OrgRead, &o.path));
                rows.sort_by(|a, b| a.path.cmp(&b.path));
                rows.dedup_by_key(|o| o.id);
                Ok(rows)
            }
        }
    }

    /// Head counts of the subtree of each org (maintained, never recomputed: O(orgs), not O(people)).
    pub async fn counts(&self, orgs: &[Org]) -> Result<HashMap<i64, Counts>> {
        let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
        let mut out: HashMap<i64, Counts> = HashMap::new();
        let mut by_stage: HashMap<(i64, Stage), i64> = HashMap::new();
        let mut by_cat: HashMap<(i64, PersonCategory), i64> = HashMap::new();
        for (org_id, stage, category, n) in store::counts_for(&self.db, &ids).await? {
            if let Some(s) = Stage::parse(&stage) {
                *by_stage.entry((org_id, s)).or_default() += n;
            }
            if let Some(c) = PersonCategory::parse(&category) {
                *by_cat.entry((org_id, c)).or_default() += n;
            }
            out.entry(org_id).or_default().total += n;
        }
        for id in ids {
            let c = out.entry(id).or_default();
            c.by_stage = Stage::ALL
                .iter()
                .map(|s| CountItem {
                    code: s.code(),
                    label: s.label(),
                    n: by_stage.get(&(id, *s)).copied().unwrap_or(0),
                })
                .collect();
            c.by_category = PersonCategory::ALL
                .iter()
                .map(|k| CountItem { code: k.code(), label: k.label(), n: by_cat.get(&(id, *k)).copied().unwrap_or(0) })
                .collect();
        }
        Ok(out)
    }

    /// The counts of one organization's subtree, for a caller who may see it.
    pub async fn org_counts(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Counts> {
        let org = self.readable_org(ctx, actor, id, "org.stats").await?;
        Ok(self.counts(std::slice::from_ref(&org)).await?.remove(&org.id).unwrap_or_default())
    }

    /// Organizations below the actor's reach whose name contains `q` (for pickers).
    /// At most `limit`, in tree order; with `holds_people`, only organizations people can be placed in.
    pub async fn search_orgs(&self, actor: &Actor, q: &str, holds_people: bool, limit: i64) -> Result<Vec<Org>> {
        let mut out = Vec::new();
        for root in actor.ranges_within(Capability::OrgRead, "/") {
            let end = subtree_end(&root);
            let rows = store::search_orgs(&self.db, &root, &end, q.trim(), holds_people, limit).await?;
            out.extend(rows.into_iter().map(Org::from_row));
        }
        out.truncate(limit.max(0) as usize);
        Ok(out)
    }

    // ------------------------------------------------------------ people

    pub(crate) fn seal(&self, v: &ValidPerson) -> Result<Sealed> {
        Ok(Sealed {
            id_enc: self.cipher.encrypt(COL_ID_NUMBER, v.id_number.as_str())?,
            id_bidx: self.cipher.blind_index(COL_ID_NUMBER, v.id_number.as_str()),
            id_masked: mask::id_number(v.id_number.as_str()),
            phone_enc: v.phone.as_deref().map(|p| self.cipher.encrypt(COL_PHONE, p)).transpose()?,
            phone_masked: v.phone.as_deref().map(mask::phone),
            address_enc: v.address.as_deref().map(|a| self.cipher.encrypt(COL_ADDRESS, a)).transpose()?,
        })
    }

    /// The organization a person is to be placed in: it must exist, be visible, accept people, and the
    /// actor must be allowed to write there.
    async fn target_org(&self, actor: &Actor, org_id: i64) -> Result<Org> {
        let org = self.org_row(org_id).await?.map(Org::from_row);
        Self::check_target_org(actor, org)
    }

    /// [`Platform::target_org`]'s checks of an organization already read.
    fn check_target_org(actor: &Actor, org: Option<Org>) -> Result<Org> {
        let Some(org) =
            org.filter(|o| actor.can(Capability::PersonRead, &o.path) || actor.can(Capability::OrgRead, &o.path))
        else {
            return Err(Error::field("org_id", "所选党组织不存在或不在您的管理范围内"));
        };
        if !actor.can(Capability::PersonWrite, &org.path) {
            return Err(Error::Forbidden);
        }
        if !org.kind.holds_people() {
            return Err(Error::field("org_id", "人员应编入党支部、党总支或党小组，不能直接编入党委"));
        }
        Ok(org)
    }

    /// Creates a person; returns the masked record and any warnings (doubtful but accepted items).
    pub async fn create_person(&self, ctx: &Ctx, actor: &Actor, input: &PersonInput) -> Result<(Person, Vec<String>)> {
        let prepared = self.prepare_person(ctx, actor, input).await?;
        let mut tx = self.db.begin().await?;
        let id = self.insert_prepared(&mut tx, ctx, actor, &prepared).await?;
        tx.commit().await?;
        self.people_changed().await;
        let row = store::get_person(&self.db, id).await?.ok_or(Error::NotFound)?;
        Ok((Person::from_row(row, prepared.org.name), prepared.valid.warnings))
    }

    /// The checks of [`Platform::create_person`] (capability, every field, the organization), and the sealed
    /// items, before any transaction: what an application needs to place a new person inside its own
    /// transaction ([`Platform::insert_prepared`]; an incoming transfer records the person and its letter at
    /// once).
    pub async fn prepare_person(&self, ctx: &Ctx, actor: &Actor, input: &PersonInput) -> Result<PreparedPerson> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "person.create", "person:new").await?);
        }
        let valid = rules::validate_person(input, kernel::dates::today()).map_err(Error::Invalid)?;
        let org = self.target_org(actor, valid.org_id).await?;
        let sealed = self.seal(&valid)?;
        Ok(PreparedPerson { valid, org, sealed })
    }

    /// Inserts a prepared person in the caller's transaction with her head counts and the `person.create`
    /// audit entry; returns her id. The caller commits and then calls [`Platform::people_changed`].
    pub async fn insert_prepared(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        actor: &Actor,
        p: &PreparedPerson,
    ) -> Result<i64> {
        let (v, org) = (&p.valid, &p.org);
        let id = match store::insert_person(tx, &person_write(v, org, &p.sealed, now())).await {
            Err(DbError::Conflict { .. }) => {
                return Err(Error::field("id_number", "该公民身份号码已登记，请勿重复录入"));
            }
            other => other?,
        };
        store::add_counts(tx, &org.lineage(), v.stage.code(), v.category.code(), 1).await?;
        let detail = format!("org:{} stage:{} category:{}", org.id, v.stage.code(), v.category.code());
        audit::append(tx, event(Some(actor), ctx, "person.create", format!("person:{id}"), "ok", detail)).await?;
        Ok(id)
    }

    fn may_read_person(actor: &Actor, id: i64, org_path: &str) -> bool {
        actor.can(Capability::PersonRead, org_path) || actor.person_id == Some(id)
    }

    pub async fn get_person(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Person> {
        let row = store::get_person(&self.db, id).await?.ok_or(Error::NotFound)?;
        if !Self::may_read_person(actor, id, &row.org_path) {
            return Err(self.deny(ctx, actor, "person.read", &format!("person:{id}")).await?);
        }
        let org_name = self.org_row(row.org_id).await?.map(|o| o.name).unwrap_or_default();
        Ok(Person::from_row(row, org_name))
    }

    /// Whether the actor may edit this person (for showing the edit button).
    pub fn may_edit(actor: &Actor, person: &Person) -> bool {
        actor.can(Capability::PersonWrite, &person.org_path)
    }

    /// Applies the items present in `patch` to a person. Items left out keep their value; the ID number,
    /// phone and address are replaced only when given.
    pub async fn update_person(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        patch: &PersonInput,
    ) -> Result<(Person, Vec<String>)> {
        let current = self.get_person(ctx, actor, id).await?;
        if !Self::may_edit(actor, &current) {
            return Err(Error::Forbidden);
        }
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(Error::Conflict("该记录已被他人修改，请刷新后重试"));
        }
        let mut tx = self.db.begin().await?;
        let (org, warnings) = self.apply_patch(&mut tx, ctx, actor, &current, patch).await?;
        tx.commit().await?;
        self.people_changed().await;
        let row = store::get_person(&self.db, id).await?.ok_or(Error::NotFound)?;
        Ok((Person::from_row(row, org.name), warnings))
    }

    /// The write of [`Platform::update_person`] inside the caller's transaction (checked, sealed, counted,
    /// audited as `person.update`); a correction accepted by a record keeper applies its item through it
    /// (service/rights.rs). The caller has checked the capability, commits and calls `people_changed`.
    pub(crate) async fn apply_patch(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        actor: &Actor,
        current: &Person,
        patch: &PersonInput,
    ) -> Result<(Org, Vec<String>)> {
        let id = current.id;
        let (id_enc, id_bidx, phone_enc, address_enc) = store::person_sealed(tx, id).await?.ok_or(Error::NotFound)?;
        let current_id = self.cipher.decrypt(COL_ID_NUMBER, &id_enc)?;
        let merged = merge(current, &current_id, patch);
        let v = rules::validate_person(&merged, kernel::dates::today()).map_err(Error::Invalid)?;
        // A status change needs its reason and date and is kept in the history (crates/affairs, 党籍状态).
        if v.status != current.status {
            return Err(Error::field(
                "status",
                "党籍状态的变更请在该党员的“党籍状态”中办理（须写明原因和日期，并留存记录）",
            ));
        }
        // Read in the transaction: it never waits for a second connection (kernel::Db::connect_sqlite_with).
        let org = store::get_org_tx(tx, v.org_id).await?.map(Org::from_row);
        let org =
            if v.org_id == current.org_id { org.ok_or(Error::NotFound)? } else { Self::check_target_org(actor, org)? };
        let mut sealed = self.seal(&v)?;
        // Keep the stored ciphertexts of items that did not change (no needless re-encryption).
        if patch.id_number.is_none() {
            sealed.id_enc = id_enc;
            sealed.id_bidx = id_bidx;
        }
        if patch.phone.is_none() {
            sealed.phone_enc = phone_enc;
            sealed.phone_masked = current.phone.clone();
        }
        if patch.address.is_none() {
            sealed.address_enc = address_enc;
        }
        let t = now();
        let updated = match store::update_person(tx, id, current.version, &person_write(&v, &org, &sealed, t)).await {
            Err(DbError::Conflict { .. }) => {
                return Err(Error::field("id_number", "该公民身份号码已登记，请勿重复录入"));
            }
            other => other?,
        };
        if !updated {
            return Err(Error::Conflict("该记录已被他人修改，请刷新后重试"));
        }
        if (current.org_id, current.stage, current.category) != (org.id, v.stage, v.category) {
            let old_lineage = crate::model::path_ids(&current.org_path);
            store::add_counts(tx, &old_lineage, current.stage.code(), current.category.code(), -1).await?;
            store::add_counts(tx, &org.lineage(), v.stage.code(), v.category.code(), 1).await?;
        }
        let changed = changed_items(patch);
        audit::append(tx, event(Some(actor), ctx, "person.update", format!("person:{id}"), "ok", changed)).await?;
        Ok((org, v.warnings))
    }

    /// A page of the people the actor may read below `q.org_id`, in (organization, id) order.
    /// Shared (`Arc`): a cached page is handed out without copying its rows.
    pub async fn list_people(&self, ctx: &Ctx, actor: &Actor, q: &PeopleQuery) -> Result<Arc<PeoplePage>> {
        // A member reads her own record only, and the administrators read none (三员分立): no list.
        if !actor.can_somewhere(Capability::PersonRead) {
            return Err(self.deny(ctx, actor, "person.list", "people").await?);
        }
        let org = match q.org_id {
            None => None,
            Some(id) => {
                let org = self.org_row(id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
                if actor.ranges_within(Capability::PersonRead, &org.path).is_empty() {
                    return Err(self.deny(ctx, actor, "person.list", &format!("org:{id}")).await?);
                }
                Some(org)
            }
        };
        let within = org.as_ref().map(|o| o.path.clone()).unwrap_or_else(|| "/".into());
        let ranges = actor.ranges_within(Capability::PersonRead, &within);
        let per_page = q.per_page.unwrap_or(20).clamp(1, 100);
        let mut filter = PeopleFilter {
            stage: q
                .stage
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| Stage::parse(s).map(|v| v.code().to_string()).unwrap_or_else(|| s.to_string())),
            category: q
                .category
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| PersonCategory::parse(s).map(|v| v.code().to_string()).unwrap_or_else(|| s.to_string())),
            ..PeopleFilter::default()
        };
        if let Some(text) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            match IdNumber::parse(text) {
                Ok(id) => filter.id_number_bidx = Some(self.cipher.blind_index(COL_ID_NUMBER, id.as_str())),
                Err(_) => filter.text = Some(text.chars().take(50).collect()),
            }
        }
        let skip_pages = q.page.unwrap_or(1).clamp(1, 500) - 1;
        // The generation is read before the database, so a write that commits meanwhile makes this
        // page stale at once instead of caching what it read before the write.
        let generation = self.people_generation.load(std::sync::atomic::Ordering::SeqCst);
        let key = PageKey {
            ranges: ranges.clone(),
            org_id: q.org_id,
            stage: filter.stage.clone(),
            category: filter.category.clone(),
            text: filter.text.clone(),
            id_number_bidx: filter.id_number_bidx.clone(),
            cursor: q.cursor.clone(),
            skip_pages,
            per_page,
        };
        if let Some((_, page)) = self.pages.get(&key).filter(|(g, _)| *g == generation) {
            return Ok(page);
        }
        let mut after = q.cursor.as_deref().and_then(parse_cursor);
        // Offset paging (api-contract `page=`): walk the cursor forward; fine for the first pages.
        let mut rows = Vec::new();
        for round in 0..=skip_pages {
            rows =
                self.page_across(&ranges, &filter, after.as_ref().map(|(p, i)| (p.as_str(), *i)), per_page + 1).await?;
            if rows.len() as i64 <= per_page {
                if round < skip_pages {
                    rows.clear(); // the asked-for page lies past the end
                }
                break;
            }
            if skip_pages > 0 {
                after = rows.get(per_page as usize - 1).map(|r| (r.person.org_path.clone(), r.person.id));
            }
        }
        let has_more = rows.len() as i64 > per_page;
        rows.truncate(per_page as usize);
        let next_cursor =
            if has_more { rows.last().map(|r| format!("{}:{}", r.person.org_path, r.person.id)) } else { None };
        let items = rows.into_iter().map(|r| Person::from_row(r.person, r.org_name)).collect();
        let total = if filter.text.is_none() && filter.id_number_bidx.is_none() {
            Some(self.total_in(&ranges, filter.stage.as_deref(), filter.category.as_deref()).await?)
        } else {
            None
        };
        let page = Arc::new(PeoplePage { org, items, next_cursor, total });
        self.pages.put(key, (generation, page.clone()));
        Ok(page)
    }

    /// Reads across disjoint, sorted subtree ranges as if they were one ordered list.
    async fn page_across(
        &self,
        ranges: &[String],
        f: &PeopleFilter,
        after: Option<(&str, i64)>,
        limit: i64,
    ) -> Result<Vec<store::PersonListRow>> {
        let mut out = Vec::new();
        for start in ranges {
            let end = subtree_end(start);
            if after.is_some_and(|(p, _)| p >= end.as_str()) {
                continue;
            }
            let need = limit - out.len() as i64;
            out.extend(store::list_people(&self.db, start, &end, f, after, need).await?);
            if out.len() as i64 >= limit {
                break;
            }
        }
        Ok(out)
    }

    async fn total_in(&self, ranges: &[String], stage: Option<&str>, category: Option<&str>) -> Result<i64> {
        let mut ids: Vec<i64> = ranges.iter().filter_map(|r| crate::model::path_ids(r).last().copied()).collect();
        let everything = ranges.iter().any(|r| r == "/");
        if everything {
            ids = store::org_children(&self.db, None).await?.into_iter().map(|o| o.id).collect();
        }
        Ok(store::count_total(&self.db, &ids, stage, category).await?)
    }
}

/// A new person checked and sealed, not yet stored ([`Platform::prepare_person`]).
pub struct PreparedPerson {
    pub valid: ValidPerson,
    /// The organization she is placed in (the caller may write there).
    pub org: Org,
    sealed: Sealed,
}

pub(crate) struct Sealed {
    id_enc: Vec<u8>,
    id_bidx: Vec<u8>,
    id_masked: String,
    phone_enc: Option<Vec<u8>>,
    phone_masked: Option<String>,
    address_enc: Option<Vec<u8>>,
}

pub(crate) fn person_write<'a>(
    v: &'a ValidPerson,
    org: &'a Org,
    s: &'a Sealed,
    now: OffsetDateTime,
) -> store::PersonWrite<'a> {
    store::PersonWrite {
        org_id: org.id,
        org_path: &org.path,
        name: &v.name,
        gender: v.gender.code(),
        ethnicity: v.ethnicity.as_deref(),
        birth_date: v.birth_date,
        native_place: v.native_place.as_deref(),
        education: v.education.as_deref(),
        category: v.category.code(),
        person_no: v.person_no.as_deref(),
        stage: v.stage.code(),
        status: v.status.code(),
        party_post: v.party_post.as_deref(),
        job_title: v.job_title.as_deref(),
        applied_on: v.applied_on,
        activist_on: v.activist_on,
        candidate_on: v.candidate_on,
        admitted_on: v.admitted_on,
        converted_on: v.converted_on,
        id_number_enc: &s.id_enc,
        id_number_bidx: &s.id_bidx,
        id_number_masked: &s.id_masked,
        phone_enc: s.phone_enc.as_deref(),
        phone_masked: s.phone_masked.as_deref(),
        address_enc: s.address_enc.as_deref(),
        now,
    }
}

/// The current record as input, overlaid with the items the patch carries.
fn merge(current: &Person, current_id: &str, patch: &PersonInput) -> PersonInput {
    let d = |v: Option<Date>| v.map(kernel::dates::iso);
    let pick = |p: &Option<String>, c: Option<String>| if p.is_some() { p.clone() } else { c };
    PersonInput {
        name: pick(&patch.name, Some(current.name.clone())),
        gender: pick(&patch.gender, Some(current.gender.code().into())),
        birth_date: pick(&patch.birth_date, d(Some(current.birth_date))),
        id_number: pick(&patch.id_number, Some(current_id.to_string())),
        // Sealed items not in the patch are kept as stored; validation needs only a placeholder-free value.
        phone: patch.phone.clone(),
        address: patch.address.clone(),
        org_id: patch.org_id.or(Some(current.org_id)),
        stage: pick(&patch.stage, Some(current.stage.code().into())),
        category: pick(&patch.category, Some(current.category.code().into())),
        status: pick(&patch.status, Some(current.status.code().into())),
        ethnicity: pick(&patch.ethnicity, current.ethnicity.clone()),
        native_place: pick(&patch.native_place, current.native_place.clone()),
        education: pick(&patch.education, current.education.clone()),
        person_no: pick(&patch.person_no, current.person_no.clone()),
        party_post: pick(&patch.party_post, current.party_post.clone()),
        job_title: pick(&patch.job_title, current.job_title.clone()),
        applied_on: pick(&patch.applied_on, d(current.applied_on)),
        activist_on: pick(&patch.activist_on, d(current.activist_on)),
        candidate_on: pick(&patch.candidate_on, d(current.candidate_on)),
        admitted_on: pick(&patch.admitted_on, d(current.admitted_on)),
        converted_on: pick(&patch.converted_on, d(current.converted_on)),
        version: patch.version,
    }
}

/// The names of the items a patch carries (never their values: the audit log holds no personal data).
fn changed_items(p: &PersonInput) -> String {
    let items = [
        ("name", p.name.is_some()),
        ("gender", p.gender.is_some()),
        ("birth_date", p.birth_date.is_some()),
        ("id_number", p.id_number.is_some()),
        ("phone", p.phone.is_some()),
        ("address", p.address.is_some()),
        ("org_id", p.org_id.is_some()),
        ("stage", p.stage.is_some()),
        ("category", p.category.is_some()),
        ("status", p.status.is_some()),
        (
            "dates",
            p.applied_on.is_some()
                || p.activist_on.is_some()
                || p.candidate_on.is_some()
                || p.admitted_on.is_some()
                || p.converted_on.is_some(),
        ),
    ];
    items.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect::<Vec<_>>().join(",")
}

fn parse_cursor(s: &str) -> Option<(String, i64)> {
    let (path, id) = s.rsplit_once(':')?;
    (path.starts_with('/') && path.ends_with('/')).then(|| Some((path.to_string(), id.parse().ok()?)))?
}

/// The password rule: 8+ characters of at least three classes, not containing the username, not on the
/// list of common passwords shipped with the binary (等保三级 身份鉴别 a: 口令具有复杂度要求).
/// Passwords of administrators and org staff: at least this long (security.md AT-1).
pub const PRIVILEGED_PASSWORD_MIN: usize = 12;

/// The password rule (security.md AT-1; 等保三级 身份鉴别 a): 8+ characters (12+ for `privileged`
/// accounts), three classes, not containing the username or the account's ID number, not a common one.
pub fn check_password(
    pw: &str,
    username: &str,
    privileged: bool,
    id_number: Option<&str>,
) -> std::result::Result<(), &'static str> {
    if pw.chars().count() < 8 {
        return Err("密码至少8位");
    }
    if privileged && pw.chars().count() < PRIVILEGED_PASSWORD_MIN {
        return Err("管理员和组织员的密码至少12位");
    }
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err("密码应包含大写字母、小写字母、数字、符号中的至少三类");
    }
    if !username.is_empty() && pw.to_lowercase().contains(&username.to_lowercase()) {
        return Err("密码不能包含用户名");
    }
    if let Some(idn) = id_number.filter(|n| n.len() >= 6) {
        let lower = pw.to_lowercase();
        // The whole number, or its last six characters (the part people reuse).
        let tail = idn.get(idn.len() - 6..).unwrap_or(idn).to_lowercase();
        if lower.contains(&idn.to_lowercase()) || lower.contains(&tail) {
            return Err("密码不能包含本人的公民身份号码");
        }
    }
    if security::password::is_common(pw) {
        return Err("该密码过于常见，容易被猜中，请换一个");
    }
    if security::password::is_breached(pw) {
        return Err("该密码出现在公开泄露的密码库中，容易被撞库猜中，请换一个");
    }
    Ok(())
}

fn generate_password() -> Result<String> {
    let mut raw = [0u8; 12];
    security::random_bytes(&mut raw)?;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let body: String = raw.iter().map(|b| char::from(ALPHABET[*b as usize % ALPHABET.len()])).collect();
    Ok(format!("{body}-9a"))
}

#[cfg(test)]
mod tests {
    use super::check_password;

    #[test]
    fn password_rule() {
        assert!(check_password("Check-User-2026!x", "check_staff", true, None).is_ok());
        assert_eq!(check_password("Ab1!", "u", false, None), Err("密码至少8位"));
        assert!(check_password("abcdefgh1", "u", false, None).is_err(), "two classes");
        assert!(check_password("12345678", "u", false, None).is_err(), "digits only");
        assert!(check_password("Zhangsan-2026!", "zhangsan", false, None).is_err(), "contains the username");
        assert_eq!(check_password("Admin@123", "someone", false, None), Err("该密码过于常见，容易被猜中，请换一个"));
        // AT-1: a privileged account needs 12; a 12-character passphrase of three classes passes.
        assert_eq!(check_password("Short-2026!", "u", true, None), Err("管理员和组织员的密码至少12位"));
        assert!(check_password("Short-2026!", "u", false, None).is_ok());
        assert!(check_password("red-lantern-7", "u", true, None).is_ok());
        // …and never the account's own ID number, nor its last six characters.
        let idn = "33010619990101123X";
        assert_eq!(
            check_password("Li-33010619990101123x", "u", false, Some(idn)),
            Err("密码不能包含本人的公民身份号码")
        );
        assert_eq!(check_password("Hong-01123x!", "u", false, Some(idn)), Err("密码不能包含本人的公民身份号码"));
        assert!(check_password("Hong-2026-ok!", "u", false, Some(idn)).is_ok());
    }
}
