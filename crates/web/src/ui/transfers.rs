//! 组织关系转接 and 党籍状态 pages: each branch's inbox and outbox of transfers, a transfer with its letters
//! and the actions its side may take, starting a transfer from a person's record, recording an incoming
//! letter, the introduction letter as PDF, a member's status card, the status board of a subtree, and the
//! public page a letter's QR code opens. Every action is a POST form (no script); errors are shown beside
//! their field in Chinese and nothing typed is lost.

use std::collections::{BTreeMap, HashMap};

use affairs::model::transfer::*;
use affairs::rules::{Finding, Severity};
use affairs::{MemberStatus, Transfers};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use platform::Capability;
use platform::model::{Org, Status};
use serde::Deserialize;

use super::forms::{Field, Kind, apply_errors, options};
use super::session::FormPage;
use super::{Chrome, platform_error, render};
use crate::AppState;
use crate::auth::Caller;

pub(super) fn err(e: affairs::Error, c: &Caller) -> Response {
    platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

pub(super) fn get(f: &HashMap<String, String>, k: &str) -> Option<String> {
    f.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

pub(super) fn date(d: Option<time::Date>) -> String {
    d.map(kernel::dates::iso).unwrap_or_else(|| "—".into())
}

fn flag_class(f: &Finding) -> &'static str {
    if f.severity == Severity::Warning { "remind" } else { "" }
}

fn pill(t: &Transfer) -> &'static str {
    match t.state {
        TransferState::Pending if t.flags.iter().any(|f| f.severity == Severity::Violation) => "bad",
        TransferState::Pending => "due",
        TransferState::Accepted => "ok",
        _ => "off",
    }
}

// ---------------------------------------------------------------- the inbox and outbox

#[derive(Template)]
#[template(path = "transfers.html")]
struct ListPage {
    chrome: Chrome,
    org: Option<Org>,
    list: TransferList,
    can_write: bool,
    orgs: Vec<(String, String)>,
    org_value: String,
}

impl ListPage {
    fn pill(&self, t: &Transfer) -> &'static str {
        pill(t)
    }
    fn route(&self, t: &Transfer) -> String {
        let from = t.from_org_name.clone().or(t.external_org.clone()).unwrap_or_default();
        let to = t.to_org_name.clone().or(t.external_org.clone()).unwrap_or_default();
        match t.kind {
            TransferKind::In => format!("{} → {}", t.external_org.clone().unwrap_or_default(), to),
            _ => format!("{from} → {to}"),
        }
    }
    fn first_flag(&self, t: &Transfer) -> String {
        t.flags.iter().find(|f| f.severity == Severity::Violation).map(|f| f.message.clone()).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct OrgQuery {
    pub org_id: Option<i64>,
}

pub async fn transfers_get(State(s): State<AppState>, c: Caller, Query(q): Query<OrgQuery>) -> Response {
    let t = Transfers::new(&s.platform);
    let list = match t.list(&c.ctx, &c.actor, q.org_id).await {
        Ok(l) => l,
        Err(e) => return err(e, &c),
    };
    let org = match q.org_id {
        Some(id) => s.platform.get_org(&c.ctx, &c.actor, id).await.ok(),
        None => None,
    };
    let mut orgs = vec![(String::new(), "我管理的全部组织".to_string())];
    if let Ok(found) = s.platform.search_orgs(&c.actor, "", false, 300).await {
        orgs.extend(
            found
                .into_iter()
                .filter(|o| c.actor.can(Capability::TransferRead, &o.path))
                .map(|o| (o.id.to_string(), o.name)),
        );
    }
    let page = ListPage {
        chrome: Chrome::new(&s, &c, "transfers"),
        can_write: c.actor.can_somewhere(Capability::TransferWrite),
        org_value: q.org_id.map(|i| i.to_string()).unwrap_or_default(),
        org,
        list,
        orgs,
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- one transfer

#[derive(Template)]
#[template(path = "transfer.html")]
struct TransferPage {
    chrome: Chrome,
    t: Transfer,
    errors: BTreeMap<String, String>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
    today: String,
}

impl TransferPage {
    fn pill(&self) -> &'static str {
        pill(&self.t)
    }
    fn flag_class(&self, f: &Finding) -> &'static str {
        flag_class(f)
    }
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn date(&self, d: &Option<time::Date>) -> String {
        date(*d)
    }
    fn has_letter(&self) -> bool {
        self.t.letters.iter().any(|l| l.direction == "out")
    }
}

#[derive(Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

fn notice_of(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "created" => Some("已发起。接收方可以在“组织关系转接”中看到并办理。"),
        "accepted" => Some("已接收：该同志的组织关系已转入，人数统计已同步更新。"),
        "returned" => Some("已退回，转出方会看到退回原因。"),
        "cancelled" => Some("已撤回。"),
        "receipt" => Some("回执已登记，转接办结，该同志状态为“已转出”。"),
        "reissued" => Some("已补开新的介绍信，原介绍信作废。"),
        "incoming" => Some("已登记转入，该同志已编入所选党组织。"),
        _ => None,
    }
}

