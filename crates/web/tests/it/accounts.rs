//! Accounts after their creation (security.md AT-1, AT-6, AT-7, AT-16, AT-20): a new session id on
//! step-up and on one's own second factor, terms of office ending at 00:00 Beijing time, disabling and
//! enabling accounts, the nightly review of accounts whose roles ended, password history and periods,
//! the member's own phone, and the security headers on answers no handler wrote (panic, 413).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::Db;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::support::*;

/// Runs one statement with two binds on either database (the tests' way of letting time pass).
async fn exec(app: &TestApp, sql: &str, at: OffsetDateTime, name: &str) {
    match &app.platform.db {
        Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).bind(name).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(at).bind(name).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

async fn user_id(app: &TestApp, admin: &str, username: &str) -> i64 {
    let (_, list) = app.call("GET", "/api/v1/users", None, Some(admin)).await;
    list.as_array().unwrap().iter().find(|u| u["username"] == username).unwrap()["id"].as_i64().unwrap()
}

fn set_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("dj_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

async fn audited(app: &TestApp, action: &str, result: &str) -> Vec<security::audit::Entry> {
    let recent = security::audit::recent(&app.platform.db, None, 200).await.unwrap();
    recent.into_iter().filter(|e| e.action == action && e.result == result).collect()
}

/// A member of branch A with an account (display name and person 张伟, born 1999-03-07).
async fn member(app: &TestApp, t: &Tree) -> (i64, String) {
    let idn = id_number("19990307", "123");
    let pid =
        app.post_ok("/api/v1/people", person("张伟", t.ba, &idn, "1999-03-07"), &t.staff).await["id"].as_i64().unwrap();
    let body = json!({"username": "mem", "password": USER_PW, "display_name": "张伟", "person_id": pid, "grants": []});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    (pid, app.login("mem", USER_PW).await)
}

#[tokio::test]
async fn step_up_issues_a_new_session_and_the_old_one_stops_working() {
    on_both(|app| async move {
        let t = tree(&app).await;
        // API: the answer carries the new token; the old one is refused at once.
        let (st, v) = app.call("POST", "/api/v1/auth/reauth", Some(json!({"password": USER_PW})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let fresh = v["token"].as_str().unwrap().to_string();
        assert_ne!(fresh, t.staff);
        assert!(fresh.len() >= 43, "256-bit token");
        let (st, _) = app.call("GET", "/api/v1/me", None, Some(&t.staff)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "the token before step-up");
        let (st, me) = app.call("GET", "/api/v1/me", None, Some(&fresh)).await;
        assert_eq!((st, me["username"].as_str()), (StatusCode::OK, Some("staff")));
        assert!(!audited(&app, "auth.session_rotate", "ok").await.is_empty());

        // Browser: a new cookie; the old one leads to the login page; forms need the new session's token.
        let old = app.web_login("sec_a", USER_PW).await;
        let (st, headers, _) =
            app.form("/reauth", &[("password", USER_PW), ("next", "/account/mfa")], Some(&old)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/account/mfa");
        let new = set_cookie(&headers).expect("a new session cookie");
        assert_ne!(new, old);
        let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let (st, _) = app.page("/account/mfa", &old).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "the old cookie is signed out");
        let (st, html) = app.page("/account/mfa", &new).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("name=\"csrf\""));
        // The old session's anti-forgery token is refused with the new cookie; the new one passes.
        let stale = csrf_token("/account/mfa/enrol", &old).unwrap();
        let (st, _, _) = app.form_raw("/account/mfa/enrol", &[("csrf", &stale)], Some(&new)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _, html) = app.form("/account/mfa/enrol", &[], Some(&new)).await;
        assert_eq!(st, StatusCode::OK, "{html}");

        // Setting up one's own second factor raises the account's protection: another new session.
        let secret = html.split("<code id=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
        let s = security::totp::secret_from_base32(&secret).unwrap();
        let code = security::totp::code_at(&s, OffsetDateTime::now_utc().unix_timestamp() as u64).unwrap();
        let (st, headers, html) = app.form("/account/mfa/confirm", &[("otp", &code)], Some(&new)).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("recovery-codes"));
        let third = set_cookie(&headers).expect("the enrolment rotates the session");
        let (st, _) = app.page("/", &new).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "the session before the enrolment");
        let (st, _) = app.page("/", &third).await;
        assert_eq!(st, StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn on_postgresql_a_rotated_token_is_refused_by_another_instance_at_once() {
    let app = TestApp::new(kernel::Backend::Postgres).await;
    let t = tree(&app).await;
    let (other, follower) = second_instance(&app).await;
    other.authenticate(&t.sec_a).await.unwrap(); // cached there for a minute
    let (st, v) = app.call("POST", "/api/v1/auth/reauth", Some(json!({"password": USER_PW})), Some(&t.sec_a)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let refused = refused_soon(&other, &t.sec_a).await;
    assert!(refused, "the other instance still serves the token before step-up");
    assert!(other.authenticate(v["token"].as_str().unwrap()).await.is_ok());
    follower.abort();
    app.cleanup().await;
}

#[tokio::test]
async fn a_term_ends_at_midnight_beijing_time_and_the_next_request_is_denied() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let last_day = kernel::dates::today() + Duration::days(3);
        let grant = json!([{"role": "branch_secretary", "org_id": t.ba, "ends_on": kernel::dates::iso(last_day)}]);
        let body = json!({"username": "termed", "password": USER_PW, "display_name": "任期书记", "grants": grant});
        app.post_ok("/api/v1/users", body, &t.admin).await;
        // The clock at 23:59:58 Beijing time on the term's last day.
        let midnight = platform::access::term_ends_at(last_day);
        assert_eq!(midnight.to_offset(kernel::dates::BEIJING).time(), time::Time::MIDNIGHT);
        kernel::clock::set_for_tests(midnight - Duration::seconds(2));
        let token = app.login("termed", USER_PW).await;
        let cookie = app.web_login("termed", USER_PW).await;
        let org = format!("/api/v1/orgs/{}", t.ba);
        let (st, _) = app.call("GET", &org, None, Some(&token)).await;
        assert_eq!(st, StatusCode::OK, "in office on the last day");
        let (st, _) = app.page(&format!("/orgs/{}", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        // 00:00:01 the next day: the same session (cached a moment ago) no longer carries the role.
        kernel::clock::set_for_tests(midnight + Duration::seconds(1));
        let (st, _) = app.call("GET", &org, None, Some(&token)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "the first request after the term");
        let (_, me) = app.call("GET", "/api/v1/me", None, Some(&token)).await;
        assert_eq!(me["grants"], json!([]));
        let (st, _) = app.page(&format!("/orgs/{}", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        kernel::clock::set_offset_for_tests(0);
        app
    })
    .await;
}

#[tokio::test]
async fn an_administrator_disables_an_account_and_all_its_sessions_end() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let id = user_id(&app, &t.admin, "sec_a").await;
        let cookie = app.web_login("sec_a", USER_PW).await;
        // Not a secretary, not oneself.
        let (st, _) = app.call("POST", &format!("/api/v1/users/{id}/disable"), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let me = user_id(&app, &t.admin, "admin").await;
        let (st, _) = app.call("POST", &format!("/api/v1/users/{me}/disable"), None, Some(&t.admin)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "nobody disables their own account");
        let (st, _) = app.call("POST", "/api/v1/users/999999/disable", None, Some(&t.admin)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        let (st, _) = app.call("POST", &format!("/api/v1/users/{id}/disable"), None, Some(&t.admin)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = app.call("GET", "/api/v1/me", None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "the token ended");
        let (st, _) = app.page("/", &cookie).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "the web session ended");
        // The login says no more than for a wrong password.
        let (st, v) =
            app.call("POST", "/api/v1/auth/login", Some(json!({"username": "sec_a", "password": USER_PW})), None).await;
        let (_, wrong) = app
            .call("POST", "/api/v1/auth/login", Some(json!({"username": "sec_a", "password": "Wrong-Pass-1"})), None)
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(v["error"]["code"], "bad_credentials");
        assert_eq!(v["error"]["message"], wrong["error"]["message"]);
        let (_, list) = app.call("GET", "/api/v1/users", None, Some(&t.admin)).await;
        assert!(list.as_array().unwrap().iter().any(|u| u["username"] == "sec_a" && u["active"] == false));

        // The page: a confirmation, then the button; enabling lets her sign in again.
        let admin_web = app.web_login("admin", ADMIN_PW).await;
        let (st, html) = app.page("/admin/users", &admin_web).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains(&format!("action=\"/admin/users/{id}/enable\"")) && html.contains("确定启用吗"));
        let (st, headers, _) = app.form(&format!("/admin/users/{id}/enable"), &[], Some(&admin_web)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/admin/users?enabled=1");
        app.login("sec_a", USER_PW).await;
        let (_, html) = app.page("/admin/users?enabled=1", &admin_web).await;
        assert!(html.contains("确定停用吗") && html.contains("已重新启用该账号"));
        let (st, _, _) = app.form(&format!("/admin/users/{id}/disable"), &[], Some(&admin_web)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);

        assert_eq!(audited(&app, "account.disable", "ok").await.len(), 2);
        assert_eq!(audited(&app, "account.enable", "ok").await.len(), 1);
        assert!(!audited(&app, "account.disable", "denied").await.is_empty());
        app
    })
    .await;
}

#[tokio::test]
async fn the_nightly_review_disables_accounts_whose_roles_all_ended_long_enough_ago() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let today = kernel::dates::today();
        let day = |n: i64| kernel::dates::iso(today - Duration::days(n));
        let mk = |name: &str, grants: Value, person: Option<i64>| {
            json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants})
        };
        let sec = |ends: Option<String>| json!([{"role": "branch_secretary", "org_id": t.ba, "ends_on": ends}]);
        app.post_ok("/api/v1/users", mk("ended40", sec(Some(day(40))), None), &t.admin).await;
        app.post_ok("/api/v1/users", mk("ended10", sec(Some(day(10))), None), &t.admin).await;
        let both = json!([{"role": "branch_secretary", "org_id": t.ba, "ends_on": day(40)},
                          {"role": "leader", "org_id": t.ca}]);
        app.post_ok("/api/v1/users", mk("still_leader", both, None), &t.admin).await;
        // A member whose secretary term ended long ago keeps her account: she is still a member.
        let idn = id_number("19980101", "456");
        let pid = app.post_ok("/api/v1/people", person("王芳", t.ba, &idn, "1998-01-01"), &t.staff).await["id"]
            .as_i64()
            .unwrap();
        app.post_ok("/api/v1/users", mk("member_sec", sec(Some(day(40))), Some(pid)), &t.admin).await;
        // An account never granted anything, created 31 days ago.
        app.post_ok("/api/v1/users", mk("no_role", json!([]), None), &t.admin).await;
        exec(&app, "UPDATE users SET created_at = $1 WHERE username = $2", OffsetDateTime::now_utc() - Duration::days(31), "no_role").await;
        let stale = app.login("ended40", USER_PW).await;

        // Through the job handler, as the runner calls it at night.
        let handler = ops::jobs::builtin::account_review(app.platform.clone());
        let job = ops::jobs::Job {
            id: 1,
            kind: ops::jobs::builtin::ACCOUNT_REVIEW.into(),
            payload: json!({}),
            dedup_key: None,
            attempts: 1,
            max_attempts: 1,
            run_at: OffsetDateTime::now_utc(),
        };
        let out = handler(job).await.unwrap();
        let mut disabled: Vec<String> =
            out["disabled"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        disabled.sort();
        assert_eq!(disabled, ["ended40", "no_role"], "{out}");
        let (st, _) = app.call("GET", "/api/v1/me", None, Some(&stale)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "its sessions ended");
        for still in ["ended10", "still_leader", "member_sec", "staff", "sec_a"] {
            app.login(still, USER_PW).await;
        }
        let entries = audited(&app, "account.disable", "ok").await;
        assert!(entries.iter().all(|e| e.actor == "system" && e.detail.starts_with("no_role_left")));
        assert_eq!(entries.len(), 2);
        // A second run finds nothing more to do.
        let again = app.platform.disable_dormant_accounts(&platform::Ctx::default()).await.unwrap();
        assert!(again.disabled.is_empty());
        app
    })
    .await;
}

#[tokio::test]
async fn passwords_avoid_reuse_and_context_words_and_expire() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, token) = member(&app, &t).await;
        let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
        let refused = |v: &Value| v["error"]["fields"]["new_password"].as_str().unwrap_or("").to_string();
        let (st, v) =
            app.call("POST", "/api/v1/auth/password", Some(change(USER_PW, "Zhangwei-Red-7!")), Some(&token)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused(&v).contains("姓名"), "{v}");
        let (_, v) =
            app.call("POST", "/api/v1/auth/password", Some(change(USER_PW, "Spring-19990307!")), Some(&token)).await;
        assert!(refused(&v).contains("生日"), "{v}");
        let (_, v) =
            app.call("POST", "/api/v1/auth/password", Some(change(USER_PW, "Gongchandang-7!")), Some(&token)).await;
        assert!(refused(&v).contains("常用词"), "{v}");
        let (_, v) = app.call("POST", "/api/v1/auth/password", Some(change(USER_PW, USER_PW)), Some(&token)).await;
        assert!(refused(&v).contains("最近5次"), "the current one: {v}");
        // Four changes later the first is still in the history; a fifth later it may come back.
        let pws = ["Red-Lantern-71!", "Red-Lantern-72!", "Red-Lantern-73!", "Red-Lantern-74!"];
        let mut current = USER_PW.to_string();
        for p in pws {
            let (st, v) = app.call("POST", "/api/v1/auth/password", Some(change(&current, p)), Some(&token)).await;
            assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
            current = p.to_string();
        }
        let (_, v) = app.call("POST", "/api/v1/auth/password", Some(change(&current, USER_PW)), Some(&token)).await;
        assert!(refused(&v).contains("最近5次"), "five back: {v}");
        let (st, _) =
            app.call("POST", "/api/v1/auth/password", Some(change(&current, "Red-Lantern-75!")), Some(&token)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, v) =
            app.call("POST", "/api/v1/auth/password", Some(change("Red-Lantern-75!", USER_PW)), Some(&token)).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "six back is allowed again: {v}");

        // 181 days later a member must change it first; 91 days are enough for org staff.
        let sql = "UPDATE users SET password_changed_at = $1 WHERE username = $2";
        exec(&app, sql, OffsetDateTime::now_utc() - Duration::days(91), "mem").await;
        exec(&app, sql, OffsetDateTime::now_utc() - Duration::days(91), "staff").await;
        let mem = app.login("mem", USER_PW).await;
        let (st, _) = app.call("GET", "/api/v1/me", None, Some(&mem)).await;
        assert_eq!(st, StatusCode::OK, "91 days: a member's password still serves");
        let staff = app.login("staff", USER_PW).await;
        let (st, v) = app.call("GET", "/api/v1/people", None, Some(&staff)).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("password_expired")));
        let (st, _) = app.call("GET", "/api/v1/me", None, Some(&staff)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "every route but the change");
        exec(&app, sql, OffsetDateTime::now_utc() - Duration::days(181), "mem").await;
        let cookie = app.web_login("mem", USER_PW).await;
        let (st, html) = app.page("/people", &cookie).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
        let req = Request::builder().uri("/learning").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
        let (_, headers, _) = app.request(req).await;
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/account/password?expired=1");
        let (st, html) = app.page("/account/password?expired=1", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("密码已超过有效期"));
        let new = "Red-Lantern-80!";
        let (st, _, html) = app
            .form(
                "/account/password",
                &[("old_password", USER_PW), ("new_password", new), ("confirm", new)],
                Some(&cookie),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{html}");
        let (st, _) = app.page("/learning", &cookie).await;
        assert_eq!(st, StatusCode::OK, "changed: everything works again");
        let (st, _) =
            app.call("POST", "/api/v1/auth/password", Some(change(USER_PW, "Red-Lantern-81!")), Some(&staff)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = app.call("GET", "/api/v1/people", None, Some(&staff)).await;
        assert_eq!(st, StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn a_member_changes_her_own_phone_only_after_step_up() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pid, token) = member(&app, &t).await;
        exec(
            &app,
            "UPDATE sessions SET reauth_at = $1 WHERE user_id = (SELECT id FROM users WHERE username = $2)",
            OffsetDateTime::now_utc() - Duration::minutes(11),
            "mem",
        )
        .await;
        let (st, v) = app.call("POST", "/api/v1/me/phone", Some(json!({"phone": "13900139000"})), Some(&token)).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("reauth_required")));
        let (st, v) = app.call("POST", "/api/v1/auth/reauth", Some(json!({"password": USER_PW})), Some(&token)).await;
        assert_eq!(st, StatusCode::OK);
        let token = v["token"].as_str().unwrap().to_string();
        let (st, v) = app.call("POST", "/api/v1/me/phone", Some(json!({"phone": "12900139000"})), Some(&token)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["phone"].as_str().unwrap().contains("手机"), "{v}");
        let (st, v) =
            app.call("POST", "/api/v1/me/phone", Some(json!({"phone": "+86 139-0013-9000"})), Some(&token)).await;
        assert_eq!((st, v["phone"].as_str()), (StatusCode::OK, Some("139****9000")));
        let (_, p) = app.call("GET", &format!("/api/v1/people/{pid}"), None, Some(&token)).await;
        assert_eq!(p["phone"], "139****9000");
        // Stored sealed like every phone: the plaintext is nowhere in the row.
        let enc: Vec<u8> = match &app.platform.db {
            Db::Sqlite(p) => {
                sqlx::query_scalar("SELECT phone_enc FROM people WHERE id = $1").bind(pid).fetch_one(p).await
            }
            Db::Postgres(p) => {
                sqlx::query_scalar("SELECT phone_enc FROM people WHERE id = $1").bind(pid).fetch_one(p).await
            }
        }
        .unwrap();
        assert!(!String::from_utf8_lossy(&enc).contains("13900139000"));
        let entries = audited(&app, "person.phone_change", "ok").await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].target, format!("person:{pid}"));
        // An account without a person has no phone of its own.
        let (st, _) = app.call("POST", "/api/v1/me/phone", Some(json!({"phone": "13900139000"})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // The page: sent to re-authenticate first, then the form.
        let cookie = app.web_login("mem", USER_PW).await;
        exec(
            &app,
            "UPDATE sessions SET reauth_at = $1 WHERE user_id = (SELECT id FROM users WHERE username = $2)",
            OffsetDateTime::now_utc() - Duration::minutes(11),
            "mem",
        )
        .await;
        let req = Request::builder().uri("/account/phone").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
        let (st, headers, _) = app.request(req).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), "/reauth?next=/account/phone");
        let (_, headers, _) =
            app.form("/reauth", &[("password", USER_PW), ("next", "/account/phone")], Some(&cookie)).await;
        let cookie = set_cookie(&headers).unwrap();
        let (st, html) = app.page("/account/phone", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("139****9000") && html.contains("name=\"phone\""));
        let (st, _, html) = app.form("/account/phone", &[("phone", "abc")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        let (st, _, html) = app.form("/account/phone", &[("phone", "13700137000")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("137****7000"));
        let (_, html) = app.page(&format!("/people/{pid}"), &cookie).await;
        assert!(html.contains("href=\"/account/phone\""), "linked from her own record");
        app
    })
    .await;
}

