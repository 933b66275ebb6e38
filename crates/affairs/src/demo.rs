//! Transfers and member statuses for the demo university (`dangjian demo`), made through the services as the
//! system (org staff of the whole tree), so head counts, letters, history and audit are what real use leaves:
//!
//! * within the university, from the demo `secretary`'s branch to `secretary2`'s (another college): one
//!   pending (both sides see it), one accepted (the person moved), one returned with its reason, one withdrawn;
//! * out of the university: a letter still valid, one expired (reissue possible), one expired beyond the
//!   6-month reissue window, one whose receipt came back (the person 已转出), one withdrawn;
//! * in: an incoming letter recorded and the person placed;
//! * statuses: a mobile member six months at a fixed place, a member studying abroad for more than five
//!   years, one lost for more than six months, one suspended by the branch, a graduate kept beyond two years.
//!
//! The platform's demo cannot know of this crate (dependencies flow one way), so the server calls it after
//! `platform::demo::generate`.

use kernel::dates::{add_months, iso};
use platform::model::{Org, OrgKind};
use platform::service::system_actor;
use platform::{Ctx, Platform};
use serde_json::json;
use time::{Date, Duration};

use crate::model::transfer::*;
use crate::service::{MemberStatus, Result, Transfers};
use crate::store::transfer as store;

/// What the demo added.
#[derive(Debug, Default)]
pub struct Report {
    pub transfers: u64,
    pub statuses: u64,
}

fn days(d: Date, n: i64) -> String {
    iso(d - Duration::days(n))
}

