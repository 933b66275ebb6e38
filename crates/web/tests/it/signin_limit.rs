//! The global sign-in limit (security.md AT-35, control 24 "per user and global"): beyond a short queue of
//! sign-ins waiting for password hashing, a sign-in is answered at once with 503 `busy` and `Retry-After` —
//! the same for a known name, an unknown one and a wrong password, without counting toward the lockout or the
//! per-account limit and without writing anything — while those within the queue go on and succeed. Other
//! hashing callers (a password change) wait instead. No timing: the test holds every hashing permit
//! (`Platform::hold_hashing`) so the queue fills, and lets go.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::Db;
use serde_json::{Value, json};

use crate::support::*;

/// A JSON sign-in: status, `Retry-After`, body.
async fn api_login(app: &TestApp, username: &str, password: &str) -> (StatusCode, Option<u64>, Value) {
    let body = json!({"username": username, "password": password}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (st, headers, text) = app.request(req).await;
    (st, retry_after(&headers), serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn retry_after(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse().ok())
}

async fn scalar(db: &Db, sql: String) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

/// What a sign-in of `name` could have written: audit entries naming it, sessions, failures, rate counters.
async fn traces_of(app: &TestApp, name: &str) -> [i64; 4] {
    let db = &app.platform.db;
    let rate_windows = match db {
        Db::Postgres(_) => scalar(db, format!("SELECT COUNT(*) FROM rate_windows WHERE subject = '{name}'")).await,
        Db::Sqlite(_) => 0, // counted in memory there; the sign-in after the surge shows nothing was counted
    };
    [
        scalar(db, format!("SELECT COUNT(*) FROM audit_log WHERE target = 'user:{name}'")).await,
        scalar(
            db,
            format!("SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = '{name}'"),
        )
        .await,
        scalar(
            db,
            format!("SELECT CAST(COALESCE(MAX(failed_logins), 0) AS BIGINT) FROM users WHERE username = '{name}'"),
        )
        .await,
        rate_windows,
    ]
}

#[tokio::test]
async fn sign_ins_beyond_the_queue_are_503_with_retry_after_and_leave_no_trace() {
    for backend in [kernel::Backend::Sqlite, kernel::Backend::Postgres] {
        // A queue of 2, and the per-account limits on (10 sign-ins a minute per name).
        let app = TestApp::with_signin_queue(backend, 2).await;
        let t = tree(&app).await;
        let before = [traces_of(&app, "sec_a").await, traces_of(&app, "nobody").await];
        let held = app.platform.hold_hashing().await.unwrap();

        // Within the queue: two sign-ins wait for hashing. A password change takes no place in the queue
        // and waits as well, however full the queue is.
        let within = async {
            tokio::join!(
                api_login(&app, "staff", USER_PW),
                app.form("/login", &[("username", "admin"), ("password", ADMIN_PW), ("next", "/")], None),
                app.call(
                    "POST",
                    "/api/v1/auth/password",
                    Some(json!({"old_password": USER_PW, "new_password": "Changed-Later-2026!x"})),
                    Some(&t.staff),
                ),
            )
        };
        let beyond = async {
            let mut turns = 0u64;
            while app.platform.signins_waiting() < 2 {
                tokio::task::yield_now().await;
                turns += 1;
                assert!(turns < 10_000_000, "the two sign-ins never queued");
            }
            let mut refused = Vec::new();
            // A known account with the right password, then more wrong ones than the lockout (5) and the
            // per-account limit (10) allow, an unknown name, a locked-out-looking guess: all the same 503.
            refused.push(api_login(&app, "sec_a", USER_PW).await);
            for _ in 0..11 {
                refused.push(api_login(&app, "sec_a", "wrong-password-1").await);
            }
            refused.push(api_login(&app, "nobody", USER_PW).await);
            refused.push(api_login(&app, "nobody", "wrong-password-1").await);
            // The login page: 503, the form again with the name typed, never the password.
            let page = app
                .form("/login", &[("username", "sec_a"), ("password", "Secret-Typed-2026!"), ("next", "/")], None)
                .await;
            let after = [traces_of(&app, "sec_a").await, traces_of(&app, "nobody").await];
            assert_eq!(app.platform.signins_waiting(), 2, "the refused ones never queued");
            drop(held);
            (refused, page, after)
        };
        let ((staff, admin_page, change), (refused, (page_st, page_headers, page), after)) =
            tokio::join!(within, beyond);

        for (i, (st, retry, v)) in refused.iter().enumerate() {
            assert_eq!(
                (*st, v["error"]["code"].as_str()),
                (StatusCode::SERVICE_UNAVAILABLE, Some("busy")),
                "#{i}: {v}"
            );
            let retry = retry.unwrap_or_else(|| panic!("#{i}: no Retry-After"));
            assert!((2..=5).contains(&retry), "#{i}: Retry-After {retry}");
            assert_eq!(v["error"]["message"], format!("登录人数较多，请稍后再试（约{retry}秒）"), "#{i}");
        }
        assert_eq!(page_st, StatusCode::SERVICE_UNAVAILABLE);
        assert!(retry_after(&page_headers).is_some(), "the page says when to retry too");
        assert!(page.contains("登录人数较多，请稍后再试"), "{page}");
        assert!(page.contains(r#"value="sec_a""#), "the name typed is kept: {page}");
        assert!(!page.contains("Secret-Typed-2026!"), "the password is never echoed");
        assert!(!page_headers.contains_key(header::SET_COOKIE), "no session");
        assert_eq!(after, before, "a refused sign-in writes nothing: audit, sessions, failures, rate counters");
        assert_eq!(app.platform.signins_refused(), refused.len() as u64 + 1);

        // Those within the queue were served once hashing went on.
        assert_eq!(staff.0, StatusCode::OK, "{:?}", staff.2);
        assert_eq!(admin_page.0, StatusCode::SEE_OTHER, "the queued web sign-in");
        assert!(admin_page.1.get(header::SET_COOKIE).is_some());
        assert!(change.0.is_success(), "the password change waited and went through: {:?}", change.1);

        // The refused account is neither locked nor over its per-account limit: it signs in now.
        let (st, _, v) = api_login(&app, "sec_a", USER_PW).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(traces_of(&app, "sec_a").await[2], 0, "no failure was counted");
        // Counted apart from failed sign-ins.
        let (_, _, metrics) = app.request(Request::get("/metrics").body(Body::empty()).unwrap()).await;
        let busy = format!("dangjian_logins_total{{result=\"busy\"}} {}", refused.len() + 1);
        assert!(metrics.contains(&busy), "{busy} missing:\n{metrics}");
        assert!(metrics.contains("dangjian_logins_total{result=\"failed\"} 0"), "{metrics}");
        // And an unknown name is back to the usual answer.
        let (st, retry, v) = api_login(&app, "nobody", USER_PW).await;
        assert_eq!((st, retry, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, None, Some("bad_credentials")));
        app.cleanup().await;
    }
}
