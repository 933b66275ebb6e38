//! 题库 authoring pages for those who publish learning (branch secretaries, org staff): `/learning/banks`
//! (the banks the caller may use, and the form to make one), `/learning/banks/{id}` (its questions with
//! their answers, the form to add — or, with `?edit=`, change — a question, retiring, and the form to make an
//! exam or a practice drawn from it), `/learning/banks/{id}/stats` (how each question fared). Each handler
//! calls one `learning::Learning` function; its Chinese messages come back under the fields (422).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use learning::Learning;
use learning::exams::model::{
    Bank, BankDetail, BankInput, BankStats, ExamInput, ExamMode, Question, QuestionInput, QuestionKind,
};
use learning::exams::rules::letter;

use super::forms::stage_choices;
use super::learnform::{Input, apply, first, flash, number, opt, org_choices, respond};
use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

type Pairs = Vec<(String, String)>;
type Errors = BTreeMap<String, String>;

fn fail(e: learning::Error, c: &Caller) -> Response {
    super::platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

fn forbidden(c: &Caller) -> Response {
    super::platform_error(&platform::Error::Forbidden, &c.ctx.request_id)
}

// ------------------------------------------------------------------ the list

#[derive(Template)]
#[template(path = "banks.html")]
struct BanksPage {
    chrome: Chrome,
    banks: Vec<Bank>,
    fields: Vec<Input>,
    stages: Vec<(String, String, bool)>,
    stages_error: Option<String>,
    summary: Option<String>,
}

fn bank_fields(targets: Vec<(i64, String)>, f: &Pairs, errors: Option<&Errors>) -> (Vec<Input>, Option<String>) {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let mut fields = vec![
        Input::new("bank", "title", "题库名称").required().value(v("title")),
        Input::new("bank", "org_id", "适用范围")
            .required()
            .choices(org_choices(targets))
            .value(v("org_id"))
            .hint("本组织及下级组织可以从这个题库出题"),
        Input::new("bank", "description", "说明").rows(3).value(v("description")),
    ];
    let summary = apply(&mut fields, errors);
    (fields, summary)
}

async fn banks_page(s: &AppState, c: &Caller, f: &Pairs, errors: Option<&Errors>) -> Result<BanksPage, Response> {
    let learning = Learning::new(&s.platform);
    let banks = learning.list_banks(&c.actor).await.map_err(|e| fail(e, c))?;
    let targets = learning.publish_targets(&c.actor).await.map_err(|e| fail(e, c))?;
    let (fields, summary) = bank_fields(targets, f, errors);
    Ok(BanksPage {
        chrome: Chrome::new(s, c, "learning"),
        banks,
        fields,
        stages: stage_choices(f),
        stages_error: errors.and_then(|e| e.get("stages").cloned()),
        summary,
    })
}

/// `/learning/banks`: 403 for those who do not publish learning.
pub async fn banks_get(State(s): State<AppState>, c: Caller) -> Response {
    if !Learning::may_publish(&c.actor) {
        return forbidden(&c);
    }
    respond(StatusCode::OK, banks_page(&s, &c, &Vec::new(), None).await)
}

/// Creates a bank and opens it; a refused input comes back under its fields (422), nothing written.
pub async fn banks_post(State(s): State<AppState>, c: Caller, Form(f): Form<Pairs>) -> Response {
    let input = BankInput {
        title: opt(&f, "title"),
        description: opt(&f, "description"),
        org_id: opt(&f, "org_id").and_then(|v| v.parse().ok()),
        stages: Some(chosen_stages(&f)),
    };
    match Learning::new(&s.platform).create_bank(&c.ctx, &c.actor, &input).await {
        Ok(b) => Redirect::to(&format!("/learning/banks/{}?created=1", b.id)).into_response(),
        Err(learning::Error::Invalid(errors)) => {
            respond(StatusCode::UNPROCESSABLE_ENTITY, banks_page(&s, &c, &f, Some(&errors)).await)
        }
        Err(e) => fail(e, &c),
    }
}

/// The stages ticked on a form (`stage`), as the services take them.
fn chosen_stages(f: &Pairs) -> Vec<String> {
    f.iter().filter(|(k, _)| k == "stage").map(|(_, v)| v.clone()).collect()
}

// ------------------------------------------------------------------ a bank

/// A question as the bank's page lists it.
struct Line {
    q: Question,
    options: Vec<(String, String)>,
    answer: String,
}

impl Line {
    fn new(q: Question) -> Line {
        let options = if q.kind == QuestionKind::Judge {
            Vec::new()
        } else {
            q.options.iter().enumerate().map(|(i, o)| (letter(i), o.clone())).collect()
        };
        let answer = q.correct.join(if q.kind == QuestionKind::Fill { "；" } else { "、" });
        Line { q, options, answer }
    }
}

#[derive(Template)]
#[template(path = "bank.html")]
struct BankPage {
    chrome: Chrome,
    d: BankDetail,
    lines: Vec<Line>,
    retired: usize,
    /// The question being changed (`?edit=`), else the form adds one.
    editing: Option<i64>,
    question_fields: Vec<Input>,
    question_summary: Option<String>,
    exam_fields: Vec<Input>,
    exam_summary: Option<String>,
    /// The exam form's 面向对象.
    stages: Vec<(String, String, bool)>,
    stages_error: Option<String>,
    message: Option<(String, &'static str)>,
}

fn kind_choices() -> Vec<(String, String)> {
    QuestionKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())).collect()
}

