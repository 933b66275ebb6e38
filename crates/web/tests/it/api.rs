//! The API of api-contract.md: the worked journey, bad input, scope refusals, counts, updates.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn total(app: &TestApp, token: &str, query: &str) -> i64 {
    let (st, v) = app.call("GET", &format!("/api/v1/people?{query}"), None, Some(token)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["total"].as_i64().unwrap()
}

#[tokio::test]
async fn contract_journey_secretary_sees_her_branch_only() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let ia = id_number("19990101", "123");
        let ib = id_number("19980202", "456");
        let pa = app.post_ok("/api/v1/people", person("李红", t.ba, &ia, "1999-01-01"), &t.staff).await;
        let pb = app.post_ok("/api/v1/people", person("王芳", t.bb, &ib, "1998-02-02"), &t.staff).await;
        let (pa, pb) = (pa["id"].as_i64().unwrap(), pb["id"].as_i64().unwrap());

        let (st, got) = app.call("GET", &format!("/api/v1/people/{pa}"), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got["name"], "李红");
        let shown = got["id_number"].as_str().unwrap();
        assert!(shown.contains("****") && !shown.contains("19990101"), "masked: {shown}");
        assert_eq!(got["phone"], "138****8000");
        assert_eq!(got["birth_date"], "1999-01-01", "dates are YYYY-MM-DD (api-contract)");
        assert!(!got.to_string().contains(&ia));

        let (st, body) = app.call("GET", &format!("/api/v1/people/{pb}"), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        // Same answer as for a record that does not exist: the refusal tells nothing.
        let (st2, _) = app.call("GET", "/api/v1/people/999999", None, Some(&t.sec_a)).await;
        assert_eq!(st2, StatusCode::NOT_FOUND);

        for query in ["", &format!("org_id={}", t.uni)] {
            let (st, list) = app.call("GET", &format!("/api/v1/people?{query}"), None, Some(&t.sec_a)).await;
            assert_eq!(st, StatusCode::OK);
            let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, vec![pa], "secretary's list ({query}) shows her branch only");
            assert_eq!(list["total"], 1);
        }
        let (st, _) = app.call("GET", &format!("/api/v1/people?org_id={}", t.cb), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a subtree without anything she may read");
        let (st, _) = app.call("GET", &format!("/api/v1/orgs/{}", t.bb), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert_eq!(total(&app, &t.staff, "").await, 2);

        // The refusals are in the audit log, and the chain is intact.
        let verdict = security::audit::verify(&app.platform.db).await.unwrap();
        assert!(matches!(verdict, security::audit::Verdict::Intact { .. }), "{verdict:?}");
        let recent = security::audit::recent(&app.platform.db, None, 200).await.unwrap();
        assert!(
            recent
                .iter()
                .any(|e| e.action == "person.read" && e.result == "denied" && e.target == format!("person:{pb}"))
        );
        app
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_field_errors_and_writes_nothing() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let good = id_number("19990101", "123");
        let wrong_check = format!("{}{}", &good[..17], if good.ends_with('0') { "1" } else { "0" });
        let cases: Vec<(Value, &str)> = vec![
            (person("赵错", t.ba, &wrong_check, "1999-01-01"), "id_number"),
            (person("赵未来", t.ba, &id_number("20990101", "123"), "2099-01-01"), "birth_date"),
            (json!({"gender": "female", "birth_date": "1999-01-01", "id_number": good, "org_id": t.ba, "stage": "full", "category": "student"}), "name"),
            (person("赵无组织", 987_654, &good, "1999-01-01"), "org_id"),
            (json!({"name": "赵", "gender": "x", "birth_date": "1999-01-01", "id_number": good, "org_id": t.ba, "stage": "full", "category": "student"}), "gender"),
            (json!({"name": "赵", "gender": "female", "birth_date": "1999-01-01", "id_number": good, "org_id": t.ba, "stage": "full", "category": "student", "phone": "1380013800"}), "phone"),
            (json!({"name": "赵", "gender": "female", "birth_date": "1999-01-01", "id_number": good, "org_id": t.ba, "stage": "full", "category": "student",
                    "admitted_on": "2020-05-20", "converted_on": "2021-05-19"}), "converted_on"),
        ];
        for (body, field) in cases {
            let (st, v) = app.call("POST", "/api/v1/people", Some(body), Some(&t.staff)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
            assert_eq!(v["error"]["code"], "validation_failed");
            let msg = v["error"]["fields"][field].as_str().unwrap_or_else(|| panic!("no fields.{field} in {v}"));
            assert!(msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "Chinese message: {msg}");
        }
        let (st, v) = app.call("POST", "/api/v1/people", Some(json!({"name": 5})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert!(v["error"]["message"].is_string());
        assert_eq!(total(&app, &t.staff, "").await, 0, "no person was written");

        // A duplicate ID number is refused, and the first record stays alone.
        app.post_ok("/api/v1/people", person("李红", t.ba, &good, "1999-01-01"), &t.staff).await;
        let (st, v) = app.call("POST", "/api/v1/people", Some(person("李红二", t.bb, &good, "1999-01-01")), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["id_number"].is_string());
        assert_eq!(total(&app, &t.staff, "").await, 1);
        app
    })
    .await;
}

#[tokio::test]
async fn roles_are_refused_outside_their_duties() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let admin = &t.admin;
        let user = |name: &str, role: &str, org: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "grants": [{"role": role, "org_id": org}]});
        app.post_ok("/api/v1/users", user("leader", "leader", Some(t.uni)), admin).await;
        app.post_ok("/api/v1/users", user("auditor", "audit_admin", None), admin).await;
        let leader = app.login("leader", USER_PW).await;
        let auditor = app.login("auditor", USER_PW).await;
        let p = app.post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff).await;
        let pid = p["id"].as_i64().unwrap();

        // The system administrator runs structure and accounts but reads no member's record.
        assert_eq!(app.call("GET", &format!("/api/v1/people/{pid}"), None, Some(admin)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.call("GET", "/api/v1/people", None, Some(admin)).await.0, StatusCode::NOT_FOUND, "no list at all");
        // The leader reads but does not write.
        assert_eq!(app.call("GET", &format!("/api/v1/people/{pid}"), None, Some(&leader)).await.0, StatusCode::OK);
        let (st, _) = app.call("PATCH", &format!("/api/v1/people/{pid}"), Some(json!({"name": "改名"})), Some(&leader)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app.call("POST", "/api/v1/people", Some(person("新人", t.ba, &id_number("19990101", "135"), "1999-01-01")), Some(&leader)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // The audit administrator sees no organization; the secretary creates no org and no account.
        assert_eq!(app.call("GET", &format!("/api/v1/orgs/{}", t.uni), None, Some(&auditor)).await.0, StatusCode::NOT_FOUND);
        let (st, _) = app.call("POST", "/api/v1/orgs", Some(json!({"name": "新支部", "kind": "branch", "parent_id": t.ba, "category": "student"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app.call("POST", "/api/v1/users", Some(user("x_user", "member", None)), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // Once a security administrator exists, the system administrator no longer grants roles.
        app.post_ok("/api/v1/users", user("secadmin", "security_admin", None), admin).await;
        let (st, _) = app.call("POST", "/api/v1/users", Some(user("late_staff", "org_staff", Some(t.uni))), Some(admin)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let secadmin = app.login("secadmin", USER_PW).await;
        app.post_ok("/api/v1/users", user("late_staff", "org_staff", Some(t.uni)), &secadmin).await;
        // No token: 401 JSON.
        let (st, v) = app.call("GET", "/api/v1/people", None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(v["error"]["code"], "unauthenticated");
        app
    })
    .await;
}

#[tokio::test]
async fn head_counts_follow_every_change() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let a = app
            .post_ok("/api/v1/people", person("甲", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
            .await;
        let mut applicant = person("乙", t.ba, &id_number("20000101", "246"), "2000-01-01");
        applicant["stage"] = json!("applicant");
        let b = app.post_ok("/api/v1/people", applicant, &t.staff).await;
        let stats = |org: i64| {
            let app = &app;
            let token = t.staff.clone();
            async move { app.call("GET", &format!("/api/v1/orgs/{org}/stats"), None, Some(&token)).await.1 }
        };
        let n = |v: &Value, code: &str| {
            v["by_stage"].as_array().unwrap().iter().find(|i| i["code"] == code).unwrap()["n"].as_i64().unwrap()
        };
        let s = stats(t.uni).await;
        assert_eq!((s["total"].as_i64().unwrap(), n(&s, "full"), n(&s, "applicant")), (2, 1, 1));

        // Promote b and move a to the other college: every ancestor's counts move with them.
        let bid = b["id"].as_i64().unwrap();
        let (st, v) = app
            .call(
                "PATCH",
                &format!("/api/v1/people/{bid}"),
                Some(json!({"stage": "activist", "applied_on": "2020-03-01", "activist_on": "2020-09-01"})),
                Some(&t.staff),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let aid = a["id"].as_i64().unwrap();
        let (st, v) =
            app.call("PATCH", &format!("/api/v1/people/{aid}"), Some(json!({"org_id": t.bb})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["org_name"], "信息学院教工党支部");
        let (ca, cb, uni) = (stats(t.ca).await, stats(t.cb).await, stats(t.uni).await);
        assert_eq!((ca["total"].as_i64().unwrap(), n(&ca, "activist")), (1, 1));
        assert_eq!((cb["total"].as_i64().unwrap(), n(&cb, "full")), (1, 1));
        assert_eq!((uni["total"].as_i64().unwrap(), n(&uni, "applicant"), n(&uni, "activist")), (2, 0, 1));
        app
    })
    .await;
}

#[tokio::test]
async fn patch_keeps_sealed_items_and_refuses_lost_updates() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let p = app
            .post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
            .await;
        let id = p["id"].as_i64().unwrap();
        let (st, v) = app
            .call(
                "PATCH",
                &format!("/api/v1/people/{id}"),
                Some(json!({"name": "李红霞", "version": 1})),
                Some(&t.sec_a),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["name"], "李红霞");
        assert_eq!(v["id_number"], p["id_number"]);
        assert_eq!(v["phone"], "138****8000");
        assert_eq!(v["version"], 2);
        let (st, v) = app
            .call(
                "PATCH",
                &format!("/api/v1/people/{id}"),
                Some(json!({"name": "旧版本", "version": 1})),
                Some(&t.sec_a),
            )
            .await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        let (st, v) =
            app.call("PATCH", &format!("/api/v1/people/{id}"), Some(json!({"id_number": "123"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["id_number"].is_string());
        // The secretary cannot move a person out of her branch.
        let (st, _) =
            app.call("PATCH", &format!("/api/v1/people/{id}"), Some(json!({"org_id": t.bb})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, v) = app.call("GET", &format!("/api/v1/people/{id}"), None, Some(&t.staff)).await;
        assert_eq!((v["name"].as_str(), v["org_id"].as_i64()), (Some("李红霞"), Some(t.ba)));
        app
    })
    .await;
}

#[tokio::test]
async fn sessions_end_on_logout_and_password_change() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (st, v) =
            app.call("POST", "/api/v1/auth/login", Some(json!({"username": "staff", "password": "wrong"})), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert!(v["error"]["message"].as_str().unwrap().starts_with("用户名或密码错误"));
        let (st, v2) = app
            .call("POST", "/api/v1/auth/login", Some(json!({"username": "nobody", "password": "wrong"})), None)
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(v["error"]["message"], v2["error"]["message"], "the message never says whether the user exists");

        let second = app.login("staff", USER_PW).await;
        let (st, me) = app.call("GET", "/api/v1/me", None, Some(&second)).await;
        assert_eq!((st, me["username"].as_str()), (StatusCode::OK, Some("staff")));
        assert_eq!(me["grants"][0]["role"], "org_staff");
        let (st, _) = app.call("POST", "/api/v1/auth/logout", None, Some(&second)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        assert_eq!(app.call("GET", "/api/v1/me", None, Some(&second)).await.0, StatusCode::UNAUTHORIZED);

        let other = app.login("staff", USER_PW).await;
        let (st, v) = app
            .call(
                "POST",
                "/api/v1/auth/password",
                Some(json!({"old_password": USER_PW, "new_password": "short"})),
                Some(&t.staff),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["new_password"].is_string());
        let (st, _) = app
            .call(
                "POST",
                "/api/v1/auth/password",
                Some(json!({"old_password": USER_PW, "new_password": "New-Pass-2026!"})),
                Some(&t.staff),
            )
            .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        assert_eq!(
            app.call("GET", "/api/v1/me", None, Some(&t.staff)).await.0,
            StatusCode::OK,
            "the changing session stays"
        );
        assert_eq!(
            app.call("GET", "/api/v1/me", None, Some(&other)).await.0,
            StatusCode::UNAUTHORIZED,
            "other sessions end"
        );
        app.login("staff", "New-Pass-2026!").await;
        app
    })
    .await;
}

#[tokio::test]
async fn second_factor_required_refuses_admins_by_default() {
    let app = TestApp::with_mfa(kernel::Backend::Sqlite, true).await;
    let (st, v) =
        app.call("POST", "/api/v1/auth/login", Some(json!({"username": "admin", "password": ADMIN_PW})), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["error"]["code"], "mfa_enrollment_required");
    assert!(v.to_string().len() < 400 && v["error"]["challenge"].is_string(), "a challenge, never a token: {v}");
    assert!(v["token"].is_null());
    app.cleanup().await;
}

#[tokio::test]
async fn openapi_documents_every_contract_route() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (st, spec) = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/orgs", "post"),
        ("/api/v1/orgs", "get"),
        ("/api/v1/orgs/{id}", "get"),
        ("/api/v1/orgs/{id}/stats", "get"),
        ("/api/v1/people", "post"),
        ("/api/v1/people", "get"),
        ("/api/v1/people/{id}", "get"),
        ("/api/v1/people/{id}", "patch"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from /api/openapi.json"
        );
    }
    // Every documented operation answers (is routed): an unknown route is a JSON 404 with code not_found,
    // a documented one is anything else without a token.
    for path in paths.keys() {
        let concrete = path.replace("{id}", "1");
        let (st, v) = app.call("GET", &concrete, None, None).await;
        assert!(st == StatusCode::UNAUTHORIZED || st == StatusCode::METHOD_NOT_ALLOWED, "{path}: {st} {v}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn keyset_pages_cover_the_subtree_once_in_order() {
    on_both(|app| async move {
        let t = tree(&app).await;
        for i in 0..25 {
            let org = if i % 2 == 0 { t.ba } else { t.bb };
            let seq = format!("{:03}", 100 + i);
            app.post_ok(
                "/api/v1/people",
                person(&format!("人员{i}"), org, &id_number("19990101", &seq), "1999-01-01"),
                &t.staff,
            )
            .await;
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("/api/v1/people?org_id={}&per_page=10&cursor={}", t.uni, web::auth::encode(c)),
                None => format!("/api/v1/people?org_id={}&per_page=10", t.uni),
            };
            let (st, page) = app.call("GET", &q, None, Some(&t.staff)).await;
            assert_eq!(st, StatusCode::OK, "{page}");
            assert_eq!(page["total"], 25);
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p["org_id"].as_i64().unwrap(), p["id"].as_i64().unwrap())),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        let mut sorted = seen.clone();
        sorted.sort_by_key(|(org, id)| (if *org == t.ba { 0 } else { 1 }, *id));
        assert_eq!(seen, sorted, "ordered by organization, then id, each once");
        let (_, p2) =
            app.call("GET", &format!("/api/v1/people?org_id={}&per_page=10&page=2", t.uni), None, Some(&t.staff)).await;
        let ids: Vec<i64> = p2["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, seen[10..20].iter().map(|(_, id)| *id).collect::<Vec<_>>(), "page=2 is the second ten");
        let (_, p5) =
            app.call("GET", &format!("/api/v1/people?org_id={}&per_page=10&page=5", t.uni), None, Some(&t.staff)).await;
        assert!(p5["items"].as_array().unwrap().is_empty() && p5["next_cursor"].is_null(), "past the end: nothing");
        let (_, by_stage) =
            app.call("GET", &format!("/api/v1/people?org_id={}&stage=applicant", t.uni), None, Some(&t.staff)).await;
        assert_eq!((by_stage["total"].as_i64(), by_stage["items"].as_array().unwrap().len()), (Some(0), 0));
        let (_, by_name) =
            app.call("GET", &format!("/api/v1/people?q={}", web::auth::encode("人员1")), None, Some(&t.staff)).await;
        assert_eq!(by_name["items"].as_array().unwrap().len(), 11, "人员1 and 人员10-19");
        app
    })
    .await;
}

#[tokio::test]
async fn lockout_follows_the_account_not_the_address() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let wrong = json!({"username": "staff", "password": "Wrong-Pass-1!"});
        for _ in 0..5 {
            let (st, _) = app.call("POST", "/api/v1/auth/login", Some(wrong.clone()), None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED);
        }
        // Locked now: even the right password is refused, with the same message as any failure.
        let (st, v) =
            app.call("POST", "/api/v1/auth/login", Some(json!({"username": "staff", "password": USER_PW})), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
        // Another account behind the same address (campus NAT) is not affected.
        app.login("sec_a", USER_PW).await;
        // The session the staff member already had keeps working; the lock only stops new logins.
        assert_eq!(app.call("GET", "/api/v1/me", None, Some(&t.staff)).await.0, StatusCode::OK);
        let entries = security::audit::recent(&app.platform.db, None, 100).await.unwrap();
        let details: Vec<(&str, &str)> = entries.iter().map(|e| (e.action.as_str(), e.detail.as_str())).collect();
        assert!(
            entries.iter().any(|e| e.action == "auth.login" && e.detail.starts_with("locked until")),
            "{details:?}"
        );
        assert!(entries.iter().any(|e| e.action == "auth.login" && e.detail == "locked"));
        // When the lock expires, the right password works again and clears the count.
        let sql = "UPDATE users SET locked_until = NULL WHERE username = 'staff'";
        match &app.platform.db {
            kernel::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()).unwrap(),
            kernel::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()).unwrap(),
        }
        app.login("staff", USER_PW).await;
        app
    })
    .await;
}

#[tokio::test]
async fn guessing_the_old_password_counts_toward_the_lockout() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let wrong = json!({"old_password": "Not-It-2026!", "new_password": "New-Pass-2026!"});
        for _ in 0..5 {
            let (st, v) = app.call("POST", "/api/v1/auth/password", Some(wrong.clone()), Some(&t.staff)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        }
        let right = json!({"old_password": USER_PW, "new_password": "New-Pass-2026!"});
        let (st, v) = app.call("POST", "/api/v1/auth/password", Some(right), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["old_password"].as_str().unwrap().contains("锁定"));
        let (st, _) =
            app.call("POST", "/api/v1/auth/login", Some(json!({"username": "staff", "password": USER_PW})), None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "the account is locked for logins too");
        let entries = security::audit::recent(&app.platform.db, None, 50).await.unwrap();
        assert_eq!(entries.iter().filter(|e| e.action == "account.password_change" && e.result == "failed").count(), 5);
        app
    })
    .await;
}

#[tokio::test]
async fn an_administrator_ends_all_sessions_of_an_account() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let second = app.login("staff", USER_PW).await;
        let (_, me) = app.call("GET", "/api/v1/me", None, Some(&t.staff)).await;
        let staff_id = me["user_id"].as_i64().unwrap();
        let (st, _) = app.call("POST", &format!("/api/v1/users/{staff_id}/end-sessions"), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "a secretary may not");
        assert_eq!(app.call("GET", "/api/v1/me", None, Some(&second)).await.0, StatusCode::OK);
        let (st, _) = app.call("POST", &format!("/api/v1/users/{staff_id}/end-sessions"), None, Some(&t.admin)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        for token in [&t.staff, &second] {
            assert_eq!(app.call("GET", "/api/v1/me", None, Some(token)).await.0, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(app.call("GET", "/api/v1/me", None, Some(&t.admin)).await.0, StatusCode::OK, "others keep theirs");
        app
    })
    .await;
}

#[tokio::test]
async fn bad_organizations_get_field_errors_and_write_nothing() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let org = |name: &str, kind: &str, parent: Option<i64>, category: &str| {
            json!({"name": name, "kind": kind, "parent_id": parent, "category": category})
        };
        let cases = vec![
            (org("甲", "branch", Some(t.ca), "student"), "name"),
            (org("新支部", "club", Some(t.ca), "student"), "kind"),
            (org("新支部", "branch", Some(t.ca), "alumni"), "category"),
            (org("新学院党委", "college_committee", Some(t.ba), "mixed"), "kind"),
            (org("艺术设计学院学生第一党支部", "branch", Some(t.ca), "student"), "name"),
            (org("新支部", "branch", Some(987_654), "student"), "parent_id"),
        ];
        for (body, field) in cases {
            let (st, v) = app.call("POST", "/api/v1/orgs", Some(body), Some(&t.staff)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {v}");
            assert!(v["error"]["fields"][field].is_string(), "fields.{field} in {v}");
        }
        let (_, children) = app.call("GET", &format!("/api/v1/orgs?parent_id={}", t.ca), None, Some(&t.staff)).await;
        assert_eq!(children.as_array().unwrap().len(), 1, "nothing written");
        // Staff may add below her subtree; a secretary may not, and the other college is not hers to see.
        app.post_ok("/api/v1/orgs", org("艺术设计学院学生第二党支部", "branch", Some(t.ca), "student"), &t.staff).await;
        let (st, _) = app.call("POST", "/api/v1/orgs", Some(org("党小组", "group", Some(t.bb), "faculty")), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "a secretary creates no organization, whatever the input");
        let (st, _) = app.call("POST", "/api/v1/users/999999/end-sessions", None, Some(&t.admin)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn list_pages_are_fresh_after_every_write_on_this_instance() {
    // List pages are cached per instance for `cache_ttl` (2 s here): a write must make them stale at once.
    on_both(|app| async move {
        let t = tree(&app).await;
        let names = |v: &Value| -> Vec<String> {
            v["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
        };
        let list = format!("/api/v1/people?org_id={}", t.ba);
        let (_, before) = app.call("GET", &list, None, Some(&t.sec_a)).await;
        assert_eq!(before["total"], 0);
        let ia = id_number("19990101", "123");
        let p = app.post_ok("/api/v1/people", person("李红", t.ba, &ia, "1999-01-01"), &t.staff).await;
        let (_, after) = app.call("GET", &list, None, Some(&t.sec_a)).await;
        assert_eq!((after["total"].as_i64(), names(&after)), (Some(1), vec!["李红".to_string()]));

        let id = p["id"].as_i64().unwrap();
        let (st, _) =
            app.call("PATCH", &format!("/api/v1/people/{id}"), Some(json!({"name": "李红梅"})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::OK);
        let (_, renamed) = app.call("GET", &list, None, Some(&t.sec_a)).await;
        assert_eq!(names(&renamed), vec!["李红梅".to_string()]);
        // The UI page reads the same service.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page(&format!("/people?org_id={}", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("李红梅"));
        app
    })
    .await;
}

#[tokio::test]
async fn on_postgresql_another_instance_drops_its_cache_the_moment_a_session_ends() {
    // Two instances on one database, the second caching sessions for a whole minute: a logout on the first
    // must reach the second through the notification channel, not by the cache running out.
    let app = TestApp::new(kernel::Backend::Postgres).await;
    let t = tree(&app).await;
    let (other, follower) = second_instance(&app).await;
    other.authenticate(&t.sec_a).await.unwrap(); // now cached on the other instance
    let (st, _) = app.call("POST", "/api/v1/auth/logout", None, Some(&t.sec_a)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let refused = refused_soon(&other, &t.sec_a).await;
    assert!(refused, "the other instance still serves the ended session from its cache");
    follower.abort();
    app.cleanup().await;
}

#[tokio::test]
async fn privileged_accounts_need_12_characters_and_nobody_uses_their_id_number() {
    // security.md AT-1.
    on_both(|app| async move {
        let t = tree(&app).await;
        let ia = id_number("19990101", "123");
        let pa = app.post_ok("/api/v1/people", person("李红", t.ba, &ia, "1999-01-01"), &t.staff).await["id"].as_i64().unwrap();
        let user = |name: &str, pw: &str, grants: Value, person: Option<i64>| {
            json!({"username": name, "password": pw, "display_name": name, "person_id": person, "grants": grants})
        };
        let (st, v) = app
            .call("POST", "/api/v1/users", Some(user("staff2", "Short-2026!", json!([{"role": "org_staff", "org_id": t.ca}]), None)), Some(&t.admin))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["fields"]["password"], "管理员和组织员的密码至少12位");
        let (st, _) = app
            .call("POST", "/api/v1/users", Some(user("staff2", "red-lantern-7", json!([{"role": "org_staff", "org_id": t.ca}]), None)), Some(&t.admin))
            .await;
        assert_eq!(st, StatusCode::CREATED, "a 12-character passphrase of three classes");
        // A member may keep 8+; never her ID number.
        let with_id = format!("Li-{ia}");
        let (st, v) = app.call("POST", "/api/v1/users", Some(user("lihong", &with_id, json!([]), Some(pa))), Some(&t.admin)).await;
        assert_eq!((st, v["error"]["fields"]["password"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("密码不能包含本人的公民身份号码")));
        let (st, _) = app.call("POST", "/api/v1/users", Some(user("lihong", "Short-2026!", json!([]), Some(pa))), Some(&t.admin)).await;
        assert_eq!(st, StatusCode::CREATED);
        let member = app.login("lihong", "Short-2026!").await;
        let tail = format!("Hong-{}!", &ia[12..]);
        let (st, v) = app
            .call("POST", "/api/v1/auth/password", Some(json!({"old_password": "Short-2026!", "new_password": tail})), Some(&member))
            .await;
        assert_eq!((st, v["error"]["fields"]["new_password"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("密码不能包含本人的公民身份号码")));
        app
    })
    .await;
}
