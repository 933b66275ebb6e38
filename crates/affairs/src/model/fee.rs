//! Party dues (党费): the code lists of the ledger, the inputs as they arrive (strings, so every bad item gets
//! its own Chinese message) and the answers the API and the pages show. Money is shown as a decimal string in
//! yuan with two places (`"42.00"`, api-contract.md); months as `YYYY-MM`.

use platform::code_list;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::rules::Finding;

code_list! {
    /// How a payment was made.
    PayMethod {
        Cash = "cash", "现金";
        Transfer = "transfer", "转账";
        Online = "online", "线上";
    }
}

code_list! {
    /// What a ledger entry is. `large` (大额党费, FEE-02): a voluntary one-off of 1000 yuan or more, remitted
    /// entirely to the centre; `reversal`: the correction of an earlier entry (the ledger is append-only).
    PaymentKind {
        Dues = "dues", "按月党费";
        Voluntary = "voluntary", "自愿多交";
        Large = "large", "大额党费";
        Reversal = "reversal", "冲正";
    }
}

code_list! {
    /// An exemption (免交) or a reduction (少交) of dues (FEE-08).
    ReductionKind {
        Exempt = "exempt", "免交";
        Reduce = "reduce", "少交";
    }
}

code_list! {
    /// FEE-07: when a change of income changes the dues.
    WagePolicyCode {
        AnnualLock = "annual_lock", "每年核定一次，年内一般不变";
        FollowWage = "follow_wage", "自工资变动当月起调整";
    }
}

code_list! {
    /// Where one month of one member stands.
    MonthState {
        /// Before the first due month (or not a member then).
        NotDue = "not_due", "无需交纳";
        Paid = "paid", "已交";
        /// An elapsed month (C6) without payment: arrears.
        Unpaid = "unpaid", "欠交";
        /// The current month, not yet paid: due, not arrears.
        Due = "due", "应交";
        /// A later month, not yet paid.
        Future = "future", "未到期";
        /// Exempt by a decision in force (FEE-08).
        Exempt = "exempt", "免交";
        /// Due, but no fee profile says how much.
        NoProfile = "no_profile", "未建档";
    }
}

/// The status of 大额党费: remitted entirely to the centre (中组发〔2008〕3号 第十一条).
pub const REMIT_TO_CENTRE: &str = "remit_to_centre";
pub const REMIT_LABEL: &str = "全额上缴中央";

/// A fee profile (or a change of it), as the API and the form send it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ProfileInput {
    /// employed, annual_salary, self_employed, retiree, student, laid_off, low_income, relief, farmer
    /// (`POST /api/v1/rules/fee`'s codes).
    #[schema(example = "employed")]
    pub category: Option<String>,
    /// `YYYY-MM`: the first month this profile applies to. Default: the month of admission when it is
    /// this year or last, otherwise January of this year.
    #[schema(example = "2026-01")]
    pub effective_from: Option<String>,
    /// The monthly base in yuan after the regulation's deductions (FEE-03), e.g. `"6000.00"`; or give the
    /// payslip (`included_income`, `income_tax`, `personal_contributions`).
    #[schema(example = "6000.00")]
    pub monthly_base: Option<String>,
    /// The monthly total of the payslip items that count (FEE-03).
    pub included_income: Option<String>,
    pub income_tax: Option<String>,
    /// The member's own social-insurance and housing-fund contributions.
    pub personal_contributions: Option<String>,
    /// deduct_contributions_2017 (default) or tax_only_2008 (FEE-03).
    pub base_policy: Option<String>,
    /// annual_lock (default, 组电明字〔2017〕5号) or follow_wage (中组发〔2008〕3号 第十条) (FEE-07).
    pub wage_policy: Option<String>,
    /// Farmers: the amount the province set, 0.20–1.00 (FEE-05).
    pub farmer_amount: Option<String>,
    pub note: Option<String>,
}

