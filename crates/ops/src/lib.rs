//! Support system 2b — 技术保障与运维 (operations): what the IT centre's monitoring reads and what it
//! runs to keep the data safe. Request counters and latency sums are kept in atomics and rendered as
//! Prometheus text; [`backup`] holds online backup, verification and restore. Scheduled backups and
//! maintenance mode arrive with the later operations items.

pub mod backup;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Process-wide counters. One instance lives in the web state.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    requests: AtomicU64,
    errors_4xx: AtomicU64,
    errors_5xx: AtomicU64,
    latency_micros_sum: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            requests: AtomicU64::new(0),
            errors_4xx: AtomicU64::new(0),
            errors_5xx: AtomicU64::new(0),
            latency_micros_sum: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn record(&self, status: u16, micros: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.latency_micros_sum.fetch_add(micros, Ordering::Relaxed);
        match status {
            400..=499 => self.errors_4xx.fetch_add(1, Ordering::Relaxed),
            500..=599 => self.errors_5xx.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// The Prometheus text exposition of the counters plus the database backend in use.
    pub fn render(&self, backend: kernel::Backend, ready: bool) -> String {
        let backend = match backend {
            kernel::Backend::Sqlite => "sqlite",
            kernel::Backend::Postgres => "postgres",
        };
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "# HELP dangjian_up Whether the database answers.\n# TYPE dangjian_up gauge\ndangjian_up{{backend=\"{backend}\"}} {}\n\
             # HELP dangjian_uptime_seconds Seconds since the process started.\n# TYPE dangjian_uptime_seconds gauge\ndangjian_uptime_seconds {}\n\
             # HELP dangjian_http_requests_total HTTP requests answered.\n# TYPE dangjian_http_requests_total counter\ndangjian_http_requests_total {}\n\
             # HELP dangjian_http_errors_total HTTP responses by error class.\n# TYPE dangjian_http_errors_total counter\n\
             dangjian_http_errors_total{{class=\"4xx\"}} {}\ndangjian_http_errors_total{{class=\"5xx\"}} {}\n\
             # HELP dangjian_http_request_duration_seconds_sum Total time spent answering.\n# TYPE dangjian_http_request_duration_seconds_sum counter\n\
             dangjian_http_request_duration_seconds_sum {:.6}\n",
            u8::from(ready),
            self.started.elapsed().as_secs(),
            get(&self.requests),
            get(&self.errors_4xx),
            get(&self.errors_5xx),
            get(&self.latency_micros_sum) as f64 / 1e6,
        )
    }
}
