//! `/api/v1/learning` and `/api/v1/search`: the 学习教育 application (crates/learning) over HTTP — materials,
//! heartbeats of the reading page, recommendations with their reasons, and the one search box. Query items
//! arrive as strings and are parsed here, so a malformed id or category is a 422 with its field.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use learning::Learning;
use learning::model::{
    Category, Material, MaterialInput, MaterialList, MaterialVersion, Progress, ProgressInput, Recommendations,
    SearchResults, Upload, WithdrawInput,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::users::Created;
use super::{Body, api};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::files::{RawUpload, download};

/// A learning result as an API result (learning's errors are the platform's, same codes and messages).
pub(crate) fn learning_api<T>(r: Result<T, learning::Error>, c: &Caller) -> Result<T, ApiError> {
    api(r.map_err(platform::Error::from), &c.ctx)
}

fn invalid(c: &Caller, name: &str, message: &str) -> ApiError {
    ApiError::new(platform::Error::Invalid(BTreeMap::from([(name.into(), message.into())])), &c.ctx.request_id)
}

/// Publish a learning material (api-contract.md "Learning and search") to an organization's subtree —
/// by default the widest where the caller may publish (org staff, branch secretaries). Rich text
/// (`body_format: "html"`) is sanitized before it is stored. Audited.
#[utoipa::path(post, path = "/api/v1/learning/materials", tag = "learning",
    request_body(content = MaterialInput, example = json!({"title": "党员教育管理工作条例学习", "body": "按时交纳党费是党员的义务。",
        "kind": "article", "tags": ["党费"]})),
    responses(
        (status = 201, body = Created, description = "the new material's id", example = json!({"id": 1})),
        (status = 422, body = ErrorBody, description = "标题、正文、类型、链接、标签、截止日期等有误，见 error.fields"),
        (status = 403, body = ErrorBody, description = "无发布权限（党员、校领导、系统管理员）")
    ))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<MaterialInput>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let m = learning_api(Learning::new(&s.platform).create_material(&c.ctx, &c.actor, &b, None).await, &c)?;
    Ok((StatusCode::CREATED, Json(Created { id: m.id })))
}

/// A document published with its PDF, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DocumentUpload {
    /// The material as JSON (the fields of `POST /api/v1/learning/materials`; `kind` is `document`, `url`
    /// may be left out).
    #[schema(value_type = String, example = r#"{"title": "党章学习辅导", "kind": "document", "tags": ["党章"]}"#)]
    pub material: String,
    /// The PDF (25 MB at most; checked, and scanned by clamd when configured).
    #[schema(format = Binary, value_type = String)]
    pub file: Vec<u8>,
}

/// Publish a **document with its PDF** in one request (multipart: the `material` part as JSON, the `file`
/// part as the PDF). Readers see the PDF drawn on the material's page and may download it
/// (`GET …/materials/{id}/file`). Nothing is stored when the material or the file is refused. Audited
/// (`material.create`, `attachment.add`).
#[utoipa::path(post, path = "/api/v1/learning/materials/documents", tag = "learning",
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = Created, description = "the new material's id", example = json!({"id": 1})),
        (status = 422, body = ErrorBody, description = "材料各项有误，或文件不是PDF、含有可执行内容、发现病毒（见 error.fields）"),
        (status = 403, body = ErrorBody, description = "无发布权限（党员、校领导、系统管理员）"),
        (status = 503, body = ErrorBody, description = "病毒扫描服务（clamd）已配置但无应答：`scan_unavailable`，未保存")
    ))]
pub async fn create_document(
    State(s): State<AppState>,
    c: Caller,
    req: Request,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    // Refused before the body is read: a refusal does not depend on the upload.
    learning_api(Learning::new(&s.platform).check_may_publish(&c.ctx, &c.actor).await, &c)?;
    let m =
        Multipart::from_request(req, &s).await.map_err(|_| invalid(&c, "file", "请以 multipart/form-data 表单上传"))?;
    let form = crate::files::read_multipart(m).await.map_err(|e| invalid(&c, "file", e))?;
    let input: MaterialInput = match form.fields.get("material") {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| invalid(&c, "material", &format!("material 部分不是有效的 JSON：{e}")))?,
        None => return Err(invalid(&c, "material", "缺少 material 部分（学习材料的 JSON）")),
    };
    let file =
        form.files.iter().find(|f| f.field == "file").ok_or_else(|| invalid(&c, "file", "请选择要上传的PDF文件"))?;
    let upload = Upload { name: &file.name, bytes: &file.bytes };
    let m = learning_api(Learning::new(&s.platform).create_material(&c.ctx, &c.actor, &input, Some(upload)).await, &c)?;
    Ok((StatusCode::CREATED, Json(Created { id: m.id })))
}

