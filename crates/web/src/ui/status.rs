//! The system-status page of the IT centre (`/admin/status`: system and security administrators) and the
//! maintenance switch on it (system administrator).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ops::jobs::{JobRow, JobState};
use ops::status::Status;
use time::OffsetDateTime;

use super::{Chrome, platform_error, render};
use crate::AppState;
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    chrome: Chrome,
    st: Status,
    can_switch: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    message: String,
}

impl StatusPage {
    fn at(&self, t: &OffsetDateTime) -> String {
        let t = t.to_offset(kernel::dates::BEIJING);
        format!("{} {:02}:{:02}:{:02}", kernel::dates::iso(t.date()), t.hour(), t.minute(), t.second())
    }

    fn at_opt(&self, t: &Option<OffsetDateTime>) -> String {
        t.as_ref().map_or_else(|| "—".into(), |t| self.at(t))
    }

    /// "3 小时前".
    fn ago(&self, t: &OffsetDateTime) -> String {
        let secs = (OffsetDateTime::now_utc() - *t).whole_seconds().max(0).unsigned_abs();
        format!("{}前", span(secs))
    }

    fn bytes(&self, n: &u64) -> String {
        bytes(*n)
    }

    fn db_bytes(&self) -> String {
        self.st.database_bytes.map_or_else(|| "—".into(), |b| bytes(b.unsigned_abs()))
    }

    fn uptime(&self) -> String {
        span(self.st.uptime.as_secs())
    }

    fn every(&self, secs: &i64) -> String {
        match *secs {
            86_400 => "每天".into(),
            3600 => "每小时".into(),
            s if s % 86_400 == 0 => format!("每 {} 天", s / 86_400),
            s if s % 3600 == 0 => format!("每 {} 小时", s / 3600),
            s if s % 60 == 0 => format!("每 {} 分钟", s / 60),
            s => format!("每 {s} 秒"),
        }
    }

    fn kind(&self, kind: &str) -> String {
        match kind {
            ops::jobs::builtin::BACKUP => "定时备份".into(),
            ops::jobs::builtin::CLEANUP => "清理过期会话".into(),
            ops::jobs::builtin::AUDIT_VERIFY => "审计链校验".into(),
            ops::jobs::builtin::AUDIT_WATCH => "审计链持续校验".into(),
            ops::jobs::builtin::AUDIT_ARCHIVE => "审计日志归档".into(),
            other => other.into(),
        }
    }

    fn state_class(&self, j: &JobRow) -> &'static str {
        match j.state() {
            Some(JobState::Done) => "ok",
            Some(JobState::Failed) => "bad",
            _ if j.last_error.is_some() => "due",
            _ => "",
        }
    }

    fn state_label(&self, j: &JobRow) -> String {
        match j.state() {
            Some(JobState::Pending) if j.last_error.is_some() => "等待重试".into(),
            Some(s) => s.label().into(),
            None => j.state.clone(),
        }
    }

    /// A scheduled backup is late: the last good one is over 26 hours old, or runs were made and none
    /// succeeded. A fresh install whose first scheduled run has not come yet is not late.
    fn backup_overdue(&self) -> bool {
        self.st.backup_plan.is_some()
            && match self.st.last_backup_ok {
                Some(t) => OffsetDateTime::now_utc() - t > time::Duration::hours(26),
                None => !self.st.backups.is_empty(),
            }
    }

    fn audit_result(&self) -> Option<(bool, String)> {
        let j = self.st.audit_verify.as_ref()?;
        let r = j.result_json();
        match j.state() {
            Some(JobState::Done) => Some((true, format!("完整，{} 条", r["entries"].as_u64().unwrap_or(0)))),
            Some(JobState::Failed) => Some((false, j.last_error.clone().unwrap_or_default())),
            _ => None,
        }
    }

    /// The watch's last finding: (intact, text) — "第 N 条起断裂：…" names the first broken entry.
    fn audit_watch_result(&self) -> Option<(bool, String)> {
        let w = self.st.audit_watch.as_ref()?;
        Some(match (w.broken_seq, &w.broken_reason) {
            (Some(seq), reason) => {
                (false, format!("审计链在第 {seq} 条处断裂：{}", reason.as_deref().unwrap_or("原因未记录")))
            }
            (None, _) => (true, format!("完整，已校验至第 {} 条（{}）", w.verified_seq, self.ago(&w.checked_at))),
        })
    }

    /// Audit appends of this instance failed within the last 5 minutes: actions are being refused.
    fn audit_failing(&self) -> bool {
        self.st.audit_write_failures.last.is_some_and(|t| OffsetDateTime::now_utc() - t < time::Duration::minutes(5))
    }

    fn audit_failures_text(&self) -> String {
        let f = &self.st.audit_write_failures;
        match &f.last {
            Some(t) => format!("本实例启动以来 {} 次，最近一次 {}（{}）", f.total, self.at(t), self.ago(t)),
            None => "无".into(),
        }
    }

    fn disk_low(&self) -> bool {
        self.st.disk.is_some_and(|(free, total)| total > 0 && free.saturating_mul(10) < total)
    }
}

