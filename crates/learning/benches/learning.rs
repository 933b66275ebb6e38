//! The learning benchmark (`cargo bench -p learning --bench learning`, issue 5 "Done means", speed): Chinese
//! search over 100,000 materials and a member's recommendations with 10,000,000 learning events stored, timed
//! in process through the service calls the routes make (`Learning::search` for `GET /api/v1/search`,
//! `Learning::recommendations` for `GET /api/v1/learning/recommendations`; the HTTP shell adds its few tens of
//! microseconds: docs/PERFORMANCE.md).
//!
//! The dataset is made once in `DJ_BENCH_DIR` (default /var/tmp/dangjian-bench-learning) and reused:
//! `dangjian demo --scale university` (about 16,700 people), five more copies of its people (about 100,000,
//! same branches), 100,000 materials published at the university (5%), its colleges (25%) and branches (70%),
//! a tenth of them for 入党积极分子 only, written through `learning::store` in transactions of 5,000 with
//! their jieba tokens, keywords and scope words; 党员 in about 40% of them, 党费 in 10%, 井冈山 in 0.1%. Then
//! 10,000,000 `learning_progress` rows made by one `INSERT … SELECT` over a recursive CTE (20–180 studies a
//! person, skewed to popular and newer materials, over the last year), the demo member given 1,000 and a
//! person of her branch none, and the profiles rebuilt set-based (`store::rebuild_profiles`).
//!
//! PostgreSQL: with `DJ_BENCH_PG_URL` (e.g. postgres://postgres@127.0.0.1:5432/test) search and recommendations run there
//! too, on a schema of their own (the university, 100,000 people, the 100,000 materials and 10,000,000 events
//! made by `events_pg`; dropped at the end unless
//! `DJ_BENCH_KEEP=1`). Figures go to stdout in Markdown. A measurement, never a pass/fail test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use kernel::{Db, DbTx};
use learning::service::Learning;
use learning::store::{self, MaterialWrite};
use learning::text;
use platform::service::SessionKind;
use platform::{Actor, Ctx, Platform};
use security::KeyRing;
use sqlx::postgres::PgConnectOptions;
use time::{Duration, OffsetDateTime};

const MATERIALS: i64 = 100_000;
const EVENTS: i64 = 10_000_000;
const BATCH: i64 = 5_000;
const RUNS: usize = 50;

fn bench_dir() -> PathBuf {
    std::env::var("DJ_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/var/tmp/dangjian-bench-learning"))
}

/// A deterministic hash for the generator.
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0x632B_E59B_D9B4_E019);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

const TOPICS: [(&str, &str, [&str; 4]); 6] = [
    (
        "理论学习",
        "党的创新理论",
        [
            "深入学习贯彻新时代中国特色社会主义思想，做到学思用贯通、知信行统一。",
            "理论武装是思想建党的根本，要原原本本学、联系实际学。",
            "把学习成效转化为推动高校改革发展的实际行动。",
            "坚持读原著学原文悟原理，在学懂弄通做实上下功夫。",
        ],
    ),
    (
        "党章党规",
        "党章",
        [
            "党章是党的根本大法，是全党必须遵循的总规矩。",
            "严守政治纪律和政治规矩，增强纪律意识和规矩意识。",
            "中国共产党纪律处分条例对违纪行为作出明确规定。",
            "尊崇党章、遵守党章、贯彻党章、维护党章。",
        ],
    ),
    (
        "组织生活",
        "三会一课",
        [
            "严格落实三会一课制度，认真开好组织生活会。",
            "主题党日活动要突出政治功能，防止形式主义。",
            "支部委员会每月召开一次，研究支部重要工作。",
            "开展批评和自我批评，增强组织生活的政治性时代性原则性战斗性。",
        ],
    ),
    (
        "廉洁教育",
        "廉洁",
        [
            "加强廉洁文化建设，筑牢拒腐防变的思想防线。",
            "以案为鉴、以案促改，推动警示教育常态化。",
            "落实中央八项规定精神，持之以恒纠治四风。",
            "校园廉洁风险防控要覆盖招生、采购和科研经费管理。",
        ],
    ),
    (
        "党史学习",
        "党史",
        [
            "学党史、悟思想、办实事、开新局。",
            "重温革命先辈的光辉事迹，传承红色基因。",
            "从党的百年奋斗历程中汲取智慧和力量。",
            "弘扬伟大建党精神，坚定理想信念。",
        ],
    ),
    (
        "发展党员",
        "发展党员",
        [
            "坚持把政治标准放在首位，严格程序、严肃纪律。",
            "入党积极分子要经过一年以上的培养教育和考察。",
            "预备党员预备期满，支部应及时讨论其能否按期转正。",
            "做好在优秀青年学生和青年教师中发展党员的工作。",
        ],
    ),
];
const MEMBER_LINE: &str = "每名党员都要增强党员意识，在学习工作中发挥先锋模范作用。";
const FEE_LINE: &str = "党员应当按月交纳党费，党费标准按本人收入的比例确定。";
const RARE_LINE: &str = "井冈山精神是党的宝贵精神财富，要结合实际学习井冈山斗争的历史。";

