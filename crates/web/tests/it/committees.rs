//! 委员会与换届 through the router, on SQLite and PostgreSQL: a term recorded as it stands, a postponement within
//! and beyond the year ORG-10 allows, an election judged by ELE-01 (refused without a quorum, with nothing
//! written) that opens the next term, scope (another branch's secretary gets 404), the nightly reminder and the
//! flags seen from the organizations above, and the audit entries.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::dates::{add_months, iso, today};
use serde_json::{Value, json};

use crate::life::{audited, count, get};
use crate::support::*;

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    app.call("POST", path, Some(body), Some(token)).await
}

/// `n` full members of `org`; returns their ids.
async fn members(app: &TestApp, t: &Tree, org: i64, n: usize, seq0: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let p = person(
            &format!("党员{}", seq0 + i),
            org,
            &id_number("19990101", &format!("{:03}", seq0 + i)),
            "1999-01-01",
        );
        ids.push(app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap());
    }
    ids
}

fn term(elected_on: &str, people: &[(i64, &str)]) -> Value {
    let members: Vec<Value> = people.iter().map(|(p, post)| json!({"person_id": p, "post": post})).collect();
    json!({"elected_on": elected_on, "members": members})
}

#[tokio::test]
async fn a_term_a_postponement_and_an_election_that_opens_the_next_term() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = members(&app, &t, t.ba, 8, 100).await;
        let other = members(&app, &t, t.bb, 1, 200).await;
        let base = format!("/api/v1/orgs/{}/committee", t.ba);

        let (st, c) = get(&app, &base, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert!(c["current"].is_null());
        assert_eq!(c["rules"]["committee_required"], true, "8 formal members (ORG-09)");
        assert_eq!(c["formal_members"], 8);

        // Another branch is out of the secretary's scope: 404, audited.
        let (st, _) = get(&app, &format!("/api/v1/orgs/{}/committee", t.bb), &t.sec_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = post(&app, &format!("/api/v1/orgs/{}/committee/terms", t.bb), term("2024-01-01", &[]), &t.sec_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let denied = audited(&app).await;
        assert!(denied.iter().any(|(a, r, tg)| a == "committee.read" && r == "denied" && *tg == format!("org:{}", t.bb)));
        assert!(denied.iter().any(|(a, r, _)| a == "committee.term" && r == "denied"));

        // Validation: every bad item at once, nothing written.
        let (st, e) = post(&app, &format!("{base}/terms"), json!({"elected_on": "2023-13-01", "members": []}), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"]["elected_on"].as_str().unwrap().contains("YYYY-MM-DD"), "{e}");
        assert!(e["error"]["fields"]["members"].is_string(), "{e}");
        // ORG-09: a branch of 8 formal members needs a committee of 3 to 7.
        let (st, e) = post(&app, &format!("{base}/terms"), term("2023-06-30", &[(m[0], "secretary"), (m[1], "deputy")]), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"]["members"].as_str().unwrap().contains("第六章"), "{e}");
        // People of another branch cannot sit on this committee.
        let (st, e) = post(&app, &format!("{base}/terms"), term("2023-06-30", &[(m[0], "secretary"), (m[1], "member"), (other[0], "member")]), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["members"].as_str().unwrap().contains(&other[0].to_string()), "{e}");
        assert_eq!(count(&app.platform.db, "committee_terms").await, 0);
        assert_eq!(count(&app.platform.db, "committee_members").await, 0);

        // The term elected 33 months ago ends in 3 months: due soon (ORG-10, the reminder 6 months before).
        let today = today();
        let elected = add_months(today, -33);
        let due = add_months(elected, 36);
        let (st, c) = post(&app, &format!("{base}/terms"), term(&iso(elected), &[(m[0], "secretary"), (m[1], "organizing"), (m[2], "publicity")]), &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let cur = &c["current"];
        assert_eq!((cur["number"].as_i64(), cur["due_on"].as_str()), (Some(1), Some(iso(due).as_str())), "{c}");
        assert_eq!(cur["status"], "due_soon");
        assert_eq!(cur["members"][0]["post_label"], "书记");
        assert!(cur["flag"]["citations"].to_string().contains("第二十一条"), "{c}");
        // The register's 党内职务 follows the committee.
        let party_post = async |id: i64| {
            let (_, p) = app.call("GET", &format!("/api/v1/people/{id}"), None, Some(&t.staff)).await;
            p["party_post"].as_str().map(str::to_string)
        };
        assert_eq!(party_post(m[0]).await.as_deref(), Some("党支部书记"));
        assert_eq!(party_post(m[1]).await.as_deref(), Some("党支部组织委员"));
        // A post typed by hand since (m[2] became a group leader) is not the committee's to take away.
        let hand = "UPDATE people SET party_post = '党小组组长' WHERE id = $1";
        match &app.platform.db {
            kernel::Db::Sqlite(p) => sqlx::query(hand).bind(m[2]).execute(p).await.map(|_| ()).unwrap(),
            kernel::Db::Postgres(p) => sqlx::query(hand).bind(m[2]).execute(p).await.map(|_| ()).unwrap(),
        }

        // A delay beyond one year is refused with the article; within it, recorded.
        let late = json!({"postpone_to": iso(add_months(due, 13)), "reason": "书记外派", "approved_by": "学院党委", "approved_on": iso(today)});
        let (st, e) = post(&app, &format!("{base}/postpone"), late, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"]["postpone_to"].as_str().unwrap().contains("第三条"), "{e}");
        let (_, c) = get(&app, &base, &t.sec_a).await;
        assert!(c["current"]["postponed_to"].is_null(), "nothing written: {c}");
        let ok = json!({"postpone_to": iso(add_months(due, 9)), "reason": "书记外派", "approved_by": "学院党委", "approved_on": iso(today)});
        let (st, c) = post(&app, &format!("{base}/postpone"), ok, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(c["current"]["postponed_to"], iso(add_months(due, 9)));
        assert_eq!(c["current"]["status"], "running");

        // ELE-01: 8 entitled, 6 present is not more than four fifths — refused, nothing written.
        let ballot = |present: u32| {
            json!({"held_on": iso(today), "entitled": 8, "present": present, "seats": 3, "candidates": [
                {"person_id": m[3], "votes": 6, "post": "secretary"}, {"person_id": m[4], "votes": 6},
                {"person_id": m[5], "votes": 5}, {"person_id": m[6], "votes": 4}]})
        };
        let (st, e) = post(&app, &format!("{base}/elections"), ballot(6), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let msg = e["error"]["fields"]["present"].as_str().unwrap();
        assert!(msg.contains("五分之四") && msg.contains("至少应到7人") && msg.contains("选举工作条例"), "{msg}");
        assert_eq!(count(&app.platform.db, "committee_elections").await, 0);
        assert_eq!(count(&app.platform.db, "committee_terms").await, 1);

        // 7 present: valid; 4 yes of 8 entitled is not more than half, so three are elected by votes.
        let (st, r) = post(&app, &format!("{base}/elections"), ballot(7), &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        let elected: Vec<bool> = r["election"]["candidates"].as_array().unwrap().iter().map(|c| c["elected"].as_bool().unwrap()).collect();
        assert_eq!(elected, vec![true, true, true, false]);
        let c = &r["committee"];
        assert_eq!(c["current"]["number"], 2);
        assert_eq!(c["current"]["election_id"], r["election"]["id"]);
        assert_eq!(c["current"]["members"][0]["person_id"], m[3]);
        assert_eq!(c["current"]["members"][0]["post"], "secretary");
        assert_eq!(c["current"]["due_on"], iso(add_months(today, 36)));
        assert_eq!(c["history"][0]["number"], 1);
        assert_eq!(c["history"][0]["ended_on"], iso(today));
        assert!(c["history"][0]["status"].is_null());
        // The new term's members hold their posts; the old term's leave theirs, but for one typed by hand.
        assert_eq!(party_post(m[3]).await.as_deref(), Some("党支部书记"));
        assert_eq!(party_post(m[4]).await.as_deref(), Some("党支部委员"));
        assert_eq!((party_post(m[0]).await, party_post(m[1]).await), (None, None));
        assert_eq!(party_post(m[2]).await.as_deref(), Some("党小组组长"));

        // A second election on the same day as the current term's is refused.
        let (st, e) = post(&app, &format!("{base}/elections"), ballot(7), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["held_on"].as_str().unwrap().contains("第2届"), "{e}");

        let log = audited(&app).await;
        for action in ["committee.term", "committee.postpone", "committee.election"] {
            assert_eq!(log.iter().filter(|(a, r, _)| a == action && r == "ok").count(), 1, "{action}: {log:?}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_nightly_reminder_flags_terms_due_and_overdue_for_the_organizations_above() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let a = members(&app, &t, t.ba, 3, 300).await;
        let b = members(&app, &t, t.bb, 3, 400).await;
        let today = today();
        let soon = iso(add_months(today, -34));
        let late = iso(add_months(today, -37));
        let roster = |m: &[i64]| vec![(m[0], "secretary"), (m[1], "deputy")];
        app.post_ok(&format!("/api/v1/orgs/{}/committee/terms", t.ba), term(&soon, &roster(&a)), &t.sec_a).await;
        app.post_ok(&format!("/api/v1/orgs/{}/committee/terms", t.bb), term(&late, &roster(&b)), &t.staff).await;

        let r = life::committees::remind(&app.platform.db, today).await.unwrap();
        assert_eq!((r.checked, r.due_soon, r.overdue, r.changed), (2, 1, 1, 2));
        let again = life::committees::remind(&app.platform.db, today).await.unwrap();
        assert_eq!(again.changed, 0, "a flag found again is not written again");

        let (st, all) = get(&app, &format!("/api/v1/orgs/{}/committee/reminders", t.uni), &t.staff).await;
        assert_eq!(st, StatusCode::OK, "{all}");
        let items = all["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!((items[0]["org_id"].as_i64(), items[0]["status"].as_str()), (Some(t.bb), Some("overdue")));
        assert_eq!(items[0]["flagged_on"], iso(today));
        assert!(items[0]["flag"]["message"].as_str().unwrap().contains("尚未换届"), "{all}");
        assert_eq!(items[1]["status"], "due_soon");
        let (_, own) = get(&app, &format!("/api/v1/orgs/{}/committee/reminders", t.ba), &t.sec_a).await;
        assert_eq!(own["items"].as_array().unwrap().len(), 1);
        let (st, _) = get(&app, &format!("/api/v1/orgs/{}/committee/reminders", t.uni), &t.sec_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "the secretary sees her branch only");

        // A postponement approved for the overdue branch clears its flag on the next run.
        let p = json!({"postpone_to": iso(add_months(today, 7)), "reason": "合并支部后换届", "approved_by": "信息学院党委",
                       "approved_on": iso(today)});
        let (st, e) = post(&app, &format!("/api/v1/orgs/{}/committee/postpone", t.bb), p, &t.staff).await;
        assert_eq!(st, StatusCode::OK, "{e}");
        let r = life::committees::remind(&app.platform.db, today).await.unwrap();
        assert_eq!((r.due_soon, r.overdue), (1, 0));
        let (_, all) = get(&app, &format!("/api/v1/orgs/{}/committee/reminders", t.uni), &t.staff).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 1);
        app
    })
    .await;
}

#[tokio::test]
async fn the_secretary_records_an_election_on_the_page_and_sees_the_new_term() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let m = members(&app, &t, t.ba, 3, 500).await;
        let cookie = app.web_login("sec_a", USER_PW).await;
        let page = format!("/orgs/{}/committee", t.ba);
        let (st, html) = app.page(&format!("/orgs/{}", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains(&format!("href=\"{page}\"")), "the organization page links to 委员会与换届");
        let (st, html) = app.page(&page, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("尚未登记委员会") && html.contains("记录换届选举"), "{html}");
        let (st, _) = app.page(&format!("/orgs/{}/committee", t.bb), &cookie).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // 3 entitled and 2 present is not more than four fifths: the form comes back with the article.
        let (v0, v1) = (format!("votes_{}", m[0]), format!("votes_{}", m[1]));
        let post0 = format!("post_{}", m[0]);
        let day = iso(today());
        let fields = |present: &'static str| {
            vec![
                ("held_on", day.as_str()),
                ("entitled", "3"),
                ("present", present),
                ("seats", "2"),
                (v0.as_str(), "2"),
                (v1.as_str(), "2"),
                (post0.as_str(), "secretary"),
            ]
        };
        let (st, _, html) = app.form(&format!("{page}/election"), &fields("2"), Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("五分之四") && html.contains("选举无效"), "{html}");
        assert_eq!(count(&app.platform.db, "committee_elections").await, 0);

        let (st, headers, _) = app.form(&format!("{page}/election"), &fields("3"), Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let location = headers.get("location").unwrap().to_str().unwrap().to_string();
        let (st, html) = app.page(&location, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("换届选举已记录") && html.contains("现任：第1届"), "{html}");
        assert!(html.contains("党员500") && html.contains("书记") && html.contains("（当选）"), "{html}");
        app
    })
    .await;
}
