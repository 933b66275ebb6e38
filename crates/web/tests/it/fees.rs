//! 党费 (issue 3, the fee ledger), on SQLite and PostgreSQL: the worked examples FEE-07-T1/T2, FEE-08-T1…T4 and
//! FEE-02 through the API; AT-29 (a callback replayed 3× records one entry, the ledger refuses UPDATE/DELETE, the
//! HMAC finds an entry edited behind the platform's back); a failed payment writes nothing; the other college's
//! secretary gets 404 and a member 403; the pages and the export.

#![allow(clippy::unwrap_used)]

use affairs::rules::YearMonth;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use kernel::Db;
use serde_json::{Value, json};

use crate::support::*;

/// The tree, a secretary of branch B, and in branch A a member with an account.
struct World {
    t: Tree,
    sec_b: String,
    member: String,
    li: i64,
}

async fn new_person(
    app: &TestApp,
    t: &Tree,
    name: &str,
    seq: &str,
    stage: &str,
    admitted: &str,
    category: &str,
) -> i64 {
    let mut p = person(name, t.ba, &id_number("19990101", seq), "1999-01-01");
    p["stage"] = json!(stage);
    p["admitted_on"] = json!(admitted);
    p["category"] = json!(category);
    app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap()
}

async fn world(app: &TestApp) -> World {
    let t = tree(app).await;
    let li = new_person(app, &t, "李红", "123", "full", "2020-06-01", "student").await;
    let user = |name: &str, grants: Value, person: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
    app.post_ok("/api/v1/users", user("sec_b", json!([{"role": "branch_secretary", "org_id": t.bb}]), None), &t.admin)
        .await;
    app.post_ok("/api/v1/users", user("lihong", json!([]), Some(li)), &t.admin).await;
    let sec_b = app.login("sec_b", USER_PW).await;
    let member = app.login("lihong", USER_PW).await;
    World { t, sec_b, member, li }
}

fn month(n: i64) -> String {
    YearMonth::of(kernel::dates::today()).plus(n).unwrap().to_string()
}

async fn account(app: &TestApp, id: i64, year: &str, token: &str) -> Value {
    let (st, v) = app.call("GET", &format!("/api/v1/people/{id}/fees?year={year}"), None, Some(token)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

fn cell<'a>(a: &'a Value, m: &str) -> &'a Value {
    a["months"].as_array().unwrap().iter().find(|c| c["month"] == m).unwrap()
}

async fn pay(app: &TestApp, id: i64, body: Value, token: &str) -> (StatusCode, Value) {
    app.call("POST", &format!("/api/v1/people/{id}/fee-payments"), Some(body), Some(token)).await
}

async fn profile(app: &TestApp, id: i64, body: Value, token: &str) -> (StatusCode, Value) {
    app.call("POST", &format!("/api/v1/people/{id}/fee-profile"), Some(body), Some(token)).await
}

