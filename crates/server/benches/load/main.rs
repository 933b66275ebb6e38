//! security.md AT-35 over HTTP: `cargo bench -p server --bench load` (docs/PERFORMANCE.md "AT-35 load over
//! HTTP"). Seeds a university with 20,000 member accounts (`dangjian demo --scale load`, once, then copied for
//! each run), starts the real `dangjian serve` built by the same command (the bench profile: release), and
//! drives virtual members from one client address, 127.0.0.1, as a campus NAT does:
//!
//! 1. ramp: member i signs in (the login form, argon2id) at `ramp × i / members`, then acts: her notices,
//!    a material with study heartbeats, the learning page, a search, a practice quiz started and submitted,
//!    with think time between, signing out after a visit and back in after a break; a sign-in answered 503
//!    `busy` (the server's sign-in queue is full) waits its `Retry-After` and sends the form again, as the page
//!    asks — the 503s are counted apart from errors, and the time until she is in is reported beside;
//! 2. steady: every member at it for `DJ_LOAD_MINUTES`: the figures that AT-35's p95 < 1 s and error rate
//!    < 0.1 % are judged on;
//! 3. burst: `DJ_LOAD_BURST` members (5,000) start the exam within `DJ_LOAD_BURST_SECONDS` (60), each at a
//!    random instant, while everyone else goes on; each submits 30–90 s later (p99 < 3 s for the starts);
//! 4. throughout, one further account (the demo's `member`) goes over the quiz-start limit once, so the 429
//!    with `Retry-After` is seen over HTTP while nobody else behind the same address gets one.
//!
//! Settings (environment): DJ_LOAD_MEMBERS (20000), DJ_LOAD_RAMP_SECONDS (600), DJ_LOAD_MINUTES (30),
//! DJ_LOAD_THINK_SECONDS (30, mean), DJ_LOAD_VISIT_MINUTES (20, mean), DJ_LOAD_BURST (5000),
//! DJ_LOAD_BURST_SECONDS (60), DJ_LOAD_CONNECTIONS (1000), DJ_LOAD_DIR (/var/tmp/dj-load),
//! DJ_LOAD_DATABASE_URL (a PostgreSQL database to use instead of SQLite: emptied and seeded on every run).
//! The report (Markdown) goes to stdout and to DJ_LOAD_DIR/report-*.md. A measurement, never a pass/fail test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http;
mod member;
mod stats;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kernel::rng::Rng;
use member::{Bucket, Member, Shared, call};
use stats::{Action, Figures, Recorder};

const BIN: &str = env!("CARGO_BIN_EXE_dangjian");

