//! TestApp: a migrated database (a temp SQLite file, or a fresh schema in the PostgreSQL at
//! DJ_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test), the router over it, and helpers to
//! call it in process. PostgreSQL is required: a missing server fails the test, it is not skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use kernel::{Backend, Db};
use platform::{Platform, Settings};
use security::KeyRing;
use security::password::PasswordParams;
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use tower::ServiceExt;

pub const ADMIN_PW: &str = "Admin-Test-2026!";
pub const USER_PW: &str = "User-Test-2026!";

pub struct TestApp {
    pub router: Router,
    pub platform: Arc<Platform>,
    pub backend: Backend,
    pub dir: std::path::PathBuf,
    pub pg_schema: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test run uses: the process id alone repeats across runs (nextest starts a process per
/// test), and a run that failed leaves its directory or schema behind, so the clock goes in too.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos % 1_000_000_000)
}

pub fn pg_url() -> String {
    std::env::var("DJ_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The tests' settings: fast password hashing, and no per-user rate limits — the suites sign in and call far
/// faster than a person; `limits.rs` tests the limits with them on ([`TestApp::with_limits`]).
fn settings(mfa_required: bool) -> Settings {
    Settings { passwords: PasswordParams::fast_for_tests(), mfa_required, rate_limits: false, ..Settings::default() }
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_mfa(backend, false).await
    }

    /// An app with the per-user rate limits on (security.md AT-35).
    pub async fn with_limits(backend: Backend) -> TestApp {
        Self::build(backend, Settings { rate_limits: true, ..settings(false) }).await
    }

    /// An app whose sign-in queue holds `queue` sign-ins waiting for password hashing (security.md AT-35's
    /// global limit), with the per-user rate limits on.
    pub async fn with_signin_queue(backend: Backend, queue: usize) -> TestApp {
        Self::build(backend, Settings { rate_limits: true, signin_queue: queue, ..settings(false) }).await
    }

    /// An app whose uploads go through `clamd` (security.md AT-21), which its status page and `/metrics`
    /// report on.
    pub async fn with_clamd(backend: Backend, clamd: platform::clamd::Clamd) -> TestApp {
        Self::build(backend, Settings { clamd: Some(clamd), ..settings(false) }).await
    }

    pub async fn with_mfa(backend: Backend, mfa_required: bool) -> TestApp {
        Self::build(backend, settings(mfa_required)).await
    }

    /// An app whose SQLite pool has the production's 8 connections, for the tests that need two at once by
    /// design (a read while a long import writes); every other test runs on one (see `build`).
    pub async fn with_wide_pool(backend: Backend) -> TestApp {
        Self::build_with_pool(backend, settings(false), 8).await
    }

    async fn build(backend: Backend, settings: Settings) -> TestApp {
        Self::build_with_pool(backend, settings, 1).await
    }

    async fn build_with_pool(backend: Backend, settings: Settings, sqlite_connections: u32) -> TestApp {
        let dir = std::env::temp_dir().join(unique("dj-test"));
        std::fs::create_dir_all(&dir).unwrap();
        let (db, pg_schema) = match backend {
            Backend::Sqlite => {
                let opts = SqliteConnectOptions::new().filename(dir.join("dangjian.db")).create_if_missing(true);
                // One connection (unless a test needs two at once by design): a transaction that asks the pool
                // for a second one fails here instead of stalling the database under load
                // (kernel::Db::connect_sqlite_with).
                let wait = std::time::Duration::from_secs(5);
                (Db::connect_sqlite_with(opts, sqlite_connections, wait).await.unwrap(), None)
            }
            Backend::Postgres => {
                let schema = unique("dj_test");
                let admin = Db::connect_postgres(PgConnectOptions::from_str(&pg_url()).unwrap())
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for the test suite: {e}", pg_url()));
                if let Db::Postgres(p) = &admin {
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(p).await.unwrap();
                }
                admin.close().await;
                let opts = PgConnectOptions::from_str(&pg_url()).unwrap().options([("search_path", schema.as_str())]);
                (Db::connect_postgres(opts).await.unwrap(), Some(schema))
            }
        };
        db.migrate().await.unwrap();
        let clamd = settings.clamd.clone();
        let platform = Arc::new(Platform::new(db, &KeyRing::for_tests(), settings).unwrap());
        platform.bootstrap_admin(Some(ADMIN_PW)).await.unwrap();
        let state = web::AppState {
            platform: platform.clone(),
            metrics: Arc::new(ops::Metrics::default()),
            ops: Arc::new(ops::Ops::new(ops::Settings { clamd, ..ops::Settings::default() })),
            secure_cookies: false,
        };
        TestApp { router: web::build_router(state), platform, backend, dir, pg_schema }
    }

    /// Drops the PostgreSQL schema or the temp dir.
    pub async fn cleanup(self) {
        self.platform.db.close().await;
        if let Some(schema) = &self.pg_schema {
            let admin = Db::connect_postgres(PgConnectOptions::from_str(&pg_url()).unwrap()).await.unwrap();
            if let Db::Postgres(p) = &admin {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(p).await.unwrap();
            }
            admin.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    pub async fn request(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Calls the JSON API; returns the status and the parsed body (Null when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        self.call_from(None, method, path, body, token).await
    }

    /// [`TestApp::call`] from a client address (`peer`), as a socket would give it.
    pub async fn call_from(
        &self,
        peer: Option<std::net::SocketAddr>,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let mut req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        if let Some(peer) = peer {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        }
        let (status, _, text) = self.request(req).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (st, body) = self
            .call("POST", "/api/v1/auth/login", Some(json!({"username": username, "password": password})), None)
            .await;
        assert_eq!(st, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn post_ok(&self, path: &str, body: Value, token: &str) -> Value {
        let (st, v) = self.call("POST", path, Some(body), Some(token)).await;
        assert!(st.is_success(), "POST {path} → {st}: {v}");
        v
    }

    /// A submitted HTML form with a session cookie, as a browser sends it from the page: with the page's
    /// anti-forgery token (and, on the login pages, the pre-session cookie the login page set); returns
    /// status, headers, body.
    pub async fn form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut cookie = cookie.map(str::to_string);
        if web::csrf::is_pre_session(path) && !cookie.as_deref().unwrap_or("").contains("dj_csrf=") {
            let pre = format!("{}={PRE_SESSION}", web::csrf::PRE_SESSION_COOKIE);
            cookie = Some(match cookie {
                Some(c) => format!("{c}; {pre}"),
                None => pre,
            });
        }
        let token = cookie.as_deref().and_then(|c| csrf_token(path, c));
        let mut all: Vec<(&str, &str)> = Vec::new();
        if let Some(t) = &token {
            all.push(("csrf", t));
        }
        all.extend_from_slice(fields);
        self.form_raw(path, &all, cookie.as_deref()).await
    }

    /// A form exactly as given: no token added.
    pub async fn form_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let body: Vec<String> =
            fields.iter().map(|(k, v)| format!("{}={}", web::auth::encode(k), web::auth::encode(v))).collect();
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.request(req.body(Body::from(body.join("&"))).unwrap()).await
    }

    /// A multipart form as a browser sends an upload form: the anti-forgery token (when given) and one file
    /// field `file`; returns status, headers, body.
    pub async fn upload_form(
        &self,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        (file_name, content_type): (&str, &str),
        bytes: &[u8],
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let boundary = "----dangjian-test-boundary";
        let mut body = Vec::new();
        if let Some(t) = csrf {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{t}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .unwrap();
        self.request(req).await
    }

    /// A multipart form with text fields and at most one file (field `file`), sent with a session cookie
    /// and the page's anti-forgery token, or with a bearer token (`bearer`, no cookie, no token): as the
    /// material form and the API's document upload send it.
    pub async fn multipart(
        &self,
        path: &str,
        auth: Auth<'_>,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let boundary = "----dangjian-test-boundary";
        let mut body = Vec::new();
        let mut part = |name: &str, value: &str| {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        };
        if let Auth::Cookie(c) = auth
            && let Some(t) = csrf_token(path, c)
        {
            part("csrf", &t);
        }
        for (k, v) in fields {
            part(k, v);
        }
        if let Some((name, content_type, bytes)) = file {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
        let req = match auth {
            Auth::Cookie(c) => req.header(header::COOKIE, c),
            Auth::Bearer(t) => req.header(header::AUTHORIZATION, format!("Bearer {t}")),
        };
        self.request(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let req = Request::builder().uri(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
        let (st, _, body) = self.request(req).await;
        (st, body)
    }

    /// Signs in through the login form; returns the session cookie ("dj_session=…").
    pub async fn web_login(&self, username: &str, password: &str) -> String {
        let (st, headers, _) =
            self.form("/login", &[("username", username), ("password", password), ("next", "/")], None).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "web login {username}");
        let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        set.split(';').next().unwrap().to_string()
    }
}

/// How a test request authenticates: a browser's session cookie, or an API client's bearer token.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Cookie(&'a str),
    Bearer(&'a str),
}

/// The pre-session cookie's value the test browser got from the login page.
pub const PRE_SESSION: &str = "0123456789abcdef0123456789abcdef-test";

/// The anti-forgery token a page would carry for `cookie` ("dj_session=…", possibly with others): bound
/// to the session, or on the login pages to the pre-session cookie.
pub fn csrf_token(path: &str, cookie: &str) -> Option<String> {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(header::COOKIE, cookie.parse().ok()?);
    let binding = if web::csrf::is_pre_session(path) {
        web::auth::cookie_of(&headers, web::csrf::PRE_SESSION_COOKIE)
    } else {
        web::auth::session_cookie_of(&headers, false)
    };
    binding.map(|b| web::csrf::token(&b))
}

/// Runs `f` once on SQLite and once on PostgreSQL, each on a fresh database.
pub async fn on_both<F, Fut>(f: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::new(backend).await;
        let app = f(app).await;
        app.cleanup().await;
    }
}

/// [`on_both`] with uploads scanned by `clamd`.
/// [`on_both`] with the production's SQLite pool ([`TestApp::with_wide_pool`]).
pub async fn on_both_wide<F, Fut>(f: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::with_wide_pool(backend).await;
        let app = f(app).await;
        app.cleanup().await;
    }
}

pub async fn on_both_with_clamd<F, Fut>(clamd: &platform::clamd::Clamd, f: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = TestApp::with_clamd(backend, clamd.clone()).await;
        let app = f(app).await;
        app.cleanup().await;
    }
}

/// A GB 11643 ID number with a correct check character.
pub fn id_number(birth: &str, seq: &str) -> String {
    let body = format!("330106{birth}{seq}");
    format!("{body}{}", platform::rules::check_char(body.as_bytes()).unwrap())
}

pub fn person(name: &str, org: i64, idn: &str, birth: &str) -> Value {
    json!({"name": name, "gender": "female", "birth_date": birth, "id_number": idn, "phone": "13800138000",
           "org_id": org, "stage": "full", "category": "student"})
}

/// The tree of api-contract's worked example: university → two colleges → a branch in each, an org_staff
/// for the root and a branch_secretary for branch A.
pub struct Tree {
    pub admin: String,
    pub uni: i64,
    pub ca: i64,
    pub cb: i64,
    pub ba: i64,
    pub bb: i64,
    pub staff: String,
    pub sec_a: String,
}

/// A member of `org` with her own account; returns her session cookie.
pub async fn member_session(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str) -> String {
    let id = app
        .post_ok("/api/v1/people", person(name, org, &id_number("19990101", seq), "1999-01-01"), &t.staff)
        .await["id"]
        .as_i64()
        .unwrap();
    let user = format!("p{seq}");
    let body = json!({"username": user, "password": USER_PW, "display_name": name, "person_id": id, "grants": []});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    app.web_login(&user, USER_PW).await
}

pub async fn tree(app: &TestApp) -> Tree {
    let admin = app.login("admin", ADMIN_PW).await;
    let org = |name: &str, kind: &str, parent: Option<i64>, category: &str| json!({"name": name, "kind": kind, "parent_id": parent, "category": category});
    let uni = app.post_ok("/api/v1/orgs", org("浙江某大学党委", "committee", None, "mixed"), &admin).await["id"]
        .as_i64()
        .unwrap();
    let ca = app
        .post_ok("/api/v1/orgs", org("艺术设计学院党委", "college_committee", Some(uni), "mixed"), &admin)
        .await["id"]
        .as_i64()
        .unwrap();
    let cb =
        app.post_ok("/api/v1/orgs", org("信息学院党委", "college_committee", Some(uni), "mixed"), &admin).await["id"]
            .as_i64()
            .unwrap();
    let ba = app
        .post_ok("/api/v1/orgs", org("艺术设计学院学生第一党支部", "branch", Some(ca), "student"), &admin)
        .await["id"]
        .as_i64()
        .unwrap();
    let bb = app.post_ok("/api/v1/orgs", org("信息学院教工党支部", "branch", Some(cb), "faculty"), &admin).await["id"]
        .as_i64()
        .unwrap();
    let user = |name: &str, role: &str, org: i64| json!({"username": name, "password": USER_PW, "display_name": name, "grants": [{"role": role, "org_id": org}]});
    app.post_ok("/api/v1/users", user("staff", "org_staff", uni), &admin).await;
    app.post_ok("/api/v1/users", user("sec_a", "branch_secretary", ba), &admin).await;
    let staff = app.login("staff", USER_PW).await;
    let sec_a = app.login("sec_a", USER_PW).await;
    Tree { admin, uni, ca, cb, ba, bb, staff, sec_a }
}

/// A second instance on the same PostgreSQL that caches sessions for a whole minute and follows the other
/// instances' announcements (abort the handle at the end).
pub async fn second_instance(app: &TestApp) -> (Arc<Platform>, tokio::task::JoinHandle<()>) {
    let settings = Settings { cache_ttl: std::time::Duration::from_secs(60), ..Default::default() };
    let other = Arc::new(Platform::new(app.platform.db.clone(), &KeyRing::for_tests(), settings).unwrap());
    let follower = tokio::spawn(other.clone().follow_other_instances(|_| {}));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // the listener connects
    (other, follower)
}

/// Whether `other` refuses `token` within two seconds (a notification, not its cache running out).
pub async fn refused_soon(other: &Platform, token: &str) -> bool {
    for _ in 0..50 {
        if other.authenticate(token).await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    false
}
