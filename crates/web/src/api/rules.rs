//! `/api/v1/rules/*`: the regulations as a service (api-contract.md, "Rules"). Any signed-in account may ask;
//! nothing is read or written. Each handler parses the JSON at the boundary — every bad item becomes a
//! Chinese message under its field name (422 `validation_failed`) — calls one pure rules function of
//! `affairs` (党务管理) or `life` (组织生活), and returns its answer with the citations it relied on.

use std::collections::BTreeMap;

use affairs::rules::fee::{self, BasePolicy, BaseSource, Category, Dues, FeeError, FeeQuestion, Fen, PayItem, Payslip};
use affairs::rules::{RuleSelection, YearMonth, development, status, transfer};
use axum::Json;
use life::rules::{CommitteeAnswer, CommitteeQuestion};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;
use utoipa::ToSchema;

use super::Body;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

type Fields = BTreeMap<String, String>;

/// Collects every field error of one request, so the caller sees them all at once.
#[derive(Default)]
struct Parse {
    fields: Fields,
}

impl Parse {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.fields.entry(field.to_string()).or_insert_with(|| message.into());
    }

    fn date(&mut self, field: &str, v: &Option<String>) -> Option<Date> {
        let s = v.as_deref()?.trim();
        if s.is_empty() {
            return None;
        }
        let d = kernel::dates::parse_iso(s);
        if d.is_none() {
            self.fail(field, "日期格式应为 YYYY-MM-DD，例如 2025-03-10");
        }
        d
    }

    /// "Today" for the rules: `as_of` when given, else today's date in Beijing time.
    fn as_of(&mut self, v: &Option<String>) -> Date {
        self.date("as_of", v).unwrap_or_else(kernel::dates::today)
    }

    fn month(&mut self, field: &str, v: &Option<String>) -> Option<YearMonth> {
        let s = v.as_deref()?.trim();
        if s.is_empty() {
            return None;
        }
        let m = YearMonth::parse(s);
        if m.is_none() {
            self.fail(field, "月份格式应为 YYYY-MM，例如 2025-03");
        }
        m
    }

    /// Money as a decimal string in yuan (`"4200.00"`), or a JSON number.
    fn money(&mut self, field: &str, v: &Option<Value>) -> Option<Fen> {
        let text = match v.as_ref()? {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.fail(field, "金额应为数字字符串，例如 \"4200.00\"");
                return None;
            }
        };
        fee::parse_yuan(&text).map_err(|m| self.fail(field, m)).ok()
    }

    /// A non-negative number (days, hours).
    fn number(&mut self, field: &str, v: &Option<Value>) -> Option<f64> {
        let n = match v.as_ref()? {
            Value::Null => return None,
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        match n {
            None => self.fail(field, "应为数字"),
            Some(n) if n < 0.0 => self.fail(field, "不能为负数"),
            Some(n) if n > 10_000.0 => self.fail(field, "数值过大，请核对"),
            Some(n) => return Some(n),
        }
        None
    }

    /// A whole number from 0 to `max` (people, months, days).
    fn count(&mut self, field: &str, v: &Option<Value>, max: u32) -> Option<u32> {
        let n = match v.as_ref()? {
            Value::Null => return None,
            Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            None => self.fail(field, "应为整数"),
            Some(n) if n < 0 => self.fail(field, "不能为负数"),
            Some(n) => match u32::try_from(n) {
                Ok(n) if n <= max => return Some(n),
                _ => self.fail(field, format!("数值过大，最多为{max}")),
            },
        }
        None
    }

    fn required<T>(&mut self, field: &str, v: Option<T>, message: &str) -> Option<T> {
        if v.is_none() && !self.fields.contains_key(field) {
            self.fail(field, message);
        }
        v
    }

    fn finish<T>(self, value: T, c: &Caller) -> Result<T, ApiError> {
        if self.fields.is_empty() { Ok(value) } else { Err(invalid(self.fields, c)) }
    }
}

fn invalid(fields: Fields, c: &Caller) -> ApiError {
    ApiError::new(platform::Error::Invalid(fields), &c.ctx.request_id)
}

// ---------------------------------------------------------------------------------------------------------
// Fees

