//! The register import pages for org staff and branch secretaries: upload → a job
//! (platform service/import_job.rs) whose page shows its progress (htmx polls a fragment every second while
//! it works; without JavaScript a link refreshes it) → the check's report (every bad row with its row
//! number, column and reason) → confirm, which imports all rows or none, in the background with its
//! progress; a failed or interrupted job can be retried. The list of recent jobs, the empty template and
//! the masked export as downloads.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use documents::sheet::Format;
use platform::roster::{Issue, Severity};
use platform::service::ImportJob;
use platform::{Capability, Error};

use super::{Chrome, render};
use crate::AppState;
use crate::api::import_jobs::{file_field, format_of};
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "people_import.html")]
struct ImportPage {
    chrome: Chrome,
    error: Option<String>,
    jobs: Vec<JobLine>,
}

/// A job in the list.
struct JobLine {
    id: i64,
    file_name: String,
    status: String,
    finished: bool,
    failed: bool,
    counts: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    chrome: Chrome,
    job: ImportJob,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    at: String,
}

#[derive(Template)]
#[template(path = "import_job_status.html")]
struct JobStatus {
    chrome: Chrome,
    job: ImportJob,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

fn job_line(j: ImportJob) -> JobLine {
    let counts = match j.status {
        platform::service::ImportJobStatus::Done => format!("已导入 {} 人", j.imported),
        _ if j.rows_total > 0 && !j.status.in_progress() => {
            format!("共 {} 行，错误 {} 行", j.valid_rows + j.error_rows, j.error_rows)
        }
        _ => String::new(),
    };
    JobLine {
        id: j.id,
        file_name: j.file_name,
        status: j.status_label,
        finished: j.status == platform::service::ImportJobStatus::Done,
        failed: j.status == platform::service::ImportJobStatus::Failed,
        counts,
        by: j.created_by.unwrap_or_else(|| "—".into()),
        at: super::notices::when(j.created_at),
    }
}

async fn import_page(s: &AppState, c: &Caller, status: StatusCode, error: Option<String>) -> Response {
    match s.platform.import_jobs(&c.ctx, &c.actor).await {
        Ok(jobs) => render(
            status,
            &ImportPage { chrome: Chrome::new(s, c, "people"), error, jobs: jobs.into_iter().map(job_line).collect() },
        ),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn people_import_get(State(s): State<AppState>, c: Caller) -> Response {
    import_page(&s, &c, StatusCode::OK, None).await
}

/// Makes a job of the uploaded file and shows its page. The form is read only after the caller is known
/// to be one who may import (a refusal does not depend on the body).
pub async fn people_import_post(State(s): State<AppState>, c: Caller, req: Request) -> Response {
    if let Err(e) = s.platform.may_import(&c.ctx, &c.actor).await {
        return super::platform_error(&e, &c.ctx.request_id);
    }
    let created = match file_field(&s, req).await {
        Ok((name, bytes)) => {
            let format = format_of(&name, &bytes);
            s.platform.create_import_job(&c.ctx, &c.actor, &name, &bytes, format).await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(job) => {
            s.platform.spawn_import_job(&c.ctx, &c.actor, job.id);
            Redirect::to(&format!("/people/import/{}", job.id)).into_response()
        }
        Err(Error::Invalid(fields)) => {
            let message = fields.into_values().collect::<Vec<_>>().join("；");
            import_page(&s, &c, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

fn split(job: &ImportJob) -> (Vec<Issue>, Vec<Issue>) {
    let issues = job.report.as_ref().map(|r| r.issues.clone()).unwrap_or_default();
    issues.into_iter().partition(|i| i.severity == Severity::Error)
}

/// A job's page: its progress, its report, and what can be done next.
pub async fn import_job_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match s.platform.import_job(&c.ctx, &c.actor, id).await {
        Ok(job) => {
            let (errors, warnings) = split(&job);
            let at = super::notices::when(job.created_at);
            render(StatusCode::OK, &JobPage { chrome: Chrome::new(&s, &c, "people"), job, errors, warnings, at })
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The job's status block alone, for htmx to poll while the job works.
pub async fn import_job_status_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match s.platform.import_job(&c.ctx, &c.actor, id).await {
        Ok(job) => {
            let (errors, warnings) = split(&job);
            render(StatusCode::OK, &JobStatus { chrome: Chrome::new(&s, &c, "people"), job, errors, warnings })
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// Confirms the real run of a checked job and goes back to its page, where the progress shows.
pub async fn import_job_confirm_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match s.platform.confirm_import_job(&c.ctx, &c.actor, id).await {
        Ok(job) => {
            s.platform.spawn_import_job(&c.ctx, &c.actor, job.id);
            Redirect::to(&format!("/people/import/{id}")).into_response()
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// Runs a failed job again and goes back to its page.
pub async fn import_job_retry_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match s.platform.retry_import_job(&c.ctx, &c.actor, id).await {
        Ok(job) => {
            s.platform.spawn_import_job(&c.ctx, &c.actor, job.id);
            Redirect::to(&format!("/people/import/{id}")).into_response()
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The register of a subtree as a download (masked; audited; after a recent login or step-up).
pub async fn people_export_get(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let org_id = q.get("org_id").and_then(|v| v.parse::<i64>().ok());
    let format = Format::parse(q.get("format").map(String::as_str).unwrap_or("xlsx"));
    let (Some(org_id), Some(format)) = (org_id, format) else {
        return super::error_page(
            StatusCode::BAD_REQUEST,
            "无法导出",
            "请从人员名册页面选择要导出的组织",
            &c.ctx.request_id,
        );
    };
    match s.platform.export_people(&c.ctx, &c.actor, org_id, format).await {
        Ok(file) => crate::api::register::attachment(file),
        // Back to the list after the step-up, not to the download (a boosted page cannot show a file).
        Err(Error::ReauthRequired) => {
            Redirect::to(&format!("/reauth?next={}", crate::auth::encode(&format!("/people?org_id={org_id}"))))
                .into_response()
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The empty template: the header row the importer reads first (for those who may import).
pub async fn people_import_template_get(c: Caller) -> Response {
    if !c.actor.can_somewhere(Capability::PersonWrite) {
        return super::platform_error(&Error::Forbidden, &c.ctx.request_id);
    }
    match platform::roster::template() {
        Ok(bytes) => crate::api::register::attachment(platform::service::Export {
            file_name: "花名册导入模板.xlsx".into(),
            format: Format::Xlsx,
            bytes,
            rows: 0,
        }),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}
