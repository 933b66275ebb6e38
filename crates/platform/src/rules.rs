//! Validation rules of the "1", each with the source it comes from. Pure functions, no I/O.

use std::collections::BTreeMap;

use serde::Deserialize;
use time::Date;
use utoipa::ToSchema;

use crate::model::{Gender, PersonCategory, Stage, Status};

/// GB 11643-1999 《公民身份号码》: 18 characters, 6-digit region, 8-digit birth date, 3-digit sequence
/// (odd for men), ISO 7064 MOD 11-2 check character.
pub const CITE_ID_NUMBER: &str = "GB 11643-1999《公民身份号码》第4、5、6、7条";
/// 《中国共产党发展党员工作细则》(2014) 第五条: 年满十八岁.
pub const CITE_MIN_AGE: &str = "《中国共产党发展党员工作细则》第五条";
/// 《中国共产党发展党员工作细则》(2014) 第三十二条: 预备期为一年，从支部大会通过之日算起.
pub const CITE_PROBATION_YEAR: &str = "《中国共产党发展党员工作细则》第三十二条";

/// Field name → Chinese message. An empty map means valid.
pub type FieldErrors = BTreeMap<String, String>;

/// Replaces full-width digits and letters (０-９, Ａ-Ｚ) by ASCII and drops spaces, as staff paste them
/// from Word and Excel.
pub fn normalise_ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3000}' | ' ' | '\t' => None,
            _ => Some(c),
        })
        .collect()
}

/// The check character of the first 17 digits (ISO 7064 MOD 11-2, GB 11643-1999 第7条), or `None` when
/// they are not 17 ASCII digits.
pub fn check_char(body: &[u8]) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    if body.len() != 17 || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    b"10X98765432".get((sum % 11) as usize).map(|c| char::from(*c))
}

/// A validated citizen ID number (upper-case X).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(raw: &str) -> Result<IdNumber, &'static str> {
        let s = normalise_ascii(raw).to_ascii_uppercase();
        if s.is_empty() {
            return Err("请填写公民身份号码");
        }
        if s.chars().count() != 18 {
            return Err("公民身份号码应为18位");
        }
        let bytes = s.as_bytes();
        let (body, check) = bytes.split_at(17);
        if !body.iter().all(u8::is_ascii_digit) || !(check[0].is_ascii_digit() || check[0] == b'X') {
            return Err("公民身份号码前17位应为数字，末位为数字或X");
        }
        if check_char(body) != Some(char::from(check[0])) {
            return Err("公民身份号码校验位不正确，请核对");
        }
        let id = IdNumber(s);
        if id.birth_date().is_none() {
            return Err("公民身份号码中的出生日期无效");
        }
        Ok(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Option<Date> {
        let d = self.0.get(6..14)?;
        kernel::dates::parse_iso(&format!("{}-{}-{}", d.get(0..4)?, d.get(4..6)?, d.get(6..8)?))
    }

    /// The 17th character: odd for men, even for women.
    pub fn gender(&self) -> Gender {
        let digit = self.0.as_bytes().get(16).map(|b| b - b'0').unwrap_or(0);
        if digit % 2 == 1 { Gender::Male } else { Gender::Female }
    }
}

/// A mobile number (11 digits from 1) or a landline with its area code (0 + 9–11 digits).
pub fn parse_phone(raw: &str) -> Result<String, &'static str> {
    let s: String = normalise_ascii(raw).chars().filter(|c| *c != '-' && *c != '(' && *c != ')').collect();
    let s = s.strip_prefix("+86").unwrap_or(&s).to_string();
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return Err("电话号码只能包含数字");
    }
    let ok = match s.as_bytes().first() {
        Some(b'1') => s.len() == 11,
        Some(b'0') => (10..=12).contains(&s.len()),
        _ => false,
    };
    if ok { Ok(s) } else { Err("请填写11位手机号码或带区号的固定电话") }
}

/// The numbering plan of China's public mobile networks: 11 digits, `1` then `3`–`9` (13x…19x).
pub const CITE_MOBILE: &str = "《电信网编号计划（2017年版）》（工业和信息化部）移动通信网号码 1[3-9]X";

