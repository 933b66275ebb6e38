//! QR sign-in (issue 4 item 2): the secretary's screen carries a short-lived signed token; an invited member
//! signs in once with it from her own session; forged, stale or foreign attempts are refused.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn an_invited_member_signs_in_once_by_scanning_the_screen() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let pa = app.post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff).await["id"].as_i64().unwrap();
        let pc = app.post_ok("/api/v1/people", person("张伟", t.ba, &id_number("19990101", "145"), "1999-01-01"), &t.staff).await["id"].as_i64().unwrap();
        for (name, pid) in [("lihong", pa), ("zhangwei", pc)] {
            let body = json!({"username": name, "password": USER_PW, "display_name": name, "person_id": pid, "grants": []});
            app.post_ok("/api/v1/users", body, &t.admin).await;
        }
        let today = kernel::dates::today().to_string();
        let m = app
            .post_ok("/api/v1/meetings", json!({"org_id": t.ba, "kind": "theme_day", "title": "主题党日", "held_on": today, "attendee_ids": [pa]}), &t.sec_a)
            .await["id"]
            .as_i64()
            .unwrap();

        let sec = app.web_login("sec_a", USER_PW).await;
        let (st, screen) = app.page(&format!("/meetings/{m}/checkin"), &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(screen.contains("<svg") && screen.contains("http-equiv=\"refresh\""));
        let link = screen.split("id=\"checkin-link\" href=\"").nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
        let path = link.split_once("://").unwrap().1.split_once('/').map(|(_, p)| format!("/{p}")).unwrap();
        let token = path.split("t=").nth(1).unwrap().to_string();
        let token = token.replace("%2E", ".").replace("%2e", ".");

        let member = app.web_login("lihong", USER_PW).await;
        let (st, page) = app.page(&path, &member).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("确认签到"), "a GET only shows the button");
        let (_, v) = app.call("GET", &format!("/api/v1/meetings/{m}"), None, Some(&app.login("sec_a", USER_PW).await)).await;
        assert!(v["attendees"][0]["attendance"].is_null(), "nothing recorded by opening the page: {v}");

        let post = |cookie: String, token: String| {
            let app = &app;
            async move { app.form(&format!("/checkin/{m}"), &[("t", &token)], Some(&cookie)).await }
        };
        let (st, _, html) = post(member.clone(), token.clone()).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("签到成功"));
        let (st, _, html) = post(member.clone(), token.clone()).await;
        assert!(st == StatusCode::OK && html.contains("您已签到"), "once");
        let staff = app.login("sec_a", USER_PW).await;
        let (_, v) = app.call("GET", &format!("/api/v1/meetings/{m}"), None, Some(&staff)).await;
        assert_eq!(v["attendees"][0]["attendance"], "present", "{v}");
        crate::life::assert_counts_kept(&app, "a QR sign-in").await;

        // Not invited; a forged, a stale, and an empty token.
        let other = app.web_login("zhangwei", USER_PW).await;
        let (st, _, _) = post(other, token.clone()).await;
        assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{st}");
        let exp = token.split('.').next().unwrap();
        for bad in [format!("{exp}.00000000000000000000000000000000"), "1.abc".to_string(), String::new()] {
            let (st, _, html) = post(member.clone(), bad.clone()).await;
            assert_eq!(st, StatusCode::CONFLICT, "{bad}");
            assert!(html.contains("二维码已过期或无效"));
        }
        // The screen is the branch's: another branch's staff… and a member, cannot open it.
        let (st, _) = app.page(&format!("/meetings/{m}/checkin"), &member).await;
        assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{st}");
        let recent = security::audit::recent(&app.platform.db, None, 60).await.unwrap();
        assert!(recent.iter().any(|e| e.action == "meeting.checkin" && e.actor == "lihong" && e.result == "ok"));
        app
    })
    .await;
}

#[tokio::test]
async fn sign_in_is_open_on_the_meetings_day_only() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let t = tree(&app).await;
    let m = app
        .post_ok(
            "/api/v1/meetings",
            json!({"org_id": t.ba, "kind": "committee", "title": "支委会", "held_on": "2025-01-13"}),
            &t.sec_a,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let sec = app.web_login("sec_a", USER_PW).await;
    let (st, html) = app.page(&format!("/meetings/{m}/checkin"), &sec).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(html.contains("只能在会议当天扫码签到"));
    app.cleanup().await;
}
