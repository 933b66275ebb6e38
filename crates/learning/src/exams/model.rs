//! The types of question banks and exams, parsed at the boundary. A question's right answer travels only
//! in [`Question`] (the author's view); a paper ([`PaperItem`]) carries it — and the explanation — only
//! once its attempt is submitted, or in practice once the question was checked.

use std::collections::BTreeSet;

use platform::model::Stage;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::exams::rules::{self, Key, MAX_BLANKS, MAX_OPTIONS};
use crate::model::FieldErrors;
use platform::code_list;

code_list! {
    /// The kinds of questions.
    QuestionKind {
        Single = "single", "单选题";
        Multiple = "multiple", "多选题";
        Judge = "judge", "判断题";
        Fill = "fill", "填空题";
    }
}

code_list! {
    /// An exam counts; a practice gives instant feedback and the explanation after each question.
    ExamMode {
        Exam = "exam", "考试";
        Practice = "practice", "练习";
    }
}

/// 1 易, 2 中, 3 难.
pub fn difficulty_label(d: i64) -> &'static str {
    match d {
        1 => "易",
        3 => "难",
        _ => "中",
    }
}

/// Parses a difficulty given as 1/2/3, easy/medium/hard or 易/中/难.
pub fn parse_difficulty(s: &str) -> Option<i64> {
    match s.trim() {
        "1" | "easy" | "易" | "容易" => Some(1),
        "2" | "medium" | "中" | "中等" => Some(2),
        "3" | "hard" | "难" | "困难" => Some(3),
        _ => None,
    }
}

pub const MAX_STEM_CHARS: usize = 1_000;
pub const MAX_OPTION_CHARS: usize = 200;
pub const MAX_EXPLANATION_CHARS: usize = 2_000;
pub const MAX_ANSWER_CHARS: usize = 200;
pub const MAX_QUESTIONS_PER_EXAM: i64 = 200;

fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------- banks

/// A new question bank.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct BankInput {
    #[schema(example = "党章党规知识题库")]
    pub title: Option<String>,
    pub description: Option<String>,
    /// Whose subtree may use it (default: the widest organization where the caller may publish).
    pub org_id: Option<i64>,
    /// Only for people at these stages (default everyone in the subtree).
    pub stages: Option<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Bank {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub title: String,
    pub description: String,
    pub stages: Vec<Stage>,
    /// Active questions.
    pub questions: i64,
    /// Whether the caller may add questions and see the answers.
    pub editable: bool,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip)]
    pub org_path: String,
}

/// A bank with its questions (answers included: only its authors get this).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BankDetail {
    pub bank: Bank,
    /// Active questions per tag (what an exam may draw by tag).
    pub tags: Vec<TagCount>,
    pub questions: Vec<Question>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TagCount {
    pub tag: String,
    pub questions: i64,
}

// ---------------------------------------------------------------- questions

/// A question as the author writes it. `correct`: for choices the right letters (`["B"]`, `["A","C"]`); for
/// true/false `["正确"]` or `["错误"]` (also `true`/`false`, `A`/`B`); for fill-in one item per blank, accepted
/// alternatives separated by `|` (`["党费|党的经费"]`). Blanks in the stem may be marked `（ ）` or `___`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct QuestionInput {
    /// single, multiple, judge, fill.
    #[schema(example = "single")]
    pub kind: Option<String>,
    #[schema(example = "党员应当按月交纳（ ）。")]
    pub stem: Option<String>,
    /// The options of a choice question, in order (A, B, …); none for true/false and fill-in.
    #[schema(example = json!(["党费", "会费", "团费"]))]
    pub options: Option<Vec<String>>,
    #[schema(example = json!(["A"]))]
    pub correct: Option<Vec<String>>,
    pub explanation: Option<String>,
    #[schema(example = json!(["党费"]))]
    pub tags: Option<Vec<String>>,
    /// 1 易, 2 中 (default), 3 难.
    pub difficulty: Option<i64>,
}

/// A question that passed the checks, as stored.
#[derive(Clone, Debug)]
pub struct ValidQuestion {
    pub kind: QuestionKind,
    pub stem: String,
    pub options: Vec<String>,
    pub key: Key,
    pub explanation: String,
    pub tags: Vec<String>,
    pub difficulty: i64,
}

/// The true/false options.
pub const JUDGE_OPTIONS: [&str; 2] = ["正确", "错误"];

