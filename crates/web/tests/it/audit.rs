//! The audit chain: appended by every write and refusal, immune to UPDATE/DELETE through the triggers,
//! and any edit made around them is found by `verify`, which names the first broken entry.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use security::audit::{self, Verdict};

use crate::support::*;

pub(crate) async fn exec(db: &Db, sql: &str) -> Result<(), String> {
    let q = || sqlx::AssertSqlSafe(sql.to_string());
    match db {
        Db::Sqlite(p) => sqlx::query(q()).execute(p).await.map(|_| ()),
        Db::Postgres(p) => sqlx::query(q()).execute(p).await.map(|_| ()),
    }
    .map_err(|e| e.to_string())
}

#[tokio::test]
async fn tampering_is_refused_or_detected() {
    on_both(|app| async move {
        let t = tree(&app).await;
        app.post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
            .await;
        let db = &app.platform.db;
        let Verdict::Intact { entries, .. } = audit::verify(db).await.unwrap() else {
            panic!("chain broken before tampering")
        };
        assert!(entries >= 10, "logins, creations: {entries}");

        // The triggers refuse edits and deletions outright.
        assert!(exec(db, "UPDATE audit_log SET actor = 'x' WHERE seq = 3").await.is_err());
        assert!(exec(db, "DELETE FROM audit_log WHERE seq = 3").await.is_err());

        // Someone with the database owner's rights goes around them: verify names the entry.
        match db {
            Db::Sqlite(_) => exec(db, "DROP TRIGGER audit_log_no_update").await.unwrap(),
            Db::Postgres(_) => exec(db, "ALTER TABLE audit_log DISABLE TRIGGER USER").await.unwrap(),
        }
        exec(db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 4").await.unwrap();
        match audit::verify(db).await.unwrap() {
            Verdict::Broken { seq, .. } => assert_eq!(seq, 4),
            v => panic!("edit not detected: {v:?}"),
        }
        app
    })
    .await;
}

#[tokio::test]
async fn a_deleted_entry_is_detected() {
    on_both(|app| async move {
        tree(&app).await;
        let db = &app.platform.db;
        match db {
            Db::Sqlite(_) => exec(db, "DROP TRIGGER audit_log_no_delete").await.unwrap(),
            Db::Postgres(_) => exec(db, "ALTER TABLE audit_log DISABLE TRIGGER USER").await.unwrap(),
        }
        exec(db, "DELETE FROM audit_log WHERE seq = 2").await.unwrap();
        match audit::verify(db).await.unwrap() {
            Verdict::Broken { seq, .. } => assert_eq!(seq, 2),
            v => panic!("deletion not detected: {v:?}"),
        }
        app
    })
    .await;
}

#[tokio::test]
async fn on_postgresql_the_application_role_cannot_change_or_remove_audit_rows() {
    use std::str::FromStr;

    use sqlx::postgres::PgConnectOptions;

    let app = TestApp::new(kernel::Backend::Postgres).await;
    let t = tree(&app).await;
    app.post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff).await;
    let schema = app.pg_schema.clone().unwrap();
    let role = format!("{schema}_app");
    let db = &app.platform.db;
    exec(db, &format!("CREATE ROLE {role} LOGIN")).await.unwrap();
    for stmt in audit::pg_app_role_sql(&schema, &role).unwrap().split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let stmt: String = stmt.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
        exec(db, &stmt).await.unwrap();
    }
    assert!(audit::pg_app_role_sql(&schema, "x; DROP TABLE people").is_none(), "identifiers only");

    // The application, connected as that role, works: migrations are current, it reads and appends.
    let opts =
        PgConnectOptions::from_str(&pg_url()).unwrap().username(&role).options([("search_path", schema.as_str())]);
    let as_app = Db::connect_postgres(opts).await.unwrap();
    as_app.migrate().await.unwrap();
    let platform =
        platform::Platform::new(as_app.clone(), &security::KeyRing::for_tests(), Default::default()).unwrap();
    let ctx = platform::Ctx::default();
    let login = platform.login(&ctx, "sec_a", USER_PW, None, platform::service::SessionKind::Api).await.unwrap();
    platform.authenticate(&login.token).await.unwrap();
    // …and cannot edit, delete, empty or unprotect the log.
    for sql in [
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3",
        "DELETE FROM audit_log WHERE seq = 3",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER USER",
    ] {
        let err = exec(&as_app, sql).await.unwrap_err();
        assert!(err.contains("permission denied") || err.contains("must be owner"), "{sql}: {err}");
    }
    assert!(matches!(audit::verify(&as_app).await.unwrap(), Verdict::Intact { .. }));
    as_app.close().await;
    platform.db.close().await;
    exec(db, &format!("DROP OWNED BY {role}")).await.unwrap();
    app.cleanup().await;
    let admin = Db::connect_postgres(PgConnectOptions::from_str(&pg_url()).unwrap()).await.unwrap();
    exec(&admin, &format!("DROP ROLE {role}")).await.unwrap();
    admin.close().await;
}

