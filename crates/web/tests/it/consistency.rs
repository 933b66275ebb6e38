//! List/detail consistency (security.md AT-10), as a property over generated registers: for every role,
//! every list the API returns — everything, any subtree, any stage, any page size, walked by cursor — holds
//! exactly the people whose single record the same caller may open, and search finds nothing else; the
//! register export of every subtree holds exactly those people, and the learning search (`/api/v1/search`)
//! finds exactly the people and the materials the same caller may open one by one.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use kernel::rng::Rng;
use serde_json::{Value, json};

use crate::support::*;

const STAGES: [&str; 5] = ["applicant", "activist", "candidate", "probationary", "full"];

/// Every id of a list, walking `next_cursor`; `None` when the list is refused.
async fn walk(app: &TestApp, token: &str, query: &str, per_page: i64) -> Option<BTreeSet<i64>> {
    let mut ids = BTreeSet::new();
    let mut cursor = String::new();
    for _ in 0..200 {
        let url = format!("/api/v1/people?per_page={per_page}{query}{cursor}");
        let (st, v) = app.call("GET", &url, None, Some(token)).await;
        if st == StatusCode::NOT_FOUND {
            return None;
        }
        assert_eq!(st, StatusCode::OK, "{url}: {v}");
        for p in v["items"].as_array().unwrap() {
            assert!(ids.insert(p["id"].as_i64().unwrap()), "{url}: an id twice across pages");
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={}", web::auth::encode(c)),
            None => return Some(ids),
        }
    }
    panic!("{query}: more than 200 pages");
}

/// The names in a register export (CSV) of `org_id`'s subtree; `None` when the export is refused (404).
async fn exported_names(app: &TestApp, token: &str, org_id: i64) -> Option<BTreeSet<String>> {
    let req = axum::http::Request::builder()
        .uri(format!("/api/v1/people/export?org_id={org_id}&format=csv"))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (st, _, text) = app.request(req).await;
    if st == StatusCode::NOT_FOUND {
        return None;
    }
    assert_eq!(st, StatusCode::OK, "export of org {org_id}: {text}");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| h.trim_matches('"') == "姓名").unwrap();
    Some(
        lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split(',').nth(at).unwrap().trim_matches('"').to_string())
            .collect(),
    )
}

