//! One function per action: [`backup`], [`verify`], [`check_keys`], [`restore`]. Each backup and each
//! restore is recorded in the audit chain (`backup.create`, `backup.restore`, actor `system`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use kernel::{Backend, Db, DbTx};
use security::audit::{self, Event};
use security::{FieldCipher, KeyRing};
use time::OffsetDateTime;

use super::file::{self, Item, Reader, Writer, Written};
use super::model::{
    AUDIT_TABLE, Column, EXCLUDED, FORMAT, FORMAT_VERSION, Header, KEY_CHECK_COLUMN, KEY_CHECK_TEXT, KeyCheck,
    MIGRATIONS_TABLE, Manifest, TableDigest, TableInfo, TableSummary, Value, empty_audit, foreign_key_order,
    format_time, write_row,
};
use super::{Error, store};

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// What a finished backup is.
#[derive(Debug)]
pub struct BackupReport {
    pub manifest: Manifest,
    pub written: Written,
    pub seconds: f64,
}

/// Writes a backup of `db` to `out` (which must not exist). The key check is computed from `keys`,
/// the key file the platform runs with; the keys themselves are never written.
pub async fn backup(db: &Db, keys: &KeyRing, out: &Path) -> Result<BackupReport, Error> {
    let started = Instant::now();
    let cipher = FieldCipher::new(keys)?;
    let mut writer = Writer::create(out, keys)?;
    let header = match snapshot(db, &cipher, keys.key_id, &mut writer).await {
        Ok(h) => h,
        Err(e) => {
            writer.abandon();
            return Err(e);
        }
    };
    let (manifest, written) = writer.finish(header)?;
    let detail = serde_json::json!({
        "file": written.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "bytes": written.bytes,
        "sha256": written.sha256,
        "schema_version": manifest.header.schema_version,
        "rows": manifest.total_rows(),
        "audit_entries": manifest.audit.entries,
        "audit_head": manifest.audit.head,
    });
    // Fail closed: a backup that cannot be recorded in the audit chain is not kept.
    if let Err(e) = audit::append_alone(db, system_event("backup.create", &written, detail)).await {
        let _ = std::fs::remove_file(&written.path);
        return Err(e.into());
    }
    Ok(BackupReport { manifest, written, seconds: started.elapsed().as_secs_f64() })
}

fn system_event(action: &str, written: &Written, detail: serde_json::Value) -> Event {
    let name = written.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Event {
        actor_id: None,
        actor: "system".into(),
        action: action.into(),
        target: format!("backup:{name}"),
        result: "ok".into(),
        request_id: format!("cli-{}", std::process::id()),
        ip: "-".into(),
        detail: detail.to_string(),
        ..Event::default()
    }
}

/// Reads one snapshot into the writer; returns the header it wrote.
async fn snapshot(db: &Db, cipher: &FieldCipher, key_id: u8, writer: &mut Writer) -> Result<Header, Error> {
    // Chosen at install time and never changed; read before the snapshot holds its connection.
    let chain_hash = security::audit::chain_hash_of(db).await?;
    let mut tx = store::begin_snapshot(db).await?;
    // The first read fixes the snapshot: the catalogue, the schema version and every row below agree.
    let names = store::table_names(&mut tx).await?;
    if !names.iter().any(|n| n == MIGRATIONS_TABLE) {
        return Err(Error::Refused(
            "the database has no dangjian schema (nothing to back up; was the right database named?)".into(),
        ));
    }
    let schema_version = store::schema_version(&mut tx)
        .await?
        .ok_or_else(|| Error::Refused("the database has no migration applied; nothing to back up".into()))?;
    let mut tables = Vec::new();
    for name in names.iter().filter(|n| *n != MIGRATIONS_TABLE && !EXCLUDED.contains(&n.as_str())) {
        tables.push(store::describe(&mut tx, name).await?);
    }
    let order = foreign_key_order(&tables).map_err(Error::Refused)?;
    let header = Header {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        dangjian_version: env!("CARGO_PKG_VERSION").into(),
        backend: backend_name(db.backend()).into(),
        schema_version,
        created_at: format_time(OffsetDateTime::now_utc()),
        keys: KeyCheck {
            key_id,
            field_check: hex::encode(cipher.encrypt(KEY_CHECK_COLUMN, KEY_CHECK_TEXT)?),
            index_check: hex::encode(cipher.blind_index(KEY_CHECK_COLUMN, KEY_CHECK_TEXT)),
        },
        excluded: EXCLUDED.iter().filter(|e| names.iter().any(|n| n == *e)).map(|e| (*e).to_owned()).collect(),
        chain_hash: match chain_hash {
            security::profile::HashAlg::Sha256 => None,
            other => Some(other.code().to_owned()),
        },
    };
    writer.header(&header)?;
    for table in order.iter().filter_map(|&i| tables.get(i)) {
        writer.begin_table(super::model::TableStart {
            table: table.name.clone(),
            columns: table.columns.clone(),
            primary_key: table.primary_key.clone(),
        })?;
        store::for_each_row(&mut tx, table, &table.columns, |values| writer.row(&values)).await?;
        writer.end_table()?;
    }
    store::end_snapshot(tx).await?;
    Ok(header)
}