struct Config {
    members: usize,
    ramp: Duration,
    steady: Duration,
    think: Duration,
    visit: Duration,
    burst: usize,
    burst_window: Duration,
    connections: usize,
    dir: PathBuf,
    database_url: Option<String>,
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Config {
    fn from_env() -> Config {
        Config {
            members: env_num("DJ_LOAD_MEMBERS", 20_000.0) as usize,
            ramp: Duration::from_secs_f64(env_num("DJ_LOAD_RAMP_SECONDS", 600.0)),
            steady: Duration::from_secs_f64(env_num("DJ_LOAD_MINUTES", 30.0) * 60.0),
            think: Duration::from_secs_f64(env_num("DJ_LOAD_THINK_SECONDS", 30.0)),
            visit: Duration::from_secs_f64(env_num("DJ_LOAD_VISIT_MINUTES", 20.0) * 60.0),
            burst: env_num("DJ_LOAD_BURST", 5_000.0) as usize,
            burst_window: Duration::from_secs_f64(env_num("DJ_LOAD_BURST_SECONDS", 60.0)),
            connections: env_num("DJ_LOAD_CONNECTIONS", 1_000.0) as usize,
            dir: std::env::var("DJ_LOAD_DIR").map_or_else(|_| PathBuf::from("/var/tmp/dj-load"), PathBuf::from),
            database_url: std::env::var("DJ_LOAD_DATABASE_URL").ok().filter(|u| !u.is_empty()),
        }
    }
}

fn run_cmd(args: &[&str], data_dir: &Path, db: Option<&str>, log: &Path) {
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(data_dir);
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    let out = std::fs::File::create(log).unwrap();
    let status = c.args(args).stdout(out.try_clone().unwrap()).stderr(out).status().unwrap();
    assert!(status.success(), "dangjian {args:?} failed: see {}", log.display());
}

/// The seeded university: made once under DIR/seed (SQLite), copied for every run so that each starts alike.
/// On PostgreSQL the database is emptied (its `public` schema dropped) and seeded on every run.
fn prepare(cfg: &Config) -> (PathBuf, f64) {
    let run = cfg.dir.join("run");
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir_all(&run).unwrap();
    let started = Instant::now();
    if let Some(url) = &cfg.database_url {
        let reset = "DROP SCHEMA public CASCADE; CREATE SCHEMA public;";
        let status = Command::new("psql").args(["-q", "-d", url, "-c", reset]).status().unwrap();
        assert!(status.success(), "could not empty {url}");
        run_cmd(&["demo", "--scale", "load"], &run, Some(url), &cfg.dir.join("seed.log"));
        return (run, started.elapsed().as_secs_f64());
    }
    let seed = cfg.dir.join("seed");
    if !seed.join("dangjian.db").exists() {
        let _ = std::fs::remove_dir_all(&seed);
        std::fs::create_dir_all(&seed).unwrap();
        run_cmd(&["demo", "--scale", "load"], &seed, None, &cfg.dir.join("seed.log"));
        eprintln!("seeded {} in {:.1} s", seed.display(), started.elapsed().as_secs_f64());
    }
    copy_dir(&seed, &run);
    (run, started.elapsed().as_secs_f64())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// How often the bench gathers PostgreSQL's statistics where autovacuum is off (its default naptime).
const ANALYZE_EVERY_SECS: u64 = 60;

/// Where the PostgreSQL under test has autovacuum off (this machine's has), a thread runs `ANALYZE` on the
/// bench's database every [`ANALYZE_EVERY_SECS`], as autovacuum would on a default installation: without it
/// the tables that grow during the run (progress, sessions, attempts) keep the statistics of the seed and the
/// planner scans them whole (the first full-size run: docs/PERFORMANCE.md). Returns the count of runs, or
/// `None` when autovacuum is on.
fn stand_in_for_autovacuum(url: &str) -> Option<std::sync::Arc<std::sync::atomic::AtomicU64>> {
    let out = Command::new("psql").args(["-Atq", "-d", url, "-c", "SHOW autovacuum"]).output().ok()?;
    if String::from_utf8_lossy(&out.stdout).trim() != "off" {
        return None;
    }
    eprintln!("autovacuum is off on {url}: analysing every {ANALYZE_EVERY_SECS} s in its stead");
    let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (count, url) = (n.clone(), url.to_string());
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(ANALYZE_EVERY_SECS));
            if Command::new("psql").args(["-q", "-d", &url, "-c", "ANALYZE"]).status().is_ok_and(|s| s.success()) {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    Some(n)
}

fn start_server(cfg: &Config, run: &Path, port: u16) -> Child {
    let log = std::fs::File::create(cfg.dir.join("serve.log")).unwrap();
    let mut c = Command::new(BIN);
    c.arg("--data-dir").arg(run);
    if let Some(url) = &cfg.database_url {
        c.arg("--database-url").arg(url);
    }
    c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DANGJIAN_MFA_REQUIRED", "false")
        .env("DANGJIAN_LOG", "warn")
        // As deploy/systemd/dangjian@.service runs it: argon2's 19 MiB blocks stay in mmap (docs/PERFORMANCE.md,
        // "AT-35 load over HTTP", memory); DJ_LOAD_GLIBC_TUNABLES="" measures glibc's default.
        .env(
            "GLIBC_TUNABLES",
            std::env::var("DJ_LOAD_GLIBC_TUNABLES").unwrap_or_else(|_| "glibc.malloc.mmap_threshold=1048576".into()),
        )
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// CPU seconds (user + system) of a process, and its peak resident memory in MiB, from /proc.
fn cpu_and_peak(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks: f64 = [11, 12].iter().filter_map(|i| fields.get(*i)?.parse::<f64>().ok()).sum();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0.0);
    (ticks / 100.0, peak_kb / 1024.0)
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| s.split_whitespace().next()?.parse().ok()).unwrap_or(0.0)
}

fn uptime_line() -> String {
    Command::new("uptime").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
}

/// The demo's `member` account: finds the practice, the exam and the materials every member sees.
async fn discover(pool: &http::Pool) -> (String, i64, i64, Vec<i64>) {
    let body = format!(r#"{{"username":"member","password":"{}"}}"#, member::PASSWORD);
    let req = http::Request {
        method: "POST",
        path: "/api/v1/auth/login",
        cookie: None,
        csrf: None,
        content_type: Some("application/json"),
        authorization: None,
        body: body.as_bytes(),
    };
    let token = pool.send(&req).await.unwrap().json()["token"].as_str().unwrap().to_owned();
    let get = |path: &'static str| {
        let token = token.clone();
        async move {
            let req = format!("Bearer {token}");
            // The bearer token goes in as a header line of its own.
            pool.send(&http::Request::get(path, None).with_authorization(&req)).await.unwrap().json()
        }
    };
    let exams = get("/api/v1/learning/exams").await;
    let find = |mode: &str| {
        exams["items"].as_array().unwrap().iter().find(|e| e["mode"] == mode).and_then(|e| e["id"].as_i64()).unwrap()
    };
    let (practice, exam) = (find("practice"), find("exam"));
    let materials = get("/api/v1/learning/materials").await;
    let materials = materials["items"].as_array().unwrap().iter().filter_map(|m| m["id"].as_i64()).collect();
    (token, practice, exam, materials)
}

/// One account over the quiz-start limit (10 a minute): 25 starts back to back with its bearer token.
async fn limit_probe(sh: &Shared, token: &str) -> (u64, u64, u64) {
    let probe = Member::new("member".into());
    let (mut ok, mut limited, mut with_retry_after) = (0, 0, 0);
    let auth = format!("Bearer {token}");
    let path = format!("/api/v1/learning/exams/{}/attempts", sh.practice);
    for _ in 0..25 {
        let mut req = http::Request::get(&path, None).with_authorization(&auth);
        req.method = "POST";
        let Some(r) = call(sh, &probe, Action::LimitProbe, Some(Bucket::QuizStart), req).await else { continue };
        match r.status {
            429 => {
                limited += 1;
                let coded = r.json()["error"]["code"] == "rate_limited";
                with_retry_after +=
                    u64::from(coded && r.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()));
            }
            s if s < 300 => ok += 1,
            _ => {}
        }
    }
    (ok, limited, with_retry_after)
}

