//! 考试与练习 pages: `/learning/exams` (what the member may take), `/learning/exams/{id}` (the rules, her
//! attempts, a start button; results for those managing learning), `/learning/attempts/{id}` (the paper as
//! one form to hand in; in practice one small form per question that shows the answer and explanation at
//! once; after submission the graded paper). Plain forms, no script: a phone at 390 px answers with large
//! touch targets, and the server keeps the time.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learning::Learning;
use learning::exams::model::{
    AnswerInput, AnswersInput, Attempt, CheckInput, Exam, ExamMode, ExamResults, PaperItem, QuestionKind, local_text,
};

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;

fn fail(e: learning::Error, c: &Caller) -> Response {
    super::platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

#[derive(Template)]
#[template(path = "exams.html")]
struct ExamsPage {
    chrome: Chrome,
    exams: Vec<Exam>,
    can_publish: bool,
}

/// `/learning/exams`.
pub async fn exams_get(State(s): State<AppState>, c: Caller) -> Response {
    match Learning::new(&s.platform).list_exams(&c.ctx, &c.actor).await {
        Ok(l) => render(
            StatusCode::OK,
            &ExamsPage {
                chrome: Chrome::new(&s, &c, "learning"),
                exams: l.items,
                can_publish: Learning::may_publish(&c.actor),
            },
        ),
        Err(e) => fail(e, &c),
    }
}

#[derive(Template)]
#[template(path = "exam.html")]
struct ExamPage {
    chrome: Chrome,
    e: Exam,
    open: bool,
    window: String,
    results: Option<ExamResults>,
}

/// `/learning/exams/{id}`: 404 outside its audience and its managers.
pub async fn exam_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let learning = Learning::new(&s.platform);
    let e = match learning.get_exam(&c.ctx, &c.actor, id).await {
        Ok(e) => e,
        Err(e) => return fail(e, &c),
    };
    let results = if e.manageable { learning.exam_results(&c.ctx, &c.actor, id).await.ok() } else { None };
    let window = match (e.opens_at, e.closes_at) {
        (None, None) => String::new(),
        (o, c) => format!(
            "{} 至 {}",
            o.map(local_text).unwrap_or_else(|| "发布起".into()),
            c.map(local_text).unwrap_or_else(|| "不限".into())
        ),
    };
    let open = e.my_attempts.iter().any(|a| a.submitted_at.is_none());
    render(StatusCode::OK, &ExamPage { chrome: Chrome::new(&s, &c, "learning"), e, open, window, results })
}

/// Starts (or resumes) an attempt and opens its paper.
pub async fn exam_start_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Learning::new(&s.platform).start_attempt(&c.ctx, &c.actor, id).await {
        Ok((a, _)) => Redirect::to(&format!("/learning/attempts/{}", a.id)).into_response(),
        Err(e) => fail(e, &c),
    }
}

struct OptionView {
    letter: String,
    text: String,
    checked: bool,
}

struct BlankView {
    label: String,
    name: String,
    value: String,
}

/// One question as the page draws it.
struct ItemView {
    it: PaperItem,
    fill: bool,
    multiple: bool,
    locked: bool,
    options: Vec<OptionView>,
    blanks: Vec<BlankView>,
    answer: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "attempt.html")]
struct AttemptPage {
    chrome: Chrome,
    a: Attempt,
    items: Vec<ItemView>,
    practice: bool,
    deadline: Option<String>,
    minutes_left: i64,
    message: Option<String>,
    message_class: &'static str,
}

fn attempt_page(
    s: &AppState,
    c: &Caller,
    a: Attempt,
    errors: &BTreeMap<String, String>,
    typed: Option<&Pairs>,
    message: Option<(String, &'static str)>,
) -> AttemptPage {
    let practice = a.mode == ExamMode::Practice;
    let items = a
        .items
        .iter()
        .map(|it| {
            let locked = a.submitted || it.correct.is_some();
            // After a refused submission the page shows what was typed, not what was saved.
            let typed_answer = typed.map(|f| answer_from(f, it));
            let given = typed_answer.unwrap_or_else(|| it.answer.clone());
            ItemView {
                fill: it.kind == QuestionKind::Fill,
                multiple: it.kind == QuestionKind::Multiple,
                locked,
                options: it
                    .options
                    .iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let letter = learning::exams::rules::letter(i);
                        OptionView { checked: given.contains(&letter), letter, text: o.clone() }
                    })
                    .collect(),
                blanks: (0..it.blanks)
                    .map(|b| BlankView {
                        label: if it.blanks > 1 { format!("第{}空", b + 1) } else { "答案".into() },
                        name: format!("q{}_{b}", it.position),
                        value: given.get(b).cloned().unwrap_or_default(),
                    })
                    .collect(),
                answer: Learning::answer_text(it),
                error: errors
                    .get(&format!("answers.{}", it.position))
                    .or_else(|| errors.get("answer").filter(|_| typed.is_some_and(|f| posted(f) == Some(it.position))))
                    .cloned(),
                it: it.clone(),
            }
        })
        .collect();
    let (message, message_class) = match message {
        Some((m, class)) => (Some(m), class),
        None if !errors.is_empty() => (Some(format!("有{}处需要修改，请按提示修改后再提交。", errors.len())), "error"),
        None => (None, "ok"),
    };
    AttemptPage {
        chrome: Chrome::new(s, c, "learning"),
        practice,
        deadline: if a.submitted { None } else { a.deadline_at.map(local_text) },
        minutes_left: a.remaining_seconds.map_or(0, |s| (s + 59) / 60),
        items,
        a,
        message,
        message_class,
    }
}