/// A payment or a reversing entry, as the API and the form send it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct PaymentInput {
    /// dues (default: months from..to) or voluntary (a one-off; 1000 yuan or more is 大额党费).
    #[schema(example = "dues")]
    pub kind: Option<String>,
    #[schema(example = "2026-01")]
    pub from_month: Option<String>,
    /// Default: from_month.
    #[schema(example = "2026-03")]
    pub to_month: Option<String>,
    /// Yuan, e.g. `"270.00"`; dues: at least the dues of the months covered.
    #[schema(example = "270.00")]
    pub amount: Option<String>,
    /// `YYYY-MM-DD`, not in the future; default today.
    pub paid_on: Option<String>,
    /// cash (现金), transfer (转账) or online (线上).
    #[schema(example = "online")]
    pub method: Option<String>,
    /// The payment's own number (an online payment's transaction number): the same number again answers
    /// the entry already recorded and records nothing (AT-29). Given by the platform when left out.
    #[schema(example = "WX20260315000123")]
    pub payment_id: Option<String>,
    pub note: Option<String>,
    /// Reverses this entry (a correction): the months become unpaid again; `note` says why.
    pub reverses: Option<i64>,
}

/// An exemption or reduction, or the upper committee's approval of one already recorded (`reduction_id`).
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct ReductionInput {
    /// Record the approval of this reduction (only `approved_by` and `approved_on` are read).
    pub reduction_id: Option<i64>,
    /// exempt (免交) or reduce (少交).
    #[schema(example = "exempt")]
    pub kind: Option<String>,
    #[schema(example = "2026-01")]
    pub from_month: Option<String>,
    #[schema(example = "2026-06")]
    pub to_month: Option<String>,
    /// reduce: the monthly amount to pay, in yuan.
    pub monthly_amount: Option<String>,
    #[schema(example = "家庭遭遇重大变故，生活确有困难")]
    pub reason: Option<String>,
    /// The branch's decision, e.g. "支部委员会会议".
    #[schema(example = "支部委员会会议研究同意")]
    pub branch_decision: Option<String>,
    pub branch_decided_on: Option<String>,
    /// The next-level committee that approved it, e.g. "艺术设计学院党委".
    pub approved_by: Option<String>,
    pub approved_on: Option<String>,
}

/// A fee profile with the monthly amount the rules give for it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeeProfile {
    pub id: i64,
    #[schema(example = "2026-01")]
    pub effective_from: String,
    #[schema(example = "employed")]
    pub category: String,
    pub category_label: String,
    /// The base in yuan (none for fixed amounts).
    #[schema(example = "6000.00")]
    pub base: Option<String>,
    pub base_policy: String,
    pub wage_policy: WagePolicyCode,
    pub wage_policy_label: &'static str,
    pub farmer_amount: Option<String>,
    /// The monthly dues by this profile's own base (rules::fee), before FEE-07's yearly lock.
    #[schema(example = "90.00")]
    pub monthly_amount: String,
    /// The rate as a fraction, e.g. `"0.015"` (none for fixed amounts).
    pub rate: Option<String>,
    pub capped: bool,
    pub notes: Vec<String>,
    pub citations: Vec<&'static str>,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: time::OffsetDateTime,
}

/// One entry of the payments ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FeePayment {
    pub id: i64,
    pub person_id: i64,
    pub kind: PaymentKind,
    pub kind_label: &'static str,
    pub from_month: Option<String>,
    pub to_month: Option<String>,
    pub months: i64,
    #[schema(example = "270.00")]
    pub amount: String,
    #[schema(value_type = String, format = Date)]
    pub paid_on: Date,
    pub method: PayMethod,
    pub method_label: &'static str,
    pub payment_id: String,
    /// The entry this one reverses.
    pub reverses_id: Option<i64>,
    /// 大额党费: `remit_to_centre`.
    pub remit_status: Option<String>,
    pub remit_label: Option<&'static str>,
    /// FEE-08: "补交超过6个月…".
    pub warning: Option<String>,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
}

/// An exemption or reduction and whether it is in force.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeeReduction {
    pub id: i64,
    pub kind: ReductionKind,
    pub kind_label: &'static str,
    pub from_month: String,
    pub to_month: String,
    pub monthly_amount: Option<String>,
    pub reason: String,
    pub branch_decision: String,
    #[schema(value_type = String, format = Date)]
    pub branch_decided_on: Date,
    pub approved_by: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub approved_on: Option<Date>,
    /// FEE-08: branch decision AND upper-committee approval.
    pub effective: bool,
    pub effective_label: &'static str,
    pub citations: Vec<&'static str>,
}

