//! Organizational life's part of a member's copy of her data (PIPL 第四十五条; platform::privacy): the
//! meetings she was invited to and her attendance, the notices sent to her and her receipts.

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError, DbTx};
use platform::privacy::{Erasure, PersonData, ProviderFuture};

use crate::store;

pub struct Attendance;

impl PersonData for Attendance {
    fn tables(&self) -> &'static [&'static str] {
        &["meeting_attendees", "meetings"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        Box::pin(async move {
            let rows = store::attendance_of_person(db, person_id).await?;
            Ok(("meetings_attended", serde_json::to_value(rows).unwrap_or_default()))
        })
    }

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(tx, who, &[store::ERASE_PERSON])
    }
}

/// The notices sent to her and when she confirmed reading each.
pub struct NoticeReceipts;

impl PersonData for NoticeReceipts {
    fn tables(&self) -> &'static [&'static str] {
        &["notice_recipients", "notices"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        Box::pin(async move {
            let rows = crate::notices::store::receipts_of_person(db, person_id).await?;
            Ok(("notices_received", serde_json::to_value(rows).unwrap_or_default()))
        })
    }
}
