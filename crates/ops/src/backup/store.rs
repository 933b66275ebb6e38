//! The only SQL of backup and restore, both dialects side by side.
//!
//! Backup and restore work on whatever tables the schema has, so most statements here are built from
//! the database's own catalogue: table and column names come from `sqlite_schema` / `pragma_table_info`
//! or `information_schema`, never from a user, and are always double-quoted ([`quote`]). Values are
//! bound, never spliced. Rows are read in primary-key order; PostgreSQL compares text keys with
//! `COLLATE "C"` (byte order, as SQLite does), so the same rows come out in the same order, and hash the
//! same, from either database.

use futures_util::TryStreamExt;
use kernel::{Db, DbError, DbTx};
use sqlx::{AssertSqlSafe, Postgres, QueryBuilder, Row, Sqlite};
use time::{Date, OffsetDateTime};

use super::Error;
use super::model::{Column, ForeignKey, Kind, TableInfo, Value, canonical_time};

/// A catalogue name as an SQL identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Opens a read transaction that sees one consistent snapshot while the platform keeps writing. SQLite
/// in WAL mode: a deferred transaction's first read fixes the snapshot until it ends (writers go on in the
/// WAL; only the checkpoint waits). PostgreSQL: REPEATABLE READ READ ONLY fixes it at the first query.
pub async fn begin_snapshot(db: &Db) -> Result<DbTx, DbError> {
    Ok(match db {
        Db::Sqlite(p) => DbTx::Sqlite(p.begin_with("BEGIN DEFERRED").await?),
        Db::Postgres(p) => DbTx::Postgres(p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?),
    })
}

/// Ends a read transaction (nothing to keep).
pub async fn end_snapshot(tx: DbTx) -> Result<(), DbError> {
    match tx {
        DbTx::Sqlite(t) => t.rollback().await?,
        DbTx::Postgres(t) => t.rollback().await?,
    }
    Ok(())
}

// Ordinary tables only: an FTS5 search index (the virtual table and its shadow tables, e.g. materials_fts) is
// rebuilt by its triggers as the rows are restored, like an index.
const SQLITE_TABLES: &str = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";
const PG_TABLES: &str = "SELECT table_name::text FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name";

/// Every table of the schema (SQLite's own tables aside), by name.
pub async fn table_names(tx: &mut DbTx) -> Result<Vec<String>, DbError> {
    Ok(match tx {
        DbTx::Sqlite(t) => sqlx::query_scalar(SQLITE_TABLES).fetch_all(&mut **t).await?,
        DbTx::Postgres(t) => sqlx::query_scalar(PG_TABLES).fetch_all(&mut **t).await?,
    })
}

const SQLITE_COLUMNS: &str = "SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid";
const SQLITE_FKS: &str = "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) ORDER BY id, seq";
// Generated columns (materials.search_vector, migration 0030) are left out: PostgreSQL computes them again as
// the rows are restored, like an index.
const PG_COLUMNS: &str = "SELECT column_name::text, data_type::text, \
     COALESCE(column_default LIKE 'nextval(%' OR is_identity = 'YES', FALSE) \
     FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
     AND is_generated = 'NEVER' ORDER BY ordinal_position";
const PG_PRIMARY_KEY: &str = "SELECT k.column_name::text FROM information_schema.table_constraints c \
     JOIN information_schema.key_column_usage k ON k.constraint_schema = c.constraint_schema \
      AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name \
     WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() AND c.table_name = $1 \
     ORDER BY k.ordinal_position";
const PG_FKS: &str = "SELECT c.conname::text, a.attname::text, rc.relname::text, ra.attname::text \
     FROM pg_constraint c \
     JOIN pg_class cl ON cl.oid = c.conrelid \
     JOIN pg_namespace n ON n.oid = cl.relnamespace \
     JOIN pg_class rc ON rc.oid = c.confrelid \
     CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, refnum) \
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
     JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum \
     WHERE c.contype = 'f' AND n.nspname = current_schema() AND cl.relname = $1 \
     ORDER BY c.conname, a.attnum";