#[tokio::test]
async fn fee_07_profiles_give_the_monthly_amount_with_its_rule() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        // FEE-07-T1: admitted 2025-06-28 → June 2025 is due, 0.20 for a student; a start before it is refused.
        let p = new_person(&app, t, "王晓", "301", "probationary", "2025-06-28", "student").await;
        let (st, v) = profile(&app, p, json!({"category": "student", "effective_from": "2025-05"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["fields"]["effective_from"].as_str().unwrap().contains("2025-06"), "{v}");
        let (st, v) = profile(&app, p, json!({"category": "student", "effective_from": "2025-06"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["profile"]["monthly_amount"], "0.20");
        assert!(v["profile"]["citations"].as_array().unwrap().iter().any(|c| c.as_str().unwrap().contains("第六条")), "{v}");
        let a = account(&app, p, "2025", &t.sec_a).await;
        assert_eq!(a["first_due_month"], "2025-06");
        assert_eq!(cell(&a, "2025-05")["state"], "not_due");
        assert_eq!((&cell(&a, "2025-06")["state"], &cell(&a, "2025-06")["due"]), (&json!("unpaid"), &json!("0.20")));

        // FEE-07-T2: base 6000 from January 2026, 11000 from July: annual_lock keeps 90.00 all year, follow_wage
        // moves to 220.00 in July.
        for (name, seq, policy, july) in [("赵强", "302", "annual_lock", "90.00"), ("钱敏", "303", "follow_wage", "220.00")] {
            let e = new_person(&app, t, name, seq, "full", "2010-06-01", "faculty").await;
            let base = json!({"category": "employed", "effective_from": "2026-01", "monthly_base": "6000", "wage_policy": policy});
            assert_eq!(profile(&app, e, base, &t.sec_a).await.0, StatusCode::OK);
            let raise = json!({"category": "employed", "effective_from": "2026-07", "monthly_base": "11000.00", "wage_policy": policy});
            let (st, v) = profile(&app, e, raise, &t.sec_a).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let a = account(&app, e, "2026", &t.sec_a).await;
            assert_eq!(cell(&a, "2026-06")["due"], "90.00", "{policy}");
            assert_eq!(cell(&a, "2026-07")["due"], july, "{policy}");
            assert_eq!(a["profiles"].as_array().unwrap().len(), 2, "the history stays");
        }
        // FEE-03-T1 through the payslip; bad input gets a Chinese message per field.
        let e = new_person(&app, t, "孙丽", "304", "full", "2010-06-01", "faculty").await;
        let slip = json!({"category": "employed", "effective_from": "2026-01", "included_income": "7500", "income_tax": "150", "personal_contributions": "1100"});
        let (_, v) = profile(&app, e, slip, &t.sec_a).await;
        assert_eq!((&v["profile"]["base"], &v["profile"]["monthly_amount"]), (&json!("6250.00"), &json!("93.75")));
        let (st, v) = profile(&app, e, json!({"category": "worker", "monthly_base": "abc"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["category"].is_string() && v["error"]["fields"]["monthly_base"].is_string(), "{v}");
        let (st, v) = profile(&app, e, json!({"category": "employed"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["monthly_base"].as_str().unwrap().contains("计算基数"), "{v}");
        app
    })
    .await;
}

#[tokio::test]
async fn at_29_a_callback_replayed_three_times_records_one_entry_and_the_ledger_is_append_only() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        assert_eq!(profile(&app, w.li, json!({"category": "student", "effective_from": month(-3)}), &t.sec_a).await.0, StatusCode::OK);
        let body = json!({"from_month": month(-3), "to_month": month(-1), "amount": "0.60", "method": "online", "payment_id": "WX20260315000123"});
        let (first, entry) = pay(&app, w.li, body.clone(), &t.sec_a).await;
        assert_eq!(first, StatusCode::CREATED, "{entry}");
        for _ in 0..3 {
            let (st, again) = pay(&app, w.li, body.clone(), &t.staff).await;
            assert_eq!(st, StatusCode::OK, "{again}");
            assert_eq!(again, entry, "the same answer");
        }
        let a = account(&app, w.li, &month(-1)[..4], &t.sec_a).await;
        assert_eq!(a["payments"].as_array().unwrap().len(), 1);
        assert_eq!(cell(&a, &month(-1))["state"], "paid");
        // The same number for something else is a conflict.
        let mut other = body.clone();
        other["amount"] = json!("5.00");
        assert_eq!(pay(&app, w.li, other, &t.sec_a).await.0, StatusCode::CONFLICT);
        // A month paid cannot be paid again under another number.
        let again = json!({"from_month": month(-1), "amount": "0.20", "method": "cash"});
        let (st, v) = pay(&app, w.li, again, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["from_month"].as_str().unwrap().contains("已交纳"), "{v}");
        // The database refuses UPDATE and DELETE.
        let id = entry["id"].as_i64().unwrap();
        for sql in [format!("UPDATE fee_payments SET amount_fen = 1 WHERE id = {id}"), format!("DELETE FROM fee_payments WHERE id = {id}")] {
            let r = match &app.platform.db {
                Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(p).await.map(|_| ()),
                Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql.clone())).execute(p).await.map(|_| ()),
            };
            assert!(r.unwrap_err().to_string().contains("append-only"), "{sql}");
        }
        // A correction is a reversing entry: the months are unpaid again, the original stays; twice is one reversal.
        let rev = json!({"reverses": id, "note": "线上重复扣款，已退回"});
        let (st, r) = pay(&app, w.li, rev.clone(), &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        assert_eq!((&r["kind"], &r["amount"], &r["reverses_id"]), (&json!("reversal"), &json!("-0.60"), &json!(id)));
        assert_eq!(pay(&app, w.li, rev, &t.sec_a).await.0, StatusCode::OK);
        let a = account(&app, w.li, &month(-1)[..4], &t.sec_a).await;
        assert_eq!(a["payments"].as_array().unwrap().len(), 2);
        assert_eq!(cell(&a, &month(-1))["state"], "unpaid");
        // The HMAC of every entry verifies; an entry edited behind the platform's back (triggers switched off by
        // the owner) is found.
        let check = affairs::service::fee::verify(&app.platform).await.unwrap();
        assert_eq!((check.entries, check.broken.len()), (2, 0));
        let tamper = format!("UPDATE fee_payments SET amount_fen = 6000 WHERE id = {id}");
        match &app.platform.db {
            Db::Sqlite(p) => {
                sqlx::query("DROP TRIGGER fee_payments_no_update").execute(p).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(tamper)).execute(p).await.unwrap();
            }
            Db::Postgres(p) => {
                sqlx::query("ALTER TABLE fee_payments DISABLE TRIGGER USER").execute(p).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(tamper)).execute(p).await.unwrap();
            }
        }
        let check = affairs::service::fee::verify(&app.platform).await.unwrap();
        assert_eq!(check.broken, vec![id]);
        app
    })
    .await;
}

