//! Question banks, exams, practice, 线上党课 and points through the router, on SQLite and PostgreSQL:
//! grading of every question type (partial multiple choice, normalised fill-in), no answer before
//! submission, the time limit and the attempts limit held by the server, a second submission 409, scope
//! (404 outside the audience, results only for the secretary's own people, a bank's answers only for its
//! authors), bad input 422 with fields and nothing written, a class with sign-in that becomes a held 党课
//! meeting with the page's attendees present, and points that are off until staff switch them on.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use serde_json::{Value, json};

use crate::support::*;

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>, token: &str) -> (StatusCode, Value) {
    app.call(method, path, body, Some(token)).await
}

/// A person of `org` with an account of her own; returns (person id, token).
async fn member(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str) -> (i64, String) {
    let p = person(name, org, &id_number("19990101", seq), "1999-01-01");
    let id = app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap();
    let user = format!("m{seq}");
    let body = json!({"username": user, "password": USER_PW, "display_name": name, "person_id": id, "grants": []});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    (id, app.login(&user, USER_PW).await)
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

/// Runs `sql` with a timestamp `minutes` from now ($1) and an id ($2).
async fn exec_at(db: &Db, sql: &'static str, minutes: i64, id: i64) {
    let t = (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes)).replace_nanosecond(0).unwrap();
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sql).bind(t).bind(id).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).bind(t).bind(id).execute(p).await.unwrap();
        }
    }
}

/// A bank of branch A's secretary with one question of each kind (in this order: single, multiple,
/// judge, fill). Returns the bank id.
async fn bank_of_four(app: &TestApp, t: &Tree) -> i64 {
    let bank =
        app.post_ok("/api/v1/learning/banks", json!({"title": "党费知识题库"}), &t.sec_a).await["id"].as_i64().unwrap();
    let qs = [
        json!({"kind": "single", "stem": "党员应当按月交纳（ ）。", "options": ["党费", "会费", "团费"], "correct": ["A"],
               "explanation": "党章第八条：每个党员必须按照规定交纳党费。", "tags": ["党费"], "difficulty": 1}),
        json!({"kind": "multiple", "stem": "下列属于党员义务的有（ ）。", "options": ["认真学习", "交纳党费", "经商", "执行决定"],
               "correct": ["A", "B", "D"], "explanation": "党章第三条。", "tags": ["党章"], "difficulty": 2}),
        json!({"kind": "judge", "stem": "预备党员不需要交纳党费。", "correct": ["错误"], "explanation": "预备党员也要交纳党费。",
               "tags": ["党费"], "difficulty": 1}),
        json!({"kind": "fill", "stem": "党的最高理想和最终目标是实现（ ）。", "correct": ["共产主义|ｃｏｍｍｕｎｉｓｍ"],
               "explanation": "党章总纲。", "tags": ["党章"], "difficulty": 3}),
    ];
    for q in qs {
        app.post_ok(&format!("/api/v1/learning/banks/{bank}/questions"), q, &t.sec_a).await;
    }
    bank
}

fn answers_by_kind(paper: &Value, picks: &[(&str, Value)]) -> Value {
    let items: Vec<Value> = paper["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|it| {
            let kind = it["kind"].as_str().unwrap();
            picks.iter().find(|(k, _)| *k == kind).map(|(_, a)| json!({"position": it["position"], "answer": a}))
        })
        .collect();
    json!({"answers": items})
}

