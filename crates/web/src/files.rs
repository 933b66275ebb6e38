//! Files over HTTP, for every application (security.md AT-21; the checks themselves are in
//! `platform::files`):
//!
//! * [`limit_body`] — the request body limit of every route: 2 MiB, raised to [`UPLOAD_BODY_LIMIT`] only on
//!   the route templates of [`UPLOAD_ROUTES`] (add yours there). A declared length beyond the limit is
//!   answered 413 before the body is read; a longer body without a declared length is cut off at the limit.
//! * [`RawUpload`] — an API upload: the file as the raw request body, its name in `?name=`.
//! * [`read_multipart`] — a UI form with `enctype="multipart/form-data"`: its text fields and its files.
//! * [`download`] — the only way a stored file leaves: `Content-Disposition: attachment`, the allow-list's
//!   type, `nosniff`, a sandboxing CSP, never cached.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::multipart::Multipart;
use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use platform::files::{Attachment, MAX_UPLOAD_BYTES};
use serde::Deserialize;
use tower::{Layer, ServiceExt};

use crate::error::json_error;

/// Every route but the upload routes.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// The upload routes: the largest file accepted plus room for a form's other fields and the multipart
/// framing. The file itself is held to `platform::files::MAX_UPLOAD_BYTES` by the checks.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 1024 * 1024;

/// The route templates (as registered, `{id}` and all) that accept a file. Only these get the larger
/// body limit.
pub const UPLOAD_ROUTES: &[&str] = &[
    "/api/v1/people/imports",
    "/people/import",
    "/api/v1/people/{id}/development/steps/{step_id}/attachments",
    "/api/v1/meetings/{id}/attachments",
    "/meetings/{id}/attachments",
    "/people/{id}/development/steps/{step_id}/attachments",
    "/api/v1/orgs/{id}/fee-payments/import",
    "/orgs/{id}/fees/import",
    "/api/v1/learning/materials/documents",
    "/api/v1/learning/materials/{id}/file",
    "/learning/new",
    "/learning/{id}/edit",
];

/// Whether a route template is an upload route.
pub fn is_upload_route(template: &str) -> bool {
    UPLOAD_ROUTES.contains(&template)
}

/// The body limit of the route that matched (a router layer: it runs after routing, so the template is
/// known). Upload routes also raise axum's own default limit of its extractors (`Bytes`, `Multipart`).
pub async fn limit_body(req: Request, next: Next) -> Response {
    let upload = req.extensions().get::<MatchedPath>().is_some_and(|m| is_upload_route(m.as_str()));
    let limit = if upload { UPLOAD_BODY_LIMIT } else { BODY_LIMIT };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        return too_large(req.uri().path().starts_with("/api/"), upload, &request_id);
    }
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, limit)));
    if !upload {
        return next.run(req).await;
    }
    match DefaultBodyLimit::max(limit).layer(next).oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

fn too_large(api: bool, upload: bool, request_id: &str) -> Response {
    let message = if upload { "文件超过25MB，请压缩或拆分后上传" } else { "提交的内容过大" };
    if api {
        json_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message.into(), None, request_id)
    } else {
        crate::ui::error_page(StatusCode::PAYLOAD_TOO_LARGE, "文件过大", message, request_id)
    }
}

#[derive(Deserialize)]
struct NameQuery {
    name: Option<String>,
}

/// An API upload: the file is the raw request body (any `Content-Type`: it is ignored, the bytes decide),
/// its name the `name` query parameter (percent-encoded UTF-8; default "附件").
pub struct RawUpload {
    pub name: String,
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for RawUpload {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let name = Query::<NameQuery>::try_from_uri(req.uri()).ok().and_then(|q| q.0.name).unwrap_or_default();
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawUpload { name, bytes }),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large(true, true, &request_id)),
            Err(e) => Err(json_error(e.status(), "bad_request", "未能读取上传的文件".into(), None, &request_id)),
        }
    }
}

/// One file of a multipart form.
pub struct FormFile {
    /// The form field it came in.
    pub field: String,
    /// The name the browser sent (to be neutralised by the checks).
    pub name: String,
    pub bytes: Bytes,
}

/// A multipart form: its text fields (the last value of each name) and its files (empty file inputs left
/// out).
#[derive(Default)]
pub struct MultipartForm {
    pub fields: HashMap<String, String>,
    /// Every text field in order, repeated names kept (checkbox groups).
    pub pairs: Vec<(String, String)>,
    pub files: Vec<FormFile>,
}

/// Reads a whole multipart form. The error is the Chinese sentence to show.
pub async fn read_multipart(mut m: Multipart) -> Result<MultipartForm, &'static str> {
    let mut out = MultipartForm::default();
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err("文件超过25MB，请压缩或拆分后上传"),
            Err(_) => return Err("未能读取提交的表单，请重试"),
        };
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|_| "未能读取上传的文件，请重试")?;
                if !(file_name.is_empty() && bytes.is_empty()) {
                    out.files.push(FormFile { field: name, name: file_name, bytes });
                }
            }
            None => {
                let text = field.text().await.map_err(|_| "未能读取提交的表单，请重试")?;
                out.pairs.push((name.clone(), text.clone()));
                out.fields.insert(name, text);
            }
        }
    }
    Ok(out)
}

/// A stored file as a download: always an attachment (never shown in the browser), of the type the checks
/// decided, `nosniff`, with a CSP that allows nothing and sandboxes anything a browser might still open.
/// The name goes in both forms of RFC 6266: an ASCII fallback and the UTF-8 name (RFC 5987).
pub fn download(a: Attachment) -> Response {
    let ext = a.meta.name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let ext = if ext.chars().all(|c| c.is_ascii_alphanumeric()) && !ext.is_empty() {
        ext
    } else {
        a.file_type.extensions()[0].to_string()
    };
    let fallback = format!("attachment-{}.{ext}", a.meta.id);
    let encoded = crate::auth::encode(&a.meta.name).replace('/', "%2F");
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    let mut resp = a.content.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.file_type.content_type()));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    resp
}