/// The ids of one kind (`person`, `material`) the learning search finds for `q`.
async fn searched(app: &TestApp, token: &str, q: &str, kind: &str) -> BTreeSet<i64> {
    let (st, v) = app.call("GET", &format!("/api/v1/search?q={}", web::auth::encode(q)), None, Some(token)).await;
    assert_eq!(st, StatusCode::OK, "search {q}: {v}");
    v["results"].as_array().unwrap().iter().filter(|r| r["type"] == kind).map(|r| r["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn every_list_holds_exactly_what_the_single_record_check_allows() {
    for seed in [7_u64, 2026] {
        let app = TestApp::new(kernel::Backend::Sqlite).await;
        let mut rng = Rng::new(seed);
        let t = tree(&app).await;
        let org = |name: &str, kind: &str, parent: i64, category: &str| json!({"name": name, "kind": kind, "parent_id": parent, "category": category});
        let ba2 = app
            .post_ok("/api/v1/orgs", org("艺术设计学院学生第二党支部", "branch", t.ca, "student"), &t.admin)
            .await["id"]
            .as_i64()
            .unwrap();
        let ga = app.post_ok("/api/v1/orgs", org("第一党小组", "group", t.ba, "student"), &t.admin).await["id"]
            .as_i64()
            .unwrap();
        // Where each organization sits: its ancestors, itself included.
        let lineage: BTreeMap<i64, Vec<i64>> = BTreeMap::from([
            (t.uni, vec![t.uni]),
            (t.ca, vec![t.uni, t.ca]),
            (t.cb, vec![t.uni, t.cb]),
            (t.ba, vec![t.uni, t.ca, t.ba]),
            (ba2, vec![t.uni, t.ca, ba2]),
            (ga, vec![t.uni, t.ca, t.ba, ga]),
            (t.bb, vec![t.uni, t.cb, t.bb]),
        ]);
        let holders = [t.ba, ba2, ga, t.bb];
        let mut people: BTreeMap<i64, (i64, &str, String)> = BTreeMap::new();
        for i in 0..(18 + rng.below(10)) {
            let at = *rng.pick(&holders).unwrap();
            let stage = *rng.pick(&STAGES).unwrap();
            let name = format!("成员{i:02}号");
            let mut body = person(&name, at, &id_number("19990101", &format!("{:03}", 100 + i)), "1999-01-01");
            body["stage"] = json!(stage);
            let id = app.post_ok("/api/v1/people", body, &t.staff).await["id"].as_i64().unwrap();
            people.insert(id, (at, stage, name));
        }
        let member_of = *people.keys().next().unwrap();
        let user = |name: &str, grants: Value, person: Option<i64>| json!({"username": name, "password": USER_PW, "display_name": name, "person_id": person, "grants": grants});
        for (name, grants, person) in [
            ("staff_a", json!([{"role": "org_staff", "org_id": t.ca}]), None),
            ("sec_ba2", json!([{"role": "branch_secretary", "org_id": ba2}]), None),
            ("leader_b", json!([{"role": "leader", "org_id": t.cb}]), None),
            (
                "two_hats",
                json!([{"role": "branch_secretary", "org_id": t.bb}, {"role": "leader", "org_id": ba2}]),
                None,
            ),
            ("member", json!([]), Some(member_of)),
        ] {
            app.post_ok("/api/v1/users", user(name, grants, person), &t.admin).await;
        }
        let mut callers = vec![("staff", t.staff.clone()), ("sec_a", t.sec_a.clone()), ("admin", t.admin.clone())];
        for name in ["staff_a", "sec_ba2", "leader_b", "two_hats", "member"] {
            callers.push((name, app.login(name, USER_PW).await));
        }

        // Learning materials published by callers of different reach (each to its default audience).
        let mut materials = Vec::new();
        for (i, (who, token)) in callers.iter().enumerate() {
            let body = json!({"title": format!("学习材料{i}号"), "body": "学习材料：党章学习。", "kind": "article"});
            let (st, v) = app.call("POST", "/api/v1/learning/materials", Some(body), Some(token)).await;
            if st == StatusCode::CREATED {
                materials.push(v["id"].as_i64().unwrap());
            } else {
                assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{who} publishes: {st} {v}");
            }
        }
        assert!(materials.len() >= 3, "materials of several audiences: {materials:?}");

        for (who, token) in &callers {
            let mut may_open = BTreeSet::new();
            for id in people.keys() {
                let (st, _) = app.call("GET", &format!("/api/v1/people/{id}"), None, Some(token)).await;
                assert!(st == StatusCode::OK || st == StatusCode::NOT_FOUND, "{who} {id}: {st}");
                if st == StatusCode::OK {
                    may_open.insert(*id);
                }
            }
            match *who {
                "staff" => assert_eq!(may_open.len(), people.len(), "the university's staff opens everyone"),
                "admin" => assert!(may_open.is_empty(), "三员分立: the system administrator opens no record"),
                "member" => assert_eq!(may_open, BTreeSet::from([member_of]), "a member opens her own record"),
                _ => {}
            }
            let per_page = 1 + rng.below(7) as i64;
            let keeps_register = match walk(&app, token, "", per_page).await {
                Some(all) => {
                    assert_eq!(all, may_open, "{who}: the whole list (per_page {per_page})");
                    true
                }
                None => {
                    assert!(may_open.len() <= 1, "{who}: no list, at most her own record");
                    false
                }
            };
            for org_id in lineage.keys() {
                let inside: BTreeSet<i64> =
                    may_open.iter().copied().filter(|id| lineage[&people[id].0].contains(org_id)).collect();
                match walk(&app, token, &format!("&org_id={org_id}"), per_page).await {
                    Some(got) => assert_eq!(got, inside, "{who}: the subtree of org {org_id}"),
                    None => assert!(
                        inside.is_empty() || may_open.len() <= 1,
                        "{who}: org {org_id} refused but holds {inside:?}"
                    ),
                }
            }
            let stage = *rng.pick(&STAGES).unwrap();
            if let Some(got) = walk(&app, token, &format!("&stage={stage}"), per_page).await {
                let want: BTreeSet<i64> = may_open.iter().copied().filter(|id| people[id].1 == stage).collect();
                assert_eq!(got, want, "{who}: stage {stage}");
            }
            // Search by a name part finds nothing the caller could not open.
            if let Some(got) = walk(&app, token, &format!("&q={}", web::auth::encode("成员")), per_page).await {
                assert_eq!(got, may_open, "{who}: search");
            }
            // The register export of every subtree holds exactly the people of that subtree she may open.
            for org_id in lineage.keys() {
                let inside: BTreeSet<String> = may_open
                    .iter()
                    .filter(|id| lineage[&people[id].0].contains(org_id))
                    .map(|id| people[id].2.clone())
                    .collect();
                match exported_names(&app, token, *org_id).await {
                    Some(got) => assert_eq!(got, inside, "{who}: export of org {org_id}"),
                    // A member opens her own record but keeps no register: no export, like no list.
                    None => assert!(
                        inside.is_empty() || may_open.len() <= 1,
                        "{who}: export of org {org_id} refused but holds {inside:?}"
                    ),
                }
            }
            // The learning search finds a person exactly when her record opens (for those who keep a
            // register: a member finds no one, not even herself, as she has no list)…
            for (id, (_, _, name)) in &people {
                let want =
                    if keeps_register && may_open.contains(id) { BTreeSet::from([*id]) } else { BTreeSet::new() };
                assert_eq!(searched(&app, token, name, "person").await, want, "{who}: search {name}");
            }
            // …and a material exactly when it opens.
            let mut may_read = BTreeSet::new();
            for m in &materials {
                let (st, _) = app.call("GET", &format!("/api/v1/learning/materials/{m}"), None, Some(token)).await;
                assert!(st == StatusCode::OK || st == StatusCode::NOT_FOUND, "{who} material {m}: {st}");
                if st == StatusCode::OK {
                    may_read.insert(*m);
                }
            }
            assert_eq!(searched(&app, token, "学习材料", "material").await, may_read, "{who}: material search");
        }
        app.cleanup().await;
    }
}
