//! The timestamp of the operations tables as a bind parameter.
//!
//! SQLite keeps timestamps as text and compares them as text. sqlx writes an `OffsetDateTime` as RFC 3339,
//! which leaves the fraction out on a whole second, so `…T02:30:00Z` sorts after `…T02:30:00.5Z`: a
//! schedule due at 02:30:00 would not be due until 02:30:01, and a job retried at a whole second likewise.
//! [`Ts`] gives SQLite `YYYY-MM-DD HH:MM:SS.f…` in UTC, always with at least one fractional digit, which
//! sorts as time does; PostgreSQL gets its `TIMESTAMPTZ` as usual. sqlx reads both back as UTC. (Columns
//! of other parts, written as RFC 3339 by their stores, are compared with RFC 3339 parameters instead.)

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo};
use sqlx::{Encode, Postgres, Sqlite, Type};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Ts(pub OffsetDateTime);

impl Ts {
    fn primitive(&self) -> PrimitiveDateTime {
        let u = self.0.to_offset(UtcOffset::UTC);
        PrimitiveDateTime::new(u.date(), u.time())
    }
}

impl Type<Sqlite> for Ts {
    fn type_info() -> SqliteTypeInfo {
        <PrimitiveDateTime as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <PrimitiveDateTime as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Ts {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Sqlite>::encode(self.primitive(), buf)
    }
}

impl Type<Postgres> for Ts {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Ts {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Encode::<Postgres>::encode_by_ref(&self.0, buf)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use time::macros::{datetime, format_description};

    use super::*;

    #[test]
    fn the_sqlite_text_sorts_as_time_does() {
        let f = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
        let text = |t: OffsetDateTime| Ts(t).primitive().format(&f).unwrap();
        let times = [
            datetime!(2026-05-01 02:29:59.999 UTC),
            datetime!(2026-05-01 10:30:00 +8),
            datetime!(2026-05-01 02:30:00.05 UTC),
            datetime!(2026-05-01 02:30:00.5 UTC),
            datetime!(2026-05-01 02:30:01 UTC),
        ];
        for pair in times.windows(2) {
            assert!(text(pair[0]) < text(pair[1]), "{} < {}", text(pair[0]), text(pair[1]));
        }
        assert_eq!(text(datetime!(2026-05-01 10:30:00 +8)), "2026-05-01 02:30:00.0");
    }
}
