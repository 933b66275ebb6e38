//! 发展党员 (issue 3 item 2) on SQLite and PostgreSQL: a step that breaks a rule is refused with the article
//! cited and writes nothing; a correct one moves the person's stage, its date, the head counts and the to-do
//! list in one transaction with its audit entry; an exception the regulations allow needs a reason; the
//! admission meeting's quorum (DEV-12); scope (another college's secretary 404, a member 403); a step's
//! attachment through the upload route.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

struct World {
    t: Tree,
    sec_b: String,
    member: String,
    zhang: i64,
    contacts: [i64; 2],
}

async fn world(app: &TestApp) -> World {
    let t = tree(app).await;
    let mut applicant = person("张敏", t.ba, &id_number("20000101", "123"), "2000-01-01");
    applicant["stage"] = json!("applicant");
    let zhang = app.post_ok("/api/v1/people", applicant, &t.staff).await["id"].as_i64().unwrap();
    let c1 = app
        .post_ok("/api/v1/people", person("王强", t.ba, &id_number("19900101", "234"), "1990-01-01"), &t.staff)
        .await["id"]
        .as_i64()
        .unwrap();
    let c2 = app
        .post_ok("/api/v1/people", person("刘芳", t.ba, &id_number("19910101", "345"), "1991-01-01"), &t.staff)
        .await["id"]
        .as_i64()
        .unwrap();
    let user = |name: &str, grants: Value, person: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
    app.post_ok("/api/v1/users", user("sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None), &t.admin)
        .await;
    app.post_ok("/api/v1/users", user("zhangmin", json!([]), Some(zhang)), &t.admin).await;
    let sec_b = app.login("sec_b", USER_PW).await;
    let member = app.login("zhangmin", USER_PW).await;
    World { t, sec_b, member, zhang, contacts: [c1, c2] }
}

fn steps(id: i64) -> String {
    format!("/api/v1/people/{id}/development/steps")
}

async fn record(app: &TestApp, w: &World, body: Value) -> (StatusCode, Value) {
    app.call("POST", &steps(w.zhang), Some(body), Some(&w.t.sec_a)).await
}

async fn ok_entries(app: &TestApp) -> usize {
    security::audit::entries_after(&app.platform.db, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "development.record" && e.result == "ok")
        .count()
}

async fn stage(app: &TestApp, w: &World) -> Value {
    let (_, p) = app.call("GET", &format!("/api/v1/people/{}", w.zhang), None, Some(&w.t.staff)).await;
    p
}

#[tokio::test]
async fn an_applicant_becomes_an_activist_only_on_a_correct_date() {
    on_both(|app| async move {
        let w = world(&app).await;
        let (st, v) = record(&app, &w, json!({"step": "application", "done_on": "2024-01-10"})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["next"]["step"], "talk");
        assert_eq!(v["next"]["due_on"], "2024-02-10");
        assert_eq!(v["overdue"], true);
        // DEV-02-T2: a talk 10 days late is refused with the article.
        let (st, v) = record(&app, &w, json!({"step": "talk", "done_on": "2024-02-20"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let msg = v["error"]["fields"]["done_on"].as_str().unwrap();
        assert!(msg.contains("晚了10天") && msg.contains("第七条"), "{msg}");
        let (st, _) = record(&app, &w, json!({"step": "talk", "done_on": "2024-02-10", "talker": w.contacts[0]})).await;
        assert_eq!(st, StatusCode::OK);

        // Too early: the decision before the application (DEV-00).
        let activist = |on: &str| json!({"step": "activist", "done_on": on, "contacts": w.contacts,
            "detail": {"decided_by": "branch_committee", "filed": true}});
        let before = ok_entries(&app).await;
        let (st, v) = record(&app, &w, activist("2024-01-05")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let msg = v["error"]["fields"]["done_on"].as_str().unwrap();
        assert!(msg.contains("步骤顺序有误") && msg.contains("发展党员工作细则"), "{msg}");
        assert_eq!(stage(&app, &w).await["stage"], "applicant", "nothing written");
        assert_eq!(ok_entries(&app).await, before);
        // DEV-04: a contact who is not a formal member.
        let mut bad = activist("2024-03-01");
        bad["contacts"] = json!([w.contacts[0], w.zhang]);
        let (st, v) = record(&app, &w, bad).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["fields"]["contacts"].is_string(), "{v}");

        let (_, ca_before) = app.call("GET", &format!("/api/v1/orgs/{}/stats", w.t.ca), None, Some(&w.t.staff)).await;
        let (st, v) = record(&app, &w, activist("2024-03-01")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["stage"], "activist");
        let p = stage(&app, &w).await;
        assert_eq!((p["stage"].as_str(), p["activist_on"].as_str()), (Some("activist"), Some("2024-03-01")));
        assert_eq!(ok_entries(&app).await, before + 1);
        let (_, ca_after) = app.call("GET", &format!("/api/v1/orgs/{}/stats", w.t.ca), None, Some(&w.t.staff)).await;
        assert_eq!(ca_before["total"], ca_after["total"], "the head count moved between stages, not out: {ca_after}");
        let rec = v["steps"].as_array().unwrap().iter().find(|s| s["step"] == "activist").unwrap();
        assert_eq!(rec["people"].as_array().unwrap().len(), 2);

        // DEV-06: listed one day before the anniversary → refused; on it → a development object.
        let (st, v) = record(&app, &w, json!({"step": "candidate", "done_on": "2025-02-28"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["fields"]["done_on"].as_str().unwrap().contains("第十三条"), "{v}");
        let (st, v) = record(&app, &w, json!({"step": "candidate", "done_on": "2025-03-01"})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["next"]["step"], "introducers");

        // DEV-00-T1: the admission meeting without review, training, pre-review, introducers.
        let meeting = json!({"step": "admission_meeting", "done_on": "2025-06-01",
            "vote": {"eligible": 12, "present": 7, "yes": 6, "no": 1, "abstain": 0, "written_yes": 1, "probationary": 0}});
        let (st, v) = record(&app, &w, meeting.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let msg = v["error"]["fields"]["step"].as_str().unwrap();
        for s in ["确定入党介绍人", "政治审查", "短期集中培训", "上级党委预审"] {
            assert!(msg.contains(s), "{msg}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_to_do_list_is_scoped_and_sorted_by_deadline() {
    on_both(|app| async move {
        let w = world(&app).await;
        record(&app, &w, json!({"step": "application", "done_on": "2024-01-10"})).await;
        let (st, v) =
            app.call("GET", &format!("/api/v1/orgs/{}/development/todo", w.t.ba), None, Some(&w.t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items[0]["person_id"], w.zhang);
        assert_eq!(items[0]["step"], "talk");
        assert_eq!(items[0]["overdue"], true);
        assert_eq!(v["overdue"], 1);
        // Staff of the university see it across the subtree; the other college's secretary does not.
        let (st, v) =
            app.call("GET", &format!("/api/v1/orgs/{}/development/todo", w.t.uni), None, Some(&w.t.staff)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(v["items"].as_array().unwrap().iter().any(|i| i["person_id"] == w.zhang));
        let (st, _) = app.call("GET", &format!("/api/v1/orgs/{}/development/todo", w.t.ba), None, Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.call("GET", &steps(w.zhang), None, Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app
            .call("POST", &steps(w.zhang), Some(json!({"step": "talk", "done_on": "2024-01-20"})), Some(&w.sec_b))
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The member reads her own development, never writes it.
        let (st, v) = app.call("GET", &steps(w.zhang), None, Some(&w.member)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["can_write"], false);
        let (st, _) = app
            .call("POST", &steps(w.zhang), Some(json!({"step": "talk", "done_on": "2024-01-20"})), Some(&w.member))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        app
    })
    .await;
}

#[tokio::test]
async fn bad_input_writes_nothing_and_a_step_carries_its_files() {
    on_both(|app| async move {
        let w = world(&app).await;
        let (st, v) = record(&app, &w, json!({"step": "nope", "done_on": "2024-13-01"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["step"].is_string() && v["error"]["fields"]["done_on"].is_string(), "{v}");
        let (st, v) = record(&app, &w, json!({"step": "application", "done_on": "2999-01-01"})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (_, v) = app.call("GET", &steps(w.zhang), None, Some(&w.t.sec_a)).await;
        assert_eq!(v["steps"].as_array().unwrap().len(), 0);
        assert_eq!(ok_entries(&app).await, 0);

        let (_, v) = record(&app, &w, json!({"step": "application", "done_on": "2024-01-10"})).await;
        let step_id = v["steps"][0]["id"].as_i64().unwrap();
        let upload = |token: &str, bytes: &'static [u8]| {
            Request::builder()
                .method("POST")
                .uri(format!(
                    "/api/v1/people/{}/development/steps/{step_id}/attachments?name=%E7%94%B3%E8%AF%B7%E4%B9%A6.pdf",
                    w.zhang
                ))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(bytes))
                .unwrap()
        };
        let (st, _, body) = app.request(upload(&w.t.sec_a, PDF)).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let meta: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(meta["file_type"], "pdf");
        let (st, _, body) = app.request(upload(&w.t.sec_a, b"MZ\x90\x00this is an exe")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (st, _, _) = app.request(upload(&w.sec_b, PDF)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let file = format!("/api/v1/people/{}/development/steps/{step_id}/attachments/{}", w.zhang, meta["id"]);
        let get = |token: &str| {
            Request::builder()
                .uri(&file)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        let (st, h, body) = app.request(get(&w.t.staff)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(body.as_bytes(), PDF);
        let (st, _, _) = app.request(get(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, v) = app.call("GET", &steps(w.zhang), None, Some(&w.t.sec_a)).await;
        assert_eq!(v["steps"][0]["attachments"][0]["name"], "申请书.pdf");
        app
    })
    .await;
}

#[tokio::test]
async fn the_page_shows_a_refusal_with_its_article_and_records_a_correct_step() {
    on_both(|app| async move {
        let w = world(&app).await;
        record(&app, &w, json!({"step": "application", "done_on": "2024-01-10"})).await;
        let cookie = app.web_login("sec_a", USER_PW).await;
        let page = format!("/people/{}/development", w.zhang);
        let (st, html) = app.page(&page, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("党组织派人谈话") && html.contains("2024-02-10") && html.contains("已逾期"), "{html}");
        // DEV-02-T2 through the form: refused, the article shown, the date typed kept.
        let (st, _, html) = app.form(&page, &[("step", "talk"), ("done_on", "2024-02-20")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            html.contains("晚了10天") && html.contains("第七条") && html.contains("value=\"2024-02-20\""),
            "{html}"
        );
        let (st, h, _) = app.form(&page, &[("step", "talk"), ("done_on", "2024-02-10")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], format!("{page}?done=1"));
        let (_, html) = app.page("/development", &cookie).await;
        assert!(html.contains("张敏") && html.contains("推荐和确定入党积极分子"), "{html}");
        // The other college's secretary: 404 on the person's page.
        let other = app.web_login("sec_b", USER_PW).await;
        let (st, _) = app.page(&page, &other).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // A file for the recorded talk, from the page: the upload form under the step; a file that is no
        // document is refused under the field and nothing is stored; a PDF is listed with its size.
        let (_, html) = app.page(&page, &cookie).await;
        let csrf = crate::import::hidden(&html, "csrf");
        let (_, dev) = app.call("GET", &steps(w.zhang), None, Some(&w.t.sec_a)).await;
        let talk =
            dev["steps"].as_array().unwrap().iter().find(|s| s["step"] == "talk").unwrap()["id"].as_i64().unwrap();
        let upload = format!("/people/{}/development/steps/{talk}/attachments", w.zhang);
        assert!(html.contains(&format!("action=\"{upload}\"")), "{html}");
        let up = crate::import::upload_form_to;
        let (st, _, html) = up(&app, &upload, &cookie, Some(&csrf), "run.exe", b"MZ\x90\x00binary").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("field-error") && html.contains(&format!("id=\"e-file-{talk}\"")), "{html}");
        let (_, dev) = app.call("GET", &steps(w.zhang), None, Some(&w.t.sec_a)).await;
        assert!(dev["steps"].to_string().contains("\"attachments\":[]"), "{dev}");
        let (st, location, _) = up(&app, &upload, &cookie, Some(&csrf), "谈话记录.pdf", PDF).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(location, format!("{page}?attached=1#step-{talk}"));
        let (_, html) = app.page(&format!("{page}?attached=1"), &cookie).await;
        assert!(html.contains("谈话记录.pdf") && html.contains("附件已上传"), "{html}");
        // Without the anti-forgery token: refused; another college's secretary: 404.
        let (st, _, _) = up(&app, &upload, &cookie, None, "a.pdf", PDF).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (_, other_html) = app.page("/", &other).await;
        let other_csrf = crate::import::hidden(&other_html, "csrf");
        let (st, _, _) = up(&app, &upload, &other, Some(&other_csrf), "a.pdf", PDF).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn the_system_administrator_switches_the_2026_revision_on_with_a_reason_and_nobody_else_can() {
    on_both(|app| async move {
        let w = world(&app).await;
        let settings = "/api/v1/development/settings";
        // The default: the 2014 细则 judges everything, and everyone signed in may see so.
        let (st, v) = app.call("GET", settings, None, Some(&w.t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!((v["revision_2026_from"].clone(), v["in_force_today"].as_str()), (Value::Null, Some("2014")));
        assert_eq!(v["can_change"], false);
        // Org staff and secretaries cannot switch it (403, audited as a refusal); nothing changes.
        let body = json!({"revision_2026_from": "2026-05-11", "reason": "校党委组织部通知"});
        let (st, _) = app.call("PUT", settings, Some(body.clone()), Some(&w.t.staff)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let denied = security::audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
        assert!(denied.iter().any(|e| e.action == "development.rules" && e.result == "denied"));
        // Bad input: a date before the revision was issued, no reason, not a date — 422, nothing written.
        for (bad, field) in [
            (json!({"revision_2026_from": "2026-01-01", "reason": "x"}), "revision_2026_from"),
            (json!({"revision_2026_from": "2026-12-01"}), "reason"),
            (json!({"revision_2026_from": "明年", "reason": "x"}), "revision_2026_from"),
        ] {
            let (st, v) = app.call("PUT", settings, Some(bad), Some(&w.t.admin)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert!(v["error"]["fields"][field].is_string(), "{v}");
        }
        let (_, v) = app.call("GET", settings, None, Some(&w.t.admin)).await;
        assert_eq!((v["revision_2026_from"].clone(), v["can_change"].clone()), (Value::Null, json!(true)));
        // The system administrator, just signed in: on from the day it was issued; audited with the reason.
        let (st, v) = app.call("PUT", settings, Some(body), Some(&w.t.admin)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(
            (v["revision_2026_from"].as_str(), v["in_force_today"].as_str()),
            (Some("2026-05-11"), Some("2026"))
        );
        let entries = security::audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
        let ok = entries.iter().find(|e| e.action == "development.rules" && e.result == "ok").unwrap();
        assert!(ok.detail.contains("2026-05-11") && ok.detail.contains("校党委组织部通知"), "{}", ok.detail);
        // A case not yet admitted is now judged by the revision; the to-do list is judged again and answers.
        let (_, dev) = app.call("GET", &steps(w.zhang), None, Some(&w.t.sec_a)).await;
        assert!(dev["rule_set_title"].as_str().unwrap().contains("2026"), "{dev}");
        let (st, todo) =
            app.call("GET", &format!("/api/v1/orgs/{}/development/todo", w.t.ba), None, Some(&w.t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{todo}");
        // Off again: back to 2014.
        let off = json!({"revision_2026_from": "", "reason": "暂缓执行"});
        let (st, v) = app.call("PUT", settings, Some(off), Some(&w.t.admin)).await;
        assert_eq!((st, v["in_force_today"].as_str()), (StatusCode::OK, Some("2014")), "{v}");

        // The page: the administrator sees the form; a failed save keeps what was typed; a secretary sees no form.
        let cookie = app.web_login("admin", ADMIN_PW).await;
        let (st, html) = app.page("/admin/development-rules", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("未启用") && html.contains("尚未经核实") && html.contains("name=\"reason\""), "{html}");
        let (st, _, html) = app
            .form("/admin/development-rules", &[("revision_2026_from", "2026-12-01"), ("reason", "")], Some(&cookie))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请填写依据") && html.contains("value=\"2026-12-01\""), "{html}");
        let fields = [("revision_2026_from", "2026-12-01"), ("reason", "党委组织部〔2026〕12号")];
        let (st, h, _) = app.form("/admin/development-rules", &fields, Some(&cookie)).await;
        assert_eq!(
            (st, h[header::LOCATION].to_str().unwrap()),
            (StatusCode::SEE_OTHER, "/admin/development-rules?saved=1")
        );
        let (_, html) = app.page("/admin/development-rules?saved=1", &cookie).await;
        assert!(html.contains("自 2026-12-01 起适用") && html.contains("已保存"), "{html}");
        let sec = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page("/admin/development-rules", &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!html.contains("name=\"reason\"") && html.contains("由系统管理员"), "{html}");
        app
    })
    .await;
}

#[tokio::test]
async fn the_holiday_calendar_is_kept_by_the_system_administrator_year_by_year() {
    on_both(|app| async move {
        let w = world(&app).await;
        let cal = "/api/v1/development/calendar";
        let (st, v) = app.call("GET", &format!("{cal}?year=2025"), None, Some(&w.t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!((v["holidays"].clone(), v["can_change"].clone()), (json!([]), json!(false)));
        // DEV-11-T2's calendar: National Day off, Sunday 9-28 worked.
        let body = json!({"year": 2025, "holidays": ["2025-10-01~2025-10-08"], "working_days": ["2025-09-28", "2025-10-11"],
            "reason": "国务院办公厅关于2025年部分节假日安排的通知"});
        assert_eq!(app.call("PUT", cal, Some(body.clone()), Some(&w.t.staff)).await.0, StatusCode::FORBIDDEN);
        // Bad input, nothing written: a weekday as a worked weekend day, a day of another year, no reason.
        for (bad, field) in [
            (json!({"year": 2025, "working_days": ["2025-09-29"], "reason": "x"}), "working_days"),
            (json!({"year": 2025, "holidays": ["2026-01-01"], "reason": "x"}), "holidays"),
            (json!({"year": 2025, "holidays": ["国庆"], "reason": "x"}), "holidays"),
            (json!({"year": 2025, "holidays": ["2025-10-01"], "working_days": ["2025-10-01"], "reason": "x"}), "working_days"),
            (json!({"year": 2025, "holidays": ["2025-10-01"]}), "reason"),
        ] {
            let (st, v) = app.call("PUT", cal, Some(bad), Some(&w.t.admin)).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert!(v["error"]["fields"][field].is_string(), "{field}: {v}");
        }
        let (_, v) = app.call("GET", &format!("{cal}?year=2025"), None, Some(&w.t.admin)).await;
        assert_eq!(v["holidays"], json!([]));
        let (st, v) = app.call("PUT", cal, Some(body), Some(&w.t.admin)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["holidays"].as_array().unwrap().len(), 8);
        assert_eq!(v["working_days"], json!(["2025-09-28", "2025-10-11"]));
        let entries = security::audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
        assert!(entries.iter().any(|e| e.action == "development.calendar" && e.result == "ok" && e.detail.contains("holidays:8")));
        // Another year is its own; saving a year replaces it.
        let (_, v) = app.call("GET", &format!("{cal}?year=2026"), None, Some(&w.t.admin)).await;
        assert_eq!(v["holidays"], json!([]));
        let again = json!({"year": 2025, "holidays": ["2025-10-01~2025-10-07"], "reason": "更正"});
        let (_, v) = app.call("PUT", cal, Some(again), Some(&w.t.admin)).await;
        assert_eq!((v["holidays"].as_array().unwrap().len(), v["working_days"].clone()), (7, json!([])));

        // The page: the year's lists in the form; a refusal shows under its field and keeps what was typed.
        let cookie = app.web_login("admin", ADMIN_PW).await;
        let (st, html) = app.page("/admin/development-rules?year=2025", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("2025年节假日安排") && html.contains("2025-10-07"), "{html}");
        let fields = [("year", "2025"), ("holidays", "2025-10-01至2025-10-03"), ("working_days", "2025-09-30"), ("reason", "通知")];
        let (st, _, html) = app.form("/admin/development-rules/calendar", &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("不是周末") && html.contains("2025-10-01至2025-10-03"), "{html}");
        let fields = [("year", "2025"), ("holidays", "2025-10-01至2025-10-03"), ("working_days", "2025-09-28"), ("reason", "通知")];
        let (st, h, _) = app.form("/admin/development-rules/calendar", &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(h[header::LOCATION].to_str().unwrap().contains("year=2025"));
        let (_, v) = app.call("GET", &format!("{cal}?year=2025"), None, Some(&w.t.admin)).await;
        assert_eq!((v["holidays"].as_array().unwrap().len(), v["working_days"].clone()), (3, json!(["2025-09-28"])));
        app
    })
    .await;
}
