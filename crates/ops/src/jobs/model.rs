//! The queue's types and the pure arithmetic around them: when a schedule runs next, how long a failed job
//! waits, which scheduled backups retention keeps. No I/O and no clock: "now" is always an argument.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// Where a job is. `pending` waits for `run_at`; `running` is leased to one instance until `locked_until`;
/// `done` and `failed` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Pending,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [JobState::Pending, JobState::Running, JobState::Done, JobState::Failed];

    pub fn code(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.code() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            JobState::Pending => "等待",
            JobState::Running => "运行中",
            JobState::Done => "完成",
            JobState::Failed => "失败",
        }
    }
}

/// A job as a runner claimed it: the handler gets this.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub dedup_key: Option<String>,
    /// This attempt's number, from 1.
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: OffsetDateTime,
}

/// A job as the status page and the tests see it: every column.
#[derive(Clone, Debug, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub dedup_key: Option<String>,
    pub state: String,
    pub run_at: OffsetDateTime,
    pub attempts: i64,
    pub max_attempts: i64,
    pub locked_by: Option<String>,
    pub locked_until: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub created_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
}

impl JobRow {
    pub fn state(&self) -> Option<JobState> {
        JobState::parse(&self.state)
    }

    /// The result as JSON (`Null` when there is none or it does not parse).
    pub fn result_json(&self) -> serde_json::Value {
        self.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(serde_json::Value::Null)
    }
}

/// Something to put on the queue.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: OffsetDateTime,
    /// At most one job per key, ever (until the row is purged): a second enqueue with the key is a no-op.
    pub dedup_key: Option<String>,
    pub max_attempts: i64,
}

