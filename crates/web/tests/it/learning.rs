//! 学习教育 through the router, on SQLite and PostgreSQL: the contract journey (a material with 党费 in its body
//! is found by 党费 and 党员, not by someone outside its audience; recommendations carry reasons), scope (404
//! outside the audience, stage-restricted material, recommendations only for oneself or a person in reach),
//! validation (422 with fields), rich text sanitized and snippets escaped, honest heartbeats (opening a page
//! records nothing, each heartbeat capped), reasons of every kind, and the pages.

#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use kernel::Db;
use serde_json::{Value, json};

use crate::support::*;

async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.call("GET", path, None, Some(token)).await
}

async fn post(app: &TestApp, path: &str, body: Value, token: &str) -> (StatusCode, Value) {
    app.call("POST", path, Some(body), Some(token)).await
}

fn q(s: &str) -> String {
    web::auth::encode(s)
}

/// A person of `org` at `stage` with an account of her own (no role); returns (person id, token).
async fn member(app: &TestApp, t: &Tree, name: &str, org: i64, seq: &str, stage: &str) -> (i64, String) {
    let mut p = person(name, org, &id_number("19990101", seq), "1999-01-01");
    p["stage"] = json!(stage);
    let id = app.post_ok("/api/v1/people", p, &t.staff).await["id"].as_i64().unwrap();
    let user = format!("u{seq}");
    let body = json!({"username": user, "password": USER_PW, "display_name": name, "person_id": id, "grants": []});
    app.post_ok("/api/v1/users", body, &t.admin).await;
    (id, app.login(&user, USER_PW).await)
}

async fn material(app: &TestApp, token: &str, body: Value) -> i64 {
    let (st, v) = post(app, "/api/v1/learning/materials", body, token).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn titles(v: &Value) -> Vec<String> {
    v["results"].as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_string()).collect()
}

/// Moves a person's last heartbeat back, as if `secs` had passed.
async fn age_heartbeat(db: &Db, material: i64, person: i64, secs: i64) {
    let then = (time::OffsetDateTime::now_utc() - time::Duration::seconds(secs)).replace_nanosecond(0).unwrap();
    let sql = "UPDATE learning_progress SET last_beat_at = $1 WHERE material_id = $2 AND person_id = $3";
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sql).bind(then).bind(material).bind(person).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).bind(then).bind(material).bind(person).execute(p).await.unwrap();
        }
    }
}

