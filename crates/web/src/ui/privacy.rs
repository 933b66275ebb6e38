//! The pages of the PIPL rights (个人信息保护法 第四十五至四十七条): a member's 我的个人信息 page (copy, correction,
//! deletion, with the status of each request) and the record keepers' queue (个人信息请求). The rules are in
//! `platform::service` (rights.rs).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use platform::Error;
use platform::service::{Arrangement, ArrangementInput, Decision, RightsInput, RightsRequest};

use super::{Chrome, render};
use crate::AppState;
use crate::auth::Caller;

#[derive(Template)]
#[template(path = "privacy.html")]
struct MinePage {
    chrome: Chrome,
    requests: Vec<RightsRequest>,
    fields: &'static [(&'static str, &'static str)],
    purposes: &'static [(&'static str, &'static str)],
    /// A copy just requested: its single-use token, for the download form (shown this once).
    token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    /// Which form the error belongs to, and the values typed.
    form: HashMap<String, String>,
    has_person: bool,
    /// Her arrangement for after her death (PIPL 第四十九条).
    arrangement: Option<Arrangement>,
}

impl MinePage {
    fn value(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }

    /// Where privacy_forms.html sends its forms.
    fn action(&self) -> String {
        "/account/privacy".into()
    }

    /// Whose data privacy_forms.html speaks of.
    fn subject(&self) -> &'static str {
        "您"
    }
}

async fn mine_page(s: &AppState, c: &Caller) -> Result<MinePage, Error> {
    Ok(MinePage {
        chrome: Chrome::new(s, c, "privacy"),
        requests: s.platform.my_rights_requests(&c.actor).await?,
        fields: platform::privacy::CORRECTABLE,
        purposes: platform::privacy::PURPOSES,
        token: None,
        notice: None,
        error: None,
        form: HashMap::new(),
        has_person: c.actor.person_id.is_some(),
        arrangement: match c.actor.person_id {
            Some(_) => Some(s.platform.my_arrangement(&c.actor).await?),
            None => None,
        },
    })
}

/// 身后个人信息安排: whether her close relatives may exercise her rights after her death (`relatives_may`:
/// yes / no; `note`).
pub async fn arrangement_post(
    State(s): State<AppState>,
    c: Caller,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = ArrangementInput {
        relatives_may: match f.get("relatives_may").map(String::as_str) {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        note: f.get("note").cloned(),
    };
    let outcome = s.platform.set_my_arrangement(&c.ctx, &c.actor, &input).await;
    let shown = Shown::of(outcome, |a| {
        let what = if a.relatives_may { "允许近亲属依法申请" } else { "不允许近亲属申请" };
        (format!("已保存您的身后个人信息安排：{what}。"), None)
    });
    answer(shown, mine_page(&s, &c).await, &f, &c)
}

/// 我的个人信息: ask for a copy, a correction or a deletion; see each request's state.
pub async fn mine_get(State(s): State<AppState>, c: Caller) -> Response {
    match mine_page(&s, &c).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// A request from the page's forms (`kind`: copy, correction, deletion).
pub async fn mine_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let input = rights_input(&f);
    let outcome = s.platform.request_right(&c.ctx, &c.actor, &input).await;
    let shown = Shown::of(outcome, |r| {
        let due = r.request.due_on.clone().unwrap_or_default();
        let notice = match r.request.kind.as_str() {
            "copy" => {
                "副本已准备好。请点击下方“下载副本”；下载按钮仅在本页显示一次，72小时内有效、只能使用一次。".to_string()
            }
            "correction" => format!("更正请求已提交，经办人将在 {due} 前办理。"),
            _ => format!("删除请求已提交，须经两名经办人审批，将在 {due} 前办理。"),
        };
        (notice, r.token)
    });
    answer(shown, mine_page(&s, &c).await, &f, &c)
}

/// A request from one of privacy_forms.html's forms.
fn rights_input(f: &HashMap<String, String>) -> RightsInput {
    let get = |k: &str| f.get(k).cloned().filter(|v| !v.is_empty());
    RightsInput {
        kind: get("kind").unwrap_or_default(),
        field: get("field"),
        proposed: get("proposed"),
        reason: get("reason"),
        requester_name: get("requester_name"),
        requester_relation: get("requester_relation"),
        requester_phone: get("requester_phone"),
        identity_checked: f.get("identity_checked").is_some_and(|v| v == "yes"),
    }
}

/// A request refused for what was typed (shown above the forms, which keep it) or a conflict; anything else is
/// the error page's.
fn refusal(e: Error) -> Result<(StatusCode, String), Error> {
    match e {
        Error::Invalid(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, errors.into_values().collect::<Vec<_>>().join("；")))
        }
        e @ Error::Conflict(_) => Ok((StatusCode::CONFLICT, e.message())),
        e => Err(e),
    }
}

