//! The province benchmark (`cargo bench -p web --bench province`): server time of the people list (page
//! and API) for subtrees of every size, the dashboard's subtree counts, login; the people-list page's
//! throughput next to a bare axum + askama page of the same size, measured over real HTTP in the same run;
//! and the resident memory of a `dangjian serve` process with the province loaded.
//!
//! The dataset is `dangjian demo --scale province --seed 2026`, made on first run in
//! `DJ_BENCH_DIR` (default /var/tmp/dangjian-bench-province) and reused afterwards. Figures go to stdout
//! in Markdown, ready for docs/PERFORMANCE.md. This is a measurement, never a pass/fail test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::response::Html;
use axum::routing::get;
use kernel::Db;
use platform::Platform;
use security::KeyRing;
use serde_json::Value;
use tower::ServiceExt;

fn bench_dir() -> PathBuf {
    std::env::var("DJ_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/var/tmp/dangjian-bench-province"))
}

async fn call(router: &Router, method: &str, uri: &str, token: &str, body: Option<String>) -> (u16, String) {
    let mut req = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .header(header::COOKIE, format!("dj_session={token}"))
        .body(body.map(Body::from).unwrap_or_default())
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Signs in through the API; `None` when the account cannot (it does not exist yet).
async fn login(router: &Router, username: &str) -> Option<String> {
    let body = format!(r#"{{"username":"{username}","password":"Demo-Pass-2026!"}}"#);
    let (_, text) = call(router, "POST", "/api/v1/auth/login", "", Some(body)).await;
    serde_json::from_str::<Value>(&text).ok()?["token"].as_str().map(str::to_string)
}

/// Runs `f` `n` times after 3 warm-up runs; returns (p50, p95, mean) in milliseconds.
async fn time<F, Fut>(n: usize, mut f: F) -> (f64, f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..3 {
        f().await;
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mean = v.iter().sum::<f64>() / n as f64;
    (v[n / 2], v[(n * 95 / 100).min(n - 1)], mean)
}

/// One row of the bare page: id and eight shown columns.
type BareRow = (i64, String, String, String, String, String, String, String, String);

/// The bare page: the same frame (head and tail copied from the real page, so the bytes match) and 20
/// rows rendered by askama from data in memory — no session, no database.
#[derive(Template)]
#[template(
    source = r#"{{ head|safe }}{% for r in rows %}<tr><td data-label="姓名"><a href="/people/{{ r.0 }}">{{ r.1 }}</a></td><td data-label="性别">{{ r.2 }}</td><td data-label="出生日期">{{ r.3 }}</td><td data-label="发展阶段"><span class="stage stage-probationary">{{ r.4 }}</span></td><td data-label="人员类别">{{ r.5 }}</td><td data-label="所在党组织">{{ r.6 }}</td><td data-label="身份证号" class="mono">{{ r.7 }}</td><td data-label="联系电话" class="mono">{{ r.8 }}</td></tr>{% endfor %}{{ tail|safe }}"#,
    ext = "html"
)]
struct BarePage {
    head: Arc<str>,
    tail: Arc<str>,
    rows: Vec<BareRow>,
}

fn bare_rows() -> Vec<BareRow> {
    (0..20)
        .map(|i| {
            (
                1_000_000 + i,
                "王晓明".into(),
                "男".into(),
                "2001-05-06".into(),
                "预备党员".into(),
                "学生".into(),
                "计算机科学与技术学院2024级本科生第一党支部".into(),
                "330106********123X".into(),
                "138****8000".into(),
            )
        })
        .collect()
}

fn wrk(url: &str, cookie: &str) -> Option<f64> {
    let out = std::process::Command::new("wrk")
        .args(["-t2", "-c8", "-d8s", "-H", &format!("Cookie: {cookie}"), url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find(|l| l.starts_with("Requests/sec:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

#[tokio::main]
async fn main() {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let keys = KeyRing::load_or_create(&KeyRing::default_path(&dir)).unwrap();
    let db = Db::connect(None, &dir).await.unwrap();
    db.migrate().await.unwrap();
    let settings = platform::Settings { mfa_required: false, ..Default::default() };
    let p = Arc::new(Platform::new(db, &keys, settings).unwrap());
    let started = Instant::now();
    let report = platform::demo::generate(&p, platform::demo::Scale::Province, 2026, &|n| {
        if n % 100_000 == 0 {
            eprintln!("  demo: {n} people");
        }
    })
    .await
    .unwrap();
    if !report.already_present {
        println!(
            "Generated the province: {} organizations, {} people in {:.0} s.\n",
            report.orgs,
            report.people,
            started.elapsed().as_secs_f64()
        );
    }
    // A year of meetings for every branch (the compliance roll-up measures nothing without them).
    if !life::store::any_meeting(&p.db).await.unwrap() {
        let t = Instant::now();
        let n = life::demo::province_year(&p, kernel::dates::today()).await.unwrap();
        println!(
            "Generated this year's meetings of every branch: {n} attendance rows in {:.0} s.\n",
            t.elapsed().as_secs_f64()
        );
    }
    // DJ_BENCH_ONLY=a,b: only the cases whose label holds a or b (`checkin` for the sign-in of 300), no HTTP
    // throughput nor memory.
    let only = std::env::var("DJ_BENCH_ONLY").unwrap_or_default();
    let state = web::AppState {
        platform: p.clone(),
        metrics: Arc::new(ops::Metrics::default()),
        ops: Arc::new(ops::Ops::default()),
        secure_cookies: false,
    };
    let router = web::build_router(state);
    let login_body = r#"{"username":"staff","password":"Demo-Pass-2026!"}"#.to_string();
    let token = login(&router, "staff").await.unwrap();
    let (_, me) = call(&router, "GET", "/api/v1/me", &token, None).await;
    let root: i64 = serde_json::from_str::<Value>(&me).unwrap()["grants"][0]["org_id"].as_i64().unwrap();
    // The province's top committee, a university, a college and a branch.
    let (_, uni) = call(&router, "GET", &format!("/api/v1/orgs/{root}"), &token, None).await;
    let province = serde_json::from_str::<Value>(&uni).unwrap()["parent_id"].as_i64();
    let (_, colleges) = call(&router, "GET", &format!("/api/v1/orgs?parent_id={root}"), &token, None).await;
    let college = serde_json::from_str::<Value>(&colleges).unwrap()[0]["id"].as_i64().unwrap();
    let (_, branches) = call(&router, "GET", &format!("/api/v1/orgs?parent_id={college}"), &token, None).await;
    let branch = serde_json::from_str::<Value>(&branches).unwrap()[0]["id"].as_i64().unwrap();

    // The college's dues (the fee ledger reads nothing otherwise): the demo's fee profiles and a year and
    // more of payments for its branches' members (at most 30 a branch), once.
    let college_branches: Vec<i64> = serde_json::from_str::<Value>(&branches)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["id"].as_i64())
        .collect();
    let t = Instant::now();
    let fees = affairs::demo::fees_for(&p, &college_branches, kernel::dates::today()).await.unwrap();
    if fees.fee_profiles > 0 {
        println!(
            "Gave the college's members dues: {} fee profiles, {} payments in {:.0} s.\n",
            fees.fee_profiles,
            fees.fee_payments,
            t.elapsed().as_secs_f64()
        );
    }
    // The province-wide subtree needs a province-wide reader: the security admin grants one for the bench.
    let sec = login(&router, "security").await.unwrap();
    if let Some(prov) = province {
        let body = format!(
            r#"{{"username":"bench_province","password":"Demo-Pass-2026!","display_name":"省级组织员","grants":[{{"role":"org_staff","org_id":{prov}}}]}}"#
        );
        let _ = call(&router, "POST", "/api/v1/users", &sec, Some(body)).await;
    }
    let province_token = login(&router, "bench_province").await.unwrap_or(token.clone());
    let province = province.unwrap_or(root);

    let (_, stats) = call(&router, "GET", &format!("/api/v1/orgs/{province}/stats"), &province_token, None).await;
    let people = serde_json::from_str::<Value>(&stats).unwrap()["total"].as_i64().unwrap_or(0);
    // The to-do rows of people loaded by the demo are stale until a list first recomputes them (once).
    let t = Instant::now();
    let (st, _) = call(&router, "GET", &format!("/api/v1/orgs/{root}/development/todo"), &token, None).await;
    assert_eq!(st, 200);
    println!(
        "(first development to-do of the university, recomputing its stale rows: {:.0} ms)\n",
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!("## Server time, in process (release build, SQLite, {people} people)\n");
    println!("| request | p50 ms | p95 ms | mean ms |\n| --- | ---: | ---: | ---: |");
    let mut cases: Vec<(String, String, String)> = vec![
        ("people list page, whole province (1M)".into(), format!("/people?org_id={province}"), province_token.clone()),
        ("people list page, one university".into(), format!("/people?org_id={root}"), token.clone()),
        ("people list page, one college".into(), format!("/people?org_id={college}"), token.clone()),
        ("people list page, one branch".into(), format!("/people?org_id={branch}"), token.clone()),
        (
            "people list page, province, stage=probationary".into(),
            format!("/people?org_id={province}&stage=probationary"),
            province_token.clone(),
        ),
        ("people list API, whole province".into(), format!("/api/v1/people?org_id={province}"), province_token.clone()),
        ("people list API, one branch".into(), format!("/api/v1/people?org_id={branch}"), token.clone()),
        ("people list API, next page by cursor (province)".into(), String::new(), province_token.clone()),
        (
            "subtree counts by stage and category, whole province".into(),
            format!("/api/v1/orgs/{province}/stats"),
            province_token.clone(),
        ),
        ("subtree counts, one college".into(), format!("/api/v1/orgs/{college}/stats"), token.clone()),
        ("org page with children and counts, province".into(), format!("/orgs/{province}"), province_token.clone()),
        (
            "development to-do API (发展党员待办), one college".into(),
            format!("/api/v1/orgs/{college}/development/todo"),
            token.clone(),
        ),
        ("development to-do page, one college".into(), format!("/development?org_id={college}"), token.clone()),
        (
            "development to-do API, one university (at most 2,000 lines)".into(),
            format!("/api/v1/orgs/{root}/development/todo"),
            token.clone(),
        ),
        (
            "fee ledger API (党费年度台账), one college".into(),
            format!("/api/v1/orgs/{college}/fee-ledger"),
            token.clone(),
        ),
        ("fee ledger page, one college".into(), format!("/orgs/{college}/fees"), token.clone()),
        (
            "compliance roll-up API (合规汇总), one college".into(),
            format!("/api/v1/orgs/{college}/compliance/rollup"),
            token.clone(),
        ),
        ("compliance calendar of one branch".into(), format!("/api/v1/orgs/{branch}/compliance"), token.clone()),
        (
            "compliance roll-up API, one university".into(),
            format!("/api/v1/orgs/{root}/compliance/rollup"),
            token.clone(),
        ),
        ("compliance roll-up page, one university".into(), format!("/orgs/{root}/compliance"), token.clone()),
        (
            "compliance roll-up API, whole province".into(),
            format!("/api/v1/orgs/{province}/compliance/rollup"),
            province_token.clone(),
        ),
    ];
    if !only.is_empty() {
        cases.retain(|(label, _, _)| only.split(',').any(|o| label.contains(o)));
    }
    let (_, first) = call(&router, "GET", &format!("/api/v1/people?org_id={province}"), &province_token, None).await;
    let cursor = serde_json::from_str::<Value>(&first).unwrap()["next_cursor"].as_str().unwrap_or("").to_string();
    for (label, uri, tok) in &cases {
        let uri = if uri.is_empty() {
            format!("/api/v1/people?org_id={province}&cursor={}", web::auth::encode(&cursor))
        } else {
            uri.clone()
        };
        let t = Instant::now();
        let (st, body) = call(&router, "GET", &uri, tok, None).await;
        assert_eq!(st, 200, "{label}: {uri}: {}", body.chars().take(300).collect::<String>());
        if label.contains("roll-up API") {
            let v: Value = serde_json::from_str(&body).unwrap();
            println!(
                "| ({label}: first call {:.0} ms, {} lines, {} flags, truncated {}) | | | |",
                t.elapsed().as_secs_f64() * 1000.0,
                v["lines"].as_array().map_or(0, Vec::len),
                v["flags"],
                v["truncated"]
            );
        }
        // Requests of a second or more are timed fewer times.
        let n = if t.elapsed() > Duration::from_millis(200) { 5 } else { 200 };
        let (p50, p95, mean) = time(n, || {
            let router = &router;
            let uri = &uri;
            async move {
                call(router, "GET", uri, tok, None).await;
            }
        })
        .await;
        println!("| {label} | {p50:.2} | {p95:.2} | {mean:.2} |");
    }
    if only.split(',').any(|o| o == "rollup-pieces") {
        rollup_pieces(&p, province).await;
    }
    if only.is_empty() || only.split(',').any(|o| o == "checkin") {
        checkin_300(&router, &p, &token, root).await;
    }
    if !only.is_empty() {
        return;
    }
    // Where the time of one list page goes: the pieces on their own.
    let ctx = platform::Ctx::default();
    let actor = p.authenticate(&token).await.unwrap();
    let query = platform::service::PeopleQuery { org_id: Some(root), ..Default::default() };
    let pieces: Vec<(&str, u8)> = vec![
        ("· piece: authenticate (session, user, grants: one query)", 0),
        ("· piece: list_people service (org, page, total)", 1),
        ("· piece: SELECT 1 through the pool (driver round trip)", 2),
        ("· piece: the page query alone (21 rows)", 3),
        ("· piece: the total alone (SUM over the subtree's counts)", 4),
    ];
    let (uni_path, uni_end) = (format!("/1/{root}/"), format!("/1/{root}0"));
    let filter = platform::store::PeopleFilter::default();
    for (label, which) in pieces {
        let (p50, p95, mean) = time(300, || {
            let (p, token, actor, ctx, query) = (&p, &token, &actor, &ctx, &query);
            let (uni_path, uni_end, filter) = (&uni_path, &uni_end, &filter);
            async move {
                match which {
                    0 => drop(p.authenticate(token).await.unwrap()),
                    1 => drop(p.list_people(ctx, actor, query).await.unwrap()),
                    2 => p.db.ping().await.unwrap(),
                    3 => drop(platform::store::list_people(&p.db, uni_path, uni_end, filter, None, 21).await.unwrap()),
                    _ => drop(platform::store::count_total(&p.db, &[root], None, None).await.unwrap()),
                }
            }
        })
        .await;
        println!("| {label} | {p50:.3} | {p95:.3} | {mean:.3} |");
    }
    let (p50, p95, mean) = time(20, || {
        let router = &router;
        let b = login_body.clone();
        async move {
            call(router, "POST", "/api/v1/auth/login", "", Some(b)).await;
        }
    })
    .await;
    println!("| login (argon2id m=19 MiB, t=2) | {p50:.2} | {p95:.2} | {mean:.2} |");

    // Throughput over real HTTP: the people-list page next to a bare axum + askama page of the same size.
    let (_, page) = call(&router, "GET", &format!("/people?org_id={root}"), &token, None).await;
    let cut = page.find("<tbody id=\"rows\">").map(|i| i + "<tbody id=\"rows\">".len()).unwrap_or(0);
    let end = page.rfind("</tbody>").unwrap_or(page.len());
    let head: Arc<str> = page[..cut].into();
    let tail: Arc<str> = page[end..].into();
    let bare_html = BarePage { head: head.clone(), tail: tail.clone(), rows: bare_rows() }.render().unwrap();
    let bare_router = Router::new().route(
        "/bare",
        get(move || {
            let (head, tail) = (head.clone(), tail.clone());
            async move { Html(BarePage { head, tail, rows: bare_rows() }.render().unwrap()) }
        }),
    );
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (app_addr, bare_addr) = (app_listener.local_addr().unwrap(), bare_listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(app_listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    tokio::spawn(async move { axum::serve(bare_listener, bare_router).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cookie = format!("dj_session={token}");
    let url_app = format!("http://{app_addr}/people?org_id={root}");
    let url_bare = format!("http://{bare_addr}/bare");
    let wrk_app = tokio::task::spawn_blocking({
        let (u, c) = (url_app.clone(), cookie.clone());
        move || wrk(&u, &c)
    })
    .await
    .unwrap();
    let wrk_bare = tokio::task::spawn_blocking(move || wrk(&url_bare, "x=y")).await.unwrap();
    println!("\n## Throughput over HTTP (wrk -t2 -c8 -d8s, same process, same run)\n");
    println!("| page | bytes | requests/s |\n| --- | ---: | ---: |");
    println!(
        "| people-list page (university subtree, 20 rows, session check, audit-free read) | {} | {} |",
        page.len(),
        wrk_app.map(|v| format!("{v:.0}")).unwrap_or("wrk missing".into())
    );
    println!(
        "| bare axum + askama page, same columns, 20 rows | {} | {} |",
        bare_html.len(),
        wrk_bare.map(|v| format!("{v:.0}")).unwrap_or("wrk missing".into())
    );
    if let (Some(a), Some(b)) = (wrk_app, wrk_bare) {
        println!("\nThe people-list page reaches {:.0} % of the bare page's throughput.", a / b * 100.0);
    }

    // Memory of the real server with the province loaded, after serving the list for a while.
    let exe = std::env::var("DJ_EXE").map(PathBuf::from).unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").into());
        PathBuf::from(target).join("release/dangjian")
    });
    if exe.exists() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut child = std::process::Command::new(&exe)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(&dir)
            .env("DANGJIAN_MFA_REQUIRED", "false")
            .env("DANGJIAN_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let served = tokio::task::spawn_blocking({
            let (u, c) = (format!("http://127.0.0.1:{port}/people?org_id={root}"), cookie.clone());
            move || wrk(&u, &c)
        })
        .await
        .unwrap();
        let (rss, hwm) = rss_mib(child.id());
        println!("\n## Memory of `dangjian serve` with the province loaded\n");
        println!(
            "After {} requests/s of the people-list page for 8 s: resident {rss:.0} MiB, peak {hwm:.0} MiB.",
            served.map(|v| format!("{v:.0}")).unwrap_or("?".into())
        );
        let _ = child.kill();
        let _ = child.wait();
    } else {
        println!(
            "\n(no release binary at {}: build it with `cargo build --release` to measure server memory)",
            exe.display()
        );
    }
}

/// Issue 4: 300 members of one university (a college has about 230) sign in to one meeting of its committee
/// through the QR token path at once, each from her own session: the page the QR code opens, then its
/// button. Prints the wall time, the statuses and the attendance recorded.
async fn checkin_300(router: &Router, p: &Platform, staff: &str, college: i64) {
    const N: usize = 300;
    let admin = login(router, "admin").await.unwrap();
    let org = platform::store::get_org(&p.db, college).await.unwrap().unwrap();
    let end = platform::model::subtree_end(&org.path);
    let members: Vec<i64> =
        life::store::members(&p.db, &org.path, &end).await.unwrap().into_iter().map(|m| m.id).take(N).collect();
    let t = Instant::now();
    let mut tokens = Vec::new();
    for (i, person) in members.iter().enumerate() {
        let username = format!("bench_u{i:03}");
        let body = serde_json::json!({"username": username, "password": "Demo-Pass-2026!", "display_name": username,
            "person_id": person, "grants": []});
        let _ = call(router, "POST", "/api/v1/users", &admin, Some(body.to_string())).await;
        tokens.push(login(router, &username).await.expect("member account"));
    }
    eprintln!("  {} member accounts signed in ({:.0} s)", tokens.len(), t.elapsed().as_secs_f64());
    let today = kernel::dates::today().to_string();
    let body = serde_json::json!({"org_id": college, "kind": "party_lecture", "title": "全校党课（签到压力测试）",
        "held_on": today, "attendee_ids": members});
    let (st, made) = call(router, "POST", "/api/v1/meetings", staff, Some(body.to_string())).await;
    assert!(st == 200 || st == 201, "{st} {made}");
    let meeting = serde_json::from_str::<Value>(&made).unwrap()["id"].as_i64().unwrap();
    let (st, screen) = call(router, "GET", &format!("/meetings/{meeting}/checkin"), staff, None).await;
    assert_eq!(st, 200);
    let link =
        screen.split("id=\"checkin-link\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    let qr = link.split("t=").nth(1).unwrap().to_string();
    let started = Instant::now();
    let runs: Vec<_> = tokens
        .into_iter()
        .map(|session| {
            let router = router.clone();
            let qr = qr.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let get = Request::builder()
                    .uri(format!("/checkin/{meeting}?t={qr}"))
                    .header(header::COOKIE, format!("dj_session={session}"))
                    .body(Body::empty())
                    .unwrap();
                let opened = router.clone().oneshot(get).await.unwrap().status().as_u16();
                let qr = qr.replace("%2E", ".").replace("%2e", ".");
                let form =
                    format!("csrf={}&t={}", web::auth::encode(&web::csrf::token(&session)), web::auth::encode(&qr));
                let post = Request::builder()
                    .method("POST")
                    .uri(format!("/checkin/{meeting}"))
                    .header(header::COOKIE, format!("dj_session={session}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .unwrap();
                let resp = router.oneshot(post).await.unwrap();
                let status = resp.status().as_u16();
                let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
                let done = String::from_utf8_lossy(&bytes).contains("签到成功");
                (opened, status, done, t.elapsed().as_secs_f64() * 1000.0)
            })
        })
        .collect();
    let mut results = Vec::new();
    for r in runs {
        results.push(r.await.unwrap());
    }
    let wall = started.elapsed().as_secs_f64();
    let mut ms: Vec<f64> = results.iter().map(|r| r.3).collect();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let ok = results.iter().filter(|r| r.0 == 200 && r.1 == 200 && r.2).count();
    let mut statuses: std::collections::BTreeMap<(u16, u16), usize> = std::collections::BTreeMap::new();
    for r in &results {
        *statuses.entry((r.0, r.1)).or_default() += 1;
    }
    let (_, v) = call(router, "GET", &format!("/api/v1/meetings/{meeting}"), staff, None).await;
    let v: Value = serde_json::from_str(&v).unwrap();
    let present = v["attendees"].as_array().map_or(0, |a| a.iter().filter(|x| x["attendance"] == "present").count());
    println!(
        "\n## QR sign-in of {} members to one meeting, all at once (in process, through the router)\n\n\
         {} sessions each opened the page and pressed the button concurrently: all done in {wall:.2} s; \
         {ok} answered 签到成功; statuses (page, button) {statuses:?}; per member (page + button) p50 {:.0} ms, \
         p95 {:.0} ms, max {:.0} ms; attendance afterwards: {present} present of {} invited.",
        results.len(),
        results.len(),
        ms[ms.len() / 2],
        ms[(ms.len() * 95 / 100).min(ms.len() - 1)],
        ms[ms.len() - 1],
        v["attendees"].as_array().map_or(0, Vec::len),
    );
}

/// Where the province-wide roll-up's time goes: its queries alone, through sqlx (DJ_BENCH_ONLY=rollup-pieces).
async fn rollup_pieces(p: &Platform, province: i64) {
    let org = platform::store::get_org(&p.db, province).await.unwrap().unwrap();
    let end = platform::model::subtree_end(&org.path);
    let today = kernel::dates::today();
    let (from, to) = (time::Date::from_ordinal_date(today.year(), 1).unwrap(), today);
    println!("\n| piece of the province roll-up | rows | ms |\n| --- | ---: | ---: |");
    let t = Instant::now();
    let n = platform::store::search_orgs(&p.db, &org.path, &end, "", false, i64::MAX).await.unwrap().len();
    println!("| the organizations of the subtree | {n} | {:.0} |", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let n = life::store::calendar_months(&p.db, &org.path, &end, from, to).await.unwrap().len();
    println!(
        "| meetings grouped by organization, kind and month (the quorum from the counts on the row) | {n} | {:.0} |",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let n = life::store::full_member_counts(&p.db, &org.path, &end).await.unwrap().len();
    println!(
        "| full members of each subtree, from the head counts | {n} | {:.0} |",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let n = life::store::full_members_out_of_force(&p.db, &org.path, &end).await.unwrap().len();
    println!(
        "| full members not in force (deceased, left, suspended), by organization | {n} | {:.0} |",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let n = life::service::formal_members(&p.db, &org.path, &end).await.unwrap().len();
    println!(
        "| formal members of each organization (the two above, combined) | {n} | {:.0} |",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let n = life::store::talk_participants(&p.db, &org.path, &end, None, from, to).await.unwrap().len();
    println!(
        "| talk participants (read only once the year has ended) | {n} | {:.0} |",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    let n = life::store::members(&p.db, &org.path, &end).await.unwrap().len();
    println!("| members (read only once the year has ended) | {n} | {:.0} |", t.elapsed().as_secs_f64() * 1000.0);
}
