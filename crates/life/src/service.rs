//! The actions of organizational life. Each public function: authorise → validate → transaction → store →
//! audit → commit, on the platform's database, with the platform's caller ([`Actor`]) and permission matrix
//! (`MeetingRead`, `MeetingWrite`). A read outside the caller's scope is `NotFound` (audited as a refusal);
//! a write where the caller may read but not write is `Forbidden`.
//!
//! A member without any role reads the meetings she is invited to and asks for leave from them; that is
//! decided here from the attendee list, not by the matrix.

use std::collections::{BTreeMap, HashMap};

use kernel::{Db, DbError};
use platform::files::{Attachment, AttachmentMeta, Owner};
use platform::model::{Org, OrgKind, path_within, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use security::audit::{self, Event};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use crate::model::*;
use crate::rules::{self, Compliance, ComplianceQuestion, HeldMeeting, Member, Unit};
use crate::store::{self, MeetingWrite};

mod checkin;
pub use checkin::{CheckIn, REFRESH_SECONDS, TOKEN_SECONDS};

/// The errors of organizational life; they become the platform's errors at the web boundary (same codes,
/// same Chinese messages).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Platform(#[from] platform::Error),
}

impl From<Error> for platform::Error {
    fn from(e: Error) -> platform::Error {
        match e {
            Error::NotFound => platform::Error::NotFound,
            Error::Forbidden => platform::Error::Forbidden,
            Error::Invalid(f) => platform::Error::Invalid(f),
            Error::Conflict(m) => platform::Error::Conflict(m),
            Error::Db(d) => platform::Error::Db(d),
            Error::Platform(p) => p,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A refused upload is a field error of this crate (so a form shows it beside its file input).
fn invalid_upload(e: platform::Error) -> Error {
    match e {
        platform::Error::Invalid(f) => Error::Invalid(f),
        e => Error::Platform(e),
    }
}

fn field(name: &str, msg: impl Into<String>) -> Error {
    Error::Invalid(BTreeMap::from([(name.to_string(), msg.into())]))
}

/// What a meeting's minutes attachments are stored as (platform::files::Owner kind).
pub const MINUTES_FILES: &str = "meeting_minutes";

/// The most meetings one list returns (a branch holds about 40 a year; a college a few thousand).
pub const LIST_LIMIT: i64 = 1_000;
/// The most people one attendance table shows.
pub const ATTENDANCE_LIMIT: i64 = 5_000;

/// Query of the meeting list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct MeetingQuery {
    /// The organization whose meetings (and its groups') to list; without it, the meetings the caller is
    /// invited to.
    pub org_id: Option<i64>,
    /// The calendar year (default: this year).
    pub year: Option<i32>,
    /// One kind only: branch_assembly, committee, group, party_lecture, theme_day, life_meeting, heart_talk.
    pub kind: Option<String>,
}

/// A list of meetings.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MeetingList {
    pub year: i32,
    pub items: Vec<MeetingSummary>,
    #[serde(skip)]
    pub org: Option<Org>,
}

/// The compliance of every branch, group and committee of a subtree (a college's or the university's view).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Rollup {
    pub org_id: i64,
    pub year: i32,
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// Flags of all lines.
    pub flags: usize,
    pub lines: Vec<RollupLine>,
    /// Always false: a roll-up judges the whole subtree (kept for the clients that read it).
    pub truncated: bool,
    #[serde(skip)]
    pub org: Option<Org>,
}

/// Organizational life over the platform's database and callers.
pub struct Life<'a> {
    platform: &'a Platform,
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub(crate) fn event(actor: &Actor, ctx: &Ctx, action: &str, target: String, result: &str, detail: String) -> Event {
    Event {
        actor_id: Some(actor.user_id).filter(|id| *id > 0),
        actor: actor.username.clone(),
        roles: actor.audit_roles(),
        org_scope: actor.audit_scope(),
        action: action.into(),
        target,
        result: result.into(),
        request_id: ctx.request_id.clone(),
        ip: ctx.ip.clone(),
        detail,
    }
}

/// The first and last day of a calendar year.
fn year_range(year: i32) -> (Date, Date) {
    let first = Date::from_calendar_date(year, time::Month::January, 1).unwrap_or(Date::MIN);
    let last = Date::from_calendar_date(year, time::Month::December, 31).unwrap_or(Date::MAX);
    (first, last)
}

fn check_year(year: Option<i32>) -> Result<Option<i32>> {
    match year {
        Some(y) if !(1921..=9999).contains(&y) => Err(field("year", "年份应为四位数字，例如 2025")),
        other => Ok(other),
    }
}

fn stats_of(invited: i64, present: i64, leave: i64, absent: i64) -> AttendanceStats {
    AttendanceStats::new(invited, present, leave, absent)
}

pub(crate) fn summary_of(r: store::SummaryRow) -> MeetingSummary {
    let kind = MeetingKind::parse(&r.kind).unwrap_or(MeetingKind::BranchAssembly);
    let status = MeetingStatus::parse(&r.status).unwrap_or(MeetingStatus::Planned);
    MeetingSummary {
        id: r.id,
        org_id: r.org_id,
        org_name: r.org_name,
        kind,
        kind_label: kind.label(),
        title: r.title,
        held_on: r.held_on,
        start_time: r.start_time,
        place: r.place,
        status,
        status_label: status.label(),
        archived: r.archived,
        stats: stats_of(r.invited, r.present, r.on_leave, r.absent),
    }
}