#[tokio::test]
async fn learning_contract_journey_search_scope_and_reasons() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "101", "full").await;
        let (pb, member_b) = member(&app, &t, "王芳", t.bb, "102", "full").await;
        // The contract's example: staff of the university publishes (default scope: the university).
        let uni = material(
            &app,
            &t.staff,
            json!({"title": "党员教育管理工作条例学习", "body": "按时交纳党费是党员的义务。", "kind": "article", "tags": ["党费"]}),
        )
        .await;
        // Branch A's secretary publishes to her branch (her default).
        let branch_a = material(
            &app,
            &t.sec_a,
            json!({"title": "支部专题：发展党员工作", "body": "做好发展党员工作，严格把好入口关。", "kind": "article"}),
        )
        .await;
        // Two-character words, in body, title and tags, for whoever the material reaches.
        for (word, who, want) in [
            ("党费", &t.staff, "党员教育管理工作条例学习"),
            ("党员", &member_a, "党员教育管理工作条例学习"),
            ("党费", &member_b, "党员教育管理工作条例学习"),
            ("发展党员", &t.sec_a, "支部专题：发展党员工作"),
            ("党员 工作", &member_a, "支部专题：发展党员工作"),
        ] {
            let (st, v) = get(&app, &format!("/api/v1/search?q={}", q(word)), who).await;
            assert_eq!(st, StatusCode::OK);
            assert!(titles(&v).contains(&want.to_string()), "{word}: {v}");
        }
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("党费")), &t.staff).await;
        let hit = v["results"].as_array().unwrap().iter().find(|r| r["id"] == uni).unwrap();
        assert_eq!(hit["type"], "material");
        assert!(hit["snippet"].as_str().unwrap().contains("<mark>党费</mark>"), "{hit}");
        // Outside the audience: branch B's member does not find branch A's material, nor read it.
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("发展党员")), &member_b).await;
        assert!(!titles(&v).contains(&"支部专题：发展党员工作".to_string()), "{v}");
        assert_eq!(get(&app, &format!("/api/v1/learning/materials/{branch_a}"), &member_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, &format!("/api/v1/learning/materials/{branch_a}"), &member_a).await.0, StatusCode::OK);
        // The system administrator reads no material and no person (三员分立).
        let (st, v) = get(&app, &format!("/api/v1/search?q={}", q("党费")), &t.admin).await;
        assert_eq!((st, v["results"].as_array().unwrap().len()), (StatusCode::OK, 0));
        // People: staff finds a member by name; a member finds no one.
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("李红")), &t.staff).await;
        assert!(v["results"].as_array().unwrap().iter().any(|r| r["type"] == "person" && r["id"] == pa), "{v}");
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("王芳")), &member_a).await;
        assert!(v["results"].as_array().unwrap().iter().all(|r| r["type"] != "person"), "{v}");
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("王芳")), &t.sec_a).await;
        assert!(v["results"].as_array().unwrap().iter().all(|r| r["type"] != "person"), "other branch: {v}");
        // An empty query is a 422 with its field.
        let (st, v) = get(&app, "/api/v1/search?q=%20", &member_a).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["q"].is_string());
        // Recommendations: for oneself and for a person in reach, every item with a Chinese reason.
        for (path, who) in [
            ("/api/v1/learning/recommendations".to_string(), &member_a),
            (format!("/api/v1/learning/recommendations?person_id={pa}"), &t.sec_a),
        ] {
            let (st, v) = get(&app, &path, who).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let items = v["items"].as_array().unwrap();
            assert_eq!(items.len(), 2, "{v}");
            for i in items {
                assert!(i["material_id"].is_i64() && i["title"].is_string());
                assert!(i["reason"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{i}");
            }
        }
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &member_b).await;
        let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["material_id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![uni], "only what the person may read");
        let (st, _) = get(&app, &format!("/api/v1/learning/recommendations?person_id={pb}"), &t.sec_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "a person outside the secretary's branch");
        let (st, _) = get(&app, &format!("/api/v1/learning/recommendations?person_id={pb}"), &member_a).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, v) = get(&app, "/api/v1/learning/recommendations?person_id=abc", &member_a).await;
        assert_eq!((st, v["error"]["fields"]["person_id"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true));
        let (st, _) = get(&app, "/api/v1/learning/recommendations", &t.staff).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "staff without a person record must name one");
        // Lists: the member sees both, branch B's member only the university's.
        let (_, v) = get(&app, "/api/v1/learning/materials", &member_a).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 2);
        let (_, v) = get(&app, "/api/v1/learning/materials", &member_b).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        app
    })
    .await;
}

