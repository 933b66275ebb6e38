//! A member's calendar feed (iCalendar, RFC 5545): `/calendar/{token}.ics` lists the meetings she is invited to
//! from today on (三会一课, 主题党日, 组织生活会, 党课 …), so her phone's calendar shows them. The token is hers
//! alone: 256 random bits shown once, only its SHA-256 kept; she can revoke it or make a new one (the old one
//! stops at once). The feed needs no session (calendar apps cannot sign in), so it carries only what a calendar
//! needs: kind, title, date and time, place or link, the organization.

use platform::{Actor, Ctx};
use security::audit;
use time::{Date, OffsetDateTime};

use super::Services;
use super::store::{self, FeedMeeting};
use crate::model::{MeetingKind, MeetingStatus};
use crate::service::{Error, Result, event, now};

/// The most meetings one feed lists.
pub const FEED_LIMIT: i64 = 500;
/// How long a meeting without an end lasts in the calendar (a start time and no end time: 2 hours).
pub const DEFAULT_MINUTES: i64 = 120;

/// RFC 5545 3.3.11: backslash, semicolon and comma escaped, line breaks as `\n`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// RFC 5545 3.1: content lines longer than 75 octets are folded (CRLF and a space), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

fn stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{}T{:02}{:02}{:02}Z", ymd(t.date()), t.hour(), t.minute(), t.second())
}

/// "HH:MM" Beijing time → the UTC instant of that day.
fn beijing(d: Date, hhmm: &str) -> Option<OffsetDateTime> {
    let (h, m) = hhmm.split_once(':')?;
    let t = time::Time::from_hms(h.trim().parse().ok()?, m.trim().parse().ok()?, 0).ok()?;
    let offset = time::UtcOffset::from_hms(8, 0, 0).ok()?;
    Some(time::PrimitiveDateTime::new(d, t).assume_offset(offset))
}

