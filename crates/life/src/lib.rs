//! The "5", application 2 — 组织生活与服务 (organizational life): meetings, the compliance calendar, branch and
//! committee structure, terms and elections.
//!
//! Today this crate holds the structural regulations ([`rules`]): when a branch needs a committee, how big it
//! may be, when its term ends and how elections count. Meetings and the compliance calendar come with their
//! issue and will sit beside them in the same rooms (model, store, service).

pub mod rules;
