//! The web UI through real form posts: login, the Chinese field errors with values kept, scope
//! refusals as 404 pages, security headers and the cross-site guard.

#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::*;

#[tokio::test]
async fn person_form_shows_chinese_errors_and_keeps_values() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let cookie = app.web_login("staff", USER_PW).await;
        let (st, form) = app.page("/people/new", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            form.contains("艺术设计学院学生第一党支部") && form.contains("信息学院教工党支部"),
            "both branches offered"
        );
        assert!(!form.contains(">信息学院党委<"), "a college committee holds no people");
        let good = id_number("19990101", "123");
        let bad = format!("{}{}", &good[..17], if good.ends_with('0') { "1" } else { "0" });
        let ba = t.ba.to_string();
        let mut fields = vec![
            ("name", "李红"),
            ("gender", "female"),
            ("birth_date", "1999-01-01"),
            ("id_number", bad.as_str()),
            ("org_id", ba.as_str()),
            ("stage", "full"),
            ("category", "student"),
            ("phone", "13800138000"),
        ];
        let (st, _, html) = app.form("/people/new", &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("公民身份号码校验位不正确"), "error shown");
        assert!(html.contains("id=\"e-id_number\""), "beside the field");
        assert!(html.contains("value=\"李红\""), "typed values kept");
        assert!(html.contains("autofocus"), "first error focused");
        let (_, list) = app.call("GET", "/api/v1/people", None, Some(&t.staff)).await;
        assert_eq!(list["total"], 0);

        fields[3] = ("id_number", good.as_str());
        let (st, headers, _) = app.form("/people/new", &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let location = headers.get(header::LOCATION).unwrap().to_str().unwrap().to_string();
        let (st, html) = app.page(&location, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("已保存") && html.contains("330106********"), "saved, masked");
        assert!(!html.contains(&good));
        app
    })
    .await;
}

