//! The "5", application 3 — 学习教育 (education and learning): materials published to an organization's
//! subtree (articles, documents, video and live links; categories and tags; an audience narrowed by stage;
//! required learning with a due date), one Chinese search box over what the caller may read, honest learning
//! records (active reading time from heartbeats), and recommendations that say why.
//!
//! Rooms: [`text`] (jieba segmentation, the search query, snippets, the HTML sanitizer — pure), [`rules`]
//! (pure: who is in a material's audience, how a heartbeat is credited, when a material counts as studied,
//! how recommendations are scored and explained), [`model`] (the types parsed at the boundary), [`store`]
//! (the only SQL of this crate, SQLite FTS5 and PostgreSQL tsvector side by side), [`service`] (one
//! function per action: authorise → validate → transaction → store → audit → commit). The crate builds on
//! the platform: its organizations and people, the caller's [`platform::Actor`] and the permission matrix
//! (`Capability::LearningRead` / `LearningWrite`).

pub mod classes;
pub mod demo;
pub mod exams;
pub mod model;
pub mod points;
pub mod portraits;
pub mod privacy;
pub mod rules;
pub mod service;
pub mod store;
pub mod text;

pub use service::{Error, Learning};