/// A table's columns (with their kinds), primary key, foreign keys and sequence-filled columns. A column
/// whose type has no portable kind is refused by name.
pub async fn describe(tx: &mut DbTx, table: &str) -> Result<TableInfo, Error> {
    let unknown = |col: &str, ty: &str| {
        Error::Refused(format!("column {table}.{col} has type {ty}, which backup does not know yet"))
    };
    let mut info = TableInfo {
        name: table.to_owned(),
        columns: Vec::new(),
        primary_key: Vec::new(),
        foreign_keys: Vec::new(),
        serial: Vec::new(),
    };
    match tx {
        DbTx::Sqlite(t) => {
            let cols: Vec<(String, String, i64)> =
                sqlx::query_as(SQLITE_COLUMNS).bind(table).fetch_all(&mut **t).await.map_err(DbError::from)?;
            let mut pk: Vec<(i64, String)> = Vec::new();
            for (name, ty, pk_pos) in cols {
                let kind = Kind::from_sqlite(&ty).ok_or_else(|| unknown(&name, &ty))?;
                if pk_pos > 0 {
                    pk.push((pk_pos, name.clone()));
                }
                info.columns.push(Column { name, kind });
            }
            pk.sort();
            info.primary_key = pk.into_iter().map(|(_, n)| n).collect();
            let fks: Vec<(i64, String, String, Option<String>)> =
                sqlx::query_as(SQLITE_FKS).bind(table).fetch_all(&mut **t).await.map_err(DbError::from)?;
            for (id, ref_table, column, to) in fks {
                // A reference without a column names the referenced table's primary key.
                let ref_column = match to {
                    Some(c) => c,
                    None => {
                        let pk: Option<String> =
                            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) WHERE pk = 1")
                                .bind(&ref_table)
                                .fetch_optional(&mut **t)
                                .await
                                .map_err(DbError::from)?;
                        pk.unwrap_or_else(|| "rowid".into())
                    }
                };
                info.foreign_keys.push(ForeignKey { constraint: format!("fk{id}"), column, ref_table, ref_column });
            }
        }
        DbTx::Postgres(t) => {
            let cols: Vec<(String, String, bool)> =
                sqlx::query_as(PG_COLUMNS).bind(table).fetch_all(&mut **t).await.map_err(DbError::from)?;
            for (name, ty, serial) in cols {
                let kind = Kind::from_postgres(&ty).ok_or_else(|| unknown(&name, &ty))?;
                if serial {
                    info.serial.push(name.clone());
                }
                info.columns.push(Column { name, kind });
            }
            info.primary_key =
                sqlx::query_scalar(PG_PRIMARY_KEY).bind(table).fetch_all(&mut **t).await.map_err(DbError::from)?;
            let fks: Vec<(String, String, String, String)> =
                sqlx::query_as(PG_FKS).bind(table).fetch_all(&mut **t).await.map_err(DbError::from)?;
            for (constraint, column, ref_table, ref_column) in fks {
                info.foreign_keys.push(ForeignKey { constraint, column, ref_table, ref_column });
            }
        }
    }
    Ok(info)
}

const SCHEMA_VERSION: &str = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";

/// The latest migration applied (the caller has checked that the bookkeeping table exists).
pub async fn schema_version(tx: &mut DbTx) -> Result<Option<i64>, DbError> {
    Ok(match tx {
        DbTx::Sqlite(t) => sqlx::query_scalar(SCHEMA_VERSION).fetch_one(&mut **t).await?,
        DbTx::Postgres(t) => sqlx::query_scalar(SCHEMA_VERSION).fetch_one(&mut **t).await?,
    })
}

/// Whether a table holds any row.
pub async fn has_rows(tx: &mut DbTx, table: &str) -> Result<bool, DbError> {
    // The name comes from the catalogue and is quoted.
    let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) AS x", quote(table));
    let n: i64 = match tx {
        DbTx::Sqlite(t) => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut **t).await?,
        DbTx::Postgres(t) => sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(&mut **t).await?,
    };
    Ok(n > 0)
}

