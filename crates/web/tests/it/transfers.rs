//! 组织关系转接 and 党籍状态 (issue 3 items 4 and 5), on SQLite and PostgreSQL: an accepted transfer moves
//! the person and the head counts of both sides at once; a returned one leaves everything as it was; a
//! failure in the middle writes nothing; letters follow TRF-02/03's worked examples; the other college's
//! secretary gets 404 and a member 403; the letter is a PDF that names the person; status changes keep their
//! history and raise flags, never decisions.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use security::audit;
use serde_json::{Value, json};

use crate::support::*;

async fn total(app: &TestApp, org: i64, token: &str) -> i64 {
    let (st, v) = app.call("GET", &format!("/api/v1/orgs/{org}/stats"), None, Some(token)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["total"].as_i64().unwrap()
}

async fn actions(app: &TestApp) -> Vec<(String, String, String)> {
    audit::entries_after(&app.platform.db, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.result, e.target))
        .collect()
}

/// The tree plus a secretary of branch B (another college) and a member of branch A.
struct World {
    t: Tree,
    sec_b: String,
    member: String,
    li: i64,
}

async fn world(app: &TestApp) -> World {
    let t = tree(app).await;
    let li = app
        .post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
        .await["id"]
        .as_i64()
        .unwrap();
    let user = |name: &str, grants: Value, person: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
    app.post_ok("/api/v1/users", user("sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None), &t.admin)
        .await;
    app.post_ok("/api/v1/users", user("lihong", json!([]), Some(li)), &t.admin).await;
    let sec_b = app.login("sec_b", USER_PW).await;
    let member = app.login("lihong", USER_PW).await;
    World { t, sec_b, member, li }
}

fn internal(person: i64, to: i64) -> Value {
    json!({"kind": "internal", "person_id": person, "to_org_id": to, "reason": "转专业后编入新学院党支部"})
}

#[tokio::test]
async fn accepting_moves_the_person_and_both_sides_counts_at_once() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let before =
            (total(&app, t.ca, &t.staff).await, total(&app, t.cb, &t.staff).await, total(&app, t.uni, &t.staff).await);
        let tr = app.post_ok("/api/v1/transfers", internal(w.li, t.bb), &t.sec_a).await;
        let id = tr["id"].as_i64().unwrap();
        assert_eq!(tr["state"], "pending");
        assert_eq!(tr["can_accept"], false, "the sender cannot accept for the receiver");
        // Pending: still in branch A, visible to both sides.
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", w.li), None, Some(&t.staff)).await;
        assert_eq!(p["org_id"], t.ba);
        let (_, out) = app.call("GET", "/api/v1/transfers", None, Some(&t.sec_a)).await;
        assert_eq!(out["outgoing"][0]["id"], id);
        let (_, inbox) = app.call("GET", "/api/v1/transfers", None, Some(&w.sec_b)).await;
        assert_eq!(inbox["incoming"][0]["id"], id);
        assert_eq!(inbox["incoming"][0]["can_accept"], true);
        // A second transfer of the same person while one is pending is refused.
        let (st, _) = app.call("POST", "/api/v1/transfers", Some(internal(w.li, t.bb)), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::CONFLICT);

        let (st, done) =
            app.call("POST", &format!("/api/v1/transfers/{id}/accept"), Some(json!({})), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "accepted");
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", w.li), None, Some(&t.staff)).await;
        assert_eq!(p["org_id"], t.bb);
        assert_eq!(total(&app, t.ca, &t.staff).await, before.0 - 1);
        assert_eq!(total(&app, t.cb, &t.staff).await, before.1 + 1);
        assert_eq!(total(&app, t.uni, &t.staff).await, before.2, "the university keeps its head count");
        // The receiving secretary now reads the person; the sending one no longer does, but both see the history.
        let (st, _) = app.call("GET", &format!("/api/v1/people/{}", w.li), None, Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = app.call("GET", &format!("/api/v1/people/{}", w.li), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.call("GET", &format!("/api/v1/transfers/{id}"), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "the sender keeps seeing its transfer");
        // Once accepted it cannot be accepted again.
        let (st, _) =
            app.call("POST", &format!("/api/v1/transfers/{id}/accept"), Some(json!({})), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let log = actions(&app).await;
        assert!(log.iter().any(|(a, r, tg)| a == "transfer.accept" && r == "ok" && tg == &format!("transfer:{id}")));
        assert!(log.iter().any(|(a, r, _)| a == "transfer.create" && r == "ok"));
        app
    })
    .await;
}

#[tokio::test]
async fn returning_leaves_everything_as_it_was_and_needs_a_reason() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let before = (total(&app, t.ca, &t.staff).await, total(&app, t.cb, &t.staff).await);
        let id = app.post_ok("/api/v1/transfers", internal(w.li, t.bb), &t.sec_a).await["id"].as_i64().unwrap();
        let (st, v) = app
            .call("POST", &format!("/api/v1/transfers/{id}/return"), Some(json!({"reason": " "})), Some(&w.sec_b))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["reason"].as_str().unwrap().contains("退回原因"), "{v}");
        let (st, v) = app
            .call(
                "POST",
                &format!("/api/v1/transfers/{id}/return"),
                Some(json!({"reason": "请核实接收支部"})),
                Some(&w.sec_b),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["state"], "returned");
        assert_eq!(v["return_reason"], "请核实接收支部");
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", w.li), None, Some(&t.staff)).await;
        assert_eq!(p["org_id"], t.ba);
        assert_eq!((total(&app, t.ca, &t.staff).await, total(&app, t.cb, &t.staff).await), before);
        // A returned transfer frees the person for a new one; the sender may withdraw that one.
        let id2 = app.post_ok("/api/v1/transfers", internal(w.li, t.bb), &t.sec_a).await["id"].as_i64().unwrap();
        let (st, v) =
            app.call("POST", &format!("/api/v1/transfers/{id2}/cancel"), Some(json!({})), Some(&t.sec_a)).await;
        assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("cancelled")));
        assert!(actions(&app).await.iter().any(|(a, r, _)| a == "transfer.return" && r == "ok"));
        app
    })
    .await;
}

