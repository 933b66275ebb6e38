//! 党费 pages: the yearly ledger of a branch (members × 12 months, scrolling sideways on a phone), its export,
//! a member's own dues (what is due, what was paid, the rule), and the forms that set a fee profile, record a
//! payment or a reversing entry, and record an exemption or its approval. Every action is a POST form (no
//! script); errors are shown beside their field in Chinese and nothing typed is lost.

use std::collections::{BTreeMap, HashMap};

use affairs::Fees;
use affairs::model::fee::*;
use affairs::rules::fee::Category;
use affairs::rules::{Finding, Severity};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use documents::sheet::Format;
use platform::Capability;
use serde::Deserialize;

use super::forms::{Field, Kind, apply_errors};
use super::session::FormPage;
use super::{Chrome, platform_error, render};
use crate::AppState;
use crate::auth::Caller;

fn err(e: affairs::Error, c: &Caller) -> Response {
    platform_error(&platform::Error::from(e), &c.ctx.request_id)
}

fn get(f: &HashMap<String, String>, k: &str) -> Option<String> {
    f.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn state_class(s: MonthState) -> &'static str {
    match s {
        MonthState::Paid => "ok",
        MonthState::Unpaid => "bad",
        MonthState::Due | MonthState::NoProfile => "due",
        _ => "off",
    }
}

#[derive(Deserialize)]
pub struct YearQuery {
    pub year: Option<i32>,
    pub done: Option<String>,
    pub format: Option<String>,
}

/// `/fees`: the ledger of the caller's first organization, or her own dues.
pub async fn fees_home(State(_s): State<AppState>, c: Caller) -> Response {
    let org = c
        .actor
        .grants
        .iter()
        .find(|g| g.org_path.as_deref().is_some_and(|p| c.actor.can(Capability::FeeRead, p)))
        .and_then(|g| g.org_id);
    match (org, c.actor.person_id) {
        (Some(o), _) => Redirect::to(&format!("/orgs/{o}/fees")).into_response(),
        (None, Some(p)) => Redirect::to(&format!("/people/{p}/fees")).into_response(),
        _ => platform_error(&platform::Error::Forbidden, &c.ctx.request_id),
    }
}

// ---------------------------------------------------------------- the yearly ledger

#[derive(Template)]
#[template(path = "fees_ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    l: Ledger,
    years: Vec<i32>,
}

impl LedgerPage {
    fn class(&self, c: &MonthCell) -> &'static str {
        state_class(c.state)
    }
    fn mark(&self, c: &MonthCell) -> String {
        match (c.state, &c.due) {
            (MonthState::Paid, Some(d)) => format!("✓ {d}"),
            (MonthState::Unpaid | MonthState::Due, Some(d)) => d.clone(),
            (MonthState::Exempt, _) => "免".into(),
            (MonthState::NoProfile, _) => "?".into(),
            _ => "—".into(),
        }
    }
}

pub async fn ledger_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    match Fees::new(&s.platform).ledger(&c.ctx, &c.actor, id, q.year).await {
        Ok(l) => {
            let now = kernel::dates::today().year();
            let years = ((now - 4)..=(now + 1)).rev().collect();
            render(StatusCode::OK, &LedgerPage { chrome: Chrome::new(&s, &c, "fees"), l, years })
        }
        Err(e) => err(e, &c),
    }
}

pub async fn ledger_export_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    let Some(format) = Format::parse(q.format.as_deref().unwrap_or("xlsx")) else {
        return super::error_page(StatusCode::BAD_REQUEST, "格式无效", "请选择 xlsx 或 csv。", &c.ctx.request_id);
    };
    match Fees::new(&s.platform).export(&c.ctx, &c.actor, id, q.year, format).await {
        Ok(file) => crate::api::register::attachment(file),
        Err(e) => err(e, &c),
    }
}

// ---------------------------------------------------------------- a member's dues

