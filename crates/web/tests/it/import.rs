//! The register import and export (README 导入花名册) with the shared data set: the valid file of 500
//! people, the file with planted defects (people-2026-defects.md says which rows and how bad), all or
//! nothing, normalised values, scope refusals, masked and neutralised exports — on both databases.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use documents::sheet::{self, Cell, Format};
use serde_json::{Value, json};

use crate::support::*;

pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The rows people-2026-defects.md names: (errors, warnings, must be accepted).
fn planted() -> (BTreeSet<u32>, BTreeSet<u32>, BTreeSet<u32>) {
    let text = String::from_utf8(fixture("people-2026-defects.md")).unwrap();
    let (mut errors, mut warnings, mut accepted) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for line in text.lines().filter_map(|l| l.strip_prefix("- row ")) {
        let (n, what) = line.split_once(':').unwrap();
        let n: u32 = n.trim().parse().unwrap();
        if what.contains("(error") {
            errors.insert(n);
        } else if what.contains("(warning") {
            warnings.insert(n);
        } else if what.contains("must be accepted") {
            accepted.insert(n);
        } else {
            panic!("unknown defect line: {line}");
        }
    }
    (errors, warnings, accepted)
}

/// The organizations the files name, below one university; org staff for the university and a
/// secretary of 经济学院学生党支部.
pub struct Campus {
    pub uni: i64,
    pub econ: i64,
    pub art1: i64,
    pub staff: String,
    pub sec: String,
}

pub async fn campus(app: &TestApp) -> Campus {
    let admin = app.login("admin", ADMIN_PW).await;
    let make = async |name: &str, kind: &str, parent: Option<i64>, category: &str| -> i64 {
        let body = json!({"name": name, "kind": kind, "parent_id": parent, "category": category});
        app.post_ok("/api/v1/orgs", body, &admin).await["id"].as_i64().unwrap()
    };
    let uni = make("浙江某大学党委", "committee", None, "mixed").await;
    let econ_c = make("经济学院党委", "college_committee", Some(uni), "mixed").await;
    let art_c = make("艺术设计学院党委", "college_committee", Some(uni), "mixed").await;
    let info_c = make("信息与电子工程学院党委", "college_committee", Some(uni), "mixed").await;
    let mgmt_c = make("管理工程与电子商务学院党委", "college_committee", Some(uni), "mixed").await;
    let econ = make("经济学院学生党支部", "branch", Some(econ_c), "student").await;
    let art1 = make("艺术设计学院学生第一党支部", "branch", Some(art_c), "student").await;
    make("艺术设计学院学生第二党支部", "branch", Some(art_c), "student").await;
    make("艺术设计学院教工党支部", "branch", Some(art_c), "faculty").await;
    make("信息与电子工程学院研究生党支部", "branch", Some(info_c), "student").await;
    make("信息与电子工程学院本科生党支部", "branch", Some(info_c), "student").await;
    make("管理工程与电子商务学院教工党支部", "branch", Some(mgmt_c), "faculty").await;
    make("离退休工作处第一党支部", "branch", Some(uni), "retired").await;
    let user = |name: &str, role: &str, org: i64| json!({"username": name, "password": USER_PW, "display_name": name, "grants": [{"role": role, "org_id": org}]});
    app.post_ok("/api/v1/users", user("staff", "org_staff", uni), &admin).await;
    app.post_ok("/api/v1/users", user("sec_econ", "branch_secretary", econ), &admin).await;
    let staff = app.login("staff", USER_PW).await;
    let sec = app.login("sec_econ", USER_PW).await;
    Campus { uni, econ, art1, staff, sec }
}

