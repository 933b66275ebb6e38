//! The register import at scale (`cargo bench -p web --bench import`): a generated register of 100,000
//! valid applicants over 100 branches (CSV, about 10 MB), on SQLite in a temp dir, through the import job
//! as the page and the API run it: sealed and stored, checked (the dry run), then confirmed and written in
//! one transaction. Prints each step's time and the rows per second in Markdown for docs/PERFORMANCE.md;
//! a measurement, never a pass/fail test. `DJ_BENCH_ROWS` changes the number of rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, header};
use documents::sheet::Format;
use kernel::Db;
use platform::Platform;
use platform::service::system_actor;
use security::KeyRing;
use serde_json::{Value, json};
use tower::ServiceExt;

#[path = "../tests/it/register_gen.rs"]
mod register_gen;

async fn post(router: &axum::Router, uri: &str, token: &str, body: Value) -> Value {
    let mut req = Request::builder().method("POST").uri(uri).header(header::CONTENT_TYPE, "application/json");
    if !token.is_empty() {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let resp = router.clone().oneshot(req.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("DJ_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("dj-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::connect(None, &dir).await.unwrap();
    db.migrate().await.unwrap();
    let settings = platform::Settings { mfa_required: false, ..Default::default() };
    let platform = Arc::new(Platform::new(db, &KeyRing::for_tests(), settings).unwrap());
    platform.bootstrap_admin(Some("Bench-Admin-Pass-2026!")).await.unwrap();
    let state = web::AppState {
        platform: platform.clone(),
        metrics: Arc::new(ops::Metrics::default()),
        ops: Arc::new(ops::Ops::default()),
        secure_cookies: false,
    };
    let router = web::build_router(state);
    let login =
        post(&router, "/api/v1/auth/login", "", json!({"username": "admin", "password": "Bench-Admin-Pass-2026!"}))
            .await;
    let admin = login["token"].as_str().expect("admin login").to_owned();
    let org = |name: String, kind: &str, parent: Option<i64>| json!({"name": name, "kind": kind, "parent_id": parent, "category": "student"});
    let uni = post(&router, "/api/v1/orgs", &admin, org("基准大学党委".into(), "committee", None)).await["id"]
        .as_i64()
        .unwrap();
    let mut branches = Vec::new();
    for c in 1..=10 {
        let college =
            post(&router, "/api/v1/orgs", &admin, org(format!("第{c}学院党委"), "college_committee", Some(uni))).await
                ["id"]
                .as_i64()
                .unwrap();
        for b in 1..=10 {
            let name = format!("第{c}学院第{b}学生党支部");
            post(&router, "/api/v1/orgs", &admin, org(name.clone(), "branch", Some(college))).await;
            branches.push(name);
        }
    }
    let names: Vec<&str> = branches.iter().map(String::as_str).collect();
    let csv = register_gen::register_csv(0, rows, &names);

    let (ctx, actor) = (platform::Ctx::default(), system_actor());
    let t = Instant::now();
    let job = platform.create_import_job(&ctx, &actor, "bench.csv", csv.as_bytes(), Format::Csv).await.unwrap();
    let stored = t.elapsed();
    let t = Instant::now();
    assert!(platform.work_import_job(&ctx, &actor, job.id).await.unwrap());
    let checked = t.elapsed();
    let after = platform.import_job(&ctx, &actor, job.id).await.unwrap();
    assert_eq!(after.valid_rows as usize, rows, "{:?}", after.error);
    platform.confirm_import_job(&ctx, &actor, job.id).await.unwrap();
    let t = Instant::now();
    assert!(platform.work_import_job(&ctx, &actor, job.id).await.unwrap());
    let imported = t.elapsed();
    let done = platform.import_job(&ctx, &actor, job.id).await.unwrap();
    assert_eq!(done.imported as usize, rows, "{:?}", done.error);

    let per_sec = |d: std::time::Duration| rows as f64 / d.as_secs_f64();
    println!(
        "| step ({rows} rows, {:.1} MB CSV, SQLite) | seconds | rows/s |\n| --- | ---: | ---: |",
        csv.len() as f64 / 1e6
    );
    println!("| upload: sealed and stored in the job | {:.2} | |", stored.as_secs_f64());
    println!(
        "| check (the dry run: read, judge every row, look up every ID number) | {:.2} | {:.0} |",
        checked.as_secs_f64(),
        per_sec(checked)
    );
    println!(
        "| confirm: checked again and written in one transaction | {:.2} | {:.0} |",
        imported.as_secs_f64(),
        per_sec(imported)
    );
    println!(
        "| **upload to done** | **{:.2}** | {:.0} |",
        (stored + checked + imported).as_secs_f64(),
        per_sec(stored + checked + imported)
    );
    platform.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
