//! Party dues (党费): fee profiles with their history, the append-only payments ledger (AT-29), exemptions and
//! reductions, arrears and the FEE-08 flag, the yearly ledger of a branch and its export.
//!
//! The amounts come from `crate::rules::fee` (FEE-01…07) and nothing here repeats a rate or a bracket. The month
//! grid ([`Facts::cell`]) is pure: profiles, reductions and payments in, one state per month out, so the worked
//! examples are tested without a database. Each ledger entry carries an HMAC over its fields under a key of the
//! key file (through `Platform::sign`), and [`verify`] recomputes them (`dangjian fees verify`); the database
//! refuses UPDATE and DELETE on the ledger, so a correction is a reversing entry.

use std::collections::{BTreeMap, HashMap};

use documents::sheet::{self, Cell, Format};
use kernel::dates::{iso, today};
use platform::model::{Org, Stage, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit;
use time::{Date, OffsetDateTime};

use super::{Error, Result, event};

/// The most payments one statement file imports.
pub const MAX_IMPORT_PAYMENTS: usize = 5_000;
use crate::model::FieldErrors;
use crate::model::fee::*;
use crate::model::transfer::{optional_text, required_text, text};
use crate::rules::fee::{self as rf, BasePolicy, BaseSource, Category, Dues, FeeQuestion, Fen, WagePolicy};
use crate::rules::status::{self as st, StatusCase};
use crate::rules::{Finding, YearMonth};
use crate::store::fee::{self as store, MemberRow, PaymentRow, ProfileRow, ReductionRow};

/// The most members one ledger shows.
pub const LEDGER_LIMIT: i64 = 2_000;
/// The most months one payment covers.
pub const MAX_MONTHS: i64 = 24;
/// How far ahead dues may be paid.
pub const AHEAD_MONTHS: i64 = 12;
/// The purpose the ledger's HMAC key is derived for (never used for anything else).
const MAC_PURPOSE: &str = "fee_payments.v1";

fn now() -> OffsetDateTime {
    // Whole microseconds: what PostgreSQL keeps, so the HMAC over the time verifies after a round trip.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
}

fn wage_policy(code: &str) -> WagePolicy {
    match WagePolicyCode::parse(code) {
        Some(WagePolicyCode::FollowWage) => WagePolicy::FollowWage,
        _ => WagePolicy::AnnualLock,
    }
}

// ---------------------------------------------------------------- the month grid (pure)

/// What is known about one member's dues.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub admitted_on: Option<Date>,
    /// Oldest first (effective month, then id).
    pub profiles: Vec<ProfileRow>,
    pub reductions: Vec<ReductionRow>,
    pub payments: Vec<PaymentRow>,
}

/// One month as the grid sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month {
    pub state: MonthState,
    pub due: Option<Fen>,
    pub payment: Option<i64>,
}

impl Facts {
    /// FEE-07: the month of admission as a probationary member.
    pub fn first_due_month(&self) -> Option<YearMonth> {
        self.admitted_on.map(rf::first_due_month)
    }

    /// The first month the ledger counts: the first due month, or the first profile's month when that is
    /// later (months before the platform kept the member's dues are not judged). `None` without a profile.
    pub fn dues_from(&self) -> Option<YearMonth> {
        let first_profile = self.profiles.iter().filter_map(|p| YearMonth::parse(&p.effective_from)).min()?;
        Some(self.first_due_month().map_or(first_profile, |f| f.max(first_profile)))
    }

    /// FEE-01…07: the dues of `month` by the profiles (the latest in force; FEE-07's policy of that profile
    /// decides whether a new base applies at once or from next January).
    pub fn dues(&self, month: YearMonth) -> Option<std::result::Result<Dues, rf::FeeError>> {
        let dated: Vec<(YearMonth, &ProfileRow)> =
            self.profiles.iter().filter_map(|p| Some((YearMonth::parse(&p.effective_from)?, p))).collect();
        let (_, profile) = dated.iter().filter(|(from, _)| *from <= month).max_by_key(|(from, p)| (*from, p.id))?;
        let category = Category::parse(&profile.category)?;
        let changes: Vec<(YearMonth, Fen)> = dated.iter().filter_map(|(from, p)| Some((*from, p.base_fen?))).collect();
        let base = rf::base_for_month(wage_policy(&profile.wage_policy), &changes, month).or(profile.base_fen);
        Some(rf::monthly_dues(&FeeQuestion {
            category,
            base: base.map(BaseSource::Amount),
            farmer_amount: profile.farmer_fen,
        }))
    }

    /// The exemption or reduction in force for `month` (FEE-08: branch decision and upper approval).
    pub fn reduction(&self, month: YearMonth) -> Option<&ReductionRow> {
        self.reductions.iter().rev().find(|r| {
            rf::reduction_effective(true, r.approved_on.is_some())
                && YearMonth::parse(&r.from_month).is_some_and(|f| f <= month)
                && YearMonth::parse(&r.to_month).is_some_and(|t| month <= t)
        })
    }

    /// The months paid by dues entries not reversed, with the entry that paid each.
    pub fn paid(&self) -> BTreeMap<YearMonth, i64> {
        let reversed: Vec<i64> = self.payments.iter().filter_map(|p| p.reverses_id).collect();
        let mut out = BTreeMap::new();
        for p in self.payments.iter().filter(|p| p.kind == PaymentKind::Dues.code() && !reversed.contains(&p.id)) {
            for m in months_of(p.from_month.as_deref(), p.to_month.as_deref()) {
                out.entry(m).or_insert(p.id);
            }
        }
        out
    }

    /// Where `month` stands on `as_of` (C6: a month is judged once it has fully elapsed).
    pub fn cell(&self, paid: &BTreeMap<YearMonth, i64>, month: YearMonth, as_of: Date) -> Month {
        let none = |state| Month { state, due: None, payment: None };
        let Some(from) = self.dues_from() else {
            return none(if self.first_due_month().is_some_and(|f| f <= month) {
                MonthState::NoProfile
            } else {
                MonthState::NotDue
            });
        };
        if month < from {
            return none(MonthState::NotDue);
        }
        let mut due = match self.dues(month) {
            Some(Ok(d)) => Some(d.amount),
            _ => None,
        };
        if let Some(r) = self.reduction(month) {
            if r.kind == ReductionKind::Exempt.code() {
                return Month { state: MonthState::Exempt, due: Some(0), payment: None };
            }
            due = r.monthly_fen.or(due);
        }
        if let Some(id) = paid.get(&month) {
            return Month { state: MonthState::Paid, due, payment: Some(*id) };
        }
        let current = YearMonth::of(as_of);
        let state = if due.is_none() {
            MonthState::NoProfile
        } else if month < current {
            MonthState::Unpaid
        } else if month == current {
            MonthState::Due
        } else {
            MonthState::Future
        };
        Month { state, due, payment: None }
    }

    /// The unpaid elapsed months with their dues, and the last month up to the last elapsed one that is not
    /// unpaid (paid, exempt, or before the dues began) — FEE-08 counts the months after it.
    pub fn arrears(&self, as_of: Date) -> (Vec<(YearMonth, Fen)>, Option<YearMonth>) {
        let Some(from) = self.dues_from() else {
            return (Vec::new(), None);
        };
        let paid = self.paid();
        let last_elapsed = YearMonth::of(as_of).plus(-1);
        let mut unpaid = Vec::new();
        let mut last_covered = from.plus(-1);
        let mut m = Some(from);
        while let (Some(month), Some(last)) = (m, last_elapsed) {
            if month > last {
                break;
            }
            let c = self.cell(&paid, month, as_of);
            if c.state == MonthState::Unpaid {
                unpaid.push((month, c.due.unwrap_or(0)));
            } else {
                last_covered = Some(month);
            }
            m = month.plus(1);
        }
        (unpaid, last_covered)
    }

