//! QR sign-in (issue 4 item 2). The secretary shows the meeting's sign-in screen on a projector; its QR code
//! carries a short-lived signed token and changes every few seconds, so a photo sent to a friend stops
//! working soon after. A member scans it with the phone camera, which opens the sign-in page in her own
//! signed-in browser; one press records her attendance once, with the time and the address it came from.

use platform::{Actor, Ctx};
use security::audit;

use super::{Error, Life, Result, event, now};
use crate::model::{Attendance, Meeting, MeetingStatus};
use crate::store;

/// How long a token shown on the screen signs in: enough to open the page on a phone and sign in there
/// first, short enough that a forwarded photo soon stops working. The screen shows a new one every
/// [`REFRESH_SECONDS`].
pub const TOKEN_SECONDS: i64 = 90;
/// How often the sign-in screen draws a new code.
pub const REFRESH_SECONDS: u32 = 10;

/// What a scan did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckIn {
    Recorded,
    AlreadyPresent,
}

fn message(meeting_id: i64, expires: i64) -> String {
    format!("meeting-checkin:{meeting_id}:{expires}")
}

impl Life<'_> {
    fn token_for(&self, meeting_id: i64, expires: i64) -> String {
        let mac = self.platform.sign("meeting.checkin", &message(meeting_id, expires));
        format!("{expires}.{}", hex_prefix(&mac))
    }

    /// A fresh token for the sign-in screen: the meeting's writers only, on the meeting's day, while it is
    /// neither cancelled nor archived.
    pub async fn checkin_token(&self, ctx: &Ctx, actor: &Actor, meeting_id: i64) -> Result<(Meeting, String)> {
        let m = self.get_meeting(ctx, actor, meeting_id).await?;
        if !Self::may_write(actor, &m) {
            return Err(self.refuse(ctx, actor, "meeting.checkin_screen", &format!("meeting:{meeting_id}")).await?);
        }
        usable(&m)?;
        let token = self.token_for(meeting_id, now().unix_timestamp() + TOKEN_SECONDS);
        Ok((m, token))
    }

    /// The caller signs in to a meeting she is invited to, with a token from its screen.
    pub async fn check_in(&self, ctx: &Ctx, actor: &Actor, meeting_id: i64, token: &str) -> Result<(Meeting, CheckIn)> {
        let target = format!("meeting:{meeting_id}");
        let valid = token
            .split_once('.')
            .and_then(|(exp, _)| exp.parse::<i64>().ok())
            .filter(|exp| *exp >= now().unix_timestamp() && *exp <= now().unix_timestamp() + TOKEN_SECONDS)
            .is_some_and(|exp| constant_eq(self.token_for(meeting_id, exp).as_bytes(), token.as_bytes()));
        if !valid {
            return Err(Error::Conflict("二维码已过期或无效，请重新扫描会场屏幕上的二维码"));
        }
        let m = self.get_meeting(ctx, actor, meeting_id).await?;
        let Some(person) = actor.person_id.filter(|p| m.attendees.iter().any(|a| a.person_id == *p)) else {
            return Err(self.refuse(ctx, actor, "meeting.checkin", &target).await?);
        };
        usable(&m)?;
        if m.attendees.iter().any(|a| a.person_id == person && a.attendance == Some(Attendance::Present)) {
            return Ok((m, CheckIn::AlreadyPresent));
        }
        let t = now();
        let mut tx = self.db().begin().await?;
        store::set_attendance(
            &mut tx,
            meeting_id,
            person,
            Some(Attendance::Present.code()),
            None,
            Some(actor.user_id),
            t,
        )
        .await?;
        store::touch_meeting(&mut tx, meeting_id, t).await?;
        let ua: String = ctx.user_agent.chars().take(120).collect();
        let detail = format!("person:{person} qr ua:{ua}");
        audit::append(&mut tx, event(actor, ctx, "meeting.checkin", target, "ok", detail)).await?;
        tx.commit().await?;
        Ok((self.get_meeting(ctx, actor, meeting_id).await?, CheckIn::Recorded))
    }
}

/// Sign-in is open on the meeting's day (Beijing time), unless it is cancelled or archived.
fn usable(m: &Meeting) -> Result<()> {
    if m.archived {
        return Err(Error::Conflict("会议已归档，不能再签到"));
    }
    if m.status == MeetingStatus::Cancelled {
        return Err(Error::Conflict("会议已取消"));
    }
    if m.held_on != kernel::dates::today() {
        return Err(Error::Conflict("只能在会议当天扫码签到；其他日期请由支部书记补登"));
    }
    Ok(())
}

fn hex_prefix(mac: &[u8]) -> String {
    mac.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference (the token's MAC must not leak byte by byte).
fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
