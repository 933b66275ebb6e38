//! The demo university: realistic, deterministic data for trying the platform and for benchmarks.
//! The same seed gives the same organizations, people and accounts on every machine. People pass the
//! same validation as a form would, and head counts are written from the same rollup as live changes.

use std::collections::{HashMap, HashSet};

use kernel::rng::Rng;
use security::audit;
use time::{Date, Duration, OffsetDateTime};

use crate::model::{Org, OrgCategory, OrgKind, PersonCategory, Role, Stage};
use crate::rules::{self, PersonInput};
use crate::service::{Ctx, Error, GrantInput, NewUserInput, Platform, Result, event, person_write};
use crate::store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// One university, 3 colleges, about 200 people.
    Small,
    /// One university of 20 colleges, about 15 000 people.
    University,
    /// A province's universities: about 30 000 organizations and 1 000 000 people.
    Province,
    /// One university of 20 colleges with about 21 000 people, [`LOAD_MEMBERS`] of whom get a member account
    /// of their own: the HTTP load test of security.md AT-35 (`cargo bench -p server --bench load`).
    Load,
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "small" => Some(Scale::Small),
            "university" => Some(Scale::University),
            "province" => Some(Scale::Province),
            "load" => Some(Scale::Load),
            _ => None,
        }
    }

    /// (universities, colleges per university, student branches, faculty branches per college, people per branch)
    fn shape(self) -> (usize, usize, usize, usize, usize) {
        match self {
            Scale::Small => (1, 3, 2, 1, 18),
            Scale::University => (1, 20, 10, 3, 55),
            Scale::Province => (100, 20, 10, 3, 37),
            // 261 branches of 70 to 93 people (81.5 on average): about 21 300, never fewer than 18 270 + the
            // seed's spread; 20 000 of them get the load test's accounts.
            Scale::Load => (1, 20, 10, 3, 70),
        }
    }

    /// Roughly how many people the scale makes (for the progress bar).
    pub fn people_estimate(self) -> u64 {
        let (u, c, s, f, p) = self.shape();
        (u * (c * (s + f) + 1) * p) as u64
    }
}

/// The demo accounts and their password, to print at the end.
pub const DEMO_PASSWORD: &str = "Demo-Pass-2026!";

/// How many member accounts [`Scale::Load`] makes (security.md AT-35: 20,000 concurrent members).
pub const LOAD_MEMBERS: u64 = 20_000;
/// Their usernames: this prefix and 1, 2, … in the order of the people's ids (`load1` … `load20000`).
pub const LOAD_USERNAME_PREFIX: &str = "load";

#[derive(Debug)]
pub struct DemoReport {
    pub orgs: u64,
    pub people: u64,
    /// (username, role description)
    pub accounts: Vec<(String, String)>,
    pub already_present: bool,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆",
    "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "方", "白", "邹", "孟", "熊", "秦", "欧阳",
];
const GIVEN_F: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "婷", "雪", "慧", "颖", "琳", "欣", "佳", "悦", "雨", "思", "梦", "晓", "红",
    "玉", "洁", "晨", "萱", "怡",
];
const GIVEN_M: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩",
    "凯", "健", "俊", "帆", "博",
];
const COLLEGES: &[&str] = &[
    "马克思主义学院",
    "文学院",
    "外国语学院",
    "经济学院",
    "管理学院",
    "法学院",
    "数学科学学院",
    "物理学院",
    "化学学院",
    "生命科学学院",
    "信息科学与工程学院",
    "计算机科学与技术学院",
    "机械工程学院",
    "电气工程学院",
    "土木工程学院",
    "材料科学与工程学院",
    "医学院",
    "艺术设计学院",
    "教育学院",
    "环境学院",
    "新闻传播学院",
    "历史学院",
];
const UNIVERSITY_NAMES: &[&str] = &["东湖", "西溪", "南山", "北辰", "明德", "求是", "博雅", "致远", "同济", "崇实"];
const UNIVERSITY_KINDS: &[&str] = &[
    "大学",
    "理工大学",
    "师范大学",
    "财经大学",
    "医科大学",
    "工业大学",
    "农林大学",
    "科技大学",
    "交通大学",
    "艺术学院",
];
const REGIONS: &[&str] = &[
    "330106", "330102", "320102", "310104", "110105", "440106", "420106", "510107", "370102", "410105", "340104",
    "360102",
];
const ETHNIC: &[(&str, u32)] = &[("汉族", 92), ("回族", 2), ("满族", 2), ("壮族", 2), ("蒙古族", 1), ("土家族", 1)];
const PLACES: &[&str] = &[
    "浙江杭州",
    "江苏南京",
    "山东济南",
    "河南郑州",
    "安徽合肥",
    "湖北武汉",
    "四川成都",
    "广东广州",
    "江西南昌",
    "湖南长沙",
    "福建福州",
    "河北石家庄",
];

