//! What a meeting's attendees are told (会议通知), pure: which news a create or an update of a meeting makes —
//! planned, changed (day, time, place or link), cancelled — who receives it, and the notice's title and text.
//! The service sends it as a notice (crate::notices) whose audience is those attendees, so the receipts, the
//! home page's "待确认" list and the reminders are those of every notice.

use time::{Date, Weekday};

use crate::model::{Meeting, MeetingKind, MeetingStatus, ValidMeeting};

/// The news of a meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum News {
    /// 会议通知: a meeting is planned (or an attendee is added to a planned one, or a cancelled one is planned again).
    Planned,
    /// 会议变更通知: the day, time, place or online link of a planned meeting changed.
    Changed,
    /// 会议取消通知.
    Cancelled,
}

impl News {
    fn prefix(self) -> &'static str {
        match self {
            News::Planned => "会议通知",
            News::Changed => "会议变更通知",
            News::Cancelled => "会议取消通知",
        }
    }
}

/// A meeting that is planned for a day not yet past: the only one worth telling anyone about.
fn ahead(status: MeetingStatus, held_on: Date, today: Date) -> bool {
    status == MeetingStatus::Planned && held_on >= today
}

/// The news a newly stored meeting makes: a planned meeting ahead tells all its attendees.
pub fn of_create(v: &ValidMeeting, today: Date) -> Option<News> {
    ahead(v.status, v.held_on, today).then_some(News::Planned)
}

/// The news an update makes and whom it goes to: `before` the meeting as it was, `after` as it is written,
/// `after_ids` its attendees afterwards. A cancellation goes to those invited before; a change of day, time,
/// place or link to all attendees afterwards; otherwise people newly added to a planned meeting get its
/// notice. Changes of a meeting already held or past (the minutes, a title) tell nobody.
pub fn of_update(before: &Meeting, after: &ValidMeeting, after_ids: &[i64], today: Date) -> Option<(News, Vec<i64>)> {
    let before_ids: Vec<i64> = before.attendees.iter().map(|a| a.person_id).collect();
    if before.status == MeetingStatus::Planned && after.status == MeetingStatus::Cancelled {
        return (before.held_on >= today).then_some((News::Cancelled, before_ids));
    }
    if !ahead(after.status, after.held_on, today) {
        return None;
    }
    if before.status != MeetingStatus::Planned || before.held_on < today {
        return Some((News::Planned, after_ids.to_vec()));
    }
    let moved = before.held_on != after.held_on
        || before.start_time != after.start_time
        || before.place != after.place
        || before.online_link != after.online_link;
    if moved {
        return Some((News::Changed, after_ids.to_vec()));
    }
    let added: Vec<i64> = after_ids.iter().copied().filter(|p| !before_ids.contains(p)).collect();
    (!added.is_empty()).then_some((News::Planned, added))
}

fn weekday(d: Date) -> &'static str {
    match d.weekday() {
        Weekday::Monday => "星期一",
        Weekday::Tuesday => "星期二",
        Weekday::Wednesday => "星期三",
        Weekday::Thursday => "星期四",
        Weekday::Friday => "星期五",
        Weekday::Saturday => "星期六",
        Weekday::Sunday => "星期日",
    }
}

/// "2026年12月3日（星期四）14:30".
pub fn when(held_on: Date, start_time: Option<&str>) -> String {
    let time = start_time.map(|t| format!(" {t}")).unwrap_or_default();
    format!("{}（{}）{time}", kernel::dates::chinese(held_on), weekday(held_on))
}