/// The monthly dues of one member (FEE-01…06).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeRequest {
    /// `employed` 在职 (brackets on the after-tax base), `annual_salary` 年薪制 (the month's pay),
    /// `self_employed` 自谋职业 (previous quarter's monthly average), `retiree` 离退休 (basic pension), and the
    /// fixed 0.20 yuan of `student`, `laid_off` 下岗失业, `low_income` 低保, `relief` 抚恤救济, `farmer` 农民
    /// (0.20–1.00 as the province sets, `farmer_amount`).
    #[schema(example = "employed")]
    pub category: Option<String>,
    /// The monthly base in yuan, *after* the regulation's deductions (income tax; personal social insurance and
    /// housing fund; allowances and incentive pay excluded). A decimal string (`"4200.00"`) or a number.
    #[schema(value_type = Option<String>, example = "4200.00")]
    pub monthly_base: Option<Value>,
    /// The month the dues are for (`YYYY-MM`), from 2008-04 when 中组发〔2008〕3号 took effect; echoed back.
    #[schema(example = "2026-01")]
    pub month: Option<String>,
    /// Instead of `monthly_base`: the payslip, from which the base is worked out (FEE-03).
    pub payslip: Option<PayslipRequest>,
    /// Instead of `monthly_base`, for `self_employed`: the three monthly net incomes of the previous quarter.
    #[schema(value_type = Option<Vec<String>>, example = json!(["9000", "12000", "6000"]))]
    pub previous_quarter_incomes: Option<Vec<Value>>,
    /// For `farmer`: the amount the province set, 0.20 to 1.00 yuan (default 0.20).
    #[schema(value_type = Option<String>, example = "0.50")]
    pub farmer_amount: Option<Value>,
}

/// A payslip (FEE-03). Payroll tags each item as part of the base or not; the base is the included items
/// minus income tax minus (under the default 2017 reading) the member's own insurance and housing-fund
/// contributions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayslipRequest {
    pub items: Vec<PayItemRequest>,
    /// Personal income tax of the month.
    #[schema(value_type = Option<String>, example = "150.00")]
    pub income_tax: Option<Value>,
    /// The member's own pension, medical, unemployment insurance and housing-fund contributions.
    #[schema(value_type = Option<String>, example = "1100.00")]
    pub personal_contributions: Option<Value>,
    /// `deduct_contributions_2017` (default, 组电明字〔2017〕5号) or `tax_only_2008` (the older after-tax reading).
    #[schema(example = "deduct_contributions_2017")]
    pub base_policy: Option<String>,
}

/// One line of a payslip.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayItemRequest {
    #[schema(example = "岗位工资")]
    pub name: String,
    #[schema(value_type = String, example = "4000.00")]
    pub amount: Value,
    /// Part of the base: 岗位工资, 薪级工资, 基础性绩效 yes; 奖励性绩效, 住房补贴, 交通补贴, annuities no.
    pub included: bool,
}

/// The monthly dues.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeeAnswer {
    #[schema(example = "employed")]
    pub category: &'static str,
    #[schema(example = "在职党员")]
    pub category_label: &'static str,
    /// The month asked about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// The base the rate applied to (`null` for fixed amounts).
    #[schema(example = "4200.00")]
    pub base: Option<String>,
    /// The rate as a decimal fraction of the whole base (`"0.010"` = 1%); `null` for fixed amounts.
    #[schema(example = "0.010")]
    pub rate: Option<String>,
    /// The monthly amount in yuan, rounded half-up to the fen, at most 1000.00.
    #[schema(example = "42.00")]
    pub amount: String,
    /// The bracket asked for more than 1000 yuan and the cap applied (FEE-02).
    pub capped: bool,
    /// How the amount was found, in Chinese.
    pub notes: Vec<String>,
    #[schema(example = json!(["中组发〔2008〕3号 第二条"]))]
    pub citations: Vec<&'static str>,
}

impl FeeAnswer {
    fn new(d: Dues, month: Option<YearMonth>) -> FeeAnswer {
        FeeAnswer {
            category: d.category.code(),
            category_label: d.category.label(),
            month: month.map(|m| m.to_string()),
            base: d.base.map(fee::format_yuan),
            rate: d.rate.map(fee::Rate::as_fraction),
            amount: fee::format_yuan(d.amount),
            capped: d.capped,
            notes: d.notes,
            citations: d.citations,
        }
    }
}

