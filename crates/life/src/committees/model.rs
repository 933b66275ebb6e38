//! Committees, terms and elections as the API takes and shows them. Inputs arrive as optional items so that
//! every bad one gets its own Chinese message at once; the rules themselves (sizes, terms, postponements,
//! quorum and majority) are [`crate::rules`]'s, never repeated here.

use std::collections::BTreeSet;

use platform::code_list;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::model::{FieldErrors, parse_date};
use crate::rules::{Finding, TermStatus};

/// The most members one term lists (a branch committee is ≤ 7; a university committee a few dozen).
pub const MEMBERS_MAX: usize = 60;
/// The most candidates on one ballot.
pub const CANDIDATES_MAX: usize = 100;
/// The most people entitled to attend one election (a university's congress of delegates is far smaller).
pub const ENTITLED_MAX: u32 = 100_000;
/// The longest reason and approving body of a postponement.
pub const TEXT_MAX: usize = 500;
/// The most terms and elections one committee page lists (newest first).
pub const HISTORY_MAX: i64 = 50;

code_list! {
    /// A post on a committee (ORG-09: secretary, organizing, publicity and discipline members; a deputy if
    /// needed).
    Post {
        Secretary = "secretary", "书记";
        Deputy = "deputy", "副书记";
        Organizing = "organizing", "组织委员";
        Publicity = "publicity", "宣传委员";
        Discipline = "discipline", "纪检委员";
        Member = "member", "委员";
    }
}

/// One member of a term and her post.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct MemberInput {
    pub person_id: Option<i64>,
    /// secretary, deputy, organizing, publicity, discipline, member (default member).
    #[schema(example = "secretary")]
    pub post: Option<String>,
}

/// A term to record as it stands (a committee elected before the platform was used): the election day, the
/// term in years (3 unless given; 3 to 5 allowed) and the members with their posts.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct TermInput {
    #[schema(example = "2023-06-30")]
    pub elected_on: Option<String>,
    #[schema(example = 3)]
    pub term_years: Option<u32>,
    pub members: Option<Vec<MemberInput>>,
}

/// An approved delay or advance of the next election (延期/提前换届).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct PostponeInput {
    /// The new election day.
    #[schema(example = "2027-03-31")]
    pub postpone_to: Option<String>,
    #[schema(example = "支部书记援疆，待返校后换届")]
    pub reason: Option<String>,
    /// The higher organization that approved it, or its document number.
    #[schema(example = "马克思主义学院党委 院党委〔2026〕12号")]
    pub approved_by: Option<String>,
    #[schema(example = "2026-05-20")]
    pub approved_on: Option<String>,
}

/// One candidate's count.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct CandidateInput {
    pub person_id: Option<i64>,
    /// Yes votes.
    pub votes: Option<u32>,
    /// The post she takes if elected (the committee's own vote for secretary and deputy, recorded with it).
    pub post: Option<String>,
}

/// An election as counted (换届选举).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ElectionInput {
    #[schema(example = "2026-06-28")]
    pub held_on: Option<String>,
    /// Those entitled to attend (应到会人数).
    #[schema(example = 40)]
    pub entitled: Option<u32>,
    /// Those present (实到会人数).
    #[schema(example = 36)]
    pub present: Option<u32>,
    /// Seats to fill (应选人数).
    #[schema(example = 5)]
    pub seats: Option<u32>,
    /// The new term in years (3 unless given).
    pub term_years: Option<u32>,
    pub candidates: Option<Vec<CandidateInput>>,
}

/// A member of a term as checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidMember {
    pub person_id: i64,
    pub post: Post,
}

#[derive(Clone, Debug)]
pub struct ValidTerm {
    pub elected_on: Date,
    pub term_years: Option<u32>,
    pub members: Vec<ValidMember>,
}

#[derive(Clone, Debug)]
pub struct ValidPostpone {
    pub postpone_to: Date,
    pub reason: String,
    pub approved_by: String,
    pub approved_on: Date,
}

#[derive(Clone, Debug)]
pub struct ValidCandidate {
    pub person_id: i64,
    pub votes: u32,
    pub post: Option<Post>,
}

