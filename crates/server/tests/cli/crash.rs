//! Crash safety (issue 7; security.md AT-28, AT-30 on the application's side): `dangjian serve` is killed
//! with SIGKILL while two clients write and a 10,000-row register import is in flight. After a restart
//! every write the server acknowledged is there, the import is there entirely or not at all (and a re-run
//! then succeeds), and `dangjian audit verify` passes — on SQLite and on PostgreSQL.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kernel::{Db, on_db};

use super::backup::PgDb;
use super::scale::{Server, http, json, login, start};
use super::{temp_dir, tokio_runtime};

const ADMIN_PW: &str = "Crash-Test-2026!";
const BRANCH: &str = "崩溃测试学生党支部";
const IMPORT_ROWS: usize = 10_000;

/// A valid register of `IMPORT_ROWS` applicants of the branch, born in `month` of 2000 (so two registers
/// have no ID number in common).
fn register_csv(month: u32) -> String {
    let names = ["李红", "王芳", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏"];
    let mut csv = String::from("姓名,公民身份号码,人员类别,申请入党日期,所在党支部\n");
    for n in 0..IMPORT_ROWS {
        let body = format!("3301062000{month:02}{:02}{:03}", 1 + n / 1000, n % 1000);
        let id = format!("{body}{}", platform::rules::check_char(body.as_bytes()).unwrap());
        csv.push_str(&format!("{},{id},入党申请人,2025-09-01,{BRANCH}\n", names[n % names.len()]));
    }
    csv
}

fn count(dir: &Path, url: Option<&str>, sql: &'static str) -> i64 {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let n: i64 = on_db!(&db, p => sqlx::query_scalar(sql).fetch_one(p).await).unwrap();
        db.close().await;
        n
    })
}

fn names(dir: &Path, url: Option<&str>) -> std::collections::HashSet<String> {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let v: Vec<String> = on_db!(&db, p => sqlx::query_scalar("SELECT name FROM orgs").fetch_all(p).await).unwrap();
        db.close().await;
        v.into_iter().collect()
    })
}

fn import(port: u16, token: &str, csv: &str) -> u16 {
    let auth = format!("Bearer {token}");
    let headers = [("Content-Type", "text/csv"), ("Authorization", auth.as_str())];
    http(port, "POST", "/api/v1/people/import?dry_run=false", &headers, csv).0
}

/// When the server is killed.
enum KillAt {
    After(Duration),
    /// PostgreSQL: as soon as a transaction has been writing for a while (the import's; the writers' last
    /// milliseconds), so the kill lands inside the import's transaction.
    InsideALongTransaction,
}

const LONG_TRANSACTION: &str = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
     AND backend_xid IS NOT NULL AND now() - xact_start > interval '300 milliseconds'";

