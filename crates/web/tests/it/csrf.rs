//! Cross-site request forgery (security.md AT-19): every state change of every route, walked from the route
//! list, is refused without the session's anti-forgery token, with another session's token, from another
//! site's page (Origin or Fetch Metadata) — and the database is exactly as it was afterwards. No GET of any
//! route, by any role, changes the database. API calls with a bearer token are exempt; API calls on the
//! session cookie are not.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::matrix::{Forge, ROLES, fixture, request, routes};
use crate::support::*;

/// Every table's content (SHA-256 of its rows, as the backup computes it), the audit log apart.
async fn snapshot(app: &TestApp, n: &mut u32) -> BTreeMap<String, String> {
    *n += 1;
    let path = app.dir.join(format!("snapshot-{n}.djbackup"));
    ops::backup::backup(&app.platform.db, &security::KeyRing::for_tests(), &path).await.unwrap();
    let (manifest, _) = ops::backup::verify(&path, Some(&security::KeyRing::for_tests())).unwrap();
    std::fs::remove_file(&path).ok();
    manifest.tables.into_iter().filter(|t| t.name != "audit_log").map(|t| (t.name, t.sha256)).collect()
}

async fn audit_count(app: &TestApp, actions: &[&str]) -> usize {
    let entries = security::audit::recent(&app.platform.db, None, 100_000).await.unwrap();
    entries.iter().filter(|e| actions.contains(&e.action.as_str()) && e.result == "denied").count()
}

fn is_page_refusal(body: &str) -> bool {
    body.contains("提交已被拒绝") && body.contains("请求编号")
}

