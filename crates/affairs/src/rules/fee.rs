//! Dues (党费), FEE-01…08: how much a member pays a month, from what base, from when, and what happens to
//! arrears and one-off payments. The sources are 中组发〔2008〕3号 and 组电明字〔2017〕5号 (the 1000-yuan cap, the
//! base without contributions, the yearly amount).
//!
//! Money is integer fen (`i64`), never a float: a rate is applied to the *whole* base ("全额累进", not marginal)
//! and the result rounded half-up to the fen (C5); answers render it as a decimal string (`"42.00"`).

use time::Date;

use super::{Finding, Sources, YearMonth, cite};

/// An amount of money in fen (0.01 yuan).
pub type Fen = i64;

/// The largest base the engine accepts: 100 million yuan a month, far beyond any payslip, so that no
/// product of a base and a rate can overflow.
pub const MAX_BASE: Fen = 10_000_000_000;
/// FEE-02 (组电明字〔2017〕5号 item 1): monthly dues are generally not more than 1000 yuan.
pub const MONTHLY_CAP: Fen = 100_000;
/// FEE-05 (中组发〔2008〕3号 art. 6): the fixed monthly amount of students, the unemployed, relief and 低保
/// recipients, and the lowest a province may set for farmers: 0.20 yuan.
pub const FIXED_MONTHLY: Fen = 20;
/// FEE-05: the most a province may set for farmers: 1 yuan.
pub const FARMER_MAX: Fen = 100;
/// FEE-02 (中组发〔2008〕3号 art. 11): a one-off voluntary payment of this much or more is 大额党费.
pub const LARGE_DUES: Fen = 100_000;
/// FEE-08: a catch-up payment generally covers no more than this many months.
pub const CATCH_UP_MONTHS: u32 = 6;

/// The rules are in force from this month (中组发〔2008〕3号 took effect on 2008-04-01); earlier months are not
/// modelled. The items of 组电明字〔2017〕5号 (the cap, the base without contributions) are applied to every
/// month: domain.md does not give the notice's effective date, and the platform computes current dues.
pub const FIRST_MONTH_IN_FORCE: YearMonth = YearMonth { year: 2008, month: 4 };

/// Why a fee question cannot be answered. The messages are shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    #[error("该类别须提供计算基数：填写 monthly_base（扣除规定项目后的月收入），或提供工资条明细 payslip")]
    BaseRequired,
    #[error("扣除个人所得税和个人缴纳的社会保险费、住房公积金后，计算基数为负数，请核对工资条")]
    NegativeBase,
    #[error("金额过大，请核对（月计算基数不超过1亿元）")]
    BaseTooLarge,
    #[error("农民党员每月交纳党费0.20元至1.00元，具体数额由省级党委组织部门确定")]
    FarmerAmountOutOfRange,
    #[error("自谋职业党员的基数为上一季度月平均纯收入，请提供3个月的收入")]
    QuarterNeedsThreeMonths,
}

/// Parses a decimal amount in yuan with at most two places (`"4200"`, `"9999.99"`) into fen.
pub fn parse_yuan(s: &str) -> Result<Fen, &'static str> {
    let s = s.trim();
    if s.starts_with('-') {
        return Err("金额不能为负数");
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if !digits(int) || (s.contains('.') && !digits(frac)) {
        return Err("金额应为数字，最多两位小数，例如 4200.00");
    }
    if frac.len() > 2 {
        return Err("金额最多两位小数（精确到分）");
    }
    if int.len() > 12 {
        return Err("金额过大，请核对");
    }
    let yuan: i64 = int.parse().map_err(|_| "金额应为数字")?;
    let fen: i64 = format!("{frac:0<2}").parse().map_err(|_| "金额应为数字")?;
    let total = yuan.checked_mul(100).and_then(|y| y.checked_add(fen)).ok_or("金额过大，请核对")?;
    if total > MAX_BASE {
        return Err("金额过大，请核对（月计算基数不超过1亿元）");
    }
    Ok(total)
}

