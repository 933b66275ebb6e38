//! The audit log as evidence (security.md AT-24…AT-27): every catalogued action leaves one complete entry
//! (with the actor's roles and scope), injected control characters stay inert, the watch names a tampered
//! entry and a truncation, old entries move to sealed archives across which the chain still verifies
//! (179-day-old entries stay), and without an audit store the security-relevant actions fail closed.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use kernel::Db;
use security::KeyRing;
use security::audit::{self, Entry, Verdict};
use security::audit_evidence as ev;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::audit::exec;
use crate::support::*;

const FROM: [u8; 4] = [203, 0, 113, 7];

/// Calls the API from 203.0.113.7 (the test router has no socket).
async fn call_from(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    app.call_from(Some(SocketAddr::from((FROM, 40_000))), method, path, body, token).await
}

async fn head_seq(app: &TestApp) -> i64 {
    ev::head(&app.platform.db).await.unwrap().0
}

async fn entries_since(app: &TestApp, after: i64) -> Vec<Entry> {
    audit::entries_after(&app.platform.db, after, 10_000).await.unwrap()
}

/// Every field of AT-24 is there and nothing in it can forge a line or colour a terminal.
fn assert_complete(e: &Entry) {
    let what = format!("entry {} ({})", e.seq, e.action);
    for (name, v) in [
        ("actor", &e.actor),
        ("roles", &e.roles),
        ("org_scope", &e.org_scope),
        ("action", &e.action),
        ("target", &e.target),
        ("result", &e.result),
        ("request_id", &e.request_id),
        ("ip", &e.ip),
    ] {
        assert!(!v.is_empty(), "{what}: {name} empty");
    }
    for v in [&e.actor, &e.roles, &e.org_scope, &e.action, &e.target, &e.result, &e.request_id, &e.ip, &e.detail] {
        assert!(!v.chars().any(char::is_control), "{what}: a control character stored: {v:?}");
    }
    assert_eq!(e.ip, "203.0.113.7", "{what}: the client's address");
    assert_eq!(e.at.offset(), time::UtcOffset::UTC, "{what}: UTC");
    assert!((OffsetDateTime::now_utc() - e.at).abs() < time::Duration::minutes(2), "{what}: at {}", e.at);
}

/// A writer the tracing subscriber of one test writes into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const INJECTED: &str = "sec_a\n2026-11-24T00:00:00Z INFO audit: admin auth.login ok\u{1b}[2J\u{1b}[31m";