async fn transfer_page(
    s: &AppState,
    c: &Caller,
    id: i64,
    errors: BTreeMap<String, String>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    match Transfers::new(&s.platform).get(&c.ctx, &c.actor, id).await {
        Ok(t) => render(
            status,
            &TransferPage {
                chrome: Chrome::new(s, c, "transfers"),
                t,
                errors,
                values,
                notice,
                today: kernel::dates::iso(kernel::dates::today()),
            },
        ),
        Err(e) => err(e, c),
    }
}

pub async fn transfer_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Response {
    transfer_page(&s, &c, id, BTreeMap::new(), HashMap::new(), notice_of(q.done.as_deref())).await
}

/// Runs one action of a transfer page; on invalid input the page comes back with the messages beside the
/// fields of that action's form (prefixed by the action's name) and what was typed.
async fn act(s: AppState, c: Caller, id: i64, f: HashMap<String, String>, action: &'static str) -> Response {
    let t = Transfers::new(&s.platform);
    let decision = DecisionInput { reason: get(&f, "reason"), on: get(&f, "on") };
    let r = match action {
        "accept" => t.accept(&c.ctx, &c.actor, id, &decision).await,
        "return" => t.send_back(&c.ctx, &c.actor, id, &decision).await,
        "cancel" => t.cancel(&c.ctx, &c.actor, id, &decision).await,
        "receipt" => {
            t.receipt(&c.ctx, &c.actor, id, &ReceiptInput { received_on: get(&f, "on"), note: get(&f, "reason") }).await
        }
        _ => {
            let input = ReissueInput {
                reason: get(&f, "reason"),
                issued_on: get(&f, "on"),
                valid_days: get(&f, "valid_days").and_then(|v| v.parse().ok()),
            };
            t.reissue(&c.ctx, &c.actor, id, &input).await
        }
    };
    let done = match action {
        "accept" => "accepted",
        "return" => "returned",
        "cancel" => "cancelled",
        "receipt" => "receipt",
        _ => "reissued",
    };
    match r {
        Ok(_) => Redirect::to(&format!("/transfers/{id}?done={done}")).into_response(),
        Err(affairs::Error::Invalid(fields)) => {
            let errors = fields
                .into_iter()
                .map(|(k, v)| {
                    let k = match k.as_str() {
                        "received_on" | "issued_on" => "on".to_string(),
                        "note" => "reason".to_string(),
                        _ => k,
                    };
                    (format!("{action}.{k}"), v)
                })
                .collect();
            let values = f.into_iter().map(|(k, v)| (format!("{action}.{k}"), v)).collect();
            transfer_page(&s, &c, id, errors, values, None).await
        }
        Err(e) => err(e, &c),
    }
}

pub async fn accept_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    act(s, c, id, f, "accept").await
}
pub async fn return_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    act(s, c, id, f, "return").await
}
pub async fn cancel_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    act(s, c, id, f, "cancel").await
}
pub async fn receipt_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    act(s, c, id, f, "receipt").await
}
pub async fn reissue_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    act(s, c, id, f, "reissue").await
}

#[derive(Deserialize)]
pub struct LetterQuery {
    pub letter_id: Option<i64>,
}

/// The letter as PDF (the page's download link).
pub async fn letter_get(
    State(s): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<LetterQuery>,
) -> Response {
    let t = Transfers::new(&s.platform);
    match t.letter(&c.ctx, &c.actor, id, q.letter_id).await {
        Ok(l) => {
            let verify = crate::api::transfers::verify_url(&s, &headers, &t.verification_code(&l));
            crate::api::transfers::letter_response(&l, verify, &c.ctx.request_id).await
        }
        Err(e) => err(e, &c),
    }
}

