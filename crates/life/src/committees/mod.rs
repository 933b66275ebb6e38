//! 委员会与换届 (committees and terms): an organization's committee — or, in a branch of fewer than 7 formal
//! members, its secretary and deputy — term by term (届次), with the members and their posts, the term's end
//! by ORG-10, an approved delay or advance (延期/提前换届, ≤ 1 year), the elections that open terms (换届选举,
//! judged by ELE-01: quorum, majority, ties) and the nightly reminder of terms due within six months or
//! overdue, shown on the compliance calendar of the organization and every organization above it.
//!
//! Rooms as in the rest of the crate: [`model`] (inputs parsed at the boundary, the answers), [`store`] (the
//! only SQL: migration 0024), [`service`] (authorise → validate → transaction → store → audit → commit). The
//! rules are [`crate::rules`]'s (`committee`, `election`, `term_status`), never repeated here. Permissions
//! are organizational life's: `MeetingRead` to see, `MeetingWrite` to record.

pub mod model;
pub mod service;
pub mod store;

pub use service::{Committee, Committees, RemindReport, remind};
