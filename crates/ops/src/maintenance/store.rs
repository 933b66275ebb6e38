//! The only SQL of the maintenance switch: one row, id 1, written the first time the switch is used.

use kernel::{Db, DbError, DbTx, on_db, on_tx};
use time::OffsetDateTime;

use crate::ts::Ts;

type Row = (bool, Option<String>, OffsetDateTime, String);

/// The switch as stored; `None` before it was ever used (off).
pub async fn get(db: &Db) -> Result<Option<Row>, DbError> {
    const SQL: &str = "SELECT active, message, changed_at, changed_by FROM maintenance WHERE id = 1";
    Ok(on_db!(db, p => sqlx::query_as(SQL).fetch_optional(p).await)?)
}

pub async fn set(
    tx: &mut DbTx,
    active: bool,
    message: Option<&str>,
    at: OffsetDateTime,
    by: &str,
) -> Result<(), DbError> {
    const SQL: &str = "INSERT INTO maintenance (id, active, message, changed_at, changed_by) VALUES (1, $1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET active = excluded.active, message = excluded.message, \
         changed_at = excluded.changed_at, changed_by = excluded.changed_by";
    on_tx!(tx, c => sqlx::query(SQL).bind(active).bind(message).bind(Ts(at)).bind(by).execute(c).await.map(|_| ()))?;
    Ok(())
}
