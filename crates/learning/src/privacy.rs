//! Learning's part of a member's copy of her data (PIPL 第四十五条; platform::privacy): what she studied,
//! for how long, and when she finished.

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError};
use platform::privacy::PersonData;

use crate::store;

pub struct Progress;

impl PersonData for Progress {
    fn tables(&self) -> &'static [&'static str] {
        &["learning_progress"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        Box::pin(async move {
            let rows = store::progress_of_person(db, person_id).await?;
            Ok(("learning_records", serde_json::to_value(rows).unwrap_or_default()))
        })
    }
}