impl FeeRequest {
    fn parse(&self, c: &Caller) -> Result<(FeeQuestion, Option<YearMonth>), ApiError> {
        let mut p = Parse::default();
        let category = match self.category.as_deref().map(str::trim) {
            None | Some("") => {
                p.fail("category", "请填写党费类别");
                None
            }
            Some(code) => {
                let c = Category::parse(code);
                if c.is_none() {
                    let known: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
                    p.fail("category", format!("未知的党费类别“{code}”，可选：{}", known.join("、")));
                }
                c
            }
        };
        let month = p.month("month", &self.month);
        if month.is_some_and(|m| m < fee::FIRST_MONTH_IN_FORCE) {
            p.fail("month", "中组发〔2008〕3号自2008年4月1日起施行，不支持更早的月份");
        }
        let mut sources = Vec::new();
        if let Some(b) = p.money("monthly_base", &self.monthly_base) {
            sources.push(BaseSource::Amount(b));
        }
        if let Some(slip) = &self.payslip {
            let mut items = Vec::new();
            for (i, item) in slip.items.iter().enumerate() {
                let amount = p.money(&format!("payslip.items[{i}].amount"), &Some(item.amount.clone()));
                items.push(PayItem { name: item.name.clone(), amount: amount.unwrap_or(0), included: item.included });
            }
            let income_tax = p.money("payslip.income_tax", &slip.income_tax).unwrap_or(0);
            let personal_contributions =
                p.money("payslip.personal_contributions", &slip.personal_contributions).unwrap_or(0);
            let policy = match slip.base_policy.as_deref() {
                None => BasePolicy::default(),
                Some(code) => BasePolicy::parse(code).unwrap_or_else(|| {
                    p.fail("payslip.base_policy", "计算口径应为 deduct_contributions_2017 或 tax_only_2008");
                    BasePolicy::default()
                }),
            };
            sources.push(BaseSource::Payslip(Payslip { items, income_tax, personal_contributions }, policy));
        }
        if let Some(incomes) = &self.previous_quarter_incomes {
            let fen: Vec<Fen> = incomes
                .iter()
                .enumerate()
                .map(|(i, v)| p.money(&format!("previous_quarter_incomes[{i}]"), &Some(v.clone())).unwrap_or(0))
                .collect();
            sources.push(BaseSource::Quarter(fen));
        }
        if sources.len() > 1 {
            p.fail("monthly_base", "monthly_base、payslip、previous_quarter_incomes 只能提供其中一项");
        }
        let farmer_amount = p.money("farmer_amount", &self.farmer_amount);
        let question =
            FeeQuestion { category: category.unwrap_or(Category::Employed), base: sources.pop(), farmer_amount };
        p.finish((question, month), c)
    }
}

/// The field a fee rule's refusal belongs to.
fn fee_error_field(e: &FeeError, q: &FeeQuestion) -> &'static str {
    match (e, &q.base) {
        (FeeError::FarmerAmountOutOfRange, _) => "farmer_amount",
        (FeeError::QuarterNeedsThreeMonths, _) | (_, Some(BaseSource::Quarter(_))) => "previous_quarter_incomes",
        (_, Some(BaseSource::Payslip(..))) => "payslip",
        _ => "monthly_base",
    }
}