/// A Chinese mobile number for a member's own contact (AT-7): 11 digits `1[3-9]…`, an optional `+86` or
/// `86` in front, spaces and hyphens as people type them ignored. No landlines here: the number is the
/// one she is reached on.
pub fn parse_mobile(raw: &str) -> Result<String, &'static str> {
    let s: String = normalise_ascii(raw).chars().filter(|c| *c != '-').collect();
    let s = s.strip_prefix("+86").or_else(|| s.strip_prefix("0086")).unwrap_or(&s);
    let s = if s.len() == 13 { s.strip_prefix("86").unwrap_or(s) } else { s };
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err("手机号码只能包含数字");
    }
    let b = s.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        Ok(s.to_string())
    } else {
        Err("请填写11位中国大陆手机号码（以13—19开头）")
    }
}

/// GB/T 22239-2019 §8.1.4.1 a): 身份鉴别信息具有复杂度要求并定期更换; our periods (security.md §a.1, a
/// deliberate deviation from ASVS 5.0 §6.2.10, recorded there).
pub const CITE_PASSWORD_PERIOD: &str = "GB/T 22239-2019 第8.1.4.1条a)（身份鉴别信息定期更换）";
/// How many of the account's latest passwords a new one may not repeat (the current one included).
pub const PASSWORD_HISTORY: usize = 5;

/// How long a password serves: 90 days for administrators and org staff, 180 for everyone else.
pub fn password_max_age(privileged: bool) -> time::Duration {
    time::Duration::days(if privileged { 90 } else { 180 })
}

/// Whether a password set at `changed_at` must be changed at `now` (from that instant on, exactly).
pub fn password_expired(changed_at: time::OffsetDateTime, privileged: bool, now: time::OffsetDateTime) -> bool {
    now >= changed_at + password_max_age(privileged)
}

/// GB/T 22239-2019 §8.1.4.2 c) (security.md §a.1 c): no shared accounts — forbidden by policy, detected by a
/// concurrent-address heuristic.
pub const CITE_SHARED_ACCOUNT: &str = "GB/T 22239-2019 第8.1.4.2条c)（应避免共享账户的存在）";
/// The window in which an account's sessions count as used at the same time.
pub const SHARED_ACCOUNT_WINDOW: time::Duration = time::Duration::minutes(15);
/// Distinct client addresses in use at once from which an account is suspected of being shared. One person
/// is often on two at once (the campus network on a desktop and the mobile network on her phone); three
/// within a quarter of an hour is what a handed-around password looks like. Behind one NAT address sharing
/// cannot be seen this way.
pub const SHARED_ACCOUNT_ADDRESSES: usize = 3;

/// How many known, distinct client addresses these are (an unknown one, `-`, never counts).
pub fn distinct_addresses(addresses: &[String]) -> usize {
    let distinct: std::collections::BTreeSet<&str> =
        addresses.iter().map(|a| a.trim()).filter(|a| !a.is_empty() && *a != "-").collect();
    distinct.len()
}

/// Whether the addresses of an account's sessions active in the window suggest the account is shared.
pub fn shared_account_suspected(addresses: &[String]) -> bool {
    distinct_addresses(addresses) >= SHARED_ACCOUNT_ADDRESSES
}

/// Distinct devices (browser user-agents) in use at once from which an account is suspected of being shared,
/// whatever their addresses (security.md §a.1 c, AT-16: an account handed around behind ONE NAT address —
/// a college office, a dormitory building — shows one address for everyone). One person commonly has two
/// devices signed in (a desktop and a phone, both on the campus Wi-Fi); a third different device within
/// [`SHARED_ACCOUNT_WINDOW`] is what passing the password around looks like. Two people with one device each
/// behind one address cannot be told from one person with two devices: that case stays unseen.
pub const SHARED_ACCOUNT_DEVICES: usize = 3;

/// How many known, distinct devices these user-agent strings are. The string is the device (the platform
/// keeps no device identifier); an empty one or `-` (a client that sent none) never counts.
pub fn distinct_devices(user_agents: &[String]) -> usize {
    let distinct: std::collections::BTreeSet<&str> =
        user_agents.iter().map(|a| a.trim()).filter(|a| !a.is_empty() && *a != "-").collect();
    distinct.len()
}