#[tokio::test]
async fn fee_08_catch_up_large_dues_and_exemptions() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        assert_eq!(profile(&app, w.li, json!({"category": "student", "effective_from": month(-11)}), &t.sec_a).await.0, StatusCode::OK);
        // FEE-08-T3: a catch-up of 7 elapsed months is accepted and warned; 4 months is not warned.
        let seven = json!({"from_month": month(-11), "to_month": month(-5), "amount": "1.40", "method": "cash"});
        let (st, v) = pay(&app, w.li, seven, &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert!(v["warning"].as_str().unwrap().starts_with("补交超过6个月"), "{v}");
        let four = json!({"from_month": month(-4), "to_month": month(-1), "amount": "0.80", "method": "transfer"});
        let (st, v) = pay(&app, w.li, four, &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert!(v["warning"].is_null(), "{v}");
        // Less than the dues is refused with the amount due.
        let short = json!({"from_month": month(0), "to_month": month(1), "amount": "0.20", "method": "cash"});
        let (st, v) = pay(&app, w.li, short, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["amount"].as_str().unwrap().contains("0.40"), "{v}");
        // FEE-02: a voluntary one-off of 1500 is 大额党费, remitted to the centre, not monthly dues.
        let (st, v) = pay(&app, w.li, json!({"kind": "voluntary", "amount": "1500", "method": "transfer"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!((&v["kind"], &v["remit_status"], &v["months"]), (&json!("large"), &json!("remit_to_centre"), &json!(0)));
        let (_, small) = pay(&app, w.li, json!({"kind": "voluntary", "amount": "50", "method": "cash"}), &t.sec_a).await;
        assert_eq!((&small["kind"], &small["remit_status"]), (&json!("voluntary"), &Value::Null));
        // FEE-08-T4: an exemption with the branch's decision but no upper approval is not in force.
        let e = new_person(&app, t, "周明", "311", "full", "2015-06-01", "faculty").await;
        profile(&app, e, json!({"category": "employed", "effective_from": month(-2), "monthly_base": "4200"}), &t.sec_a).await;
        let ex = json!({"kind": "exempt", "from_month": month(-2), "to_month": month(3), "reason": "家庭遭遇重大变故，生活确有困难",
            "branch_decision": "支部委员会会议研究同意", "branch_decided_on": kernel::dates::iso(kernel::dates::today())});
        let (st, a) = app.call("POST", &format!("/api/v1/people/{e}/fee-reductions"), Some(ex), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{a}");
        assert_eq!(a["reductions"][0]["effective"], false);
        let a = account(&app, e, &month(-1)[..4], &t.sec_a).await;
        assert_eq!((&cell(&a, &month(-1))["state"], &cell(&a, &month(-1))["due"]), (&json!("unpaid"), &json!("42.00")));
        let rid = a["reductions"][0]["id"].as_i64().unwrap();
        let approve = json!({"reduction_id": rid, "approved_by": "艺术设计学院党委", "approved_on": kernel::dates::iso(kernel::dates::today())});
        let (st, a) = app.call("POST", &format!("/api/v1/people/{e}/fee-reductions"), Some(approve.clone()), Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{a}");
        assert_eq!(a["reductions"][0]["effective"], true);
        let a = account(&app, e, &month(-1)[..4], &t.sec_a).await;
        assert_eq!(cell(&a, &month(-1))["state"], "exempt");
        assert_eq!(app.call("POST", &format!("/api/v1/people/{e}/fee-reductions"), Some(approve), Some(&t.sec_a)).await.0, StatusCode::CONFLICT);
        app
    })
    .await;
}

#[tokio::test]
async fn fee_08_six_consecutive_unpaid_months_flag_the_account_the_card_and_the_ledger() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        // FEE-08-T1: paid through 7 months ago → the 6 elapsed months since are unpaid → flagged.
        let late = new_person(&app, t, "吴刚", "321", "full", "2015-06-01", "student").await;
        // FEE-08-T2: paid through 6 months ago → 5 unpaid → no flag.
        let ok = new_person(&app, t, "郑洁", "322", "full", "2015-06-01", "student").await;
        for (p, last) in [(late, -7), (ok, -6)] {
            profile(&app, p, json!({"category": "student", "effective_from": month(-10)}), &t.sec_a).await;
            let n = 10 + last + 1;
            let body = json!({"from_month": month(-10), "to_month": month(last), "amount": format!("{:.2}", n as f64 * 0.2), "method": "cash"});
            let (st, v) = pay(&app, p, body, &t.sec_a).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        let a = account(&app, late, &month(0)[..4], &t.sec_a).await;
        assert_eq!(a["flags"][0]["code"], "fee_arrears_six_months", "{a}");
        assert!(a["flags"][0]["message"].as_str().unwrap().contains("连续6个月未交纳党费"));
        assert_eq!((&a["arrears"]["consecutive"], &a["arrears"]["amount"]), (&json!(6), &json!("1.20")));
        let b = account(&app, ok, &month(0)[..4], &t.sec_a).await;
        assert!(b["flags"].as_array().unwrap().is_empty(), "{b}");
        // The status card carries it (C7: a case for the branch).
        let (_, card) = app.call("GET", &format!("/api/v1/people/{late}/status"), None, Some(&t.sec_a)).await;
        assert!(card["flags"].as_array().unwrap().iter().any(|f| f["code"] == "fee_arrears_six_months"), "{card}");
        let (_, card) = app.call("GET", &format!("/api/v1/people/{ok}/status"), None, Some(&t.sec_a)).await;
        assert!(!card["flags"].as_array().unwrap().iter().any(|f| f["code"] == "fee_arrears_six_months"), "{card}");
        // The status board: a member in normal standing whose only flag is the arrears is on it; the other not.
        let (st, board) = app.call("GET", &format!("/api/v1/orgs/{}/status-board", t.ba), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{board}");
        let lines = board["lines"].as_array().unwrap();
        let line = lines.iter().find(|l| l["person_id"] == late).expect("the member in arrears is on the board");
        assert!(line["flags"].to_string().contains("fee_arrears_six_months"), "{line}");
        assert!(!lines.iter().any(|l| l["person_id"] == ok || l["person_id"] == w.li), "{board}");
        // The ledger of branch A: the flagged member, totals.
        let (st, l) = app.call("GET", &format!("/api/v1/orgs/{}/fee-ledger?year={}", t.ba, &month(-1)[..4]), None, Some(&t.sec_a)).await;
        assert_eq!(st, StatusCode::OK, "{l}");
        assert_eq!(l["flagged"], 1);
        let row = l["rows"].as_array().unwrap().iter().find(|r| r["person_id"] == late).unwrap();
        assert_eq!((row["flagged"].as_bool(), row["cells"].as_array().unwrap().len()), (Some(true), 12));
        assert_eq!(l["totals"].as_array().unwrap().len(), 12);
        app
    })
    .await;
}

#[tokio::test]
async fn a_failed_payment_leaves_nothing_half_written() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        profile(&app, w.li, json!({"category": "student", "effective_from": month(-2)}), &t.sec_a).await;
        // The audit entry, written after the ledger entry in the same transaction, fails.
        match &app.platform.db {
            Db::Sqlite(p) => {
                sqlx::query("CREATE TRIGGER fail_fee_audit BEFORE INSERT ON audit_log WHEN NEW.action = 'fee.pay' \
                    BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
                    .execute(p)
                    .await
                    .unwrap();
            }
            Db::Postgres(p) => {
                sqlx::query("CREATE FUNCTION fail_fee_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                    IF NEW.action = 'fee.pay' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END; $$")
                    .execute(p)
                    .await
                    .unwrap();
                sqlx::query("CREATE TRIGGER fail_fee_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail_fee_audit()")
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
        let body = json!({"from_month": month(-2), "to_month": month(-1), "amount": "0.40", "method": "online", "payment_id": "ALI-9001"});
        let (st, _) = pay(&app, w.li, body.clone(), &t.sec_a).await;
        assert!(st.is_server_error(), "{st}");
        let a = account(&app, w.li, &month(-1)[..4], &t.sec_a).await;
        assert!(a["payments"].as_array().unwrap().is_empty(), "the ledger entry was rolled back");
        assert_eq!(cell(&a, &month(-1))["state"], "unpaid");
        match &app.platform.db {
            Db::Sqlite(p) => {
                sqlx::query("DROP TRIGGER fail_fee_audit").execute(p).await.unwrap();
            }
            Db::Postgres(p) => {
                sqlx::query("DROP TRIGGER fail_fee_audit ON audit_log").execute(p).await.unwrap();
            }
        }
        // Nothing is left that would make the retry a replay.
        let (st, v) = pay(&app, w.li, body, &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        app
    })
    .await;
}

#[tokio::test]
async fn scope_other_colleges_secretary_gets_404_and_a_member_403() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        profile(&app, w.li, json!({"category": "student", "effective_from": month(-1)}), &t.sec_a).await;
        let body = json!({"from_month": month(-1), "amount": "0.20", "method": "cash"});
        let li = w.li;
        for path in [
            format!("/api/v1/people/{li}/fees"),
            format!("/api/v1/orgs/{}/fee-ledger", t.ba),
            format!("/api/v1/orgs/{}/fee-ledger/export", t.ba),
        ] {
            assert_eq!(app.call("GET", &path, None, Some(&w.sec_b)).await.0, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(pay(&app, li, body.clone(), &w.sec_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(profile(&app, li, json!({"category": "student"}), &w.sec_b).await.0, StatusCode::NOT_FOUND);
        // The member reads her own dues and writes nothing.
        let a = account(&app, li, &month(-1)[..4], &w.member).await;
        assert_eq!((a["can_write"].as_bool(), &a["monthly_due"]), (Some(false), &json!("0.20")));
        assert_eq!(pay(&app, li, body, &w.member).await.0, StatusCode::FORBIDDEN);
        assert_eq!(profile(&app, li, json!({"category": "employed"}), &w.member).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            app.call("GET", &format!("/api/v1/orgs/{}/fee-ledger", t.ba), None, Some(&w.member)).await.0,
            StatusCode::NOT_FOUND
        );
        // Nothing was written by the refused calls.
        assert!(account(&app, li, &month(-1)[..4], &t.sec_a).await["payments"].as_array().unwrap().is_empty());
        app
    })
    .await;
}

#[tokio::test]
async fn pages_ledger_member_form_and_export() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let sec = app.web_login("sec_a", USER_PW).await;
        let li = w.li;
        // The profile and payment forms: errors in Chinese beside the field, then success.
        let (st, _, body) = app.form(&format!("/people/{li}/fees/profile"), &[("category", "")], Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("请选择党费类别"), "{body}");
        let from = month(-2);
        let (st, _, _) = app
            .form(
                &format!("/people/{li}/fees/profile"),
                &[("category", "student"), ("effective_from", &from)],
                Some(&sec),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (st, _, body) =
            app.form(&format!("/people/{li}/fees/pay"), &[("from_month", &from), ("amount", "0.10")], Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("请选择交纳方式"), "{body}");
        let short = [("from_month", from.as_str()), ("amount", "0.10"), ("method", "cash")];
        let (st, _, body) = app.form(&format!("/people/{li}/fees/pay"), &short, Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("金额少于应交党费") && body.contains("0.10"), "{body}");
        let (st, headers, _) = app
            .form(
                &format!("/people/{li}/fees/pay"),
                &[("from_month", &from), ("amount", "0.20"), ("method", "cash")],
                Some(&sec),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(headers["location"].to_str().unwrap().ends_with("done=paid"));
        // The ledger page and the export.
        let (st, page) = app.page(&format!("/orgs/{}/fees", t.ba), &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("党费台账") && page.contains("李红") && page.contains("scroll-x"), "{page}");
        let (st, headers, csv) = app
            .request(
                axum::http::Request::builder()
                    .uri(format!("/orgs/{}/fees/export?format=csv&year={}", t.ba, &from[..4]))
                    .header("cookie", &sec)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(csv.contains("姓名") && csv.contains("李红") && csv.contains("已交 0.20"), "{csv}");
        // The member's own page: what is due, the rule; no forms.
        let me = app.web_login("lihong", USER_PW).await;
        let (st, page) = app.page(&format!("/people/{li}/fees"), &me).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            page.contains("本月应交") && page.contains("中组发〔2008〕3号") && !page.contains("登记交纳"),
            "{page}"
        );
        let (st, _) = app.page(&format!("/people/{li}/fees/pay"), &me).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        app
    })
    .await;
}

#[tokio::test]
async fn an_introduction_letter_prints_the_month_the_ledger_has_the_dues_paid_through() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        let (st, v) = profile(&app, w.li, json!({"category": "student", "effective_from": month(-3)}), &t.sec_a).await;
        assert!(st.is_success(), "{v}");
        let body = json!({"from_month": month(-3), "to_month": month(-2), "amount": "0.40", "method": "cash"});
        assert_eq!(pay(&app, w.li, body, &t.sec_a).await.0, StatusCode::CREATED);
        let out = |fee: Option<&str>| {
            let mut b = json!({"kind": "out", "person_id": w.li, "external_org": "中共杭州市西湖区委员会组织部",
                "reason": "毕业后到杭州市工作"});
            if let Some(f) = fee {
                b["fee_paid_through"] = json!(f);
            }
            b
        };
        // Not typed: the ledger's last paid month.
        let tr = app.post_ok("/api/v1/transfers", out(None), &t.sec_a).await;
        assert_eq!(tr["letters"][0]["fee_paid_through"].as_str(), Some(month(-2).as_str()), "{tr}");
        let id = tr["id"].as_i64().unwrap();
        let (st, v) = app
            .call("POST", &format!("/api/v1/transfers/{id}/cancel"), Some(json!({"reason": "暂缓"})), Some(&t.sec_a))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        // Typed (paid outside the system, say): what was typed.
        let tr = app.post_ok("/api/v1/transfers", out(Some(&month(-1))), &t.sec_a).await;
        assert_eq!(tr["letters"][0]["fee_paid_through"].as_str(), Some(month(-1).as_str()), "{tr}");
        // Someone the ledger keeps no dues for: left empty, as before.
        let zhao = new_person(&app, t, "赵敏", "456", "full", "2019-06-01", "student").await;
        let mut b = out(None);
        b["person_id"] = json!(zhao);
        let tr = app.post_ok("/api/v1/transfers", b, &t.sec_a).await;
        assert_eq!(tr["letters"][0]["fee_paid_through"], Value::Null, "{tr}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_payment_statement_file_records_each_row_once_however_often_it_is_imported() {
    on_both(|app| async move {
        let w = world(&app).await;
        let t = &w.t;
        profile(&app, w.li, json!({"category": "student", "effective_from": month(-4)}), &t.sec_a).await;
        let mut other = person("周强", t.bb, &id_number("19990101", "777"), "1999-01-01");
        other["stage"] = json!("full");
        other["admitted_on"] = json!("2020-06-01");
        app.post_ok("/api/v1/people", other, &t.staff).await;
        let li_id = id_number("19990101", "123");
        let (m4, m3, m1) = (month(-4), month(-3), month(-1));
        let csv = format!(
            "交易流水号,公民身份号码,姓名,金额,交易时间,党费月份起,党费月份止\n\
             WX1001,{li_id},李红,0.40,{m3}-15 10:21:33,{m4},{m3}\n\
             WX1002,110101199001011234,王五,0.20,{m1}-15,{m1},\n\
             WX1003,{},周强,0.20,{m1}-15,{m1},\n\
             WX1004,{li_id},李四,0.20,{m1}-15,{m1},\n\
             WX1005,{li_id},李红,0.01,{m1}-15,{m1},\n",
            id_number("19990101", "777")
        );
        let import = |token: String| {
            let body = csv.clone().into_bytes();
            let app = &app;
            async move {
                let req = Request::post(format!("/api/v1/orgs/{}/fee-payments/import", t.ba))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from(body))
                    .unwrap();
                let (st, _, text) = app.request(req).await;
                (st, serde_json::from_str::<Value>(&text).unwrap_or(Value::Null))
            }
        };
        // Another college's secretary: 404; a member: 404 (no fee reading there); nothing recorded.
        assert_eq!(import(w.sec_b.clone()).await.0, StatusCode::NOT_FOUND);
        assert_eq!(import(w.member.clone()).await.0, StatusCode::NOT_FOUND);
        let (st, r) = import(t.sec_a.clone()).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(
            (r["rows"].as_u64(), r["recorded"].as_u64(), r["already_recorded"].as_u64()),
            (Some(5), Some(1), Some(0)),
            "{r}"
        );
        let errors: Vec<(u64, String)> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["row"].as_u64().unwrap(), e["message"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![3, 4, 5, 6], "{errors:?}");
        assert!(
            errors[0].1.contains("未登记") && errors[1].1.contains("不在") && errors[2].1.contains("姓名"),
            "{errors:?}"
        );
        assert!(
            errors[3].1.contains("0.20") || errors[3].1.contains("不足"),
            "the dues are checked as typed in: {errors:?}"
        );
        let a = account(&app, w.li, &m3[..4], &t.sec_a).await;
        assert_eq!(cell(&a, &m3)["state"], "paid", "{a}");
        // The same file again: nothing recorded twice.
        let (st, r) = import(t.sec_a.clone()).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!((r["recorded"].as_u64(), r["already_recorded"].as_u64()), (Some(0), Some(1)), "{r}");
        let a = account(&app, w.li, &m3[..4], &t.sec_a).await;
        assert_eq!(a["payments"].as_array().unwrap().len(), 1, "{a}");
        // The page: the ledger offers the upload to those who write; the report names the refused rows.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (_, html) = app.page(&format!("/orgs/{}/fees", t.ba), &cookie).await;
        assert!(html.contains("导入银行、微信交纳记录"), "{html}");
        let csrf = crate::import::hidden(&html, "csrf");
        let uri = format!("/orgs/{}/fees/import", t.ba);
        let (st, _, html) =
            crate::import::upload_form_to(&app, &uri, &cookie, Some(&csrf), "微信账单.csv", csv.as_bytes()).await;
        assert_eq!(st, StatusCode::OK, "{html}");
        assert!(html.contains("此前已记入") && html.contains("第5行") && html.contains("姓名“李四”"), "{html}");
        // A file without the template's columns is refused as a whole.
        let req = Request::post(format!("/api/v1/orgs/{}/fee-payments/import", t.ba))
            .header(header::AUTHORIZATION, format!("Bearer {}", t.sec_a))
            .body(Body::from("a,b\n1,2\n"))
            .unwrap();
        let (st, _, text) = app.request(req).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        assert!(text.contains("交易流水号"), "{text}");
        app
    })
    .await;
}