/// Checks a backup file without a database: the manifest of an intact file, and the file's digest. The key
/// file opens a sealed backup (every backup since encryption; older ones need none).
pub fn verify(path: &Path, keys: Option<&KeyRing>) -> Result<(Manifest, Written), Error> {
    file::verify(path, keys)
}

/// Whether `keys` is the key file the backup was taken with. Refuses with the reason when not: a restore
/// with another key would load ID numbers and phones that nothing can decrypt, and lookups by ID number
/// would find nobody.
pub fn check_keys(check: &KeyCheck, keys: &KeyRing) -> Result<(), Error> {
    let sealed = hex::decode(&check.field_check).unwrap_or_default();
    // The check names its algorithm (the installation's profile: AES-256-GCM or SM4-GCM).
    let profile = security::cipher::profile_of(&sealed).unwrap_or_default();
    let cipher = FieldCipher::new(&keys.clone().with_profile(profile))?;
    let field_ok =
        Some(sealed).and_then(|ct| cipher.decrypt(KEY_CHECK_COLUMN, &ct).ok()).is_some_and(|pt| pt == KEY_CHECK_TEXT);
    let index_ok = hex::encode(cipher.blind_index(KEY_CHECK_COLUMN, KEY_CHECK_TEXT)) == check.index_check;
    match (field_ok, index_ok) {
        (true, true) => Ok(()),
        (false, _) => Err(Error::Refused(
            "the key file is not the one the backup was taken with: its field key cannot decrypt the backup's key \
             check. Put the key file that was in use when the backup was made in place (see docs/OPERATIONS.md)"
                .into(),
        )),
        (true, false) => Err(Error::Refused(
            "the key file's field key matches the backup but its index key does not: ID-number look-ups would fail. \
             Put the key file that was in use when the backup was made in place (see docs/OPERATIONS.md)"
                .into(),
        )),
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// The tables as read back from the restored database (equal to the manifest's).
    pub tables: Vec<TableSummary>,
    pub seconds: f64,
}

/// Loads the backup at `path` (already read through [`verify`], which gave `manifest` and `written`) into
/// `db`, which must hold no rows. One transaction: insert in foreign-key order, move PostgreSQL's
/// sequences, read everything back and compare with the manifest, append `backup.restore` to the audit
/// chain, commit. Any difference rolls everything back.
pub async fn restore(
    db: &Db,
    path: &Path,
    keys: &KeyRing,
    manifest: &Manifest,
    written: &Written,
) -> Result<RestoreReport, Error> {
    let started = Instant::now();
    let h = &manifest.header;
    if !manifest.audit.intact {
        return Err(Error::Refused(format!(
            "the backup's audit chain is broken ({}); such a backup is evidence and is not restored",
            manifest.audit.broken.as_deref().unwrap_or("unknown entry")
        )));
    }
    let mut tx = store::begin_snapshot(db).await?;
    let names = store::table_names(&mut tx).await?;
    refuse_rows(&mut tx, &names).await?;
    let current =
        if names.iter().any(|n| n == MIGRATIONS_TABLE) { store::schema_version(&mut tx).await? } else { None };
    store::end_snapshot(tx).await?;
    if let Some(v) = current.filter(|v| *v > h.schema_version) {
        return Err(Error::Refused(format!(
            "the database's schema is already at migration {v}, newer than the backup's {}: restore into a database \
             that has not been migrated (a new data dir, or a new PostgreSQL database)",
            h.schema_version
        )));
    }
    if !db.knows_migration(h.schema_version) {
        return Err(Error::Refused(format!(
            "the backup's schema is at migration {}, which this dangjian ({}) does not have; restore with dangjian {} \
             or later",
            h.schema_version,
            env!("CARGO_PKG_VERSION"),
            h.dangjian_version
        )));
    }
    db.migrate_to(h.schema_version).await?;

    let mut tx = db.begin().await?;
    // Dropping the transaction on any error rolls it back.
    match load_and_check(&mut tx, path, keys, manifest, written).await {
        Ok(tables) => {
            tx.commit().await.map_err(|e| Error::RolledBack(Box::new(e.into())))?;
            // A restored database is a bulk load: the planner needs its statistics before the first request.
            db.analyze().await?;
            Ok(RestoreReport { manifest: manifest.clone(), tables, seconds: started.elapsed().as_secs_f64() })
        }
        Err(e @ Error::Refused(_)) => Err(e),
        Err(e) => Err(Error::RolledBack(Box::new(e))),
    }
}

/// Inside the restore's transaction: check the schema, load, read back, compare, audit.
async fn load_and_check(
    tx: &mut DbTx,
    path: &Path,
    keys: &KeyRing,
    manifest: &Manifest,
    written: &Written,
) -> Result<Vec<TableSummary>, Error> {
    let h = &manifest.header;
    let names = store::table_names(tx).await?;
    // Again inside the write transaction: a server started meanwhile may have created its first account.
    refuse_rows(tx, &names).await?;
    let mut target: HashMap<String, TableInfo> = HashMap::new();
    for name in names.iter().filter(|n| *n != MIGRATIONS_TABLE) {
        target.insert(name.clone(), store::describe(tx, name).await?);
    }
    let expected: HashSet<&str> = manifest.tables.iter().map(|t| t.name.as_str()).collect();
    if let Some(extra) = target.keys().find(|n| !expected.contains(n.as_str()) && !h.excluded.contains(n)) {
        return Err(Error::Refused(format!(
            "table {extra} exists at schema version {} here but is not in the backup",
            h.schema_version
        )));
    }

    let columns = load(tx, path, keys, manifest, &target).await?;

    // Read everything back, as the backup was written, and compare.
    let mut read_back = Vec::new();
    let mut audit_head = empty_audit();
    for expected in &manifest.tables {
        let (Some(info), Some(cols)) = (target.get(&expected.name), columns.get(&expected.name)) else {
            return Err(Error::Mismatch(format!("table {} was not restored", expected.name)));
        };
        let mut digest = TableDigest::new(&expected.name, h.chain_hash());
        let mut line = Vec::new();
        store::for_each_row(tx, info, cols, |values| {
            line.clear();
            write_row(&mut line, &values).map_err(Error::Mismatch)?;
            digest.add(&line, cols, &values).map_err(Error::Mismatch)
        })
        .await?;
        let (summary, audit) = digest.finish(&expected.name);
        if &summary != expected {
            return Err(Error::Mismatch(format!(
                "table {}: {} rows with checksum {} read back, the backup has {} rows with {}",
                summary.name, summary.rows, summary.sha256, expected.rows, expected.sha256
            )));
        }
        if let Some(a) = audit {
            audit_head = a;
        }
        read_back.push(summary);
    }
    if audit_head != manifest.audit {
        return Err(Error::Mismatch(format!(
            "the restored audit chain ({} entries, head {}, {}) is not the backup's ({} entries, head {})",
            audit_head.entries,
            audit_head.head,
            if audit_head.intact { "intact" } else { "broken" },
            manifest.audit.entries,
            manifest.audit.head
        )));
    }

    let detail = serde_json::json!({
        "file": written.path.file_name().map(|n| n.to_string_lossy().into_owned()),
        "sha256": written.sha256,
        "created_at": h.created_at,
        "from_backend": h.backend,
        "schema_version": h.schema_version,
        "rows": manifest.total_rows(),
        "audit_head": manifest.audit.head,
    });
    audit::append(tx, system_event("backup.restore", written, detail)).await?;
    Ok(read_back)
}

async fn refuse_rows(tx: &mut DbTx, names: &[String]) -> Result<(), Error> {
    let mut holding = Vec::new();
    for name in names.iter().filter(|n| *n != MIGRATIONS_TABLE) {
        if store::has_rows(tx, name).await? {
            holding.push(name.as_str());
        }
    }
    if holding.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the database is not empty (rows in {}): a restore goes only into an empty database — a new data dir, or a \
         new PostgreSQL database. Nothing was changed",
        holding.join(", ")
    )))
}

