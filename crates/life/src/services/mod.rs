//! 党员服务 (member services): requests a member files on her phone (开具党员身份证明, 组织关系证明, 困难帮扶,
//! 其他), routed to the organization she belongs to, handled there (accept, refuse with a reason, complete) with
//! every step kept as the request's history; a completed proof request yields a certificate (PDF with a
//! number and a verification QR code; the public page says only whether it stands); volunteer-service hours;
//! a member's calendar feed.
//!
//! Rooms as in the rest of the crate: [`model`] (kinds, states and their moves, input checks, answers),
//! [`certificate`] (the certificate as a document, pure), [`store`] (the only SQL, migration 0025), [`service`]
//! (authorise → validate → transaction → store → audit → commit). Permissions: `Capability::ServiceRead` sees
//! the subtree's requests, `ServiceWrite` handles them; a member reads and cancels her own without either.

pub mod calendar;
pub mod certificate;
pub mod hours;
pub mod model;
pub mod service;
pub mod store;

pub use service::Services;
