//! The per-user rate limits' cost and a member mix under them (`cargo bench -p web --bench limits`): the time
//! of one counter update on SQLite (in memory) and on PostgreSQL (`rate_windows`, when DJ_TEST_PG_URL
//! answers), and the in-process throughput of 8 concurrent members each signing in, reading her notices and
//! the exam list, starting a practice and submitting it — every one of those requests but the two lists
//! through the limiter. Small demo data on SQLite, 200 member accounts.
//! Figures go to stdout in Markdown for docs/PERFORMANCE.md; a measurement, never a pass/fail test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use kernel::Db;
use platform::Platform;
use platform::limits::{Bucket, Limiter};
use security::KeyRing;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(router: &Router, method: &str, uri: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if !token.is_empty() {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn login(router: &Router, username: &str, password: &str) -> (u16, String) {
    let (st, v) =
        call(router, "POST", "/api/v1/auth/login", "", Some(json!({"username": username, "password": password}))).await;
    (st, v["token"].as_str().unwrap_or_default().to_owned())
}

/// Microseconds per counter update: (p50, p95, mean) over `n` updates of 1,000 rotating users.
async fn limiter_cost(db: &Db, n: usize) -> (f64, f64, f64) {
    let limiter = Limiter::default();
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        let subject = format!("{}", i % 1000);
        let t = Instant::now();
        let _ = limiter.hit(db, Bucket::Search, &subject).await;
        v.push(t.elapsed().as_secs_f64() * 1e6);
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[n / 2], v[n * 95 / 100], v.iter().sum::<f64>() / n as f64)
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("dj-bench-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::connect(None, &dir).await.unwrap();
    db.migrate().await.unwrap();

    println!("| counter | p50 µs | p95 µs | mean µs |\n| --- | ---: | ---: | ---: |");
    let (p50, p95, mean) = limiter_cost(&db, 100_000).await;
    println!("| SQLite, in memory (100 000 updates) | {p50:.2} | {p95:.2} | {mean:.2} |");
    let pg_url = std::env::var("DJ_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if let Ok(opts) = sqlx::postgres::PgConnectOptions::from_str(&pg_url)
        && let Ok(pg) = Db::connect_postgres(opts.clone()).await
    {
        let schema = format!("dj_bench_limits_{}", std::process::id());
        if let Db::Postgres(p) = &pg {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(p).await.unwrap();
        }
        let scoped = Db::connect_postgres(opts.options([("search_path", schema.as_str())])).await.unwrap();
        scoped.migrate().await.unwrap();
        let (p50, p95, mean) = limiter_cost(&scoped, 5_000).await;
        println!("| PostgreSQL, `rate_windows` upsert (5 000 updates) | {p50:.1} | {p95:.1} | {mean:.1} |");
        scoped.close().await;
        if let Db::Postgres(p) = &pg {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(p).await.unwrap();
        }
        pg.close().await;
    }

    // The mix, on the small demo university (default argon2id parameters, as in production).
    let keys = KeyRing::load_or_create(&KeyRing::default_path(&dir)).unwrap();
    let settings = platform::Settings { mfa_required: false, ..Default::default() };
    let p = Arc::new(Platform::new(db, &keys, settings).unwrap());
    platform::demo::generate(&p, platform::demo::Scale::Small, 2026, &|_| {}).await.unwrap();
    life::demo::generate(&p, 2026, kernel::dates::today()).await.unwrap();
    learning::demo::generate(&p).await.unwrap();
    let state = web::AppState {
        platform: p.clone(),
        metrics: Arc::new(ops::Metrics::default()),
        ops: Arc::new(ops::Ops::default()),
        secure_cookies: false,
    };
    let router = web::build_router(state);
    let pw = platform::demo::DEMO_PASSWORD;
    let staff = login(&router, "staff", pw).await.1;
    let security = login(&router, "security", pw).await.1;
    let mut people = Vec::new();
    let mut uri = "/api/v1/people?per_page=100".to_owned();
    while people.len() < 200 {
        let (_, page) = call(&router, "GET", &uri, &staff, None).await;
        people.extend(page["items"].as_array().cloned().unwrap_or_default());
        let Some(next) = page["next_cursor"].as_str() else { break };
        uri = format!("/api/v1/people?per_page=100&cursor={next}");
    }
    let mut members = Vec::new();
    for (i, person) in people.iter().take(200).enumerate() {
        let body = json!({"username": format!("m{i}"), "password": "Bench-Member-2026!", "display_name": format!("党员{i}"),
            "person_id": person["id"], "grants": []});
        if call(&router, "POST", "/api/v1/users", &security, Some(body)).await.0 == 201 {
            members.push(format!("m{i}"));
        }
    }
    let member = login(&router, &members[0], "Bench-Member-2026!").await.1;
    let (_, exams) = call(&router, "GET", "/api/v1/learning/exams", &member, None).await;
    let practice = exams["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["mode"] == "practice")
        .and_then(|e| e["id"].as_i64())
        .expect("the demo's practice");

    let members = Arc::new(members);
    let (requests, limited, failed) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let run_for = Duration::from_secs(15);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (router, members) = (router.clone(), members.clone());
        let (requests, limited, failed) = (requests.clone(), limited.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while started.elapsed() < run_for {
                let name = &members[i % members.len()];
                i += 8;
                let count = |st: u16| {
                    requests.fetch_add(1, Ordering::Relaxed);
                    if st == 429 {
                        limited.fetch_add(1, Ordering::Relaxed);
                    } else if st >= 400 {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                };
                let (st, token) = login(&router, name, "Bench-Member-2026!").await;
                count(st);
                count(call(&router, "GET", "/api/v1/notices", &token, None).await.0);
                count(call(&router, "GET", "/api/v1/learning/exams", &token, None).await.0);
                let (st, attempt) =
                    call(&router, "POST", &format!("/api/v1/learning/exams/{practice}/attempts"), &token, None).await;
                count(st);
                if let Some(id) = attempt["id"].as_i64() {
                    let submit = format!("/api/v1/learning/attempts/{id}/submit");
                    count(call(&router, "POST", &submit, &token, Some(json!({"answers": []}))).await.0);
                }
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let n = requests.load(Ordering::Relaxed);
    println!(
        "\nmix (login, notices, exam list, practice start, submit) by {} members, 8 at once, {secs:.1} s: \
         {n} requests, {:.0} requests/s, {} answered 429, {} other errors",
        members.len(),
        n as f64 / secs,
        limited.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
