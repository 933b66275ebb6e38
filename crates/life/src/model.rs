//! The types of organizational life, parsed at the boundary: the meeting kinds and statuses exactly as
//! api-contract.md names them, a meeting as the API takes and shows it, attendance and its statistics.
//! Code lists are stored as stable English codes and shown with Chinese labels.

use std::collections::BTreeMap;

use platform::model::OrgKind;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

/// Field name → Chinese message, every bad item of one request at once.
pub type FieldErrors = BTreeMap<String, String>;

use platform::code_list;

code_list! {
    /// The kinds of organizational life (api-contract.md "Organizational life"; domain.md ORG-01…08).
    MeetingKind {
        /// 支部党员大会 (ORG-01, quarterly).
        BranchAssembly = "branch_assembly", "支部党员大会";
        /// 支委会 (ORG-02, monthly).
        Committee = "committee", "支委会";
        /// 党小组会 (ORG-03, monthly).
        Group = "group", "党小组会";
        /// 党课 (ORG-04).
        PartyLecture = "party_lecture", "党课";
        /// 主题党日 (ORG-05, monthly).
        ThemeDay = "theme_day", "主题党日";
        /// 组织生活会 (ORG-06, yearly).
        LifeMeeting = "life_meeting", "组织生活会";
        /// 谈心谈话 (ORG-08, yearly for every member).
        HeartTalk = "heart_talk", "谈心谈话";
    }
}

code_list! {
    /// Where a meeting stands. Only `held` meetings count toward the compliance calendar.
    MeetingStatus {
        Planned = "planned", "计划召开";
        Held = "held", "已召开";
        Cancelled = "cancelled", "已取消";
    }
}

code_list! {
    /// One attendee's attendance; absent from the record until the secretary (or a leave request) sets it.
    Attendance {
        Present = "present", "出席";
        Leave = "leave", "请假";
        Absent = "absent", "缺席";
    }
}

impl MeetingKind {
    /// Which organizations hold this kind of meeting. A 党课 may also be given at a committee (the
    /// committee secretary's yearly lecture, ORG-04); 党小组会 belong to groups; the rest to branches.
    pub fn held_by(self, org: OrgKind) -> bool {
        use MeetingKind::*;
        match self {
            BranchAssembly | Committee | ThemeDay | LifeMeeting => org == OrgKind::Branch,
            Group => org == OrgKind::Group,
            HeartTalk => matches!(org, OrgKind::Branch | OrgKind::Group),
            PartyLecture => true,
        }
    }

    /// The sentence a wrong organization gets.
    pub fn held_by_message(self) -> String {
        use MeetingKind::*;
        let who = match self {
            BranchAssembly | Committee | ThemeDay | LifeMeeting => "党支部",
            Group => "党小组",
            HeartTalk => "党支部或党小组",
            PartyLecture => "党组织",
        };
        format!("{}应由{}组织，请选择相应的党组织", self.label(), who)
    }