impl NewJob {
    pub fn now(kind: &str, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            run_at: OffsetDateTime::now_utc(),
            dedup_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Periodic work: a run every `every`, at `offset` past each multiple of `every` counted from the Unix
/// epoch (UTC). Daily at 02:30 Beijing time is `every` 24 h at `offset` 18 h 30 min.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub name: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub every: Duration,
    pub offset: Duration,
    pub enabled: bool,
    pub max_attempts: i64,
}

impl Schedule {
    /// Daily at `hour:minute` Beijing time.
    pub fn daily_beijing(name: &str, kind: &str, hour: u8, minute: u8) -> Schedule {
        let local = i64::from(hour) * 3600 + i64::from(minute) * 60;
        let utc = (local - 8 * 3600).rem_euclid(86_400);
        Schedule {
            name: name.into(),
            kind: kind.into(),
            payload: serde_json::json!({}),
            every: Duration::from_secs(86_400),
            offset: Duration::from_secs(utc.unsigned_abs()),
            enabled: true,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// Every `every` from the epoch (no offset).
    pub fn every(name: &str, kind: &str, every: Duration) -> Schedule {
        Schedule {
            name: name.into(),
            kind: kind.into(),
            payload: serde_json::json!({}),
            every,
            offset: Duration::ZERO,
            enabled: true,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// The first run strictly after `after`.
    pub fn next_after(&self, after: OffsetDateTime) -> OffsetDateTime {
        next_slot(self.every, self.offset, after)
    }

    /// The dedup key of the run due at `at`: one job per schedule and slot, whichever instance enqueues it.
    pub fn run_key(&self, at: OffsetDateTime) -> String {
        format!("{}@{}", self.name, at.unix_timestamp())
    }
}

/// The smallest `k·every + offset` (seconds since the epoch) strictly after `after`. Whole seconds, so the
/// stored value compares equal when it is read back (the schedule's compare-and-set relies on it).
pub fn next_slot(every: Duration, offset: Duration, after: OffsetDateTime) -> OffsetDateTime {
    let every = i64::try_from(every.as_secs()).unwrap_or(i64::MAX).max(1);
    let offset = i64::try_from(offset.as_secs()).unwrap_or(0).rem_euclid(every);
    let t = after.unix_timestamp();
    let k = (t - offset).div_euclid(every) + 1;
    let next = k.saturating_mul(every).saturating_add(offset);
    OffsetDateTime::from_unix_timestamp(next).unwrap_or(after)
}

/// How long a job waits after its `attempt`-th failure: `base`, doubling each time, never more than `max`.
pub fn backoff(attempt: i64, base: Duration, max: Duration) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.checked_mul(1u32 << doublings).unwrap_or(max).min(max)
}

/// How many scheduled backups to keep: the newest of each of the last `daily` days, `weekly` ISO weeks
/// and `monthly` months that have one (grandfather-father-son). The newest backup is always kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { daily: 7, weekly: 4, monthly: 12 }
    }
}

impl Retention {
    /// For backups taken at `stamps` (Beijing local time, any order): which to keep, by index.
    pub fn keep(&self, stamps: &[PrimitiveDateTime]) -> HashSet<usize> {
        let mut order: Vec<usize> = (0..stamps.len()).collect();
        order.sort_by(|a, b| stamps.get(*b).cmp(&stamps.get(*a)));
        let mut keep = HashSet::new();
        if let Some(first) = order.first() {
            keep.insert(*first);
        }
        let mut pick = |n: usize, bucket: &dyn Fn(Date) -> (i32, u32)| {
            let mut seen = HashSet::new();
            for &i in &order {
                let Some(t) = stamps.get(i) else { continue };
                if seen.len() >= n && !seen.contains(&bucket(t.date())) {
                    break;
                }
                if seen.insert(bucket(t.date())) {
                    keep.insert(i);
                }
            }
        };
        pick(self.daily, &|d| (d.year(), d.ordinal().into()));
        pick(self.weekly, &|d| {
            let (y, w, _) = d.to_iso_week_date();
            (y, w.into())
        });
        pick(self.monthly, &|d| (d.year(), u8::from(d.month()).into()));
        keep
    }
}

/// Scheduled backups are named after their moment in Beijing time, so an operator reads the date off the
/// name and retention can sort them without opening them: `dangjian-20260501-023000.jsonl.gz`.
pub const BACKUP_PREFIX: &str = "dangjian-";
pub const BACKUP_SUFFIX: &str = ".jsonl.gz";

pub fn backup_file_name(at: OffsetDateTime) -> String {
    let t = at.to_offset(kernel::dates::BEIJING);
    format!(
        "{BACKUP_PREFIX}{:04}{:02}{:02}-{:02}{:02}{:02}{BACKUP_SUFFIX}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The moment in a scheduled backup's name; `None` for any other file (never touched by retention).
pub fn parse_backup_name(name: &str) -> Option<PrimitiveDateTime> {
    let stem = name.strip_prefix(BACKUP_PREFIX)?.strip_suffix(BACKUP_SUFFIX)?;
    let (date, time) = stem.split_once('-')?;
    if date.len() != 8 || time.len() != 6 || !date.bytes().chain(time.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let (y, m, d) = (num(date.get(0..4)?)?, num(date.get(4..6)?)?, num(date.get(6..8)?)?);
    let (hh, mm, ss) = (num(time.get(0..2)?)?, num(time.get(2..4)?)?, num(time.get(4..6)?)?);
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, u8::try_from(m).ok()?.try_into().ok()?, d as u8).ok()?;
    let time = Time::from_hms(hh as u8, mm as u8, ss as u8).ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::{datetime, offset};

    use super::*;

    #[test]
    fn next_slot_is_strictly_after_and_aligned() {
        let daily = Schedule::daily_beijing("backup", "backup", 2, 30);
        assert_eq!(daily.offset, Duration::from_secs(18 * 3600 + 30 * 60));
        // 2026-05-01 10:00 Beijing → next 2026-05-02 02:30 Beijing.
        let now = datetime!(2026-05-01 10:00 +8);
        assert_eq!(daily.next_after(now), datetime!(2026-05-02 02:30 +8));
        // Exactly on the slot: the next one, a day later.
        assert_eq!(daily.next_after(datetime!(2026-05-02 02:30 +8)), datetime!(2026-05-03 02:30 +8));
        // 01:00 Beijing → the same day's 02:30.
        assert_eq!(daily.next_after(datetime!(2026-05-02 01:00 +8)), datetime!(2026-05-02 02:30 +8));
        let hourly = Schedule::every("cleanup", "cleanup", Duration::from_secs(3600));
        assert_eq!(hourly.next_after(datetime!(2026-05-01 10:59:59.9 UTC)), datetime!(2026-05-01 11:00 UTC));
        // A zero interval is taken as one second, never a division by zero.
        assert_eq!(
            next_slot(Duration::ZERO, Duration::ZERO, datetime!(2026-05-01 10:00 UTC)),
            datetime!(2026-05-01 10:00:01 UTC)
        );
        assert_eq!(hourly.run_key(datetime!(1970-01-01 01:00 UTC)), "cleanup@3600");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (b, m) = (Duration::from_secs(30), Duration::from_secs(3600));
        let got: Vec<u64> = (1..=9).map(|a| backoff(a, b, m).as_secs()).collect();
        assert_eq!(got, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(0, b, m), b);
        assert_eq!(backoff(i64::MAX, b, m), m);
    }

    #[test]
    fn backup_names_round_trip_and_others_are_ignored() {
        let at = datetime!(2026-04-30 18:30:05 UTC);
        let name = backup_file_name(at);
        assert_eq!(name, "dangjian-20260501-023005.jsonl.gz");
        let t = parse_backup_name(&name).unwrap();
        assert_eq!(t.assume_offset(offset!(+8)), at);
        for other in [
            "dangjian-2026-05-01.jsonl.gz",
            "dangjian-20260501-023005.jsonl.gz.partial",
            "mine-20260501-023005.jsonl.gz",
            "dangjian-20261301-023005.jsonl.gz",
            "dangjian-2026050a-023005.jsonl.gz",
        ] {
            assert_eq!(parse_backup_name(other), None, "{other}");
        }
    }

    #[test]
    fn retention_keeps_days_weeks_and_months() {
        // Two backups a day (02:30 and 01:30) for 120 days, the newest on 2026-05-01.
        let mut stamps = Vec::new();
        let start = datetime!(2026-05-01 02:30);
        for d in 0..120i64 {
            for h in [0i64, 1] {
                stamps.push(start - time::Duration::days(d) - time::Duration::hours(h));
            }
        }
        let r = Retention { daily: 7, weekly: 4, monthly: 3 };
        let keep = r.keep(&stamps);
        let mut kept: Vec<PrimitiveDateTime> = keep.iter().map(|&i| stamps[i]).collect();
        kept.sort();
        kept.reverse();
        // The newest of each of the last 7 days.
        for d in 0..7 {
            assert!(kept.contains(&(start - time::Duration::days(d))), "day {d}");
        }
        // One per day only: the earlier backup of a kept day is gone.
        assert!(!kept.contains(&(start - time::Duration::hours(1))));
        // 7 days + up to 4 weeks + 3 months, overlapping; nothing older than the third month back.
        assert!(kept.len() <= 7 + 4 + 3 && kept.len() >= 7, "{}", kept.len());
        let oldest = *kept.last().unwrap();
        assert_eq!((oldest.year(), u8::from(oldest.month())), (2026, 3), "{oldest}");
        // The newest of each of the last 3 months: May 1, April 30, March 31.
        for m in [datetime!(2026-05-01 02:30), datetime!(2026-04-30 02:30), datetime!(2026-03-31 02:30)] {
            assert!(kept.contains(&m), "{m}");
        }
        // Nothing to keep from nothing; one backup is always kept.
        assert!(r.keep(&[]).is_empty());
        assert_eq!(Retention { daily: 0, weekly: 0, monthly: 0 }.keep(&stamps[..3]).len(), 1);
    }
}
