//! The regulations of 党务管理 as pure functions: no I/O, no clock (the caller passes "today" as `as_of`),
//! no database. Each rule says where it comes from, and all the citations live in this file ([`cite`] and
//! [`RuleSet::cite`]), so an article renumbered by a revision is changed in one place and every answer of
//! the rules service can name its sources.
//!
//! Conventions (domain.md §0.3): month arithmetic is `kernel::dates::add_months` (C1: the same day N months
//! later, or that month's last day; an act *on* the deadline is on time; C2: "满N年" is N·12 months by C1),
//! ages are `kernel::dates::age_on` (C4), "以上/以内" include the boundary and "超过" excludes it (C3), money is
//! integer fen rounded half-up (C5), monthly obligations use calendar months judged once elapsed (C6), and
//! the engine only flags — it never decides anyone's membership (C7).
//!
//! Versions: the 2014 《中国共产党发展党员工作细则》 is the default everywhere. A revision reported for May 2026
//! (domain.md §0.2, UNVERIFIED) is modelled as [`RuleSet::Xize2026`]; it applies only when a caller passes
//! a [`RuleSelection`] with the date from which it is in force. Nothing turns it on today: a setting for the
//! product owner (once the text is confirmed) is a later issue, and until then every answer says which
//! version judged it.

pub mod development;
pub mod fee;
pub mod pipeline;
pub mod status;
pub mod transfer;

use std::fmt;

use serde::{Serialize, Serializer};
use time::{Date, Month};
use utoipa::ToSchema;

/// The sources, one constant per article, each with the regulation it quotes. Where domain.md marks an
/// article number UNVERIFIED the citation names the chapter or the subject instead of guessing a number.
pub mod cite {
    /// 《中国共产党章程》第一条: 年满十八岁的中国工人、农民、军人、知识分子和其他社会阶层的先进分子 … 可以申请加入
    /// 中国共产党 (DEV-01).
    pub const DANGZHANG_ART1: &str = "《中国共产党章程》第一条";
    /// 《中国共产党章程》第五条: 发展党员 … 必须有两名正式党员作介绍人 (DEV-07).
    pub const DANGZHANG_ART5: &str = "《中国共产党章程》第五条";
    /// 《中国共产党章程》第七条: 预备期为一年; 可以延长预备期，但不能超过一年; 党龄从预备期满转为正式党员之日算起
    /// (DEV-14, DEV-15, DEV-17).
    pub const DANGZHANG_ART7: &str = "《中国共产党章程》第七条";
    /// 《中国共产党章程》第九条: 党员没有正当理由，连续六个月不参加党的组织生活，或不交纳党费，或不做党所分配的工作，
    /// 就被认为是自行脱党 (FEE-08, TRF-04).
    pub const DANGZHANG_ART9: &str = "《中国共产党章程》第九条";

