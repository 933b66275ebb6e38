//! `/api/v1/transfers` (组织关系转接) and `/api/v1/people/{id}/status…` (党籍状态): crates/affairs's transfer
//! and member-status services over HTTP. Every write is audited by the service; a read outside the caller's
//! scope answers 404, a write her role never has 403, bad input 422 with `error.fields`.

use affairs::model::transfer::*;
use affairs::{MemberStatus, Transfers};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, json_error};

pub(super) fn aff<T>(r: Result<T, affairs::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// The organization whose subtree's transfers to list (default: everything the caller reads).
    pub org_id: Option<i64>,
}

/// Transfers reaching (`incoming`: accept or return) and leaving (`outgoing`) the subtree, pending first,
/// each with its letters and today's TRF-02/03 flags.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "transfers", params(ListParams),
    responses((status = 200, body = TransferList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<ListParams>,
) -> Result<Json<TransferList>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).list(&c.ctx, &c.actor, q.org_id).await, &c)?))
}

/// Start a transfer: `internal` to another branch of the university (the receiving side accepts or returns
/// it; the person moves only on acceptance) or `out` to an organization elsewhere (an introduction letter is
/// issued: validity 30 days by default, at most 90, TRF-02).
#[utoipa::path(post, path = "/api/v1/transfers", tag = "transfers",
    request_body(content = TransferInput, example = json!({"kind": "internal", "person_id": 12, "to_org_id": 9, "reason": "转专业后编入新学院党支部"})),
    responses(
        (status = 201, body = Transfer),
        (status = 422, body = ErrorBody, description = "缺少原因、接收组织无效、有效期超过90天等，见 error.fields"),
        (status = 409, body = ErrorBody, description = "该同志已有正在办理的转接"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<TransferInput>,
) -> Result<(StatusCode, Json<Transfer>), ApiError> {
    let t = aff(Transfers::new(&s.platform).initiate(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Record an incoming introduction letter and place the person (her fields as `POST /api/v1/people` takes
/// them, `org_id` the receiving branch) in one transaction. An expired letter is refused (TRF-02).
#[utoipa::path(post, path = "/api/v1/transfers/incoming", tag = "transfers", request_body = IncomingInput,
    responses((status = 201, body = Transfer), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn incoming(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<IncomingInput>,
) -> Result<(StatusCode, Json<Transfer>), ApiError> {
    let t = aff(Transfers::new(&s.platform).incoming(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// One transfer, as both sides see it. The person reads her own.
#[utoipa::path(get, path = "/api/v1/transfers/{id}", tag = "transfers", params(("id" = i64, Path)),
    responses((status = 200, body = Transfer), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Transfer>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).get(&c.ctx, &c.actor, id).await, &c)?))
}

/// The receiving side accepts an internal transfer: the person, her organization and the head counts of
/// every ancestor on both sides move in one transaction.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/accept", tag = "transfers", params(("id" = i64, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = Transfer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn accept(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<DecisionInput>,
) -> Result<Json<Transfer>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).accept(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The receiving side returns an internal transfer with its reason; nothing else changes.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/return", tag = "transfers", params(("id" = i64, Path)),
    request_body(content = DecisionInput, example = json!({"reason": "该同志不属于本支部，请核实接收支部"})),
    responses((status = 200, body = Transfer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send_back(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<DecisionInput>,
) -> Result<Json<Transfer>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).send_back(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The sending side withdraws a pending transfer (an outgoing letter becomes void).
#[utoipa::path(post, path = "/api/v1/transfers/{id}/cancel", tag = "transfers", params(("id" = i64, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = Transfer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<DecisionInput>,
) -> Result<Json<Transfer>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).cancel(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The receipt (回执) of an outgoing letter came back: the transfer closes and the person is 已转出.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/receipt", tag = "transfers", params(("id" = i64, Path)),
    request_body = ReceiptInput,
    responses((status = 200, body = Transfer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn receipt(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ReceiptInput>,
) -> Result<Json<Transfer>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).receipt(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// A new letter for an expired one, within 6 months of the transfer out (TRF-03; later: 422 citing 组通字〔2015〕33号).
#[utoipa::path(post, path = "/api/v1/transfers/{id}/reissue", tag = "transfers", params(("id" = i64, Path)),
    request_body = ReissueInput,
    responses((status = 200, body = Transfer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reissue(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ReissueInput>,
) -> Result<Json<Transfer>, ApiError> {
    Ok(Json(aff(Transfers::new(&s.platform).reissue(&c.ctx, &c.actor, id, &b).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct LetterParams {
    /// A letter of the transfer other than the current one (an earlier, superseded letter).
    pub letter_id: Option<i64>,
}

/// The introduction letter as PDF (stub, letter and receipt on one A4 page; CJK fonts of the server). Audited.
/// 503 when the server lacks the fonts (Debian package fonts-noto-cjk).
#[utoipa::path(get, path = "/api/v1/transfers/{id}/letter", tag = "transfers", params(("id" = i64, Path), LetterParams),
    responses((status = 200, content_type = "application/pdf", description = "介绍信 PDF"), (status = 404, body = ErrorBody),
              (status = 503, body = ErrorBody)))]
pub async fn letter(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<LetterParams>,
) -> Result<Response, ApiError> {
    let t = Transfers::new(&s.platform);
    let l = aff(t.letter(&c.ctx, &c.actor, id, q.letter_id).await, &c)?;
    let verify = verify_url(&s, &headers, &t.verification_code(&l));
    Ok(letter_response(&l, verify, &c.ctx.request_id).await)
}

/// The address printed in a letter's QR code: this server as the caller reached it.
pub fn verify_url(s: &AppState, headers: &HeaderMap, code: &str) -> Option<String> {
    public_url(s, headers, &format!("/verify/letters/{code}"))
}

/// The absolute address of `path` on the host the request came to (what a printed QR code carries), when the
/// host can be told.
pub fn public_url(s: &AppState, headers: &HeaderMap, path: &str) -> Option<String> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok())?;
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    let scheme = if s.secure_cookies { "https" } else { "http" };
    Some(format!("{scheme}://{host}{path}"))
}

/// Renders a letter to PDF off the async threads; a missing font is 503 with the package to install.
pub async fn letter_response(
    l: &affairs::store::transfer::LetterRow,
    verify: Option<String>,
    request_id: &str,
) -> Response {
    pdf_response(affairs::letter::document(l, verify.as_deref()), format!("letter-{}.pdf", l.number), request_id).await
}

/// Renders a document to PDF off the async threads as a download named `name`; a missing font is 503 with the
/// package to install.
pub async fn pdf_response(doc: documents::pdf::Document, name: String, request_id: &str) -> Response {
    let rendered = tokio::task::spawn_blocking(move || {
        let dir = std::env::var_os("DANGJIAN_FONT_DIR").map(std::path::PathBuf::from);
        let fonts = documents::pdf::Fonts::load(dir.as_deref())?;
        documents::pdf::render(&doc, &fonts)
    })
    .await;
    match rendered {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(request_id, error = %e, "PDF");
            json_error(StatusCode::SERVICE_UNAVAILABLE, "pdf_unavailable", e.to_string(), None, request_id)
        }
        Err(e) => {
            tracing::error!(request_id, error = %e, "PDF task");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "生成PDF失败".into(), None, request_id)
        }
    }
}

/// A member's status card: status and since when, the TRF-01/03/04 clocks with the flags they raise for the
/// branch (never a decision), the history, contacts, retention and transfers. The member reads her own.
#[utoipa::path(get, path = "/api/v1/people/{id}/status", tag = "transfers", params(("id" = i64, Path)),
    responses((status = 200, body = StatusCard), (status = 404, body = ErrorBody)))]
pub async fn status(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<StatusCard>, ApiError> {
    Ok(Json(aff(MemberStatus::new(&s.platform).card(&c.ctx, &c.actor, id).await, &c)?))
}

/// Record a status change with its reason and date. 停止党籍, 除名 and 恢复党籍 need `decided_by` (the body
/// that decided: the platform never decides, C7); 流动党员 and 出国（境） need `place`.
#[utoipa::path(post, path = "/api/v1/people/{id}/status", tag = "transfers", params(("id" = i64, Path)),
    request_body(content = StatusInput, example = json!({"status": "abroad", "effective_on": "2025-09-01", "reason": "赴英国攻读博士学位", "place": "英国"})),
    responses((status = 200, body = StatusCard), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn change_status(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<StatusInput>,
) -> Result<Json<StatusCard>, ApiError> {
    Ok(Json(aff(MemberStatus::new(&s.platform).change(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Record a contact with a member away (the TRF-03/04 clocks count from the latest).
#[utoipa::path(post, path = "/api/v1/people/{id}/contacts", tag = "transfers", params(("id" = i64, Path)),
    request_body(content = ContactInput, example = json!({"contacted_on": "2025-07-10", "channel": "wechat", "note": "本人近况良好，按时交纳党费"})),
    responses((status = 200, body = StatusCard), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn contact(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ContactInput>,
) -> Result<Json<StatusCard>, ApiError> {
    Ok(Json(aff(MemberStatus::new(&s.platform).contact(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Keep a graduate's relationship at the university from `on` (TRF-03: generally at most 2 years; flagged after).
#[utoipa::path(post, path = "/api/v1/people/{id}/retention", tag = "transfers", params(("id" = i64, Path)),
    request_body = RetentionInput,
    responses((status = 200, body = StatusCard), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retain(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<RetentionInput>,
) -> Result<Json<StatusCard>, ApiError> {
    Ok(Json(aff(MemberStatus::new(&s.platform).retain(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// End a graduate's retention.
#[utoipa::path(post, path = "/api/v1/people/{id}/retention/end", tag = "transfers", params(("id" = i64, Path)),
    request_body = RetentionInput,
    responses((status = 200, body = StatusCard), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn end_retention(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<RetentionInput>,
) -> Result<Json<StatusCard>, ApiError> {
    Ok(Json(aff(MemberStatus::new(&s.platform).end_retention(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The members of an organization's subtree whose status or retention needs watching, flagged ones first.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/status-board", tag = "transfers", params(("id" = i64, Path)),
    responses((status = 200, body = Board), (status = 404, body = ErrorBody)))]
pub async fn board(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Board>, ApiError> {
    Ok(Json(aff(MemberStatus::new(&s.platform).board(&c.ctx, &c.actor, Some(id)).await, &c)?))
}
