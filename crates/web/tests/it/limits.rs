//! Per-user rate limits (security.md AT-35) and the reveal limit of each role (AT-14): the N+1-th call is
//! 429 with `Retry-After`, as JSON or as a Chinese page; another user from the same address is not
//! affected, and a thousand users behind one NAT address never are. On SQLite (counted in memory) and on
//! PostgreSQL (counted in `rate_windows`, shared by instances).

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use platform::limits::{Bucket, Limiter};
use serde_json::json;

use crate::support::*;

/// Waits for a fresh window when fewer than `margin` seconds are left in the current one of `bucket`, so
/// that a test's calls all fall into one window.
async fn fresh_window(bucket: Bucket, margin: i64) {
    let w = bucket.limit().window_secs;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let left = w - now.rem_euclid(w);
    if left < margin {
        tokio::time::sleep(std::time::Duration::from_secs(left as u64 + 1)).await;
    }
}

/// A GET with a bearer token: status, `Retry-After` and the JSON body.
async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Option<u64>, serde_json::Value) {
    let req = Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    let (st, headers, text) = app.request(req).await;
    let retry = headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok());
    (st, retry, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn the_call_beyond_the_limit_is_429_with_retry_after_and_others_go_on() {
    for backend in [kernel::Backend::Sqlite, kernel::Backend::Postgres] {
        let app = TestApp::with_limits(backend).await;
        let t = tree(&app).await;
        let search = Bucket::Search.limit();
        fresh_window(Bucket::Search, 20).await;
        for i in 0..search.max {
            let (st, retry, v) = get(&app, "/api/v1/search?q=%E5%85%9A%E8%B4%B9", &t.sec_a).await;
            assert_eq!((st, retry), (StatusCode::OK, None), "search {i}: {v}");
        }
        let (st, retry, v) = get(&app, "/api/v1/search?q=%E5%85%9A%E8%B4%B9", &t.sec_a).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");
        assert!(retry.is_some_and(|r| (1..=60).contains(&r)), "Retry-After: {retry:?}");
        assert_eq!(v["error"]["message"], "搜索过于频繁，请稍后再试");
        // Another account, same address: not affected.
        assert_eq!(get(&app, "/api/v1/search?q=%E5%85%9A%E8%B4%B9", &t.staff).await.0, StatusCode::OK);
        // The same user in the browser: the limit is hers, not the client's; a Chinese page says so.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page("/learning?q=%E5%85%9A%E8%B4%B9", &cookie).await;
        assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
        assert!(html.contains("搜索过于频繁"), "{html}");
        // Without a search the same page is not counted.
        assert_eq!(app.page("/learning", &cookie).await.0, StatusCode::OK);

        // Logins: per account name, whatever the address.
        fresh_window(Bucket::Login, 15).await;
        let login = |name: &'static str, pw: &'static str| {
            let body = json!({"username": name, "password": pw});
            let app = &app;
            async move { app.call("POST", "/api/v1/auth/login", Some(body), None).await }
        };
        for _ in 0..Bucket::Login.limit().max {
            assert_eq!(login("ghost", "wrong-password-1").await.0, StatusCode::UNAUTHORIZED);
        }
        let (st, v) = login("ghost", "wrong-password-1").await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
        assert_eq!(login("Ghost", "wrong-password-1").await.0, StatusCode::TOO_MANY_REQUESTS, "names are one account");
        assert_eq!(login("staff", USER_PW).await.0, StatusCode::OK, "another account from the same address");
        app.cleanup().await;
    }
}

#[tokio::test]
async fn a_thousand_users_behind_one_address_are_never_limited() {
    for backend in [kernel::Backend::Sqlite, kernel::Backend::Postgres] {
        let app = TestApp::with_limits(backend).await;
        // Sign-in attempts of 1,000 accounts from one address (the tests' requests all come from one).
        fresh_window(Bucket::Login, 30).await;
        for i in 0..1000 {
            let body = json!({"username": format!("student{i}"), "password": "not-the-password-1"});
            let (st, v) = app.call("POST", "/api/v1/auth/login", Some(body), None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "student{i}: {v}");
        }
        // The counters themselves: 1,000 users starting a quiz at once (twice: a reload), none refused; one
        // user beyond the limit is.
        let limiter = Limiter::default();
        let db = &app.platform.db;
        let now = 1_800_000_000;
        for user in 0..1000 {
            for _ in 0..2 {
                assert!(limiter.hit_at(db, Bucket::QuizStart, &format!("{user}"), now).await.is_ok());
            }
        }
        for _ in 2..Bucket::QuizStart.limit().max {
            assert!(limiter.hit_at(db, Bucket::QuizStart, "7", now).await.is_ok());
        }
        let over = limiter.hit_at(db, Bucket::QuizStart, "7", now + 1).await.unwrap_err();
        assert_eq!(over.retry_after, (Bucket::QuizStart.limit().window_secs - (now + 1) % 60) as u64);
        // The next window starts again.
        assert!(limiter.hit_at(db, Bucket::QuizStart, "7", now + 60).await.is_ok());
        app.cleanup().await;
    }
}

#[tokio::test]
async fn on_postgresql_instances_share_the_count() {
    let app = TestApp::with_limits(kernel::Backend::Postgres).await;
    // Two instances: two limiters over one database.
    let (a, b) = (Limiter::default(), Limiter::default());
    let db = &app.platform.db;
    let now = 1_800_000_000;
    let max = Bucket::Export.limit().max;
    for i in 0..max {
        let l = if i % 2 == 0 { &a } else { &b };
        assert!(l.hit_at(db, Bucket::Export, "42", now).await.is_ok());
    }
    assert!(a.hit_at(db, Bucket::Export, "42", now).await.is_err());
    assert!(b.hit_at(db, Bucket::Export, "42", now).await.is_err());
    app.cleanup().await;
}

/// A GET of a public page from `ip` (no session): status and body.
async fn get_from(app: &TestApp, path: &str, ip: [u8; 4]) -> (StatusCode, String) {
    let peer = std::net::SocketAddr::from((ip, 40_000));
    let req = Request::get(path).extension(axum::extract::ConnectInfo(peer)).body(Body::empty()).unwrap();
    let (st, _, text) = app.request(req).await;
    (st, text)
}

#[tokio::test]
async fn the_public_verification_pages_are_limited_per_client_address() {
    for backend in [kernel::Backend::Sqlite, kernel::Backend::Postgres] {
        let app = TestApp::with_limits(backend).await;
        fresh_window(Bucket::Verify, 30).await;
        let max = Bucket::Verify.limit().max;
        for i in 0..max {
            // Letters and certificates share the count: walking either is the same enumeration.
            let path = if i % 2 == 0 { "/verify/certificates/2026-000001-00000000" } else { "/verify/letters/NOPE" };
            let (st, page) = get_from(&app, path, [10, 1, 2, 3]).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "try {i}: {page}");
        }
        let (st, page) = get_from(&app, "/verify/certificates/2026-000002-00000000", [10, 1, 2, 3]).await;
        assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
        assert!(page.contains("查验过于频繁"), "{page}");
        // Another address is not affected.
        let (st, _) = get_from(&app, "/verify/certificates/2026-000002-00000000", [10, 9, 9, 9]).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app.cleanup().await;
    }
}