    /// Whom the meeting invites when the caller names no one: the members of the organization, or for a
    /// 支委会 its committee members, or for a talk and a committee's lecture nobody (the secretary picks).
    pub fn default_attendees(self) -> DefaultAttendees {
        match self {
            MeetingKind::Committee => DefaultAttendees::Committee,
            MeetingKind::HeartTalk => DefaultAttendees::Nobody,
            _ => DefaultAttendees::Members,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAttendees {
    Members,
    Committee,
    Nobody,
}

/// Whether a party post (党内职务, free text on the person's record) is a seat on the branch committee: the
/// secretary, a deputy, or a committee member (组织委员, 宣传委员, 纪检委员 …). A group leader (党小组长) is not.
pub fn is_committee_post(post: &str) -> bool {
    let post = post.trim();
    !post.is_empty() && !post.contains("小组") && (post.contains("书记") || post.contains("委员"))
}

/// A meeting as the API takes it. On create, `org_id`, `kind`, `title` and `held_on` are required; on
/// update, items left out keep their value. Dates and times are strings so that a malformed one is a
/// field error (422), not a rejected body.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct MeetingInput {
    /// The branch or group that holds the meeting (a committee for a secretary's 党课).
    #[schema(example = 5)]
    pub org_id: Option<i64>,
    /// branch_assembly, committee, group, party_lecture, theme_day, life_meeting, heart_talk.
    #[schema(example = "committee")]
    pub kind: Option<String>,
    #[schema(example = "1月支委会：研究发展党员工作")]
    pub title: Option<String>,
    /// The day the meeting is (or was) held, `YYYY-MM-DD`.
    #[schema(example = "2025-01-13")]
    pub held_on: Option<String>,
    /// `HH:MM`, optional.
    #[schema(example = "14:30")]
    pub start_time: Option<String>,
    #[schema(example = "学院楼301会议室")]
    pub place: Option<String>,
    /// An online meeting's link (http or https).
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    /// Minutes as plain text (shown as written, never as HTML).
    pub minutes: Option<String>,
    /// planned, held, cancelled. Default: `held` for a day up to today, `planned` for a later day.
    pub status: Option<String>,
    /// People invited; each must belong to the organization or one below it. Default: the members of the
    /// organization (for a 支委会: those holding a party post; for a talk: nobody).
    pub attendee_ids: Option<Vec<i64>>,
    /// On update: the version read, to refuse a change made meanwhile by someone else.
    pub version: Option<i64>,
}

/// A meeting input that passed the checks that need no database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidMeeting {
    pub org_id: i64,
    pub kind: MeetingKind,
    pub title: String,
    pub held_on: Date,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    pub minutes: Option<String>,
    pub status: MeetingStatus,
    pub attendee_ids: Option<Vec<i64>>,
}

/// How long free-text items may be.
pub const TITLE_MAX: usize = 100;
pub const PLACE_MAX: usize = 200;
pub const LINK_MAX: usize = 500;
pub const AGENDA_MAX: usize = 5_000;
pub const MINUTES_MAX: usize = 50_000;
pub const REASON_MAX: usize = 200;
/// The largest meeting (a branch is generally ≤ 50 members; a committee's lecture may invite a college).
pub const ATTENDEES_MAX: usize = 2_000;

pub const DATE_FORMAT_MESSAGE: &str = "日期格式应为 YYYY-MM-DD，例如 2025-03-10";

/// Parses a `YYYY-MM-DD` date item, or says why not.
pub fn parse_date(v: &str) -> Result<Date, &'static str> {
    kernel::dates::parse_iso(v).ok_or(DATE_FORMAT_MESSAGE)
}

/// A calendar year item (`2025`), or the field error.
pub fn parse_year(v: Option<&str>) -> Result<Option<i32>, FieldErrors> {
    let Some(s) = v.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    match s.parse::<i32>() {
        Ok(y) if (1921..=9999).contains(&y) => Ok(Some(y)),
        _ => Err(FieldErrors::from([("year".to_string(), "年份应为四位数字，例如 2025".to_string())])),
    }
}

/// `as_of` (default `today`) and `year` of a calendar question, or the field errors of both.
pub fn parse_as_of_year(
    as_of: Option<&str>,
    year: Option<&str>,
    today: Date,
) -> Result<(Date, Option<i32>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let as_of = match as_of.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(today),
        Some(s) => parse_date(s).map_err(|m| errors.insert("as_of".into(), m.into())).ok(),
    };
    let year = parse_year(year).map_err(|e| errors.extend(e)).ok().flatten();
    match as_of {
        Some(d) if errors.is_empty() => Ok((d, year)),
        _ => Err(errors),
    }
}

/// `HH:MM` on a 24-hour clock.
pub fn parse_time(v: &str) -> Result<String, &'static str> {
    let v = v.trim();
    let ok = match v.split_once(':') {
        Some((h, m)) if h.len() == 2 && m.len() == 2 => {
            matches!((h.parse::<u8>(), m.parse::<u8>()), (Ok(h), Ok(m)) if h < 24 && m < 60)
        }
        _ => false,
    };
    if ok { Ok(v.to_string()) } else { Err("开始时间格式应为 HH:MM（24小时制），例如 14:30") }
}