fn judge_index(s: &str) -> Option<usize> {
    match rules::normalise(s).as_str() {
        "正确" | "对" | "true" | "a" | "√" | "是" => Some(0),
        "错误" | "错" | "false" | "b" | "×" | "否" => Some(1),
        _ => None,
    }
}

/// Checks a question; every bad item at once.
pub fn validate_question(input: &QuestionInput) -> Result<ValidQuestion, FieldErrors> {
    let mut e = FieldErrors::new();
    let kind = match trimmed(&input.kind) {
        None => {
            e.insert("kind".into(), "请选择题型：单选、多选、判断或填空".into());
            QuestionKind::Single
        }
        Some(k) => QuestionKind::parse(k).unwrap_or_else(|| {
            e.insert("kind".into(), "题型应为 single（单选）、multiple（多选）、judge（判断）或 fill（填空）".into());
            QuestionKind::Single
        }),
    };
    let stem = match trimmed(&input.stem) {
        None => {
            e.insert("stem".into(), "请填写题干".into());
            String::new()
        }
        Some(s) if s.chars().count() > MAX_STEM_CHARS => {
            e.insert("stem".into(), format!("题干不超过{MAX_STEM_CHARS}字"));
            String::new()
        }
        Some(s) => s.to_string(),
    };
    let options: Vec<String> = match kind {
        QuestionKind::Judge => JUDGE_OPTIONS.iter().map(|s| s.to_string()).collect(),
        QuestionKind::Fill => Vec::new(),
        _ => input.options.iter().flatten().map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect(),
    };
    if matches!(kind, QuestionKind::Single | QuestionKind::Multiple) {
        if options.len() < 2 || options.len() > MAX_OPTIONS {
            e.insert("options".into(), format!("选择题须有2至{MAX_OPTIONS}个选项"));
        } else if options.iter().any(|o| o.chars().count() > MAX_OPTION_CHARS) {
            e.insert("options".into(), format!("每个选项不超过{MAX_OPTION_CHARS}字"));
        } else if options.iter().collect::<BTreeSet<_>>().len() != options.len() {
            e.insert("options".into(), "选项不能重复".into());
        }
    }
    let correct: Vec<&str> = input.correct.iter().flatten().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    let key = match kind {
        QuestionKind::Fill => {
            let blanks: Vec<Vec<String>> = correct
                .iter()
                .map(|c| {
                    c.split(['|', '｜'])
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .filter(|b| !b.is_empty())
                .collect();
            if blanks.is_empty() || blanks.len() > MAX_BLANKS {
                e.insert("correct".into(), format!("填空题须给出1至{MAX_BLANKS}个空的答案，同一空的多个答案用“|”分隔"));
            } else if blanks.iter().flatten().any(|a| a.chars().count() > MAX_ANSWER_CHARS) {
                e.insert("correct".into(), format!("每个答案不超过{MAX_ANSWER_CHARS}字"));
            }
            Key::Blanks(blanks)
        }
        QuestionKind::Judge => {
            let picked: BTreeSet<usize> = correct.iter().filter_map(|c| judge_index(c)).collect();
            if picked.len() != 1 || correct.len() != 1 {
                e.insert("correct".into(), "判断题的答案应为“正确”或“错误”".into());
            }
            Key::Choices(picked)
        }
        QuestionKind::Single | QuestionKind::Multiple => {
            let mut picked = BTreeSet::new();
            let mut bad = false;
            for c in &correct {
                match rules::index_of(c) {
                    Some(i) if i < options.len() => {
                        picked.insert(i);
                    }
                    _ => bad = true,
                }
            }
            if bad || picked.is_empty() {
                e.insert("correct".into(), "请用选项字母给出正确答案，例如 B 或 A、C".into());
            } else if kind == QuestionKind::Single && picked.len() != 1 {
                e.insert("correct".into(), "单选题只有一个正确答案".into());
            } else if kind == QuestionKind::Multiple && picked.len() < 2 {
                e.insert("correct".into(), "多选题至少有两个正确答案（只有一个请改为单选题）".into());
            }
            Key::Choices(picked)
        }
    };
    let explanation = input.explanation.as_deref().unwrap_or("").trim().to_string();
    if explanation.chars().count() > MAX_EXPLANATION_CHARS {
        e.insert("explanation".into(), format!("解析不超过{MAX_EXPLANATION_CHARS}字"));
    }
    let mut tags: Vec<String> = Vec::new();
    for t in input.tags.iter().flatten().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if t.chars().count() > crate::model::MAX_TAG_CHARS || t.contains(',') || t.contains('，') {
            e.insert("tags".into(), format!("每个标签不超过{}个字，且不含逗号", crate::model::MAX_TAG_CHARS));
        } else if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    if tags.len() > crate::model::MAX_TAGS {
        e.insert("tags".into(), format!("标签不超过{}个", crate::model::MAX_TAGS));
    }
    let difficulty = input.difficulty.unwrap_or(2);
    if !(1..=3).contains(&difficulty) {
        e.insert("difficulty".into(), "难度应为1（易）、2（中）或3（难）".into());
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(ValidQuestion { kind, stem, options, key, explanation, tags, difficulty })
}

/// The key as stored (JSON): letters for choices, accepted answers per blank for fill-in.
pub fn key_json(key: &Key) -> String {
    match key {
        Key::Choices(set) => {
            serde_json::to_string(&set.iter().map(|i| rules::letter(*i)).collect::<Vec<_>>()).unwrap_or_default()
        }
        Key::Blanks(b) => serde_json::to_string(b).unwrap_or_default(),
    }
}

/// The key read back.
pub fn key_of(kind: QuestionKind, json: &str) -> Key {
    match kind {
        QuestionKind::Fill => Key::Blanks(serde_json::from_str(json).unwrap_or_default()),
        _ => {
            let letters: Vec<String> = serde_json::from_str(json).unwrap_or_default();
            Key::Choices(letters.iter().filter_map(|l| rules::index_of(l)).collect())
        }
    }
}

/// The key as people read it: "A、C", "正确", "党费 / 党的经费；十九".
pub fn key_text(kind: QuestionKind, key: &Key, options: &[String]) -> Vec<String> {
    match key {
        Key::Choices(set) if kind == QuestionKind::Judge => {
            set.iter().filter_map(|i| options.get(*i).cloned()).collect()
        }
        Key::Choices(set) => set.iter().map(|i| rules::letter(*i)).collect(),
        Key::Blanks(b) => b.iter().map(|alts| alts.join(" / ")).collect(),
    }
}

/// A question as its authors see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Question {
    pub id: i64,
    pub bank_id: i64,
    pub kind: QuestionKind,
    pub kind_label: &'static str,
    pub stem: String,
    pub options: Vec<String>,
    /// The right answer as written (letters; 正确/错误; per blank the accepted answers).
    pub correct: Vec<String>,
    pub explanation: String,
    pub tags: Vec<String>,
    pub difficulty: i64,
    pub difficulty_label: &'static str,
    pub active: bool,
}

// ---------------------------------------------------------------- exams

/// A new exam or practice drawn from a bank.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ExamInput {
    pub bank_id: Option<i64>,
    #[schema(example = "2026年春季党章知识测试")]
    pub title: Option<String>,
    /// exam (default) or practice.
    pub mode: Option<String>,
    /// Draw only questions with this tag.
    pub tag: Option<String>,
    /// Draw only questions of this difficulty (1 易, 2 中, 3 难).
    pub difficulty: Option<i64>,
    #[schema(example = 10)]
    pub question_count: Option<i64>,
    /// Minutes from the start of an attempt (an exam needs one; a practice has none).
    #[schema(example = 20)]
    pub time_limit_minutes: Option<i64>,
    /// How many attempts a person has (default 1 for an exam; a practice is unlimited).
    pub max_attempts: Option<i64>,
    /// The percentage that passes (default 60).
    pub pass_percent: Option<i64>,
    /// The organization whose people take it (default the bank's); inside the bank's subtree.
    pub org_id: Option<i64>,
    pub stages: Option<Vec<String>>,
    /// `YYYY-MM-DD HH:MM` Beijing time, optional.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ValidExam {
    pub bank_id: i64,
    pub title: String,
    pub mode: ExamMode,
    pub tag: Option<String>,
    pub difficulty: Option<i64>,
    pub question_count: i64,
    pub time_limit_min: Option<i64>,
    pub max_attempts: Option<i64>,
    pub pass_percent: i64,
    pub stages: Vec<Stage>,
    pub opens_at: Option<OffsetDateTime>,
    pub closes_at: Option<OffsetDateTime>,
}

/// "2026-03-01 09:00" (Beijing time) → the instant.
pub fn parse_local(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim().replace('T', " ");
    let (d, t) = s.split_once(' ')?;
    let date = kernel::dates::parse_iso(d)?;
    let (h, m) = t.trim().split_once(':')?;
    let time = time::Time::from_hms(h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?, 0).ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_offset(time::macros::offset!(+8)))
}