#[derive(Clone, Debug)]
pub struct ValidElection {
    pub held_on: Date,
    pub entitled: u32,
    pub present: u32,
    pub seats: u32,
    pub term_years: Option<u32>,
    pub candidates: Vec<ValidCandidate>,
}

fn date_item(e: &mut FieldErrors, name: &str, v: &Option<String>, missing: &str, today: Date) -> Option<Date> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            e.insert(name.into(), missing.into());
            None
        }
        Some(s) => match parse_date(s) {
            Ok(d) if d > today => {
                e.insert(name.into(), "日期不能晚于今天".into());
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                e.insert(name.into(), m.into());
                None
            }
        },
    }
}

fn text_item(e: &mut FieldErrors, name: &str, v: &Option<String>, missing: &str) -> String {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            e.insert(name.into(), missing.into());
            String::new()
        }
        Some(s) if s.chars().count() > TEXT_MAX => {
            e.insert(name.into(), format!("不超过{TEXT_MAX}字"));
            String::new()
        }
        Some(s) => s.to_string(),
    }
}

fn post_item(e: &mut FieldErrors, key: String, v: &Option<String>) -> Option<Post> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => match Post::parse(p) {
            Some(p) => Some(p),
            None => {
                let all: Vec<&str> = Post::ALL.iter().map(|p| p.label()).collect();
                e.insert(key, format!("职务应为：{}", all.join("、")));
                None
            }
        },
    }
}

/// At most one secretary among the posts.
fn one_secretary<'a>(e: &mut FieldErrors, name: &str, posts: impl Iterator<Item = &'a Post>) {
    if posts.filter(|p| **p == Post::Secretary).count() > 1 {
        e.insert(name.into(), "一届只能有一名书记".into());
    }
}

/// Checks a term; every bad item at once. `today` bounds the election day.
pub fn validate_term(input: &TermInput, today: Date) -> Result<ValidTerm, FieldErrors> {
    let mut e = FieldErrors::new();
    let elected_on = date_item(&mut e, "elected_on", &input.elected_on, "请填写选举日期", today);
    let mut members = Vec::new();
    let mut seen = BTreeSet::new();
    let list = input.members.as_deref().unwrap_or(&[]);
    if list.is_empty() {
        e.insert("members".into(), "请填写本届委员（至少书记1名）".into());
    } else if list.len() > MEMBERS_MAX {
        e.insert("members".into(), format!("一届最多登记{MEMBERS_MAX}名委员"));
    }
    for (i, m) in list.iter().enumerate().take(MEMBERS_MAX) {
        let post = post_item(&mut e, format!("members.{i}.post"), &m.post).unwrap_or(Post::Member);
        match m.person_id {
            None => {
                e.insert(format!("members.{i}.person_id"), "请选择人员".into());
            }
            Some(p) if !seen.insert(p) => {
                e.insert(format!("members.{i}.person_id"), "同一人不能重复登记".into());
            }
            Some(p) => members.push(ValidMember { person_id: p, post }),
        }
    }
    one_secretary(&mut e, "members", members.iter().map(|m| &m.post));
    if !list.is_empty() && !members.iter().any(|m| m.post == Post::Secretary) && !e.contains_key("members") {
        e.insert("members".into(), "请指定本届书记".into());
    }
    match (elected_on, e.is_empty()) {
        (Some(elected_on), true) => Ok(ValidTerm { elected_on, term_years: input.term_years, members }),
        _ => Err(e),
    }
}

/// Checks a postponement's items (the one-year limit is ORG-10's, checked by the service with the term).
pub fn validate_postpone(input: &PostponeInput, today: Date) -> Result<ValidPostpone, FieldErrors> {
    let mut e = FieldErrors::new();
    let postpone_to = match input.postpone_to.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            e.insert("postpone_to".into(), "请填写批准后的换届日期".into());
            None
        }
        Some(s) => parse_date(s).map_err(|m| e.insert("postpone_to".into(), m.into())).ok(),
    };
    let reason = text_item(&mut e, "reason", &input.reason, "请填写延期（提前）换届的原因");
    let approved_by = text_item(&mut e, "approved_by", &input.approved_by, "请填写批准的上级党组织或文号");
    let approved_on = date_item(&mut e, "approved_on", &input.approved_on, "请填写批准日期", today);
    match (postpone_to, approved_on, e.is_empty()) {
        (Some(postpone_to), Some(approved_on), true) => {
            Ok(ValidPostpone { postpone_to, reason, approved_by, approved_on })
        }
        _ => Err(e),
    }
}