/// What a post of one of the rights forms came to, shown above the forms of the page drawn again.
struct Shown {
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    /// A copy's single-use download token (shown this once).
    token: Option<String>,
}

impl Shown {
    /// `done` words the notice (and hands over a token) on success; a [`refusal`] becomes the error.
    fn of<T>(outcome: Result<T, Error>, done: impl FnOnce(T) -> (String, Option<String>)) -> Result<Shown, Error> {
        match outcome {
            Ok(v) => {
                let (notice, token) = done(v);
                Ok(Shown { status: StatusCode::OK, notice: Some(notice), error: None, token })
            }
            Err(e) => {
                let (status, why) = refusal(e)?;
                Ok(Shown { status, notice: None, error: Some(why), token: None })
            }
        }
    }
}

/// The pages that carry the rights forms (privacy_forms.html).
trait RightsForms: Template {
    fn show(&mut self, shown: Shown, typed: HashMap<String, String>);
}

impl RightsForms for MinePage {
    fn show(&mut self, shown: Shown, typed: HashMap<String, String>) {
        (self.notice, self.error, self.token, self.form) = (shown.notice, shown.error, shown.token, typed);
    }
}

impl RightsForms for ForPage {
    fn show(&mut self, shown: Shown, typed: HashMap<String, String>) {
        (self.notice, self.error, self.token, self.form) = (shown.notice, shown.error, shown.token, typed);
    }
}