/// The instant shown in Beijing time: "2026-03-01 09:00".
pub fn local_text(t: OffsetDateTime) -> String {
    let b = t.to_offset(time::macros::offset!(+8));
    format!("{} {:02}:{:02}", kernel::dates::iso(b.date()), b.hour(), b.minute())
}

pub fn validate_exam(input: &ExamInput) -> Result<ValidExam, FieldErrors> {
    let mut e = FieldErrors::new();
    let bank_id = input.bank_id.unwrap_or_else(|| {
        e.insert("bank_id".into(), "请选择题库".into());
        0
    });
    let title = match trimmed(&input.title) {
        None => {
            e.insert("title".into(), "请填写名称".into());
            String::new()
        }
        Some(t) if t.chars().count() > crate::model::MAX_TITLE_CHARS => {
            e.insert("title".into(), format!("名称不超过{}个字", crate::model::MAX_TITLE_CHARS));
            String::new()
        }
        Some(t) => t.to_string(),
    };
    let mode = match trimmed(&input.mode) {
        None => ExamMode::Exam,
        Some(m) => ExamMode::parse(m).unwrap_or_else(|| {
            e.insert("mode".into(), "类型应为 exam（考试）或 practice（练习）".into());
            ExamMode::Exam
        }),
    };
    let tag = trimmed(&input.tag).map(str::to_string);
    let difficulty = match input.difficulty {
        Some(d) if !(1..=3).contains(&d) => {
            e.insert("difficulty".into(), "难度应为1（易）、2（中）或3（难）".into());
            None
        }
        d => d,
    };
    let question_count = input.question_count.unwrap_or(10);
    if !(1..=MAX_QUESTIONS_PER_EXAM).contains(&question_count) {
        e.insert("question_count".into(), format!("题量应为1至{MAX_QUESTIONS_PER_EXAM}题"));
    }
    let time_limit_min = match (mode, input.time_limit_minutes) {
        (ExamMode::Practice, _) => None,
        (ExamMode::Exam, None) => {
            e.insert("time_limit_minutes".into(), "考试须设定时限（分钟）".into());
            None
        }
        (ExamMode::Exam, Some(m)) if !(1..=600).contains(&m) => {
            e.insert("time_limit_minutes".into(), "时限应为1至600分钟".into());
            None
        }
        (_, m) => m,
    };
    let max_attempts = match (mode, input.max_attempts) {
        (ExamMode::Practice, _) => None,
        (ExamMode::Exam, None) => Some(1),
        (ExamMode::Exam, Some(n)) if !(1..=20).contains(&n) => {
            e.insert("max_attempts".into(), "作答次数应为1至20次".into());
            None
        }
        (_, n) => n,
    };
    let pass_percent = input.pass_percent.unwrap_or(60);
    if !(0..=100).contains(&pass_percent) {
        e.insert("pass_percent".into(), "及格线应为0至100分".into());
    }
    let stages = crate::model::parse_stages(&input.stages, &mut e);
    let mut when = |key: &str, v: &Option<String>| match trimmed(v) {
        None => None,
        Some(s) => parse_local(s).or_else(|| {
            e.insert(key.into(), "时间格式应为 YYYY-MM-DD HH:MM，例如 2026-03-01 09:00".into());
            None
        }),
    };
    let opens_at = when("opens_at", &input.opens_at);
    let closes_at = when("closes_at", &input.closes_at);
    if let (Some(o), Some(c)) = (opens_at, closes_at)
        && c <= o
    {
        e.insert("closes_at".into(), "截止时间应晚于开始时间".into());
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(ValidExam {
        bank_id,
        title,
        mode,
        tag,
        difficulty,
        question_count,
        time_limit_min,
        max_attempts,
        pass_percent,
        stages,
        opens_at,
        closes_at,
    })
}

/// An exam as a taker or its managers see it, with the caller's own attempts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Exam {
    pub id: i64,
    pub bank_id: i64,
    pub bank_title: String,
    pub org_id: i64,
    pub org_name: String,
    pub title: String,
    pub mode: ExamMode,
    pub mode_label: &'static str,
    pub tag: Option<String>,
    pub difficulty: Option<i64>,
    pub question_count: i64,
    pub time_limit_minutes: Option<i64>,
    /// None: unlimited.
    pub max_attempts: Option<i64>,
    pub pass_percent: i64,
    pub stages: Vec<Stage>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub opens_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub closes_at: Option<OffsetDateTime>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The caller's attempts, latest first (none for a caller who is not a person in the audience).
    pub my_attempts: Vec<AttemptSummary>,
    /// Whether the caller may start (or resume) an attempt now, and if not why.
    pub can_start: bool,
    pub start_blocked: Option<String>,
    /// Whether the caller manages it (results and statistics).
    pub manageable: bool,
    #[serde(skip)]
    pub org_path: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExamList {
    pub items: Vec<Exam>,
}

/// One attempt in a list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttemptSummary {
    pub id: i64,
    pub number: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    pub percent: Option<i64>,
    pub passed: Option<bool>,
}