/// Checks an election's count: present ≤ entitled, votes ≤ present, each candidate once, posts only one
/// secretary. Quorum and majority are ELE-01's ([`crate::rules::election`]).
pub fn validate_election(input: &ElectionInput, today: Date) -> Result<ValidElection, FieldErrors> {
    let mut e = FieldErrors::new();
    let held_on = date_item(&mut e, "held_on", &input.held_on, "请填写选举日期", today);
    let entitled = match input.entitled {
        None | Some(0) => {
            e.insert("entitled".into(), "请填写应到会人数".into());
            0
        }
        Some(n) if n > ENTITLED_MAX => {
            e.insert("entitled".into(), format!("应到会人数不超过{ENTITLED_MAX}"));
            0
        }
        Some(n) => n,
    };
    let present = match input.present {
        None => {
            e.insert("present".into(), "请填写实到会人数".into());
            0
        }
        Some(n) if entitled > 0 && n > entitled => {
            e.insert("present".into(), format!("实到会人数（{n}）不能多于应到会人数（{entitled}）"));
            0
        }
        Some(n) => n,
    };
    // Votes are checked against a valid count of those present only.
    let present_known = input.present.is_some() && !e.contains_key("present");
    let seats = match input.seats {
        None | Some(0) => {
            e.insert("seats".into(), "请填写应选人数".into());
            0
        }
        Some(n) if usize::try_from(n).unwrap_or(usize::MAX) > MEMBERS_MAX => {
            e.insert("seats".into(), format!("应选人数不超过{MEMBERS_MAX}"));
            0
        }
        Some(n) => n,
    };
    let list = input.candidates.as_deref().unwrap_or(&[]);
    if list.is_empty() {
        e.insert("candidates".into(), "请填写候选人及其得票".into());
    } else if list.len() > CANDIDATES_MAX {
        e.insert("candidates".into(), format!("候选人不超过{CANDIDATES_MAX}名"));
    }
    let mut candidates = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, c) in list.iter().enumerate().take(CANDIDATES_MAX) {
        let post = post_item(&mut e, format!("candidates.{i}.post"), &c.post);
        let votes = match c.votes {
            None => {
                e.insert(format!("candidates.{i}.votes"), "请填写赞成票数".into());
                continue;
            }
            Some(v) if present_known && v > present => {
                e.insert(format!("candidates.{i}.votes"), format!("赞成票（{v}）不能多于实到会人数（{present}）"));
                continue;
            }
            Some(v) => v,
        };
        match c.person_id {
            None => {
                e.insert(format!("candidates.{i}.person_id"), "请选择候选人".into());
            }
            Some(p) if !seen.insert(p) => {
                e.insert(format!("candidates.{i}.person_id"), "同一候选人不能重复登记".into());
            }
            Some(p) => candidates.push(ValidCandidate { person_id: p, votes, post }),
        }
    }
    one_secretary(&mut e, "candidates", candidates.iter().filter_map(|c| c.post.as_ref()));
    match (held_on, e.is_empty()) {
        (Some(held_on), true) => {
            Ok(ValidElection { held_on, entitled, present, seats, term_years: input.term_years, candidates })
        }
        _ => Err(e),
    }
}

/// A member of a term as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TermMember {
    pub person_id: i64,
    pub name: String,
    pub post: Post,
    pub post_label: &'static str,
}

/// One term (届).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Term {
    pub id: i64,
    /// 第几届.
    pub number: i64,
    #[schema(value_type = String, format = Date)]
    pub elected_on: Date,
    pub term_years: i64,
    /// The term's end by ORG-10.
    #[schema(value_type = String, format = Date)]
    pub due_on: Date,
    /// The election day an approved postponement moved it to.
    #[schema(value_type = Option<String>, format = Date)]
    pub postponed_to: Option<Date>,
    pub postpone_reason: Option<String>,
    pub postpone_approved_by: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub postpone_approved_on: Option<Date>,
    /// The day the next term began (`null`: the current term).
    #[schema(value_type = Option<String>, format = Date)]
    pub ended_on: Option<Date>,
    /// The election that opened it, when recorded here.
    pub election_id: Option<i64>,
    /// Of the current term on the day asked: running, due_soon, overdue.
    pub status: Option<TermStatus>,
    pub status_label: Option<&'static str>,
    /// The reminder or the overdue flag, with its article.
    pub flag: Option<Finding>,
    pub members: Vec<TermMember>,
}