#[tokio::test]
async fn a_panic_and_an_oversized_body_still_carry_the_security_headers() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let check = |headers: &axum::http::HeaderMap, what: &str| {
        let csp = headers.get(header::CONTENT_SECURITY_POLICY).map(|v| v.to_str().unwrap().to_string());
        assert!(
            csp.is_some_and(|c| c.contains("default-src 'self'") && c.contains("frame-ancestors 'none'")),
            "{what}"
        );
        assert_eq!(headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff", "{what}");
        assert_eq!(headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY", "{what}");
        assert_eq!(headers.get(header::REFERRER_POLICY).unwrap(), "same-origin", "{what}");
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store", "{what}");
        assert!(headers.get("x-request-id").is_some(), "{what}");
    };
    // 413: a declared length over the limit, refused before reading.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/orgs")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, (3 * 1024 * 1024).to_string())
        .body(Body::from(vec![b' '; 3 * 1024 * 1024]))
        .unwrap();
    let (st, headers, _) = app.request(req).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    check(&headers, "413");

    // 500 from a panicking handler, behind the very layers of the real router.
    let state = web::AppState {
        platform: app.platform.clone(),
        metrics: Arc::new(ops::Metrics::default()),
        ops: Arc::new(ops::Ops::default()),
        secure_cookies: true,
    };
    let routes = axum::Router::new().route(
        "/boom",
        axum::routing::get(|| async {
            if std::hint::black_box(true) {
                panic!("a handler bug");
            }
            "never"
        }),
    );
    let router = web::router::layered(routes, state, web::router::RequestIds::new());
    let resp =
        tower::ServiceExt::oneshot(router, Request::builder().uri("/boom").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    check(resp.headers(), "500");
    assert!(resp.headers().get(header::STRICT_TRANSPORT_SECURITY).is_some(), "HSTS behind TLS");
    app.cleanup().await;
}

#[tokio::test]
async fn a_grant_given_or_withdrawn_by_hand_applies_at_the_next_request() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let body = json!({"username": "helper", "password": USER_PW, "display_name": "李敏", "grants": []});
        app.post_ok("/api/v1/users", body, &t.admin).await;
        let id = user_id(&app, &t.admin, "helper").await;
        let helper = app.login("helper", USER_PW).await;
        let branch = format!("/api/v1/orgs/{}", t.ba);
        let (st, _) = app.call("GET", &branch, None, Some(&helper)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "no role yet");
        let grants = format!("/api/v1/users/{id}/grants");

        // Bad input is refused field by field and writes nothing.
        let today = kernel::dates::today();
        let yesterday = kernel::dates::iso(today - Duration::days(1));
        for (bad, field) in [
            (json!({"role": "member"}), "role"),
            (json!({"role": "branch_secretary"}), "org_id"),
            (json!({"role": "no_such_role"}), "role"),
            (json!({"role": "branch_secretary", "org_id": t.ba, "ends_on": yesterday}), "ends_on"),
            (json!({"role": "branch_secretary", "org_id": t.ca}), "role"),
        ] {
            let (st, v) = app.call("POST", &grants, Some(bad.clone()), Some(&t.admin)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
            assert!(v["error"]["fields"][field].is_string(), "{bad}: {v}");
        }
        let (_, v) = app.call("GET", &grants, None, Some(&t.admin)).await;
        assert_eq!(v["grants"].as_array().unwrap().len(), 0, "nothing was written");

        // Refusals: a secretary, one's own account, an unknown account.
        let (st, _) = app.call("POST", &grants, Some(json!({"role": "leader", "org_id": t.ca})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app.call("GET", &grants, None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a read: not found, like the list of accounts");
        let me = user_id(&app, &t.admin, "admin").await;
        let own = json!({"role": "leader", "org_id": t.ca});
        let (st, _) = app.call("POST", &format!("/api/v1/users/{me}/grants"), Some(own), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "nobody grants a role to themselves");
        let (st, _) = app.call("GET", "/api/v1/users/999999/grants", None, Some(&t.admin)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Granted: the very next request of the same session has the role.
        let secretary = json!({"role": "branch_secretary", "org_id": t.ba});
        let grant = app.post_ok(&grants, secretary.clone(), &t.admin).await["id"].as_i64().unwrap();
        let (st, _) = app.call("GET", &branch, None, Some(&helper)).await;
        assert_eq!(st, StatusCode::OK, "the grant applies at the next request");
        let (st, v) = app.call("POST", &grants, Some(secretary), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "the same role and organization twice: {v}");
        let (st, v) = app.call("POST", &grants, Some(json!({"role": "security_admin"})), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "三员分立: {v}");
        assert!(v["error"]["fields"]["role"].as_str().unwrap().contains("三员分立"));

        // Withdrawn, with a reason: the next request no longer has it; the record stays.
        let withdraw = format!("{grants}/{grant}/withdraw");
        let (st, v) = app.call("POST", &withdraw, Some(json!({"reason": " "})), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (st, _) = app
            .call(
                "POST",
                &format!("/api/v1/users/{me}/grants/{grant}/withdraw"),
                Some(json!({"reason": "调离"})),
                Some(&t.admin),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "one's own account");
        let (st, _) = app.call("POST", &withdraw, Some(json!({"reason": "已调离该支部"})), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (st, _) = app.call("GET", &branch, None, Some(&helper)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "the withdrawal applies at the next request");
        let (st, _) = app.call("POST", &withdraw, Some(json!({"reason": "再撤销一次"})), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (_, v) = app.call("GET", &grants, None, Some(&t.admin)).await;
        let g = &v["grants"][0];
        assert_eq!((g["state"].as_str(), g["withdraw_reason"].as_str()), (Some("withdrawn"), Some("已调离该支部")));
        assert_eq!(g["withdrawn_by"], "admin");
        assert_eq!(g["ends_on"], yesterday, "its term ended yesterday");

        // A role that needs a 12-character password makes the account's password due at once.
        app.post_ok(&grants, json!({"role": "org_staff", "org_id": t.ca}), &t.admin).await;
        let (st, v) = app.call("GET", "/api/v1/me", None, Some(&helper)).await;
        assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("password_expired")));

        // Once a security administrator exists, the system administrator grants nothing more (三员分立).
        let sec = json!({"username": "secadm", "password": ADMIN_PW, "display_name": "安全管理员",
                         "grants": [{"role": "security_admin"}]});
        app.post_ok("/api/v1/users", sec, &t.admin).await;
        let (st, _) = app.call("POST", &grants, Some(json!({"role": "leader", "org_id": t.ca})), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let secadm = app.login("secadm", ADMIN_PW).await;
        app.post_ok(&grants, json!({"role": "leader", "org_id": t.ca}), &secadm).await;
        let sid = user_id(&app, &t.admin, "secadm").await;
        let (st, _) = app
            .call("POST", &format!("/api/v1/users/{sid}/grants"), Some(json!({"role": "audit_admin"})), Some(&secadm))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "AT-15: the security administrator cannot assign itself a role");

        assert_eq!(audited(&app, "grant.add", "ok").await.len(), 3);
        assert_eq!(audited(&app, "grant.withdraw", "ok").await.len(), 1);
        assert!(!audited(&app, "grant.add", "denied").await.is_empty());
        assert!(!audited(&app, "grant.withdraw", "denied").await.is_empty());

        // The page: the record with its states; a withdrawal without a reason is explained, not lost.
        let web = app.web_login("secadm", ADMIN_PW).await;
        let (_, html) = app.page("/admin/users", &web).await;
        assert!(html.contains(&format!("href=\"/admin/users/{id}/grants\"")));
        let (st, html) = app.page(&format!("/admin/users/{id}/grants"), &web).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("已撤销") && html.contains("已调离该支部") && html.contains("新增授权"), "{html}");
        let (_, v) = app.call("GET", &grants, None, Some(&secadm)).await;
        assert_eq!(v["grants"].as_array().unwrap().len(), 3, "the withdrawn one, org staff, leader: {v}");
        assert_eq!(v["grants"][0]["role"], "leader");
        let leader = v["grants"][0]["id"].as_i64().unwrap();
        let (st, _, html) =
            app.form(&format!("/admin/users/{id}/grants/{leader}/withdraw"), &[("reason", "")], Some(&web)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请填写撤销原因") && html.contains(&format!("id=\"withdraw-{leader}\" open")));
        let (st, _, html) = app
            .form(
                &format!("/admin/users/{id}/grants"),
                &[("role", "leader"), ("org_id", &t.cb.to_string()), ("ends_on", "2027/06/30")],
                Some(&web),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("日期格式应为"));
        let (st, headers, _) = app
            .form(&format!("/admin/users/{id}/grants/{leader}/withdraw"), &[("reason", "任期调整")], Some(&web))
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers.get(header::LOCATION).unwrap(), &format!("/admin/users/{id}/grants?withdrawn=1"));
        app
    })
    .await;
}

#[tokio::test]
async fn a_password_from_the_breached_set_is_refused() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let body = json!({"username": "newbie", "password": "P@ssw0rd1", "display_name": "新人", "grants": []});
        let (st, v) = app.call("POST", "/api/v1/users", Some(body), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let message = v["error"]["fields"]["password"].as_str().unwrap();
        assert!(message.contains("常见") || message.contains("泄露"), "{message}");
        let body = json!({"username": "newbie", "password": "Bond007!", "display_name": "新人", "grants": []});
        let (st, v) = app.call("POST", "/api/v1/users", Some(body), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["password"].as_str().unwrap().contains("泄露"), "{v}");
        let (_, list) = app.call("GET", "/api/v1/users", None, Some(&t.admin)).await;
        assert!(!list.as_array().unwrap().iter().any(|u| u["username"] == "newbie"), "nothing was written");
        app
    })
    .await;
}

