//! 隔离文件: the uploads a virus rescan quarantined, for the security administrator, who releases a false
//! positive with a reason (security.md AT-21). Never a file's name or bytes (三员分立: she reads no member's
//! record): the kind of record, type, size, SHA-256 and signature are what the campus AV team needs.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::Error;
use platform::service::{Quarantine, QuarantinedUpload, ReleaseInput};

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "quarantine.html")]
struct QuarantinePage {
    chrome: Chrome,
    q: Quarantine,
    notice: Option<&'static str>,
    /// The file whose release was refused, with why and the reason typed (its box opens again).
    failed: Option<(i64, String, String)>,
}

impl QuarantinePage {
    /// The refusal for this file's release form, if it was the one refused.
    fn failed_for(&self, id: &i64) -> Option<&str> {
        self.failed.as_ref().filter(|(f, _, _)| f == id).map(|(_, why, _)| why.as_str())
    }

    fn typed(&self) -> &str {
        self.failed.as_ref().map_or("", |(_, _, typed)| typed.as_str())
    }

    /// What a file belongs to, in Chinese.
    fn owner(&self, f: &QuarantinedUpload) -> String {
        let kind = match f.owner_kind.as_str() {
            "development_step" => "发展党员步骤材料",
            "meeting_minutes" => "会议纪要",
            "material" => "学习材料",
            _ => "记录",
        };
        format!("{kind} #{}", f.owner_id)
    }

    fn when(&self, at: &Option<time::OffsetDateTime>) -> String {
        at.map(super::notices::when).unwrap_or_default()
    }

    fn uploaded(&self, f: &QuarantinedUpload) -> String {
        super::notices::when(f.uploaded_at)
    }

    fn size(&self, f: &QuarantinedUpload) -> String {
        platform::files::size_label(f.size)
    }
}

pub async fn quarantine_get(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = q
        .contains_key("released")
        .then_some("已放行该文件：即日起可正常下载；夜间复查再检出同一特征时不再隔离，检出其他特征时将重新隔离。");
    page(&s, &c, StatusCode::OK, notice, None).await
}

pub async fn release_post(
    State(s): State<AppState>,
    c: Caller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = ReleaseInput { reason: f.get("reason").cloned().unwrap_or_default() };
    let (status, why) = match s.platform.release_upload(&c.ctx, &c.actor, id, &input).await {
        Ok(()) => return Redirect::to("/admin/quarantine?released=1").into_response(),
        Err(Error::ReauthRequired) => return Redirect::to("/reauth?next=/admin/quarantine").into_response(),
        Err(Error::Invalid(errors)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, errors.into_values().next().unwrap_or_default())
        }
        Err(e @ Error::Conflict(_)) => (StatusCode::CONFLICT, e.message()),
        Err(e) => return super::platform_error(&e, &c.ctx.request_id),
    };
    page(&s, &c, status, None, Some((id, why, input.reason))).await
}

async fn page(
    s: &AppState,
    c: &Caller,
    status: StatusCode,
    notice: Option<&'static str>,
    failed: Option<(i64, String, String)>,
) -> Response {
    match s.platform.quarantine(&c.ctx, &c.actor).await {
        Ok(q) => render(status, &QuarantinePage { chrome: Chrome::new(s, c, "quarantine"), q, notice, failed }),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}