    /// 《关于中国共产党党费收缴、使用和管理的规定》(中组发〔2008〕3号, in force 2008-04-01) art. 1: the base is the
    /// relatively fixed, regular wage items after tax (FEE-03).
    pub const FEE_2008_ART1: &str = "中组发〔2008〕3号 第一条";
    /// 中组发〔2008〕3号 art. 2: wage earners pay 0.5% / 1% / 1.5% / 2% of the whole monthly base by bracket
    /// (≤3000, ≤5000, ≤10000, above) (FEE-01).
    pub const FEE_2008_ART2: &str = "中组发〔2008〕3号 第二条";
    /// 中组发〔2008〕3号 art. 3: annual-salary members — the base is the pay actually received that month (FEE-06).
    pub const FEE_2008_ART3: &str = "中组发〔2008〕3号 第三条";
    /// 中组发〔2008〕3号 art. 4: self-employed members without a monthly income — the base is the average monthly
    /// net income of the previous quarter (FEE-06).
    pub const FEE_2008_ART4: &str = "中组发〔2008〕3号 第四条";
    /// 中组发〔2008〕3号 art. 5: retirees pay 0.5% up to 5000 yuan of retirement pay, 1% above (FEE-04).
    pub const FEE_2008_ART5: &str = "中组发〔2008〕3号 第五条";
    /// 中组发〔2008〕3号 art. 6: students, laid-off and unemployed members, members living on relief or pensions and
    /// 低保 recipients pay 0.20 yuan a month; farmers 0.20–1 yuan as the province decides (FEE-05).
    pub const FEE_2008_ART6: &str = "中组发〔2008〕3号 第六条";
    /// 中组发〔2008〕3号 art. 10: when income changes, dues follow from the month the new wage is first paid
    /// (FEE-07, policy `follow_wage`).
    pub const FEE_2008_ART10: &str = "中组发〔2008〕3号 第十条";
    /// 中组发〔2008〕3号 art. 11: a one-off voluntary payment of 1000 yuan or more is 大额党费, remitted entirely to the
    /// centre (FEE-02).
    pub const FEE_2008_ART11: &str = "中组发〔2008〕3号 第十一条";
    /// 中组发〔2008〕3号: probationary members pay from the day the branch meeting admits them (FEE-07; article
    /// number not given in domain.md).
    pub const FEE_2008_START: &str = "中组发〔2008〕3号（预备党员自支部大会通过之日起交纳党费）";
    /// 中组发〔2008〕3号: members in real difficulty may pay less or nothing after the branch studies it and the
    /// next-level committee approves (FEE-08; article number not given in domain.md).
    pub const FEE_2008_REDUCTION: &str = "中组发〔2008〕3号（少交或免交党费须经党支部研究、上一级党委批准）";
    /// 《关于进一步规范党费工作的通知》(组电明字〔2017〕5号) item 1: monthly dues are generally not more than 1000
    /// yuan; members may pay more of their own will (FEE-02).
    pub const FEE_2017_ITEM1: &str = "组电明字〔2017〕5号 第一条";
    /// 组电明字〔2017〕5号 items 2–3: excluded from the base — income tax, the personal and unit parts of social
    /// insurance and the housing fund, annuities, reform allowances, incentive performance pay (FEE-03).
    pub const FEE_2017_ITEM2: &str = "组电明字〔2017〕5号 第二条";
    /// 组电明字〔2017〕5号 item 3 (see [`FEE_2017_ITEM2`]).
    pub const FEE_2017_ITEM3: &str = "组电明字〔2017〕5号 第三条";
    /// 组电明字〔2017〕5号: retirees' base is the basic retirement pay or basic pension, allowances excluded (FEE-04;
    /// VERIFIED (secondary), item number not given).
    pub const FEE_2017_RETIREE_BASE: &str = "组电明字〔2017〕5号（离退休党员以基本离退休费为计算基数）";
    /// 组电明字〔2017〕5号: the monthly amount is set at the start of each year and generally not changed within the
    /// year (FEE-07, policy `annual_lock`; item number not given).
    pub const FEE_2017_ANNUAL: &str = "组电明字〔2017〕5号（党费基数每年核定一次）";
    /// Catch-up payments generally cover no more than 6 months (旗帜网, 中央和国家机关工委 Q&A; VERIFIED (secondary)).
    pub const FEE_CATCH_UP: &str = "中央和国家机关工委《党费工作问答》（补交党费一般不超过6个月）";

    /// 《中国共产党党员教育管理工作条例》(2019) art. 24: lost contact ≥ 6 months → 停止党籍 by decision; removal
    /// 2 years later if still unreachable; studying abroad > 5 years → generally 停止党籍 (TRF-04).
    pub const JYGL_ART24: &str = "《中国共产党党员教育管理工作条例》第二十四条";
    /// 《中国共产党党员教育管理工作条例》art. 25: the relationship moves with the unit or residence, or after ≥ 6
    /// months at a relatively fixed place; the sender stays responsible until received (TRF-01).
    pub const JYGL_ART25: &str = "《中国共产党党员教育管理工作条例》第二十五条";
    /// 《中国共产党党员教育管理工作条例》art. 34: graduates' relationship kept by the university generally ≤ 2 years;
    /// members studying abroad keep contact at least once every half year (TRF-03).
    pub const JYGL_ART34: &str = "《中国共产党党员教育管理工作条例》第三十四条";
    /// 组通字〔2006〕45号: filling instructions of the three-part introduction letter (validity field, receipt)
    /// (TRF-02). The validity limits themselves are a CONVENTION of this project (default 30, at most 90 days).
    pub const ZUTONG_2006_45: &str = "组通字〔2006〕45号（党员组织关系介绍信填写说明）";
    /// 组通字〔2015〕33号: a letter that expired for objective reasons may be reissued within 6 months of the
    /// transfer out (TRF-03; VERIFIED (secondary)).
    pub const ZUTONG_2015_33: &str = "组通字〔2015〕33号";
    /// Older 中组部 rules on the 《流动党员活动证》 for shorter or non-fixed absences (TRF-01; UNVERIFIED as current).
    pub const MOBILE_CERTIFICATE: &str = "中共中央组织部《流动党员活动证》有关规定";
    /// 《中国共产党基层组织选举工作条例》(2020) art. 5: probationary members and members under 留党察看 have no vote
    /// (DEV-12).
    pub const ELECTION_ART5: &str = "《中国共产党基层组织选举工作条例》第五条";
}