/// One question of a paper. `correct`, `explanation` and `earned` are absent until the attempt is
/// submitted (practice: until this question was checked).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaperItem {
    pub position: i64,
    pub question_id: i64,
    pub kind: QuestionKind,
    pub kind_label: &'static str,
    pub stem: String,
    pub options: Vec<String>,
    /// Fill-in: how many blanks.
    pub blanks: usize,
    /// The answer given so far (letters, or the text of each blank).
    pub answer: Vec<String>,
    pub correct: Option<Vec<String>>,
    pub explanation: Option<String>,
    /// Hundredths of the question.
    pub earned: Option<i64>,
}

/// An attempt with its paper.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attempt {
    pub id: i64,
    pub exam_id: i64,
    pub exam_title: String,
    pub mode: ExamMode,
    pub person_id: i64,
    pub number: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The server's deadline (exam mode).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline_at: Option<OffsetDateTime>,
    /// Seconds left until the deadline (never below 0) while open.
    pub remaining_seconds: Option<i64>,
    pub submitted: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub submitted_at: Option<OffsetDateTime>,
    /// Closed at the deadline: the answers saved before it were graded.
    pub late: bool,
    pub earned: Option<i64>,
    pub possible: i64,
    pub percent: Option<i64>,
    pub passed: Option<bool>,
    pub pass_percent: i64,
    pub items: Vec<PaperItem>,
}