/// Signs in through the API from `ip`; the status.
async fn login_from(app: &TestApp, name: &str, ip: [u8; 4]) -> StatusCode {
    let body = json!({"username": name, "password": USER_PW}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 50_000))))
        .body(Body::from(body))
        .unwrap();
    app.request(req).await.0
}

#[tokio::test]
async fn an_account_in_use_from_three_addresses_at_once_is_flagged_for_the_security_administrator() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let flagged = async || {
            let entries = security::audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
            entries.into_iter().filter(|e| e.action == "auth.shared_account").collect::<Vec<_>>()
        };
        // Her desktop on the campus network and her phone on the mobile network: not suspicious.
        assert_eq!(login_from(&app, "sec_a", [10, 1, 2, 3]).await, StatusCode::OK);
        assert_eq!(login_from(&app, "sec_a", [117, 136, 0, 9]).await, StatusCode::OK);
        assert!(flagged().await.is_empty());
        // A third address within the quarter hour: flagged (the sign-in itself goes through), with the article.
        assert_eq!(login_from(&app, "sec_a", [36, 112, 5, 1]).await, StatusCode::OK);
        let f = flagged().await;
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].result.as_str(), f[0].target.as_str()), ("flagged", "user:sec_a"));
        assert!(f[0].detail.contains("addresses:3") && f[0].detail.contains("8.1.4.2"), "{}", f[0].detail);
        // Another account from those addresses is not affected.
        assert_eq!(login_from(&app, "staff", [36, 112, 5, 1]).await, StatusCode::OK);
        assert_eq!(flagged().await.len(), 1);
        let _ = t;
        app
    })
    .await;
}