/// Fills an empty database with the demo university. On a database that already has organizations it
/// changes nothing and reports `already_present`.
pub async fn generate(p: &Platform, scale: Scale, seed: u64, progress: &(dyn Fn(u64) + Sync)) -> Result<DemoReport> {
    let today = kernel::dates::today();
    if !store::org_children(&p.db, None).await?.is_empty() {
        return Ok(DemoReport { orgs: 0, people: 0, accounts: demo_accounts(), already_present: true });
    }
    let mut rng = Rng::new(seed);
    let (universities, colleges, student_branches, faculty_branches, per_branch) = scale.shape();
    let now = OffsetDateTime::now_utc();
    let ctx = Ctx { request_id: format!("demo-{seed}"), ip: "-".into(), ..Ctx::default() };

    // The tree first, in one transaction (30k rows at province scale).
    let mut tx = p.db.begin().await?;
    let mut branches: Vec<(Org, OrgCategory)> = Vec::new();
    let mut orgs_made = 0u64;
    let insert = |name: String, kind: OrgKind, category: OrgCategory, parent: Option<&Org>| {
        let parent_path = parent.map(|o| o.path.clone()).unwrap_or_else(|| "/".into());
        let depth = parent.map(|o| o.depth + 1).unwrap_or(0);
        let parent_id = parent.map(|o| o.id);
        (name, kind, category, parent_path, depth, parent_id)
    };
    let root_name = if universities > 1 { "省委教育工委".to_string() } else { "东湖大学党委".to_string() };
    let root_spec = insert(root_name, OrgKind::Committee, OrgCategory::Mixed, None);
    let root = make_org(&mut tx, root_spec, now).await?;
    orgs_made += 1;
    for u in 0..universities {
        let uni = if universities == 1 {
            root.clone()
        } else {
            let name = format!(
                "{}{}党委",
                UNIVERSITY_NAMES.get(u % UNIVERSITY_NAMES.len()).copied().unwrap_or("东湖"),
                UNIVERSITY_KINDS.get(u / UNIVERSITY_NAMES.len() % UNIVERSITY_KINDS.len()).copied().unwrap_or("大学")
            );
            let name = if u >= UNIVERSITY_NAMES.len() * UNIVERSITY_KINDS.len() { format!("{name}{u}") } else { name };
            orgs_made += 1;
            make_org(&mut tx, insert(name, OrgKind::Committee, OrgCategory::Mixed, Some(&root)), now).await?
        };
        for c in 0..colleges {
            let cname = COLLEGES.get(c % COLLEGES.len()).copied().unwrap_or("学院");
            let college = make_org(
                &mut tx,
                insert(format!("{cname}党委"), OrgKind::CollegeCommittee, OrgCategory::Mixed, Some(&uni)),
                now,
            )
            .await?;
            orgs_made += 1;
            let short = cname.trim_end_matches("学院");
            for b in 0..student_branches {
                let year = 2022 + (b % 4);
                let name = format!("{short}{year}级本科生第{}党支部", b / 4 + 1);
                let name = if b >= 8 { format!("{short}研究生第{}党支部", b - 7) } else { name };
                branches.push((
                    make_org(&mut tx, insert(name, OrgKind::Branch, OrgCategory::Student, Some(&college)), now).await?,
                    OrgCategory::Student,
                ));
                orgs_made += 1;
            }
            for b in 0..faculty_branches {
                let name = format!("{short}教工第{}党支部", b + 1);
                branches.push((
                    make_org(&mut tx, insert(name, OrgKind::Branch, OrgCategory::Faculty, Some(&college)), now).await?,
                    OrgCategory::Faculty,
                ));
                orgs_made += 1;
            }
        }
        let retired = make_org(
            &mut tx,
            insert("离退休第一党支部".into(), OrgKind::Branch, OrgCategory::Retired, Some(&uni)),
            now,
        )
        .await?;
        branches.push((retired, OrgCategory::Retired));
        orgs_made += 1;
    }
    tx.commit().await?;

    // People, in transactions of 5 000, with the rollup of head counts kept in memory.
    let mut counts: HashMap<(i64, Stage, PersonCategory), i64> = HashMap::new();
    let mut ids_seen: HashSet<String> = HashSet::new();
    let mut made = 0u64;
    let mut first_person_of_branch: Vec<i64> = Vec::new();
    let mut tx = p.db.begin().await?;
    for (bi, (branch, kind)) in branches.iter().enumerate() {
        let n = per_branch + rng.below(per_branch as u64 / 3 + 1) as usize;
        for k in 0..n {
            let input = person(&mut rng, *kind, branch.id, today, &mut ids_seen);
            let v = rules::validate_person(&input, today).map_err(Error::Invalid)?;
            let sealed = p.seal(&v)?;
            let id = store::insert_person(&mut tx, &person_write(&v, branch, &sealed, now)).await?;
            if k == 0 && bi < 4 {
                first_person_of_branch.push(id);
            }
            for org_id in branch.lineage() {
                *counts.entry((org_id, v.stage, v.category)).or_default() += 1;
            }
            made += 1;
            if made.is_multiple_of(5000) {
                tx.commit().await?;
                progress(made);
                tx = p.db.begin().await?;
            }
        }
    }
    for ((org_id, stage, category), n) in &counts {
        store::add_counts(&mut tx, &[*org_id], stage.code(), category.code(), *n).await?;
    }
    let detail = format!("scale:{scale:?} seed:{seed} orgs:{orgs_made} people:{made}");
    let mut e = event(None, &ctx, "demo.generate", "demo".into(), "ok", detail);
    e.actor = "system".into();
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    progress(made);

    // Accounts for every role, all with the demo password.
    let college1 = branches.first().map(|(b, _)| b.parent_id).unwrap_or(None);
    let other_college_branch = branches.iter().find(|(b, _)| b.parent_id != college1).map(|(b, _)| b.id);
    let first_branch = branches.first().map(|(b, _)| b.id);
    let uni_id = branches.first().and_then(|(b, _)| b.lineage().get(if universities > 1 { 1 } else { 0 }).copied());
    let member_person = first_person_of_branch.get(1).or(first_person_of_branch.first()).copied();
    p.bootstrap_admin(Some(DEMO_PASSWORD)).await?;
    let sys = crate::access::Actor {
        user_id: 0,
        username: "system".into(),
        display_name: "system".into(),
        person_id: None,
        reauth_at: Some(time::OffsetDateTime::now_utc()),
        grants: vec![crate::model::Grant {
            role: Role::SecurityAdmin,
            org_id: None,
            org_name: None,
            org_path: None,
            starts_on: None,
            ends_on: None,
        }],
    };
    let g = |role: Role, org: Option<i64>| GrantInput {
        role: role.code().into(),
        org_id: org,
        starts_on: None,
        ends_on: None,
    };
    // The member's account carries her own name, as a real one would.
    let member_name = match member_person {
        Some(id) => store::get_person(&p.db, id).await?.map(|r| r.name).unwrap_or_else(|| "党员".into()),
        None => "党员".into(),
    };
    let accounts: Vec<(&str, &str, Option<i64>, Vec<GrantInput>)> = vec![
        ("security", "安全管理员", None, vec![g(Role::SecurityAdmin, None)]),
        ("auditor", "审计管理员", None, vec![g(Role::AuditAdmin, None)]),
        ("staff", "组织部组织员", None, vec![g(Role::OrgStaff, uni_id.or(Some(root.id)))]),
        ("college", "学院党委组织员", None, vec![g(Role::OrgStaff, college1)]),
        ("secretary", "支部书记", None, vec![g(Role::BranchSecretary, first_branch)]),
        ("secretary2", "另一学院支部书记", None, vec![g(Role::BranchSecretary, other_college_branch)]),
        ("leader", "校领导", None, vec![g(Role::Leader, uni_id.or(Some(root.id)))]),
        ("member", member_name.as_str(), member_person, vec![]),
    ];
    for (username, display, person_id, grants) in accounts {
        let input = NewUserInput {
            username: username.into(),
            password: DEMO_PASSWORD.into(),
            display_name: display.into(),
            person_id,
            grants,
        };
        p.create_user(&ctx, &sys, &input).await?;
    }
    let mut accounts = demo_accounts();
    if scale == Scale::Load {
        let n = member_accounts(p, &ctx, LOAD_MEMBERS).await?;
        accounts.push((
            format!("{LOAD_USERNAME_PREFIX}1 … {LOAD_USERNAME_PREFIX}{n}"),
            format!("党员（负载测试，{n} 个本人账号）"),
        ));
    }
    Ok(DemoReport { orgs: orgs_made, people: made, accounts, already_present: false })
}