/// POSTs a file to the import API; returns status and JSON.
pub async fn upload(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    content_type: &str,
    dry_run: bool,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/people/import?dry_run={dry_run}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap();
    let (st, _, text) = app.request(req).await;
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn people_total(app: &TestApp, token: &str) -> i64 {
    let (st, v) = app.call("GET", "/api/v1/people", None, Some(token)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["total"].as_i64().unwrap()
}

async fn head_count(app: &TestApp, token: &str, org: i64) -> i64 {
    let (st, v) = app.call("GET", &format!("/api/v1/orgs/{org}/stats"), None, Some(token)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["total"].as_i64().unwrap()
}

fn rows_of(report: &Value, severity: &str) -> BTreeSet<u32> {
    report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["severity"] == severity)
        .map(|i| i["row"].as_u64().unwrap() as u32)
        .collect()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    let recent = security::audit::recent(&app.platform.db, None, 500).await.unwrap();
    recent.into_iter().map(|e| (e.action, e.result, e.target)).collect()
}

#[tokio::test]
async fn import_valid_register_dry_run_then_all_500_people() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let (st, dry) = upload(&app, &c.staff, fixture("people-2026.xlsx"), XLSX, true).await;
        assert_eq!(st, StatusCode::OK, "{dry}");
        assert_eq!(dry["rows"], 500);
        assert_eq!(dry["valid_rows"], 500, "{}", dry["issues"]);
        assert_eq!(dry["error_rows"], 0);
        assert_eq!(dry["committed"], false);
        assert_eq!(dry["orgs"].as_array().unwrap().len(), 8);
        assert_eq!(people_total(&app, &c.staff).await, 0, "a dry run writes nothing");

        let started = std::time::Instant::now();
        let (st, done) = upload(&app, &c.staff, fixture("people-2026.xlsx"), XLSX, false).await;
        eprintln!("{:?}: 500 rows imported in {:?}", app.backend, started.elapsed());
        assert_eq!(st, StatusCode::OK, "{done}");
        assert_eq!(done["committed"], true);
        assert_eq!(done["imported"], 500);
        assert_eq!(people_total(&app, &c.staff).await, 500);
        // Head counts moved like create_person moves them, in every ancestor.
        assert_eq!(head_count(&app, &c.staff, c.uni).await, 500);
        assert_eq!(head_count(&app, &c.staff, c.econ).await, 72);
        let (_, stats) = app.call("GET", &format!("/api/v1/orgs/{}/stats", c.uni), None, Some(&c.staff)).await;
        let stage = |code: &str| {
            stats["by_stage"].as_array().unwrap().iter().find(|s| s["code"] == code).unwrap()["n"].as_i64().unwrap()
        };
        assert_eq!((stage("full"), stage("probationary")), (435, 65));
        let imports: Vec<_> =
            audit_actions(&app).await.into_iter().filter(|(a, r, _)| a == "person.import" && r == "ok").collect();
        assert_eq!(imports.len(), 1, "one audit entry for the batch");

        // The same file again: every row is already registered; nothing more is written.
        let (st, again) = upload(&app, &c.staff, fixture("people-2026.xlsx"), XLSX, false).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(again["error"]["code"], "import_rejected");
        assert_eq!(again["report"]["error_rows"], 500);
        assert_eq!(people_total(&app, &c.staff).await, 500);
        let verdict = security::audit::verify(&app.platform.db).await.unwrap();
        assert!(matches!(verdict, security::audit::Verdict::Intact { .. }), "{verdict:?}");
        app
    })
    .await;
}

#[tokio::test]
async fn import_defects_reports_exactly_the_planted_rows_and_writes_nothing() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let (errors, warnings, accepted) = planted();
        let (st, dry) = upload(&app, &c.staff, fixture("people-2026-defects.xlsx"), XLSX, true).await;
        assert_eq!(st, StatusCode::OK, "{dry}");
        assert_eq!(rows_of(&dry, "error"), errors, "error rows: {}", dry["issues"]);
        assert_eq!(rows_of(&dry, "warning"), warnings, "warning rows: {}", dry["issues"]);
        for row in &accepted {
            assert!(!dry["issues"].to_string().contains(&format!("\"row\":{row},")), "row {row} is accepted");
        }
        assert_eq!(dry["rows"], 500);
        assert_eq!(dry["error_rows"].as_u64().unwrap() as usize, errors.len());
        assert_eq!(dry["warning_rows"].as_u64().unwrap() as usize, warnings.len());
        assert_eq!(dry["valid_rows"].as_u64().unwrap() as usize, 500 - errors.len());
        // Each finding names its column and says what is wrong in Chinese.
        let issue = |row: u32| dry["issues"].as_array().unwrap().iter().find(|i| i["row"] == row).unwrap().clone();
        assert_eq!(issue(154)["column"], "公民身份号码");
        assert!(issue(154)["message"].as_str().unwrap().contains("校验位"));
        assert_eq!(issue(176)["column"], "入党日期");
        assert_eq!(issue(223)["column"], "转为正式党员日期");
        assert!(issue(223)["message"].as_str().unwrap().contains("第三十二条"));
        assert_eq!(issue(254)["column"], "出生日期");
        assert_eq!(issue(271)["column"], "姓名");
        assert!(issue(286)["message"].as_str().unwrap().contains("第201行"), "{}", issue(286));
        assert_eq!(issue(293)["column"], "性别");
        assert_eq!(issue(378)["column"], "联系电话");
        assert_eq!(issue(453)["column"], "所在党支部");
        assert!(!dry.to_string().contains("110108200402250968"), "no ID number echoed");

        // The real run: all or nothing.
        let (st, real) = upload(&app, &c.staff, fixture("people-2026-defects.xlsx"), XLSX, false).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{real}");
        assert_eq!(real["report"]["committed"], false);
        assert_eq!(real["report"]["imported"], 0);
        assert_eq!(people_total(&app, &c.staff).await, 0);
        assert_eq!(head_count(&app, &c.staff, c.uni).await, 0);
        assert!(!audit_actions(&app).await.iter().any(|(a, r, _)| a == "person.import" && r == "ok"));
        app
    })
    .await;
}

