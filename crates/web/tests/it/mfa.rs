//! The second factor and step-up (security.md AT-4, AT-5, AT-7): administrators cannot get a session
//! with a password alone, a code is accepted once, recovery codes work once, only another
//! administrator resets a second factor (audited), a password change keeps it, sensitive actions need a
//! recent proof of identity, and privileged web sessions idle out sooner.

#![allow(clippy::unwrap_used)]

use axum::http::{StatusCode, header};
use kernel::Db;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::*;

fn code(secret_b32: &str, offset_secs: i64) -> String {
    let secret = security::totp::secret_from_base32(secret_b32).unwrap();
    let t = (OffsetDateTime::now_utc().unix_timestamp() + offset_secs) as u64;
    security::totp::code_at(&secret, t).unwrap()
}

/// Moves a column of every session of `username` into the past (the test's way of letting time pass).
async fn age_sessions(app: &TestApp, username: &str, column: &str, minutes: i64) {
    let at = OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
    let sql = match column {
        "reauth_at" => "UPDATE sessions SET reauth_at = $1 WHERE user_id = (SELECT id FROM users WHERE username = $2)",
        _ => "UPDATE sessions SET last_seen_at = $1 WHERE user_id = (SELECT id FROM users WHERE username = $2)",
    };
    match &app.platform.db {
        Db::Sqlite(p) => sqlx::query(sql).bind(at).bind(username).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sql).bind(at).bind(username).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

async fn login(app: &TestApp, username: &str, password: &str, otp: Option<&str>) -> (StatusCode, Value) {
    let body = json!({"username": username, "password": password, "otp": otp});
    app.call("POST", "/api/v1/auth/login", Some(body), None).await
}

/// Enrols `username` through the API; returns (token, secret, recovery codes).
async fn enrol(app: &TestApp, username: &str, password: &str) -> (String, String, Vec<String>) {
    let (st, v) = login(app, username, password, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "mfa_enrollment_required");
    let challenge = v["error"]["challenge"].as_str().unwrap().to_string();
    let (st, e) = app.call("POST", "/api/v1/auth/mfa/enrol", Some(json!({"challenge": challenge})), None).await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let secret = e["secret"].as_str().unwrap().to_string();
    assert!(e["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/dangjian%3A"));
    let (st, bad) = app
        .call("POST", "/api/v1/auth/mfa/confirm", Some(json!({"challenge": challenge, "otp": "000000"})), None)
        .await;
    assert_eq!((st, bad["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_second_factor")));
    let (st, done) = app
        .call("POST", "/api/v1/auth/mfa/confirm", Some(json!({"challenge": challenge, "otp": code(&secret, 0)})), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    let codes: Vec<String> =
        done["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10);
    (done["token"].as_str().unwrap().to_string(), secret, codes)
}

#[tokio::test]
async fn administrators_need_a_second_factor_used_once() {
    for backend in [kernel::Backend::Sqlite, kernel::Backend::Postgres] {
        let app = TestApp::with_mfa(backend, true).await;
        let (token, secret, codes) = enrol(&app, "admin", ADMIN_PW).await;
        let (st, me) = app.call("GET", "/api/v1/me", None, Some(&token)).await;
        assert_eq!((st, me["username"].as_str()), (StatusCode::OK, Some("admin")));

        // The password alone no longer opens a session.
        let (st, v) = login(&app, "admin", ADMIN_PW, None).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("mfa_required")));
        let challenge = v["error"]["challenge"].as_str().unwrap().to_string();
        // The enrolment's code was used: not again (RFC 6238 §5.2).
        let (st, _) = app
            .call(
                "POST",
                "/api/v1/auth/second-factor",
                Some(json!({"challenge": challenge, "otp": code(&secret, 0)})),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "a used code is refused");
        // The next step's code (within the allowed skew) works once.
        let next = code(&secret, 30);
        let (st, v) = login(&app, "admin", ADMIN_PW, Some(&next)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, _) = login(&app, "admin", ADMIN_PW, Some(&next)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        // A recovery code works once, typed any way.
        let (st, v) = login(&app, "admin", ADMIN_PW, Some(&codes[0].to_uppercase())).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, _) = login(&app, "admin", ADMIN_PW, Some(&codes[0])).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        // A wrong password with a right code tells nothing more than a wrong password.
        let (st, v) = login(&app, "admin", "Wrong-Password-1", Some(&codes[1])).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));

        // A password change leaves the second factor in place (AT-5).
        let (st, v) = app
            .call(
                "POST",
                "/api/v1/auth/password",
                Some(json!({"old_password": ADMIN_PW, "new_password": "Another-Pass-2026!"})),
                Some(&token),
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
        let (st, v) = login(&app, "admin", "Another-Pass-2026!", None).await;
        assert_eq!(v["error"]["code"], "mfa_required", "{st}");

        let recent = security::audit::recent(&app.platform.db, None, 100).await.unwrap();
        assert!(recent.iter().any(|e| e.action == "mfa.enrol" && e.result == "ok"));
        assert!(
            recent
                .iter()
                .any(|e| e.action == "auth.login" && e.result == "failed" && e.detail.contains("second_factor"))
        );
        app.cleanup().await;
    }
}