fn difficulty_choices(any: bool) -> Vec<(String, String)> {
    let mut out = if any { vec![(String::new(), "不限".to_string())] } else { Vec::new() };
    out.extend([("1", "易"), ("2", "中"), ("3", "难")].map(|(v, l)| (v.to_string(), l.to_string())));
    out
}

fn question_fields(f: &Pairs, errors: Option<&Errors>) -> (Vec<Input>, Option<String>) {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let mut fields = vec![
        Input::new("q", "kind", "题型").required().choices(kind_choices()).value(first(f, "kind").unwrap_or("single")),
        Input::new("q", "stem", "题干").required().rows(3).value(v("stem")).hint("填空题的空用（ ）或 ___ 标出"),
        Input::new("q", "options", "选项")
            .rows(4)
            .value(v("options"))
            .hint("单选、多选题每行一个选项，依次为 A、B、C…；判断、填空题不填"),
        Input::new("q", "correct", "正确答案").required().value(v("correct")).hint(
            "选择题填字母，如 B 或 A、C；判断题填“正确”或“错误”；填空题每空之间用“；”分隔，同一空的几种答案用“|”分隔",
        ),
        Input::new("q", "explanation", "解析")
            .rows(3)
            .value(v("explanation"))
            .hint("交卷后（练习：作答后）显示给作答人"),
        Input::new("q", "tags", "标签").value(v("tags")).hint("用空格或顿号分隔；出题时可按标签抽题"),
        Input::new("q", "difficulty", "难度")
            .choices(difficulty_choices(false))
            .value(first(f, "difficulty").unwrap_or("2")),
    ];
    let summary = apply(&mut fields, errors);
    (fields, summary)
}

fn exam_fields(
    targets: Vec<(i64, String)>,
    tags: &[(String, String)],
    f: &Pairs,
    errors: Option<&Errors>,
) -> (Vec<Input>, Option<String>) {
    let v = |k: &str| first(f, k).unwrap_or("").to_string();
    let modes = ExamMode::ALL.iter().map(|m| (m.code().to_string(), m.label().to_string())).collect();
    let mut tag_choices = vec![(String::new(), "不限".to_string())];
    tag_choices.extend(tags.iter().cloned());
    let mut fields = vec![
        Input::new("exam", "title", "名称").required().value(v("title")),
        Input::new("exam", "mode", "类型")
            .choices(modes)
            .value(first(f, "mode").unwrap_or("exam"))
            .hint("练习每题作答后即显示答案与解析，不限次数"),
        Input::new("exam", "org_id", "参加范围")
            .required()
            .choices(org_choices(targets))
            .value(v("org_id"))
            .hint("须在题库的适用范围之内"),
        Input::new("exam", "tag", "按标签抽题").choices(tag_choices).value(v("tag")),
        Input::new("exam", "difficulty", "按难度抽题").choices(difficulty_choices(true)).value(v("difficulty")),
        Input::new("exam", "question_count", "题量")
            .required()
            .kind("number")
            .value(first(f, "question_count").unwrap_or("10")),
        Input::new("exam", "time_limit_minutes", "时限（分钟）")
            .kind("number")
            .value(v("time_limit_minutes"))
            .hint("考试必填；练习不限时"),
        Input::new("exam", "max_attempts", "作答次数")
            .kind("number")
            .value(v("max_attempts"))
            .hint("不填：考试1次，练习不限"),
        Input::new("exam", "pass_percent", "及格线（分）")
            .kind("number")
            .value(first(f, "pass_percent").unwrap_or("60")),
        Input::new("exam", "opens_at", "开放时间")
            .kind("datetime-local")
            .value(v("opens_at"))
            .hint("北京时间；不填即发布起开放"),
        Input::new("exam", "closes_at", "截止时间").kind("datetime-local").value(v("closes_at")),
    ];
    let summary = apply(&mut fields, errors);
    (fields, summary)
}

