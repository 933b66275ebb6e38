//! `dangjian uploads rescan` as an operator runs it (security.md AT-21, docs/OPERATIONS.md "Virus
//! scanning"): files stored before clamd was configured are scanned through a REAL clamd (Debian's
//! clamav-daemon, started here with a one-signature database of the project's own, as
//! crates/web/tests/it/clamd.rs does), the infected one quarantined and named, the exit code saying so; a
//! second run leaves it as it is; without clamd configured, or with clamd not answering, the command
//! refuses to run. On SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kernel::{Db, on_db};

use super::backup::{PgDb, dj};
use super::{temp_dir, tokio_runtime};

/// Text the built-in checks let through and only this clamd knows.
const SIGNATURE: &str = "DANGJIAN-CLAMD-TEST-SIGNATURE";

/// A real clamd on a unix socket with a database of one signature; killed on drop.
struct RealClamd {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl RealClamd {
    /// `None` (said loudly) where clamd is not installed; under `CI=true` that fails the test.
    fn start(name: &str) -> Option<RealClamd> {
        let bin = ["/usr/sbin/clamd", "/usr/local/sbin/clamd", "/usr/bin/clamd"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file());
        let Some(bin) = bin else {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "clamd is not installed: CI installs clamav-daemon"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPED: `dangjian uploads rescan` against a REAL ClamAV did not run: clamd is not installed.\n"
            );
            return None;
        };
        let dir = temp_dir(&format!("clamd-{name}"));
        std::fs::create_dir_all(dir.join("db")).unwrap();
        let hex: String = SIGNATURE.bytes().map(|b| format!("{b:02x}")).collect();
        std::fs::write(dir.join("db").join("dangjian-test.ndb"), format!("Dangjian.Test.Signature:0:*:{hex}\n"))
            .unwrap();
        let socket = dir.join("clamd.sock");
        let conf = format!(
            "LocalSocket {}\nForeground yes\nDatabaseDirectory {}\nLogFile {}\n",
            socket.display(),
            dir.join("db").display(),
            dir.join("clamd.log").display()
        );
        std::fs::write(dir.join("clamd.conf"), conf).unwrap();
        let child = Command::new(&bin)
            .arg("-c")
            .arg(dir.join("clamd.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut clamd = RealClamd { child, dir, socket };
        let client = platform::clamd::Clamd::parse(&clamd.spec(), Duration::from_secs(20)).unwrap();
        let started = Instant::now();
        tokio_runtime().block_on(async {
            while client.ping().await.is_err() {
                if let Some(status) = clamd.child.try_wait().unwrap() {
                    let log = std::fs::read_to_string(clamd.dir.join("clamd.log")).unwrap_or_default();
                    panic!("clamd exited ({status}):\n{log}");
                }
                assert!(started.elapsed() < Duration::from_secs(60), "clamd did not answer within 60 s");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Some(clamd)
    }

    fn spec(&self) -> String {
        format!("unix:{}", self.socket.display())
    }
}

impl Drop for RealClamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `dangjian uploads rescan` with `DANGJIAN_CLAMD` set to `clamd` (or unset).
fn rescan(dir: &Path, url: Option<&str>, clamd: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.args(["uploads", "rescan", "--data-dir"])
        .arg(dir)
        .env_remove("DANGJIAN_DATABASE_URL")
        .env("DANGJIAN_LOG", "warn");
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    match clamd {
        Some(c) => cmd.env("DANGJIAN_CLAMD", c),
        None => cmd.env_remove("DANGJIAN_CLAMD"),
    };
    cmd.output().unwrap()
}

/// Stores two uploads the way an instance without clamd kept them: a clean one and one carrying the
/// signature. Their ids.
fn store_uploads(dir: &Path, url: Option<&str>) -> (i64, i64) {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let sql = "INSERT INTO attachments (owner_kind, owner_id, org_path, name, file_type, content_type, size, sha256, \
            created_at, content) VALUES ('meeting', 1, '/1/', $1, 'text', 'text/plain; charset=utf-8', $2, $3, $4, $5) RETURNING id";
        let mut ids = Vec::new();
        for (name, text) in [("会议记录.txt", "第一次支部委员会会议记录".to_string()), ("通知.txt", format!("通知 {SIGNATURE} 第二页"))] {
            let bytes = text.into_bytes();
            let id: i64 = on_db!(&db, p => sqlx::query_scalar(sql).bind(name).bind(bytes.len() as i64).bind(vec![0u8; 32])
                .bind(time::OffsetDateTime::now_utc()).bind(&bytes).fetch_one(p).await)
            .unwrap();
            ids.push(id);
        }
        db.close().await;
        (ids[0], ids[1])
    })
}

/// `(quarantine_signature, audit entries of upload.malware/quarantined naming it)` of one attachment.
fn quarantine_of(dir: &Path, url: Option<&str>, id: i64) -> (Option<String>, i64) {
    tokio_runtime().block_on(async {
        let db = Db::connect(url, dir).await.unwrap();
        let sig: Option<String> =
            on_db!(&db, p => sqlx::query_scalar("SELECT quarantine_signature FROM attachments WHERE id = $1")
            .bind(id).fetch_one(p).await)
            .unwrap();
        let audited: i64 = on_db!(&db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'upload.malware' AND result = 'quarantined' AND target = $1")
            .bind(format!("attachment:{id}")).fetch_one(p).await)
        .unwrap();
        db.close().await;
        (sig, audited)
    })
}

fn rescan_works(name: &str, url: Option<&str>) {
    let dir = temp_dir(&format!("rescan-{name}"));
    assert!(dj(&dir, url, &["migrate"]).status.success());
    let (clean, infected) = store_uploads(&dir, url);

    // Not configured: refused, exit 2, nothing scanned.
    let out = rescan(&dir, url, None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("未配置病毒扫描服务（clamd）") && err.contains("DANGJIAN_CLAMD"), "{err}");
    // Configured but not answering: refused too.
    let missing = format!("unix:{}", dir.join("no-clamd.sock").display());
    let out = rescan(&dir, url, Some(&missing));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("无法连接"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(quarantine_of(&dir, url, infected), (None, 0));

    let Some(clamd) = RealClamd::start(name) else { return };
    let out = rescan(&dir, url, Some(&clamd.spec()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "files quarantined: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains(&format!("已隔离 附件 {infected}（meeting:1）：检出 Dangjian.Test.Signature.UNOFFICIAL")),
        "{stdout}"
    );
    assert!(
        stdout.contains("扫描 2 个文件")
            && stdout.contains("未见病毒 1，检出并隔离 1，此前已隔离 0，已放行的误报 0，未能扫描 0"),
        "{stdout}"
    );
    assert_eq!(quarantine_of(&dir, url, infected), (Some("Dangjian.Test.Signature.UNOFFICIAL".into()), 1));
    assert_eq!(quarantine_of(&dir, url, clean), (None, 0));

    // Again: the quarantined file is left as it is (not scanned, not audited twice); all else clean → 0.
    let out = rescan(&dir, url, Some(&clamd.spec()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("扫描 1 个文件") && stdout.contains("检出并隔离 0，此前已隔离 1"), "{stdout}");
    assert_eq!(quarantine_of(&dir, url, infected).1, 1);
    // Each run is audited with its counts; the chain still verifies.
    assert!(dj(&dir, url, &["audit", "verify"]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn uploads_rescan_quarantines_what_a_real_clamd_finds_on_sqlite() {
    rescan_works("sqlite", None);
}

#[test]
fn uploads_rescan_quarantines_what_a_real_clamd_finds_on_postgresql() {
    let pg = PgDb::new();
    rescan_works("pg", Some(&pg.url));
}
