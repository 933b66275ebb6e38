//! The actions of 党务管理. Each public function: authorise → validate → transaction → store → audit → commit,
//! on the platform's database, with the platform's caller ([`platform::Actor`]) and permission matrix. A read
//! outside the caller's scope is `NotFound` (audited as a refusal); a write where the caller may read but not
//! write is `Forbidden`. Parts: [`transfer`] (transfers of the organizational relationship and letters,
//! [`Transfers`]) and [`status`] (member status, contacts, graduates' retention, [`MemberStatus`]).

use std::collections::BTreeMap;

use kernel::DbError;
use platform::{Actor, Ctx};
use security::audit::Event;

use crate::model::FieldErrors;

pub mod status;
pub mod transfer;

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
