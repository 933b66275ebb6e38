//! 组织生活 through the router, on SQLite and PostgreSQL: the contract journey (a secretary records 支委会 in
//! January and March 2025, the calendar on 2025-04-01 flags February only), scope (another branch's secretary
//! gets 404, a leader may read but not write), validation (422 with fields and nothing written), attendance,
//! leave requests, archiving, the quorum of a 支委会, the roll-up, the pages, and the audit entries.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use security::audit;
use serde_json::{Value, json};

use crate::support::*;

pub(crate) async fn count(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

/// Every meeting whose attendance counts kept on its row (migration 0029) differ from a count over its
/// attendees, as `(id, kept, counted)`: empty after any write.
pub(crate) async fn attendance_counts_drift(db: &Db) -> Vec<(i64, String, String)> {
    const SQL: &str = "SELECT id, invited, present, recorded, \
        (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id), \
        (SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id AND a.attendance = 'present'), \
        (SELECT COUNT(a.attendance) FROM meeting_attendees a WHERE a.meeting_id = m.id) FROM meetings m ORDER BY id";
    let rows: Vec<(i64, i64, i64, i64, i64, i64, i64)> = match db {
        Db::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    };
    rows.into_iter()
        .filter(|r| (r.1, r.2, r.3) != (r.4, r.5, r.6))
        .map(|r| (r.0, format!("{:?}", (r.1, r.2, r.3)), format!("{:?}", (r.4, r.5, r.6))))
        .collect()
}

/// Fails, naming the write, when a meeting's kept counts drifted from its attendees.
pub(crate) async fn assert_counts_kept(app: &TestApp, after: &str) {
    let drift = attendance_counts_drift(&app.platform.db).await;
    assert!(drift.is_empty(), "after {after} (id, kept, counted): {drift:?}");
}

/// `(action, result)` of every audit entry.
pub(crate) async fn audited(app: &TestApp) -> Vec<(String, String, String)> {
    audit::entries_after(&app.platform.db, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.result, e.target))
        .collect()
}

pub(crate) async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.call("GET", path, None, Some(token)).await
}

/// A JSON call with a body (`Null`: none).
async fn send(app: &TestApp, method: &str, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    let body = if body.is_null() { None } else { Some(body) };
    app.call(method, path, body, Some(token)).await
}

fn meeting(org: i64, kind: &str, title: &str, held_on: &str) -> Value {
    json!({"org_id": org, "kind": kind, "title": title, "held_on": held_on})
}

/// A user with one grant; returns the token.
async fn user(app: &TestApp, t: &Tree, name: &str, role: &str, org: i64) -> String {
    let body =
        json!({"username": name, "password": USER_PW, "display_name": name, "grants": [{"role": role, "org_id": org}]});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    app.login(name, USER_PW).await
}

/// A full member of `org`, optionally with a party post.
async fn member(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str, post: Option<&str>) -> i64 {
    let mut p = person(name, org, &id_number("19990101", seq), "1999-01-01");
    if let Some(post) = post {
        p["party_post"] = json!(post);
    }
    app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap()
}

