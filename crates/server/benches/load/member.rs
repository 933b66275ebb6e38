//! One virtual member: signs in through the login form as a browser does (the login page's pre-session cookie
//! and anti-forgery field, then the session cookie and the page's `csrf-token` for the calls scripts make), then
//! reads her notices, opens learning materials with study heartbeats, searches and takes practice quizzes, with
//! think time between, until her visit ends (she signs out and comes back later) or the run does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kernel::rng::Rng;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::sleep_until;

use crate::http::{Pool, Request, Response, attribute_after, encode};
use crate::stats::{Action, Outcome, Recorder};

/// The password every seeded account has (`platform::demo::DEMO_PASSWORD`).
pub const PASSWORD: &str = platform::demo::DEMO_PASSWORD;

/// Search words members type (the demo's materials are about these).
const QUERIES: &[&str] = &["党费", "党章", "三会一课", "发展党员", "党史", "组织生活", "支部委员会"];

/// The per-account limits of `platform::limits` a member's requests count against (docs/SECURITY.md): sign-in
/// 10 a minute, search 60, quiz start 10, answers 60; windows aligned on the minute. The member keeps her own
/// count so that a 429 can be told apart: over her limit (expected) or under it (a NAT neighbour's doing).
#[derive(Clone, Copy)]
pub enum Bucket {
    SignIn = 0,
    Search = 1,
    QuizStart = 2,
    QuizAnswer = 3,
}

const LIMITS: [u32; 4] = [10, 60, 10, 60];

#[derive(Default)]
pub struct Counts {
    windows: [(u64, u32); 4],
}

impl Counts {
    /// Counts one request against `bucket` in the current minute; returns whether it was within the limit.
    pub fn hit(&mut self, bucket: Bucket) -> bool {
        let minute = unix_now() / 60;
        let w = &mut self.windows[bucket as usize];
        if w.0 != minute {
            *w = (minute, 0);
        }
        w.1 += 1;
        w.1 <= LIMITS[bucket as usize]
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What every member shares: the connections, the recorder, the ids to visit and the run's clock.
pub struct Shared {
    pub pool: Pool,
    pub rec: Recorder,
    pub stop: AtomicBool,
    pub materials: Vec<i64>,
    pub practice: i64,
    pub exam: i64,
    /// Mean think time between two actions.
    pub think: Duration,
    /// Mean length of a visit before she signs out (and signs in again after a break).
    pub visit: Duration,
    /// Every member is signed in from this instant on (the exam burst uses the sessions then open).
    pub last_sign_out: Instant,
}

/// A signed-in browser: the session cookie and the anti-forgery token of its pages.
#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub struct Member {
    pub username: String,
    pub session: Mutex<Option<Session>>,
    pub counts: Mutex<Counts>,
}

impl Member {
    pub fn new(username: String) -> Member {
        Member { username, session: Mutex::new(None), counts: Mutex::new(Counts::default()) }
    }
}

/// Sends one request, records it as `action` and returns the answer when there was one. `bucket`: the limit
/// it counts against, if any.
pub async fn call(
    sh: &Shared,
    member: &Member,
    action: Action,
    bucket: Option<Bucket>,
    req: Request<'_>,
) -> Option<Response> {
    let within = match bucket {
        Some(b) => member.counts.lock().await.hit(b),
        None => true,
    };
    let at = Instant::now();
    let answer = sh.pool.send(&req).await;
    let took = at.elapsed();
    match answer {
        Ok(r) => {
            let (outcome, why) = match r.status {
                200..=399 => (Outcome::Ok, None),
                429 => {
                    let retry_after = r.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok());
                    (Outcome::Limited { retry_after, under_limit: within }, None)
                }
                503 if r.text().contains("登录人数较多") || r.json()["error"]["code"] == "busy" => {
                    (Outcome::Busy { retry_after: retry_after_secs(&r).is_some() }, None)
                }
                s => (Outcome::Status(s), Some(format!("{s} {}", r.text().chars().take(160).collect::<String>()))),
            };
            sh.rec.record(action, at, took, outcome, why);
            Some(r)
        }
        Err(e) => {
            sh.rec.record(action, at, took, Outcome::NoAnswer, Some(format!("no answer: {e}")));
            None
        }
    }
}

/// `Retry-After` in seconds, when the answer has one.
pub fn retry_after_secs(r: &Response) -> Option<u64> {
    r.header("retry-after")?.trim().parse().ok()
}

/// How many times a member sends the sign-in form again after a 503 `busy` before giving up for a while.
const BUSY_TRIES: u32 = 20;