#[tokio::test]
async fn a_shared_account_flag_shows_on_the_security_administrators_accounts_page_only() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = json!({"username": "secadm", "password": ADMIN_PW, "display_name": "安全管理员",
                         "grants": [{"role": "security_admin"}]});
        app.post_ok("/api/v1/users", sec, &t.admin).await;
        let secadm = app.web_login("secadm", ADMIN_PW).await;
        let admin = app.web_login("admin", ADMIN_PW).await;
        // Before any flag: nothing shown.
        let (st, html) = app.page("/admin/users", &secadm).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!html.contains("疑似共用账号"), "{html}");
        // sec_a signs in from three addresses within the quarter hour: flagged at the third.
        for ip in [[10, 1, 2, 3], [117, 136, 0, 9], [36, 112, 5, 1]] {
            assert_eq!(login_from(&app, "sec_a", ip).await, StatusCode::OK);
        }
        let (st, html) = app.page("/admin/users", &secadm).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(html.matches("疑似共用账号</span>").count(), 1, "{html}");
        // On sec_a's row, with the count, the window and the time.
        let row = html.split("<tr>").find(|r| r.contains(">sec_a<")).unwrap();
        assert!(row.contains("疑似共用账号") && row.contains("15 分钟内 3 个地址登录"), "{row}");
        let today = kernel::dates::iso(kernel::dates::today());
        assert!(row.contains(&today), "{row}");
        // The system administrator manages accounts too but reads no audit findings (三员分立); others have
        // no accounts page.
        let (st, html) = app.page("/admin/users", &admin).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains(">sec_a<") && !html.contains("疑似共用账号"), "{html}");
        let staff = app.web_login("staff", USER_PW).await;
        let (st, html) = app.page("/admin/users", &staff).await;
        assert_ne!(st, StatusCode::OK);
        assert!(!html.contains("疑似共用账号"));
        app
    })
    .await;
}

