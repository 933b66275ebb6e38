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
    /// Members given a fee profile, and payments-ledger entries.
    pub fee_profiles: u64,
    pub fee_payments: u64,
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
    // Dues: the two secretaries' branches first, then a few more.
    let fee_branches: Vec<i64> =
        [a, b].into_iter().chain(branches.iter().map(|o| o.id).filter(|id| *id != a && *id != b)).take(6).collect();
    fees(p, &ctx, &actor, &fee_branches, today, &mut report).await?;
    Ok(report)
}

/// Dues, as the demo makes them, for the members of `branches` (at most 30 each) when the database holds no
/// fee profile yet: the province benchmark gives one college a ledger to read (issue 3).
pub async fn fees_for(p: &Platform, branches: &[i64], today: Date) -> Result<Report> {
    let mut report = Report::default();
    let ctx = Ctx { request_id: "demo".into(), ip: "-".into(), ..Ctx::default() };
    fees(p, &ctx, &system_actor(), branches, today, &mut report).await?;
    Ok(report)
}

/// Dues for the members of the demo secretaries' branches and a few more (at most 30 each): a fee profile from January of last
/// year (or the month of admission), payments quarter by quarter, online ones with a transaction number; one
/// member six months behind (FEE-08 flag), one two months behind, a 1500-yuan one-off (大额党费), a raise under
/// FEE-07's yearly lock, an exemption approved by the college committee and one still waiting for approval.
async fn fees(
    p: &Platform,
    ctx: &Ctx,
    actor: &platform::Actor,
    branches: &[i64],
    today: Date,
    report: &mut Report,
) -> Result<()> {
    use crate::model::fee::{PaymentInput, ProfileInput, ReductionInput};
    use crate::rules::YearMonth;
    use crate::store::fee as fee_store;
    let db = &p.db;
    if fee_store::any_profile(db).await? {
        return Ok(());
    }
    let f = crate::service::Fees::new(p);
    let this_month = YearMonth::of(today);
    let Some(start) = YearMonth::new(today.year() - 1, 1) else { return Ok(()) };
    let mut i = 0usize;
    for branch in branches {
        let Some(org) = platform::store::get_org(db, *branch).await? else { continue };
        let members = fee_store::members(db, &org.path, &platform::model::subtree_end(&org.path), 30).await?;
        for m in members {
            i += 1;
            let first = m.admitted_on.map(YearMonth::of).map_or(start, |a| a.max(start));
            let (category, base) = match m.category.as_str() {
                "student" => ("student", None),
                "retired" => ("retiree", Some(format!("{}.00", 4200 + (i * 391) % 2500))),
                _ => ("employed", Some(format!("{}.00", 3500 + (i * 737) % 9000))),
            };
            let profile = ProfileInput {
                category: Some(category.into()),
                effective_from: Some(first.to_string()),
                monthly_base: base.clone(),
                ..ProfileInput::default()
            };
            if f.set_profile(ctx, actor, m.id, &profile).await.is_err() {
                continue;
            }
            report.fee_profiles += 1;
            if category == "employed" && i.is_multiple_of(4) {
                // A raise from July of last year: under the yearly lock it applies from January.
                let raise = ProfileInput {
                    category: Some("employed".into()),
                    effective_from: YearMonth::new(today.year() - 1, 7).map(|m| m.to_string()),
                    monthly_base: Some(format!("{}.00", 11_000 + i * 10)),
                    ..ProfileInput::default()
                };
                f.set_profile(ctx, actor, m.id, &raise).await?;
            }
            // How far she has paid: most up to last month, one member 7 months behind, one 2 behind.
            let behind = match i % 9 {
                3 => 7,
                6 => 2,
                _ => 1,
            };
            let Some(last) = this_month.plus(-behind) else { continue };
            let mut from = first;
            let mut n = 0;
            while from <= last {
                let to = from.plus(2).map_or(last, |t| t.min(last));
                let Some(due_day) = to.plus(1).and_then(YearMonth::first_day) else { break };
                let paid_on = (due_day + time::Duration::days(((i + n) % 20) as i64)).min(today);
                let months = from.months_until(to) + 1;
                let account_due = f.facts(&[(m.id, m.admitted_on)]).await?.remove(&m.id).unwrap_or_default();
                let amount: i64 = (0..months)
                    .filter_map(|k| from.plus(k))
                    .filter_map(|month| account_due.dues(month).and_then(|d| d.ok()).map(|d| d.amount))
                    .sum();
                let online = (i + n).is_multiple_of(3);
                let input = PaymentInput {
                    from_month: Some(from.to_string()),
                    to_month: Some(to.to_string()),
                    amount: Some(crate::rules::fee::format_yuan(amount)),
                    paid_on: Some(iso(paid_on)),
                    method: Some(
                        if online {
                            "online"
                        } else if n % 2 == 0 {
                            "cash"
                        } else {
                            "transfer"
                        }
                        .into(),
                    ),
                    // A separator keeps the number from running into the next field's digits in the database
                    // file, where the plaintext-ID-number scan of the key tests would take 18 digits for one.
                    payment_id: online
                        .then(|| format!("WX{}-{:06}", iso(paid_on).replace('-', ""), m.id * 100 + n as i64)),
                    ..PaymentInput::default()
                };
                if f.pay(ctx, actor, m.id, &input).await.is_ok() {
                    report.fee_payments += 1;
                }
                n += 1;
                let Some(next) = to.plus(1) else { break };
                from = next;
            }
            if i == 5 {
                let large = PaymentInput {
                    kind: Some("voluntary".into()),
                    amount: Some("1500.00".into()),
                    method: Some("transfer".into()),
                    note: Some("自愿一次性交纳".into()),
                    ..PaymentInput::default()
                };
                if f.pay(ctx, actor, m.id, &large).await.is_ok() {
                    report.fee_payments += 1;
                }
            }
            if i == 8 || i == 11 {
                let exempt = ReductionInput {
                    kind: Some("exempt".into()),
                    from_month: this_month.plus(1).map(|m| m.to_string()),
                    to_month: this_month.plus(6).map(|m| m.to_string()),
                    reason: Some("家庭遭遇重大变故，生活确有困难".into()),
                    branch_decision: Some("支部委员会会议研究同意".into()),
                    branch_decided_on: Some(days(today, 10)),
                    approved_by: (i == 8).then(|| "学院党委".to_string()),
                    approved_on: (i == 8).then(|| days(today, 3)),
                    ..ReductionInput::default()
                };
                f.reduce(ctx, actor, m.id, &exempt).await?;
            }
        }
    }
    Ok(())
}
