//! Editing and withdrawing a learning material through the router, on SQLite and PostgreSQL: the same
//! validation as publishing (422, nothing changed), every earlier version kept and a member's record naming
//! the version she studied, the search index following the edit, withdrawal hiding the material from lists,
//! search and recommendations while her record and her copy keep it, scope (404 outside, 403 for readers who
//! may not publish there), the audit, and the two pages.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use security::audit;
use serde_json::{Value, json};

use crate::support::*;

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>, token: &str) -> (StatusCode, Value) {
    app.call(method, path, body, Some(token)).await
}

fn search(word: &str) -> String {
    format!("/api/v1/search?q={}", web::auth::encode(word))
}

fn ids(v: &Value, key: &str, field: &str) -> Vec<i64> {
    v[key].as_array().unwrap().iter().filter_map(|r| r[field].as_i64()).collect()
}

/// A member of `org` with her own account; returns (person id, token).
async fn member(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str) -> (i64, String) {
    let id = app
        .post_ok("/api/v1/people", person(name, org, &id_number("19990101", seq), "1999-01-01"), &t.staff)
        .await["id"]
        .as_i64()
        .unwrap();
    let user = format!("u{seq}");
    let body = json!({"username": user, "password": USER_PW, "display_name": name, "person_id": id, "grants": []});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    (id, app.login(&user, USER_PW).await)
}

/// Marks a person's study of a material finished (the heartbeat rule itself is tested in learning.rs).
async fn studied(db: &Db, material: i64, person: i64) {
    let sql = "UPDATE learning_progress SET seconds = 600, completed_at = last_beat_at WHERE material_id = $1 AND person_id = $2";
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sql).bind(material).bind(person).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).bind(material).bind(person).execute(p).await.unwrap();
        }
    }
}