/// What the bank's page shows besides the bank: the forms (as typed, with their messages) and a message.
#[derive(Default)]
struct BankState<'a> {
    editing: Option<i64>,
    question: Option<&'a Pairs>,
    question_errors: Option<&'a Errors>,
    exam: Option<&'a Pairs>,
    exam_errors: Option<&'a Errors>,
    message: Option<(String, &'static str)>,
}

/// A question as the form's pairs (what the edit form starts from).
fn pairs_of(q: &Question) -> Pairs {
    let correct = match q.kind {
        QuestionKind::Fill => q.correct.iter().map(|b| b.replace(" / ", "|")).collect::<Vec<_>>().join("；"),
        _ => q.correct.join("、"),
    };
    let options = if q.kind == QuestionKind::Judge { String::new() } else { q.options.join("\n") };
    vec![
        ("kind".into(), q.kind.code().into()),
        ("stem".into(), q.stem.clone()),
        ("options".into(), options),
        ("correct".into(), correct),
        ("explanation".into(), q.explanation.clone()),
        ("tags".into(), q.tags.join(" ")),
        ("difficulty".into(), q.difficulty.to_string()),
    ]
}

async fn bank_page(s: &AppState, c: &Caller, id: i64, st: BankState<'_>) -> Result<BankPage, Response> {
    let learning = Learning::new(&s.platform);
    let d = learning.get_bank(&c.ctx, &c.actor, id).await.map_err(|e| fail(e, c))?;
    let targets = learning.publish_targets(&c.actor).await.map_err(|e| fail(e, c))?;
    let editing = st.editing.filter(|q| d.questions.iter().any(|x| x.id == *q && x.active));
    let start = match (st.question, editing) {
        (Some(f), _) => f.clone(),
        (None, Some(q)) => d.questions.iter().find(|x| x.id == q).map(pairs_of).unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let (question_fields, question_summary) = question_fields(&start, st.question_errors);
    let tags: Vec<(String, String)> =
        d.tags.iter().map(|t| (t.tag.clone(), format!("{}（{}题）", t.tag, t.questions))).collect();
    let mut exam_start = st.exam.cloned().unwrap_or_default();
    if first(&exam_start, "org_id").is_none() {
        exam_start.push(("org_id".into(), d.bank.org_id.to_string()));
    }
    // A new exam is for the bank's stages until the author says otherwise.
    if st.exam.is_none() {
        exam_start.extend(d.bank.stages.iter().map(|s| ("stage".to_string(), s.code().to_string())));
    }
    let stages = stage_choices(&exam_start);
    let (exam_fields, exam_summary) = exam_fields(targets, &tags, &exam_start, st.exam_errors);
    let mut lines: Vec<Line> = d.questions.iter().cloned().map(Line::new).collect();
    // Questions in use first, retired ones after.
    lines.sort_by_key(|l| !l.q.active);
    let retired = lines.iter().filter(|l| !l.q.active).count();
    Ok(BankPage {
        chrome: Chrome::new(s, c, "learning"),
        d,
        lines,
        retired,
        editing,
        question_fields,
        question_summary,
        exam_fields,
        exam_summary,
        stages,
        stages_error: st.exam_errors.and_then(|e| e.get("stages").cloned()),
        message: st.message,
    })
}

/// `/learning/banks/{id}[?edit=question]`: its authors (403 for those who only use it, 404 outside).
pub async fn bank_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(p): Query<BTreeMap<String, String>>,
) -> Response {
    let message = flash(
        &p,
        &[
            ("created", "题库已建立，可以录入题目了。"),
            ("added", "题目已添加。"),
            ("updated", "题目已修改。"),
            ("retired", "题目已停用：不再被抽取，已抽到这道题的试卷保留它。"),
        ],
    );
    let editing = p.get("edit").and_then(|v| v.parse().ok());
    respond(StatusCode::OK, bank_page(&s, &c, id, BankState { editing, message, ..BankState::default() }).await)
}

fn split_list(v: &str, seps: &[char]) -> Vec<String> {
    v.split(|c: char| seps.contains(&c)).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// The question form as the service's input: options one a line; the answer as letters, 正确/错误, or
/// blanks separated by "；".
fn question_input(f: &Pairs) -> QuestionInput {
    let kind = opt(f, "kind");
    let correct_text = first(f, "correct").unwrap_or("");
    let correct = match kind.as_deref().and_then(QuestionKind::parse) {
        Some(QuestionKind::Fill) => split_list(correct_text, &['；', ';', '\n']),
        Some(QuestionKind::Judge) => split_list(correct_text, &['、', ',', '，']),
        _ if correct_text
            .trim()
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c.is_whitespace() || "、,，".contains(c)) =>
        {
            correct_text.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_string()).collect()
        }
        // Something else than letters: passed as typed, so the service names what is wrong.
        _ => split_list(correct_text, &['、', ',', '，', ' ']),
    };
    QuestionInput {
        kind,
        stem: opt(f, "stem"),
        options: Some(split_list(first(f, "options").unwrap_or(""), &['\n'])),
        correct: Some(correct),
        explanation: opt(f, "explanation"),
        tags: Some(split_list(first(f, "tags").unwrap_or(""), &[' ', '、', ',', '，', '；', ';', '\u{3000}'])),
        difficulty: number(f, "difficulty"),
    }
}