/// Gives each of the first `count` people without an account a member account of her own (no grant: her
/// own record, her notices, learning and exams), named [`LOAD_USERNAME_PREFIX`] and a number, all with
/// [`DEMO_PASSWORD`]. The password is hashed once (argon2id with the platform's parameters, so every sign-in
/// costs what a real one does) and the accounts are written by one statement in one transaction with one
/// audit entry: 20,000 hashes one by one would take minutes. Returns how many were made.
pub async fn member_accounts(p: &Platform, ctx: &Ctx, count: u64) -> Result<u64> {
    let hash = p.settings.passwords.hash(DEMO_PASSWORD)?;
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let mut tx = p.db.begin().await?;
    let made =
        store::insert_member_accounts(&mut tx, LOAD_USERNAME_PREFIX, &hash, count, OffsetDateTime::now_utc()).await?;
    let detail = format!("accounts:{made} prefix:{LOAD_USERNAME_PREFIX}");
    let mut e = event(None, ctx, "demo.member_accounts", "demo".into(), "ok", detail);
    e.actor = "system".into();
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(made)
}

fn demo_accounts() -> Vec<(String, String)> {
    [
        ("admin", "系统管理员（三员之一：组织架构与账号）"),
        ("security", "安全管理员（三员之一：授权）"),
        ("auditor", "审计管理员（三员之一：审计日志）"),
        ("staff", "党委组织部组织员（全校）"),
        ("college", "学院党委组织员（第一个学院）"),
        ("secretary", "支部书记（第一个支部）"),
        ("secretary2", "支部书记（另一学院的支部）"),
        ("leader", "校领导（全校，只读）"),
        ("member", "党员（本人档案）"),
    ]
    .iter()
    .map(|(u, r)| (u.to_string(), r.to_string()))
    .collect()
}