/// What the live sessions of an account seen within [`SHARED_ACCOUNT_WINDOW`] — `(address, user-agent)`
/// each — say about it being shared (security.md §a.1 c, AT-16): `Some((addresses, devices))` when either
/// reaches its threshold ([`SHARED_ACCOUNT_ADDRESSES`], [`SHARED_ACCOUNT_DEVICES`]), `None` otherwise.
pub fn shared_account_signs(sessions: &[(String, String)]) -> Option<(usize, usize)> {
    let addresses: Vec<String> = sessions.iter().map(|(ip, _)| ip.clone()).collect();
    let agents: Vec<String> = sessions.iter().map(|(_, ua)| ua.clone()).collect();
    let (a, d) = (distinct_addresses(&addresses), distinct_devices(&agents));
    (a >= SHARED_ACCOUNT_ADDRESSES || d >= SHARED_ACCOUNT_DEVICES).then_some((a, d))
}

/// The longest note a security administrator writes when she marks a shared-account flag 已核查.
pub const SHARED_REVIEW_NOTE_MAX: usize = 200;

/// Words of the university and the Party that make a password easy to guess on this platform (security.md
/// §a.1: context words), compared case-insensitively; Chinese ones as written.
pub const PARTY_WORDS: &[&str] = &[
    "dangjian",
    "gongchandang",
    "dangyuan",
    "dangzhibu",
    "zhibu",
    "dangwei",
    "zhonggong",
    "dangxiao",
    "dangfei",
    "daxue",
    "xuexiao",
    "party",
    "cpc",
    "党",
    "共产",
    "支部",
    "中共",
];

/// What a password must not contain besides the username and the ID number: the account holder's Chinese
/// name as written or in pinyin (every reading of every character, 4+ letters; the given name alone too
/// when it has 4+ letters), her birthday as `YYYYMMDD` or `MMDD` (and `YYMMDD`), and [`PARTY_WORDS`].
pub fn password_context(pw: &str, names: &[&str], birth_date: Option<Date>) -> Result<(), &'static str> {
    let lower = pw.to_lowercase();
    // Chinese names only: a name in Latin letters is the username's business (checked before this).
    for name in names.iter().map(|n| n.trim()).filter(|n| n.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))) {
        let mut words = documents::romanize::spellings(name);
        // The given name alone ("hongmei" of 李红梅), when long enough to be more than chance.
        let given: String = name.chars().skip(1).collect();
        if name.chars().count() >= 3 {
            words.extend(documents::romanize::spellings(&given).into_iter().filter(|w| w.len() >= 4));
        }
        if words.iter().any(|w| w.len() >= 4 && lower.contains(w.as_str())) || pw.contains(name) {
            return Err("密码不能包含本人姓名（含拼音）");
        }
    }
    if let Some(d) = birth_date {
        let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
        let forms = [
            format!("{y:04}{m:02}{day:02}"),
            format!("{:02}{m:02}{day:02}", y.rem_euclid(100)),
            format!("{m:02}{day:02}"),
        ];
        if forms.iter().any(|f| lower.contains(f.as_str())) {
            return Err("密码不能包含本人生日");
        }
    }
    if PARTY_WORDS.iter().any(|w| lower.contains(w)) {
        return Err("密码不能包含学校或党组织相关的常用词（如 dangjian、gongchandang、党）");
    }
    Ok(())
}