/// The feed as an iCalendar document; `host` names the events' UIDs (`meeting-7@host`).
pub fn ics(meetings: &[FeedMeeting], host: &str, now: OffsetDateTime) -> String {
    let mut out = String::new();
    for l in
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//dangjian//组织生活//ZH", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    {
        fold(l, &mut out);
    }
    fold("X-WR-CALNAME:组织生活", &mut out);
    fold("X-WR-TIMEZONE:Asia/Shanghai", &mut out);
    for m in meetings {
        let kind = MeetingKind::parse(&m.kind).map_or("会议", |k| k.label());
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:meeting-{}@{}", m.id, escape(host)), &mut out);
        fold(&format!("DTSTAMP:{}", stamp(now)), &mut out);
        fold(&format!("LAST-MODIFIED:{}", stamp(m.updated_at)), &mut out);
        match m.start_time.as_deref().and_then(|t| beijing(m.held_on, t)) {
            Some(start) => {
                fold(&format!("DTSTART:{}", stamp(start)), &mut out);
                fold(&format!("DTEND:{}", stamp(start + time::Duration::minutes(DEFAULT_MINUTES))), &mut out);
            }
            None => {
                fold(&format!("DTSTART;VALUE=DATE:{}", ymd(m.held_on)), &mut out);
                fold(&format!("DTEND;VALUE=DATE:{}", ymd(m.held_on.next_day().unwrap_or(m.held_on))), &mut out);
            }
        }
        fold(&format!("SUMMARY:{}", escape(&format!("【{kind}】{}", m.title))), &mut out);
        let place = m.place.as_deref().filter(|p| !p.is_empty()).or(m.online_link.as_deref().filter(|l| !l.is_empty()));
        if let Some(p) = place {
            fold(&format!("LOCATION:{}", escape(p)), &mut out);
        }
        let mut description = format!("{}组织", m.org_name);
        if let Some(link) = m.online_link.as_deref().filter(|l| !l.is_empty()) {
            description.push_str(&format!("\n线上参会：{link}"));
        }
        fold(&format!("DESCRIPTION:{}", escape(&description)), &mut out);
        let cancelled = m.status == MeetingStatus::Cancelled.code();
        fold(if cancelled { "STATUS:CANCELLED" } else { "STATUS:CONFIRMED" }, &mut out);
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

fn hash_hex(token: &str) -> String {
    security::token::hash(token).iter().map(|b| format!("{b:02x}")).collect()
}

impl Services<'_> {
    /// Makes the caller's feed token (replacing any earlier one) and returns it: shown once, kept hashed.
    pub async fn new_feed(&self, ctx: &Ctx, actor: &Actor) -> Result<String> {
        let Some(person_id) = actor.person_id else {
            return Err(self.refusal(ctx, actor, "calendar.token", "calendar:new", Error::Forbidden).await?);
        };
        let token = security::token::new_token().map_err(|e| Error::Platform(platform::Error::from(e)))?;
        let mut tx = self.db().begin().await?;
        store::set_feed(&mut tx, person_id, &hash_hex(&token), now()).await?;
        audit::append(&mut tx, event(actor, ctx, "calendar.token", format!("person:{person_id}"), "ok", String::new()))
            .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes the caller's feed; returns whether she had one.
    pub async fn revoke_feed(&self, ctx: &Ctx, actor: &Actor) -> Result<bool> {
        let Some(person_id) = actor.person_id else {
            return Err(self.refusal(ctx, actor, "calendar.revoke", "calendar:none", Error::Forbidden).await?);
        };
        let mut tx = self.db().begin().await?;
        let had = store::delete_feed(&mut tx, person_id).await?;
        if had {
            audit::append(
                &mut tx,
                event(actor, ctx, "calendar.revoke", format!("person:{person_id}"), "ok", String::new()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(had)
    }

    /// When the caller's feed was made, if she has one.
    pub async fn feed_since(&self, actor: &Actor) -> Result<Option<OffsetDateTime>> {
        match actor.person_id {
            Some(p) => Ok(store::feed_created(self.db(), p).await?),
            None => Ok(None),
        }
    }

    /// The feed of a token, or `None` for a token no one has (revoked, replaced, mistyped).
    pub async fn feed(&self, token: &str, host: &str) -> Result<Option<String>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(person_id) = store::person_of_feed(self.db(), &hash_hex(token)).await? else {
            return Ok(None);
        };
        let meetings = store::feed_meetings(self.db(), person_id, kernel::dates::today(), FEED_LIMIT).await?;
        Ok(Some(ics(&meetings, host, now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn meeting(start: Option<&str>, status: &str) -> FeedMeeting {
        FeedMeeting {
            id: 7,
            kind: "theme_day".into(),
            title: "3月主题党日：学习雷锋精神, 志愿服务".into(),
            held_on: date!(2026 - 03 - 20),
            start_time: start.map(str::to_string),
            place: Some("图书馆报告厅;三楼".into()),
            online_link: None,
            status: status.into(),
            org_name: "信息学院学生第一党支部".into(),
            updated_at: datetime!(2026-03-01 08:00 UTC),
        }
    }

    #[test]
    fn a_meeting_becomes_an_event_in_beijing_time_with_escaped_text() {
        let s = ics(&[meeting(Some("14:30"), "planned")], "dj.example.edu", datetime!(2026-03-02 00:00 UTC));
        assert!(s.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(s.ends_with("END:VCALENDAR\r\n"));
        assert!(s.contains("UID:meeting-7@dj.example.edu\r\n"));
        assert!(s.contains("DTSTART:20260320T063000Z\r\n"), "14:30 Beijing time is 06:30 UTC: {s}");
        assert!(s.contains("DTEND:20260320T083000Z\r\n"));
        assert!(s.contains("LOCATION:图书馆报告厅\\;三楼\r\n"));
        assert!(s.replace("\r\n ", "").contains("学习雷锋精神\\, 志愿服务"), "long lines fold: {s}");
        assert!(s.contains("STATUS:CONFIRMED"));
        for line in s.split("\r\n") {
            assert!(line.len() <= 75, "{line} is longer than 75 octets");
        }
    }

    #[test]
    fn a_day_without_a_time_is_an_all_day_event_and_a_cancelled_one_says_so() {
        let s = ics(&[meeting(None, "cancelled")], "h", datetime!(2026-03-02 00:00 UTC));
        assert!(s.contains("DTSTART;VALUE=DATE:20260320\r\nDTEND;VALUE=DATE:20260321\r\n"));
        assert!(s.contains("STATUS:CANCELLED"));
    }

    #[test]
    fn long_lines_fold_between_characters() {
        let mut out = String::new();
        fold(&format!("SUMMARY:{}", "党".repeat(40)), &mut out);
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{}\r\n", "党".repeat(40)));
        assert!(out.split("\r\n").all(|l| l.len() <= 75));
    }
}
