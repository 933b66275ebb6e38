//! The "5", application 2 — 组织生活与服务 (organizational life): meetings (三会一课, 主题党日, 组织生活会,
//! 谈心谈话) with their attendance, the compliance calendar, and the structural regulations of branches,
//! committees, terms and elections.
//!
//! Rooms: [`rules`] (the regulations, pure, with citations: ORG-01…10, ELE-01), [`model`] (the types parsed
//! at the boundary), [`store`] (the only SQL of this crate), [`service`] (one function per action:
//! authorise → validate → transaction → store → audit → commit). The crate builds on the platform: its
//! organizations and people, the caller's [`platform::Actor`] and the permission matrix
//! (`Capability::MeetingRead` / `MeetingWrite`). [`demo`] adds meetings to the demo university.

pub mod committees;
pub mod demo;
pub mod model;
pub mod news;
pub mod notices;
pub mod plans;
pub mod privacy;
pub mod rules;
pub mod service;
pub mod services;
pub mod store;

pub use service::{CheckIn, Error, Life, REFRESH_SECONDS, TOKEN_SECONDS};