// ---------------------------------------------------------------- starting a transfer

#[derive(Deserialize)]
pub struct NewQuery {
    pub person_id: Option<i64>,
}

async fn new_fields(s: &AppState, c: &Caller, f: &HashMap<String, String>) -> Vec<Field> {
    let v = |k: &str| f.get(k).cloned().unwrap_or_default();
    // Any branch of the university may receive: the sender picks among all (names only; at most 2,000).
    let mut orgs = vec![(String::new(), "请选择".to_string())];
    if let Ok(rows) = affairs::store::transfer::destinations(&s.platform.db, 2_000).await {
        orgs.extend(rows.into_iter().map(|(id, name)| (id.to_string(), name)));
    }
    let kinds = vec![
        (String::new(), "请选择".to_string()),
        ("internal".into(), "校内转接（转到本校其他党支部）".into()),
        ("out".into(), "转出（转到校外党组织，开具介绍信）".into()),
    ];
    let _ = c;
    vec![
        Field::new("person_id", "", Kind::Hidden).value(v("person_id")),
        Field::new("kind", "转接类型", Kind::Select(kinds)).required().value(v("kind")),
        Field::new("to_org_id", "接收党支部（校内转接）", Kind::Select(orgs))
            .value(v("to_org_id"))
            .hint("校内转接时选择；接收方同意后才正式转入"),
        Field::new("external_org", "接收党组织全称（转出）", Kind::Text)
            .value(v("external_org"))
            .hint("转出时填写，按介绍信抬头，如：中共杭州市西湖区委员会组织部"),
        Field::new("reason", "转接原因", Kind::Text).required().value(v("reason")).hint("如：毕业后到杭州市工作"),
        Field::new("initiated_on", "开具/发起日期", Kind::Date).value(v("initiated_on")).hint("不填为今天"),
        Field::new("valid_days", "介绍信有效期（天）", Kind::Text)
            .value(v("valid_days"))
            .hint("转出时填写，默认30天，最长90天"),
        Field::new("fee_paid_through", "党费交至（年-月）", Kind::Text)
            .value(v("fee_paid_through"))
            .hint("转出时填写，如 2025-06，印在介绍信上"),
        Field::new("note", "备注", Kind::Text).value(v("note")),
    ]
}