fn ms(v: f64) -> String {
    if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn table(lines: &[(Action, Figures)], all: &Figures, secs: f64) -> String {
    let mut t = String::from(
        "| action | requests | p50 ms | p95 ms | p99 ms | max ms | 429 | 503 busy | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (a, f) in lines {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            a.label(),
            f.requests,
            ms(f.p50_ms),
            ms(f.p95_ms),
            ms(f.p99_ms),
            ms(f.max_ms),
            f.limited,
            f.busy,
            f.errors
        ));
    }
    t.push_str(&format!(
        "| **all** ({:.0} requests/s) | {} | {} | {} | {} | {} | {} | {} | {} ({:.3} %) |\n",
        all.requests as f64 / secs.max(0.001),
        all.requests,
        ms(all.p50_ms),
        ms(all.p95_ms),
        ms(all.p99_ms),
        ms(all.max_ms),
        all.limited,
        all.busy,
        all.errors,
        all.error_percent()
    ));
    t
}

/// The sign-ins of a window as the members waited them (503 `busy` waits included), as one line.
fn waited(rec: &Recorder, from: Duration, to: Duration) -> String {
    let (_, f) = rec.figures(from, to, Some(&[Action::SignInWaited]));
    format!(
        "Sign-ins as the members waited them (login page to session, waits after 503 `busy` included): {} \
         completed, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms.\n",
        f.requests,
        ms(f.p50_ms),
        ms(f.p95_ms),
        ms(f.p99_ms),
        ms(f.max_ms)
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

#[tokio::main]
async fn main() {
    let cfg = Config::from_env();
    std::fs::create_dir_all(&cfg.dir).unwrap();
    let before = uptime_line();
    let (run_dir, prepare_secs) = prepare(&cfg);
    let port = free_port();
    let mut server = start_server(&cfg, &run_dir, port);
    let analysing = cfg.database_url.as_deref().and_then(stand_in_for_autovacuum);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let pool = http::Pool::new(addr, cfg.connections);
    let ready_by = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = pool.send(&http::Request::get("/readyz", None)).await
            && r.status == 200
        {
            break;
        }
        assert!(Instant::now() < ready_by, "the server did not get ready: see {}/serve.log", cfg.dir.display());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (token, practice, exam, materials) = discover(&pool).await;
    let (server_cpu0, _) = cpu_and_peak(server.id());
    let (own_cpu0, _) = cpu_and_peak(std::process::id());

    let t0 = Instant::now() + Duration::from_secs(1);
    let steady_from = cfg.ramp;
    let burst_from = cfg.ramp + cfg.steady;
    let end = burst_from + cfg.burst_window + Duration::from_secs(95);
    let sh = Arc::new(Shared {
        pool,
        rec: Recorder::default(),
        stop: std::sync::atomic::AtomicBool::new(false),
        materials,
        practice,
        exam,
        think: cfg.think,
        visit: cfg.visit,
        last_sign_out: t0 + burst_from.saturating_sub(Duration::from_secs(120)),
    });
    let members: Vec<Arc<Member>> = (1..=cfg.members)
        .map(|i| Arc::new(Member::new(format!("{}{i}", platform::demo::LOAD_USERNAME_PREFIX))))
        .collect();
    let mut tasks = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let at = t0 + cfg.ramp.mul_f64(i as f64 / cfg.members as f64);
        tasks.push(tokio::spawn(member::live(sh.clone(), m.clone(), at, 2026 + i as u64)));
    }
    // The exam burst: the first DJ_LOAD_BURST members, each at a random instant of the window, with the
    // session her browser has open then.
    let mut rng = Rng::new(35);
    for m in members.iter().take(cfg.burst) {
        let (sh, m) = (sh.clone(), m.clone());
        let at = t0 + burst_from + cfg.burst_window.mul_f64(rng.below(1_000_000) as f64 / 1_000_000.0);
        let (answering, seed) = (Duration::from_secs(30 + rng.below(60)), rng.next_u64());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let Some(s) = m.session.lock().await.clone() else {
                sh.rec.record(
                    Action::ExamStart,
                    Instant::now(),
                    Duration::ZERO,
                    stats::Outcome::NoAnswer,
                    Some("no open session".into()),
                );
                return;
            };
            let mut rng = Rng::new(seed);
            member::quiz(&sh, &m, &s, sh.exam, (Action::ExamStart, Action::ExamSubmit), answering, &mut rng).await;
        }));
    }
    // The probe goes over the limit a minute into the steady phase.
    let probe = {
        let sh = sh.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until((t0 + steady_from + Duration::from_secs(60)).into()).await;
            limit_probe(&sh, &token).await
        })
    };

    // Progress on stderr every 30 s; the machine's load average every 10 s.
    let mut loads: Vec<(Duration, f64)> = Vec::new();
    let mut last = (0usize, Instant::now());
    while Instant::now() < t0 + end {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let now = Instant::now();
        loads.push((now.saturating_duration_since(t0), load_average()));
        if loads.len().is_multiple_of(3) {
            let n = sh.rec.count();
            eprintln!(
                "{:>5.0} s  {:>8} requests  {:>6.0}/s  load {:.2}",
                now.saturating_duration_since(t0).as_secs_f64(),
                n,
                (n - last.0) as f64 / now.duration_since(last.1).as_secs_f64(),
                load_average()
            );
            last = (n, now);
        }
    }
    sh.stop.store(true, Ordering::Relaxed);
    let (server_cpu1, server_peak) = cpu_and_peak(server.id());
    let (own_cpu1, own_peak) = cpu_and_peak(std::process::id());
    let wall = Instant::now().duration_since(t0).as_secs_f64();
    for t in tasks {
        t.abort();
    }
    let (probe_ok, probe_limited, probe_retry_after) = probe.await.unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    let after = uptime_line();

    // The report.
    let rec = &sh.rec;
    let shift = t0.saturating_duration_since(rec.started);
    let mix: Vec<Action> = vec![
        Action::LoginPage,
        Action::SignIn,
        Action::Home,
        Action::Notices,
        Action::NoticePage,
        Action::NoticeConfirm,
        Action::LearningPage,
        Action::MaterialPage,
        Action::Heartbeat,
        Action::Search,
        Action::QuizStart,
        Action::QuizSubmit,
        Action::SignOut,
    ];
    let (ramp_lines, ramp_all) = rec.figures(shift, shift + steady_from, Some(&mix));
    let (steady_lines, steady_all) = rec.figures(shift + steady_from, shift + burst_from, Some(&mix));
    let burst_only = [Action::ExamStart, Action::ExamSubmit];
    let (burst_lines, _) = rec.figures(shift + burst_from, shift + end, Some(&burst_only));
    let (during_burst, during_all) = rec.figures(shift + burst_from, shift + burst_from + cfg.burst_window, Some(&mix));
    let (_, everything) = rec.figures(Duration::ZERO, Duration::from_secs(u64::from(u32::MAX)), None);
    let starts = burst_lines.iter().find(|(a, _)| *a == Action::ExamStart).map(|(_, f)| f);
    let mix_limited_under =
        ramp_all.limited_under_limit + steady_all.limited_under_limit + during_all.limited_under_limit;
    let mix_limited = ramp_all.limited + steady_all.limited + during_all.limited;
    let steady_loads: Vec<f64> =
        loads.iter().filter(|(t, _)| *t >= steady_from && *t < burst_from).map(|(_, l)| *l).collect();
    let (load_min, load_max) = steady_loads.iter().fold((f64::MAX, 0.0f64), |(a, b), l| (a.min(*l), b.max(*l)));
    let load_mean = steady_loads.iter().sum::<f64>() / steady_loads.len().max(1) as f64;
    let db = if cfg.database_url.is_some() { "PostgreSQL" } else { "SQLite" };

    let mut r = String::new();
    let stand_in = analysing.map_or(String::new(), |n| {
        format!(
            "This PostgreSQL runs with autovacuum off: the bench analysed its database every {ANALYZE_EVERY_SECS} s \
             in its stead ({} times), as autovacuum would on a default installation.\n\n",
            n.load(std::sync::atomic::Ordering::Relaxed)
        )
    });
    r.push_str(&format!(
        "## AT-35 run: {} members on {db}, {:.0} s ramp + {:.1} min steady + {} exam starts in {:.0} s\n\n",
        cfg.members,
        cfg.ramp.as_secs_f64(),
        cfg.steady.as_secs_f64() / 60.0,
        cfg.burst,
        cfg.burst_window.as_secs_f64()
    ));
    r.push_str(&format!(
        "Conditions: `dangjian serve` (bench profile = release) and this generator on the same machine \
         ({} cores), every member from 127.0.0.1 over at most {} keep-alive connections; think time \
         {:.0} s mean (exponential), visits {:.0} min mean then sign-out and a break; seeding/copy {:.1} s.\n\
         Before: `{before}`\nAfter: `{after}`\nLoad average (1 min) during the steady phase: \
         min {load_min:.2}, mean {load_mean:.2}, max {load_max:.2}. Server CPU {:.0} s over {wall:.0} s \
         ({:.2} cores), peak RSS {server_peak:.0} MiB; generator CPU {:.0} s ({:.2} cores), peak RSS \
         {own_peak:.0} MiB. {} requests in all.\n\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cfg.connections,
        cfg.think.as_secs_f64(),
        cfg.visit.as_secs_f64() / 60.0,
        prepare_secs,
        server_cpu1 - server_cpu0,
        (server_cpu1 - server_cpu0) / wall,
        own_cpu1 - own_cpu0,
        (own_cpu1 - own_cpu0) / wall,
        everything.requests,
    ));
    r.push_str(&stand_in);
    r.push_str(&format!("### Ramp ({:.0} s: every member signs in once, spread evenly)\n\n", cfg.ramp.as_secs_f64()));
    r.push_str(&table(&ramp_lines, &ramp_all, steady_from.as_secs_f64()));
    r.push('\n');
    r.push_str(&waited(rec, shift, shift + steady_from));
    r.push_str(&format!("\n### Steady ({:.1} min, all members signed in)\n\n", cfg.steady.as_secs_f64() / 60.0));
    r.push_str(&table(&steady_lines, &steady_all, cfg.steady.as_secs_f64()));
    r.push('\n');
    r.push_str(&waited(rec, shift + steady_from, shift + burst_from));
    r.push_str(&format!(
        "\n### Exam burst ({} starts over {:.0} s while the mix goes on)\n\n",
        cfg.burst,
        cfg.burst_window.as_secs_f64()
    ));
    let empty = Figures::default();
    let burst_all = starts.unwrap_or(&empty);
    r.push_str(&table(&burst_lines, burst_all, cfg.burst_window.as_secs_f64()));
    r.push_str("\nThe mix during the burst's window:\n\n");
    r.push_str(&table(&during_burst, &during_all, cfg.burst_window.as_secs_f64()));
    r.push_str(&format!(
        "\n### Limits\n\nOne account (`member`), 25 quiz starts back to back: {probe_ok} answered, {probe_limited} \
         answered 429, {probe_retry_after} of them with `Retry-After` and `rate_limited`. The {} members behind \
         the same address: {mix_limited} answers 429 in the mix, {mix_limited_under} of them while the member \
         was within her limit by her own count.\n\n",
        cfg.members
    ));
    r.push_str(&format!(
        "### Against AT-35\n\n- steady p95 < 1 s: {} ({} ms)\n- steady error rate < 0.1 %: {} ({:.3} %; with the \
         {} sign-ins answered 503 `busy` counted as errors: {:.3} %, {})\n\
         - burst: {} exam starts in {:.0} s, p99 < 3 s: {} ({} ms, {} errors)\n\
         - 429 with `Retry-After` beyond a limit: {}; no 429 for members within theirs: {}\n",
        verdict(steady_all.p95_ms < 1000.0),
        ms(steady_all.p95_ms),
        verdict(steady_all.error_percent() < 0.1),
        steady_all.error_percent(),
        steady_all.busy,
        steady_all.error_or_busy_percent(),
        verdict(steady_all.error_or_busy_percent() < 0.1),
        burst_all.requests,
        cfg.burst_window.as_secs_f64(),
        verdict(burst_all.p99_ms < 3000.0 && burst_all.requests as usize >= cfg.burst),
        ms(burst_all.p99_ms),
        burst_all.errors,
        verdict(probe_limited > 0 && probe_limited == probe_retry_after),
        verdict(mix_limited_under == 0 && mix_limited == 0),
    ));
    let failures = rec.failures();
    if !failures.is_empty() {
        r.push_str("\nFailures by kind:\n\n");
        for (why, n) in failures.iter().take(30) {
            r.push_str(&format!("- {n} × {}\n", why.replace('\n', " ")));
        }
    }
    r.push_str("\nRequests per minute (all actions):\n\n| minute | requests/s | p95 ms | 503 busy | errors | load |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    let minutes = (end.as_secs() / 60 + 1) as usize;
    for i in 0..minutes {
        let (from, to) = (Duration::from_secs(60 * i as u64), Duration::from_secs(60 * (i as u64 + 1)));
        let (_, f) = rec.figures(shift + from, shift + to, None);
        if f.requests == 0 {
            continue;
        }
        let load = loads.iter().filter(|(t, _)| *t >= from && *t < to).map(|(_, l)| *l).fold(0.0f64, f64::max);
        r.push_str(&format!(
            "| {i} | {:.0} | {} | {} | {} | {load:.2} |\n",
            f.requests as f64 / 60.0,
            ms(f.p95_ms),
            f.busy,
            f.errors
        ));
    }
    println!("{r}");
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let file = cfg.dir.join(format!("report-{stamp}.md"));
    std::fs::write(&file, &r).unwrap();
    eprintln!("report written to {}", file.display());
}