/// Signs in through the API from `ip` with a browser's `User-Agent`; the status.
async fn login_from_device(app: &TestApp, name: &str, ip: [u8; 4], user_agent: &str) -> StatusCode {
    let body = json!({"username": name, "password": USER_PW}).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, user_agent)
        .extension(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 50_000))))
        .body(Body::from(body))
        .unwrap();
    app.request(req).await.0
}

const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) MicroMessenger/8.0.44";
const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Version/17.1 Safari/605.1.15";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; HUAWEI P60) AppleWebKit/537.36 Chrome/119.0 Mobile";

/// A security administrator `secadm` (the administrator's password); her API token and web cookie.
async fn security_admin(app: &TestApp, t: &Tree) -> (String, String) {
    let sec = json!({"username": "secadm", "password": ADMIN_PW, "display_name": "安全管理员",
                     "grants": [{"role": "security_admin"}]});
    app.post_ok("/api/v1/users", sec, &t.admin).await;
    (app.login("secadm", ADMIN_PW).await, app.web_login("secadm", ADMIN_PW).await)
}

/// The audit entries with `action`, oldest first.
async fn entries_of(app: &TestApp, action: &str) -> Vec<security::audit::Entry> {
    let all = security::audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
    all.into_iter().filter(|e| e.action == action).collect()
}

