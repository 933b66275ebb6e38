//! The actions of banks, questions, exams and attempts. Same pattern as the rest of the crate: authorise →
//! validate → transaction → store → audit → commit; a read outside the caller's reach is 404 (audited).
//!
//! * A bank is read (an exam may be made from it) by whoever may read a material published where it is; its
//!   questions and answers only by its authors (`LearningWrite` at its organization).
//! * An exam is taken by the people of its audience; its results are read, per person, by those managing
//!   learning over that person (`LearningRead`: her secretary, college staff, leaders).
//! * An attempt's paper carries no answer and no explanation until it is submitted; in practice, each
//!   question's answer and explanation come back when that question is checked, and the answer is then final.
//! * The time limit is the server's: an attempt's deadline is fixed at its start; answers are accepted until
//!   [`GRACE_SECONDS`] after it; later the submission is refused (409) and the attempt is closed with the
//!   answers saved before the deadline the next time anyone reads it.

use std::collections::{BTreeMap, HashMap};

use platform::model::path_within;
use platform::{Actor, Capability, Ctx};
use security::audit;
use time::{Duration, OffsetDateTime};

use crate::exams::model::*;
use crate::exams::rules::{self, Drawable, GRACE_SECONDS, Key};
use crate::exams::store::{self, AttemptRow, ExamRow, ItemRow};
use crate::model::{FieldErrors, stages_column, stages_of, tags_column, tags_of};
use crate::points::model::Action;
use crate::points::service::{award_in, when_now};
use crate::service::{Error, Learning, Result, event, field, now};
use crate::store::Reach;

const LIST_LIMIT: i64 = 200;

fn user_of(actor: &Actor) -> Option<i64> {
    Some(actor.user_id).filter(|id| *id > 0)
}

fn kind_of(code: &str) -> QuestionKind {
    QuestionKind::parse(code).unwrap_or(QuestionKind::Single)
}