    /// FEE-08: "连续6个月未交纳党费" as a case for the branch (C7), from rules::status.
    pub fn flags(&self, as_of: Date) -> Vec<Finding> {
        match self.arrears(as_of) {
            (_, Some(last)) => st::assess(&StatusCase { last_paid_month: Some(last), ..StatusCase::new(as_of) }).flags,
            _ => Vec::new(),
        }
    }

    /// The last month that is not unpaid, for the status card (`None` when the ledger knows no dues).
    pub fn last_covered(&self, as_of: Date) -> Option<YearMonth> {
        self.arrears(as_of).1
    }
}

/// The months `from..=to`.
fn months_of(from: Option<&str>, to: Option<&str>) -> Vec<YearMonth> {
    let (Some(from), Some(to)) = (from.and_then(YearMonth::parse), to.and_then(YearMonth::parse)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut m = Some(from);
    while let Some(month) = m {
        if month > to || out.len() as i64 > MAX_MONTHS * 10 {
            break;
        }
        out.push(month);
        m = month.plus(1);
    }
    out
}

fn cell_of(month: YearMonth, m: Month) -> MonthCell {
    MonthCell {
        month: month.to_string(),
        state: m.state,
        state_label: m.state.label(),
        due: m.due.map(rf::format_yuan),
        payment: m.payment,
    }
}

fn months_of_year(year: i32) -> Vec<YearMonth> {
    (1..=12).filter_map(|m| YearMonth::new(year, m)).collect()
}

// ---------------------------------------------------------------- the ledger's HMAC

/// The text an entry's HMAC covers: every field but the id (unknown before the insert; `payment_id` is unique
/// and names the entry), each length-prefixed so no two entries share a text.
fn mac_text(r: &PaymentRow) -> String {
    let fields = [
        r.person_id.to_string(),
        r.org_id.to_string(),
        r.kind.clone(),
        r.from_month.clone().unwrap_or_default(),
        r.to_month.clone().unwrap_or_default(),
        r.months.to_string(),
        r.amount_fen.to_string(),
        iso(r.paid_on),
        r.method.clone(),
        r.payment_id.clone(),
        r.reverses_id.map(|i| i.to_string()).unwrap_or_default(),
        r.remit_status.clone().unwrap_or_default(),
        r.warning.clone().unwrap_or_default(),
        r.note.clone().unwrap_or_default(),
        r.recorded_by.map(|i| i.to_string()).unwrap_or_default(),
        (r.recorded_at.unix_timestamp_nanos() / 1_000).to_string(),
    ];
    fields.iter().map(|f| format!("{}:{f};", f.len())).collect()
}

fn seal(platform: &Platform, r: &mut PaymentRow) {
    r.mac = platform.sign(MAC_PURPOSE, &mac_text(r));
}

/// Recomputes the HMAC of every ledger entry: the ids of those that no longer match their fields.
pub async fn verify(platform: &Platform) -> Result<LedgerCheck> {
    let mut check = LedgerCheck { entries: 0, broken: Vec::new() };
    let mut after = 0;
    loop {
        let page = store::payments_after(&platform.db, after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            check.entries += 1;
            if platform.sign(MAC_PURPOSE, &mac_text(r)) != r.mac {
                check.broken.push(r.id);
            }
        }
    }
    Ok(check)
}

// ---------------------------------------------------------------- the service

/// Dues over the platform's database and callers.
pub struct Fees<'a> {
    platform: &'a Platform,
}