#[tokio::test]
async fn learning_validation_permissions_and_rich_text() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, member_a) = member(&app, &t, "李红", t.ba, "201", "full").await;
        let (st, v) = post(&app, "/api/v1/learning/materials", json!({"body_format": "pdf", "tags": ["a,b"]}), &t.staff).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["title", "kind", "body_format", "tags"] {
            assert!(v["error"]["fields"][f].is_string(), "{f}: {v}");
        }
        let (st, v) = post(
            &app,
            "/api/v1/learning/materials",
            json!({"title": "微党课", "kind": "video", "url": "javascript:alert(1)", "required_due": "2020-01-01"}),
            &t.staff,
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(v["error"]["fields"]["url"].is_string() && v["error"]["fields"]["required_due"].is_string(), "{v}");
        // Publishing outside one's subtree, or without the role.
        let (st, v) = post(
            &app,
            "/api/v1/learning/materials",
            json!({"title": "越权", "body": "正文", "kind": "article", "org_id": t.bb}),
            &t.sec_a,
        )
        .await;
        assert_eq!((st, v["error"]["fields"]["org_id"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true));
        let body = json!({"title": "党员自己发布", "body": "正文", "kind": "article"});
        assert_eq!(post(&app, "/api/v1/learning/materials", body.clone(), &member_a).await.0, StatusCode::FORBIDDEN);
        assert_eq!(post(&app, "/api/v1/learning/materials", body, &t.admin).await.0, StatusCode::FORBIDDEN);
        // Rich text: the stored body has no script, handler or javascript: link; the page shows no live script.
        let xss = material(
            &app,
            &t.staff,
            json!({"title": "<script>alert('t')</script>党费须知", "kind": "article", "body_format": "html",
                   "body": "<p onclick=\"steal()\">按时交纳<b>党费</b></p><script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">点我</a>"}),
        )
        .await;
        let (st, m) = get(&app, &format!("/api/v1/learning/materials/{xss}"), &member_a).await;
        assert_eq!(st, StatusCode::OK);
        let stored = m["body"].as_str().unwrap();
        for bad in ["<script", "onclick", "onerror", "javascript:", "<img"] {
            assert!(!stored.contains(bad), "{bad} in {stored}");
        }
        assert!(stored.contains("<b>党费</b>"), "{stored}");
        let cookie = app.web_login("u201", USER_PW).await;
        let (st, page) = app.page(&format!("/learning/{xss}"), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(!page.contains("<script>alert"), "title escaped");
        assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"), "title shown as text");
        assert!(!page.contains("onclick") && !page.contains("javascript:alert"));
        // The snippet is escaped before the hits are marked.
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("党费")), &member_a).await;
        let hit = v["results"].as_array().unwrap().iter().find(|r| r["id"] == xss).unwrap();
        let snippet = hit["snippet"].as_str().unwrap();
        assert!(snippet.contains("<mark>党费</mark>") && !snippet.contains("<b>") && !snippet.contains("<script"), "{snippet}");
        let (_, page) = app.page(&format!("/learning?q={}", q("党费")), &cookie).await;
        assert!(page.contains("<mark>党费</mark>") && !page.contains("<script>alert"), "search page");
        app
    })
    .await;
}

#[tokio::test]
async fn heartbeats_are_honest_and_materials_reach_their_stages() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "301", "full").await;
        let (_, activist) = member(&app, &t, "赵敏", t.ba, "302", "activist").await;
        let short = material(&app, &t.sec_a, json!({"title": "党章第一条", "body": "党员是中国工人阶级的有共产主义觉悟的先锋战士。", "kind": "article"})).await;
        let path = format!("/api/v1/learning/materials/{short}/progress");
        // Opening the page: the first heartbeat starts the clock and counts nothing, whatever it claims.
        let (st, p) = post(&app, &path, json!({"seconds": 15}), &member_a).await;
        assert_eq!((st, p["seconds"].as_i64(), p["completed"].as_bool()), (StatusCode::OK, Some(0), Some(false)));
        // At once again: never more than the time since the last heartbeat.
        let (_, p) = post(&app, &path, json!({"seconds": 30}), &member_a).await;
        assert!(p["seconds"].as_i64().unwrap() <= 3, "{p}");
        // An hour later a page claims an hour: one heartbeat counts 30 seconds at most — enough here.
        age_heartbeat(&app.platform.db, short, pa, 3600).await;
        let (_, p) = post(&app, &path, json!({"seconds": 3600}), &member_a).await;
        let secs = p["seconds"].as_i64().unwrap();
        assert!((30..=33).contains(&secs), "{p}");
        assert_eq!(p["required_seconds"], 30);
        assert_eq!(p["completed"], true, "{p}");
        let (_, m) = get(&app, &format!("/api/v1/learning/materials/{short}"), &member_a).await;
        assert_eq!(m["progress"]["completed"], true);
        let (st, v) = post(&app, &path, json!({"seconds": -1}), &member_a).await;
        assert_eq!((st, v["error"]["fields"]["seconds"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true));
        // Staff without a person record read it but record no study time.
        assert_eq!(post(&app, &path, json!({"seconds": 15}), &t.staff).await.0, StatusCode::FORBIDDEN);
        // Material for 入党积极分子 only.
        let for_activists = material(
            &app,
            &t.staff,
            json!({"title": "积极分子培训", "body": "入党积极分子应当端正入党动机。", "kind": "article", "stages": ["activist"],
                   "required_due": kernel::dates::iso(kernel::dates::today() + time::Duration::days(12))}),
        )
        .await;
        let m = format!("/api/v1/learning/materials/{for_activists}");
        assert_eq!(get(&app, &m, &activist).await.0, StatusCode::OK);
        assert_eq!(get(&app, &m, &member_a).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, &m, &t.sec_a).await.0, StatusCode::OK, "the secretary reads what reaches her branch");
        let (_, v) = get(&app, &format!("/api/v1/search?q={}", q("积极分子")), &member_a).await;
        assert!(titles(&v).is_empty(), "{v}");
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &activist).await;
        let first = &v["items"][0];
        assert_eq!(first["material_id"], for_activists, "required first: {v}");
        assert_eq!(first["reason"], "必学：截止".to_string() + &kernel::dates::iso(kernel::dates::today() + time::Duration::days(12)) + "，还有12天");
        app
    })
    .await;
}

