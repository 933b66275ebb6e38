//! The "5", application 1 — 党务管理 (Party affairs): recruitment (发展党员), dues (党费), transfers of the
//! organizational relationship (组织关系转接) and member status (失联、出国、欠费).
//!
//! Today this crate holds the regulations themselves ([`rules`]): pure functions that take dates and
//! amounts and answer with deadlines and findings, each naming its source. The rules service of the API
//! (`/api/v1/rules/*`) calls them directly; the development pipeline, the dues ledger and the transfer
//! workflow will call the same functions from their `service.rs` when their issues are built.

pub mod rules;