/// Renders fen as yuan with two places: `4200` → `"42.00"`.
pub fn format_yuan(fen: Fen) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Who pays how (FEE-01, FEE-04, FEE-05, FEE-06). The API codes are [`Category::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// 在职 wage earners: brackets on the monthly after-tax base (FEE-01, FEE-03).
    Employed,
    /// 年薪制: brackets on the pay actually received that month (FEE-06).
    AnnualSalary,
    /// 自谋职业 without a monthly income: brackets on the average monthly net income of the previous quarter
    /// (FEE-06).
    SelfEmployed,
    /// 离退休: 0.5% up to 5000 yuan, 1% above, on the basic pension (FEE-04).
    Retiree,
    /// 学生: 0.20 yuan (FEE-05).
    Student,
    /// 下岗失业: 0.20 yuan (FEE-05).
    LaidOff,
    /// 领取最低生活保障金 (低保): 0.20 yuan (FEE-05).
    LowIncome,
    /// 依靠抚恤或救济生活: 0.20 yuan (FEE-05).
    Relief,
    /// 农民: 0.20–1.00 yuan as the province decides (FEE-05).
    Farmer,
}

/// How a category's dues are worked out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// The wage-earner brackets of FEE-01.
    WageBrackets,
    /// The retiree brackets of FEE-04.
    RetireeBrackets,
    /// A fixed amount, whatever the income (FEE-05).
    Fixed,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Employed,
        Category::AnnualSalary,
        Category::SelfEmployed,
        Category::Retiree,
        Category::Student,
        Category::LaidOff,
        Category::LowIncome,
        Category::Relief,
        Category::Farmer,
    ];

    /// The code the API uses.
    pub fn code(self) -> &'static str {
        match self {
            Category::Employed => "employed",
            Category::AnnualSalary => "annual_salary",
            Category::SelfEmployed => "self_employed",
            Category::Retiree => "retiree",
            Category::Student => "student",
            Category::LaidOff => "laid_off",
            Category::LowIncome => "low_income",
            Category::Relief => "relief",
            Category::Farmer => "farmer",
        }
    }

    /// The Chinese name.
    pub fn label(self) -> &'static str {
        match self {
            Category::Employed => "在职党员",
            Category::AnnualSalary => "实行年薪制的党员",
            Category::SelfEmployed => "自谋职业的党员",
            Category::Retiree => "离退休党员",
            Category::Student => "学生党员",
            Category::LaidOff => "下岗失业党员",
            Category::LowIncome => "领取最低生活保障金的党员",
            Category::Relief => "依靠抚恤或救济生活的党员",
            Category::Farmer => "农民党员",
        }
    }

    pub fn parse(code: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.code() == code.trim())
    }

    pub fn scheme(self) -> Scheme {
        match self {
            Category::Employed | Category::AnnualSalary | Category::SelfEmployed => Scheme::WageBrackets,
            Category::Retiree => Scheme::RetireeBrackets,
            Category::Student | Category::LaidOff | Category::LowIncome | Category::Relief | Category::Farmer => {
                Scheme::Fixed
            }
        }
    }

    /// The article that defines this category's base or amount.
    fn citation(self) -> &'static str {
        match self {
            Category::Employed => cite::FEE_2008_ART2,
            Category::AnnualSalary => cite::FEE_2008_ART3,
            Category::SelfEmployed => cite::FEE_2008_ART4,
            Category::Retiree => cite::FEE_2008_ART5,
            _ => cite::FEE_2008_ART6,
        }
    }
}

/// A share of the base in per mille (5 = 0.5%).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate(pub u32);

impl Rate {
    /// The rate as a decimal fraction with three places: `Rate(15)` → `"0.015"`.
    pub fn as_fraction(self) -> String {
        format!("0.{:03}", self.0)
    }

    /// `base` × rate, rounded half-up to the fen (C5). `base` must be non-negative.
    pub fn of(self, base: Fen) -> Fen {
        (base.max(0) * i64::from(self.0) + 500) / 1000
    }
}

/// FEE-01 (中组发〔2008〕3号 art. 2): the wage-earner bracket of a monthly base — ≤3000 yuan 0.5%, ≤5000 1%,
/// ≤10000 1.5%, above 2% — applied to the whole base.
pub fn wage_rate(base: Fen) -> Rate {
    if base <= 300_000 {
        Rate(5)
    } else if base <= 500_000 {
        Rate(10)
    } else if base <= 1_000_000 {
        Rate(15)
    } else {
        Rate(20)
    }
}

/// FEE-04 (中组发〔2008〕3号 art. 5): retirees pay 0.5% of a base up to 5000 yuan, 1% above.
pub fn retiree_rate(base: Fen) -> Rate {
    if base <= 500_000 { Rate(5) } else { Rate(10) }
}

/// One line of a payslip, tagged by payroll as part of the base or not (FEE-03: the import tags each item;
/// e.g. 岗位工资, 薪级工资, 基础性绩效 are in, 奖励性绩效 and 住房补贴 are out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayItem {
    pub name: String,
    pub amount: Fen,
    pub included: bool,
}

/// A monthly payslip for the FEE-03 base.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payslip {
    pub items: Vec<PayItem>,
    /// Personal income tax of the month.
    pub income_tax: Fen,
    /// The member's own social-insurance and housing-fund contributions.
    pub personal_contributions: Fen,
}

/// Which reading of the base a payslip is worked out under (FEE-03).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BasePolicy {
    /// 组电明字〔2017〕5号 items 2–3 (the default, CONVENTION to confirm): included items − income tax −
    /// personal insurance and housing-fund contributions.
    #[default]
    Contributions2017,
    /// The older 2008 "after tax" reading: included items − income tax only.
    TaxOnly2008,
}

impl BasePolicy {
    pub fn code(self) -> &'static str {
        match self {
            BasePolicy::Contributions2017 => "deduct_contributions_2017",
            BasePolicy::TaxOnly2008 => "tax_only_2008",
        }
    }

    pub fn parse(code: &str) -> Option<BasePolicy> {
        [BasePolicy::Contributions2017, BasePolicy::TaxOnly2008].into_iter().find(|p| p.code() == code.trim())
    }
}

/// FEE-03: the base of a payslip under `policy`.
pub fn payslip_base(payslip: &Payslip, policy: BasePolicy) -> Result<Fen, FeeError> {
    let included: Fen = payslip.items.iter().filter(|i| i.included).map(|i| i.amount).sum();
    let deducted = match policy {
        BasePolicy::Contributions2017 => payslip.income_tax + payslip.personal_contributions,
        BasePolicy::TaxOnly2008 => payslip.income_tax,
    };
    let base = included - deducted;
    if base < 0 {
        Err(FeeError::NegativeBase)
    } else if base > MAX_BASE {
        Err(FeeError::BaseTooLarge)
    } else {
        Ok(base)
    }
}

/// FEE-06 (中组发〔2008〕3号 art. 4): the average monthly net income of the previous quarter, rounded half-up
/// to the fen.
pub fn quarter_average(incomes: &[Fen]) -> Result<Fen, FeeError> {
    if incomes.len() != 3 {
        return Err(FeeError::QuarterNeedsThreeMonths);
    }
    let sum: Fen = incomes.iter().sum();
    Ok((2 * sum + 3) / 6)
}

/// Where the base of a question comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseSource {
    /// The base itself, already after the regulation's deductions.
    Amount(Fen),
    /// A payslip, worked out under a policy (FEE-03).
    Payslip(Payslip, BasePolicy),
    /// Three monthly net incomes of the previous quarter (FEE-06, self-employed).
    Quarter(Vec<Fen>),
}

/// A question to the fee rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeQuestion {
    pub category: Category,
    pub base: Option<BaseSource>,
    /// The amount the province set for farmers (FEE-05); 0.20 when not given.
    pub farmer_amount: Option<Fen>,
}

/// The monthly dues and how they were found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dues {
    pub category: Category,
    /// The base the rate was applied to (`None` for fixed amounts).
    pub base: Option<Fen>,
    /// The rate (`None` for fixed amounts).
    pub rate: Option<Rate>,
    /// The monthly amount after the cap.
    pub amount: Fen,
    /// The bracket would have asked for more than 1000 yuan (FEE-02).
    pub capped: bool,
    /// Remarks for the member (Chinese).
    pub notes: Vec<String>,
    pub citations: Vec<&'static str>,
}

/// FEE-01…06: the monthly dues of a member.
pub fn monthly_dues(q: &FeeQuestion) -> Result<Dues, FeeError> {
    let mut sources = Sources::default();
    let mut notes = Vec::new();
    let category = q.category;
    let base = match &q.base {
        None => None,
        Some(BaseSource::Amount(b)) => Some(*b),
        Some(BaseSource::Payslip(p, policy)) => {
            sources.add(cite::FEE_2008_ART1);
            if *policy == BasePolicy::Contributions2017 {
                sources.add_all(&[cite::FEE_2017_ITEM2, cite::FEE_2017_ITEM3]);
            }
            let b = payslip_base(p, *policy)?;
            notes.push(format!(
                "计算基数 = 计入项目{}元 − 个人所得税{}元{} = {}元",
                format_yuan(p.items.iter().filter(|i| i.included).map(|i| i.amount).sum()),
                format_yuan(p.income_tax),
                match policy {
                    BasePolicy::Contributions2017 =>
                        format!(" − 个人缴纳的社会保险费和住房公积金{}元", format_yuan(p.personal_contributions)),
                    BasePolicy::TaxOnly2008 => String::new(),
                },
                format_yuan(b)
            ));
            Some(b)
        }
        Some(BaseSource::Quarter(incomes)) => {
            let b = quarter_average(incomes)?;
            notes.push(format!("上一季度月平均纯收入{}元，作为本季度各月的计算基数", format_yuan(b)));
            Some(b)
        }
    };
    if base.is_some_and(|b| !(0..=MAX_BASE).contains(&b)) {
        return Err(FeeError::BaseTooLarge);
    }
    sources.add(category.citation());
    let (rate, uncapped, used_base) = match category.scheme() {
        Scheme::WageBrackets => {
            let b = base.ok_or(FeeError::BaseRequired)?;
            let r = wage_rate(b);
            (Some(r), r.of(b), Some(b))
        }
        Scheme::RetireeBrackets => {
            let b = base.ok_or(FeeError::BaseRequired)?;
            sources.add(cite::FEE_2017_RETIREE_BASE);
            let r = retiree_rate(b);
            (Some(r), r.of(b), Some(b))
        }
        Scheme::Fixed => {
            if base.is_some() {
                notes.push(format!("{}按固定数额交纳，与收入无关", category.label()));
            }
            let amount = if category == Category::Farmer {
                let a = q.farmer_amount.unwrap_or(FIXED_MONTHLY);
                if !(FIXED_MONTHLY..=FARMER_MAX).contains(&a) {
                    return Err(FeeError::FarmerAmountOutOfRange);
                }
                if q.farmer_amount.is_none() {
                    notes.push("农民党员每月0.20元至1.00元，具体数额由省级党委组织部门确定；未提供时按0.20元".into());
                }
                a
            } else {
                FIXED_MONTHLY
            };
            (None, amount, None)
        }
    };
    let capped = uncapped > MONTHLY_CAP;
    if capped {
        sources.add(cite::FEE_2017_ITEM1);
        notes.push(format!(
            "按比例应交{}元，每月党费一般不超过1000元，按1000.00元交纳；本人自愿多交的不限",
            format_yuan(uncapped)
        ));
    }
    Ok(Dues {
        category,
        base: used_base,
        rate,
        amount: uncapped.min(MONTHLY_CAP),
        capped,
        notes,
        citations: sources.into_vec(),
    })
}

/// FEE-02 (中组发〔2008〕3号 art. 11): a one-off voluntary payment of 1000 yuan or more is 大额党费, recorded apart
/// from monthly dues and remitted entirely to the centre.
pub fn is_large_dues(one_off: Fen) -> bool {
    one_off >= LARGE_DUES
}

/// FEE-07 (中组发〔2008〕3号): a probationary member's first due month is the month containing the day the
/// branch meeting admitted them (CONVENTION: that whole month is due).
pub fn first_due_month(admitted_on: Date) -> YearMonth {
    YearMonth::of(admitted_on)
}

/// FEE-07: when a change of income changes the dues.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WagePolicy {
    /// 组电明字〔2017〕5号: set at the start of each year, generally unchanged within it (the default).
    #[default]
    AnnualLock,
    /// 中组发〔2008〕3号 art. 10: from the month the new wage is first paid.
    FollowWage,
}

impl WagePolicy {
    pub fn citation(self) -> &'static str {
        match self {
            WagePolicy::AnnualLock => cite::FEE_2017_ANNUAL,
            WagePolicy::FollowWage => cite::FEE_2008_ART10,
        }
    }
}

/// FEE-07: the base that applies to `month`, given the member's base from each month it changed (in any
/// order). Under `AnnualLock` the base is the one in force in January of that year (or, for a member whose
/// first base came later in the year, that first base); under `FollowWage` the one in force that month.
pub fn base_for_month(policy: WagePolicy, changes: &[(YearMonth, Fen)], month: YearMonth) -> Option<Fen> {
    let in_force = |m: YearMonth| changes.iter().filter(|(from, _)| *from <= m).max_by_key(|(from, _)| *from);
    match policy {
        WagePolicy::FollowWage => in_force(month).map(|(_, b)| *b),
        WagePolicy::AnnualLock => {
            let january = YearMonth::new(month.year(), 1)?;
            in_force(january)
                .or_else(|| {
                    changes.iter().filter(|(from, _)| *from >= january && *from <= month).min_by_key(|(from, _)| *from)
                })
                .map(|(_, b)| *b)
        }
    }
}

/// FEE-08: a catch-up payment of more than six months is accepted but warned about.
pub fn catch_up_warning(months: u32) -> Option<Finding> {
    (months > CATCH_UP_MONTHS).then(|| {
        Finding::warning(
            "FEE-08",
            "catch_up_over_six_months",
            format!("补交超过6个月：补交党费一般不超过6个月，本次补交{months}个月，请党支部核实原因"),
            vec![cite::FEE_CATCH_UP],
        )
    })
}

/// FEE-08: a reduction or exemption is in force only when the branch studied it *and* the next-level
/// committee approved it.
pub fn reduction_effective(branch_decided: bool, upper_committee_approved: bool) -> bool {
    branch_decided && upper_committee_approved
}

/// The citation of FEE-08's reduction rule (for the ledger that records exemptions).
pub const REDUCTION_CITATION: &str = cite::FEE_2008_REDUCTION;
/// The citation of FEE-07's start rule.
pub const START_CITATION: &str = cite::FEE_2008_START;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn yuan(s: &str) -> Fen {
        parse_yuan(s).unwrap()
    }

    fn dues(category: Category, base: Option<&str>) -> Dues {
        monthly_dues(&FeeQuestion { category, base: base.map(|b| BaseSource::Amount(yuan(b))), farmer_amount: None })
            .unwrap()
    }

    #[test]
    fn fee_01_02_04_05_worked_examples() {
        use Category::*;
        let cases: &[(Category, Option<&str>, &str, Option<&str>)] = &[
            // FEE-01
            (Employed, Some("4200"), "42.00", Some("0.010")),
            (Employed, Some("2800"), "14.00", Some("0.005")),
            (Employed, Some("5100"), "76.50", Some("0.015")),
            (Employed, Some("4900"), "49.00", Some("0.010")),
            (Employed, Some("12000"), "240.00", Some("0.020")),
            (Employed, Some("9999.99"), "150.00", Some("0.015")),
            // FEE-02
            (Employed, Some("60000"), "1000.00", Some("0.020")),
            (Employed, Some("45000"), "900.00", Some("0.020")),
            // FEE-04
            (Retiree, Some("4800"), "24.00", Some("0.005")),
            (Retiree, Some("5200"), "52.00", Some("0.010")),
            (Retiree, Some("4600"), "23.00", Some("0.005")),
            // FEE-05: the category decides, not the income
            (Student, None, "0.20", None),
            (Student, Some("2000"), "0.20", None),
            (LaidOff, None, "0.20", None),
            (LowIncome, None, "0.20", None),
            (Relief, None, "0.20", None),
            (Farmer, None, "0.20", None),
            // FEE-06
            (AnnualSalary, Some("8000"), "120.00", Some("0.015")),
            (SelfEmployed, Some("9000"), "135.00", Some("0.015")),
        ];
        for (category, base, amount, rate) in cases {
            let d = dues(*category, *base);
            assert_eq!(format_yuan(d.amount), *amount, "{category:?} {base:?}");
            assert_eq!(d.rate.map(Rate::as_fraction).as_deref(), *rate, "{category:?} {base:?}");
            assert!(!d.citations.is_empty());
        }
    }

    #[test]
    fn bracket_boundaries_belong_to_the_lower_bracket() {
        let cases = [
            ("3000.00", "15.00"),
            ("3000.01", "30.00"),
            ("5000.00", "50.00"),
            ("5000.01", "75.00"),
            ("10000.00", "150.00"),
            ("10000.01", "200.00"),
            ("0", "0.00"),
            ("0.01", "0.00"),
            ("0.99", "0.00"),
            ("1.00", "0.01"), // 0.005 rounds half-up
        ];
        for (base, want) in cases {
            assert_eq!(format_yuan(dues(Category::Employed, Some(base)).amount), want, "{base}");
        }
        assert_eq!(format_yuan(dues(Category::Retiree, Some("5000.00")).amount), "25.00");
        assert_eq!(format_yuan(dues(Category::Retiree, Some("5000.01")).amount), "50.00");
    }

    #[test]
    fn the_cap_is_1000_yuan_and_cited() {
        let at = dues(Category::Employed, Some("50000.00"));
        assert_eq!((format_yuan(at.amount).as_str(), at.capped), ("1000.00", false));
        let over = dues(Category::Employed, Some("50000.50"));
        assert_eq!(format_yuan(over.amount), "1000.00");
        assert!(over.capped, "1000.01 before the cap");
        let big = dues(Category::Employed, Some("60000"));
        assert!(big.capped && big.citations.contains(&cite::FEE_2017_ITEM1));
        assert!(big.notes.iter().any(|n| n.contains("1200.00")));
        let retiree = dues(Category::Retiree, Some("200000"));
        assert_eq!((format_yuan(retiree.amount).as_str(), retiree.capped), ("1000.00", true));
    }

    #[test]
    fn fee_03_payslip_under_both_policies() {
        let item =
            |name: &str, amount: &str, included: bool| PayItem { name: name.into(), amount: yuan(amount), included };
        let slip = Payslip {
            items: vec![
                item("岗位工资", "4000", true),
                item("薪级工资", "1500", true),
                item("基础性绩效", "2000", true),
                item("奖励性绩效", "3000", false),
                item("住房补贴", "800", false),
            ],
            income_tax: yuan("150"),
            personal_contributions: yuan("1100"),
        };
        let ask = |policy| FeeQuestion {
            category: Category::Employed,
            base: Some(BaseSource::Payslip(slip.clone(), policy)),
            farmer_amount: None,
        };
        let t1 = monthly_dues(&ask(BasePolicy::Contributions2017)).unwrap();
        assert_eq!((t1.base, format_yuan(t1.amount).as_str()), (Some(yuan("6250")), "93.75"));
        assert!(t1.citations.contains(&cite::FEE_2017_ITEM2));
        let t2 = monthly_dues(&ask(BasePolicy::TaxOnly2008)).unwrap();
        assert_eq!((t2.base, format_yuan(t2.amount).as_str()), (Some(yuan("7350")), "110.25"));
        // FEE-04: a retiree's living allowance is not part of the base.
        let pension = Payslip {
            items: vec![item("基本养老金", "4600", true), item("生活补贴", "700", false)],
            ..Payslip::default()
        };
        let r = monthly_dues(&FeeQuestion {
            category: Category::Retiree,
            base: Some(BaseSource::Payslip(pension, BasePolicy::Contributions2017)),
            farmer_amount: None,
        })
        .unwrap();
        assert_eq!(format_yuan(r.amount), "23.00");
        let negative =
            Payslip { items: vec![item("岗位工资", "100", true)], income_tax: yuan("200"), ..Payslip::default() };
        assert_eq!(payslip_base(&negative, BasePolicy::TaxOnly2008), Err(FeeError::NegativeBase));
    }

    #[test]
    fn fee_06_self_employed_average_of_the_quarter() {
        let q = FeeQuestion {
            category: Category::SelfEmployed,
            base: Some(BaseSource::Quarter(vec![yuan("9000"), yuan("12000"), yuan("6000")])),
            farmer_amount: None,
        };
        let d = monthly_dues(&q).unwrap();
        assert_eq!((d.base, format_yuan(d.amount).as_str()), (Some(yuan("9000")), "135.00"));
        assert_eq!(quarter_average(&[1, 1, 0]), Ok(1), "2/3 fen rounds up");
        assert_eq!(quarter_average(&[1, 0, 0]), Ok(0), "1/3 fen rounds down");
        assert_eq!(quarter_average(&[1, 2]), Err(FeeError::QuarterNeedsThreeMonths));
    }

    #[test]
    fn missing_base_and_farmer_range_are_errors() {
        let q = |category, farmer_amount| FeeQuestion { category, base: None, farmer_amount };
        assert_eq!(monthly_dues(&q(Category::Employed, None)), Err(FeeError::BaseRequired));
        assert_eq!(monthly_dues(&q(Category::Retiree, None)), Err(FeeError::BaseRequired));
        assert_eq!(format_yuan(monthly_dues(&q(Category::Farmer, Some(50))).unwrap().amount), "0.50");
        assert_eq!(monthly_dues(&q(Category::Farmer, Some(101))), Err(FeeError::FarmerAmountOutOfRange));
        assert_eq!(monthly_dues(&q(Category::Farmer, Some(19))), Err(FeeError::FarmerAmountOutOfRange));
    }

    #[test]
    fn categories_round_trip_their_codes() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(c));
        }
        assert_eq!(Category::parse("farmer "), Some(Category::Farmer));
        assert_eq!(Category::parse("worker"), None);
    }

    #[test]
    fn money_parses_and_renders_exactly() {
        let ok = [
            ("4200", 420_000),
            ("9999.99", 999_999),
            ("0.5", 50),
            ("0", 0),
            (" 12.30 ", 1230),
            ("100000000", MAX_BASE),
        ];
        for (s, fen) in ok {
            assert_eq!(parse_yuan(s), Ok(fen), "{s}");
        }
        for bad in ["-1", "1.234", "abc", "", ".5", "5.", "1,000", "1e3", "100000000.01", "9999999999999"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
        assert_eq!(format_yuan(4200), "42.00");
        assert_eq!(format_yuan(20), "0.20");
        assert_eq!(format_yuan(-150), "-1.50");
    }

    #[test]
    fn fee_02_large_one_off_payment() {
        assert!(is_large_dues(yuan("1500")));
        assert!(is_large_dues(yuan("1000")));
        assert!(!is_large_dues(yuan("999.99")));
    }

    #[test]
    fn fee_07_first_month_and_policies() {
        // T1: admitted 2025-06-28 → June 2025 is due (0.20 for a student).
        assert_eq!(first_due_month(date!(2025 - 06 - 28)).to_string(), "2025-06");
        assert_eq!(format_yuan(dues(Category::Student, None).amount), "0.20");
        // T2: base 6000 from January 2026, 11000 from July.
        let m = |s: &str| YearMonth::parse(s).unwrap();
        let changes = [(m("2026-01"), yuan("6000")), (m("2026-07"), yuan("11000"))];
        let amount = |policy, month: &str| {
            let base = base_for_month(policy, &changes, m(month)).unwrap();
            format_yuan(dues(Category::Employed, Some(&format_yuan(base))).amount)
        };
        let cases = [
            (WagePolicy::AnnualLock, "2026-01", "90.00"),
            (WagePolicy::AnnualLock, "2026-07", "90.00"),
            (WagePolicy::AnnualLock, "2026-12", "90.00"),
            (WagePolicy::AnnualLock, "2027-01", "220.00"),
            (WagePolicy::FollowWage, "2026-06", "90.00"),
            (WagePolicy::FollowWage, "2026-07", "220.00"),
        ];
        for (policy, month, want) in cases {
            assert_eq!(amount(policy, month), want, "{policy:?} {month}");
        }
        // A member whose first base comes mid-year keeps it for the rest of that year.
        let late = [(m("2026-06"), yuan("4000")), (m("2026-09"), yuan("6000"))];
        assert_eq!(base_for_month(WagePolicy::AnnualLock, &late, m("2026-10")), Some(yuan("4000")));
        assert_eq!(base_for_month(WagePolicy::AnnualLock, &late, m("2026-05")), None);
        assert_eq!(WagePolicy::default(), WagePolicy::AnnualLock);
    }

    #[test]
    fn fee_08_catch_up_and_reductions() {
        let w = catch_up_warning(7).unwrap();
        assert!(w.message.starts_with("补交超过6个月") && w.message.contains('7'));
        assert_eq!(catch_up_warning(6), None);
        assert_eq!(catch_up_warning(4), None);
        assert!(!reduction_effective(true, false), "T4: branch decision without approval is not effective");
        assert!(reduction_effective(true, true));
        assert!(!reduction_effective(false, true));
    }
}
