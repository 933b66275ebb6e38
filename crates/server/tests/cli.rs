//! The `dangjian` command line as an operator uses it: migrate, demo, audit verify (exit codes and the
//! named broken entry), and the settings file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

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