/// Runs `f` RUNS times after 3 warm-up runs; returns (p50, p95, mean) in milliseconds.
async fn time<F, Fut>(mut f: F) -> (f64, f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..3 {
        f().await;
    }
    let mut v = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / RUNS as f64;
    (v[RUNS / 2], v[(RUNS * 95 / 100).min(RUNS - 1)], mean)
}

fn ctx() -> Ctx {
    Ctx { request_id: "bench".into(), ip: "127.0.0.1".into(), user_agent: "bench".into() }
}

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn exec(db: &Db, sql: impl Into<String>) {
    let sql = sqlx::AssertSqlSafe(sql.into());
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
    }
}

async fn platform_on(db: Db, dir: &std::path::Path) -> Platform {
    db.migrate().await.unwrap();
    let keys = KeyRing::load_or_create(&KeyRing::default_path(dir)).unwrap();
    let settings = platform::Settings { mfa_required: false, rate_limits: false, ..Default::default() };
    let p = Platform::new(db, &keys, settings).unwrap();
    let t = Instant::now();
    let r = platform::demo::generate(&p, platform::demo::Scale::University, 2026, &|_| {}).await.unwrap();
    if !r.already_present {
        eprintln!("demo university: {} people in {:.0} s", r.people, t.elapsed().as_secs_f64());
    }
    p
}