#[tokio::test]
async fn recommendations_say_why() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "401", "full").await;
        let (pc, member_c) = member(&app, &t, "陈静", t.ba, "402", "full").await;
        let mk = |title: &str, body: &str, tags: &[&str]| json!({"title": title, "body": body, "kind": "article", "tags": tags});
        let fees = material(&app, &t.staff, mk("党费交纳办法", "党员应当按月交纳党费，党费标准按收入确定。", &["党费"])).await;
        let fees2 = material(&app, &t.staff, mk("党费的计算与使用", "党费按月交纳，党费的使用接受监督。", &["党费"])).await;
        let poems = material(&app, &t.staff, mk("红色诗词选读", "诗词是文化的瑰宝，长征诗词气势磅礴。", &["文艺"])).await;
        let history = material(&app, &t.staff, mk("党史故事：遵义会议", "遵义会议是党的历史上生死攸关的转折点。", &["党史"])).await;
        // A studies the fee rules; C (same branch) studies the fee rules and the history story.
        for (pid, token, m) in [(pa, &member_a, fees), (pc, &member_c, fees), (pc, &member_c, history)] {
            let path = format!("/api/v1/learning/materials/{m}/progress");
            post(&app, &path, json!({"seconds": 0}), token).await;
            age_heartbeat(&app.platform.db, m, pid, 40).await;
            let (_, p) = post(&app, &path, json!({"seconds": 30}), token).await;
            assert!(p["seconds"].as_i64().unwrap() > 0, "{p}");
        }
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &member_a).await;
        let items = v["items"].as_array().unwrap();
        let reason = |id: i64| items.iter().find(|i| i["material_id"] == id).map(|i| i["reason"].as_str().unwrap().to_string());
        assert_eq!(reason(fees), None, "finished material is not recommended: {v}");
        assert_eq!(reason(fees2).as_deref(), Some("因为你学习了《党费交纳办法》"), "{v}");
        assert_eq!(reason(history).as_deref(), Some("与你学习记录相近的党员也在学（1人）"), "{v}");
        assert!(reason(poems).is_some(), "every readable unfinished material may come, with a reason: {v}");
        app
    })
    .await;
}

/// A study record written straight into `learning_progress`, `days_ago` days old (a long history in a test).
async fn record(db: &Db, material: i64, person: i64, days_ago: i64, completed: bool) {
    let at = (time::OffsetDateTime::now_utc() - time::Duration::days(days_ago)).replace_nanosecond(0).unwrap();
    let sql = "INSERT INTO learning_progress (material_id, person_id, seconds, first_at, last_beat_at, completed_at, version) \
        VALUES ($1, $2, 300, $3, $3, $4, 1)";
    let done = completed.then_some(at);
    match db {
        Db::Sqlite(p) => {
            sqlx::query(sql).bind(material).bind(person).bind(at).bind(done).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sql).bind(material).bind(person).bind(at).bind(done).execute(p).await.unwrap();
        }
    }
}

