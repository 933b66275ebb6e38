//! `dangjian import people` and `dangjian export people` as an operator runs them, on SQLite and on
//! PostgreSQL: the printed report names exactly the planted rows, any error row exits 1 and writes
//! nothing, a clean file imports all 500 people, and the export is masked, private and never written
//! over an existing file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use kernel::{Db, on_db};
use platform::model::{Grant, Role};
use platform::service::NewOrgInput;
use platform::{Actor, Ctx, Platform, Settings};
use security::KeyRing;
use sqlx::AssertSqlSafe;

use super::{temp_dir, tokio_runtime};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/tests/fixtures").join(name)
}

fn dj(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.args(args).arg("--data-dir").arg(dir).env_remove("DANGJIAN_DATABASE_URL").env("DANGJIAN_LOG", "warn");
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.output().unwrap()
}

fn pg_url() -> String {
    std::env::var("DJ_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A PostgreSQL database of its own, dropped when the test ends.
struct PgDb {
    name: String,
    url: String,
}

async fn admin_exec(sql: String) {
    let admin = Db::connect(Some(&pg_url()), Path::new("."))
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for the test suite: {e}", pg_url()));
    on_db!(&admin, p => sqlx::query(AssertSqlSafe(sql)).execute(p).await.map(|_| ())).unwrap();
    admin.close().await;
}

impl PgDb {
    fn new() -> PgDb {
        let name = format!("dj_cli_reg_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        tokio_runtime().block_on(admin_exec(format!("CREATE DATABASE {name}")));
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

/// The branches the shared files name, under one university, made through the platform as the system
/// administrator. Returns the id of 经济学院学生党支部.
fn campus(dir: &Path, url: Option<&str>) -> i64 {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let keys = KeyRing::load_or_create(&KeyRing::default_path(dir)).unwrap();
        let p = Platform::new(db, &keys, Settings::default()).unwrap();
        let admin = Actor {
            user_id: 0,
            username: "test".into(),
            display_name: "test".into(),
            person_id: None,
            reauth_at: None,
            grants: vec![Grant {
                role: Role::SystemAdmin,
                org_id: None,
                org_name: None,
                org_path: None,
                starts_on: None,
                ends_on: None,
            }],
        };
        let ctx = Ctx::default();
        let org = |name: &str, kind: &str, parent: Option<i64>, category: &str| NewOrgInput {
            name: name.into(),
            kind: kind.into(),
            parent_id: parent,
            category: category.into(),
            short_name: None,
            secretary: None,
            contact_phone: None,
            established_on: None,
        };
        let uni = p.create_org(&ctx, &admin, &org("浙江某大学党委", "committee", None, "mixed")).await.unwrap().id;
        let mut econ = 0;
        for (name, category) in [
            ("经济学院学生党支部", "student"),
            ("艺术设计学院学生第一党支部", "student"),
            ("艺术设计学院学生第二党支部", "student"),
            ("艺术设计学院教工党支部", "faculty"),
            ("信息与电子工程学院研究生党支部", "student"),
            ("信息与电子工程学院本科生党支部", "student"),
            ("管理工程与电子商务学院教工党支部", "faculty"),
            ("离退休工作处第一党支部", "retired"),
        ] {
            let id = p.create_org(&ctx, &admin, &org(name, "branch", Some(uni), category)).await.unwrap().id;
            if econ == 0 {
                econ = id;
            }
        }
        p.db.close().await;
        econ
    })
}

fn people(dir: &Path, url: Option<&str>) -> i64 {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let n: i64 = on_db!(&db, p => sqlx::query_scalar("SELECT COUNT(*) FROM people").fetch_one(p).await).unwrap();
        db.close().await;
        n
    })
}

/// Rows the printed report names with `[错误]` or `[提醒]`.
fn reported(stdout: &str, tag: &str) -> BTreeSet<u32> {
    stdout
        .lines()
        .filter(|l| l.contains(tag))
        .filter_map(|l| l.trim().strip_prefix('第')?.split('行').next()?.parse().ok())
        .collect()
}

fn run(dir: &Path, url: Option<&str>) {
    assert!(dj(dir, url, &["migrate"]).status.success());
    let econ = campus(dir, url);
    let defects = fixture("people-2026-defects.xlsx");
    let defects = defects.to_str().unwrap();

    let dry = dj(dir, url, &["import", "people", defects, "--dry-run"]);
    let out = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert_eq!(dry.status.code(), Some(1), "error rows exit 1\n{out}");
    assert_eq!(reported(&out, "[错误]"), BTreeSet::from([154, 176, 223, 254, 260, 271, 286, 378, 453]), "{out}");
    assert_eq!(reported(&out, "[提醒]"), BTreeSet::from([293]), "{out}");
    assert!(out.contains("第154行 [错误] 公民身份号码：公民身份号码校验位不正确"), "{out}");
    assert!(out.contains("未写入任何记录"));

    let real = dj(dir, url, &["import", "people", defects]);
    assert_eq!(real.status.code(), Some(1));
    assert_eq!(people(dir, url), 0, "all or nothing");

    let valid = fixture("people-2026.xlsx");
    let done = dj(dir, url, &["import", "people", valid.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&done.stdout).into_owned();
    assert!(done.status.success(), "{out}\n{}", String::from_utf8_lossy(&done.stderr));
    assert!(out.contains("已导入 500 人"), "{out}");
    assert_eq!(people(dir, url), 500);

    let file = dir.join("econ.csv");
    let export = dj(dir, url, &["export", "people", "--org", &econ.to_string(), "--format", "csv", "--out"]);
    assert!(!export.status.success(), "--out needs a value");
    let export = dj(
        dir,
        url,
        &["export", "people", "--org", &econ.to_string(), "--format", "csv", "--out", file.to_str().unwrap()],
    );
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    assert!(String::from_utf8_lossy(&export.stdout).contains("已导出 72 人"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 73);
    assert!(text.contains("230604********7565") && !text.contains("230604199904257565"), "masked");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = dj(
        dir,
        url,
        &["export", "people", "--org", &econ.to_string(), "--format", "csv", "--out", file.to_str().unwrap()],
    );
    assert!(!again.status.success(), "never written over a file");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    let verify = dj(dir, url, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn import_and_export_people_on_sqlite() {
    let dir = temp_dir("register");
    run(&dir, None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_and_export_people_on_postgres() {
    let dir = temp_dir("register-pg");
    let pg = PgDb::new();
    run(&dir, Some(&pg.url));
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
