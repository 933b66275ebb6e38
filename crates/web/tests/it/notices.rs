//! 通知公告 through the router, on SQLite and PostgreSQL: publishing to a subtree (all, or some stages),
//! recipients fixed at publication, the member's one-button receipt (idempotent), receipts per organization for
//! the publisher and for a secretary below (her branch only), scope refusals (404 outside, 403 for read-only
//! roles and plain recipients), validation (422 with fields, nothing written), withdrawal, the pages, sanitized
//! rich text, and the audit entries.

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

async fn someone(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str, stage: &str) -> i64 {
    let mut p = person(name, org, &id_number("19990101", seq), "1999-01-01");
    p["stage"] = json!(stage);
    if stage != "full" {
        // Earlier stages carry their dates (the platform checks the path).
        p["applied_on"] = json!("2024-03-01");
        if stage == "activist" {
            p["activist_on"] = json!("2024-09-01");
        }
    }
    app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap()
}

fn notice(org: i64, title: &str) -> Value {
    json!({"org_id": org, "title": title, "body": "各位党员：\n\n请于3月20日下午参加主题党日活动。"})
}

#[tokio::test]
async fn notices_reach_the_subtree_and_receipts_are_counted_per_organization() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = someone(&app, &t, "李红", t.ba, "111", "full").await;
        someone(&app, &t, "王芳", t.ba, "222", "full").await;
        someone(&app, &t, "赵磊", t.ba, "333", "activist").await;
        someone(&app, &t, "孙悦", t.bb, "444", "full").await;
        let lihong = user(&app, &t, "lihong", json!([]), Some(li)).await;
        let sec_b = user(&app, &t, "sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None).await;
        let leader = user(&app, &t, "leader", json!([{"role": "leader", "org_id": t.uni}]), None).await;

        // The secretary of A publishes to her branch: all three of its people.
        let (st, n) = send(&app, "POST", "/api/v1/notices", notice(t.ba, "3月主题党日通知"), &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{n}");
        let branch_notice = n["id"].as_i64().unwrap();
        assert_eq!(n["recipients"], 3);
        assert_eq!(n["body"], "<p>各位党员：</p><p>请于3月20日下午参加主题党日活动。</p>");
        assert_eq!(n["receipts"]["read"], 0);

        // The university's staff publishes to full members only: two in A, one in B.
        let mut to_members = notice(t.uni, "关于开展民主评议党员工作的通知");
        to_members["stages"] = json!(["full"]);
        let (st, u) = send(&app, "POST", "/api/v1/notices", to_members, &t.staff).await;
        assert_eq!(st, StatusCode::CREATED, "{u}");
        let uni_notice = u["id"].as_i64().unwrap();
        assert_eq!(u["recipients"], 3);
        assert_eq!(u["audience"], "正式党员");

        // 李红 sees both, unconfirmed, and confirms the university's; a second confirmation keeps the first time.
        let (st, list) = send(&app, "GET", "/api/v1/notices", Value::Null, &lihong).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(list["received"].as_array().unwrap().len(), 2, "{list}");
        assert_eq!(list["unconfirmed"], 2);
        assert!(list["published"].as_array().unwrap().is_empty(), "a member oversees nothing");
        let (st, mine) = send(&app, "GET", &format!("/api/v1/notices/{uni_notice}"), Value::Null, &lihong).await;
        assert_eq!(st, StatusCode::OK);
        assert!(mine["to_me"].as_bool().unwrap() && mine["my_read_at"].is_null());
        assert!(mine["receipts"].is_null(), "a plain recipient sees no one else's receipt");
        let read = format!("/api/v1/notices/{uni_notice}/read");
        let (st, first) = send(&app, "POST", &read, Value::Null, &lihong).await;
        assert_eq!(st, StatusCode::OK, "{first}");
        let at = first["my_read_at"].as_str().unwrap().to_string();
        let (_, again) = send(&app, "POST", &read, Value::Null, &lihong).await;
        assert_eq!(again["my_read_at"], at.as_str());

        // The staff sees the receipts of the whole notice, one line per college.
        let (_, whole) = send(&app, "GET", &format!("/api/v1/notices/{uni_notice}"), Value::Null, &t.staff).await;
        let r = &whole["receipts"];
        assert_eq!((r["total"].as_i64(), r["read"].as_i64()), (Some(3), Some(1)), "{whole}");
        let lines: Vec<(i64, i64, i64)> = r["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["org_id"].as_i64().unwrap(), l["total"].as_i64().unwrap(), l["read"].as_i64().unwrap()))
            .collect();
        assert_eq!(lines, vec![(t.ca, 2, 1), (t.cb, 1, 0)]);
        // The secretary of A sees the university's notice with her branch's receipts only, and who has not confirmed.
        let (st, part) = send(&app, "GET", &format!("/api/v1/notices/{uni_notice}"), Value::Null, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{part}");
        assert_eq!(part["receipts"]["org_id"], t.ba);
        assert_eq!((part["receipts"]["total"].as_i64(), part["receipts"]["read"].as_i64()), (Some(2), Some(1)));
        assert!(!part["can_withdraw"].as_bool().unwrap());
        let (st, unread) =
            send(&app, "GET", &format!("/api/v1/notices/{uni_notice}/unread"), Value::Null, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let names: Vec<&str> =
            unread["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["王芳"]);
        let (_, sec_list) = send(&app, "GET", "/api/v1/notices", Value::Null, &t.sec_a).await;
        assert_eq!(sec_list["from_above"][0]["id"], uni_notice, "{sec_list}");
        assert_eq!(sec_list["published"][0]["id"], branch_notice);

        // Branch B's secretary learns nothing of A's notice; she sees the university's for B only.
        let branch_path = format!("/api/v1/notices/{branch_notice}");
        assert_eq!(send(&app, "GET", &branch_path, Value::Null, &sec_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            send(&app, "GET", &format!("{branch_path}/unread"), Value::Null, &sec_b).await.0,
            StatusCode::NOT_FOUND
        );
        let (st, _) = send(&app, "POST", &format!("{branch_path}/withdraw"), json!({"reason": "越权"}), &sec_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (_, b_part) = send(&app, "GET", &format!("/api/v1/notices/{uni_notice}"), Value::Null, &sec_b).await;
        assert_eq!((b_part["receipts"]["total"].as_i64(), b_part["receipts"]["read"].as_i64()), (Some(1), Some(0)));
        // A leader reads but does not publish or withdraw; a member cannot see the list of who has not confirmed.
        assert_eq!(send(&app, "GET", &branch_path, Value::Null, &leader).await.0, StatusCode::OK);
        let (st, _) = send(&app, "POST", "/api/v1/notices", notice(t.ba, "越权"), &leader).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = send(&app, "POST", &format!("{branch_path}/withdraw"), json!({"reason": "越权"}), &leader).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(send(&app, "POST", "/api/v1/notices", notice(t.ba, "越权"), &lihong).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            send(&app, "GET", &format!("{branch_path}/unread"), Value::Null, &lihong).await.0,
            StatusCode::FORBIDDEN
        );
        // The staff is not a recipient: nothing to confirm.
        let (st, _) = send(&app, "POST", &format!("{branch_path}/read"), Value::Null, &t.staff).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert_eq!(count(&app.platform.db, "notices").await, 2, "no refused call wrote a notice");

        // Withdrawal needs a reason; afterwards the recipient sees why, not the text, and cannot confirm.
        let withdraw = format!("{branch_path}/withdraw");
        let (st, e) = send(&app, "POST", &withdraw, json!({"reason": " "}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["reason"], "请填写撤回原因");
        let (st, w) = send(&app, "POST", &withdraw, json!({"reason": "时间调整，另行通知"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{w}");
        assert_eq!(w["state"], "withdrawn");
        assert_eq!(send(&app, "POST", &withdraw, json!({"reason": "再撤"}), &t.sec_a).await.0, StatusCode::CONFLICT);
        let (_, seen) = send(&app, "GET", &branch_path, Value::Null, &lihong).await;
        assert_eq!((seen["body"].as_str(), seen["withdraw_reason"].as_str()), (Some(""), Some("时间调整，另行通知")));
        assert_eq!(
            send(&app, "POST", &format!("{branch_path}/read"), Value::Null, &lihong).await.0,
            StatusCode::CONFLICT
        );
        let (_, list) = send(&app, "GET", "/api/v1/notices", Value::Null, &lihong).await;
        assert_eq!(list["received"].as_array().unwrap().len(), 1, "a withdrawn notice leaves the member's list");

        // The audit: each write once, and the refusals.
        let entries = audit::entries_after(&app.platform.db, 0, 100_000).await.unwrap();
        let n_of =
            |action: &str, result: &str| entries.iter().filter(|e| e.action == action && e.result == result).count();
        assert_eq!(n_of("notice.publish", "ok"), 2);
        assert_eq!(n_of("notice.read", "ok"), 1, "the second confirmation changed nothing");
        assert_eq!(n_of("notice.withdraw", "ok"), 1);
        assert!(n_of("notice.view", "denied") >= 2 && n_of("notice.publish", "denied") >= 2);
        assert!(n_of("notice.withdraw", "denied") >= 2 && n_of("notice.read", "denied") >= 1);
        app
    })
    .await;
}

#[tokio::test]
async fn a_refused_notice_writes_nothing() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let bad = json!({"org_id": t.bb, "title": "", "body": "<script>alert(1)</script>", "body_format": "html",
                         "stages": ["member"]});
        let (st, e) = send(&app, "POST", "/api/v1/notices", bad, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        for f in ["org_id", "title", "body", "stages"] {
            assert!(e["error"]["fields"][f].is_string(), "{f}: {e}");
        }
        // Branch B has nobody: publishing there is refused as well, and the notice row is rolled back.
        let (st, e) = send(&app, "POST", "/api/v1/notices", notice(t.bb, "无人可收"), &t.staff).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["stages"].as_str().unwrap().contains("无人可收"), "{e}");
        assert_eq!(count(&app.platform.db, "notices").await, 0);
        assert_eq!(count(&app.platform.db, "notice_recipients").await, 0);
        app
    })
    .await;
}

#[tokio::test]
async fn the_pages_publish_confirm_and_keep_rich_text_inert() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = someone(&app, &t, "李红", t.ba, "111", "full").await;
        user(&app, &t, "lihong", json!([]), Some(li)).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let member = app.web_login("lihong", USER_PW).await;

        // The form: refused input comes back with the messages beside the fields, nothing lost.
        let (st, page) = app.page("/notices/new", &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("发布通知") && page.contains("需要接收人确认已读"));
        let (st, _, page) = app.form("/notices/new", &[("org_id", &t.ba.to_string()), ("body", "正文保留")], Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请填写标题") && page.contains("正文保留"), "the body is kept");

        let dirty = r#"<p>请按时参加<img src=x onerror=alert(1)><a href="javascript:alert(2)">报名</a></p><svg onload=alert(3)>"#;
        let (st, headers, _) = app
            .form(
                "/notices/new",
                &[
                    ("org_id", &t.ba.to_string()),
                    ("title", "关于主题党日的通知"),
                    ("body_format", "html"),
                    ("body", dirty),
                    ("needs_receipt", "1"),
                ],
                Some(&sec),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let to = headers.get("location").unwrap().to_str().unwrap().to_string();
        let id: i64 = to.trim_start_matches("/notices/").split('?').next().unwrap().parse().unwrap();

        // The member: home shows it waiting, the page has the button, the button confirms.
        let (_, home) = app.page("/", &member).await;
        assert!(home.contains("待确认的通知") && home.contains("关于主题党日的通知"));
        let (st, page) = app.page(&format!("/notices/{id}"), &member).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("确认已读") && page.contains("请按时参加"));
        let body = page.split(r#"<div class="body">"#).nth(1).unwrap().split("</div>").next().unwrap();
        assert!(body.contains("请按时参加") && body.contains("报名"), "{body}");
        for bad in ["onerror", "javascript:", "onload", "<svg", "<img"] {
            assert!(!body.contains(bad), "{bad} reached the notice: {body}");
        }
        let (st, headers, _) = app.form(&format!("/notices/{id}/read"), &[], Some(&member)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers.get("location").unwrap(), &format!("/notices/{id}?read=1"));
        let (_, page) = app.page(&format!("/notices/{id}"), &member).await;
        assert!(page.contains("已确认阅读") && !page.contains("确认已读</button>"));
        let (_, list) = app.page("/notices", &member).await;
        assert!(list.contains("已确认") && list.contains("收到的通知都已确认"));

        // The secretary sees the receipts and withdraws it; a missing reason is shown beside the field.
        let (_, page) = app.page(&format!("/notices/{id}"), &sec).await;
        assert!(page.contains("确认情况") && page.contains("100%"), "{page}");
        let (st, _, page) = app.form(&format!("/notices/{id}/withdraw"), &[("reason", "")], Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请填写撤回原因"));
        let (st, _, _) = app.form(&format!("/notices/{id}/withdraw"), &[("reason", "另行通知")], Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, page) = app.page(&format!("/notices/{id}"), &member).await;
        assert!(page.contains("撤回") && page.contains("另行通知") && !page.contains("请按时参加"));
        app
    })
    .await;
}

#[tokio::test]
async fn search_finds_notices_by_two_character_words_only_for_those_who_may_read_them() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = someone(&app, &t, "李红", t.ba, "111", "full").await;
        let wang = someone(&app, &t, "王芳", t.bb, "222", "full").await;
        let lihong = user(&app, &t, "lihong", json!([]), Some(li)).await;
        let wangfang = user(&app, &t, "wangfang", json!([]), Some(wang)).await;
        let sec_b = user(&app, &t, "sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None).await;
        let body =
            json!({"org_id": t.ba, "title": "关于按时交纳的提醒", "body": "全体党员：请于月底前交纳本季度党费。"});
        let id = app.post_ok("/api/v1/notices", body, &t.sec_a).await["id"].as_i64().unwrap();
        let notice_hits = |v: &Value| -> Vec<i64> {
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["type"] == "notice")
                .map(|h| h["id"].as_i64().unwrap())
                .collect()
        };
        let url = format!("/api/v1/search?q={}", web::auth::encode("党费"));
        // Found in the body by a two-character word, with the word marked, by the recipient and by the staff.
        for token in [&lihong, &t.staff, &t.sec_a] {
            let (st, v) = send(&app, "GET", &url, Value::Null, token).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            assert_eq!(notice_hits(&v), vec![id], "{v}");
        }
        let (_, v) = send(&app, "GET", &url, Value::Null, &lihong).await;
        let hit = v["results"].as_array().unwrap().iter().find(|h| h["type"] == "notice").unwrap();
        assert!(hit["snippet"].as_str().unwrap().contains("<mark>党费</mark>"), "{hit}");
        // Never by someone of another branch.
        for token in [&wangfang, &sec_b] {
            let (_, v) = send(&app, "GET", &url, Value::Null, token).await;
            assert!(notice_hits(&v).is_empty(), "{v}");
        }
        // Once withdrawn, the recipient no longer finds it; its publisher still does.
        let w = format!("/api/v1/notices/{id}/withdraw");
        app.post_ok(&w, json!({"reason": "重发"}), &t.sec_a).await;
        let (_, v) = send(&app, "GET", &url, Value::Null, &lihong).await;
        assert!(notice_hits(&v).is_empty(), "{v}");
        let (_, v) = send(&app, "GET", &url, Value::Null, &t.sec_a).await;
        assert_eq!(notice_hits(&v), vec![id]);
        app
    })
    .await;
}
