//! 会议通知 through the router, on SQLite and PostgreSQL: planning a meeting sends a notice to exactly its
//! attendees (nobody else of the branch, nobody of another branch); a change of place goes to everyone invited,
//! a person added gets the notice alone, a new title tells nobody, a cancellation goes to those invited; a
//! meeting recorded as held and a refused update send nothing; the receipts are those of every notice, and the
//! meeting page lists its notices for the secretary.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use serde_json::{Value, json};

use crate::life::{audited, count, get};
use crate::support::*;

async fn send(app: &TestApp, method: &str, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    app.call(method, path, Some(body), Some(token)).await
}

async fn member(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str) -> i64 {
    let p = person(name, org, &id_number("19990101", seq), "1999-01-01");
    app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap()
}

async fn login_as(app: &TestApp, t: &Tree, name: &str, person: i64) -> String {
    let body = json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": []});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    app.login(name, USER_PW).await
}

/// `(title, recipients in id order)` of every notice about the meeting, earliest first.
async fn notices_of(db: &Db, meeting: i64) -> Vec<(String, Vec<i64>)> {
    const N: &str = "SELECT id, title FROM notices WHERE meeting_id = $1 ORDER BY id";
    const R: &str = "SELECT person_id FROM notice_recipients WHERE notice_id = $1 ORDER BY person_id";
    let rows: Vec<(i64, String)> = match db {
        Db::Sqlite(p) => sqlx::query_as(N).bind(meeting).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_as(N).bind(meeting).fetch_all(p).await.unwrap(),
    };
    let mut out = Vec::new();
    for (id, title) in rows {
        let people: Vec<i64> = match db {
            Db::Sqlite(p) => sqlx::query_scalar(R).bind(id).fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar(R).bind(id).fetch_all(p).await.unwrap(),
        };
        out.push((title, people));
    }
    out
}

fn ahead(days: i64) -> String {
    kernel::dates::iso(kernel::dates::today() + time::Duration::days(days))
}

