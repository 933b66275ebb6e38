//! The minutes' attachments and recurring plans through the router, on SQLite and PostgreSQL.
//!
//! Attachments: a secretary uploads files to a meeting's minutes (AT-21: a renamed .exe is refused, nothing
//! stored), an invited member downloads them with the safe headers, another branch's secretary gets 404 for the
//! upload, the download and a file id of another meeting, an archived meeting takes no more files, and the
//! page's upload form works. Plans: "day 31 of every month" writes one planned meeting per month, on the last day
//! of shorter months (domain.md C1), tells the attendees once; each meeting is changed or cancelled alone; a
//! refused plan writes nothing; another branch's secretary gets 404 for the plan.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::life::{count, get};
use crate::support::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn send(app: &TestApp, method: &str, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    app.call(method, path, Some(body), Some(token)).await
}

async fn member(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str) -> i64 {
    let p = person(name, org, &id_number("19990101", seq), "1999-01-01");
    app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap()
}

async fn user(app: &TestApp, t: &Tree, name: &str, grants: Value, person: Option<i64>) -> String {
    let body =
        json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    app.login(name, USER_PW).await
}

fn raw(method: &str, uri: &str, token: &str, bytes: &'static [u8]) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(bytes))
        .unwrap()
}

#[tokio::test]
async fn minutes_take_checked_files_scoped_like_the_meeting() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = member(&app, &t, "李红", t.ba, "111").await;
        let lihong = user(&app, &t, "lihong", json!([]), Some(li)).await;
        let sec_b = user(&app, &t, "sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None).await;
        let held = json!({"org_id": t.ba, "kind": "committee", "title": "11月支委会", "held_on": "2025-11-10",
            "attendee_ids": [li]});
        let id = app.post_ok("/api/v1/meetings", held, &t.sec_a).await["id"].as_i64().unwrap();
        let other = json!({"org_id": t.ba, "kind": "theme_day", "title": "10月主题党日", "held_on": "2025-10-10"});
        let other = app.post_ok("/api/v1/meetings", other, &t.sec_a).await["id"].as_i64().unwrap();
        let up = format!("/api/v1/meetings/{id}/attachments?name=%E7%AD%BE%E5%88%B0%E8%A1%A8.pdf");

        let (_, before) = get(&app, &format!("/api/v1/meetings/{id}"), &t.sec_a).await;
        let (st, _, body) = app.request(raw("POST", &up, &t.sec_a, PDF)).await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        let (_, after) = get(&app, &format!("/api/v1/meetings/{id}"), &t.sec_a).await;
        assert_eq!(after["version"], before["version"], "a file leaves an open edit form valid");
        let meta: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((meta["name"].as_str(), meta["file_type"].as_str()), (Some("签到表.pdf"), Some("pdf")));
        // A renamed executable is refused with its reason; nothing is stored.
        let before = count(&app.platform.db, "attachments").await;
        let (st, _, body) = app.request(raw("POST", &up, &t.sec_a, b"MZ\x90\x00this is an exe")).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("\"file\""), "{body}");
        assert_eq!(count(&app.platform.db, "attachments").await, before);
        // Another branch's secretary: 404 to upload; the invited member may read but not upload (403).
        assert_eq!(app.request(raw("POST", &up, &sec_b, PDF)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.request(raw("POST", &up, &lihong, PDF)).await.0, StatusCode::FORBIDDEN);

        // The meeting lists it; the member downloads it as an attachment, nosniff, of the content's type.
        let (_, m) = get(&app, &format!("/api/v1/meetings/{id}"), &lihong).await;
        assert_eq!(m["minutes_files"][0]["name"], "签到表.pdf", "{m}");
        let file = format!("/api/v1/meetings/{id}/attachments/{}", meta["id"]);
        let (st, h, body) = app.request(raw("GET", &file, &lihong, b"")).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(body.as_bytes(), PDF);
        assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(h[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
        // Another branch: 404; the file id under another meeting: 404.
        assert_eq!(app.request(raw("GET", &file, &sec_b, b"")).await.0, StatusCode::NOT_FOUND);
        let wrong = format!("/api/v1/meetings/{other}/attachments/{}", meta["id"]);
        assert_eq!(app.request(raw("GET", &wrong, &t.sec_a, b"")).await.0, StatusCode::NOT_FOUND);

        // The page shows it and takes a file through its form.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page(&format!("/meetings/{id}"), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("签到表.pdf") && html.contains("enctype=\"multipart/form-data\""), "{html}");
        let csrf = csrf_token(&format!("/meetings/{id}"), &cookie);
        let (st, location) =
            upload(&app, &cookie, csrf.as_deref(), id, "会议照片.txt", "会议记录照片说明".as_bytes()).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{location}");
        let (_, html) = app.page(&location, &cookie).await;
        assert!(html.contains("附件已上传") && html.contains("会议照片.txt"), "{html}");
        let (st, _) = upload(&app, &cookie, csrf.as_deref(), id, "x.pdf", b"MZ\x90\x00exe").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        // Removing one, then archiving: the archived meeting takes no more files.
        let (st, _, _) = app.request(raw("DELETE", &file, &t.sec_a, b"")).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        let (_, m) = get(&app, &format!("/api/v1/meetings/{id}"), &t.sec_a).await;
        assert_eq!(m["minutes_files"].as_array().unwrap().len(), 1);
        let (st, _) = send(&app, "POST", &format!("/api/v1/meetings/{id}/archive"), json!({}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(app.request(raw("POST", &up, &t.sec_a, PDF)).await.0, StatusCode::CONFLICT);
        app
    })
    .await;
}

async fn upload(
    app: &TestApp,
    cookie: &str,
    csrf: Option<&str>,
    meeting: i64,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, String) {
    let path = format!("/meetings/{meeting}/attachments");
    let (st, headers, html) = app.upload_form(&path, cookie, csrf, (name, "application/octet-stream"), bytes).await;
    let location = headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or(html);
    (st, location)
}

#[tokio::test]
async fn a_monthly_plan_writes_its_meetings_clamped_to_month_end() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = member(&app, &t, "李红", t.ba, "111").await;
        let wang = member(&app, &t, "王芳", t.ba, "222").await;
        member(&app, &t, "孙悦", t.bb, "444").await;
        let sec_b = user(&app, &t, "sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None).await;
        let lihong = user(&app, &t, "lihong", json!([]), Some(li)).await;
        // From the next January (so the test does not depend on today): day 31 of January … June.
        let year = kernel::dates::today().year() + 1;
        let plan = json!({"org_id": t.ba, "kind": "theme_day", "title": "主题党日", "rule": "day", "day": 31,
            "start_time": "14:30", "place": "党员活动室", "starts_on": format!("{year}-01-01"), "ends_on": format!("{year}-06-30")});

        // A refused plan writes nothing: a bad time and an unknown weekday, every item at once.
        let (meetings0, notices0) = (count(&app.platform.db, "meetings").await, count(&app.platform.db, "notices").await);
        let mut bad = plan.clone();
        bad["start_time"] = json!("25:00");
        bad["rule"] = json!("weekday");
        bad["nth"] = json!(2);
        let (st, e) = send(&app, "POST", "/api/v1/meeting-plans", bad, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let fields = &e["error"]["fields"];
        assert!(fields["start_time"].is_string() && fields["weekday"].is_string(), "{e}");
        assert_eq!(count(&app.platform.db, "meetings").await, meetings0);
        assert_eq!(count(&app.platform.db, "meeting_plans").await, 0);
        // Another branch's secretary cannot plan for branch A (its organization is not hers).
        let (st, e) = send(&app, "POST", "/api/v1/meeting-plans", plan.clone(), &sec_b).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["org_id"].is_string());

        let (st, p) = send(&app, "POST", "/api/v1/meeting-plans", plan, &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{p}");
        assert_eq!(p["rule"], "day:31");
        let days: Vec<&str> = p["meetings"].as_array().unwrap().iter().map(|m| m["held_on"].as_str().unwrap()).collect();
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let feb = if leap { format!("{year}-02-29") } else { format!("{year}-02-28") };
        let expected =
            [format!("{year}-01-31"), feb, format!("{year}-03-31"), format!("{year}-04-30"), format!("{year}-05-31"), format!("{year}-06-30")];
        assert_eq!(days, expected);
        let first = &p["meetings"][0];
        assert_eq!(first["title"], format!("{year}年1月主题党日"));
        assert_eq!((first["status"].as_str(), first["stats"]["invited"].as_i64()), (Some("planned"), Some(2)));
        crate::life::assert_counts_kept(&app, "a plan's meetings").await;
        // One notice with the schedule, to the two members; 孙悦 of branch B gets nothing.
        assert_eq!(count(&app.platform.db, "notices").await, notices0 + 1);
        let (_, list) = get(&app, "/api/v1/notices", &lihong).await;
        assert_eq!(list["received"][0]["title"], "会议计划通知：主题党日", "{list}");
        assert_eq!(list["received"][0]["recipients"], 2);

        // Each meeting is changed or cancelled alone.
        let ids: Vec<i64> = p["meetings"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
        let (st, m) = send(&app, "PATCH", &format!("/api/v1/meetings/{}", ids[1]), json!({"status": "cancelled"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!(m["plan_id"], p["id"]);
        let (st, _) = send(&app, "PATCH", &format!("/api/v1/meetings/{}", ids[2]), json!({"held_on": format!("{year}-03-27")}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let (_, p2) = get(&app, &format!("/api/v1/meeting-plans/{}", p["id"]), &t.sec_a).await;
        let statuses: Vec<&str> = p2["meetings"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["planned", "cancelled", "planned", "planned", "planned", "planned"]);
        assert_eq!(p2["meetings"][2]["held_on"], format!("{year}-03-27"));
        assert_eq!(p2["meetings"][3]["held_on"], format!("{year}-04-30"), "the others keep their day");
        // Cancellation and change were told to the attendees: plan + 2 notices.
        assert_eq!(count(&app.platform.db, "notices").await, notices0 + 3);

        // Scope: another branch's secretary and a plain member get 404 for the plan.
        let path = format!("/api/v1/meeting-plans/{}", p["id"]);
        assert_eq!(get(&app, &path, &sec_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, &path, &lihong).await.0, StatusCode::NOT_FOUND);
        let _ = wang;

        // The pages: the form, a refused submission in Chinese, a plan made by the form, the plan page.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let new = format!("/orgs/{}/meeting-plans/new", t.ba);
        let (st, html) = app.page(&new, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("新建定期计划") && html.contains("每月第几个星期几"), "{html}");
        let pairs = |day: &str| {
            vec![
                ("kind", "committee".to_string()),
                ("title", "支委会".to_string()),
                ("rule", "weekday".to_string()),
                ("nth", "5".to_string()),
                ("weekday", day.to_string()),
                ("start_time", "16:00".to_string()),
                ("starts_on", format!("{year}-01-01")),
                ("ends_on", format!("{year}-03-31")),
            ]
        };
        let submit = |day: &str| {
            let owned = pairs(day);
            let app = &app;
            let (new, cookie) = (new.clone(), cookie.clone());
            async move {
                let fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.form(&new, &fields, Some(&cookie)).await
            }
        };
        let (st, _, html) = submit("").await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请选择星期几"), "{html}");
        let (st, headers, _) = submit("5").await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let location = headers[header::LOCATION].to_str().unwrap().to_string();
        let (st, html) = app.page(&location, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("每月最后一个星期五") && html.contains("已生成3次会议"), "{html}");
        assert!(html.contains("<dd>3 次</dd>"), "{html}");
        let (_, html) = app.page(&format!("/orgs/{}/meetings", t.ba), &cookie).await;
        assert!(html.contains("定期计划") && html.contains("每月最后一个星期五"), "the meeting list names the plans");
        app
    })
    .await;
}

#[tokio::test]
async fn a_whole_plan_is_cancelled_with_a_reason_and_its_attendees_told_once() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = member(&app, &t, "李红", t.ba, "111").await;
        let wang = member(&app, &t, "王芳", t.ba, "222").await;
        let sec_b = user(&app, &t, "sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None).await;
        let leader = user(&app, &t, "leader_a", json!([{"role": "leader", "org_id": t.uni}]), None).await;
        let lihong = user(&app, &t, "lihong", json!([]), Some(li)).await;
        let year = kernel::dates::today().year() + 1;
        let plan = json!({"org_id": t.ba, "kind": "theme_day", "title": "主题党日", "rule": "day", "day": 10,
            "start_time": "14:30", "starts_on": format!("{year}-01-01"), "ends_on": format!("{year}-06-30")});
        let p = app.post_ok("/api/v1/meeting-plans", plan, &t.sec_a).await;
        let id = p["id"].as_i64().unwrap();
        assert_eq!((p["can_cancel"].as_bool(), p["cancelled_at"].is_null()), (Some(true), true), "{p}");
        let ids: Vec<i64> = p["meetings"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
        // February's is cancelled alone; March's is moved to today and held (its record must survive).
        let today = kernel::dates::iso(kernel::dates::today());
        let (st, _) =
            send(&app, "PATCH", &format!("/api/v1/meetings/{}", ids[1]), json!({"status": "cancelled"}), &t.sec_a)
                .await;
        assert_eq!(st, StatusCode::OK);
        let held = json!({"held_on": today, "status": "held"});
        let (st, m) = send(&app, "PATCH", &format!("/api/v1/meetings/{}", ids[2]), held, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        let cancel = format!("/api/v1/meeting-plans/{id}/cancel");
        let statuses = |p: &Value| -> Vec<String> {
            p["meetings"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap().to_string()).collect()
        };
        let (_, before) = get(&app, &format!("/api/v1/meeting-plans/{id}"), &t.sec_a).await;
        let notices0 = count(&app.platform.db, "notices").await;

        // Refused, nothing written: no reason (422), another branch (404), a member (404), a reader (403).
        let (st, e) = send(&app, "POST", &cancel, json!({"reason": "  "}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"]["reason"].as_str().unwrap().contains("取消原因"), "{e}");
        assert_eq!(send(&app, "POST", &cancel, json!({"reason": "x"}), &sec_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(send(&app, "POST", &cancel, json!({"reason": "x"}), &lihong).await.0, StatusCode::NOT_FOUND);
        let (st, e) = send(&app, "POST", &cancel, json!({"reason": "x"}), &leader).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
        let (_, same) = get(&app, &format!("/api/v1/meeting-plans/{id}"), &t.sec_a).await;
        assert_eq!(statuses(&same), statuses(&before));
        assert!(same["cancelled_at"].is_null());
        assert_eq!(count(&app.platform.db, "notices").await, notices0);

        // Cancelled: the four meetings still planned become cancelled, the held one stays, one notice to both.
        let (st, c) = send(&app, "POST", &cancel, json!({"reason": "学院统一安排主题党日"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{c}");
        // (earliest first: March's, moved to today, leads)
        assert_eq!(statuses(&c), ["held", "cancelled", "cancelled", "cancelled", "cancelled", "cancelled"]);
        assert_eq!(
            (c["cancel_reason"].as_str(), c["can_cancel"].as_bool()),
            (Some("学院统一安排主题党日"), Some(false))
        );
        assert!(c["cancelled_at"].is_string(), "{c}");
        assert_eq!(count(&app.platform.db, "notices").await, notices0 + 1);
        let (_, list) = get(&app, "/api/v1/notices", &lihong).await;
        let n = &list["received"][0];
        assert_eq!(n["title"], "会议计划取消通知：主题党日", "{list}");
        assert_eq!(n["recipients"], 2);
        let (_, full) = get(&app, &format!("/api/v1/notices/{}", n["id"]), &lihong).await;
        let body = full["body"].as_str().unwrap().to_string();
        assert!(body.contains("以下4次会议不再召开") && body.contains("学院统一安排主题党日"), "{full}");
        assert!(body.contains(&format!("{year}年1月10日")) && !body.contains(&format!("{year}年3月10日")), "{full}");
        // Once is enough.
        assert_eq!(send(&app, "POST", &cancel, json!({"reason": "再取消"}), &t.sec_a).await.0, StatusCode::CONFLICT);
        let _ = wang;

        // The pages: the plan says so and offers nothing more; the meeting list no longer names it.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (_, html) = app.page(&format!("/meeting-plans/{id}"), &cookie).await;
        assert!(html.contains("已取消") && html.contains("原因：学院统一安排主题党日"), "{html}");
        assert!(!html.contains("取消整个计划"), "{html}");
        let (_, html) = app.page(&format!("/orgs/{}/meetings", t.ba), &cookie).await;
        assert!(!html.contains(&format!("/meeting-plans/{id}\"")), "a cancelled plan is not running: {html}");

        // The plan form invites only the people ticked; a plan is cancelled from its page, the reason checked.
        let new = format!("/orgs/{}/meeting-plans/new", t.ba);
        let (_, html) = app.page(&new, &cookie).await;
        assert!(html.contains("只邀请下面勾选的人员") && html.contains("李红"), "{html}");
        let (li_s, starts, ends) = (li.to_string(), format!("{year}-01-01"), format!("{year}-03-31"));
        let fields = [
            ("kind", "theme_day"),
            ("title", "主题党日"),
            ("rule", "day"),
            ("day", "5"),
            ("starts_on", starts.as_str()),
            ("ends_on", ends.as_str()),
            ("attendees_mode", "selected"),
            ("attendee", li_s.as_str()),
        ];
        let (st, headers, html) = app.form(&new, &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
        let location = headers[header::LOCATION].to_str().unwrap().to_string();
        let second: i64 = location.trim_start_matches("/meeting-plans/").split('?').next().unwrap().parse().unwrap();
        let (_, p2) = get(&app, &format!("/api/v1/meeting-plans/{second}"), &t.sec_a).await;
        let invited: Vec<i64> =
            p2["meetings"].as_array().unwrap().iter().map(|m| m["stats"]["invited"].as_i64().unwrap()).collect();
        assert_eq!(invited, [1, 1, 1], "only 李红: {p2}");
        let page_cancel = format!("/meeting-plans/{second}/cancel");
        let (st, _, html) = app.form(&page_cancel, &[("reason", "")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请填写取消原因") && html.contains("取消整个计划"), "{html}");
        let (st, headers, _) = app.form(&page_cancel, &[("reason", "改为线上学习")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, html) = app.page(headers[header::LOCATION].to_str().unwrap(), &cookie).await;
        assert!(html.contains("计划已取消：3次") && html.contains("原因：改为线上学习"), "{html}");
        app
    })
    .await;
}