/// One month of one member.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MonthCell {
    #[schema(example = "2026-03")]
    pub month: String,
    pub state: MonthState,
    pub state_label: &'static str,
    /// The dues of the month (none before the first due month or without a profile).
    pub due: Option<String>,
    /// The ledger entry that paid it.
    pub payment: Option<i64>,
}

/// A member as the fee pages name her.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeePerson {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_name: String,
    pub stage_label: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub admitted_on: Option<Date>,
}

/// The unpaid elapsed months (C6) of a member.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Arrears {
    pub months: Vec<String>,
    /// The dues of those months, in yuan.
    pub amount: String,
    /// The consecutive unpaid months up to the last elapsed month (FEE-08 counts these).
    pub consecutive: i64,
}

/// A member's dues: what is due, what was paid, the rule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeeAccount {
    pub person: FeePerson,
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// FEE-07: the month of admission as a probationary member (when recorded).
    pub first_due_month: Option<String>,
    /// From this month the ledger counts dues: the first due month, or the first profile when later.
    pub dues_from: Option<String>,
    /// The profile in force this month, then the history (latest first).
    pub profile: Option<FeeProfile>,
    pub profiles: Vec<FeeProfile>,
    /// The dues of this month (FEE-07's lock applied).
    pub monthly_due: Option<String>,
    pub year: i32,
    pub months: Vec<MonthCell>,
    pub year_due: String,
    pub year_paid: String,
    pub arrears: Arrears,
    /// FEE-08: 连续6个月未交纳党费 (a case for the branch, never a decision, C7).
    pub flags: Vec<Finding>,
    pub payments: Vec<FeePayment>,
    pub reductions: Vec<FeeReduction>,
    pub citations: Vec<&'static str>,
    /// Whether the caller may record (buttons; the service checks again).
    pub can_write: bool,
}

/// One row of the yearly ledger: a member × 12 months.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LedgerRow {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub category_label: Option<String>,
    /// The dues of the latest month of the year so far.
    pub monthly_due: Option<String>,
    pub cells: Vec<MonthCell>,
    pub year_due: String,
    pub year_paid: String,
    /// Unpaid elapsed months of the year.
    pub unpaid_months: i64,
    /// The FEE-08 flag is raised (as of today).
    pub flagged: bool,
}

/// The totals of one month of the ledger.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MonthTotal {
    pub month: String,
    pub due: String,
    pub paid: String,
}

/// The yearly ledger of an organization's members.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Ledger {
    pub org_id: i64,
    pub org_name: String,
    pub year: i32,
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    pub rows: Vec<LedgerRow>,
    pub totals: Vec<MonthTotal>,
    pub year_due: String,
    pub year_paid: String,
    /// Dues of the year's elapsed months still unpaid.
    pub year_outstanding: String,
    /// One-off payments of the year: voluntary and 大额党费 (remitted to the centre).
    pub year_voluntary: String,
    pub year_large: String,
    pub flagged: usize,
    pub truncated: bool,
    pub can_write: bool,
}

/// What `dangjian fees verify` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct LedgerCheck {
    pub entries: u64,
    /// Ids of entries whose HMAC does not match their fields (edited behind the platform's back).
    pub broken: Vec<i64>,
}

/// What an imported payment file (a bank or WeChat statement in the template's columns) found and did. Each row
/// is recorded on its own, idempotently on its 交易流水号 (AT-29): importing the same file again records nothing
/// twice, and a row refused leaves the others recorded.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct PaymentImportReport {
    /// Data rows read.
    pub rows: usize,
    /// Recorded now (a dry run: would be).
    pub recorded: usize,
    /// Already recorded under the same 交易流水号 (a replayed file).
    pub already_recorded: usize,
    /// Every refused row: its number in the file and why, in Chinese.
    pub errors: Vec<PaymentImportError>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentImportError {
    pub row: u32,
    pub message: String,
}
