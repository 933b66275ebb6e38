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

    /// Her receipts stay (the counts of a notice), keyed by the pseudonymised person; a notice sent to her that
    /// names her gets the pseudonym instead, its search words made again and the old ones purged.
    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        use crate::notices::store;
        Box::pin(async move {
            let naming = store::notices_naming(tx, who.person_id, &who.name).await?;
            for (id, title, body) in &naming {
                let (title, body) = (title.replace(&who.name, &who.pseudonym), body.replace(&who.name, &who.pseudonym));
                let tokens = platform::search::index_text(&title, &[], &platform::richtext::html_to_text(&body));
                store::rewrite_text(tx, *id, &title, &body, &tokens).await?;
            }
            if !naming.is_empty() {
                store::purge_index(tx).await?;
            }
            Ok(naming.len() as u64)
        })
    }
}

/// Her member-service requests, the certificates issued to her, her volunteer hours and her calendar feed.
pub struct MemberServices;

impl PersonData for MemberServices {
    fn tables(&self) -> &'static [&'static str] {
        &["service_requests", "service_request_events", "certificates", "volunteer_hours", "calendar_feeds"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        use crate::services::store;
        Box::pin(async move {
            let requests = store::requests_for_copy(db, person_id).await?;
            let certificates = store::certificates_for_copy(db, person_id).await?;
            let feed = store::feed_created(db, person_id).await?;
            let hours = store::volunteer_for_copy(db, person_id).await?;
            let section = serde_json::json!({
                "requests": requests,
                "certificates": certificates,
                "volunteer_hours": hours,
                // Only that a feed exists and since when: the token itself is kept as a hash and shown once.
                "calendar_feed_since": feed,
            });
            Ok(("member_services", section))
        })
    }

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(tx, who, &[crate::services::store::ERASE_PERSON])
    }
}

/// The committee terms she served on (with her post) and the elections she stood in (with her votes).
pub struct CommitteeRecords;

impl PersonData for CommitteeRecords {
    fn tables(&self) -> &'static [&'static str] {
        &["committee_members", "election_candidates"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        use crate::committees::store;
        Box::pin(async move {
            let served = store::terms_of_person(db, person_id).await?;
            let stood = store::elections_of_person(db, person_id).await?;
            Ok(("committees", serde_json::json!({"terms_served": served, "elections_stood": stood})))
        })
    }

    /// The records of an office held and of an election's count stay (the organization's history, like the
    /// fee ledger): they hold nothing but the person's id, a post and a number of votes, and the platform's
    /// erasure pseudonymises the person they point to.
    fn erase<'a>(&'a self, _tx: &'a mut DbTx, _who: &'a Erasure) -> ProviderFuture<'a, u64> {
        Box::pin(async move { Ok(0) })
    }
}
