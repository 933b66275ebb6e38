//! The rules of 学习教育, pure (no I/O, no clock: "now" and "today" come from the caller):
//!
//! * **Who reads a material** ([`Viewer::may_read`]): the people of its organization's subtree (at the
//!   stages it names, if any), anyone holding a role in that subtree, and those who manage learning above it.
//! * **Honest learning time** ([`credit`], [`estimate_seconds`]): the reading page sends a heartbeat every
//!   [`HEARTBEAT_SECONDS`] while it is visible and the reader active; each counts at most [`HEARTBEAT_CAP`]
//!   seconds and never more than the time since the previous one, and the first heartbeat of a visit counts
//!   nothing — so opening a material and leaving at once records no time, and a page left open in a hidden
//!   tab stops counting. A material counts as studied when the time reaches an estimate from its length.
//!   No ranking is built from these numbers, and they are not an assessment input (domain.md FORM, §b.5:
//!   "learning time" must not be an evaluation criterion).
//! * **Recommendations that say why** ([`recommend`]): required items first, then a score mixing what the
//!   person studied (tags and words), what people with similar histories studied, and what the branch is
//!   studying, each item carrying the reason that weighed most, in Chinese.

use std::collections::{HashMap, HashSet};

use platform::model::{Stage, path_within};
use time::Date;

use crate::model::MaterialKind;

// ---------------------------------------------------------------- who reads a material

/// What decides which materials a caller (or the person recommendations are for) may read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Viewer {
    /// The person's organization path and stage, when the account belongs to a person.
    pub person: Option<(String, Stage)>,
    /// The organizations where the caller holds a role: materials published at or above them are hers to
    /// read (a secretary reads what the university sends to everyone).
    pub posts: Vec<String>,
    /// Subtrees where the caller manages learning (`LearningRead`): every material published inside.
    pub managed: Vec<String>,
}

/// The path and its ancestors: "/1/5/23/" → ["/1/", "/1/5/", "/1/5/23/"].
pub fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::from("/");
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        acc.push_str(seg);
        acc.push('/');
        out.push(acc.clone());
    }
    out
}

impl Viewer {
    /// Whether a material published at `org_path` for `stages` (empty: everyone) is readable.
    pub fn may_read(&self, org_path: &str, stages: &[Stage]) -> bool {
        let as_person = self
            .person
            .as_ref()
            .is_some_and(|(p, stage)| path_within(p, org_path) && (stages.is_empty() || stages.contains(stage)));
        as_person
            || self.posts.iter().any(|p| path_within(p, org_path))
            || self.managed.iter().any(|root| path_within(org_path, root))
    }

    /// Whether the viewer's own person is in the audience of something published at `org_path` for
    /// `stages` (empty: everyone): what taking an exam or joining a class needs, beyond reading it.
    pub fn in_audience(&self, org_path: &str, stages: &[Stage]) -> bool {
        self.person
            .as_ref()
            .is_some_and(|(p, stage)| path_within(p, org_path) && (stages.is_empty() || stages.contains(stage)))
    }

    /// The exact organization paths whose materials reach the person (her organization and its ancestors).
    pub fn person_paths(&self) -> Vec<String> {
        self.person.as_ref().map(|(p, _)| ancestors(p)).unwrap_or_default()
    }

