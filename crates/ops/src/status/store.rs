//! The only SQL of the status page and the readiness check: sizes and counts from each database's own
//! catalogue, the applied migrations, the audit chain's length.

use kernel::{Db, DbError, on_db};

/// Bytes the database takes: SQLite's pages (the WAL aside), PostgreSQL's `pg_database_size`.
pub async fn database_bytes(db: &Db) -> Result<i64, DbError> {
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT c.page_count * s.page_size FROM pragma_page_count() c, pragma_page_size() s")
                .fetch_one(p)
                .await?
        }
        Db::Postgres(p) => sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(p).await?,
    })
}

/// The migrations applied successfully, by version.
pub async fn applied_migrations(db: &Db) -> Result<Vec<i64>, DbError> {
    const SQL: &str = "SELECT version FROM _sqlx_migrations WHERE success = $1 ORDER BY version";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).bind(true).fetch_all(p).await)?)
}

/// The audit chain's length (its last sequence number; the chain has no gaps, `audit verify` checks it).
pub async fn audit_length(db: &Db) -> Result<i64, DbError> {
    const SQL: &str = "SELECT COALESCE(MAX(seq), 0) FROM audit_log";
    Ok(on_db!(db, p => sqlx::query_scalar(SQL).fetch_one(p).await)?)
}