/// The recommender reads only her latest studies' text, yet knows what she finished or began long before them:
/// an old finished material never comes back, an old begun one is offered to continue.
#[tokio::test]
async fn recommendations_remember_studies_older_than_the_latest() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "601", "full").await;
        let mk = |title: String| json!({"title": title, "body": "学习党章，遵守党的纪律。", "kind": "article", "tags": ["党章"]});
        let finished = material(&app, &t.staff, mk("很早学完的材料".into())).await;
        let begun = material(&app, &t.staff, mk("很早开始的材料".into())).await;
        record(&app.platform.db, finished, pa, 300, true).await;
        record(&app.platform.db, begun, pa, 299, false).await;
        let latest = learning::rules::CONTENT_HISTORY as i64;
        for i in 0..latest {
            let m = material(&app, &t.staff, mk(format!("近期材料{i}"))).await;
            record(&app.platform.db, m, pa, 100 - i % 90, true).await;
        }
        let fresh = material(&app, &t.staff, mk("新材料".into())).await;
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &member_a).await;
        let items = v["items"].as_array().unwrap();
        let ids: Vec<i64> = items.iter().map(|i| i["material_id"].as_i64().unwrap()).collect();
        assert!(!ids.contains(&finished), "finished long ago, still not recommended: {v}");
        assert_eq!(items[0]["material_id"], begun, "begun long ago: offered to continue first: {v}");
        assert_eq!(items[0]["reason_code"], "continue", "{v}");
        assert_eq!(items[1]["material_id"], fresh, "{v}");
        assert!(items.iter().all(|i| !i["reason"].as_str().unwrap().is_empty()), "{v}");
        app
    })
    .await;
}

/// A person's profile (`learning_profiles`, migration 0030) as stored: her latest studies, newest first.
async fn profile(db: &Db, person: i64) -> Vec<i64> {
    let sql = "SELECT recent FROM learning_profiles WHERE person_id = $1";
    let recent: Option<String> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).bind(person).fetch_optional(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).bind(person).fetch_optional(p).await.unwrap(),
    };
    recent.map(|r| learning::store::profile_ids(&r)).unwrap_or_default()
}

/// Studies `m` as `pid`: a first heartbeat, then one 40 seconds later that credits time.
async fn study(app: &TestApp, pid: i64, token: &str, m: i64) {
    let path = format!("/api/v1/learning/materials/{m}/progress");
    post(app, &path, json!({"seconds": 0}), token).await;
    age_heartbeat(&app.platform.db, m, pid, 40).await;
    let (_, p) = post(app, &path, json!({"seconds": 30}), token).await;
    assert!(p["seconds"].as_i64().unwrap() > 0, "{p}");
}

#[tokio::test]
async fn profiles_follow_each_study_at_once_and_feed_co_learners() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "501", "full").await;
        let (pc, member_c) = member(&app, &t, "陈静", t.ba, "502", "full").await;
        let mk = |title: &str, body: &str, tag: &str| json!({"title": title, "body": body, "kind": "article", "tags": [tag]});
        let rules = material(&app, &t.staff, mk("组织生活会制度", "组织生活会每年至少召开一次。", "制度")).await;
        let story = material(&app, &t.staff, mk("长征故事", "红军长征是人类历史上的奇迹。", "故事")).await;
        let songs = material(&app, &t.staff, mk("红色歌曲", "歌曲传唱革命精神。", "文艺")).await;
        // Opening a material credits nothing, so it is not yet one of her studies.
        post(&app, &format!("/api/v1/learning/materials/{rules}/progress"), json!({"seconds": 0}), &member_c).await;
        assert_eq!(profile(&app.platform.db, pc).await, Vec::<i64>::new());
        // The heartbeat that credits time puts it in her profile in the same transaction, newest first.
        study(&app, pc, &member_c, rules).await;
        assert_eq!(profile(&app.platform.db, pc).await, vec![rules]);
        study(&app, pc, &member_c, story).await;
        assert_eq!(profile(&app.platform.db, pc).await, vec![story, rules]);
        // Further heartbeats on a material already there change nothing.
        age_heartbeat(&app.platform.db, story, pc, 40).await;
        post(&app, &format!("/api/v1/learning/materials/{story}/progress"), json!({"seconds": 30}), &member_c).await;
        assert_eq!(profile(&app.platform.db, pc).await, vec![story, rules]);
        // A studies what C studied first: C is her co-learner, and what C studied since is recommended at once
        // with the collaborative reason; what C studies next shows up on A's next request.
        study(&app, pa, &member_a, rules).await;
        let reason = |v: &Value, id: i64| {
            v["items"].as_array().unwrap().iter().find(|i| i["material_id"] == id).map(|i| i["reason_code"].as_str().unwrap().to_string())
        };
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &member_a).await;
        assert_eq!(reason(&v, story).as_deref(), Some("collaborative"), "{v}");
        assert_ne!(reason(&v, songs).as_deref(), Some("collaborative"), "{v}");
        study(&app, pc, &member_c, songs).await;
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &member_a).await;
        assert_eq!(reason(&v, songs).as_deref(), Some("collaborative"), "{v}");
        // The scope words the service writes are the ones migration 0030 appended to existing rows.
        let sql = "SELECT search_tokens, ' zsat' || replace(org_path, '/', 'x') || replace(rtrim(org_path, '/'), '/', ' zsin') \
            FROM materials WHERE id = $1";
        let (tokens, migrated): (String, String) = match &app.platform.db {
            Db::Sqlite(p) => sqlx::query_as(sql).bind(rules).fetch_one(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as(sql).bind(rules).fetch_one(p).await.unwrap(),
        };
        assert!(tokens.ends_with(&migrated), "{tokens} / {migrated}");
        app
    })
    .await;
}