/// The defects file's header and the rows it says must be accepted, as a CSV (the other path in).
fn accepted_rows_csv() -> Vec<u8> {
    let (_, _, accepted) = planted();
    let rows = sheet::read(&fixture("people-2026-defects.xlsx"), Format::Xlsx).unwrap();
    let (header, data) = rows.split_first().unwrap();
    let header: Vec<&str> = header.cells.iter().map(String::as_str).collect();
    let picked: Vec<Vec<Cell>> = data
        .iter()
        .filter(|r| accepted.contains(&r.number))
        .map(|r| r.cells.iter().map(|c| Cell::Text(c.clone())).collect())
        .collect();
    assert_eq!(picked.len(), 3);
    sheet::write(Format::Csv, "x", &header, &picked).unwrap()
}

#[tokio::test]
async fn import_stores_normalised_values() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let (st, done) = upload(&app, &c.staff, accepted_rows_csv(), "text/csv", false).await;
        assert_eq!(st, StatusCode::OK, "{done}");
        assert_eq!(done["imported"], 3, "{done}");
        assert!(done["issues"].as_array().unwrap().is_empty(), "{done}");
        let find = async |q: &str| -> Value {
            let (st, v) =
                app.call("GET", &format!("/api/v1/people?q={}", web::auth::encode(q)), None, Some(&c.staff)).await;
            assert_eq!(st, StatusCode::OK);
            assert_eq!(v["items"].as_array().unwrap().len(), 1, "{q}: {v}");
            v["items"][0].clone()
        };
        // Row 124: lower-case x check digit, stored upper-case (the blind index finds either spelling).
        let liang = find("51010720040703068x").await;
        assert_eq!(liang["name"], "梁瑶");
        assert_eq!(liang["id_number"], "510107********068X");
        // Row 209: spaces around the name and full-width digits in the phone.
        let lin = find("林浩俊").await;
        assert_eq!(lin["name"], "林浩俊");
        assert_eq!(lin["phone"], "177****1277");
        // Row 391: a date typed as 2021.11.19.
        let zou = find("邹轩").await;
        assert_eq!(zou["admitted_on"], "2021-11-19");
        assert_eq!(zou["applied_on"], "2019-10-19");
        app
    })
    .await;
}

#[tokio::test]
async fn import_secretary_cannot_place_people_in_another_branch() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let (st, dry) = upload(&app, &c.sec, fixture("people-2026.xlsx"), XLSX, true).await;
        assert_eq!(st, StatusCode::OK, "{dry}");
        assert_eq!(dry["valid_rows"], 72, "her own branch's rows");
        assert_eq!(dry["error_rows"], 428);
        let msg = dry["issues"][0]["message"].as_str().unwrap();
        assert!(msg.contains("不在您的管理范围内"), "{msg}");
        let refusals: Vec<_> =
            audit_actions(&app).await.into_iter().filter(|(a, r, _)| a == "person.import" && r == "denied").collect();
        assert_eq!(refusals.len(), 1, "the refusal is audited");

        let (st, _) = upload(&app, &c.sec, fixture("people-2026.xlsx"), XLSX, false).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(people_total(&app, &c.staff).await, 0, "nothing written");

        // An account that may write nowhere is refused outright.
        let admin = app.login("admin", ADMIN_PW).await;
        let leader = json!({"username": "leader", "password": USER_PW, "display_name": "校领导", "grants": [{"role": "leader", "org_id": c.uni}]});
        app.post_ok("/api/v1/users", leader, &admin).await;
        let leader = app.login("leader", USER_PW).await;
        let (st, body) = upload(&app, &leader, fixture("people-2026.xlsx"), XLSX, true).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
        app
    })
    .await;
}

