//! The "1" — 一体化智能平台 (the integrated platform): one data model for organizations and people, the
//! accounts that act on them and the scope each account reaches.
//!
//! Rooms: [`rules`] (validation with citations, pure), [`model`] (types), [`access`] (the permission
//! matrix), [`store`] (the only SQL), [`service`] (one function per action: authorise → validate →
//! transaction → store → audit → commit), [`roster`] (the register's spreadsheet columns, for import and
//! export), [`files`] (the attachment store and the upload checks of AT-21), [`clamd`] (the virus scanner behind
//! them), [`demo`] (the demo
//! university).

pub mod access;
pub mod clamd;
pub mod demo;
pub mod files;
pub mod limits;
pub mod model;
pub mod privacy;
pub mod richtext;
pub mod roster;
pub mod rules;
pub mod search;
pub mod service;
pub mod store;

pub use access::{Actor, Capability};
pub use service::{Ctx, Error, Platform, Settings};