    /// The exact organization paths whose materials reach the caller's posts, whatever their stages.
    pub fn post_paths(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.posts {
            for a in ancestors(p) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        out.sort();
        out
    }

    pub fn reads_nothing(&self) -> bool {
        self.person.is_none() && self.posts.is_empty() && self.managed.is_empty()
    }
}

// ---------------------------------------------------------------- learning time

/// The reading page sends a heartbeat this often while it is visible and the reader active.
pub const HEARTBEAT_SECONDS: i64 = 15;
/// The most one heartbeat adds (two intervals: one late heartbeat still counts in full).
pub const HEARTBEAT_CAP: i64 = 30;
/// Leeway for a heartbeat that arrives a little sooner than the page measured (network jitter).
const JITTER_SECONDS: i64 = 2;
/// Reading speed of the estimate: characters per minute of careful reading.
pub const CHARS_PER_MINUTE: i64 = 300;
/// The shortest and longest estimate.
pub const MIN_SECONDS: i64 = 30;
pub const MAX_SECONDS: i64 = 3 * 3600;

/// The seconds one heartbeat adds: what the page reports, at most [`HEARTBEAT_CAP`], never more than the
/// server's clock says has passed since the previous heartbeat (`since_last`; `None`: the first heartbeat of
/// this person on this material, which only starts the clock).
pub fn credit(reported: i64, since_last: Option<i64>) -> i64 {
    match since_last {
        None => 0,
        Some(elapsed) => reported.clamp(0, HEARTBEAT_CAP).min(elapsed.max(0) + JITTER_SECONDS),
    }
}

/// Active reading time after which a material counts as studied: an article by its length at
/// [`CHARS_PER_MINUTE`], a link by the minutes its author gave (default 10).
pub fn estimate_seconds(kind: MaterialKind, chars: usize, minutes: Option<i64>) -> i64 {
    let secs = match (minutes, kind) {
        (Some(m), _) => m * 60,
        (None, MaterialKind::Article) => (chars as i64).saturating_mul(60) / CHARS_PER_MINUTE,
        (None, _) => 10 * 60,
    };
    secs.clamp(MIN_SECONDS, MAX_SECONDS)
}

/// Whether the credited time makes the material studied.
pub fn is_completed(seconds: i64, required_seconds: i64) -> bool {
    seconds >= required_seconds
}

// ---------------------------------------------------------------- recommendations

/// A material the person may read, as the recommender sees it.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    pub keywords: Vec<String>,
    pub required_due: Option<Date>,
    /// Published within the person's branch (its subtree), not above it.
    pub in_branch: bool,
    /// Days since publication.
    pub age_days: i64,
}

/// What the person has studied (time credited) or finished.
#[derive(Clone, Debug)]
pub struct Studied {
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    pub keywords: Vec<String>,
    pub seconds: i64,
    pub completed: bool,
}

/// Why an item is recommended.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// Required learning not yet finished: due date and days left (negative: overdue).
    Required { due: Date, days_left: i64 },
    /// Begun, not finished.
    Continue { minutes: i64 },
    /// Close to something studied: its title.
    Content { because: String },
    /// Studied by people whose histories are close to the person's.
    Collaborative { people: usize },
    /// Being studied in the person's branch.
    Branch { people: i64 },
    /// Newly published for the person's branch, or above it.
    Fresh { in_branch: bool },
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Required { .. } => "required",
            Reason::Continue { .. } => "continue",
            Reason::Content { .. } => "content",
            Reason::Collaborative { .. } => "collaborative",
            Reason::Branch { .. } => "branch",
            Reason::Fresh { .. } => "fresh",
        }
    }

    /// The reason as the member reads it.
    pub fn text(&self) -> String {
        match self {
            Reason::Required { due, days_left } => {
                let due = kernel::dates::iso(*due);
                match days_left {
                    d if *d > 0 => format!("必学：截止{due}，还有{d}天"),
                    0 => format!("必学：今天（{due}）截止"),
                    d => format!("必学：截止{due}，已逾期{}天", -d),
                }
            }
            Reason::Continue { minutes } if *minutes >= 1 => format!("继续学习：已学习{minutes}分钟"),
            Reason::Continue { .. } => "继续学习：上次已开始学习".into(),
            Reason::Content { because } => format!("因为你学习了《{because}》"),
            Reason::Collaborative { people } => format!("与你学习记录相近的党员也在学（{people}人）"),
            Reason::Branch { people } => format!("本支部{people}人正在学习"),
            Reason::Fresh { in_branch: true } => "本支部新发布的学习材料".into(),
            Reason::Fresh { in_branch: false } => "新发布的学习材料".into(),
        }
    }
}

/// One recommended material.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    pub id: i64,
    pub title: String,
    pub reason: Reason,
    pub score: f64,
}

