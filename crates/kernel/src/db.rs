//! The database handle. Both pools are concrete sqlx pools (the `Any` driver cannot decode dates and
//! timestamps); store functions match on the variant through [`on_db!`] and [`on_tx!`].

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Errors of the storage layer. Constraint violations are named so services can turn them into
/// field errors ("this ID number is already registered") instead of a 500.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    #[error("constraint {constraint} violated")]
    Conflict { constraint: String },
    #[error("the database is busy, try again")]
    Busy,
    #[error("database: {0}")]
    Other(#[source] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid database URL: {0}")]
    Url(String),
    /// The database cannot hold the platform's data as it is (e.g. not UTF-8); the message says how to
    /// create one that can.
    #[error("{0}")]
    Unsuitable(String),
    /// The audit log could not be written, so the action it would record was not done (security.md
    /// AT-27: fail closed). Answered 503.
    #[error("the audit log cannot be written: {0}")]
    AuditUnavailable(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(d) => {
                if d.is_unique_violation() || d.is_foreign_key_violation() || d.is_check_violation() {
                    let constraint = d.constraint().map(str::to_owned).unwrap_or_else(|| d.message().to_owned());
                    return DbError::Conflict { constraint };
                }
                // SQLITE_BUSY (5) / SQLITE_LOCKED (6); PostgreSQL serialization failure or deadlock.
                match d.code().as_deref() {
                    Some("5") | Some("6") | Some("40001") | Some("40P01") => DbError::Busy,
                    _ => DbError::Other(e),
                }
            }
            _ => DbError::Other(e),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool over one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open write transaction. On SQLite it was begun with `BEGIN IMMEDIATE` so that two writers never
/// deadlock on a lock upgrade; on PostgreSQL it is an ordinary READ COMMITTED transaction.
pub enum DbTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$p` bound to the pool of whichever backend `$db` holds.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($p) => $body,
            $crate::Db::Postgres($p) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the connection of the open transaction `$tx`.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::DbTx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::DbTx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// Refuses a PostgreSQL database that cannot store Chinese text (any encoding but UTF-8) before the
/// first migration creates anything in it, and warns about the `C` locale, in which PostgreSQL's
/// text-search and trigram functions see no words in Chinese (architecture.md §2.2).
async fn check_postgres_database(p: &sqlx::PgPool) -> Result<(), DbError> {
    const SQL: &str =
        "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database WHERE datname = current_database()";
    let (encoding, ctype): (String, String) = sqlx::query_as(SQL).fetch_one(p).await?;
    if encoding != "UTF8" {
        return Err(DbError::Unsuitable(format!(
            "the PostgreSQL database has encoding {encoding}; dangjian needs UTF8 to store Chinese text. Create \
             the database with: createdb -E UTF8 -l C.UTF-8 -T template0 NAME (docs/OPERATIONS.md, PostgreSQL)"
        )));
    }
    if ctype == "C" || ctype == "POSIX" {
        tracing::warn!(
            ctype,
            "the PostgreSQL database has the C locale: create it with -l C.UTF-8 (or zh_CN.UTF-8) so that \
             PostgreSQL's text functions see Chinese characters as letters (docs/OPERATIONS.md)"
        );
    }
    Ok(())
}

impl Db {
    /// Opens the database named by `url`, or the SQLite file `dangjian.db` under `data_dir` when `url` is
    /// `None`. SQLite gets WAL, foreign keys, a busy timeout, `synchronous=NORMAL` (durable in WAL mode
    /// across process crashes) and `secure_delete` (freed content zeroed).
    pub async fn connect(url: Option<&str>, data_dir: &Path) -> Result<Db, DbError> {
        match url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                let opts = PgConnectOptions::from_str(u).map_err(|e| DbError::Url(e.to_string()))?;
                Self::connect_postgres(opts).await
            }
            Some(u) if u.starts_with("sqlite:") => {
                let opts = SqliteConnectOptions::from_str(u).map_err(|e| DbError::Url(e.to_string()))?;
                Self::connect_sqlite(opts.create_if_missing(true)).await
            }
            Some(u) => Err(DbError::Url(format!("{u}: expected postgres://… or sqlite:…"))),
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| DbError::Url(format!("{}: {e}", data_dir.display())))?;
                let opts = SqliteConnectOptions::new().filename(data_dir.join("dangjian.db")).create_if_missing(true);
                Self::connect_sqlite(opts).await
            }
        }
    }

    pub async fn connect_sqlite(opts: SqliteConnectOptions) -> Result<Db, DbError> {
        Self::connect_sqlite_with(opts, 8, Duration::from_secs(30)).await
    }

    /// [`Db::connect_sqlite`] with a pool of `max_connections` and how long a caller waits for one. The tests
    /// use a single connection: code that holds a write transaction and then asks the pool for another
    /// connection stalls the whole database under load (the transaction keeps SQLite's write lock while it
    /// waits behind writers that wait for that lock, until their busy timeout; docs/PERFORMANCE.md "AT-35 load
    /// over HTTP"), and with one connection it cannot pass a test at all.
    pub async fn connect_sqlite_with(
        opts: SqliteConnectOptions,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Db, DbError> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-4000")
            // Deleted and overwritten content is zeroed in the file instead of lingering in free space, so an
            // erased person's data is gone from the database file itself (security.md AT-37, AT-39).
            .pragma("secure_delete", "on")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            .connect_with(opts)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    pub async fn connect_postgres(opts: PgConnectOptions) -> Result<Db, DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(Db::Postgres(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend. On PostgreSQL, when none is pending it changes
    /// nothing and needs no right to create tables: the application may then run as a role of its own
    /// that cannot alter the schema or the audit log (docs/OPERATIONS.md), with the owner migrating.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Db::Postgres(p) => {
                const APPLIED: &str = "SELECT version FROM _sqlx_migrations WHERE success";
                let applied: Vec<i64> = sqlx::query_scalar(APPLIED).fetch_all(p).await.unwrap_or_default();
                if !POSTGRES_MIGRATIONS.iter().all(|m| applied.contains(&m.version)) {
                    check_postgres_database(p).await?;
                    POSTGRES_MIGRATIONS.run(p).await?
                }
            }
        }
        Ok(())
    }

    /// Applies pending migrations up to and including `version`, no further: a restore brings an empty
    /// database to the schema its backup was taken at, loads the rows, and leaves later migrations to the
    /// next start.
    pub async fn migrate_to(&self, version: i64) -> Result<(), DbError> {
        match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run_to(version, p).await?,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run_to(version, p).await?,
        }
        Ok(())
    }

    /// Whether this build carries migration `version` for this database (a backup names the version its
    /// schema was at; a build that does not know it cannot restore it).
    pub fn knows_migration(&self, version: i64) -> bool {
        match self {
            Db::Sqlite(_) => SQLITE_MIGRATIONS.version_exists(version),
            Db::Postgres(_) => POSTGRES_MIGRATIONS.version_exists(version),
        }
    }

    /// Every migration version this build carries for this database, in order (`/readyz` checks that each
    /// one is applied; a newer instance's later migration in a rolling upgrade is not a reason to refuse).
    pub fn migration_versions(&self) -> Vec<i64> {
        let m = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        m.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect()
    }

    /// Begins a write transaction (see [`DbTx`]).
    pub async fn begin(&self) -> Result<DbTx, DbError> {
        Ok(match self {
            Db::Sqlite(p) => DbTx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => DbTx::Postgres(p.begin().await?),
        })
    }

    /// Gives PostgreSQL's planner statistics after a bulk load (a demo, a restore): autovacuum gathers them
    /// in time, but not at once, and never where it is turned off — and a planner without them picks plans
    /// for empty tables (measured: the AT-35 load on such a database, docs/PERFORMANCE.md). SQLite keeps no
    /// statistics on purpose: its statements fix their join order themselves (`CROSS JOIN`, unary `+`), and
    /// `sqlite_stat1` would move plans measured without it.
    pub async fn analyze(&self) -> Result<(), DbError> {
        if let Db::Postgres(p) = self {
            sqlx::query("ANALYZE").execute(p).await?;
        }
        Ok(())
    }

    /// Whether PostgreSQL's autovacuum is turned off (then dead rows and stale statistics pile up: `serve`
    /// warns, docs/OPERATIONS.md). Always false on SQLite.
    pub async fn autovacuum_off(&self) -> Result<bool, DbError> {
        Ok(match self {
            Db::Sqlite(_) => false,
            Db::Postgres(p) => sqlx::query_scalar::<_, String>("SHOW autovacuum").fetch_one(p).await? == "off",
        })
    }

    /// `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_db!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

impl DbTx {
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            DbTx::Sqlite(t) => t.commit().await?,
            DbTx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbTx::Sqlite(_) => Backend::Sqlite,
            DbTx::Postgres(_) => Backend::Postgres,
        }
    }
}
