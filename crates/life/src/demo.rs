//! Meetings for the demo university (`dangjian demo`): from January of last year to today, each branch holds
//! its 支委会 and 主题党日 monthly, its 支部党员大会 and 党课 quarterly, a 组织生活会 in December and talks with its
//! members — with a few deterministic gaps, so the compliance calendar has something to show — and one
//! 主题党日 planned next week, and in the three oldest branches a recurring plan (the last Friday of each of the
//! next six months). Attendance is taken for every held meeting. Then a few notices (通知公告) with
//! part of their receipts, each branch's committee term (some due within six months, one overdue), and member
//! services in the first branches (proofs waiting, being handled and completed with a certificate; volunteer hours). The platform's demo cannot know of this crate (dependencies flow one way), so the
//! server calls it after `platform::demo::generate`.

use kernel::rng::Rng;
use platform::Platform;
use platform::model::{Org, OrgKind, subtree_end};
use security::audit::{self, Event};
use time::{Date, Duration, OffsetDateTime};

use crate::model::{Attendance, MeetingKind, MeetingStatus};
use crate::service::Result;
use crate::store::{self, MeetingWrite};

/// Branches that get meetings (a university has a few hundred; a province's demo gets them in its first ones).
pub const BRANCHES_MAX: i64 = 400;

const REASONS: &[&str] = &["外出实习", "参加学术会议", "病假", "公差", "家中有事"];

const THEMES: &[&str] = &[
    "学习贯彻党的二十届四中全会精神",
    "重温入党誓词",
    "参观革命纪念馆",
    "志愿服务进社区",
    "学习《中国共产党支部工作条例（试行）》",
    "党史学习分享会",
];