/// Weights of the score's parts (each part lies in 0…1).
pub const W_CONTENT: f64 = 1.0;
pub const W_COLLABORATIVE: f64 = 1.0;
pub const W_BRANCH: f64 = 0.6;
pub const W_FRESH: f64 = 0.25;
/// How many neighbours (most similar histories) vote.
pub const NEIGHBOURS: usize = 30;
/// How many of the branch make "being studied in the branch" count in full.
pub const BRANCH_FULL: i64 = 5;
/// Days over which a new material stays fresh.
pub const FRESH_DAYS: i64 = 30;
/// How many of her latest studies the content part compares a candidate with (a member with years of history
/// is recommended by what she studied lately; the offline evaluation's histories are all shorter).
pub const CONTENT_HISTORY: usize = 100;

fn weight(tags: &[String], keywords: &[String]) -> f64 {
    2.0 * tags.len() as f64 + keywords.len() as f64
}

/// How close two materials are by their tags (counted twice) and words: a cosine over the sets, 0…1.
pub fn similarity(tags_a: &[String], kw_a: &[String], tags_b: &[String], kw_b: &[String]) -> f64 {
    let shared_tags = tags_a.iter().filter(|t| tags_b.contains(t)).count() as f64;
    let shared_words = kw_a.iter().filter(|k| kw_b.contains(k)).count() as f64;
    let norm = (weight(tags_a, kw_a) * weight(tags_b, kw_b)).sqrt();
    if norm == 0.0 { 0.0 } else { ((2.0 * shared_tags + shared_words) / norm).min(1.0) }
}

/// Jaccard similarity of two learning histories.
pub fn jaccard(a: &HashSet<i64>, b: &HashSet<i64>) -> f64 {
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    if union == 0 { 0.0 } else { inter as f64 / union as f64 }
}

/// For each material, the summed similarity of the [`NEIGHBOURS`] people whose histories are closest to
/// `mine` and who studied it, with how many of them did.
pub fn collaborative(mine: &HashSet<i64>, others: &HashMap<i64, HashSet<i64>>) -> HashMap<i64, (f64, usize)> {
    let mut sims: Vec<(f64, i64)> =
        others.iter().map(|(p, h)| (jaccard(mine, h), *p)).filter(|(s, _)| *s > 0.0).collect();
    sims.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    sims.truncate(NEIGHBOURS);
    let mut out: HashMap<i64, (f64, usize)> = HashMap::new();
    for (sim, person) in sims {
        for m in others.get(&person).into_iter().flatten() {
            let e = out.entry(*m).or_insert((0.0, 0));
            e.0 += sim;
            e.1 += 1;
        }
    }
    out
}

/// The signals of one person besides the candidates and her own history.
#[derive(Clone, Debug, Default)]
pub struct Signals {
    /// Material → (summed neighbour similarity, neighbours), from [`collaborative`].
    pub neighbours: HashMap<i64, (f64, usize)>,
    /// Material → people of the person's branch who studied it lately (the person left out).
    pub branch: HashMap<i64, i64>,
}

/// Her [`CONTENT_HISTORY`] latest studies (`studied` comes newest first) indexed by tag and word, so a candidate
/// is compared only with the studies it shares a tag or a word with, and the shared counts come from the
/// index's lists rather than from comparing word lists pairwise: the same [`similarity`] (the same floats),
/// at a cost that grows with the words shared, not with candidates × studies × words.
struct ContentIndex<'a> {
    studied: &'a [Studied],
    /// (is a tag, the word) → the studies holding it, each once, in history order.
    postings: HashMap<(bool, &'a str), Vec<usize>>,
    /// Per study: (shared tags, shared words) with the candidate being scored; reset after each.
    shared: Vec<(u32, u32)>,
    touched: Vec<usize>,
}

