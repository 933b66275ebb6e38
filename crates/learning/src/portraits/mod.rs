//! 学习画像 (learning portraits, issue 5 item 7): for a member — what she studied, when, how much, on which
//! topics, her exam trend, her required learning; for a branch or college — completion of required learning,
//! how many are active, the time per week, the topics, and each organization below. Aggregates of what is
//! recorded (learning_daily, learning_progress, exam_attempts, party_class_attendance), never a ranking of
//! people (domain.md FORM), visible only to the person herself and to those who manage learning over her
//! organization (`LearningRead`).
//!
//! Rooms: [`model`] (the answers and the week arithmetic, pure), [`store`] (the only SQL), [`service`]
//! (authorise → read → assemble).

pub mod model;
pub mod service;
pub mod store;

pub use service::Portraits;