async fn make_org(
    tx: &mut kernel::DbTx,
    spec: (String, OrgKind, OrgCategory, String, i32, Option<i64>),
    now: OffsetDateTime,
) -> Result<Org> {
    let (name, kind, category, parent_path, depth, parent_id) = spec;
    let id = store::insert_org(
        tx,
        &store::NewOrg {
            parent_id,
            name: &name,
            short_name: None,
            kind: kind.code(),
            category: category.code(),
            parent_path: &parent_path,
            depth,
            secretary: None,
            contact_phone: None,
            established_on: None,
            now,
        },
    )
    .await?;
    let row = store::get_org_tx(tx, id).await?.ok_or(Error::NotFound)?;
    Ok(Org::from_row(row))
}

fn date_between(rng: &mut Rng, from: Date, to: Date) -> Date {
    let days = (to - from).whole_days().max(0);
    from + Duration::days(rng.range(0, days))
}

fn id_number(rng: &mut Rng, birth: Date, male: bool, seen: &mut HashSet<String>) -> String {
    loop {
        let region = rng.pick(REGIONS).copied().unwrap_or("330106");
        let seq = rng.below(500) * 2 + u64::from(male);
        let body = format!("{region}{:04}{:02}{:02}{seq:03}", birth.year(), u8::from(birth.month()), birth.day());
        let id = format!("{body}{}", rules::check_char(body.as_bytes()).unwrap_or('0'));
        if seen.insert(id.clone()) {
            return id;
        }
    }
}