async fn count(db: &Db, sql: &'static str, id: i64) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(id).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn materials_are_edited_with_versions_and_withdrawn_keeping_records() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "601").await;
        let (_, member_b) = member(&app, &t, "王芳", t.bb, "602").await;
        let body = json!({"title": "党费交纳须知", "body": "按时交纳党费是党员的义务。", "kind": "article", "tags": ["党费"]});
        let id = app.post_ok("/api/v1/learning/materials", body, &t.sec_a).await["id"].as_i64().unwrap();
        let path = format!("/api/v1/learning/materials/{id}");
        // She begins it on version 1.
        let (st, _) = call(&app, "POST", &format!("{path}/progress"), Some(json!({"seconds": 0})), &member_a).await;
        assert_eq!(st, StatusCode::OK);

        // Scope: a member of the audience may not edit (403); outside the audience 404; the university's staff
        // (above the publishing branch) may.
        let edit = json!({"title": "党员发展程序要点", "body": "严格把好发展党员的入口关。", "kind": "article", "tags": ["发展"], "version": 1});
        assert_eq!(call(&app, "PUT", &path, Some(edit.clone()), &member_a).await.0, StatusCode::FORBIDDEN);
        assert_eq!(call(&app, "PUT", &path, Some(edit.clone()), &member_b).await.0, StatusCode::NOT_FOUND);
        let reason = json!({"reason": "内容过时"});
        assert_eq!(call(&app, "POST", &format!("{path}/withdraw"), Some(reason.clone()), &member_a).await.0, StatusCode::FORBIDDEN);
        assert_eq!(call(&app, "POST", &format!("{path}/withdraw"), Some(reason.clone()), &member_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(call(&app, "GET", &format!("{path}/versions"), None, &member_a).await.0, StatusCode::FORBIDDEN);

        // Bad input: 422 with the fields of publishing, nothing changed.
        let (st, v) = call(&app, "PUT", &path, Some(json!({"kind": "video", "url": "javascript:alert(1)"})), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["title"].is_string() && v["error"]["fields"]["url"].is_string(), "{v}");
        let (_, m) = call(&app, "GET", &path, None, &member_a).await;
        assert_eq!((m["version"].as_i64(), m["title"].as_str()), (Some(1), Some("党费交纳须知")));
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM material_versions WHERE material_id = $1", id).await, 0);

        // The edit by the staff above: version 2, version 1 kept, the index follows.
        let (st, m) = call(&app, "PUT", &path, Some(edit.clone()), &t.staff).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!((m["version"].as_i64(), m["title"].as_str()), (Some(2), Some("党员发展程序要点")));
        let (st, v) = call(&app, "PUT", &path, Some(edit.clone()), &t.sec_a).await;
        assert_eq!(st, StatusCode::CONFLICT, "a stale version: {v}");
        let (_, v) = call(&app, "GET", &format!("{path}/versions"), None, &t.sec_a).await;
        let old = &v.as_array().unwrap()[0];
        assert_eq!((old["version"].as_i64(), old["title"].as_str()), (Some(1), Some("党费交纳须知")));
        assert_eq!(old["replaced_by"], "staff");
        let (_, v) = call(&app, "GET", &search("党费"), None, &member_a).await;
        assert!(!ids(&v, "results", "id").contains(&id), "the old words left the index: {v}");
        let (_, v) = call(&app, "GET", &search("入口关"), None, &member_a).await;
        assert!(ids(&v, "results", "id").contains(&id), "the new words are found: {v}");

        // She studies it on version 2; her record says so.
        let (st, _) = call(&app, "POST", &format!("{path}/progress"), Some(json!({"seconds": 15})), &member_a).await;
        assert_eq!(st, StatusCode::OK);
        studied(&app.platform.db, id, pa).await;
        let version = "SELECT version FROM learning_progress WHERE material_id = $1";
        assert_eq!(count(&app.platform.db, version, id).await, 2);

        // Withdrawal: a reason is needed (422, nothing written), then it leaves lists, search, recommendations.
        let (st, v) = call(&app, "POST", &format!("{path}/withdraw"), Some(json!({"reason": " "})), &t.sec_a).await;
        assert_eq!((st, v["error"]["fields"]["reason"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("请填写撤回原因")));
        let (st, m) = call(&app, "POST", &format!("{path}/withdraw"), Some(json!({"reason": "已有新版"})), &t.sec_a).await;
        assert_eq!((st, m["withdrawn_reason"].as_str()), (StatusCode::OK, Some("已有新版")), "{m}");
        assert!(m["withdrawn_at"].is_string());
        assert_eq!(call(&app, "POST", &format!("{path}/withdraw"), Some(reason.clone()), &t.sec_a).await.0, StatusCode::CONFLICT);
        assert_eq!(call(&app, "PUT", &path, Some(edit.clone()), &t.sec_a).await.0, StatusCode::CONFLICT);
        let (_, v) = call(&app, "GET", "/api/v1/learning/materials", None, &member_a).await;
        assert!(!ids(&v, "items", "id").contains(&id), "{v}");
        let (_, v) = call(&app, "GET", &search("入口关"), None, &member_a).await;
        assert!(!ids(&v, "results", "id").contains(&id), "{v}");
        let (_, v) = call(&app, "GET", "/api/v1/learning/recommendations", None, &member_a).await;
        assert!(!ids(&v, "items", "material_id").contains(&id), "{v}");
        let (st, _) = call(&app, "POST", &format!("{path}/progress"), Some(json!({"seconds": 15})), &member_a).await;
        assert_eq!(st, StatusCode::CONFLICT, "no more time on a withdrawn material");
        // Her record and her copy keep it, with the version she studied.
        let (st, m) = call(&app, "GET", &path, None, &member_a).await;
        assert_eq!((st, m["progress"]["completed"].as_bool()), (StatusCode::OK, Some(true)), "{m}");
        let (_, copy) = call(&app, "GET", "/api/v1/me/data", None, &member_a).await;
        let rec = copy["learning_records"].as_array().unwrap().iter().find(|r| r["title"] == "党员发展程序要点").unwrap();
        assert_eq!(rec["version"], 2);
        assert!(rec["withdrawn_at"].is_string(), "{rec}");

        // The audit: each write once, the refusals recorded.
        let entries = audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
        let n = |a: &str, r: &str| entries.iter().filter(|e| e.action == a && e.result == r).count();
        assert_eq!((n("material.update", "ok"), n("material.withdraw", "ok")), (1, 1));
        assert!(n("material.update", "denied") >= 2 && n("material.withdraw", "denied") >= 2);
        app
    })
    .await;
}

#[tokio::test]
async fn edit_and_withdraw_pages() {
    on_both(|app| async move {
        let t = tree(&app).await;
        member(&app, &t, "李红", t.ba, "701").await;
        let body = json!({"title": "党费交纳须知", "body": "按时交纳党费是党员的义务。", "kind": "article", "tags": ["党费"], "stages": ["full"]});
        let id = app.post_ok("/api/v1/learning/materials", body, &t.sec_a).await["id"].as_i64().unwrap();
        let member = app.web_login("u701", USER_PW).await;
        let (_, page) = app.page(&format!("/learning/{id}"), &member).await;
        assert!(!page.contains(&format!("/learning/{id}/edit")), "members see no edit button");
        assert_eq!(app.page(&format!("/learning/{id}/edit"), &member).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.page(&format!("/learning/{id}/withdraw"), &member).await.0, StatusCode::FORBIDDEN);
        let sec = app.web_login("sec_a", USER_PW).await;
        let (st, page) = app.page(&format!("/learning/{id}"), &sec).await;
        assert!(st == StatusCode::OK && page.contains(&format!("/learning/{id}/edit")), "{page}");
        let (st, page) = app.page(&format!("/learning/{id}/edit"), &sec).await;
        assert!(st == StatusCode::OK && page.contains("党费交纳须知") && page.contains("当前为第1版"), "{page}");
        assert!(page.contains("value=\"full\" checked"), "the stages come filled in: {page}");
        let edit = format!("/learning/{id}/edit");
        let (st, _, page) = app.form(&edit, &[("title", ""), ("kind", "article"), ("body", "x"), ("version", "1")], Some(&sec)).await;
        assert!(st == StatusCode::UNPROCESSABLE_ENTITY && page.contains("请填写标题"), "{page}");
        let fields = [("title", "党费交纳须知（修订）"), ("kind", "article"), ("category", "theory"), ("tags", "党费"), ("body", "新的正文。"), ("version", "1")];
        let (st, headers, _) = app.form(&edit, &fields, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let to = headers.get("location").unwrap().to_str().unwrap().to_string();
        let (_, page) = app.page(&to, &sec).await;
        assert!(page.contains("已保存为第2版") && page.contains("新的正文。"), "{page}");
        let withdraw = format!("/learning/{id}/withdraw");
        let (st, page) = app.page(&withdraw, &sec).await;
        assert!(st == StatusCode::OK && page.contains("确认撤回") && page.contains("学习记录"), "{page}");
        let (st, _, page) = app.form(&withdraw, &[("reason", "")], Some(&sec)).await;
        assert!(st == StatusCode::UNPROCESSABLE_ENTITY && page.contains("请填写撤回原因"), "{page}");
        let (st, _, _) = app.form(&withdraw, &[("reason", "已有新版")], Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, page) = app.page(&format!("/learning/{id}"), &member).await;
        assert!(page.contains("本材料已于") && page.contains("已有新版"), "{page}");
        let (_, page) = app.page("/learning", &member).await;
        assert!(!page.contains("党费交纳须知"), "gone from the list");
        app
    })
    .await;
}