#[tokio::test]
async fn an_exam_is_drawn_graded_per_type_and_held_to_its_limits() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "201").await;
        let (_, member_b) = member(&app, &t, "王芳", t.bb, "202").await;
        let bank = bank_of_four(&app, &t).await;
        let exam = json!({"bank_id": bank, "title": "党费知识测试", "question_count": 4, "time_limit_minutes": 20,
                          "max_attempts": 2, "pass_percent": 60});
        let exam = app.post_ok("/api/v1/learning/exams", exam, &t.sec_a).await["id"].as_i64().unwrap();

        // Outside the audience: 404 to read, and no attempt for branch B's member.
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/exams/{exam}"), None, &member_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &member_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // The secretary reads it but is not a taker (no person): 403.
        let (st, _) = call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &t.sec_a).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // The paper: four questions, no answer and no explanation before submission; a reload gives the same.
        let (st, paper) = call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &member_a).await;
        assert_eq!(st, StatusCode::CREATED, "{paper}");
        let attempt = paper["id"].as_i64().unwrap();
        assert_eq!(paper["items"].as_array().unwrap().len(), 4);
        let text = paper.to_string();
        assert!(!text.contains("党章第八条") && !text.contains("共产主义"), "no answer leaks: {text}");
        assert!(
            paper["items"].as_array().unwrap().iter().all(|i| i["correct"].is_null() && i["explanation"].is_null())
        );
        assert!(paper["remaining_seconds"].as_i64().unwrap() > 1190);
        let (st, again) = call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &member_a).await;
        assert_eq!(st, StatusCode::OK, "the open attempt comes back");
        assert_eq!(again["id"], paper["id"]);
        assert_eq!(again["items"], paper["items"], "a reload shows the same paper");

        // Bad answers: 422 with a field per bad position, nothing written.
        let bad = json!({"answers": [{"position": 99, "answer": ["A"]}, {"position": 1, "answer": ["A", "B", "Z"]}]});
        let (st, e) =
            call(&app, "POST", &format!("/api/v1/learning/attempts/{attempt}/submit"), Some(bad), &member_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"]["answers.99"].is_string() && e["error"]["fields"]["answers.1"].is_string(), "{e}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM attempt_items WHERE earned IS NOT NULL").await, 0);

        // Single right, multiple half (two of three right), judge wrong, fill right after normalising.
        let answers = answers_by_kind(
            &paper,
            &[
                ("single", json!(["a"])),
                ("multiple", json!(["A", "D"])),
                ("judge", json!(["A"])),
                ("fill", json!([" 共产 主义 "])),
            ],
        );
        let (st, done) = call(
            &app,
            "POST",
            &format!("/api/v1/learning/attempts/{attempt}/submit"),
            Some(answers.clone()),
            &member_a,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{done}");
        assert_eq!(done["earned"], 250);
        assert_eq!(done["possible"], 400);
        assert_eq!(done["percent"], 63, "250 of 400 = 62.5 → 63");
        assert_eq!(done["passed"], true);
        let by_kind = |k: &str| done["items"].as_array().unwrap().iter().find(|i| i["kind"] == k).unwrap().clone();
        assert_eq!(by_kind("single")["earned"], 100);
        assert_eq!(by_kind("multiple")["earned"], 50);
        assert_eq!(by_kind("judge")["earned"], 0);
        assert_eq!(by_kind("fill")["earned"], 100);
        assert_eq!(by_kind("judge")["correct"], json!(["错误"]), "answers and explanations after submission");
        assert!(by_kind("single")["explanation"].as_str().unwrap().contains("党章第八条"));

        // A second submission: 409, nothing changes.
        let (st, _) =
            call(&app, "POST", &format!("/api/v1/learning/attempts/{attempt}/submit"), Some(answers), &member_a).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, _) = call(
            &app,
            "PUT",
            &format!("/api/v1/learning/attempts/{attempt}/answers"),
            Some(json!({"answers": []})),
            &member_a,
        )
        .await;
        assert_eq!(st, StatusCode::CONFLICT);

        // Second attempt; its deadline passes (moved back in the database) after one saved answer: the late
        // submission is refused and writes nothing, and the next read closes it with the saved answer.
        let (st, second) =
            call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &member_a).await;
        assert_eq!(st, StatusCode::CREATED);
        let second_id = second["id"].as_i64().unwrap();
        let save = answers_by_kind(&second, &[("single", json!(["A"]))]);
        let (st, _) =
            call(&app, "PUT", &format!("/api/v1/learning/attempts/{second_id}/answers"), Some(save), &member_a).await;
        assert_eq!(st, StatusCode::OK);
        exec_at(&app.platform.db, "UPDATE exam_attempts SET deadline_at = $1 WHERE id = $2", -5, second_id).await;
        let all_right = answers_by_kind(
            &second,
            &[
                ("single", json!(["A"])),
                ("multiple", json!(["A", "B", "D"])),
                ("judge", json!(["B"])),
                ("fill", json!(["共产主义"])),
            ],
        );
        let (st, e) =
            call(&app, "POST", &format!("/api/v1/learning/attempts/{second_id}/submit"), Some(all_right), &member_a)
                .await;
        assert_eq!(st, StatusCode::CONFLICT, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("时间已到"));
        let (st, closed) = call(&app, "GET", &format!("/api/v1/learning/attempts/{second_id}"), None, &member_a).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(closed["submitted"], true);
        assert_eq!(closed["late"], true);
        assert_eq!(closed["earned"], 100, "only the answer saved before the deadline counts");

        // Two attempts used: the third is refused.
        let (st, e) = call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &member_a).await;
        assert_eq!(st, StatusCode::CONFLICT, "{e}");
        let (_, ex) = call(&app, "GET", &format!("/api/v1/learning/exams/{exam}"), None, &member_a).await;
        assert_eq!(ex["can_start"], false);
        assert_eq!(ex["my_attempts"].as_array().unwrap().len(), 2);

        // Results: the secretary sees her member; staff of college B (another subtree) sees nothing of it.
        let (st, r) = call(&app, "GET", &format!("/api/v1/learning/exams/{exam}/results"), None, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(r["lines"][0]["person_id"], pa);
        assert_eq!(r["lines"][0]["best_percent"], 63);
        assert_eq!(r["lines"][0]["attempts"], 2);
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/exams/{exam}/results"), None, &member_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a member reads no one's results");
        // The secretary reads the submitted attempt; branch B's member does not.
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/attempts/{attempt}"), None, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/attempts/{attempt}"), None, &member_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // Per-question statistics for the author: the multiple choice was half right once, wrong answers listed.
        let (st, stats) = call(&app, "GET", &format!("/api/v1/learning/banks/{bank}/stats"), None, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let judge = stats["questions"].as_array().unwrap().iter().find(|q| q["kind_label"] == "判断题").unwrap();
        assert_eq!(judge["answered"], 2);
        assert_eq!(judge["correct_rate"], 0);
        assert_eq!(judge["common_wrong"][0]["answer"], "正确");
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/banks/{bank}/stats"), None, &member_a).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "a member of the bank's branch: not an author");
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/banks/{bank}/stats"), None, &member_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // A question that was answered cannot be changed (retire instead).
        let qid = paper["items"][0]["question_id"].as_i64().unwrap();
        let (st, _) = call(
            &app,
            "PATCH",
            &format!("/api/v1/learning/questions/{qid}"),
            Some(json!({"kind": "judge", "stem": "改", "correct": ["正确"]})),
            &t.sec_a,
        )
        .await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, q) = call(&app, "POST", &format!("/api/v1/learning/questions/{qid}/retire"), None, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(q["active"], false);
        app
    })
    .await;
}

