//! Every request of the run as one sample (when, which action, status, how long), kept in memory and cut into
//! phases and minutes for the report afterwards. A 30-minute run at 1,000 requests/s is 1.8 M samples, 29 MB.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a member does; the report has one line per action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    LoginPage,
    SignIn,
    /// From the login page until she is in, 503 `busy` waits included: what the person waits. Not a request.
    SignInWaited,
    Home,
    Notices,
    NoticePage,
    NoticeConfirm,
    LearningPage,
    MaterialPage,
    Heartbeat,
    Search,
    QuizStart,
    QuizSubmit,
    SignOut,
    ExamStart,
    ExamSubmit,
    LimitProbe,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::LoginPage => "login page `GET /login`",
            Action::SignIn => "sign in `POST /login` (argon2id)",
            Action::SignInWaited => "sign in, as she waits it (page to session, 503 waits included)",
            Action::Home => "home page `GET /`",
            Action::Notices => "her notices `GET /api/v1/notices`",
            Action::NoticePage => "a notice `GET /notices/{id}`",
            Action::NoticeConfirm => "confirm read `POST /api/v1/notices/{id}/read`",
            Action::LearningPage => "learning page `GET /learning`",
            Action::MaterialPage => "a material `GET /learning/{id}`",
            Action::Heartbeat => "study heartbeat `POST …/materials/{id}/progress`",
            Action::Search => "search `GET /api/v1/search`",
            Action::QuizStart => "practice start `POST …/exams/{id}/attempts`",
            Action::QuizSubmit => "practice submit `POST …/attempts/{id}/submit`",
            Action::SignOut => "sign out `POST /logout`",
            Action::ExamStart => "exam start `POST …/exams/{id}/attempts`",
            Action::ExamSubmit => "exam submit `POST …/attempts/{id}/submit`",
            Action::LimitProbe => "one account over the quiz-start limit",
        }
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx or 3xx.
    Ok,
    /// 429; whether it carried `Retry-After`, and whether the member had stayed within the limit in that
    /// window by her own count (a 429 then would be the limit hitting a NAT neighbour).
    Limited { retry_after: bool, under_limit: bool },
    /// 503 `busy`: a sign-in beyond the server's queue, refused at once with `Retry-After` (security.md AT-35's
    /// global limit, docs/SECURITY.md). Load shed on purpose, counted apart from errors; the member waits and
    /// sends the form again, and the time until she is in is reported as "sign in, as she waits it".
    Busy { retry_after: bool },
    /// Any other status.
    Status(u16),
    /// No answer (connection refused, reset, timed out).
    NoAnswer,
}

#[derive(Clone, Copy)]
struct Sample {
    at_ms: u32,
    action: Action,
    outcome: Outcome,
    micros: u32,
}

pub struct Recorder {
    pub started: Instant,
    samples: Mutex<Vec<Sample>>,
    failures: Mutex<BTreeMap<String, u64>>,
}

/// Figures of one action (or of all) over a window.
#[derive(Default)]
pub struct Figures {
    pub requests: u64,
    pub ok: u64,
    pub limited: u64,
    pub limited_without_retry_after: u64,
    pub limited_under_limit: u64,
    /// 503 `busy` answers (load shed with `Retry-After`), not errors.
    pub busy: u64,
    pub busy_without_retry_after: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Figures {
    fn of(samples: &[&Sample]) -> Figures {
        let mut f = Figures { requests: samples.len() as u64, ..Figures::default() };
        let mut micros: Vec<u32> = Vec::with_capacity(samples.len());
        for s in samples {
            match s.outcome {
                Outcome::Ok => f.ok += 1,
                Outcome::Limited { retry_after, under_limit } => {
                    f.limited += 1;
                    f.limited_without_retry_after += u64::from(!retry_after);
                    f.limited_under_limit += u64::from(under_limit);
                }
                Outcome::Busy { retry_after } => {
                    f.busy += 1;
                    f.busy_without_retry_after += u64::from(!retry_after);
                }
                Outcome::Status(_) | Outcome::NoAnswer => f.errors += 1,
            }
            if !matches!(s.outcome, Outcome::NoAnswer | Outcome::Status(0)) {
                micros.push(s.micros);
            }
        }
        micros.sort_unstable();
        f.p50_ms = percentile(&micros, 50.0);
        f.p95_ms = percentile(&micros, 95.0);
        f.p99_ms = percentile(&micros, 99.0);
        f.max_ms = micros.last().map_or(0.0, |m| f64::from(*m) / 1000.0);
        f
    }

    /// Errors (not 429, not 503 `busy`) per request, in percent.
    pub fn error_percent(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.errors as f64 * 100.0 / self.requests as f64 }
    }

    /// Errors and 503 `busy` together per request, in percent: the rate if shed sign-ins counted as failures.
    pub fn error_or_busy_percent(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { (self.errors + self.busy) as f64 * 100.0 / self.requests as f64 }
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
pub fn percentile(sorted_micros: &[u32], p: f64) -> f64 {
    if sorted_micros.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_micros.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted_micros.len()) - 1;
    sorted_micros.get(i).map_or(0.0, |m| f64::from(*m) / 1000.0)
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder {
            started: Instant::now(),
            samples: Mutex::new(Vec::with_capacity(1 << 20)),
            failures: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Recorder {
    pub fn record(&self, action: Action, at: Instant, took: Duration, outcome: Outcome, why: Option<String>) {
        let at_ms = at.saturating_duration_since(self.started).as_millis().min(u128::from(u32::MAX)) as u32;
        let micros = took.as_micros().min(u128::from(u32::MAX)) as u32;
        if let Ok(mut v) = self.samples.lock() {
            v.push(Sample { at_ms, action, outcome, micros });
        }
        if let Some(why) = why
            && let Ok(mut m) = self.failures.lock()
        {
            *m.entry(format!("{}: {why}", action.label())).or_default() += 1;
        }
    }

    /// Figures per action and for all of them, over requests sent in [from, to) since the start.
    pub fn figures(&self, from: Duration, to: Duration, only: Option<&[Action]>) -> (Vec<(Action, Figures)>, Figures) {
        let (from, to) = (from.as_millis() as u32, to.as_millis().min(u128::from(u32::MAX)) as u32);
        let Ok(all) = self.samples.lock() else { return (Vec::new(), Figures::default()) };
        let window: Vec<&Sample> = all
            .iter()
            .filter(|s| s.at_ms >= from && s.at_ms < to)
            // The waited sign-in is a span over requests already counted: only when asked for by name.
            .filter(|s| only.map_or(s.action != Action::SignInWaited, |o| o.contains(&s.action)))
            .collect();
        let mut by_action: BTreeMap<Action, Vec<&Sample>> = BTreeMap::new();
        for s in &window {
            by_action.entry(s.action).or_default().push(s);
        }
        let lines = by_action.into_iter().map(|(a, v)| (a, Figures::of(&v))).collect();
        (lines, Figures::of(&window))
    }

    pub fn failures(&self) -> Vec<(String, u64)> {
        self.failures.lock().map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect()).unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.samples.lock().map(|v| v.len()).unwrap_or_default()
    }
}
