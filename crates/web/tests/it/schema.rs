//! The two migration trees stay equal, sensitive items are never stored in plaintext, and the demo
//! university's maintained head counts equal a recount.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use kernel::{Backend, Db};

use crate::support::*;

/// Tables only: SQLite's FTS5 search index (a virtual table and its shadow tables) is the counterpart of a
/// PostgreSQL index, not a table PostgreSQL has (`pragma_table_list` types them `virtual` and `shadow`).
/// Likewise PostgreSQL's stored `materials.search_vector` (migration 0030, the tsvector its GIN index is built
/// on) is the counterpart of SQLite's FTS5 table, so it is left out on that side.
async fn columns(db: &Db) -> BTreeSet<(String, String, bool)> {
    let rows: Vec<(String, String, bool)> = match db {
        Db::Sqlite(p) => sqlx::query_as(
            "SELECT m.name, lower(c.type), c.\"notnull\" = 1 OR c.pk = 1 FROM pragma_table_list m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.schema = 'main' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Db::Postgres(p) => sqlx::query_as(
            "SELECT table_name::text, data_type::text, is_nullable = 'NO' FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' AND NOT (table_name = 'materials' AND column_name = 'search_vector')",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    // Column names matter most: collect (table, column) separately below; types are normalised.
    rows.into_iter().map(|(t, ty, nn)| (t, normalise(&ty), nn)).collect()
}

async fn names(db: &Db) -> BTreeSet<(String, String)> {
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite(p) => sqlx::query_as(
            "SELECT m.name, c.name FROM pragma_table_list m JOIN pragma_table_info(m.name) c WHERE m.type = 'table' AND m.schema = 'main' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Db::Postgres(p) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' \
             AND NOT (table_name = 'materials' AND column_name = 'search_vector')",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    rows.into_iter().collect()
}

fn normalise(ty: &str) -> String {
    match ty {
        "integer" | "bigint" => "int",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" => "bool",
        "date" => "date",
        "timestamp" | "timestamp with time zone" => "timestamp",
        other => other,
    }
    .to_string()
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let lite = TestApp::new(Backend::Sqlite).await;
    let pg = TestApp::new(Backend::Postgres).await;
    let (a, b) = (names(&lite.platform.db).await, names(&pg.platform.db).await);
    assert_eq!(a, b, "columns differ between migrations/sqlite and migrations/postgres");
    let (ta, tb) = (columns(&lite.platform.db).await, columns(&pg.platform.db).await);
    assert_eq!(ta.len(), tb.len());
    let count =
        |s: &BTreeSet<(String, String, bool)>| s.iter().map(|(_, ty, nn)| (ty.clone(), *nn)).collect::<Vec<_>>();
    let (mut ca, mut cb) = (count(&ta), count(&tb));
    ca.sort();
    cb.sort();
    assert_eq!(ca, cb, "column types or nullability differ");
    lite.cleanup().await;
    pg.cleanup().await;
}

#[tokio::test]
async fn the_database_file_holds_no_plaintext_id_number_or_phone() {
    let app = TestApp::new(Backend::Sqlite).await;
    let t = tree(&app).await;
    let idn = id_number("19990101", "123");
    let mut body = person("李红", t.ba, &idn, "1999-01-01");
    body["phone"] = serde_json::json!("13912345678");
    body["address"] = serde_json::json!("杭州市西湖区文三路100号");
    app.post_ok("/api/v1/people", body, &t.staff).await;
    app.platform.db.close().await;
    let mut bytes = Vec::new();
    for f in ["dangjian.db", "dangjian.db-wal"] {
        if let Ok(b) = std::fs::read(app.dir.join(f)) {
            bytes.extend(b);
        }
    }
    let hay = String::from_utf8_lossy(&bytes);
    assert!(hay.contains("李红"), "the file was read");
    for secret in [idn.as_str(), "19990101123", "13912345678", "文三路"] {
        assert!(!hay.contains(secret), "{secret} found in plaintext");
    }
    let _ = std::fs::remove_dir_all(&app.dir);
}

#[tokio::test]
async fn demo_counts_equal_a_recount() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::new(backend).await;
        let report = platform::demo::generate(&app.platform, platform::demo::Scale::Small, 7, &|_| {}).await.unwrap();
        assert!(report.people > 150 && report.orgs > 10, "{report:?}");
        let again = platform::demo::generate(&app.platform, platform::demo::Scale::Small, 7, &|_| {}).await.unwrap();
        assert!(again.already_present, "a second run changes nothing");
        let recount: Vec<(String, i64)> = match &app.platform.db {
            Db::Sqlite(p) => sqlx::query_as("SELECT stage, COUNT(*) FROM people GROUP BY stage ORDER BY stage")
                .fetch_all(p)
                .await
                .unwrap(),
            Db::Postgres(p) => sqlx::query_as("SELECT stage, COUNT(*) FROM people GROUP BY stage ORDER BY stage")
                .fetch_all(p)
                .await
                .unwrap(),
        };
        let staff = app.login("staff", platform::demo::DEMO_PASSWORD).await;
        let (_, me) = app.call("GET", "/api/v1/me", None, Some(&staff)).await;
        let root = me["grants"][0]["org_id"].as_i64().unwrap();
        let (_, stats) = app.call("GET", &format!("/api/v1/orgs/{root}/stats"), None, Some(&staff)).await;
        for (stage, n) in recount {
            let got = stats["by_stage"].as_array().unwrap().iter().find(|i| i["code"] == stage.as_str()).unwrap()["n"]
                .as_i64()
                .unwrap();
            assert_eq!(got, n, "{stage} on {backend:?}");
        }
        assert_eq!(stats["total"].as_i64().unwrap() as u64, report.people);
        // Every demo account signs in, and the member reads her own record only.
        let member = app.login("member", platform::demo::DEMO_PASSWORD).await;
        let (_, me) = app.call("GET", "/api/v1/me", None, Some(&member)).await;
        let pid = me["person_id"].as_i64().unwrap();
        assert_eq!(
            app.call("GET", &format!("/api/v1/people/{pid}"), None, Some(&member)).await.0,
            axum::http::StatusCode::OK
        );
        assert_eq!(
            app.call("GET", &format!("/api/v1/people/{}", pid + 1), None, Some(&member)).await.0,
            axum::http::StatusCode::NOT_FOUND
        );
        assert!(matches!(
            security::audit::verify(&app.platform.db).await.unwrap(),
            security::audit::Verdict::Intact { .. }
        ));
        app.cleanup().await;
    }
}
