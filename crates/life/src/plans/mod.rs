//! 定期计划 (recurring plans): a secretary plans a meeting that recurs every month — day N, or the K-th weekday —
//! at a time and place, for a period (by default the rest of the year). The plan writes its meetings at once
//! (materialised), each an ordinary planned meeting afterwards, changed or cancelled alone through the meeting
//! actions; the attendees get one notice with the whole schedule (crate::news, crate::notices).
//!
//! Rooms as in the rest of the crate: [`model`] (the rule of the days, pure, with domain.md C1's month-end
//! clamping; inputs and answers), [`store`] (the only SQL of `meeting_plans`, migration 0027), [`service`]
//! (authorise → validate → transaction → store → audit → commit). Permissions are the meetings':
//! `MeetingWrite` to plan, `MeetingRead` to see.

pub mod model;
pub mod service;
pub mod store;

pub use service::Plans;
