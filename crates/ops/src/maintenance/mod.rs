//! Maintenance mode (issue 7): the system administrator switches the whole platform to read-only for an
//! upgrade or a restore. The switch is a row in the database, so every instance on one PostgreSQL sees it;
//! each instance reads it at most once per `cache_ttl`; the instance that switches forgets its copy at once
//! and announces the switch, so the others forget theirs within milliseconds ([`Maintenance::hear`], fed
//! by the platform's cache channel; `cache_ttl` bounds only what an instance misses while its listening
//! connection is down). While it is on, the web layer shows a banner on every
//! page and refuses every state change except signing in and out and the switch itself (503 with
//! [`State::notice`]). Each switch is audited (`maintenance.on` / `maintenance.off`).

mod store;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use kernel::{Db, DbError};
use platform::model::Role;
use platform::{Actor, Ctx};
use security::audit::{self, Event};
use serde::Serialize;
use time::OffsetDateTime;

use crate::Error;

/// What users read when no message was given.
pub const DEFAULT_MESSAGE: &str = "系统正在维护，暂停新增、修改和删除，查询不受影响。";
/// What a switch announces to the other instances (see [`Maintenance::hear`]).
pub const ANNOUNCEMENT: &str = "maintenance";
/// The longest message an administrator may give.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// The switch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct State {
    pub active: bool,
    pub message: Option<String>,
    pub changed_at: Option<OffsetDateTime>,
    pub changed_by: Option<String>,
}

impl State {
    /// The sentence every page shows and every refused write answers while the switch is on.
    pub fn notice(&self) -> String {
        match self.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => format!("{DEFAULT_MESSAGE}{m}"),
            None => DEFAULT_MESSAGE.to_string(),
        }
    }
}

/// This instance's view of the switch, re-read at most once per `ttl`.
pub struct Maintenance {
    ttl: Duration,
    cache: Mutex<Option<(Instant, State)>>,
}

impl Maintenance {
    pub fn new(ttl: Duration) -> Maintenance {
        Maintenance { ttl, cache: Mutex::new(None) }
    }

    /// The switch, from the cache while it is younger than the ttl.
    pub async fn current(&self, db: &Db) -> Result<State, DbError> {
        if let Ok(c) = self.cache.lock()
            && let Some((at, state)) = c.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(state.clone());
        }
        let state = read(db).await?;
        if let Ok(mut c) = self.cache.lock() {
            *c = Some((Instant::now(), state.clone()));
        }
        Ok(state)
    }

    /// The last state this instance read, without asking the database (for the page frame, which the
    /// request's own check has just refreshed). Off when never read.
    pub fn cached(&self) -> State {
        self.cache.lock().ok().and_then(|c| c.as_ref().map(|(_, s)| s.clone())).unwrap_or_default()
    }

    /// Forgets the cached state: the next [`Maintenance::current`] reads the database.
    pub fn forget(&self) {
        if let Ok(mut c) = self.cache.lock() {
            *c = None;
        }
    }

    /// Hears an announcement of the platform's cache channel: a switch on another instance (or anything
    /// missed while the channel was down) drops the cached state.
    pub fn hear(&self, what: &str) {
        if what == ANNOUNCEMENT || what == platform::service::ANNOUNCE_ALL {
            self.forget();
        }
    }

    /// Switches maintenance mode on or off, as the system administrator. `message` (optional, at most
    /// [`MAX_MESSAGE_CHARS`]) is added to the notice users read, e.g. the time the work should end.
    pub async fn switch(
        &self,
        db: &Db,
        ctx: &Ctx,
        actor: &Actor,
        on: bool,
        message: Option<&str>,
    ) -> Result<State, Error> {
        if !actor.has_role(Role::SystemAdmin) {
            return Err(Error::Forbidden);
        }
        let state = write(db, on, message, Some(actor), &ctx.request_id, &ctx.ip).await?;
        self.forget();
        Ok(state)
    }
}

/// Switches as the operator at the command line (`dangjian maintenance on|off`), audited as `system`.
pub async fn switch_as_system(db: &Db, on: bool, message: Option<&str>) -> Result<State, Error> {
    write(db, on, message, None, &format!("cli-{}", std::process::id()), "-").await
}

/// Reads the switch from the database.
pub async fn read(db: &Db) -> Result<State, DbError> {
    Ok(match store::get(db).await? {
        Some((active, message, changed_at, changed_by)) => {
            State { active, message, changed_at: Some(changed_at), changed_by: Some(changed_by) }
        }
        None => State::default(),
    })
}

async fn write(
    db: &Db,
    on: bool,
    message: Option<&str>,
    actor: Option<&Actor>,
    request_id: &str,
    ip: &str,
) -> Result<State, Error> {
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS) {
        return Err(Error::Invalid(format!("维护说明最多 {MAX_MESSAGE_CHARS} 个字")));
    }
    let by = actor.map_or("system", |a| a.username.as_str());
    let t = OffsetDateTime::now_utc();
    let mut tx = db.begin().await?;
    store::set(&mut tx, on, message, t, by).await?;
    let event = Event {
        actor_id: actor.map(|a| a.user_id).filter(|id| *id > 0),
        actor: by.into(),
        roles: actor.map(Actor::audit_roles).unwrap_or_default(),
        org_scope: actor.map(Actor::audit_scope).unwrap_or_default(),
        action: if on { "maintenance.on" } else { "maintenance.off" }.into(),
        target: "platform".into(),
        result: "ok".into(),
        request_id: request_id.into(),
        ip: ip.into(),
        detail: serde_json::json!({ "message": message }).to_string(),
    };
    audit::append(&mut tx, event).await?;
    tx.commit().await?;
    platform::service::announce_to_other_instances(db, ANNOUNCEMENT).await;
    Ok(State { active: on, message: message.map(str::to_owned), changed_at: Some(t), changed_by: Some(by.into()) })
}