/// 100,000 materials through `store::insert_material`, 5,000 per transaction (nothing when present).
async fn materials(p: &Platform) {
    let have = scalar(&p.db, "SELECT CAST(COUNT(*) AS BIGINT) FROM materials").await;
    if have >= MATERIALS {
        return;
    }
    let started = Instant::now();
    let orgs: Vec<(i64, String)> = match &p.db {
        Db::Sqlite(c) => sqlx::query_as("SELECT id, path FROM orgs ORDER BY id").fetch_all(c).await.unwrap(),
        Db::Postgres(c) => sqlx::query_as("SELECT id, path FROM orgs ORDER BY id").fetch_all(c).await.unwrap(),
    };
    let depth = |path: &str| path.split('/').filter(|s| !s.is_empty()).count();
    let by_depth = |d: usize| orgs.iter().filter(|(_, path)| depth(path) == d).cloned().collect::<Vec<_>>();
    let (top, colleges, branches) = (by_depth(1), by_depth(2), by_depth(3));
    let mut keyword_cache: std::collections::HashMap<(usize, usize), String> = std::collections::HashMap::new();
    let now = OffsetDateTime::now_utc();
    let mut i = have;
    while i < MATERIALS {
        let mut tx: DbTx = p.db.begin().await.unwrap();
        for _ in 0..BATCH.min(MATERIALS - i) {
            let h = mix(i as u64, 7);
            let (org_id, org_path) = match h % 100 {
                0..5 => top[(h as usize / 100) % top.len()].clone(),
                5..30 => colleges[(h as usize / 100) % colleges.len()].clone(),
                _ => branches[(h as usize / 100) % branches.len()].clone(),
            };
            let t = (h as usize / 7) % TOPICS.len();
            let (category_label, tag, lines) = TOPICS[t];
            let v = (h as usize / 11) % lines.len();
            let mut body: Vec<&str> =
                (0..6).map(|k| lines[(v + k * (1 + (h as usize / 13) % 3)) % lines.len()]).collect();
            let r = mix(i as u64, 11) % 1000;
            if r < 400 {
                body.insert(2, MEMBER_LINE);
            }
            if (400..500).contains(&r) || r < 20 {
                body.insert(1, FEE_LINE);
            }
            if r == 999 {
                body.push(RARE_LINE);
            }
            let body_text = body.concat();
            let title = format!("{category_label}材料第{i}号：{}", &lines[v].chars().take(12).collect::<String>());
            let tags = vec![tag.to_string(), category_label.to_string()];
            let keywords =
                keyword_cache.entry((t, v)).or_insert_with(|| text::keywords(&title, &body_text, 8).join(" ")).clone();
            let tokens = text::index_text(&title, &tags, &body_text) + &text::scope_tokens(&org_path);
            let tags_col = format!(",{},", tags.join(","));
            let stages = mix(i as u64, 13).is_multiple_of(10).then_some(",activist,");
            let required_due =
                mix(i as u64, 17).is_multiple_of(2000).then(|| kernel::dates::today() + Duration::days(30));
            let m = MaterialWrite {
                org_id,
                org_path: &org_path,
                kind: "article",
                category: "theory",
                title: &title,
                body_format: "text",
                body: &body_text,
                url: None,
                tags: &tags_col,
                stages,
                required_due,
                est_seconds: 300,
                keywords: &keywords,
                search_tokens: &tokens,
                user_id: None,
                now: now - Duration::minutes(10 * (MATERIALS - i)),
            };
            store::insert_material(&mut tx, &m).await.unwrap();
            i += 1;
        }
        tx.commit().await.unwrap();
        eprintln!("  materials: {i}");
    }
    println!("Made {} materials in {:.0} s.\n", MATERIALS - have, started.elapsed().as_secs_f64());
}

/// About 100,000 people: five copies of the demo's people, same organizations, new ID-number indexes.
async fn more_people(db: &Db) {
    if scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM people").await >= 90_000 {
        return;
    }
    let (cols, random_bidx): (Vec<String>, &str) = match db {
        Db::Sqlite(c) => (
            sqlx::query_scalar(
                "SELECT name FROM pragma_table_info('people') WHERE name NOT IN ('id', 'id_number_bidx') ORDER BY cid",
            )
            .fetch_all(c)
            .await
            .unwrap(),
            "randomblob(32)",
        ),
        Db::Postgres(c) => (
            sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() \
                 AND table_name = 'people' AND column_name NOT IN ('id', 'id_number_bidx') ORDER BY ordinal_position",
            )
            .fetch_all(c)
            .await
            .unwrap(),
            "sha256(random()::text::bytea)",
        ),
    };
    let cols = cols.join(", ");
    for _ in 0..5 {
        exec(
            db,
            format!(
                "INSERT INTO people ({cols}, id_number_bidx) SELECT {cols}, {random_bidx} FROM people \
                 WHERE id IN (SELECT id FROM people ORDER BY id LIMIT 17000)"
            ),
        )
        .await;
    }
}