#[tokio::test]
async fn learning_pages() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (_, _) = member(&app, &t, "李红", t.ba, "501", "full").await;
        let body = json!({"title": "党员教育管理工作条例学习", "body": "按时交纳党费是党员的义务。\n第二段。", "kind": "article", "tags": ["党费"]});
        let id = material(&app, &t.staff, body).await;
        let member = app.web_login("u501", USER_PW).await;
        let (st, page) = app.page("/learning", &member).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("为你推荐") && page.contains("新发布的学习材料") && page.contains("学习教育"), "{page}");
        assert!(!page.contains("发布学习材料</a>"), "members do not publish");
        let (st, page) = app.page(&format!("/learning/{id}"), &member).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("<p>第二段。</p>") && page.contains("/assets/learning.js") && page.contains("我的学习"));
        let (st, js) = app.page("/assets/learning.js", &member).await;
        assert!(st == StatusCode::OK && js.contains("visibilityState"));
        assert_eq!(app.page("/learning/new", &member).await.0, StatusCode::FORBIDDEN);
        let staff = app.web_login("staff", USER_PW).await;
        let (st, page) = app.page("/learning/new", &staff).await;
        assert!(st == StatusCode::OK && page.contains("浙江某大学党委"), "{page}");
        let (st, _, page) = app.form("/learning/new", &[("title", ""), ("kind", "article"), ("body", "")], Some(&staff)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("请填写标题") && page.contains("请填写正文"));
        let fields = [
            ("title", "入党积极分子培训"),
            ("kind", "article"),
            ("category", "theory"),
            ("org_id", &t.uni.to_string()),
            ("tags", "党章 培训"),
            ("stage", "activist"),
            ("body", "端正入党动机。"),
        ];
        let (st, headers, _) = app.form("/learning/new", &fields, Some(&staff)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let to = headers.get("location").unwrap().to_str().unwrap().to_string();
        let (st, page) = app.page(&to, &staff).await;
        assert!(st == StatusCode::OK && page.contains("面向入党积极分子") && page.contains("已发布"), "{page}");
        let (st, page) = app.page(&format!("/learning?q={}", q("党费")), &staff).await;
        assert!(st == StatusCode::OK && page.contains("<mark>党费</mark>"));
        app
    })
    .await;
}