impl<'a> Fees<'a> {
    pub fn new(platform: &'a Platform) -> Fees<'a> {
        Fees { platform }
    }

    fn db(&self) -> &kernel::Db {
        &self.platform.db
    }

    async fn record_refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<()> {
        super::refuse(self.platform, ctx, actor, action, target).await
    }

    /// The person, if the actor may read her dues (FeeRead on her organization, or herself).
    async fn readable(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<platform::model::PersonRow> {
        super::person_readable(self.platform, ctx, actor, id, Capability::FeeRead, action).await
    }

    /// The person, if the actor may record her dues; 404 when she may not even read them, 403 otherwise.
    async fn writable(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<platform::model::PersonRow> {
        super::person_writable(self.platform, ctx, actor, id, (Capability::FeeRead, Capability::FeeWrite), action).await
    }

    /// What is known about these people's dues.
    pub async fn facts(&self, people: &[(i64, Option<Date>)]) -> Result<HashMap<i64, Facts>> {
        let ids: Vec<i64> = people.iter().map(|(id, _)| *id).collect();
        let mut out: HashMap<i64, Facts> =
            people.iter().map(|(id, admitted)| (*id, Facts { admitted_on: *admitted, ..Facts::default() })).collect();
        for p in store::profiles_of(self.db(), &ids).await? {
            if let Some(f) = out.get_mut(&p.person_id) {
                f.profiles.push(p);
            }
        }
        for r in store::reductions_of(self.db(), &ids).await? {
            if let Some(f) = out.get_mut(&r.person_id) {
                f.reductions.push(r);
            }
        }
        for p in store::payments_of(self.db(), &ids).await? {
            if let Some(f) = out.get_mut(&p.person_id) {
                f.payments.push(p);
            }
        }
        Ok(out)
    }

    /// A member's dues for `year` (default: this year): the profile and its rule, the months, the payments,
    /// arrears and the FEE-08 flag.
    pub async fn account(&self, ctx: &Ctx, actor: &Actor, id: i64, year: Option<i32>) -> Result<FeeAccount> {
        let row = self.readable(ctx, actor, id, "fee.read").await?;
        self.account_of(actor, &row, year).await
    }

    async fn account_of(
        &self,
        actor: &Actor,
        row: &platform::model::PersonRow,
        year: Option<i32>,
    ) -> Result<FeeAccount> {
        let as_of = today();
        let year = year.filter(|y| (2008..=9998).contains(y)).unwrap_or(as_of.year());
        let f = self.facts(&[(row.id, row.admitted_on)]).await?.remove(&row.id).unwrap_or_default();
        let paid = f.paid();
        let cells: Vec<(YearMonth, Month)> =
            months_of_year(year).into_iter().map(|m| (m, f.cell(&paid, m, as_of))).collect();
        let (unpaid, last) = f.arrears(as_of);
        let consecutive = last.map_or(0, |l| st::unpaid_elapsed_months(l, as_of));
        let users = self.usernames(&f.payments).await?;
        let mut citations = vec![rf::START_CITATION, rf::REDUCTION_CITATION];
        let current = YearMonth::of(as_of);
        let monthly_due = match f.dues(current) {
            Some(Ok(d)) => {
                citations.extend(d.citations.iter().copied());
                Some(rf::format_yuan(d.amount))
            }
            _ => None,
        };
        let in_force = f
            .profiles
            .iter()
            .filter(|p| YearMonth::parse(&p.effective_from).is_some_and(|m| m <= current))
            .max_by_key(|p| (p.effective_from.clone(), p.id))
            .or(f.profiles.first());
        if let Some(p) = in_force {
            citations.push(wage_policy(&p.wage_policy).citation());
        }
        citations.dedup();
        let org_name = platform::store::get_org(self.db(), row.org_id).await?.map(|o| o.name).unwrap_or_default();
        Ok(FeeAccount {
            person: FeePerson {
                id: row.id,
                name: row.name.clone(),
                org_id: row.org_id,
                org_name,
                stage_label: Stage::parse(&row.stage).map(Stage::label).unwrap_or("").into(),
                admitted_on: row.admitted_on,
            },
            as_of,
            first_due_month: f.first_due_month().map(|m| m.to_string()),
            dues_from: f.dues_from().map(|m| m.to_string()),
            profile: in_force.map(profile_of),
            profiles: f.profiles.iter().rev().map(profile_of).collect(),
            monthly_due,
            year,
            year_due: rf::format_yuan(
                cells.iter().filter(|(_, c)| counts_as_due(c.state)).filter_map(|(_, c)| c.due).sum(),
            ),
            year_paid: rf::format_yuan(
                cells.iter().filter(|(_, c)| c.state == MonthState::Paid).filter_map(|(_, c)| c.due).sum(),
            ),
            months: cells.into_iter().map(|(m, c)| cell_of(m, c)).collect(),
            arrears: Arrears {
                amount: rf::format_yuan(unpaid.iter().map(|(_, fen)| fen).sum()),
                months: unpaid.iter().map(|(m, _)| m.to_string()).collect(),
                consecutive,
            },
            flags: f.flags(as_of),
            payments: f.payments.iter().rev().map(|p| payment_of(p, &users)).collect(),
            reductions: f.reductions.iter().rev().map(reduction_of).collect(),
            citations,
            can_write: actor.can(Capability::FeeWrite, &row.org_path),
        })
    }

    async fn usernames(&self, payments: &[PaymentRow]) -> Result<HashMap<i64, String>> {
        let mut ids: Vec<i64> = payments.iter().filter_map(|p| p.recorded_by).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(store::usernames(self.db(), &ids).await?.into_iter().collect())
    }

    /// Sets a member's fee profile from a month on (a change is a new row; the history stays).
    pub async fn set_profile(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ProfileInput) -> Result<FeeAccount> {
        let row = self.writable(ctx, actor, id, "fee.profile").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        if !matches!(Stage::parse(&row.stage), Some(Stage::Probationary | Stage::Full)) {
            errors.insert("category".into(), "只有预备党员和正式党员交纳党费".into());
        }
        let category = match text(&input.category).as_deref().map(Category::parse) {
            Some(Some(c)) => Some(c),
            Some(None) => {
                errors.insert("category".into(), "党费类别无效，请从列表中选择".into());
                None
            }
            None => {
                errors.insert("category".into(), "请选择党费类别".into());
                None
            }
        };
        let admitted = row.admitted_on.map(rf::first_due_month);
        let this_year = YearMonth::new(as_of.year(), 1);
        let default_from = match admitted {
            Some(a) if this_year.and_then(|j| j.plus(-12)).is_some_and(|last_jan| a >= last_jan) => Some(a),
            _ => this_year,
        };
        let from = match text(&input.effective_from) {
            None => default_from,
            Some(s) => match YearMonth::parse(&s) {
                None => {
                    errors.insert("effective_from".into(), "月份格式应为 YYYY-MM，例如 2026-01".into());
                    None
                }
                Some(m) => Some(m),
            },
        };
        if let (Some(m), Some(a)) = (from, admitted)
            && m < a
        {
            errors.insert(
                "effective_from".into(),
                format!("党费自支部大会接收为预备党员之月（{a}）起交纳，起始月份不能早于{a}（FEE-07）"),
            );
        }
        if from.is_some_and(|m| YearMonth::of(as_of).plus(AHEAD_MONTHS).is_some_and(|max| m > max)) {
            errors.insert("effective_from".into(), "起始月份最多为12个月以后".into());
        }
        let base_policy = match text(&input.base_policy) {
            None => BasePolicy::default(),
            Some(s) => BasePolicy::parse(&s).unwrap_or_else(|| {
                errors
                    .insert("base_policy".into(), "计算基数口径应为 deduct_contributions_2017 或 tax_only_2008".into());
                BasePolicy::default()
            }),
        };
        let wage = match text(&input.wage_policy) {
            None => WagePolicyCode::AnnualLock,
            Some(s) => WagePolicyCode::parse(&s).unwrap_or_else(|| {
                errors.insert(
                    "wage_policy".into(),
                    "调整方式应为 annual_lock（每年核定）或 follow_wage（随工资变动）".into(),
                );
                WagePolicyCode::AnnualLock
            }),
        };
        let mut money = |field: &str, v: &Option<String>| -> Option<Fen> {
            let s = text(v)?;
            match rf::parse_yuan(&s) {
                Ok(f) => Some(f),
                Err(m) => {
                    errors.insert(field.into(), m.into());
                    None
                }
            }
        };
        let base_amount = money("monthly_base", &input.monthly_base);
        let included = money("included_income", &input.included_income);
        let tax = money("income_tax", &input.income_tax);
        let contributions = money("personal_contributions", &input.personal_contributions);
        let farmer = money("farmer_amount", &input.farmer_amount);
        let note = optional_text(&mut errors, "note", &input.note);
        let payslip = included.map(|inc| (inc, tax.unwrap_or(0), contributions.unwrap_or(0)));
        if base_amount.is_some() && payslip.is_some() {
            errors.insert("monthly_base".into(), "计算基数和工资条明细只填一种".into());
        }
        let mut base = base_amount;
        if let Some((inc, tax, contrib)) = payslip {
            let slip = rf::Payslip {
                items: vec![rf::PayItem { name: "计入基数的工资项目".into(), amount: inc, included: true }],
                income_tax: tax,
                personal_contributions: contrib,
            };
            match rf::payslip_base(&slip, base_policy) {
                Ok(b) => base = Some(b),
                Err(e) => {
                    errors.insert("included_income".into(), e.to_string());
                }
            }
        }
        if let Some(c) = category {
            if c.scheme() == rf::Scheme::Fixed {
                base = None;
            }
            if c != Category::Farmer {
                farmer.inspect(|_| {
                    errors.insert("farmer_amount".into(), "只有农民党员填写省级党委确定的数额".into());
                });
            }
            if !errors.contains_key("monthly_base") && !errors.contains_key("included_income") {
                let q = FeeQuestion { category: c, base: base.map(BaseSource::Amount), farmer_amount: farmer };
                if let Err(e) = rf::monthly_dues(&q) {
                    let field =
                        if e == rf::FeeError::FarmerAmountOutOfRange { "farmer_amount" } else { "monthly_base" };
                    errors.insert(field.into(), e.to_string());
                }
            }
        }
        let (Some(category), Some(from), true) = (category, from, errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let from_text = from.to_string();
        let t = now();
        let mut tx = self.db().begin().await?;
        store::insert_profile(
            &mut tx,
            &store::ProfileWrite {
                person_id: id,
                effective_from: &from_text,
                category: category.code(),
                base_fen: base,
                base_policy: base_policy.code(),
                wage_policy: wage.code(),
                farmer_fen: if category == Category::Farmer { farmer } else { None },
                payslip,
                note: note.as_deref(),
                user_id: Some(actor.user_id).filter(|u| *u > 0),
                now: t,
            },
        )
        .await?;
        let detail = format!(
            "category:{} from:{from_text} base:{} policy:{}",
            category.code(),
            base.map(rf::format_yuan).unwrap_or_default(),
            wage.code()
        );
        audit::append(&mut tx, event(actor, ctx, "fee.profile", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.account_of(actor, &row, Some(from.year())).await
    }

    /// Records a payment, a voluntary one-off or a reversing entry. Answers the entry and whether it was
    /// already recorded under the same `payment_id` (then nothing is written: AT-29).
    pub async fn pay(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &PaymentInput) -> Result<(FeePayment, bool)> {
        let row = self.writable(ctx, actor, id, "fee.pay").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        let kind = match text(&input.kind) {
            None => PaymentKind::Dues,
            Some(s) => match PaymentKind::parse(&s) {
                Some(k @ (PaymentKind::Dues | PaymentKind::Voluntary)) => k,
                Some(PaymentKind::Large) => PaymentKind::Voluntary,
                _ => {
                    errors.insert("kind".into(), "类型应为 dues（按月党费）或 voluntary（自愿多交）".into());
                    PaymentKind::Dues
                }
            },
        };
        let kind = if input.reverses.is_some() { PaymentKind::Reversal } else { kind };
        let method = match text(&input.method).map(|m| PayMethod::parse(&m)) {
            Some(Some(m)) => Some(m),
            Some(None) => {
                errors.insert("method".into(), "交纳方式应为现金、转账或线上".into());
                None
            }
            None if kind == PaymentKind::Reversal => None,
            None => {
                errors.insert("method".into(), "请选择交纳方式：现金、转账或线上".into());
                None
            }
        };
        let paid_on = crate::model::transfer::past_date(&mut errors, "paid_on", &input.paid_on, as_of, as_of);
        let payment_id = match text(&input.payment_id) {
            Some(p)
                if p.chars().count() > 64 || !p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c)) =>
            {
                errors.insert("payment_id".into(), "交易流水号最多64位，只能包含字母、数字和 - _ . :".into());
                None
            }
            other => other,
        };
        let note = if kind == PaymentKind::Reversal {
            required_text(&mut errors, "note", &input.note, "冲正原因")
        } else {
            optional_text(&mut errors, "note", &input.note)
        };
        let amount = match (kind, text(&input.amount)) {
            (PaymentKind::Reversal, _) => None,
            (_, None) => {
                errors.insert("amount".into(), "请填写金额".into());
                None
            }
            (_, Some(s)) => match rf::parse_yuan(&s) {
                Ok(0) => {
                    errors.insert("amount".into(), "金额应大于0".into());
                    None
                }
                Ok(f) if f > 100_000_000 => {
                    errors.insert("amount".into(), "单笔金额不超过100万元，请核对".into());
                    None
                }
                Ok(f) => Some(f),
                Err(m) => {
                    errors.insert("amount".into(), m.into());
                    None
                }
            },
        };
        let (from, to) = if kind == PaymentKind::Dues {
            let from = match text(&input.from_month).map(|s| YearMonth::parse(&s)) {
                Some(Some(m)) => Some(m),
                Some(None) => {
                    errors.insert("from_month".into(), "月份格式应为 YYYY-MM，例如 2026-01".into());
                    None
                }
                None => {
                    errors.insert("from_month".into(), "请填写交纳的起始月份".into());
                    None
                }
            };
            let to = match text(&input.to_month).map(|s| YearMonth::parse(&s)) {
                Some(Some(m)) => Some(m),
                Some(None) => {
                    errors.insert("to_month".into(), "月份格式应为 YYYY-MM，例如 2026-03".into());
                    None
                }
                None => from,
            };
            if let (Some(f), Some(t)) = (from, to) {
                if t < f {
                    errors.insert("to_month".into(), "截止月份不能早于起始月份".into());
                } else if f.months_until(t) + 1 > MAX_MONTHS {
                    errors.insert("to_month".into(), format!("一次最多交纳{MAX_MONTHS}个月"));
                } else if YearMonth::of(as_of).plus(AHEAD_MONTHS).is_some_and(|max| t > max) {
                    errors.insert("to_month".into(), "最多预交12个月".into());
                }
            }
            (from, to)
        } else {
            (None, None)
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let user = Some(actor.user_id).filter(|u| *u > 0);
        let t = now();
        let mut tx = self.db().begin().await?;
        store::lock_person(&mut tx, id).await?;
        // AT-29: the same payment id again answers the entry recorded the first time and writes nothing.
        let reversal_id = input.reverses.map(|r| format!("reversal-{r}"));
        let given_id = payment_id.clone().or(reversal_id);
        if let Some(pid) = &given_id
            && let Some(existing) = store::payment_by_payment_id(&mut tx, pid).await?
        {
            drop(tx);
            return self.replayed(existing, id, kind, input.reverses, amount, (from, to)).await;
        }
        let (profiles, reductions) = store::profiles_and_reductions_tx(&mut tx, id).await?;
        let facts = Facts {
            admitted_on: row.admitted_on,
            profiles,
            reductions,
            payments: store::payments_of_tx(&mut tx, id).await?,
        };
        let mut entry = PaymentRow {
            id: 0,
            person_id: id,
            org_id: row.org_id,
            kind: kind.code().into(),
            from_month: from.map(|m| m.to_string()),
            to_month: to.map(|m| m.to_string()),
            months: 0,
            amount_fen: amount.unwrap_or(0),
            paid_on,
            method: method.map(PayMethod::code).unwrap_or_default().into(),
            payment_id: given_id.unwrap_or_else(|| generated_id(id, t)),
            reverses_id: None,
            remit_status: None,
            warning: None,
            note: note.clone(),
            recorded_by: user,
            recorded_at: t,
            mac: Vec::new(),
        };
        match kind {
            PaymentKind::Dues => {
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(Error::Invalid(errors));
                };
                let months = months_of(Some(&from.to_string()), Some(&to.to_string()));
                let paid = facts.paid();
                let mut expected: Fen = 0;
                for m in &months {
                    let c = facts.cell(&paid, *m, as_of);
                    let problem = match c.state {
                        MonthState::Paid => Some(format!("{m}已交纳党费，不能重复交纳")),
                        MonthState::Exempt => Some(format!("{m}已批准免交党费")),
                        MonthState::NotDue => Some(match facts.dues_from() {
                            Some(f) => format!("{m}无需交纳党费（党费自{f}起计）"),
                            None => format!("{m}无需交纳党费"),
                        }),
                        MonthState::NoProfile => Some("请先为该同志建立党费档案（类别和计算基数），再登记交纳".into()),
                        _ => None,
                    };
                    if let Some(p) = problem {
                        errors.insert("from_month".into(), p);
                        break;
                    }
                    expected += c.due.unwrap_or(0);
                }
                if errors.is_empty() && entry.amount_fen < expected {
                    errors.insert(
                        "amount".into(),
                        format!(
                            "金额少于应交党费：{}个月共应交{}元（{}至{}）",
                            months.len(),
                            rf::format_yuan(expected),
                            from,
                            to
                        ),
                    );
                }
                if !errors.is_empty() {
                    return Err(Error::Invalid(errors));
                }
                entry.months = months.len() as i64;
                // FEE-08: a catch-up of more than six elapsed months is accepted with a warning.
                let past = months.iter().filter(|m| **m < YearMonth::of(paid_on)).count();
                entry.warning = rf::catch_up_warning(u32::try_from(past).unwrap_or(u32::MAX)).map(|w| w.message);
            }
            PaymentKind::Voluntary if rf::is_large_dues(entry.amount_fen) => {
                // FEE-02: a one-off of 1000 yuan or more is 大额党费, remitted entirely to the centre.
                entry.kind = PaymentKind::Large.code().into();
                entry.remit_status = Some(REMIT_TO_CENTRE.into());
            }
            PaymentKind::Voluntary | PaymentKind::Large => {}
            PaymentKind::Reversal => {
                let target = input.reverses.unwrap_or_default();
                let Some(orig) = facts.payments.iter().find(|p| p.id == target) else {
                    return Err(crate::service::field("reverses", "要冲正的记录不存在或不属于该同志"));
                };
                if orig.kind == PaymentKind::Reversal.code() {
                    return Err(crate::service::field("reverses", "冲正记录本身不能再冲正"));
                }
                if facts.payments.iter().any(|p| p.reverses_id == Some(target)) {
                    return Err(Error::Conflict("该记录已冲正"));
                }
                entry.from_month = orig.from_month.clone();
                entry.to_month = orig.to_month.clone();
                entry.months = orig.months;
                entry.amount_fen = -orig.amount_fen;
                entry.method = orig.method.clone();
                entry.reverses_id = Some(target);
                entry.remit_status = orig.remit_status.clone();
            }
        }
        seal(self.platform, &mut entry);
        let Some(new_id) = store::insert_payment(&mut tx, &entry).await? else {
            // Recorded meanwhile under the same payment id (a concurrent replay): answer that entry.
            let existing = store::payment_by_payment_id(&mut tx, &entry.payment_id).await?.ok_or(Error::NotFound)?;
            drop(tx);
            return self.replayed(existing, id, kind, input.reverses, amount, (from, to)).await;
        };
        entry.id = new_id;
        // After the insert, inside the transaction: no month may now be paid twice.
        let after = Facts { payments: store::payments_of_tx(&mut tx, id).await?, ..Facts::default() };
        let mut seen = BTreeMap::new();
        let reversed: Vec<i64> = after.payments.iter().filter_map(|p| p.reverses_id).collect();
        for p in after.payments.iter().filter(|p| p.kind == PaymentKind::Dues.code() && !reversed.contains(&p.id)) {
            for m in months_of(p.from_month.as_deref(), p.to_month.as_deref()) {
                if seen.insert(m, p.id).is_some() {
                    return Err(Error::Conflict("该月份已有交纳记录，本笔未记录，请刷新后核对"));
                }
            }
        }
        let detail = format!(
            "entry:{new_id} kind:{} amount:{} months:{}..{} payment_id:{}",
            entry.kind,
            rf::format_yuan(entry.amount_fen),
            entry.from_month.as_deref().unwrap_or("-"),
            entry.to_month.as_deref().unwrap_or("-"),
            entry.payment_id
        );
        audit::append(&mut tx, event(actor, ctx, "fee.pay", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        let users = self.usernames(std::slice::from_ref(&entry)).await?;
        Ok((payment_of(&entry, &users), false))
    }

    /// The answer to a payment id recorded before: the same entry when the request says the same, a conflict
    /// when the id was used for something else.
    async fn replayed(
        &self,
        existing: PaymentRow,
        person_id: i64,
        kind: PaymentKind,
        reverses: Option<i64>,
        amount: Option<Fen>,
        (from, to): (Option<YearMonth>, Option<YearMonth>),
    ) -> Result<(FeePayment, bool)> {
        let same_kind = match kind {
            PaymentKind::Voluntary => matches!(existing.kind.as_str(), "voluntary" | "large"),
            k => existing.kind == k.code(),
        };
        let same = existing.person_id == person_id
            && same_kind
            && existing.reverses_id == reverses
            && (kind == PaymentKind::Reversal
                || (amount == Some(existing.amount_fen)
                    && from.map(|m| m.to_string()) == existing.from_month
                    && to.map(|m| m.to_string()) == existing.to_month));
        if !same {
            return Err(Error::Conflict("该交易流水号已用于另一笔党费记录"));
        }
        let users = self.usernames(std::slice::from_ref(&existing)).await?;
        Ok((payment_of(&existing, &users), true))
    }

    /// Records an exemption or reduction decided by the branch, or the upper committee's approval of one
    /// (FEE-08: in force only with both).
    pub async fn reduce(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ReductionInput) -> Result<FeeAccount> {
        let row = self.writable(ctx, actor, id, "fee.reduction").await?;
        let as_of = today();
        let mut errors = FieldErrors::new();
        let past = |errors: &mut FieldErrors, field: &str, v: &Option<String>| -> Option<Date> {
            text(v)?;
            Some(crate::model::transfer::past_date(errors, field, v, as_of, as_of))
        };
        let approved_by = optional_text(&mut errors, "approved_by", &input.approved_by);
        let approved_on = past(&mut errors, "approved_on", &input.approved_on);
        let user = Some(actor.user_id).filter(|u| *u > 0);
        if let Some(rid) = input.reduction_id {
            if approved_by.is_none() {
                errors.insert("approved_by".into(), "请填写批准的上一级党委".into());
            }
            if approved_on.is_none() && !errors.contains_key("approved_on") {
                errors.insert("approved_on".into(), "请填写批准日期".into());
            }
            let (Some(by), Some(on), true) = (approved_by, approved_on, errors.is_empty()) else {
                return Err(Error::Invalid(errors));
            };
            let mut tx = self.db().begin().await?;
            if !store::approve_reduction(&mut tx, rid, id, &by, on, user, now()).await? {
                return Err(Error::Conflict("该减免记录不存在、已批准，或批准日期早于党支部研究日期"));
            }
            let detail = format!("reduction:{rid} approved_on:{}", iso(on));
            audit::append(&mut tx, event(actor, ctx, "fee.reduction_approve", format!("person:{id}"), "ok", detail))
                .await?;
            tx.commit().await?;
            return self.account_of(actor, &row, None).await;
        }
        let kind = match text(&input.kind).map(|k| ReductionKind::parse(&k)) {
            Some(Some(k)) => Some(k),
            _ => {
                errors.insert("kind".into(), "请选择免交或少交".into());
                None
            }
        };
        let month =
            |errors: &mut FieldErrors, field: &str, v: &Option<String>| match text(v).map(|s| YearMonth::parse(&s)) {
                Some(Some(m)) => Some(m),
                _ => {
                    errors.insert(field.into(), "月份格式应为 YYYY-MM，例如 2026-01".into());
                    None
                }
            };
        let from = month(&mut errors, "from_month", &input.from_month);
        let to = month(&mut errors, "to_month", &input.to_month);
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            errors.insert("to_month".into(), "截止月份不能早于起始月份".into());
        }
        let monthly = match (kind, text(&input.monthly_amount)) {
            (Some(ReductionKind::Reduce), None) => {
                errors.insert("monthly_amount".into(), "少交时请填写每月交纳的数额".into());
                None
            }
            (Some(ReductionKind::Reduce), Some(s)) => match rf::parse_yuan(&s) {
                Ok(f) => Some(f),
                Err(m) => {
                    errors.insert("monthly_amount".into(), m.into());
                    None
                }
            },
            _ => None,
        };
        let reason = required_text(&mut errors, "reason", &input.reason, "减免原因");
        let decision = required_text(&mut errors, "branch_decision", &input.branch_decision, "党支部研究决定的会议");
        let decided_on = past(&mut errors, "branch_decided_on", &input.branch_decided_on);
        if decided_on.is_none() && !errors.contains_key("branch_decided_on") {
            errors.insert("branch_decided_on".into(), "请填写党支部研究决定的日期".into());
        }
        if approved_by.is_some() != approved_on.is_some() && !errors.contains_key("approved_on") {
            errors.insert("approved_on".into(), "上一级党委批准须同时填写批准的党委和日期".into());
        }
        if let (Some(a), Some(d)) = (approved_on, decided_on)
            && a < d
        {
            errors.insert("approved_on".into(), "批准日期不能早于党支部研究日期".into());
        }
        let (Some(kind), Some(from), Some(to), Some(reason), Some(decision), Some(decided_on), true) =
            (kind, from, to, reason, decision, decided_on, errors.is_empty())
        else {
            return Err(Error::Invalid(errors));
        };
        let (from_text, to_text) = (from.to_string(), to.to_string());
        let mut tx = self.db().begin().await?;
        let rid = store::insert_reduction(
            &mut tx,
            &store::ReductionWrite {
                person_id: id,
                kind: kind.code(),
                from_month: &from_text,
                to_month: &to_text,
                monthly_fen: monthly,
                reason: &reason,
                branch_decision: &decision,
                branch_decided_on: decided_on,
                approved_by: approved_by.as_deref(),
                approved_on,
                user_id: user,
                now: now(),
            },
        )
        .await?;
        let detail = format!(
            "reduction:{rid} {} {from_text}..{to_text} effective:{}",
            kind.code(),
            rf::reduction_effective(true, approved_on.is_some())
        );
        audit::append(&mut tx, event(actor, ctx, "fee.reduction", format!("person:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.account_of(actor, &row, Some(from.year())).await
    }

    /// The yearly ledger of an organization's subtree: members × 12 months, totals per month and year.
    pub async fn ledger(&self, ctx: &Ctx, actor: &Actor, org_id: i64, year: Option<i32>) -> Result<Ledger> {
        if !actor.can_somewhere(Capability::FeeRead) {
            self.record_refusal(ctx, actor, "fee.ledger", &format!("org:{org_id}")).await?;
            return Err(Error::NotFound);
        }
        let org = platform::store::get_org(self.db(), org_id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
        let ranges = actor.ranges_within(Capability::FeeRead, &org.path);
        if ranges.is_empty() {
            self.record_refusal(ctx, actor, "fee.ledger", &format!("org:{org_id}")).await?;
            return Err(Error::NotFound);
        }
        let as_of = today();
        let year = year.filter(|y| (2008..=9998).contains(y)).unwrap_or(as_of.year());
        let mut members: Vec<MemberRow> = Vec::new();
        for start in &ranges {
            members.extend(store::members(self.db(), start, &subtree_end(start), LEDGER_LIMIT + 1).await?);
        }
        let truncated = members.len() as i64 > LEDGER_LIMIT;
        members.truncate(LEDGER_LIMIT as usize);
        let facts = self.facts(&members.iter().map(|m| (m.id, m.admitted_on)).collect::<Vec<_>>()).await?;
        let months = months_of_year(year);
        let mut due_by_month = [0; 12];
        let mut paid_by_month = [0; 12];
        let (mut outstanding, mut voluntary, mut large) = (0, 0, 0);
        let mut rows = Vec::new();
        for m in members {
            let f = facts.get(&m.id).cloned().unwrap_or_default();
            let paid = f.paid();
            let cells: Vec<Month> = months.iter().map(|month| f.cell(&paid, *month, as_of)).collect();
            for (i, c) in cells.iter().enumerate() {
                if counts_as_due(c.state) {
                    due_by_month[i] += c.due.unwrap_or(0);
                }
                if c.state == MonthState::Paid {
                    paid_by_month[i] += c.due.unwrap_or(0);
                }
                if c.state == MonthState::Unpaid {
                    outstanding += c.due.unwrap_or(0);
                }
            }
            let reversed: Vec<i64> = f.payments.iter().filter_map(|p| p.reverses_id).collect();
            for p in f.payments.iter().filter(|p| p.paid_on.year() == year && !reversed.contains(&p.id)) {
                match PaymentKind::parse(&p.kind) {
                    Some(PaymentKind::Voluntary) => voluntary += p.amount_fen,
                    Some(PaymentKind::Large) => large += p.amount_fen,
                    _ => {}
                }
            }
            let latest = months
                .iter()
                .zip(&cells)
                .rev()
                .find(|(month, c)| **month <= YearMonth::of(as_of) && c.due.is_some())
                .or_else(|| months.iter().zip(&cells).find(|(_, c)| c.due.is_some()));
            let category = f
                .profiles
                .iter()
                .rev()
                .find(|p| YearMonth::parse(&p.effective_from).is_some_and(|e| e.year() <= year))
                .and_then(|p| Category::parse(&p.category))
                .map(|c| c.label().to_string());
            rows.push(LedgerRow {
                person_id: m.id,
                name: m.name,
                org_name: m.org_name,
                category_label: category,
                monthly_due: latest.and_then(|(_, c)| c.due).map(rf::format_yuan),
                year_due: rf::format_yuan(cells.iter().filter(|c| counts_as_due(c.state)).filter_map(|c| c.due).sum()),
                year_paid: rf::format_yuan(
                    cells.iter().filter(|c| c.state == MonthState::Paid).filter_map(|c| c.due).sum(),
                ),
                unpaid_months: cells.iter().filter(|c| c.state == MonthState::Unpaid).count() as i64,
                flagged: !f.flags(as_of).is_empty(),
                cells: months.iter().zip(cells).map(|(month, c)| cell_of(*month, c)).collect(),
            });
        }
        let flagged = rows.iter().filter(|r| r.flagged).count();
        Ok(Ledger {
            org_id: org.id,
            org_name: org.name.clone(),
            year,
            as_of,
            totals: months
                .iter()
                .enumerate()
                .map(|(i, m)| MonthTotal {
                    month: m.to_string(),
                    due: rf::format_yuan(due_by_month[i]),
                    paid: rf::format_yuan(paid_by_month[i]),
                })
                .collect(),
            year_due: rf::format_yuan(due_by_month.iter().sum()),
            year_paid: rf::format_yuan(paid_by_month.iter().sum()),
            year_outstanding: rf::format_yuan(outstanding),
            year_voluntary: rf::format_yuan(voluntary),
            year_large: rf::format_yuan(large),
            flagged,
            truncated,
            can_write: actor.can(Capability::FeeWrite, &org.path),
            rows,
        })
    }

    /// Records the payments of a statement file (xlsx or CSV in the template's columns: 交易流水号, 公民身份号码,
    /// 姓名, 金额, 交易日期, 党费月份起, 党费月份止) for people of `org_id`'s subtree, each row through [`Fees::pay`]:
    /// the same checks as a payment typed in, idempotent on the 交易流水号, so a replayed file records nothing
    /// twice. A refused row is reported with its reason and leaves the others recorded; fixing the file and
    /// importing it again records only what was missing. Audited as `fee.import` besides each payment's entry.
    pub async fn import_payments(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        bytes: &[u8],
    ) -> Result<PaymentImportReport> {
        let org = platform::store::get_org(self.db(), org_id).await?.map(Org::from_row);
        let Some(org) = org.filter(|o| actor.can(Capability::FeeRead, &o.path)) else {
            let e = event(actor, ctx, "fee.import", format!("org:{org_id}"), "denied", String::new());
            audit::append_alone(self.db(), e).await?;
            return Err(Error::NotFound);
        };
        if !actor.can(Capability::FeeWrite, &org.path) {
            let e = event(actor, ctx, "fee.import", format!("org:{org_id}"), "denied", String::new());
            audit::append_alone(self.db(), e).await?;
            return Err(Error::Forbidden);
        }
        // An uploaded statement: clamd's verdict first when it is configured (security.md AT-21).
        self.platform.scan_upload(ctx, actor, "file", bytes).await?;
        let rows = sheet::read(bytes, Format::sniff(bytes)).map_err(|e| super::field("file", e.to_string()))?;
        let Some((header_at, header)) =
            rows.iter().enumerate().find(|(_, r)| r.cells.iter().any(|c| c.contains("流水号")))
        else {
            return Err(super::field(
                "file",
                "未找到表头：请使用党费交纳记录模板（须有“交易流水号”“公民身份号码”“金额”等列）",
            ));
        };
        let col = |names: &[&str]| header.cells.iter().position(|c| names.iter().any(|n| c.trim().contains(n)));
        let (Some(c_ref), Some(c_id), Some(c_amount), Some(c_date), Some(c_from)) = (
            col(&["流水号", "交易单号"]),
            col(&["公民身份号码", "身份证"]),
            col(&["金额"]),
            col(&["交易日期", "交易时间", "交纳日期"]),
            col(&["月份起", "起始月份"]),
        ) else {
            return Err(super::field(
                "file",
                "表头缺少必需的列：交易流水号、公民身份号码、金额、交易日期、党费月份起（党费月份止、姓名可选）",
            ));
        };
        let (c_to, c_name) = (col(&["月份止", "截止月份"]), col(&["姓名"]));
        let data: Vec<_> =
            rows.iter().skip(header_at + 1).filter(|r| r.cells.iter().any(|c| !c.trim().is_empty())).collect();
        if data.len() > MAX_IMPORT_PAYMENTS {
            return Err(super::field("file", format!("一次最多导入{MAX_IMPORT_PAYMENTS}笔，请拆分后导入")));
        }
        let mut report = PaymentImportReport { rows: data.len(), ..PaymentImportReport::default() };
        for r in data {
            let cell = |i: Option<usize>| {
                i.and_then(|i| r.cells.get(i)).map(|c| c.trim().to_string()).filter(|c| !c.is_empty())
            };
            let refuse = |report: &mut PaymentImportReport, message: String| {
                report.errors.push(PaymentImportError { row: r.number, message });
            };
            let Some(person_id) = (match cell(Some(c_id)) {
                Some(raw) => self.platform.person_id_by_id_number(&raw).await?,
                None => None,
            }) else {
                refuse(&mut report, "公民身份号码为空、有误或未登记".into());
                continue;
            };
            let person = platform::store::get_person(self.db(), person_id).await?;
            let Some(person) = person.filter(|p| p.org_path.starts_with(&org.path)) else {
                refuse(&mut report, format!("该人员不在{}", org.name));
                continue;
            };
            if let Some(name) = cell(c_name).filter(|n| *n != person.name) {
                refuse(&mut report, format!("姓名“{name}”与该公民身份号码登记的姓名不一致"));
                continue;
            }
            let input = PaymentInput {
                kind: None,
                from_month: cell(Some(c_from)),
                to_month: cell(c_to),
                amount: cell(Some(c_amount)),
                // A statement's time (2026-03-15 10:21:33) is read as its day.
                paid_on: cell(Some(c_date)).map(|d| d.split([' ', 'T']).next().unwrap_or("").to_string()),
                method: Some("online".into()),
                payment_id: cell(Some(c_ref)),
                note: Some("导入交纳记录".into()),
                reverses: None,
            };
            if input.payment_id.is_none() {
                refuse(&mut report, "交易流水号为空".into());
                continue;
            }
            match self.pay(ctx, actor, person_id, &input).await {
                Ok((_, false)) => report.recorded += 1,
                Ok((_, true)) => report.already_recorded += 1,
                Err(Error::Invalid(fields)) => refuse(&mut report, fields.into_values().collect::<Vec<_>>().join("；")),
                Err(Error::Conflict(m)) => refuse(&mut report, m.into()),
                Err(Error::NotFound | Error::Forbidden) => refuse(&mut report, "该人员不在您的管理范围内".into()),
                Err(e) => return Err(e),
            }
        }
        let detail = format!(
            "rows:{} recorded:{} already:{} refused:{}",
            report.rows,
            report.recorded,
            report.already_recorded,
            report.errors.len()
        );
        audit::append_alone(self.db(), event(actor, ctx, "fee.import", format!("org:{org_id}"), "ok", detail)).await?;
        Ok(report)
    }

    /// The yearly ledger as a spreadsheet (names and amounts only; text cells neutralised against formula
    /// injection by `documents::sheet`, AT-18). Audited.
    pub async fn export(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        year: Option<i32>,
        format: Format,
    ) -> Result<platform::service::Export> {
        let l = self.ledger(ctx, actor, org_id, year).await?;
        let mut header: Vec<String> =
            vec!["序号".into(), "姓名".into(), "所在党组织".into(), "党费类别".into(), "月应交（元）".into()];
        header.extend((1..=12).map(|m| format!("{m}月")));
        header.extend([
            "全年应交（元）".to_string(),
            "全年已交（元）".into(),
            "欠交月数".into(),
            "连续6个月未交纳".into(),
        ]);
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for (i, r) in l.rows.iter().enumerate() {
            let mut row = vec![
                Cell::Number(i as i64 + 1),
                Cell::Text(r.name.clone()),
                Cell::Text(r.org_name.clone()),
                r.category_label.clone().into(),
                r.monthly_due.clone().into(),
            ];
            row.extend(r.cells.iter().map(|c| {
                Cell::Text(match (c.state, &c.due) {
                    (MonthState::Paid, Some(d)) => format!("已交 {d}"),
                    (MonthState::Unpaid, Some(d)) => format!("欠交 {d}"),
                    (MonthState::Due, Some(d)) => format!("应交 {d}"),
                    (s, _) => s.label().into(),
                })
            }));
            row.extend([
                Cell::Text(r.year_due.clone()),
                Cell::Text(r.year_paid.clone()),
                Cell::Number(r.unpaid_months),
                Cell::Text(if r.flagged { "是" } else { "" }.into()),
            ]);
            rows.push(row);
        }
        let mut totals =
            vec![Cell::Empty, Cell::Text("合计（应交/已交）".into()), Cell::Empty, Cell::Empty, Cell::Empty];
        totals.extend(l.totals.iter().map(|t| Cell::Text(format!("{}/{}", t.due, t.paid))));
        totals.extend([Cell::Text(l.year_due.clone()), Cell::Text(l.year_paid.clone()), Cell::Empty, Cell::Empty]);
        rows.push(totals);
        let bytes = sheet::write(format, &format!("{}年党费", l.year), &header_refs, &rows)?;
        let detail = format!("year:{} format:{} rows:{}", l.year, format.code(), l.rows.len());
        audit::append_alone(self.db(), event(actor, ctx, "fee.export", format!("org:{org_id}"), "ok", detail)).await?;
        Ok(platform::service::Export {
            file_name: format!(
                "党费台账-{}-{}年.{}",
                l.org_name.replace(|c: char| c.is_control() || "/\\:*?\"<>|".contains(c), "_"),
                l.year,
                format.code()
            ),
            format,
            bytes,
            rows: l.rows.len(),
        })
    }

    /// The last month not unpaid of each of these people, for the FEE-08 flag of the status card (people the
    /// ledger knows no dues of are left out).
    pub async fn last_covered(&self, ids: &[i64], as_of: Date) -> Result<HashMap<i64, YearMonth>> {
        let people = store::admitted_of(self.db(), ids).await?;
        Ok(self.facts(&people).await?.into_iter().filter_map(|(id, f)| Some((id, f.last_covered(as_of)?))).collect())
    }
}

/// Months whose dues count toward what was due: paid, unpaid, due now (not exempt, not future).
fn counts_as_due(s: MonthState) -> bool {
    matches!(s, MonthState::Paid | MonthState::Unpaid | MonthState::Due)
}

/// A payment id for an entry recorded without one (cash, a bank slip): unique by person and time.
fn generated_id(person_id: i64, t: OffsetDateTime) -> String {
    let mut r = [0u8; 4];
    let _ = security::random_bytes(&mut r);
    format!("manual-{person_id}-{}-{}", t.unix_timestamp_nanos() / 1_000, u32::from_be_bytes(r))
}

fn profile_of(p: &ProfileRow) -> FeeProfile {
    let category = Category::parse(&p.category);
    let dues = category.map(|c| {
        rf::monthly_dues(&FeeQuestion {
            category: c,
            base: p.base_fen.map(BaseSource::Amount),
            farmer_amount: p.farmer_fen,
        })
    });
    let wage = WagePolicyCode::parse(&p.wage_policy).unwrap_or(WagePolicyCode::AnnualLock);
    let (amount, rate, capped, notes, mut citations) = match dues {
        Some(Ok(d)) => (rf::format_yuan(d.amount), d.rate.map(rf::Rate::as_fraction), d.capped, d.notes, d.citations),
        _ => (String::new(), None, false, Vec::new(), Vec::new()),
    };
    citations.push(wage_policy(&p.wage_policy).citation());
    FeeProfile {
        id: p.id,
        effective_from: p.effective_from.clone(),
        category: p.category.clone(),
        category_label: category.map(|c| c.label().to_string()).unwrap_or_else(|| p.category.clone()),
        base: p.base_fen.map(rf::format_yuan),
        base_policy: p.base_policy.clone(),
        wage_policy: wage,
        wage_policy_label: wage.label(),
        farmer_amount: p.farmer_fen.map(rf::format_yuan),
        monthly_amount: amount,
        rate,
        capped,
        notes,
        citations,
        note: p.note.clone(),
        recorded_by: p.recorded_by.clone(),
        recorded_at: p.recorded_at,
    }
}

fn payment_of(p: &PaymentRow, users: &HashMap<i64, String>) -> FeePayment {
    let kind = PaymentKind::parse(&p.kind).unwrap_or(PaymentKind::Dues);
    let method = PayMethod::parse(&p.method).unwrap_or(PayMethod::Cash);
    FeePayment {
        id: p.id,
        person_id: p.person_id,
        kind,
        kind_label: kind.label(),
        from_month: p.from_month.clone(),
        to_month: p.to_month.clone(),
        months: p.months,
        amount: rf::format_yuan(p.amount_fen),
        paid_on: p.paid_on,
        method,
        method_label: method.label(),
        payment_id: p.payment_id.clone(),
        reverses_id: p.reverses_id,
        remit_label: p.remit_status.as_deref().filter(|s| *s == REMIT_TO_CENTRE).map(|_| REMIT_LABEL),
        remit_status: p.remit_status.clone(),
        warning: p.warning.clone(),
        note: p.note.clone(),
        recorded_by: p.recorded_by.and_then(|u| users.get(&u).cloned()),
    }
}

fn reduction_of(r: &ReductionRow) -> FeeReduction {
    let kind = ReductionKind::parse(&r.kind).unwrap_or(ReductionKind::Exempt);
    let effective = rf::reduction_effective(true, r.approved_on.is_some());
    FeeReduction {
        id: r.id,
        kind,
        kind_label: kind.label(),
        from_month: r.from_month.clone(),
        to_month: r.to_month.clone(),
        monthly_amount: r.monthly_fen.map(rf::format_yuan),
        reason: r.reason.clone(),
        branch_decision: r.branch_decision.clone(),
        branch_decided_on: r.branch_decided_on,
        approved_by: r.approved_by.clone(),
        approved_on: r.approved_on,
        effective,
        effective_label: if effective { "已生效" } else { "待上一级党委批准，未生效" },
        citations: vec![rf::REDUCTION_CITATION],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn ym(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    fn profile(id: i64, from: &str, category: &str, base: Option<&str>, policy: &str) -> ProfileRow {
        ProfileRow {
            id,
            person_id: 1,
            effective_from: from.into(),
            category: category.into(),
            base_fen: base.map(|b| rf::parse_yuan(b).unwrap()),
            base_policy: "deduct_contributions_2017".into(),
            wage_policy: policy.into(),
            farmer_fen: None,
            note: None,
            recorded_by: None,
            recorded_at: datetime!(2026-01-05 08:00 UTC),
        }
    }

    fn dues_payment(id: i64, from: &str, to: &str) -> PaymentRow {
        PaymentRow {
            id,
            person_id: 1,
            org_id: 1,
            kind: "dues".into(),
            from_month: Some(from.into()),
            to_month: Some(to.into()),
            months: 1,
            amount_fen: 100,
            paid_on: date!(2025 - 04 - 01),
            method: "cash".into(),
            payment_id: format!("p{id}"),
            reverses_id: None,
            remit_status: None,
            warning: None,
            note: None,
            recorded_by: None,
            recorded_at: datetime!(2025-04-01 08:00 UTC),
            mac: Vec::new(),
        }
    }

    fn state(f: &Facts, month: &str, as_of: Date) -> (MonthState, Option<String>) {
        let c = f.cell(&f.paid(), ym(month), as_of);
        (c.state, c.due.map(rf::format_yuan))
    }

    #[test]
    fn fee_07_t1_the_month_of_admission_is_due() {
        let f = Facts {
            admitted_on: Some(date!(2025 - 06 - 28)),
            profiles: vec![profile(1, "2025-06", "student", None, "annual_lock")],
            ..Facts::default()
        };
        assert_eq!(f.dues_from(), Some(ym("2025-06")));
        assert_eq!(state(&f, "2025-05", date!(2025 - 07 - 10)).0, MonthState::NotDue);
        assert_eq!(state(&f, "2025-06", date!(2025 - 07 - 10)), (MonthState::Unpaid, Some("0.20".into())));
        assert_eq!(state(&f, "2025-07", date!(2025 - 07 - 10)), (MonthState::Due, Some("0.20".into())));
    }

    #[test]
    fn fee_07_t2_annual_lock_and_follow_wage_through_the_ledger() {
        let lock = Facts {
            profiles: vec![
                profile(1, "2026-01", "employed", Some("6000"), "annual_lock"),
                profile(2, "2026-07", "employed", Some("11000"), "annual_lock"),
            ],
            ..Facts::default()
        };
        let as_of = date!(2027 - 03 - 01);
        for (m, want) in [("2026-01", "90.00"), ("2026-07", "90.00"), ("2026-12", "90.00"), ("2027-01", "220.00")] {
            assert_eq!(state(&lock, m, as_of).1.as_deref(), Some(want), "annual_lock {m}");
        }
        let follow = Facts {
            profiles: vec![
                profile(1, "2026-01", "employed", Some("6000"), "follow_wage"),
                profile(2, "2026-07", "employed", Some("11000"), "follow_wage"),
            ],
            ..Facts::default()
        };
        assert_eq!(state(&follow, "2026-06", as_of).1.as_deref(), Some("90.00"));
        assert_eq!(state(&follow, "2026-07", as_of).1.as_deref(), Some("220.00"));
    }

    #[test]
    fn fee_08_t1_t2_six_consecutive_unpaid_months_flag_the_branch() {
        let f = Facts {
            profiles: vec![profile(1, "2025-01", "student", None, "annual_lock")],
            payments: vec![dues_payment(1, "2025-01", "2025-03")],
            ..Facts::default()
        };
        let codes = |as_of| f.flags(as_of).iter().map(|x| x.code).collect::<Vec<_>>();
        // T1: last paid 2025-03; on 2025-10-01 Apr–Sep are unpaid = 6 → flagged.
        assert_eq!(codes(date!(2025 - 10 - 01)), vec!["fee_arrears_six_months"]);
        assert!(f.flags(date!(2025 - 10 - 01))[0].message.contains("连续6个月未交纳党费"));
        let (unpaid, last) = f.arrears(date!(2025 - 10 - 01));
        assert_eq!((unpaid.len(), last), (6, Some(ym("2025-03"))));
        // T2: on 2025-09-15 Apr–Aug = 5 → no flag.
        assert!(codes(date!(2025 - 09 - 15)).is_empty());
        // A reversed payment leaves its months unpaid again.
        let mut reversed = f.clone();
        let mut rev = dues_payment(2, "2025-01", "2025-03");
        rev.kind = "reversal".into();
        rev.reverses_id = Some(1);
        reversed.payments.push(rev);
        assert_eq!(reversed.arrears(date!(2025 - 09 - 15)).0.len(), 8);
    }

    #[test]
    fn fee_08_t4_an_exemption_needs_the_upper_committees_approval() {
        let mut f = Facts {
            profiles: vec![profile(1, "2025-01", "employed", Some("4200"), "annual_lock")],
            reductions: vec![ReductionRow {
                id: 1,
                person_id: 1,
                kind: "exempt".into(),
                from_month: "2025-01".into(),
                to_month: "2025-12".into(),
                monthly_fen: None,
                reason: "困难".into(),
                branch_decision: "支委会".into(),
                branch_decided_on: date!(2025 - 01 - 05),
                approved_by: None,
                approved_on: None,
            }],
            ..Facts::default()
        };
        let as_of = date!(2025 - 08 - 01);
        assert_eq!(
            state(&f, "2025-03", as_of),
            (MonthState::Unpaid, Some("42.00".into())),
            "branch only: not in force"
        );
        f.reductions[0].approved_by = Some("学院党委".into());
        f.reductions[0].approved_on = Some(date!(2025 - 01 - 20));
        assert_eq!(state(&f, "2025-03", as_of).0, MonthState::Exempt);
        assert!(f.arrears(as_of).0.is_empty());
        f.reductions[0].kind = "reduce".into();
        f.reductions[0].monthly_fen = Some(1000);
        assert_eq!(state(&f, "2025-03", as_of), (MonthState::Unpaid, Some("10.00".into())));
    }

    #[test]
    fn no_profile_no_dues_and_the_mac_text_covers_every_field() {
        let f = Facts { admitted_on: Some(date!(2025 - 06 - 28)), ..Facts::default() };
        assert_eq!(state(&f, "2025-07", date!(2025 - 08 - 01)).0, MonthState::NoProfile);
        assert!(f.flags(date!(2026 - 08 - 01)).is_empty(), "no dues known: no flag");
        let a = dues_payment(1, "2025-01", "2025-03");
        let mut b = a.clone();
        b.amount_fen += 1;
        assert_ne!(mac_text(&a), mac_text(&b));
        let mut c = a.clone();
        c.note = Some("x".into());
        assert_ne!(mac_text(&a), mac_text(&c));
        assert_eq!(months_of(Some("2025-11"), Some("2026-02")).len(), 4);
    }
}
