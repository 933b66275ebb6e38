//! The development pipeline's SQL: its steps, the people responsible for them, the
//! maintained to-do list and the rule-version setting (migration 0011). It also reads the platform's
//! `people` (id, name, path, stage, stage dates, status — never a sealed item) and `orgs` (name), and
//! updates a person's stage and stage dates when a step changes them.

use kernel::{Db, DbError, on_db};
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// A recorded step as a member's copy of her data shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct StepCopyRow {
    pub step: String,
    pub done_on: Date,
    pub outcome: Option<String>,
    pub notes: Option<String>,
    pub reason: Option<String>,
    pub rule_set: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The steps recorded about a person, in the order they happened.
pub async fn steps_for_copy(db: &Db, person_id: i64) -> Result<Vec<StepCopyRow>, DbError> {
    const SQL: &str = "SELECT step, done_on, outcome, notes, reason, rule_set, created_at FROM development_steps \
        WHERE person_id = $1 ORDER BY done_on, id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// The steps of other people for which a person was named responsible (talker, contact, introducer):
/// `(role, step, done_on)` — the other person's name is not part of her copy.
pub async fn responsibilities_for_copy(db: &Db, person_id: i64) -> Result<Vec<(String, String, Date)>, DbError> {
    const SQL: &str = "SELECT r.role, s.step, s.done_on FROM development_step_people r JOIN development_steps s ON s.id = r.step_id \
        WHERE r.person_id = $1 ORDER BY s.done_on, s.id";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_all(p).await)?)
}

/// A person's next due step as last computed: `(step, due_on, note)`.
pub async fn due_for_copy(db: &Db, person_id: i64) -> Result<Option<(String, Date, String)>, DbError> {
    const SQL: &str = "SELECT step, due_on, note FROM development_due WHERE person_id = $1 AND step <> ''";
    Ok(on_db!(db, p => sqlx::query_as(SQL).bind(person_id).fetch_optional(p).await)?)
}

/// A deletion (AT-37) of the person `$1`: her development steps stay (membership history, domain.md ARC) with
/// their dates, votes and structured items, their free text (notes, reasons) goes; in the steps of others
/// she was responsible for, her name `$3` in the notes becomes the pseudonym `$2`.
pub const ERASE_PERSON: &[&str] = &[
    "UPDATE development_steps SET notes = NULL, reason = NULL WHERE person_id = $1",
    "UPDATE development_steps SET notes = REPLACE(notes, $3, $2), reason = REPLACE(reason, $3, $2) \
     WHERE id IN (SELECT step_id FROM development_step_people WHERE person_id = $1)",
];