/// A reference of a table to itself (`orgs.parent_id`): a row may point to a row that comes later in key
/// order. Such a cell is inserted as NULL and set once the whole table is in.
struct SelfRef {
    column: usize,
    ref_column: usize,
}

/// The table being loaded: its description here, its columns as the backup has them, its references to
/// itself, and where its primary key sits among the backup's columns.
struct Loading<'a> {
    info: &'a TableInfo,
    cols: Vec<Column>,
    selfs: Vec<SelfRef>,
    key: Vec<usize>,
}

fn key_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write_row(&mut out, std::slice::from_ref(v));
    out
}

/// Streams the file into the open transaction; returns each table's columns as the backup has them.
async fn load(
    tx: &mut DbTx,
    path: &Path,
    keys: &KeyRing,
    manifest: &Manifest,
    target: &HashMap<String, TableInfo>,
) -> Result<HashMap<String, Vec<Column>>, Error> {
    let mut reader = Reader::open(path, Some(keys))?;
    let mut columns: HashMap<String, Vec<Column>> = HashMap::new();
    let mut current: Option<Loading> = None;
    let mut batch: Vec<Vec<Value>> = Vec::new();
    let mut seen: Vec<HashSet<Vec<u8>>> = Vec::new();
    let mut mends: Vec<(Vec<Value>, usize, Value)> = Vec::new();
    while let Some(item) = reader.next_item()? {
        match item {
            Item::Header(h) => {
                if h != manifest.header {
                    return Err(Error::Damaged("the file changed since it was verified".into()));
                }
            }
            Item::TableStart(start) => {
                let info = target.get(&start.table).ok_or_else(|| {
                    Error::Refused(format!("table {} of the backup does not exist in this schema", start.table))
                })?;
                let mut mine: Vec<&Column> = info.columns.iter().collect();
                let mut theirs: Vec<&Column> = start.columns.iter().collect();
                mine.sort_by(|a, b| a.name.cmp(&b.name));
                theirs.sort_by(|a, b| a.name.cmp(&b.name));
                if mine != theirs {
                    return Err(Error::Refused(format!(
                        "table {}: the backup's columns differ from this schema's at the same version",
                        start.table
                    )));
                }
                for fk in info.foreign_keys.iter().filter(|fk| fk.ref_table != info.name) {
                    if !columns.contains_key(&fk.ref_table) {
                        return Err(Error::Refused(format!(
                            "table {} refers to {}, which the backup does not load before it",
                            info.name, fk.ref_table
                        )));
                    }
                }
                let index = |name: &str| start.columns.iter().position(|c| c.name == name);
                let mut selfs = Vec::new();
                for fk in info.foreign_keys.iter().filter(|fk| fk.ref_table == info.name) {
                    let same_constraint = info.foreign_keys.iter().filter(|o| o.constraint == fk.constraint).count();
                    match (index(&fk.column), index(&fk.ref_column), same_constraint) {
                        (Some(column), Some(ref_column), 1) => selfs.push(SelfRef { column, ref_column }),
                        _ => {
                            return Err(Error::Refused(format!(
                                "table {}: a multi-column reference to itself cannot be restored yet",
                                info.name
                            )));
                        }
                    }
                }
                let key: Vec<usize> = info.primary_key.iter().filter_map(|k| index(k)).collect();
                if !selfs.is_empty() && (key.is_empty() || key.len() != info.primary_key.len()) {
                    return Err(Error::Refused(format!(
                        "table {} refers to itself but has no primary key to mend references by",
                        info.name
                    )));
                }
                seen = selfs.iter().map(|_| HashSet::new()).collect();
                mends.clear();
                current = Some(Loading { info, cols: start.columns, selfs, key });
            }
            Item::Row(mut values) => {
                let Some(Loading { info, cols, selfs, key }) = &current else {
                    return Err(Error::Damaged("a row outside a table".into()));
                };
                for (s, seen) in selfs.iter().zip(seen.iter()) {
                    let Some(v) = values.get(s.column) else { continue };
                    if *v != Value::Null && !seen.contains(&key_bytes(v)) {
                        let k: Vec<Value> = key.iter().filter_map(|&i| values.get(i).cloned()).collect();
                        mends.push((k, s.column, v.clone()));
                        if let Some(cell) = values.get_mut(s.column) {
                            *cell = Value::Null;
                        }
                    }
                }
                for (s, seen) in selfs.iter().zip(seen.iter_mut()) {
                    if let Some(v) = values.get(s.ref_column) {
                        seen.insert(key_bytes(v));
                    }
                }
                batch.push(values);
                if batch.len() >= store::batch_rows(cols.len()) {
                    store::insert_rows(tx, &info.name, cols, &batch).await?;
                    batch.clear();
                }
            }
            Item::TableEnd(_) => {
                let Some(Loading { info, cols, key, .. }) = current.take() else {
                    return Err(Error::Damaged("the end of a table that was not begun".into()));
                };
                store::insert_rows(tx, &info.name, &cols, &batch).await?;
                batch.clear();
                let key_cols: Vec<Column> = key.iter().filter_map(|&i| cols.get(i).cloned()).collect();
                for (k, column, value) in mends.drain(..) {
                    let pairs: Vec<(Column, Value)> = key_cols.iter().cloned().zip(k).collect();
                    if let Some(c) = cols.get(column) {
                        store::set_value(tx, &info.name, &pairs, c, &value).await?;
                    }
                }
                store::move_sequences(tx, info).await?;
                columns.insert(info.name.clone(), cols);
            }
            Item::Manifest(m) => {
                if &m != manifest {
                    return Err(Error::Damaged("the file changed since it was verified".into()));
                }
            }
        }
    }
    // The audit table must be loaded for the chain to be compared, even when it came out empty.
    if !columns.contains_key(AUDIT_TABLE) && manifest.tables.iter().any(|t| t.name == AUDIT_TABLE) {
        return Err(Error::Mismatch("the audit table was not restored".into()));
    }
    Ok(columns)
}