/// An article of the 《中国共产党发展党员工作细则》 whose wording or number depends on the version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Xize {
    /// The order of the five stages (DEV-00): chapters 2 to 5.
    Process,
    /// 年满十八岁 (DEV-01).
    MinAge,
    /// Talk within one month of the application (DEV-02).
    Talk,
    /// Determining activists, filed with the superior committee (DEV-03).
    Activist,
    /// One or two cultivation contacts (DEV-04).
    Contacts,
    /// Half-yearly examination of activists (DEV-05).
    Examination,
    /// One year of cultivation before becoming a development object (DEV-06).
    Candidate,
    /// Two introducers (DEV-07).
    Introducers,
    /// Political review (DEV-08).
    PoliticalReview,
    /// Short intensive training (DEV-09).
    Training,
    /// Pre-review and the three-month departure rule (DEV-10).
    PreReview,
    /// Publicity (DEV-11).
    Publicity,
    /// The branch meeting's quorum and vote (DEV-12).
    AdmissionMeeting,
    /// The branch meeting within one month of pre-review (2026 only).
    MeetingAfterPreReview,
    /// Superior committee approval within 3 (at most 6) months (DEV-13).
    Approval,
    /// The oath within one month of approval (2026 only).
    Oath,
    /// Probation, its extension and outcomes (DEV-14, DEV-15).
    Probation,
    /// Approval of conversion within 3 months (DEV-16).
    ConversionApproval,
}

/// A version of the 《中国共产党发展党员工作细则》.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub enum RuleSet {
    /// 《中国共产党发展党员工作细则》(2014), verified against its text (domain.md §c.): the default.
    #[serde(rename = "2014")]
    Xize2014,
    /// The revision reported for May 2026 (domain.md §0.2): UNVERIFIED, off unless a caller selects it.
    #[serde(rename = "2026")]
    Xize2026,
}

/// The date the reported 2026 revision was issued according to the projects domain.md §0.2 found (2026-05-11).
/// Informational: the revision applies only from the date a caller passes in [`RuleSelection`].
pub const REVISION_2026_REPORTED_ISSUE: Date = time::macros::date!(2026 - 05 - 11);