/// Replace a document's PDF (the request body is the file, its name in `?name=`; any `Content-Type`, the bytes
/// decide). An edit: the version goes
/// up, and the replaced version keeps the old file. Only learning staff of its organization and above;
/// only a document takes a PDF. Audited (`material.update`, `attachment.add`).
#[utoipa::path(put, path = "/api/v1/learning/materials/{id}/file", tag = "learning",
    params(("id" = i64, Path), ("name" = Option<String>, Query)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = Material),
              (status = 422, body = ErrorBody, description = "不是PDF、含有可执行内容、发现病毒，或该材料不是文档"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "已撤回，或附件已满20个"),
              (status = 503, body = ErrorBody, description = "病毒扫描服务（clamd）已配置但无应答：`scan_unavailable`，未保存")))]
pub async fn replace_file(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    upload: RawUpload,
) -> Result<Json<Material>, ApiError> {
    let file = Upload { name: &upload.name, bytes: &upload.bytes };
    Ok(Json(learning_api(Learning::new(&s.platform).replace_file(&c.ctx, &c.actor, id, file).await, &c)?))
}

/// The PDF of a document, for whoever may read the material (404 otherwise, and when it has none): always
/// as a download with a sandboxing policy; the material's page draws it with pdf.js.
#[utoipa::path(get, path = "/api/v1/learning/materials/{id}/file", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn file(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Response, ApiError> {
    Ok(download(learning_api(Learning::new(&s.platform).material_file(&c.ctx, &c.actor, id).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct ListParams {
    /// theory, history, discipline, policy, practice (or the Chinese name).
    pub category: Option<String>,
}

/// The materials the caller may read, latest first, with her own progress.
#[utoipa::path(get, path = "/api/v1/learning/materials", tag = "learning", params(ListParams),
    responses((status = 200, body = MaterialList), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<ListParams>,
) -> Result<Json<MaterialList>, ApiError> {
    let category = match q.category.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(Category::parse(v).ok_or_else(|| invalid(&c, "category", "未知栏目"))?),
    };
    Ok(Json(learning_api(Learning::new(&s.platform).list_materials(&c.actor, category).await, &c)?))
}

/// One material with the caller's progress. 404 outside its audience.
#[utoipa::path(get, path = "/api/v1/learning/materials/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = Material), (status = 404, body = ErrorBody)))]
pub async fn get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Material>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).get_material(&c.ctx, &c.actor, id).await, &c)?))
}

/// Edit a material: the same fields and validation as publishing (its organization stays). The replaced
/// text is kept as a version; the search index follows in the same transaction. Only learning staff of its
/// organization and above (`LearningWrite` over it). `version`: the one the editor started from (409 if a
/// newer one was saved meanwhile). Audited `material.update`.
#[utoipa::path(put, path = "/api/v1/learning/materials/{id}", tag = "learning", params(("id" = i64, Path)),
    request_body(content = MaterialInput, example = json!({"title": "党员教育管理工作条例学习（修订）",
        "body": "按时交纳党费是党员的义务。", "kind": "article", "tags": ["党费"], "version": 1})),
    responses((status = 200, body = Material), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "不是该材料发布组织及其上级的学习管理人员"),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "已撤回，或已被他人修改")))]
pub async fn update(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<MaterialInput>,
) -> Result<Json<Material>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).update_material(&c.ctx, &c.actor, id, &b, None).await, &c)?))
}

/// Withdraw a material with a reason: it leaves lists, search and recommendations; the records of those
/// who studied it, and their copies of their data, keep it. Audited `material.withdraw`.
#[utoipa::path(post, path = "/api/v1/learning/materials/{id}/withdraw", tag = "learning", params(("id" = i64, Path)),
    request_body(content = WithdrawInput, example = json!({"reason": "内容已过时，请学习新版"})),
    responses((status = 200, body = Material), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "已撤回")))]
pub async fn withdraw(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<WithdrawInput>,
) -> Result<Json<Material>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).withdraw_material(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// The earlier versions of a material, newest first (for those who may edit it).
#[utoipa::path(get, path = "/api/v1/learning/materials/{id}/versions", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<MaterialVersion>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MaterialVersion>>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).material_versions(&c.ctx, &c.actor, id).await, &c)?))
}