#[tokio::test]
async fn every_catalogued_action_leaves_exactly_one_complete_entry() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    on_both(|app| async move {
        let t = tree(&app).await;
        let pb = app
            .post_ok("/api/v1/people", person("王芳", t.bb, &id_number("19980101", "222"), "1998-01-01"), &t.staff)
            .await["id"]
            .as_i64()
            .unwrap();
        let ba_path = format!("/{}/{}/{}/", t.uni, t.ca, t.ba);
        let mut done: Vec<&str> = Vec::new();
        let mut person_id = 0;
        let mut sec_token = String::new();
        // (action, result): the catalogue this walk covers, each run once from 203.0.113.7.
        for (action, result) in [
            ("auth.login", "ok"),
            ("auth.login", "failed"),
            ("org.create", "ok"),
            ("account.create", "ok"),
            ("person.create", "ok"),
            ("person.update", "ok"),
            ("person.reveal", "ok"),
            ("person.export", "ok"),
            ("person.read", "denied"),
            ("auth.logout", "ok"),
        ] {
            let before = head_seq(&app).await;
            let (st, v) = match (action, result) {
                ("auth.login", "ok") => {
                    let body = json!({"username": "sec_a", "password": USER_PW});
                    let r = call_from(&app, "POST", "/api/v1/auth/login", Some(body), None).await;
                    sec_token = r.1["token"].as_str().unwrap_or_default().to_string();
                    r
                }
                ("auth.login", _) => {
                    let body = json!({"username": INJECTED, "password": "wrong"});
                    call_from(&app, "POST", "/api/v1/auth/login", Some(body), None).await
                }
                ("org.create", _) => {
                    let body = json!({"name": "第二党小组", "kind": "group", "parent_id": t.ba, "category": "student"});
                    call_from(&app, "POST", "/api/v1/orgs", Some(body), Some(&t.admin)).await
                }
                ("account.create", _) => {
                    let body = json!({"username": "leader_x", "password": USER_PW, "display_name": "领导",
                                      "grants": [{"role": "leader", "org_id": t.cb}]});
                    call_from(&app, "POST", "/api/v1/users", Some(body), Some(&t.admin)).await
                }
                ("person.create", _) => {
                    let body = person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01");
                    let r = call_from(&app, "POST", "/api/v1/people", Some(body), Some(&t.staff)).await;
                    person_id = r.1["id"].as_i64().unwrap_or_default();
                    r
                }
                ("person.update", _) => {
                    let path = format!("/api/v1/people/{person_id}");
                    call_from(&app, "PATCH", &path, Some(json!({"phone": "13900139000"})), Some(&t.staff)).await
                }
                ("person.reveal", _) => {
                    let path = format!("/api/v1/people/{person_id}/reveal");
                    let body = json!({"field": "id_number", "reason": "核对材料\n2026 admin ok\u{1b}[31m"});
                    call_from(&app, "POST", &path, Some(body), Some(&sec_token)).await
                }
                ("person.export", _) => {
                    let path = format!("/api/v1/people/export?org_id={}&format=csv", t.ba);
                    call_from(&app, "GET", &path, None, Some(&t.staff)).await
                }
                ("person.read", _) => {
                    call_from(&app, "GET", &format!("/api/v1/people/{pb}"), None, Some(&sec_token)).await
                }
                _ => call_from(&app, "POST", "/api/v1/auth/logout", None, Some(&sec_token)).await,
            };
            assert!(st.is_success() || result != "ok", "{action}: {st} {v}");
            let new = entries_since(&app, before).await;
            let names: Vec<(&str, &str)> = new.iter().map(|e| (e.action.as_str(), e.result.as_str())).collect();
            assert_eq!(names, vec![(action, result)], "{action}/{result}: exactly one entry");
            let e = &new[0];
            assert_complete(e);
            match (action, result) {
                ("auth.login", "failed") => {
                    assert_eq!((e.roles.as_str(), e.org_scope.as_str()), ("anonymous", "-"));
                    assert!(e.target.contains("\\u{a}2026") && e.target.contains("\\u{1b}[2J"), "{}", e.target);
                }
                ("person.reveal" | "person.read" | "auth.logout", _) | ("auth.login", "ok") => {
                    assert_eq!(e.actor, "sec_a");
                    assert_eq!((e.roles.as_str(), e.org_scope.as_str()), ("branch_secretary", ba_path.as_str()));
                }
                ("org.create" | "account.create", _) => {
                    assert_eq!((e.roles.as_str(), e.org_scope.as_str()), ("system_admin", "*"), "{action}");
                }
                _ => {
                    assert_eq!(e.actor, "staff");
                    assert_eq!(
                        (e.roles.as_str(), e.org_scope.as_str()),
                        ("org_staff", format!("/{}/", t.uni).as_str())
                    );
                }
            }
            if action == "person.reveal" {
                // The reason is cleaned of control characters before it is kept at all.
                assert!(e.detail.contains("核对材料") && !e.detail.contains('\u{1b}'), "{}", e.detail);
            }
            done.push(action);
        }
        assert_eq!(done.len(), 10);
        // Entries of an old format and of the new one verify together; an export file carries the roles.
        assert!(matches!(audit::verify(&app.platform.db).await.unwrap(), Verdict::Intact { .. }));
        app
    })
    .await;
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("request"), "the request log was captured");
    assert!(!text.contains('\u{1b}'), "no escape sequence reaches the log");
    assert!(!text.lines().any(|l| l.starts_with("2026-11-24T00:00:00Z INFO audit")), "no line forged by an input");
}

// ---------------------------------------------------------------------------------------------------
// AT-25

/// The triggers of migration 0017 on `audit_log` (SQLite has no switch: they are dropped and made again).
const SQLITE_TRIGGERS: &str = "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END; \
     CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     WHEN NOT EXISTS (SELECT 1 FROM audit_checkpoints c WHERE c.through_seq >= OLD.seq AND c.first_seq <= OLD.seq) \
       OR julianday(OLD.at) > julianday('now', '-180 days') \
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (only archived entries older than 180 days leave it)'); END;";