fn text(v: &Option<String>, max: usize, field: &str, label: &str, errors: &mut FieldErrors) -> Option<String> {
    let t = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if t.chars().count() > max {
        errors.insert(field.into(), format!("{label}不能超过{max}字"));
    }
    Some(t.to_string())
}

/// Checks a complete meeting (a create, or an update merged with the stored meeting). `today` decides the
/// default status and refuses a "held" meeting in the future. Every bad item is reported at once.
pub fn validate_meeting(input: &MeetingInput, today: Date) -> Result<ValidMeeting, FieldErrors> {
    let mut errors = FieldErrors::new();
    let org_id = input.org_id;
    if org_id.is_none() {
        errors.insert("org_id".into(), "请选择召开会议的党组织".into());
    }
    let kind = match input.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            errors.insert("kind".into(), "请选择会议类型".into());
            None
        }
        Some(k) => {
            let kind = MeetingKind::parse(k);
            if kind.is_none() {
                errors.insert(
                    "kind".into(),
                    "会议类型应为支部党员大会、支委会、党小组会、党课、主题党日、组织生活会或谈心谈话".into(),
                );
            }
            kind
        }
    };
    let title = text(&input.title, TITLE_MAX, "title", "会议名称", &mut errors);
    match &title {
        None => {
            errors.insert("title".into(), "请填写会议名称".into());
        }
        Some(t) if t.chars().count() < 2 => {
            errors.insert("title".into(), "会议名称至少2个字".into());
        }
        Some(_) => {}
    }
    let held_on = match input.held_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            errors.insert("held_on".into(), "请填写会议日期".into());
            None
        }
        Some(s) => match parse_date(s) {
            Ok(d) if d.year() < 1921 => {
                errors.insert("held_on".into(), "会议日期不合理，请核对年份".into());
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                errors.insert("held_on".into(), m.into());
                None
            }
        },
    };
    let start_time = match input.start_time.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match parse_time(s) {
            Ok(t) => Some(t),
            Err(m) => {
                errors.insert("start_time".into(), m.into());
                None
            }
        },
    };
    let place = text(&input.place, PLACE_MAX, "place", "会议地点", &mut errors);
    let online_link = text(&input.online_link, LINK_MAX, "online_link", "线上会议链接", &mut errors);
    if let Some(l) = &online_link
        && !(l.starts_with("https://") || l.starts_with("http://"))
    {
        errors.insert("online_link".into(), "线上会议链接应以 https:// 或 http:// 开头".into());
    }
    let agenda = text(&input.agenda, AGENDA_MAX, "agenda", "会议议程", &mut errors);
    let minutes = text(&input.minutes, MINUTES_MAX, "minutes", "会议记录", &mut errors);
    let status = match input.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => held_on.map(|d| if d <= today { MeetingStatus::Held } else { MeetingStatus::Planned }),
        Some(s) => {
            let st = MeetingStatus::parse(s);
            if st.is_none() {
                errors.insert("status".into(), "会议状态应为计划召开、已召开或已取消".into());
            }
            st
        }
    };
    if status == Some(MeetingStatus::Held)
        && let Some(d) = held_on.filter(|d| *d > today)
    {
        errors
            .insert("status".into(), format!("会议日期{}晚于今天，尚未召开，不能标记为已召开", kernel::dates::iso(d)));
    }
    let attendee_ids = input.attendee_ids.as_ref().map(|ids| {
        let mut ids = ids.clone();
        ids.sort_unstable();
        ids.dedup();
        ids
    });
    if attendee_ids.as_ref().is_some_and(|ids| ids.len() > ATTENDEES_MAX) {
        errors.insert("attendee_ids".into(), format!("参会人员最多{ATTENDEES_MAX}人"));
    }
    match (org_id, kind, title, held_on, status) {
        (Some(org_id), Some(kind), Some(title), Some(held_on), Some(status)) if errors.is_empty() => Ok(ValidMeeting {
            org_id,
            kind,
            title,
            held_on,
            start_time,
            place,
            online_link,
            agenda,
            minutes,
            status,
            attendee_ids,
        }),
        _ => Err(errors),
    }
}

