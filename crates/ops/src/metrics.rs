//! What this process counts for `/metrics`: requests by method, route template and status, a latency
//! histogram per route, the 5xx answers of the last hour (for the status page) and sign-ins. Route
//! templates (`/people/{id}`), never raw paths, so the number of series stays bounded whatever is requested;
//! a request no route matched counts as `unmatched`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct RouteStats {
    statuses: BTreeMap<u16, u64>,
    /// Non-cumulative counts per bucket; the last slot is above the last bound.
    buckets: [u64; BUCKETS.len() + 1],
    count: u64,
    sum_micros: u64,
}

/// 5xx answers per minute over the last hour: (minute since start, count) in a ring.
struct Recent {
    slots: [(u64, u64); 60],
}

/// Process-wide counters. One instance lives in the web state.
pub struct Metrics {
    started: Instant,
    /// route → method → stats.
    routes: Mutex<HashMap<String, HashMap<String, RouteStats>>>,
    recent_5xx: Mutex<Recent>,
    logins_ok: AtomicU64,
    logins_failed: AtomicU64,
    logins_busy: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("uptime", &self.started.elapsed()).finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            routes: Mutex::new(HashMap::new()),
            recent_5xx: Mutex::new(Recent { slots: [(u64::MAX, 0); 60] }),
            logins_ok: AtomicU64::new(0),
            logins_failed: AtomicU64::new(0),
            logins_busy: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one answered request. `route` is the matched route template, or `None` when no route matched.
    pub fn record(&self, method: &str, route: Option<&str>, status: u16, micros: u64) {
        let route = route.unwrap_or("unmatched");
        let seconds = micros as f64 / 1e6;
        let slot = BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(BUCKETS.len());
        if let Ok(mut routes) = self.routes.lock() {
            let by_method = match routes.get_mut(route) {
                Some(m) => m,
                None => routes.entry(route.to_owned()).or_default(),
            };
            let stats = match by_method.get_mut(method) {
                Some(s) => s,
                None => by_method.entry(method.to_owned()).or_default(),
            };
            *stats.statuses.entry(status).or_default() += 1;
            if let Some(b) = stats.buckets.get_mut(slot) {
                *b += 1;
            }
            stats.count += 1;
            stats.sum_micros += micros;
        }
        if status >= 500 {
            let minute = self.started.elapsed().as_secs() / 60;
            if let Ok(mut recent) = self.recent_5xx.lock()
                && let Some(s) = recent.slots.get_mut((minute % 60) as usize)
            {
                if s.0 != minute {
                    *s = (minute, 0);
                }
                s.1 += 1;
            }
        }
    }