/// Adds a question; a refused one comes back in the form with its messages (422), nothing written.
pub async fn question_add_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    match Learning::new(&s.platform).add_question(&c.ctx, &c.actor, id, &question_input(&f)).await {
        Ok(q) => Redirect::to(&format!("/learning/banks/{id}?added=1#q{}", q.id)).into_response(),
        Err(learning::Error::Invalid(errors)) => {
            let st = BankState { question: Some(&f), question_errors: Some(&errors), ..BankState::default() };
            respond(StatusCode::UNPROCESSABLE_ENTITY, bank_page(&s, &c, id, st).await)
        }
        Err(e) => fail(e, &c),
    }
}

/// Changes a question nobody has answered (409 with the reason once it was drawn: retire it instead).
pub async fn question_edit_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let bank = first(&f, "bank_id").and_then(|v| v.parse::<i64>().ok());
    match (Learning::new(&s.platform).update_question(&c.ctx, &c.actor, id, &question_input(&f)).await, bank) {
        (Ok(q), _) => Redirect::to(&format!("/learning/banks/{}?updated=1#q{}", q.bank_id, q.id)).into_response(),
        (Err(learning::Error::Invalid(errors)), Some(b)) => {
            let st = BankState {
                editing: Some(id),
                question: Some(&f),
                question_errors: Some(&errors),
                ..BankState::default()
            };
            respond(StatusCode::UNPROCESSABLE_ENTITY, bank_page(&s, &c, b, st).await)
        }
        (Err(learning::Error::Conflict(m)), Some(b)) => {
            let st = BankState { message: Some((m.to_string(), "warn")), ..BankState::default() };
            respond(StatusCode::CONFLICT, bank_page(&s, &c, b, st).await)
        }
        (Err(e), _) => fail(e, &c),
    }
}

/// Retires a question and comes back to its bank.
pub async fn question_retire_post(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match Learning::new(&s.platform).retire_question(&c.ctx, &c.actor, id).await {
        Ok(q) => Redirect::to(&format!("/learning/banks/{}?retired=1", q.bank_id)).into_response(),
        Err(e) => fail(e, &c),
    }
}

/// Makes an exam or a practice drawn from this bank and opens it; refused: the form again (422).
pub async fn exam_new_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<Pairs>,
) -> Response {
    let input = ExamInput {
        bank_id: Some(id),
        title: opt(&f, "title"),
        mode: opt(&f, "mode"),
        tag: opt(&f, "tag"),
        difficulty: number(&f, "difficulty"),
        question_count: number(&f, "question_count"),
        time_limit_minutes: number(&f, "time_limit_minutes"),
        max_attempts: number(&f, "max_attempts"),
        pass_percent: number(&f, "pass_percent"),
        org_id: opt(&f, "org_id").and_then(|v| v.parse().ok()),
        stages: Some(chosen_stages(&f)),
        opens_at: opt(&f, "opens_at"),
        closes_at: opt(&f, "closes_at"),
    };
    match Learning::new(&s.platform).create_exam(&c.ctx, &c.actor, &input).await {
        Ok(e) => Redirect::to(&format!("/learning/exams/{}", e.id)).into_response(),
        Err(learning::Error::Invalid(errors)) => {
            // Reading the bank first keeps its 403/404 for those who may not author it.
            let st = BankState { exam: Some(&f), exam_errors: Some(&errors), ..BankState::default() };
            respond(StatusCode::UNPROCESSABLE_ENTITY, bank_page(&s, &c, id, st).await)
        }
        Err(e) => fail(e, &c),
    }
}

// ------------------------------------------------------------------ statistics

#[derive(Template)]
#[template(path = "bank_stats.html")]
struct StatsPage {
    chrome: Chrome,
    bank: Bank,
    stats: BankStats,
}

/// `/learning/banks/{id}/stats`: each question's correct rate and common wrong answers (its authors).
pub async fn bank_stats_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    let learning = Learning::new(&s.platform);
    let stats = match learning.bank_stats(&c.ctx, &c.actor, id).await {
        Ok(x) => x,
        Err(e) => return fail(e, &c),
    };
    match learning.get_bank(&c.ctx, &c.actor, id).await {
        Ok(d) => render(StatusCode::OK, &StatsPage { chrome: Chrome::new(&s, &c, "learning"), bank: d.bank, stats }),
        Err(e) => fail(e, &c),
    }
}