/// One attendee of a meeting.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Attendee {
    pub person_id: i64,
    #[schema(example = "李红")]
    pub name: String,
    /// `null` until attendance is taken.
    pub attendance: Option<Attendance>,
    #[schema(example = "出席")]
    pub attendance_label: &'static str,
    /// The reason of a leave.
    pub reason: Option<String>,
}

/// Attendance counts of one meeting (or of one person over a year).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttendanceStats {
    pub invited: i64,
    pub present: i64,
    pub leave: i64,
    pub absent: i64,
    /// Invited but not yet recorded.
    pub unrecorded: i64,
    /// Present among those recorded (present + leave + absent), in whole percent (half up); `null` before
    /// any attendance is recorded. Unrecorded entries are the secretary's backlog, not absences.
    pub present_percent: Option<i64>,
}

impl AttendanceStats {
    pub fn new(invited: i64, present: i64, leave: i64, absent: i64) -> AttendanceStats {
        let recorded = present + leave + absent;
        let present_percent = (recorded > 0).then(|| (present * 200 + recorded) / (recorded * 2));
        AttendanceStats {
            invited,
            present,
            leave,
            absent,
            unrecorded: (invited - present - leave - absent).max(0),
            present_percent,
        }
    }
}

/// A meeting as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Meeting {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: MeetingKind,
    pub kind_label: &'static str,
    pub title: String,
    #[schema(value_type = String, format = Date, example = "2025-01-13")]
    pub held_on: Date,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    pub minutes: Option<String>,
    pub status: MeetingStatus,
    pub status_label: &'static str,
    /// An archived meeting (归档) can no longer be changed.
    pub archived: bool,
    pub version: i64,
    pub attendees: Vec<Attendee>,
    pub stats: AttendanceStats,
    /// Files attached to the minutes (会议记录附件), in upload order.
    pub minutes_files: Vec<platform::files::AttachmentMeta>,
    /// The recurring plan that wrote it (定期计划), if any.
    pub plan_id: Option<i64>,
    #[serde(skip)]
    pub org_path: String,
    #[serde(skip)]
    pub org_kind: Option<OrgKind>,
}

/// A line of a meeting list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MeetingSummary {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub kind: MeetingKind,
    pub kind_label: &'static str,
    pub title: String,
    #[schema(value_type = String, format = Date, example = "2025-01-13")]
    pub held_on: Date,
    pub start_time: Option<String>,
    pub place: Option<String>,
    pub status: MeetingStatus,
    pub status_label: &'static str,
    pub archived: bool,
    pub stats: AttendanceStats,
}

/// One person's attendance over a year.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PersonAttendance {
    pub person_id: i64,
    pub name: String,
    pub org_name: String,
    pub stats: AttendanceStats,
}

/// One attendance entry as the secretary records it.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct AttendanceEntry {
    pub person_id: i64,
    /// present, leave, absent; empty or null clears the entry.
    #[schema(example = "present")]
    pub status: Option<String>,
    /// Required for a leave.
    #[schema(example = "外出实习")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct AttendanceInput {
    pub entries: Vec<AttendanceEntry>,
}

/// A member's leave request for a meeting she is invited to.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct LeaveInput {
    #[schema(example = "参加学院实习，无法到会")]
    pub reason: Option<String>,
}

/// A person who may be invited to a meeting of an organization (a Party member of its subtree).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    /// Holds a committee post (secretary, deputy, committee member).
    pub on_committee: bool,
    /// Full or probationary member.
    pub stage: &'static str,
}