impl<'a> ContentIndex<'a> {
    fn of(studied: &'a [Studied]) -> ContentIndex<'a> {
        let recent = studied.get(..studied.len().min(CONTENT_HISTORY)).unwrap_or_default();
        let mut postings: HashMap<(bool, &str), Vec<usize>> = HashMap::new();
        for (i, s) in recent.iter().enumerate() {
            let words = s.tags.iter().map(|t| (true, t.as_str())).chain(s.keywords.iter().map(|k| (false, k.as_str())));
            for w in words {
                let list = postings.entry(w).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        ContentIndex { studied: recent, postings, shared: vec![(0, 0); recent.len()], touched: Vec::new() }
    }

    /// The study closest to the candidate and how close (0 and none when it shares nothing); the earliest in
    /// history order wins a tie.
    fn closest(&mut self, c: &Candidate) -> (f64, Option<&'a Studied>) {
        let words = c.tags.iter().map(|t| (true, t.as_str())).chain(c.keywords.iter().map(|k| (false, k.as_str())));
        for (is_tag, word) in words {
            for &i in self.postings.get(&(is_tag, word)).into_iter().flatten() {
                let Some(counts) = self.shared.get_mut(i) else { continue };
                if *counts == (0, 0) {
                    self.touched.push(i);
                }
                if is_tag {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
            }
        }
        self.touched.sort_unstable();
        let mut best = (0.0_f64, None::<&Studied>);
        let own = weight(&c.tags, &c.keywords);
        for &i in &self.touched {
            let (Some(counts), Some(s)) = (self.shared.get_mut(i), self.studied.get(i)) else { continue };
            let norm = (own * weight(&s.tags, &s.keywords)).sqrt();
            let sim =
                if norm == 0.0 { 0.0 } else { ((2.0 * f64::from(counts.0) + f64::from(counts.1)) / norm).min(1.0) };
            *counts = (0, 0);
            if sim > best.0 {
                best = (sim, Some(s));
            }
        }
        self.touched.clear();
        best
    }
}

/// The recommendations for one person: required items not yet finished first (earliest due first), then
/// materials begun and not finished, then the best of the rest by score; at most `limit`, each with its
/// reason. Finished materials are never recommended.
///
/// `studied`: her studies, newest first. The content part compares the candidates with the first
/// [`CONTENT_HISTORY`]; "finished" and "begun" are read from all of them, so every candidate she has a record
/// of must be among them (the service appends the candidates' own records after her latest studies).
pub fn recommend(
    candidates: &[Candidate],
    studied: &[Studied],
    signals: &Signals,
    today: Date,
    limit: usize,
) -> Vec<Recommendation> {
    let done: HashSet<i64> = studied.iter().filter(|s| s.completed).map(|s| s.id).collect();
    let begun: HashMap<i64, i64> = studied.iter().filter(|s| !s.completed).map(|s| (s.id, s.seconds)).collect();
    let max_collab = signals.neighbours.values().map(|(s, _)| *s).fold(0.0_f64, f64::max);
    let mut content_index = ContentIndex::of(studied);

    let mut required: Vec<(Date, Recommendation)> = Vec::new();
    let mut continuing: Vec<Recommendation> = Vec::new();
    let mut scored: Vec<Recommendation> = Vec::new();
    for c in candidates.iter().filter(|c| !done.contains(&c.id)) {
        if let Some(due) = c.required_due {
            let days_left = (due - today).whole_days();
            let r = Recommendation {
                id: c.id,
                title: c.title.clone(),
                reason: Reason::Required { due, days_left },
                score: f64::INFINITY,
            };
            required.push((due, r));
            continue;
        }
        if let Some(seconds) = begun.get(&c.id) {
            continuing.push(Recommendation {
                id: c.id,
                title: c.title.clone(),
                reason: Reason::Continue { minutes: seconds / 60 },
                score: *seconds as f64,
            });
            continue;
        }
        // Content: the studied material closest to this one.
        let content = content_index.closest(c);
        let (collab_sum, collab_people) = signals.neighbours.get(&c.id).copied().unwrap_or((0.0, 0));
        let collab = if max_collab > 0.0 { collab_sum / max_collab } else { 0.0 };
        let branch_people = signals.branch.get(&c.id).copied().unwrap_or(0);
        let branch = (branch_people as f64 / BRANCH_FULL as f64).min(1.0);
        let fresh = if c.age_days < FRESH_DAYS { 1.0 - c.age_days.max(0) as f64 / FRESH_DAYS as f64 } else { 0.0 };
        let parts =
            [(W_CONTENT * content.0, 0), (W_COLLABORATIVE * collab, 1), (W_BRANCH * branch, 2), (W_FRESH * fresh, 3)];
        let score: f64 = parts.iter().map(|(v, _)| v).sum();
        let strongest = parts.iter().copied().fold((0.0, 3), |best, p| if p.0 > best.0 { p } else { best });
        let reason = match (strongest.1, content.1) {
            (0, Some(s)) => Reason::Content { because: s.title.clone() },
            (1, _) => Reason::Collaborative { people: collab_people },
            (2, _) => Reason::Branch { people: branch_people },
            _ => Reason::Fresh { in_branch: c.in_branch },
        };
        // A tiny preference for the branch's own and newer material breaks ties without a signal.
        let tie = if c.in_branch { 1e-6 } else { 0.0 } + 1e-9 / (1.0 + c.age_days.max(0) as f64);
        scored.push(Recommendation { id: c.id, title: c.title.clone(), reason, score: score + tie });
    }
    required.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    continuing.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.id.cmp(&a.id)));
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.id.cmp(&a.id)));
    let mut out: Vec<Recommendation> = required.into_iter().map(|(_, r)| r).collect();
    out.extend(continuing);
    out.extend(scored);
    out.truncate(limit);
    out
}

