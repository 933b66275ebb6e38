//! The audit chain: appended by every write and refusal, immune to UPDATE/DELETE through the triggers,
//! and any edit made around them is found by `verify`, which names the first broken entry.

#![allow(clippy::unwrap_used)]

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
