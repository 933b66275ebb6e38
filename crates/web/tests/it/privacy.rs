//! PIPL access and copy (security.md AT-36): a member downloads everything held about her, with the purpose
//! of each item; and no table that refers to a person or an account is left out of that copy unnoticed.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use axum::http::{Request, StatusCode, header};
use kernel::Db;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn every_table_about_a_person_or_an_account_is_in_the_copy_or_left_out_for_a_reason() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let Db::Sqlite(pool) = &app.platform.db else { unreachable!() };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut about_someone = BTreeSet::new();
    for t in &tables {
        let refs: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT \"table\" FROM pragma_foreign_key_list('{t}')")))
                .fetch_all(pool)
                .await
                .unwrap();
        let cols: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT name FROM pragma_table_info('{t}')")))
                .fetch_all(pool)
                .await
                .unwrap();
        if t == "people"
            || refs.iter().any(|r| r == "people")
            || cols.iter().any(|c| c == "person_id" || c == "user_id")
        {
            about_someone.insert(t.clone());
        }
    }
    let mut covered: BTreeSet<String> = platform::service::PLATFORM_TABLES.iter().map(|s| s.to_string()).collect();
    // A provider exports and erases the same tables (PersonData::export, PersonData::erase).
    let mut erased: BTreeSet<String> =
        platform::service::PLATFORM_ERASED_TABLES.iter().map(|s| s.to_string()).collect();
    for p in web::privacy::providers() {
        covered.extend(p.tables().iter().map(|s| s.to_string()));
        erased.extend(p.tables().iter().map(|s| s.to_string()));
    }
    covered.extend(web::privacy::NOT_IN_THE_COPY.iter().map(|(t, _)| t.to_string()));
    let missing: Vec<&String> = about_someone.iter().filter(|t| !covered.contains(*t)).collect();
    assert!(
        missing.is_empty(),
        "tables about a person or an account with no PersonData provider (crates/web/src/privacy.rs): {missing:?}"
    );
    let not_erased: Vec<&String> = about_someone.iter().filter(|t| !erased.contains(*t)).collect();
    assert!(
        not_erased.is_empty(),
        "tables about a person or an account that a deletion (AT-37) would leave untouched: add them to a \
         provider's erase or to PLATFORM_ERASED_TABLES: {not_erased:?}"
    );
    assert!(about_someone.contains("privacy_requests"), "{about_someone:?}");
    assert!(about_someone.contains("meeting_attendees") && about_someone.contains("sessions"), "{about_someone:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn a_member_downloads_all_of_her_data_with_its_purposes() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let ia = id_number("19990101", "123");
        let pa = app.post_ok("/api/v1/people", person("李红", t.ba, &ia, "1999-01-01"), &t.staff).await["id"].as_i64().unwrap();
        app.post_ok(
            "/api/v1/users",
            json!({"username": "lihong", "password": USER_PW, "display_name": "李红", "person_id": pa, "grants": []}),
            &t.admin,
        )
        .await;
        let meeting = json!({"org_id": t.ba, "kind": "theme_day", "title": "三月主题党日", "held_on": "2025-03-20", "attendee_ids": [pa]});
        app.post_ok("/api/v1/meetings", meeting, &t.sec_a).await;
        let member = app.login("lihong", USER_PW).await;
        let (st, _) = app.call("POST", &format!("/api/v1/people/{pa}/reveal"), Some(json!({"field": "phone", "reason": "通知开会"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK);

        let req = Request::builder().uri("/api/v1/me/data").header(header::AUTHORIZATION, format!("Bearer {member}"));
        let (st, headers, body) = app.request(req.body(axum::body::Body::empty()).unwrap()).await;
        assert_eq!(st, StatusCode::OK);
        assert!(headers.get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap().starts_with("attachment"));
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["person"]["id_number"], ia.as_str(), "her own sealed items in full");
        assert_eq!(doc["person"]["phone"], "13800138000");
        assert_eq!(doc["account"]["username"], "lihong");
        assert!(!doc["sign_ins"].as_array().unwrap().is_empty());
        assert!(doc["purposes"].as_array().unwrap().len() >= 5);
        assert_eq!(doc["meetings_attended"][0]["title"], "三月主题党日");
        assert!(doc["who_looked_at_my_record"].as_array().unwrap().iter().any(|e| e["actor"] == "sec_a"));
        assert!(!body.contains("secret"), "no authenticator secret in the copy");
        // Every section of the copy has its title and purpose in the one catalogue.
        let sections = platform::privacy::copy_sections(&doc);
        assert!(sections.len() >= 10);
        for (key, _) in &sections {
            assert!(platform::privacy::section(key).is_some(), "section {key} has no purpose in privacy::SECTIONS");
        }
        assert_eq!(sections[0].0, "person");

        // Only one's own: an account without a person has no copy; no session, no copy.
        let (st, _) = app.call("GET", "/api/v1/me/data", None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.call("GET", "/api/v1/me/data", None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let recent = security::audit::recent(&app.platform.db, None, 30).await.unwrap();
        assert!(recent.iter().any(|e| e.action == "person.export_self" && e.actor == "lihong"));

        // The page link downloads the same document.
        let cookie = app.web_login("lihong", USER_PW).await;
        let (st, html) = app.page("/account/my-data", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("\"purposes\""));
        app
    })
    .await;
}

/// A member with an account in branch A, with a phone, an address and a meeting whose minutes name her.
struct Member {
    id: i64,
    token: String,
    id_number: String,
}

async fn member(app: &TestApp, t: &Tree, name: &str, username: &str, seq: &str) -> Member {
    let idn = id_number("19990101", seq);
    let mut p = person(name, t.ba, &idn, "1999-01-01");
    p["phone"] = json!(format!("13800138{seq}"));
    p["address"] = json!(format!("杭州市西湖区文三路{seq}号"));
    p["native_place"] = json!(if seq == "123" { "浙江温州" } else { "江苏南京" });
    let id = app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap();
    let user = json!({"username": username, "password": USER_PW, "display_name": name, "person_id": id, "grants": []});
    app.post_ok("/api/v1/users", user, &t.admin).await;
    let minutes = format!("{name}同志汇报了学习体会。");
    let meeting = json!({"org_id": t.ba, "kind": "theme_day", "title": format!("{name}等同志的主题党日"), "held_on": "2025-03-20",
        "attendee_ids": [id], "minutes": minutes});
    app.post_ok("/api/v1/meetings", meeting, &t.sec_a).await;
    Member { id, token: app.login(username, USER_PW).await, id_number: idn }
}

/// The raw bytes of an answer (the ZIP).
async fn raw(app: &TestApp, req: Request<axum::body::Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let (st, headers) = (resp.status(), resp.headers().clone());
    (st, headers, resp.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn copy_request(token: &str, copy: &str) -> Request<axum::body::Body> {
    Request::builder()
        .method("POST")
        .uri("/api/v1/me/copy")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(json!({"token": copy}).to_string()))
        .unwrap()
}

async fn audit_has(app: &TestApp, action: &str, actor: &str) -> bool {
    let recent = security::audit::recent(&app.platform.db, None, 200).await.unwrap();
    recent.iter().any(|e| e.action == action && e.actor == actor)
}

#[tokio::test]
async fn a_copy_is_a_zip_behind_a_single_use_link_of_72_hours() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = member(&app, &t, "李红", "lihong", "123").await;
        let other = member(&app, &t, "王芳", "wangfang", "245").await;

        let (st, v) =
            app.call("POST", "/api/v1/me/privacy-requests", Some(json!({"kind": "copy"})), Some(&m.token)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let copy = v["token"].as_str().unwrap().to_string();
        assert_eq!(v["request"]["state"], "ready");
        assert!(audit_has(&app, "privacy.copy_request", "lihong").await);
        // Only its hash is kept.
        let (_, mine) = app.call("GET", "/api/v1/me/privacy-requests", None, Some(&m.token)).await;
        assert!(!mine.to_string().contains(&copy));
        let expires = time::OffsetDateTime::parse(
            mine[0]["expires_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let hours = (expires - time::OffsetDateTime::now_utc()).whole_minutes() as f64 / 60.0;
        assert!((71.9..=72.0).contains(&hours), "{hours}");

        // Another person's token: nothing, audited as a refusal.
        let (st, _, _) = raw(&app, copy_request(&other.token, &copy)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(audit_has(&app, "privacy.copy_download", "wangfang").await);
        // Without a session: 401.
        let anon = Request::builder()
            .method("POST")
            .uri("/api/v1/me/copy")
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(json!({"token": copy}).to_string()))
            .unwrap();
        assert_eq!(raw(&app, anon).await.0, StatusCode::UNAUTHORIZED);

        let (st, headers, zip) = raw(&app, copy_request(&m.token, &copy)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
        assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
        let names: Vec<String> = documents::archive::entries(&zip, 100).unwrap().into_iter().map(|e| e.name).collect();
        for want in [
            "我的个人信息.html",
            "我的个人信息.pdf",
            "json/my-data.json",
            "csv/person.csv",
            "csv/meetings_attended.csv",
            "csv/privacy_requests.csv",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
        }
        assert!(audit_has(&app, "privacy.copy_download", "lihong").await);

        // Single use.
        let (st, _, _) = raw(&app, copy_request(&m.token, &copy)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // A link past its 72 hours: expired by the cleanup and audited; then unusable.
        let (_, v) =
            app.call("POST", "/api/v1/me/privacy-requests", Some(json!({"kind": "copy"})), Some(&m.token)).await;
        let late = v["token"].as_str().unwrap().to_string();
        let id = v["request"]["id"].as_i64().unwrap();
        let past = time::OffsetDateTime::now_utc() - time::Duration::hours(73);
        kernel::on_db!(&app.platform.db, p => sqlx::query("UPDATE privacy_requests SET expires_at = $1 WHERE id = $2").bind(past).bind(id).execute(p).await.map(|_| ())).unwrap();
        assert_eq!(platform::service::expire_copy_links(&app.platform.db).await.unwrap(), 1);
        assert!(audit_has(&app, "privacy.copy_expire", "system").await);
        let (st, _, _) = raw(&app, copy_request(&m.token, &late)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, mine) = app.call("GET", "/api/v1/me/privacy-requests", None, Some(&m.token)).await;
        assert_eq!(mine[0]["state"], "expired");
        assert_eq!(mine[1]["state"], "downloaded");

        // The page: request, then the one-time download form (the token in a POST body, never in a URL).
        let cookie = app.web_login("lihong", USER_PW).await;
        let (st, html) = app.page("/account/privacy", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains("申请获取副本")
                && html.contains("申请更正")
                && html.contains("申请删除")
                && html.contains("处理目的")
        );
        let (st, _, html) = app.form("/account/privacy", &[("kind", "copy")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK);
        let start = html.find("name=\"token\" value=\"").unwrap() + 20;
        let tok = html[start..start + 64].to_string();
        assert!(!html.contains(&format!("?token={tok}")));
        let (st, headers, _) = app.form("/account/privacy/copy", &[("token", &tok)], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
        app
    })
    .await;
}

#[tokio::test]
async fn a_correction_is_decided_by_the_record_keepers_within_the_period() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = member(&app, &t, "李红", "lihong", "123").await;
        let ask = |body: Value| {
            let tok = m.token.clone();
            let app = &app;
            async move { app.call("POST", "/api/v1/me/privacy-requests", Some(body), Some(&tok)).await }
        };
        // Refusals of bad input, each under its field.
        let (st, v) = ask(json!({"kind": "correction", "field": "stage", "proposed": "full", "reason": "阶段有误"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["field"].is_string());
        let (st, v) = ask(json!({"kind": "correction", "field": "phone", "proposed": "12345", "reason": "号码更换"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["proposed"].is_string(), "{v}");
        let (st, v) = ask(json!({"kind": "correction", "field": "phone", "proposed": "13900139000", "reason": "换"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["reason"].is_string());
        let (st, v) = ask(json!({"kind": "correction", "field": "phone", "proposed": "13900139000", "reason": "手机号已更换"})).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let id = v["request"]["id"].as_i64().unwrap();
        let due = platform::privacy::rights_due(kernel::dates::today());
        assert_eq!(v["request"]["due_on"], kernel::dates::iso(due));
        let (st, _) = ask(json!({"kind": "correction", "field": "phone", "proposed": "13900139001", "reason": "手机号已更换"})).await;
        assert_eq!(st, StatusCode::CONFLICT, "one open correction per item");

        // The queue: her secretary and the university's staff see it; another college's secretary does not.
        let (st, q) = app.call("GET", "/api/v1/privacy-requests", None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(q[0]["id"], id);
        assert_eq!(q[0]["proposed"], "13900139000");
        assert_eq!(q[0]["overdue"], false);
        let sec_b = json!({"username": "sec_b", "password": USER_PW, "display_name": "sec_b", "grants": [{"role": "branch_secretary", "org_id": t.bb}]});
        app.post_ok("/api/v1/users", sec_b, &t.admin).await;
        let sec_b = app.login("sec_b", USER_PW).await;
        let (_, q) = app.call("GET", "/api/v1/privacy-requests", None, Some(&sec_b)).await;
        assert_eq!(q.as_array().unwrap().len(), 0);
        let decide = |who: String, body: Value| {
            let app = &app;
            async move { app.call("POST", &format!("/api/v1/privacy-requests/{id}/decision"), Some(body), Some(&who)).await }
        };
        let (st, _) = decide(sec_b.clone(), json!({"decision": "accept"})).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "outside her scope");
        let (st, _) = decide(m.token.clone(), json!({"decision": "accept"})).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "a member decides nothing, not even her own");
        let (st, _) = app.call("GET", "/api/v1/privacy-requests", None, Some(&m.token)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, v) = decide(t.sec_a.clone(), json!({"decision": "refuse"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a refusal needs its reason");
        assert!(v["error"]["fields"]["note"].is_string());
        let (st, _) = decide(t.sec_a.clone(), json!({"decision": "approve"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "approve is for deletions");

        // Accepted: applied in the same transaction, audited, and she sees the outcome.
        let (st, v) = decide(t.sec_a.clone(), json!({"decision": "accept", "note": "已核实"})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "accepted");
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", m.id), None, Some(&t.sec_a)).await;
        assert_eq!(p["phone"], "139****9000");
        let (st, _) = decide(t.staff.clone(), json!({"decision": "accept"})).await;
        assert_eq!(st, StatusCode::CONFLICT, "decided once");
        assert!(audit_has(&app, "privacy.correction_accept", "sec_a").await);
        assert!(audit_has(&app, "person.update", "sec_a").await);
        let (_, mine) = app.call("GET", "/api/v1/me/privacy-requests", None, Some(&m.token)).await;
        assert_eq!(mine[0]["state"], "accepted");
        assert_eq!(mine[0]["decision_note"], "已核实");

        // A refusal with its reason, through the staff page; an overdue request is marked.
        let (_, v) = ask(json!({"kind": "correction", "field": "name", "proposed": "李虹", "reason": "户籍登记为李虹"})).await;
        let id2 = v["request"]["id"].as_i64().unwrap();
        let long_ago = kernel::dates::today() - time::Duration::days(31);
        kernel::on_db!(&app.platform.db, p => sqlx::query("UPDATE privacy_requests SET due_on = $1 WHERE id = $2").bind(long_ago).bind(id2).execute(p).await.map(|_| ())).unwrap();
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page("/privacy/requests", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("已逾期") && html.contains("李虹"), "{html}");
        let (st, _, html) = app.form(&format!("/privacy/requests/{id2}"), &[("decision", "refuse"), ("note", "与户籍信息不符")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        let (_, mine) = app.call("GET", "/api/v1/me/privacy-requests", None, Some(&m.token)).await;
        assert_eq!(mine[0]["state"], "refused");
        assert_eq!(mine[0]["decision_note"], "与户籍信息不符");
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", m.id), None, Some(&t.sec_a)).await;
        assert_eq!(p["name"], "李红");
        app
    })
    .await;
}

/// Every text the database holds, as one string: the SQLite file and its log as bytes (lossy UTF-8 plus hex,
/// so binary columns count too); on PostgreSQL every row of every table as text (a `pg_dump` of the data).
async fn dump(app: &TestApp) -> String {
    match &app.platform.db {
        Db::Sqlite(_) => {
            let mut out = String::new();
            for f in ["dangjian.db", "dangjian.db-wal"] {
                if let Ok(bytes) = std::fs::read(app.dir.join(f)) {
                    out.push_str(&String::from_utf8_lossy(&bytes));
                    out.push_str(&hex::encode(&bytes));
                }
            }
            out
        }
        Db::Postgres(p) => {
            let tables: Vec<String> = sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
                .fetch_all(p).await.unwrap();
            assert!(tables.len() > 20);
            let mut out = String::new();
            for t in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT t::text FROM \"{t}\" t")))
                        .fetch_all(p)
                        .await
                        .unwrap();
                out.push_str(&rows.join("\n"));
            }
            out
        }
    }
}

#[tokio::test]
async fn an_approved_deletion_leaves_no_trace_of_her_in_the_database() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = member(&app, &t, "欧阳明珠", "ouyang", "123").await;
        let keep = member(&app, &t, "王芳", "wangfang", "245").await;
        // Her sealed items have a blind index; a pending correction seals a proposed phone; a reveal, a copy.
        let bidx: Vec<u8> =
            kernel::on_db!(&app.platform.db, p => sqlx::query_scalar("SELECT id_number_bidx FROM people WHERE id = $1")
            .bind(m.id).fetch_one(p).await)
            .unwrap();
        app.post_ok(
            "/api/v1/me/privacy-requests",
            json!({"kind": "correction", "field": "phone", "proposed": "13900139000", "reason": "欧阳明珠的新号码"}),
            &m.token,
        )
        .await;
        app.post_ok(
            &format!("/api/v1/people/{}/reveal", m.id),
            json!({"field": "phone", "reason": "通知开会"}),
            &t.sec_a,
        )
        .await;
        // A notice sent to her branch that names her (its title, its text and the search index).
        let notice = json!({"org_id": t.ba, "title": "关于表扬欧阳明珠同志的通知", "body": "<p>欧阳明珠同志在志愿服务中表现突出。</p>"});
        app.post_ok("/api/v1/notices", notice, &t.staff).await;
        // Warm the people list's page cache with her in it.
        let (_, page) = app.call("GET", &format!("/api/v1/people?org_id={}", t.ba), None, Some(&t.staff)).await;
        assert!(page.to_string().contains("欧阳明珠"));

        let delete = |reason: &str| {
            let body = json!({"kind": "deletion", "reason": reason});
            let (app, token) = (&app, m.token.clone());
            async move { app.call("POST", "/api/v1/me/privacy-requests", Some(body), Some(&token)).await }
        };
        let (st, v) = delete("已毕业离校，请删除我的个人信息").await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let id = v["request"]["id"].as_i64().unwrap();
        let (st, _) = delete("再次申请删除").await;
        assert_eq!(st, StatusCode::CONFLICT);
        let path = format!("/api/v1/privacy-requests/{id}/decision");
        // Two different people: approving before an endorsement, or one's own endorsement, is refused.
        let (st, _) = app.call("POST", &path, Some(json!({"decision": "approve"})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, v) =
            app.call("POST", &path, Some(json!({"decision": "endorse", "note": "符合删除条件"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "endorsed");
        let (st, v) = app.call("POST", &path, Some(json!({"decision": "approve"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("双人复核"));
        let (st, v) = app.call("POST", &path, Some(json!({"decision": "approve"})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "done");
        let pseudonym = v["pseudonym"].as_str().unwrap().to_string();
        assert!(pseudonym.starts_with("匿名-"));

        // No trace: name, ID number (as typed, with a lower-case x, masked), phone (and masked), the proposed
        // phone, address, native place, her free text, the blind index.
        let dumped = dump(&app).await;
        let idn = m.id_number.clone();
        let masked_id = security::mask::id_number(&idn);
        let needles = vec![
            "欧阳明珠".to_string(),
            idn.clone(),
            idn.to_lowercase(),
            masked_id,
            "13800138123".into(),
            "138****8123".into(),
            "13900139000".into(),
            "文三路123号".into(),
            "浙江温州".into(),
            "已毕业离校".into(),
            hex::encode(&bidx),
        ];
        // The other member's items are still there (the search is real).
        assert!(
            dumped.contains("王芳") && dumped.contains("138****8245") && dumped.contains("江苏南京"),
            "the dump finds what is there"
        );
        assert!(!keep.id_number.is_empty());
        for n in &needles {
            assert!(!dumped.contains(n.as_str()), "{n} found after the deletion ({:?})", app.backend);
        }
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", m.id), None, Some(&t.staff)).await;
        assert_eq!(p["name"], pseudonym.as_str());
        assert!(p["phone"].is_null() && p["native_place"].is_null());
        assert_eq!(p["stage"], "full", "the membership record stays under the pseudonym");
        let (_, page) = app.call("GET", &format!("/api/v1/people?org_id={}", t.ba), None, Some(&t.staff)).await;
        assert!(!page.to_string().contains("欧阳明珠"), "no cached list page keeps her");
        let (_, meetings) = app.call("GET", &format!("/api/v1/meetings?org_id={}", t.ba), None, Some(&t.sec_a)).await;
        assert!(!meetings.to_string().contains("欧阳明珠"));
        // Her account is gone: no session, no sign-in.
        let (st, _) = app.call("GET", "/api/v1/me/privacy-requests", None, Some(&m.token)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, _) = app
            .call("POST", "/api/v1/auth/login", Some(json!({"username": "ouyang", "password": USER_PW})), None)
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        // The deletion is audited under the pseudonym, never her name; the chain is intact.
        let recent = security::audit::recent(&app.platform.db, None, 200).await.unwrap();
        let e = recent.iter().find(|e| e.action == "privacy.erase").unwrap();
        assert_eq!(e.target, format!("pseudonym:{pseudonym}"));
        assert_eq!(e.actor, "staff");
        assert!(recent.iter().all(|e| !e.detail.contains("欧阳明珠") && !e.target.contains("欧阳明珠")));
        assert!(matches!(
            security::audit::verify(&app.platform.db).await.unwrap(),
            security::audit::Verdict::Intact { .. }
        ));
        app
    })
    .await;
}

/// A member who asks in person, on paper or by telephone (PIPL 第四十五至四十七条): her record keeper files the
/// correction or deletion for her. Only those who may edit her record (404 otherwise, audited); never a copy
/// (its link is hers alone); the same checks as hers (422 under the field, nothing written); then the same
/// queue — she sees the request with who filed it — and the same two-person rule for a deletion.
#[tokio::test]
async fn a_record_keeper_files_a_request_on_a_members_behalf() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = member(&app, &t, "王芳", "wangfang", "456").await;
        let path = format!("/api/v1/people/{}/privacy-requests", m.id);
        let correction = json!({"kind": "correction", "field": "phone", "proposed": "13900139000",
                                "reason": "本人电话告知手机号已更换"});
        let count = |app: &TestApp| {
            let db = app.platform.db.clone();
            async move { crate::life::count(&db, "privacy_requests").await }
        };

        // Nobody outside her record keepers: another branch's secretary, the system administrator, the member.
        let sec_b = json!({"username": "sec_b", "password": USER_PW, "display_name": "sec_b", "grants": [{"role": "branch_secretary", "org_id": t.bb}]});
        app.post_ok("/api/v1/users", sec_b, &t.admin).await;
        let sec_b = app.login("sec_b", USER_PW).await;
        for who in [&sec_b, &t.admin] {
            let (st, v) = app.call("POST", &path, Some(correction.clone()), Some(who)).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
        }
        assert!(audit_has(&app, "privacy.request_for", "sec_b").await);
        // Bad input as for her own: under its field, nothing written; a copy is hers to ask.
        let (st, v) = app
            .call("POST", &path, Some(json!({"kind": "correction", "field": "phone", "proposed": "12345", "reason": "电话告知"})), Some(&t.sec_a))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["proposed"].is_string(), "{v}");
        let (st, v) = app.call("POST", &path, Some(json!({"kind": "copy"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["kind"].as_str().unwrap().contains("本人"), "{v}");
        assert_eq!(count(&app).await, 0);

        // Filed by her secretary: in the queue, in her own list with who filed it, audited as on her behalf.
        let (st, v) = app.call("POST", &path, Some(correction.clone()), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert!(v["token"].is_null());
        assert_eq!(v["request"]["filed_by"], "sec_a");
        let due = platform::privacy::rights_due(kernel::dates::today());
        assert_eq!(v["request"]["due_on"], kernel::dates::iso(due));
        let (st, _) = app.call("POST", &path, Some(correction.clone()), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::CONFLICT, "one open correction per item, whoever files it");
        let (_, mine) = app.call("GET", "/api/v1/me/privacy-requests", None, Some(&m.token)).await;
        assert_eq!((mine[0]["kind"].as_str(), mine[0]["filed_by"].as_str()), (Some("correction"), Some("sec_a")));
        let recent = security::audit::recent(&app.platform.db, None, 50).await.unwrap();
        let filed = recent.iter().find(|e| e.action == "privacy.correction_request").unwrap();
        assert_eq!((filed.actor.as_str(), filed.target.clone()), ("sec_a", format!("person:{}", m.id)));
        assert!(filed.detail.ends_with("on_behalf"), "{}", filed.detail);
        // Her own requests say nothing of a filer.
        let (st, v) = app
            .call("POST", "/api/v1/me/privacy-requests", Some(json!({"kind": "correction", "field": "address", "proposed": "杭州市上城区", "reason": "已搬家到上城区"})), Some(&m.token))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert!(v["request"]["filed_by"].is_null(), "{v}");
        let (_, q) = app.call("GET", "/api/v1/privacy-requests", None, Some(&t.staff)).await;
        assert_eq!(q.as_array().unwrap().len(), 2);

        // A deletion filed for her still takes two people: the filer may endorse, someone else approves.
        let (st, v) = app
            .call("POST", &path, Some(json!({"kind": "deletion", "reason": "本人书面申请删除个人信息"})), Some(&t.sec_a))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let del = v["request"]["id"].as_i64().unwrap();
        let decide = format!("/api/v1/privacy-requests/{del}/decision");
        let (st, _) = app.call("POST", &decide, Some(json!({"decision": "endorse"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = app.call("POST", &decide, Some(json!({"decision": "approve"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CONFLICT, "the same person cannot approve");

        // The page: her secretary's record view leads to the form; a bad reason is explained in Chinese.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (_, html) = app.page(&format!("/people/{}", m.id), &cookie).await;
        assert!(html.contains(&format!("/people/{}/privacy-request", m.id)), "{html}");
        let form = format!("/people/{}/privacy-request", m.id);
        let (st, _, html) = app.form(&form, &[("kind", "correction"), ("field", "name"), ("proposed", "王芳芳"), ("reason", "改")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请写明更正理由") && html.contains("value=\"王芳芳\""), "{html}");
        let (st, _, html) = app
            .form(&form, &[("kind", "correction"), ("field", "name"), ("proposed", "王芳芳"), ("reason", "本人当面提出，户籍登记为王芳芳")], Some(&cookie))
            .await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("已代为登记更正请求"), "{html}");
        // Her own record page offers no such button to herself; another branch's secretary cannot open the form.
        let own = app.web_login("wangfang", USER_PW).await;
        let (_, html) = app.page(&format!("/people/{}", m.id), &own).await;
        assert!(!html.contains("privacy-request"), "{html}");
        let sec_b_web = app.web_login("sec_b", USER_PW).await;
        let (st, _) = app.page(&form, &sec_b_web).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

/// A deceased member's close relative (PIPL 第四十九条): her record keeper files the relative's copy, correction or
/// deletion after checking their identity — only a close relative of 民法典 第一千零四十五条, only for a member who
/// has died, never against her own lifetime arrangement (409, audited as refused), never for a record already
/// erased; the relative's name and telephone are sealed at rest and go with her data; the copy goes to the
/// record keeper who filed it, once.
#[tokio::test]
async fn a_deceased_members_close_relative_asks_through_her_record_keeper() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = member(&app, &t, "李红", "lihong", "123").await;
        let path = format!("/api/v1/people/{}/privacy-requests", m.id);
        let spouse = |kind: &str, reason: &str| {
            json!({"kind": kind, "requester_name": "张建国", "requester_relation": "spouse",
                   "requester_phone": "139-0013-9001", "identity_checked": true, "reason": reason})
        };
        let relatives_rows = |app: &TestApp| {
            let db = app.platform.db.clone();
            async move {
                kernel::on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM privacy_requests WHERE requester_relation IS NOT NULL").fetch_one(p).await).unwrap()
            }
        };

        // Her arrangement, made in her lifetime: the default until she makes one; bad input under its field.
        let arrangement = "/api/v1/me/posthumous-arrangement";
        let (st, v) = app.call("GET", arrangement, None, Some(&m.token)).await;
        assert_eq!((st, v["relatives_may"].as_bool(), v["set_at"].is_null()), (StatusCode::OK, Some(true), true), "{v}");
        let (st, v) = app.call("PUT", arrangement, Some(json!({"note": "仅限配偶"})), Some(&m.token)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["relatives_may"].is_string(), "{v}");
        let (st, v) = app
            .call("PUT", arrangement, Some(json!({"relatives_may": true, "note": "长".repeat(201)})), Some(&m.token))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["note"].is_string(), "{v}");
        let (st, v) = app
            .call("PUT", arrangement, Some(json!({"relatives_may": true, "note": "仅限配偶查阅"})), Some(&m.token))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert!(v["set_at"].is_string() && v["note"] == "仅限配偶查阅", "{v}");
        assert!(audit_has(&app, "privacy.arrangement_set", "lihong").await);

        // While she lives, a relative cannot ask for her.
        let (st, v) = app.call("POST", &path, Some(spouse("correction", "核对继承材料")), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["requester_name"].as_str().unwrap().contains("第四十九条"), "{v}");

        let died = json!({"status": "deceased", "effective_on": "2026-11-01", "reason": "因病医治无效去世"});
        app.post_ok(&format!("/api/v1/people/{}/status", m.id), died, &t.staff).await;

        // After her death: who asks, how they are related, a telephone, the identity check and their interest.
        let (st, v) = app.call("POST", &path, Some(json!({"kind": "copy"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        for key in ["requester_name", "requester_relation", "requester_phone", "identity_checked", "reason"] {
            assert!(v["error"]["fields"][key].is_string(), "{key}: {v}");
        }
        let mut nephew = spouse("copy", "办理继承手续");
        nephew["requester_relation"] = json!("nephew");
        let (st, v) = app.call("POST", &path, Some(nephew), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["requester_relation"].as_str().unwrap().contains("第一千零四十五条"), "{v}");
        let mut unchecked = spouse("copy", "办理继承手续");
        unchecked["identity_checked"] = json!(false);
        let (st, v) = app.call("POST", &path, Some(unchecked), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["identity_checked"].is_string(), "{v}");
        assert_eq!(relatives_rows(&app).await, 0, "nothing written by a refused request");
        // Another branch's secretary keeps no such record: 404, audited.
        let sec_b = json!({"username": "sec_b", "password": USER_PW, "display_name": "sec_b", "grants": [{"role": "branch_secretary", "org_id": t.bb}]});
        app.post_ok("/api/v1/users", sec_b, &t.admin).await;
        let sec_b = app.login("sec_b", USER_PW).await;
        let (st, _) = app.call("POST", &path, Some(spouse("copy", "办理继承手续")), Some(&sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(audit_has(&app, "privacy.request_for", "sec_b").await);

        // The copy: its single-use token goes to the record keeper who filed it, and to no one else.
        let (st, v) = app.call("POST", &path, Some(spouse("copy", "办理继承手续需要查阅")), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["request"]["requester"], "配偶 张建国");
        assert_eq!(v["request"]["requester_phone"], "13900139001");
        let copy = v["token"].as_str().unwrap().to_string();
        let recent = security::audit::recent(&app.platform.db, None, 50).await.unwrap();
        let filed = recent.iter().find(|e| e.action == "privacy.copy_request").unwrap();
        assert!(filed.detail.ends_with("relative:spouse") && !filed.detail.contains("张建国"), "{}", filed.detail);
        for who in [&t.staff, &m.token] {
            let (st, _, _) = raw(&app, copy_request(who, &copy)).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "only the filer");
        }
        let (st, headers, zip) = raw(&app, copy_request(&t.sec_a, &copy)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
        let names: Vec<String> = documents::archive::entries(&zip, 100).unwrap().into_iter().map(|e| e.name).collect();
        assert!(names.iter().any(|n| n == "json/my-data.json"), "{names:?}");
        assert!(audit_has(&app, "person.export_posthumous", "sec_a").await);
        let (st, _, _) = raw(&app, copy_request(&t.sec_a, &copy)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "single use");
        // What the copy holds: hers (her record and account), with the law it is given under.
        let (_, v) = app.call("POST", &path, Some(spouse("copy", "办理继承手续需要查阅")), Some(&t.sec_a)).await;
        let sec_a = app.platform.authenticate(&t.sec_a).await.unwrap();
        let ctx = platform::Ctx { request_id: "test".into(), ..platform::Ctx::default() };
        let doc = app.platform.take_copy(&ctx, &sec_a, v["token"].as_str().unwrap(), &[]).await.unwrap();
        assert_eq!(doc["person"]["name"], "李红");
        assert_eq!(doc["account"]["username"], "lihong");
        assert!(doc["about"].as_str().unwrap().contains("第四十九条") && doc["about"].as_str().unwrap().contains("配偶"));
        assert_eq!(doc["posthumous_arrangement"]["note"], "仅限配偶查阅");

        // A deletion asked by the relative: in the queue with who asked; two people; then nothing of hers, nor
        // of the relative, is left in the database.
        let (st, v) = app.call("POST", &path, Some(spouse("deletion", "家属要求删除其个人信息")), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        let del = v["request"]["id"].as_i64().unwrap();
        let (_, q) = app.call("GET", "/api/v1/privacy-requests", None, Some(&t.staff)).await;
        let queued = q.as_array().unwrap().iter().find(|r| r["id"] == del).unwrap();
        assert_eq!((queued["requester"].as_str(), queued["filed_by"].as_str()), (Some("配偶 张建国"), Some("sec_a")));
        let cookie = app.web_login("staff", USER_PW).await;
        let (_, html) = app.page("/privacy/requests", &cookie).await;
        assert!(html.contains("配偶 张建国") && html.contains("13900139001") && html.contains("第四十九条"), "{html}");
        let decide = format!("/api/v1/privacy-requests/{del}/decision");
        app.post_ok(&decide, json!({"decision": "endorse"}), &t.sec_a).await;
        let v = app.post_ok(&decide, json!({"decision": "approve"}), &t.staff).await;
        assert_eq!(v["state"], "done");
        assert_eq!(v["requester"], "配偶 （已删除）", "the relationship stays, the relative's name goes");
        let dumped = dump(&app).await;
        for gone in ["李红", "张建国", "13900139001", "仅限配偶查阅", "家属要求删除"] {
            assert!(!dumped.contains(gone), "{gone} found after the deletion ({:?})", app.backend);
        }
        // Nothing is left to ask about: 409, and the page says why instead of offering forms.
        let (st, v) = app.call("POST", &path, Some(spouse("copy", "办理继承手续需要查阅")), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CONFLICT);
        assert!(v["error"]["message"].as_str().unwrap().contains("已删除"), "{v}");
        let sec_a_web = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page(&format!("/people/{}/privacy-request", m.id), &sec_a_web).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("id=\"erased\"") && !html.contains("登记请求</button>"), "{html}");
        app
    })
    .await;
}

/// "死者生前另有安排的除外" (PIPL 第四十九条): a member who said no in her lifetime, on her own page, is not asked
/// for by a relative after her death — the record keeper's page says so and the request is refused (409),
/// audited as refused, nothing written. The page's relative form explains bad input in Chinese.
#[tokio::test]
async fn her_lifetime_arrangement_refuses_her_relatives() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = member(&app, &t, "王芳", "wangfang", "245").await;
        let other = member(&app, &t, "陈静", "chenjing", "367").await;
        let own = app.web_login("wangfang", USER_PW).await;
        let (_, html) = app.page("/account/privacy", &own).await;
        assert!(html.contains("身后个人信息安排") && html.contains("第四十九条"), "{html}");
        let (st, _, html) = app.form("/account/privacy/arrangement", &[("note", "不允许")], Some(&own)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请选择是否允许近亲属"), "{html}");
        let (st, _, html) =
            app.form("/account/privacy/arrangement", &[("relatives_may", "no"), ("note", "")], Some(&own)).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("不允许近亲属申请"), "{html}");
        let (_, v) = app.call("GET", "/api/v1/me/posthumous-arrangement", None, Some(&m.token)).await;
        assert_eq!(v["relatives_may"], false);

        for p in [m.id, other.id] {
            let died = json!({"status": "deceased", "effective_on": "2026-11-01", "reason": "因病医治无效去世"});
            app.post_ok(&format!("/api/v1/people/{p}/status"), died, &t.staff).await;
        }
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (_, html) = app.page(&format!("/people/{}", m.id), &cookie).await;
        assert!(html.contains("近亲属信息请求"), "{html}");
        let form = format!("/people/{}/privacy-request", m.id);
        let (st, html) = app.page(&form, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("本人生前已作出安排") && !html.contains("登记请求</button>"), "{html}");
        let body = json!({"kind": "copy", "requester_name": "王建华", "requester_relation": "parent",
                          "requester_phone": "13900139002", "identity_checked": true, "reason": "办理继承手续"});
        let (st, v) =
            app.call("POST", &format!("/api/v1/people/{}/privacy-requests", m.id), Some(body), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CONFLICT);
        assert!(v["error"]["message"].as_str().unwrap().contains("生前另有安排"), "{v}");
        let recent = security::audit::recent(&app.platform.db, None, 50).await.unwrap();
        let refused = recent.iter().find(|e| e.action == "privacy.copy_request").unwrap();
        assert_eq!((refused.result.as_str(), refused.actor.as_str()), ("refused", "sec_a"));
        let n: i64 = kernel::on_db!(&app.platform.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM privacy_requests").fetch_one(p).await).unwrap();
        assert_eq!(n, 0);

        // The other member made no arrangement: the page's form, its errors in Chinese, then the copy to hand over.
        let form = format!("/people/{}/privacy-request", other.id);
        let (_, html) = app.page(&form, &cookie).await;
        assert!(html.contains("本人生前未作安排") && html.contains("登记请求</button>"), "{html}");
        let typed = [
            ("kind", "copy"),
            ("requester_relation", "child"),
            ("requester_name", "陈晓"),
            ("requester_phone", "13900139003"),
            ("reason", "办理继承手续需要查阅"),
        ];
        let (st, _, html) = app.form(&form, &typed, Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请核验申请人的身份证件") && html.contains("value=\"陈晓\""), "{html}");
        let mut checked = typed.to_vec();
        checked.push(("identity_checked", "yes"));
        let (st, _, html) = app.form(&form, &checked, Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        let start = html.find("name=\"token\" value=\"").unwrap() + 20;
        let tok = html[start..start + 64].to_string();
        let (st, headers, _) = app.form("/account/privacy/copy", &[("token", &tok)], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
        app
    })
    .await;
}