#[tokio::test]
async fn a_failure_in_the_middle_of_an_acceptance_writes_nothing() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let ba2 = app
            .post_ok("/api/v1/orgs", json!({"name": "艺术设计学院学生第二党支部", "kind": "branch", "parent_id": t.ca, "category": "student"}), &t.admin)
            .await["id"]
            .as_i64()
            .unwrap();
        let id = app.post_ok("/api/v1/transfers", internal(w.li, t.bb), &t.sec_a).await["id"].as_i64().unwrap();
        // Meanwhile org staff correct her branch directly: the acceptance finds her elsewhere.
        let (st, v) =
            app.call("PATCH", &format!("/api/v1/people/{}", w.li), Some(json!({"org_id": ba2})), Some(&t.staff)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let counts = (total(&app, ba2, &t.staff).await, total(&app, t.cb, &t.staff).await, total(&app, t.ca, &t.staff).await);
        let audit_before = actions(&app).await.len();
        let (st, v) =
            app.call("POST", &format!("/api/v1/transfers/{id}/accept"), Some(json!({})), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::CONFLICT, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("已变更"), "{v}");
        // The transfer's state was written first inside the transaction; it was rolled back with the rest.
        let (_, tr) = app.call("GET", &format!("/api/v1/transfers/{id}"), None, Some(&t.staff)).await;
        assert_eq!(tr["state"], "pending");
        assert!(tr["decided_on"].is_null());
        let (_, p) = app.call("GET", &format!("/api/v1/people/{}", w.li), None, Some(&t.staff)).await;
        assert_eq!(p["org_id"], ba2);
        assert_eq!(
            (total(&app, ba2, &t.staff).await, total(&app, t.cb, &t.staff).await, total(&app, t.ca, &t.staff).await),
            counts
        );
        let after = actions(&app).await;
        assert!(!after[audit_before..].iter().any(|(a, r, _)| a == "transfer.accept" && r == "ok"));
        app
    })
    .await;
}