/// Monthly dues (党费) of one member.
///
/// The category decides the rule: **employed** (在职), **annual_salary** (年薪制) and **self_employed** (自谋职业) pay
/// 0.5% of a monthly base up to 3000 yuan, 1% up to 5000, 1.5% up to 10000 and 2% above — the rate applies to
/// the *whole* base (5100 → 76.50, 4900 → 49.00); **retiree** (离退休) pays 0.5% of a basic pension up to 5000,
/// 1% above; **student**, **laid_off** (下岗失业), **low_income** (低保), **relief** (抚恤救济) pay 0.20 yuan whatever
/// their income, and **farmer** 0.20–1.00 as the province sets (`farmer_amount`). Monthly dues are capped at
/// 1000.00 (组电明字〔2017〕5号); amounts are rounded half-up to the fen.
///
/// The base is one of: `monthly_base` (already after the deductions of 组电明字〔2017〕5号: income tax, the member's
/// social insurance and housing fund, allowances and incentive pay excluded); **or** `payslip`, the payslip
/// breakdown — items tagged `included`, `income_tax`, `personal_contributions` and `base_policy`
/// (`deduct_contributions_2017`, the default, or `tax_only_2008`) — from which the base is worked out
/// (岗位工资 4000 + 薪级工资 1500 + 基础性绩效 2000 − 税 150 − 个人社保公积金 1100 = 6250 → 93.75); **or**, for the
/// self-employed, `previous_quarter_incomes` (three months, averaged).
#[utoipa::path(post, path = "/api/v1/rules/fee", tag = "rules",
    request_body(content = FeeRequest, examples(
        ("employed" = (summary = "在职党员，税后基数4200元", value = json!({"category": "employed", "monthly_base": "4200.00"}))),
        ("payslip" = (summary = "按工资条计算基数（FEE-03）", value = json!({"category": "employed", "payslip": {
            "items": [{"name": "岗位工资", "amount": "4000", "included": true}, {"name": "薪级工资", "amount": "1500", "included": true},
                      {"name": "基础性绩效", "amount": "2000", "included": true}, {"name": "奖励性绩效", "amount": "3000", "included": false},
                      {"name": "住房补贴", "amount": "800", "included": false}],
            "income_tax": "150", "personal_contributions": "1100"}}))),
        ("retiree" = (summary = "离退休党员，基本养老金4800元", value = json!({"category": "retiree", "monthly_base": "4800"}))),
        ("student" = (summary = "学生党员，每月0.20元", value = json!({"category": "student", "month": "2026-03"})))
    )),
    responses(
        (status = 200, body = FeeAnswer, examples(
            ("employed" = (value = json!({"category": "employed", "category_label": "在职党员", "base": "4200.00", "rate": "0.010",
                "amount": "42.00", "capped": false, "notes": [], "citations": ["中组发〔2008〕3号 第二条"]}))),
            ("capped" = (summary = "基数60000元，按2%应交1200元，每月不超过1000元", value = json!({"category": "employed",
                "category_label": "在职党员", "base": "60000.00", "rate": "0.020", "amount": "1000.00", "capped": true,
                "notes": ["按比例应交1200.00元，每月党费一般不超过1000元，按1000.00元交纳；本人自愿多交的不限"],
                "citations": ["中组发〔2008〕3号 第二条", "组电明字〔2017〕5号 第一条"]})))
        )),
        (status = 422, body = ErrorBody, description = "未知类别、金额格式错误或为负数等，见 error.fields"),
        (status = 401, body = ErrorBody, description = "未登录")
    ))]
pub async fn fee(c: Caller, Body(b): Body<FeeRequest>) -> Result<Json<FeeAnswer>, ApiError> {
    let (question, month) = b.parse(&c)?;
    let dues = fee::monthly_dues(&question)
        .map_err(|e| invalid(BTreeMap::from([(fee_error_field(&e, &question).to_string(), e.to_string())]), &c))?;
    Ok(Json(FeeAnswer::new(dues, month)))
}

// ---------------------------------------------------------------------------------------------------------
// Development

