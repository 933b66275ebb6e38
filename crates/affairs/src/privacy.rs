//! 党务管理's part of a member's copy of her data (PIPL 第四十五条; platform::privacy): her transfers with their
//! introduction letters, her status history, the contacts recorded while she was away and her retention as a
//! graduate.

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError};
use platform::privacy::PersonData;
use serde_json::json;

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

/// The development pipeline's part: the steps of her development as recorded, her next due step, and the steps
/// of others she was named responsible for (without their names).
pub struct Development;

impl PersonData for Development {
    fn tables(&self) -> &'static [&'static str] {
        &["development_steps", "development_step_people", "development_due"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        use crate::store::development as store;
        Box::pin(async move {
            let steps = store::steps_for_copy(db, person_id).await?;
            let responsible: Vec<serde_json::Value> = store::responsibilities_for_copy(db, person_id)
                .await?
                .into_iter()
                .map(|(role, step, done_on)| json!({"role": role, "step": step, "done_on": done_on}))
                .collect();
            let next = store::due_for_copy(db, person_id)
                .await?
                .map(|(step, due_on, note)| json!({"step": step, "due_on": due_on, "note": note}));
            Ok(("development", json!({"steps": steps, "next_step": next, "responsible_for": responsible})))
        })
    }
}