#[tokio::test]
async fn three_devices_behind_one_nat_address_are_flagged_and_the_security_administrators_notified() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (secadm_token, secadm) = security_admin(&app, &t).await;
        let nat = [10, 1, 2, 3];
        // Her desktop and her phone on the college's one NAT address: one person, nothing flagged.
        assert_eq!(login_from_device(&app, "sec_a", nat, WINDOWS).await, StatusCode::OK);
        assert_eq!(login_from_device(&app, "sec_a", nat, IPHONE).await, StatusCode::OK);
        assert_eq!(login_from_device(&app, "sec_a", nat, WINDOWS).await, StatusCode::OK, "the desktop again");
        assert!(entries_of(&app, "auth.shared_account").await.is_empty());
        let (_, home) = app.page("/", &secadm).await;
        assert!(!home.contains("安全提醒"), "{home}");
        let (st, v) = app.call("GET", "/api/v1/security/notifications", None, Some(&secadm_token)).await;
        assert_eq!((st, v.as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{v}");

        // A third device within the quarter hour, same address: flagged (the sign-in goes through).
        assert_eq!(login_from_device(&app, "sec_a", nat, MAC).await, StatusCode::OK);
        let f = entries_of(&app, "auth.shared_account").await;
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].result.as_str(), f[0].target.as_str()), ("flagged", "user:sec_a"));
        assert!(f[0].detail.contains("addresses:1 devices:3") && f[0].detail.contains("8.1.4.2"), "{}", f[0].detail);

        // The security administrators are told: on the home page and through the API.
        let (st, home) = app.page("/", &secadm).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            home.contains("安全提醒（1）") && home.contains("疑似共用账号：15 分钟内 1 个地址、3 台设备登录"),
            "{home}"
        );
        assert!(home.contains(">sec_a<"), "{home}");
        let (st, v) = app.call("GET", "/api/v1/security/notifications", None, Some(&secadm_token)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(v[0]["username"], "sec_a");
        assert_eq!(v[0]["kind"], "shared_account");
        assert_eq!(v[0]["times"], 1);
        // And the 账号 page shows the flag with the devices.
        let (_, html) = app.page("/admin/users", &secadm).await;
        let row = html.split("<tr>").find(|r| r.contains(">sec_a<")).unwrap();
        assert!(row.contains("疑似共用账号") && row.contains("1 个地址、3 台设备登录"), "{row}");

        // A fourth device: still one notification, counted twice.
        assert_eq!(login_from_device(&app, "sec_a", nat, ANDROID).await, StatusCode::OK);
        let (_, v) = app.call("GET", "/api/v1/security/notifications", None, Some(&secadm_token)).await;
        assert_eq!((v.as_array().unwrap().len(), v[0]["times"].as_i64()), (1, Some(2)), "{v}");

        // Nobody else gets them (三员分立): the system administrator and org staff are refused and audited.
        for token in [&t.admin, &t.staff, &t.sec_a] {
            let (st, v) = app.call("GET", "/api/v1/security/notifications", None, Some(token)).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        }
        let denied = entries_of(&app, "security.notifications").await;
        assert_eq!(denied.len(), 3);
        assert!(denied.iter().all(|e| e.result == "denied"));
        let admin = app.web_login("admin", ADMIN_PW).await;
        let (st, home) = app.page("/", &admin).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!home.contains("安全提醒"), "{home}");
        app
    })
    .await;
}

