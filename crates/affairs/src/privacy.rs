//! 党务管理's part of a member's copy of her data (PIPL 第四十五条; platform::privacy): her transfers with their
//! introduction letters, her status history, the contacts recorded while she was away and her retention as a
//! graduate; and her dues (党费).

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError, DbTx};
use platform::privacy::{Erasure, PersonData, ProviderFuture};
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

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(tx, who, &[crate::store::transfer::ERASE_PERSON])
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

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(tx, who, &[crate::store::development::ERASE_PERSON])
    }
}

/// The dues part: her fee profiles, exemptions and reductions, and her entries in the payments ledger (without
/// the ledger's HMAC, which is a check value, not information about her).
pub struct FeeRecords;

impl PersonData for FeeRecords {
    fn tables(&self) -> &'static [&'static str] {
        &["fee_profiles", "fee_reductions", "fee_payments"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        use crate::rules::fee::format_yuan;
        use crate::store::fee as store;
        Box::pin(async move {
            let ids = [person_id];
            let profiles: Vec<serde_json::Value> = store::profiles_of(db, &ids)
                .await?
                .into_iter()
                .map(|p| {
                    json!({"effective_from": p.effective_from, "category": p.category, "base": p.base_fen.map(format_yuan),
                        "base_policy": p.base_policy, "wage_policy": p.wage_policy, "farmer_amount": p.farmer_fen.map(format_yuan),
                        "note": p.note, "recorded_at": p.recorded_at.format(&time::format_description::well_known::Rfc3339).ok()})
                })
                .collect();
            let reductions: Vec<serde_json::Value> = store::reductions_of(db, &ids)
                .await?
                .into_iter()
                .map(|r| {
                    json!({"kind": r.kind, "from_month": r.from_month, "to_month": r.to_month,
                        "monthly_amount": r.monthly_fen.map(format_yuan), "reason": r.reason, "branch_decision": r.branch_decision,
                        "branch_decided_on": r.branch_decided_on, "approved_by": r.approved_by, "approved_on": r.approved_on})
                })
                .collect();
            let payments: Vec<serde_json::Value> = store::payments_of(db, &ids)
                .await?
                .into_iter()
                .map(|p| {
                    json!({"id": p.id, "kind": p.kind, "from_month": p.from_month, "to_month": p.to_month, "months": p.months,
                        "amount": format_yuan(p.amount_fen), "paid_on": p.paid_on, "method": p.method, "payment_id": p.payment_id,
                        "reverses_id": p.reverses_id, "remit_status": p.remit_status, "warning": p.warning, "note": p.note})
                })
                .collect();
            Ok(("dues", json!({"profiles": profiles, "reductions": reductions, "payments": payments})))
        })
    }

    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        platform::privacy::erase_with(tx, who, &[crate::store::fee::ERASE_PERSON])
    }
}
