//! `/api/v1/learning/banks`, `/questions`, `/exams`, `/attempts`: question banks, exams and practice over
//! HTTP (crates/learning `exams`). A paper never carries answers or explanations before its attempt is
//! submitted (practice: before each question is checked).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use learning::Learning;
use learning::exams::model::{
    AnswersInput, Attempt, Bank, BankDetail, BankInput, BankStats, CheckInput, Exam, ExamInput, ExamList, ExamResults,
    Feedback, Question, QuestionInput,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::Body;
use super::learning::learning_api;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

#[derive(Serialize, ToSchema)]
pub struct BankList {
    pub items: Vec<Bank>,
}

/// Create a question bank for an organization's subtree (org staff, branch secretaries). Audited.
#[utoipa::path(post, path = "/api/v1/learning/banks", tag = "learning",
    request_body(content = BankInput, example = json!({"title": "党章党规知识题库", "description": "支部学习用"})),
    responses((status = 201, body = Bank), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_bank(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<BankInput>,
) -> Result<(StatusCode, Json<Bank>), ApiError> {
    let bank = learning_api(Learning::new(&s.platform).create_bank(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(bank)))
}

/// The banks the caller may use to make exams (those who publish learning), latest first.
#[utoipa::path(get, path = "/api/v1/learning/banks", tag = "learning", responses((status = 200, body = BankList)))]
pub async fn list_banks(State(s): State<AppState>, c: Caller) -> Result<Json<BankList>, ApiError> {
    let items = learning_api(Learning::new(&s.platform).list_banks(&c.actor).await, &c)?;
    Ok(Json(BankList { items }))
}

/// A bank with its questions and answers — its authors only (403 for those who may only use it, 404
/// outside its reach).
#[utoipa::path(get, path = "/api/v1/learning/banks/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = BankDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_bank(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<BankDetail>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).get_bank(&c.ctx, &c.actor, id).await, &c)?))
}

/// Add a question: single, multiple, judge (true/false) or fill (fill-in). Audited.
#[utoipa::path(post, path = "/api/v1/learning/banks/{id}/questions", tag = "learning", params(("id" = i64, Path)),
    request_body(content = QuestionInput, example = json!({"kind": "single", "stem": "党员应当按月交纳（ ）。",
        "options": ["党费", "会费", "团费"], "correct": ["A"], "explanation": "《中国共产党章程》第八条。", "tags": ["党费"], "difficulty": 1})),
    responses((status = 201, body = Question), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn add_question(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<QuestionInput>,
) -> Result<(StatusCode, Json<Question>), ApiError> {
    let q = learning_api(Learning::new(&s.platform).add_question(&c.ctx, &c.actor, id, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(q)))
}

/// Change a question that no one has answered yet (409 once it was drawn: retire it and write a new one).
#[utoipa::path(patch, path = "/api/v1/learning/questions/{id}", tag = "learning", params(("id" = i64, Path)),
    request_body = QuestionInput,
    responses((status = 200, body = Question), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_question(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<QuestionInput>,
) -> Result<Json<Question>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).update_question(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Retire a question: it is drawn no more; papers holding it keep it.
#[utoipa::path(post, path = "/api/v1/learning/questions/{id}/retire", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = Question), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retire_question(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Question>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).retire_question(&c.ctx, &c.actor, id).await, &c)?))
}

/// Per-question statistics of a bank for its authors: correct rate and common wrong answers (submitted
/// exams, not practice; aggregates only).
#[utoipa::path(get, path = "/api/v1/learning/banks/{id}/stats", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = BankStats), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn bank_stats(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<BankStats>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).bank_stats(&c.ctx, &c.actor, id).await, &c)?))
}

/// Create an exam (time limit, attempts, pass mark) or a practice (instant feedback), drawn from a bank by
/// tag and difficulty. Audited.
#[utoipa::path(post, path = "/api/v1/learning/exams", tag = "learning",
    request_body(content = ExamInput, example = json!({"bank_id": 1, "title": "党章知识测试", "question_count": 10,
        "time_limit_minutes": 20, "max_attempts": 2, "pass_percent": 60})),
    responses((status = 201, body = Exam), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_exam(
    State(s): State<AppState>,
    c: Caller,
    Body(b): Body<ExamInput>,
) -> Result<(StatusCode, Json<Exam>), ApiError> {
    let e = learning_api(Learning::new(&s.platform).create_exam(&c.ctx, &c.actor, &b).await, &c)?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// The exams and practices the caller may take or manage, with her own attempts.
#[utoipa::path(get, path = "/api/v1/learning/exams", tag = "learning", responses((status = 200, body = ExamList)))]
pub async fn list_exams(State(s): State<AppState>, c: Caller) -> Result<Json<ExamList>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).list_exams(&c.ctx, &c.actor).await, &c)?))
}