#[tokio::test]
async fn planned_meetings_notify_exactly_their_attendees() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = member(&app, &t, "李红", t.ba, "111").await;
        let wang = member(&app, &t, "王芳", t.ba, "222").await;
        let zhao = member(&app, &t, "赵磊", t.ba, "333").await;
        let sun = member(&app, &t, "孙悦", t.bb, "444").await;
        let lihong = login_as(&app, &t, "lihong", li).await;
        let zhaolei = login_as(&app, &t, "zhaolei", zhao).await;
        let sunyue = login_as(&app, &t, "sunyue", sun).await;

        // A 主题党日 planned ten days ahead for 李红 and 王芳: the two of them are told, nobody else.
        let body = json!({"org_id": t.ba, "kind": "theme_day", "title": "12月主题党日", "held_on": ahead(10),
            "start_time": "14:30", "place": "学院楼301", "agenda": "学习党章", "attendee_ids": [li, wang]});
        let (st, m) = send(&app, "POST", "/api/v1/meetings", body, &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{m}");
        assert_eq!(m["status"], "planned");
        let id = m["id"].as_i64().unwrap();
        let sent = notices_of(&app.platform.db, id).await;
        assert_eq!(sent, vec![("会议通知：12月主题党日".to_string(), vec![li, wang])]);

        // 李红 sees it on her list and her home page, with the meeting's details; 赵磊 (same branch, not invited)
        // and 孙悦 (another branch) do not, and cannot open it.
        let (_, list) = get(&app, "/api/v1/notices", &lihong).await;
        assert_eq!(list["received"][0]["title"], "会议通知：12月主题党日", "{list}");
        assert_eq!(list["unconfirmed"], 1);
        let notice = list["received"][0]["id"].as_i64().unwrap();
        let (st, n) = get(&app, &format!("/api/v1/notices/{notice}"), &lihong).await;
        assert_eq!(st, StatusCode::OK, "{n}");
        assert_eq!(n["audience"], "会议参会人员");
        assert_eq!(n["meeting_id"], id);
        assert_eq!(n["recipients"], 2);
        let text = n["body"].as_str().unwrap();
        assert!(text.contains("14:30") && text.contains("学院楼301") && text.contains("学习党章"), "{text}");
        for other in [&zhaolei, &sunyue] {
            let (_, l) = get(&app, "/api/v1/notices", other).await;
            assert_eq!(l["received"].as_array().unwrap().len(), 0, "{l}");
            assert_eq!(get(&app, &format!("/api/v1/notices/{notice}"), other).await.0, StatusCode::NOT_FOUND);
        }
        let home = app.web_login("lihong", USER_PW).await;
        let (st, html) = app.page("/", &home).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("会议通知：12月主题党日"), "the home page lists the notice to confirm");

        // Her receipt counts on the notice as on any other.
        let (st, _) = send(&app, "POST", &format!("/api/v1/notices/{notice}/read"), json!({}), &lihong).await;
        assert_eq!(st, StatusCode::OK);
        let (_, n) = get(&app, &format!("/api/v1/notices/{notice}"), &t.sec_a).await;
        assert_eq!((n["receipts"]["read"].as_i64(), n["receipts"]["total"].as_i64()), (Some(1), Some(2)));

        // A new title tells nobody; a new place tells both; 赵磊 added gets the notice alone.
        let path = format!("/api/v1/meetings/{id}");
        assert_eq!(send(&app, "PATCH", &path, json!({"title": "12月主题党日活动"}), &t.sec_a).await.0, StatusCode::OK);
        assert_eq!(notices_of(&app.platform.db, id).await.len(), 1);
        assert_eq!(send(&app, "PATCH", &path, json!({"place": "图书馆报告厅"}), &t.sec_a).await.0, StatusCode::OK);
        let (st, _) = send(&app, "PATCH", &path, json!({"attendee_ids": [li, wang, zhao]}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        // A refused change (a malformed day) writes no notice.
        let (st, _) = send(&app, "PATCH", &path, json!({"held_on": "2026-13-01", "place": "别处"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        // Cancelled: the three invited are told.
        assert_eq!(send(&app, "PATCH", &path, json!({"status": "cancelled"}), &t.sec_a).await.0, StatusCode::OK);
        let sent = notices_of(&app.platform.db, id).await;
        let expected = vec![
            ("会议通知：12月主题党日".to_string(), vec![li, wang]),
            ("会议变更通知：12月主题党日活动".to_string(), vec![li, wang]),
            ("会议通知：12月主题党日活动".to_string(), vec![zhao]),
            ("会议取消通知：12月主题党日活动".to_string(), vec![li, wang, zhao]),
        ];
        assert_eq!(sent, expected);
        let (_, l) = get(&app, "/api/v1/notices", &zhaolei).await;
        assert_eq!(l["received"].as_array().unwrap().len(), 2, "{l}");
        let (_, l) = get(&app, "/api/v1/notices", &sunyue).await;
        assert_eq!(l["received"].as_array().unwrap().len(), 0, "{l}");

        // A meeting recorded as held tells nobody.
        let before = count(&app.platform.db, "notices").await;
        let held = json!({"org_id": t.ba, "kind": "committee", "title": "11月支委会", "held_on": ahead(-3)});
        assert_eq!(send(&app, "POST", "/api/v1/meetings", held, &t.sec_a).await.0, StatusCode::CREATED);
        assert_eq!(count(&app.platform.db, "notices").await, before);

        // Each notice is audited as a publication.
        let published = audited(&app).await.into_iter().filter(|(a, r, _)| a == "notice.publish" && r == "ok").count();
        assert_eq!(published, 4);

        // The secretary's meeting page lists the notices with their receipts; the member's does not.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page(&format!("/meetings/{id}"), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("会议通知") && html.contains("已确认 1/2 人"), "{html}");
        let (st, html) = app.page(&format!("/meetings/{id}"), &home).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!html.contains("会议变更通知"));
        // The notice page links back to the meeting.
        let (_, html) = app.page(&format!("/notices/{notice}"), &home).await;
        assert!(html.contains(&format!("/meetings/{id}")));
        app
    })
    .await;
}
