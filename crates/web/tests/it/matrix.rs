//! The route × role × scope matrix (security.md AT-11). `docs/ACCESS-MATRIX.md` holds, for every route
//! of the API and the UI, the status each role gets on its own object and on another organization's
//! object. This test calls every route as every role and compares. A route without a row, a row
//! without a route, or an undecided cell (`?`) fails the suite: a new route cannot ship without a
//! decision on who may call it.
//!
//! After a deliberate change, `DJ_MATRIX_RECORD=1 cargo nextest run -p web -E 'test(matrix)'` rewrites
//! the table from what the code does; review the diff line by line before committing it.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::*;

const MATRIX_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ACCESS-MATRIX.md");
pub(crate) const ROLES: [&str; 8] =
    ["anonymous", "member", "branch_secretary", "org_staff", "leader", "system_admin", "security_admin", "audit_admin"];

/// Every route the application serves: the API from its OpenAPI document, the UI and the plumbing
/// from the router's source (axum cannot list its routes).
pub(crate) fn routes(openapi: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    for src in [include_str!("../../src/ui/mod.rs"), include_str!("../../src/router.rs")] {
        for chunk in src.split(".route(\"").skip(1) {
            let (path, rest) = chunk.split_once('"').unwrap();
            let handlers = rest.split(".route(").next().unwrap();
            for (m, needle) in [("GET", "get("), ("POST", "post("), ("PATCH", "patch("), ("DELETE", "delete(")] {
                if handlers.contains(needle) {
                    out.insert(format!("{m} {path}"));
                }
            }
        }
    }
    out.retain(|r| !r.contains("/api/openapi.json"));
    out
}