#[derive(Template)]
#[template(path = "fees_account.html")]
struct AccountPage {
    chrome: Chrome,
    a: FeeAccount,
    notice: Option<&'static str>,
    years: Vec<i32>,
    today: String,
}

impl AccountPage {
    fn class(&self, c: &MonthCell) -> &'static str {
        state_class(c.state)
    }
    fn flag_class(&self, f: &Finding) -> &'static str {
        if f.severity == Severity::Warning { "remind" } else { "" }
    }
    fn reversed(&self, p: &FeePayment) -> bool {
        self.a.payments.iter().any(|x| x.reverses_id == Some(p.id))
    }
    fn months(&self, p: &FeePayment) -> String {
        match (&p.from_month, &p.to_month) {
            (Some(f), Some(t)) if f == t => f.clone(),
            (Some(f), Some(t)) => format!("{f} 至 {t}"),
            _ => "—".into(),
        }
    }
}

fn notice_of(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "profile" => Some("党费档案已保存，原档案保留在历史中。"),
        "paid" => Some("交纳记录已保存。"),
        "paid_warned" => Some("交纳记录已保存。注意：补交超过6个月，请党支部核实原因（见下方记录的提示）。"),
        "large" => Some("已记录为大额党费，全额上缴中央。"),
        "replayed" => Some("该交易流水号已记录过，未重复记录。"),
        "reversed" => Some("已冲正：原记录保留，所涉月份恢复为未交。"),
        "reduction" => Some("减免记录已保存。须经党支部研究并经上一级党委批准后才生效。"),
        "approved" => Some("上一级党委批准已记录，减免自此生效。"),
        _ => None,
    }
}