async fn new_page(
    s: &AppState,
    c: &Caller,
    f: &HashMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Response {
    if !c.actor.can_somewhere(Capability::TransferWrite) {
        return platform_error(&platform::Error::Forbidden, &c.ctx.request_id);
    }
    let pid = f.get("person_id").and_then(|v| v.parse::<i64>().ok());
    let person = match pid {
        Some(id) => match s.platform.get_person(&c.ctx, &c.actor, id).await {
            Ok(p) => p,
            Err(e) => return platform_error(&e, &c.ctx.request_id),
        },
        None => {
            return super::error_page(
                StatusCode::NOT_FOUND,
                "请从党员档案发起",
                "组织关系转接请在该同志的档案页点击“组织关系与党籍”后发起。",
                &c.ctx.request_id,
            );
        }
    };
    let mut fields = new_fields(s, c, f).await;
    apply_errors(&mut fields, errors);
    let summary = (!errors.is_empty()).then(|| {
        let mut m = format!("有{}处需要修改，请查看标红的项目", errors.len());
        if let Some(p) = errors.get("person_id") {
            m = format!("{m}：{p}");
        }
        m
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(
        status,
        &FormPage {
            chrome: Chrome::new(s, c, "transfers"),
            title: format!("为{}办理组织关系转接", person.name),
            crumbs: vec![
                ("组织关系转接".into(), "/transfers".into()),
                (person.name.clone(), format!("/people/{}/status", person.id)),
            ],
            action: "/transfers/new".into(),
            fields,
            submit: "发起转接",
            cancel: format!("/people/{}/status", person.id),
            notice: Some(format!(
                "{}（{}，{}）现在所在：{}。校内转接在接收方同意后才转入；转出将生成介绍信PDF，收到回执后办结。",
                person.name, person.stage_label, person.id_number, person.org_name
            )),
            summary,
            warnings: vec![],
        },
    )
}

pub async fn new_get(State(s): State<AppState>, c: Caller, Query(q): Query<NewQuery>) -> Response {
    let f = HashMap::from([("person_id".to_string(), q.person_id.map(|i| i.to_string()).unwrap_or_default())]);
    new_page(&s, &c, &f, &BTreeMap::new()).await
}

pub async fn new_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let input = TransferInput {
        kind: get(&f, "kind"),
        person_id: get(&f, "person_id").and_then(|v| v.parse().ok()),
        to_org_id: get(&f, "to_org_id").and_then(|v| v.parse().ok()),
        external_org: get(&f, "external_org"),
        reason: get(&f, "reason"),
        note: get(&f, "note"),
        initiated_on: get(&f, "initiated_on"),
        valid_days: get(&f, "valid_days").and_then(|v| v.parse().ok()),
        fee_paid_through: get(&f, "fee_paid_through"),
    };
    let mut errors = BTreeMap::new();
    if get(&f, "valid_days").is_some_and(|v| v.parse::<u32>().is_err()) {
        errors.insert("valid_days".to_string(), "请填写天数（整数），默认30天，最长90天".to_string());
        return new_page(&s, &c, &f, &errors).await;
    }
    match Transfers::new(&s.platform).initiate(&c.ctx, &c.actor, &input).await {
        Ok(t) => Redirect::to(&format!("/transfers/{}?done=created", t.id)).into_response(),
        Err(affairs::Error::Invalid(e)) => new_page(&s, &c, &f, &e).await,
        Err(affairs::Error::Conflict(m)) => {
            errors.insert("kind".to_string(), m.to_string());
            new_page(&s, &c, &f, &errors).await
        }
        Err(e) => err(e, &c),
    }
}

// ---------------------------------------------------------------- an incoming letter

async fn incoming_page(
    s: &AppState,
    c: &Caller,
    f: &HashMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Response {
    if !c.actor.can_somewhere(Capability::TransferWrite) {
        return platform_error(&platform::Error::Forbidden, &c.ctx.request_id);
    }
    let v = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut fields = vec![
        Field::new("from_org", "开出介绍信的党组织", Kind::Text).required().value(v("from_org")),
        Field::new("letter_number", "介绍信编号", Kind::Text).required().value(v("letter_number")),
        Field::new("issued_on", "开具日期", Kind::Date).required().value(v("issued_on")),
        Field::new("valid_days", "有效期（天）", Kind::Text).value(v("valid_days")).hint("按介绍信所写，默认30天"),
        Field::new("presented_on", "报到日期", Kind::Date)
            .value(v("presented_on"))
            .hint("不填为今天；超过有效期的介绍信须请转出方重新开具"),
        Field::new("fee_paid_through", "党费交至（年-月）", Kind::Text).value(v("fee_paid_through")),
        Field::new("reason", "转入原因", Kind::Text).required().value(v("reason")).hint("如：考取本校研究生"),
    ];
    match super::people::person_fields(s, c, f, false).await {
        Ok(person) => fields.extend(person.into_iter().filter(|p| !matches!(p.name, "status" | "version"))),
        Err(e) => return platform_error(&e, &c.ctx.request_id),
    }
    let errors: BTreeMap<String, String> =
        errors.iter().map(|(k, m)| (k.strip_prefix("person.").unwrap_or(k).to_string(), m.clone())).collect();
    apply_errors(&mut fields, &errors);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(
        status,
        &FormPage {
            chrome: Chrome::new(s, c, "transfers"),
            title: "登记转入".into(),
            crumbs: vec![("组织关系转接".into(), "/transfers".into())],
            action: "/transfers/incoming".into(),
            fields,
            submit: "登记并编入",
            cancel: "/transfers".into(),
            notice: Some(
                "按收到的《中国共产党党员组织关系介绍信》填写，并录入该同志的基本信息；保存后该同志编入所选党支部。"
                    .into(),
            ),
            summary: (!errors.is_empty()).then(|| format!("有{}处需要修改，请查看标红的项目", errors.len())),
            warnings: vec![],
        },
    )
}

pub async fn incoming_get(State(s): State<AppState>, c: Caller) -> Response {
    incoming_page(&s, &c, &HashMap::new(), &BTreeMap::new()).await
}

pub async fn incoming_post(State(s): State<AppState>, c: Caller, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut person_form = f.clone();
    person_form.insert("status".into(), "normal".into());
    let input = IncomingInput {
        from_org: get(&f, "from_org"),
        letter_number: get(&f, "letter_number"),
        issued_on: get(&f, "issued_on"),
        valid_days: get(&f, "valid_days").and_then(|v| v.parse().ok()),
        presented_on: get(&f, "presented_on"),
        fee_paid_through: get(&f, "fee_paid_through"),
        reason: get(&f, "reason"),
        note: None,
        person: Some(super::people::input_of(&person_form, false)),
    };
    match Transfers::new(&s.platform).incoming(&c.ctx, &c.actor, &input).await {
        Ok(t) => Redirect::to(&format!("/transfers/{}?done=incoming", t.id)).into_response(),
        Err(affairs::Error::Invalid(e)) => incoming_page(&s, &c, &f, &e).await,
        Err(e) => err(e, &c),
    }
}

// ---------------------------------------------------------------- the status card

#[derive(Template)]
#[template(path = "status_card.html")]
struct CardPage {
    chrome: Chrome,
    card: StatusCard,
    errors: BTreeMap<String, String>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
    statuses: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    today: String,
    open_retention: bool,
}

impl CardPage {
    fn flag_class(&self, f: &Finding) -> &'static str {
        flag_class(f)
    }
    fn error(&self, k: &str) -> String {
        self.errors.get(k).cloned().unwrap_or_default()
    }
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn date(&self, d: &Option<time::Date>) -> String {
        date(*d)
    }
    fn pill(&self, t: &Transfer) -> &'static str {
        pill(t)
    }
    fn active(&self) -> bool {
        !matches!(self.card.status, Status::Deceased | Status::Left | Status::TransferredOut)
    }
}

async fn card_page(
    s: &AppState,
    c: &Caller,
    id: i64,
    errors: BTreeMap<String, String>,
    values: HashMap<String, String>,
    notice: Option<&'static str>,
) -> Response {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    match MemberStatus::new(&s.platform).card(&c.ctx, &c.actor, id).await {
        Ok(card) => {
            let open_retention = card.retentions.iter().any(|r| r.ended_on.is_none());
            let active = if c.actor.person_id == Some(id) && !card.can_write { "me" } else { "status" };
            let statuses = options(Status::ALL, Status::code, Status::label)
                .into_iter()
                .filter(|(v, _)| v != Status::TransferredOut.code())
                .collect();
            render(
                status,
                &CardPage {
                    chrome: Chrome::new(s, c, active),
                    card,
                    errors,
                    values,
                    notice,
                    statuses,
                    channels: options(ContactChannel::ALL, ContactChannel::code, ContactChannel::label),
                    today: kernel::dates::iso(kernel::dates::today()),
                    open_retention,
                },
            )
        }
        Err(e) => err(e, c),
    }
}

pub async fn card_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>, Query(q): Query<Done>) -> Response {
    let notice = match q.done.as_deref() {
        Some("status") => Some("党籍状态已变更，并记入历史。"),
        Some("contact") => Some("联系记录已保存。"),
        Some("retention") => Some("已记录。"),
        _ => None,
    };
    card_page(&s, &c, id, BTreeMap::new(), HashMap::new(), notice).await
}

