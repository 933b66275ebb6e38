//! `/api/v1`: the REST API of api-contract.md. Every route is registered through utoipa-axum's
//! `OpenApiRouter`, so a route cannot exist without its entry in `/api/openapi.json`.

mod audit;
mod auth;
mod classes;
mod committees;
mod development;
mod exams;
mod fees;
pub(crate) mod import_jobs;
pub(crate) mod learning;
mod meetings;
mod notices;
mod orgs;
mod people;
mod privacy;
pub(crate) mod register;
mod rules;
pub(crate) mod services;
pub(crate) mod transfers;
mod users;

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "dangjian 数字党建平台 API", version = "1", description = "REST API of the dangjian platform (api-contract.md). Errors: `{\"error\": {\"code\", \"message\", \"fields\"?}}`; a read outside the caller's scope answers 404. Authenticate with `Authorization: Bearer TOKEN`; a call that relies on the web session cookie instead must send the page's anti-forgery token as `X-CSRF-Token` with every state change (403 `csrf` otherwise)."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "auth", description = "登录与会话"), (name = "users", description = "账号与授权"), (name = "orgs", description = "党组织"), (name = "people", description = "党员与发展对象"), (name = "rules", description = "党内法规计算服务：党费、发展党员时限、支委会设置与换届、组织关系转接、党籍状态提醒；每个答复注明依据条款"), (name = "life", description = "组织生活：三会一课、主题党日、组织生活会、谈心谈话的登记与出勤，按《中国共产党支部工作条例（试行）》检查应开未开的会议；通知公告与已读回执"), (name = "learning", description = "学习教育：学习材料、中文全文检索（只返回有权查看的内容）、学习记录与附理由的推荐、题库与考试、线上党课、积分（默认关闭，不作为考核依据）"), (name = "transfers", description = "组织关系转接与党籍状态：校内转接（接收方接收或退回，接收时人员与各级人数在同一事务中变更）、转出介绍信（PDF、有效期、回执、补开）、登记转入；流动党员、出国（境）、失联、停止党籍的记录与提醒（系统只提醒，不代替组织决定）"), (name = "development", description = "发展党员：五个阶段各步骤的记录（日期、培养联系人、入党介绍人、表决、附件），违反规定的步骤被拒绝并注明条款，允许例外的须记录理由（系统只提醒和阻止，不代替组织决定）；待办清单按期限排序"), (name = "fees", description = "党费：按类别和计算基数核定月交纳额（依据中组发〔2008〕3号、组电明字〔2017〕5号，注明条款）、交纳记录（只增不改，冲正更正；同一交易流水号只记一次；每条记录带HMAC校验）、免交少交（党支部研究并经上一级党委批准才生效）、欠交与连续6个月未交纳的提醒、年度台账与导出"))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API router and its OpenAPI document, built together.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::second_factor))
        .routes(routes!(auth::mfa_enrol))
        .routes(routes!(auth::mfa_confirm))
        .routes(routes!(auth::reauth))
        .routes(routes!(users::reset_mfa))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::end_sessions))
        .routes(routes!(users::disable))
        .routes(routes!(users::enable))
        .routes(routes!(users::grants, users::add_grant))
        .routes(routes!(users::withdraw_grant))
        .routes(routes!(users::review_shared_account))
        .routes(routes!(users::security_notifications))
        .routes(routes!(users::quarantine))
        .routes(routes!(users::release_upload))
        .routes(routes!(audit::entries))
        .routes(routes!(auth::my_phone))
        .routes(routes!(orgs::create, orgs::list))
        .routes(routes!(orgs::get))
        .routes(routes!(orgs::stats))
        .routes(routes!(people::create, people::list))
        .routes(routes!(people::get, people::update))
        .routes(routes!(register::import))
        .routes(routes!(import_jobs::create, import_jobs::list))
        .routes(routes!(import_jobs::get))
        .routes(routes!(import_jobs::confirm))
        .routes(routes!(import_jobs::retry))
        .routes(routes!(register::export))
        .routes(routes!(people::reveal))
        .routes(routes!(people::access_log))
        .routes(routes!(people::my_data))
        .routes(routes!(privacy::mine, privacy::request))
        .routes(routes!(privacy::request_for))
        .routes(routes!(privacy::copy))
        .routes(routes!(privacy::arrangement, privacy::set_arrangement))
        .routes(routes!(privacy::queue))
        .routes(routes!(privacy::decide))
        .routes(routes!(rules::fee))
        .routes(routes!(rules::development))
        .routes(routes!(rules::committee))
        .routes(routes!(rules::transfer))
        .routes(routes!(rules::status))
        .routes(routes!(meetings::create, meetings::list))
        .routes(routes!(meetings::get, meetings::update))
        .routes(routes!(meetings::attendance))
        .routes(routes!(meetings::leave))
        .routes(routes!(meetings::archive))
        .routes(routes!(meetings::attach))
        .routes(routes!(meetings::attachment, meetings::detach))
        .routes(routes!(meetings::create_plan))
        .routes(routes!(meetings::get_plan))
        .routes(routes!(meetings::cancel_plan))
        .routes(routes!(meetings::org_attendance))
        .routes(routes!(meetings::compliance))
        .routes(routes!(meetings::rollup))
        .routes(routes!(committees::get))
        .routes(routes!(committees::record_term))
        .routes(routes!(committees::postpone))
        .routes(routes!(committees::record_election))
        .routes(routes!(committees::reminders))
        .routes(routes!(notices::publish, notices::list))
        .routes(routes!(notices::get))
        .routes(routes!(notices::confirm))
        .routes(routes!(notices::withdraw))
        .routes(routes!(notices::unread))
        .routes(routes!(services::file, services::list))
        .routes(routes!(services::get))
        .routes(routes!(services::accept))
        .routes(routes!(services::refuse))
        .routes(routes!(services::complete))
        .routes(routes!(services::cancel))
        .routes(routes!(services::certificate))
        .routes(routes!(services::revoke))
        .routes(routes!(services::record_hours, services::my_hours))
        .routes(routes!(services::confirm_hours))
        .routes(routes!(services::reject_hours))
        .routes(routes!(services::org_hours))
        .routes(routes!(services::new_feed, services::revoke_feed))
        .routes(routes!(learning::create, learning::list))
        .routes(routes!(learning::get, learning::update))
        .routes(routes!(learning::withdraw))
        .routes(routes!(learning::create_document))
        .routes(routes!(learning::replace_file, learning::file))
        .routes(routes!(learning::versions))
        .routes(routes!(learning::progress))
        .routes(routes!(learning::recommendations))
        .routes(routes!(learning::search))
        .routes(routes!(learning::person_portrait))
        .routes(routes!(learning::org_portrait))
        .routes(routes!(exams::create_bank, exams::list_banks))
        .routes(routes!(exams::get_bank))
        .routes(routes!(exams::add_question))
        .routes(routes!(exams::update_question))
        .routes(routes!(exams::retire_question))
        .routes(routes!(exams::bank_stats))
        .routes(routes!(exams::create_exam, exams::list_exams))
        .routes(routes!(exams::get_exam))
        .routes(routes!(exams::start_attempt))
        .routes(routes!(exams::exam_results))
        .routes(routes!(exams::get_attempt))
        .routes(routes!(exams::save_answers))
        .routes(routes!(exams::submit_attempt))
        .routes(routes!(exams::check_answer))
        .routes(routes!(classes::create_class, classes::list_classes))
        .routes(routes!(classes::get_class))
        .routes(routes!(classes::join_class))
        .routes(routes!(classes::finish_class))
        .routes(routes!(classes::my_points))
        .routes(routes!(classes::set_optin))
        .routes(routes!(classes::points_rules, classes::set_points_rules))
        .routes(routes!(classes::points_board, classes::set_points_board))
        .routes(routes!(transfers::create, transfers::list))
        .routes(routes!(transfers::incoming))
        .routes(routes!(transfers::get))
        .routes(routes!(transfers::accept))
        .routes(routes!(transfers::send_back))
        .routes(routes!(transfers::cancel))
        .routes(routes!(transfers::receipt))
        .routes(routes!(transfers::reissue))
        .routes(routes!(transfers::letter))
        .routes(routes!(transfers::status, transfers::change_status))
        .routes(routes!(transfers::contact))
        .routes(routes!(transfers::retain))
        .routes(routes!(transfers::end_retention))
        .routes(routes!(transfers::board))
        .routes(routes!(development::steps, development::record_step))
        .routes(routes!(development::attach))
        .routes(routes!(development::attachment))
        .routes(routes!(development::todo))
        .routes(routes!(development::settings, development::set_settings))
        .routes(routes!(development::calendar, development::set_calendar))
        .routes(routes!(fees::account))
        .routes(routes!(fees::set_profile))
        .routes(routes!(fees::pay))
        .routes(routes!(fees::reduce))
        .routes(routes!(fees::ledger))
        .routes(routes!(fees::export))
        .routes(routes!(fees::import_payments))
        .split_for_parts()
}

/// JSON body whose rejection is our JSON error (400) instead of axum's plain text.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::bad_request(format!("请求内容不是有效的 JSON：{}", e.body_text()), &request_id)
                .into_response()),
        }
    }
}

/// Shorthand: map a platform result into an API result for this request.
pub(crate) fn api<T>(r: Result<T, platform::Error>, ctx: &platform::Ctx) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::new(e, &ctx.request_id))
}
