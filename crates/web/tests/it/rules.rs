//! The rules service over HTTP (api-contract.md, "Rules"): every endpoint answers a signed-in caller of any
//! role with the worked examples of domain.md and their citations, refuses a caller without a session (401),
//! turns bad input into 422 with per-field Chinese messages, and writes nothing.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const FEE: &str = "/api/v1/rules/fee";
const DEVELOPMENT: &str = "/api/v1/rules/development";
const COMMITTEE: &str = "/api/v1/rules/committee";
const TRANSFER: &str = "/api/v1/rules/transfer";
const STATUS: &str = "/api/v1/rules/status";

async fn ask(app: &TestApp, path: &str, body: Value, token: &str) -> Value {
    let (st, v) = app.call("POST", path, Some(body.clone()), Some(token)).await;
    assert_eq!(st, StatusCode::OK, "POST {path} {body} → {v}");
    assert!(!v["citations"].as_array().unwrap().is_empty(), "every answer names its sources: {v}");
    v
}

fn codes(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

/// A 422 whose `error.fields` names `field` with a Chinese message.
async fn refused(app: &TestApp, path: &str, body: Value, token: &str, field: &str) {
    let (st, v) = app.call("POST", path, Some(body.clone()), Some(token)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body} → {v}");
    assert_eq!(v["error"]["code"], "validation_failed");
    let msg = v["error"]["fields"][field].as_str().unwrap_or_else(|| panic!("no fields.{field} in {v}"));
    assert!(msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "Chinese message: {msg}");
    assert!(v["error"]["message"].is_string());
}

async fn audit_len(app: &TestApp) -> usize {
    security::audit::recent(&app.platform.db, None, 10_000).await.unwrap().len()
}

#[tokio::test]
async fn rules_answer_any_signed_in_account_and_refuse_anonymous_callers() {
    on_both(|app| async move {
        let t = tree(&app).await;
        app.post_ok(
            "/api/v1/users",
            json!({"username": "auditor", "password": USER_PW, "display_name": "审计员", "grants": [{"role": "audit_admin", "org_id": null}]}),
            &t.admin,
        )
        .await;
        let auditor = app.login("auditor", USER_PW).await;
        let bodies = [
            (FEE, json!({"category": "student"})),
            (DEVELOPMENT, json!({"applied_on": "2025-03-10", "as_of": "2025-03-11"})),
            (COMMITTEE, json!({"formal_members": 6, "probationary_members": 3})),
            (TRANSFER, json!({"retained_since": "2025-07-01", "as_of": "2025-07-02"})),
            (STATUS, json!({"last_paid_month": "2025-03", "as_of": "2025-04-01"})),
        ];
        let before = audit_len(&app).await;
        for (path, body) in &bodies {
            for token in [&t.admin, &t.staff, &t.sec_a, &auditor] {
                ask(&app, path, body.clone(), token).await;
            }
            let (st, v) = app.call("POST", path, Some(body.clone()), None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{path} without a token: {v}");
            assert_eq!(v["error"]["code"], "unauthenticated");
            let (st, _) = app.call("POST", path, Some(body.clone()), Some("not-a-token")).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{path} with a bad token");
            // Authentication comes before the body: a bad body without a session is still 401.
            let (st, _) = app.call("POST", path, Some(json!({"unknown": 1})), None).await;
            assert_eq!(st, StatusCode::UNAUTHORIZED);
        }
        assert_eq!(audit_len(&app).await, before, "the rules read and write no one's records");
        app
    })
    .await;
}

#[tokio::test]
async fn fee_worked_examples_and_the_payslip_variant() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let token = app.login("admin", ADMIN_PW).await;
    let cases: &[(&str, Option<Value>, &str, Value)] = &[
        ("employed", Some(json!("4200")), "42.00", json!("0.010")),
        ("employed", Some(json!("2800")), "14.00", json!("0.005")),
        ("employed", Some(json!("5100")), "76.50", json!("0.015")),
        ("employed", Some(json!("4900")), "49.00", json!("0.010")),
        ("employed", Some(json!("12000")), "240.00", json!("0.020")),
        ("employed", Some(json!("9999.99")), "150.00", json!("0.015")),
        ("employed", Some(json!("60000")), "1000.00", json!("0.020")),
        ("employed", Some(json!("45000")), "900.00", json!("0.020")),
        ("employed", Some(json!(4200)), "42.00", json!("0.010")),
        ("employed", Some(json!(9999.99)), "150.00", json!("0.015")),
        ("retiree", Some(json!("4800")), "24.00", json!("0.005")),
        ("retiree", Some(json!("5200")), "52.00", json!("0.010")),
        ("annual_salary", Some(json!("8000")), "120.00", json!("0.015")),
        ("self_employed", Some(json!("9000")), "135.00", json!("0.015")),
        ("student", None, "0.20", Value::Null),
        ("student", Some(json!("2000")), "0.20", Value::Null),
        ("laid_off", None, "0.20", Value::Null),
        ("low_income", None, "0.20", Value::Null),
        ("relief", None, "0.20", Value::Null),
        ("farmer", None, "0.20", Value::Null),
    ];
    for (category, base, amount, rate) in cases {
        let mut body = json!({"category": category});
        if let Some(b) = base {
            body["monthly_base"] = b.clone();
        }
        let v = ask(&app, FEE, body, &token).await;
        assert_eq!(v["amount"], *amount, "{category} {base:?}: {v}");
        assert_eq!(v["rate"], *rate, "{category} {base:?}");
    }
    let capped = ask(&app, FEE, json!({"category": "employed", "monthly_base": "60000"}), &token).await;
    assert_eq!(capped["capped"], true);
    assert!(capped["citations"].as_array().unwrap().iter().any(|c| c == "组电明字〔2017〕5号 第一条"), "{capped}");
    let plain =
        ask(&app, FEE, json!({"category": "employed", "monthly_base": "4200", "month": "2026-01"}), &token).await;
    assert_eq!(plain["citations"], json!(["中组发〔2008〕3号 第二条"]));
    assert_eq!((plain["month"].as_str(), plain["base"].as_str()), (Some("2026-01"), Some("4200.00")));

    // FEE-03: the payslip breakdown, under both readings.
    let slip = |policy: Option<&str>| {
        let mut s = json!({"items": [
            {"name": "岗位工资", "amount": "4000", "included": true}, {"name": "薪级工资", "amount": "1500", "included": true},
            {"name": "基础性绩效", "amount": "2000", "included": true}, {"name": "奖励性绩效", "amount": "3000", "included": false},
            {"name": "住房补贴", "amount": "800", "included": false}],
            "income_tax": "150", "personal_contributions": "1100"});
        if let Some(p) = policy {
            s["base_policy"] = json!(p);
        }
        json!({"category": "employed", "payslip": s})
    };
    let t1 = ask(&app, FEE, slip(None), &token).await;
    assert_eq!((t1["base"].as_str(), t1["amount"].as_str()), (Some("6250.00"), Some("93.75")), "{t1}");
    let t2 = ask(&app, FEE, slip(Some("tax_only_2008")), &token).await;
    assert_eq!((t2["base"].as_str(), t2["amount"].as_str()), (Some("7350.00"), Some("110.25")), "{t2}");
    let quarter = json!({"category": "self_employed", "previous_quarter_incomes": ["9000", "12000", "6000"]});
    assert_eq!(ask(&app, FEE, quarter, &token).await["amount"], "135.00");
    assert_eq!(ask(&app, FEE, json!({"category": "farmer", "farmer_amount": "0.50"}), &token).await["amount"], "0.50");

    // Bad input: every item under its own field.
    let bad: &[(Value, &str)] = &[
        (json!({"category": "worker", "monthly_base": "4200"}), "category"),
        (json!({"monthly_base": "4200"}), "category"),
        (json!({"category": "employed", "monthly_base": "-4200"}), "monthly_base"),
        (json!({"category": "employed", "monthly_base": -1}), "monthly_base"),
        (json!({"category": "employed", "monthly_base": "42.001"}), "monthly_base"),
        (json!({"category": "employed", "monthly_base": "四千"}), "monthly_base"),
        (json!({"category": "employed"}), "monthly_base"),
        (json!({"category": "employed", "monthly_base": "4200", "month": "2026-13"}), "month"),
        (json!({"category": "employed", "monthly_base": "4200", "month": "2008-03"}), "month"),
        (json!({"category": "farmer", "farmer_amount": "2.00"}), "farmer_amount"),
        (
            json!({"category": "self_employed", "previous_quarter_incomes": ["9000", "12000"]}),
            "previous_quarter_incomes",
        ),
        (
            json!({"category": "employed", "payslip": {"items": [{"name": "岗位工资", "amount": "100", "included": true}], "income_tax": "200"}}),
            "payslip",
        ),
        (
            json!({"category": "employed", "payslip": {"items": [{"name": "岗位工资", "amount": "x", "included": true}]}}),
            "payslip.items[0].amount",
        ),
        (json!({"category": "employed", "payslip": {"items": [], "base_policy": "gross"}}), "payslip.base_policy"),
    ];
    for (body, field) in bad {
        refused(&app, FEE, body.clone(), &token, field).await;
    }
    let (st, v) =
        app.call("POST", FEE, Some(json!({"category": "employed", "monthy_base": "4200"})), Some(&token)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a misspelt field is refused, not ignored: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("monthy_base"));
    app.cleanup().await;
}

#[tokio::test]
async fn development_deadlines_and_violations() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let token = app.login("admin", ADMIN_PW).await;
    let b = json!({"birth_date": "2000-01-01"});
    let with = |extra: Value| {
        let mut v = b.clone();
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    // (good, bad, expected code only in bad, deadline key, value in good)
    let cases: Vec<(Value, Value, &str, &str, &str)> = vec![
        (
            with(json!({"applied_on": "2025-03-10", "talked_on": "2025-04-10", "as_of": "2025-05-01"})),
            with(json!({"applied_on": "2025-03-10", "talked_on": "2025-04-20", "as_of": "2025-05-01"})),
            "talk_late",
            "talk_by",
            "2025-04-10",
        ),
        (
            with(json!({"applied_on": "2025-01-31", "talked_on": "2025-02-28", "as_of": "2025-03-05"})),
            with(json!({"applied_on": "2025-01-31", "talked_on": "2025-03-01", "as_of": "2025-03-05"})),
            "talk_late",
            "talk_by",
            "2025-02-28",
        ),
        (
            with(json!({"applied_on": "2025-05-06", "as_of": "2025-06-06"})),
            with(json!({"applied_on": "2025-05-06", "as_of": "2025-06-07"})),
            "talk_overdue",
            "talk_by",
            "2025-06-06",
        ),
        (
            json!({"birth_date": "2007-09-15", "applied_on": "2025-09-15", "as_of": "2025-09-15"}),
            json!({"birth_date": "2007-09-16", "applied_on": "2025-09-15", "as_of": "2025-09-15"}),
            "under_age",
            "may_apply_from",
            "2025-09-15",
        ),
        (
            with(json!({"activist_on": "2024-03-15", "candidate_on": "2025-03-15", "as_of": "2025-03-20"})),
            with(json!({"activist_on": "2024-03-15", "candidate_on": "2025-03-14", "as_of": "2025-03-20"})),
            "cultivation_too_short",
            "candidate_from",
            "2025-03-15",
        ),
        (
            with(json!({"activist_on": "2024-02-29", "candidate_on": "2025-02-28", "as_of": "2025-03-20"})),
            with(json!({"activist_on": "2023-03-01", "candidate_on": "2024-02-29", "as_of": "2025-03-20"})),
            "cultivation_too_short",
            "candidate_from",
            "2025-02-28",
        ),
        (
            with(json!({"training_days": 3, "training_hours": 18})),
            with(json!({"training_days": 2.5, "training_hours": 20})),
            "training_insufficient",
            "may_apply_from",
            "2018-01-01",
        ),
        (
            with(json!({"admitted_on": "2025-05-20", "approved_on": "2025-08-20", "as_of": "2025-08-21"})),
            with(json!({"admitted_on": "2025-05-20", "approved_on": "2025-10-01", "as_of": "2025-10-02"})),
            "approval_late",
            "approval_by",
            "2025-08-20",
        ),
        (
            with(
                json!({"admitted_on": "2025-05-20", "approved_on": "2025-10-01", "approval_reason": "上级党委换届", "as_of": "2025-10-02"}),
            ),
            with(
                json!({"admitted_on": "2025-05-20", "approved_on": "2025-11-21", "approval_reason": "上级党委换届", "as_of": "2025-11-22"}),
            ),
            "approval_beyond_six_months",
            "approval_latest",
            "2025-11-20",
        ),
        (
            with(
                json!({"admitted_on": "2025-05-20", "approved_on": "2025-06-10", "conversion_meeting_on": "2026-05-20", "as_of": "2026-05-21"}),
            ),
            with(
                json!({"admitted_on": "2025-05-20", "approved_on": "2025-06-10", "conversion_meeting_on": "2026-05-19", "as_of": "2026-05-21"}),
            ),
            "conversion_meeting_early",
            "probation_ends",
            "2026-05-20",
        ),
        (
            with(
                json!({"admitted_on": "2025-05-20", "approved_on": "2025-06-10", "extension_months": 6, "as_of": "2026-06-01"}),
            ),
            with(
                json!({"admitted_on": "2025-05-20", "approved_on": "2025-06-10", "extension_months": 4, "as_of": "2026-06-01"}),
            ),
            "extension_invalid",
            "probation_ends",
            "2026-11-20",
        ),
        (
            with(json!({"conversion_meeting_on": "2026-05-25", "converted_on": "2026-08-25", "as_of": "2026-09-01"})),
            with(json!({"conversion_meeting_on": "2026-05-25", "converted_on": "2026-08-26", "as_of": "2026-09-01"})),
            "conversion_approval_late",
            "conversion_approval_by",
            "2026-08-25",
        ),
        (
            with(json!({"applied_on": "2025-03-10", "talked_on": "2025-03-20", "as_of": "2025-04-01"})),
            with(json!({"applied_on": "2025-03-10", "talked_on": "2025-03-05", "as_of": "2025-04-01"})),
            "out_of_order",
            "talk_by",
            "2025-04-10",
        ),
    ];
    for (good, bad, code, key, value) in cases {
        let g = ask(&app, DEVELOPMENT, good.clone(), &token).await;
        let x = ask(&app, DEVELOPMENT, bad.clone(), &token).await;
        assert!(!codes(&g, "violations").contains(&code.to_string()), "{good} → {g}");
        assert!(codes(&x, "violations").contains(&code.to_string()), "{bad} → {x}");
        assert_eq!(g["deadlines"][key], value, "{good} → {g}");
        let finding = x["violations"].as_array().unwrap().iter().find(|f| f["code"] == code).unwrap();
        assert!(!finding["citations"].as_array().unwrap().is_empty() && finding["message"].is_string());
        assert_eq!(g["rule_set"], "2014", "the 2014 细则 judges by default");
    }
    // DEV-17: a late conversion meeting does not move 党龄.
    let v = ask(
        &app,
        DEVELOPMENT,
        json!({"admitted_on": "2025-05-20", "approved_on": "2025-07-01", "conversion_meeting_on": "2026-06-10",
               "converted_on": "2026-07-01", "as_of": "2026-07-02"}),
        &token,
    )
    .await;
    assert_eq!(v["deadlines"]["party_standing_from"], "2026-05-20");
    assert_eq!(v["violations"], json!([]));
    // Without as_of the check runs on today's date and still answers.
    ask(&app, DEVELOPMENT, json!({"applied_on": "2025-03-10"}), &token).await;

    let bad: &[(Value, &str)] = &[
        (json!({"applied_on": "2025-3-10"}), "applied_on"),
        (json!({"admitted_on": "2025-02-30"}), "admitted_on"),
        (json!({"as_of": "yesterday"}), "as_of"),
        (json!({"training_days": -1}), "training_days"),
        (json!({"training_hours": "many"}), "training_hours"),
        (json!({"extension_months": 6.5}), "extension_months"),
        (json!({"extension_months": -6}), "extension_months"),
    ];
    for (body, field) in bad {
        refused(&app, DEVELOPMENT, body.clone(), &token, field).await;
    }
    // All field errors at once.
    let (st, v) = app.call("POST", DEVELOPMENT, Some(json!({"applied_on": "x", "talked_on": "y"})), Some(&token)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"]["fields"]["applied_on"].is_string() && v["error"]["fields"]["talked_on"].is_string(), "{v}");
    app.cleanup().await;
}

#[tokio::test]
async fn committee_structure_term_and_elections() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let token = app.login("admin", ADMIN_PW).await;
    let v = ask(&app, COMMITTEE, json!({"formal_members": 6, "probationary_members": 3}), &token).await;
    assert_eq!(v["committee_required"], false);
    assert_eq!((v["size_min"].clone(), v["size_max"].clone()), (Value::Null, Value::Null));
    let v = ask(&app, COMMITTEE, json!({"formal_members": 7, "probationary_members": 0}), &token).await;
    assert_eq!(
        (v["committee_required"].clone(), v["size_min"].clone(), v["size_max"].clone()),
        (json!(true), json!(3), json!(7))
    );
    for (size, ok) in [(2, false), (3, true), (5, true), (7, true), (8, false)] {
        let v = ask(
            &app,
            COMMITTEE,
            json!({"formal_members": 7, "probationary_members": 0, "proposed_size": size}),
            &token,
        )
        .await;
        assert_eq!(codes(&v, "violations").is_empty(), ok, "size {size}: {v}");
    }
    let v = ask(&app, COMMITTEE, json!({"formal_members": 2, "probationary_members": 0}), &token).await;
    assert_eq!(codes(&v, "violations"), vec!["too_few_for_branch"]);
    let v = ask(&app, COMMITTEE, json!({"formal_members": 50, "probationary_members": 5}), &token).await;
    assert_eq!(codes(&v, "violations"), vec!["branch_over_50"]);
    assert!(v["violations"][0]["message"].as_str().unwrap().contains("一般不超过50人"));

    let term = json!({"formal_members": 9, "probationary_members": 1, "elected_on": "2023-06-30", "postpone_to": "2027-07-15",
                      "proposed_size": 5});
    let v = ask(&app, COMMITTEE, term, &token).await;
    assert_eq!(v["term_ends"], "2026-06-30");
    assert_eq!(v["reminder_on"], "2025-12-30");
    assert_eq!(v["postpone_latest"], "2027-06-30");
    assert_eq!(v["candidates_min"], 6);
    assert_eq!(codes(&v, "violations"), vec!["postpone_too_long"]);
    let on_time = json!({"formal_members": 9, "probationary_members": 1, "elected_on": "2023-06-30", "postpone_to": "2027-06-30"});
    assert!(codes(&ask(&app, COMMITTEE, on_time, &token).await, "violations").is_empty());
    let seven_seats = json!({"formal_members": 40, "probationary_members": 0, "proposed_size": 7, "candidates": 8});
    let v = ask(&app, COMMITTEE, seven_seats, &token).await;
    assert_eq!(
        (v["candidates_min"].clone(), codes(&v, "violations")),
        (json!(9), vec!["too_few_candidates".to_string()])
    );

    let bad: &[(Value, &str)] = &[
        (json!({"probationary_members": 3}), "formal_members"),
        (json!({"formal_members": 6}), "probationary_members"),
        (json!({"formal_members": -1, "probationary_members": 0}), "formal_members"),
        (json!({"formal_members": "七", "probationary_members": 0}), "formal_members"),
        (json!({"formal_members": 7, "probationary_members": 0, "elected_on": "2023/06/30"}), "elected_on"),
        (json!({"formal_members": 7, "probationary_members": 0, "proposed_size": 1.5}), "proposed_size"),
    ];
    for (body, field) in bad {
        refused(&app, COMMITTEE, body.clone(), &token, field).await;
    }
    app.cleanup().await;
}

#[tokio::test]
async fn transfer_letters_retention_and_reissue() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let token = app.login("admin", ADMIN_PW).await;
    let v = ask(
        &app,
        TRANSFER,
        json!({"letter_issued_on": "2025-07-01", "validity_days": 30, "presented_on": "2025-08-05"}),
        &token,
    )
    .await;
    assert_eq!(v["deadlines"]["letter_valid_until"], "2025-07-31");
    assert_eq!(codes(&v, "violations"), vec!["letter_expired"]);
    let v = ask(
        &app,
        TRANSFER,
        json!({"letter_issued_on": "2025-07-01", "presented_on": "2025-07-31", "as_of": "2025-08-01"}),
        &token,
    )
    .await;
    assert!(codes(&v, "violations").is_empty(), "default 30 days: {v}");
    let v = ask(
        &app,
        TRANSFER,
        json!({"letter_issued_on": "2025-07-01", "validity_days": 120, "as_of": "2025-07-02"}),
        &token,
    )
    .await;
    assert_eq!(codes(&v, "violations"), vec!["validity_too_long"]);
    for (as_of, flagged) in [("2027-07-01", false), ("2027-07-02", true)] {
        let v = ask(&app, TRANSFER, json!({"retained_since": "2025-07-01", "as_of": as_of}), &token).await;
        assert_eq!(v["deadlines"]["retention_ends"], "2027-07-01");
        assert_eq!(codes(&v, "violations").contains(&"retention_exceeded".to_string()), flagged, "{as_of}");
    }
    for (on, refused_) in [("2026-01-01", false), ("2026-01-02", true)] {
        let v = ask(
            &app,
            TRANSFER,
            json!({"transferred_out_on": "2025-07-01", "reissue_requested_on": on, "as_of": on}),
            &token,
        )
        .await;
        assert_eq!(v["deadlines"]["reissue_latest"], "2026-01-01");
        assert_eq!(codes(&v, "violations").contains(&"reissue_too_late".to_string()), refused_, "{on}");
    }
    let bad: &[(Value, &str)] = &[
        (json!({"letter_issued_on": "2025-07-01", "validity_days": -1}), "validity_days"),
        (json!({"letter_issued_on": "2025-07-01", "validity_days": 0}), "validity_days"),
        (json!({"letter_issued_on": "01/07/2025"}), "letter_issued_on"),
        (json!({"as_of": "2025-13-01"}), "as_of"),
    ];
    for (body, field) in bad {
        refused(&app, TRANSFER, body.clone(), &token, field).await;
    }
    app.cleanup().await;
}

