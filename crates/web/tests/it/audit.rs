//! The audit chain: appended by every write and refusal, immune to UPDATE/DELETE through the triggers,
//! and any edit made around them is found by `verify`, which names the first broken entry.

#![allow(clippy::unwrap_used)]

use kernel::Db;
use security::audit::{self, Verdict};

use crate::support::*;

async fn exec(db: &Db, sql: &str) -> Result<(), String> {
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
