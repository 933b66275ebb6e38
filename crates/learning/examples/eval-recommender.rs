//! Offline evaluation of the recommender (issue 5 item 6): simulated learning logs of members with hidden
//! interests, the last 20% of each member's studies held out, and hit-rate@10 of `rules::recommend` next to
//! the popularity baseline `rules::popular` (and a random list) on the same data. Deterministic:
//!
//!     cargo run -p learning --example eval-recommender [-- --seed 42 --members 3000 --materials 800]
//!
//! The simulation: 12 topics, each with its tags and a pool of words; a material belongs to one topic (two
//! of its tags, six words of its topic and two common words) and has a popularity drawn from a Zipf law. A
//! member has two hidden topics (70% / 20%, the rest anywhere) and her branch a topic of its own that pulls
//! 25% of its members' studies. Each member studies 12–40 materials in order; within a topic she picks by
//! popularity. The recommender sees what the service sees: the candidates (every material, ages and whether
//! published in her branch), her training history with tags and words, the co-learners' training histories
//! (the 10 latest learners of each of her 30 latest studies, as `service::recommendations` picks them; their
//! histories are under the profiles' cap) and her branch's counts.
//! Method and figures: docs/LEARNING.md, docs/PERFORMANCE.md.

use std::collections::{HashMap, HashSet};

use kernel::rng::Rng;
use learning::rules::{self, Candidate, Signals, Studied};
use time::macros::date;

const TOPICS: usize = 12;
const K: usize = 10;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Material {
    topic: usize,
    tags: Vec<String>,
    keywords: Vec<String>,
    weight: f64,
    age_days: i64,
    branch: Option<usize>,
}

fn pick_weighted(rng: &mut Rng, items: &[(usize, f64)]) -> usize {
    let total: f64 = items.iter().map(|x| x.1).sum();
    let mut x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
    for (id, w) in items {
        if x < *w {
            return *id;
        }
        x -= w;
    }
    items.last().map_or(0, |x| x.0)
}