impl RuleSet {
    /// The version's title as answers show it.
    pub fn title(self) -> &'static str {
        match self {
            RuleSet::Xize2014 => "《中国共产党发展党员工作细则》（2014）",
            RuleSet::Xize2026 => "《中国共产党发展党员工作细则》（2026年修订，文本待核实）",
        }
    }

    /// The citation of `article` in this version. 2014 numbers are those domain.md verified; where it marks a
    /// number UNVERIFIED the chapter is named. 2026 numbers are the ones the reported revision claims; the
    /// others are not known and say so.
    pub fn cite(self, article: Xize) -> &'static str {
        use Xize::*;
        match self {
            RuleSet::Xize2014 => match article {
                Process => "《中国共产党发展党员工作细则》（2014）第二章至第五章",
                MinAge => "《中国共产党发展党员工作细则》（2014）第五条",
                Talk => "《中国共产党发展党员工作细则》（2014）第七条",
                Activist => "《中国共产党发展党员工作细则》（2014）第八条",
                Contacts => "《中国共产党发展党员工作细则》（2014）第九条",
                Examination => "《中国共产党发展党员工作细则》（2014）第十一条",
                Candidate => "《中国共产党发展党员工作细则》（2014）第十三条",
                Introducers => "《中国共产党发展党员工作细则》（2014）第三章",
                PoliticalReview => "《中国共产党发展党员工作细则》（2014）第十六条",
                // domain.md: "17 or 18"; a copy of the text found while building this engine reads 第十七条.
                Training => "《中国共产党发展党员工作细则》（2014）第十七条",
                PreReview => "《中国共产党发展党员工作细则》（2014）第十九条",
                Publicity => "《中国共产党发展党员工作细则》（2014）未规定公示时长，按本单位规定",
                AdmissionMeeting => "《中国共产党发展党员工作细则》（2014）第二十条",
                MeetingAfterPreReview | Oath => "《中国共产党发展党员工作细则》（2014）未规定此时限",
                Approval => "《中国共产党发展党员工作细则》（2014）第四章",
                Probation => "《中国共产党发展党员工作细则》（2014）第三十二条",
                ConversionApproval => "《中国共产党发展党员工作细则》（2014）第五章",
            },
            RuleSet::Xize2026 => match article {
                Publicity => "《中国共产党发展党员工作细则》（2026年修订）第十三条",
                MeetingAfterPreReview => "《中国共产党发展党员工作细则》（2026年修订）第十九条",
                Approval => "《中国共产党发展党员工作细则》（2026年修订）第二十五条",
                Oath => "《中国共产党发展党员工作细则》（2026年修订）第二十九条",
                Probation => "《中国共产党发展党员工作细则》（2026年修订）第三十一条",
                ConversionApproval => "《中国共产党发展党员工作细则》（2026年修订）第三十三条",
                _ => "《中国共产党发展党员工作细则》（2026年修订，条款序号待核实）",
            },
        }
    }
}

/// Which version of the 细则 judges a case. The default knows only the 2014 rules; a caller that has the
/// product owner's go-ahead passes the date from which the 2026 revision is in force. A case is judged by
/// the version in force on the date that decides it (for recruitment: the branch admission meeting, or
/// "today" while there is none — so a candidate admitted in 2025 stays under the 2014 rules).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleSelection {
    /// From this date on the 2026 revision applies; `None` (the default) never.
    pub revision_2026_from: Option<Date>,
}

impl RuleSelection {
    /// Only the 2014 rules (the default).
    pub const DEFAULT: RuleSelection = RuleSelection { revision_2026_from: None };

    /// The 2026 revision for cases decided on or after `effective_from`.
    pub fn with_revision_2026_from(effective_from: Date) -> RuleSelection {
        RuleSelection { revision_2026_from: Some(effective_from) }
    }

    /// The version in force on `on`.
    pub fn in_force_on(&self, on: Date) -> RuleSet {
        match self.revision_2026_from {
            Some(from) if on >= from => RuleSet::Xize2026,
            _ => RuleSet::Xize2014,
        }
    }
}

/// How grave a finding is: a `violation` breaks a rule; a `warning` asks someone to look (a "generally"
/// rule, an allowed exception that must be documented).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Violation,
    Warning,
}

/// One thing a rule found: a stable code, the rule of domain.md it applies, a Chinese message with the
/// dates involved, and its sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Finding {
    /// Stable machine code, e.g. `talk_late`.
    #[schema(example = "talk_late")]
    pub code: &'static str,
    /// The rule of domain.md, e.g. `DEV-02`.
    #[schema(example = "DEV-02")]
    pub rule: &'static str,
    pub severity: Severity,
    #[schema(example = "应在2025-04-10前派人谈话，实际谈话日期2025-04-20，晚了10天")]
    pub message: String,
    #[schema(example = json!(["《中国共产党发展党员工作细则》（2014）第七条"]))]
    pub citations: Vec<&'static str>,
}

impl Finding {
    pub fn violation(rule: &'static str, code: &'static str, message: String, citations: Vec<&'static str>) -> Self {
        Finding { code, rule, severity: Severity::Violation, message, citations }
    }

    pub fn warning(rule: &'static str, code: &'static str, message: String, citations: Vec<&'static str>) -> Self {
        Finding { code, rule, severity: Severity::Warning, message, citations }
    }
}