/// The dates of a person's development so far; every item optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentRequest {
    #[schema(example = "2000-01-01")]
    pub birth_date: Option<String>,
    /// The application was received.
    #[schema(example = "2025-03-10")]
    pub applied_on: Option<String>,
    /// The organization talked with the applicant.
    #[schema(example = "2025-04-10")]
    pub talked_on: Option<String>,
    /// Determined as an activist (入党积极分子).
    pub activist_on: Option<String>,
    /// Listed as a development object (发展对象).
    pub candidate_on: Option<String>,
    /// Days of the short intensive training.
    #[schema(value_type = Option<f64>, example = 3)]
    pub training_days: Option<Value>,
    /// Class hours of the short intensive training.
    #[schema(value_type = Option<f64>, example = 24)]
    pub training_hours: Option<Value>,
    /// Passed the superior committee's pre-review (预审).
    pub prereview_on: Option<String>,
    /// The candidate will leave the unit on this day (DEV-10).
    pub leaves_unit_on: Option<String>,
    /// The branch general meeting admitted the candidate.
    pub admitted_on: Option<String>,
    /// The superior committee approved the admission.
    pub approved_on: Option<String>,
    /// The special circumstance of an approval later than three months.
    pub approval_reason: Option<String>,
    /// The branch meeting on conversion.
    pub conversion_meeting_on: Option<String>,
    /// The superior committee approved the conversion.
    pub converted_on: Option<String>,
    /// The extension of probation in months (6 to 12).
    #[schema(value_type = Option<u32>, example = 6)]
    pub extension_months: Option<Value>,
    /// "Today" for the check (default: today in Beijing time).
    #[schema(example = "2025-05-01")]
    pub as_of: Option<String>,
}

impl DevelopmentRequest {
    fn parse(&self, c: &Caller) -> Result<development::Record, ApiError> {
        let mut p = Parse::default();
        let mut r = development::Record::new(p.as_of(&self.as_of));
        r.birth_date = p.date("birth_date", &self.birth_date);
        r.applied_on = p.date("applied_on", &self.applied_on);
        r.talked_on = p.date("talked_on", &self.talked_on);
        r.activist_on = p.date("activist_on", &self.activist_on);
        r.candidate_on = p.date("candidate_on", &self.candidate_on);
        r.training_days = p.number("training_days", &self.training_days);
        r.training_hours = p.number("training_hours", &self.training_hours);
        r.prereview_on = p.date("prereview_on", &self.prereview_on);
        r.leaves_unit_on = p.date("leaves_unit_on", &self.leaves_unit_on);
        r.admitted_on = p.date("admitted_on", &self.admitted_on);
        r.approved_on = p.date("approved_on", &self.approved_on);
        r.approval_reason = self.approval_reason.clone();
        r.conversion_meeting_on = p.date("conversion_meeting_on", &self.conversion_meeting_on);
        r.converted_on = p.date("converted_on", &self.converted_on);
        r.extension_months = p.count("extension_months", &self.extension_months, 120);
        p.finish(r, c)
    }
}

/// Checks the dates of a person's development (发展党员) against the 细则.
///
/// Send any subset of the dates; a date left out is unknown, not missing. The answer lists the rules broken
/// (each with `code`, `rule` of domain.md, `severity`, a Chinese `message` and `citations`) and the deadlines
/// that follow: `talk_by` (DEV-02), `candidate_from` (DEV-06), `approval_by` / `approval_latest` (DEV-13),
/// `probation_ends` (DEV-14/15, extension included), `conversion_approval_by` (DEV-16), `party_standing_from`
/// (DEV-17) and others. Judged by the 2014 细则; the reported 2026 revision is not applied (`rule_set`).
#[utoipa::path(post, path = "/api/v1/rules/development", tag = "rules",
    request_body(content = DevelopmentRequest, examples(
        ("late talk" = (summary = "收到申请后一个月内未谈话（DEV-02）", value = json!({"birth_date": "2000-01-01",
            "applied_on": "2025-03-10", "talked_on": "2025-04-20", "as_of": "2025-05-01"}))),
        ("probation" = (summary = "预备期延长6个月（DEV-15）", value = json!({"admitted_on": "2025-05-20",
            "approved_on": "2025-06-10", "extension_months": 6, "as_of": "2026-06-01"})))
    )),
    responses(
        (status = 200, body = development::Assessment, example = json!({"rule_set": "2014",
            "rule_set_title": "《中国共产党发展党员工作细则》（2014）",
            "violations": [{"code": "talk_late", "rule": "DEV-02", "severity": "violation",
                "message": "党组织应在收到入党申请后一个月内（2025-04-10前）派人谈话，实际谈话日期2025-04-20，晚了10天",
                "citations": ["《中国共产党发展党员工作细则》（2014）第七条"]}],
            "deadlines": {"may_apply_from": "2018-01-01", "talk_by": "2025-04-10"},
            "citations": ["《中国共产党发展党员工作细则》（2014）第五条", "《中国共产党章程》第一条", "《中国共产党发展党员工作细则》（2014）第七条"]})),
        (status = 422, body = ErrorBody, description = "日期格式错误等，见 error.fields"),
        (status = 401, body = ErrorBody, description = "未登录")
    ))]