pub async fn account_get(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<YearQuery>,
) -> Response {
    match Fees::new(&s.platform).account(&c.ctx, &c.actor, id, q.year).await {
        Ok(a) => {
            let now = kernel::dates::today().year();
            let page = AccountPage {
                chrome: Chrome::new(&s, &c, if c.actor.person_id == Some(id) { "my_fees" } else { "fees" }),
                a,
                notice: notice_of(q.done.as_deref()),
                years: ((now - 4)..=(now + 1)).rev().collect(),
                today: kernel::dates::iso(kernel::dates::today()),
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => err(e, &c),
    }
}

// ---------------------------------------------------------------- the forms

/// Which form of a member's dues.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Profile,
    Pay,
    Reduction,
    Approval,
}

fn fields(which: Which, f: &HashMap<String, String>) -> Vec<Field> {
    let v = |k: &str| f.get(k).cloned().unwrap_or_default();
    let choose = |all: Vec<(String, String)>| {
        let mut o = vec![(String::new(), "请选择".to_string())];
        o.extend(all);
        o
    };
    match which {
        Which::Profile => vec![
            Field::new(
                "category",
                "党费类别",
                Kind::Select(choose(
                    Category::ALL.iter().map(|c| (c.code().to_string(), c.label().to_string())).collect(),
                )),
            )
            .required()
            .value(v("category")),
            Field::new("effective_from", "自哪个月起（年-月）", Kind::Text)
                .value(v("effective_from"))
                .hint("如 2026-01；不填为本年1月（当年或上年接收的预备党员为接收当月）"),
            Field::new("monthly_base", "月计算基数（元）", Kind::Text)
                .value(v("monthly_base"))
                .hint("扣除个人所得税和个人缴纳的社会保险费、住房公积金后的月收入；学生等按固定数额的可不填"),
            Field::new("included_income", "或：计入基数的工资项目合计（元）", Kind::Text)
                .value(v("included_income"))
                .hint("按工资条计算时填写，与上一项只填一种"),
            Field::new("income_tax", "个人所得税（元）", Kind::Text).value(v("income_tax")),
            Field::new("personal_contributions", "个人缴纳的社保和公积金（元）", Kind::Text)
                .value(v("personal_contributions")),
            Field::new(
                "base_policy",
                "计算基数口径",
                Kind::Select(vec![
                    ("deduct_contributions_2017".into(), "扣除个税及个人社保公积金（组电明字〔2017〕5号）".into()),
                    ("tax_only_2008".into(), "只扣个人所得税（中组发〔2008〕3号）".into()),
                ]),
            )
            .value(v("base_policy")),
            Field::new(
                "wage_policy",
                "收入变化时",
                Kind::Select(
                    WagePolicyCode::ALL.iter().map(|w| (w.code().to_string(), w.label().to_string())).collect(),
                ),
            )
            .value(v("wage_policy")),
            Field::new("farmer_amount", "农民党员每月数额（元）", Kind::Text)
                .value(v("farmer_amount"))
                .hint("0.20至1.00元，由省级党委组织部门确定"),
            Field::new("note", "备注", Kind::Text).value(v("note")),
        ],
        Which::Pay => vec![
            Field::new(
                "kind",
                "类型",
                Kind::Select(vec![
                    ("dues".into(), "按月交纳党费".into()),
                    ("voluntary".into(), "自愿一次性多交（1000元以上为大额党费）".into()),
                ]),
            )
            .value(v("kind")),
            Field::new("from_month", "交纳月份：自（年-月）", Kind::Text).value(v("from_month")).hint("如 2026-01"),
            Field::new("to_month", "至（年-月）", Kind::Text)
                .value(v("to_month"))
                .hint("不填为同一个月；补交一般不超过6个月"),
            Field::new("amount", "金额（元）", Kind::Text)
                .required()
                .value(v("amount"))
                .hint("不少于所交月份的应交党费"),
            Field::new("paid_on", "交纳日期", Kind::Date).value(v("paid_on")).hint("不填为今天"),
            Field::new(
                "method",
                "交纳方式",
                Kind::Select(choose(
                    PayMethod::ALL.iter().map(|m| (m.code().to_string(), m.label().to_string())).collect(),
                )),
            )
            .required()
            .value(v("method")),
            Field::new("payment_id", "交易流水号", Kind::Text)
                .value(v("payment_id"))
                .hint("线上、转账交纳时填写，同一流水号只记录一次；现金可不填"),
            Field::new("note", "备注", Kind::Text).value(v("note")),
        ],
        Which::Reduction => vec![
            Field::new(
                "kind",
                "减免方式",
                Kind::Select(choose(
                    ReductionKind::ALL.iter().map(|k| (k.code().to_string(), k.label().to_string())).collect(),
                )),
            )
            .required()
            .value(v("kind")),
            Field::new("from_month", "自（年-月）", Kind::Text).required().value(v("from_month")),
            Field::new("to_month", "至（年-月）", Kind::Text).required().value(v("to_month")),
            Field::new("monthly_amount", "少交时每月交纳（元）", Kind::Text).value(v("monthly_amount")),
            Field::new("reason", "原因", Kind::Text).required().value(v("reason")),
            Field::new("branch_decision", "党支部研究决定的会议", Kind::Text)
                .required()
                .value(v("branch_decision"))
                .hint("如：支部委员会会议"),
            Field::new("branch_decided_on", "党支部研究日期", Kind::Date).required().value(v("branch_decided_on")),
            Field::new("approved_by", "批准的上一级党委", Kind::Text)
                .value(v("approved_by"))
                .hint("尚未批准的可以之后补记；未批准前不生效"),
            Field::new("approved_on", "批准日期", Kind::Date).value(v("approved_on")),
        ],
        Which::Approval => vec![
            Field::new("reduction_id", "", Kind::Hidden).value(v("reduction_id")),
            Field::new("approved_by", "批准的上一级党委", Kind::Text).required().value(v("approved_by")),
            Field::new("approved_on", "批准日期", Kind::Date).required().value(v("approved_on")),
        ],
    }
}

async fn form_page(
    s: &AppState,
    c: &Caller,
    id: i64,
    which: Which,
    f: &HashMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Response {
    let a = match Fees::new(&s.platform).account(&c.ctx, &c.actor, id, None).await {
        Ok(a) => a,
        Err(e) => return err(e, c),
    };
    if !a.can_write {
        return platform_error(&platform::Error::Forbidden, &c.ctx.request_id);
    }
    let mut fields = fields(which, f);
    apply_errors(&mut fields, errors);
    let (title, action, submit) = match which {
        Which::Profile => (format!("设置{}的党费档案", a.person.name), "profile", "保存档案"),
        Which::Pay => (format!("登记{}交纳党费", a.person.name), "pay", "保存记录"),
        Which::Reduction => (format!("登记{}免交或少交党费", a.person.name), "reduction", "保存"),
        Which::Approval => ("记录上一级党委批准".to_string(), "reduction", "保存"),
    };
    let notice = match which {
        Which::Pay => Some(match &a.monthly_due {
            Some(d) => format!("本月应交{d}元。已交的月份、免交的月份不能再登记；补交超过6个月会提示党支部核实。"),
            None => "该同志尚未建立党费档案：请先设置党费档案，再登记按月交纳。".to_string(),
        }),
        Which::Profile => Some(format!(
            "{}（{}，{}）。党费自支部大会接收为预备党员之月起交纳；月交纳额按中组发〔2008〕3号的比例计算，每月一般不超过1000元。",
            a.person.name, a.person.stage_label, a.person.org_name
        )),
        _ => Some("少交或免交党费，须经党支部研究并报上一级党委批准；未批准前不生效（中组发〔2008〕3号）。".into()),
    };
    let summary = (!errors.is_empty()).then(|| format!("有{}处需要修改，请查看标红的项目", errors.len()));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(
        status,
        &FormPage {
            chrome: Chrome::new(s, c, "fees"),
            title,
            crumbs: vec![
                (a.person.org_name.clone(), format!("/orgs/{}/fees", a.person.org_id)),
                (format!("{}的党费", a.person.name), format!("/people/{id}/fees")),
            ],
            action: format!("/people/{id}/fees/{action}"),
            fields,
            submit,
            cancel: format!("/people/{id}/fees"),
            notice,
            summary,
            warnings: vec![],
        },
    )
}

pub async fn profile_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    form_page(&s, &c, id, Which::Profile, &HashMap::new(), &BTreeMap::new()).await
}

pub async fn profile_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = ProfileInput {
        category: get(&f, "category"),
        effective_from: get(&f, "effective_from"),
        monthly_base: get(&f, "monthly_base"),
        included_income: get(&f, "included_income"),
        income_tax: get(&f, "income_tax"),
        personal_contributions: get(&f, "personal_contributions"),
        base_policy: get(&f, "base_policy"),
        wage_policy: get(&f, "wage_policy"),
        farmer_amount: get(&f, "farmer_amount"),
        note: get(&f, "note"),
    };
    match Fees::new(&s.platform).set_profile(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!("/people/{id}/fees?done=profile")).into_response(),
        Err(affairs::Error::Invalid(errors)) => form_page(&s, &c, id, Which::Profile, &f, &errors).await,
        Err(e) => err(e, &c),
    }
}