/// A heartbeat of the reading page while it is visible and the reader active: `seconds` of reading since
/// the previous one. The first heartbeat of a visit starts the clock and counts nothing; each later one
/// counts at most 30 seconds and never more than the time since the previous one. The material counts as
/// studied once the time reaches `required_seconds`. No ranking is made from these records.
#[utoipa::path(post, path = "/api/v1/learning/materials/{id}/progress", tag = "learning", params(("id" = i64, Path)),
    request_body(content = ProgressInput, example = json!({"seconds": 15})),
    responses((status = 200, body = Progress), (status = 422, body = ErrorBody),
              (status = 403, body = ErrorBody, description = "账号未关联党员档案"), (status = 404, body = ErrorBody)))]
pub async fn progress(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<ProgressInput>,
) -> Result<Json<Progress>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).heartbeat(&c.ctx, &c.actor, id, &b).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct RecommendationParams {
    /// The person (default: the caller's own record). Another person must be in the caller's reach.
    pub person_id: Option<String>,
}

/// Recommendations that say why (api-contract.md): required items first ("必学：…"), then what is close to
/// what the person studied ("因为你学习了《…》"), what people with similar histories study, what the branch
/// is studying ("本支部N人正在学习"), and new material — only materials the person may read.
#[utoipa::path(get, path = "/api/v1/learning/recommendations", tag = "learning", params(RecommendationParams),
    responses(
        (status = 200, body = Recommendations, example = json!({"person_id": 12, "items": [{"material_id": 3,
            "title": "党费交纳办法", "reason": "因为你学习了《党章学习》", "reason_code": "content", "kind_label": "文章"}]})),
        (status = 404, body = ErrorBody, description = "该人员不存在或不在您的范围内"),
        (status = 422, body = ErrorBody)
    ))]
pub async fn recommendations(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<RecommendationParams>,
) -> Result<Json<Recommendations>, ApiError> {
    let person_id = match q.person_id.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| invalid(&c, "person_id", "person_id 应为整数"))?),
    };
    Ok(Json(learning_api(Learning::new(&s.platform).recommendations(&c.ctx, &c.actor, person_id).await, &c)?))
}

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    /// What to look for; Chinese is segmented into words (党费, 发展党员), every word must be found.
    pub q: Option<String>,
}

/// One search box (api-contract.md): learning materials by title, tags and body, and — for roles that may
/// read people — people by name or number, only what the caller may read. `snippet` is HTML-escaped text
/// with the hits in `<mark>`.
#[utoipa::path(get, path = "/api/v1/search", tag = "learning", params(SearchParams),
    responses(
        (status = 200, body = SearchResults, example = json!({"results": [{"type": "material", "id": 1,
            "title": "党员教育管理工作条例学习", "snippet": "按时交纳<mark>党费</mark>是党员的义务。"}]})),
        (status = 422, body = ErrorBody, description = "q 为空"),
        (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")
    ))]
pub async fn search(
    State(s): State<AppState>,
    c: Caller,
    Query(q): Query<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let q = q.q.unwrap_or_default();
    Ok(Json(learning_api(Learning::new(&s.platform).search(&c.ctx, &c.actor, &q).await, &c)?))
}

/// A member's learning portrait (学习画像): minutes and active days, materials studied, classes joined, the
/// last 12 weeks, topics, exam results, required learning. For the member herself and those who manage
/// learning over her organization; 404 for anyone else. Never a ranking, never an assessment input.
#[utoipa::path(get, path = "/api/v1/learning/portraits/people/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = learning::portraits::model::PersonPortrait), (status = 404, body = ErrorBody)))]
pub async fn person_portrait(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<learning::portraits::model::PersonPortrait>, ApiError> {
    Ok(Json(learning_api(learning::portraits::Portraits::new(&s.platform).person(&c.ctx, &c.actor, id).await, &c)?))
}

/// A branch's or college's learning portrait: people and those active in the last 30 days, minutes per week,
/// topics, completion of each required material, and each organization directly below. For those who manage
/// learning over it (`LearningRead`); 404 otherwise.
#[utoipa::path(get, path = "/api/v1/learning/portraits/orgs/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = learning::portraits::model::OrgPortrait), (status = 404, body = ErrorBody)))]
pub async fn org_portrait(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<learning::portraits::model::OrgPortrait>, ApiError> {
    Ok(Json(learning_api(learning::portraits::Portraits::new(&s.platform).org(&c.ctx, &c.actor, id).await, &c)?))
}