pub async fn development(
    c: Caller,
    Body(b): Body<DevelopmentRequest>,
) -> Result<Json<development::Assessment>, ApiError> {
    let record = b.parse(&c)?;
    Ok(Json(development::assess(&record, &RuleSelection::DEFAULT)))
}

// ---------------------------------------------------------------------------------------------------------
// Committee

/// A branch's members and its committee.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteeRequest {
    /// Formal members (required).
    #[schema(value_type = u32, example = 9)]
    pub formal_members: Option<Value>,
    /// Probationary members (required).
    #[schema(value_type = u32, example = 2)]
    pub probationary_members: Option<Value>,
    /// Seats of the committee proposed (without a committee: secretary and deputy).
    #[schema(value_type = Option<u32>, example = 5)]
    pub proposed_size: Option<Value>,
    /// The committee was elected on this day.
    #[schema(example = "2023-06-30")]
    pub elected_on: Option<String>,
    /// A requested date for the next election other than the end of the term.
    #[schema(example = "2027-07-15")]
    pub postpone_to: Option<String>,
    /// The term in years: 3 (default) or 5 for village and community branches.
    #[schema(value_type = Option<u32>, example = 3)]
    pub term_years: Option<Value>,
    /// Candidates on the ballot for the proposed seats (ELE-01).
    #[schema(value_type = Option<u32>, example = 6)]
    pub candidates: Option<Value>,
}

impl CommitteeRequest {
    fn parse(&self, c: &Caller) -> Result<CommitteeQuestion, ApiError> {
        const PEOPLE: u32 = 1_000_000;
        let mut p = Parse::default();
        let formal = p.count("formal_members", &self.formal_members, PEOPLE);
        let formal = p.required("formal_members", formal, "请填写正式党员人数");
        let probationary = p.count("probationary_members", &self.probationary_members, PEOPLE);
        let probationary = p.required("probationary_members", probationary, "请填写预备党员人数");
        let mut q = CommitteeQuestion::new(formal.unwrap_or(0), probationary.unwrap_or(0));
        q.proposed_size = p.count("proposed_size", &self.proposed_size, PEOPLE);
        q.elected_on = p.date("elected_on", &self.elected_on);
        q.postpone_to = p.date("postpone_to", &self.postpone_to);
        q.term_years = p.count("term_years", &self.term_years, 100);
        q.candidates = p.count("candidates", &self.candidates, PEOPLE);
        p.finish(q, c)
    }
}

/// Whether a branch needs a committee, how large it may be, and when its term ends (ORG-09, ORG-10, ELE-01).
///
/// 7 or more formal members need a committee of 3 to 5, generally at most 7 (fewer: a secretary and, if
/// needed, a deputy); a branch needs 3 formal members and generally has at most 50. A committee serves 3
/// years (5 for village and community branches): `term_ends`, the higher organization's reminder 6 months
/// before (`reminder_on`), and a delay of at most a year with approval (`postpone_latest`). With
/// `proposed_size`, `candidates_min` is the smallest multi-candidate ballot (seats + 20%, rounded up).
#[utoipa::path(post, path = "/api/v1/rules/committee", tag = "rules",
    request_body(content = CommitteeRequest, examples(
        ("term" = (summary = "2023-06-30选举的支委会申请延期换届", value = json!({"formal_members": 9, "probationary_members": 2,
            "proposed_size": 5, "elected_on": "2023-06-30", "postpone_to": "2027-07-15"}))),
        ("small" = (summary = "6名正式党员、3名预备党员", value = json!({"formal_members": 6, "probationary_members": 3})))
    )),
    responses(
        (status = 200, body = CommitteeAnswer, example = json!({"committee_required": true, "size_min": 3, "size_max": 7,
            "term_ends": "2026-06-30", "reminder_on": "2025-12-30", "postpone_latest": "2027-06-30",
            "advance_earliest": "2025-06-30", "candidates_min": 6,
            "violations": [{"code": "postpone_too_long", "rule": "ORG-10", "severity": "violation",
                "message": "任期至2026-06-30届满，延期换届须报上级党组织批准，一般不超过1年（最迟2027-06-30），所请延至2027-07-15",
                "citations": ["《中国共产党基层组织选举工作条例》第三条"]}],
            "citations": ["《中国共产党支部工作条例（试行）》第四条", "《中国共产党支部工作条例（试行）》第六章",
                "《中国共产党支部工作条例（试行）》第二十一条", "《中国共产党章程》第三十一条"]})),
        (status = 422, body = ErrorBody, description = "人数缺失或为负数等，见 error.fields"),
        (status = 401, body = ErrorBody, description = "未登录")
    ))]
