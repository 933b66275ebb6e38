//! 党务管理's part of a member's copy of her data (PIPL 第四十五条; platform::privacy): her transfers with their
//! introduction letters, her status history, the contacts recorded while she was away and her retention as a
//! graduate.

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError};
use platform::privacy::PersonData;

pub struct TransferRecords;

impl PersonData for TransferRecords {
    fn tables(&self) -> &'static [&'static str] {
        &["transfers", "transfer_letters", "status_changes", "member_contacts", "graduate_retentions"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        Box::pin(
            async move { Ok(("relationship_and_status", crate::store::transfer::person_export(db, person_id).await?)) },
        )
    }
}