#[tokio::test]
async fn import_rejects_a_file_that_is_not_a_register() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let (st, body) = upload(&app, &c.staff, b"PK\x03\x04broken".to_vec(), XLSX, true).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"]["fields"]["file"].is_string(), "{body}");
        let csv = "名字,电话\n李红,13800138000\n".as_bytes().to_vec();
        let (st, report) = upload(&app, &c.staff, csv, "text/csv", true).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(report["issues"][0]["column"], "表头");
        assert!(report["issues"].to_string().contains("缺少必填列"), "{report}");
        app
    })
    .await;
}

async fn download(app: &TestApp, token: &str, query: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::builder()
        .uri(format!("/api/v1/people/export?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    let (st, headers) = (resp.status(), resp.headers().clone());
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes().to_vec();
    (st, headers, bytes)
}

#[tokio::test]
async fn export_is_masked_scoped_and_neutralised() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let (st, _) = upload(&app, &c.staff, fixture("people-2026.xlsx"), XLSX, false).await;
        assert_eq!(st, StatusCode::OK);
        let evil = "=HYPERLINK(\"http://evil.example/\",\"点我\")";
        let mut p = person(evil, c.econ, &id_number("20000101", "123"), "2000-01-01");
        p["gender"] = json!("male");
        app.post_ok("/api/v1/people", p, &c.staff).await;

        // The secretary asks for the whole university: she gets her branch only.
        let (st, headers, csv) = download(&app, &c.sec, &format!("org_id={}&format=csv", c.uni)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
        assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
        let rows = sheet::read(&csv, Format::Csv).unwrap();
        assert_eq!(rows.len(), 1 + 73, "header + her branch's 72 + 1");
        assert!(rows.iter().skip(1).all(|r| r.cells.get(9).map(String::as_str) == Some("经济学院学生党支部")));
        let text = String::from_utf8(csv.clone()).unwrap();
        assert!(text.contains("'=HYPERLINK("), "formula neutralised");
        assert!(!text.contains(",=HYPERLINK"));
        let source = sheet::read(&fixture("people-2026.xlsx"), Format::Xlsx).unwrap();
        for r in source.iter().skip(1) {
            let (id, phone) = (&r.cells[3], &r.cells[14]);
            assert!(!text.contains(id.as_str()) && !text.contains(phone.as_str()), "row {} unmasked", r.number);
        }
        assert!(text.contains("********"));

        // xlsx, for org staff: everyone, the same neutralisation.
        let (st, _, xlsx) = download(&app, &c.staff, &format!("org_id={}&format=xlsx", c.uni)).await;
        assert_eq!(st, StatusCode::OK);
        let rows = sheet::read(&xlsx, Format::Xlsx).unwrap();
        assert_eq!(rows.len(), 1 + 501);
        assert!(rows.iter().any(|r| r.cells.get(1).map(String::as_str) == Some(&format!("'{evil}"))));
        assert_eq!(rows[0].cells[..4], ["序号", "姓名", "性别", "公民身份号码"]);

        // Another branch: 404, audited; exports are audited too.
        let (st, _, _) = download(&app, &c.sec, &format!("org_id={}&format=csv", c.art1)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _, _) = download(&app, &c.sec, &format!("org_id={}&format=pdf", c.econ)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        let log = audit_actions(&app).await;
        assert!(log.iter().any(|(a, r, t)| a == "person.export" && r == "denied" && *t == format!("org:{}", c.art1)));
        assert_eq!(log.iter().filter(|(a, r, _)| a == "person.export" && r == "ok").count(), 2);

        // A member list with names is an export with identifying fields: an old login steps up first (AT-7).
        let stale = platform::Actor {
            user_id: 0,
            username: "stale".into(),
            display_name: "stale".into(),
            person_id: None,
            reauth_at: None,
            grants: vec![platform::model::Grant {
                role: platform::model::Role::OrgStaff,
                org_id: Some(c.uni),
                org_name: None,
                org_path: Some(format!("/{}/", c.uni)),
                starts_on: None,
                ends_on: None,
            }],
        };
        let r = app.platform.export_people(&platform::Ctx::default(), &stale, c.uni, Format::Csv).await;
        assert!(matches!(r, Err(platform::Error::ReauthRequired)), "{r:?}");
        app
    })
    .await;
}

/// A multipart form with the page's anti-forgery token (when given) and one file field, as a browser sends
/// the upload form.
async fn upload_form(
    app: &TestApp,
    cookie: &str,
    csrf: Option<&str>,
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, String, String) {
    upload_form_to(app, "/people/import", cookie, csrf, file_name, bytes).await
}

/// POSTs a page's upload form (the anti-forgery token, then `file`): status, `Location`, body.
pub(crate) async fn upload_form_to(
    app: &TestApp,
    uri: &str,
    cookie: &str,
    csrf: Option<&str>,
    file_name: &str,
    bytes: &[u8],
) -> (StatusCode, String, String) {
    let (st, headers, html) = app.upload_form(uri, cookie, csrf, (file_name, XLSX), bytes).await;
    let location = headers.get(header::LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (st, location, html)
}

/// Follows a job's page as htmx does: its status block until it no longer polls; then the whole page.
async fn job_page(app: &TestApp, cookie: &str, location: &str) -> String {
    for _ in 0..600 {
        let (st, block) = app.page(&format!("{location}/status"), cookie).await;
        assert_eq!(st, StatusCode::OK, "{block}");
        if !block.contains("hx-trigger") {
            let (st, html) = app.page(location, cookie).await;
            assert_eq!(st, StatusCode::OK);
            return html;
        }
        assert!(block.contains("<progress"), "a progress bar while it works: {block}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job at {location} did not finish");
}

pub(crate) fn hidden(html: &str, name: &str) -> String {
    let start = html.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn import_page_checks_then_confirms() {
    on_both(|app| async move {
        let c = campus(&app).await;
        let cookie = app.web_login("staff", USER_PW).await;
        let (st, list) = app.page("/people", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(list.contains("href=\"/people/import\""), "the list offers the import");
        assert!(list.contains(&format!("/people/export?org_id={}&amp;format=xlsx", c.uni)), "and the export");
        let (st, html) = app.page("/people/import", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("所在党支部"));
        // The upload form carries the page's anti-forgery token; without it the upload is refused (AT-19).
        let csrf = hidden(&html, "csrf");
        let (st, _, _) = upload_form(&app, &cookie, None, "people-2026.xlsx", &fixture("people-2026.xlsx")).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _, _) =
            upload_form(&app, &cookie, Some(&"0".repeat(128)), "people-2026.xlsx", &fixture("people-2026.xlsx")).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let csrf = Some(csrf.as_str());

        // Each upload is a job: its page polls its progress, then shows the report by row.
        let (st, location, _) =
            upload_form(&app, &cookie, csrf, "people-2026-defects.xlsx", &fixture("people-2026-defects.xlsx")).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(location.starts_with("/people/import/"), "{location}");
        let html = job_page(&app, &cookie, &location).await;
        assert!(html.contains("第154行") && html.contains("第293行") && html.contains("公民身份号码校验位不正确"));
        assert!(html.contains("错误 <strong>9</strong> 行"), "counts shown");
        assert!(!html.contains("/confirm"), "no confirm with error rows");
        assert!(html.contains(&format!("{location}/retry")), "a failed job can be retried");

        let (st, location, _) =
            upload_form(&app, &cookie, csrf, "people-2026.xlsx", &fixture("people-2026.xlsx")).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let html = job_page(&app, &cookie, &location).await;
        assert!(html.contains("确认导入 500 人"), "confirm offered");
        assert_eq!(people_total(&app, &c.staff).await, 0, "the check wrote nothing");
        let (st, _, _) = app.form(&format!("{location}/confirm"), &[], Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let done = job_page(&app, &cookie, &location).await;
        assert!(done.contains("已导入 500 人"), "{done}");
        assert_eq!(people_total(&app, &c.staff).await, 500);
        // The list of recent jobs shows both.
        let (_, list) = app.page("/people/import", &cookie).await;
        assert!(list.contains("people-2026-defects.xlsx") && list.contains("已导入 500 人"), "{list}");

        // The template and the export download as attachments.
        for path in ["/people/import/template".to_string(), format!("/people/export?org_id={}&format=csv", c.econ)] {
            let req = Request::builder().uri(&path).header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
            let (st, headers, _) = app.request(req).await;
            assert_eq!(st, StatusCode::OK, "{path}");
            assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"), "{path}");
        }
        // A secretary cannot download another branch's register.
        let sec = app.web_login("sec_econ", USER_PW).await;
        let (st, _) = app.page(&format!("/people/export?org_id={}&format=csv", c.art1), &sec).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app
    })
    .await;
}