#[tokio::test]
async fn the_security_administrator_marks_a_shared_account_flag_reviewed_with_a_note() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (secadm_token, secadm) = security_admin(&app, &t).await;
        let sec_a = user_id(&app, &t.admin, "sec_a").await;
        let secadm_id = user_id(&app, &t.admin, "secadm").await;
        let review = format!("/api/v1/users/{sec_a}/shared-account-review");
        let note = json!({"note": "经核实为本人多设备登录"});
        // No flag yet: nothing to review.
        let (st, v) = app.call("POST", &review, Some(note.clone()), Some(&secadm_token)).await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error"]["message"], "该账号没有待核查的疑似共用提示");
        for ip in [[10, 1, 2, 3], [117, 136, 0, 9], [36, 112, 5, 1]] {
            assert_eq!(login_from_device(&app, "sec_a", ip, WINDOWS).await, StatusCode::OK);
        }
        assert_eq!(entries_of(&app, "auth.shared_account").await.len(), 1);

        // Only the security administrator: the system administrator, org staff and the account itself are
        // refused and audited; she cannot clear a flag on her own account.
        for token in [&t.admin, &t.staff, &t.sec_a] {
            let (st, v) = app.call("POST", &review, Some(note.clone()), Some(token)).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        }
        let own = format!("/api/v1/users/{secadm_id}/shared-account-review");
        let (st, _) = app.call("POST", &own, Some(note.clone()), Some(&secadm_token)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let denied = entries_of(&app, "auth.shared_account_review").await;
        assert_eq!(denied.len(), 4);
        assert!(denied.iter().all(|e| e.result == "denied"), "{denied:?}");
        // A note is required; a missing one writes nothing.
        for bad in [json!({"note": "  "}), json!({"note": "好".repeat(201)})] {
            let (st, v) = app.call("POST", &review, Some(bad), Some(&secadm_token)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert!(v["error"]["fields"]["note"].as_str().unwrap().contains("核查结论"), "{v}");
        }
        let (st, v) = app.call("POST", &review, Some(json!({"remark": "x"})), Some(&secadm_token)).await;
        assert!(st.is_client_error(), "{st} {v}");
        let (_, html) = app.page("/admin/users", &secadm).await;
        assert_eq!(html.matches("疑似共用账号</span>").count(), 1, "still flagged");

        // On the page: a blank note is refused in Chinese with the box open again; then marked.
        let path = format!("/admin/users/{sec_a}/shared-review");
        let (st, _, html) = app.form(&path, &[("note", "")], Some(&secadm)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请填写核查结论") && html.contains(&format!("id=\"review-{sec_a}\" open")), "{html}");
        let (st, headers, _) = app.form(&path, &[("note", "经核实为本人多设备登录")], Some(&secadm)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/admin/users?reviewed=1");
        let (_, html) = app.page("/admin/users?reviewed=1", &secadm).await;
        assert!(html.contains("已标记为已核查") && !html.contains("疑似共用账号</span>"), "{html}");
        let (_, home) = app.page("/", &secadm).await;
        assert!(!home.contains("安全提醒"), "the notification closed: {home}");
        let (_, v) = app.call("GET", "/api/v1/security/notifications", None, Some(&secadm_token)).await;
        assert_eq!(v.as_array().unwrap().len(), 0, "{v}");
        let ok: Vec<_> =
            entries_of(&app, "auth.shared_account_review").await.into_iter().filter(|e| e.result == "ok").collect();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].target, "user:sec_a");
        assert!(ok[0].detail.contains("经核实为本人多设备登录"), "{:?}", ok[0]);
        // Reviewed once: a second review has nothing left.
        let (st, _) = app.call("POST", &review, Some(note.clone()), Some(&secadm_token)).await;
        assert_eq!(st, StatusCode::CONFLICT);

        // A new flag after the review shows again, and notifies again.
        assert_eq!(login_from_device(&app, "sec_a", [58, 100, 1, 1], WINDOWS).await, StatusCode::OK);
        let (_, html) = app.page("/admin/users", &secadm).await;
        let row = html.split("<tr>").find(|r| r.contains(">sec_a<")).unwrap();
        assert!(row.contains("疑似共用账号") && row.contains("4 个地址"), "{row}");
        assert!(!row.contains("近30天共"), "flags before the review are not counted: {row}");
        let (_, v) = app.call("GET", "/api/v1/security/notifications", None, Some(&secadm_token)).await;
        assert_eq!((v.as_array().unwrap().len(), v[0]["times"].as_i64()), (1, Some(1)), "{v}");
        // API review works the same.
        app.call("POST", &review, Some(note), Some(&secadm_token)).await;
        let (_, html) = app.page("/admin/users", &secadm).await;
        assert!(!html.contains("疑似共用账号</span>"), "{html}");
        app
    })
    .await;
}