#[tokio::test]
async fn practice_gives_instant_feedback_once_and_exams_do_not() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, member_a) = member(&app, &t, "李红", t.ba, "211").await;
        let bank = bank_of_four(&app, &t).await;
        let practice =
            json!({"bank_id": bank, "title": "党费练习", "mode": "practice", "question_count": 2, "tag": "党费"});
        let practice = app.post_ok("/api/v1/learning/exams", practice, &t.sec_a).await;
        assert!(practice["time_limit_minutes"].is_null() && practice["max_attempts"].is_null());
        let (_, paper) =
            call(&app, "POST", &format!("/api/v1/learning/exams/{}/attempts", practice["id"]), None, &member_a).await;
        let items = paper["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "only the two 党费 questions");
        let judge = items.iter().find(|i| i["kind"] == "judge").unwrap();
        let url = format!("/api/v1/learning/attempts/{}/check", paper["id"]);
        // No answer: 422, nothing recorded.
        let (st, e) =
            call(&app, "POST", &url, Some(json!({"position": judge["position"], "answer": []})), &member_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["fields"]["answer"].is_string());
        let (st, fb) =
            call(&app, "POST", &url, Some(json!({"position": judge["position"], "answer": ["正确"]})), &member_a).await;
        // "正确" is not a letter: the judge answers with A/B.
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{fb}");
        let (st, fb) =
            call(&app, "POST", &url, Some(json!({"position": judge["position"], "answer": ["A"]})), &member_a).await;
        assert_eq!(st, StatusCode::OK, "{fb}");
        assert_eq!(fb["right"], false);
        assert_eq!(fb["correct"], json!(["错误"]));
        assert!(fb["explanation"].as_str().unwrap().contains("预备党员"));
        // Checking again cannot change it.
        let (_, fb2) =
            call(&app, "POST", &url, Some(json!({"position": judge["position"], "answer": ["B"]})), &member_a).await;
        assert_eq!(fb2["right"], false);
        // The checked question shows its answer on the paper; the unchecked one does not.
        let (_, now) = call(&app, "GET", &format!("/api/v1/learning/attempts/{}", paper["id"]), None, &member_a).await;
        let shown: Vec<bool> = now["items"].as_array().unwrap().iter().map(|i| i["correct"].is_array()).collect();
        assert_eq!(shown.iter().filter(|x| **x).count(), 1);

        // An exam gives no instant feedback.
        let exam = json!({"bank_id": bank, "title": "考试", "question_count": 1, "time_limit_minutes": 5});
        let exam = app.post_ok("/api/v1/learning/exams", exam, &t.sec_a).await["id"].as_i64().unwrap();
        let (_, p) = call(&app, "POST", &format!("/api/v1/learning/exams/{exam}/attempts"), None, &member_a).await;
        let (st, _) = call(
            &app,
            "POST",
            &format!("/api/v1/learning/attempts/{}/check", p["id"]),
            Some(json!({"position": 1, "answer": ["A"]})),
            &member_a,
        )
        .await;
        assert_eq!(st, StatusCode::CONFLICT);
        app
    })
    .await;
}