async fn card_act(s: AppState, c: Caller, id: i64, f: HashMap<String, String>, action: &'static str) -> Response {
    let m = MemberStatus::new(&s.platform);
    let r = match action {
        "status" => {
            let input = StatusInput {
                status: get(&f, "status"),
                effective_on: get(&f, "effective_on"),
                reason: get(&f, "reason"),
                place: get(&f, "place"),
                fixed_place: Some(get(&f, "fixed_place").is_some()),
                expected_until: get(&f, "expected_until"),
                certificate_no: get(&f, "certificate_no"),
                decided_by: get(&f, "decided_by"),
            };
            m.change(&c.ctx, &c.actor, id, &input).await
        }
        "contact" => {
            let input = ContactInput {
                contacted_on: get(&f, "contacted_on"),
                channel: get(&f, "channel"),
                note: get(&f, "note"),
            };
            m.contact(&c.ctx, &c.actor, id, &input).await
        }
        "retain" => {
            m.retain(&c.ctx, &c.actor, id, &RetentionInput { on: get(&f, "on"), reason: get(&f, "reason") }).await
        }
        _ => {
            m.end_retention(&c.ctx, &c.actor, id, &RetentionInput { on: get(&f, "on"), reason: get(&f, "reason") })
                .await
        }
    };
    let done = match action {
        "status" => "status",
        "contact" => "contact",
        _ => "retention",
    };
    match r {
        Ok(_) => Redirect::to(&format!("/people/{id}/status?done={done}")).into_response(),
        Err(affairs::Error::Invalid(fields)) => {
            let errors = fields.into_iter().map(|(k, v)| (format!("{action}.{k}"), v)).collect();
            let values = f.into_iter().map(|(k, v)| (format!("{action}.{k}"), v)).collect();
            card_page(&s, &c, id, errors, values, None).await
        }
        Err(affairs::Error::Conflict(msg)) => {
            let errors = BTreeMap::from([(format!("{action}.reason"), msg.to_string())]);
            let values = f.into_iter().map(|(k, v)| (format!("{action}.{k}"), v)).collect();
            card_page(&s, &c, id, errors, values, None).await
        }
        Err(e) => err(e, &c),
    }
}