fn periods_of(flags: &Value, code: &str) -> Vec<String> {
    flags["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .map(|f| f["period"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn life_contract_journey_scope_and_validation() {
    on_both(|app| async move {
        let t = tree(&app).await;
        // The secretary records 支委会 on 2025-01-13 and 2025-03-10.
        let mut ids = Vec::new();
        for d in ["2025-01-13", "2025-03-10"] {
            let (st, m) = send(&app, "POST", "/api/v1/meetings", meeting(t.ba, "committee", d, d), &t.sec_a).await;
            assert_eq!(st, StatusCode::CREATED, "{m}");
            assert_eq!(m["status"], "held", "a past date is recorded as held");
            ids.push(m["id"].as_i64().unwrap());
        }
        let path = format!("/api/v1/orgs/{}/compliance?as_of=2025-04-01", t.ba);
        let (st, c) = get(&app, &path, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{c}");
        assert_eq!(periods_of(&c, "committee_meeting_missing"), ["2025-02"]);
        let feb = c["flags"].as_array().unwrap().iter().find(|f| f["code"] == "committee_meeting_missing").unwrap();
        assert!(feb["message"].as_str().unwrap().contains("支委会"));
        assert_eq!(feb["citations"], json!(["《中国共产党支部工作条例（试行）》第十二条"]));
        // The other obligations of the quarter: theme days every month, the members' meeting and (a reminder) a
        // 党课 in Q1; nothing of April (not elapsed) nor of the year (C6).
        assert_eq!(periods_of(&c, "theme_day_missing"), ["2025-01", "2025-02", "2025-03"]);
        assert_eq!(periods_of(&c, "branch_assembly_missing"), ["2025-Q1"]);
        assert_eq!(periods_of(&c, "party_lecture_reminder"), ["2025-Q1"]);
        assert_eq!(c["flags"].as_array().unwrap().len(), 6, "{c}");
        // A malformed as_of is a field error.
        let (st, e) = get(&app, &format!("/api/v1/orgs/{}/compliance?as_of=2025-4-1", t.ba), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["as_of"].is_string());

        // Another branch's secretary learns nothing.
        let sec_b = user(&app, &t, "sec_b", "branch_secretary", t.bb).await;
        assert_eq!(get(&app, &path, &sec_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, &format!("/api/v1/meetings/{}", ids[0]), &sec_b).await.0, StatusCode::NOT_FOUND);
        let (st, _) = get(&app, &format!("/api/v1/meetings?org_id={}", t.ba), &sec_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, e) =
            send(&app, "POST", "/api/v1/meetings", meeting(t.ba, "committee", "越权", "2025-02-10"), &sec_b).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["org_id"].is_string());
        let (st, _) = get(&app, "/api/v1/orgs/999999/compliance", &sec_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // A leader reads everything below her and writes nothing.
        let leader = user(&app, &t, "leader", "leader", t.uni).await;
        assert_eq!(get(&app, &path, &leader).await.0, StatusCode::OK);
        let (st, m) = get(&app, &format!("/api/v1/meetings/{}", ids[0]), &leader).await;
        assert_eq!((st, m["kind"].as_str()), (StatusCode::OK, Some("committee")));
        let (st, _) =
            send(&app, "POST", "/api/v1/meetings", meeting(t.ba, "committee", "2月支委会", "2025-02-10"), &leader)
                .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let first = format!("/api/v1/meetings/{}", ids[0]);
        let (st, _) = send(&app, "PATCH", &first, json!({"title": "改"}), &leader).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Validation: every bad item named, nothing written.
        let outsider = member(&app, &t, "王芳", t.bb, "456", None).await;
        let before = count(&app.platform.db, "meetings").await;
        let cases = [
            (json!({"org_id": t.ba, "kind": "party_congress", "title": "未知类型", "held_on": "2025-02-10"}), "kind"),
            (json!({"org_id": t.ba, "kind": "committee", "title": "日期错误", "held_on": "2025-02-30"}), "held_on"),
            (json!({"org_id": t.ba, "kind": "committee", "title": "日期错误", "held_on": "10/02/2025"}), "held_on"),
            (
                json!({"org_id": t.ba, "kind": "committee", "title": "外支部人员", "held_on": "2025-02-10",
                       "attendee_ids": [outsider]}),
                "attendee_ids",
            ),
            (json!({"org_id": t.ba, "kind": "group", "title": "支部不开党小组会", "held_on": "2025-02-10"}), "kind"),
            (json!({"org_id": t.ba, "kind": "committee", "held_on": "2025-02-10"}), "title"),
        ];
        for (body, field) in cases {
            let (st, e) = send(&app, "POST", "/api/v1/meetings", body.clone(), &t.sec_a).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(e["error"]["code"], "validation_failed");
            let msg = e["error"]["fields"][field].as_str().unwrap_or_else(|| panic!("{field} in {e}"));
            assert!(msg.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)), "Chinese message: {msg}");
        }
        let everything_wrong = json!({"org_id": t.ba, "kind": "x", "held_on": "x", "attendee_ids": [outsider]});
        let (_, e) = send(&app, "POST", "/api/v1/meetings", everything_wrong, &t.sec_a).await;
        let fields: Vec<&String> = e["error"]["fields"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["attendee_ids", "held_on", "kind", "title"], "all at once");
        assert_eq!(count(&app.platform.db, "meetings").await, before, "nothing written");
        assert_eq!(count(&app.platform.db, "meeting_attendees").await, 0);

        // Every write and every refusal is in the audit log.
        let log = audited(&app).await;
        let n = |action: &str, result: &str| log.iter().filter(|(a, r, _)| a == action && r == result).count();
        assert_eq!(n("meeting.create", "ok"), 2);
        assert!(log.contains(&("meeting.create".into(), "ok".into(), format!("meeting:{}", ids[0]))));
        assert!(n("meeting.create", "denied") >= 1, "the leader's attempt");
        assert!(n("life.compliance", "denied") >= 1, "the other secretary's read");
        assert!(n("meeting.read", "denied") >= 1);
        assert!(matches!(audit::verify(&app.platform.db).await.unwrap(), audit::Verdict::Intact { .. }));
        app
    })
    .await;
}