/// One round: two writers and an import against `server`, killed with SIGKILL at `kill`, then restarted.
/// Checks that every acknowledged write is there and the import is there entirely or not at all; returns
/// the restarted server and whether the import was committed.
#[allow(clippy::too_many_arguments)]
fn round(
    dir: &Path,
    url: Option<&str>,
    args: &[&str],
    envs: &[(&str, &str)],
    mut server: Server,
    (admin, staff): (&str, &str),
    csv: &Arc<String>,
    (n, kill): (usize, KillAt),
) -> (Server, bool) {
    let people_before = count(dir, url, "SELECT COUNT(*) FROM people");
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let port = server.port;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (acked, stop, token) = (acked.clone(), stop.clone(), admin.to_owned());
            std::thread::spawn(move || {
                for i in 0..5000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("第{n}轮{w}号写入第{i}党委");
                    let body = format!(r#"{{"name":"{name}","kind":"committee","category":"mixed"}}"#);
                    match json(port, "POST", "/api/v1/orgs", Some(&token), &body).0 {
                        201 => acked.lock().unwrap().push(name),
                        0 => break, // the server is gone
                        _ => {}
                    }
                }
            })
        })
        .collect();
    let importer = {
        let (csv, staff) = (csv.clone(), staff.to_owned());
        std::thread::spawn(move || {
            let started = Instant::now();
            (import(port, &staff, &csv), started.elapsed())
        })
    };
    let started = Instant::now();
    match kill {
        KillAt::After(d) => std::thread::sleep(d),
        KillAt::InsideALongTransaction => {
            while count(dir, url, LONG_TRANSACTION) == 0 && started.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let killed_at = started.elapsed();
    let before_kill = acked.lock().unwrap().len();
    server.child.kill().unwrap(); // SIGKILL
    let _ = server.child.wait();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let (import_status, import_took) = importer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    eprintln!(
        "{} round {n}: SIGKILL at {killed_at:?} after {before_kill} acknowledged writes ({} in all); the import \
         answered {import_status} after {import_took:?}",
        if url.is_some() { "postgres" } else { "sqlite" },
        acked.len()
    );
    assert!(before_kill > 0, "writes were acknowledged before the kill");
    drop(server);

    // Restart on the same data: ready, every acknowledged write there, the import all or nothing.
    let server = start(args, envs);
    let present = names(dir, url);
    let missing: Vec<&String> = acked.iter().filter(|n| !present.contains(*n)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let people = count(dir, url, "SELECT COUNT(*) FROM people") - people_before;
    if import_status == 200 {
        assert_eq!(people, IMPORT_ROWS as i64, "an acknowledged import is there entirely");
    } else {
        assert!(people == 0 || people == IMPORT_ROWS as i64, "{people} people: a partial import");
    }
    (server, people > 0)
}

fn run(dir: &Path, url: Option<&str>) {
    let mut args = vec!["--data-dir".to_string(), dir.display().to_string()];
    if let Some(u) = url {
        args.extend(["--database-url".to_string(), u.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let envs = [("DANGJIAN_ADMIN_PASSWORD", ADMIN_PW), ("DANGJIAN_MFA_REQUIRED", "false")];
    let server = start(&args, &envs);
    let admin = login(server.port, "admin", ADMIN_PW);
    let org = r#"{"name":"崩溃测试大学党委","kind":"committee","category":"mixed"}"#;
    let (st, uni) = json(server.port, "POST", "/api/v1/orgs", Some(&admin), org);
    assert_eq!(st, 201, "{uni}");
    let uni = uni["id"].as_i64().unwrap();
    let branch = format!(r#"{{"name":"{BRANCH}","kind":"branch","category":"student","parent_id":{uni}}}"#);
    assert_eq!(json(server.port, "POST", "/api/v1/orgs", Some(&admin), &branch).0, 201);
    // The register is imported by the university's org staff (the system administrator reads no member).
    let staff = format!(
        r#"{{"username":"staff","password":"{ADMIN_PW}","display_name":"组织员","grants":[{{"role":"org_staff","org_id":{uni}}}]}}"#
    );
    assert_eq!(json(server.port, "POST", "/api/v1/users", Some(&admin), &staff).0, 201);
    let staff = login(server.port, "staff", ADMIN_PW);

    // Round 1: killed 0.7 s in, while the import is being read and checked or written.
    let first = Arc::new(register_csv(1));
    let (server, committed) =
        round(dir, url, &args, &envs, server, (&admin, &staff), &first, (1, KillAt::After(Duration::from_millis(700))));
    // An import that did not commit runs again; its time places the second kill inside the writing.
    let started = Instant::now();
    if !committed {
        assert_eq!(import(server.port, &staff, &first), 200, "the import runs again");
    }
    let full = started.elapsed();
    assert_eq!(count(dir, url, "SELECT COUNT(*) FROM people"), IMPORT_ROWS as i64);

    // Round 2: killed inside the import's transaction (PostgreSQL: seen in pg_stat_activity; SQLite: at 80 %
    // of a whole import's time, past the checks).
    let second = Arc::new(register_csv(2));
    let kill = match url {
        Some(_) => KillAt::InsideALongTransaction,
        None => KillAt::After(full.mul_f64(0.8)),
    };
    let (server, _) = round(dir, url, &args, &envs, server, (&admin, &staff), &second, (2, kill));

    // Each acknowledged organization has its audit entry (written in the same transaction), and the chain
    // verifies after both kills.
    let orgs = count(dir, url, "SELECT COUNT(*) FROM orgs");
    let created = count(dir, url, "SELECT COUNT(*) FROM audit_log WHERE action = 'org.create' AND result = 'ok'");
    assert_eq!(created, orgs, "one audit entry per organization");
    assert!(server.stop().success());
    let verify = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(&args)
        .args(["audit", "verify"])
        .env("DANGJIAN_LOG", "warn")
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn sigkill_during_writes_and_an_import_loses_nothing_acknowledged_on_sqlite() {
    let dir = temp_dir("crash-sqlite");
    run(&dir, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigkill_during_writes_and_an_import_loses_nothing_acknowledged_on_postgres() {
    let dir = temp_dir("crash-pg");
    let pg = PgDb::new();
    run(&dir, Some(&pg.url));
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