/// The load test's members (security.md AT-35, `dangjian demo --scale load`): accounts written in bulk with
/// one shared hash sign in like any other, each as her own person, and a second call counts on after the first.
#[tokio::test]
async fn the_load_tests_member_accounts_sign_in_each_as_her_own_person() {
    on_both(|app| async move {
        platform::demo::generate(&app.platform, platform::demo::Scale::Small, 7, &|_| {}).await.unwrap();
        let ctx = platform::Ctx { request_id: "test".into(), ..platform::Ctx::default() };
        let made = platform::demo::member_accounts(&app.platform, &ctx, 50).await.unwrap();
        assert_eq!(made, 50);
        assert_eq!(platform::demo::member_accounts(&app.platform, &ctx, 5).await.unwrap(), 5);
        let mut people = std::collections::HashSet::new();
        for name in ["load1", "load50", "load51", "load55"] {
            let token = app.login(name, platform::demo::DEMO_PASSWORD).await;
            let (st, me) = app.call("GET", "/api/v1/me", None, Some(&token)).await;
            assert_eq!(st, StatusCode::OK, "{me}");
            assert_eq!(me["grants"], json!([]), "no grant: {me}");
            assert!(people.insert(me["person_id"].as_i64().unwrap()), "{name} is a person of her own: {me}");
        }
        let (st, _) = app
            .call(
                "POST",
                "/api/v1/auth/login",
                Some(json!({"username": "load56", "password": platform::demo::DEMO_PASSWORD})),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "only 55 were made");
        let entries = audited(&app, "demo.member_accounts", "ok").await;
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().any(|e| e.detail.contains("accounts:50")));
        app
    })
    .await;
}