/// The page again with the outcome above its forms; after a refusal the forms keep what was typed (never the
/// anti-forgery token).
fn answer<P: RightsForms>(
    shown: Result<Shown, Error>,
    page: Result<P, Error>,
    f: &HashMap<String, String>,
    c: &Caller,
) -> Response {
    match shown.and_then(|shown| Ok((shown, page?))) {
        Ok((shown, mut page)) => {
            let status = shown.status;
            let typed = if shown.error.is_some() {
                f.iter().filter(|(k, _)| k.as_str() != "csrf").map(|(k, v)| (k.clone(), v.clone())).collect()
            } else {
                HashMap::new()
            };
            page.show(shown, typed);
            render(status, &page)
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// The copy's download: the single-use token in the form body (never in a URL), for the same person.
pub async fn copy_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let token = f.get("token").cloned().unwrap_or_default();
    match s.platform.take_copy(&c.ctx, &c.actor, &token, &crate::privacy::providers()).await {
        Ok(doc) => crate::privacy::zip_download(&doc, &c.ctx.request_id).await,
        Err(e @ Error::Conflict(_)) => {
            super::error_page(StatusCode::CONFLICT, "无法下载", &e.message(), &c.ctx.request_id)
        }
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

#[derive(Template)]
#[template(path = "privacy_queue.html")]
struct QueuePage {
    chrome: Chrome,
    requests: Vec<RightsRequest>,
    me: i64,
    notice: Option<String>,
    error: Option<String>,
    period: &'static str,
}

impl QueuePage {
    /// Whether the caller endorsed this deletion (then someone else approves it).
    fn endorsed_by_me(&self, r: &RightsRequest) -> bool {
        r.endorsed_by_id == Some(self.me)
    }
}

async fn queue_page(s: &AppState, c: &Caller) -> Result<QueuePage, Error> {
    let requests = s.platform.rights_queue(&c.ctx, &c.actor).await?;
    Ok(QueuePage {
        chrome: Chrome::new(s, c, "privacy_queue"),
        requests,
        me: c.actor.user_id,
        notice: None,
        error: None,
        period: platform::privacy::CITE_RIGHTS_PERIOD,
    })
}

/// 个人信息请求: the record keepers' queue of corrections and deletions, with due days and overdue marks.
pub async fn queue_get(State(s): State<AppState>, c: Caller) -> Response {
    match queue_page(&s, &c).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

/// A decision on one request (`decision`: accept, refuse, endorse, approve; `note`).
pub async fn decide_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let decision = f.get("decision").and_then(|d| Decision::parse(d));
    let note = f.get("note").cloned();
    let outcome = match decision {
        Some(d) => {
            s.platform.decide_right(&c.ctx, &c.actor, id, d, note.as_deref(), &crate::privacy::providers()).await
        }
        None => Err(Error::Invalid(std::collections::BTreeMap::from([("decision".into(), "请选择办理方式".into())]))),
    };
    let result = async {
        let (status, notice, error) = match outcome {
            Ok(r) => (StatusCode::OK, Some(format!("已办理：{}（{}）", r.kind_label, r.state_label)), None),
            Err(Error::Invalid(errors)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, None, Some(errors.into_values().collect::<Vec<_>>().join("；")))
            }
            Err(e @ Error::Conflict(_)) => (StatusCode::CONFLICT, None, Some(e.message())),
            Err(e) => return Err(e),
        };
        let mut page = queue_page(&s, &c).await?;
        page.notice = notice;
        page.error = error;
        Ok::<_, Error>((status, page))
    };
    match result.await {
        Ok((status, page)) => render(status, &page),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

#[derive(Template)]
#[template(path = "privacy_for.html")]
struct ForPage {
    chrome: Chrome,
    person: platform::model::Person,
    fields: &'static [(&'static str, &'static str)],
    notice: Option<String>,
    error: Option<String>,
    form: HashMap<String, String>,
    /// Her data was erased: nothing is left to ask about.
    erased: bool,
    /// She died: the request is a close relative's (PIPL 第四十九条), with her lifetime arrangement.
    deceased: Option<Arrangement>,
    relatives: &'static [(&'static str, &'static str)],
    /// A relative's copy just requested: its single-use token, for the download form (shown this once).
    token: Option<String>,
}

impl ForPage {
    fn value(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }

    fn action(&self) -> String {
        format!("/people/{}/privacy-request", self.person.id)
    }

    fn subject(&self) -> &'static str {
        "本人"
    }
}

async fn for_page(s: &AppState, c: &Caller, id: i64) -> Result<ForPage, Error> {
    let person = s.platform.get_person(&c.ctx, &c.actor, id).await?;
    // Only those who may file for her see the forms (a leader reads her record but keeps none).
    if !platform::Platform::may_edit(&c.actor, &person) {
        return Err(Error::NotFound);
    }
    let deceased = match person.status {
        platform::model::Status::Deceased => Some(s.platform.arrangement_of(person.id).await?),
        _ => None,
    };
    Ok(ForPage {
        chrome: Chrome::new(s, c, "people"),
        erased: s.platform.person_erased(person.id).await?,
        person,
        fields: platform::privacy::CORRECTABLE,
        notice: None,
        error: None,
        form: HashMap::new(),
        deceased,
        relatives: platform::privacy::CLOSE_RELATIVES,
        token: None,
    })
}

/// 代为登记个人信息请求: a record keeper files a correction or deletion for a member who asked in person, on paper
/// or by telephone. Who may see the record sees the page; filing is for those who may edit it (the service).
pub async fn for_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    match for_page(&s, &c, id).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => super::platform_error(&e, &c.ctx.request_id),
    }
}

pub async fn for_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = rights_input(&f);
    let outcome = s.platform.request_right_for(&c.ctx, &c.actor, id, &input).await;
    let shown = Shown::of(outcome, |r| {
        if r.request.kind == "copy" {
            let notice = "已登记近亲属查阅复制请求。请点击下方“下载副本”并将副本交给申请人；下载按钮仅在本页显示一次，72小时内有效、只能使用一次。";
            return (notice.to_string(), r.token);
        }
        let due = r.request.due_on.clone().unwrap_or_default();
        let relative = r.request.requester.is_some();
        let notice = format!(
            "已{}{}请求，办理期限 {due}。请在“个人信息请求”中办理{}；{}",
            if relative { "登记近亲属" } else { "代为登记" },
            r.request.kind_label,
            if r.request.kind == "deletion" { "（须两名经办人：一人提请、另一人批准）" } else { "" },
            if relative {
                "办理结果请告知申请人。"
            } else {
                "本人可在“我的个人信息”中看到该请求。"
            }
        );
        (notice, None)
    });
    answer(shown, for_page(&s, &c, id).await, &f, &c)
}
