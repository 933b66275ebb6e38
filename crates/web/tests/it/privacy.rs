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
    for p in web::privacy::providers() {
        covered.extend(p.tables().iter().map(|s| s.to_string()));
    }
    covered.extend(web::privacy::NOT_IN_THE_COPY.iter().map(|(t, _)| t.to_string()));
    let missing: Vec<&String> = about_someone.iter().filter(|t| !covered.contains(*t)).collect();
    assert!(
        missing.is_empty(),
        "tables about a person or an account with no PersonData provider (crates/web/src/privacy.rs): {missing:?}"
    );
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