pub async fn pay_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    form_page(&s, &c, id, Which::Pay, &HashMap::new(), &BTreeMap::new()).await
}

pub async fn pay_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let input = PaymentInput {
        kind: get(&f, "kind"),
        from_month: get(&f, "from_month"),
        to_month: get(&f, "to_month"),
        amount: get(&f, "amount"),
        paid_on: get(&f, "paid_on"),
        method: get(&f, "method"),
        payment_id: get(&f, "payment_id"),
        note: get(&f, "note"),
        reverses: get(&f, "reverses").and_then(|v| v.parse().ok()),
    };
    match Fees::new(&s.platform).pay(&c.ctx, &c.actor, id, &input).await {
        Ok((entry, replayed)) => {
            let done = match (replayed, entry.kind) {
                (true, _) => "replayed",
                (_, PaymentKind::Reversal) => "reversed",
                (_, PaymentKind::Large) => "large",
                _ if entry.warning.is_some() => "paid_warned",
                _ => "paid",
            };
            Redirect::to(&format!("/people/{id}/fees?done={done}")).into_response()
        }
        Err(affairs::Error::Invalid(errors)) if input.reverses.is_some() => {
            let msg = errors.values().cloned().collect::<Vec<_>>().join("；");
            super::error_page(StatusCode::UNPROCESSABLE_ENTITY, "未能冲正", &msg, &c.ctx.request_id)
        }
        Err(affairs::Error::Invalid(errors)) => form_page(&s, &c, id, Which::Pay, &f, &errors).await,
        Err(e) => err(e, &c),
    }
}

