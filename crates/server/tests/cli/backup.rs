//! Backup and restore as an operator runs them (docs/OPERATIONS.md): on SQLite and on PostgreSQL, across
//! the two (the upgrade path), refusing a damaged file, a wrong or missing key file and a non-empty
//! database without changing anything, and a backup taken while the server is writing.
//!
//! PostgreSQL at DJ_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) is required; each test
//! makes its own database and drops it afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use kernel::{Db, on_db};
use security::{FieldCipher, KeyRing};
use sqlx::AssertSqlSafe;

use super::{temp_dir, tokio_runtime};

/// Runs `dangjian` on `dir` (and on the PostgreSQL database `url`, when given).
pub(super) fn dj(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.args(args).arg("--data-dir").arg(dir).env_remove("DANGJIAN_DATABASE_URL").env("DANGJIAN_LOG", "warn");
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.output().unwrap()
}

pub(super) fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "expected success\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The command failed; returns its error output.
pub(super) fn refused(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a refusal\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The per-table lines of a printed manifest: name → (rows, sha256).
fn tables(printed: &str) -> BTreeMap<String, (u64, String)> {
    printed
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                [name, rows, "rows", "sha256", sha] => {
                    Some(((*name).to_owned(), (rows.parse().ok()?, (*sha).to_owned())))
                }
                _ => None,
            }
        })
        .collect()
}