fn main() {
    let seed = arg("--seed", 42);
    let n_members = arg("--members", 3000) as usize;
    let n_materials = arg("--materials", 800) as usize;
    let n_branches = (n_members / 40).max(2);
    let mut rng = Rng::new(seed);
    let common = ["学习", "党员", "工作", "要求", "重要", "精神"];

    // Materials.
    let mut materials = Vec::new();
    for i in 0..n_materials {
        let topic = i % TOPICS;
        let tags = vec![format!("专题{topic}"), format!("专题{topic}-{}", rng.below(3))];
        let mut keywords: Vec<String> = (0..6).map(|_| format!("词{topic}-{}", rng.below(15))).collect();
        keywords.extend((0..2).map(|_| common[rng.below(common.len() as u64) as usize].to_string()));
        keywords.sort();
        keywords.dedup();
        let rank = (i / TOPICS) as f64 + 1.0;
        let branch = if rng.chance(0.2) { Some(rng.below(n_branches as u64) as usize) } else { None };
        materials.push(Material {
            topic,
            tags,
            keywords,
            weight: 1.0 / rank.powf(0.8),
            age_days: rng.range(0, 365),
            branch,
        });
    }
    let by_topic: Vec<Vec<(usize, f64)>> = (0..TOPICS)
        .map(|t| materials.iter().enumerate().filter(|(_, m)| m.topic == t).map(|(i, m)| (i, m.weight)).collect())
        .collect();
    let all: Vec<(usize, f64)> = materials.iter().enumerate().map(|(i, m)| (i, m.weight)).collect();
    let branch_topic: Vec<usize> = (0..n_branches).map(|_| rng.below(TOPICS as u64) as usize).collect();

    // Members and their logs; the last 20% of each log is held out.
    let mut branch_of = Vec::new();
    let mut train: Vec<Vec<usize>> = Vec::new();
    let mut test: Vec<HashSet<usize>> = Vec::new();
    for _ in 0..n_members {
        let branch = rng.below(n_branches as u64) as usize;
        let a = rng.below(TOPICS as u64) as usize;
        let b = (a + 1 + rng.below(TOPICS as u64 - 1) as usize) % TOPICS;
        let n = rng.range(12, 40) as usize;
        let mut log: Vec<usize> = Vec::new();
        let mut guard = 0;
        while log.len() < n && guard < 10 * n {
            guard += 1;
            let r = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let pool = if r < 0.25 {
                &by_topic[branch_topic[branch]]
            } else if r < 0.25 + 0.75 * 0.7 {
                &by_topic[a]
            } else if r < 0.25 + 0.75 * 0.9 {
                &by_topic[b]
            } else {
                &all
            };
            let m = pick_weighted(&mut rng, pool);
            if !log.contains(&m) {
                log.push(m);
            }
        }
        let cut = log.len() - (log.len() / 5).max(1);
        test.push(log[cut..].iter().copied().collect());
        train.push(log[..cut].to_vec());
        branch_of.push(branch);
    }

    // What everyone studied (training), who studied each material, and per branch counts.
    let histories: Vec<HashSet<i64>> = train.iter().map(|l| l.iter().map(|m| *m as i64).collect()).collect();
    let mut learners: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut studied_by: HashMap<i64, usize> = HashMap::new();
    let mut branch_counts: Vec<HashMap<i64, i64>> = vec![HashMap::new(); n_branches];
    for (p, l) in train.iter().enumerate() {
        for m in l {
            learners.entry(*m).or_default().push(p);
            *studied_by.entry(*m as i64).or_default() += 1;
            *branch_counts[branch_of[p]].entry(*m as i64).or_default() += 1;
        }
    }

    let today = date!(2026 - 06 - 30);
    let (mut hit_ours, mut hit_pop, mut hit_rand, mut hits_ours, mut hits_pop) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut reasons: HashMap<&'static str, usize> = HashMap::new();
    let started = std::time::Instant::now();
    for p in 0..n_members {
        let branch = branch_of[p];
        let candidates: Vec<Candidate> = materials
            .iter()
            .enumerate()
            .map(|(i, m)| Candidate {
                id: i as i64,
                title: format!("材料{i}"),
                tags: m.tags.clone(),
                keywords: m.keywords.clone(),
                required_due: None,
                in_branch: m.branch == Some(branch),
                age_days: m.age_days,
            })
            .collect();
        let studied: Vec<Studied> = train[p]
            .iter()
            .rev()
            .map(|m| Studied {
                id: *m as i64,
                title: format!("材料{m}"),
                tags: materials[*m].tags.clone(),
                keywords: materials[*m].keywords.clone(),
                seconds: 600,
                completed: true,
            })
            .collect();
        // Co-learners as the service finds them: the latest CO_PER_MATERIAL learners (here: the last ones
        // logged) of each of her latest CO_SOURCES studies, their histories as their profiles keep them.
        let mut co: Vec<usize> = Vec::new();
        for m in train[p].iter().rev().take(learning::service::CO_SOURCES) {
            let later: Vec<usize> = learners[m].iter().rev().copied().filter(|q| *q != p).collect();
            for q in later.into_iter().take(learning::service::CO_PER_MATERIAL as usize) {
                if !co.contains(&q) {
                    co.push(q);
                }
            }
        }
        let others: HashMap<i64, HashSet<i64>> = co.iter().map(|q| (*q as i64, histories[*q].clone())).collect();
        let mut branch_signal = branch_counts[branch].clone();
        for m in &train[p] {
            if let Some(c) = branch_signal.get_mut(&(*m as i64)) {
                *c -= 1;
            }
        }
        let signals = Signals { neighbours: rules::collaborative(&histories[p], &others), branch: branch_signal };
        let ours = rules::recommend(&candidates, &studied, &signals, today, K);
        for r in &ours {
            *reasons.entry(r.reason.code()).or_default() += 1;
        }
        let ours: Vec<i64> = ours.iter().map(|r| r.id).collect();
        let pop = rules::popular(&candidates, &studied_by, &histories[p], K);
        let mut random: Vec<i64> = (0..n_materials as i64).filter(|m| !histories[p].contains(m)).collect();
        for i in 0..K.min(random.len()) {
            let j = i + rng.below((random.len() - i) as u64) as usize;
            random.swap(i, j);
        }
        random.truncate(K);
        let hits = |list: &[i64]| list.iter().filter(|m| test[p].contains(&(**m as usize))).count();
        let (h_o, h_p, h_r) = (hits(&ours), hits(&pop), hits(&random));
        hit_ours += usize::from(h_o > 0);
        hit_pop += usize::from(h_p > 0);
        hit_rand += usize::from(h_r > 0);
        hits_ours += h_o;
        hits_pop += h_p;
    }
    let held: usize = test.iter().map(HashSet::len).sum();
    let pct = |x: usize, n: usize| 100.0 * x as f64 / n.max(1) as f64;
    println!("offline evaluation of the recommender (seed {seed})");
    println!(
        "members {n_members}, materials {n_materials}, branches {n_branches}, training events {}, held out {held}",
        train.iter().map(Vec::len).sum::<usize>()
    );
    println!("| list | hit-rate@10 | recall@10 |");
    println!("| --- | --- | --- |");
    println!("| ours (rules::recommend) | {:.1}% | {:.1}% |", pct(hit_ours, n_members), pct(hits_ours, held));
    println!("| popularity (rules::popular) | {:.1}% | {:.1}% |", pct(hit_pop, n_members), pct(hits_pop, held));
    println!("| random | {:.1}% | – |", pct(hit_rand, n_members));
    let mut r: Vec<(&&str, &usize)> = reasons.iter().collect();
    r.sort();
    println!("reasons given: {r:?}");
    println!(
        "time per member (debug build, scoring only): {:.2} ms",
        started.elapsed().as_secs_f64() * 1000.0 / n_members as f64
    );
}