#[tokio::test]
async fn life_attendance_leave_archive_and_quorum() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = member(&app, &t, "张书记", t.ba, "111", Some("支部书记")).await;
        let org = member(&app, &t, "王委员", t.ba, "222", Some("组织委员")).await;
        let li = member(&app, &t, "李红", t.ba, "333", None).await;
        // 李红 signs in as a plain member.
        let body = json!({"username": "lihong", "password": USER_PW, "display_name": "李红", "person_id": li,
                          "grants": []});
        app.post_ok("/api/v1/users", body, &t.admin).await;
        let lihong = app.login("lihong", USER_PW).await;

        // A theme day defaults to every member; a 支委会 to the committee posts.
        let day =
            app.post_ok("/api/v1/meetings", meeting(t.ba, "theme_day", "3月主题党日", "2025-03-20"), &t.sec_a).await;
        let day_id = day["id"].as_i64().unwrap();
        assert_eq!(day["stats"]["invited"], 3);
        let com =
            app.post_ok("/api/v1/meetings", meeting(t.ba, "committee", "3月支委会", "2025-03-10"), &t.sec_a).await;
        let ids: Vec<i64> =
            com["attendees"].as_array().unwrap().iter().map(|a| a["person_id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&sec) && ids.contains(&org));
        assert_counts_kept(&app, "invitations").await;

        // The sign-in sheet: a leave needs its reason; someone not invited is refused; nothing half-written.
        let sheet = |entries: Value| json!({ "entries": entries });
        let path = format!("/api/v1/meetings/{day_id}/attendance");
        let bad = sheet(json!([{"person_id": sec, "status": "present"}, {"person_id": li, "status": "leave"},
                               {"person_id": 424242, "status": "present"}]));
        let (st, e) = send(&app, "PUT", &path, bad, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"][format!("attendance.{li}")].as_str().unwrap().contains("事由"));
        assert!(e["error"]["fields"]["attendance.424242"].is_string());
        let (_, m) = get(&app, &format!("/api/v1/meetings/{day_id}"), &t.sec_a).await;
        assert_eq!(m["stats"]["unrecorded"], 3);
        let good = sheet(json!([{"person_id": sec, "status": "present"}, {"person_id": org, "status": "absent"},
            {"person_id": li, "status": "leave", "reason": "外出实习"}]));
        let (st, m) = send(&app, "PUT", &path, good, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!(
            (
                m["stats"]["present"].as_i64(),
                m["stats"]["leave"].as_i64(),
                m["stats"]["absent"].as_i64(),
                m["stats"]["present_percent"].as_i64()
            ),
            (Some(1), Some(1), Some(1), Some(33))
        );
        assert_counts_kept(&app, "the sign-in sheet").await;

        // The member reads the meeting she is invited to, with her own reason only; not the 支委会.
        let (st, mine) = get(&app, &format!("/api/v1/meetings/{day_id}"), &lihong).await;
        assert_eq!(st, StatusCode::OK);
        let me = mine["attendees"].as_array().unwrap().iter().find(|a| a["person_id"] == li).unwrap();
        assert_eq!(me["reason"], "外出实习");
        let com_id = com["id"].as_i64().unwrap();
        assert_eq!(get(&app, &format!("/api/v1/meetings/{com_id}"), &lihong).await.0, StatusCode::NOT_FOUND);
        let (st, list) = get(&app, "/api/v1/meetings?year=2025", &lihong).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "only the theme day: {list}");
        // She cannot take attendance, and asks for leave only before a meeting.
        assert_eq!(send(&app, "PUT", &path, sheet(json!([])), &lihong).await.0, StatusCode::FORBIDDEN);
        let leave = format!("/api/v1/meetings/{day_id}/leave");
        assert_eq!(send(&app, "POST", &leave, json!({"reason": "补请"}), &lihong).await.0, StatusCode::CONFLICT);
        let soon = kernel::dates::iso(kernel::dates::today().next_day().unwrap());
        let next =
            app.post_ok("/api/v1/meetings", meeting(t.ba, "branch_assembly", "支部党员大会", &soon), &t.sec_a).await;
        assert_eq!(next["status"], "planned");
        let leave = format!("/api/v1/meetings/{}/leave", next["id"]);
        let (st, e) = send(&app, "POST", &leave, json!({"reason": " "}), &lihong).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["reason"].is_string());
        let (st, m) = send(&app, "POST", &leave, json!({"reason": "参加学院实习"}), &lihong).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!(m["stats"]["leave"], 1);
        assert_counts_kept(&app, "a leave request").await;
        // Presence cannot be recorded before the day.
        let early = sheet(json!([{"person_id": sec, "status": "present"}]));
        let (st, _) = send(&app, "PUT", &format!("/api/v1/meetings/{}/attendance", next["id"]), early, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

        // Per person over the year.
        let (st, people) = get(&app, &format!("/api/v1/orgs/{}/attendance?year=2025", t.ba), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let row = people.as_array().unwrap().iter().find(|p| p["person_id"] == sec).unwrap();
        assert_eq!((row["stats"]["invited"].as_i64(), row["stats"]["present"].as_i64()), (Some(2), Some(1)));

        // Archive: a record from then on.
        let (st, m) = send(&app, "POST", &format!("/api/v1/meetings/{day_id}/archive"), Value::Null, &t.sec_a).await;
        assert_eq!((st, m["archived"].as_bool()), (StatusCode::OK, Some(true)));
        let day_path = format!("/api/v1/meetings/{day_id}");
        let (st, _) = send(&app, "PATCH", &day_path, json!({"minutes": "补记"}), &t.sec_a).await;
        assert_eq!(st, StatusCode::CONFLICT);
        assert_eq!(send(&app, "PUT", &path, sheet(json!([])), &t.sec_a).await.0, StatusCode::CONFLICT);
        let archive_next = format!("/api/v1/meetings/{}/archive", next["id"]);
        let (st, _) = send(&app, "POST", &archive_next, Value::Null, &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a planned meeting is not archived");

        // A 支委会 with fewer than half present does not count (ORG-02): March is flagged for the quorum.
        let com_sheet = sheet(json!([{"person_id": sec, "status": "absent"}, {"person_id": org, "status": "absent"}]));
        let (st, _) = send(&app, "PUT", &format!("/api/v1/meetings/{com_id}/attendance"), com_sheet, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let (_, c) = get(&app, &format!("/api/v1/orgs/{}/compliance?as_of=2025-04-01", t.ba), &t.sec_a).await;
        assert_eq!(periods_of(&c, "committee_quorum_not_met"), ["2025-03"]);
        assert_counts_kept(&app, "absences").await;
        assert_eq!(periods_of(&c, "committee_meeting_missing"), ["2025-01", "2025-02"]);
        assert_eq!(periods_of(&c, "theme_day_missing"), ["2025-01", "2025-02"], "March's theme day counts");

        // PATCH: a lost update is refused; a change is audited by item names.
        let com_path = format!("/api/v1/meetings/{com_id}");
        let (st, _) = send(&app, "PATCH", &com_path, json!({"title": "3月支委会（补）", "version": 1}), &t.sec_a).await;
        assert_eq!(st, StatusCode::CONFLICT, "attendance moved the version");
        let (st, m) = send(&app, "PATCH", &com_path, json!({"minutes": "<script>alert(1)</script>"}), &t.sec_a).await;
        assert_eq!((st, m["minutes"].as_str()), (StatusCode::OK, Some("<script>alert(1)</script>")));

        // The year's 谈心谈话 (ORG-08) once 2025 has ended: three members without a talk.
        let (_, c) = get(&app, &format!("/api/v1/orgs/{}/compliance?as_of=2026-01-01", t.ba), &t.sec_a).await;
        assert_eq!(periods_of(&c, "heart_talk_missing").len(), 1, "李红: {c}");
        assert_eq!(periods_of(&c, "heart_talk_committee_missing").len(), 2);
        assert_eq!(periods_of(&c, "life_meeting_missing"), ["2025"]);

        // The university's roll-up counts each branch's flags.
        let (st, r) = get(&app, &format!("/api/v1/orgs/{}/compliance/rollup?as_of=2026-01-01", t.uni), &t.staff).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        let lines = r["lines"].as_array().unwrap();
        let line = |org: i64| lines.iter().find(|l| l["org_id"] == org).unwrap().clone();
        assert!(line(t.ba)["flags"].as_i64().unwrap() > 0);
        assert_eq!(line(t.ba)["meetings_held"], 2);
        assert_eq!(line(t.uni)["by_rule"]["ORG-04"], 1, "the university secretary's 党课");
        let uni_rollup = format!("/api/v1/orgs/{}/compliance/rollup", t.uni);
        assert_eq!(get(&app, &uni_rollup, &t.sec_a).await.0, StatusCode::NOT_FOUND);

        let log = audited(&app).await;
        for action in ["meeting.attendance", "meeting.leave", "meeting.archive", "meeting.update"] {
            assert!(log.iter().any(|(a, r, _)| a == action && r == "ok"), "{action}");
        }
        app
    })
    .await;
}

/// The attendance counts each meeting keeps on its row (what the roll-up judges a 支委会's quorum by) equal a
/// count over its attendees after every kind of write: invitations, the sign-in sheet (present, leave, absent,
/// cleared), a leave request, attendees removed with their attendance and added back.
#[tokio::test]
async fn meeting_rows_keep_their_attendance_counts_through_every_write() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let a = member(&app, &t, "张书记", t.ba, "111", Some("支部书记")).await;
        let b = member(&app, &t, "王委员", t.ba, "222", Some("组织委员")).await;
        let c = member(&app, &t, "李红", t.ba, "333", None).await;
        let d = member(&app, &t, "赵敏", t.ba, "444", None).await;
        let com =
            app.post_ok("/api/v1/meetings", meeting(t.ba, "committee", "3月支委会", "2025-03-10"), &t.sec_a).await;
        let id = com["id"].as_i64().unwrap();
        let kept = |app: &TestApp| {
            let db = app.platform.db.clone();
            async move { life::store::attendance_counts(&db, id).await.unwrap() }
        };
        let (row, counted) = kept(&app).await;
        assert_eq!((row, counted), ((2, 0, 0), (2, 0, 0)), "the committee posts invited");
        let sheet = format!("/api/v1/meetings/{id}/attendance");
        let put = |entries: Value| send(&app, "PUT", &sheet, json!({ "entries": entries }), &t.sec_a);
        let (st, m) = put(json!([{"person_id": a, "status": "present"}, {"person_id": b, "status": "absent"}])).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!(kept(&app).await.0, (2, 1, 2));
        // Present → leave, absent → cleared.
        let (st, _) =
            put(json!([{"person_id": a, "status": "leave", "reason": "出差"}, {"person_id": b, "status": ""}])).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(kept(&app).await.0, (2, 0, 1));
        let (st, _) = put(json!([{"person_id": a, "status": "present"}, {"person_id": b, "status": "present"}])).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(kept(&app).await.0, (2, 2, 2));
        // A refused sheet writes nothing, counts included.
        let (st, _) =
            put(json!([{"person_id": a, "status": "absent"}, {"person_id": 424242, "status": "present"}])).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(kept(&app).await.0, (2, 2, 2));
        // Removing a present attendee takes her off every count; the newcomers are invited, unrecorded.
        let path = format!("/api/v1/meetings/{id}");
        let (st, m) = send(&app, "PATCH", &path, json!({"attendee_ids": [b, c, d]}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{m}");
        assert_eq!(kept(&app).await.0, (3, 1, 1));
        let (st, _) = send(&app, "PATCH", &path, json!({"attendee_ids": [a, c]}), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(kept(&app).await.0, (2, 0, 0));
        assert_counts_kept(&app, "attendees removed and added").await;
        // A leave request on a planned meeting.
        let body = json!({"username": "lihong", "password": USER_PW, "display_name": "李红", "person_id": c,
                          "grants": []});
        app.post_ok("/api/v1/users", body, &t.admin).await;
        let lihong = app.login("lihong", USER_PW).await;
        let soon = kernel::dates::iso(kernel::dates::today().next_day().unwrap());
        let next = app.post_ok("/api/v1/meetings", meeting(t.ba, "theme_day", "主题党日", &soon), &t.sec_a).await;
        let leave = format!("/api/v1/meetings/{}/leave", next["id"]);
        let (st, _) = send(&app, "POST", &leave, json!({"reason": "参加学院实习"}), &lihong).await;
        assert_eq!(st, StatusCode::OK);
        let next_id = next["id"].as_i64().unwrap();
        let (row, counted) = life::store::attendance_counts(&app.platform.db, next_id).await.unwrap();
        assert_eq!((row, counted), ((4, 0, 1), (4, 0, 1)));
        assert_counts_kept(&app, "a leave request").await;
        app
    })
    .await;
}

#[tokio::test]
async fn life_pages_for_the_secretary_and_the_member() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let li = member(&app, &t, "李红", t.ba, "333", None).await;
        let cookie = app.web_login("sec_a", USER_PW).await;

        // /life leads a secretary to her branch's meetings.
        let (st, headers, _) = app
            .request(
                axum::http::Request::builder()
                    .uri("/life")
                    .header("cookie", &cookie)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert_eq!(headers["location"], format!("/orgs/{}/meetings", t.ba));
        let (st, html) = app.page(&format!("/orgs/{}/meetings", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("新建会议") && html.contains("组织生活"));

        // The form: Chinese messages beside the fields, values kept.
        let new = format!("/orgs/{}/meetings/new", t.ba);
        let (st, html) = app.page(&new, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("李红"), "members offered as attendees");
        let (st, _, html) = app
            .form(
                &new,
                &[
                    ("kind", "committee"),
                    ("title", "2月支委会"),
                    ("held_on", "2025/02/10"),
                    ("attendees_mode", "default"),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("日期格式应为 YYYY-MM-DD") && html.contains("2月支委会"));
        let minutes = "讨论发展党员\n<script>alert('x')</script>";
        let li_s = li.to_string();
        let (st, headers, _) = app
            .form(
                &new,
                &[
                    ("kind", "theme_day"),
                    ("title", "2月主题党日"),
                    ("held_on", "2025-02-10"),
                    ("minutes", minutes),
                    ("attendees_mode", "selected"),
                    ("attendee", &li_s),
                ],
                Some(&cookie),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let location = headers["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/meetings/"));
        let (st, html) = app.page(&location, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("签到表") && html.contains("保存签到"));
        assert!(!html.contains("<script>alert"), "minutes are shown as text");
        assert!(html.contains("&lt;script&gt;alert") || html.contains("&#60;script&#62;alert"), "escaped");

        // Manual sign-in from the page.
        let id = location.trim_start_matches("/meetings/").split('?').next().unwrap().to_string();
        let status_key = format!("status.{li}");
        let (st, _, html) =
            app.form(&format!("/meetings/{id}/attendance"), &[(status_key.as_str(), "leave")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请假须填写事由"));
        let reason_key = format!("reason.{li}");
        let (st, _, _) = app
            .form(
                &format!("/meetings/{id}/attendance"),
                &[(status_key.as_str(), "present"), (reason_key.as_str(), "")],
                Some(&cookie),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);

        // The calendar with its article, and the roll-up for staff.
        let (st, html) = app.page(&format!("/orgs/{}/compliance?year=2025&as_of=2025-04-01", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("组织生活合规日历") && html.contains("第十六条") && html.contains("未开"));
        let staff = app.web_login("staff", USER_PW).await;
        let (st, html) = app.page(&format!("/orgs/{}/compliance?year=2025&as_of=2026-01-01", t.uni), &staff).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("下级组织汇总") && html.contains("艺术设计学院学生第一党支部"));
        let other = app.page(&format!("/orgs/{}/compliance", t.bb), &cookie).await;
        assert_eq!(other.0, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn life_demo_meetings_fill_the_calendar() {
    on_both(|app| async move {
        platform::demo::generate(&app.platform, platform::demo::Scale::Small, 7, &|_| {}).await.unwrap();
        let today = kernel::dates::today();
        let n = life::demo::generate(&app.platform, 7, today).await.unwrap();
        assert!(n > 300, "{n} meetings");
        assert_eq!(life::demo::generate(&app.platform, 7, today).await.unwrap(), 0, "only into a database without any");
        let staff = app.login("staff", platform::demo::DEMO_PASSWORD).await;
        let (_, tops) = get(&app, "/api/v1/orgs", &staff).await;
        let root = tops[0]["id"].as_i64().unwrap();
        let last_year = today.year() - 1;
        let (st, r) = get(&app, &format!("/api/v1/orgs/{root}/compliance/rollup?year={last_year}"), &staff).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        let branches: Vec<&Value> =
            r["lines"].as_array().unwrap().iter().filter(|l| l["kind_label"] == "党支部").collect();
        assert!(branches.len() >= 10);
        for b in &branches {
            assert!(b["meetings_held"].as_i64().unwrap() > 25, "{b}");
        }
        assert!(r["flags"].as_i64().unwrap() > 0, "a few deterministic gaps to show");
        assert_counts_kept(&app, "the demo's meetings").await;
        rollup_agrees_with_each_calendar(&app, &r, &staff, &format!("year={last_year}")).await;
        let log = audited(&app).await;
        assert!(log.iter().any(|(a, r, _)| a == "meeting.demo" && r == "ok"));
        app
    })
    .await;
}

/// The roll-up judges from months grouped in the database (issue 4); each of its lines must carry exactly the
/// flags, by rule and severity, of that organization's own calendar, and its meeting count.
async fn rollup_agrees_with_each_calendar(app: &TestApp, r: &Value, token: &str, query: &str) {
    assert_eq!(r["truncated"], false);
    let lines = r["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    for line in lines {
        let id = line["org_id"].as_i64().unwrap();
        let (st, c) = get(app, &format!("/api/v1/orgs/{id}/compliance?{query}"), token).await;
        assert_eq!(st, StatusCode::OK, "{c}");
        let flags = c["flags"].as_array().unwrap();
        assert_eq!(line["flags"].as_u64().unwrap() as usize, flags.len(), "{line} vs {c}");
        let count = |sev: &str| flags.iter().filter(|f| f["severity"] == sev).count();
        assert_eq!(line["violations"].as_u64().unwrap() as usize, count("violation"), "{line}");
        assert_eq!(line["reminders"].as_u64().unwrap() as usize, count("reminder"), "{line}");
        for (rule, n) in line["by_rule"].as_object().unwrap() {
            assert_eq!(n.as_u64().unwrap() as usize, flags.iter().filter(|f| f["rule"] == *rule).count(), "{line}");
        }
    }
}

/// The roll-up's formal members of each organization (ORG-09), from the maintained head counts less the full
/// members not in force, equal a count over the people as a calendar makes it — with members deceased, left,
/// suspended or transferred out among them.
#[tokio::test]
async fn formal_members_from_head_counts_equal_counting_the_members() {
    on_both(|app| async move {
        platform::demo::generate(&app.platform, platform::demo::Scale::Small, 7, &|_| {}).await.unwrap();
        let db = &app.platform.db;
        let orgs: Vec<(i64, String)> = match db {
            Db::Sqlite(p) => sqlx::query_as("SELECT id, path FROM orgs ORDER BY id").fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as("SELECT id, path FROM orgs ORDER BY id").fetch_all(p).await.unwrap(),
        };
        // A status change leaves the head counts as they are (they count by stage): some of every kind.
        for (i, status) in ["deceased", "left", "suspended", "transferred_out", "lost_contact"].iter().enumerate() {
            let sql = format!("UPDATE people SET status = '{status}' WHERE stage = 'full' AND id % 23 = {i}");
            match db {
                Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()),
                Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.map(|_| ()),
            }
            .unwrap();
        }
        // Every tree at once: from the first path to past the last.
        let first = orgs.iter().map(|(_, p)| p.clone()).min().unwrap();
        let last = format!("{}~", orgs.iter().map(|(_, p)| p.clone()).max().unwrap());
        let formal = life::service::formal_members(db, &first, &last).await.unwrap();
        let mut nonzero = 0;
        for (id, path) in &orgs {
            let end = platform::model::subtree_end(path);
            let members = life::store::members(db, path, &end).await.unwrap();
            let full = members.iter().filter(|m| m.stage == "full").count() as i64;
            assert_eq!(formal.get(id).copied().unwrap_or(0), full, "org {id} {path}");
            nonzero += usize::from(full > 0);
        }
        assert!(nonzero > 10, "{nonzero} organizations with formal members");
        app
    })
    .await;
}

#[tokio::test]
async fn the_province_demo_adds_a_year_of_meetings_in_bulk_and_the_rollup_judges_them() {
    on_both(|app| async move {
        platform::demo::generate(&app.platform, platform::demo::Scale::Small, 7, &|_| {}).await.unwrap();
        let today = time::macros::date!(2026 - 11 - 24);
        let rows = life::demo::province_year(&app.platform, today).await.unwrap();
        assert!(rows > 100, "{rows} attendance rows");
        assert_counts_kept(&app, "the province demo's set-based meetings").await;
        let staff = app.login("staff", platform::demo::DEMO_PASSWORD).await;
        let (_, tops) = get(&app, "/api/v1/orgs", &staff).await;
        let root = tops[0]["id"].as_i64().unwrap();
        let year = today.year();
        let q = format!("year={year}&as_of={today}");
        let (st, r) = get(&app, &format!("/api/v1/orgs/{root}/compliance/rollup?{q}"), &staff).await;
        assert_eq!(st, StatusCode::OK, "{r}");
        let held: i64 = r["lines"].as_array().unwrap().iter().map(|l| l["meetings_held"].as_i64().unwrap()).sum();
        assert!(held > 20, "{r}");
        rollup_agrees_with_each_calendar(&app, &r, &staff, &q).await;
        // A 支委会 whose attendance misses its quorum is a month that does not count, in both views.
        let branch = r["lines"].as_array().unwrap().iter().find(|l| l["kind_label"] == "党支部").unwrap()["org_id"]
            .as_i64()
            .unwrap();
        let (_, list) =
            get(&app, &format!("/api/v1/meetings?org_id={branch}&year={year}&kind=committee"), &staff).await;
        if let Some(m) = list["items"].as_array().and_then(|a| a.first()) {
            let id = m["id"].as_i64().unwrap();
            // Through the store, which every attendance write goes through: the counts the roll-up reads move.
            let mut tx = app.platform.db.begin().await.unwrap();
            for person in life::store::attendee_ids_tx(&mut tx, id).await.unwrap() {
                let now = time::OffsetDateTime::now_utc();
                life::store::set_attendance(&mut tx, id, person, Some("absent"), None, None, now).await.unwrap();
            }
            tx.commit().await.unwrap();
            assert_counts_kept(&app, "absences").await;
            let (_, r) = get(&app, &format!("/api/v1/orgs/{root}/compliance/rollup?{q}"), &staff).await;
            rollup_agrees_with_each_calendar(&app, &r, &staff, &q).await;
        }
        app
    })
    .await;
}