/// One plausible person for a branch of the given category, every date consistent with the rules.
fn person(rng: &mut Rng, kind: OrgCategory, org_id: i64, today: Date, seen: &mut HashSet<String>) -> PersonInput {
    let male = rng.chance(0.5);
    let (age_lo, age_hi, category, stage_weights): (i64, i64, PersonCategory, [u32; 5]) = match kind {
        OrgCategory::Student => (18, 27, PersonCategory::Student, [30, 25, 12, 13, 20]),
        OrgCategory::Faculty => {
            (26, 60, if rng.chance(0.7) { PersonCategory::Faculty } else { PersonCategory::Staff }, [3, 3, 2, 4, 88])
        }
        _ => (61, 90, PersonCategory::Retired, [0, 0, 0, 0, 100]),
    };
    let stage = Stage::ALL.get(rng.weighted(&stage_weights)).copied().unwrap_or(Stage::Full);
    let age = rng.range(age_lo, age_hi);
    let birth = today - Duration::days(age * 365 + rng.range(0, 364));
    let eighteen = kernel::dates::add_months(birth, 18 * 12);
    // Walk the path backwards from today so every step fits before it.
    let mut d = |from: Date, min_gap_days: i64, max_gap_days: i64| -> Date {
        let lo = from + Duration::days(min_gap_days);
        let hi = (from + Duration::days(max_gap_days)).min(today);
        if hi <= lo { lo } else { date_between(rng, lo, hi) }
    };
    let applied = d(eighteen, 0, 700);
    let activist = d(applied, 60, 240);
    let candidate = d(kernel::dates::add_months(activist, 12), 0, 200);
    let admitted = d(candidate, 60, 180);
    let converted = d(kernel::dates::add_months(admitted, 12), 0, 40);
    let idx = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
    let when = |i: usize, v: Date| (idx >= i && v <= today).then(|| kernel::dates::iso(v));
    let surname = rng.pick(SURNAMES).copied().unwrap_or("王");
    let pool = if male { GIVEN_M } else { GIVEN_F };
    let given: String = (0..rng.range(1, 2)).map(|_| rng.pick(pool).copied().unwrap_or("明")).collect();
    let ethnic: Vec<u32> = ETHNIC.iter().map(|(_, w)| *w).collect();
    let ethnicity = ETHNIC.get(rng.weighted(&ethnic)).map(|(n, _)| n.to_string());
    let phone =
        format!("1{}{:09}", rng.pick(&["3", "5", "7", "8", "9"]).copied().unwrap_or("3"), rng.below(1_000_000_000));
    let education = match category {
        PersonCategory::Student if age > 22 => "硕士研究生",
        PersonCategory::Faculty => {
            if rng.chance(0.7) {
                "博士研究生"
            } else {
                "硕士研究生"
            }
        }
        _ => "大学本科",
    };
    let mut input = PersonInput {
        name: Some(format!("{surname}{given}")),
        gender: Some(if male { "male" } else { "female" }.into()),
        birth_date: Some(kernel::dates::iso(birth)),
        id_number: Some(id_number(rng, birth, male, seen)),
        phone: Some(phone),
        org_id: Some(org_id),
        stage: Some(stage.code().into()),
        category: Some(category.code().into()),
        ethnicity,
        native_place: rng.pick(PLACES).map(|s| s.to_string()),
        education: Some(education.into()),
        person_no: Some(format!(
            "{}{:07}",
            if category == PersonCategory::Student { "S" } else { "T" },
            rng.below(10_000_000)
        )),
        applied_on: when(0, applied),
        activist_on: when(1, activist),
        candidate_on: when(2, candidate),
        admitted_on: when(3, admitted),
        converted_on: when(4, converted),
        ..PersonInput::default()
    };
    // A stage whose dates would lie in the future is recorded one stage earlier.
    let reached = [&input.applied_on, &input.activist_on, &input.candidate_on, &input.admitted_on, &input.converted_on]
        .iter()
        .rposition(|d| d.is_some())
        .unwrap_or(0);
    if reached < idx {
        input.stage = Stage::ALL.get(reached).map(|s| s.code().to_string());
    }
    input
}
