//! The actions of 党务管理. Each public function: authorise → validate → transaction → store → audit → commit,
//! on the platform's database, with the platform's caller ([`platform::Actor`]) and permission matrix. A read
//! outside the caller's scope is `NotFound` (audited as a refusal); a write where the caller may read but not
//! write is `Forbidden`. Parts: [`transfer`] (transfers of the organizational relationship and letters,
//! [`Transfers`]), [`fee`] (dues: profiles, the payments ledger, arrears, the yearly ledger, [`Fees`]) and [`status`] (member status, contacts, graduates' retention, [`MemberStatus`]).

use std::collections::BTreeMap;

use kernel::DbError;
use platform::{Actor, Ctx};
use security::audit::Event;

use crate::model::FieldErrors;

pub mod development;
pub mod fee;
pub mod status;
pub mod transfer;

pub use development::Development;
pub use fee::Fees;
pub use status::MemberStatus;
pub use transfer::Transfers;

/// The errors of 党务管理; they become the platform's errors at the web boundary (same codes, same Chinese
/// messages).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Platform(#[from] platform::Error),
    #[error("document: {0}")]
    Document(String),
}

impl From<Error> for platform::Error {
    fn from(e: Error) -> platform::Error {
        match e {
            Error::NotFound => platform::Error::NotFound,
            Error::Forbidden => platform::Error::Forbidden,
            Error::Invalid(f) => platform::Error::Invalid(f),
            Error::Conflict(m) => platform::Error::Conflict(m),
            Error::Db(d) => platform::Error::Db(d),
            Error::Platform(p) => p,
            Error::Document(m) => platform::Error::Invalid(BTreeMap::from([("file".to_string(), m)])),
        }
    }
}

impl From<documents::DocumentError> for Error {
    fn from(e: documents::DocumentError) -> Error {
        Error::Document(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One field's error.
pub(crate) fn field(name: &str, msg: impl Into<String>) -> Error {
    Error::Invalid(BTreeMap::from([(name.to_string(), msg.into())]))
}

/// Audits a refused call (result `denied`) on its own.
pub(crate) async fn refuse(
    platform: &platform::Platform,
    ctx: &Ctx,
    actor: &Actor,
    action: &str,
    target: &str,
) -> Result<()> {
    security::audit::append_alone(&platform.db, event(actor, ctx, action, target.into(), "denied", String::new()))
        .await?;
    Ok(())
}

/// The person, if `read` reaches her organization or she is the caller herself; otherwise 404, audited.
pub(crate) async fn person_readable(
    platform: &platform::Platform,
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    read: platform::Capability,
    action: &str,
) -> Result<platform::model::PersonRow> {
    let row = platform::store::get_person(&platform.db, id).await?.ok_or(Error::NotFound)?;
    if actor.can(read, &row.org_path) || actor.person_id == Some(id) {
        Ok(row)
    } else {
        refuse(platform, ctx, actor, action, &format!("person:{id}")).await?;
        Err(Error::NotFound)
    }
}

/// The person, if `write` reaches her organization; 404 when the caller may not even read her record (`read`),
/// 403 when she may read it or her role never writes; each refusal audited.
pub(crate) async fn person_writable(
    platform: &platform::Platform,
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
    (read, write): (platform::Capability, platform::Capability),
    action: &str,
) -> Result<platform::model::PersonRow> {
    if !actor.can_somewhere(write) {
        refuse(platform, ctx, actor, action, &format!("person:{id}")).await?;
        return Err(Error::Forbidden);
    }
    let row = person_readable(platform, ctx, actor, id, read, action).await?;
    if !actor.can(write, &row.org_path) {
        refuse(platform, ctx, actor, action, &format!("person:{id}")).await?;
        return Err(Error::Forbidden);
    }
    Ok(row)
}

/// An audit event of this crate.
pub(crate) fn event(actor: &Actor, ctx: &Ctx, action: &str, target: String, result: &str, detail: String) -> Event {
    Event {
        actor_id: Some(actor.user_id).filter(|id| *id > 0),
        actor: actor.username.clone(),
        roles: actor.audit_roles(),
        org_scope: actor.audit_scope(),
        action: action.into(),
        target,
        result: result.into(),
        request_id: ctx.request_id.clone(),
        ip: ctx.ip.clone(),
        detail,
    }
}
