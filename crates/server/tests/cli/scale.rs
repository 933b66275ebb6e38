//! Scale-out (issue 7): two `dangjian serve` processes on one PostgreSQL database, as behind nginx. A
//! session opened on one works on the other; a logout on one is refused by the other within
//! `cache_seconds`; maintenance mode switched on one (and off from the command line) is obeyed by the
//! other; each scheduled backup runs once although both instances run the job loop.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kernel::{Db, on_db};

use super::backup::PgDb;
use super::{temp_dir, tokio_runtime};

const ADMIN_PW: &str = "Scale-Test-2026!";

/// A running `dangjian serve`, killed if the test ends early.
pub(super) struct Server {
    pub(super) child: Child,
    pub(super) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// SIGTERM, then the exit status (graceful shutdown stops the job runner too).
    pub(super) fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().unwrap()
    }
}

/// Starts `dangjian serve` with `args` before the subcommand; returns once `/readyz` answers 200.
pub(super) fn start(args: &[&str], envs: &[(&str, &str)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dangjian"));
    cmd.args(args)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("DANGJIAN_DATABASE_URL")
        .env("DANGJIAN_LOG", "warn")
        .stdout(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let server = Server { child: cmd.spawn().unwrap(), port };
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && http(port, "GET", "/readyz", &[], "").0 == 200 {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not become ready");
}

/// One HTTP/1.1 request; returns the status, the raw headers and the body.
pub(super) fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new(), String::new()) };
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    if s.write_all(req.as_bytes()).is_err() {
        return (0, String::new(), String::new());
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

pub(super) fn json(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("Authorization", a.as_str()));
    }
    let (status, _, text) = http(port, method, path, &headers, body);
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

pub(super) fn login(port: u16, username: &str, password: &str) -> String {
    let (st, v) = json(
        port,
        "POST",
        "/api/v1/auth/login",
        None,
        &format!(r#"{{"username":"{username}","password":"{password}"}}"#),
    );
    assert_eq!(st, 200, "login {username}: {v}");
    v["token"].as_str().unwrap().to_owned()
}

/// The anti-forgery token of a page's forms.
fn page_token(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_owned()
}

/// Signs in through the login form as a browser does (the login page first: its cookie and token);
/// returns `dj_session=…`.
fn web_login(port: u16, username: &str, password: &str) -> String {
    let (_, head, page) = http(port, "GET", "/login", &[], "");
    let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie: dj_csrf=")).unwrap();
    let pre = line.split_once(": ").unwrap().1.split(';').next().unwrap().to_owned();
    let body =
        format!("csrf={}&username={username}&password={}&next=%2F", page_token(&page), password.replace('!', "%21"));
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", pre.as_str())];
    let (st, head, _) = http(port, "POST", "/login", &headers, &body);
    assert_eq!(st, 303, "{head}");
    let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie: dj_session=")).unwrap();
    line.split_once(": ").unwrap().1.split(';').next().unwrap().to_owned()
}

/// A form of the signed-in UI, with the token a page of this session carries.
fn form(port: u16, path: &str, cookie: &str, body: &str) -> (u16, String) {
    let (_, _, page) = http(port, "GET", "/account/password", &[("Cookie", cookie)], "");
    let body = format!("csrf={}&{body}", page_token(&page));
    let (st, _, text) =
        http(port, "POST", path, &[("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)], &body);
    (st, text)
}

fn new_org(n: u32) -> String {
    format!(r#"{{"name":"第{n}党委","kind":"committee","category":"mixed"}}"#)
}

/// Waits until `f` holds, at most `limit`; returns how long it took.
fn within(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if f() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn scalar(url: &str, sql: &'static str) -> i64 {
    tokio_runtime().block_on(async {
        let db = Db::connect(Some(url), Path::new(".")).await.unwrap();
        let n: i64 = on_db!(&db, p => sqlx::query_scalar(sql).fetch_one(p).await).unwrap();
        db.close().await;
        n
    })
}

#[test]
fn two_instances_on_one_postgresql_share_sessions_switches_and_jobs() {
    let root = temp_dir("scale");
    let pg = PgDb::new();
    let config = root.join("dangjian.toml");
    let backups = root.join("backups");
    std::fs::write(
        &config,
        format!(
            "cache_seconds = 1\n[backup]\nevery_seconds = 2\ndir = \"{}\"\n[jobs]\npoll_seconds = 1\n",
            backups.display()
        ),
    )
    .unwrap();
    let key_file = root.join("dangjian.key");
    let envs = [
        ("DANGJIAN_ADMIN_PASSWORD", ADMIN_PW),
        ("DANGJIAN_MFA_REQUIRED", "false"),
        ("DANGJIAN_KEY_FILE", key_file.to_str().unwrap()),
    ];
    let (dir_a, dir_b) = (root.join("a"), root.join("b"));
    let args = |dir: &Path| -> Vec<String> {
        vec![
            "--config".into(),
            config.display().to_string(),
            "--data-dir".into(),
            dir.display().to_string(),
            "--database-url".into(),
            pg.url.clone(),
        ]
    };
    let (args_a, args_b) = (args(&dir_a), args(&dir_b));
    let a = start(&args_a.iter().map(String::as_str).collect::<Vec<_>>(), &envs);
    let b = start(&args_b.iter().map(String::as_str).collect::<Vec<_>>(), &envs);

    // A token from A works on B; a web session from B works on A.
    let token = login(a.port, "admin", ADMIN_PW);
    assert_eq!(json(b.port, "GET", "/api/v1/me", Some(&token), "").0, 200);
    let cookie = web_login(b.port, "admin", ADMIN_PW);
    let (st, _, page) = http(a.port, "GET", "/admin/status", &[("Cookie", &cookie)], "");
    assert_eq!(st, 200);
    assert!(page.contains("系统状态"));

    // Logged out on A: refused by B within cache_seconds (1 s).
    let other = login(b.port, "admin", ADMIN_PW);
    assert_eq!(json(b.port, "GET", "/api/v1/me", Some(&other), "").0, 200, "B has the session cached");
    assert_eq!(json(a.port, "POST", "/api/v1/auth/logout", Some(&other), "").0, 204);
    let refused = within(Duration::from_secs(3), || json(b.port, "GET", "/api/v1/me", Some(&other), "").0 == 401);
    let refused = refused.expect("B refuses the ended session");
    assert!(refused <= Duration::from_millis(1500), "refused after {refused:?}");

    // Maintenance switched on at A: B refuses writes within cache_seconds and shows the banner.
    assert_eq!(json(b.port, "POST", "/api/v1/orgs", Some(&token), &new_org(1)).0, 201);
    let (st, _) = form(a.port, "/admin/status/maintenance", &cookie, "active=on&message=scale");
    assert_eq!(st, 303);
    let mut n = 1;
    let seen = within(Duration::from_secs(3), || {
        n += 1;
        json(b.port, "POST", "/api/v1/orgs", Some(&token), &new_org(n)).0 == 503
    });
    assert!(seen.expect("B obeys the switch") <= Duration::from_millis(1500));
    let (st, v) = json(b.port, "POST", "/api/v1/orgs", Some(&token), &new_org(99));
    assert_eq!((st, v["error"]["code"].as_str()), (503, Some("maintenance")));
    let (_, _, page) = http(b.port, "GET", "/", &[("Cookie", &cookie)], "");
    assert!(page.contains("维护模式") && page.contains("scale"), "banner on B");
    // Off from the command line (as before an upgrade's last step); both accept writes again.
    let off = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["--database-url", &pg.url, "--data-dir"])
        .arg(&dir_a)
        .args(["maintenance", "off"])
        .env("DANGJIAN_LOG", "warn")
        .output()
        .unwrap();
    assert!(off.status.success(), "{}", String::from_utf8_lossy(&off.stderr));
    for port in [a.port, b.port] {
        let ok = within(Duration::from_secs(3), || {
            n += 1;
            json(port, "POST", "/api/v1/orgs", Some(&token), &new_org(n)).0 == 201
        });
        assert!(ok.is_some(), "writes accepted again on {port}");
    }

    // Both instances run the job loop; the backup scheduled every 2 s runs once per run.
    let enough = within(Duration::from_secs(25), || {
        scalar(&pg.url, "SELECT COUNT(*) FROM jobs WHERE kind = 'backup' AND state = 'done'") >= 4
    });
    assert!(enough.is_some(), "scheduled backups ran");
    assert!(a.stop().success(), "A stops cleanly");
    assert!(b.stop().success(), "B stops cleanly");
    let done = scalar(&pg.url, "SELECT COUNT(*) FROM jobs WHERE kind = 'backup' AND state = 'done'");
    let runs = scalar(&pg.url, "SELECT COUNT(DISTINCT dedup_key) FROM jobs WHERE kind = 'backup'");
    let all = scalar(&pg.url, "SELECT COUNT(*) FROM jobs WHERE kind = 'backup'");
    let audited = scalar(&pg.url, "SELECT COUNT(*) FROM audit_log WHERE action = 'backup.create'");
    let failed = scalar(&pg.url, "SELECT COUNT(*) FROM jobs WHERE state = 'failed'");
    let attempts = scalar(&pg.url, "SELECT COALESCE(MAX(attempts), 0) FROM jobs WHERE kind = 'backup'");
    let schedules = scalar(&pg.url, "SELECT COUNT(*) FROM job_schedules");
    assert_eq!(all, runs, "one job per scheduled run");
    assert_eq!(audited, done, "each run backed up once: {audited} backups for {done} runs");
    // cleanup, audit.verify, backup, accounts.review, audit.watch, audit.archive, committees.remind
    assert_eq!((failed, attempts, schedules), (0, 1, 7));
    // Every backup was verified and retention kept one of the day.
    assert!(backups.read_dir().unwrap().count() >= 1);
    let verify = Command::new(env!("CARGO_BIN_EXE_dangjian"))
        .args(["--database-url", &pg.url, "--data-dir"])
        .arg(&dir_a)
        .args(["audit", "verify"])
        .env("DANGJIAN_LOG", "warn")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&verify.stdout).contains("intact"));
    drop(pg);
    let _ = std::fs::remove_dir_all(&root);
}
