//! Partial restore (security.md AT-32): one organization's records of one kind, taken from a backup back into
//! the running database, without overwriting anything newer.
//!
//! `dangjian restore FILE --only meetings --org ID [--dry-run]` reads the whole backup (checked as
//! `backup verify` checks it) and keeps the rows of `meetings` whose `org_path` lies in the organization's
//! subtree, with the rows of every table that refers to them (`meeting_attendees`). Then, in one
//! transaction of the live database:
//!
//! * a row whose primary key still exists is **left as it is** — the database's version is newer than the
//!   backup's, whatever it says;
//! * a missing row is inserted as the backup has it, with the rows that hang on it, once every row it
//!   refers to (a person, an account, the organization) exists; otherwise it is left out and the report
//!   says which reference is missing;
//! * one audit entry `backup.partial_restore` records the file, its SHA-256 and the counts.
//!
//! Only tables listed in [`PARTIAL_TABLES`] can be restored this way: records that no maintained
//! aggregate or index depends on (a restored meeting's own attendance counts, migration 0029, are recounted
//! from the attendees restored with it). People are not among them: their head counts (`org_counts`) and blind
//! index would need the platform's own service, which a later issue can offer as "re-admit from backup".

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use kernel::{Db, DbTx};
use security::KeyRing;
use security::audit::{self, Event};

use super::Error;
use super::file::{Item, Reader, Written};
use super::model::{Column, Manifest, TableInfo, Value};
use super::store;

/// The tables whose rows can be restored for one organization: each has an integer `id` primary key and
/// the organization's materialised path in `org_path`.
pub const PARTIAL_TABLES: &[&str] = &["meetings"];

/// What to restore.
#[derive(Clone, Debug)]
pub struct PartialRequest {
    /// One of [`PARTIAL_TABLES`].
    pub table: String,
    /// The organization whose subtree's rows come back.
    pub org_id: i64,
    /// Report what would happen and write nothing.
    pub dry_run: bool,
}

/// One table's part of the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PartialCounts {
    pub table: String,
    /// Rows of the subtree in the backup.
    pub in_backup: u64,
    /// Of those, rows that exist in the database and were left as they are.
    pub kept: u64,
    /// Rows inserted from the backup.
    pub restored: u64,
    /// Rows left out because something they refer to no longer exists.
    pub left_out: u64,
}

/// What a partial restore did (or, in a dry run, would do).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PartialReport {
    pub table: String,
    pub org_id: i64,
    pub org_path: String,
    pub dry_run: bool,
    pub tables: Vec<PartialCounts>,
    /// Why rows were left out: "meeting_attendees (meeting_id=12, person_id=40): people id 40 does not exist".
    pub left_out: Vec<String>,
    pub seconds: f64,
}

/// A table being collected from the backup.
struct Collected {
    info: TableInfo,
    columns: Vec<Column>,
    rows: Vec<Vec<Value>>,
    /// For a child table: the column that points at the root table.
    parent_column: Option<usize>,
}

/// Restores the rows of `req.table` in the subtree of `req.org_id` from the backup at `path` (already
/// checked by [`super::verify`], which gave `manifest` and `written`).
pub async fn restore_part(
    db: &Db,
    path: &Path,
    keys: &KeyRing,
    manifest: &Manifest,
    written: &Written,
    req: &PartialRequest,
) -> Result<PartialReport, Error> {
    let started = Instant::now();
    if !PARTIAL_TABLES.contains(&req.table.as_str()) {
        return Err(Error::Refused(format!(
            "table {} cannot be restored for one organization; these can: {}",
            req.table,
            PARTIAL_TABLES.join(", ")
        )));
    }
    let mut tx = db.begin().await?;
    let result = collect_and_insert(&mut tx, path, keys, manifest, written, req, started).await;
    match result {
        Ok(report) if !req.dry_run => {
            tx.commit().await.map_err(|e| Error::RolledBack(Box::new(e.into())))?;
            Ok(report)
        }
        // A dry run rolls back: the checks ran against the live rows, nothing stays.
        Ok(report) => Ok(report),
        Err(e @ (Error::Refused(_) | Error::Damaged(_))) => Err(e),
        Err(e) => Err(Error::RolledBack(Box::new(e))),
    }
}