/// Answers of a paper (saved or submitted): per position the letters chosen or the text of each blank.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct AnswersInput {
    #[schema(example = json!([{"position": 1, "answer": ["B"]}, {"position": 2, "answer": ["党费"]}]))]
    pub answers: Vec<AnswerInput>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct AnswerInput {
    pub position: i64,
    pub answer: Vec<String>,
}

/// Practice: the answer of one question, to check at once.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct CheckInput {
    pub position: i64,
    pub answer: Vec<String>,
}

/// The instant feedback of a practice question.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Feedback {
    pub position: i64,
    pub earned: i64,
    pub right: bool,
    pub correct: Vec<String>,
    pub explanation: String,
}

/// A person's results in an exam (what her secretary sees).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ResultLine {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub attempts: i64,
    pub best_percent: Option<i64>,
    pub passed: bool,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ExamResults {
    pub exam_id: i64,
    pub title: String,
    pub pass_percent: i64,
    /// People in the caller's reach who submitted at least once.
    pub lines: Vec<ResultLine>,
}

/// A wrong answer and how often it was given.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WrongAnswer {
    pub answer: String,
    pub count: i64,
}

/// How a question fared in the submitted attempts (for its authors).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QuestionStats {
    pub question_id: i64,
    pub stem: String,
    pub kind_label: &'static str,
    pub answered: i64,
    /// Answers with full credit, in percent of those answered.
    pub correct_rate: Option<i64>,
    pub correct: Vec<String>,
    /// The most frequent answers without full credit, most frequent first (at most five).
    pub common_wrong: Vec<WrongAnswer>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BankStats {
    pub bank_id: i64,
    pub questions: Vec<QuestionStats>,
}

/// The answer of one question as stored: letters upper-cased and sorted (choices), the text of each
/// blank trimmed (fill-in).
pub fn stored_answer(kind: QuestionKind, given: &[String]) -> Vec<String> {
    match kind {
        QuestionKind::Fill => given.iter().map(|g| g.trim().to_string()).collect(),
        _ => {
            let set: BTreeSet<usize> = given.iter().filter_map(|g| rules::index_of(g)).collect();
            set.into_iter().map(rules::letter).collect()
        }
    }
}