/// The login page, the form, and the page the form leads to (whose `csrf-token` scripts send). An answer
/// without what a browser would find in it is recorded as a failure of that step. A 503 `busy` (the server's
/// sign-in queue is full) is what the page tells her: “登录人数较多，请稍后再试（约N秒）”; she waits the
/// `Retry-After` and sends the form again. The time from her first try until she is in is recorded as
/// [`Action::SignInWaited`].
pub async fn sign_in(sh: &Shared, m: &Member) -> Option<Session> {
    let first_try = Instant::now();
    let page = call(sh, m, Action::LoginPage, None, Request::get("/login", None)).await?;
    let mut token = attribute_after(page.text(), "name=\"csrf\"", "value=\"").map(str::to_owned);
    let (Some(pre), Some(_)) = (page.set_cookie("dj_csrf"), &token) else {
        return missing(sh, Action::LoginPage, "no pre-session cookie or csrf field");
    };
    let mut tries = 0;
    let done = loop {
        let form = format!(
            "csrf={}&username={}&password={}&next=%2F",
            encode(token.as_deref().unwrap_or_default()),
            encode(&m.username),
            encode(PASSWORD)
        );
        let req = Request {
            method: "POST",
            path: "/login",
            cookie: Some(&pre),
            csrf: None,
            content_type: Some("application/x-www-form-urlencoded"),
            authorization: None,
            body: form.as_bytes(),
        };
        let done = call(sh, m, Action::SignIn, Some(Bucket::SignIn), req).await?;
        tries += 1;
        match (done.status, retry_after_secs(&done)) {
            (503, Some(wait)) if tries < BUSY_TRIES && !sh.stop.load(Ordering::Relaxed) => {
                // The page she is shown again carries the form with its anti-forgery field.
                if let Some(t) = attribute_after(done.text(), "name=\"csrf\"", "value=\"") {
                    token = Some(t.to_owned());
                }
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            _ => break done,
        }
    };
    if done.status >= 400 {
        return None;
    }
    let waited = first_try.elapsed();
    sh.rec.record(Action::SignInWaited, first_try, waited, Outcome::Ok, None);
    let Some(cookie) = done.set_cookie("dj_session").filter(|c| c.len() > "dj_session=".len()) else {
        return missing(sh, Action::SignIn, "no session cookie");
    };
    let mut to = done.header("location").unwrap_or("/").to_owned();
    for _ in 0..3 {
        let home = call(sh, m, Action::Home, None, Request::get(&to, Some(&cookie))).await?;
        if let (300..=399, Some(next)) = (home.status, home.header("location")) {
            to = next.to_owned();
            continue;
        }
        let Some(csrf) = attribute_after(home.text(), "name=\"csrf-token\"", "content=\"") else {
            return missing(sh, Action::Home, "no csrf-token on the page");
        };
        return Some(Session { cookie, csrf: csrf.to_owned() });
    }
    missing(sh, Action::Home, "redirected more than 3 times")
}

fn missing(sh: &Shared, action: Action, why: &str) -> Option<Session> {
    sh.rec.record(action, Instant::now(), Duration::ZERO, Outcome::Status(0), Some(why.to_owned()));
    None
}

fn post<'a>(path: &'a str, s: &'a Session, json_body: &'a [u8]) -> Request<'a> {
    Request {
        method: "POST",
        path,
        cookie: Some(&s.cookie),
        csrf: Some(&s.csrf),
        content_type: Some("application/json"),
        authorization: None,
        body: json_body,
    }
}

/// Answers for a paper: a letter among each question's options, a word in each blank.
pub fn answers(attempt: &Value, rng: &mut Rng) -> Value {
    let items = attempt["items"].as_array().cloned().unwrap_or_default();
    let answers: Vec<Value> = items
        .iter()
        .map(|it| {
            let blanks = it["blanks"].as_u64().unwrap_or(0);
            let options = it["options"].as_array().map_or(0, Vec::len) as u64;
            let answer: Vec<String> = if blanks > 0 {
                (0..blanks).map(|_| "党费".to_owned()).collect()
            } else {
                let letter = (b'A' + rng.below(options.max(1)) as u8) as char;
                vec![letter.to_string()]
            };
            json!({"position": it["position"], "answer": answer})
        })
        .collect();
    json!({ "answers": answers })
}

/// Starts an attempt of `exam` and, after `answering`, submits it; `None` when the start failed.
pub async fn quiz(
    sh: &Shared,
    m: &Member,
    s: &Session,
    exam: i64,
    (start_action, submit_action): (Action, Action),
    answering: Duration,
    rng: &mut Rng,
) -> Option<()> {
    let path = format!("/api/v1/learning/exams/{exam}/attempts");
    let started = call(sh, m, start_action, Some(Bucket::QuizStart), post(&path, s, b"")).await?;
    if started.status >= 300 {
        return None;
    }
    let attempt = started.json();
    let id = attempt["id"].as_i64()?;
    tokio::time::sleep(answering).await;
    let body = answers(&attempt, rng).to_string();
    let path = format!("/api/v1/learning/attempts/{id}/submit");
    call(sh, m, submit_action, Some(Bucket::QuizAnswer), post(&path, s, body.as_bytes())).await?;
    Some(())
}