/// The university's own name as a password's context words (security.md §a.1: "university/Party words"):
/// from each top organization's name, without the Party's prefix and the committee's suffix
/// (中共浙江某大学委员会, 浙江某大学党委 → 浙江某大学), the name and, when what remains before
/// 大学/学院/学校 is two characters or more, that part too (浙江某), as written and in pinyin (5 letters or
/// more, so a syllable or two of chance is not refused); and the name's Latin abbreviations, as a whole run
/// of letters in the password: the initials of the name (zjdx) and of the part before 大学 with `u` or `dx`
/// after it (zju), 3 letters or more.
pub fn password_university(pw: &str, top_names: &[&str]) -> Result<(), &'static str> {
    let lower = pw.to_lowercase();
    for name in top_names {
        let mut u = name.trim();
        for prefix in ["中国共产党", "中共"] {
            u = u.strip_prefix(prefix).unwrap_or(u);
        }
        for suffix in ["委员会", "党委", "党组", "党总支"] {
            u = u.strip_suffix(suffix).unwrap_or(u);
        }
        let mut parts = vec![u];
        for school in ["大学", "学院", "学校"] {
            if let Some(short) = u.strip_suffix(school).filter(|s| s.chars().count() >= 2) {
                parts.push(short);
            }
        }
        let mut abbreviations = documents::romanize::initials(u);
        if let Some(short) = parts.get(1) {
            for i in documents::romanize::initials(short) {
                abbreviations.extend([format!("{i}u"), format!("{i}dx")]);
            }
        }
        abbreviations.retain(|a| a.len() >= 3 && a.chars().all(|c| c.is_ascii_lowercase()));
        let runs: Vec<&str> = lower.split(|c: char| !c.is_ascii_lowercase()).collect();
        if runs.iter().any(|r| abbreviations.iter().any(|a| a == r)) {
            return Err("密码不能包含本校校名或其缩写（含拼音）");
        }
        for part in parts.into_iter().filter(|p| p.chars().count() >= 2) {
            let spelled = documents::romanize::spellings(part);
            if pw.contains(part) || spelled.iter().any(|w| w.len() >= 5 && lower.contains(w.as_str())) {
                return Err("密码不能包含本校校名（含拼音）");
            }
        }
    }
    Ok(())
}

/// Accepts `2019-09-01`, `2019/9/1`, `2019.9.1` and `2019年9月1日`.
pub fn parse_date(raw: &str) -> Option<Date> {
    let s = normalise_ascii(raw);
    let parts: Vec<&str> = s.split(['-', '/', '.', '年', '月', '日']).filter(|p| !p.is_empty()).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (y, m, d): (i32, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
}

/// The message when a birth date disagrees with the one in the ID number (GB 11643 第5条), else `None`.
/// The form accepts it with this warning; the register import refuses the row with it.
pub fn birth_date_mismatch(id: &IdNumber, birth: Date) -> Option<String> {
    (id.birth_date() != Some(birth)).then(|| {
        format!(
            "出生日期与公民身份号码不一致（号码显示为{}）",
            id.birth_date().map(kernel::dates::iso).unwrap_or_default()
        )
    })
}

/// The person form and API body, as it arrives: every item a string so that each bad value gets its own
/// message instead of a rejected body.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PersonInput {
    #[schema(example = "李红")]
    pub name: Option<String>,
    /// `male` / `female` (or 男 / 女).
    #[schema(example = "female")]
    pub gender: Option<String>,
    #[schema(example = "1999-01-01")]
    pub birth_date: Option<String>,
    #[schema(example = "33010619990101123X")]
    pub id_number: Option<String>,
    #[schema(example = "13800138000")]
    pub phone: Option<String>,
    pub address: Option<String>,
    pub org_id: Option<i64>,
    /// `applicant`, `activist`, `candidate`, `probationary`, `full`.
    #[schema(example = "full")]
    pub stage: Option<String>,
    /// `student`, `faculty`, `staff`, `retired`.
    #[schema(example = "student")]
    pub category: Option<String>,
    pub status: Option<String>,
    pub ethnicity: Option<String>,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub person_no: Option<String>,
    pub party_post: Option<String>,
    pub job_title: Option<String>,
    pub applied_on: Option<String>,
    pub activist_on: Option<String>,
    pub candidate_on: Option<String>,
    pub admitted_on: Option<String>,
    pub converted_on: Option<String>,
    /// For PATCH: the version read, to refuse a lost update.
    pub version: Option<i64>,
}

/// A person's items after validation.
#[derive(Clone, Debug)]
pub struct ValidPerson {
    pub name: String,
    pub gender: Gender,
    pub birth_date: Date,
    pub id_number: IdNumber,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub org_id: i64,
    pub stage: Stage,
    pub category: PersonCategory,
    pub status: Status,
    pub ethnicity: Option<String>,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub person_no: Option<String>,
    pub party_post: Option<String>,
    pub job_title: Option<String>,
    pub applied_on: Option<Date>,
    pub activist_on: Option<Date>,
    pub candidate_on: Option<Date>,
    pub admitted_on: Option<Date>,
    pub converted_on: Option<Date>,
    /// Doubtful but accepted (e.g. the gender disagrees with the ID number).
    pub warnings: Vec<String>,
}

