//! 通知公告 (notices) with read receipts: an organization publishes a notice to the people of its subtree
//! (all of them, or some stages: members only, activists …); each recipient confirms reading it (回执) with
//! one button; the publisher — and each secretary below for her own part — sees who has and who has not,
//! organization by organization. A notice can be withdrawn (撤回) with a reason; it is never deleted.
//!
//! Rooms as in the rest of the crate: [`model`] (inputs parsed at the boundary, the answers), [`store`] (the
//! only SQL: `notices`, `notice_recipients`, migration 0020), [`service`] (authorise → validate →
//! transaction → store → audit → commit). Permissions: `Capability::NoticeWrite` publishes and withdraws in the
//! subtree, `NoticeRead` sees notices and their receipts; a person reads the notices sent to her without
//! either.

pub mod model;
pub mod service;
pub mod store;

pub use service::Notices;