/// One exam with the caller's attempts and whether she may start now.
#[utoipa::path(get, path = "/api/v1/learning/exams/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = Exam), (status = 404, body = ErrorBody)))]
pub async fn get_exam(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Exam>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).get_exam(&c.ctx, &c.actor, id).await, &c)?))
}

/// Start an attempt (201) — or get the open one back (200): a reload shows the same paper. The paper has
/// no answers. 409 when not open yet, closed, or out of attempts; 403 for callers outside its audience.
#[utoipa::path(post, path = "/api/v1/learning/exams/{id}/attempts", tag = "learning", params(("id" = i64, Path)),
    responses((status = 201, body = Attempt), (status = 200, body = Attempt, description = "the open attempt"),
        (status = 409, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn start_attempt(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Attempt>), ApiError> {
    let (a, created) = learning_api(Learning::new(&s.platform).start_attempt(&c.ctx, &c.actor, id).await, &c)?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(a)))
}

/// Results of an exam for the people the caller manages learning over (her branch, her college).
#[utoipa::path(get, path = "/api/v1/learning/exams/{id}/results", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = ExamResults), (status = 404, body = ErrorBody)))]
pub async fn exam_results(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<ExamResults>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).exam_results(&c.ctx, &c.actor, id).await, &c)?))
}

/// An attempt: its taker at any time; once submitted also those managing learning over her.
#[utoipa::path(get, path = "/api/v1/learning/attempts/{id}", tag = "learning", params(("id" = i64, Path)),
    responses((status = 200, body = Attempt), (status = 404, body = ErrorBody)))]
pub async fn get_attempt(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Result<Json<Attempt>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).get_attempt(&c.ctx, &c.actor, id).await, &c)?))
}

/// Save answers of an open exam attempt without submitting (autosave). 409 after the time limit.
#[utoipa::path(put, path = "/api/v1/learning/attempts/{id}/answers", tag = "learning", params(("id" = i64, Path)),
    request_body(content = AnswersInput, example = json!({"answers": [{"position": 1, "answer": ["A"]}]})),
    responses((status = 200, body = Attempt), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn save_answers(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<AnswersInput>,
) -> Result<Json<Attempt>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).save_answers(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Submit and grade an attempt; the answer shows the score, the right answers and the explanations. A
/// second submission is 409, and so is one after the time limit (nothing written; the attempt is closed with
/// the answers saved before the deadline).
#[utoipa::path(post, path = "/api/v1/learning/attempts/{id}/submit", tag = "learning", params(("id" = i64, Path)),
    request_body(content = AnswersInput, example = json!({"answers": [{"position": 1, "answer": ["A"]},
        {"position": 2, "answer": ["A", "C"]}, {"position": 3, "answer": ["党费"]}]})),
    responses((status = 200, body = Attempt), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn submit_attempt(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<AnswersInput>,
) -> Result<Json<Attempt>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).submit_attempt(&c.ctx, &c.actor, id, &b).await, &c)?))
}

/// Practice: check one answer at once — the right answer and the explanation come back, and the answer is
/// final. 409 for an exam.
#[utoipa::path(post, path = "/api/v1/learning/attempts/{id}/check", tag = "learning", params(("id" = i64, Path)),
    request_body(content = CheckInput, example = json!({"position": 1, "answer": ["A"]})),
    responses((status = 200, body = Feedback), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody, description = "过于频繁（按账号计）：`rate_limited`，`Retry-After` 秒后再试")))]
pub async fn check_answer(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Body(b): Body<CheckInput>,
) -> Result<Json<Feedback>, ApiError> {
    Ok(Json(learning_api(Learning::new(&s.platform).check_answer(&c.ctx, &c.actor, id, &b).await, &c)?))
}