pub async fn status_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    card_act(s, c, id, f, "status").await
}
pub async fn contact_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    card_act(s, c, id, f, "contact").await
}
pub async fn retain_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    card_act(s, c, id, f, "retain").await
}
pub async fn retain_end_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    card_act(s, c, id, f, "retain_end").await
}

// ---------------------------------------------------------------- the status board

#[derive(Template)]
#[template(path = "status_board.html")]
struct BoardPage {
    chrome: Chrome,
    board: Board,
    org: Option<Org>,
}

impl BoardPage {
    fn flag_class(&self, f: &Finding) -> &'static str {
        flag_class(f)
    }
    fn date(&self, d: &Option<time::Date>) -> String {
        date(*d)
    }
}

pub async fn board_get(State(s): State<AppState>, c: Caller, Query(q): Query<OrgQuery>) -> Response {
    match MemberStatus::new(&s.platform).board(&c.ctx, &c.actor, q.org_id).await {
        Ok(board) => {
            let org = match q.org_id {
                Some(id) => s.platform.get_org(&c.ctx, &c.actor, id).await.ok(),
                None => None,
            };
            render(StatusCode::OK, &BoardPage { chrome: Chrome::new(&s, &c, "status"), board, org })
        }
        Err(e) => err(e, &c),
    }
}

// ---------------------------------------------------------------- the public verification page

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    found: bool,
    number: String,
    issuer: String,
    name: String,
    to: String,
    issued_on: String,
    valid_until: String,
    state: &'static str,
    ok: bool,
}

/// What a letter's QR code opens, without signing in: whether the letter is genuine and still stands. The
/// name is shown masked (surname and one asterisk per other character).
pub async fn verify_get(State(s): State<AppState>, Path(code): Path<String>) -> Response {
    let code: String = code.chars().take(80).collect();
    let found = Transfers::new(&s.platform).verify(&code).await.ok().flatten();
    let page = match found {
        Some((l, state)) => {
            let today = kernel::dates::today();
            let letter_state = LetterState::parse(&l.state).unwrap_or(LetterState::Current);
            let (label, ok) = match (letter_state, state) {
                (LetterState::Superseded, _) => ("已补开新的介绍信，本信作废", false),
                (LetterState::Void, _) | (_, TransferState::Cancelled) => ("已作废（转出方撤回）", false),
                (_, TransferState::Accepted) => ("已接收（回执已登记）", true),
                _ if today > l.valid_until => ("已过有效期，须由转出方重新开具", false),
                _ => ("有效", true),
            };
            let mut chars = l.person_name.chars();
            let masked: String = chars.next().into_iter().chain(chars.map(|_| '*')).collect();
            VerifyPage {
                found: true,
                number: l.number,
                issuer: l.issuer_name,
                name: masked,
                to: l.to_org_name,
                issued_on: kernel::dates::iso(l.issued_on),
                valid_until: kernel::dates::iso(l.valid_until),
                state: label,
                ok,
            }
        }
        None => VerifyPage {
            found: false,
            number: String::new(),
            issuer: String::new(),
            name: String::new(),
            to: String::new(),
            issued_on: String::new(),
            valid_until: String::new(),
            state: "",
            ok: false,
        },
    };
    render(if page.found { StatusCode::OK } else { StatusCode::NOT_FOUND }, &page)
}
