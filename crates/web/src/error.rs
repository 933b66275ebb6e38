//! How platform errors become HTTP answers. The API answers `{"error": {"code", "message", "fields"?,
//! "request_id"}}` (api-contract.md); internal causes are logged with the request id and never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::Error;
use serde::Serialize;
use utoipa::ToSchema;

/// An error of an `/api/v1` call.
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    pub request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "validation_failed")]
    pub code: String,
    #[schema(example = "提交的内容有误，请按提示修改")]
    pub message: String,
    /// Field name → Chinese message, for validation errors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    /// For `mfa_required` / `mfa_enrollment_required` at login: continues this login at
    /// `/api/v1/auth/second-factor` or `/api/v1/auth/mfa/enrol` without sending the password again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    pub request_id: String,
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Forbidden
        | Error::ReauthRequired
        | Error::SecondFactor { enrolled: false, .. }
        | Error::Quarantined(_) => StatusCode::FORBIDDEN,
        Error::Unauthenticated
        | Error::BadCredentials
        | Error::BadSecondFactor
        | Error::SecondFactor { enrolled: true, .. } => StatusCode::UNAUTHORIZED,
        Error::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::SigninBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        Error::Db(kernel::DbError::Busy | kernel::DbError::AuditUnavailable(_)) | Error::ScanUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        Error::Db(_) | Error::Security(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(error: Error, request_id: &str) -> ApiError {
        ApiError { error, request_id: request_id.to_string() }
    }

    /// A 400 for a body that is not the expected JSON.
    pub fn bad_request(message: String, request_id: &str) -> Response {
        json_error(StatusCode::BAD_REQUEST, "bad_request", message, None, request_id)
    }
}

pub fn json_error(
    status: StatusCode,
    code: &str,
    message: String,
    fields: Option<std::collections::BTreeMap<String, String>>,
    request_id: &str,
) -> Response {
    let body = ErrorBody {
        error: ErrorDetail { code: code.into(), message, fields, challenge: None, request_id: request_id.into() },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.error);
        if status.is_server_error() {
            tracing::error!(request_id = %self.request_id, error = ?self.error, "request failed");
        }
        let fields = match &self.error {
            Error::Invalid(f) => Some(f.clone()),
            _ => None,
        };
        let challenge = match &self.error {
            Error::SecondFactor { challenge, .. } => Some(challenge.clone()),
            _ => None,
        };
        let detail = ErrorDetail {
            code: self.error.code().into(),
            message: self.error.message(),
            fields,
            challenge,
            request_id: self.request_id,
        };
        let mut resp = (status, Json(ErrorBody { error: detail })).into_response();
        with_retry_after(&mut resp, &self.error);
        resp
    }
}

/// A rate-limited (429) or load-refused (503) answer says when to try again (RFC 9110 `Retry-After`, seconds).
pub fn with_retry_after(resp: &mut Response, e: &Error) {
    if let Error::TooMany { retry_after, .. } | Error::SigninBusy { retry_after } = e {
        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*retry_after));
    }
}