/// Runs `sql` around the audit triggers, as the database's owner could, in one transaction (one
/// connection: a pooled SQLite connection may still read an older schema). `then` runs inside it too.
async fn around_triggers(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    let batch = match &tx {
        kernel::DbTx::Sqlite(_) => {
            format!("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}; {SQLITE_TRIGGERS}")
        }
        kernel::DbTx::Postgres(_) => {
            format!("ALTER TABLE audit_log DISABLE TRIGGER USER; {sql}; ALTER TABLE audit_log ENABLE TRIGGER USER")
        }
    };
    let q = sqlx::raw_sql(sqlx::AssertSqlSafe(batch.clone()));
    match &mut tx {
        kernel::DbTx::Sqlite(t) => q.execute(&mut **t).await.map(|_| ()),
        kernel::DbTx::Postgres(t) => q.execute(&mut **t).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{batch}: {e}"));
    tx.commit().await.unwrap();
}

/// One statement on its own transaction, never prepared and cached.
async fn ddl(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    let q = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()));
    match &mut tx {
        kernel::DbTx::Sqlite(t) => q.execute(&mut **t).await.map(|_| ()),
        kernel::DbTx::Postgres(t) => q.execute(&mut **t).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_watch_names_a_tampered_entry_and_raises_the_alarm() {
    use ops::jobs::builtin::{self, AUDIT_WATCH};
    use ops::jobs::{NewJob, Runner, RunnerSettings};

    on_both(|app| async move {
        let t = tree(&app).await;
        let db = app.platform.db.clone();
        let keys = Arc::new(KeyRing::for_tests());
        let heads = app.dir.join("heads.jsonl");
        let settings = builtin::AuditSettings {
            head_file: Some(heads.clone()),
            sweep: 5,
            archive_dir: app.dir.join("archive"),
            online_days: 365,
        };
        let runner = Runner::new(db.clone(), RunnerSettings { instance: "watch".into(), ..RunnerSettings::default() })
            .handle(AUDIT_WATCH, builtin::audit_watch(db.clone(), keys.clone(), settings));
        let run = async || {
            let job = NewJob { max_attempts: 1, ..NewJob::now(AUDIT_WATCH, json!({})) };
            let id = ops::jobs::enqueue(&db, &job).await.unwrap().unwrap();
            runner.run_next().await.unwrap();
            ops::jobs::get(&db, id).await.unwrap().unwrap()
        };
        let first = run().await;
        assert_eq!(first.result_json()["intact"], true, "{first:?}");
        let head = head_seq(&app).await;
        assert_eq!(first.result_json()["verified_seq"], head);
        // The next run costs only what was appended meanwhile, and a slice of the rest.
        app.post_ok("/api/v1/people", person("李红", t.ba, &id_number("19990101", "123"), "1999-01-01"), &t.staff)
            .await;
        let r = run().await.result_json();
        assert_eq!(r["intact"], true);
        assert_eq!(r["new_entries"].as_i64().unwrap(), head_seq(&app).await - head, "{r}");
        assert!(r["swept"].as_i64().unwrap() <= 5, "{r}");
        let marks = std::fs::read_to_string(&heads).unwrap();
        assert!(marks.lines().count() >= 2, "a signed head mark per run: {marks}");

        // Entry 3, verified long ago, is edited by someone with the owner's rights.
        around_triggers(&db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await;
        let mut failed = None;
        for _ in 0..20 {
            let job = run().await;
            if let Some(e) = job.last_error.clone().filter(|_| job.result_json()["intact"] != true) {
                failed = Some(e);
                break;
            }
        }
        let error = failed.expect("the sweep reaches entry 3 within a few runs");
        assert!(error.contains("BROKEN at entry 3"), "{error}");
        let state = ev::watch_state(&db).await.unwrap().unwrap();
        assert_eq!(state.broken_seq, Some(3));

        // The alarm: /metrics and the status page name it.
        let metrics = ops::status::render_metrics(&ops::Metrics::default(), &ops::Ops::default(), &db).await;
        assert!(metrics.lines().any(|l| l == "dangjian_audit_chain_intact 0"), "{metrics}");
        assert!(metrics.lines().any(|l| l == "dangjian_audit_chain_broken_entry 3"), "{metrics}");
        let cookie = app.web_login("admin", ADMIN_PW).await;
        let (st, html) = app.page("/admin/status", &cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("审计链在第 3 条处断裂") && html.contains("链已断裂"), "{html}");
        app
    })
    .await;
}

#[tokio::test]
async fn a_truncated_log_is_found_by_the_signed_head_marks() {
    on_both(|app| async move {
        tree(&app).await;
        let db = app.platform.db.clone();
        let keys = KeyRing::for_tests();
        let heads = app.dir.join("marks").join("heads.jsonl");
        let mark = ev::write_head_mark(&db, &keys, &heads).await.unwrap();
        assert_eq!(ev::check_head_marks(&db, &keys, &heads).await.unwrap(), None);
        let keep = mark.seq - 4;
        around_triggers(&db, &format!("DELETE FROM audit_log WHERE seq > {keep}")).await;
        // What is left is a perfect chain…
        assert!(matches!(audit::verify(&db).await.unwrap(), Verdict::Intact { .. }));
        // …that no longer reaches the head signed outside the database.
        let (seq, reason) = ev::check_head_marks(&db, &keys, &heads).await.unwrap().unwrap();
        assert_eq!(seq, keep + 1);
        assert!(reason.contains("truncated"), "{reason}");
        let w = ev::watch(&db, &keys, Some(&heads), 100).await.unwrap();
        assert_eq!(w.broken.map(|b| b.0), Some(keep + 1));
        // A mark forged without the key is refused.
        let forged = format!(
            "{}\n",
            json!({"seq": keep, "hash": "00", "at": "2026-01-01T00:00:00Z", "mac": hex::encode([0u8; 32])})
        );
        let other = app.dir.join("forged.jsonl");
        std::fs::write(&other, forged).unwrap();
        let (_, reason) = ev::check_head_marks(&db, &keys, &other).await.unwrap().unwrap();
        assert!(reason.contains("not signed"), "{reason}");
        app
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// AT-26

/// Replaces the log with a chain of entries `ages` days old (oldest first), as if the platform had run
/// for over a year; the platform's later entries continue it.
async fn aged_log(db: &Db, ages: &[i64]) {
    let mut prev = vec![0u8; 32];
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let mut sql = String::from("DELETE FROM audit_log");
    let blob = |b: &[u8]| match db {
        Db::Sqlite(_) => format!("X'{}'", hex::encode(b)),
        Db::Postgres(_) => format!("'\\x{}'::bytea", hex::encode(b)),
    };
    for (i, days) in ages.iter().enumerate() {
        let mut e = Entry {
            seq: i as i64 + 1,
            at: now - time::Duration::days(*days),
            actor_id: None,
            actor: "system".into(),
            action: "fixture.aged".into(),
            target: format!("fixture:{days}"),
            result: "ok".into(),
            request_id: format!("fixture-{i}"),
            ip: "-".into(),
            detail: String::new(),
            prev_hash: prev.clone(),
            hash: vec![],
            roles: "system".into(),
            org_scope: "*".into(),
        };
        e.hash = audit::chain_hash(security::profile::HashAlg::Sha256, &prev, &e);
        let at = e.at.format(&time::format_description::well_known::Rfc3339).unwrap();
        let at = match db {
            Db::Sqlite(_) => format!("'{at}'"),
            Db::Postgres(_) => format!("'{at}'::timestamptz"),
        };
        sql.push_str(&format!(
            "; INSERT INTO audit_log (seq, at, actor_id, actor, action, target, result, request_id, ip, detail, prev_hash, hash, roles, org_scope) \
             VALUES ({}, {at}, NULL, '{}', '{}', '{}', '{}', '{}', '{}', '', {}, {}, '{}', '{}')",
            e.seq,
            e.actor,
            e.action,
            e.target,
            e.result,
            e.request_id,
            e.ip,
            blob(&e.prev_hash),
            blob(&e.hash),
            e.roles,
            e.org_scope
        ));
        prev.clone_from(&e.hash);
    }
    around_triggers(db, &sql).await;
}

#[tokio::test]
async fn old_entries_move_to_sealed_archives_and_179_day_old_ones_stay() {
    on_both(|app| async move {
        let db = app.platform.db.clone();
        let keys = KeyRing::for_tests();
        aged_log(&db, &[400, 400, 400, 200, 200, 179, 179, 179]).await;
        tree(&app).await;
        assert!(matches!(audit::verify(&db).await.unwrap(), Verdict::Intact { .. }));
        let dir = app.dir.join("archive").join("audit");
        let now = OffsetDateTime::now_utc();

        // The law's six months are the floor.
        let err = ev::archive(&db, &keys, &dir, 179, now).await.unwrap_err().to_string();
        assert!(err.contains("网络安全法"), "{err}");

        // 365 days online: the three entries of 400 days go.
        let first = ev::archive(&db, &keys, &dir, 365, now).await.unwrap().unwrap();
        assert_eq!((first.first_seq, first.last_seq, first.entries), (1, 3, 3));
        assert_eq!(first.file.file_name().unwrap().to_string_lossy(), "audit-0000000001-0000000003.jsonl");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&first.file).unwrap().permissions().mode() & 0o777, 0o400, "sealed read-only");
        }
        assert!(ev::archive(&db, &keys, &dir, 365, now).await.unwrap().is_none(), "nothing else is a year old");
        // The shortest period allowed: the 200-day entries go, the 179-day ones stay.
        let second = ev::archive(&db, &keys, &dir, 180, now).await.unwrap().unwrap();
        assert_eq!((second.first_seq, second.last_seq), (4, 5));
        assert!(ev::archive(&db, &keys, &dir, 180, now).await.unwrap().is_none());
        let stay = audit::for_target(&db, "fixture:179", 10).await.unwrap();
        assert_eq!(stay.len(), 3, "179-day-old entries stay online and are found");
        assert!(audit::for_target(&db, "fixture:400", 10).await.unwrap().is_empty());

        assert!(exec(&db, "DELETE FROM audit_log WHERE seq = 6").await.is_err(), "not archived: stays");

        // The chain verifies across both boundaries, in the database and file by file.
        assert!(matches!(audit::verify(&db).await.unwrap(), Verdict::Intact { .. }));
        let w = ev::watch(&db, &keys, None, 1000).await.unwrap();
        assert_eq!(w.broken, None);
        let key = keys.audit_seal_key();
        let a = ev::check_file(&first.file, Some(&key)).unwrap();
        assert!(matches!(a.verdict, Verdict::Intact { entries: 3, .. }) && a.signature_checked, "{a:?}");
        let b = ev::check_file(&second.file, Some(&key)).unwrap();
        assert_eq!(b.seal.as_ref().unwrap().prev_hash, first.head_hash, "the second archive continues the first");
        assert!(matches!(b.verdict, Verdict::Intact { entries: 2, .. }));
        let cps = ev::checkpoints(&db).await.unwrap();
        assert_eq!(cps.iter().map(|c| c.through_seq).collect::<Vec<_>>(), vec![3, 5]);
        assert!(cps.iter().all(|c| c.signed_by(&key)));
        // The archiving itself is audited, and the checkpoints cannot be edited.
        assert_eq!(audit::for_target(&db, "audit:1-3", 5).await.unwrap().len(), 1);
        assert!(exec(&db, "DELETE FROM audit_checkpoints").await.is_err());
        assert!(exec(&db, "UPDATE audit_checkpoints SET entries = 0").await.is_err());

        // An archive is searched offline…
        let found = ev::search_file(
            &first.file,
            &ev::Filter { target: Some("fixture:400".into()), ..ev::Filter::default() },
        )
        .unwrap();
        assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        // …and an edited, cut or re-sealed copy is refused.
        let text = std::fs::read_to_string(&first.file).unwrap();
        let copy = app.dir.join("copy.jsonl");
        std::fs::write(&copy, text.replacen("\"fixture:400\"", "\"fixture:401\"", 1)).unwrap();
        assert!(matches!(ev::check_file(&copy, Some(&key)).unwrap().verdict, Verdict::Broken { seq: 1, .. }));
        let mut lines: Vec<&str> = text.lines().collect();
        lines.remove(2);
        std::fs::write(&copy, lines.join("\n")).unwrap();
        assert!(matches!(ev::check_file(&copy, Some(&key)).unwrap().verdict, Verdict::Broken { .. }));
        let wrong = ev::check_file(&first.file, Some(&[1u8; 32])).unwrap();
        assert!(matches!(wrong.verdict, Verdict::Broken { .. }), "another key file's seal: {wrong:?}");

        // Even a checkpoint row covering them does not let the 179-day-old entries go: the trigger counts
        // the days itself. And such a forged row, not signed with the key file, is the watch's finding.
        let young = head_seq(&app).await;
        exec(
            &db,
            &format!(
                "INSERT INTO audit_checkpoints (through_seq, first_seq, head_hash, entries, oldest_at, newest_at, archived_at, file, file_sha256, mac) \
                 SELECT {young}, 6, hash, {n}, at, at, at, 'forged', '', hash FROM audit_log WHERE seq = {young}",
                n = young - 5
            ),
        )
        .await
        .unwrap();
        assert!(exec(&db, "DELETE FROM audit_log WHERE seq = 6").await.is_err(), "a 179-day-old entry stays");
        assert!(exec(&db, &format!("DELETE FROM audit_log WHERE seq = {young}")).await.is_err());
        let w = ev::watch(&db, &keys, None, 1000).await.unwrap();
        let (seq, reason) = w.broken.unwrap();
        assert_eq!(seq, 6);
        assert!(reason.contains("not signed"), "{reason}");
        app
    })
    .await;
}

// ---------------------------------------------------------------------------------------------------
// AT-27

/// Makes every audit insert fail, as a full disk or a revoked grant would.
async fn audit_store_down(db: &Db) {
    match db {
        Db::Sqlite(_) => ddl(
            db,
            "CREATE TRIGGER audit_log_down BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END",
        )
        .await,
        Db::Postgres(_) => {
            ddl(
                db,
                "CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store unavailable'; END; $$",
            )
            .await;
            ddl(db, "CREATE TRIGGER audit_log_down BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_down()")
                .await;
        }
    }
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn without_an_audit_store_security_actions_fail_closed_and_reads_continue() {
    on_both(|app| async move {
        let c = crate::import::campus(&app).await;
        let db = app.platform.db.clone();
        let p = app
            .post_ok("/api/v1/people", person("李红", c.econ, &id_number("19990101", "123"), "1999-01-01"), &c.staff)
            .await["id"]
            .as_i64()
            .unwrap();
        let admin = app.login("admin", ADMIN_PW).await;
        let failures_before = ev::write_failures().total;
        audit_store_down(&db).await;
        let users = count(&db, "SELECT COUNT(*) FROM users").await;
        let people = count(&db, "SELECT COUNT(*) FROM people").await;
        let entries = count(&db, "SELECT COUNT(*) FROM audit_log").await;

        let unavailable = |what: &str, st: StatusCode, v: &Value| {
            assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{what}: {v}");
            assert_eq!(v["error"]["code"], "audit_unavailable", "{what}: {v}");
        };
        // An export with identifying fields.
        let (st, v) =
            app.call("GET", &format!("/api/v1/people/export?org_id={}&format=csv", c.econ), None, Some(&c.staff)).await;
        unavailable("export", st, &v);
        // A role grant.
        let body = json!({"username": "new_sec", "password": USER_PW, "display_name": "新书记",
                          "grants": [{"role": "branch_secretary", "org_id": c.econ}]});
        let (st, v) = app.call("POST", "/api/v1/users", Some(body), Some(&admin)).await;
        unavailable("role grant", st, &v);
        // A reveal of personal information.
        let (st, v) = app
            .call(
                "POST",
                &format!("/api/v1/people/{p}/reveal"),
                Some(json!({"field": "id_number", "reason": "核对政审材料"})),
                Some(&c.sec),
            )
            .await;
        unavailable("reveal", st, &v);
        // An import.
        let (st, v) = crate::import::upload(
            &app,
            &c.staff,
            crate::import::fixture("people-2026.xlsx"),
            crate::import::XLSX,
            false,
        )
        .await;
        unavailable("import", st, &v);
        // A plain change too: every write is audited in its own transaction.
        let (st, v) = app
            .call("PATCH", &format!("/api/v1/people/{p}"), Some(json!({"phone": "13900139000"})), Some(&c.staff))
            .await;
        unavailable("update", st, &v);

        // Nothing changed.
        assert_eq!(count(&db, "SELECT COUNT(*) FROM users").await, users);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM people").await, people);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM audit_log").await, entries);
        let (st, v) = app.call("GET", &format!("/api/v1/people/{p}"), None, Some(&c.staff)).await;
        assert_eq!(st, StatusCode::OK, "ordinary reads continue: {v}");
        assert_eq!(v["phone"], "138****8000", "the refused update left the phone as it was");
        let (st, v) = app.call("GET", "/api/v1/people", None, Some(&c.sec)).await;
        assert_eq!(st, StatusCode::OK, "lists continue: {v}");

        // The alarm: counted in /metrics, shown on the status page at once.
        assert!(ev::write_failures().total >= failures_before + 5);
        let metrics = ops::status::render_metrics(&ops::Metrics::default(), &ops::Ops::default(), &db).await;
        let line = metrics.lines().find(|l| l.starts_with("dangjian_audit_write_failures_total ")).unwrap();
        assert!(line.split(' ').nth(1).unwrap().parse::<u64>().unwrap() >= 5, "{line}");
        // (Signing in is audited too: the store comes back first.)
        match &db {
            Db::Sqlite(_) => ddl(&db, "DROP TRIGGER audit_log_down").await,
            Db::Postgres(_) => ddl(&db, "DROP TRIGGER audit_log_down ON audit_log").await,
        }
        let admin_cookie = app.web_login("admin", ADMIN_PW).await;
        let (st, html) = app.page("/admin/status", &admin_cookie).await;
        assert_eq!(st, StatusCode::OK);
        assert!(html.contains("写入失败") && html.contains("正被拒绝"), "{html}");

        // Back: the export works again.
        let (st, _) =
            app.call("GET", &format!("/api/v1/people/export?org_id={}&format=csv", c.econ), None, Some(&c.staff)).await;
        assert_eq!(st, StatusCode::OK);
        app
    })
    .await;
}

#[tokio::test]
async fn on_postgresql_the_application_role_archives_only_through_the_release_function() {
    use std::str::FromStr;

    use sqlx::postgres::PgConnectOptions;

    let app = TestApp::new(kernel::Backend::Postgres).await;
    let db = app.platform.db.clone();
    aged_log(&db, &[400, 400, 10]).await;
    let schema = app.pg_schema.clone().unwrap();
    let role = format!("{schema}_app");
    exec(&db, &format!("CREATE ROLE {role} LOGIN")).await.unwrap();
    for stmt in audit::pg_app_role_sql(&schema, &role).unwrap().split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let stmt: String = stmt.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
        exec(&db, &stmt).await.unwrap();
    }
    let opts =
        PgConnectOptions::from_str(&pg_url()).unwrap().username(&role).options([("search_path", schema.as_str())]);
    let as_app = Db::connect_postgres(opts).await.unwrap();
    for sql in [
        "DELETE FROM audit_log WHERE seq = 1",
        "DELETE FROM audit_checkpoints",
        "UPDATE audit_checkpoints SET entries = 0",
        "TRUNCATE audit_checkpoints",
    ] {
        let err = exec(&as_app, sql).await.unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // Without a checkpoint, or for a young entry, the release function (owner's rights) takes nothing.
    let err = exec(&as_app, "SELECT audit_log_release(1)").await.unwrap_err();
    assert!(err.contains("append-only"), "{err}");
    let keys = KeyRing::for_tests();
    let r =
        ev::archive(&as_app, &keys, &app.dir.join("archive"), 365, OffsetDateTime::now_utc()).await.unwrap().unwrap();
    assert_eq!((r.first_seq, r.last_seq), (1, 2));
    assert!(matches!(audit::verify(&as_app).await.unwrap(), Verdict::Intact { .. }));
    let err = exec(&as_app, "SELECT audit_log_release(3)").await.unwrap_err();
    assert!(err.contains("append-only"), "a 10-day-old entry stays: {err}");
    assert_eq!(audit::for_target(&as_app, "fixture:10", 5).await.unwrap().len(), 1);
    as_app.close().await;
    exec(&db, &format!("DROP OWNED BY {role}")).await.unwrap();
    app.cleanup().await;
    let admin = Db::connect_postgres(PgConnectOptions::from_str(&pg_url()).unwrap()).await.unwrap();
    exec(&admin, &format!("DROP ROLE {role}")).await.unwrap();
    admin.close().await;
}

/// AT-26 "archive restore works": an archive's entries come back into the database, where the audit
/// administrator's search finds them beside the online ones; only the very file a signed checkpoint recorded
/// is taken (an edited copy, or a sound file under another name, is refused with nothing written); a second
/// restore copies nothing; the restored copy is as append-only as the log; the restore is audited.
#[tokio::test]
async fn an_archive_is_restored_into_the_database_and_found_by_the_search() {
    on_both(|app| async move {
        let db = app.platform.db.clone();
        let keys = KeyRing::for_tests();
        let key = keys.audit_seal_key();
        aged_log(&db, &[400, 400, 400, 179]).await;
        let dir = app.dir.join("archive").join("audit");
        let archived = ev::archive(&db, &keys, &dir, 365, OffsetDateTime::now_utc()).await.unwrap().unwrap();
        let by_target = ev::Filter { target: Some("fixture:400".into()), ..ev::Filter::default() };
        assert!(audit::search(&db, &by_target, None, 100).await.unwrap().is_empty(), "archived: gone from the database");

        // Refused, nothing written: an edited copy, a sound copy under another name, the wrong key.
        let text = std::fs::read_to_string(&archived.file).unwrap();
        let edited = app.dir.join("audit-0000000001-0000000003.jsonl");
        std::fs::write(&edited, text.replacen("\"fixture:400\"", "\"fixture:401\"", 1)).unwrap();
        let err = ev::restore(&db, &edited, &key).await.unwrap_err().to_string();
        assert!(err.contains("does not verify at entry 1"), "{err}");
        let renamed = app.dir.join("other-name.jsonl");
        std::fs::write(&renamed, &text).unwrap();
        let err = ev::restore(&db, &renamed, &key).await.unwrap_err().to_string();
        assert!(err.contains("no signed archive checkpoint"), "{err}");
        assert!(ev::restore(&db, &archived.file, &[7u8; 32]).await.is_err(), "another key file");
        let restored_rows = |db: Db| async move {
            let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_restored";
            let n: i64 = match &db {
                Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
                Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            };
            n
        };
        assert_eq!(restored_rows(db.clone()).await, 0);

        // The sealed file itself: its three entries come back, found by the search with the online ones.
        let r = ev::restore(&db, &archived.file, &key).await.unwrap();
        assert_eq!((r.first_seq, r.through_seq, r.restored, r.already), (1, 3, 3, 0));
        assert_eq!(r.file, "audit-0000000001-0000000003.jsonl");
        let found = audit::search(&db, &by_target, None, 100).await.unwrap();
        assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 2, 1]);
        let original = ev::search_file(&archived.file, &by_target).unwrap();
        assert_eq!(found.iter().rev().map(|e| (&e.hash, &e.prev_hash, e.at)).collect::<Vec<_>>(),
            original.iter().map(|e| (&e.hash, &e.prev_hash, e.at)).collect::<Vec<_>>(), "restored exactly");
        let kinds = ev::Filter { target: Some("fixture:".into()), ..ev::Filter::default() };
        let both: Vec<i64> = audit::search(&db, &kinds, None, 100).await.unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(both, vec![4, 3, 2, 1], "online and restored, newest first");
        assert_eq!(audit::search(&db, &kinds, Some(3), 100).await.unwrap().len(), 2, "paging crosses into them");
        // On the audit administrator's page, marked as archived.
        let t = tree(&app).await;
        let body = json!({"username": "auditor", "password": USER_PW, "display_name": "审计员", "grants": [{"role": "audit_admin", "org_id": null}]});
        app.post_ok("/api/v1/users", body, &t.admin).await;
        let auditor = app.web_login("auditor", USER_PW).await;
        let (st, page) = app.page("/audit?target=fixture%3A", &auditor).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(page.matches("<span class=\"pill\">已归档</span>").count(), 3, "{page}");
        assert_eq!(page.matches("<td data-label=\"序号\">").count(), 4);

        // Again: nothing copied twice. The copy cannot be edited; the log still verifies; both restores audited.
        let again = ev::restore(&db, &archived.file, &key).await.unwrap();
        assert_eq!((again.restored, again.already), (0, 3));
        assert!(exec(&db, "UPDATE audit_restored SET actor = 'x'").await.is_err());
        assert!(exec(&db, "DELETE FROM audit_restored").await.is_err());
        assert!(matches!(audit::verify(&db).await.unwrap(), Verdict::Intact { .. }));
        let audited = audit::search(&db, &ev::Filter { action: Some("audit.restore".into()), ..ev::Filter::default() }, None, 10)
            .await
            .unwrap();
        assert_eq!(audited.len(), 2);
        assert!(audited[1].detail.contains("restored:3 already:0"), "{:?}", audited[1]);
        app
    })
    .await;
}