#[tokio::test]
async fn scope_other_colleges_secretary_gets_404_and_a_member_403() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        // Internal within college A: branch B's secretary sees neither side.
        let ba2 = app
            .post_ok(
                "/api/v1/orgs",
                json!({"name": "艺术设计学院教工党支部", "kind": "branch", "parent_id": t.ca, "category": "faculty"}),
                &t.admin,
            )
            .await["id"]
            .as_i64()
            .unwrap();
        let id = app.post_ok("/api/v1/transfers", internal(w.li, ba2), &t.sec_a).await["id"].as_i64().unwrap();
        for path in [format!("/api/v1/transfers/{id}"), format!("/api/v1/transfers/{id}/letter")] {
            let (st, _) = app.call("GET", &path, None, Some(&w.sec_b)).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
        }
        let (st, _) =
            app.call("POST", &format!("/api/v1/transfers/{id}/accept"), Some(json!({})), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.call("GET", &format!("/api/v1/people/{}/status", w.li), None, Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The sender reads but may not accept for the receiving branch.
        let (st, _) =
            app.call("POST", &format!("/api/v1/transfers/{id}/accept"), Some(json!({})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // The member: no list, no writes; her own transfer and status card she reads.
        let (st, _) = app.call("GET", "/api/v1/transfers", None, Some(&w.member)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.call("POST", "/api/v1/transfers", Some(internal(w.li, t.bb)), Some(&w.member)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app
            .call(
                "POST",
                &format!("/api/v1/people/{}/status", w.li),
                Some(json!({"status": "abroad"})),
                Some(&w.member),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, _) = app.call("GET", &format!("/api/v1/transfers/{id}"), None, Some(&w.member)).await;
        assert_eq!(st, StatusCode::OK, "her own transfer");
        let (st, _) = app.call("GET", &format!("/api/v1/people/{}/status", w.li), None, Some(&w.member)).await;
        assert_eq!(st, StatusCode::OK, "her own status card");
        let log = actions(&app).await;
        assert!(log.iter().any(|(a, r, _)| a == "transfer.read" && r == "denied"), "refusals are audited");
        app
    })
    .await;
}

#[tokio::test]
async fn letters_follow_trf_02_and_03_worked_examples() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let out = |days: u32| json!({"kind": "out", "person_id": w.li, "external_org": "中共杭州市西湖区委员会组织部",
            "reason": "毕业后到杭州市工作", "initiated_on": "2025-07-01", "valid_days": days, "fee_paid_through": "2025-06"});
        // 120 days → refused (> 90), with the field.
        let (st, v) = app.call("POST", "/api/v1/transfers", Some(out(120)), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["valid_days"].as_str().unwrap().contains("90"), "{v}");
        // Issued 2025-07-01 for 30 days → valid through 2025-07-31; long expired today: flagged.
        let tr = app.post_ok("/api/v1/transfers", out(30), &t.sec_a).await;
        let id = tr["id"].as_i64().unwrap();
        assert_eq!(tr["state_label"], "转出待接收");
        assert_eq!(tr["letters"][0]["valid_until"], "2025-07-31");
        assert_eq!(tr["letters"][0]["number"], "2025-0001");
        assert_eq!(tr["deadlines"]["reissue_latest"], "2026-01-01");
        let codes: Vec<&str> = tr["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
        assert!(codes.contains(&"letter_expired"), "{codes:?}");
        // Reissue on 2026-01-02: past the 6-month window (组通字〔2015〕33号).
        let (st, v) = app
            .call("POST", &format!("/api/v1/transfers/{id}/reissue"), Some(json!({"reason": "就业单位变更", "issued_on": "2026-01-02"})), Some(&t.sec_a))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["fields"]["issued_on"].as_str().unwrap().contains("6个月"), "{v}");
        // On 2026-01-01, the last day: a new letter; the old one is superseded.
        let (st, v) = app
            .call("POST", &format!("/api/v1/transfers/{id}/reissue"), Some(json!({"reason": "就业单位变更", "issued_on": "2026-01-01"})), Some(&t.sec_a))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["letters"][0]["state"], "superseded");
        assert_eq!(v["letters"][1]["state"], "current");
        assert_eq!(v["letters"][1]["number"], "2026-0001");
        assert_eq!(v["letters"][1]["valid_until"], "2026-01-31");
        // The letter as PDF names the person; it is audited.
        let (st, headers, body) = app
            .request(
                axum::http::Request::builder()
                    .uri(format!("/api/v1/transfers/{id}/letter"))
                    .header("authorization", format!("Bearer {}", t.sec_a))
                    .header("host", "dj.example.edu")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/pdf");
        let _ = body;
        let log = actions(&app).await;
        assert!(log.iter().any(|(a, r, _)| a == "transfer.letter" && r == "ok"));
        // The receipt closes it: the person is 已转出, with the change in her history.
        let (st, v) =
            app.call("POST", &format!("/api/v1/transfers/{id}/receipt"), Some(json!({"received_on": "2026-01-20"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["state_label"], "已转出（回执已收到）");
        let (_, card) = app.call("GET", &format!("/api/v1/people/{}/status", w.li), None, Some(&t.staff)).await;
        assert_eq!(card["status"], "transferred_out");
        assert_eq!(card["history"][0]["to_status"], "transferred_out");
        // An incoming letter presented after its validity is refused (2025-07-01 + 30 days, presented 2025-08-05).
        let newcomer = person("周敏", t.bb, &id_number("19980505", "321"), "1998-05-05");
        let incoming = |presented: &str| json!({"from_org": "中共某某大学委员会组织部", "letter_number": "2025-0312",
            "issued_on": "2025-07-01", "valid_days": 30, "presented_on": presented, "reason": "考取本校研究生", "person": newcomer});
        let (st, v) = app.call("POST", "/api/v1/transfers/incoming", Some(incoming("2025-08-05")), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["presented_on"].as_str().unwrap().contains("已过期"), "{v}");
        let before = total(&app, t.bb, &t.staff).await;
        let (st, v) = app.call("POST", "/api/v1/transfers/incoming", Some(incoming("2025-07-31")), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(v["kind"], "in");
        assert_eq!(total(&app, t.bb, &t.staff).await, before + 1, "placed with her head count");
        // The same letter twice is refused and writes nothing.
        let again = json!({"from_org": "中共某某大学委员会组织部", "letter_number": "2025-0312", "issued_on": "2025-07-01",
            "presented_on": "2025-07-31", "reason": "重复", "person": person("吴迪", t.bb, &id_number("19970707", "111"), "1997-07-07")});
        let (st, v) = app.call("POST", "/api/v1/transfers/incoming", Some(again), Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(total(&app, t.bb, &t.staff).await, before + 1, "the person of a refused letter is not kept");
        app
    })
    .await;
}

#[tokio::test]
async fn the_letter_pdf_names_the_person_and_its_qr_code_verifies_it() {
    // One backend is enough for the rendering; the services are covered on both above.
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let w = world(&app).await;
    let t = &w.t;
    let tr = app
        .post_ok(
            "/api/v1/transfers",
            json!({"kind": "out", "person_id": w.li, "external_org": "中共杭州市西湖区委员会组织部", "reason": "毕业后到杭州市工作", "valid_days": 30}),
            &t.sec_a,
        )
        .await;
    let id = tr["id"].as_i64().unwrap();
    let req = axum::http::Request::builder()
        .uri(format!("/api/v1/transfers/{id}/letter"))
        .header("authorization", format!("Bearer {}", t.sec_a))
        .header("host", "dj.example.edu")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    assert!(bytes.starts_with(b"%PDF-"));
    let file = app.dir.join("letter.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian package poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["中国共产党党员组织关系介绍信", "李红", "中共杭州市西湖区委员会组织部", "回执"]
    {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    assert!(!text.contains(&id_number("19990101", "123")), "the ID number is masked");
    // The code of the QR is the public verification page; a forged one finds nothing.
    let letter = affairs::store::transfer::letters_of(&app.platform.db, &[id]).await.unwrap().remove(0);
    let code = affairs::Transfers::new(&app.platform).verification_code(&letter);
    let (st, _, page) = app
        .request(
            axum::http::Request::builder()
                .uri(format!("/verify/letters/{code}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("有效") && page.contains("李*") && !page.contains("李红"), "{page}");
    let forged = format!("{}-0000000000000000", letter.id);
    let (st, _, _) = app
        .request(
            axum::http::Request::builder()
                .uri(format!("/verify/letters/{forged}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test]
async fn status_changes_keep_their_history_and_raise_flags_not_decisions() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let path = format!("/api/v1/people/{}/status", w.li);
        // Suspension needs the deciding body (C7); everything missing is named at once.
        let (st, v) = app.call("POST", &path, Some(json!({"status": "suspended"})), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = v["error"]["fields"].as_object().unwrap();
        assert!(
            fields.contains_key("reason") && fields.contains_key("effective_on") && fields.contains_key("decided_by"),
            "{v}"
        );
        // Lost since 2025-02-15 → the branch may consider suspension from 2025-08-15: flagged today.
        let lost = json!({"status": "lost_contact", "effective_on": "2025-02-15", "reason": "多次联系未果"});
        let (st, card) = app.call("POST", &path, Some(lost), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{card}");
        assert_eq!(card["status"], "lost_contact");
        assert_eq!(card["deadlines"]["suspension_from"], "2025-08-15");
        assert_eq!(card["flags"][0]["code"], "lost_contact");
        assert_eq!(card["status"], "lost_contact", "a flag, not a decision: still lost, not suspended");
        // An earlier date than the last change is refused; the platform's person edit refuses status changes.
        let (st, _) = app
            .call(
                "POST",
                &path,
                Some(json!({"status": "normal", "effective_on": "2025-01-01", "reason": "已联系上"})),
                Some(&t.sec_a),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        let (st, v) = app
            .call("PATCH", &format!("/api/v1/people/{}", w.li), Some(json!({"status": "normal"})), Some(&t.sec_a))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["status"].as_str().unwrap().contains("党籍状态"), "{v}");
        let suspend = json!({"status": "suspended", "effective_on": "2025-09-01", "reason": "经多方查找仍无法取得联系",
            "decided_by": "支部党员大会 2025-09-01"});
        let (st, card) = app.call("POST", &path, Some(suspend), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{card}");
        assert_eq!(card["deadlines"]["removal_from"], "2027-09-01");
        assert_eq!(card["history"].as_array().unwrap().len(), 2);
        assert_eq!(card["history"][0]["decided_by"], "支部党员大会 2025-09-01");
        // A contact is recorded; the board lists her for the branch and the college.
        let (st, _) = app
            .call(
                "POST",
                &format!("/api/v1/people/{}/contacts", w.li),
                Some(json!({"channel": "phone", "note": "本人接听"})),
                Some(&t.sec_a),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, board) = app.call("GET", &format!("/api/v1/orgs/{}/status-board", t.ca), None, Some(&t.staff)).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(board["lines"][0]["person_id"], w.li);
        let (st, _) = app.call("GET", &format!("/api/v1/orgs/{}/status-board", t.ca), None, Some(&w.sec_b)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // Retention of a graduate since 2024-07-01: past two years by 2026-07-02 → flagged.
        let (st, card) = app
            .call(
                "POST",
                &format!("/api/v1/people/{}/retention", w.li),
                Some(json!({"on": "2024-07-01", "reason": "毕业后暂未落实工作单位"})),
                Some(&t.sec_a),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{card}");
        assert!(card["flags"].as_array().unwrap().iter().any(|f| f["code"] == "retention_exceeded"), "{card}");
        // Her copy of her data carries all of it.
        let (st, copy) = app.call("GET", "/api/v1/me/data", None, Some(&w.member)).await;
        assert_eq!(st, StatusCode::OK);
        let section = &copy["relationship_and_status"];
        assert_eq!(section["status_history"].as_array().unwrap().len(), 2, "{section}");
        assert_eq!(section["contacts"].as_array().unwrap().len(), 1);
        assert_eq!(section["graduate_retention"].as_array().unwrap().len(), 1);
        let log = actions(&app).await;
        for a in ["person.status", "person.contact", "person.retention"] {
            assert!(log.iter().any(|(x, r, _)| x == a && r == "ok"), "{a} audited");
        }
        app
    })
    .await;
}