    /// Counts a sign-in: `ok` when a session or token was issued, otherwise a refused password or code.
    pub fn login(&self, ok: bool) {
        let c = if ok { &self.logins_ok } else { &self.logins_failed };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a sign-in refused for load before its password was looked at (503, security.md AT-35).
    pub fn login_busy(&self) {
        self.logins_busy.fetch_add(1, Ordering::Relaxed);
    }

    /// 5xx answers of this process in the last 60 minutes.
    pub fn errors_5xx_last_hour(&self) -> u64 {
        let minute = self.started.elapsed().as_secs() / 60;
        self.recent_5xx
            .lock()
            .map(|r| {
                r.slots.iter().filter(|(m, _)| *m != u64::MAX && minute.saturating_sub(*m) < 60).map(|(_, n)| n).sum()
            })
            .unwrap_or(0)
    }

    /// Requests answered by this process, and how many of them were 5xx.
    pub fn totals(&self) -> (u64, u64) {
        let Ok(routes) = self.routes.lock() else { return (0, 0) };
        let mut all = 0;
        let mut errors = 0;
        for stats in routes.values().flat_map(|m| m.values()) {
            all += stats.count;
            errors += stats.statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, n)| n).sum::<u64>();
        }
        (all, errors)
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The Prometheus text of this process's counters (`dangjian_up` is the caller's: it knows the database).
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP dangjian_uptime_seconds Seconds since the process started.");
        let _ = writeln!(out, "# TYPE dangjian_uptime_seconds gauge");
        let _ = writeln!(out, "dangjian_uptime_seconds {}", self.started.elapsed().as_secs());
        let _ = writeln!(
            out,
            "# HELP dangjian_logins_total Sign-ins on this instance: ok (a session or token issued), failed (a wrong password or code) or busy (refused for load before the password was checked: 503)."
        );
        let _ = writeln!(out, "# TYPE dangjian_logins_total counter");
        let _ = writeln!(out, "dangjian_logins_total{{result=\"ok\"}} {}", self.logins_ok.load(Ordering::Relaxed));
        let _ =
            writeln!(out, "dangjian_logins_total{{result=\"failed\"}} {}", self.logins_failed.load(Ordering::Relaxed));
        let _ = writeln!(out, "dangjian_logins_total{{result=\"busy\"}} {}", self.logins_busy.load(Ordering::Relaxed));
        let Ok(routes) = self.routes.lock() else { return };
        let mut sorted: Vec<(&String, &String, &RouteStats)> =
            routes.iter().flat_map(|(r, m)| m.iter().map(move |(method, s)| (r, method, s))).collect();
        sorted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let _ = writeln!(
            out,
            "# HELP dangjian_http_requests_total HTTP requests answered, by method, route template and status."
        );
        let _ = writeln!(out, "# TYPE dangjian_http_requests_total counter");
        for (route, method, s) in &sorted {
            let (route, method) = (escape(route), escape(method));
            for (status, n) in &s.statuses {
                let _ = writeln!(
                    out,
                    "dangjian_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP dangjian_http_request_duration_seconds Time to answer, by method and route template."
        );
        let _ = writeln!(out, "# TYPE dangjian_http_request_duration_seconds histogram");
        for (route, method, s) in &sorted {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "dangjian_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(out, "dangjian_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(
                out,
                "dangjian_http_request_duration_seconds_sum{{{labels}}} {:.6}",
                s.sum_micros as f64 / 1e6
            );
            let _ = writeln!(out, "dangjian_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
    }
}

/// A Prometheus label value: backslash, double quote and newline escaped.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn counts_by_route_and_status_with_cumulative_buckets() {
        let m = Metrics::default();
        m.record("GET", Some("/people/{id}"), 200, 3_000);
        m.record("GET", Some("/people/{id}"), 200, 40_000);
        m.record("GET", Some("/people/{id}"), 404, 20_000_000);
        m.record("POST", Some("/login"), 500, 1_000);
        m.record("GET", None, 404, 1_000);
        m.login(true);
        m.login(false);
        m.login(false);
        let mut out = String::new();
        m.render(&mut out);
        for line in [
            "dangjian_http_requests_total{method=\"GET\",route=\"/people/{id}\",status=\"200\"} 2",
            "dangjian_http_requests_total{method=\"GET\",route=\"/people/{id}\",status=\"404\"} 1",
            "dangjian_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
            "dangjian_http_request_duration_seconds_bucket{method=\"GET\",route=\"/people/{id}\",le=\"0.005\"} 1",
            "dangjian_http_request_duration_seconds_bucket{method=\"GET\",route=\"/people/{id}\",le=\"0.05\"} 2",
            "dangjian_http_request_duration_seconds_bucket{method=\"GET\",route=\"/people/{id}\",le=\"10\"} 2",
            "dangjian_http_request_duration_seconds_bucket{method=\"GET\",route=\"/people/{id}\",le=\"+Inf\"} 3",
            "dangjian_http_request_duration_seconds_count{method=\"GET\",route=\"/people/{id}\"} 3",
            "dangjian_logins_total{result=\"failed\"} 2",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing in\n{out}");
        }
        assert_eq!(m.errors_5xx_last_hour(), 1);
        assert_eq!(m.totals(), (5, 1));
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