fn options_of(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

fn answer_of(json: Option<&str>) -> Vec<String> {
    json.and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

fn question_view(r: store::QuestionRow) -> Question {
    let kind = kind_of(&r.kind);
    let options = options_of(&r.options);
    let key = key_of(kind, &r.answer);
    Question {
        id: r.id,
        bank_id: r.bank_id,
        kind,
        kind_label: kind.label(),
        correct: key_text(kind, &key, &options),
        stem: r.stem,
        options,
        explanation: r.explanation,
        tags: tags_of(&r.tags),
        difficulty: r.difficulty,
        difficulty_label: difficulty_label(r.difficulty),
        active: r.active,
    }
}

/// The answer of a paper item as people read it: "A、C", "正确", "党费；十九".
fn answer_text(kind: QuestionKind, options: &[String], answer: &[String]) -> String {
    match kind {
        QuestionKind::Judge => answer
            .iter()
            .filter_map(|a| rules::index_of(a).and_then(|i| options.get(i).cloned()))
            .collect::<Vec<_>>()
            .join("、"),
        QuestionKind::Fill => answer.join("；"),
        _ => answer.join("、"),
    }
}

impl Learning<'_> {
    fn bank_view(&self, actor: &Actor, r: store::BankRow) -> Bank {
        Bank {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            title: r.title,
            description: r.description,
            stages: stages_of(r.stages.as_deref()),
            questions: r.questions,
            editable: actor.can(Capability::LearningWrite, &r.org_path),
            created_at: r.created_at,
            org_path: r.org_path,
        }
    }

    /// The bank if the caller may read it (else 404, audited).
    async fn readable_bank(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<store::BankRow> {
        let row = store::get_bank(self.db(), id).await?;
        let viewer = self.viewer(actor).await?;
        match row {
            Some(b) if viewer.may_read(&b.org_path, &stages_of(b.stages.as_deref())) => Ok(b),
            _ => Err(self.deny(ctx, actor, action, &format!("bank:{id}")).await?),
        }
    }

    /// The bank if the caller writes it: 404 when she may not even read it, 403 when she reads but may not
    /// write.
    async fn writable_bank(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<store::BankRow> {
        let b = self.readable_bank(ctx, actor, id, action).await?;
        if !actor.can(Capability::LearningWrite, &b.org_path) {
            return Err(self.refuse(ctx, actor, action, &format!("bank:{id}")).await?);
        }
        Ok(b)
    }

    // ------------------------------------------------------------ banks and questions

    /// Creates a question bank for an organization's subtree (default: the widest where the caller may
    /// publish).
    pub async fn create_bank(&self, ctx: &Ctx, actor: &Actor, input: &BankInput) -> Result<Bank> {
        if !Self::may_publish(actor) {
            return Err(self.refuse(ctx, actor, "bank.create", "bank:new").await?);
        }
        let mut e = FieldErrors::new();
        let title = input.title.as_deref().map(str::trim).unwrap_or("");
        if title.is_empty() {
            e.insert("title".into(), "请填写题库名称".into());
        } else if title.chars().count() > crate::model::MAX_TITLE_CHARS {
            e.insert("title".into(), format!("名称不超过{}个字", crate::model::MAX_TITLE_CHARS));
        }
        let description = input.description.as_deref().map(str::trim).unwrap_or("");
        if description.chars().count() > 2000 {
            e.insert("description".into(), "说明不超过2000字".into());
        }
        let stages = crate::model::parse_stages(&input.stages, &mut e);
        let org = self.target_org(actor, input.org_id, &mut e).await?;
        if !e.is_empty() {
            return Err(Error::Invalid(e));
        }
        let org = org.ok_or(Error::NotFound)?;
        let stages = stages_column(&stages);
        let mut tx = self.db().begin().await?;
        let id = store::insert_bank(
            &mut tx,
            org.id,
            &org.path,
            title,
            description,
            stages.as_deref(),
            user_of(actor),
            now(),
        )
        .await?;
        audit::append(&mut tx, event(actor, ctx, "bank.create", format!("bank:{id}"), "ok", format!("org:{}", org.id)))
            .await?;
        tx.commit().await?;
        let row = store::get_bank(self.db(), id).await?.ok_or(Error::NotFound)?;
        Ok(self.bank_view(actor, row))
    }

    /// The organization a new bank, exam or class goes to: the one given if the caller writes learning there,
    /// else (none given) the widest where she may publish; a field error otherwise.
    pub(crate) async fn target_org(
        &self,
        actor: &Actor,
        org_id: Option<i64>,
        e: &mut FieldErrors,
    ) -> Result<Option<platform::model::OrgRow>> {
        let id = match org_id {
            Some(id) => Some(id),
            None => self.publish_targets(actor).await?.first().map(|(id, _)| *id),
        };
        let org = match id {
            Some(id) => platform::store::get_org(self.db(), id).await?,
            None => None,
        };
        match org {
            Some(o) if actor.can(Capability::LearningWrite, &o.path) => Ok(Some(o)),
            _ => {
                e.insert("org_id".into(), "所选党组织不存在或不在您的管理范围内".into());
                Ok(None)
            }
        }
    }

    /// The banks the caller may read (to make exams from, or to edit), latest first.
    pub async fn list_banks(&self, actor: &Actor) -> Result<Vec<Bank>> {
        let viewer = self.viewer(actor).await?;
        if viewer.reads_nothing() || !Self::may_publish(actor) {
            return Ok(Vec::new());
        }
        let rows = store::list_banks(self.db(), &Reach::of(&viewer), LIST_LIMIT).await?;
        Ok(rows.into_iter().map(|r| self.bank_view(actor, r)).collect())
    }

    /// A bank with its questions and answers: its authors only (403 for those who only read it).
    pub async fn get_bank(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<BankDetail> {
        let b = self.writable_bank(ctx, actor, id, "bank.read").await?;
        let questions: Vec<Question> =
            store::questions_of(self.db(), id).await?.into_iter().map(question_view).collect();
        let mut tags: BTreeMap<String, i64> = BTreeMap::new();
        for q in questions.iter().filter(|q| q.active) {
            for t in &q.tags {
                *tags.entry(t.clone()).or_default() += 1;
            }
        }
        Ok(BankDetail {
            bank: self.bank_view(actor, b),
            tags: tags.into_iter().map(|(tag, questions)| TagCount { tag, questions }).collect(),
            questions,
        })
    }

    /// Adds a question to a bank (its authors).
    pub async fn add_question(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        bank_id: i64,
        input: &QuestionInput,
    ) -> Result<Question> {
        self.writable_bank(ctx, actor, bank_id, "question.create").await?;
        let v = validate_question(input).map_err(Error::Invalid)?;
        let (options, answer, tags) =
            (serde_json::to_string(&v.options).unwrap_or_default(), key_json(&v.key), tags_column(&v.tags));
        let mut tx = self.db().begin().await?;
        let id = store::insert_question(
            &mut tx,
            bank_id,
            &store::QuestionWrite {
                kind: v.kind.code(),
                stem: &v.stem,
                options: &options,
                answer: &answer,
                explanation: &v.explanation,
                tags: &tags,
                difficulty: v.difficulty,
            },
            user_of(actor),
            now(),
        )
        .await?;
        let detail = format!("bank:{bank_id} kind:{} difficulty:{}", v.kind.code(), v.difficulty);
        audit::append(&mut tx, event(actor, ctx, "question.create", format!("question:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        let row = store::get_question(self.db(), id).await?.ok_or(Error::NotFound)?;
        Ok(question_view(row))
    }

    /// Changes a question never drawn into an attempt; one that was is retired instead (409 says so).
    pub async fn update_question(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &QuestionInput) -> Result<Question> {
        let q = store::get_question(self.db(), id).await?;
        let Some(q) = q else { return Err(self.deny(ctx, actor, "question.update", &format!("question:{id}")).await?) };
        self.writable_bank(ctx, actor, q.bank_id, "question.update").await?;
        let v = validate_question(input).map_err(Error::Invalid)?;
        if store::question_used(self.db(), id).await? {
            return Err(Error::Conflict("这道题已有人作答，不能修改；请停用后新建一道题"));
        }
        let (options, answer, tags) =
            (serde_json::to_string(&v.options).unwrap_or_default(), key_json(&v.key), tags_column(&v.tags));
        let mut tx = self.db().begin().await?;
        store::update_question(
            &mut tx,
            id,
            &store::QuestionWrite {
                kind: v.kind.code(),
                stem: &v.stem,
                options: &options,
                answer: &answer,
                explanation: &v.explanation,
                tags: &tags,
                difficulty: v.difficulty,
            },
        )
        .await?;
        audit::append(&mut tx, event(actor, ctx, "question.update", format!("question:{id}"), "ok", String::new()))
            .await?;
        tx.commit().await?;
        Ok(question_view(store::get_question(self.db(), id).await?.ok_or(Error::NotFound)?))
    }

    /// Retires a question: it is drawn no more; papers that hold it keep it.
    pub async fn retire_question(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Question> {
        let q = store::get_question(self.db(), id).await?;
        let Some(q) = q else { return Err(self.deny(ctx, actor, "question.retire", &format!("question:{id}")).await?) };
        self.writable_bank(ctx, actor, q.bank_id, "question.retire").await?;
        let mut tx = self.db().begin().await?;
        store::retire_question(&mut tx, id).await?;
        audit::append(&mut tx, event(actor, ctx, "question.retire", format!("question:{id}"), "ok", String::new()))
            .await?;
        tx.commit().await?;
        Ok(question_view(store::get_question(self.db(), id).await?.ok_or(Error::NotFound)?))
    }

    /// How each question of a bank fared in submitted exams (not practices): correct rate and the most
    /// common wrong answers. Its authors only; aggregates, no names.
    pub async fn bank_stats(&self, ctx: &Ctx, actor: &Actor, bank_id: i64) -> Result<BankStats> {
        self.writable_bank(ctx, actor, bank_id, "bank.stats").await?;
        let questions = store::questions_of(self.db(), bank_id).await?;
        let counts: HashMap<i64, (i64, i64)> =
            store::question_counts(self.db(), bank_id).await?.into_iter().map(|(q, n, r)| (q, (n, r))).collect();
        let mut wrong: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for (q, answer, n) in store::wrong_answers(self.db(), bank_id).await? {
            wrong.entry(q).or_default().push((answer, n));
        }
        let out = questions
            .into_iter()
            .map(|r| {
                let (answered, right) = counts.get(&r.id).copied().unwrap_or((0, 0));
                let kind = kind_of(&r.kind);
                let options = options_of(&r.options);
                let key = key_of(kind, &r.answer);
                let mut common: Vec<WrongAnswer> = wrong
                    .remove(&r.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(a, count)| {
                        let text = answer_text(kind, &options, &answer_of(Some(&a)));
                        WrongAnswer { answer: if text.is_empty() { "（未作答）".into() } else { text }, count }
                    })
                    .collect();
                common.sort_by(|a, b| b.count.cmp(&a.count).then(a.answer.cmp(&b.answer)));
                common.truncate(5);
                QuestionStats {
                    question_id: r.id,
                    kind_label: kind.label(),
                    correct: key_text(kind, &key, &options),
                    stem: r.stem,
                    answered,
                    correct_rate: (answered > 0).then(|| rules::percent(right, answered)),
                    common_wrong: common,
                }
            })
            .collect();
        Ok(BankStats { bank_id, questions: out })
    }

    // ------------------------------------------------------------ exams

    /// Creates an exam or a practice from a bank the caller may read, for an organization inside the bank's
    /// subtree where she publishes; the bank must hold enough questions with the tag and difficulty.
    pub async fn create_exam(&self, ctx: &Ctx, actor: &Actor, input: &ExamInput) -> Result<Exam> {
        if !Self::may_publish(actor) {
            return Err(self.refuse(ctx, actor, "exam.create", "exam:new").await?);
        }
        let mut e = match validate_exam(input) {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let bank = match input.bank_id {
            Some(id) => store::get_bank(self.db(), id).await?,
            None => None,
        };
        let viewer = self.viewer(actor).await?;
        let bank = bank.filter(|b| viewer.may_read(&b.org_path, &stages_of(b.stages.as_deref())));
        if bank.is_none() && !e.contains_key("bank_id") {
            e.insert("bank_id".into(), "题库不存在或您无权使用".into());
        }
        let org_id = match (input.org_id, &bank) {
            (Some(id), _) => Some(id),
            (None, Some(b)) if actor.can(Capability::LearningWrite, &b.org_path) => Some(b.org_id),
            (None, Some(b)) => {
                let targets = self.publish_targets(actor).await?;
                let mut found = None;
                for (id, _) in targets {
                    if let Some(o) = platform::store::get_org(self.db(), id).await?
                        && path_within(&o.path, &b.org_path)
                    {
                        found = Some(id);
                        break;
                    }
                }
                found
            }
            (None, None) => None,
        };
        let org = if org_id.is_some() || input.org_id.is_some() {
            self.target_org(actor, org_id, &mut e).await?
        } else {
            e.entry("org_id".into()).or_insert_with(|| "请选择参加考试的党组织".into());
            None
        };
        if let (Some(o), Some(b)) = (&org, &bank)
            && !path_within(&o.path, &b.org_path)
        {
            e.insert("org_id".into(), "考试范围须在题库的适用范围之内".into());
        }
        if let (Some(b), Ok(v)) = (&bank, validate_exam(input)) {
            let pool = self.pool(b.id).await?;
            let n = rules::eligible(&pool, v.tag.as_deref(), v.difficulty).len() as i64;
            if n < v.question_count {
                e.insert(
                    "question_count".into(),
                    format!("题库中符合条件（标签、难度）的题目只有{n}道，少于题量{}道", v.question_count),
                );
            }
        }
        if !e.is_empty() {
            return Err(Error::Invalid(e));
        }
        let v = validate_exam(input).map_err(Error::Invalid)?;
        let org = org.ok_or(Error::NotFound)?;
        let stages = stages_column(&v.stages);
        let mut tx = self.db().begin().await?;
        let id = store::insert_exam(
            &mut tx,
            &store::ExamWrite {
                bank_id: v.bank_id,
                org_id: org.id,
                org_path: &org.path,
                title: &v.title,
                mode: v.mode.code(),
                tag: v.tag.as_deref(),
                difficulty: v.difficulty,
                question_count: v.question_count,
                time_limit_min: v.time_limit_min,
                max_attempts: v.max_attempts,
                pass_percent: v.pass_percent,
                stages: stages.as_deref(),
                opens_at: v.opens_at,
                closes_at: v.closes_at,
                user_id: user_of(actor),
                now: now(),
            },
        )
        .await?;
        let detail = format!("bank:{} org:{} mode:{} questions:{}", v.bank_id, org.id, v.mode.code(), v.question_count);
        audit::append(&mut tx, event(actor, ctx, "exam.create", format!("exam:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_exam(ctx, actor, id).await
    }

    async fn pool(&self, bank_id: i64) -> Result<Vec<Drawable>> {
        Ok(store::drawable(self.db(), bank_id)
            .await?
            .into_iter()
            .map(|(id, tags, difficulty)| Drawable { id, tags: tags_of(&tags), difficulty })
            .collect())
    }

    /// Builds the exam as the caller sees it, with her attempts (expired ones closed first).
    async fn exam_view(&self, ctx: &Ctx, actor: &Actor, r: ExamRow) -> Result<Exam> {
        let stages = stages_of(r.stages.as_deref());
        let viewer = self.viewer(actor).await?;
        let taker = viewer.in_audience(&r.org_path, &stages);
        let t = now();
        let mut mine = Vec::new();
        if let (true, Some(pid)) = (taker, actor.person_id) {
            for a in store::attempts_of(self.db(), r.id, pid).await? {
                let a = self.close_if_expired(ctx, actor, &r, a, t).await?;
                mine.push(a);
            }
        }
        let mode = ExamMode::parse(&r.mode).unwrap_or(ExamMode::Exam);
        let open = mine.iter().any(|a| a.submitted_at.is_none());
        let blocked = if !taker {
            Some("只有考试面向的人员可以作答".to_string())
        } else if open {
            None
        } else if r.opens_at.is_some_and(|o| t < o) {
            Some(format!("{}开始", local_text(r.opens_at.unwrap_or(t))))
        } else if r.closes_at.is_some_and(|c| t > c) {
            Some("已截止".to_string())
        } else if r.max_attempts.is_some_and(|m| mine.len() as i64 >= m) {
            Some("作答次数已用完".to_string())
        } else {
            None
        };
        Ok(Exam {
            id: r.id,
            bank_id: r.bank_id,
            bank_title: r.bank_title,
            org_id: r.org_id,
            org_name: r.org_name,
            title: r.title,
            mode,
            mode_label: mode.label(),
            tag: r.tag,
            difficulty: r.difficulty,
            question_count: r.question_count,
            time_limit_minutes: r.time_limit_min,
            max_attempts: r.max_attempts,
            pass_percent: r.pass_percent,
            stages,
            opens_at: r.opens_at,
            closes_at: r.closes_at,
            created_at: r.created_at,
            my_attempts: mine
                .iter()
                .map(|a| AttemptSummary {
                    id: a.id,
                    number: a.number,
                    started_at: a.started_at,
                    submitted_at: a.submitted_at,
                    percent: a.percent,
                    passed: a.passed,
                })
                .collect(),
            can_start: blocked.is_none(),
            start_blocked: blocked,
            manageable: !actor.ranges_within(Capability::LearningRead, &r.org_path).is_empty(),
            org_path: r.org_path,
        })
    }

    /// The exams the caller may take or manage, latest first.
    pub async fn list_exams(&self, ctx: &Ctx, actor: &Actor) -> Result<ExamList> {
        let viewer = self.viewer(actor).await?;
        if viewer.reads_nothing() {
            return Ok(ExamList { items: Vec::new() });
        }
        let rows = store::list_exams(self.db(), &Reach::of(&viewer), LIST_LIMIT).await?;
        let mut items = Vec::new();
        for r in rows {
            items.push(self.exam_view(ctx, actor, r).await?);
        }
        Ok(ExamList { items })
    }

    /// One exam with the caller's attempts; 404 (audited) outside her reach.
    pub async fn get_exam(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Exam> {
        let r = self.readable_exam(ctx, actor, id, "exam.read").await?;
        self.exam_view(ctx, actor, r).await
    }

    async fn readable_exam(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<ExamRow> {
        let row = store::get_exam(self.db(), id).await?;
        let viewer = self.viewer(actor).await?;
        match row {
            Some(r) if viewer.may_read(&r.org_path, &stages_of(r.stages.as_deref())) => Ok(r),
            _ => Err(self.deny(ctx, actor, action, &format!("exam:{id}")).await?),
        }
    }

    // ------------------------------------------------------------ attempts

    /// Starts an attempt (or returns the open one: a reload or a second tab gets the same paper). The
    /// boolean says whether a new attempt was made.
    pub async fn start_attempt(&self, ctx: &Ctx, actor: &Actor, exam_id: i64) -> Result<(Attempt, bool)> {
        let exam = self.readable_exam(ctx, actor, exam_id, "attempt.start").await?;
        let stages = stages_of(exam.stages.as_deref());
        let viewer = self.viewer(actor).await?;
        let (Some(pid), true) = (actor.person_id, viewer.in_audience(&exam.org_path, &stages)) else {
            return Err(self.refuse(ctx, actor, "attempt.start", &format!("exam:{exam_id}")).await?);
        };
        let t = now();
        let mut attempts = Vec::new();
        for a in store::attempts_of(self.db(), exam_id, pid).await? {
            attempts.push(self.close_if_expired(ctx, actor, &exam, a, t).await?);
        }
        if let Some(open) = attempts.iter().find(|a| a.submitted_at.is_none()) {
            return Ok((self.attempt_view(&exam, open.clone(), t).await?, false));
        }
        if exam.opens_at.is_some_and(|o| t < o) {
            return Err(Error::Conflict("考试尚未开始"));
        }
        if exam.closes_at.is_some_and(|c| t > c) {
            return Err(Error::Conflict("考试已截止"));
        }
        if exam.max_attempts.is_some_and(|m| attempts.len() as i64 >= m) {
            return Err(Error::Conflict("作答次数已用完"));
        }
        let number = attempts.iter().map(|a| a.number).max().unwrap_or(0) + 1;
        let seed = rules::seed(exam_id, pid, number, t.unix_timestamp_nanos() as i64) as i64;
        let pool = self.pool(exam.bank_id).await?;
        let ids = rules::draw(&pool, exam.tag.as_deref(), exam.difficulty, exam.question_count as usize, seed as u64);
        if ids.is_empty() {
            return Err(Error::Conflict("题库中暂无可抽取的题目，请联系出题人"));
        }
        let deadline = exam.time_limit_min.filter(|_| exam.mode == "exam").map(|m| t + Duration::minutes(m));
        let mut tx = self.db().begin().await?;
        let inserted = store::insert_attempt(
            &mut tx,
            &store::AttemptWrite {
                exam_id,
                person_id: pid,
                number,
                seed,
                started_at: t,
                deadline_at: deadline,
                possible: rules::FULL * ids.len() as i64,
            },
        )
        .await;
        let id = match inserted {
            Ok(id) => id,
            // Another tab started the same attempt a moment ago: show that one.
            Err(kernel::DbError::Conflict { .. }) => {
                drop(tx);
                let open = store::attempts_of(self.db(), exam_id, pid).await?;
                let open = open.into_iter().find(|a| a.submitted_at.is_none()).ok_or(Error::Conflict("请重试"))?;
                return Ok((self.attempt_view(&exam, open, t).await?, false));
            }
            Err(e) => return Err(e.into()),
        };
        store::insert_items(&mut tx, id, &ids).await?;
        let detail = format!("exam:{exam_id} number:{number} questions:{}", ids.len());
        audit::append(&mut tx, event(actor, ctx, "attempt.start", format!("attempt:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        let row = store::get_attempt(self.db(), id).await?.ok_or(Error::NotFound)?;
        Ok((self.attempt_view(&exam, row, t).await?, true))
    }

    /// Closes an open exam attempt whose deadline (plus grace) has passed, grading the answers saved by
    /// then; returns the attempt as it stands.
    async fn close_if_expired(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        exam: &ExamRow,
        a: AttemptRow,
        t: OffsetDateTime,
    ) -> Result<AttemptRow> {
        let Some(deadline) = a.deadline_at else { return Ok(a) };
        if a.submitted_at.is_some() || t <= deadline + Duration::seconds(GRACE_SECONDS) {
            return Ok(a);
        }
        let items = store::items_of(self.db(), a.id).await?;
        let path = self.award_path(exam, a.person_id).await?;
        let mut tx = self.db().begin().await?;
        let (earned, percent, passed) = self.grade_all(&mut tx, exam, &a, &items, &BTreeMap::new(), deadline).await?;
        if store::close_attempt(&mut tx, a.id, deadline, earned, percent, passed, true).await? {
            self.after_pass(&mut tx, exam, a.person_id, path.as_deref(), passed).await?;
            let detail = format!("exam:{} percent:{percent} passed:{passed} closed_at_deadline", exam.id);
            audit::append(&mut tx, event(actor, ctx, "attempt.close", format!("attempt:{}", a.id), "ok", detail))
                .await?;
            tx.commit().await?;
        }
        Ok(store::get_attempt(self.db(), a.id).await?.unwrap_or(a))
    }

    /// Grades every unchecked item (with `given` where present, else the saved answer) inside `tx`;
    /// returns (earned, percent, passed).
    async fn grade_all(
        &self,
        tx: &mut kernel::DbTx,
        exam: &ExamRow,
        a: &AttemptRow,
        items: &[ItemRow],
        given: &BTreeMap<i64, Vec<String>>,
        t: OffsetDateTime,
    ) -> Result<(i64, i64, bool)> {
        let mut earned = 0;
        let mut grades = Vec::new();
        for it in items {
            if it.checked_at.is_some() {
                earned += it.earned.unwrap_or(0);
                continue;
            }
            let kind = kind_of(&it.kind);
            let answer = match given.get(&it.position) {
                Some(g) => stored_answer(kind, g),
                None => answer_of(it.answer.as_deref()),
            };
            let credit = rules::grade(kind, &key_of(kind, &it.key), &answer);
            let answer = serde_json::to_string(&answer).unwrap_or_default();
            grades.push(store::Grade { position: it.position, answer, earned: credit });
            earned += credit;
        }
        store::grade_items(tx, a.id, &grades, t).await?;
        let percent = rules::percent(earned, a.possible);
        Ok((earned, percent, percent >= exam.pass_percent))
    }

    /// Her organization's path when passing `exam` may award points (exams, not practice): read before the
    /// transaction that grades, which must never wait for a second connection (kernel::Db::connect_sqlite_with).
    async fn award_path(&self, exam: &ExamRow, person_id: i64) -> Result<Option<String>> {
        if exam.mode != "exam" {
            return Ok(None);
        }
        Ok(self.person(person_id).await?.map(|(path, _, _)| path))
    }

    async fn after_pass(
        &self,
        tx: &mut kernel::DbTx,
        exam: &ExamRow,
        person_id: i64,
        path: Option<&str>,
        passed: bool,
    ) -> Result<()> {
        if passed && let Some(path) = path {
            award_in(tx, person_id, path, Action::ExamPassed, exam.id, when_now()).await?;
        }
        Ok(())
    }

    /// The paper of an attempt as its taker (or, once submitted, those managing learning over her) sees it.
    async fn attempt_view(&self, exam: &ExamRow, a: AttemptRow, t: OffsetDateTime) -> Result<Attempt> {
        let items = store::items_of(self.db(), a.id).await?;
        let practice = exam.mode == "practice";
        let submitted = a.submitted_at.is_some();
        let items = items
            .into_iter()
            .map(|it| {
                let kind = kind_of(&it.kind);
                let options = options_of(&it.options);
                let key = key_of(kind, &it.key);
                let blanks = match &key {
                    Key::Blanks(b) => b.len(),
                    Key::Choices(_) => 0,
                };
                let reveal = submitted || (practice && it.checked_at.is_some());
                PaperItem {
                    position: it.position,
                    question_id: it.question_id,
                    kind,
                    kind_label: kind.label(),
                    correct: reveal.then(|| key_text(kind, &key, &options)),
                    explanation: reveal.then(|| it.explanation.clone()),
                    earned: if reveal { it.earned } else { None },
                    answer: answer_of(it.answer.as_deref()),
                    stem: it.stem,
                    options,
                    blanks,
                }
            })
            .collect();
        let mode = ExamMode::parse(&exam.mode).unwrap_or(ExamMode::Exam);
        Ok(Attempt {
            id: a.id,
            exam_id: a.exam_id,
            exam_title: exam.title.clone(),
            mode,
            person_id: a.person_id,
            number: a.number,
            started_at: a.started_at,
            deadline_at: a.deadline_at,
            remaining_seconds: match (submitted, a.deadline_at) {
                (false, Some(d)) => Some((d - t).whole_seconds().max(0)),
                _ => None,
            },
            submitted,
            submitted_at: a.submitted_at,
            late: a.late,
            earned: a.earned,
            possible: a.possible,
            percent: a.percent,
            passed: a.passed,
            pass_percent: exam.pass_percent,
            items,
        })
    }

    /// An attempt: its taker at any time; once submitted, also those managing learning over her. Else 404.
    pub async fn get_attempt(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Attempt> {
        let (exam, a) = self.visible_attempt(ctx, actor, id).await?;
        let a = self.close_if_expired(ctx, actor, &exam, a, now()).await?;
        self.attempt_view(&exam, a, now()).await
    }

    async fn visible_attempt(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<(ExamRow, AttemptRow)> {
        let deny = || format!("attempt:{id}");
        let Some(a) = store::get_attempt(self.db(), id).await? else {
            return Err(self.deny(ctx, actor, "attempt.read", &deny()).await?);
        };
        let exam = store::get_exam(self.db(), a.exam_id).await?.ok_or(Error::NotFound)?;
        if actor.person_id == Some(a.person_id) {
            return Ok((exam, a));
        }
        let manager = match self.person(a.person_id).await? {
            Some((path, _, _)) => actor.can(Capability::LearningRead, &path),
            None => false,
        };
        if manager && a.submitted_at.is_some() {
            return Ok((exam, a));
        }
        Err(self.deny(ctx, actor, "attempt.read", &deny()).await?)
    }

    /// The taker's own open attempt, for a write: 404 for anyone else, 409 once submitted.
    async fn own_open_attempt(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<(ExamRow, AttemptRow)> {
        let a = store::get_attempt(self.db(), id).await?;
        let Some(a) = a.filter(|a| actor.person_id == Some(a.person_id)) else {
            return Err(self.deny(ctx, actor, action, &format!("attempt:{id}")).await?);
        };
        let exam = store::get_exam(self.db(), a.exam_id).await?.ok_or(Error::NotFound)?;
        if a.submitted_at.is_some() {
            return Err(Error::Conflict("这次作答已经提交，不能再修改或再次提交"));
        }
        Ok((exam, a))
    }

    /// Checks the answers of a request against the paper: every bad one under `answers.{position}`.
    fn parse_answers(items: &[ItemRow], input: &[AnswerInput]) -> Result<BTreeMap<i64, Vec<String>>> {
        let mut e = FieldErrors::new();
        let mut out = BTreeMap::new();
        for a in input {
            let key = format!("answers.{}", a.position);
            let Some(it) = items.iter().find(|i| i.position == a.position) else {
                e.insert(key, "试卷中没有这道题".into());
                continue;
            };
            if out.contains_key(&a.position) {
                e.insert(key, "同一道题只能作答一次".into());
                continue;
            }
            let kind = kind_of(&it.kind);
            let blanks = match key_of(kind, &it.key) {
                Key::Blanks(b) => b.len(),
                Key::Choices(_) => 0,
            };
            match check_answer(kind, options_of(&it.options).len(), blanks, &a.answer) {
                Ok(()) => {
                    out.insert(a.position, a.answer.clone());
                }
                Err(m) => {
                    e.insert(key, m);
                }
            }
        }
        if e.is_empty() { Ok(out) } else { Err(Error::Invalid(e)) }
    }

    fn time_is_up(a: &AttemptRow, t: OffsetDateTime) -> bool {
        a.deadline_at.is_some_and(|d| t > d + Duration::seconds(GRACE_SECONDS))
    }

    /// Saves answers of an open exam attempt without submitting (the page's autosave). Not audited (like
    /// heartbeats): submission is. Refused once the time is up.
    pub async fn save_answers(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &AnswersInput) -> Result<Attempt> {
        let (exam, a) = self.own_open_attempt(ctx, actor, id, "attempt.save").await?;
        let t = now();
        if Self::time_is_up(&a, t) {
            return Err(Error::Conflict("考试时间已到，答案未保存；系统已按截止前保存的答案评分"));
        }
        let items = store::items_of(self.db(), id).await?;
        let given = Self::parse_answers(&items, &input.answers)?;
        let mut tx = self.db().begin().await?;
        for (pos, g) in &given {
            let Some(it) = items.iter().find(|i| i.position == *pos) else { continue };
            let json = serde_json::to_string(&stored_answer(kind_of(&it.kind), g)).unwrap_or_default();
            store::save_answer(&mut tx, id, *pos, &json).await?;
        }
        tx.commit().await?;
        let a = store::get_attempt(self.db(), id).await?.ok_or(Error::NotFound)?;
        self.attempt_view(&exam, a, t).await
    }

    /// Submits an attempt with its answers (those left out keep what was saved) and grades it. A second
    /// submission is 409; one after the time limit is 409 and writes nothing (the attempt is then closed with
    /// what was saved before the deadline).
    pub async fn submit_attempt(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &AnswersInput) -> Result<Attempt> {
        let (exam, a) = self.own_open_attempt(ctx, actor, id, "attempt.submit").await?;
        let t = now();
        if Self::time_is_up(&a, t) {
            return Err(Error::Conflict("考试时间已到，提交未被接受；系统已按截止前保存的答案评分"));
        }
        let items = store::items_of(self.db(), id).await?;
        let given = Self::parse_answers(&items, &input.answers)?;
        let path = self.award_path(&exam, a.person_id).await?;
        let mut tx = self.db().begin().await?;
        let (earned, percent, passed) = self.grade_all(&mut tx, &exam, &a, &items, &given, t).await?;
        if !store::close_attempt(&mut tx, id, t, earned, percent, passed, false).await? {
            return Err(Error::Conflict("这次作答已经提交，不能再修改或再次提交"));
        }
        self.after_pass(&mut tx, &exam, a.person_id, path.as_deref(), passed).await?;
        let detail = format!("exam:{} percent:{percent} passed:{passed}", exam.id);
        audit::append(&mut tx, event(actor, ctx, "attempt.submit", format!("attempt:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        let a = store::get_attempt(self.db(), id).await?.ok_or(Error::NotFound)?;
        self.attempt_view(&exam, a, t).await
    }

    /// Practice: checks one answer at once and returns the right answer and the explanation; the answer is
    /// then final (checking again returns the same feedback). Not for exams (409).
    pub async fn check_answer(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &CheckInput) -> Result<Feedback> {
        let (exam, _) = self.own_open_attempt(ctx, actor, id, "attempt.check").await?;
        if exam.mode != "practice" {
            return Err(Error::Conflict("考试不提供即时反馈，提交后可查看答案与解析"));
        }
        let items = store::items_of(self.db(), id).await?;
        let Some(it) = items.iter().find(|i| i.position == input.position) else {
            return Err(field("position", "试卷中没有这道题"));
        };
        let kind = kind_of(&it.kind);
        let options = options_of(&it.options);
        let key = key_of(kind, &it.key);
        let feedback = |earned: i64| Feedback {
            position: it.position,
            earned,
            right: earned == rules::FULL,
            correct: key_text(kind, &key, &options),
            explanation: it.explanation.clone(),
        };
        if it.checked_at.is_some() {
            return Ok(feedback(it.earned.unwrap_or(0)));
        }
        let blanks = match &key {
            Key::Blanks(b) => b.len(),
            Key::Choices(_) => 0,
        };
        let given: Vec<&String> = input.answer.iter().filter(|x| !x.trim().is_empty()).collect();
        if given.is_empty() {
            return Err(field("answer", "请先作答再查看解析"));
        }
        check_answer(kind, options.len(), blanks, &input.answer).map_err(|m| field("answer", m))?;
        let answer = stored_answer(kind, &input.answer);
        let credit = rules::grade(kind, &key, &answer);
        let json = serde_json::to_string(&answer).unwrap_or_default();
        let mut tx = self.db().begin().await?;
        store::grade_item(&mut tx, id, it.position, Some(&json), credit, now()).await?;
        tx.commit().await?;
        Ok(feedback(credit))
    }

    /// The results of an exam for the people the caller manages learning over (her branch's, her
    /// college's): attempts, best percentage, passed. 404 when she may not read the exam or manages none of
    /// its audience.
    pub async fn exam_results(&self, ctx: &Ctx, actor: &Actor, exam_id: i64) -> Result<ExamResults> {
        let exam = self.readable_exam(ctx, actor, exam_id, "exam.results").await?;
        let ranges = actor.ranges_within(Capability::LearningRead, &exam.org_path);
        if ranges.is_empty() {
            return Err(self.deny(ctx, actor, "exam.results", &format!("exam:{exam_id}")).await?);
        }
        let ends: Vec<String> = ranges.iter().map(|r| platform::model::subtree_end(r)).collect();
        let lines = store::results(self.db(), exam_id, &ranges, &ends)
            .await?
            .into_iter()
            .map(|r| ResultLine {
                person_id: r.person_id,
                name: r.name,
                org_name: r.org_name,
                attempts: r.attempts,
                passed: r.best.is_some_and(|b| b >= exam.pass_percent),
                best_percent: r.best,
            })
            .collect();
        Ok(ExamResults { exam_id, title: exam.title, pass_percent: exam.pass_percent, lines })
    }

    /// The paper's answer of one item as people read it (for pages).
    pub fn answer_text(item: &PaperItem) -> String {
        answer_text(item.kind, &item.options, &item.answer)
    }
}