#[tokio::test]
async fn banks_and_exams_refuse_bad_input_with_fields_and_keep_their_answers_to_authors() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, member_a) = member(&app, &t, "李红", t.ba, "221").await;
        let before = count(&app.platform.db, "SELECT COUNT(*) FROM question_banks").await;
        let (st, e) = call(&app, "POST", "/api/v1/learning/banks", Some(json!({"title": " ", "org_id": t.bb})), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["title"].is_string() && e["error"]["fields"]["org_id"].is_string(), "{e}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM question_banks").await, before, "nothing written");
        let (st, _) = call(&app, "POST", "/api/v1/learning/banks", Some(json!({"title": "题库"})), &member_a).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        let bank = bank_of_four(&app, &t).await;
        let audit_before = count(&app.platform.db, "SELECT COUNT(*) FROM audit_log").await;
        let (st, e) = call(&app, "POST", &format!("/api/v1/learning/banks/{bank}/questions"),
            Some(json!({"kind": "single", "stem": "", "options": ["甲"], "correct": ["C"], "difficulty": 9})), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["stem", "options", "correct", "difficulty"] {
            assert!(e["error"]["fields"][f].is_string(), "{f}: {e}");
        }
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM questions").await, 4);
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM audit_log").await, audit_before, "no audit entry either");

        // Too many questions for the tag and difficulty asked: 422 on question_count.
        let (st, e) = call(&app, "POST", "/api/v1/learning/exams",
            Some(json!({"bank_id": bank, "title": "难题", "difficulty": 3, "question_count": 5, "time_limit_minutes": 10})), &t.sec_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["question_count"].as_str().unwrap().contains("只有1道"), "{e}");
        // An exam of branch B from branch A's bank: outside the bank's reach.
        let (st, e) = call(&app, "POST", "/api/v1/learning/exams",
            Some(json!({"bank_id": bank, "title": "越界", "question_count": 1, "time_limit_minutes": 10, "org_id": t.bb})), &t.staff).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["org_id"].is_string(), "{e}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM exams").await, 0);

        // The bank's questions and answers: its author and staff above; a member never.
        let (st, b) = call(&app, "GET", &format!("/api/v1/learning/banks/{bank}"), None, &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(b["questions"].as_array().unwrap().len(), 4);
        assert_eq!(b["questions"][3]["correct"], json!(["共产主义 / ｃｏｍｍｕｎｉｓｍ"]));
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/banks/{bank}"), None, &t.staff).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/banks/{bank}"), None, &member_a).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "a member of the branch reads the bank's existence, never its answers");
        app
    })
    .await;
}