fn span(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} 秒"),
        s if s < 3600 => format!("{} 分钟", s / 60),
        s if s < 86_400 => format!("{} 小时 {} 分钟", s / 3600, s % 3600 / 60),
        s => format!("{} 天 {} 小时", s / 86_400, s % 86_400 / 3600),
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    let u = UNITS.get(unit).copied().unwrap_or("B");
    // Short enough for a stat tile on a phone: one decimal below 10 only.
    match unit {
        0 => format!("{n} B"),
        _ if v < 10.0 => format!("{v:.1} {u}"),
        _ => format!("{v:.0} {u}"),
    }
}

fn ops_error(e: ops::Error, request_id: &str) -> Response {
    let e = match e {
        ops::Error::NotFound => platform::Error::NotFound,
        ops::Error::Forbidden => platform::Error::Forbidden,
        ops::Error::Invalid(m) => platform::Error::Invalid([("message".to_string(), m)].into()),
        ops::Error::Db(d) | ops::Error::Jobs(ops::jobs::Error::Db(d)) => platform::Error::Db(d),
    };
    platform_error(&e, request_id)
}

async fn page(
    s: &AppState,
    c: &Caller,
    notice: Option<&'static str>,
    error: Option<String>,
    message: String,
) -> Response {
    match ops::status::status(&s.ops, &s.metrics, &s.platform.db, &c.actor).await {
        Ok(st) => {
            let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            let page = StatusPage {
                chrome: Chrome::new(s, c, "status"),
                st,
                can_switch: ops::status::may_switch(&c.actor),
                notice,
                error,
                message,
            };
            render(status, &page)
        }
        Err(e) => ops_error(e, &c.ctx.request_id),
    }
}

/// The system-status page.
pub async fn status_get(State(s): State<AppState>, c: Caller, Query(q): Query<HashMap<String, String>>) -> Response {
    let notice = match q.get("maintenance").map(String::as_str) {
        Some("on") => Some("已开启维护模式：全部实例在缓存时间内转为只读。"),
        Some("off") => Some("已关闭维护模式，恢复正常办理。"),
        _ => None,
    };
    page(&s, &c, notice, None, String::new()).await
}

/// Switches maintenance mode (`active` = `on` | `off`, optional `message`).
pub async fn maintenance_post(
    State(s): State<AppState>,
    c: Caller,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !ops::status::may_switch(&c.actor) {
        return ops_error(ops::Error::Forbidden, &c.ctx.request_id);
    }
    let message = f.get("message").cloned().unwrap_or_default();
    let on = match f.get("active").map(String::as_str) {
        Some("on") => true,
        Some("off") => false,
        _ => return page(&s, &c, None, Some("请选择开启或关闭维护模式".into()), message).await,
    };
    match s.ops.maintenance.switch(&s.platform.db, &c.ctx, &c.actor, on, Some(&message)).await {
        Ok(_) => Redirect::to(if on { "/admin/status?maintenance=on" } else { "/admin/status?maintenance=off" })
            .into_response(),
        Err(ops::Error::Invalid(m)) => page(&s, &c, None, Some(m), message).await,
        Err(e) => ops_error(e, &c.ctx.request_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_spans_read_naturally() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024 + 200 * 1024), "3.2 MB");
        assert_eq!(bytes(284 * 1024 + 100), "284 KB");
        assert_eq!(bytes(47_700_000_000), "44 GB");
        assert_eq!(span(59), "59 秒");
        assert_eq!(span(3 * 3600 + 120), "3 小时 2 分钟");
        assert_eq!(span(2 * 86_400 + 7200), "2 天 2 小时");
    }
}
