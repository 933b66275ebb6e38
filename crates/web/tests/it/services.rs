//! 党员服务 through the router, on SQLite and PostgreSQL: a member files a request, her branch secretary accepts
//! and completes it (the certificate with its number and verification QR code), the history, scope refusals
//! (404 for another branch's secretary, 403 for read-only roles), validation writing nothing, the public
//! verification page (masked name, revoked certificates), volunteer hours with their totals, the calendar feed
//! (hashed, revocable, regenerable, no session), her copy, and the audit entries.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use security::audit;
use serde_json::{Value, json};

use crate::support::*;

async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

async fn send(app: &TestApp, method: &str, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    let body = if body.is_null() { None } else { Some(body) };
    app.call(method, path, body, Some(token)).await
}

async fn user(app: &TestApp, t: &Tree, name: &str, grants: Value, person: Option<i64>) -> String {
    let body =
        json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    app.login(name, USER_PW).await
}

async fn get_raw(app: &TestApp, path: &str, bearer: Option<&str>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = axum::http::Request::builder().uri(path).header("host", "dj.example.edu");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp =
        tower::ServiceExt::oneshot(app.router.clone(), req.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

struct World {
    t: Tree,
    li: i64,
    lihong: String,
    sec_b: String,
    leader: String,
}

async fn world(app: &TestApp) -> World {
    let t = tree(app).await;
    let mut p = person("李红", t.ba, &id_number("19990101", "111"), "1999-01-01");
    p["admitted_on"] = json!("2021-06-18");
    let li = app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap();
    let lihong = user(app, &t, "lihong", json!([]), Some(li)).await;
    let sec_b = user(app, &t, "sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None).await;
    let leader = user(app, &t, "leader", json!([{"role": "leader", "org_id": t.uni}]), None).await;
    World { t, li, lihong, sec_b, leader }
}

#[tokio::test]
async fn a_member_files_a_proof_request_her_secretary_completes_it_and_the_certificate_verifies() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let (st, r) = send(
            &app,
            "POST",
            "/api/v1/service-requests",
            json!({"kind": "membership_proof", "details": "用于报考选调生"}),
            &w.lihong,
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        let id = r["id"].as_i64().unwrap();
        assert_eq!((r["state"].as_str(), r["org_id"].as_i64()), (Some("submitted"), Some(t.ba)));
        assert_eq!(r["actions"], json!(["cancel"]), "she may only withdraw it");

        // Her secretary sees it to handle; the other branch's secretary does not, not even by id.
        let (_, list) = send(&app, "GET", "/api/v1/service-requests", Value::Null, &t.sec_a).await;
        assert_eq!(list["to_handle"][0]["id"].as_i64(), Some(id));
        let (_, other) = send(&app, "GET", "/api/v1/service-requests", Value::Null, &w.sec_b).await;
        assert_eq!(other["to_handle"], json!([]));
        for (m, path) in [
            ("GET", format!("/api/v1/service-requests/{id}")),
            ("POST", format!("/api/v1/service-requests/{id}/accept")),
        ] {
            let (st, _) = send(&app, m, &path, json!({}), &w.sec_b).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path}");
        }
        // A leader reads it but does not handle it; the member cannot handle her own.
        let (st, _) = send(&app, "GET", &format!("/api/v1/service-requests/{id}"), Value::Null, &w.leader).await;
        assert_eq!(st, StatusCode::OK);
        for who in [&w.leader, &w.lihong] {
            let (st, _) = send(&app, "POST", &format!("/api/v1/service-requests/{id}/complete"), json!({}), who).await;
            assert_eq!(st, StatusCode::FORBIDDEN);
        }

        let (st, r) = send(&app, "POST", &format!("/api/v1/service-requests/{id}/accept"), json!({}), &t.sec_a).await;
        assert_eq!((st, r["state"].as_str()), (StatusCode::OK, Some("accepted")), "{r}");
        let (st, _) =
            send(&app, "POST", &format!("/api/v1/service-requests/{id}/cancel"), Value::Null, &w.lihong).await;
        assert_eq!(st, StatusCode::CONFLICT, "accepted: no longer hers to withdraw");
        let note = json!({"note": "已开具，请到学院党委办公室加盖公章"});
        let (st, r) = send(&app, "POST", &format!("/api/v1/service-requests/{id}/complete"), note, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["state"], "completed");
        let states: Vec<&str> = r["history"].as_array().unwrap().iter().map(|e| e["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["submitted", "accepted", "completed"]);
        assert_eq!(r["history"][2]["note"], "已开具，请到学院党委办公室加盖公章");
        let number = r["certificate"]["number"].as_str().unwrap().to_string();
        assert_eq!(r["certificate"]["state"], "valid");
        assert!(number.contains(&format!("-{id:06}-")), "{number}");
        let (st, _) =
            send(&app, "POST", &format!("/api/v1/service-requests/{id}/refuse"), json!({"note": "x"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::CONFLICT, "completed is final");

        // The member downloads the PDF; its QR code and text carry the number.
        let (st, headers, pdf) =
            get_raw(&app, &format!("/api/v1/service-requests/{id}/certificate"), Some(&w.lihong)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let file = app.dir.join("certificate.pdf");
        std::fs::write(&file, &pdf).unwrap();
        if let Ok(out) = std::process::Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&file).arg("-").output() {
            let text = String::from_utf8_lossy(&out.stdout).replace(char::is_whitespace, "");
            assert!(text.contains("党员身份证明"), "{text}");
            assert!(text.contains(&number), "{text}");
            assert!(text.contains("李红同志"), "{text}");
        }
        let (st, _, _) = get_raw(&app, &format!("/api/v1/service-requests/{id}/certificate"), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // The public page, without a session: valid, the name masked, the issuer and the date, nothing else.
        let (st, _, page) = get_raw(&app, &format!("/verify/certificates/{number}"), None).await;
        let page = String::from_utf8(page).unwrap();
        assert_eq!(st, StatusCode::OK, "{page}");
        assert!(page.contains("有效") && page.contains("李*") && page.contains(&number), "{page}");
        for private in ["李红", "1999", "13800138000", "330106", "2021"] {
            assert!(!page.contains(private), "{private} on the public page");
        }
        let (st, _, _) = get_raw(&app, "/verify/certificates/2026-000001-00000000", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a guessed number is not found");

        // Revoked: only its issuing side may, with a reason; the page then says so.
        let path = format!("/api/v1/certificates/{number}/revoke");
        let (st, _) = send(&app, "POST", &path, json!({"reason": "x"}), &w.sec_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, e) = send(&app, "POST", &path, json!({}), &t.sec_a).await;
        assert_eq!(
            (st, e["error"]["fields"]["reason"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("请填写收回原因"))
        );
        let (st, v) = send(&app, "POST", &path, json!({"reason": "党员身份有误，已重新开具"}), &t.sec_a).await;
        assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("revoked")));
        let (_, _, page) = get_raw(&app, &format!("/verify/certificates/{number}"), None).await;
        assert!(String::from_utf8(page).unwrap().contains("已收回"));

        let entries = audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
        let n =
            |action: &str, result: &str| entries.iter().filter(|e| e.action == action && e.result == result).count();
        assert_eq!(n("service.file", "ok"), 1);
        assert_eq!(n("service.accept", "ok"), 1);
        assert_eq!(n("service.complete", "ok"), 1);
        assert_eq!(n("certificate.revoke", "ok"), 1);
        assert!(n("service.view", "denied") >= 1 && n("service.accept", "denied") >= 1);
        let done = entries.iter().find(|e| e.action == "service.complete" && e.result == "ok").unwrap();
        assert!(done.detail.contains(&number), "the audit entry names the certificate");
        app
    })
    .await;
}

#[tokio::test]
async fn bad_requests_and_refusals_without_reason_write_nothing() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let (st, e) =
            send(&app, "POST", "/api/v1/service-requests", json!({"kind": "passport", "details": " "}), &w.lihong)
                .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["kind"].as_str().unwrap().contains("服务事项"));
        assert_eq!(e["error"]["fields"]["details"], "请填写用途或需要办理的事项");
        // An activist cannot ask for a proof of membership.
        let mut a = person("赵磊", t.ba, &id_number("19990101", "333"), "1999-01-01");
        a["stage"] = json!("activist");
        a["applied_on"] = json!("2024-03-01");
        a["activist_on"] = json!("2024-09-01");
        let zhao = app.post_ok("/api/v1/people", a, &t.staff).await["id"].as_i64().unwrap();
        let zhao = user(&app, t, "zhaolei", json!([]), Some(zhao)).await;
        let (st, e) = send(
            &app,
            "POST",
            "/api/v1/service-requests",
            json!({"kind": "membership_proof", "details": "求职"}),
            &zhao,
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["kind"].as_str().unwrap().contains("正式党员和预备党员"));
        // An account that is no one's files nothing.
        let (st, _) =
            send(&app, "POST", "/api/v1/service-requests", json!({"kind": "other", "details": "x"}), &t.staff).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(count(&app.platform.db, "service_requests").await, 0);
        assert_eq!(count(&app.platform.db, "service_request_events").await, 0);

        let (_, r) = send(
            &app,
            "POST",
            "/api/v1/service-requests",
            json!({"kind": "hardship", "details": "家中受灾"}),
            &w.lihong,
        )
        .await;
        let id = r["id"].as_i64().unwrap();
        let (st, e) =
            send(&app, "POST", &format!("/api/v1/service-requests/{id}/refuse"), json!({"note": ""}), &t.sec_a).await;
        assert_eq!(
            (st, e["error"]["fields"]["note"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("请填写不予办理的原因"))
        );
        let (_, r) = send(&app, "GET", &format!("/api/v1/service-requests/{id}"), Value::Null, &w.lihong).await;
        assert_eq!((r["state"].as_str(), r["history"].as_array().unwrap().len()), (Some("submitted"), 1));
        let why = json!({"note": "请先向学院学生工作办公室申请困难认定"});
        let (st, r) = send(&app, "POST", &format!("/api/v1/service-requests/{id}/refuse"), why, &t.sec_a).await;
        assert_eq!((st, r["state"].as_str()), (StatusCode::OK, Some("refused")));
        assert!(r["certificate"].is_null());
        assert_eq!(count(&app.platform.db, "certificates").await, 0);
        // Her own, before anyone accepts it, she withdraws.
        let (_, r) =
            send(&app, "POST", "/api/v1/service-requests", json!({"kind": "other", "details": "x"}), &w.lihong).await;
        let id = r["id"].as_i64().unwrap();
        let (st, r) =
            send(&app, "POST", &format!("/api/v1/service-requests/{id}/cancel"), Value::Null, &w.lihong).await;
        assert_eq!((st, r["state"].as_str()), (StatusCode::OK, Some("cancelled")));
        app
    })
    .await;
}

#[tokio::test]
async fn volunteer_hours_are_confirmed_by_the_secretary_and_summed_per_person_and_branch() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let day = kernel::dates::iso(kernel::dates::today());
        let (st, e) = send(
            &app,
            "POST",
            "/api/v1/volunteer-hours",
            json!({"activity": "", "served_on": "2999-01-01", "hours": 30}),
            &w.lihong,
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"].as_object().unwrap().len(), 3, "{e}");
        assert_eq!(count(&app.platform.db, "volunteer_hours").await, 0);
        let mut ids = Vec::new();
        for (what, h) in [("社区疫苗接种点秩序维护", 2.5), ("图书馆整理", 1.5), ("校运会志愿者", 3.0)]
        {
            let (st, e) = send(
                &app,
                "POST",
                "/api/v1/volunteer-hours",
                json!({"activity": what, "served_on": day, "hours": h}),
                &w.lihong,
            )
            .await;
            assert_eq!((st, e["state"].as_str()), (StatusCode::CREATED, Some("pending")), "{e}");
            ids.push(e["id"].as_i64().unwrap());
        }
        let confirm = |id: i64| format!("/api/v1/volunteer-hours/{id}/confirm");
        assert_eq!(send(&app, "POST", &confirm(ids[0]), Value::Null, &w.sec_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(send(&app, "POST", &confirm(ids[0]), Value::Null, &w.lihong).await.0, StatusCode::FORBIDDEN);
        assert_eq!(send(&app, "POST", &confirm(ids[0]), Value::Null, &t.sec_a).await.0, StatusCode::OK);
        assert_eq!(send(&app, "POST", &confirm(ids[2]), Value::Null, &t.sec_a).await.0, StatusCode::OK);
        assert_eq!(send(&app, "POST", &confirm(ids[0]), Value::Null, &t.sec_a).await.0, StatusCode::CONFLICT);
        let reject = format!("/api/v1/volunteer-hours/{}/reject", ids[1]);
        assert_eq!(send(&app, "POST", &reject, json!({}), &t.sec_a).await.0, StatusCode::UNPROCESSABLE_ENTITY);
        let (st, e) = send(&app, "POST", &reject, json!({"reason": "未见活动记录"}), &t.sec_a).await;
        assert_eq!((st, e["state"].as_str()), (StatusCode::OK, Some("rejected")));

        let (_, mine) = send(&app, "GET", "/api/v1/volunteer-hours", Value::Null, &w.lihong).await;
        assert_eq!((mine["confirmed"].as_f64(), mine["pending"].as_f64()), (Some(5.5), Some(0.0)), "{mine}");
        let (st, r) =
            send(&app, "GET", &format!("/api/v1/orgs/{}/volunteer-hours", t.uni), Value::Null, &t.staff).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["total"].as_f64(), Some(5.5));
        assert_eq!(r["per_person"][0]["person_id"].as_i64(), Some(w.li));
        assert_eq!(r["per_person"][0]["entries"], 2);
        let per_org = r["per_org"].as_array().unwrap();
        assert_eq!(per_org.len(), 1, "one college has hours: {r}");
        assert_eq!((per_org[0]["org_id"].as_i64(), per_org[0]["hours"].as_f64()), (Some(t.ca), Some(5.5)));
        let (st, _) = send(&app, "GET", &format!("/api/v1/orgs/{}/volunteer-hours", t.ba), Value::Null, &w.sec_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) =
            send(&app, "GET", &format!("/api/v1/orgs/{}/volunteer-hours?year=20x6", t.ba), Value::Null, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        app
    })
    .await;
}

#[tokio::test]
async fn the_calendar_feed_is_secret_hashed_revocable_and_needs_no_session() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let next_week = kernel::dates::iso(kernel::dates::today() + time::Duration::days(7));
        let meeting = json!({"org_id": t.ba, "kind": "theme_day", "title": "主题党日：学习雷锋精神", "held_on": next_week,
            "start_time": "14:30", "place": "图书馆报告厅"});
        app.post_ok("/api/v1/meetings", meeting, &t.sec_a).await;
        let (st, feed) = send(&app, "POST", "/api/v1/calendar-feed", Value::Null, &w.lihong).await;
        assert_eq!(st, StatusCode::CREATED, "{feed}");
        let path = feed["path"].as_str().unwrap().to_string();
        let token = path.trim_start_matches("/calendar/").trim_end_matches(".ics").to_string();
        let (st, headers, body) = get_raw(&app, &path, None).await;
        let body = String::from_utf8(body).unwrap();
        assert_eq!(st, StatusCode::OK, "{body}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/calendar"));
        assert!(body.contains("BEGIN:VEVENT") && body.contains("主题党日：学习雷锋精神"), "{body}");
        assert!(body.contains("LOCATION:图书馆报告厅"));
        // Only the hash is kept.
        let stored: String = match &app.platform.db {
            Db::Sqlite(p) => sqlx::query_scalar("SELECT token_hash FROM calendar_feeds").fetch_one(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar("SELECT token_hash FROM calendar_feeds").fetch_one(p).await.unwrap(),
        };
        assert_ne!(stored, token);
        assert_eq!(stored.len(), 64);
        // A new address replaces the old one at once; revoking stops the new one.
        let (_, again) = send(&app, "POST", "/api/v1/calendar-feed", Value::Null, &w.lihong).await;
        let new_path = again["path"].as_str().unwrap().to_string();
        assert_eq!(get_raw(&app, &path, None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get_raw(&app, &new_path, None).await.0, StatusCode::OK);
        let (st, _) = send(&app, "DELETE", "/api/v1/calendar-feed", Value::Null, &w.lihong).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        assert_eq!(get_raw(&app, &new_path, None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(send(&app, "DELETE", "/api/v1/calendar-feed", Value::Null, &w.lihong).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get_raw(&app, "/calendar/not-a-token.ics", None).await.0, StatusCode::NOT_FOUND);
        // An account that is no one's has no feed.
        assert_eq!(send(&app, "POST", "/api/v1/calendar-feed", Value::Null, &t.staff).await.0, StatusCode::FORBIDDEN);
        app
    })
    .await;
}

#[tokio::test]
async fn her_requests_certificates_and_hours_are_in_her_copy_and_go_with_her_deletion_text() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let (_, r) = send(
            &app,
            "POST",
            "/api/v1/service-requests",
            json!({"kind": "membership_proof", "details": "李红求职用"}),
            &w.lihong,
        )
        .await;
        let id = r["id"].as_i64().unwrap();
        app.post_ok(&format!("/api/v1/service-requests/{id}/complete"), json!({}), &t.sec_a).await;
        let day = kernel::dates::iso(kernel::dates::today());
        app.post_ok(
            "/api/v1/volunteer-hours",
            json!({"activity": "敬老院探访", "served_on": day, "hours": 2}),
            &w.lihong,
        )
        .await;
        let (st, copy) = send(&app, "GET", "/api/v1/me/data", Value::Null, &w.lihong).await;
        assert_eq!(st, StatusCode::OK);
        let section = &copy["member_services"];
        assert_eq!(section["requests"][0]["details"], "李红求职用", "{copy}");
        assert_eq!(section["certificates"][0]["person_name"], "李红");
        assert_eq!(section["volunteer_hours"][0]["hours_tenths"], 20);
        let _ = w.li;
        app
    })
    .await;
}