/// `SELECT` of `columns` in `order` order. PostgreSQL widens integers and floats to 8 bytes (one Rust
/// type per kind) and sorts text keys byte-wise.
fn select_sql(postgres: bool, table: &str, columns: &[Column], order: &[&Column], all_columns: bool) -> String {
    let cols: Vec<String> = columns
        .iter()
        .map(|c| match (postgres, c.kind) {
            (true, Kind::Int) => format!("CAST({} AS BIGINT)", quote(&c.name)),
            (true, Kind::Real) => format!("CAST({} AS DOUBLE PRECISION)", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let order: Vec<String> = order
        .iter()
        .map(|c| {
            let collate = if postgres && c.kind == Kind::Text { " COLLATE \"C\"" } else { "" };
            // Without a primary key NULLs may be sorted on; both databases are told where they go.
            let nulls = if all_columns { " NULLS FIRST" } else { "" };
            format!("{}{collate}{nulls}", quote(&c.name))
        })
        .collect();
    let mut sql = format!("SELECT {} FROM {}", cols.join(", "), quote(table));
    if !order.is_empty() {
        sql.push_str(" ORDER BY ");
        sql.push_str(&order.join(", "));
    }
    sql
}

/// Decodes a row by the columns' kinds (a macro, because the two drivers' rows share no trait that
/// would carry every `Decode` bound).
macro_rules! decode_row {
    ($row:expr, $columns:expr) => {{
        let mut values = Vec::with_capacity($columns.len());
        for (i, c) in $columns.iter().enumerate() {
            let v = match c.kind {
                Kind::Int => $row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
                Kind::Real => $row.try_get::<Option<f64>, _>(i)?.map(Value::Real),
                Kind::Bool => $row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
                Kind::Text => $row.try_get::<Option<String>, _>(i)?.map(Value::Text),
                Kind::Bytes => $row.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
                Kind::Date => $row.try_get::<Option<Date>, _>(i)?.map(Value::Date),
                Kind::Timestamp => {
                    $row.try_get::<Option<OffsetDateTime>, _>(i)?.map(|t| Value::Timestamp(canonical_time(t)))
                }
            };
            values.push(v.unwrap_or(Value::Null));
        }
        values
    }};
}

/// Streams every row of `table` (its `columns`, in this order) in primary-key order to `each`.
pub async fn for_each_row(
    tx: &mut DbTx,
    table: &TableInfo,
    columns: &[Column],
    mut each: impl FnMut(Vec<Value>) -> Result<(), Error>,
) -> Result<(), Error> {
    let order = table.order_by();
    let all_columns = table.primary_key.is_empty();
    match tx {
        DbTx::Sqlite(t) => {
            // Built from catalogue names, quoted (see the module comment).
            let sql = select_sql(false, &table.name, columns, &order, all_columns);
            let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut **t);
            while let Some(row) = rows.try_next().await.map_err(DbError::from)? {
                each(decode_row!(row, columns))?;
            }
        }
        DbTx::Postgres(t) => {
            let sql = select_sql(true, &table.name, columns, &order, all_columns);
            let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut **t);
            while let Some(row) = rows.try_next().await.map_err(DbError::from)? {
                each(decode_row!(row, columns))?;
            }
        }
    }
    Ok(())
}

/// Binds one value as the column's kind (a NULL is typed too, which PostgreSQL needs).
macro_rules! bind_value {
    ($b:expr, $kind:expr, $v:expr) => {
        match $v {
            Value::Int(n) => $b.push_bind(*n),
            Value::Real(f) => $b.push_bind(*f),
            Value::Bool(x) => $b.push_bind(*x),
            Value::Text(s) => $b.push_bind(s.clone()),
            Value::Bytes(x) => $b.push_bind(x.clone()),
            Value::Date(d) => $b.push_bind(*d),
            Value::Timestamp(t) => $b.push_bind(*t),
            Value::Null => match $kind {
                Kind::Int => $b.push_bind(None::<i64>),
                Kind::Real => $b.push_bind(None::<f64>),
                Kind::Bool => $b.push_bind(None::<bool>),
                Kind::Text => $b.push_bind(None::<String>),
                Kind::Bytes => $b.push_bind(None::<Vec<u8>>),
                Kind::Date => $b.push_bind(None::<Date>),
                Kind::Timestamp => $b.push_bind(None::<OffsetDateTime>),
            },
        }
    };
}

/// How many rows one INSERT carries: below SQLite's 32,766 and PostgreSQL's 65,535 bound values.
pub fn batch_rows(columns: usize) -> usize {
    (30_000 / columns.max(1)).clamp(1, 500)
}

/// Inserts `rows` (values of `columns`, in order) with one multi-row INSERT.
pub async fn insert_rows(tx: &mut DbTx, table: &str, columns: &[Column], rows: &[Vec<Value>]) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let head = format!("INSERT INTO {} ({}) ", quote(table), names.join(", "));
    match tx {
        DbTx::Sqlite(t) => {
            let mut q = QueryBuilder::<Sqlite>::new(head);
            q.push_values(rows, |mut b, row| {
                for (v, c) in row.iter().zip(columns) {
                    bind_value!(b, c.kind, v);
                }
            });
            q.build().execute(&mut **t).await.map_err(DbError::from)?;
        }
        DbTx::Postgres(t) => {
            let mut q = QueryBuilder::<Postgres>::new(head);
            q.push_values(rows, |mut b, row| {
                for (v, c) in row.iter().zip(columns) {
                    bind_value!(b, c.kind, v);
                }
            });
            q.build().execute(&mut **t).await.map_err(DbError::from)?;
        }
    }
    Ok(())
}