/// The audit administrator searches the log on `/audit` (issue 6 item 4): by actor, action, target (exact or
/// a kind), result and days, a page at a time with the criteria kept; bad criteria are explained in Chinese
/// (422) and nothing is searched; each search is itself audited; the other roles get not found, audited.
#[tokio::test]
async fn the_audit_administrator_searches_the_log_page_by_page() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let body = serde_json::json!({"username": "auditor", "password": USER_PW, "display_name": "审计员", "grants": [{"role": "audit_admin", "org_id": null}]});
        app.post_ok("/api/v1/users", body, &t.admin).await;
        // Three refused sign-ins of sec_a and one of a name nobody has.
        for name in ["sec_a", "sec_a", "sec_a", "nobody"] {
            let (st, _, _) = app.form("/login", &[("username", name), ("password", "wrong-password-1"), ("next", "/")], None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED);
        }
        let auditor = app.web_login("auditor", USER_PW).await;

        let (st, page) = app.page("/audit", &auditor).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("查找审计记录") && page.contains("auth.login"), "the latest entries, with the form");

        let (st, page) = app.page("/audit?action=auth.login&result=failed&target=user%3Asec_a", &auditor).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(page.matches("<td data-label=\"序号\">").count(), 3, "exactly sec_a's three failures: {page}");
        assert!(page.contains("value=\"user:sec_a\"") && page.contains("<option value=\"failed\" selected>"), "criteria kept");
        // A kind of target: every user the failures were about.
        let (_, page) = app.page("/audit?action=auth.login&result=failed&target=user%3A", &auditor).await;
        assert_eq!(page.matches("<td data-label=\"序号\">").count(), 4, "{page}");
        let today = kernel::dates::iso(kernel::dates::today());
        let tomorrow = kernel::dates::iso(kernel::dates::today() + time::Duration::days(1));
        let (_, page) = app.page(&format!("/audit?action=auth.login&result=failed&from={tomorrow}"), &auditor).await;
        assert!(page.contains("没有符合条件的记录"), "nothing tomorrow");
        let (_, page) = app.page(&format!("/audit?action=auth.login&result=failed&from={today}&to={today}"), &auditor).await;
        assert_eq!(page.matches("<td data-label=\"序号\">").count(), 4);

        // Paging: 100 entries a page, the next page older, with the same criteria.
        let ctx = platform::Ctx { request_id: "test-paging".into(), ip: "-".into(), ..platform::Ctx::default() };
        for i in 0..150 {
            app.platform.record_denied(&ctx, None, "test.paging", &format!("thing:{i}")).await.unwrap();
        }
        let (_, page) = app.page("/audit?action=test.paging", &auditor).await;
        let first: Vec<i64> = page
            .split("<td data-label=\"序号\">")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(first.len(), 100);
        let last = *first.last().unwrap();
        assert!(page.contains(&format!("/audit?action=test.paging&#38;before={last}")), "the next page keeps the criteria: {page}");
        let (_, older) = app.page(&format!("/audit?action=test.paging&before={last}"), &auditor).await;
        let second: Vec<i64> = older
            .split("<td data-label=\"序号\">")
            .skip(1)
            .map(|s| s.split('<').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(second.len(), 50, "the rest, older");
        assert!(second.iter().all(|s| *s < last) && !older.contains("更早的记录"), "the last page");
        let (_, page) = app.page("/audit", &auditor).await;
        let total = {
            let seqs: Vec<i64> = page
                .split("<td data-label=\"序号\">")
                .skip(1)
                .map(|s| s.split('<').next().unwrap().parse().unwrap())
                .collect();
            assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
            seqs
        };
        assert_eq!(total.len(), 100);

        // Bad criteria: explained, nothing searched.
        let (st, page) = app.page("/audit?from=2026-13-01&to=x", &auditor).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请按 2026-01-31 的格式填写日期"), "{page}");
        let (st, page) = app.page("/audit?from=2026-02-01&to=2026-01-01", &auditor).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("结束日期不能早于开始日期"));
        let (st, page) = app.page("/audit?before=abc", &auditor).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("分页参数无效"));

        // The same search over the API (a SIEM pulling it), with the hashes to check against an export.
        let token = app.login("auditor", USER_PW).await;
        let (st, v) = app.call("GET", "/api/v1/audit/entries?action=auth.login&result=failed&target=user%3Asec_a", None, Some(&token)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let got = v["entries"].as_array().unwrap();
        assert_eq!(got.len(), 3, "{v}");
        assert!(got.iter().all(|e| e["target"] == "user:sec_a" && e["hash"].as_str().unwrap().len() == 64 && e["archived"] == false));
        assert!(v["next_before"].is_null());
        let (st, v) = app.call("GET", "/api/v1/audit/entries?action=test.paging", None, Some(&token)).await;
        assert_eq!((st, v["entries"].as_array().unwrap().len()), (StatusCode::OK, 100));
        let next = v["next_before"].as_i64().unwrap();
        let (_, v) = app.call("GET", &format!("/api/v1/audit/entries?action=test.paging&before={next}"), None, Some(&token)).await;
        assert_eq!(v["entries"].as_array().unwrap().len(), 50);
        let (st, v) = app.call("GET", "/api/v1/audit/entries?from=2026-02-30", None, Some(&token)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["fields"]["from"], "请按 2026-01-31 的格式填写日期", "{v}");
        let (st, v) = app.call("GET", "/api/v1/audit/entries?before=abc", None, Some(&token)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["fields"]["before"], "分页参数无效", "{v}");
        let (st, _) = app.call("GET", "/api/v1/audit/entries", None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a secretary learns nothing");

        // Each search with criteria is audited, with what was looked for.
        let searches = audit::search(
            &app.platform.db,
            &security::audit_evidence::Filter { action: Some("audit.search".into()), result: Some("ok".into()), ..Default::default() },
            None,
            100,
        )
        .await
        .unwrap();
        assert_eq!(searches.len(), 9, "the nine valid searches with criteria (six on the page, three over the API)");
        assert!(searches.iter().any(|e| e.actor == "auditor" && e.detail.contains("target=user:sec_a")), "{searches:?}");

        // Other roles: not found, and the refusal audited.
        let admin = app.web_login("admin", ADMIN_PW).await;
        for cookie in [&admin, &app.web_login("sec_a", USER_PW).await] {
            assert_eq!(app.page("/audit?actor=auditor", cookie).await.0, StatusCode::NOT_FOUND);
        }
        let denied = audit::search(
            &app.platform.db,
            &security::audit_evidence::Filter { action: Some("audit.search".into()), result: Some("denied".into()), ..Default::default() },
            None,
            100,
        )
        .await
        .unwrap();
        assert_eq!(denied.len(), 3, "two pages and the API refused");
        app
    })
    .await;
}