/// One organization's line of a roll-up (a college or the university): how many flags its calendar has.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RollupLine {
    pub org_id: i64,
    pub name: String,
    pub kind_label: &'static str,
    /// All flags in the fully elapsed periods of the year.
    pub flags: usize,
    pub violations: usize,
    pub reminders: usize,
    /// Flags per rule, e.g. `{"ORG-02": 1}`.
    #[schema(value_type = Object)]
    pub by_rule: BTreeMap<&'static str, usize>,
    /// Meetings held in the year.
    pub meetings_held: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input() -> MeetingInput {
        MeetingInput {
            org_id: Some(5),
            kind: Some("committee".into()),
            title: Some("1月支委会".into()),
            held_on: Some("2025-01-13".into()),
            ..MeetingInput::default()
        }
    }

    #[test]
    fn a_complete_meeting_is_valid_and_held_when_past() {
        let v = validate_meeting(&input(), date!(2025 - 04 - 01)).unwrap();
        assert_eq!(v.kind, MeetingKind::Committee);
        assert_eq!(v.status, MeetingStatus::Held);
        let future = MeetingInput { held_on: Some("2025-05-01".into()), ..input() };
        assert_eq!(validate_meeting(&future, date!(2025 - 04 - 01)).unwrap().status, MeetingStatus::Planned);
    }

    #[test]
    fn every_bad_item_is_reported_at_once() {
        let bad = MeetingInput {
            org_id: None,
            kind: Some("party_congress".into()),
            title: Some("会".into()),
            held_on: Some("2025-13-01".into()),
            start_time: Some("25:00".into()),
            online_link: Some("ftp://x".into()),
            status: Some("done".into()),
            ..MeetingInput::default()
        };
        let e = validate_meeting(&bad, date!(2025 - 04 - 01)).unwrap_err();
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(keys, ["held_on", "kind", "online_link", "org_id", "start_time", "status", "title"]);
        assert_eq!(e["held_on"], DATE_FORMAT_MESSAGE);
    }

    #[test]
    fn held_in_the_future_is_refused() {
        let v = MeetingInput { held_on: Some("2025-05-01".into()), status: Some("held".into()), ..input() };
        let e = validate_meeting(&v, date!(2025 - 04 - 01)).unwrap_err();
        assert!(e["status"].contains("晚于今天"));
    }

    #[test]
    fn kinds_parse_code_or_label_and_know_their_organizations() {
        assert_eq!(MeetingKind::parse("支委会"), Some(MeetingKind::Committee));
        assert_eq!(MeetingKind::parse("theme_day"), Some(MeetingKind::ThemeDay));
        assert!(MeetingKind::Committee.held_by(OrgKind::Branch));
        assert!(!MeetingKind::Committee.held_by(OrgKind::Group));
        assert!(MeetingKind::Group.held_by(OrgKind::Group));
        assert!(MeetingKind::PartyLecture.held_by(OrgKind::CollegeCommittee));
        assert!(!MeetingKind::ThemeDay.held_by(OrgKind::CollegeCommittee));
    }

    #[test]
    fn attendance_rate_rounds_half_up() {
        assert_eq!(AttendanceStats::new(3, 2, 1, 0).present_percent, Some(67));
        assert_eq!(AttendanceStats::new(8, 1, 0, 7).present_percent, Some(13), "12.5 → 13");
        assert_eq!(AttendanceStats::new(9, 1, 0, 1).present_percent, Some(50), "the unrecorded do not count");
        assert_eq!(AttendanceStats::new(4, 0, 0, 0).present_percent, None);
        assert_eq!(AttendanceStats::new(5, 2, 1, 1).unrecorded, 1);
    }

    #[test]
    fn committee_posts() {
        for p in ["支部书记", "副书记", "组织委员", "宣传委员", "纪检委员", "书记"] {
            assert!(is_committee_post(p), "{p}");
        }
        for p in ["", "党小组长", "党员", "小组副组长"] {
            assert!(!is_committee_post(p), "{p}");
        }
    }

    #[test]
    fn as_of_and_year_parse_together() {
        let today = date!(2026 - 01 - 01);
        assert_eq!(parse_as_of_year(None, None, today), Ok((today, None)));
        assert_eq!(parse_as_of_year(Some("2025-04-01"), Some("2025"), today), Ok((date!(2025 - 04 - 01), Some(2025))));
        let e = parse_as_of_year(Some("2025-4-1"), Some("25"), today).unwrap_err();
        assert_eq!(e.keys().collect::<Vec<_>>(), ["as_of", "year"]);
    }

    #[test]
    fn times_are_24_hour() {
        assert_eq!(parse_time("09:05"), Ok("09:05".into()));
        assert!(parse_time("9:05").is_err());
        assert!(parse_time("24:00").is_err());
    }
}