/// The notice's title and plain text (paragraphs split by a blank line).
pub fn notice_text(news: News, v: &ValidMeeting, org_name: &str) -> (String, String) {
    let title = format!("{}：{}", news.prefix(), v.title);
    let kind = v.kind.label();
    let when = when(v.held_on, v.start_time.as_deref());
    let mut parts: Vec<String> = Vec::new();
    match news {
        News::Planned => parts.push(format!("{org_name}定于{when}召开{kind}，请准时参加。")),
        News::Changed => parts.push(format!("{org_name}的{kind}“{}”时间或地点有变更，以本通知为准。", v.title)),
        News::Cancelled => {
            parts.push(format!("{org_name}原定于{when}召开的{kind}“{}”已取消，另行通知。", v.title));
            return (title, parts.join("\n\n"));
        }
    }
    let mut lines = vec![format!("时间：{when}")];
    if let Some(p) = &v.place {
        lines.push(format!("地点：{p}"));
    }
    if let Some(l) = &v.online_link {
        lines.push(format!("线上会议：{l}"));
    }
    parts.push(lines.join("\n"));
    if let Some(a) = &v.agenda {
        parts.push(format!("议程：\n{a}"));
    }
    let leave = if v.kind == MeetingKind::HeartTalk {
        "如时间不便，请与支部书记另约。"
    } else {
        "因故不能参加的，请在会议页面请假并说明事由。"
    };
    parts.push(leave.into());
    (title, parts.join("\n\n"))
}

/// The notice of a recurring plan: one for the whole schedule, to the attendees of its meetings.
pub fn plan_notice_text(
    plan_title: &str,
    rule: &str,
    v: &ValidMeeting,
    org_name: &str,
    days: &[Date],
) -> (String, String) {
    let title = format!("会议计划通知：{plan_title}");
    let kind = v.kind.label();
    let time = v.start_time.as_deref().map(|t| format!(" {t}")).unwrap_or_default();
    let mut parts = vec![format!("{org_name}{rule}{time}召开{kind}，共{}次，请准时参加：", days.len())];
    parts.push(days.iter().map(|d| when(*d, v.start_time.as_deref())).collect::<Vec<_>>().join("\n"));
    if let Some(p) = &v.place {
        parts.push(format!("地点：{p}"));
    }
    if let Some(l) = &v.online_link {
        parts.push(format!("线上会议：{l}"));
    }
    if let Some(a) = &v.agenda {
        parts.push(format!("议程：\n{a}"));
    }
    parts.push(
        "某次会议的时间、地点如有调整或取消，将另行通知。因故不能参加的，请在该次会议页面请假并说明事由。".into(),
    );
    (title, parts.join("\n\n"))
}

