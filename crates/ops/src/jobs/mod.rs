//! Background jobs and schedules (architecture.md §2.13): a queue in the database, so that several
//! instances on one PostgreSQL run each job once, a failure is retried with backoff and stays visible
//! (`attempts`, `last_error`), and a job whose instance died is taken over when its lease runs out.
//!
//! * [`model`]: the types and the pure arithmetic (next run of a schedule, backoff, backup retention).
//! * `store`: the SQL — the claim by conditional `UPDATE … RETURNING` (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL) and the schedule's compare-and-set.
//! * [`service`]: [`Runner`], the loop `dangjian serve` starts and stops on graceful shutdown, and the
//!   queue functions other parts call ([`enqueue`]).
//! * [`builtin`]: the first jobs — cleanup of expired sign-in state and finished jobs, scheduled verified
//!   backups with retention, the nightly audit-chain verification.

pub mod builtin;
pub mod model;
pub mod service;
mod store;

pub use model::{Job, JobRow, JobState, NewJob, Retention, Schedule};
pub use service::{
    Handler, JobFuture, Outcome, QueueSummary, Runner, RunnerHandle, RunnerSettings, ScheduleView, enqueue, get,
    recent, summary,
};

/// What can go wrong around the queue (a job's own failure is its `last_error`, not an `Error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Db(#[from] kernel::DbError),
}
