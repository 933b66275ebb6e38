//! The `dangjian` command line as an operator uses it: migrate, demo, audit verify (exit codes and the
//! named broken entry), the settings file, backup and restore (`backup`), the register import and
//! export (`register`), two instances on one PostgreSQL (`scale`), SIGKILL during writes (`crash`), and the
//! files an IT centre installs from deploy/ (`setup`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cli/backup.rs"]
mod backup;
#[path = "cli/crash.rs"]
mod crash;
#[path = "cli/keys.rs"]
mod keys;
#[path = "cli/register.rs"]
mod register;
#[path = "cli/scale.rs"]
mod scale;
#[path = "cli/setup.rs"]
mod setup;
#[path = "cli/uploads.rs"]
mod uploads;

use std::path::PathBuf;
use std::process::{Command, Output};

fn dangjian(data_dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DANGJIAN_DATABASE_URL")
        .env("DANGJIAN_LOG", "warn")
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dj-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn audit_verify_passes_then_names_the_edited_entry() {
    let dir = temp_dir("audit");
    assert!(dangjian(&dir, &["migrate"]).status.success());
    let demo = dangjian(&dir, &["demo", "--scale", "small", "--seed", "3"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    assert!(String::from_utf8_lossy(&demo.stdout).contains("演示账号"));
    let ok = dangjian(&dir, &["audit", "verify"]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));

    // The exported chain verifies away from the database; an edited line is named.
    let export = dir.join("audit.ndjson");
    let out = dangjian(&dir, &["audit", "export", "--out", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let head = String::from_utf8_lossy(&out.stdout).to_string();
    let checked = dangjian(&dir, &["audit", "verify", "--file", export.to_str().unwrap()]);
    assert!(checked.status.success());
    assert_eq!(
        head.split("head ").nth(1).map(|h| &h[..64]),
        String::from_utf8_lossy(&checked.stdout).split("head ").nth(1).map(|h| &h[..64]),
        "the file's head is the database's head"
    );
    let text = std::fs::read_to_string(&export).unwrap();
    let tampered = text.replacen("\"target\":\"user:security\"", "\"target\":\"user:mallory\"", 1);
    assert_ne!(text, tampered);
    std::fs::write(&export, tampered).unwrap();
    let bad = dangjian(&dir, &["audit", "verify", "--file", export.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("BROKEN at entry 3"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    // Edit entry 2 around the trigger, as someone with the file would.
    let rt = tokio_runtime();
    rt.block_on(async {
        let url = format!("sqlite://{}", dir.join("dangjian.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_no_update").execute(&pool).await.unwrap();
        sqlx::query("UPDATE audit_log SET target = 'person:1' WHERE seq = 2").execute(&pool).await.unwrap();
        pool.close().await;
    });
    let broken = dangjian(&dir, &["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("entry 2"), "{}", String::from_utf8_lossy(&broken.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fees_verify_passes_on_the_demo_then_names_the_edited_entry() {
    let dir = temp_dir("fees");
    let demo = dangjian(&dir, &["demo", "--scale", "small", "--seed", "3"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    assert!(String::from_utf8_lossy(&demo.stdout).contains("条交纳记录"));
    let ok = dangjian(&dir, &["fees", "verify"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("fee ledger intact"));
    // Edit one entry around the trigger, as someone with the database file would.
    let rt = tokio_runtime();
    let id: i64 = rt.block_on(async {
        let url = format!("sqlite://{}", dir.join("dangjian.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let id: i64 = sqlx::query_scalar("SELECT MIN(id) + 3 FROM fee_payments").fetch_one(&pool).await.unwrap();
        assert!(sqlx::query("UPDATE fee_payments SET amount_fen = 1").execute(&pool).await.is_err(), "append-only");
        sqlx::query("DROP TRIGGER fee_payments_no_update").execute(&pool).await.unwrap();
        sqlx::query("UPDATE fee_payments SET amount_fen = amount_fen + 100 WHERE id = $1")
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        id
    });
    let broken = dangjian(&dir, &["fees", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains("BROKEN") && err.ends_with(&format!(": {id}\n")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_settings_file_with_a_typo_is_refused() {
    let dir = temp_dir("config");
    let file = dir.join("dangjian.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nmfa_requried = false\n").unwrap();
    let out = dangjian(&dir, &["--config", file.to_str().unwrap(), "migrate"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mfa_requried"), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn serve_answers_health_and_stops_cleanly_on_sigterm() {
    let dir = temp_dir("serve");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&dir)
        .env_remove("DANGJIAN_DATABASE_URL")
        .env("DANGJIAN_ADMIN_PASSWORD", "Serve-Test-2026!")
        .env("DANGJIAN_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            healthy = answer.starts_with("HTTP/1.1 200");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(healthy, "readyz answered 200");
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn audit_archive_keeps_six_months_and_search_reads_an_audit_file() {
    let dir = temp_dir("audit-archive");
    assert!(dangjian(&dir, &["migrate"]).status.success());
    // An online period below the law's six months is refused before anything happens.
    let short = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["audit", "archive", "--data-dir"])
        .arg(&dir)
        .env_remove("DANGJIAN_DATABASE_URL")
        .env("DANGJIAN_AUDIT_ONLINE_DAYS", "90")
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("网络安全法"),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
    // Nothing is a year old on a new platform.
    let none = dangjian(&dir, &["audit", "archive"]);
    assert!(none.status.success(), "{}", String::from_utf8_lossy(&none.stderr));
    assert!(String::from_utf8_lossy(&none.stdout).contains("nothing to archive"));
    // An export is searched after it verifies.
    let demo = dangjian(&dir, &["demo", "--scale", "small", "--seed", "3"]);
    assert!(demo.status.success());
    let export = dir.join("audit.ndjson");
    assert!(dangjian(&dir, &["audit", "export", "--out", export.to_str().unwrap()]).status.success());
    let found = dangjian(&dir, &["audit", "search", "--file", export.to_str().unwrap(), "--action", "meeting.demo"]);
    assert!(found.status.success(), "{}", String::from_utf8_lossy(&found.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&found.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l["action"] == "meeting.demo" && l["roles"] == "system"), "{lines:?}");
    let text = std::fs::read_to_string(&export).unwrap();
    std::fs::write(&export, text.replacen("meeting.demo", "meeting.demx", 1)).unwrap();
    let bad = dangjian(&dir, &["audit", "search", "--file", export.to_str().unwrap(), "--action", "meeting.demo"]);
    assert_eq!(bad.status.code(), Some(1), "a broken file is not searched");
    // Only a sealed archive a checkpoint recorded is restored (the library test restores one): an export, or a
    // broken file, is refused with the reason and nothing written.
    std::fs::write(&export, &text).unwrap();
    let refused = dangjian(&dir, &["audit", "restore", "--file", export.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("audit restore REFUSED") && why.contains("not a sealed archive"), "{why}");
    std::fs::write(&export, text.replacen("meeting.demo", "meeting.demx", 1)).unwrap();
    let refused = dangjian(&dir, &["audit", "restore", "--file", export.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not verify"));
    let _ = std::fs::remove_dir_all(&dir);
}