/// Adds the demo transfers and statuses; does nothing when the database already holds a transfer.
pub async fn generate(p: &Platform, today: Date) -> Result<Report> {
    let db = &p.db;
    let mut report = Report::default();
    if store::any_transfer(db).await? {
        return Ok(report);
    }
    let actor = system_actor();
    let ctx = Ctx { request_id: "demo".into(), ip: "-".into(), ..Ctx::default() };
    let branches: Vec<Org> = platform::store::search_orgs(db, "/", "0", "", true, 60)
        .await?
        .into_iter()
        .map(Org::from_row)
        .filter(|o| o.kind == OrgKind::Branch)
        .collect();
    let sec = store::demo_grant_org(db, "secretary").await?;
    let sec2 = store::demo_grant_org(db, "secretary2").await?;
    let (Some(a), Some(b)) = (sec.or(branches.first().map(|o| o.id)), sec2.or(branches.get(1).map(|o| o.id))) else {
        return Ok(report);
    };
    // Each side starts with its own branch's members and, a demo branch being small, borrows from the other
    // branches (never from the other side's branch).
    let mut pool_a = store::demo_members(db, a, 40).await?;
    let mut pool_b = store::demo_members(db, b, 40).await?;
    for (i, o) in branches.iter().filter(|o| o.id != a && o.id != b).enumerate() {
        let more = store::demo_members(db, o.id, 10).await?;
        if i % 2 == 0 { pool_a.extend(more) } else { pool_b.extend(more) }
    }
    let mut from_a = pool_a.into_iter();
    let mut from_b = pool_b.into_iter();
    let t = Transfers::new(p);
    let s = MemberStatus::new(p);
    let internal = |pid: i64, to: i64, reason: &str, ago: i64| TransferInput {
        kind: Some("internal".into()),
        person_id: Some(pid),
        to_org_id: Some(to),
        reason: Some(reason.into()),
        initiated_on: Some(days(today, ago)),
        ..TransferInput::default()
    };
    let out = |pid: i64, to: &str, reason: &str, ago: i64| TransferInput {
        kind: Some("out".into()),
        person_id: Some(pid),
        external_org: Some(to.into()),
        reason: Some(reason.into()),
        initiated_on: Some(days(today, ago)),
        valid_days: Some(30),
        fee_paid_through: Some(iso(add_months(today - Duration::days(ago), -1))[..7].to_string()),
        ..TransferInput::default()
    };
    let decision = |reason: Option<&str>, ago: i64| DecisionInput {
        reason: reason.map(str::to_string),
        on: Some(days(today, ago)),
    };

    // Within the university, from branch A to branch B (another college): each state once.
    if let Some(pid) = from_a.next() {
        t.initiate(&ctx, &actor, &internal(pid, b, "调整专业方向，转入新导师所在学院", 3)).await?;
        report.transfers += 1;
    }
    if let Some(pid) = from_a.next() {
        let x = t.initiate(&ctx, &actor, &internal(pid, b, "转专业后编入新学院党支部", 40)).await?;
        t.accept(&ctx, &actor, x.id, &decision(None, 35)).await?;
        report.transfers += 1;
    }
    if let Some(pid) = from_b.next() {
        let x = t.initiate(&ctx, &actor, &internal(pid, a, "参加联合培养项目", 20)).await?;
        t.send_back(&ctx, &actor, x.id, &decision(Some("该同志联合培养期间仍由原学院管理，请核实后重新发起"), 18))
            .await?;
        report.transfers += 1;
    }
    if let Some(pid) = from_b.next() {
        let x = t.initiate(&ctx, &actor, &internal(pid, a, "拟调整所在党支部", 15)).await?;
        t.cancel(&ctx, &actor, x.id, &decision(Some("本人暂缓调整"), 14)).await?;
        report.transfers += 1;
    }

    // Out of the university.
    let cases = [
        (10, "中共杭州市西湖区委员会组织部", "毕业后到杭州市西湖区工作"),
        (50, "中共宁波市鄞州区委员会组织部", "毕业后到宁波市工作"),
        (240, "中共温州市鹿城区委员会组织部", "毕业后回原籍工作"),
    ];
    for (ago, to, why) in cases {
        if let Some(pid) = from_a.next() {
            t.initiate(&ctx, &actor, &out(pid, to, why, ago)).await?;
            report.transfers += 1;
        }
    }
    if let Some(pid) = from_a.next() {
        let x = t.initiate(&ctx, &actor, &out(pid, "中共上海市徐汇区委员会组织部", "到上海市工作", 60)).await?;
        t.receipt(
            &ctx,
            &actor,
            x.id,
            &ReceiptInput { received_on: Some(days(today, 45)), note: Some("回执已寄回".into()) },
        )
        .await?;
        report.transfers += 1;
    }
    if let Some(pid) = from_a.next() {
        let x = t.initiate(&ctx, &actor, &out(pid, "中共嘉兴市南湖区委员会组织部", "拟到嘉兴市工作", 30)).await?;
        t.cancel(&ctx, &actor, x.id, &decision(Some("本人改为继续深造，组织关系不再转出"), 25)).await?;
        report.transfers += 1;
    }

    // In: a member arriving with a letter from another university.
    let birth = "20010315";
    let body = format!("330106{birth}218");
    let idn = platform::rules::check_char(body.as_bytes()).map(|c| format!("{body}{c}"));
    if let Some(idn) = idn {
        let person: platform::rules::PersonInput = serde_json::from_value(json!({
            "name": "沈若溪", "gender": "female", "birth_date": "2001-03-15", "id_number": idn,
            "org_id": b, "stage": "full", "category": "student", "ethnicity": "汉族",
            "admitted_on": "2021-06-01", "converted_on": "2022-06-01", "applied_on": "2019-10-08",
            "activist_on": "2020-03-01", "candidate_on": "2021-03-01"
        }))
        .unwrap_or_default();
        let incoming = IncomingInput {
            from_org: Some("中共某某师范大学委员会组织部".into()),
            letter_number: Some(format!("{}-0087", today.year())),
            issued_on: Some(days(today, 12)),
            valid_days: Some(30),
            presented_on: Some(days(today, 5)),
            fee_paid_through: Some(iso(add_months(today, -1))[..7].to_string()),
            reason: Some("考取本校研究生".into()),
            note: None,
            person: Some(person),
        };
        if t.incoming(&ctx, &actor, &incoming).await.is_ok() {
            report.transfers += 1;
        }
    }

    // Statuses in branch B.
    let change = |status: &str, ago: i64, reason: &str, place: Option<&str>, decided: Option<&str>| StatusInput {
        status: Some(status.into()),
        effective_on: Some(days(today, ago)),
        reason: Some(reason.into()),
        place: place.map(str::to_string),
        fixed_place: Some(true),
        decided_by: decided.map(str::to_string),
        ..StatusInput::default()
    };
    let statuses = [
        change("floating", 200, "在上海市某研究所长期实习", Some("上海市"), None),
        change("abroad", 365 * 5 + 30, "赴英国攻读博士学位", Some("英国"), None),
        change("lost_contact", 230, "多次电话、微信联系未果", None, None),
    ];
    for input in statuses {
        if let Some(pid) = from_b.next() {
            s.change(&ctx, &actor, pid, &input).await?;
            report.statuses += 1;
        }
    }
    if let Some(pid) = from_b.next() {
        s.change(&ctx, &actor, pid, &change("lost_contact", 400, "毕业后失去联系", None, None)).await?;
        s.change(
            &ctx,
            &actor,
            pid,
            &change(
                "suspended",
                200,
                "失去联系超过6个月，经多方查找仍无法取得联系",
                None,
                Some("支部党员大会研究决定"),
            ),
        )
        .await?;
        report.statuses += 1;
    }
    if let Some(pid) = from_b.next() {
        let input = RetentionInput {
            on: Some(iso(add_months(today, -25))),
            reason: Some("毕业后暂未落实工作单位，本人申请组织关系保留在学校".into()),
        };
        s.retain(&ctx, &actor, pid, &input).await?;
        report.statuses += 1;
    }
    Ok(report)
}