/// 10,000,000 learning events, set-based, on SQLite: the indexes dropped, one INSERT … SELECT, the indexes
/// made again; the member given a long history and her neighbour none; the profiles rebuilt.
async fn events(db: &Db, member: i64, empty: i64) {
    if scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM learning_progress").await >= EVENTS / 2 {
        return;
    }
    let started = Instant::now();
    let indexes: Vec<(String, String)> = match db {
        Db::Sqlite(c) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'learning_progress' AND sql IS NOT NULL",
        )
        .fetch_all(c)
        .await
        .unwrap(),
        Db::Postgres(_) => unreachable!(),
    };
    for (name, _) in &indexes {
        exec(db, format!("DROP INDEX {name}")).await;
    }
    let people = scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM people").await;
    let (lo, hi) =
        (scalar(db, "SELECT MIN(id) FROM materials").await, scalar(db, "SELECT MAX(id) FROM materials").await);
    let span = hi - lo + 1;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // n = 20…180 studies a person, mean about 100 × people ≈ EVENTS; material = hi − span·u², u uniform: skewed to
    // newer and to a popular head; last beat within the year; four in five finished.
    let per_person = (EVENTS / people.max(1)).max(20);
    let sql = format!(
        "INSERT OR IGNORE INTO learning_progress (material_id, person_id, seconds, first_at, last_beat_at, completed_at, version) \
         WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < {max}), \
         ps AS (SELECT id, (id * 2654435761) % 1000003 AS h FROM people WHERE id NOT IN ({member}, {empty})), \
         ev AS (SELECT ps.id AS person_id, ((ps.h * 40503 + k.x * 2246822519) % 1000003) / 1000003.0 AS u, \
                ((ps.h + k.x * 97) * 16777619) % 31536000 AS ago, (ps.h + k.x) % 5 AS unfinished \
                FROM ps JOIN k ON k.x < 20 + ps.h % {range}) \
         SELECT {hi} - CAST({span} * u * u AS INTEGER), person_id, CASE WHEN unfinished = 0 THEN 120 ELSE 300 END, \
                strftime('%Y-%m-%dT%H:%M:%SZ', {now} - ago - 600, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', {now} - ago, 'unixepoch'), \
                CASE WHEN unfinished = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', {now} - ago, 'unixepoch') END, 1 \
         FROM ev ORDER BY 1, 2",
        max = 2 * per_person - 20,
        range = 2 * per_person - 39,
    );
    exec(db, sql).await;
    // The member: 1,000 studies of the newest readable-or-not materials, one every few hours.
    exec(
        db,
        format!(
            "INSERT OR IGNORE INTO learning_progress (material_id, person_id, seconds, first_at, last_beat_at, completed_at, version) \
             WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < 999) \
             SELECT {hi} - (x * 37) % {span}, {member}, 300, strftime('%Y-%m-%dT%H:%M:%SZ', {now} - x * 20000 - 600, 'unixepoch'), \
             strftime('%Y-%m-%dT%H:%M:%SZ', {now} - x * 20000, 'unixepoch'), strftime('%Y-%m-%dT%H:%M:%SZ', {now} - x * 20000, 'unixepoch'), 1 FROM k"
        ),
    )
    .await;
    eprintln!("  events inserted in {:.0} s", started.elapsed().as_secs_f64());
    for (_, sql) in &indexes {
        exec(db, sql.clone()).await;
    }
    eprintln!("  indexes made again at {:.0} s", started.elapsed().as_secs_f64());
    store::rebuild_profiles(db).await.unwrap();
    exec(db, "ANALYZE").await;
    let n = scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM learning_progress").await;
    println!("Made {n} learning events in {:.0} s.\n", started.elapsed().as_secs_f64());
}

