//! Password hashing off the async workers, and the global sign-in limit (security.md AT-35, control 24:
//! "per user and global").
//!
//! argon2id (OWASP's m = 19 MiB, t = 2) runs on the blocking pool, at most one hash per core at a time. Inline,
//! each sign-in held a runtime worker for its whole hash: on 2 cores a burst of sign-ins stalled every other
//! request, the database pool timed out and pages failed (docs/PERFORMANCE.md, "AT-35 load over HTTP").
//!
//! A sign-in first takes a place in a short queue ([`Settings::signin_queue`](crate::service::Settings)) and
//! gives it back once it holds a hashing permit. With no place free it is answered at once with
//! [`Error::SigninBusy`] (503 with `Retry-After`) instead of waiting behind more work than the cores do in
//! about a second: a wave of 20,000 members behind one campus address sees a short wait or a quick "try again
//! in a few seconds", never a minute-long hang and a timed-out database pool for everyone else. The place is
//! taken before the account is looked up or counted, so the refusal is the same for every name, known or not,
//! locked or not, touches no database and counts toward no lockout and no per-account limit.
//!
//! The other callers of argon2 — re-authentication, password change (and its history), new accounts, the first
//! administrator — take no place: they wait for a permit in the same first-come queue. They come from people
//! already signed in, a few at a time, and refusing a password change in mid-form would only make them type it
//! again; since waiting sign-ins are bounded, so is their wait.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use super::{Error, Result};
use security::SecurityError;

/// Sign-ins that may wait per core. One argon2id verification (m = 19 MiB, t = 2) takes about 18 ms of a core
/// of its own in the release build and 20–40 ms of a shared one (docs/PERFORMANCE.md, "Server time" and "AT-35
/// load over HTTP"), so a core works through 25 waiting sign-ins in about 0.5–1 s: the last one in the queue
/// is answered within about a second, AT-35's p95 target, and the next one is told to come back rather than
/// wait longer.
pub const SIGNINS_QUEUED_PER_CORE: usize = 25;

/// The default of [`Settings::signin_queue`](crate::service::Settings): [`SIGNINS_QUEUED_PER_CORE`] per core
/// of this machine (hashing runs one hash per core at a time).
pub fn default_signin_queue() -> usize {
    cores() * SIGNINS_QUEUED_PER_CORE
}

/// The shortest `Retry-After` of a sign-in refused for load, in seconds. The queue drains in about a second;
/// refusals are told 2, 3, 4 or 5 seconds in turn, so that those turned away together do not all come back in
/// the same second.
pub const SIGNIN_RETRY_MIN_SECS: u64 = 2;
const SIGNIN_RETRY_SPREAD: u64 = 4;

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// The hashing permits (one per core) and the sign-in queue of one platform.
#[derive(Debug)]
pub(crate) struct Hashing {
    permits: std::sync::Arc<Semaphore>,
    cores: usize,
    queue: std::sync::Arc<Semaphore>,
    queue_len: usize,
    refused: AtomicU64,
}

/// A sign-in's place in the queue, held from the start of the sign-in until its hash has a permit.
#[derive(Debug)]
pub(crate) struct SigninPlace(#[allow(dead_code)] OwnedSemaphorePermit);

/// Every hashing permit of a platform, held until dropped ([`super::Platform::hold_hashing`]).
#[derive(Debug)]
pub struct HashingHeld(#[allow(dead_code)] OwnedSemaphorePermit);

impl Hashing {
    /// `queue_len` is at least 1: a place is taken even when a permit is free.
    pub(crate) fn new(queue_len: usize) -> Hashing {
        let (cores, queue_len) = (cores(), queue_len.max(1));
        Hashing {
            permits: std::sync::Arc::new(Semaphore::new(cores)),
            cores,
            queue: std::sync::Arc::new(Semaphore::new(queue_len)),
            queue_len,
            refused: AtomicU64::new(0),
        }
    }

    /// A place in the sign-in queue, or [`Error::SigninBusy`] when it is full.
    pub(crate) fn enter_signin(&self) -> Result<SigninPlace> {
        match self.queue.clone().try_acquire_owned() {
            Ok(p) => Ok(SigninPlace(p)),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                let n = self.refused.fetch_add(1, Ordering::Relaxed);
                // Not in the audit chain (see docs/SECURITY.md AT-35): nothing about any account was decided,
                // and a chained write per refusal would put load on the database exactly when it has too much.
                // The first refusal and every 100th after it are logged, with the running count.
                if n.is_multiple_of(100) {
                    tracing::warn!(
                        refused_total = n + 1,
                        queue = self.queue_len,
                        "sign-in refused: hashing queue full"
                    );
                }
                Err(Error::SigninBusy { retry_after: SIGNIN_RETRY_MIN_SECS + n % SIGNIN_RETRY_SPREAD })
            }
        }
    }

    /// Sign-ins refused for load since this platform started.
    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Sign-ins holding a place in the queue now.
    pub(crate) fn waiting(&self) -> usize {
        self.queue_len - self.queue.available_permits()
    }

    /// Takes every permit (for tests and drills: hashing stops until the answer is dropped).
    pub(crate) async fn hold(&self) -> Result<HashingHeld> {
        let all = u32::try_from(self.cores).unwrap_or(u32::MAX);
        let held = self.permits.clone().acquire_many_owned(all).await.map_err(|_| failed())?;
        Ok(HashingHeld(held))
    }

    /// Runs one piece of argon2 work on the blocking pool once a permit is free; a sign-in's place in the
    /// queue is given back as soon as it has the permit.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        place: Option<SigninPlace>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self.permits.acquire().await.map_err(|_| failed())?;
        drop(place);
        tokio::task::spawn_blocking(work).await.map_err(|_| failed())
    }
}

fn failed() -> Error {
    Error::Security(SecurityError::Password("password hashing did not complete".into()))
}