#[tokio::test]
async fn status_flags_arrears_lost_contact_and_long_stays_abroad() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let token = app.login("admin", ADMIN_PW).await;
    let g = ask(&app, STATUS, json!({"last_paid_month": "2025-03", "as_of": "2025-09-15"}), &token).await;
    let b = ask(&app, STATUS, json!({"last_paid_month": "2025-03", "as_of": "2025-10-01"}), &token).await;
    assert!(codes(&g, "flags").is_empty(), "{g}");
    assert_eq!(codes(&b, "flags"), vec!["fee_arrears_six_months"]);
    assert!(b["flags"][0]["message"].as_str().unwrap().contains("连续6个月未交纳党费"));
    assert_eq!(b["deadlines"]["fee_arrears_from"], "2025-10-01");
    let lost = ask(
        &app,
        STATUS,
        json!({"last_life_on": "2025-01-10", "last_paid_on": "2025-02-15", "as_of": "2025-08-15"}),
        &token,
    )
    .await;
    assert_eq!(lost["deadlines"]["suspension_from"], "2025-08-15");
    assert_eq!(codes(&lost, "flags"), vec!["lost_contact"]);
    let abroad = |as_of: &str| json!({"abroad_since": "2020-09-01", "last_contact_on": "2025-08-01", "as_of": as_of});
    assert!(codes(&ask(&app, STATUS, abroad("2025-09-01"), &token).await, "flags").is_empty());
    assert_eq!(codes(&ask(&app, STATUS, abroad("2025-09-02"), &token).await, "flags"), vec!["abroad_over_five_years"]);
    let overdue = json!({"abroad_since": "2024-09-01", "last_contact_on": "2025-01-15", "as_of": "2025-07-16"});
    // Six months without contact is also lost contact; both rules are named, each with its article.
    assert_eq!(
        codes(&ask(&app, STATUS, overdue, &token).await, "flags"),
        vec!["lost_contact", "abroad_contact_overdue"]
    );
    let bad: &[(Value, &str)] = &[
        (json!({"last_paid_month": "2025-03"}), "as_of"),
        (json!({"last_paid_month": "2025-3", "as_of": "2025-10-01"}), "last_paid_month"),
        (json!({"last_contact_on": "2025-02-31", "as_of": "2025-10-01"}), "last_contact_on"),
    ];
    for (body, field) in bad {
        refused(&app, STATUS, body.clone(), &token, field).await;
    }
    app.cleanup().await;
}

#[tokio::test]
async fn rules_are_documented_in_openapi_with_examples() {
    let app = TestApp::new(kernel::Backend::Sqlite).await;
    let (st, spec) = app.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(spec["tags"].as_array().unwrap().iter().any(|t| t["name"] == "rules"));
    for path in [FEE, DEVELOPMENT, COMMITTEE, TRANSFER, STATUS] {
        let op = &spec["paths"][path]["post"];
        assert_eq!(op["tags"], json!(["rules"]), "{path}");
        let examples = &op["requestBody"]["content"]["application/json"]["examples"];
        assert!(examples.as_object().is_some_and(|e| !e.is_empty()), "{path} has request examples");
        assert!(op["responses"]["401"].is_object() && op["responses"]["422"].is_object(), "{path}");
    }
    let fee = spec["paths"][FEE]["post"]["description"].as_str().unwrap();
    for word in ["employed", "retiree", "student", "low_income", "laid_off", "self_employed", "payslip", "1000.00"] {
        assert!(fee.contains(word), "the fee description documents {word}");
    }
    app.cleanup().await;
}