async fn collect_and_insert(
    tx: &mut DbTx,
    path: &Path,
    keys: &KeyRing,
    manifest: &Manifest,
    written: &Written,
    req: &PartialRequest,
    started: Instant,
) -> Result<PartialReport, Error> {
    let names = store::table_names(tx).await?;
    let mut infos: HashMap<String, TableInfo> = HashMap::new();
    for name in &names {
        infos.insert(name.clone(), store::describe(tx, name).await?);
    }
    let root = infos
        .get(&req.table)
        .cloned()
        .ok_or_else(|| Error::Refused(format!("table {} does not exist in this database", req.table)))?;
    if root.primary_key != ["id"] || !root.columns.iter().any(|c| c.name == "org_path") {
        return Err(Error::Refused(format!("table {} has no id and org_path to restore by", req.table)));
    }
    let org_path = store::org_path(tx, req.org_id).await?.ok_or_else(|| {
        Error::Refused(format!(
            "organization {} does not exist in the database: restore the organization first",
            req.org_id
        ))
    })?;
    // Tables that refer to the root table (one column each), restored with the rows they hang on.
    let children: HashMap<String, String> = infos
        .values()
        .filter(|t| t.name != root.name)
        .filter_map(|t| {
            let fks: Vec<_> = t.foreign_keys.iter().filter(|fk| fk.ref_table == root.name).collect();
            (fks.len() == 1).then(|| (t.name.clone(), fks[0].column.clone()))
        })
        .collect();

    // One pass over the backup: it is checked to its manifest before anything is written.
    let mut reader = Reader::open(path, Some(keys))?;
    let mut collected: Vec<Collected> = Vec::new();
    let mut current: Option<Collected> = None;
    let mut root_ids: HashSet<i64> = HashSet::new();
    let mut backup_org_path: Option<String> = None;
    let mut org_cols: Option<(usize, usize)> = None;
    let mut root_path_col = None;
    let mut root_id_col = None;
    while let Some(item) = reader.next_item()? {
        match item {
            Item::Header(h) if h != manifest.header => {
                return Err(Error::Damaged("the file changed since it was verified".into()));
            }
            Item::Header(_) => {}
            Item::TableStart(start) => {
                let index = |name: &str| start.columns.iter().position(|c| c.name == name);
                if start.table == "orgs" {
                    org_cols = index("id").zip(index("path"));
                }
                let parent_column = children.get(&start.table).and_then(|c| index(c));
                let wanted = start.table == root.name || parent_column.is_some();
                if start.table == root.name {
                    root_path_col = index("org_path");
                    root_id_col = index("id");
                }
                current = match (wanted, infos.get(&start.table)) {
                    (true, Some(info)) => {
                        Some(Collected { info: info.clone(), columns: start.columns, rows: Vec::new(), parent_column })
                    }
                    (true, None) => {
                        return Err(Error::Refused(format!(
                            "table {} of the backup does not exist in this database",
                            start.table
                        )));
                    }
                    _ => None,
                };
                if start.table != "orgs" {
                    org_cols = None;
                }
            }
            Item::Row(values) => {
                if let Some((id, p)) = org_cols
                    && values.get(id) == Some(&Value::Int(req.org_id))
                    && let Some(Value::Text(path)) = values.get(p)
                {
                    backup_org_path = Some(path.clone());
                }
                let Some(c) = current.as_mut() else { continue };
                if c.info.name == root.name {
                    let in_subtree = root_path_col
                        .and_then(|i| values.get(i))
                        .is_some_and(|v| matches!(v, Value::Text(p) if p.starts_with(&org_path)));
                    if in_subtree {
                        if let Some(Value::Int(id)) = root_id_col.and_then(|i| values.get(i)) {
                            root_ids.insert(*id);
                        }
                        c.rows.push(values);
                    }
                } else if let Some(pc) = c.parent_column
                    && let Some(Value::Int(parent)) = values.get(pc)
                    && root_ids.contains(parent)
                {
                    c.rows.push(values);
                }
            }
            Item::TableEnd(_) => {
                if let Some(c) = current.take() {
                    collected.push(c);
                }
            }
            Item::Manifest(m) if &m != manifest => {
                return Err(Error::Damaged("the file changed since it was verified".into()));
            }
            Item::Manifest(_) => {}
        }
    }
    match &backup_org_path {
        Some(p) if *p == org_path => {}
        Some(p) => {
            return Err(Error::Refused(format!(
                "organization {} was at {p} when the backup was taken and is at {org_path} now: its records cannot \
                 be put back by path",
                req.org_id
            )));
        }
        None => {
            return Err(Error::Refused(format!("organization {} is not in the backup", req.org_id)));
        }
    }

    // Insert, root table first (the backup's order), each row only when it is missing and what it refers
    // to exists.
    let mut counts = Vec::new();
    let mut left_out = Vec::new();
    let mut inserted_roots: HashSet<i64> = HashSet::new();
    for c in &collected {
        let mut n = PartialCounts { table: c.info.name.clone(), in_backup: c.rows.len() as u64, ..Default::default() };
        let key_cols: Vec<(usize, Column)> = c
            .info
            .primary_key
            .iter()
            .filter_map(|k| c.columns.iter().position(|col| &col.name == k).map(|i| (i, c.columns[i].clone())))
            .collect();
        for row in &c.rows {
            if let Some(pc) = c.parent_column
                && let Some(Value::Int(parent)) = row.get(pc)
                && !inserted_roots.contains(parent)
            {
                // It hangs on a record that was kept (the database's is newer) or left out.
                n.kept += 1;
                continue;
            }
            let key: Vec<(Column, Value)> =
                key_cols.iter().map(|(i, col)| (col.clone(), row.get(*i).cloned().unwrap_or(Value::Null))).collect();
            if !key.is_empty() && store::row_exists(tx, &c.info.name, &key).await? {
                n.kept += 1;
                continue;
            }
            let mut missing = None;
            for fk in c.info.foreign_keys.iter().filter(|fk| fk.ref_table != root.name) {
                let Some(i) = c.columns.iter().position(|col| col.name == fk.column) else { continue };
                let Some(v) = row.get(i).filter(|v| **v != Value::Null) else { continue };
                let Some(ref_info) = infos.get(&fk.ref_table) else { continue };
                let Some(ref_col) = ref_info.columns.iter().find(|col| col.name == fk.ref_column) else { continue };
                if !store::row_exists(tx, &fk.ref_table, &[(ref_col.clone(), v.clone())]).await? {
                    missing = Some(format!("{} {}={} does not exist", fk.ref_table, fk.ref_column, show(v)));
                    break;
                }
            }
            if let Some(why) = missing {
                let ids: Vec<String> = key.iter().map(|(col, v)| format!("{}={}", col.name, show(v))).collect();
                left_out.push(format!("{} ({}): {why}", c.info.name, ids.join(", ")));
                n.left_out += 1;
                continue;
            }
            store::insert_rows(tx, &c.info.name, &c.columns, std::slice::from_ref(row)).await?;
            if c.info.name == root.name
                && let Some((_, Value::Int(id))) = key.first()
            {
                inserted_roots.insert(*id);
            }
            n.restored += 1;
        }
        counts.push(n);
    }
    if root.name == "meetings" && !inserted_roots.is_empty() {
        // A restored meeting's attendance counts are those of the attendees that came back with it (some may
        // have been left out), not the backup's.
        let mut ids: Vec<i64> = inserted_roots.iter().copied().collect();
        ids.sort_unstable();
        life::store::recount_attendance(tx, &ids).await?;
    }
    let report = PartialReport {
        table: req.table.clone(),
        org_id: req.org_id,
        org_path,
        dry_run: req.dry_run,
        tables: counts,
        left_out,
        seconds: started.elapsed().as_secs_f64(),
    };
    if !req.dry_run {
        let detail = serde_json::json!({
            "file": written.path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "sha256": written.sha256,
            "backup_taken_at": manifest.header.created_at,
            "table": report.table,
            "org_id": report.org_id,
            "tables": report.tables,
            "left_out": report.left_out.len(),
        });
        let event = Event {
            actor_id: None,
            actor: "system".into(),
            action: "backup.partial_restore".into(),
            target: format!("org:{}", req.org_id),
            result: "ok".into(),
            request_id: format!("cli-{}", std::process::id()),
            ip: "-".into(),
            detail: detail.to_string(),
            ..Event::default()
        };
        audit::append(tx, event).await?;
    }
    Ok(report)
}

fn show(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Text(s) => s.clone(),
        other => format!("{other:?}"),
    }
}