fn pg_url() -> String {
    std::env::var("DJ_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A PostgreSQL database of its own, dropped when the test ends (also when it fails).
pub(super) struct PgDb {
    name: String,
    pub(super) url: String,
}

async fn admin_exec(sql: String) {
    let admin = Db::connect(Some(&pg_url()), Path::new("."))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for the test suite: {e}", pg_url()));
    on_db!(&admin, p => sqlx::query(AssertSqlSafe(sql)).execute(p).await.map(|_| ())).unwrap();
    admin.close().await;
}

impl PgDb {
    pub(super) fn new() -> PgDb {
        Self::create("")
    }

    /// A database of another encoding (the C locale, which every encoding accepts).
    pub(super) fn with_encoding(encoding: &str) -> PgDb {
        Self::create(&format!(" ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"))
    }

    fn create(options: &str) -> PgDb {
        let name = format!("dj_cli_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        tokio_runtime().block_on(admin_exec(format!("CREATE DATABASE {name}{options}")));
        let base = pg_url();
        let root = base.rsplit_once('/').map(|(r, _)| r.to_owned()).unwrap_or(base);
        PgDb { url: format!("{root}/{name}"), name }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        tokio_runtime().block_on(admin_exec(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
    }
}

/// Row counts of every platform table, and the first person's ID number decrypted with the data dir's
/// key file (through the same field cipher the platform uses).
fn inspect(dir: &Path, url: Option<&str>) -> (BTreeMap<&'static str, i64>, String) {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let mut counts = BTreeMap::new();
        for t in ["orgs", "people", "org_counts", "users", "grants", "audit_log", "sessions"] {
            let n: i64 = on_db!(&db, p => sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                .fetch_one(p)
                .await)
            .unwrap();
            counts.insert(t, n);
        }
        let sealed: Vec<u8> = on_db!(&db, p => sqlx::query_scalar(
            "SELECT id_number_enc FROM people ORDER BY id LIMIT 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        db.close().await;
        let keys = KeyRing::load_or_create(&KeyRing::default_path(dir)).unwrap();
        let id_number = FieldCipher::new(&keys).unwrap().decrypt("people.id_number", &sealed).unwrap();
        (counts, id_number)
    })
}

pub(super) fn copy_key(from: &Path, to: &Path) {
    let dest = KeyRing::default_path(to);
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(KeyRing::default_path(from), dest).unwrap();
}

fn last_action(dir: &Path, url: Option<&str>) -> String {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let a: String = on_db!(&db, p => sqlx::query_scalar("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_one(p)
            .await)
        .unwrap();
        db.close().await;
        a
    })
}

pub(super) fn demo(dir: &Path, url: Option<&str>) {
    ok(&dj(dir, url, &["demo", "--scale", "small", "--seed", "5"]));
}

#[test]
fn sqlite_backup_restores_into_an_empty_data_dir_and_refuses_what_it_must() {
    use std::io::Read;
    let root = temp_dir("backup-sqlite");
    let (a, b) = (root.join("a"), root.join("b"));
    demo(&a, None);
    let (source_counts, source_id) = inspect(&a, None);
    let file = root.join("a.jsonl.gz");
    let f = file.to_str().unwrap();

    let written = ok(&dj(&a, None, &["backup", "--out", f]));
    assert!(written.contains("密钥文件不在备份中"), "the operator is told to keep the key apart: {written}");
    assert_eq!(last_action(&a, None), "backup.create", "the backup is audited");
    let verified = ok(&dj(&a, None, &["backup", "verify", f]));
    assert_eq!(tables(&written), tables(&verified));
    // The file is sealed with the data key: nothing of it is readable, and without the key file even
    // verify cannot open it.
    let raw = std::fs::read(&file).unwrap();
    assert!(raw.starts_with(b"DJBACKUP"), "sealed, not plain gzip");
    assert!(flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut Vec::new()).is_err());
    let err = refused(&dj(&root, None, &["backup", "verify", f]));
    assert!(err.contains("encrypted with the data key"), "{err}");
    assert!(!tables(&verified).contains_key("sessions"), "sessions are deliberately left out");
    assert!(!tables(&verified).contains_key("login_challenges"));
    assert!(tables(&verified).contains_key("mfa_totp"), "authenticators are kept");
    assert!(tables(&verified).contains_key("people"));
    // An existing file is never overwritten.
    refused(&dj(&a, None, &["backup", "--out", f]));

    // No key file in the new data dir: refused before any database is made.
    let err = refused(&dj(&b, None, &["restore", f]));
    assert!(err.contains("key file") && err.contains("not found"), "{err}");
    assert!(!b.join("dangjian.db").exists());
    // Another key file: refused.
    let other = root.join("other");
    ok(&dj(&other, None, &["migrate"]));
    copy_key(&other, &b);
    let err = refused(&dj(&b, None, &["restore", f]));
    assert!(err.contains("cannot be decrypted with this key file"), "{err}");
    let err = refused(&dj(&other, None, &["backup", "verify", f]));
    assert!(err.contains("cannot be decrypted with this key file"), "{err}");
    assert!(!b.join("dangjian.db").exists());

    copy_key(&a, &b);
    let restored = ok(&dj(&b, None, &["restore", f]));
    assert!(restored.contains("restore complete and verified"), "{restored}");
    let (counts, id) = inspect(&b, None);
    let mut expected = source_counts.clone();
    expected.insert("sessions", 0);
    // The audit log of the copy: the snapshot's entries and the restore's own.
    *expected.get_mut("audit_log").unwrap() += 1;
    assert_eq!(counts, expected, "same rows in every table");
    assert_eq!(id, source_id, "an encrypted ID number decrypts with the kept key file");
    assert_eq!(id.len(), 18);
    assert_eq!(last_action(&b, None), "backup.restore", "the restore is audited");
    assert!(ok(&dj(&b, None, &["audit", "verify"])).contains("intact"));

    // Into a database that holds rows: refused, nothing changed.
    let err = refused(&dj(&b, None, &["restore", f]));
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(inspect(&b, None).0, counts);

    // A flipped byte or a cut-short file: refused by verify and by restore, nothing written.
    let bytes = std::fs::read(&file).unwrap();
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x20;
    let bad = root.join("flipped.jsonl.gz");
    std::fs::write(&bad, &flipped).unwrap();
    let err = refused(&dj(&a, None, &["backup", "verify", bad.to_str().unwrap()]));
    assert!(err.contains("damaged") && err.contains("edited"), "{err}");
    let short = root.join("short.jsonl.gz");
    std::fs::write(&short, &bytes[..bytes.len() - 40]).unwrap();
    let err = refused(&dj(&a, None, &["backup", "verify", short.to_str().unwrap()]));
    assert!(err.contains("cut short"), "{err}");
    let c = root.join("c");
    copy_key(&a, &c);
    for damaged in [&bad, &short] {
        let err = refused(&dj(&c, None, &["restore", damaged.to_str().unwrap()]));
        assert!(err.contains("damaged"), "{err}");
    }
    assert!(!c.join("dangjian.db").exists(), "a damaged file is refused before any database is touched");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_row_changed_in_the_file_is_found_even_when_resealed_with_the_key() {
    use std::io::{Read, Write};
    let root = temp_dir("backup-edit");
    let a = root.join("a");
    demo(&a, None);
    let file = root.join("a.jsonl.gz");
    ok(&dj(&a, None, &["backup", "--out", file.to_str().unwrap()]));
    // Someone who holds the key file opens the backup, edits a person's ethnicity, and packs and seals it
    // again (valid encryption, valid gzip, valid JSON).
    let keys = KeyRing::load_or_create(&KeyRing::default_path(&a)).unwrap();
    let compressed = ops::backup::file::unseal(&file, &keys).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..]).read_to_string(&mut text).unwrap();
    let edited = text.replacen("\"汉族\"", "\"回族\"", 1);
    assert_ne!(text, edited);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(edited.as_bytes()).unwrap();
    let bad = root.join("edited.jsonl.gz");
    ops::backup::file::seal(&bad, &keys, &enc.finish().unwrap()).unwrap();
    let err = refused(&dj(&a, None, &["backup", "verify", bad.to_str().unwrap()]));
    assert!(err.contains("table people"), "the damaged table is named: {err}");

    // A backup written before encryption existed (plain gzip) is still read, with or without a key file.
    let legacy = root.join("legacy.jsonl.gz");
    std::fs::write(&legacy, &compressed).unwrap();
    let verified = ok(&dj(&root, None, &["backup", "verify", legacy.to_str().unwrap()]));
    assert!(verified.contains("backup intact"), "{verified}");
    let b = root.join("b");
    copy_key(&a, &b);
    let restored = ok(&dj(&b, None, &["restore", legacy.to_str().unwrap()]));
    assert!(restored.contains("restore complete and verified"), "{restored}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_sqlite_backup_restores_into_postgresql_and_back() {
    let root = temp_dir("backup-cross");
    let (a, p, d) = (root.join("a"), root.join("p"), root.join("d"));
    let pg = PgDb::new();
    demo(&a, None);
    let (source_counts, source_id) = inspect(&a, None);
    let file = root.join("a.jsonl.gz");
    let from_sqlite = ok(&dj(&a, None, &["backup", "--out", file.to_str().unwrap()]));

    copy_key(&a, &p);
    ok(&dj(&p, Some(&pg.url), &["restore", file.to_str().unwrap()]));
    let (counts, id) = inspect(&p, Some(&pg.url));
    let mut expected = source_counts.clone();
    expected.insert("sessions", 0);
    *expected.get_mut("audit_log").unwrap() += 1; // backup.restore
    assert_eq!(counts, expected);
    assert_eq!(id, source_id);
    assert!(ok(&dj(&p, Some(&pg.url), &["audit", "verify"])).contains("intact"));
    // The sequences moved past the restored ids, so the next row gets a fresh id.
    let next_is_fresh: bool = tokio_runtime().block_on(async {
        let db = Db::connect(Some(&pg.url), &p).await.unwrap();
        let fresh = on_db!(&db, pool => sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('people', 'id')) > (SELECT MAX(id) FROM people)"
        )
        .fetch_one(pool)
        .await)
        .unwrap();
        db.close().await;
        fresh
    });
    assert!(next_is_fresh);

    // Back again: PostgreSQL → SQLite. Every table but the audit log (one entry longer: the restore) has
    // the same checksum, computed from rows read out of two different databases.
    let back = root.join("p.jsonl.gz");
    let from_pg = ok(&dj(&p, Some(&pg.url), &["backup", "--out", back.to_str().unwrap()]));
    assert!(from_pg.contains("from postgres"));
    let (s, g) = (tables(&from_sqlite), tables(&from_pg));
    assert_eq!(s.keys().collect::<Vec<_>>(), g.keys().collect::<Vec<_>>());
    for (name, sum) in &s {
        if name != "audit_log" {
            assert_eq!(Some(sum), g.get(name), "table {name} is the same on both databases");
        }
    }
    assert_eq!(g["audit_log"].0, s["audit_log"].0 + 1);
    copy_key(&a, &d);
    ok(&dj(&d, None, &["restore", back.to_str().unwrap()]));
    assert_eq!(inspect(&d, None).1, source_id);
    assert!(ok(&dj(&d, None, &["audit", "verify"])).contains("intact"));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_postgresql_backup_restores_into_an_empty_postgresql_database_only() {
    let root = temp_dir("backup-pg");
    let (p1, p2) = (root.join("p1"), root.join("p2"));
    let (db1, db2) = (PgDb::new(), PgDb::new());
    demo(&p1, Some(&db1.url));
    let (source_counts, source_id) = inspect(&p1, Some(&db1.url));
    let file = root.join("p1.jsonl.gz");
    ok(&dj(&p1, Some(&db1.url), &["backup", "--out", file.to_str().unwrap()]));

    // The source itself is not empty: refused, nothing changed.
    let err = refused(&dj(&p1, Some(&db1.url), &["restore", file.to_str().unwrap()]));
    assert!(err.contains("not empty"), "{err}");
    let mut after = source_counts.clone();
    *after.get_mut("audit_log").unwrap() += 1; // the backup.create entry
    assert_eq!(inspect(&p1, Some(&db1.url)).0, after);

    copy_key(&p1, &p2);
    ok(&dj(&p2, Some(&db2.url), &["restore", file.to_str().unwrap()]));
    let (counts, id) = inspect(&p2, Some(&db2.url));
    assert_eq!(counts["people"], source_counts["people"]);
    assert_eq!(counts["audit_log"], source_counts["audit_log"] + 1);
    assert_eq!(id, source_id);
    assert!(ok(&dj(&p2, Some(&db2.url), &["audit", "verify"])).contains("intact"));
    let _ = std::fs::remove_dir_all(&root);
}

/// Starts `dangjian serve` on `dir`; returns the child and its port once it answers.
fn serve(dir: &Path) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .env_remove("DANGJIAN_DATABASE_URL")
        .env("DANGJIAN_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, port);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

/// One failed sign-in: an audit entry written by the server.
fn failed_login(port: u16, n: u32) {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return };
    let body = format!("{{\"username\":\"nobody{n}\",\"password\":\"wrong\"}}");
    let req = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(req.as_bytes());
    let _ = s.read_to_end(&mut Vec::new());
}

#[test]
fn a_backup_taken_while_the_server_writes_is_consistent() {
    let root = temp_dir("backup-online");
    let (a, b) = (root.join("a"), root.join("b"));
    demo(&a, None);
    let (mut server, port) = serve(&a);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            // Bounded: at most 2,000 requests or until told to stop.
            while !stop.load(Ordering::Relaxed) && n < 2000 {
                failed_login(port, n);
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let files: Vec<PathBuf> = (0..2).map(|i| root.join(format!("online-{i}.jsonl.gz"))).collect();
    let mut entries = Vec::new();
    for f in &files {
        let out = ok(&dj(&a, None, &["backup", "--out", f.to_str().unwrap()]));
        entries.push(tables(&out)["audit_log"].0);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    assert!(written > 0, "the server was written to during the backups");
    // Beyond the first backup's own backup.create entry, the second snapshot saw the server's writes.
    assert!(entries[1] > entries[0] + 1, "{entries:?}");
    for f in &files {
        ok(&dj(&a, None, &["backup", "verify", f.to_str().unwrap()]));
    }
    copy_key(&a, &b);
    let restored = ok(&dj(&b, None, &["restore", files[1].to_str().unwrap()]));
    assert!(restored.contains("restore complete and verified"), "{restored}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_restore_that_fails_half_way_leaves_no_row_behind() {
    use ops::backup::file::{Item, Reader, Writer};
    use ops::backup::model::Value;
    let root = temp_dir("backup-halfway");
    let (a, b) = (root.join("a"), root.join("b"));
    let pg = PgDb::new();
    demo(&a, None);
    let file = root.join("a.jsonl.gz");
    ok(&dj(&a, None, &["backup", "--out", file.to_str().unwrap()]));

    // A well-formed backup (every checksum recomputed) whose second person repeats the first one's ID
    // number index: the database refuses it part-way through the people table.
    let forged = root.join("forged.jsonl.gz");
    let keys = KeyRing::load_or_create(&KeyRing::default_path(&a)).unwrap();
    let mut reader = Reader::open(&file, Some(&keys)).unwrap();
    let mut writer = Writer::create(&forged, &keys).unwrap();
    let (mut header, mut first_bidx, mut bidx_at) = (None, None, None);
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Header(h) => {
                writer.header(&h).unwrap();
                header = Some(h);
            }
            Item::TableStart(start) => {
                bidx_at = (start.table == "people")
                    .then(|| start.columns.iter().position(|c| c.name == "id_number_bidx"))
                    .flatten();
                writer.begin_table(start).unwrap();
            }
            Item::Row(mut values) => {
                if let Some(i) = bidx_at {
                    match &first_bidx {
                        None => first_bidx = Some(values[i].clone()),
                        Some(v) if matches!(v, Value::Bytes(_)) => {
                            values[i] = v.clone();
                            bidx_at = None;
                        }
                        Some(_) => {}
                    }
                }
                writer.row(&values).unwrap();
            }
            Item::TableEnd(_) => {
                writer.end_table().unwrap();
            }
            Item::Manifest(_) => {}
        }
    }
    writer.finish(header.unwrap()).unwrap();
    ok(&dj(&a, None, &["backup", "verify", forged.to_str().unwrap()]));

    copy_key(&a, &b);
    for url in [None, Some(pg.url.as_str())] {
        let err = refused(&dj(&b, url, &["restore", forged.to_str().unwrap()]));
        assert!(err.contains("id_number") && err.contains("rolled back"), "{err}");
        let (counts, _) = tokio_runtime().block_on(async {
            let db = Db::connect(url, &b).await.unwrap();
            let mut counts = BTreeMap::new();
            for t in ["orgs", "people", "org_counts", "users", "grants", "audit_log"] {
                let n: i64 = on_db!(&db, p => sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                        .fetch_one(p)
                        .await)
                .unwrap();
                counts.insert(t, n);
            }
            db.close().await;
            (counts, ())
        });
        assert!(counts.values().all(|n| *n == 0), "nothing was written: {counts:?}");
        // The empty, migrated schema left behind takes the good backup.
        ok(&dj(&b, url, &["restore", file.to_str().unwrap()]));
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Runs `sql` on the data dir's database and returns the first column of every row as text.
fn query_texts(dir: &Path, url: Option<&str>, sql: &str) -> Vec<String> {
    let sql = sql.to_owned();
    tokio_runtime().block_on(async move {
        let db = Db::connect(url, dir).await.unwrap();
        let rows: Vec<String> =
            on_db!(&db, p => sqlx::query_scalar(AssertSqlSafe(sql.clone())).fetch_all(p).await).unwrap();
        db.close().await;
        rows
    })
}

fn exec(dir: &Path, url: Option<&str>, sql: &str) {
    let sql = sql.to_owned();
    tokio_runtime().block_on(async move {
        let db = Db::connect(url, dir).await.unwrap();
        on_db!(&db, p => sqlx::query(AssertSqlSafe(sql.clone())).execute(p).await.map(|_| ())).unwrap();
        db.close().await;
    })
}

#[test]
fn one_branchs_deleted_meetings_come_back_from_a_backup_without_touching_newer_data() {
    // security.md AT-32, on both databases.
    let pg = PgDb::new();
    for url in [None, Some(pg.url.as_str())] {
        let root = temp_dir("backup-partial");
        let a = root.join("a");
        demo(&a, url);
        let file = root.join("a.jsonl.gz");
        ok(&dj(&a, url, &["backup", "--out", file.to_str().unwrap()]));
        // The branch with the most meetings, and one meeting of another branch.
        let branch = &query_texts(
            &a,
            url,
            "SELECT CAST(org_id AS TEXT) FROM meetings GROUP BY org_id ORDER BY COUNT(*) DESC, org_id LIMIT 1",
        )[0];
        let count = |sql: &str| query_texts(&a, url, &format!("SELECT CAST(COUNT(*) AS TEXT) {sql}"))[0].clone();
        let meetings_of = format!("FROM meetings WHERE org_id = {branch}");
        let attendees_of = format!("FROM meeting_attendees WHERE meeting_id IN (SELECT id {meetings_of})");
        let (all_meetings, branch_meetings, branch_attendees) =
            (count("FROM meetings"), count(&meetings_of), count(&attendees_of));
        assert!(branch_meetings.parse::<i64>().unwrap() > 3, "{branch_meetings}");
        let kept_id = &query_texts(&a, url, &format!("SELECT CAST(MAX(id) AS TEXT) {meetings_of}"))[0];

        // An accident: the branch's meetings are deleted, all but the newest, which is edited afterwards.
        exec(
            &a,
            url,
            &format!("DELETE FROM meeting_attendees WHERE meeting_id IN (SELECT id {meetings_of} AND id <> {kept_id})"),
        );
        exec(&a, url, &format!("DELETE {meetings_of} AND id <> {kept_id}"));
        exec(&a, url, &format!("UPDATE meetings SET title = '改过的标题' WHERE id = {kept_id}"));
        assert_eq!(count(&meetings_of), "1");

        // A dry run reports and writes nothing.
        let args = |dry: bool| {
            let mut v = vec!["restore", file.to_str().unwrap(), "--only", "meetings", "--org", branch.as_str()];
            if dry {
                v.push("--dry-run");
            }
            v.into_iter().map(str::to_owned).collect::<Vec<_>>()
        };
        let run = |dry: bool| {
            let v = args(dry);
            dj(&a, url, &v.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let dry = ok(&run(true));
        assert!(dry.contains("dry run"), "{dry}");
        assert_eq!(count(&meetings_of), "1");
        let restored = ok(&run(false));
        assert!(restored.contains("audited as backup.partial_restore"), "{restored}");
        assert_eq!(count(&meetings_of), branch_meetings, "every deleted meeting is back");
        assert_eq!(count(&attendees_of), branch_attendees, "with its attendance");
        // The attendance counts each meeting keeps on its row (migration 0029) are those of its attendees.
        let drift = count(
            "FROM meetings m WHERE invited <> (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id) \
             OR present <> (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id AND a.attendance = 'present') \
             OR recorded <> (SELECT COUNT(a.attendance) FROM meeting_attendees a WHERE a.meeting_id = m.id)",
        );
        assert_eq!(drift, "0", "counts kept on the restored meetings' rows");
        assert_eq!(count("FROM meetings"), all_meetings, "nothing of other branches was added");
        assert_eq!(
            query_texts(&a, url, &format!("SELECT title FROM meetings WHERE id = {kept_id}")),
            vec!["改过的标题".to_string()],
            "the newer version of the meeting that still existed is kept"
        );
        assert_eq!(last_action(&a, url), "backup.partial_restore");
        assert!(ok(&dj(&a, url, &["audit", "verify"])).contains("intact"));
        // Again: everything is there now, so nothing comes back twice.
        let again = ok(&run(false));
        assert!(again.contains(&format!("{:>6} restored", 0)), "{again}");
        assert_eq!(count(&meetings_of), branch_meetings);

        // What cannot be restored this way is refused with the reason, nothing written.
        let err = refused(&dj(&a, url, &["restore", file.to_str().unwrap(), "--only", "people", "--org", branch]));
        assert!(err.contains("cannot be restored for one organization"), "{err}");
        let err = refused(&dj(&a, url, &["restore", file.to_str().unwrap(), "--only", "meetings", "--org", "999999"]));
        assert!(err.contains("does not exist"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
