//! `/api/v1/people/{id}/fees…` and `/api/v1/orgs/{id}/fee-ledger…` (党费): crates/affairs's dues service over
//! HTTP. Every write is audited by the service; a read outside the caller's scope answers 404, a write her role
//! never has 403, bad input 422 with `error.fields`. A payment whose `payment_id` was recorded before answers the
//! same entry with 200 and records nothing (AT-29).

use affairs::Fees;
use affairs::model::fee::*;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use documents::sheet::Format;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, json_error};

fn aff<T>(r: Result<T, affairs::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

#[derive(Deserialize, IntoParams)]
pub struct YearParams {
    /// The calendar year (default: this year).
    pub year: Option<i32>,
}

/// A member's dues: the fee profile in force with its rule and citations, its history, the months of `year`
/// (paid / unpaid / due / exempt), the payments ledger, exemptions, arrears and the FEE-08 flag. The member
/// reads her own.
#[utoipa::path(get, path = "/api/v1/people/{id}/fees", tag = "fees", params(("id" = i64, Path), YearParams),
    responses((status = 200, body = FeeAccount), (status = 404, body = ErrorBody)))]
pub async fn account(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearParams>,
) -> Result<Json<FeeAccount>, ApiError> {
    Ok(Json(aff(Fees::new(&s.platform).account(&c.ctx, &c.actor, id, q.year).await, &c)?))
}

/// Set the member's fee profile from a month on: category (FEE-01…06), the monthly base after the deductions
/// or the payslip (FEE-03), the base policy, FEE-07's policy (annual_lock by default, follow_wage). A change
/// is a new profile; the history stays. The monthly amount comes from the rules of `POST /api/v1/rules/fee`.
#[utoipa::path(post, path = "/api/v1/people/{id}/fee-profile", tag = "fees", params(("id" = i64, Path)),
    request_body(content = ProfileInput, examples(
        ("employed" = (summary = "在职，基数6000元", value = json!({"category": "employed", "effective_from": "2026-01", "monthly_base": "6000.00"}))),
        ("payslip" = (summary = "按工资条计算基数（FEE-03-T1）", value = json!({"category": "employed", "included_income": "7500", "income_tax": "150", "personal_contributions": "1100"}))),
        ("student" = (summary = "学生党员，每月0.20元", value = json!({"category": "student", "effective_from": "2025-06"}))))),
    responses((status = 200, body = FeeAccount),
              (status = 422, body = ErrorBody, description = "类别无效、缺少计算基数、起始月份早于接收为预备党员之月等，见 error.fields"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_profile(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ProfileInput>,
) -> Result<Json<FeeAccount>, ApiError> {
    Ok(Json(aff(Fees::new(&s.platform).set_profile(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Record a payment: dues for months `from_month..to_month` (at least their dues; a month paid, exempt or not
/// due is refused; a catch-up of more than six elapsed months is accepted with the warning "补交超过6个月"), a
/// voluntary one-off (`kind = voluntary`; 1000 yuan or more is 大额党费, remitted entirely to the centre), or a
/// reversing entry (`reverses`: the ledger is append-only). `payment_id` makes it idempotent: the same id again
/// answers the entry already recorded with 200 and writes nothing; the same id with other content is 409.
#[utoipa::path(post, path = "/api/v1/people/{id}/fee-payments", tag = "fees", params(("id" = i64, Path)),
    request_body(content = PaymentInput, examples(
        ("dues" = (summary = "线上交纳一季度党费", value = json!({"from_month": "2026-01", "to_month": "2026-03", "amount": "270.00", "method": "online", "payment_id": "WX20260315000123"}))),
        ("large" = (summary = "自愿一次性交纳1500元（大额党费）", value = json!({"kind": "voluntary", "amount": "1500.00", "method": "transfer"}))),
        ("reversal" = (summary = "冲正一笔误登记的记录", value = json!({"reverses": 17, "note": "金额登记错误"}))))),
    responses((status = 201, body = FeePayment, description = "记录成功"),
              (status = 200, body = FeePayment, description = "该交易流水号已记录过：返回原记录，不重复记录"),
              (status = 409, body = ErrorBody, description = "流水号已用于另一笔记录，或该记录已冲正"),
              (status = 422, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pay(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<PaymentInput>,
) -> Result<(StatusCode, Json<FeePayment>), ApiError> {
    let (entry, replayed) = aff(Fees::new(&s.platform).pay(&c.ctx, &c.actor, id, &b).await, &c)?;
    Ok((if replayed { StatusCode::OK } else { StatusCode::CREATED }, Json(entry)))
}

/// Record an exemption (免交) or reduction (少交) decided by the branch, with the upper committee's approval
/// when given; or, with `reduction_id`, that approval later. In force only with both (FEE-08).
#[utoipa::path(post, path = "/api/v1/people/{id}/fee-reductions", tag = "fees", params(("id" = i64, Path)),
    request_body(content = ReductionInput, example = json!({"kind": "exempt", "from_month": "2026-01", "to_month": "2026-06",
        "reason": "家庭遭遇重大变故，生活确有困难", "branch_decision": "支部委员会会议研究同意", "branch_decided_on": "2026-01-05"})),
    responses((status = 200, body = FeeAccount), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reduce(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ReductionInput>,
) -> Result<Json<FeeAccount>, ApiError> {
    Ok(Json(aff(Fees::new(&s.platform).reduce(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The yearly ledger of an organization's members (its subtree): members × 12 months with the dues of each
/// month and its state, totals per month and for the year, what is outstanding, one-off payments.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/fee-ledger", tag = "fees", params(("id" = i64, Path), YearParams),
    responses((status = 200, body = Ledger), (status = 404, body = ErrorBody)))]
pub async fn ledger(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearParams>,
) -> Result<Json<Ledger>, ApiError> {
    Ok(Json(aff(Fees::new(&s.platform).ledger(&c.ctx, &c.actor, id, q.year).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct ExportParams {
    pub year: Option<i32>,
    /// xlsx (default) or csv.
    pub format: Option<String>,
}

/// The yearly ledger as xlsx or CSV (names and amounts; text that a spreadsheet would run as a formula is
/// neutralised, AT-18). Audited.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/fee-ledger/export", tag = "fees", params(("id" = i64, Path), ExportParams),
    responses((status = 200, description = "The file, as an attachment",
                content(([u8] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "text/csv"))),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let Some(format) = Format::parse(q.format.as_deref().unwrap_or("xlsx")) else {
        return Ok(json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "format 应为 xlsx 或 csv".into(),
            None,
            &c.ctx.request_id,
        ));
    };
    let file = aff(Fees::new(&s.platform).export(&c.ctx, &c.actor, id, q.year, format).await, &c)?;
    Ok(super::register::attachment(file))
}

/// Import payments from a statement file (xlsx or CSV, the raw request body) in the template's columns:
/// 交易流水号, 公民身份号码, 姓名 (optional, checked), 金额, 交易日期, 党费月份起, 党费月份止 (optional). Each row is
/// recorded as a payment of the organization's subtree with the same checks as one typed in, idempotently on
/// its 交易流水号: the same file again records nothing twice. Refused rows are listed with their reasons.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/fee-payments/import", tag = "fees", params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = PaymentImportReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 503, body = ErrorBody, description = "病毒扫描服务（clamd）已配置但无应答：`scan_unavailable`，文件未保存")))]
pub async fn import_payments(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    upload: crate::files::RawUpload,
) -> Result<Json<PaymentImportReport>, ApiError> {
    Ok(Json(aff(Fees::new(&s.platform).import_payments(&c.ctx, &c.actor, id, &upload.bytes).await, &c)?))
}