#[tokio::test]
async fn secretary_gets_a_404_page_for_another_branch() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let other = app
            .post_ok("/api/v1/people", person("王芳", t.bb, &id_number("19980202", "456"), "1998-02-02"), &t.staff)
            .await;
        let mine = app
            .post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
            .await;
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, html) = app.page(&format!("/people/{}", other["id"]), &cookie).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(html.contains("请求编号"));
        let (st, html) = app.page("/people", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("李红") && !html.contains("王芳"));
        let (st, _) = app.page(&format!("/people/{}", mine["id"]), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = app.page(&format!("/orgs/{}", t.bb), &cookie).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn pages_need_a_session_and_carry_security_headers() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (st, headers, _) = app.request(Request::builder().uri("/people").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(headers.get(header::LOCATION).unwrap().to_str().unwrap().starts_with("/login?next=/people"));
    let (st, headers, html) = app.request(Request::builder().uri("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("智慧党建"));
    let csp = headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(headers.get("x-request-id").is_some());

    let (st, _, html) = app.form("/login", &[("username", "admin"), ("password", "wrong")], None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(html.contains("用户名或密码错误"));
    let cookie = app.web_login("admin", ADMIN_PW).await;
    let (st, html) = app.page("/", &cookie).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("二次认证") && html.contains("已关闭"), "the MFA-off warning is shown to admins");

    // A cross-site form post is refused before it reaches the handler.
    let req = Request::builder()
        .method("POST")
        .uri("/logout")
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let (st, _, _) = app.request(req).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = app.page("/", &cookie).await;
    assert_eq!(st, StatusCode::OK, "still signed in");
    let (st, headers, _) = app.form("/logout", &[], Some(&cookie)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert!(headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    let (st, _) = app.page("/", &cookie).await;
    assert_eq!(st, StatusCode::SEE_OTHER, "the session ended");
    app.cleanup().await;
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    for (path, needle) in [("/healthz", "ok"), ("/readyz", "ready"), ("/metrics", "dangjian_http_requests_total")] {
        let (st, _, body) = app.request(Request::builder().uri(path).body(Body::empty()).unwrap()).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        assert!(body.contains(needle), "{path}: {body}");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn admin_creates_an_account_through_the_form() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let cookie = app.web_login("admin", ADMIN_PW).await;
        let (st, html) = app.page(&format!("/admin/users/new?org_id={}", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("艺术设计学院学生第一党支部"));
        let ba = t.ba.to_string();
        let mut fields = vec![
            ("username", "sec_b"),
            ("display_name", "王书记"),
            ("password", "weak"),
            ("role", "branch_secretary"),
            ("org_id", ba.as_str()),
        ];
        let (st, _, html) = app.form("/admin/users/new", &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("id=\"e-password\"") && html.contains("value=\"王书记\""));
        fields[2] = ("password", "Strong-Pass-2026!");
        let (st, headers, _) = app.form("/admin/users/new", &fields, Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{headers:?}");
        let token = app.login("sec_b", "Strong-Pass-2026!").await;
        let (_, me) = app.call("GET", "/api/v1/me", None, Some(&token)).await;
        assert_eq!(
            (me["grants"][0]["role"].as_str(), me["grants"][0]["org_id"].as_i64()),
            (Some("branch_secretary"), Some(t.ba))
        );
        // Once a security administrator exists, the system administrator is told beside the role field.
        let secadmin = serde_json::json!({"username": "secadmin", "password": USER_PW, "display_name": "安全员",
            "grants": [{"role": "security_admin"}]});
        app.post_ok("/api/v1/users", secadmin, &t.admin).await;
        let again = [
            ("username", "sec_c"),
            ("display_name", "赵书记"),
            ("password", "Strong-Pass-2026!"),
            ("role", "branch_secretary"),
            ("org_id", ba.as_str()),
        ];
        let (st, _, html) = app.form("/admin/users/new", &again, Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("三员分立") && html.contains("id=\"e-role\""));
        // A secretary cannot open the form.
        let sec = app.web_login("sec_a", USER_PW).await;
        let (st, _) = app.page("/admin/users/new", &sec).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        app
    })
    .await;
}

#[tokio::test]
async fn a_new_login_ends_the_session_the_browser_had() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    tree(&app).await;
    let first = app.web_login("staff", USER_PW).await;
    let (st, headers, _) =
        app.form("/login", &[("username", "staff"), ("password", USER_PW), ("next", "/")], Some(&first)).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let second = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(app.page("/", &first).await.0, StatusCode::SEE_OTHER, "the old session ended");
    assert_eq!(app.page("/", &second).await.0, StatusCode::OK);
    app.cleanup().await;
}

#[tokio::test]
async fn hsts_only_when_served_over_tls() {
    use tower::ServiceExt;
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (_, plain, _) = app.request(Request::builder().uri("/login").body(Body::empty()).unwrap()).await;
    assert!(plain.get(header::STRICT_TRANSPORT_SECURITY).is_none());
    let state = web::AppState {
        platform: app.platform.clone(),
        metrics: std::sync::Arc::new(ops::Metrics::default()),
        ops: std::sync::Arc::new(ops::Ops::default()),
        secure_cookies: true,
    };
    let resp =
        web::build_router(state).oneshot(Request::builder().uri("/login").body(Body::empty()).unwrap()).await.unwrap();
    let hsts = resp.headers().get(header::STRICT_TRANSPORT_SECURITY).unwrap().to_str().unwrap().to_string();
    assert!(hsts.starts_with("max-age="));
    app.cleanup().await;
}

#[tokio::test]
async fn behind_tls_the_session_cookie_is_host_prefixed_and_only_that_name_counts() {
    use tower::ServiceExt;
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let state = web::AppState {
        platform: app.platform.clone(),
        metrics: std::sync::Arc::new(ops::Metrics::default()),
        ops: std::sync::Arc::new(ops::Ops::default()),
        secure_cookies: true,
    };
    let router = web::build_router(state);
    // The login page hands out the pre-session cookie, __Host- too.
    let page = router.clone().oneshot(Request::builder().uri("/login").body(Body::empty()).unwrap()).await.unwrap();
    let pre = page.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(pre.starts_with("__Host-dj_csrf=") && pre.contains("; Secure") && pre.contains("Path=/;"), "{pre}");
    assert!(pre.contains("SameSite=Strict") && pre.contains("HttpOnly") && !pre.contains("Domain"), "{pre}");
    let pre = pre.split(';').next().unwrap().to_string();
    let csrf = web::csrf::token(pre.split_once('=').unwrap().1);
    let login = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &pre)
        .body(Body::from(format!("csrf={csrf}&username=admin&password={}&next=%2F", web::auth::encode(ADMIN_PW))))
        .unwrap();
    let resp = router.clone().oneshot(login).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let set = resp.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(set.starts_with("__Host-dj_session=") && set.contains("; Secure") && set.contains("Path=/;"), "{set}");
    assert!(!set.contains("Domain"), "{set}");
    let token = set.split(';').next().unwrap().split_once('=').unwrap().1.to_string();
    let page = |cookie: String| Request::builder().uri("/").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let ok = router.clone().oneshot(page(format!("__Host-dj_session={token}"))).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // The unprefixed name, which a sibling subdomain or plain HTTP could have set, is not read.
    let planted = router.clone().oneshot(page(format!("dj_session={token}"))).await.unwrap();
    assert_eq!(planted.status(), StatusCode::SEE_OTHER);
    app.cleanup().await;
}