/// The same 10,000,000 learning events on PostgreSQL (same formulas, `generate_series` for the recursive
/// CTE): the secondary indexes dropped and the foreign-key triggers off while the rows go in, sorted by the
/// primary key; the indexes made again, the table vacuumed (index-only scans need its visibility map) and the
/// profiles rebuilt.
async fn events_pg(db: &Db, member: i64, empty: i64) {
    if scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM learning_progress").await >= EVENTS / 2 {
        return;
    }
    let started = Instant::now();
    let indexes: Vec<(String, String)> = match db {
        Db::Postgres(c) => sqlx::query_as(
            "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename = 'learning_progress' AND indexname <> 'learning_progress_pkey'",
        )
        .fetch_all(c)
        .await
        .unwrap(),
        Db::Sqlite(_) => unreachable!(),
    };
    for (name, _) in &indexes {
        exec(db, format!("DROP INDEX {name}")).await;
    }
    exec(db, "ALTER TABLE learning_progress DISABLE TRIGGER ALL").await;
    let people = scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM people").await;
    let (lo, hi) =
        (scalar(db, "SELECT MIN(id) FROM materials").await, scalar(db, "SELECT MAX(id) FROM materials").await);
    let span = hi - lo + 1;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let per_person = (EVENTS / people.max(1)).max(20);
    let sql = format!(
        "INSERT INTO learning_progress (material_id, person_id, seconds, first_at, last_beat_at, completed_at, version) \
         WITH ps AS (SELECT id, (id * 2654435761) % 1000003 AS h FROM people WHERE id NOT IN ({member}, {empty})), \
         ev AS (SELECT ps.id AS person_id, ((ps.h * 40503 + k.x * 2246822519) % 1000003) / 1000003.0 AS u, \
                ((ps.h + k.x * 97) * 16777619) % 31536000 AS ago, (ps.h + k.x) % 5 AS unfinished \
                FROM ps CROSS JOIN LATERAL generate_series(0, 19 + ps.h % {range}) AS k(x)) \
         SELECT {hi} - CAST(floor({span} * u * u) AS BIGINT), person_id, CASE WHEN unfinished = 0 THEN 120 ELSE 300 END, \
                to_timestamp({now} - ago - 600), to_timestamp({now} - ago), \
                CASE WHEN unfinished = 0 THEN NULL ELSE to_timestamp({now} - ago) END, 1 \
         FROM ev ORDER BY 1, 2 ON CONFLICT DO NOTHING",
        range = 2 * per_person - 39,
    );
    exec(db, sql).await;
    exec(
        db,
        format!(
            "INSERT INTO learning_progress (material_id, person_id, seconds, first_at, last_beat_at, completed_at, version) \
             SELECT {hi} - (x * 37) % {span}, {member}, 300, to_timestamp({now} - x * 20000 - 600), \
             to_timestamp({now} - x * 20000), to_timestamp({now} - x * 20000), 1 FROM generate_series(0, 999) AS k(x) \
             ON CONFLICT DO NOTHING"
        ),
    )
    .await;
    exec(db, "ALTER TABLE learning_progress ENABLE TRIGGER ALL").await;
    eprintln!("  events inserted in {:.0} s", started.elapsed().as_secs_f64());
    for (_, sql) in &indexes {
        exec(db, sql.clone()).await;
    }
    eprintln!("  indexes made again at {:.0} s", started.elapsed().as_secs_f64());
    store::rebuild_profiles(db).await.unwrap();
    exec(db, "VACUUM ANALYZE learning_progress").await;
    exec(db, "ANALYZE").await;
    let n = scalar(db, "SELECT CAST(COUNT(*) AS BIGINT) FROM learning_progress").await;
    println!("Made {n} learning events on PostgreSQL in {:.0} s.\n", started.elapsed().as_secs_f64());
}

/// The demo member and a person of her organization with no studies (the generators leave her out).
async fn member_and_empty(p: &Platform, member: &Actor) -> (i64, i64) {
    let member_id = member.person_id.unwrap();
    const ORG: &str = "SELECT org_id FROM people WHERE id = $1";
    const EMPTY: &str = "SELECT id FROM people WHERE org_id = $1 AND id <> $2 ORDER BY id LIMIT 1";
    let empty: i64 = match &p.db {
        Db::Sqlite(c) => {
            let org: i64 = sqlx::query_scalar(ORG).bind(member_id).fetch_one(c).await.unwrap();
            sqlx::query_scalar(EMPTY).bind(org).bind(member_id).fetch_one(c).await.unwrap()
        }
        Db::Postgres(c) => {
            let org: i64 = sqlx::query_scalar(ORG).bind(member_id).fetch_one(c).await.unwrap();
            sqlx::query_scalar(EMPTY).bind(org).bind(member_id).fetch_one(c).await.unwrap()
        }
    };
    (member_id, empty)
}

async fn recommendation_rows(p: &Platform, label: &str, member: &Actor, empty: i64) {
    let l = Learning::new(p);
    let none = Actor { person_id: Some(empty), ..member.clone() };
    for (who, actor) in [("a member with 1,000 studies", member), ("a member with none", &none)] {
        let r = l.recommendations(&ctx(), actor, None).await.unwrap();
        assert!(r.items.iter().all(|i| !i.reason.is_empty()));
        let (p50, p95, mean) = time(|| async {
            l.recommendations(&ctx(), actor, None).await.unwrap();
        })
        .await;
        let codes: Vec<&str> = r.items.iter().map(|i| i.reason_code).collect();
        println!(
            "| {label} | recommendations for {who} ({} items: {}) | {p50:.2} | {p95:.2} | {mean:.2} | < 50 ms |",
            r.items.len(),
            codes.join(", ")
        );
    }
}

