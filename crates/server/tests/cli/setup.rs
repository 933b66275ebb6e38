//! What an IT centre installs from `deploy/`: the settings file and the systemd unit must work with this
//! binary, and a PostgreSQL database that cannot hold Chinese text is refused before anything is created.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::backup::PgDb;
use super::temp_dir;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

#[test]
fn the_shipped_settings_file_and_systemd_unit_work_with_this_binary() {
    let dir = temp_dir("setup-deploy");
    // The settings file as shipped (unknown keys would be refused), with a data dir of the test's own.
    let out = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .arg("--config")
        .arg(repo_file("deploy/dangjian.toml"))
        .arg("--data-dir")
        .arg(&dir)
        .arg("migrate")
        .env_remove("DANGJIAN_DATABASE_URL")
        .env_remove("DANGJIAN_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("dangjian.db").exists());

    // The unit's command line parses (clap refuses unknown subcommands and flags), and it reads the
    // settings file that the install instructions put in place.
    let unit = std::fs::read_to_string(repo_file("deploy/systemd/dangjian@.service")).unwrap();
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("an ExecStart line");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/dangjian"));
    let args: Vec<&str> = words.collect();
    assert_eq!(args, ["serve"]);
    let help = Command::new(env!("CARGO_BIN_EXE_dangjian")).args(&args).arg("--help").output().unwrap();
    assert!(help.status.success(), "{}", String::from_utf8_lossy(&help.stderr));
    assert!(unit.contains("Environment=DANGJIAN_CONFIG=/etc/dangjian/dangjian-%i.toml"));
    assert!(unit.contains("KillSignal=SIGTERM"), "the graceful stop");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_postgresql_database_that_is_not_utf8_is_refused_before_anything_is_created() {
    let pg = PgDb::with_encoding("SQL_ASCII");
    let dir = temp_dir("setup-encoding");
    let out = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["migrate", "--data-dir"])
        .arg(&dir)
        .args(["--database-url", &pg.url])
        .env("DANGJIAN_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("encoding SQL_ASCII") && err.contains("createdb -E UTF8"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