/// Whether a row with this key exists (`SELECT 1 FROM table WHERE key = … LIMIT 1`).
pub async fn row_exists(tx: &mut DbTx, table: &str, key: &[(Column, Value)]) -> Result<bool, Error> {
    let head = format!("SELECT 1 FROM {} WHERE ", quote(table));
    macro_rules! build {
        ($q:ident) => {{
            // Not `separated`: its push_bind would put a separator between a column and its value.
            for (i, (c, v)) in key.iter().enumerate() {
                if i > 0 {
                    $q.push(" AND ");
                }
                $q.push(format!("{} = ", quote(&c.name)));
                bind_value!($q, c.kind, v);
            }
            $q.push(" LIMIT 1");
        }};
    }
    let found = match tx {
        DbTx::Sqlite(t) => {
            let mut q = QueryBuilder::<Sqlite>::new(head);
            build!(q);
            q.build().fetch_optional(&mut **t).await.map_err(DbError::from)?.is_some()
        }
        DbTx::Postgres(t) => {
            let mut q = QueryBuilder::<Postgres>::new(head);
            build!(q);
            q.build().fetch_optional(&mut **t).await.map_err(DbError::from)?.is_some()
        }
    };
    Ok(found)
}

/// The materialised path of organization `id`, if it exists.
pub async fn org_path(tx: &mut DbTx, id: i64) -> Result<Option<String>, DbError> {
    const SQL: &str = "SELECT path FROM orgs WHERE id = $1";
    Ok(match tx {
        DbTx::Sqlite(t) => sqlx::query_scalar(SQL).bind(id).fetch_optional(&mut **t).await?,
        DbTx::Postgres(t) => sqlx::query_scalar(SQL).bind(id).fetch_optional(&mut **t).await?,
    })
}

/// `UPDATE table SET column = value WHERE key = …`: mends a reference to a row inserted later.
pub async fn set_value(
    tx: &mut DbTx,
    table: &str,
    key: &[(Column, Value)],
    column: &Column,
    value: &Value,
) -> Result<(), Error> {
    let head = format!("UPDATE {} SET {} = ", quote(table), quote(&column.name));
    macro_rules! build {
        ($q:ident) => {{
            bind_value!($q, column.kind, value);
            $q.push(" WHERE ");
            // Not `separated`: its push_bind would put a separator between a column and its value.
            for (i, (c, v)) in key.iter().enumerate() {
                if i > 0 {
                    $q.push(" AND ");
                }
                $q.push(format!("{} = ", quote(&c.name)));
                bind_value!($q, c.kind, v);
            }
        }};
    }
    match tx {
        DbTx::Sqlite(t) => {
            let mut q = QueryBuilder::<Sqlite>::new(head);
            build!(q);
            q.build().execute(&mut **t).await.map_err(DbError::from)?;
        }
        DbTx::Postgres(t) => {
            let mut q = QueryBuilder::<Postgres>::new(head);
            build!(q);
            q.build().execute(&mut **t).await.map_err(DbError::from)?;
        }
    }
    Ok(())
}

/// PostgreSQL: moves each sequence-filled column's sequence past the restored rows, so the next insert
/// does not collide with a restored id. SQLite needs nothing (a rowid key continues from the largest).
pub async fn move_sequences(tx: &mut DbTx, table: &TableInfo) -> Result<(), DbError> {
    let DbTx::Postgres(t) = tx else { return Ok(()) };
    for column in &table.serial {
        // Names from the catalogue, quoted; the table name is also passed as a bound value.
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({c}), 1), MAX({c}) IS NOT NULL) FROM {t}",
            c = quote(column),
            t = quote(&table.name)
        );
        sqlx::query(AssertSqlSafe(sql)).bind(quote(&table.name)).bind(column).execute(&mut **t).await?;
    }
    Ok(())
}