#[tokio::test]
async fn only_another_administrator_resets_a_second_factor_after_step_up() {
    let app = TestApp::with_mfa(kernel::Backend::Sqlite, true).await;
    let (admin, secret, codes) = enrol(&app, "admin", ADMIN_PW).await;
    let body = json!({"username": "secadm", "password": USER_PW, "display_name": "安全管理员",
                      "grants": [{"role": "security_admin"}]});
    let (st, v) = app.call("POST", "/api/v1/users", Some(body), Some(&admin)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let sec_id = v["id"].as_i64().unwrap();
    let (sec, _, _) = enrol(&app, "secadm", USER_PW).await;
    let (_, me) = app.call("GET", "/api/v1/me", None, Some(&admin)).await;
    let admin_id = me["user_id"].as_i64().unwrap();

    // Nobody weakens their own account.
    let (st, _) = app.call("POST", &format!("/api/v1/users/{admin_id}/mfa/reset"), None, Some(&admin)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // A new token whose proof of identity is then made eleven minutes old, before its first use.
    let (st, v) = login(&app, "admin", ADMIN_PW, Some(&code(&secret, 30))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let admin = v["token"].as_str().unwrap().to_string();
    age_sessions(&app, "admin", "reauth_at", 11).await;
    let reset = format!("/api/v1/users/{sec_id}/mfa/reset");
    let (st, v) = app.call("POST", &reset, None, Some(&admin)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauth_required")));
    let reauth = |pw: &str, otp: Option<&str>| json!({"password": pw, "otp": otp});
    let (st, _) = app.call("POST", "/api/v1/auth/reauth", Some(reauth("Wrong-1", None)), Some(&admin)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = app.call("POST", "/api/v1/auth/reauth", Some(reauth(ADMIN_PW, None)), Some(&admin)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the second factor is part of the proof");
    let (st, v) = app.call("POST", "/api/v1/auth/reauth", Some(reauth(ADMIN_PW, Some(&codes[0]))), Some(&admin)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Step-up rotates the token (AT-6): the old one is dead, the new one carries the proof.
    let (st, _) = app.call("POST", &reset, None, Some(&admin)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the token before step-up");
    let admin = v["token"].as_str().unwrap().to_string();

    let (st, _) = app.call("POST", &reset, None, Some(&admin)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    // The reset ended the account's sessions; its next login sets up a new authenticator.
    let (st, _) = app.call("GET", "/api/v1/me", None, Some(&sec)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = login(&app, "secadm", USER_PW, None).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("mfa_enrollment_required")));

    // Granting a role is a sensitive action too (the security administrator's, 三员分立).
    let (sec, _, sec_codes) = enrol(&app, "secadm", USER_PW).await;
    age_sessions(&app, "secadm", "reauth_at", 11).await;
    let grant = json!({"username": "leader1", "password": USER_PW, "display_name": "校领导", "grants": [{"role": "audit_admin"}]});
    let (st, v) = app.call("POST", "/api/v1/users", Some(grant.clone()), Some(&sec)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauth_required")));
    let (st, v) = app.call("POST", "/api/v1/auth/reauth", Some(reauth(USER_PW, Some(&sec_codes[3]))), Some(&sec)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let sec = v["token"].as_str().unwrap().to_string();
    let (st, v) = app.call("POST", "/api/v1/users", Some(grant), Some(&sec)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let recent = security::audit::recent(&app.platform.db, None, 100).await.unwrap();
    assert!(recent.iter().any(|e| e.action == "mfa.reset" && e.result == "ok" && e.target == "user:secadm"));
    assert!(recent.iter().any(|e| e.action == "mfa.reset" && e.result == "denied"));
    app.cleanup().await;
}

#[tokio::test]
async fn privileged_web_sessions_idle_out_after_15_minutes_members_after_30() {
    on_both(|app| async move {
        tree(&app).await;
        let staff = app.web_login("staff", USER_PW).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        age_sessions(&app, "staff", "last_seen_at", 16).await;
        age_sessions(&app, "sec_a", "last_seen_at", 16).await;
        // (No request used these sessions yet, so no cache holds them.)
        let (st, _) = app.page("/people", &staff).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "org staff: 15 minutes idle");
        let (st, _) = app.page("/people", &sec).await;
        assert_eq!(st, StatusCode::OK, "a branch secretary: 30 minutes");
        app
    })
    .await;
}

#[tokio::test]
async fn the_browser_login_sets_up_an_authenticator_then_asks_for_codes() {
    let app = TestApp::with_mfa(kernel::Backend::Sqlite, true).await;
    let (st, headers, _) =
        app.form("/login", &[("username", "admin"), ("password", ADMIN_PW), ("next", "/orgs")], None).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(headers.get(header::LOCATION).unwrap().to_str().unwrap().starts_with("/login/mfa?next=/orgs"));
    let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("dj_challenge=") && set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    assert!(!set.contains("dj_session"), "no session before the second factor");
    let challenge = set.split(';').next().unwrap().to_string();

    let (st, html) = app.page("/login/mfa?next=/orgs", &challenge).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("开始绑定"));
    let (st, _, html) = app.form("/login/mfa/enrol", &[("next", "/orgs")], Some(&challenge)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("<svg"), "the QR code is inline SVG");
    let secret = html.split("<code id=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    // Reloading shows the same pending enrolment.
    let (_, again) = app.page("/login/mfa", &challenge).await;
    assert!(again.contains(&secret));

    let (st, headers, _) =
        app.form("/login/mfa/confirm", &[("otp", "000000"), ("next", "/orgs")], Some(&challenge)).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "a wrong code shows the enrolment again");
    assert!(headers.get(header::LOCATION).unwrap().to_str().unwrap().contains("wrong=1"));
    let c = code(&secret, 0);
    let (st, headers, html) = app.form("/login/mfa/confirm", &[("otp", &c), ("next", "/orgs")], Some(&challenge)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("recovery-codes") && html.matches("<li><code>").count() == 10);
    let cookies: Vec<&str> = headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    let session = cookies.iter().find(|c| c.starts_with("dj_session=")).unwrap().split(';').next().unwrap().to_string();
    assert!(cookies.iter().any(|c| c.starts_with("dj_challenge=;")), "the challenge cookie is removed");
    let (st, _) = app.page("/orgs", &session).await;
    assert_eq!(st, StatusCode::OK);
    // The challenge is spent.
    let (st, headers, _) = app.form("/login/mfa", &[("otp", &code(&secret, 30))], Some(&challenge)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(headers.get(header::LOCATION).unwrap().to_str().unwrap().starts_with("/login?expired"));

    // Next time: password, then the code page.
    let (_, headers, _) =
        app.form("/login", &[("username", "admin"), ("password", ADMIN_PW), ("next", "/")], None).await;
    let challenge = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let (_, html) = app.page("/login/mfa", &challenge).await;
    assert!(html.contains("one-time-code") && !html.contains("<svg"));
    let (st, _, html) = app.form("/login/mfa", &[("otp", "123")], Some(&challenge)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(html.contains("动态口令或恢复码错误"));
    let (st, headers, _) =
        app.form("/login/mfa", &[("otp", &code(&secret, 30)), ("next", "/")], Some(&challenge)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(headers.get_all(header::SET_COOKIE).iter().any(|v| v.to_str().unwrap().starts_with("dj_session=")));
    app.cleanup().await;
}
