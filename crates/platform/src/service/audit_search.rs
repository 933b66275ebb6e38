//! The audit administrator's search of the audit log (issue 6 item 4, security.md AT-24/AT-26: "the audit
//! administrator's UI searches and verifies it"): by actor, action, target (exact, or a kind such as
//! `person:`), result and period in Beijing days, newest first, a page at a time. Only the audit
//! administrator reads it (三员分立: the system and security administrators do not); a refusal is audited and
//! answered as not found, and a search with criteria is itself audited (`audit.search`), so who looked for
//! what in the evidence is evidence too. Entries moved to sealed archives are found here once restored
//! (`dangjian audit restore --file`, marked 已归档), and in the files with `dangjian audit search --file`.

use security::audit::{self, Entry};
use security::audit_evidence::{self, Filter};
use time::{Duration, OffsetDateTime};

use super::{Ctx, Error, Platform, Result, event};
use crate::access::{Actor, Capability};
use crate::rules::FieldErrors;

/// Entries on one page of the search.
pub const AUDIT_PAGE: i64 = 100;
/// The longest text criterion kept (an action or target is far shorter).
const MAX_CRITERION: usize = 100;

/// The criteria as typed (empty: any); `before`: the page after the entry with this sequence number.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub result: String,
    /// First day, `YYYY-MM-DD` (Beijing).
    #[serde(default)]
    pub from: String,
    /// Last day, included.
    #[serde(default)]
    pub to: String,
    /// The page after the entry with this sequence number, as typed (a positive whole number).
    #[serde(default)]
    pub before: String,
}

/// One page of matches, newest first, and where the next page starts (none: this is the last).
#[derive(Clone, Debug)]
pub struct AuditPage {
    pub entries: Vec<Entry>,
    pub next_before: Option<i64>,
    /// Whether any criterion was given (a plain view of the latest entries is not a search).
    pub searched: bool,
    /// Entries up to this number were archived (those found are copies restored from the archive files).
    pub archived_through: i64,
}

impl AuditQuery {
    /// The filter and the page's start, or the criteria's errors in Chinese.
    pub fn filter(&self) -> std::result::Result<(Filter, Option<i64>), FieldErrors> {
        let mut errors = FieldErrors::new();
        let text = |name: &str, v: &str, errors: &mut FieldErrors| {
            let v = v.trim();
            if v.chars().count() > MAX_CRITERION {
                errors.insert(name.into(), format!("最多{MAX_CRITERION}个字符"));
            }
            (!v.is_empty()).then(|| v.to_string())
        };
        let day = |name: &str, v: &str, errors: &mut FieldErrors| {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            let d = kernel::dates::parse_iso(v);
            if d.is_none() {
                errors.insert(name.into(), "请按 2026-01-31 的格式填写日期".into());
            }
            d
        };
        let actor = text("actor", &self.actor, &mut errors);
        let action = text("action", &self.action, &mut errors);
        let target = text("target", &self.target, &mut errors);
        let result = text("result", &self.result, &mut errors);
        let from = day("from", &self.from, &mut errors);
        let to = day("to", &self.to, &mut errors);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            errors.insert("to".into(), "结束日期不能早于开始日期".into());
        }
        let before = self.before.trim();
        let before = match before {
            "" => None,
            b => match b.parse::<i64>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    errors.insert("before".into(), "分页参数无效".into());
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let start = kernel::dates::beijing_midnight;
        let filter = Filter {
            actor,
            action,
            target,
            result,
            from: from.map(start),
            to: to.map(|d| start(d) + Duration::days(1)),
        };
        Ok((filter, before))
    }
}

fn describe(f: &Filter) -> String {
    let mut parts = Vec::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    };
    put("actor", &f.actor);
    put("action", &f.action);
    put("target", &f.target);
    put("result", &f.result);
    let iso = |t: &Option<OffsetDateTime>| t.map(|t| kernel::dates::iso(t.to_offset(kernel::dates::BEIJING).date()));
    put("from", &iso(&f.from));
    put("to_before", &iso(&f.to));
    parts.join(" ")
}

impl Platform {
    /// Searches the audit log (newest first, [`AUDIT_PAGE`] at a time) for the audit administrator.
    pub async fn search_audit(&self, ctx: &Ctx, actor: &Actor, q: &AuditQuery) -> Result<AuditPage> {
        if !actor.can_somewhere(Capability::AuditRead) {
            return Err(self.deny(ctx, actor, "audit.search", "audit_log").await?);
        }
        let (filter, before) = q.filter().map_err(Error::Invalid)?;
        let detail = describe(&filter);
        let searched = !detail.is_empty();
        if searched {
            let e = event(Some(actor), ctx, "audit.search", "audit_log".into(), "ok", detail);
            audit::append_alone(&self.db, e).await?;
        }
        let entries = audit::search(&self.db, &filter, before, AUDIT_PAGE).await?;
        let next_before = (entries.len() as i64 == AUDIT_PAGE).then(|| entries.last().map(|e| e.seq)).flatten();
        let archived_through = audit_evidence::last_checkpoint(&self.db).await?.map_or(0, |c| c.through_seq);
        Ok(AuditPage { entries, next_before, searched, archived_through })
    }
}