#[tokio::test]
async fn portraits_show_what_was_studied_to_whom_may_see_them() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "401", "full").await;
        member(&app, &t, "周强", t.ba, "402", "full").await;
        let (pb, member_b) = member(&app, &t, "王芳", t.bb, "403", "full").await;
        let sec_b = {
            let body = json!({"username": "sec_b", "password": USER_PW, "display_name": "sec_b",
                              "grants": [{"role": "branch_secretary", "org_id": t.bb}]});
            app.post_ok("/api/v1/users", body, &t.admin).await;
            app.login("sec_b", USER_PW).await
        };
        // A required material of the university (due in the future) and one 李红 studies to the end.
        let due = kernel::dates::iso(kernel::dates::today() + time::Duration::days(30));
        let required = material(
            &app,
            &t.staff,
            json!({"title": "必学：党章", "body": "党章是党的根本大法。", "kind": "article",
            "category": "theory", "required_due": due}),
        )
        .await;
        let studied = material(
            &app,
            &t.sec_a,
            json!({"title": "党费交纳", "body": "按月交纳党费。", "kind": "article", "category": "discipline"}),
        )
        .await;
        let path = format!("/api/v1/learning/materials/{studied}/progress");
        post(&app, &path, json!({"seconds": 15}), &member_a).await;
        age_heartbeat(&app.platform.db, studied, pa, 3600).await;
        let (_, p) = post(&app, &path, json!({"seconds": 3600}), &member_a).await;
        assert_eq!(p["completed"], true, "{p}");

        // Her own portrait: one material studied (30 s), today's week, the topic, the required one not done.
        let (st, me) = get(&app, &format!("/api/v1/learning/portraits/people/{pa}"), &member_a).await;
        assert_eq!(st, StatusCode::OK, "{me}");
        assert_eq!((me["studied"].as_i64(), me["active_days"].as_i64()), (Some(1), Some(1)), "{me}");
        assert_eq!(me["weeks"].as_array().unwrap().len(), 12);
        assert_eq!(me["topics"], json!([{"category": "discipline", "label": "党纪党规", "count": 1}]));
        let req: Vec<(i64, bool)> = me["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["material_id"].as_i64().unwrap(), r["completed"].as_bool().unwrap()))
            .collect();
        assert_eq!(req, vec![(required, false)]);
        assert!(me["note"].as_str().unwrap().contains("考核"), "never an assessment input: {me}");
        // Her secretary and the staff see it; another branch's secretary and another member do not (404).
        for who in [&t.sec_a, &t.staff] {
            assert_eq!(get(&app, &format!("/api/v1/learning/portraits/people/{pa}"), who).await.0, StatusCode::OK);
        }
        for who in [&sec_b, &member_b] {
            assert_eq!(
                get(&app, &format!("/api/v1/learning/portraits/people/{pa}"), who).await.0,
                StatusCode::NOT_FOUND
            );
        }
        assert_eq!(
            get(&app, &format!("/api/v1/learning/portraits/people/{pb}"), &member_a).await.0,
            StatusCode::NOT_FOUND
        );

        // Branch A: 2 people, 1 active; the required material reached both, neither finished it.
        let (st, a) = get(&app, &format!("/api/v1/learning/portraits/orgs/{}", t.ba), &t.sec_a).await;
        assert_eq!(st, StatusCode::OK, "{a}");
        assert_eq!((a["people"].as_i64(), a["active"].as_i64()), (Some(2), Some(1)), "{a}");
        let r = a["required"].as_array().unwrap().iter().find(|r| r["material_id"] == required).unwrap();
        assert_eq!((r["audience"].as_i64(), r["completed"].as_i64()), (Some(2), Some(0)));
        // The university: a line per college, A's with its activity.
        let (_, u) = get(&app, &format!("/api/v1/learning/portraits/orgs/{}", t.uni), &t.staff).await;
        let lines: Vec<(i64, i64, i64)> = u["below"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["org_id"].as_i64().unwrap(), l["people"].as_i64().unwrap(), l["active"].as_i64().unwrap()))
            .collect();
        assert_eq!(lines, vec![(t.ca, 2, 1), (t.cb, 1, 0)]);
        assert_eq!(
            get(&app, &format!("/api/v1/learning/portraits/orgs/{}", t.ba), &sec_b).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&app, &format!("/api/v1/learning/portraits/orgs/{}", t.ba), &member_a).await.0,
            StatusCode::NOT_FOUND
        );

        // The pages draw the charts.
        let cookie = app.web_login("sec_a", USER_PW).await;
        let (st, page) = app.page(&format!("/learning/portraits/orgs/{}", t.ba), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("学习画像") && page.contains("<svg") && page.contains("必学：党章"), "{page}");
        let (st, page) = app.page(&format!("/learning/portraits/people/{pa}"), &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(page.contains("李红的学习画像") && page.contains("党纪党规"));
        app
    })
    .await;
}