/// The notice of a whole plan cancelled: one, to the attendees of the meetings it cancelled, listing them.
pub fn plan_cancel_notice_text(
    plan_title: &str,
    kind: MeetingKind,
    start_time: Option<&str>,
    org_name: &str,
    days: &[Date],
    reason: &str,
) -> (String, String) {
    let title = format!("会议计划取消通知：{plan_title}");
    let list = days.iter().map(|d| when(*d, start_time)).collect::<Vec<_>>().join("\n");
    let text = format!(
        "{org_name}的{}定期计划“{plan_title}”已取消，以下{}次会议不再召开：\n{list}\n\n取消原因：{reason}",
        kind.label(),
        days.len()
    );
    (title, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttendanceStats, Attendee};
    use time::macros::date;

    fn valid(held_on: Date, status: MeetingStatus) -> ValidMeeting {
        ValidMeeting {
            org_id: 5,
            kind: MeetingKind::ThemeDay,
            title: "12月主题党日".into(),
            held_on,
            start_time: Some("14:30".into()),
            place: Some("学院楼301".into()),
            online_link: None,
            agenda: Some("1. 学习\n2. 讨论".into()),
            minutes: None,
            status,
            attendee_ids: None,
        }
    }

    fn stored(v: &ValidMeeting, ids: &[i64]) -> Meeting {
        Meeting {
            id: 1,
            org_id: v.org_id,
            org_name: "第一党支部".into(),
            kind: v.kind,
            kind_label: v.kind.label(),
            title: v.title.clone(),
            held_on: v.held_on,
            start_time: v.start_time.clone(),
            place: v.place.clone(),
            online_link: v.online_link.clone(),
            agenda: v.agenda.clone(),
            minutes: None,
            status: v.status,
            status_label: v.status.label(),
            archived: false,
            version: 1,
            attendees: ids
                .iter()
                .map(|p| Attendee {
                    person_id: *p,
                    name: String::new(),
                    attendance: None,
                    attendance_label: "",
                    reason: None,
                })
                .collect(),
            stats: AttendanceStats::default(),
            org_path: "/1/".into(),
            org_kind: None,
            minutes_files: Vec::new(),
            plan_id: None,
        }
    }

    const TODAY: Date = date!(2026 - 11 - 24);

    #[test]
    fn only_a_planned_meeting_ahead_is_announced() {
        assert_eq!(of_create(&valid(date!(2026 - 12 - 03), MeetingStatus::Planned), TODAY), Some(News::Planned));
        assert_eq!(of_create(&valid(TODAY, MeetingStatus::Planned), TODAY), Some(News::Planned));
        assert_eq!(of_create(&valid(date!(2026 - 11 - 20), MeetingStatus::Held), TODAY), None);
        assert_eq!(of_create(&valid(date!(2026 - 11 - 20), MeetingStatus::Planned), TODAY), None);
    }

    #[test]
    fn updates_tell_the_right_people() {
        let v = valid(date!(2026 - 12 - 03), MeetingStatus::Planned);
        let before = stored(&v, &[1, 2, 3]);
        // Nothing that matters to the attendees: no news.
        let retitled = ValidMeeting { title: "新标题".into(), ..v.clone() };
        assert_eq!(of_update(&before, &retitled, &[1, 2, 3], TODAY), None);
        // A new place: everyone invited afterwards.
        let moved = ValidMeeting { place: Some("图书馆报告厅".into()), ..v.clone() };
        assert_eq!(of_update(&before, &moved, &[1, 2, 4], TODAY), Some((News::Changed, vec![1, 2, 4])));
        // Someone added: only she gets the notice.
        assert_eq!(of_update(&before, &v, &[1, 2, 3, 4], TODAY), Some((News::Planned, vec![4])));
        // Cancelled: those who were told before.
        let cancelled = ValidMeeting { status: MeetingStatus::Cancelled, ..v.clone() };
        assert_eq!(of_update(&before, &cancelled, &[1], TODAY), Some((News::Cancelled, vec![1, 2, 3])));
        // Planned again after a cancellation: a fresh notice to all.
        let was_cancelled = stored(&cancelled, &[1, 2]);
        assert_eq!(of_update(&was_cancelled, &v, &[1, 2], TODAY), Some((News::Planned, vec![1, 2])));
        // Recorded as held: nobody.
        let held = ValidMeeting { status: MeetingStatus::Held, held_on: TODAY, ..v.clone() };
        assert_eq!(of_update(&before, &held, &[1, 2, 3], TODAY), None);
    }

    #[test]
    fn the_notice_says_when_where_and_what() {
        let v = valid(date!(2026 - 12 - 03), MeetingStatus::Planned);
        let (title, text) = notice_text(News::Planned, &v, "第一党支部");
        assert_eq!(title, "会议通知：12月主题党日");
        assert!(text.starts_with("第一党支部定于2026年12月3日（星期四） 14:30召开主题党日，请准时参加。"), "{text}");
        assert!(
            text.contains("地点：学院楼301") && text.contains("议程：\n1. 学习") && text.contains("请假"),
            "{text}"
        );
        let (title, text) = notice_text(News::Cancelled, &v, "第一党支部");
        assert_eq!(title, "会议取消通知：12月主题党日");
        assert!(text.contains("已取消") && !text.contains("地点"), "{text}");
        assert_eq!(notice_text(News::Changed, &v, "x").0, "会议变更通知：12月主题党日");
    }

    #[test]
    fn a_plan_is_announced_once_with_its_days() {
        let v = valid(date!(2026 - 12 - 15), MeetingStatus::Planned);
        let days = [date!(2026 - 12 - 15), date!(2027 - 01 - 15)];
        let (title, text) = plan_notice_text("主题党日", "每月15日", &v, "第一党支部", &days);
        assert_eq!(title, "会议计划通知：主题党日");
        assert!(text.starts_with("第一党支部每月15日 14:30召开主题党日，共2次"), "{text}");
        assert!(text.contains("2026年12月15日（星期二） 14:30\n2027年1月15日（星期五） 14:30"), "{text}");
    }
}