/// The table: route → (role → expected (own, other)).
fn read_matrix() -> (String, BTreeMap<String, Vec<(String, String)>>) {
    let text = std::fs::read_to_string(MATRIX_PATH).unwrap();
    let mut rows = BTreeMap::new();
    let mut preamble = String::new();
    let mut in_table = false;
    for line in text.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if line.starts_with("| `") {
            in_table = true;
            let route = cells[0].trim_matches('`').to_string();
            let expect = cells[1..]
                .iter()
                .map(|c| match c.split_once('/') {
                    Some((own, other)) => (own.trim().to_string(), other.trim().to_string()),
                    None => (c.to_string(), c.to_string()),
                })
                .collect();
            rows.insert(route, expect);
        } else if !in_table && !line.starts_with("| route") && !line.starts_with("| ---") {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    (preamble, rows)
}

pub(crate) struct Fixture {
    org_own: i64,
    org_other: i64,
    person_own: i64,
    person_other: i64,
    victim: i64,
    /// A held 主题党日 of branch A (the member is invited) and one of branch B; a planned one of each, which the
    /// archive routes use (archiving the held one would change every later answer).
    meeting_own: i64,
    meeting_other: i64,
    planned_own: i64,
    planned_other: i64,
    /// A recurring plan of branch A (own) and of branch B (other), each with one meeting in 2099.
    plan_own: i64,
    plan_other: i64,
    /// A file of the minutes of the held meeting of A (own) and of B (other). The removal routes name a file
    /// that does not exist (so nothing changes): who may reach the meeting gets 404 for the file.
    file_own: i64,
    file_other: i64,
    /// A learning material published to branch A and one to branch B.
    material_own: i64,
    material_other: i64,
    /// Documents published with a PDF (the `…/file` routes).
    document_own: i64,
    document_other: i64,
    /// Question banks, questions, exams, attempts and classes of branch A (own) and branch B (other); the
    /// attempts are the members' own: an exam attempt (read, submit) and a practice attempt (check, save); and
    /// the notice each branch published (`notice`; the member of A receives A's).
    learning: BTreeMap<&'static str, (i64, i64)>,
    /// Pending transfers: within college A (branch A → A2) and within college B (B → B2); and letters out of
    /// the university from A and from B (receipt, reissue and letter routes).
    transfer_own: i64,
    transfer_other: i64,
    out_own: i64,
    out_other: i64,
    /// The verification code of the letter out of A.
    letter_code: String,
    /// A correction request of the member of branch A (own) and of a member of branch B (other).
    privacy_own: i64,
    privacy_other: i64,
    /// A checked import job of branch A's secretary (own) and one of the university's staff (other: beyond a
    /// branch secretary's reach); both `validated`.
    import_own: i64,
    import_other: i64,
    /// 党员服务: a completed 党员身份证明 request of the member of A (own) and of B (other), their certificates'
    /// numbers, and a confirmed volunteer entry of each (so the handlers' routes answer 409 or 422 and change
    /// nothing).
    service_own: i64,
    service_other: i64,
    certificate_own: String,
    certificate_other: String,
    hours_own: i64,
    hours_other: i64,
    tokens: BTreeMap<&'static str, String>,
    cookies: BTreeMap<&'static str, String>,
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    let t = tree(app).await;
    let pa = app
        .post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
        .await;
    let pb = app
        .post_ok("/api/v1/people", person("王芳", t.bb, &id_number("19980202", "456"), "1998-02-02"), &t.staff)
        .await;
    let user = |name: &str, grants: Value, person: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
    let mk = [
        ("staff_a", json!([{"role": "org_staff", "org_id": t.ca}]), None),
        ("leader_a", json!([{"role": "leader", "org_id": t.ca}]), None),
        ("audadm", json!([{"role": "audit_admin"}]), None),
        ("member_a", json!([]), pa["id"].as_i64()),
        ("victim", json!([]), None),
        // Last: once a security administrator exists, only she grants roles (三员分立).
        ("secadm", json!([{"role": "security_admin"}]), None),
    ];
    let mut victim = 0;
    for (name, grants, person) in mk {
        let v = app.post_ok("/api/v1/users", user(name, grants, person), &t.admin).await;
        if name == "victim" {
            victim = v["id"].as_i64().unwrap();
        }
    }
    let meeting =
        |org: i64, held_on: &str| json!({"org_id": org, "kind": "theme_day", "title": "主题党日", "held_on": held_on});
    let mut meetings = Vec::new();
    for (org, held_on) in [(t.ba, "2025-03-20"), (t.bb, "2025-03-20"), (t.ba, "2099-03-20"), (t.bb, "2099-03-20")] {
        meetings.push(app.post_ok("/api/v1/meetings", meeting(org, held_on), &t.staff).await["id"].as_i64().unwrap());
    }
    let plan = |org: i64| {
        json!({"org_id": org, "kind": "theme_day", "title": "主题党日", "rule": "day", "day": 20,
        "starts_on": "2099-04-01", "ends_on": "2099-04-30"})
    };
    let mut plans = Vec::new();
    for org in [t.ba, t.bb] {
        plans.push(app.post_ok("/api/v1/meeting-plans", plan(org), &t.staff).await["id"].as_i64().unwrap());
    }
    let mut files = Vec::new();
    for m in [meetings[0], meetings[1]] {
        let req = Request::builder()
            .method("POST")
            .uri(format!("/api/v1/meetings/{m}/attachments?name=minutes.pdf"))
            .header(header::AUTHORIZATION, format!("Bearer {}", t.staff))
            .body(Body::from("%PDF-1.7\n%%EOF\n"))
            .unwrap();
        let (st, _, body) = app.request(req).await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        files.push(serde_json::from_str::<Value>(&body).unwrap()["id"].as_i64().unwrap());
    }
    let material = |org: i64| json!({"title": "学习材料", "body": "按时交纳党费。", "kind": "article", "org_id": org});
    let material_own =
        app.post_ok("/api/v1/learning/materials", material(t.ba), &t.staff).await["id"].as_i64().unwrap();
    let material_other =
        app.post_ok("/api/v1/learning/materials", material(t.bb), &t.staff).await["id"].as_i64().unwrap();
    let mut documents = Vec::new();
    for org in [t.ba, t.bb] {
        let link =
            json!({"title": "学习文档", "kind": "document", "url": "https://example.edu.cn/a.pdf", "org_id": org});
        let id = app.post_ok("/api/v1/learning/materials", link, &t.staff).await["id"].as_i64().unwrap();
        let req = Request::builder()
            .method("PUT")
            .uri(format!("/api/v1/learning/materials/{id}/file?name=doc.pdf"))
            .header(header::AUTHORIZATION, format!("Bearer {}", t.staff))
            .body(Body::from("%PDF-1.7\n%%EOF\n"))
            .unwrap();
        let (st, _, body) = app.request(req).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        documents.push(id);
    }
    // Branch B gets a member with an account and a secretary, so its attempts and exams exist as well.
    app.post_ok("/api/v1/users", user("member_b", json!([]), pb["id"].as_i64()), &t.admin).await;
    let member_a_token = app.login("member_a", USER_PW).await;
    let member_b_token = app.login("member_b", USER_PW).await;
    let mut learning = BTreeMap::new();
    let mut per_branch = Vec::new();
    for (org, member) in [(t.ba, &member_a_token), (t.bb, &member_b_token)] {
        let bank = app.post_ok("/api/v1/learning/banks", json!({"title": "题库", "org_id": org}), &t.staff).await["id"]
            .as_i64()
            .unwrap();
        let q = json!({"kind": "judge", "stem": "党员应当按月交纳党费。", "correct": ["正确"], "explanation": "党章第八条。"});
        let question =
            app.post_ok(&format!("/api/v1/learning/banks/{bank}/questions"), q, &t.staff).await["id"].as_i64().unwrap();
        let exam =
            json!({"bank_id": bank, "title": "测试", "question_count": 1, "time_limit_minutes": 30, "max_attempts": 9});
        let exam = app.post_ok("/api/v1/learning/exams", exam, &t.staff).await["id"].as_i64().unwrap();
        let practice = json!({"bank_id": bank, "title": "练习", "mode": "practice", "question_count": 1});
        let practice = app.post_ok("/api/v1/learning/exams", practice, &t.staff).await["id"].as_i64().unwrap();
        let attempt = app.post_ok(&format!("/api/v1/learning/exams/{exam}/attempts"), json!({}), member).await["id"]
            .as_i64()
            .unwrap();
        let practice_attempt =
            app.post_ok(&format!("/api/v1/learning/exams/{practice}/attempts"), json!({}), member).await["id"]
                .as_i64()
                .unwrap();
        let soon = learning::exams::model::local_text(time::OffsetDateTime::now_utc() + time::Duration::minutes(10));
        let class = json!({"title": "线上党课", "lecturer": "张书记", "starts_at": soon, "link": "https://meeting.example.edu.cn/r/1", "org_id": org});
        let class = app.post_ok("/api/v1/learning/classes", class, &t.staff).await["id"].as_i64().unwrap();
        per_branch.push([bank, question, exam, attempt, practice_attempt, class]);
    }
    for (i, key) in ["bank", "question", "exam", "attempt", "practice_attempt", "class"].into_iter().enumerate() {
        learning.insert(key, (per_branch[0][i], per_branch[1][i]));
    }
    // A notice of each branch (the member of A receives A's).
    let notice = |org: i64| json!({"org_id": org, "title": "关于开展主题党日活动的通知", "body": "请按时参加。"});
    let notice_own = app.post_ok("/api/v1/notices", notice(t.ba), &t.staff).await["id"].as_i64().unwrap();
    let notice_other = app.post_ok("/api/v1/notices", notice(t.bb), &t.staff).await["id"].as_i64().unwrap();
    learning.insert("notice", (notice_own, notice_other));
    let branch =
        |name: &str, parent: i64| json!({"name": name, "kind": "branch", "parent_id": parent, "category": "student"});
    let a2 =
        app.post_ok("/api/v1/orgs", branch("艺术设计学院学生第二党支部", t.ca), &t.admin).await["id"].as_i64().unwrap();
    let b2 = app.post_ok("/api/v1/orgs", branch("信息学院学生党支部", t.cb), &t.admin).await["id"].as_i64().unwrap();
    let mut movers = Vec::new();
    for (i, (name, org)) in [("张伟", t.ba), ("刘洋", t.bb), ("陈静", t.ba), ("杨帆", t.bb)].into_iter().enumerate()
    {
        let idn = id_number("19970303", &format!("{}", 700 + i));
        movers.push(
            app.post_ok("/api/v1/people", person(name, org, &idn, "1997-03-03"), &t.staff).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let internal =
        |p: i64, to: i64| json!({"kind": "internal", "person_id": p, "to_org_id": to, "reason": "调整党支部"});
    let out = |p: i64| json!({"kind": "out", "person_id": p, "external_org": "中共杭州市西湖区委员会组织部", "reason": "毕业后到杭州市工作"});
    let transfer_own =
        app.post_ok("/api/v1/transfers", internal(movers[0], a2), &t.staff).await["id"].as_i64().unwrap();
    let transfer_other =
        app.post_ok("/api/v1/transfers", internal(movers[1], b2), &t.staff).await["id"].as_i64().unwrap();
    let out_own = app.post_ok("/api/v1/transfers", out(movers[2]), &t.staff).await["id"].as_i64().unwrap();
    let out_other = app.post_ok("/api/v1/transfers", out(movers[3]), &t.staff).await["id"].as_i64().unwrap();
    let letter = affairs::store::transfer::letters_of(&app.platform.db, &[out_own]).await.unwrap().remove(0);
    let letter_code = affairs::Transfers::new(&app.platform).verification_code(&letter);
    let accounts = [
        ("member", "member_a", USER_PW),
        ("branch_secretary", "sec_a", USER_PW),
        ("org_staff", "staff_a", USER_PW),
        ("leader", "leader_a", USER_PW),
        ("system_admin", "admin", ADMIN_PW),
        ("security_admin", "secadm", USER_PW),
        ("audit_admin", "audadm", USER_PW),
    ];
    let correction = json!({"kind": "correction", "field": "ethnicity", "proposed": "汉族", "reason": "民族登记有误"});
    let mut privacy = Vec::new();
    for username in ["member_a", "member_b"] {
        let token = app.login(username, USER_PW).await;
        let v = app.post_ok("/api/v1/me/privacy-requests", correction.clone(), &token).await;
        privacy.push(v["request"]["id"].as_i64().unwrap());
    }
    let mut imports = Vec::new();
    for (first, (username, name)) in [("sec_a", "own.csv"), ("staff_a", "other.csv")].into_iter().enumerate() {
        let token = app.login(username, USER_PW).await;
        let file = crate::register_gen::register_csv(first, 1, &["艺术设计学院学生第一党支部"]);
        let (st, job) = crate::import_jobs::upload_job(app, &token, name, file.as_bytes()).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{job}");
        let id = job["id"].as_i64().unwrap();
        assert_eq!(crate::import_jobs::settle(app, &token, id).await["status"], "validated");
        imports.push(id);
    }
    let mut services = Vec::new();
    let today = kernel::dates::iso(kernel::dates::today());
    for token in [&member_a_token, &member_b_token] {
        let r = json!({"kind": "membership_proof", "details": "求职"});
        let id = app.post_ok("/api/v1/service-requests", r, token).await["id"].as_i64().unwrap();
        let done = app.post_ok(&format!("/api/v1/service-requests/{id}/complete"), json!({}), &t.staff).await;
        let h = json!({"activity": "社区服务", "served_on": today, "hours": 2});
        let hours = app.post_ok("/api/v1/volunteer-hours", h, token).await["id"].as_i64().unwrap();
        app.post_ok(&format!("/api/v1/volunteer-hours/{hours}/confirm"), json!({}), &t.staff).await;
        services.push((id, done["certificate"]["number"].as_str().unwrap().to_string(), hours));
    }
    let mut tokens = BTreeMap::new();
    let mut cookies = BTreeMap::new();
    for (role, username, pw) in accounts {
        tokens.insert(role, app.login(username, pw).await);
        cookies.insert(role, app.web_login(username, pw).await);
    }
    Fixture {
        org_own: t.ba,
        org_other: t.bb,
        person_own: pa["id"].as_i64().unwrap(),
        person_other: pb["id"].as_i64().unwrap(),
        victim,
        meeting_own: meetings[0],
        meeting_other: meetings[1],
        planned_own: meetings[2],
        planned_other: meetings[3],
        plan_own: plans[0],
        plan_other: plans[1],
        file_own: files[0],
        file_other: files[1],
        material_own,
        material_other,
        document_own: documents[0],
        document_other: documents[1],
        learning,
        transfer_own,
        transfer_other,
        out_own,
        out_other,
        letter_code,
        privacy_own: privacy[0],
        privacy_other: privacy[1],
        import_own: imports[0],
        import_other: imports[1],
        service_own: services[0].0,
        service_other: services[1].0,
        certificate_own: services[0].1.clone(),
        certificate_other: services[1].1.clone(),
        hours_own: services[0].2,
        hours_other: services[1].2,
        tokens,
        cookies,
    }
}

fn pick(fx: &Fixture, key: &str, own: bool) -> i64 {
    let (a, b) = fx.learning[key];
    if own { a } else { b }
}

fn material(fx: &Fixture, own: bool) -> i64 {
    if own { fx.material_own } else { fx.material_other }
}

/// The material a route acts on: a document with its PDF for the `…/file` routes.
fn material_of(fx: &Fixture, route: &str, own: bool) -> i64 {
    match (route.ends_with("/file"), own) {
        (true, true) => fx.document_own,
        (true, false) => fx.document_other,
        (false, _) => material(fx, own),
    }
}

/// The transfer a route acts on: a letter out of the university for the receipt, reissue and letter routes,
/// an internal one otherwise.
fn transfer(fx: &Fixture, route: &str, own: bool) -> i64 {
    let letter = route.ends_with("/receipt") || route.ends_with("/reissue") || route.ends_with("/letter");
    match (letter, own) {
        (true, true) => fx.out_own,
        (true, false) => fx.out_other,
        (false, true) => fx.transfer_own,
        (false, false) => fx.transfer_other,
    }
}

fn form_body(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", web::auth::encode(k), web::auth::encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// How a call departs from what the browser of a signed-in user sends (`Genuine`): the forgeries that the
/// anti-forgery checks refuse (csrf.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forge {
    Genuine,
    /// A form or an API call on the session cookie without the token.
    NoToken,
    /// With the token of another session.
    OtherSessionsToken,
    /// With the right token, from another site's page (Origin, no Fetch Metadata).
    ForeignOrigin,
    /// With the right token, marked by the browser as sent by another site.
    CrossSiteFetch,
    /// An API call on the session cookie (no bearer token) with the right X-CSRF-Token header.
    CookieWithHeader,
}

/// The n-th day after 2000-01-01: the matrix's elections and terms each come after the one before.
fn committee_day(n: usize) -> String {
    let d = time::macros::date!(2000 - 01 - 01) + time::Duration::days(i64::try_from(n).unwrap());
    kernel::dates::iso(d)
}

/// One call of `route` as `role` on the own (`own = true`) or the other organization's object.
async fn call(app: &TestApp, fx: &Fixture, route: &str, role: &str, own: bool, n: usize) -> StatusCode {
    app.request(request(app, fx, route, role, own, n, Forge::Genuine).await).await.0
}

/// The request of [`call`], genuine or forged.
pub(crate) async fn request(
    app: &TestApp,
    fx: &Fixture,
    route: &str,
    role: &str,
    own: bool,
    n: usize,
    forge: Forge,
) -> Request<Body> {
    let (method, pattern) = route.split_once(' ').unwrap();
    let org = if own { fx.org_own } else { fx.org_other };
    let person_id = if own { fx.person_own } else { fx.person_other };
    let user = if own { fx.victim } else { 999_999 };
    let meeting = match (route.ends_with("/archive"), own) {
        (false, true) => fx.meeting_own,
        (false, false) => fx.meeting_other,
        (true, true) => fx.planned_own,
        (true, false) => fx.planned_other,
    };
    let privacy = if own { fx.privacy_own } else { fx.privacy_other };
    let file = match (method, own) {
        ("GET", true) => fx.file_own,
        ("GET", false) => fx.file_other,
        _ => 999_999,
    };
    let path = pattern
        .replace("/meetings/{id}/attachments/{file_id}", &format!("/meetings/{meeting}/attachments/{file}"))
        .replace("/orgs/{id}", &format!("/orgs/{org}"))
        // The fixture's minutes file, which is not in quarantine.
        .replace("/quarantine/{id}", &format!("/quarantine/{file}"))
        .replace("/people/{id}", &format!("/people/{person_id}"))
        .replace("/users/{id}", &format!("/users/{user}"))
        .replace("/meetings/{id}", &format!("/meetings/{meeting}"))
        .replace("/meeting-plans/{id}", &format!("/meeting-plans/{}", if own { fx.plan_own } else { fx.plan_other }))
        .replace("/checkin/{id}", &format!("/checkin/{meeting}"))
        .replace("/learning/materials/{id}", &format!("/learning/materials/{}", material_of(fx, route, own)))
        .replace("/learning/banks/{id}", &format!("/learning/banks/{}", pick(fx, "bank", own)))
        .replace("/learning/questions/{id}", &format!("/learning/questions/{}", pick(fx, "question", own)))
        .replace("/learning/exams/{id}", &format!("/learning/exams/{}", pick(fx, "exam", own)))
        .replace("/learning/classes/{id}", &format!("/learning/classes/{}", pick(fx, "class", own)))
        .replace(
            "/learning/attempts/{id}",
            &format!(
                "/learning/attempts/{}",
                if route.ends_with("/check") || route.ends_with("/answers") {
                    pick(fx, "practice_attempt", own)
                } else {
                    pick(fx, "attempt", own)
                }
            ),
        )
        .replace("/learning/{id}", &format!("/learning/{}", material_of(fx, route, own)))
        .replace("/notices/{id}", &format!("/notices/{}", pick(fx, "notice", own)))
        .replace("/transfers/{id}", &format!("/transfers/{}", transfer(fx, route, own)))
        .replace("/privacy-requests/{id}", &format!("/privacy-requests/{}", privacy))
        .replace("/imports/{id}", &format!("/imports/{}", if own { fx.import_own } else { fx.import_other }))
        .replace("/import/{id}", &format!("/import/{}", if own { fx.import_own } else { fx.import_other }))
        .replace("/privacy/requests/{id}", &format!("/privacy/requests/{}", privacy))
        .replace("{code}", if own { fx.letter_code.as_str() } else { "1-forged" })
        .replace(
            "/service-requests/{id}",
            &format!("/service-requests/{}", if own { fx.service_own } else { fx.service_other }),
        )
        .replace(
            "/services/hours/{id}",
            &format!("/services/hours/{}", if own { fx.hours_own } else { fx.hours_other }),
        )
        .replace(
            "/volunteer-hours/{id}",
            &format!("/volunteer-hours/{}", if own { fx.hours_own } else { fx.hours_other }),
        )
        .replace("/services/{id}", &format!("/services/{}", if own { fx.service_own } else { fx.service_other }))
        .replace("{action}", "complete")
        .replace("{decision}", "reject")
        .replace("{number}", if own { fx.certificate_own.as_str() } else { fx.certificate_other.as_str() })
        .replace("{*file}", "pdf.min.mjs")
        .replace("{file}", "app.css")
        // A grant that does not exist: who may withdraw gets 404, anyone else 403.
        .replace("{grant_id}", "999999")
        // No step is recorded in the fixture: a caller allowed to reach the person gets 404 for the step.
        .replace("{step_id}", "999999")
        .replace("{file_id}", "1");
    let api = path.starts_with("/api/");
    let idn = id_number("20000101", &format!("{:03}", n % 1000));
    let mut path = path;
    let (votes_key, post_key) = (format!("votes_{person_id}"), format!("post_{person_id}"));
    let body: Option<String> = match route {
        "GET /api/v1/people" => {
            path = format!("/api/v1/people?org_id={org}");
            None
        }
        "GET /api/v1/orgs" => {
            path = format!("/api/v1/orgs?parent_id={org}");
            None
        }
        "GET /api/v1/meetings" => {
            path = format!("/api/v1/meetings?org_id={org}");
            None
        }
        "GET /api/v1/people/export" | "GET /people/export" => {
            path = format!("{path}?org_id={org}&format=csv");
            None
        }
        "POST /api/v1/meetings" => Some(
            json!({"org_id": org, "kind": "theme_day", "title": format!("第{n}次主题党日"), "held_on": "2025-04-20"})
                .to_string(),
        ),
        "PATCH /api/v1/meetings/{id}" => Some(json!({"place": "党员活动室"}).to_string()),
        "PUT /api/v1/meetings/{id}/attendance" => Some(json!({"entries": []}).to_string()),
        "POST /api/v1/meetings/{id}/leave" => Some(json!({"reason": "外出实习"}).to_string()),
        "GET /api/v1/search" => {
            path = "/api/v1/search?q=%E5%85%9A%E8%B4%B9".into();
            None
        }
        "POST /api/v1/learning/materials" => {
            Some(json!({"title": format!("第{n}份学习材料"), "body": "按时交纳党费。", "kind": "article"}).to_string())
        }
        "POST /api/v1/learning/materials/{id}/progress" => Some(json!({"seconds": 15}).to_string()),
        "POST /api/v1/learning/banks" => Some(json!({"title": format!("第{n}个题库")}).to_string()),
        "POST /api/v1/learning/banks/{id}/questions" | "PATCH /api/v1/learning/questions/{id}" => {
            Some(json!({"kind": "judge", "stem": format!("第{n}题"), "correct": ["正确"]}).to_string())
        }
        "POST /api/v1/learning/exams" => Some(
            json!({"bank_id": pick(fx, "bank", true), "title": format!("第{n}次测试"), "question_count": 1, "time_limit_minutes": 10})
                .to_string(),
        ),
        "POST /api/v1/learning/classes" => Some(
            json!({"title": format!("第{n}次党课"), "lecturer": "张书记", "starts_at": "2099-01-01 19:00", "room": "党员活动室"})
                .to_string(),
        ),
        "POST /api/v1/learning/attempts/{id}/check" => Some(json!({"position": 1, "answer": ["A"]}).to_string()),
        "PUT /api/v1/orgs/{id}/points-rules" => {
            Some(json!({"rules": [{"action": "studied", "enabled": false, "points": 1, "daily_cap": 6}]}).to_string())
        }
        "PUT /api/v1/orgs/{id}/points-board" | "PUT /api/v1/learning/points/optin" => {
            Some(json!({"enabled": false}).to_string())
        }
        // Each call a day later than the last, so every allowed call opens a term (201 / 303).
        "POST /api/v1/orgs/{id}/committee/elections" => Some(
            json!({"held_on": committee_day(n), "entitled": 1, "present": 1, "seats": 1,
                   "candidates": [{"person_id": person_id, "votes": 1, "post": "secretary"}]})
            .to_string(),
        ),
        "POST /api/v1/orgs/{id}/committee/terms" => Some(
            json!({"elected_on": committee_day(n), "members": [{"person_id": person_id, "post": "secretary"}]})
                .to_string(),
        ),
        "POST /orgs/{id}/committee/election" => Some(form_body(&[
            ("held_on", committee_day(n)),
            ("entitled", "1".into()),
            ("present", "1".into()),
            ("seats", "1".into()),
            (votes_key.as_str(), "1".into()),
        ])),
        "POST /orgs/{id}/committee/term" => {
            Some(form_body(&[("elected_on", committee_day(n)), (post_key.as_str(), "secretary".into())]))
        }
        // A postponement without its reason and approval: 422 where the role may record it, and nothing changes.
        "POST /api/v1/orgs/{id}/committee/postpone" => Some(json!({"postpone_to": "2001-01-01"}).to_string()),
        "POST /orgs/{id}/committee/postpone" => Some(form_body(&[("postpone_to", "2001-01-01".into())])),
        "POST /api/v1/notices" => {
            Some(json!({"org_id": org, "title": format!("第{n}号通知"), "body": "请按时参加。"}).to_string())
        }
        "POST /notices/new" => Some(form_body(&[
            ("org_id", org.to_string()),
            ("title", format!("第{n}号通知")),
            ("body", "请按时参加。".into()),
        ])),
        "POST /learning/new" => Some(form_body(&[
            ("title", format!("第{n}份学习材料")),
            ("kind", "article".into()),
            ("body", "按时交纳党费。".into()),
        ])),
        // Development: a date in the future, so a role allowed to record reaches the check (422).
        "POST /api/v1/people/{id}/development/steps" => {
            Some(json!({"step": "application", "done_on": "2999-01-01"}).to_string())
        }
        "POST /api/v1/people/{id}/development/steps/{step_id}/attachments" => Some("%PDF-1.7\n%%EOF\n".into()),
        "POST /api/v1/meetings/{id}/attachments" => Some("%PDF-1.7\n%%EOF\n".into()),
        // Transfers: a date in the future, so a role allowed to act reaches the check (422) and changes nothing.
        "POST /api/v1/transfers/{id}/accept"
        | "POST /api/v1/transfers/{id}/cancel"
        | "POST /api/v1/transfers/{id}/reissue" => {
            Some(json!({"on": "2999-01-01", "issued_on": "2999-01-01"}).to_string())
        }
        "POST /api/v1/transfers/{id}/receipt" => Some(json!({"received_on": "2999-01-01"}).to_string()),
        "POST /transfers/{id}/accept"
        | "POST /transfers/{id}/cancel"
        | "POST /transfers/{id}/receipt"
        | "POST /transfers/{id}/reissue" => Some(form_body(&[("on", "2999-01-01".into())])),
        "GET /transfers/new" => {
            path = format!("/transfers/new?person_id={person_id}");
            None
        }
        "POST /api/v1/auth/login" => Some(json!({"username": "nobody", "password": "Wrong-Pass-1"}).to_string()),
        "POST /api/v1/auth/second-factor" | "POST /api/v1/auth/mfa/confirm" => {
            Some(json!({"challenge": "0".repeat(64), "otp": "123456"}).to_string())
        }
        "POST /api/v1/auth/mfa/enrol" => Some(json!({"challenge": "0".repeat(64)}).to_string()),
        // Wrong old password / wrong password: reaching the check is what the matrix records.
        "POST /api/v1/auth/password" => {
            Some(json!({"old_password": "Wrong-Pass-1", "new_password": "Another-Pass-2026!"}).to_string())
        }
        "POST /api/v1/auth/reauth" => Some(json!({"password": "Wrong-Pass-1"}).to_string()),
        "POST /api/v1/me/phone" => Some(json!({"phone": "13800138000"}).to_string()),
        "POST /api/v1/orgs" => Some(
            json!({"name": format!("第{n}党小组"), "kind": "group", "parent_id": org, "category": "student"})
                .to_string(),
        ),
        "POST /api/v1/people" => Some(person(&format!("新人{n}"), org, &idn, "2000-01-01").to_string()),
        "PATCH /api/v1/people/{id}" => Some(json!({"ethnicity": "汉族"}).to_string()),
        "POST /api/v1/users" => Some(
            json!({"username": format!("new{n}"), "password": USER_PW, "display_name": "新账号", "grants": []})
                .to_string(),
        ),
        "POST /api/v1/people/{id}/reveal" => Some(json!({"field": "phone", "reason": "核对政审材料"}).to_string()),
        "POST /api/v1/users/{id}/grants" => Some(json!({"role": "leader", "org_id": org}).to_string()),
        "POST /api/v1/users/{id}/grants/{grant_id}/withdraw" => Some(json!({"reason": "任期调整"}).to_string()),
        // No file is in quarantine in the fixture: 404 or 409 where the role may release (nothing changes).
        "POST /api/v1/security/quarantine/{id}/release" => Some(json!({"reason": "经核实为误报"}).to_string()),
        // A copy cannot be filed for someone else: 422 where the role keeps her record, nothing written.
        "POST /api/v1/people/{id}/privacy-requests" => Some(json!({"kind": "copy"}).to_string()),
        // The account has no shared-account flag: 409 where the role may review (nothing changes).
        "POST /api/v1/users/{id}/shared-account-review" => Some(json!({"note": "经核实为本人多设备登录"}).to_string()),
        "POST /api/v1/rules/fee" => Some(json!({"category": "student"}).to_string()),
        "POST /api/v1/rules/development" => Some(json!({"birth_date": "2000-01-01"}).to_string()),
        "POST /api/v1/rules/committee" => Some(json!({"formal_members": 6, "probationary_members": 3}).to_string()),
        "POST /api/v1/rules/transfer" => Some(json!({}).to_string()),
        "POST /api/v1/rules/status" => Some(json!({"as_of": "2026-01-01"}).to_string()),
        "POST /login" => Some(form_body(&[("username", "nobody".into()), ("password", "Wrong-Pass-1".into())])),
        "POST /login/mfa" | "POST /login/mfa/confirm" => Some(form_body(&[("otp", "123456".into())])),
        "POST /account/password" => Some(form_body(&[
            ("old_password", "Wrong-Pass-1".into()),
            ("new_password", "Another-Pass-2026!".into()),
            ("confirm", "Another-Pass-2026!".into()),
        ])),
        "POST /account/mfa/confirm" => Some(form_body(&[("otp", "123456".into())])),
        "POST /reauth" => Some(form_body(&[("password", "Wrong-Pass-1".into())])),
        "POST /account/phone" => Some(form_body(&[("phone", "13800138000".into())])),
        "POST /orgs/{id}/new" => Some(form_body(&[
            ("name", format!("第{n}党小组")),
            ("kind", "group".into()),
            ("category", "student".into()),
        ])),
        "POST /people/new" => Some(form_body(&[
            ("name", format!("新人{n}")),
            ("gender", "female".into()),
            ("birth_date", "2000-01-01".into()),
            ("id_number", idn.clone()),
            ("phone", "13800138000".into()),
            ("org_id", org.to_string()),
            ("stage", "full".into()),
            ("category", "student".into()),
        ])),
        "POST /checkin/{id}" => Some(form_body(&[("t", "1.forged".into())])),
        // 党员服务: a member files (a new request each time); the handlers' routes meet a completed request, a
        // confirmed entry or a revocation without its reason (409 / 422 where the role may act).
        "POST /api/v1/service-requests" => Some(json!({"kind": "other", "details": format!("第{n}次申请")}).to_string()),
        "POST /services" => Some(form_body(&[("kind", "other".into()), ("details", format!("第{n}次申请"))])),
        "POST /api/v1/volunteer-hours" => Some(
            json!({"activity": format!("第{n}次志愿服务"), "served_on": "2025-03-01", "hours": 1}).to_string(),
        ),
        "POST /services/hours" => Some(form_body(&[
            ("activity", format!("第{n}次志愿服务")),
            ("served_on", "2025-03-01".into()),
            ("hours", "1".into()),
        ])),
        "POST /people/{id}/reveal" => Some(form_body(&[("field", "phone".into()), ("reason", "核对政审材料".into())])),
        "POST /people/{id}/edit" => Some(form_body(&[("ethnicity", "汉族".into())])),
        // A refusal without its reason: 422 where the role may decide, and nothing changes.
        "POST /privacy/requests/{id}" => Some(form_body(&[("decision", "refuse".into())])),
        "POST /api/v1/privacy-requests/{id}/decision" => Some(json!({"decision": "refuse"}).to_string()),
        "POST /admin/users/{id}/grants" => Some(form_body(&[("role", "leader".into()), ("org_id", org.to_string())])),
        "POST /admin/users/{id}/grants/{grant_id}/withdraw" => Some(form_body(&[("reason", "任期调整".into())])),
        "POST /admin/users/{id}/shared-review" => Some(form_body(&[("note", "经核实为本人多设备登录".into())])),
        "POST /admin/quarantine/{id}/release" => Some(form_body(&[("reason", "经核实为误报".into())])),
        "POST /people/{id}/privacy-request" => Some(form_body(&[("kind", "copy".into())])),
        "POST /admin/users/new" => Some(form_body(&[
            ("username", format!("ui{n}")),
            ("display_name", "新账号".into()),
            ("password", USER_PW.into()),
        ])),
        _ if method == "POST" || method == "PATCH" || method == "PUT" => {
            Some(if api { "{}".into() } else { String::new() })
        }
        _ => None,
    };
    let mut req = Request::builder().method(method).uri(&path);
    // Logging out ends the session that asks: use a fresh one each time.
    let fresh;
    let (token, cookie) = if route.ends_with("/logout") && role != "anonymous" {
        let name = match role {
            "member" => "member_a",
            "branch_secretary" => "sec_a",
            "org_staff" => "staff_a",
            "leader" => "leader_a",
            "system_admin" => "admin",
            "security_admin" => "secadm",
            _ => "audadm",
        };
        let pw = if role == "system_admin" { ADMIN_PW } else { USER_PW };
        let bearer = api && matches!(forge, Forge::Genuine | Forge::ForeignOrigin | Forge::CrossSiteFetch);
        fresh = if bearer { app.login(name, pw).await } else { app.web_login(name, pw).await };
        if bearer { (Some(fresh.as_str()), None) } else { (None, Some(fresh.as_str())) }
    } else {
        (fx.tokens.get(role).map(String::as_str), fx.cookies.get(role).map(String::as_str))
    };
    // A browser sends the page's anti-forgery token with every form (and, on the login pages, the cookie
    // the login page set): the matrix records what the roles may do, not what a forged request gets.
    let mut body = body;
    let cookie = match cookie {
        _ if !api && web::csrf::is_pre_session(&path) => {
            let pre = format!("{}={PRE_SESSION}", web::csrf::PRE_SESSION_COOKIE);
            Some(cookie.map(|c| format!("{c}; {pre}")).unwrap_or(pre))
        }
        c => c.map(str::to_string),
    };
    let other_cookie = || fx.cookies.get(if role == "member" { "leader" } else { "member" }).cloned();
    let token_for = |c: &str| match forge {
        Forge::OtherSessionsToken => other_cookie().and_then(|o| {
            let o = if web::csrf::is_pre_session(&path) {
                format!("{}=another-browser-0123456789abcdef0123", web::csrf::PRE_SESSION_COOKIE)
            } else {
                o
            };
            csrf_token(&path, &o)
        }),
        _ => csrf_token(&path, c),
    };
    if api && matches!(forge, Forge::Genuine | Forge::ForeignOrigin | Forge::CrossSiteFetch) {
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
    } else if let Some(c) = cookie {
        let t = token_for(&c);
        match (api, forge) {
            (_, Forge::NoToken) => {}
            (true, _) => {
                if let Some(t) = t {
                    req = req.header(web::csrf::HEADER, t);
                }
            }
            (false, _) => {
                if let (Some(b), Some(t)) = (body.as_mut(), t) {
                    *b = if b.is_empty() { format!("csrf={t}") } else { format!("csrf={t}&{b}") };
                }
            }
        }
        req = req.header(header::COOKIE, c);
    }
    match forge {
        Forge::ForeignOrigin => {
            req = req.header(header::HOST, "dangjian.example.edu.cn").header(header::ORIGIN, "https://evil.example")
        }
        Forge::CrossSiteFetch => req = req.header("sec-fetch-site", "cross-site"),
        _ => {}
    }
    let req = match body {
        Some(b) if api => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b)),
        Some(b) => req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(b)),
        None => req.body(Body::empty()),
    };
    req.unwrap()
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (_, spec) = app.call("GET", "/api/openapi.json", None, None).await;
    let served = routes(&spec);
    let (preamble, matrix) = read_matrix();
    let fx = fixture(&app).await;

    let mut observed: BTreeMap<String, Vec<(u16, u16)>> = BTreeMap::new();
    let mut n = 0;
    for route in &served {
        let mut row = Vec::new();
        for role in ROLES {
            n += 1;
            let own = call(&app, &fx, route, role, true, n).await.as_u16();
            let objectless = !route.contains('{')
                && !matches!(
                    route.as_str(),
                    "GET /api/v1/people"
                        | "GET /api/v1/orgs"
                        | "POST /api/v1/orgs"
                        | "POST /api/v1/people"
                        | "POST /people/new"
                        | "GET /api/v1/meetings"
                        | "POST /api/v1/meetings"
                        | "GET /api/v1/people/export"
                        | "GET /people/export"
                );
            let other = if objectless {
                own
            } else {
                n += 1;
                call(&app, &fx, route, role, false, n).await.as_u16()
            };
            row.push((own, other));
        }
        observed.insert(route.clone(), row);
    }

    if std::env::var("DJ_MATRIX_RECORD").is_ok() {
        let mut out = preamble.trim_end().to_string();
        out.push_str("\n\n| route | ");
        out.push_str(&ROLES.join(" | "));
        out.push_str(" |\n| --- |");
        out.push_str(&" --- |".repeat(ROLES.len()));
        out.push('\n');
        for (route, row) in &observed {
            let cells: Vec<String> =
                row.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a} / {b}") }).collect();
            out.push_str(&format!("| `{route}` | {} |\n", cells.join(" | ")));
        }
        std::fs::write(MATRIX_PATH, out).unwrap();
    }

    let mut problems = Vec::new();
    for route in served.iter().filter(|r| !matrix.contains_key(*r)) {
        problems.push(format!("{route}: served but not in docs/ACCESS-MATRIX.md (decide who may call it)"));
    }
    for route in matrix.keys().filter(|r| !served.contains(*r)) {
        problems.push(format!("{route}: in docs/ACCESS-MATRIX.md but not served"));
    }
    for (route, expect) in &matrix {
        let Some(got) = observed.get(route) else { continue };
        for ((role, (own, other)), (got_own, got_other)) in ROLES.iter().zip(expect).zip(got) {
            if own == "?" || other == "?" {
                problems.push(format!("{route} as {role}: undecided"));
                continue;
            }
            if own != &got_own.to_string() || other != &got_other.to_string() {
                problems.push(format!("{route} as {role}: expected {own} / {other}, got {got_own} / {got_other}"));
            }
        }
    }
    assert!(problems.is_empty(), "access matrix:\n{}", problems.join("\n"));
    app.cleanup().await;
}