/// "Being studied in the branch" (`store::studying_in`, migration 0033's index): counted from the progress
/// rows as they are after each heartbeat, only for the listed candidates, only for the branch's people (the
/// person herself left out) and only for studies that credited time within the window.
#[tokio::test]
async fn learning_branch_counts_follow_heartbeats() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let (pa, member_a) = member(&app, &t, "李红", t.ba, "601", "full").await;
        let (pc, member_c) = member(&app, &t, "陈静", t.ba, "602", "full").await;
        let (pd, member_d) = member(&app, &t, "王芳", t.ba, "603", "full").await;
        let (pb, member_b) = member(&app, &t, "赵强", t.bb, "604", "full").await;
        let mk = |title: &str, tag: &str| json!({"title": title, "body": "学习党章，遵守党章。", "kind": "article", "tags": [tag]});
        let m1 = material(&app, &t.staff, mk("党章学习一", "党章")).await;
        let m2 = material(&app, &t.staff, mk("党章学习二", "党章")).await;
        let m3 = material(&app, &t.staff, mk("党章学习三", "党章")).await;
        let db = &app.platform.db;
        let branch = platform::store::get_org(db, t.ba).await.unwrap().unwrap().path;
        let end = platform::model::subtree_end(&branch);
        let since = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        let counts = |person: i64, ids: Vec<i64>| {
            let (branch, end) = (branch.clone(), end.clone());
            async move {
                let mut v = learning::store::studying_in(db, &branch, &end, person, since, &ids).await.unwrap();
                v.sort();
                v
            }
        };
        assert_eq!(counts(pa, vec![m1, m2, m3]).await, vec![]);
        assert_eq!(counts(pa, vec![]).await, vec![], "no candidates, nothing to count");
        // Opening a material credits nothing: not yet studied.
        post(&app, &format!("/api/v1/learning/materials/{m1}/progress"), json!({"seconds": 0}), &member_c).await;
        assert_eq!(counts(pa, vec![m1, m2, m3]).await, vec![]);
        // The heartbeat that credits time counts at once.
        age_heartbeat(db, m1, pc, 40).await;
        post(&app, &format!("/api/v1/learning/materials/{m1}/progress"), json!({"seconds": 30}), &member_c).await;
        assert_eq!(counts(pa, vec![m1, m2, m3]).await, vec![(m1, 1)]);
        study(&app, pd, &member_d, m1).await;
        study(&app, pd, &member_d, m2).await;
        study(&app, pa, &member_a, m2).await;
        assert_eq!(counts(pa, vec![m1, m2, m3]).await, vec![(m1, 2), (m2, 1)], "she is left out of her own count");
        assert_eq!(counts(pd, vec![m1, m2, m3]).await, vec![(m1, 1), (m2, 1)]);
        assert_eq!(counts(pa, vec![m2, m3]).await, vec![(m2, 1)], "only the candidates are counted");
        // Another branch's study does not count; a study last touched 31 days ago no longer does.
        study(&app, pb, &member_b, m3).await;
        assert_eq!(counts(pa, vec![m1, m2, m3]).await, vec![(m1, 2), (m2, 1)]);
        age_heartbeat(db, m1, pd, 31 * 86_400).await;
        assert_eq!(counts(pa, vec![m1, m2, m3]).await, vec![(m1, 1), (m2, 1)]);
        // A member of the branch with no studies of her own is told so, in Chinese, from the same counts.
        study(&app, pc, &member_c, m2).await;
        let (_, member_e) = member(&app, &t, "周敏", t.ba, "605", "full").await;
        let (_, v) = get(&app, "/api/v1/learning/recommendations", &member_e).await;
        let item = v["items"].as_array().unwrap().iter().find(|i| i["material_id"] == m2).cloned().unwrap();
        assert_eq!(item["reason"], "本支部3人正在学习", "{v}");
        app
    })
    .await;
}