/// The popularity baseline of the offline evaluation: the materials most people studied, unread first.
pub fn popular(
    candidates: &[Candidate],
    studied_by: &HashMap<i64, usize>,
    done: &HashSet<i64>,
    limit: usize,
) -> Vec<i64> {
    let mut ids: Vec<(usize, i64)> = candidates
        .iter()
        .filter(|c| !done.contains(&c.id))
        .map(|c| (studied_by.get(&c.id).copied().unwrap_or(0), c.id))
        .collect();
    ids.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    ids.into_iter().take(limit).map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn cand(id: i64, title: &str, tags: &[&str], kw: &[&str]) -> Candidate {
        Candidate {
            id,
            title: title.into(),
            tags: s(tags),
            keywords: s(kw),
            required_due: None,
            in_branch: false,
            age_days: 100,
        }
    }

    fn studied(id: i64, title: &str, tags: &[&str], kw: &[&str]) -> Studied {
        Studied { id, title: title.into(), tags: s(tags), keywords: s(kw), seconds: 600, completed: true }
    }

    #[test]
    fn a_material_is_read_by_its_subtree_at_its_stages() {
        let member = Viewer { person: Some(("/1/2/4/".into(), Stage::Full)), ..Viewer::default() };
        assert!(member.may_read("/1/", &[]));
        assert!(member.may_read("/1/2/4/", &[]));
        assert!(!member.may_read("/1/3/", &[]));
        assert!(!member.may_read("/1/2/4/9/", &[]), "a group's material is for the group");
        assert!(!member.may_read("/1/", &[Stage::Activist]), "material for 入党积极分子 only");
        let activist = Viewer { person: Some(("/1/2/4/".into(), Stage::Activist)), ..Viewer::default() };
        assert!(activist.may_read("/1/", &[Stage::Activist, Stage::Candidate]));
        // A secretary without a person record reads what reaches her branch, and manages what is inside it.
        let sec = Viewer { posts: s(&["/1/2/4/"]), managed: s(&["/1/2/4/"]), ..Viewer::default() };
        assert!(sec.may_read("/1/", &[Stage::Activist]));
        assert!(sec.may_read("/1/2/4/9/", &[]));
        assert!(!sec.may_read("/1/2/5/", &[]));
        assert!(Viewer::default().reads_nothing());
        assert_eq!(ancestors("/1/5/23/"), s(&["/1/", "/1/5/", "/1/5/23/"]));
        assert_eq!(sec.post_paths(), s(&["/1/", "/1/2/", "/1/2/4/"]));
    }

    #[test]
    fn opening_and_leaving_records_nothing_and_heartbeats_are_capped() {
        assert_eq!(credit(15, None), 0, "the first heartbeat only starts the clock");
        assert_eq!(credit(15, Some(15)), 15);
        assert_eq!(credit(3600, Some(3600)), HEARTBEAT_CAP, "a page left open counts one heartbeat at most");
        assert_eq!(credit(30, Some(1)), 3, "never more than the time since the last heartbeat");
        assert_eq!(credit(-5, Some(60)), 0);
        assert_eq!(credit(20, Some(-10)), 2);
    }

    #[test]
    fn the_estimate_follows_the_length() {
        assert_eq!(estimate_seconds(MaterialKind::Article, 3000, None), 600);
        assert_eq!(estimate_seconds(MaterialKind::Article, 10, None), MIN_SECONDS);
        assert_eq!(estimate_seconds(MaterialKind::Article, 10_000_000, None), MAX_SECONDS);
        assert_eq!(estimate_seconds(MaterialKind::Video, 0, None), 600);
        assert_eq!(estimate_seconds(MaterialKind::Video, 0, Some(45)), 2700);
        assert!(is_completed(600, 600) && !is_completed(599, 600));
    }

    #[test]
    fn required_items_come_first_with_their_due_date() {
        let today = date!(2026 - 6 - 18);
        let mut a = cand(1, "党章", &[], &[]);
        a.required_due = Some(date!(2026 - 6 - 30));
        let mut b = cand(2, "条例", &[], &[]);
        b.required_due = Some(date!(2026 - 6 - 10));
        let mut done = cand(3, "已学", &[], &[]);
        done.required_due = Some(date!(2026 - 6 - 1));
        let c = cand(4, "新材料", &[], &[]);
        let r = recommend(&[c, a, b, done], &[studied(3, "已学", &[], &[])], &Signals::default(), today, 10);
        let ids: Vec<i64> = r.iter().map(|x| x.id).collect();
        assert_eq!(ids, vec![2, 1, 4]);
        assert_eq!(r[0].reason.text(), "必学：截止2026-06-10，已逾期8天");
        assert_eq!(r[1].reason.text(), "必学：截止2026-06-30，还有12天");
        assert_eq!(r[2].reason.text(), "新发布的学习材料");
    }

    #[test]
    fn content_based_items_name_what_was_studied() {
        let history = [studied(10, "党费交纳办法", &["党费"], &["党费", "交纳", "标准"])];
        let cands = [cand(1, "党费的计算", &["党费"], &["党费", "收入"]), cand(2, "红色诗词", &["文艺"], &["诗词"])];
        let r = recommend(&cands, &history, &Signals::default(), date!(2026 - 1 - 1), 10);
        assert_eq!(r[0].id, 1);
        assert_eq!(r[0].reason.text(), "因为你学习了《党费交纳办法》");
        assert_eq!(r[1].reason, Reason::Fresh { in_branch: false });
    }

    #[test]
    fn collaborative_and_branch_signals_say_so() {
        let mine: HashSet<i64> = [1, 2, 3].into_iter().collect();
        let others: HashMap<i64, HashSet<i64>> = [
            (100, [1, 2, 3, 7].into_iter().collect()),
            (101, [1, 2, 7].into_iter().collect()),
            (102, [9].into_iter().collect()),
        ]
        .into_iter()
        .collect();
        let n = collaborative(&mine, &others);
        assert_eq!(n.get(&7).map(|x| x.1), Some(2));
        assert!(!n.contains_key(&9), "people with nothing in common do not vote");
        let signals = Signals { neighbours: n, branch: [(8, 12)].into_iter().collect() };
        let history: Vec<Studied> = [1, 2, 3].iter().map(|i| studied(*i, "x", &[], &[])).collect();
        let r =
            recommend(&[cand(7, "七", &[], &[]), cand(8, "八", &[], &[])], &history, &signals, date!(2026 - 1 - 1), 10);
        assert_eq!(r[0].reason.text(), "与你学习记录相近的党员也在学（2人）");
        assert_eq!(r[1].reason.text(), "本支部12人正在学习");
        assert!((jaccard(&mine, &others[&100]) - 0.75).abs() < 1e-9);
    }

    #[test]
    fn begun_items_continue_and_every_item_has_a_reason() {
        let mut begun = studied(5, "在学", &[], &[]);
        begun.completed = false;
        begun.seconds = 190;
        let mut fresh = cand(6, "支部新材料", &[], &[]);
        fresh.in_branch = true;
        fresh.age_days = 1;
        let r = recommend(&[cand(5, "在学", &[], &[]), fresh], &[begun], &Signals::default(), date!(2026 - 1 - 1), 10);
        assert_eq!(r[0].reason.text(), "继续学习：已学习3分钟");
        assert_eq!(r[1].reason.text(), "本支部新发布的学习材料");
        assert!(r.iter().all(|x| !x.reason.text().is_empty()));
        assert!(recommend(&[], &[], &Signals::default(), date!(2026 - 1 - 1), 10).is_empty());
    }

    #[test]
    fn content_looks_at_the_latest_studies_only() {
        let mut history: Vec<Studied> =
            (0..CONTENT_HISTORY as i64).map(|i| studied(100 + i, "其他", &["文艺"], &["诗词"])).collect();
        history.push(studied(1, "党费交纳办法", &["党费"], &["党费", "交纳"]));
        let cands = [cand(2, "党费的计算", &["党费"], &["党费", "收入"])];
        let r = recommend(&cands, &history, &Signals::default(), date!(2026 - 1 - 1), 10);
        assert_eq!(r[0].reason, Reason::Fresh { in_branch: false }, "the oldest study is beyond the window");
        history.rotate_right(1);
        let r = recommend(&cands, &history, &Signals::default(), date!(2026 - 1 - 1), 10);
        assert_eq!(r[0].reason.text(), "因为你学习了《党费交纳办法》");
    }

    /// The index finds the same closest study, with the same float, as comparing with each study in turn.
    #[test]
    fn the_content_index_agrees_with_comparing_every_study() {
        const WORDS: [&str; 12] =
            ["党费", "党章", "党员", "理论", "学习", "党史", "纪律", "组织", "支部", "交纳", "标准", "党课"];
        let mut seed: u64 = 42;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) % n) as usize
        };
        let mut pick =
            |n: usize| -> Vec<String> { (0..n).map(|_| WORDS[next(WORDS.len() as u64)].to_string()).collect() };
        for round in 0..40 {
            let history: Vec<Studied> = (0..(round * 4) as i64)
                .map(|i| Studied {
                    id: i,
                    title: format!("学{i}"),
                    tags: pick(i as usize % 3),
                    keywords: pick(i as usize % 7),
                    seconds: 60,
                    completed: true,
                })
                .collect();
            let mut index = ContentIndex::of(&history);
            for j in 0..20_i64 {
                let c = Candidate {
                    id: 1000 + j,
                    title: String::new(),
                    tags: pick(j as usize % 4),
                    keywords: pick(j as usize % 6),
                    required_due: None,
                    in_branch: false,
                    age_days: 100,
                };
                let mut brute = (0.0_f64, None::<i64>);
                for s in history.iter().take(CONTENT_HISTORY) {
                    let sim = similarity(&c.tags, &c.keywords, &s.tags, &s.keywords);
                    if sim > brute.0 {
                        brute = (sim, Some(s.id));
                    }
                }
                let (sim, found) = index.closest(&c);
                assert_eq!((sim, found.map(|s| s.id)), brute, "round {round}, candidate {j}");
            }
        }
    }

    #[test]
    fn similarity_is_symmetric_and_bounded() {
        let (a, b) = (s(&["党费"]), s(&["党费", "党章"]));
        let (ka, kb) = (s(&["交纳"]), s(&["交纳", "标准"]));
        let x = similarity(&a, &ka, &b, &kb);
        assert!((x - similarity(&b, &kb, &a, &ka)).abs() < 1e-12);
        assert!(x > 0.0 && x <= 1.0);
        assert_eq!(similarity(&[], &[], &a, &ka), 0.0);
    }
}