impl Term {
    /// The day the next election falls due: the approved postponement, else the term's end.
    pub fn election_due(&self) -> Date {
        self.postponed_to.unwrap_or(self.due_on)
    }
}

/// A candidate's count as shown.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CandidateResult {
    pub person_id: i64,
    pub name: String,
    pub votes: i64,
    pub elected: bool,
}

/// An election as recorded.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Election {
    pub id: i64,
    #[schema(value_type = String, format = Date)]
    pub held_on: Date,
    pub entitled: i64,
    pub present: i64,
    pub seats: i64,
    /// The term it opened.
    pub term_id: Option<i64>,
    /// The warnings it carried (rule findings with their articles).
    #[schema(value_type = Vec<Object>)]
    pub findings: serde_json::Value,
    pub candidates: Vec<CandidateResult>,
}

/// A term whose election is due soon or overdue, for the calendar and roll-up of the organizations above.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TermReminder {
    pub org_id: i64,
    pub org_name: String,
    pub term_id: i64,
    pub number: i64,
    #[schema(value_type = String, format = Date)]
    pub election_due: Date,
    pub status: TermStatus,
    pub status_label: &'static str,
    /// The day the nightly job first found it so.
    #[schema(value_type = Option<String>, format = Date)]
    pub flagged_on: Option<Date>,
    pub flag: Option<Finding>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 06 - 30);

    #[test]
    fn a_term_needs_a_day_and_one_secretary() {
        let e = validate_term(&TermInput::default(), TODAY).unwrap_err();
        assert!(e.contains_key("elected_on") && e.contains_key("members"), "{e:?}");
        let m = |p: i64, post: &str| MemberInput { person_id: Some(p), post: Some(post.into()) };
        let two = TermInput {
            elected_on: Some("2026-07-01".into()),
            members: Some(vec![m(1, "secretary"), m(2, "书记"), m(2, "组长")]),
            ..TermInput::default()
        };
        let e = validate_term(&two, TODAY).unwrap_err();
        assert_eq!(e["elected_on"], "日期不能晚于今天");
        assert_eq!(e["members"], "一届只能有一名书记");
        assert!(e["members.2.post"].contains("组织委员"), "{e:?}");
        assert_eq!(e["members.2.person_id"], "同一人不能重复登记");
        let none = TermInput { elected_on: Some("2023-06-30".into()), members: Some(vec![m(1, "member")]), ..two };
        assert_eq!(validate_term(&none, TODAY).unwrap_err()["members"], "请指定本届书记");
    }

    #[test]
    fn an_election_count_is_consistent() {
        let c = |p: i64, v: u32| CandidateInput { person_id: Some(p), votes: Some(v), post: None };
        let bad = ElectionInput {
            held_on: Some("2026-06-28".into()),
            entitled: Some(40),
            present: Some(41),
            seats: Some(0),
            candidates: Some(vec![c(1, 30), c(1, 20)]),
            ..ElectionInput::default()
        };
        let e = validate_election(&bad, TODAY).unwrap_err();
        assert!(e["present"].contains("不能多于应到会人数"), "{e:?}");
        assert_eq!(e["seats"], "请填写应选人数");
        assert_eq!(e["candidates.1.person_id"], "同一候选人不能重复登记");
        let over = ElectionInput { present: Some(36), seats: Some(3), candidates: Some(vec![c(1, 37)]), ..bad };
        assert!(validate_election(&over, TODAY).unwrap_err()["candidates.0.votes"].contains("不能多于实到会人数"));
        let ok = ElectionInput { candidates: Some(vec![c(1, 30), c(2, 25)]), ..over };
        assert_eq!(validate_election(&ok, TODAY).unwrap().candidates.len(), 2);
    }
}