fn ymd(year: i32, month: u8, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// Adds the demo meetings; returns how many. Does nothing (0) when the database already holds meetings.
pub async fn generate(p: &Platform, seed: u64, today: Date) -> Result<u64> {
    let db = &p.db;
    if store::any_meeting(db).await? {
        return Ok(0);
    }
    let mut rng = Rng::new(seed ^ 0x11fe);
    let branches: Vec<Org> = platform::store::search_orgs(db, "/", "0", "", true, BRANCHES_MAX)
        .await?
        .into_iter()
        .map(Org::from_row)
        .filter(|o| o.kind == OrgKind::Branch)
        .collect();
    let now = OffsetDateTime::now_utc();
    let mut made = 0u64;
    for branch in &branches {
        let end = subtree_end(&branch.path);
        let members: Vec<i64> = store::members(db, &branch.path, &end).await?.into_iter().map(|m| m.id).collect();
        let committee: Vec<i64> = members.iter().take(3).copied().collect();
        // Theme days, lectures and members' meetings also invite anyone with a demo login (an activist, say).
        let mut everyone = members.clone();
        for id in store::people_with_accounts(db, &branch.path, &end).await? {
            if !everyone.contains(&id) {
                everyone.push(id);
            }
        }
        let mut plan: Vec<(MeetingKind, Date, String, Vec<i64>)> = Vec::new();
        for year in [today.year() - 1, today.year()] {
            for month in 1..=12u8 {
                if let Some(d) = ymd(year, month, 5 + u8::try_from(rng.below(5)).unwrap_or(0))
                    && !rng.chance(0.08)
                {
                    plan.push((
                        MeetingKind::Committee,
                        d,
                        format!("{month}月支委会：研究发展党员和党费收缴"),
                        committee.clone(),
                    ));
                }
                if let Some(d) = ymd(year, month, 18 + u8::try_from(rng.below(6)).unwrap_or(0))
                    && !rng.chance(0.08)
                {
                    let theme = rng.pick(THEMES).copied().unwrap_or("主题党日");
                    plan.push((MeetingKind::ThemeDay, d, format!("{month}月主题党日：{theme}"), everyone.clone()));
                }
                if month % 3 == 0 {
                    let q = month / 3;
                    if let Some(d) = ymd(year, month, 25)
                        && !rng.chance(0.12)
                    {
                        plan.push((MeetingKind::BranchAssembly, d, format!("第{q}季度支部党员大会"), everyone.clone()));
                    }
                    if let Some(d) = ymd(year, month - 1, 15)
                        && !rng.chance(0.2)
                    {
                        plan.push((MeetingKind::PartyLecture, d, format!("第{q}季度党课"), everyone.clone()));
                    }
                }
            }
            if let Some(d) = ymd(year, 12, 16)
                && !rng.chance(0.1)
            {
                plan.push((MeetingKind::LifeMeeting, d, format!("{year}年度组织生活会"), members.clone()));
            }
            if let (Some(first), Some(secretary)) = (ymd(year, 3, 1), members.first()) {
                for (i, m) in members.iter().enumerate().skip(1) {
                    if rng.chance(0.85) {
                        let d =
                            first.checked_add(Duration::days(i64::try_from(i * 7 % 270).unwrap_or(0))).unwrap_or(first);
                        plan.push((MeetingKind::HeartTalk, d, "支部书记与党员谈心谈话".into(), vec![*secretary, *m]));
                    }
                }
            }
        }
        let horizon = today.checked_add(Duration::days(7)).unwrap_or(today);
        plan.push((MeetingKind::ThemeDay, horizon, "下周主题党日：重温入党誓词".into(), everyone.clone()));
        let mut tx = db.begin().await?;
        for (kind, held_on, title, attendees) in plan.into_iter().filter(|(_, d, _, _)| *d <= horizon) {
            let status = if held_on <= today { MeetingStatus::Held } else { MeetingStatus::Planned };
            let w = MeetingWrite {
                org_id: branch.id,
                org_path: &branch.path,
                kind: kind.code(),
                title: &title,
                held_on,
                start_time: Some("14:30"),
                place: Some("党员活动室"),
                online_link: None,
                agenda: None,
                minutes: (status == MeetingStatus::Held).then_some("会议按议程进行，与会同志充分讨论，形成一致意见。"),
                status: status.code(),
                user_id: None,
                now,
                plan_id: None,
            };
            let id = store::insert_meeting(&mut tx, &w).await?;
            for person in attendees {
                store::add_attendee(&mut tx, id, person).await?;
                if status == MeetingStatus::Held {
                    // A talk is recorded once it took place: both sides present.
                    let weights: &[u32] = if kind == MeetingKind::HeartTalk { &[1, 0, 0] } else { &[86, 8, 6] };
                    let (a, reason) = match rng.weighted(weights) {
                        0 => (Attendance::Present, None),
                        1 => (Attendance::Leave, rng.pick(REASONS).copied()),
                        _ => (Attendance::Absent, None),
                    };
                    store::set_attendance(&mut tx, id, person, Some(a.code()), reason, None, now).await?;
                }
            }
            made += 1;
        }
        tx.commit().await?;
    }
    let e = Event {
        actor_id: None,
        actor: "system".into(),
        action: "meeting.demo".into(),
        target: "demo".into(),
        result: "ok".into(),
        request_id: format!("demo-{seed}"),
        ip: "-".into(),
        detail: format!("branches:{} meetings:{made}", branches.len()),
        ..Event::default()
    };
    audit::append_alone(db, e).await?;
    notices(p, &branches, now).await?;
    committees(p, &branches, today, now).await?;
    services(p, &branches, today, now).await?;
    made += plans(p, &branches, today, now).await?;
    Ok(made)
}

/// The demo's recurring plans (定期计划): the three oldest branches (the demo secretary's among them) hold their 主题党日 on the last Friday of
/// every month for the next six months (from next month, after the demo's own meetings), with their members
/// invited, so the meeting list shows a running plan and the plan page its meetings. Returns the meetings.
async fn plans(p: &Platform, branches: &[Org], today: Date, now: OffsetDateTime) -> Result<u64> {
    use crate::plans::model::{Rule, meeting_title};
    use crate::plans::store::{PlanWrite, insert_plan};
    let rule = Rule::Weekday { nth: 5, weekday: time::Weekday::Friday };
    let next_month = kernel::dates::add_months(today, 1);
    let Some(from) = ymd(next_month.year(), u8::from(next_month.month()), 1) else { return Ok(0) };
    let to = kernel::dates::add_months(from, 6).previous_day().unwrap_or(from);
    let days = rule.occurrences(from, to);
    let (title, code) = ("主题党日", rule.code());
    let mut made = 0u64;
    // The oldest three branches (the demo secretary's is the first made).
    let mut oldest: Vec<&Org> = branches.iter().collect();
    oldest.sort_by_key(|b| b.id);
    for branch in oldest.into_iter().take(3) {
        let members: Vec<i64> =
            store::members(&p.db, &branch.path, &subtree_end(&branch.path)).await?.into_iter().map(|m| m.id).collect();
        let mut tx = p.db.begin().await?;
        let plan = PlanWrite {
            org_id: branch.id,
            org_path: &branch.path,
            kind: MeetingKind::ThemeDay.code(),
            title,
            rule: &code,
            start_time: Some("15:00"),
            place: Some("党员活动室"),
            online_link: None,
            agenda: Some("1. 学习上级文件精神\n2. 开展主题活动\n3. 交流发言"),
            starts_on: from,
            ends_on: to,
            user_id: None,
            now,
        };
        let plan_id = insert_plan(&mut tx, &plan).await?;
        for held_on in &days {
            let w = MeetingWrite {
                org_id: branch.id,
                org_path: &branch.path,
                kind: MeetingKind::ThemeDay.code(),
                title: &meeting_title(title, *held_on),
                held_on: *held_on,
                start_time: plan.start_time,
                place: plan.place,
                online_link: None,
                agenda: plan.agenda,
                minutes: None,
                status: MeetingStatus::Planned.code(),
                user_id: None,
                now,
                plan_id: Some(plan_id),
            };
            let id = store::insert_meeting(&mut tx, &w).await?;
            for person in &members {
                store::add_attendee(&mut tx, id, *person).await?;
            }
            made += 1;
        }
        tx.commit().await?;
    }
    Ok(made)
}

/// The demo's committees (委员会与换届): each branch's current term with its secretary and, where the branch has 7
/// or more formal members, a committee of up to 5. Most terms run; the first branch's (the demo secretary's)
/// and every fifth after the third end within six months, the second branch's is overdue — then the reminder
/// job's work is done once, so the calendars show the flags at once.
async fn committees(p: &Platform, branches: &[Org], today: Date, now: OffsetDateTime) -> Result<()> {
    use crate::committees::{model::Post, store as c_store};
    const POSTS: [Post; 5] = [Post::Secretary, Post::Organizing, Post::Publicity, Post::Discipline, Post::Member];
    let db = &p.db;
    // Read before the transaction, which never waits for a second connection.
    let mut members_of = Vec::with_capacity(branches.len());
    for branch in branches {
        members_of.push(store::members(db, &branch.path, &subtree_end(&branch.path)).await?);
    }
    let mut tx = db.begin().await?;
    for ((i, branch), members) in branches.iter().enumerate().zip(members_of) {
        let formal: Vec<i64> = members.iter().filter(|m| m.stage == "full").map(|m| m.id).collect();
        if formal.is_empty() {
            continue;
        }
        let size =
            if crate::rules::committee_required(u32::try_from(formal.len()).unwrap_or(u32::MAX)) { 5 } else { 1 };
        let months_ago = match i {
            0 => 32,
            1 => 38,
            i if i % 5 == 3 => 31,
            i => 6 + i32::try_from(i % 24).unwrap_or(0),
        };
        let elected_on = kernel::dates::add_months(today, -months_ago);
        let write = c_store::TermWrite {
            org_id: branch.id,
            org_path: &branch.path,
            elected_on,
            term_years: i64::from(crate::rules::DEFAULT_TERM_YEARS),
            due_on: crate::rules::term_end(elected_on, crate::rules::DEFAULT_TERM_YEARS),
            election_id: None,
            user_id: None,
            now,
        };
        let (term, _) = c_store::insert_term(&mut tx, &write).await?;
        for (person, post) in formal.iter().zip(POSTS).take(size) {
            c_store::add_member(&mut tx, term, *person, post.code()).await?;
        }
    }
    tx.commit().await?;
    crate::committees::remind(db, today).await?;
    Ok(())
}

/// The demo's member services, in the first branches: a proof waiting for the secretary, one being handled,
/// one completed with its certificate (verifiable at `/verify/certificates/…`), and volunteer hours confirmed
/// and waiting — so the secretary's 党员服务 page and the members' own pages have something to show.
async fn services(p: &Platform, branches: &[Org], today: Date, now: OffsetDateTime) -> Result<()> {
    use crate::services::model::{RequestKind, RequestState};
    use crate::services::{Services, store as sv};
    let db = &p.db;
    if sv::any_request(db).await? {
        return Ok(());
    }
    for branch in branches.iter().take(10) {
        let end = subtree_end(&branch.path);
        let members: Vec<i64> = store::members(db, &branch.path, &end).await?.into_iter().map(|m| m.id).collect();
        // The first four members are the ones used below; read before the branch's transaction, which never
        // waits for a second connection.
        let mut people = std::collections::HashMap::new();
        for id in members.iter().take(4) {
            if let Some(person) = sv::person(db, *id).await? {
                people.insert(*id, person);
            }
        }
        let mut tx = db.begin().await?;
        let secretary = "支部书记";
        // (member, kind, details, states after 已提交, days ago)
        let requests: [(usize, RequestKind, &str, &[RequestState], i64); 3] = [
            (1, RequestKind::MembershipProof, "办理出国（境）交流手续需要党员身份证明。", &[], 1),
            (2, RequestKind::RelationProof, "应聘单位要求提供组织关系所在证明。", &[RequestState::Accepted], 4),
            (
                3,
                RequestKind::MembershipProof,
                "报考选调生需要党员身份证明。",
                &[RequestState::Accepted, RequestState::Completed],
                20,
            ),
        ];
        for (i, kind, details, states, days) in requests {
            let Some(person) = members.get(i) else { continue };
            let Some(person) = people.get(person).cloned() else { continue };
            let at = now - Duration::days(days);
            let w = sv::RequestWrite {
                person_id: person.id,
                org_id: branch.id,
                org_path: &branch.path,
                kind: kind.code(),
                details,
                user_id: None,
                now: at,
            };
            let id = sv::insert_request(&mut tx, &w).await?;
            sv::add_event(&mut tx, id, RequestState::Submitted.code(), None, None, &person.name, at).await?;
            for (version, state) in (1..).zip(states.iter()) {
                let t = at + Duration::hours(20 * version);
                sv::move_request(&mut tx, id, version, state.code(), None, t).await?;
                sv::add_event(&mut tx, id, state.code(), None, None, secretary, t).await?;
                if *state == RequestState::Completed {
                    let issued_on = t.date();
                    let number = Services::new(p).certificate_number(id, issued_on);
                    let gender = platform::model::Gender::parse(&person.gender)
                        .map_or(person.gender.clone(), |g| g.label().to_string());
                    let holder = sv::PersonRow { gender, ..person.clone() };
                    let standing = if person.stage == "full" { "正式党员" } else { "预备党员" };
                    let cert = sv::CertificateWrite {
                        number: &number,
                        request_id: id,
                        person: &holder,
                        kind: kind.code(),
                        standing,
                        org_id: branch.id,
                        org_name: &branch.name,
                        issued_on,
                        user_id: None,
                        now: t,
                    };
                    sv::insert_certificate(&mut tx, &cert).await?;
                }
            }
        }
        // Volunteer hours: three confirmed entries and one waiting for the secretary.
        for (n, (activity, tenths, days, confirmed)) in [
            ("社区垃圾分类宣传", 30, 40, true),
            ("图书馆志愿服务", 20, 25, true),
            ("迎新志愿服务", 45, 12, true),
            ("无偿献血宣传", 25, 3, false),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(person) = members.get(n % members.len().max(1)) else { continue };
            let Some(person) = people.get(person).cloned() else { continue };
            let served_on = today - Duration::days(days);
            let h = sv::HoursWrite {
                person: &person,
                activity,
                served_on,
                hours_tenths: tenths,
                now: now - Duration::days(days),
            };
            let id = sv::insert_hours(&mut tx, &h).await?;
            if confirmed {
                sv::decide_hours(&mut tx, id, "confirmed", None, None, now - Duration::days(days - 1)).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The demo's notices: two from the university's committee (one a month old and mostly confirmed, one of today
/// that nobody has confirmed yet, so every demo member finds one waiting) and one from each of the first
/// branches, with a deterministic share of their recipients confirmed.
async fn notices(p: &Platform, branches: &[Org], now: OffsetDateTime) -> Result<()> {
    use crate::notices::{model, store as notice_store};
    let db = &p.db;
    if notice_store::any_notice(db).await? {
        return Ok(());
    }
    let Some(root) = platform::store::org_children(db, None).await?.into_iter().next().map(Org::from_row) else {
        return Ok(());
    };
    let month_ago = now - Duration::days(30);
    // (publisher, title, text, stages, published at, tenths of the recipients who confirmed)
    type Planned<'o> = (&'o Org, &'static str, String, Vec<platform::model::Stage>, OffsetDateTime, i64);
    let mut plan: Vec<Planned> = vec![
        (
            &root,
            "关于开展2026年度民主评议党员工作的通知",
            "各二级党委、党总支、党支部：\n\n根据《中国共产党党员教育管理工作条例》，请于12月底前完成本年度民主评议党员工作，\
             评议结果报学校党委组织部备案。\n\n党委组织部".into(),
            vec![platform::model::Stage::Probationary, platform::model::Stage::Full],
            now - Duration::hours(2),
            0,
        ),
        (
            &root,
            "关于按时交纳党费的提醒",
            "全体党员：\n\n请按月足额交纳党费，补交一般不超过6个月。如有困难，请向所在党支部说明。\n\n党委组织部".into(),
            vec![platform::model::Stage::Probationary, platform::model::Stage::Full],
            month_ago,
            8,
        ),
    ];
    for branch in branches.iter().take(40) {
        plan.push((
            branch,
            "关于召开本月主题党日活动的通知",
            "各位党员、入党积极分子：\n\n本月主题党日安排在党员活动室，请准时参加，不能参加的请向支部书记请假。".into(),
            Vec::new(),
            now - Duration::days(3),
            6,
        ));
    }
    let mut tx = db.begin().await?;
    for (org, title, text, stages, at, tenths) in plan {
        let stages = model::stages_column(&stages);
        let body = platform::richtext::text_to_html(&text);
        let tokens = platform::search::index_text(title, &[], &text);
        let w = notice_store::NoticeWrite {
            org_id: org.id,
            org_path: &org.path,
            title,
            body: &body,
            stages: &stages,
            needs_receipt: true,
            search_tokens: &tokens,
            user_id: None,
            now: at,
            meeting_id: None,
        };
        let id = notice_store::insert_notice(&mut tx, &w).await?;
        notice_store::add_recipients(&mut tx, id, &org.path, &subtree_end(&org.path), &stages).await?;
        if tenths > 0 {
            notice_store::demo_confirm_share(&mut tx, id, tenths, at + Duration::hours(20)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A year of meetings for every branch of a province (`dangjian demo --scale province`, the province
/// benchmark): from January of `today`'s year to yesterday, each branch's monthly 支委会 (a third of its
/// members invited) and 主题党日, its quarterly 支部党员大会 and 党课 and, each quarter, a 谈心谈话 with a quarter
/// of its members — all members invited otherwise, attendance recorded, with deterministic gaps. Set-based
/// (two statements per meeting date, whatever the number of branches); branches that already have meetings
/// of an earlier year (the per-branch demo's first [`BRANCHES_MAX`]) are left alone. Returns the attendance
/// rows written.
pub async fn province_year(p: &Platform, today: Date) -> Result<u64> {
    let year = today.year();
    let Some(jan1) = ymd(year, 1, 1) else { return Ok(0) };
    let now = OffsetDateTime::now_utc();
    // (kind, title, date, (gap, skip), (share, pick))
    type Planned = (MeetingKind, String, Date, (i64, i64), (i64, i64));
    let mut plan: Vec<Planned> = Vec::new();
    for month in 1..=12u8 {
        let m = i64::from(month);
        let mut at = |day: u8, kind: MeetingKind, title: String, gap: (i64, i64), share: (i64, i64)| {
            if let Some(d) = ymd(year, month, day).filter(|d| *d < today) {
                plan.push((kind, title, d, gap, share));
            }
        };
        at(8, MeetingKind::Committee, format!("{month}月支委会：研究发展党员和党费收缴"), (13, m), (3, 0));
        at(20, MeetingKind::ThemeDay, format!("{month}月主题党日：重温入党誓词"), (17, m), (1, 0));
        if month % 3 == 0 {
            let q = m / 3;
            at(25, MeetingKind::BranchAssembly, format!("第{q}季度支部党员大会"), (9, q), (1, 0));
            at(10, MeetingKind::HeartTalk, format!("第{q}季度谈心谈话"), (1_000_003, -1), (4, q - 1));
        }
        if month % 3 == 2 {
            at(15, MeetingKind::PartyLecture, format!("第{}季度党课", m / 3 + 1), (6, m / 3), (1, 0));
        }
        if month == 12 {
            at(16, MeetingKind::LifeMeeting, format!("{year}年度组织生活会"), (10, 3), (1, 0));
        }
    }
    let mut tx = p.db.begin().await?;
    let mut made = 0;
    for (kind, title, held_on, gap, share) in &plan {
        made += store::demo_bulk_meetings(&mut tx, kind.code(), title, *held_on, *gap, *share, jan1, now).await?;
    }
    tx.commit().await?;
    Ok(made)
}