/// Checks one answer against its question: letters of existing options (one for single and true/false),
/// at most one text per blank, each not too long. The message for the field `answers.{position}`.
pub fn check_answer(kind: QuestionKind, options: usize, blanks: usize, given: &[String]) -> Result<(), String> {
    match kind {
        QuestionKind::Fill => {
            if given.len() > blanks {
                return Err(format!("本题只有{blanks}个空"));
            }
            if given.iter().any(|g| g.chars().count() > MAX_ANSWER_CHARS) {
                return Err(format!("每空不超过{MAX_ANSWER_CHARS}字"));
            }
        }
        _ => {
            let given: Vec<&String> = given.iter().filter(|g| !g.trim().is_empty()).collect();
            if given.iter().any(|g| rules::index_of(g).is_none_or(|i| i >= options)) {
                return Err(format!("请用选项字母作答（A至{}）", rules::letter(options.saturating_sub(1))));
            }
            if kind != QuestionKind::Multiple && given.len() > 1 {
                return Err("本题只能选一个答案".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: &str, options: &[&str], correct: &[&str]) -> QuestionInput {
        QuestionInput {
            kind: Some(kind.into()),
            stem: Some("题干".into()),
            options: Some(options.iter().map(|s| s.to_string()).collect()),
            correct: Some(correct.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn questions_are_checked_with_every_error_at_once() {
        let e = validate_question(&QuestionInput {
            kind: Some("essay".into()),
            difficulty: Some(7),
            explanation: Some("解".repeat(2001)),
            ..Default::default()
        })
        .unwrap_err();
        for f in ["kind", "stem", "difficulty", "explanation"] {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
        assert!(validate_question(&q("single", &["甲"], &["A"])).unwrap_err().contains_key("options"));
        assert!(validate_question(&q("single", &["甲", "乙"], &["A", "B"])).unwrap_err().contains_key("correct"));
        assert!(validate_question(&q("single", &["甲", "乙"], &["C"])).unwrap_err().contains_key("correct"));
        assert!(validate_question(&q("multiple", &["甲", "乙", "丙"], &["B"])).unwrap_err().contains_key("correct"));
        assert!(validate_question(&q("judge", &[], &["也许"])).unwrap_err().contains_key("correct"));
        assert!(validate_question(&q("fill", &[], &[])).unwrap_err().contains_key("correct"));
    }

    #[test]
    fn keys_round_trip_and_read_well() {
        let v = validate_question(&q("multiple", &["甲", "乙", "丙"], &["c", "A"])).unwrap();
        assert_eq!(key_json(&v.key), r#"["A","C"]"#);
        assert_eq!(key_of(QuestionKind::Multiple, &key_json(&v.key)), v.key);
        let j = validate_question(&q("judge", &[], &["错"])).unwrap();
        assert_eq!(key_text(QuestionKind::Judge, &j.key, &j.options), vec!["错误".to_string()]);
        let f = validate_question(&q("fill", &[], &["党费 | 党的经费", "十九"])).unwrap();
        assert_eq!(key_json(&f.key), r#"[["党费","党的经费"],["十九"]]"#);
        assert_eq!(key_text(QuestionKind::Fill, &f.key, &[]), vec!["党费 / 党的经费".to_string(), "十九".into()]);
    }

    #[test]
    fn exams_need_a_time_limit_and_sane_numbers() {
        let e = validate_exam(&ExamInput {
            question_count: Some(0),
            pass_percent: Some(101),
            max_attempts: Some(0),
            opens_at: Some("明天".into()),
            ..Default::default()
        })
        .unwrap_err();
        for f in
            ["bank_id", "title", "question_count", "time_limit_minutes", "pass_percent", "max_attempts", "opens_at"]
        {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
        let p = validate_exam(&ExamInput {
            bank_id: Some(1),
            title: Some("练习".into()),
            mode: Some("practice".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((p.time_limit_min, p.max_attempts, p.question_count, p.pass_percent), (None, None, 10, 60));
        assert_eq!(local_text(parse_local("2026-03-01 09:05").unwrap()), "2026-03-01 09:05");
    }

    #[test]
    fn answers_are_checked_against_their_question() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_answer(QuestionKind::Single, 4, 0, &s(&["D"])).is_ok());
        assert!(check_answer(QuestionKind::Single, 4, 0, &s(&["E"])).is_err());
        assert!(check_answer(QuestionKind::Single, 4, 0, &s(&["A", "B"])).is_err());
        assert!(check_answer(QuestionKind::Multiple, 4, 0, &s(&["A", "B"])).is_ok());
        assert!(check_answer(QuestionKind::Fill, 0, 1, &s(&["a", "b"])).is_err());
        assert_eq!(stored_answer(QuestionKind::Multiple, &s(&["c", "a", "C"])), s(&["A", "C"]));
    }
}