#[tokio::test]
async fn every_forged_state_change_is_refused_and_changes_nothing() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (_, spec) = app.call("GET", "/api/openapi.json", None, None).await;
    let writes: Vec<String> = routes(&spec).into_iter().filter(|r| !r.starts_with("GET ")).collect();
    assert!(writes.len() > 30, "the walk covers the routes: {writes:?}");
    let fx = fixture(&app).await;
    let mut snaps = 0;
    let before = snapshot(&app, &mut snaps).await;
    let audited_before = audit_count(&app, &["request.forged", "request.cross_site"]).await;

    let mut refused = 0;
    let mut problems = Vec::new();
    let mut n = 10_000;
    for route in &writes {
        let api = route.contains(" /api/");
        for role in ["org_staff", "system_admin", "security_admin", "member"] {
            for forge in [Forge::NoToken, Forge::OtherSessionsToken, Forge::ForeignOrigin, Forge::CrossSiteFetch] {
                n += 1;
                let req = request(&app, &fx, route, role, true, n, forge).await;
                let (st, headers, body) = app.request(req).await;
                refused += 1;
                let ok = st == StatusCode::FORBIDDEN
                    && if api {
                        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                        let code = v["error"]["code"].as_str().unwrap_or("");
                        let want = if matches!(forge, Forge::NoToken | Forge::OtherSessionsToken) {
                            "csrf"
                        } else {
                            "cross_site"
                        };
                        code == want && v["error"]["request_id"].as_str().is_some_and(|r| !r.is_empty())
                    } else {
                        is_page_refusal(&body)
                            && headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/html")
                    };
                if !ok {
                    problems.push(format!(
                        "{route} as {role}, {forge:?}: {st} {}",
                        body.chars().take(120).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "forged requests that were not refused:\n{}", problems.join("\n"));
    assert_eq!(snapshot(&app, &mut snaps).await, before, "a refused request changed the database");
    // Every refusal is an audit entry (result denied), with the actor where the session was live.
    let audited = audit_count(&app, &["request.forged", "request.cross_site"]).await - audited_before;
    assert_eq!(audited, refused);
    let entries = security::audit::recent(&app.platform.db, None, 200).await.unwrap();
    let refusals: Vec<_> = entries.iter().filter(|e| e.action.starts_with("request.")).collect();
    assert!(refusals.len() > 100);
    assert!(refusals.iter().all(|e| e.actor != "-" && e.result == "denied"), "{refusals:?}");
    assert!(refusals.iter().all(|e| e.target.starts_with("route:POST /") || e.target.starts_with("route:P")));
    app.cleanup().await;
}

#[tokio::test]
async fn without_a_session_cookie_a_post_reaches_nothing_and_api_calls_on_the_cookie_need_the_header() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (_, spec) = app.call("GET", "/api/openapi.json", None, None).await;
    let fx = fixture(&app).await;
    let mut snaps = 0;
    let before = snapshot(&app, &mut snaps).await;
    // No cookie, no authority: every state-changing page sends the browser to the login page.
    let mut n = 20_000;
    for route in routes(&spec).iter().filter(|r| r.starts_with("POST /") && !r.starts_with("POST /api/")) {
        if web::csrf::is_pre_session(route.trim_start_matches("POST ")) {
            continue;
        }
        n += 1;
        let req = request(&app, &fx, route, "anonymous", true, n, Forge::Genuine).await;
        let (st, headers, _) = app.request(req).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{route}");
        assert!(headers.get(header::LOCATION).unwrap().to_str().unwrap().starts_with("/login"), "{route}");
    }
    assert_eq!(snapshot(&app, &mut snaps).await, before);

    // The learning heartbeat rides on the session cookie (learning.js): with the page's token in the
    // header it counts, without it it is refused.
    let route = "POST /api/v1/learning/materials/{id}/progress";
    let req = request(&app, &fx, route, "member", true, 1, Forge::CookieWithHeader).await;
    let (st, _, body) = app.request(req).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let req = request(&app, &fx, route, "member", true, 2, Forge::NoToken).await;
    assert_eq!(app.request(req).await.0, StatusCode::FORBIDDEN);
    // A bearer token is no ambient credential: no token needed.
    let req = request(&app, &fx, route, "member", true, 3, Forge::Genuine).await;
    assert!(!req.headers().contains_key(web::csrf::HEADER) && req.headers().contains_key(header::AUTHORIZATION));
    assert_eq!(app.request(req).await.0, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn no_get_of_any_route_changes_the_database() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (_, spec) = app.call("GET", "/api/openapi.json", None, None).await;
    let reads: Vec<String> = routes(&spec).into_iter().filter(|r| r.starts_with("GET ")).collect();
    let fx = fixture(&app).await;
    let mut snaps = 0;
    let before = snapshot(&app, &mut snaps).await;
    let last_seq = security::audit::recent(&app.platform.db, None, 1).await.unwrap()[0].seq;
    let mut n = 30_000;
    for route in &reads {
        for role in ROLES {
            for own in [true, false] {
                n += 1;
                let req = request(&app, &fx, route, role, own, n, Forge::Genuine).await;
                app.request(req).await;
            }
        }
    }
    assert_eq!(snapshot(&app, &mut snaps).await, before, "a GET changed the database");
    // What reads leave in the audit log: refusals, and the reads that are audited because they hand out
    // personal data (exports, one's own copy, an introduction letter, the dues ledger, a downloaded file) — never a
    // change; and the snapshot's own backup entry.
    let reads_audited: BTreeSet<&str> = [
        "person.export",
        "person.export_self",
        "backup.create",
        "transfer.letter",
        "fee.export",
        "attachment.download",
    ]
    .into();
    let entries = security::audit::entries_after(&app.platform.db, last_seq, 100_000).await.unwrap();
    assert!(!entries.is_empty());
    let unexpected: Vec<String> = entries
        .iter()
        .filter(|e| e.result != "denied" && !reads_audited.contains(e.action.as_str()))
        .map(|e| format!("{} {} {}", e.action, e.target, e.result))
        .collect();
    assert!(unexpected.is_empty(), "GETs that left an entry other than a read: {unexpected:?}");
    app.cleanup().await;
}

/// The token in the page: the hidden field of every form, `hx-headers` on `<body>` for htmx, the meta tag
/// for scripts; each page gets its own bytes, all valid for the session, none for another.
#[tokio::test]
async fn pages_carry_the_token_in_every_form_and_for_htmx() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let t = tree(&app).await;
    let p = app
        .post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
        .await;
    let cookie = app.web_login("staff", USER_PW).await;
    let other = app.web_login("sec_a", USER_PW).await;
    let session = cookie.split_once('=').unwrap().1;
    let mut seen = BTreeSet::new();
    for path in ["/", "/people/new", &format!("/people/{}", p["id"]), "/account/password", "/learning/new"] {
        let (st, html) = app.page(path, &cookie).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        let start = html.find("hx-headers='{\"X-CSRF-Token\": \"").unwrap() + 30;
        let token = &html[start..start + 128];
        assert!(seen.insert(token.to_string()), "a fresh mask per page");
        let secret = security::csrf::secret(session);
        assert!(security::csrf::verify(token, &secret));
        assert!(!security::csrf::verify(token, &security::csrf::secret(other.split_once('=').unwrap().1)));
        assert!(html.contains(&format!("<meta name=\"csrf-token\" content=\"{token}\">")));
        // Every POST form carries the hidden field, first.
        for form in html.split("<form").skip(1).filter(|f| f.split('>').next().unwrap().contains("method=\"post\"")) {
            let after_tag = form.split_once('>').unwrap().1;
            assert!(
                after_tag.starts_with("<input type=\"hidden\" name=\"csrf\" value=\""),
                "{path}: <form{}",
                &form[..80.min(form.len())]
            );
            let v = after_tag.split("value=\"").nth(1).unwrap().split('"').next().unwrap();
            assert!(security::csrf::verify(v, &secret), "{path}");
        }
    }
    app.cleanup().await;
}

/// Every template's POST form has the field (a form added later without it fails here, before a user
/// meets the 403).
#[test]
fn every_post_form_in_the_templates_has_the_token_field() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let mut forms = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for form in text.split("<form").skip(1) {
            let (tag, rest) = form.split_once('>').unwrap();
            if !tag.contains("method=\"post\"") {
                continue;
            }
            forms += 1;
            assert!(
                rest.starts_with("<input type=\"hidden\" name=\"csrf\" value=\"{{ "),
                "{}: a POST form without the anti-forgery field: <form{tag}>",
                path.display()
            );
        }
    }
    assert!(forms >= 18, "{forms}");
}

#[tokio::test]
async fn login_needs_the_login_pages_cookie_and_token() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let form = |cookie: Option<&str>, csrf: Option<&str>| {
        let mut body = format!("username=admin&password={}&next=%2F", web::auth::encode(ADMIN_PW));
        if let Some(t) = csrf {
            body = format!("csrf={t}&{body}");
        }
        let mut req = Request::builder()
            .method("POST")
            .uri("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        req.body(Body::from(body)).unwrap()
    };
    // A foreign page posting the attacker's credentials: no pre-session cookie.
    let (st, _, html) = app.request(form(None, None)).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(html.contains("登录页面已过期"), "{html}");
    // The login page sets the cookie and puts the matching token in its form.
    let (st, headers, html) = app.request(Request::builder().uri("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("dj_csrf=") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = html[start..start + 128].to_string();
    // The page again with the cookie: no new cookie, a new mask of the same secret.
    let again = Request::builder().uri("/login").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    let (_, headers, _) = app.request(again).await;
    assert!(headers.get(header::SET_COOKIE).is_none());
    // Cookie without token, token without cookie, a token of another browser's cookie: refused.
    assert_eq!(app.request(form(Some(&cookie), None)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.request(form(None, Some(&token))).await.0, StatusCode::FORBIDDEN);
    let stranger = web::csrf::token("another-browser-0123456789abcdef0123");
    assert_eq!(app.request(form(Some(&cookie), Some(&stranger))).await.0, StatusCode::FORBIDDEN);
    assert_eq!(audit_count(&app, &["request.forged"]).await, 4);
    // As the browser sends it.
    let (st, headers, _) = app.request(form(Some(&cookie), Some(&token))).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().starts_with("dj_session="));
    app.cleanup().await;
}

#[tokio::test]
async fn a_foreign_origin_or_a_missing_token_gets_403_on_both_databases() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let cookie = app.web_login("staff", USER_PW).await;
        let fields = [("name", "第九党小组"), ("kind", "group"), ("category", "student")];
        let path = format!("/orgs/{}/new", t.ba);
        let (st, _, html) = app.form_raw(&path, &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert!(is_page_refusal(&html) && html.contains("页面已过期"), "{html}");
        let token = csrf_token(&path, &cookie).unwrap();
        let mut with_token = vec![("csrf", token.as_str())];
        with_token.extend_from_slice(&fields);
        let body: Vec<String> =
            with_token.iter().map(|(k, v)| format!("{}={}", web::auth::encode(k), web::auth::encode(v))).collect();
        let foreign = Request::builder()
            .method("POST")
            .uri(&path)
            .header(header::HOST, "dangjian.example.edu.cn")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .unwrap();
        let (st, _, html) = app.request(foreign).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        assert!(html.contains("来自其他网站"), "{html}");
        let (_, children) = app.call("GET", &format!("/api/v1/orgs?parent_id={}", t.ba), None, Some(&t.staff)).await;
        assert_eq!(children["items"].as_array().map(Vec::len).unwrap_or(0), 0, "nothing was created: {children}");
        // The same form, as the page sends it, from this site.
        let (st, _, _) = app.form(&path, &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, v) = app.call("POST", "/api/v1/orgs", Some(json!({})), None).await;
        assert_eq!(v["error"]["code"], "unauthenticated", "no cookie, no bearer: the API's own answer");
        app
    })
    .await;
}
