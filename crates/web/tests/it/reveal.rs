//! Field protection (security.md AT-14): masked by default; revealing needs a reason and the right to
//! keep the record, is audited, limited per day, and shown to the person ("谁查看了我的信息").

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn revealing_needs_a_reason_is_audited_and_shown_to_the_person() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let ia = id_number("19990101", "123");
        let pa = app.post_ok("/api/v1/people", person("李红", t.ba, &ia, "1999-01-01"), &t.staff).await["id"].as_i64().unwrap();
        let pb = app.post_ok("/api/v1/people", person("王芳", t.bb, &id_number("19980202", "456"), "1998-02-02"), &t.staff).await["id"].as_i64().unwrap();
        let user = |name: &str, grants: serde_json::Value, person: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
        app.post_ok("/api/v1/users", user("leader", json!([{"role": "leader", "org_id": t.uni}]), None), &t.admin).await;
        app.post_ok("/api/v1/users", user("lihong", json!([]), Some(pa)), &t.admin).await;
        let leader = app.login("leader", USER_PW).await;
        let member = app.login("lihong", USER_PW).await;
        let reveal = |id: i64| format!("/api/v1/people/{id}/reveal");

        let (st, v) = app.call("POST", &reveal(pa), Some(json!({"field": "id_number"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["fields"]["reason"].is_string());
        let (st, v) = app.call("POST", &reveal(pa), Some(json!({"field": "salary", "reason": "核对政审材料"})), Some(&t.sec_a)).await;
        assert!(st == StatusCode::UNPROCESSABLE_ENTITY && v["error"]["fields"]["field"].is_string(), "{v}");
        let (st, v) =
            app.call("POST", &reveal(pa), Some(json!({"field": "id_number", "reason": "核对政审材料"})), Some(&t.sec_a)).await;
        assert_eq!((st, v["value"].as_str()), (StatusCode::OK, Some(ia.as_str())));
        let (_, v) = app.call("POST", &reveal(pa), Some(json!({"field": "phone", "reason": "通知开会"})), Some(&t.sec_a)).await;
        assert_eq!(v["value"], "13800138000");
        let (_, v) = app.call("POST", &reveal(pa), Some(json!({"field": "address", "reason": "寄送材料"})), Some(&t.sec_a)).await;
        assert!(v["value"].is_null(), "no address registered: {v}");

        // Out of reach reads as not existing; a leader reads masked records only.
        let (st, _) = app.call("POST", &reveal(pb), Some(json!({"field": "id_number", "reason": "核对政审材料"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.call("POST", &reveal(pa), Some(json!({"field": "id_number", "reason": "核对政审材料"})), Some(&leader)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // The person herself, no reason needed; not someone else.
        let (st, v) = app.call("POST", &reveal(pa), Some(json!({"field": "id_number"})), Some(&member)).await;
        assert_eq!((st, v["value"].as_str()), (StatusCode::OK, Some(ia.as_str())));
        let (st, _) = app.call("POST", &reveal(pb), Some(json!({"field": "id_number"})), Some(&member)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // 谁查看了我的信息
        let (st, log) = app.call("GET", "/api/v1/me/access-log", None, Some(&member)).await;
        assert_eq!(st, StatusCode::OK);
        let lines: Vec<(String, String)> = log.as_array().unwrap().iter()
            .map(|e| (e["actor"].as_str().unwrap().to_string(), e["what"].as_str().unwrap().to_string())).collect();
        assert!(lines.contains(&("sec_a".into(), "查看了您的公民身份号码".into())), "{lines:?}");
        assert!(lines.contains(&("sec_a".into(), "查看了您的联系电话".into())));
        assert!(lines.contains(&("staff".into(), "建立了您的档案".into())));
        assert!(!lines.iter().any(|(who, _)| who == "leader"), "a refused attempt revealed nothing");
        // The reason is in the audit log, with the field.
        let recent = security::audit::recent(&app.platform.db, None, 50).await.unwrap();
        assert!(recent.iter().any(|e| e.action == "person.reveal" && e.actor == "sec_a" && e.detail == "id_number:核对政审材料"));
        assert!(recent.iter().any(|e| e.action == "person.reveal" && e.actor == "leader" && e.result == "denied"));

        // The page: the form, the value shown once, the reason asked for.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, _, html) = app.form(&format!("/people/{pa}/reveal"), &[("field", "id_number"), ("reason", "")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请写明查看原因"));
        let (st, _, html) =
            app.form(&format!("/people/{pa}/reveal"), &[("field", "id_number"), ("reason", "核对政审材料")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains(&ia) && html.contains("本次查看已记入审计日志"));
        let (_, html) = app.page(&format!("/people/{pa}"), &cookie).await;
        assert!(!html.contains(&ia), "shown once, not on the next visit");
        let mcookie = app.web_login("lihong", USER_PW).await;
        let (st, html) = app.page("/account/access-log", &mcookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("查看了您的公民身份号码") && html.contains("sec_a"));
        app
    })
    .await;
}

#[tokio::test]
async fn reveals_are_limited_per_account_and_day_by_role() {
    use platform::limits::reveals_per_day;
    use platform::model::Role;
    on_both(|app| async move {
        let t = tree(&app).await;
        let pa = app
            .post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
            .await["id"]
            .as_i64()
            .unwrap();
        let body = json!({"field": "phone", "reason": "通知开会"});
        let reveal = |token: String| {
            let (app, body) = (&app, body.clone());
            async move {
                let req = axum::http::Request::post(format!("/api/v1/people/{pa}/reveal"))
                    .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(axum::http::header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(body.to_string()))
                    .unwrap();
                let (st, headers, text) = app.request(req).await;
                let retry =
                    headers.get(axum::http::header::RETRY_AFTER).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                (st, retry, serde_json::from_str::<serde_json::Value>(&text).unwrap())
            }
        };
        // A branch secretary: 20 a day; org staff: 50 (platform::limits::reveals_per_day).
        for (token, role) in [(&t.sec_a, Role::BranchSecretary), (&t.staff, Role::OrgStaff)] {
            let limit = reveals_per_day(role).unwrap();
            for i in 0..limit {
                assert_eq!(reveal(token.clone()).await.0, StatusCode::OK, "{role:?} reveal {i}");
            }
            let (st, retry, v) = reveal(token.clone()).await;
            assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
            assert!(v["error"]["message"].as_str().unwrap().contains(&format!("{limit}次")), "{v}");
            assert!(retry.is_some_and(|r| (1..=86_400).contains(&r)), "until midnight in Beijing: {retry:?}");
        }
        assert_eq!((reveals_per_day(Role::BranchSecretary), reveals_per_day(Role::OrgStaff)), (Some(20), Some(50)));
        app
    })
    .await;
}
