//! The audit log for the audit administrator's tools (issue 6 item 4; a SIEM on the campus network pulls it
//! page by page): the same search as the 审计 page, the same refusal (not found, audited) for everyone else.

use axum::Json;
use axum::extract::{Query, State};
use platform::service::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::api;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// The criteria; empty ones match everything.
#[derive(Deserialize, IntoParams)]
pub struct AuditParams {
    /// Username of who acted.
    pub actor: Option<String>,
    /// e.g. `auth.login`, `person.reveal`.
    pub action: Option<String>,
    /// Exact (`person:17`) or a kind (`person:`).
    pub target: Option<String>,
    /// `ok`, `denied`, `failed`, `error`.
    pub result: Option<String>,
    /// First day, `YYYY-MM-DD` (Beijing).
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// The page after the entry with this number (`next_before` of the previous page); a positive whole
    /// number, else 422.
    pub before: Option<String>,
}

/// One audit entry as the chain holds it.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    /// UTC, RFC 3339.
    pub at: String,
    pub actor: String,
    pub roles: String,
    pub org_scope: String,
    pub action: String,
    pub target: String,
    pub result: String,
    pub request_id: String,
    pub ip: String,
    pub detail: String,
    /// The entry's hash and its link to the previous one (hex).
    pub hash: String,
    pub prev_hash: String,
    /// A copy restored from an archive file (`dangjian audit restore`).
    pub archived: bool,
}

/// A page of matches, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditEntries {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// Searches the audit log, newest first, 100 entries a page: the audit administrator only (三员分立); anyone
/// else gets 404, audited. A search with criteria is itself audited (`audit.search`).
#[utoipa::path(get, path = "/api/v1/audit/entries", tag = "users", params(AuditParams),
    responses((status = 200, body = AuditEntries), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn entries(
    State(s): State<AppState>,
    c: Caller,
    Query(p): Query<AuditParams>,
) -> Result<Json<AuditEntries>, ApiError> {
    let q = AuditQuery {
        actor: p.actor.unwrap_or_default(),
        action: p.action.unwrap_or_default(),
        target: p.target.unwrap_or_default(),
        result: p.result.unwrap_or_default(),
        from: p.from.unwrap_or_default(),
        to: p.to.unwrap_or_default(),
        before: p.before.unwrap_or_default(),
    };
    let page = api(s.platform.search_audit(&c.ctx, &c.actor, &q).await, &c.ctx)?;
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let entries = page
        .entries
        .into_iter()
        .map(|e| AuditEntryView {
            archived: e.seq <= page.archived_through,
            seq: e.seq,
            at: e.at.format(rfc3339).unwrap_or_default(),
            actor: e.actor,
            roles: e.roles,
            org_scope: e.org_scope,
            action: e.action,
            target: e.target,
            result: e.result,
            request_id: e.request_id,
            ip: e.ip,
            detail: e.detail,
            hash: hex::encode(&e.hash),
            prev_hash: hex::encode(&e.prev_hash),
        })
        .collect();
    Ok(Json(AuditEntries { entries, next_before: page.next_before }))
}