pub async fn reduction_get(State(s): State<AppState>, c: Caller, Path(id): Path<i64>) -> Response {
    form_page(&s, &c, id, Which::Reduction, &HashMap::new(), &BTreeMap::new()).await
}

pub async fn reduction_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let approval = get(&f, "reduction_id").and_then(|v| v.parse::<i64>().ok());
    let input = ReductionInput {
        reduction_id: approval,
        kind: get(&f, "kind"),
        from_month: get(&f, "from_month"),
        to_month: get(&f, "to_month"),
        monthly_amount: get(&f, "monthly_amount"),
        reason: get(&f, "reason"),
        branch_decision: get(&f, "branch_decision"),
        branch_decided_on: get(&f, "branch_decided_on"),
        approved_by: get(&f, "approved_by"),
        approved_on: get(&f, "approved_on"),
    };
    let which = if approval.is_some() { Which::Approval } else { Which::Reduction };
    match Fees::new(&s.platform).reduce(&c.ctx, &c.actor, id, &input).await {
        Ok(_) => Redirect::to(&format!(
            "/people/{id}/fees?done={}",
            if approval.is_some() { "approved" } else { "reduction" }
        ))
        .into_response(),
        Err(affairs::Error::Invalid(errors)) => form_page(&s, &c, id, which, &f, &errors).await,
        Err(e) => err(e, &c),
    }
}

/// The outcome of a statement file imported from the ledger page.
#[derive(Template)]
#[template(path = "fees_import.html")]
struct ImportPage {
    chrome: Chrome,
    org_id: i64,
    r: Option<PaymentImportReport>,
    error: Option<String>,
}

/// `POST /orgs/{id}/fees/import`: a payment statement file (multipart, field `file`), through
/// [`Fees::import_payments`]; the report on a page (recorded, already recorded, each refused row and why).
pub async fn import_post(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    req: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequest;
    let form = match axum::extract::Multipart::from_request(req, &s).await {
        Ok(m) => crate::files::read_multipart(m).await,
        Err(_) => Err("请以表单方式上传文件"),
    };
    // An unreadable form goes through the service too (with nothing), so a role that may not import hears
    // 403/404 before it hears about the form.
    let (bytes, unreadable) = match form {
        Ok(f) => (f.files.into_iter().find(|f| f.field == "file").map(|f| f.bytes).unwrap_or_default(), None),
        Err(msg) => (Default::default(), Some(msg)),
    };
    match Fees::new(&s.platform).import_payments(&c.ctx, &c.actor, id, &bytes).await {
        Ok(r) => render(
            StatusCode::OK,
            &ImportPage { chrome: Chrome::new(&s, &c, "fees"), org_id: id, r: Some(r), error: None },
        ),
        Err(affairs::Error::Invalid(fields)) => {
            let joined = fields.into_values().collect::<Vec<_>>().join("；");
            let error = Some(unreadable.map(String::from).unwrap_or(joined));
            let page = ImportPage { chrome: Chrome::new(&s, &c, "fees"), org_id: id, r: None, error };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => err(e, &c),
    }
}