/// An exponentially distributed wait of mean `mean`, between a tenth of it and five times it.
pub fn think(rng: &mut Rng, mean: Duration) -> Duration {
    let u = (rng.below(1_000_000) as f64 + 0.5) / 1_000_000.0;
    mean.mul_f64((-u.ln()).clamp(0.1, 5.0))
}

/// One member for the whole run: visits (sign in, actions, sign out) separated by breaks.
pub async fn live(sh: Arc<Shared>, m: Arc<Member>, first_sign_in: Instant, seed: u64) {
    let mut rng = Rng::new(seed);
    sleep_until(first_sign_in.into()).await;
    while !sh.stop.load(Ordering::Relaxed) {
        let Some(s) = sign_in(&sh, &m).await else {
            // A failed sign-in is recorded; she tries again a little later, as a person would.
            tokio::time::sleep(Duration::from_secs(30)).await;
            continue;
        };
        *m.session.lock().await = Some(s.clone());
        let visit_ends = Instant::now() + think(&mut rng, sh.visit);
        // No sign-out whose break could last past `last_sign_out`: the burst finds every session open.
        let longest_break = sh.think * 4 * 5;
        let stays = |now: Instant| now < visit_ends || now + longest_break > sh.last_sign_out;
        while !sh.stop.load(Ordering::Relaxed) && stays(Instant::now()) {
            tokio::time::sleep(think(&mut rng, sh.think)).await;
            if sh.stop.load(Ordering::Relaxed) {
                return;
            }
            act(&sh, &m, &s, &mut rng).await;
        }
        if sh.stop.load(Ordering::Relaxed) {
            return;
        }
        *m.session.lock().await = None;
        let out = format!("csrf={}", encode(&s.csrf));
        let req = Request {
            method: "POST",
            path: "/logout",
            cookie: Some(&s.cookie),
            csrf: None,
            content_type: Some("application/x-www-form-urlencoded"),
            authorization: None,
            body: out.as_bytes(),
        };
        call(&sh, &m, Action::SignOut, None, req).await;
        // A break before the next visit.
        tokio::time::sleep(think(&mut rng, sh.think * 4)).await;
    }
}

/// One of the member's activities, drawn by weight: notices 30 %, a material with heartbeats 35 %, the
/// learning page 10 %, a search 10 %, a practice quiz 15 %.
async fn act(sh: &Shared, m: &Member, s: &Session, rng: &mut Rng) {
    let roll = rng.below(100);
    let cookie = Some(s.cookie.as_str());
    if roll < 30 {
        let Some(list) = call(sh, m, Action::Notices, None, Request::get("/api/v1/notices", cookie)).await else {
            return;
        };
        let items = list.json()["received"].as_array().cloned().unwrap_or_default();
        let ids: Vec<i64> = items.iter().filter_map(|n| n["id"].as_i64()).collect();
        let Some(id) = rng.pick(&ids).copied() else { return };
        tokio::time::sleep(think(rng, sh.think / 6)).await;
        call(sh, m, Action::NoticePage, None, Request::get(&format!("/notices/{id}"), cookie)).await;
        if rng.chance(0.3) {
            call(sh, m, Action::NoticeConfirm, None, post(&format!("/api/v1/notices/{id}/read"), s, b"")).await;
        }
    } else if roll < 65 {
        let Some(id) = rng.pick(&sh.materials).copied() else { return };
        call(sh, m, Action::MaterialPage, None, Request::get(&format!("/learning/{id}"), cookie)).await;
        // The page's script sends a heartbeat every 15 s while the material is open and visible.
        let path = format!("/api/v1/learning/materials/{id}/progress");
        for _ in 0..1 + rng.below(4) {
            tokio::time::sleep(Duration::from_secs(15)).await;
            if sh.stop.load(Ordering::Relaxed) {
                return;
            }
            call(sh, m, Action::Heartbeat, None, post(&path, s, br#"{"seconds":15}"#)).await;
        }
    } else if roll < 75 {
        call(sh, m, Action::LearningPage, None, Request::get("/learning", cookie)).await;
    } else if roll < 85 {
        let q = rng.pick(QUERIES).copied().unwrap_or("党费");
        let path = format!("/api/v1/search?q={}", encode(q));
        call(sh, m, Action::Search, Some(Bucket::Search), Request::get(&path, cookie)).await;
    } else {
        let answering = Duration::from_secs(20 + rng.below(40));
        quiz(sh, m, s, sh.practice, (Action::QuizStart, Action::QuizSubmit), answering, rng).await;
    }
}
