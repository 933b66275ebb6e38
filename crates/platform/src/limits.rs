//! Rate limits, in one place: per-user limits on expensive actions (security.md AT-35) and the daily reveal
//! limit of each role (AT-14). Every limit is keyed by the account (or, for logins, the account name), never
//! by address: a campus or a dormitory shares one NAT address among thousands of students.
//!
//! Counting: fixed windows. On PostgreSQL the counters live in `rate_windows`, one upsert per counted request
//! (`INSERT … ON CONFLICT DO UPDATE … RETURNING hits`), so every instance behind the proxy sees the same
//! count and a user cannot multiply the limit by being routed to several instances — correctness over
//! precision. SQLite is one process (it cannot be shared by instances), so there the counters are in memory:
//! exact, and no write for a read-only search. A window's count starts again at its end, so a user may do up
//! to twice the limit across one window boundary: accepted, the limits are set with that in mind.

use std::collections::HashMap;
use std::sync::Mutex;

use kernel::{Db, DbError, on_db};
use time::OffsetDateTime;

use crate::access::Actor;
use crate::model::Role;

/// What is limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Sign-in attempts on one account (any result), besides the lock-out after failures.
    Login,
    /// Register exports and a member's copy of her data (whole subtrees as xlsx/CSV/JSON).
    Export,
    /// Register imports (parse and check a whole spreadsheet).
    Import,
    /// Full-text search of the learning materials.
    Search,
    /// Starting an exam or practice attempt.
    QuizStart,
    /// Saving, checking and submitting answers.
    QuizAnswer,
    /// The public verification pages of introduction letters and certificates (no session): counted per
    /// client address, so nobody walks the numbers to find which exist.
    Verify,
}

/// A limit: at most `max` in `window_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::Login,
        Bucket::Export,
        Bucket::Import,
        Bucket::Search,
        Bucket::QuizStart,
        Bucket::QuizAnswer,
        Bucket::Verify,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Bucket::Login => "login",
            Bucket::Export => "export",
            Bucket::Import => "import",
            Bucket::Search => "search",
            Bucket::QuizStart => "quiz_start",
            Bucket::QuizAnswer => "quiz_answer",
            Bucket::Verify => "verify",
        }
    }

    /// The limits, with why each is what it is. Each is far above what a person does by hand and well
    /// below what a script hammering one endpoint would.
    pub fn limit(self) -> Limit {
        match self {
            // Lock-out (5 wrong passwords → 30 min) stops guessing; this caps the argon2 work (19 MiB, t = 2
            // per attempt) one account name can cause, right password or wrong, on every instance together.
            Bucket::Login => Limit { max: 10, window_secs: 60 },
            // An export reads a whole subtree and is audited; a secretary exports a few times a day.
            Bucket::Export => Limit { max: 10, window_secs: 3600 },
            // An import parses and checks up to tens of thousands of rows; checking then confirming is two.
            Bucket::Import => Limit { max: 10, window_secs: 3600 },
            // Search-as-you-type sends one request per pause in typing: 60 a minute is a fast typist.
            Bucket::Search => Limit { max: 60, window_secs: 60 },
            // A member starts one exam; a practice is started again now and then; reloads are resumes.
            Bucket::QuizStart => Limit { max: 10, window_secs: 60 },
            // Practice checks one question at a time, an exam saves now and then and submits once.
            Bucket::QuizAnswer => Limit { max: 60, window_secs: 60 },
            // A receiving branch or an employer checks a letter or certificate or two; a whole office behind
            // one campus address checks a few dozen an hour. The number's 32-bit MAC needs ~2^31 tries.
            Bucket::Verify => Limit { max: 30, window_secs: 600 },
        }
    }

    /// What the user reads (Chinese), on the page or in the API's error message.
    pub fn message(self) -> &'static str {
        match self {
            Bucket::Login => "该账号登录尝试过于频繁，请稍后再试",
            Bucket::Export => "导出过于频繁，请稍后再试",
            Bucket::Import => "导入过于频繁，请稍后再试",
            Bucket::Search => "搜索过于频繁，请稍后再试",
            Bucket::QuizStart => "开始答题过于频繁，请稍后再试",
            Bucket::QuizAnswer => "提交答案过于频繁，请稍后再试",
            Bucket::Verify => "查验过于频繁，请稍后再试",
        }
    }
}

/// Reveals a day (Beijing time) of one account, by the roles that reveal (AT-14: "rate-limited (e.g.
/// 20/day)"). A branch secretary keeps one branch's register (at most a few dozen people; political review of
/// a few applicants at a time): 20. Org staff (党委组织部, 组织员) keep a whole college or the university — transfers,
/// development files, graduates — so they legitimately look up more: 50. Other roles cannot reveal; one's
/// own record never counts. An account with both roles gets the larger.
pub fn reveals_per_day(role: Role) -> Option<i64> {
    match role {
        Role::BranchSecretary => Some(20),
        Role::OrgStaff => Some(50),
        _ => None,
    }
}

/// The reveal limit of an actor: the largest of her roles' (0 when none of her roles reveals).
pub fn reveal_limit(actor: &Actor) -> i64 {
    actor.grants.iter().filter_map(|g| reveals_per_day(g.role)).max().unwrap_or(0)
}