#[tokio::test]
async fn a_class_with_sign_in_becomes_a_held_party_lecture_with_its_page_attendees_present() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "231").await;
        let (_, member_b) = member(&app, &t, "王芳", t.bb, "232").await;
        let soon = learning::exams::model::local_text(time::OffsetDateTime::now_utc() + time::Duration::minutes(10));
        // Bad input: every field at once, nothing written (no meeting either).
        let (st, e) = call(
            &app,
            "POST",
            "/api/v1/learning/classes",
            Some(json!({"title": "", "starts_at": "明晚", "minutes": 5, "link": "ftp://x", "sign_in": true})),
            &t.sec_a,
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["title", "lecturer", "starts_at", "minutes", "link"] {
            assert!(e["error"]["fields"][f].is_string(), "{f}: {e}");
        }
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM meetings").await, 0);

        let class = json!({"title": "专题党课：党费的意义", "lecturer": "张书记", "starts_at": soon, "minutes": 45,
                           "link": "https://meeting.example.edu.cn/r/1", "sign_in": true});
        let (st, c) = call(&app, "POST", "/api/v1/learning/classes", Some(class), &t.sec_a).await;
        assert_eq!(st, StatusCode::CREATED, "{c}");
        let id = c["id"].as_i64().unwrap();
        let meeting = c["meeting_id"].as_i64().unwrap();
        let (_, m) = call(&app, "GET", &format!("/api/v1/meetings/{meeting}"), None, &t.sec_a).await;
        assert_eq!(m["kind"], "party_lecture");
        assert_eq!(m["status"], "planned");

        // Branch B's member cannot see it; branch A's joins (twice is once).
        let (st, _) = call(&app, "GET", &format!("/api/v1/learning/classes/{id}"), None, &member_b).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, j) = call(&app, "POST", &format!("/api/v1/learning/classes/{id}/join"), None, &member_a).await;
        assert_eq!(st, StatusCode::OK, "{j}");
        assert_eq!(j["joined"], true);
        call(&app, "POST", &format!("/api/v1/learning/classes/{id}/join"), None, &member_a).await;
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM party_class_attendance").await, 1);
        let (st, _) =
            call(&app, "POST", &format!("/api/v1/learning/classes/{id}/finish"), Some(json!({})), &member_a).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Finishing before the start is refused; once started, it marks the meeting held with her present.
        let (st, _) =
            call(&app, "POST", &format!("/api/v1/learning/classes/{id}/finish"), Some(json!({})), &t.sec_a).await;
        assert_eq!(st, StatusCode::CONFLICT);
        exec_at(&app.platform.db, "UPDATE party_classes SET starts_at = $1 WHERE id = $2", -20, id).await;
        // Its meeting is dated by the start it had; moved with it (within ten minutes of Beijing's midnight
        // the two starts fall on different days, and a meeting dated tomorrow cannot be marked held).
        let beijing = time::UtcOffset::from_hms(8, 0, 0).unwrap();
        let held_on = (time::OffsetDateTime::now_utc() - time::Duration::minutes(20)).to_offset(beijing).date();
        let move_meeting = "UPDATE meetings SET held_on = $1 WHERE id = $2";
        match &app.platform.db {
            Db::Sqlite(p) => sqlx::query(move_meeting).bind(held_on).bind(meeting).execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(move_meeting).bind(held_on).bind(meeting).execute(p).await.map(|_| ()),
        }
        .unwrap();
        let (st, f) = call(
            &app,
            "POST",
            &format!("/api/v1/learning/classes/{id}/finish"),
            Some(json!({"replay_url": "https://video.example.edu.cn/replay/1"})),
            &t.sec_a,
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{f}");
        assert_eq!(f["status"], "finished");
        let (_, m) = call(&app, "GET", &format!("/api/v1/meetings/{meeting}"), None, &t.sec_a).await;
        assert_eq!(m["status"], "held");
        let me = m["attendees"].as_array().unwrap().iter().find(|a| a["person_id"] == pa).unwrap().clone();
        assert_eq!(me["attendance"], "present");
        app
    })
    .await;
}

