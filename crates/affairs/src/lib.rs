//! The "5", application 1 — 党务管理 (Party affairs): recruitment (发展党员), dues (党费), transfers of the
//! organizational relationship (组织关系转接) and member status (失联、出国、欠费).
//!
//! Rooms: [`rules`] (the regulations themselves: pure functions that take dates and amounts and answer with
//! deadlines and findings, each naming its source; the rules service of the API calls them directly),
//! [`model`] (the types parsed at the boundary), [`store`] (the only SQL of this crate), [`service`] (one
//! function per action: authorise → validate → transaction → store → audit → commit), [`letter`] (the
//! introduction letter as a PDF document). The crate builds on the platform: its people and organizations,
//! the caller's [`platform::Actor`] and the permission matrix (`Capability::TransferRead` / `TransferWrite`).
//! [`demo`] adds transfers in every state to the demo university; [`privacy`] puts a member's transfers and
//! status history into her copy of her data.

pub mod demo;
pub mod letter;
pub mod model;
pub mod privacy;
pub mod rules;
pub mod service;
pub mod store;

pub use service::{Development, Error, Fees, MemberStatus, Transfers};