fn text(v: &Option<String>, max: usize, field: &str, errors: &mut FieldErrors) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if t.chars().count() > max {
        errors.insert(field.into(), format!("不能超过{max}个字"));
        return None;
    }
    Some(t.to_string())
}

fn required_code<T>(
    v: &Option<String>,
    field: &str,
    what: &str,
    parse: fn(&str) -> Option<T>,
    errors: &mut FieldErrors,
) -> Option<T> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            errors.insert(field.into(), format!("请选择{what}"));
            None
        }
        Some(s) => {
            let parsed = parse(s);
            if parsed.is_none() {
                errors.insert(field.into(), format!("{what}的取值无效"));
            }
            parsed
        }
    }
}

/// Validates every item of `input` against `today`; returns all field errors at once.
pub fn validate_person(input: &PersonInput, today: Date) -> Result<ValidPerson, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = text(&input.name, 50, "name", &mut e).map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "));
    if name.is_none() && !e.contains_key("name") {
        e.insert("name".into(), "请填写姓名".into());
    }
    let gender = required_code(&input.gender, "gender", "性别", Gender::parse, &mut e);
    let stage = required_code(&input.stage, "stage", "发展阶段", Stage::parse, &mut e);
    let category = required_code(&input.category, "category", "人员类别", PersonCategory::parse, &mut e);
    let status = match input.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(Status::Normal),
        Some(s) => Status::parse(s).or_else(|| {
            e.insert("status".into(), "党籍状态的取值无效".into());
            None
        }),
    };
    if input.org_id.is_none() {
        e.insert("org_id".into(), "请选择所在党组织".into());
    }
    let id_number = match IdNumber::parse(input.id_number.as_deref().unwrap_or("")) {
        Ok(id) => Some(id),
        Err(msg) => {
            e.insert("id_number".into(), msg.into());
            None
        }
    };
    let phone = match input.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => parse_phone(p).map_err(|m| e.insert("phone".into(), m.into())).ok(),
    };
    let mut date = |v: &Option<String>, field: &str, required: bool| -> Option<Date> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                if required {
                    e.insert(field.into(), "请填写日期".into());
                }
                None
            }
            Some(s) => match parse_date(s) {
                None => {
                    e.insert(field.into(), "日期格式应为 2024-09-01".into());
                    None
                }
                Some(d) if d > today => {
                    e.insert(field.into(), "日期不能晚于今天".into());
                    None
                }
                Some(d) => Some(d),
            },
        }
    };
    let birth_date = date(&input.birth_date, "birth_date", true);
    let mut warnings = Vec::new();
    let applied_on = date(&input.applied_on, "applied_on", false);
    let activist_on = date(&input.activist_on, "activist_on", false);
    let candidate_on = date(&input.candidate_on, "candidate_on", false);
    let admitted_on = date(&input.admitted_on, "admitted_on", false);
    let converted_on = date(&input.converted_on, "converted_on", false);

    if let (Some(id), Some(b)) = (&id_number, birth_date) {
        // Accepted with a warning: campus systems send records whose two items disagree, and the
        // national system's record decides which is right. (The spreadsheet importer is stricter.)
        if let Some(w) = birth_date_mismatch(id, b) {
            warnings.push(w);
        }
    }
    if let (Some(id), Some(g)) = (&id_number, gender)
        && id.gender() != g
    {
        warnings.push(format!("性别与公民身份号码第17位不一致（号码显示为{}）", id.gender().label()));
    }
    // The steps happen in this order; each is on or after the one before and after birth.
    let steps = [
        ("applied_on", "递交入党申请书", applied_on),
        ("activist_on", "确定为入党积极分子", activist_on),
        ("candidate_on", "确定为发展对象", candidate_on),
        ("admitted_on", "接收为预备党员", admitted_on),
        ("converted_on", "转为正式党员", converted_on),
    ];
    let mut previous: Option<(&str, Date)> = birth_date.map(|b| ("出生", b));
    for (field, label, d) in steps {
        let Some(d) = d else { continue };
        if let Some((prev_label, prev)) = previous
            && d < prev
            && !e.contains_key(field)
        {
            e.insert(field.into(), format!("{label}日期不能早于{prev_label}日期"));
        }
        previous = Some((label, d));
    }
    if let (Some(b), Some(applied)) = (birth_date, applied_on)
        && kernel::dates::age_on(b, applied) < 18
        && !e.contains_key("applied_on")
    {
        e.insert("applied_on".into(), format!("递交入党申请书时应年满十八岁（{CITE_MIN_AGE}）"));
    }
    if let (Some(adm), Some(conv)) = (admitted_on, converted_on)
        && conv < kernel::dates::add_months(adm, 12)
        && !e.contains_key("converted_on")
    {
        e.insert(
            "converted_on".into(),
            format!(
                "预备期为一年，转正日期不能早于{}（{CITE_PROBATION_YEAR}）",
                kernel::dates::iso(kernel::dates::add_months(adm, 12))
            ),
        );
    }
    if let Some(stage) = stage {
        // Early-stage dates stay optional: records moved from the national system often lack them.
        if matches!(stage, Stage::Applicant | Stage::Activist | Stage::Candidate)
            && (admitted_on.is_some() || converted_on.is_some())
        {
            e.insert("stage".into(), "已填写入党或转正日期，发展阶段应为预备党员或正式党员".into());
        }
        if stage == Stage::Probationary && converted_on.is_some() {
            e.insert("stage".into(), "已填写转正日期，发展阶段应为正式党员".into());
        }
    }
    let address = text(&input.address, 200, "address", &mut e);
    let ethnicity = text(&input.ethnicity, 20, "ethnicity", &mut e);
    let native_place = text(&input.native_place, 50, "native_place", &mut e);
    let education = text(&input.education, 30, "education", &mut e);
    let person_no = text(&input.person_no, 30, "person_no", &mut e);
    let party_post = text(&input.party_post, 50, "party_post", &mut e);
    let job_title = text(&input.job_title, 50, "job_title", &mut e);

    match (name, gender, birth_date, id_number, input.org_id, stage, category, status) {
        (
            Some(name),
            Some(gender),
            Some(birth_date),
            Some(id_number),
            Some(org_id),
            Some(stage),
            Some(category),
            Some(status),
        ) if e.is_empty() => Ok(ValidPerson {
            name,
            gender,
            birth_date,
            id_number,
            phone,
            address,
            org_id,
            stage,
            category,
            status,
            ethnicity,
            native_place,
            education,
            person_no,
            party_post,
            job_title,
            applied_on,
            activist_on,
            candidate_on,
            admitted_on,
            converted_on,
            warnings,
        }),
        _ => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn with_check(body17: &str) -> String {
        format!("{body17}{}", check_char(body17.as_bytes()).unwrap())
    }

    #[test]
    fn id_number_checksum_gb11643() {
        // The standard's own example.
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok(), "lower-case x is accepted");
        assert_eq!(IdNumber::parse("110105194912310021"), Err("公民身份号码校验位不正确，请核对"));
        assert!(IdNumber::parse("11010519491231002").is_err());
        assert!(IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").is_ok(), "full-width digits");
        let bad_date = with_check("11010519491331002");
        assert_eq!(IdNumber::parse(&bad_date), Err("公民身份号码中的出生日期无效"));
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), Some(date!(1949 - 12 - 31)));
        assert_eq!(id.gender(), Gender::Female);
    }

    #[test]
    fn mobiles_follow_the_numbering_plan() {
        assert_eq!(parse_mobile("138 0013 8000"), Ok("13800138000".into()));
        assert_eq!(parse_mobile("+86 199-0000-1111"), Ok("19900001111".into()));
        assert_eq!(parse_mobile("8613800138000"), Ok("13800138000".into()));
        assert_eq!(parse_mobile("１３８００１３８０００"), Ok("13800138000".into()));
        assert!(parse_mobile("12800138000").is_err(), "12x is not a mobile prefix");
        assert!(parse_mobile("1380013800").is_err(), "10 digits");
        assert!(parse_mobile("057188881234").is_err(), "a landline");
        assert!(parse_mobile("1380013800a").is_err());
        assert!(CITE_MOBILE.contains("编号计划"));
    }

    #[test]
    fn passwords_expire_after_90_or_180_days() {
        use time::macros::datetime;
        let set = datetime!(2026-01-01 00:00 UTC);
        assert!(!password_expired(set, true, datetime!(2026-03-31 23:59:59 UTC)));
        assert!(password_expired(set, true, datetime!(2026-04-01 00:00 UTC)), "90 days for administrators");
        assert!(!password_expired(set, false, datetime!(2026-06-29 23:59 UTC)));
        assert!(password_expired(set, false, datetime!(2026-06-30 00:00 UTC)), "180 days for members");
        assert!(CITE_PASSWORD_PERIOD.contains("8.1.4.1"));
    }

    #[test]
    fn passwords_avoid_the_name_in_pinyin_the_birthday_and_party_words() {
        let born = Some(date!(1999 - 03 - 07));
        let name = Err("密码不能包含本人姓名（含拼音）");
        assert_eq!(password_context("Zhangwei-2026!", &["张伟"], None), name);
        assert_eq!(password_context("X9!ZengHong", &["曾红"], None), name);
        assert_eq!(password_context("X9!cenghong", &["曾红"], None), name, "another reading of 曾");
        assert_eq!(password_context("Hongmei#2026", &["李红梅"], None), name, "the given name alone");
        assert_eq!(password_context("我是张伟2026!", &["张伟"], None), name);
        assert!(password_context("Red-lantern-7", &["张伟", "zhang_wei"], born).is_ok());
        let birthday = Err("密码不能包含本人生日");
        assert_eq!(password_context("Pw!19990307x", &[], born), birthday);
        assert_eq!(password_context("Pw!990307xx", &[], born), birthday);
        assert_eq!(password_context("Spring0307!x", &[], born), birthday);
        assert!(password_context("Spring0308!x", &[], born).is_ok());
        for w in ["Dangjian-2026!", "GongChanDang#1", "我爱党2026!ab", "CPC-rocks-99"] {
            assert!(password_context(w, &[], None).is_err(), "{w}");
        }
    }

    #[test]
    fn three_addresses_at_once_suggest_a_shared_account_two_do_not() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(!shared_account_suspected(&a(&["10.1.2.3", "117.136.0.9"])), "desktop and phone");
        assert!(!shared_account_suspected(&a(&["10.1.2.3", "10.1.2.3", "10.1.2.3"])), "one NAT address");
        assert!(!shared_account_suspected(&a(&["-", "", "10.1.2.3"])), "unknown addresses do not count");
        assert!(shared_account_suspected(&a(&["10.1.2.3", "117.136.0.9", "36.112.5.1"])));
    }

    #[test]
    fn three_devices_behind_one_address_suggest_a_shared_account_two_do_not() {
        let s = |v: &[(&str, &str)]| v.iter().map(|(a, u)| (a.to_string(), u.to_string())).collect::<Vec<_>>();
        let win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0";
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) MicroMessenger/8.0";
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1";
        let nat = "10.1.2.3";
        assert_eq!(shared_account_signs(&s(&[(nat, win), (nat, iphone)])), None, "a desktop and a phone");
        assert_eq!(
            shared_account_signs(&s(&[(nat, win), (nat, win), (nat, win)])),
            None,
            "one browser, three sign-ins"
        );
        assert_eq!(shared_account_signs(&s(&[(nat, win), (nat, iphone), (nat, "-"), (nat, "")])), None, "no agent");
        assert_eq!(shared_account_signs(&s(&[(nat, win), (nat, iphone), (nat, mac)])), Some((1, 3)), "one NAT");
        // The phone moving from the Wi-Fi to the mobile network is one device on two addresses.
        assert_eq!(shared_account_signs(&s(&[(nat, win), (nat, iphone), ("117.136.0.9", iphone)])), None);
        // Three addresses are still a sign, whatever the devices.
        assert_eq!(shared_account_signs(&s(&[(nat, win), ("117.136.0.9", win), ("36.112.5.1", win)])), Some((3, 1)));
    }

    #[test]
    fn passwords_avoid_the_university_name_as_written_and_in_pinyin() {
        let refused = Err("密码不能包含本校校名（含拼音）");
        let tops = ["浙江大学党委"];
        assert_eq!(password_university("Zhejiangdaxue1!", &tops), refused);
        assert_eq!(password_university("I-love-ZheJiang-7", &tops), refused, "the name before 大学");
        assert_eq!(password_university("我爱浙江大学!1a", &tops), refused);
        assert_eq!(password_university("Zhejiang#2026", &["中共浙江大学委员会"]), refused);
        assert!(password_university("Red-lantern-7", &tops).is_ok());
        assert!(password_university("Zhejiang-2026!", &["信息学院党委"]).is_ok(), "another name");
        assert!(password_university("Anything-2026!", &[]).is_ok());
        // Abbreviations, as a whole run of letters: ZJU, zjdx; not inside a longer word.
        let abbreviated = Err("密码不能包含本校校名或其缩写（含拼音）");
        assert_eq!(password_university("ZJU@2026-best", &tops), abbreviated);
        assert_eq!(password_university("love-zjdx-1!", &tops), abbreviated);
        assert_eq!(password_university("DHU#2026#spring", &["东湖大学党委"]), abbreviated);
        assert!(password_university("Zjuice-2026-best", &tops).is_ok(), "a longer word");
        assert!(password_university("ZJ-2026-best!", &tops).is_ok(), "two letters say nothing");
    }

    #[test]
    fn phones_and_dates_are_normalised() {
        assert_eq!(parse_phone("１３８００１３８０００").unwrap(), "13800138000");
        assert_eq!(parse_phone("0571-88881234").unwrap(), "057188881234");
        assert!(parse_phone("1380013800").is_err(), "10-digit mobile");
        assert_eq!(parse_date("2019.9.1"), Some(date!(2019 - 09 - 01)));
        assert_eq!(parse_date("2019年9月1日"), Some(date!(2019 - 09 - 01)));
        assert_eq!(parse_date("2019-02-30"), None);
    }

    fn valid() -> PersonInput {
        PersonInput {
            name: Some(" 李红 ".into()),
            gender: Some("female".into()),
            birth_date: Some("1949-12-31".into()),
            id_number: Some("11010519491231002X".into()),
            org_id: Some(1),
            stage: Some("full".into()),
            category: Some("retired".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_person_passes_and_is_trimmed() {
        let p = validate_person(&valid(), date!(2026 - 11 - 23)).unwrap();
        assert_eq!(p.name, "李红");
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn every_bad_item_gets_its_message() {
        let input = PersonInput {
            name: Some("  ".into()),
            birth_date: Some("2030-01-01".into()),
            id_number: Some("110105194912310021".into()),
            phone: Some("1380013800".into()),
            org_id: None,
            ..valid()
        };
        let e = validate_person(&input, date!(2026 - 11 - 23)).unwrap_err();
        for f in ["name", "birth_date", "id_number", "phone", "org_id"] {
            assert!(e.contains_key(f), "{f} missing from {e:?}");
        }
    }

    #[test]
    fn birth_date_or_gender_disagreeing_with_id_warn() {
        let input = PersonInput { birth_date: Some("1949-12-30".into()), ..valid() };
        assert_eq!(validate_person(&input, date!(2026 - 11 - 23)).unwrap().warnings.len(), 1);
        let input = PersonInput { gender: Some("male".into()), ..valid() };
        assert_eq!(validate_person(&input, date!(2026 - 11 - 23)).unwrap().warnings.len(), 1);
    }

    #[test]
    fn stage_dates_in_order_and_probation_a_year() {
        let input =
            PersonInput { applied_on: Some("1980-05-01".into()), activist_on: Some("1980-04-01".into()), ..valid() };
        assert!(validate_person(&input, date!(2026 - 11 - 23)).unwrap_err().contains_key("activist_on"));
        let input =
            PersonInput { admitted_on: Some("1980-05-20".into()), converted_on: Some("1981-05-19".into()), ..valid() };
        assert!(validate_person(&input, date!(2026 - 11 - 23)).unwrap_err().contains_key("converted_on"));
        let input = PersonInput { converted_on: Some("1981-05-20".into()), ..input };
        assert!(validate_person(&input, date!(2026 - 11 - 23)).is_ok());
    }

    #[test]
    fn applicant_must_be_eighteen() {
        let input = PersonInput {
            birth_date: Some("2007-09-16".into()),
            id_number: Some(with_check("33010620070916123")),
            gender: Some("male".into()),
            stage: Some("applicant".into()),
            applied_on: Some("2025-09-15".into()),
            ..valid()
        };
        assert!(validate_person(&input, date!(2026 - 11 - 23)).unwrap_err().contains_key("applied_on"));
    }
}