async fn login(p: &Platform, username: &str) -> Actor {
    let l = p.login(&ctx(), username, platform::demo::DEMO_PASSWORD, None, SessionKind::Api).await.unwrap();
    p.authenticate(&l.token).await.unwrap()
}

async fn search_rows(p: &Platform, label: &str, member: &Actor, staff: &Actor) {
    let l = Learning::new(p);
    for (who, actor) in [("member", member), ("staff (university)", staff)] {
        for word in ["党费", "党员", "井冈山"] {
            let found = l.search(&ctx(), actor, word).await.unwrap().results.len();
            let (p50, p95, mean) = time(|| async {
                l.search(&ctx(), actor, word).await.unwrap();
            })
            .await;
            println!(
                "| {label} | search {word} as {who} ({found} results) | {p50:.2} | {p95:.2} | {mean:.2} | < 50 ms |"
            );
        }
    }
}

/// The learning page's list (`GET /api/v1/learning/materials`): the newest 200 a member reads (her paths
/// walked) and the university's staff (who manages it all: the newest-first walk).
async fn list_rows(p: &Platform, label: &str, member: &Actor, staff: &Actor) {
    let l = Learning::new(p);
    for (who, actor) in [("member", member), ("staff (university)", staff)] {
        let found = l.list_materials(actor, None).await.unwrap().items.len();
        let (p50, p95, mean) = time(|| async {
            l.list_materials(actor, None).await.unwrap();
        })
        .await;
        println!("| {label} | material list as {who} ({found} items) | {p50:.2} | {p95:.2} | {mean:.2} | – |");
    }
}

#[tokio::main]
async fn main() {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).unwrap();
    println!("| database | case | p50 ms | p95 ms | mean ms | target |");
    println!("| --- | --- | ---: | ---: | ---: | --- |");

    // SQLite: search and recommendations.
    let p = platform_on(Db::connect(None, &dir).await.unwrap(), &dir).await;
    materials(&p).await;
    let member = login(&p, "member").await;
    let staff = login(&p, "staff").await;
    let (member_id, empty) = member_and_empty(&p, &member).await;
    more_people(&p.db).await;
    events(&p.db, member_id, empty).await;
    search_rows(&p, "SQLite", &member, &staff).await;
    list_rows(&p, "SQLite", &member, &staff).await;
    recommendation_rows(&p, "SQLite", &member, empty).await;
    p.db.close().await;

    // PostgreSQL: search, on a schema of its own.
    let Ok(url) = std::env::var("DJ_BENCH_PG_URL") else {
        eprintln!("DJ_BENCH_PG_URL not set: PostgreSQL not measured");
        return;
    };
    let schema = "dj_bench_learning";
    let admin = Db::connect_postgres(PgConnectOptions::from_str(&url).unwrap()).await.unwrap();
    exec(&admin, format!("CREATE SCHEMA IF NOT EXISTS {schema}")).await;
    let opts = PgConnectOptions::from_str(&url).unwrap().options([("search_path", schema)]);
    let pg = platform_on(Db::connect_postgres(opts).await.unwrap(), &dir).await;
    materials(&pg).await;
    exec(&pg.db, "ANALYZE").await;
    let member = login(&pg, "member").await;
    let staff = login(&pg, "staff").await;
    let (member_id, empty) = member_and_empty(&pg, &member).await;
    more_people(&pg.db).await;
    events_pg(&pg.db, member_id, empty).await;
    search_rows(&pg, "PostgreSQL", &member, &staff).await;
    list_rows(&pg, "PostgreSQL", &member, &staff).await;
    recommendation_rows(&pg, "PostgreSQL", &member, empty).await;
    pg.db.close().await;
    if std::env::var("DJ_BENCH_KEEP").is_err() {
        exec(&admin, format!("DROP SCHEMA {schema} CASCADE")).await;
    }
    admin.close().await;
}