#[tokio::test]
async fn points_are_off_until_staff_switch_them_on_and_the_board_lists_only_who_chose_to() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, member_a) = member(&app, &t, "李红", t.ba, "241").await;
        let bank = bank_of_four(&app, &t).await;
        let exam = |title: &str| json!({"bank_id": bank, "title": title, "question_count": 1, "tag": "党费", "difficulty": 1,
                                        "time_limit_minutes": 5, "pass_percent": 0});
        let take = |id: i64| {
            let app = &app;
            let member_a = member_a.clone();
            async move {
                let (_, p) = call(app, "POST", &format!("/api/v1/learning/exams/{id}/attempts"), None, &member_a).await;
                call(app, "POST", &format!("/api/v1/learning/attempts/{}/submit", p["id"]), Some(json!({"answers": []})), &member_a).await
            }
        };
        let e1 = app.post_ok("/api/v1/learning/exams", exam("一"), &t.sec_a).await["id"].as_i64().unwrap();
        let (st, _) = take(e1).await;
        assert_eq!(st, StatusCode::OK);
        let (_, mine) = call(&app, "GET", "/api/v1/learning/points", None, &member_a).await;
        assert_eq!(mine["total"], 0, "off by default: {mine}");
        assert_eq!(mine["enabled"], false);
        assert!(mine["note"].as_str().unwrap().contains("不作为考核依据"));

        // Only org staff set rules; a secretary gets 403, a member 404.
        let rules = json!({"rules": [{"action": "exam_passed", "enabled": true, "points": 3, "daily_cap": 5}]});
        let (st, _) = call(&app, "PUT", &format!("/api/v1/orgs/{}/points-rules", t.uni), Some(rules.clone()), &t.sec_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = call(&app, "PUT", &format!("/api/v1/orgs/{}/points-rules", t.ba), Some(rules.clone()), &t.sec_a).await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, e) = call(&app, "PUT", &format!("/api/v1/orgs/{}/points-rules", t.uni),
            Some(json!({"rules": [{"action": "login", "points": 1}, {"action": "studied", "points": 5, "daily_cap": 2}]})), &t.staff).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["rules.0.action"].is_string() && e["error"]["fields"]["studied.daily_cap"].is_string(), "{e}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM points_rules").await, 0);
        let (st, r) = call(&app, "PUT", &format!("/api/v1/orgs/{}/points-rules", t.uni), Some(rules), &t.staff).await;
        assert_eq!(st, StatusCode::OK, "{r}");

        // Not retroactive; two passes → 3 + 2 (daily cap 5); the same exam never twice.
        let e2 = app.post_ok("/api/v1/learning/exams", exam("二"), &t.sec_a).await["id"].as_i64().unwrap();
        let e3 = app.post_ok("/api/v1/learning/exams", exam("三"), &t.sec_a).await["id"].as_i64().unwrap();
        take(e2).await;
        take(e3).await;
        let (_, mine) = call(&app, "GET", "/api/v1/learning/points", None, &member_a).await;
        assert_eq!(mine["total"], 5, "{mine}");

        // The board: off → 404 for the member; on → lists only who opted in.
        let board = format!("/api/v1/orgs/{}/points-board", t.ba);
        let (st, _) = call(&app, "GET", &board, None, &member_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = call(&app, "PUT", &board, Some(json!({"enabled": true})), &member_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = call(&app, "PUT", &board, Some(json!({"enabled": true})), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK);
        let (_, b) = call(&app, "GET", &board, None, &member_a).await;
        assert!(b["lines"].as_array().unwrap().is_empty(), "nobody chose to appear: {b}");
        let (st, _) = call(&app, "PUT", "/api/v1/learning/points/optin", Some(json!({"enabled": true})), &member_a).await;
        assert_eq!(st, StatusCode::OK);
        let (_, b) = call(&app, "GET", &board, None, &member_a).await;
        assert_eq!(b["lines"][0]["points"], 5);
        app
    })
    .await;
}

#[tokio::test]
async fn a_member_practises_on_the_pages_and_sees_the_explanation_only_after_checking() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, _member) = member(&app, &t, "李红", t.ba, "251").await;
        let bank = bank_of_four(&app, &t).await;
        let practice = json!({"bank_id": bank, "title": "党费练习", "mode": "practice", "question_count": 1, "tag": "党费", "difficulty": 1});
        let practice = app.post_ok("/api/v1/learning/exams", practice, &t.sec_a).await["id"].as_i64().unwrap();
        let cookie = app.web_login("m251", USER_PW).await;
        let (st, list) = app.page("/learning/exams", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(list.contains("党费练习"));
        let (st, h, _) = app.form(&format!("/learning/exams/{practice}/start"), &[], Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let paper_url = h.get("location").unwrap().to_str().unwrap().to_string();
        let (st, paper) = app.page(&paper_url, &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!paper.contains("解析："), "no explanation before checking");
        let single = paper.contains("单选题");
        // Unanswered: the message stands beside the question, 422.
        let check = format!("{paper_url}/check");
        let (st, _, body) = app.form(&check, &[("position", "1")], Some(&cookie)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("请先作答"));
        let answer = if single { "A" } else { "B" };
        let (st, _, _) = app.form(&check, &[("position", "1"), ("q1", answer)], Some(&cookie)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, after) = app.page(&paper_url, &cookie).await;
        assert!(after.contains("回答正确") && after.contains("解析："), "{after}");
        let (st, _, done) = app.form(&format!("{paper_url}/submit"), &[], Some(&cookie)).await;
        assert_eq!(st, StatusCode::OK);
        assert!(done.contains("练习完成") && done.contains("100"));
        app
    })
    .await;
}