impl<'a> Life<'a> {
    pub fn new(platform: &'a Platform) -> Life<'a> {
        Life { platform }
    }

    fn db(&self) -> &Db {
        &self.platform.db
    }

    async fn org(&self, id: i64) -> Result<Option<Org>> {
        Ok(platform::store::get_org(self.db(), id).await?.map(Org::from_row))
    }

    async fn record_refusal(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<()> {
        audit::append_alone(self.db(), event(actor, ctx, action, target.into(), "denied", String::new())).await?;
        Ok(())
    }

    /// Records a refused read and returns the error to answer with (not found: the caller learns nothing).
    pub(crate) async fn deny(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<Error> {
        self.record_refusal(ctx, actor, action, target).await?;
        Ok(Error::NotFound)
    }

    /// Records a refused write and answers 403.
    pub(crate) async fn refuse(&self, ctx: &Ctx, actor: &Actor, action: &str, target: &str) -> Result<Error> {
        self.record_refusal(ctx, actor, action, target).await?;
        Ok(Error::Forbidden)
    }

    /// An organization whose meetings and calendar the actor may see, or `NotFound` (audited when it exists).
    pub(crate) async fn readable_org(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<Org> {
        let org = self.org(id).await?.ok_or(Error::NotFound)?;
        if actor.can(Capability::MeetingRead, &org.path) {
            Ok(org)
        } else {
            Err(self.deny(ctx, actor, action, &format!("org:{id}")).await?)
        }
    }

    /// Whether the actor may change this meeting (for showing the buttons).
    pub fn may_write(actor: &Actor, meeting: &Meeting) -> bool {
        actor.can(Capability::MeetingWrite, &meeting.org_path)
    }

    /// Whether the actor may plan meetings for this organization.
    pub fn may_plan(actor: &Actor, org: &Org) -> bool {
        actor.can(Capability::MeetingWrite, &org.path) && MeetingKind::ALL.iter().any(|k| k.held_by(org.kind))
    }

    // ------------------------------------------------------------ meetings

    /// The checks of a meeting that need the database: the organization (exists, in the caller's reach, holds
    /// this kind of meeting) and the attendees (people of that organization or below). Every bad item is
    /// reported at once, together with those of [`validate_meeting`].
    pub(crate) async fn check(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        input: &MeetingInput,
        action: &str,
    ) -> Result<(ValidMeeting, Option<Org>)> {
        let mut errors = match validate_meeting(input, kernel::dates::today()) {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let mut org = None;
        if let Some(id) = input.org_id {
            match self.org(id).await? {
                Some(o) if actor.can(Capability::MeetingRead, &o.path) => {
                    if !actor.can(Capability::MeetingWrite, &o.path) {
                        return Err(self.refuse(ctx, actor, action, &format!("org:{id}")).await?);
                    }
                    org = Some(o);
                }
                _ => {
                    errors.insert("org_id".into(), "所选党组织不存在或不在您的管理范围内".into());
                }
            }
        }
        let kind = input.kind.as_deref().and_then(MeetingKind::parse);
        if let (Some(o), Some(k)) = (&org, kind)
            && !k.held_by(o.kind)
        {
            errors.insert("kind".into(), k.held_by_message());
        }
        if let (Some(o), Some(ids)) = (&org, &input.attendee_ids) {
            let found: HashMap<i64, String> = store::people_paths(self.db(), ids).await?.into_iter().collect();
            let mut outside: Vec<i64> =
                ids.iter().copied().filter(|id| found.get(id).is_none_or(|p| !path_within(p, &o.path))).collect();
            outside.sort_unstable();
            outside.dedup();
            if !outside.is_empty() {
                let list: Vec<String> = outside.iter().take(10).map(i64::to_string).collect();
                errors.insert(
                    "attendee_ids".into(),
                    format!("参会人员应为{}（含下级组织）的人员，以下编号不符：{}", o.name, list.join("、")),
                );
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let v = validate_meeting(input, kernel::dates::today()).map_err(Error::Invalid)?;
        Ok((v, org))
    }

    /// The people invited when the caller names no one (see [`MeetingKind::default_attendees`]).
    pub(crate) async fn default_attendees(&self, org: &Org, kind: MeetingKind) -> Result<Vec<i64>> {
        if !matches!(org.kind, OrgKind::Branch | OrgKind::Group) {
            return Ok(Vec::new());
        }
        let members = store::members(self.db(), &org.path, &subtree_end(&org.path)).await?;
        Ok(match kind.default_attendees() {
            DefaultAttendees::Members => members.into_iter().map(|m| m.id).collect(),
            DefaultAttendees::Committee => members
                .into_iter()
                .filter(|m| m.party_post.as_deref().is_some_and(is_committee_post))
                .map(|m| m.id)
                .collect(),
            DefaultAttendees::Nobody => Vec::new(),
        })
    }

    /// The organization a meeting form is for, with the people who may be invited: readable (else 404) and
    /// writable (else 403).
    pub async fn planning(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<(Org, Vec<Candidate>)> {
        let org = self.readable_org(ctx, actor, org_id, "meeting.create").await?;
        if !Self::may_plan(actor, &org) {
            return Err(self.refuse(ctx, actor, "meeting.create", &format!("org:{org_id}")).await?);
        }
        let people = store::members(self.db(), &org.path, &subtree_end(&org.path))
            .await?
            .into_iter()
            .map(|m| Candidate {
                id: m.id,
                name: m.name,
                on_committee: m.party_post.as_deref().is_some_and(is_committee_post),
                stage: if m.stage == "full" { "正式党员" } else { "预备党员" },
            })
            .collect();
        Ok((org, people))
    }

    /// Plans or records a meeting. Returns the meeting as stored.
    pub async fn create_meeting(&self, ctx: &Ctx, actor: &Actor, input: &MeetingInput) -> Result<Meeting> {
        if !actor.can_somewhere(Capability::MeetingWrite) {
            return Err(self.refuse(ctx, actor, "meeting.create", "meeting:new").await?);
        }
        let (v, org) = self.check(ctx, actor, input, "meeting.create").await?;
        let org = org.ok_or(Error::NotFound)?;
        let attendees = match &v.attendee_ids {
            Some(ids) => ids.clone(),
            None => self.default_attendees(&org, v.kind).await?,
        };
        let t = now();
        let mut tx = self.db().begin().await?;
        let id = store::insert_meeting(&mut tx, &write_of(&v, &org, actor, t)).await?;
        for p in &attendees {
            store::add_attendee(&mut tx, id, *p).await?;
        }
        if let Some(news) = crate::news::of_create(&v, kernel::dates::today()) {
            self.tell(&mut tx, ctx, actor, &org, id, news, &v, &attendees, t).await?;
        }
        let detail = format!(
            "org:{} kind:{} held_on:{} status:{} attendees:{}",
            org.id,
            v.kind.code(),
            kernel::dates::iso(v.held_on),
            v.status.code(),
            attendees.len()
        );
        audit::append(&mut tx, event(actor, ctx, "meeting.create", format!("meeting:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.load(id, true).await
    }

    /// Sends the news of a meeting to the people named, inside the meeting's transaction.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn tell(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        actor: &Actor,
        org: &Org,
        meeting_id: i64,
        news: crate::news::News,
        v: &ValidMeeting,
        people: &[i64],
        t: OffsetDateTime,
    ) -> Result<()> {
        let (title, text) = crate::news::notice_text(news, v, &org.name);
        let n = crate::notices::service::MeetingNotice { org, meeting_id, title, text, people };
        crate::notices::service::send_about_meeting(tx, ctx, actor, &n, t).await?;
        Ok(())
    }

    /// The notices sent about a meeting (会议通知 and its changes), with their receipts counts, for a caller
    /// who may read the meeting's organization; empty for an invited member.
    pub async fn meeting_notices(
        &self,
        actor: &Actor,
        m: &Meeting,
    ) -> Result<Vec<crate::notices::model::NoticeSummary>> {
        if !actor.can(Capability::MeetingRead, &m.org_path) {
            return Ok(Vec::new());
        }
        crate::notices::service::meeting_notices(self.db(), m.id).await
    }

    /// A meeting with its attendees; `reasons` false hides other people's leave reasons.
    async fn load(&self, id: i64, reasons: bool) -> Result<Meeting> {
        let row = store::get_meeting(self.db(), id).await?.ok_or(Error::NotFound)?;
        let attendees = store::attendees(self.db(), id).await?;
        let mut m = meeting_of(row, attendees, reasons);
        m.minutes_files = self.platform.attachments_of(MINUTES_FILES, &[id]).await?;
        Ok(m)
    }

    // ------------------------------------------------------------ the minutes' attachments

    /// Attaches a file to a meeting's minutes (会议记录附件: the signed sheet, photos, the slides). The meeting must
    /// be writable and not archived; the file passes every check of security.md AT-21 before the transaction.
    pub async fn attach_minutes(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        name: &str,
        bytes: &[u8],
    ) -> Result<AttachmentMeta> {
        let m = self.writable(ctx, actor, id, "meeting.attach").await?;
        let checked = self.platform.check_upload(ctx, actor, "file", name, bytes).await.map_err(invalid_upload)?;
        let mut tx = self.db().begin().await?;
        let owner = Owner { kind: MINUTES_FILES, id, org_path: &m.org_path, person_id: None };
        // The meeting's version stays: it guards the edit form's items, which a file does not change.
        let meta = self.platform.attach(&mut tx, ctx, actor, &owner, &checked, bytes).await?;
        tx.commit().await?;
        Ok(meta)
    }

    /// One file of a meeting's minutes, for whoever may read the meeting (404 otherwise, and for a file of
    /// another meeting).
    pub async fn minutes_file(&self, ctx: &Ctx, actor: &Actor, id: i64, file_id: i64) -> Result<Attachment> {
        self.get_meeting(ctx, actor, id).await?;
        Ok(self.platform.attachment(ctx, actor, MINUTES_FILES, id, file_id).await?)
    }

    /// Removes a file of a meeting's minutes (writable and not archived).
    pub async fn detach_minutes(&self, ctx: &Ctx, actor: &Actor, id: i64, file_id: i64) -> Result<()> {
        self.writable(ctx, actor, id, "meeting.detach").await?;
        let mut tx = self.db().begin().await?;
        self.platform.detach(&mut tx, ctx, actor, MINUTES_FILES, id, file_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One meeting, for a caller who may read its organization's meetings or is invited to it. An invited
    /// member sees the other attendees' attendance but not their leave reasons.
    pub async fn get_meeting(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Meeting> {
        let row = store::get_meeting(self.db(), id).await?.ok_or(Error::NotFound)?;
        let by_scope = actor.can(Capability::MeetingRead, &row.org_path);
        let attendees = store::attendees(self.db(), id).await?;
        let invited = actor.person_id.is_some_and(|p| attendees.iter().any(|a| a.person_id == p));
        if !by_scope && !invited {
            return Err(self.deny(ctx, actor, "meeting.read", &format!("meeting:{id}")).await?);
        }
        let mut m = meeting_of(row, attendees, true);
        m.minutes_files = self.platform.attachments_of(MINUTES_FILES, &[id]).await?;
        if !by_scope {
            for a in &mut m.attendees {
                if Some(a.person_id) != actor.person_id {
                    a.reason = None;
                }
            }
        }
        Ok(m)
    }

    /// A meeting the actor may change: readable (else 404), writable (else 403), not archived (else 409).
    async fn writable(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<Meeting> {
        let m = self.get_meeting(ctx, actor, id).await?;
        if !Self::may_write(actor, &m) {
            return Err(self.refuse(ctx, actor, action, &format!("meeting:{id}")).await?);
        }
        if m.archived {
            return Err(Error::Conflict("会议已归档，不能再修改"));
        }
        Ok(m)
    }

    /// Applies the items present in `patch`; items left out keep their value. `attendee_ids`, when given,
    /// replaces the invitation list (attendance already taken is kept for those who stay).
    pub async fn update_meeting(&self, ctx: &Ctx, actor: &Actor, id: i64, patch: &MeetingInput) -> Result<Meeting> {
        let current = self.writable(ctx, actor, id, "meeting.update").await?;
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(Error::Conflict("该会议已被他人修改，请刷新后重试"));
        }
        let merged = merge(&current, patch);
        let (v, org) = self.check(ctx, actor, &merged, "meeting.update").await?;
        let org = org.ok_or(Error::NotFound)?;
        // Moving a meeting to another organization re-checks the people who stay invited.
        if org.id != current.org_id && patch.attendee_ids.is_none() {
            let stay =
                MeetingInput { attendee_ids: Some(current.attendees.iter().map(|a| a.person_id).collect()), ..merged };
            self.check(ctx, actor, &stay, "meeting.update").await?;
        }
        let t = now();
        let mut tx = self.db().begin().await?;
        if !store::update_meeting(&mut tx, id, current.version, &write_of(&v, &org, actor, t)).await? {
            return Err(Error::Conflict("该会议已被他人修改或已归档，请刷新后重试"));
        }
        let mut changed = changed_items(patch);
        let before_ids: Vec<i64> = current.attendees.iter().map(|a| a.person_id).collect();
        let after_ids = v.attendee_ids.clone().unwrap_or(before_ids);
        if let Some((news, people)) = crate::news::of_update(&current, &v, &after_ids, kernel::dates::today()) {
            self.tell(&mut tx, ctx, actor, &org, id, news, &v, &people, t).await?;
        }
        if let Some(ids) = &v.attendee_ids {
            let before = store::attendee_ids_tx(&mut tx, id).await?;
            let (mut added, mut removed) = (0, 0);
            for p in before.iter().filter(|p| !ids.contains(p)) {
                store::remove_attendee(&mut tx, id, *p).await?;
                removed += 1;
            }
            for p in ids.iter().filter(|p| !before.contains(p)) {
                store::add_attendee(&mut tx, id, *p).await?;
                added += 1;
            }
            changed.push_str(&format!(" attendees:+{added}/-{removed}"));
        }
        audit::append(&mut tx, event(actor, ctx, "meeting.update", format!("meeting:{id}"), "ok", changed)).await?;
        tx.commit().await?;
        self.load(id, true).await
    }

    /// Archives a meeting (归档): from then on it is a record and cannot change.
    pub async fn archive_meeting(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Meeting> {
        let m = self.writable(ctx, actor, id, "meeting.archive").await?;
        if m.status == MeetingStatus::Planned {
            return Err(field("archived", "会议尚未召开，召开（或取消）后才能归档"));
        }
        let mut tx = self.db().begin().await?;
        if !store::archive_meeting(&mut tx, id, now()).await? {
            return Err(Error::Conflict("会议已归档"));
        }
        let detail = format!("status:{} attendees:{}", m.status.code(), m.stats.invited);
        audit::append(&mut tx, event(actor, ctx, "meeting.archive", format!("meeting:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.load(id, true).await
    }

    /// The secretary's sign-in sheet: records present / leave (with its reason) / absent for attendees, or
    /// clears an entry (`status` empty). Presence and absence only once the meeting's day has come.
    pub async fn record_attendance(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        input: &AttendanceInput,
    ) -> Result<Meeting> {
        let m = self.writable(ctx, actor, id, "meeting.attendance").await?;
        if m.status == MeetingStatus::Cancelled {
            return Err(Error::Conflict("会议已取消，不能登记出勤"));
        }
        let today = kernel::dates::today();
        let mut errors = FieldErrors::new();
        let mut entries = Vec::new();
        for e in &input.entries {
            let key = format!("attendance.{}", e.person_id);
            if !m.attendees.iter().any(|a| a.person_id == e.person_id) {
                errors.insert(key, "此人不在本次会议的参会名单中".into());
                continue;
            }
            let status = match e.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => match Attendance::parse(s) {
                    Some(a) => Some(a),
                    None => {
                        errors.insert(key, "出勤情况应为出席、请假或缺席".into());
                        continue;
                    }
                },
            };
            let reason = e.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
            match status {
                Some(Attendance::Leave) if reason.is_none() => {
                    errors.insert(key, "请假须填写事由".into());
                    continue;
                }
                Some(Attendance::Present | Attendance::Absent) if m.held_on > today => {
                    errors
                        .insert(key, format!("会议定于{}召开，尚未召开，只能登记请假", kernel::dates::iso(m.held_on)));
                    continue;
                }
                _ => {}
            }
            if reason.is_some_and(|r| r.chars().count() > REASON_MAX) {
                errors.insert(key, format!("请假事由不能超过{REASON_MAX}字"));
                continue;
            }
            let reason = if status == Some(Attendance::Leave) { reason.map(str::to_string) } else { None };
            entries.push((e.person_id, status, reason));
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let t = now();
        let mut tx = self.db().begin().await?;
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (person, status, reason) in &entries {
            let code = status.map(Attendance::code);
            store::set_attendance(&mut tx, id, *person, code, reason.as_deref(), Some(actor.user_id), t).await?;
            *counts.entry(code.unwrap_or("cleared")).or_default() += 1;
        }
        store::touch_meeting(&mut tx, id, t).await?;
        let detail: Vec<String> = counts.iter().map(|(k, n)| format!("{k}:{n}")).collect();
        audit::append(
            &mut tx,
            event(actor, ctx, "meeting.attendance", format!("meeting:{id}"), "ok", detail.join(" ")),
        )
        .await?;
        tx.commit().await?;
        self.load(id, true).await
    }

    /// A member's leave request for a meeting she is invited to (before or on its day).
    pub async fn request_leave(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &LeaveInput) -> Result<Meeting> {
        let m = self.get_meeting(ctx, actor, id).await?;
        let Some(person) = actor.person_id.filter(|p| m.attendees.iter().any(|a| a.person_id == *p)) else {
            return Err(self.refuse(ctx, actor, "meeting.leave", &format!("meeting:{id}")).await?);
        };
        if m.archived {
            return Err(Error::Conflict("会议已归档，不能再修改"));
        }
        if m.status == MeetingStatus::Cancelled {
            return Err(Error::Conflict("会议已取消，无需请假"));
        }
        if m.held_on < kernel::dates::today() {
            return Err(Error::Conflict("会议已召开，如需补登请假请联系支部书记"));
        }
        let reason = input.reason.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let reason = match reason {
            None => return Err(field("reason", "请填写请假事由")),
            Some(r) if r.chars().count() > REASON_MAX => {
                return Err(field("reason", format!("请假事由不能超过{REASON_MAX}字")));
            }
            Some(r) => r,
        };
        let t = now();
        let mut tx = self.db().begin().await?;
        store::set_attendance(
            &mut tx,
            id,
            person,
            Some(Attendance::Leave.code()),
            Some(reason),
            Some(actor.user_id),
            t,
        )
        .await?;
        store::touch_meeting(&mut tx, id, t).await?;
        let detail = format!("person:{person}");
        audit::append(&mut tx, event(actor, ctx, "meeting.leave", format!("meeting:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_meeting(ctx, actor, id).await
    }

    /// The planned meetings of `kind` from today on (a year ahead) in every organization where the caller may
    /// plan meetings, earliest first, at most 50: what a 线上党课 may be linked to.
    pub async fn upcoming_writable(&self, actor: &Actor, kind: MeetingKind) -> Result<Vec<MeetingSummary>> {
        let mut roots: Vec<String> = actor
            .grants
            .iter()
            .filter_map(|g| g.org_path.clone())
            .filter(|p| actor.can(Capability::MeetingWrite, p))
            .collect();
        roots.sort();
        roots.dedup();
        // A grant inside another's subtree adds nothing.
        let roots: Vec<&String> =
            roots.iter().filter(|p| !roots.iter().any(|q| q != *p && platform::model::path_within(p, q))).collect();
        let today = kernel::dates::today();
        let to = today.checked_add(time::Duration::days(366)).unwrap_or(today);
        let mut out = Vec::new();
        for root in roots {
            let rows =
                store::list_meetings(self.db(), root, &subtree_end(root), today, to, Some(kind.code()), 50).await?;
            out.extend(rows.into_iter().map(summary_of).filter(|m| m.status == MeetingStatus::Planned && !m.archived));
        }
        out.sort_by_key(|m| (m.held_on, m.start_time.clone(), m.id));
        out.truncate(50);
        Ok(out)
    }

    /// Meetings of an organization (and the groups below it) in a year, latest first; without an
    /// organization, the meetings the caller is invited to.
    pub async fn list_meetings(&self, ctx: &Ctx, actor: &Actor, q: &MeetingQuery) -> Result<MeetingList> {
        let year = check_year(q.year)?.unwrap_or_else(|| kernel::dates::today().year());
        let kind = match q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(k) => Some(MeetingKind::parse(k).ok_or_else(|| field("kind", "未知的会议类型"))?),
        };
        let (from, to) = year_range(year);
        let (org, rows) = match q.org_id {
            Some(id) => {
                let org = self.readable_org(ctx, actor, id, "meeting.list").await?;
                let end = subtree_end(&org.path);
                let rows =
                    store::list_meetings(self.db(), &org.path, &end, from, to, kind.map(MeetingKind::code), LIST_LIMIT)
                        .await?;
                (Some(org), rows)
            }
            None => match actor.person_id {
                Some(p) => {
                    let mut rows = store::meetings_of_person(self.db(), p, from, to, LIST_LIMIT).await?;
                    if let Some(k) = kind {
                        rows.retain(|r| r.kind == k.code());
                    }
                    (None, rows)
                }
                None => (None, Vec::new()),
            },
        };
        Ok(MeetingList { year, items: rows.into_iter().map(summary_of).collect(), org })
    }

    /// Attendance per person of an organization's subtree over the meetings of a year.
    pub async fn attendance(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        year: Option<i32>,
    ) -> Result<Vec<PersonAttendance>> {
        let year = check_year(year)?.unwrap_or_else(|| kernel::dates::today().year());
        let org = self.readable_org(ctx, actor, org_id, "meeting.attendance_stats").await?;
        let (from, to) = year_range(year);
        let rows =
            store::person_attendance(self.db(), &org.path, &subtree_end(&org.path), from, to, ATTENDANCE_LIMIT).await?;
        Ok(rows
            .into_iter()
            .map(|r| PersonAttendance {
                person_id: r.person_id,
                name: r.name,
                org_name: r.org_name,
                stats: stats_of(r.invited, r.present, r.on_leave, r.absent),
            })
            .collect())
    }

    // ------------------------------------------------------------ the compliance calendar

    /// The calendar of one organization: every required meeting missing in a fully elapsed period of `year`
    /// (default: the year of the last elapsed day before `as_of`), with the grid behind the flags.
    pub async fn compliance(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        as_of: Date,
        year: Option<i32>,
    ) -> Result<(Org, Compliance)> {
        let year = check_year(year)?.unwrap_or_else(|| rules::default_year(as_of));
        let org = self.readable_org(ctx, actor, org_id, "life.compliance").await?;
        let facts = Facts::load(self.db(), &org, year).await?;
        let c = facts.judge(&org, year, as_of, rules::compliance);
        Ok((org, c))
    }

    /// The calendars of every branch, group and committee in an organization's subtree, as counts of flags.
    pub async fn rollup(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        as_of: Date,
        year: Option<i32>,
    ) -> Result<Rollup> {
        let year = check_year(year)?.unwrap_or_else(|| rules::default_year(as_of));
        let org = self.readable_org(ctx, actor, org_id, "life.rollup").await?;
        let end = subtree_end(&org.path);
        // The whole subtree, however large (issue 4: a province is one roll-up): a few grouped queries over
        // its range, then the rules judge each organization from what they returned.
        let orgs: Vec<Org> = platform::store::search_orgs(self.db(), &org.path, &end, "", false, i64::MAX)
            .await?
            .into_iter()
            .map(Org::from_row)
            .filter(|o| Unit::of(o.kind).is_some())
            .collect();
        let facts = Facts::load_months(self.db(), &org.path, &end, year, as_of).await?;
        let mut lines = Vec::with_capacity(orgs.len());
        for unit in &orgs {
            // Counted, not shown: the flags without their messages, no calendar grid.
            let c = facts.judge(unit, year, as_of, rules::compliance_flags);
            let mut by_rule: BTreeMap<&'static str, usize> = BTreeMap::new();
            for f in &c.flags {
                *by_rule.entry(f.rule).or_default() += 1;
            }
            lines.push(RollupLine {
                org_id: unit.id,
                name: unit.name.clone(),
                kind_label: unit.kind.label(),
                flags: c.flags.len(),
                violations: c.violations(),
                reminders: c.reminders(),
                by_rule,
                meetings_held: facts.held.get(&unit.id).copied().unwrap_or(0),
            });
        }
        let truncated = false;
        Ok(Rollup {
            org_id: org.id,
            year,
            as_of,
            flags: lines.iter().map(|l| l.flags).sum(),
            lines,
            truncated,
            org: Some(org),
        })
    }
}

/// What the calendar needs of a subtree's year: held meetings by organization, members in tree order.
struct Facts {
    meetings: HashMap<i64, Vec<HeldMeeting>>,
    members: Vec<store::MemberRow>,
    /// Meetings held by organization.
    held: HashMap<i64, usize>,
    /// Instead of `members`, when ORG-08 cannot flag anyone yet: the formal members of each organization's
    /// subtree, by organization ([`formal_members`]).
    formal: Option<HashMap<i64, i64>>,
}

impl Facts {
    /// One organization's calendar: its own held meetings of the year and, for a branch, the members of its
    /// subtree (a committee's calendar reads nothing of the branches below it).
    async fn load(db: &Db, org: &Org, year: i32) -> Result<Facts> {
        let (from, to) = year_range(year);
        let (start, end, only) = (org.path.as_str(), subtree_end(&org.path), Some(org.id));
        let end = end.as_str();
        let mut participants: HashMap<i64, Vec<i64>> = HashMap::new();
        for (meeting, _, person) in store::talk_participants(db, start, end, only, from, to).await? {
            participants.entry(meeting).or_default().push(person);
        }
        let mut meetings: HashMap<i64, Vec<HeldMeeting>> = HashMap::new();
        for r in store::calendar(db, start, end, only, from, to).await? {
            let Some(kind) = MeetingKind::parse(&r.kind) else { continue };
            meetings.entry(r.org_id).or_default().push(HeldMeeting {
                kind,
                held_on: r.held_on,
                invited: u32::try_from(r.invited).unwrap_or(u32::MAX),
                present: (r.recorded > 0).then(|| u32::try_from(r.present).unwrap_or(u32::MAX)),
                participants: participants.remove(&r.id).unwrap_or_default(),
            });
        }
        let held = meetings.iter().map(|(org, m)| (*org, m.len())).collect();
        let members =
            if Unit::of(org.kind) == Some(Unit::Branch) { Self::members(db, start, end).await? } else { Vec::new() };
        Ok(Facts { meetings, members, held, formal: None })
    }

    async fn members(db: &Db, start: &str, end: &str) -> Result<Vec<store::MemberRow>> {
        let mut members = store::members(db, start, end).await?;
        // Byte order, as both databases sort paths; the ranges below rely on it.
        members.sort_by(|a, b| a.org_path.cmp(&b.org_path).then(a.id.cmp(&b.id)));
        Ok(members)
    }

    /// The roll-up's facts, set-based: the meetings of the year grouped by organization, kind and month in
    /// the database (one row per organization and kind, whatever the number of meetings), then one stand-in
    /// meeting per month — counting, or not (a 支委会 without its quorum) — which is all the period rules of
    /// ORG-01…06 look at; 谈心谈话 with their participants and the members as for one calendar (ORG-08) —
    /// or, while ORG-08 cannot flag anyone yet (`rules::talks_judged`), only the formal members counted by
    /// organization (ORG-09). The flags are the calendar's; the grid's per-period meeting counts and the
    /// talks' coverage (not shown in a roll-up) are not.
    async fn load_months(db: &Db, start: &str, end: &str, year: i32, as_of: Date) -> Result<Facts> {
        let (from, to) = year_range(year);
        let mut meetings: HashMap<i64, Vec<HeldMeeting>> = HashMap::new();
        let mut held: HashMap<i64, usize> = HashMap::new();
        for r in store::calendar_months(db, start, end, from, to).await? {
            *held.entry(r.org_id).or_default() += usize::try_from(r.held).unwrap_or(0);
            let Some(kind) = MeetingKind::parse(&r.kind).filter(|k| *k != MeetingKind::HeartTalk) else { continue };
            let list = meetings.entry(r.org_id).or_default();
            for month in 1..=12u8 {
                let bit = 1i64 << (month - 1);
                if r.months & bit == 0 {
                    continue;
                }
                let Some(day) =
                    time::Month::try_from(month).ok().and_then(|m| Date::from_calendar_date(year, m, 1).ok())
                else {
                    continue;
                };
                let mut m = HeldMeeting::new(kind, day);
                if r.counting & bit == 0 {
                    // Held, but none of the month's counts: attendance taken, nobody present.
                    (m.invited, m.present) = (1, Some(0));
                }
                list.push(m);
            }
        }
        if !rules::talks_judged(year, as_of) {
            let formal = formal_members(db, start, end).await?;
            return Ok(Facts { meetings, members: Vec::new(), held, formal: Some(formal) });
        }
        let mut talks: HashMap<i64, (i64, Vec<i64>)> = HashMap::new();
        for (meeting, org, person) in store::talk_participants(db, start, end, None, from, to).await? {
            talks.entry(meeting).or_insert_with(|| (org, Vec::new())).1.push(person);
        }
        for (org, who) in talks.into_values() {
            let mut m = HeldMeeting::new(MeetingKind::HeartTalk, from);
            m.participants = who;
            meetings.entry(org).or_default().push(m);
        }
        Ok(Facts { meetings, members: Self::members(db, start, end).await?, held, formal: None })
    }

    /// The members in the subtree of `path`.
    fn members_below(&self, path: &str) -> &[store::MemberRow] {
        let end = subtree_end(path);
        let lo = self.members.partition_point(|m| m.org_path.as_str() < path);
        let hi = self.members.partition_point(|m| m.org_path.as_str() < end.as_str());
        self.members.get(lo..hi.max(lo)).unwrap_or(&[])
    }

    /// One organization's calendar judged `by` ([`rules::compliance`], or [`rules::compliance_flags`] for a
    /// roll-up line).
    fn judge(&self, org: &Org, year: i32, as_of: Date, by: fn(&ComplianceQuestion) -> Compliance) -> Compliance {
        let Some(unit) = Unit::of(org.kind) else {
            return Compliance { year, as_of, flags: Vec::new(), rows: Vec::new(), talks: None };
        };
        let mut q = ComplianceQuestion::new(unit, year, as_of);
        q.established_on = org.established_on;
        q.meetings = self.meetings.get(&org.id).cloned().unwrap_or_default();
        if unit == Unit::Branch
            && let Some(formal) = &self.formal
        {
            q.formal_members = u32::try_from(formal.get(&org.id).copied().unwrap_or(0)).unwrap_or(u32::MAX);
        } else if unit == Unit::Branch {
            let members = self.members_below(&org.path);
            q.formal_members = u32::try_from(members.iter().filter(|m| m.stage == "full").count()).unwrap_or(u32::MAX);
            q.members = members
                .iter()
                .map(|m| Member {
                    id: m.id,
                    name: m.name.clone(),
                    on_committee: m.party_post.as_deref().is_some_and(is_committee_post),
                })
                .collect();
        }
        by(&q)
    }
}

/// The formal (full) members whose membership is in force in the subtree of each organization of the
/// subtree `[start, end)`, by organization id — what a calendar counts over [`store::members`] (ORG-09) —
/// from the platform's maintained head counts less the few full members not in force (deceased, left,
/// suspended), instead of walking every member. Organizations without any are left out.
pub async fn formal_members(db: &Db, start: &str, end: &str) -> Result<HashMap<i64, i64>> {
    let mut out = store::full_members_out_of_force(db, start, end).await?;
    // Byte order, as both databases sort paths; the ranges below rely on it.
    out.sort();
    let mut formal = HashMap::new();
    for (id, path, n) in store::full_member_counts(db, start, end).await? {
        let end = subtree_end(&path);
        let lo = out.partition_point(|(p, _)| p.as_str() < path.as_str());
        let hi = out.partition_point(|(p, _)| p.as_str() < end.as_str());
        let gone: i64 = out.get(lo..hi.max(lo)).unwrap_or(&[]).iter().map(|(_, n)| n).sum();
        if n > gone {
            formal.insert(id, n - gone);
        }
    }
    Ok(formal)
}

pub(crate) fn write_of<'v>(v: &'v ValidMeeting, org: &'v Org, actor: &Actor, now: OffsetDateTime) -> MeetingWrite<'v> {
    MeetingWrite {
        org_id: org.id,
        org_path: &org.path,
        kind: v.kind.code(),
        title: &v.title,
        held_on: v.held_on,
        start_time: v.start_time.as_deref(),
        place: v.place.as_deref(),
        online_link: v.online_link.as_deref(),
        agenda: v.agenda.as_deref(),
        minutes: v.minutes.as_deref(),
        status: v.status.code(),
        user_id: Some(actor.user_id).filter(|id| *id > 0),
        now,
        plan_id: None,
    }
}

fn meeting_of(r: store::MeetingRow, attendees: Vec<store::AttendeeRow>, reasons: bool) -> Meeting {
    let kind = MeetingKind::parse(&r.kind).unwrap_or(MeetingKind::BranchAssembly);
    let status = MeetingStatus::parse(&r.status).unwrap_or(MeetingStatus::Planned);
    let attendees: Vec<Attendee> = attendees
        .into_iter()
        .map(|a| {
            let attendance = a.attendance.as_deref().and_then(Attendance::parse);
            Attendee {
                person_id: a.person_id,
                name: a.name,
                attendance,
                attendance_label: attendance.map_or("未登记", Attendance::label),
                reason: a.reason.filter(|_| reasons),
            }
        })
        .collect();
    let count =
        |w: Attendance| i64::try_from(attendees.iter().filter(|a| a.attendance == Some(w)).count()).unwrap_or(0);
    let stats = stats_of(
        i64::try_from(attendees.len()).unwrap_or(0),
        count(Attendance::Present),
        count(Attendance::Leave),
        count(Attendance::Absent),
    );
    Meeting {
        id: r.id,
        org_id: r.org_id,
        org_name: r.org_name,
        kind,
        kind_label: kind.label(),
        title: r.title,
        held_on: r.held_on,
        start_time: r.start_time,
        place: r.place,
        online_link: r.online_link,
        agenda: r.agenda,
        minutes: r.minutes,
        status,
        status_label: status.label(),
        archived: r.archived,
        version: r.version,
        attendees,
        stats,
        org_path: r.org_path,
        org_kind: OrgKind::parse(&r.org_kind),
        minutes_files: Vec::new(),
        plan_id: r.plan_id,
    }
}

/// The stored meeting with the items present in `patch` laid over it.
fn merge(current: &Meeting, patch: &MeetingInput) -> MeetingInput {
    let keep = |p: &Option<String>, c: &Option<String>| p.clone().or_else(|| c.clone());
    MeetingInput {
        org_id: patch.org_id.or(Some(current.org_id)),
        kind: patch.kind.clone().or_else(|| Some(current.kind.code().into())),
        title: patch.title.clone().or_else(|| Some(current.title.clone())),
        held_on: patch.held_on.clone().or_else(|| Some(kernel::dates::iso(current.held_on))),
        start_time: keep(&patch.start_time, &current.start_time),
        place: keep(&patch.place, &current.place),
        online_link: keep(&patch.online_link, &current.online_link),
        agenda: keep(&patch.agenda, &current.agenda),
        minutes: keep(&patch.minutes, &current.minutes),
        status: patch.status.clone().or_else(|| Some(current.status.code().into())),
        attendee_ids: patch.attendee_ids.clone(),
        version: patch.version,
    }
}

/// The names of the items a patch carries, for the audit entry (never their values: minutes may be long).
fn changed_items(patch: &MeetingInput) -> String {
    let items = [
        ("org_id", patch.org_id.is_some()),
        ("kind", patch.kind.is_some()),
        ("title", patch.title.is_some()),
        ("held_on", patch.held_on.is_some()),
        ("start_time", patch.start_time.is_some()),
        ("place", patch.place.is_some()),
        ("online_link", patch.online_link.is_some()),
        ("agenda", patch.agenda.is_some()),
        ("minutes", patch.minutes.is_some()),
        ("status", patch.status.is_some()),
    ];
    let names: Vec<&str> = items.iter().filter(|(_, present)| *present).map(|(n, _)| *n).collect();
    names.join(",")
}
