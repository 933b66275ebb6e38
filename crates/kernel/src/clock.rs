//! The platform's clock: the real time, plus an offset that only tests move.
//!
//! Rules that turn on an instant (a role's term ending at 00:00 Beijing time, a password's age, a
//! session's idle time) read [`now_utc`] instead of the system clock, so an integration test can step
//! across such an instant ([`set_offset_for_tests`]) and check that the very next request is judged by
//! it. The offset is process-wide: the test runner (cargo nextest) runs every test in a process of its
//! own, and nothing in a real deployment ever sets it (it stays 0).

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

static OFFSET_SECONDS: AtomicI64 = AtomicI64::new(0);

/// The current instant as the platform judges it.
pub fn now_utc() -> OffsetDateTime {
    let offset = OFFSET_SECONDS.load(Ordering::Relaxed);
    OffsetDateTime::now_utc() + Duration::seconds(offset)
}

/// Moves the clock so that [`now_utc`] reads `at` now (tests only).
pub fn set_for_tests(at: OffsetDateTime) {
    let delta = (at - OffsetDateTime::now_utc()).whole_seconds();
    OFFSET_SECONDS.store(delta, Ordering::Relaxed);
}

/// Moves the clock by `seconds` from the real time (tests only; 0 restores it).
pub fn set_offset_for_tests(seconds: i64) {
    OFFSET_SECONDS.store(seconds, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_moves_the_clock_and_zero_restores_it() {
        let target = OffsetDateTime::now_utc() + Duration::days(3);
        set_for_tests(target);
        assert!((now_utc() - target).abs() < Duration::seconds(2));
        set_offset_for_tests(0);
        assert!((now_utc() - OffsetDateTime::now_utc()).abs() < Duration::seconds(1));
    }
}