fn posted(f: &Pairs) -> Option<i64> {
    f.iter().find(|(k, _)| k == "position").and_then(|(_, v)| v.parse().ok())
}

/// The answer of one question in a posted form: `q{position}` (choices, repeated for a multiple choice) or
/// `q{position}_{blank}` (fill-in).
fn answer_from(f: &Pairs, it: &PaperItem) -> Vec<String> {
    if it.kind == QuestionKind::Fill {
        (0..it.blanks)
            .map(|b| {
                let name = format!("q{}_{b}", it.position);
                f.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default()
            })
            .collect()
    } else {
        let name = format!("q{}", it.position);
        f.iter().filter(|(k, _)| *k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// `/learning/attempts/{id}`.
pub async fn attempt_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Learning::new(&s.platform).get_attempt(&c.ctx, &c.actor, id).await {
        Ok(a) => render(StatusCode::OK, &attempt_page(&s, &c, a, &BTreeMap::new(), None, None)),
        Err(e) => fail(e, &c),
    }
}

/// Hands in the paper (or ends a practice). A refused answer comes back beside its question (422) with
/// what was typed; a late or second submission shows why (409) and the attempt as it stands.
pub async fn attempt_submit_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let learning = Learning::new(&s.platform);
    let a = match learning.get_attempt(&c.ctx, &c.actor, id).await {
        Ok(a) => a,
        Err(e) => return fail(e, &c),
    };
    let answers = a
        .items
        .iter()
        .filter(|it| it.correct.is_none())
        .map(|it| AnswerInput { position: it.position, answer: answer_from(&f, it) })
        .filter(|x| !x.answer.iter().all(|v| v.trim().is_empty()) || a.mode == ExamMode::Exam)
        .collect();
    match learning.submit_attempt(&c.ctx, &c.actor, id, &AnswersInput { answers }).await {
        Ok(done) => {
            let msg = match (done.mode, done.passed) {
                (ExamMode::Practice, _) => "练习完成。".to_string(),
                (_, Some(true)) => "已交卷，成绩及格。".to_string(),
                _ => "已交卷。".to_string(),
            };
            render(StatusCode::OK, &attempt_page(&s, &c, done, &BTreeMap::new(), None, Some((msg, "ok"))))
        }
        Err(learning::Error::Invalid(errors)) => {
            render(StatusCode::UNPROCESSABLE_ENTITY, &attempt_page(&s, &c, a, &errors, Some(&f), None))
        }
        Err(learning::Error::Conflict(m)) => match learning.get_attempt(&c.ctx, &c.actor, id).await {
            Ok(now) => render(
                StatusCode::CONFLICT,
                &attempt_page(&s, &c, now, &BTreeMap::new(), None, Some((m.into(), "warn"))),
            ),
            Err(e) => fail(e, &c),
        },
        Err(e) => fail(e, &c),
    }
}

/// Practice: checks one question and comes back to it with the answer and the explanation.
pub async fn attempt_check_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let learning = Learning::new(&s.platform);
    let a = match learning.get_attempt(&c.ctx, &c.actor, id).await {
        Ok(a) => a,
        Err(e) => return fail(e, &c),
    };
    let position = posted(&f).unwrap_or(0);
    let answer = a.items.iter().find(|it| it.position == position).map(|it| answer_from(&f, it)).unwrap_or_default();
    match learning.check_answer(&c.ctx, &c.actor, id, &CheckInput { position, answer }).await {
        Ok(_) => Redirect::to(&format!("/learning/attempts/{id}#q{position}")).into_response(),
        Err(learning::Error::Invalid(errors)) => {
            render(StatusCode::UNPROCESSABLE_ENTITY, &attempt_page(&s, &c, a, &errors, Some(&f), None))
        }
        Err(learning::Error::Conflict(m)) => {
            render(StatusCode::CONFLICT, &attempt_page(&s, &c, a, &BTreeMap::new(), None, Some((m.into(), "warn"))))
        }
        Err(e) => fail(e, &c),
    }
}