/// Seconds until the next midnight in Beijing (when the reveal count starts again), at least 1.
pub fn seconds_to_beijing_midnight(now: OffsetDateTime) -> u64 {
    let local = now.to_offset(kernel::dates::BEIJING);
    let secs = i64::from(local.hour()) * 3600 + i64::from(local.minute()) * 60 + i64::from(local.second());
    (86_400 - secs).clamp(1, 86_400) as u64
}

/// A limit that was reached: try again after `retry_after` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub bucket: Bucket,
    pub retry_after: u64,
}

/// The counters (see the module's notes on where they live).
#[derive(Debug, Default)]
pub struct Limiter {
    memory: Mutex<HashMap<(Bucket, String), (i64, u32)>>,
    /// Counted requests since the last sweep of old windows.
    since_sweep: std::sync::atomic::AtomicU32,
}

/// Entries of the in-memory map before old windows are dropped.
const MEMORY_SWEEP_AT: usize = 100_000;
/// Counted requests between two sweeps of `rate_windows` on PostgreSQL.
const TABLE_SWEEP_EVERY: u32 = 5_000;

impl Limiter {
    /// Counts one request of `subject` (an account id, or for logins the account name) in `bucket`; refuses
    /// it when the window's count goes beyond the limit.
    pub async fn hit(&self, db: &Db, bucket: Bucket, subject: &str) -> Result<(), Exceeded> {
        self.hit_at(db, bucket, subject, OffsetDateTime::now_utc().unix_timestamp()).await
    }

    /// [`Limiter::hit`] at a given time (seconds since the epoch), for tests.
    pub async fn hit_at(&self, db: &Db, bucket: Bucket, subject: &str, now: i64) -> Result<(), Exceeded> {
        let limit = bucket.limit();
        let start = now - now.rem_euclid(limit.window_secs);
        let hits = match db {
            Db::Sqlite(_) => Ok(self.count_in_memory(bucket, subject, start)),
            Db::Postgres(_) => self.count_in_table(db, bucket, subject, start, now).await,
        };
        let hits = match hits {
            Ok(h) => h,
            // A failing counter lets the request through (the database error, if real, shows at once in the
            // handler); a limit is not worth an outage.
            Err(e) => {
                tracing::warn!(error = %e, bucket = bucket.code(), "rate counter unavailable; request allowed");
                return Ok(());
            }
        };
        if hits > limit.max {
            let retry_after = (start + limit.window_secs - now).max(1) as u64;
            return Err(Exceeded { bucket, retry_after });
        }
        Ok(())
    }

    fn count_in_memory(&self, bucket: Bucket, subject: &str, start: i64) -> u32 {
        let mut map = match self.memory.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= MEMORY_SWEEP_AT {
            // Keep only windows that can still count (the longest window is an hour).
            map.retain(|_, (s, _)| *s >= start - 3600);
        }
        let slot = map.entry((bucket, subject.to_owned())).or_insert((start, 0));
        if slot.0 != start {
            *slot = (start, 0);
        }
        slot.1 = slot.1.saturating_add(1);
        slot.1
    }

    async fn count_in_table(
        &self,
        db: &Db,
        bucket: Bucket,
        subject: &str,
        start: i64,
        now: i64,
    ) -> Result<u32, DbError> {
        const HIT: &str = "INSERT INTO rate_windows (bucket, subject, window_start, hits) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (bucket, subject, window_start) DO UPDATE SET hits = rate_windows.hits + 1 RETURNING hits";
        let hits: i32 = on_db!(db, p => sqlx::query_scalar(HIT)
            .bind(bucket.code())
            .bind(subject)
            .bind(start)
            .fetch_one(p)
            .await)?;
        if self.since_sweep.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= TABLE_SWEEP_EVERY {
            self.since_sweep.store(0, std::sync::atomic::Ordering::Relaxed);
            const SWEEP: &str = "DELETE FROM rate_windows WHERE window_start < $1";
            on_db!(db, p => sqlx::query(SWEEP).bind(now - 2 * 3600).execute(p).await.map(|_| ()))?;
        }
        Ok(u32::try_from(hits).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_limits_follow_the_roles() {
        assert_eq!(reveals_per_day(Role::BranchSecretary), Some(20));
        assert_eq!(reveals_per_day(Role::OrgStaff), Some(50));
        assert_eq!(reveals_per_day(Role::Leader), None);
        assert_eq!(reveals_per_day(Role::SystemAdmin), None);
    }

    #[test]
    fn beijing_midnight() {
        // 2026-05-01 15:00 UTC is 23:00 in Beijing: one hour left.
        let t = OffsetDateTime::from_unix_timestamp(1_777_647_600).unwrap();
        assert_eq!(seconds_to_beijing_midnight(t), 3600);
    }

    #[test]
    fn every_limit_is_sane() {
        for b in Bucket::ALL {
            let l = b.limit();
            assert!(l.max >= 5 && (60..=3600).contains(&l.window_secs), "{b:?}");
        }
    }
}
