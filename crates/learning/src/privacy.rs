//! Learning's part of a member's copy of her data (PIPL 第四十五条; platform::privacy): what she studied,
//! for how long, and when she finished.

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError, DbTx};
use platform::privacy::{Erasure, PersonData, ProviderFuture};

use crate::store;

pub struct Progress;

impl PersonData for Progress {
    fn tables(&self) -> &'static [&'static str] {
        &["learning_progress", "learning_profiles"]
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

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(tx, who, &[store::ERASE_PERSON])
    }
}

/// Her exams, classes joined, points and study days (PIPL 第四十五条): what she answered and scored, which
/// classes she joined through the page, the points she was given and whether she chose to appear on her
/// branch's board, and the seconds she studied per day.
pub struct Activity;

impl PersonData for Activity {
    fn tables(&self) -> &'static [&'static str] {
        &["exam_attempts", "party_class_attendance", "points_ledger", "points_optin", "learning_daily"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        Box::pin(async move {
            let attempts = crate::exams::store::attempts_of_person(db, person_id, 10_000).await?;
            let classes = crate::classes::store::joined_by_person(db, person_id).await?;
            let points = crate::points::store::ledger_of_person(db, person_id).await?;
            let on_board = crate::points::store::opted_in(db, person_id).await?;
            let days = store::daily_of_person(db, person_id).await?;
            Ok((
                "learning_activity",
                serde_json::json!({
                    "exam_attempts": attempts,
                    "classes_joined": classes,
                    "points": points,
                    "on_points_board": on_board,
                    "study_seconds_per_day": days,
                }),
            ))
        })
    }

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(
            tx,
            who,
            &[
                crate::exams::store::ERASE_PERSON,
                crate::classes::store::ERASE_PERSON,
                crate::points::store::ERASE_PERSON,
            ],
        )
    }
}