pub async fn committee(c: Caller, Body(b): Body<CommitteeRequest>) -> Result<Json<CommitteeAnswer>, ApiError> {
    let question = b.parse(&c)?;
    Ok(Json(life::rules::committee(&question)))
}

// ---------------------------------------------------------------------------------------------------------
// Transfer

/// A transfer of the organizational relationship; every item optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The introduction letter was issued on this day.
    #[schema(example = "2025-07-01")]
    pub letter_issued_on: Option<String>,
    /// Its validity in days (default 30, at most 90).
    #[schema(value_type = Option<u32>, example = 30)]
    pub validity_days: Option<Value>,
    /// The letter was presented to the receiving organization.
    #[schema(example = "2025-08-05")]
    pub presented_on: Option<String>,
    /// A graduate's relationship has been kept by the university since.
    pub retained_since: Option<String>,
    /// The relationship was transferred out on this day.
    pub transferred_out_on: Option<String>,
    /// A new letter was asked for on this day.
    pub reissue_requested_on: Option<String>,
    /// "Today" for the check (default: today in Beijing time).
    pub as_of: Option<String>,
}

impl TransferRequest {
    fn parse(&self, c: &Caller) -> Result<transfer::TransferCase, ApiError> {
        let mut p = Parse::default();
        let mut t = transfer::TransferCase::new(p.as_of(&self.as_of));
        t.letter_issued_on = p.date("letter_issued_on", &self.letter_issued_on);
        t.validity_days = p.count("validity_days", &self.validity_days, 3660);
        if t.validity_days == Some(0) {
            p.fail("validity_days", "有效期至少为1天");
        }
        t.presented_on = p.date("presented_on", &self.presented_on);
        t.retained_since = p.date("retained_since", &self.retained_since);
        t.transferred_out_on = p.date("transferred_out_on", &self.transferred_out_on);
        t.reissue_requested_on = p.date("reissue_requested_on", &self.reissue_requested_on);
        p.finish(t, c)
    }
}

/// Deadlines of a transfer: the letter's validity, a graduate's retention, the reissue of a letter (TRF-02/03).
///
/// A letter is valid for `validity_days` after its issue day (default 30, at most 90 — a convention of this
/// platform until the organization department confirms); a graduate's relationship stays at the university
/// at most 2 years; a letter that expired for objective reasons may be reissued within 6 months of the
/// transfer out.
#[utoipa::path(post, path = "/api/v1/rules/transfer", tag = "rules",
    request_body(content = TransferRequest, examples(
        ("expired letter" = (summary = "介绍信过期后报到", value = json!({"letter_issued_on": "2025-07-01", "validity_days": 30,
            "presented_on": "2025-08-05"}))),
        ("graduate" = (summary = "毕业生组织关系保留在学校", value = json!({"retained_since": "2025-07-01", "as_of": "2027-07-02"})))
    )),
    responses(
        (status = 200, body = transfer::TransferAssessment, example = json!({"violations": [{"code": "letter_expired",
            "rule": "TRF-02", "severity": "violation", "message": "介绍信有效期至2025-07-31，2025-08-05已过期，须重新开具",
            "citations": ["组通字〔2006〕45号（党员组织关系介绍信填写说明）"]}],
            "deadlines": {"letter_valid_until": "2025-07-31"}, "citations": ["组通字〔2006〕45号（党员组织关系介绍信填写说明）"]})),
        (status = 422, body = ErrorBody, description = "日期格式错误等，见 error.fields"),
        (status = 401, body = ErrorBody, description = "未登录")
    ))]