/// Collects the citations of an answer once each, in the order they were first used.
#[derive(Clone, Debug, Default)]
pub struct Sources(Vec<&'static str>);

impl Sources {
    pub fn add(&mut self, citation: &'static str) {
        if !self.0.contains(&citation) {
            self.0.push(citation);
        }
    }

    pub fn add_all(&mut self, citations: &[&'static str]) {
        for c in citations {
            self.add(c);
        }
    }

    pub fn into_vec(self) -> Vec<&'static str> {
        self.0
    }
}

/// A calendar month (C6), e.g. the month dues are for. Shown as `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u8,
}

impl YearMonth {
    pub fn new(year: i32, month: u8) -> Option<YearMonth> {
        ((1..=12).contains(&month) && (1..=9999).contains(&year)).then_some(YearMonth { year, month })
    }

    /// The month containing `d`.
    pub fn of(d: Date) -> YearMonth {
        YearMonth { year: d.year(), month: u8::from(d.month()) }
    }

    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<YearMonth> {
        let (y, m) = s.trim().split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.chars().chain(m.chars()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        YearMonth::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u8 {
        self.month
    }

    /// Months counted from year 0, so that differences are month counts.
    fn index(self) -> i64 {
        i64::from(self.year) * 12 + i64::from(self.month) - 1
    }

    /// `self` plus `n` months (n may be negative); `None` outside years 1–9999.
    pub fn plus(self, n: i64) -> Option<YearMonth> {
        let i = self.index().checked_add(n)?;
        YearMonth::new(i32::try_from(i.div_euclid(12)).ok()?, u8::try_from(i.rem_euclid(12) + 1).ok()?)
    }

    /// How many months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: YearMonth) -> i64 {
        later.index() - self.index()
    }

    /// The first day of the month.
    pub fn first_day(self) -> Option<Date> {
        Date::from_calendar_date(self.year, Month::try_from(self.month).ok()?, 1).ok()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `YYYY-MM-DD`, the form every message shows.
pub(crate) fn iso(d: Date) -> String {
    kernel::dates::iso(d)
}

/// Whole days from `from` to `to`.
pub(crate) fn days_between(from: Date, to: Date) -> i64 {
    (to - from).whole_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn year_month_parses_counts_and_shows() {
        let march = YearMonth::parse("2025-03").unwrap();
        assert_eq!(march.to_string(), "2025-03");
        assert_eq!(march.months_until(YearMonth::parse("2025-10").unwrap()), 7);
        assert_eq!(march.plus(10).unwrap().to_string(), "2026-01");
        assert_eq!(march.plus(-3).unwrap().to_string(), "2024-12");
        assert_eq!(march.first_day(), Some(date!(2025 - 03 - 01)));
        assert_eq!(YearMonth::of(date!(2024 - 02 - 29)).to_string(), "2024-02");
        for bad in ["2025-3", "2025-13", "2025-00", "25-03", "2025/03", "2025-03-01", "abcd-ef", ""] {
            assert_eq!(YearMonth::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_2014_rules_judge_unless_the_revision_is_selected() {
        let on = date!(2026 - 09 - 01);
        assert_eq!(RuleSelection::DEFAULT.in_force_on(on), RuleSet::Xize2014);
        assert_eq!(RuleSelection::default().in_force_on(on), RuleSet::Xize2014);
        let sel = RuleSelection::with_revision_2026_from(REVISION_2026_REPORTED_ISSUE);
        assert_eq!(sel.in_force_on(date!(2026 - 05 - 10)), RuleSet::Xize2014);
        assert_eq!(sel.in_force_on(date!(2026 - 05 - 11)), RuleSet::Xize2026);
        assert_eq!(sel.in_force_on(date!(2025 - 05 - 20)), RuleSet::Xize2014, "a 2025 case stays under 2014");
    }

    #[test]
    fn article_numbers_follow_the_version() {
        assert_eq!(RuleSet::Xize2014.cite(Xize::Probation), "《中国共产党发展党员工作细则》（2014）第三十二条");
        assert_eq!(RuleSet::Xize2026.cite(Xize::Probation), "《中国共产党发展党员工作细则》（2026年修订）第三十一条");
        assert!(RuleSet::Xize2026.cite(Xize::Talk).contains("待核实"));
    }

    #[test]
    fn sources_keep_first_use_order_without_repeats() {
        let mut s = Sources::default();
        s.add_all(&["a", "b"]);
        s.add("a");
        s.add("c");
        assert_eq!(s.into_vec(), vec!["a", "b", "c"]);
    }
}
