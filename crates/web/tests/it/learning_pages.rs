//! The 学习教育 authoring pages through the router, on SQLite and PostgreSQL: 题库 (a bank, its questions of
//! every kind, changing and retiring one, an exam drawn from it, the statistics), 线上党课 (scheduling, a
//! member joining and then seeing the link, the secretary finishing it with a replay), 积分 (a member's own
//! points and her choice to appear, a branch's board switch, staff's rules). Each with its Chinese message
//! under the field when refused (422, nothing written) and its refusals: a member trying to author (403),
//! another branch (404).

#![allow(clippy::unwrap_used)]

use axum::http::{StatusCode, header};
use kernel::Db;
use serde_json::json;

use crate::support::*;

async fn count(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

fn location(h: &axum::http::HeaderMap) -> String {
    h.get(header::LOCATION).unwrap().to_str().unwrap().to_string()
}

/// The id in "/prefix/{id}…".
fn id_in(loc: &str, prefix: &str) -> i64 {
    let rest = loc.strip_prefix(prefix).unwrap();
    rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_secretary_authors_a_bank_its_questions_and_an_exam_from_the_pages() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let member_a = member_session(&app, &t, "李红", t.ba, "701").await;
        let member_b = member_session(&app, &t, "王芳", t.bb, "702").await;
        let ba = t.ba.to_string();
        let ba = ba.as_str();

        // The list and the form; a member may not author (403).
        let (st, html) = app.page("/learning/banks", &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("新建题库") && html.contains("艺术设计学院学生第一党支部"), "{html}");
        assert_eq!(app.page("/learning/banks", &member_a).await.0, StatusCode::FORBIDDEN);
        let (st, _, _) = app.form("/learning/banks", &[("title", "偷建题库")], Some(&member_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // A bank without its name: the message under the field, nothing written.
        let (st, _, html) = app.form("/learning/banks", &[("title", " "), ("org_id", ba)], Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请填写题库名称") && html.contains("aria-invalid"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM question_banks").await, 0);
        let (st, h, _) = app
            .form(
                "/learning/banks",
                &[("title", "党章党规题库"), ("org_id", ba), ("description", "支部学习用")],
                Some(&sec),
            )
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let bank = id_in(&location(&h), "/learning/banks/");
        let page = format!("/learning/banks/{bank}");

        // Questions of each kind; a refused one keeps what was typed and writes nothing.
        let add = format!("{page}/questions");
        let single = [
            ("kind", "single"),
            ("stem", "党员应当按月交纳（ ）。"),
            ("options", "党费\n会费\n团费"),
            ("correct", "A"),
            ("explanation", "《中国共产党章程》第八条。"),
            ("tags", "党费 党章"),
            ("difficulty", "1"),
        ];
        let (st, h, _) = app.form(&add, &single, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "single");
        let q1 = id_in(location(&h).split_once('#').unwrap().1, "q");
        let bad = [
            ("kind", "multiple"),
            ("stem", "以下哪些属于组织生活？"),
            ("options", "三会一课\n组织生活会"),
            ("correct", "A"),
        ];
        let (st, _, html) = app.form(&add, &bad, Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("多选题至少有两个正确答案") && html.contains("以下哪些属于组织生活？"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM questions").await, 1);
        let multiple = [
            ("kind", "multiple"),
            ("stem", "以下哪些属于组织生活？"),
            ("options", "三会一课\n组织生活会\n春游"),
            ("correct", "A、B"),
            ("tags", "党章"),
        ];
        assert_eq!(app.form(&add, &multiple, Some(&sec)).await.0, StatusCode::SEE_OTHER, "multiple");
        let judge = [("kind", "judge"), ("stem", "预备党员的预备期为一年。"), ("correct", "正确"), ("tags", "党章")];
        assert_eq!(app.form(&add, &judge, Some(&sec)).await.0, StatusCode::SEE_OTHER, "judge");
        let fill = [
            ("kind", "fill"),
            ("stem", "党的最高领导机关是党的（ ）和它产生的中央委员会。"),
            ("correct", "全国代表大会|全国代表大会"),
            ("tags", "党章"),
        ];
        assert_eq!(app.form(&add, &fill, Some(&sec)).await.0, StatusCode::SEE_OTHER, "fill");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM questions").await, 4);

        // The bank's page lists them with their answers; the edit form starts from the question.
        let (st, html) = app.page(&page, &sec).await;
        assert_eq!(st, StatusCode::OK);
        for s in ["党员应当按月交纳", "多选题", "判断题", "填空题", "A、B", "正确", "全国代表大会", "党费 · 1题"]
        {
            assert!(html.contains(s), "{s}: {html}");
        }
        let (_, html) = app.page(&format!("{page}?edit={q1}"), &sec).await;
        assert!(
            html.contains(&format!("/learning/questions/{q1}/edit")) && html.contains("党费\n会费\n团费"),
            "{html}"
        );
        let bank_s = bank.to_string();
        let mut changed = single.to_vec();
        changed[1] = ("stem", "党员应当（ ）交纳党费。");
        changed.push(("bank_id", bank_s.as_str()));
        let (st, _, _) = app.form(&format!("/learning/questions/{q1}/edit"), &changed, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let mut empty = changed.clone();
        empty[1] = ("stem", "");
        let (st, _, html) = app.form(&format!("/learning/questions/{q1}/edit"), &empty, Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请填写题干"), "{html}");
        let (_, html) = app.page(&page, &sec).await;
        assert!(html.contains("党员应当（ ）交纳党费。"), "the change was kept, the refused one not: {html}");

        // An exam drawn from the bank: too many questions is refused under the field, then it is made.
        let exam = [
            ("title", "党章知识测试"),
            ("mode", "exam"),
            ("org_id", ba),
            ("question_count", "50"),
            ("time_limit_minutes", "10"),
            ("pass_percent", "60"),
        ];
        let (st, _, html) = app.form(&format!("{page}/exams"), &exam, Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("题库中符合条件"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM exams").await, 0);
        let mut exam = exam.to_vec();
        exam[3] = ("question_count", "3");
        let (st, h, _) = app.form(&format!("{page}/exams"), &exam, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        assert!(location(&h).starts_with("/learning/exams/"));
        let (_, html) = app.page("/learning/exams", &member_a).await;
        assert!(html.contains("党章知识测试"), "the member sees the exam: {html}");

        // Retiring; the statistics.
        let (st, h, _) = app.form(&format!("/learning/questions/{q1}/retire"), &[], Some(&sec)).await;
        assert_eq!((st, location(&h)), (StatusCode::SEE_OTHER, format!("{page}?retired=1")));
        let (_, html) = app.page(&page, &sec).await;
        assert!(html.contains("已停用"), "{html}");
        let (st, html) = app.page(&format!("{page}/stats"), &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("答题统计") && html.contains("以下哪些属于组织生活？"), "{html}");

        // Refusals: a member of the branch may not author (403), another branch's member gets 404; nothing written.
        for p in [page.clone(), format!("{page}/stats")] {
            assert_eq!(app.page(&p, &member_a).await.0, StatusCode::FORBIDDEN, "{p}");
            assert_eq!(app.page(&p, &member_b).await.0, StatusCode::NOT_FOUND, "{p}");
        }
        assert_eq!(app.form(&add, &single, Some(&member_a)).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.form(&add, &single, Some(&member_b)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            app.form(&format!("/learning/questions/{q1}/retire"), &[], Some(&member_b)).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM questions").await, 4);
        // A bank of the other branch is out of the secretary's reach.
        let other =
            app.post_ok("/api/v1/learning/banks", json!({"title": "信息学院题库", "org_id": t.bb}), &t.staff).await;
        let (st, _) = app.page(&format!("/learning/banks/{}", other["id"]), &sec).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        app
    })
    .await;
}

#[tokio::test]
async fn a_class_is_scheduled_joined_and_finished_from_the_pages() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let member_a = member_session(&app, &t, "李红", t.ba, "711").await;
        let member_b = member_session(&app, &t, "王芳", t.bb, "712").await;
        let ba = t.ba.to_string();
        let ba = ba.as_str();

        let (st, html) = app.page("/learning/classes/new", &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("安排线上党课") && html.contains("name=\"sign_in\" value=\"1\" checked"), "{html}");
        assert_eq!(app.page("/learning/classes/new", &member_a).await.0, StatusCode::FORBIDDEN);
        let (st, _, _) = app.form("/learning/classes/new", &[("title", "私自安排")], Some(&member_a)).await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // Refused: messages under the fields, nothing written (neither the class nor its meeting).
        let (st, _, html) = app
            .form("/learning/classes/new", &[("org_id", ba), ("starts_at", "明天晚上"), ("sign_in", "1")], Some(&sec))
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        for m in ["请填写课程名称", "请填写主讲人", "时间格式应为", "请填写线上课堂链接或授课地点"]
        {
            assert!(html.contains(m), "{m}: {html}");
        }
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM party_classes").await, 0);
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM meetings").await, 0);

        // Started ten minutes ago, so members may join and the secretary may finish it.
        let start = learning::exams::model::local_text(time::OffsetDateTime::now_utc() - time::Duration::minutes(10));
        let form = [
            ("title", "专题党课：学习纪律处分条例"),
            ("lecturer", "张书记"),
            ("org_id", ba),
            ("starts_at", start.as_str()),
            ("minutes", "60"),
            ("link", "https://meeting.example.edu.cn/r/123"),
            ("sign_in", "1"),
        ];
        let (st, h, _) = app.form("/learning/classes/new", &form, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let class = id_in(&location(&h), "/learning/classes/");
        let page = format!("/learning/classes/{class}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM meetings WHERE kind = 'party_lecture'").await, 1);

        // The member sees it listed; the link shows once she joined.
        let (_, html) = app.page("/learning/classes", &member_a).await;
        assert!(html.contains("专题党课：学习纪律处分条例") && html.contains("计入党课"), "{html}");
        let (st, html) = app.page(&page, &member_a).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("签到并进入课堂") && !html.contains("meeting.example.edu.cn"), "{html}");
        let (st, h, _) = app.form(&format!("{page}/join"), &[], Some(&member_a)).await;
        assert_eq!((st, location(&h)), (StatusCode::SEE_OTHER, format!("{page}?joined=1")));
        let (_, html) = app.page(&format!("{page}?joined=1"), &member_a).await;
        assert!(html.contains("https://meeting.example.edu.cn/r/123") && html.contains("出勤已记录"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM party_class_attendance").await, 1);

        // Another branch: 404 for the page and the join; a member may not finish it (403).
        assert_eq!(app.page(&page, &member_b).await.0, StatusCode::NOT_FOUND);
        assert_eq!(app.form(&format!("{page}/join"), &[], Some(&member_b)).await.0, StatusCode::NOT_FOUND);
        let replay = [("replay_url", "https://video.example.edu.cn/replay/123")];
        assert_eq!(app.form(&format!("{page}/finish"), &replay, Some(&member_a)).await.0, StatusCode::FORBIDDEN);

        // The secretary finishes it: a bad link is refused under the field (nothing changed), then it counts.
        let (st, _, html) =
            app.form(&format!("{page}/finish"), &[("replay_url", "javascript:alert(1)")], Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("链接地址应以 http:// 或 https:// 开头"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM party_classes WHERE status = 'finished'").await, 0);
        let (st, _, _) = app.form(&format!("{page}/finish"), &replay, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, html) = app.page(&page, &member_a).await;
        assert!(html.contains("观看回放") && html.contains("已计入本组织的党课次数"), "{html}");
        let (_, html) = app.page("/learning/classes", &member_a).await;
        let past = html.split("往期党课").nth(1).unwrap();
        assert!(past.contains("专题党课：学习纪律处分条例"), "finished classes are past: {html}");
        app
    })
    .await;
}

#[tokio::test]
async fn banks_and_exams_take_their_stages_from_the_forms() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let ba = t.ba.to_string();
        let (_, html) = app.page("/learning/banks", &sec).await;
        assert!(html.contains("面向对象") && html.contains("name=\"stage\" value=\"activist\""), "{html}");
        // An unknown stage is refused under the choices, nothing written.
        let bad = [("title", "积极分子培训题库"), ("org_id", ba.as_str()), ("stage", "chairman")];
        let (st, _, html) = app.form("/learning/banks", &bad, Some(&sec)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("面向对象应为入党申请人"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM question_banks").await, 0);
        let good =
            [("title", "积极分子培训题库"), ("org_id", ba.as_str()), ("stage", "activist"), ("stage", "candidate")];
        let (st, h, _) = app.form("/learning/banks", &good, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let bank = id_in(&location(&h), "/learning/banks/");
        let (_, api) = crate::life::get(&app, &format!("/api/v1/learning/banks/{bank}"), &t.sec_a).await;
        assert_eq!(api["bank"]["stages"], json!(["activist", "candidate"]), "{api}");
        let q =
            json!({"kind": "judge", "stem": "入党积极分子应当参加党校培训。", "correct": ["正确"], "tags": ["培训"]});
        app.post_ok(&format!("/api/v1/learning/banks/{bank}/questions"), q, &t.sec_a).await;
        // The exam form starts from the bank's stages; the exam takes the ones ticked.
        let page = format!("/learning/banks/{bank}");
        let (_, html) = app.page(&page, &sec).await;
        let exam_form = html.split("id=\"exam\"").nth(1).unwrap();
        assert!(
            exam_form.contains("value=\"activist\" checked") && exam_form.contains("value=\"candidate\" checked"),
            "{html}"
        );
        assert!(!exam_form.contains("value=\"full\" checked"), "{exam_form}");
        let exam = [
            ("title", "积极分子测试"),
            ("mode", "practice"),
            ("org_id", ba.as_str()),
            ("question_count", "1"),
            ("stage", "activist"),
        ];
        let (st, h, html) = app.form(&format!("{page}/exams"), &exam, Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
        let exam = id_in(&location(&h), "/learning/exams/");
        let (_, api) = crate::life::get(&app, &format!("/api/v1/learning/exams/{exam}"), &t.sec_a).await;
        assert_eq!(api["stages"], json!(["activist"]), "{api}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_class_links_a_planned_party_lecture_once_from_the_form() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let next_week = kernel::dates::iso(kernel::dates::today() + time::Duration::days(7));
        let lecture = |org: i64, title: &str| {
            json!({"org_id": org, "kind": "party_lecture", "title": title, "held_on": next_week, "start_time": "19:00"})
        };
        let mine = app.post_ok("/api/v1/meetings", lecture(t.ba, "第四季度党课"), &t.sec_a).await["id"].as_i64().unwrap();
        let theirs = app.post_ok("/api/v1/meetings", lecture(t.bb, "乙支部党课"), &t.staff).await["id"].as_i64().unwrap();
        let day = json!({"org_id": t.ba, "kind": "theme_day", "title": "主题党日", "held_on": next_week});
        app.post_ok("/api/v1/meetings", day, &t.sec_a).await;

        // The form offers her branch's planned 党课 only (not another branch's, not a 主题党日).
        let (_, html) = app.page("/learning/classes/new", &sec).await;
        assert!(html.contains("或关联已安排的党课会议") && html.contains("第四季度党课"), "{html}");
        assert!(!html.contains("乙支部党课") && !html.contains(">主题党日"), "{html}");
        let (ba, mine_s, theirs_s) = (t.ba.to_string(), mine.to_string(), theirs.to_string());
        let start = format!("{next_week} 19:00");
        let form = |meeting: &str| {
            vec![
                ("title", "专题党课".to_string()),
                ("lecturer", "张书记".to_string()),
                ("org_id", ba.clone()),
                ("starts_at", start.clone()),
                ("link", "https://meeting.example.edu.cn/r/9".to_string()),
                ("sign_in", "1".to_string()),
                ("meeting_id", meeting.to_string()),
            ]
        };
        let submit = |meeting: &str| {
            let owned = form(meeting);
            let (app, sec) = (&app, sec.clone());
            async move {
                let fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.form("/learning/classes/new", &fields, Some(&sec)).await
            }
        };
        // Another branch's meeting is refused under the select, nothing written.
        let (st, _, html) = submit(&theirs_s).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("党课会议不存在或不在您的范围内"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM party_classes").await, 0);
        // Linked: no new meeting is made, and the class page names the meeting.
        let (st, h, html) = submit(&mine_s).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM meetings WHERE kind = 'party_lecture'").await, 2);
        let (_, html) = app.page(&location(&h), &sec).await;
        assert!(html.contains(&format!("/meetings/{mine}")), "{html}");
        // Once linked it is no longer offered, and a second class cannot take it.
        let (_, html) = app.page("/learning/classes/new", &sec).await;
        assert!(!html.contains("第四季度党课"), "{html}");
        let (st, _, html) = submit(&mine_s).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("该党课会议已关联其他线上党课"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM party_classes").await, 1);
        app
    })
    .await;
}

#[tokio::test]
async fn points_pages_keep_the_board_off_and_opt_in() {
    on_both(|app| async move {
        let t = tree(&app).await;
        let sec = app.web_login("sec_a", USER_PW).await;
        let staff = app.web_login("staff", USER_PW).await;
        let member_a = member_session(&app, &t, "李红", t.ba, "721").await;
        let member_b = member_session(&app, &t, "王芳", t.bb, "722").await;
        let board = format!("/orgs/{}/points", t.ba);
        let rules = format!("/orgs/{}/points-rules", t.uni);

        // The member's own page: off, not on the board, never an assessment input.
        let (st, html) = app.page("/learning/points", &member_a).await;
        assert_eq!(st, StatusCode::OK);
        assert!(
            html.contains("不作为考核依据") && html.contains("未开启学习积分") && html.contains("不在积分榜上显示我"),
            "{html}"
        );
        let (st, _, html) = app.form("/learning/points/optin", &[], Some(&member_a)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("请选择是否在支部积分榜上显示"), "{html}");
        let (st, _, _) = app.form("/learning/points/optin", &[("enabled", "1")], Some(&member_a)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (_, html) = app.page("/learning/points", &member_a).await;
        assert!(html.contains("在积分榜上显示我") && html.contains("不再显示我"), "{html}");

        // The board: off by default (members 404), the secretary switches it on; other branch 404.
        assert_eq!(app.page(&board, &member_a).await.0, StatusCode::NOT_FOUND);
        let (st, html) = app.page(&board, &sec).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("未开启") && html.contains("开启积分榜"), "{html}");
        let (st, _, _) = app.form(&board, &[("enabled", "1")], Some(&member_a)).await;
        assert!(matches!(st, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{st}");
        assert_eq!(app.form(&board, &[("enabled", "1")], Some(&member_b)).await.0, StatusCode::NOT_FOUND);
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM points_boards").await, 0);
        let (st, _, _) = app.form(&board, &[("enabled", "1")], Some(&sec)).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (st, html) = app.page(&board, &member_a).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("李红") && html.contains("已开启"), "she chose to appear: {html}");
        assert_eq!(app.page(&board, &member_b).await.0, StatusCode::NOT_FOUND);
        // A college committee has no board: the reason, nothing written.
        let (st, _, html) = app.form(&format!("/orgs/{}/points", t.ca), &[("enabled", "1")], Some(&staff)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("积分榜只能由党支部开启"), "{html}");

        // Staff's rules: a bad number under its field, nothing written; then saved. Secretaries may not.
        let (st, html) = app.page(&rules, &staff).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("学完一份学习材料") && html.contains("未设置（关闭）"), "{html}");
        let bad = [("studied.enabled", "1"), ("studied.points", "-3"), ("studied.daily_cap", "6")];
        let (st, _, html) = app.form(&rules, &bad, Some(&staff)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains("每次积分应为0至"), "{html}");
        assert_eq!(count(&app.platform.db, "SELECT COUNT(*) FROM points_rules").await, 0);
        let good = [("studied.enabled", "1"), ("studied.points", "2"), ("studied.daily_cap", "6")];
        assert_eq!(app.form(&rules, &good, Some(&staff)).await.0, StatusCode::SEE_OTHER);
        let (_, html) = app.page(&format!("{rules}?saved=1"), &staff).await;
        assert!(html.contains("积分规则已保存") && html.contains("本组织设置"), "{html}");
        let own_rules = format!("/orgs/{}/points-rules", t.ba);
        assert_eq!(app.page(&own_rules, &sec).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.form(&own_rules, &good, Some(&sec)).await.0, StatusCode::FORBIDDEN);
        assert_eq!(app.page(&own_rules, &member_b).await.0, StatusCode::NOT_FOUND);
        let (_, html) = app.page("/learning/points", &member_a).await;
        assert!(html.contains("我的积分") && !html.contains("未开启学习积分"), "points are on now: {html}");
        app
    })
    .await;
}