pub async fn transfer(
    c: Caller,
    Body(b): Body<TransferRequest>,
) -> Result<Json<transfer::TransferAssessment>, ApiError> {
    let case = b.parse(&c)?;
    Ok(Json(transfer::assess(&case)))
}

// ---------------------------------------------------------------------------------------------------------
// Status

/// What is known about a member's contact, stay abroad and dues.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The last time the organization reached the member.
    #[schema(example = "2025-02-15")]
    pub last_contact_on: Option<String>,
    /// The last organizational life the member attended.
    pub last_life_on: Option<String>,
    /// The day of the last dues payment.
    pub last_paid_on: Option<String>,
    /// Studying abroad since.
    pub abroad_since: Option<String>,
    /// 党籍 suspended since.
    pub suspended_on: Option<String>,
    /// The last month paid for (`YYYY-MM`).
    #[schema(example = "2025-03")]
    pub last_paid_month: Option<String>,
    /// The day of judgement (required).
    #[schema(value_type = String, example = "2025-10-01")]
    pub as_of: Option<String>,
}

impl StatusRequest {
    fn parse(&self, c: &Caller) -> Result<status::StatusCase, ApiError> {
        let mut p = Parse::default();
        let as_of = p.date("as_of", &self.as_of);
        let as_of = p.required("as_of", as_of, "请填写判断日期 as_of（YYYY-MM-DD）");
        let mut s = status::StatusCase::new(as_of.unwrap_or_else(kernel::dates::today));
        s.last_contact_on = p.date("last_contact_on", &self.last_contact_on);
        s.last_life_on = p.date("last_life_on", &self.last_life_on);
        s.last_paid_on = p.date("last_paid_on", &self.last_paid_on);
        s.abroad_since = p.date("abroad_since", &self.abroad_since);
        s.suspended_on = p.date("suspended_on", &self.suspended_on);
        s.last_paid_month = p.month("last_paid_month", &self.last_paid_month);
        p.finish(s, c)
    }
}

/// Flags about a member's status: lost contact, a long stay abroad, dues arrears (TRF-03/04, FEE-08).
///
/// Lost contact counts from the latest of `last_contact_on`, `last_life_on` and `last_paid_on`: six months
/// on, the branch may consider suspending 党籍, and two years after a suspension removal. A member studying
/// abroad is contacted at least every half year and flagged after more than five years abroad. Six elapsed
/// calendar months after `last_paid_month` without payment are flagged (党章 art. 9). The platform flags;
/// people decide — nothing here changes anyone's membership.
#[utoipa::path(post, path = "/api/v1/rules/status", tag = "rules",
    request_body(content = StatusRequest, examples(
        ("arrears" = (summary = "2025年3月后未交党费", value = json!({"last_paid_month": "2025-03", "as_of": "2025-10-01"}))),
        ("lost" = (summary = "失联", value = json!({"last_life_on": "2025-01-10", "last_paid_on": "2025-02-15", "as_of": "2025-08-15"})))
    )),
    responses(
        (status = 200, body = status::StatusAssessment, example = json!({"flags": [{"code": "fee_arrears_six_months",
            "rule": "FEE-08", "severity": "warning",
            "message": "自2025-04起连续6个月未交纳党费（连续6个月未交纳党费）：没有正当理由的，按党章规定被认为是自行脱党，请党支部了解情况并研究处理",
            "citations": ["《中国共产党章程》第九条"]}], "deadlines": {"fee_arrears_from": "2025-10-01"},
            "citations": ["《中国共产党章程》第九条"]})),
        (status = 422, body = ErrorBody, description = "缺少 as_of、日期或月份格式错误等，见 error.fields"),
        (status = 401, body = ErrorBody, description = "未登录")
    ))]
pub async fn status(c: Caller, Body(b): Body<StatusRequest>) -> Result<Json<status::StatusAssessment>, ApiError> {
    let case = b.parse(&c)?;
    Ok(Json(status::assess(&case)))
}
