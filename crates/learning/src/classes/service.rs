//! The actions of 线上党课. Publishing and finishing a class needs `LearningWrite` at its organization;
//! joining needs the caller's own person in its audience. The 党课 meeting behind a class with sign-in is
//! created, read and updated only through crates/life's own service (`life::Life`), with the caller's
//! rights there — so a class never bypasses the meeting's rules and never duplicates the meeting.

use life::Life;
use life::model::{AttendanceEntry, AttendanceInput, MeetingInput, MeetingKind, MeetingStatus};
use platform::{Actor, Capability, Ctx};
use security::audit;
use time::Duration;

use crate::classes::model::*;
use crate::classes::store;
use crate::exams::model::{local_text, parse_local};
use crate::model::{FieldErrors, stages_column, stages_of};
use crate::points::model::Action;
use crate::points::service::{award_in, when_now};
use crate::service::{Error, Learning, Result, event, now};
use crate::store::Reach;

fn user_of(actor: &Actor) -> Option<i64> {
    Some(actor.user_id).filter(|id| *id > 0)
}

fn web_link(v: &Option<String>, key: &str, e: &mut FieldErrors) -> Option<String> {
    let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let lower = v.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://"))
        || v.chars().count() > 500
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        e.insert(key.into(), "链接地址应以 http:// 或 https:// 开头，不含空格".into());
        return None;
    }
    Some(v.to_string())
}

/// A life error of the meeting behind a class, as an error of the class form.
fn meeting_error(e: life::Error, key: &str) -> Error {
    match e {
        life::Error::Invalid(f) => {
            let msgs: Vec<String> = f.into_values().collect();
            Error::Invalid(FieldErrors::from([(key.into(), format!("无法登记党课会议：{}", msgs.join("；")))]))
        }
        life::Error::Forbidden | life::Error::NotFound => {
            Error::Invalid(FieldErrors::from([(key.into(), "您无权为该组织登记党课会议，或该会议不存在".into())]))
        }
        life::Error::Conflict(m) => Error::Conflict(m),
        life::Error::Db(d) => Error::Db(d),
        life::Error::Platform(p) => Error::Platform(p),
    }
}

impl Learning<'_> {
    async fn class_view(&self, actor: &Actor, r: store::ClassRow) -> Result<PartyClass> {
        let stages = stages_of(r.stages.as_deref());
        let viewer = self.viewer(actor).await?;
        let taker = viewer.in_audience(&r.org_path, &stages);
        let joined = match (taker, actor.person_id) {
            (true, Some(p)) => store::joined(self.db(), r.id, p).await?,
            _ => false,
        };
        let manageable = actor.can(Capability::LearningRead, &r.org_path);
        let status = ClassStatus::parse(&r.status).unwrap_or(ClassStatus::Scheduled);
        let t = now();
        let ends = r.starts_at + Duration::minutes(r.minutes);
        let join_note = if !taker {
            Some("只有本课程面向的人员可以参加".to_string())
        } else if status == ClassStatus::Cancelled {
            Some("课程已取消".to_string())
        } else if t < r.starts_at - Duration::minutes(JOIN_EARLY_MINUTES) {
            Some(format!("开课前{JOIN_EARLY_MINUTES}分钟可进入（{}开课）", local_text(r.starts_at)))
        } else if t > ends || status == ClassStatus::Finished {
            Some("课程已结束".to_string())
        } else {
            None
        };
        Ok(PartyClass {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            title: r.title,
            lecturer: r.lecturer,
            starts_at: r.starts_at,
            minutes: r.minutes,
            link: r.link,
            room: r.room,
            description: r.description,
            stages,
            meeting_id: r.meeting_id,
            replay_url: r.replay_url,
            status,
            status_label: status.label(),
            materials: store::materials_of(self.db(), r.id).await?,
            joined,
            can_join: join_note.is_none(),
            join_note,
            joined_count: if manageable {
                Some(store::joined_people(self.db(), r.id).await?.len() as i64)
            } else {
                None
            },
            manageable,
            org_path: r.org_path,
        })
    }

    async fn readable_class(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<store::ClassRow> {
        let row = store::get_class(self.db(), id).await?;
        let viewer = self.viewer(actor).await?;
        match row {
            Some(r) if viewer.may_read(&r.org_path, &stages_of(r.stages.as_deref())) => Ok(r),
            _ => Err(self.deny(ctx, actor, action, &format!("class:{id}")).await?),
        }
    }

    /// The planned 党课 meetings a new class of the caller may be linked to (those she may change, not yet
    /// linked to a class), earliest first.
    pub async fn linkable_meetings(&self, actor: &Actor) -> Result<Vec<life::model::MeetingSummary>> {
        let mut meetings = Life::new(self.platform)
            .upcoming_writable(actor, MeetingKind::PartyLecture)
            .await
            .map_err(|e| meeting_error(e, "meeting_id"))?;
        let since = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        let linked = store::linked_meetings(self.db(), since).await?;
        meetings.retain(|m| !linked.contains(&m.id));
        Ok(meetings)
    }

    /// Schedules a class; with `sign_in` it also plans the organization's 党课 meeting in crates/life (or
    /// links the given one), which carries QR sign-in and the obligation.
    pub async fn create_class(&self, ctx: &Ctx, actor: &Actor, input: &ClassInput) -> Result<PartyClass> {
        if !Self::may_publish(actor) {
            return Err(self.refuse(ctx, actor, "class.create", "class:new").await?);
        }
        let mut e = FieldErrors::new();
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
        let title = text(&input.title);
        if title.is_empty() {
            e.insert("title".into(), "请填写课程名称".into());
        } else if title.chars().count() > crate::model::MAX_TITLE_CHARS {
            e.insert("title".into(), format!("名称不超过{}个字", crate::model::MAX_TITLE_CHARS));
        }
        let lecturer = text(&input.lecturer);
        if lecturer.is_empty() {
            e.insert("lecturer".into(), "请填写主讲人".into());
        } else if lecturer.chars().count() > 50 {
            e.insert("lecturer".into(), "主讲人不超过50个字".into());
        }
        let starts_at = match input.starts_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.insert("starts_at".into(), "请填写开课时间".into());
                None
            }
            Some(s) => parse_local(s).or_else(|| {
                e.insert("starts_at".into(), "时间格式应为 YYYY-MM-DD HH:MM，例如 2026-04-10 19:00".into());
                None
            }),
        };
        let minutes = input.minutes.unwrap_or(60);
        if !(10..=480).contains(&minutes) {
            e.insert("minutes".into(), "时长应为10至480分钟".into());
        }
        let link = web_link(&input.link, "link", &mut e);
        let room = input.room.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if room.as_ref().is_some_and(|r| r.chars().count() > 200) {
            e.insert("room".into(), "地点不超过200个字".into());
        }
        if link.is_none() && room.is_none() && !e.contains_key("link") {
            e.insert("link".into(), "请填写线上课堂链接或授课地点".into());
        }
        let description = text(&input.description);
        if description.chars().count() > 5000 {
            e.insert("description".into(), "简介不超过5000字".into());
        }
        let stages = crate::model::parse_stages(&input.stages, &mut e);
        let org = self.target_org(actor, input.org_id, &mut e).await?;
        let life = Life::new(self.platform);
        if let (Some(mid), Some(o)) = (input.meeting_id, &org) {
            match life.get_meeting(ctx, actor, mid).await {
                Ok(m)
                    if m.kind == MeetingKind::PartyLecture
                        && Life::may_write(actor, &m)
                        && platform::model::path_within(&m.org_path, &o.path) =>
                {
                    if store::class_of_meeting(self.db(), mid).await?.is_some() {
                        e.insert("meeting_id".into(), "该党课会议已关联其他线上党课".into());
                    }
                }
                Ok(_) => {
                    e.insert("meeting_id".into(), "只能关联本组织及下级组织、您可以编辑的党课会议".into());
                }
                Err(_) => {
                    e.insert("meeting_id".into(), "党课会议不存在或不在您的范围内".into());
                }
            }
        }
        if !e.is_empty() {
            return Err(Error::Invalid(e));
        }
        let (org, starts_at) = match (org, starts_at) {
            (Some(o), Some(s)) => (o, s),
            _ => return Err(Error::NotFound),
        };
        let meeting_id = match (input.meeting_id, input.sign_in.unwrap_or(false)) {
            (Some(mid), _) => Some(mid),
            (None, true) => {
                let local = starts_at.to_offset(time::macros::offset!(+8));
                let m = life
                    .create_meeting(
                        ctx,
                        actor,
                        &MeetingInput {
                            org_id: Some(org.id),
                            kind: Some(MeetingKind::PartyLecture.code().into()),
                            title: Some(format!("线上党课：{title}")),
                            held_on: Some(kernel::dates::iso(local.date())),
                            start_time: Some(format!("{:02}:{:02}", local.hour(), local.minute())),
                            place: room.clone(),
                            online_link: link.clone(),
                            agenda: Some(format!("主讲：{lecturer}")),
                            // Held once the class is finished (finish_class), not on creation.
                            status: Some(MeetingStatus::Planned.code().into()),
                            ..MeetingInput::default()
                        },
                    )
                    .await
                    .map_err(|e| meeting_error(e, "sign_in"))?;
                Some(m.id)
            }
            (None, false) => None,
        };
        let stages = stages_column(&stages);
        let mut tx = self.db().begin().await?;
        let id = store::insert_class(
            &mut tx,
            &store::ClassWrite {
                org_id: org.id,
                org_path: &org.path,
                title: &title,
                lecturer: &lecturer,
                starts_at,
                minutes,
                link: link.as_deref(),
                room: room.as_deref(),
                description: &description,
                stages: stages.as_deref(),
                meeting_id,
                user_id: user_of(actor),
                now: now(),
            },
        )
        .await?;
        let detail =
            format!("org:{} starts:{} meeting:{}", org.id, local_text(starts_at), meeting_id.unwrap_or_default());
        audit::append(&mut tx, event(actor, ctx, "class.create", format!("class:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_class(ctx, actor, id).await
    }

    /// One class; 404 (audited) outside its audience and its managers.
    pub async fn get_class(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<PartyClass> {
        let r = self.readable_class(ctx, actor, id, "class.read").await?;
        self.class_view(actor, r).await
    }

    /// The classes the caller may read, the latest start first.
    pub async fn list_classes(&self, actor: &Actor) -> Result<ClassList> {
        let viewer = self.viewer(actor).await?;
        if viewer.reads_nothing() {
            return Ok(ClassList { items: Vec::new() });
        }
        let mut items = Vec::new();
        for r in store::list_classes(self.db(), &Reach::of(&viewer), 200).await? {
            items.push(self.class_view(actor, r).await?);
        }
        Ok(ClassList { items })
    }

    /// Joins a class through its page (from half an hour before the start to its end): recorded once,
    /// audited, points if switched on. Joining again answers the same.
    pub async fn join_class(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<PartyClass> {
        let r = self.readable_class(ctx, actor, id, "class.join").await?;
        let view = self.class_view(actor, r.clone()).await?;
        let Some(pid) = actor.person_id.filter(|_| view.join_note.as_deref() != Some("只有本课程面向的人员可以参加"))
        else {
            return Err(self.refuse(ctx, actor, "class.join", &format!("class:{id}")).await?);
        };
        if view.joined {
            return Ok(view);
        }
        if !view.can_join {
            return Err(Error::Conflict("现在不在课程的进入时间内（开课前30分钟至下课）"));
        }
        // Read before the transaction, which never waits for a second connection.
        let person = self.person(pid).await?;
        let mut tx = self.db().begin().await?;
        if store::join(&mut tx, id, pid, now()).await? {
            if let Some((path, _, _)) = person {
                award_in(&mut tx, pid, &path, Action::ClassAttended, id, when_now()).await?;
            }
            audit::append(&mut tx, event(actor, ctx, "class.join", format!("class:{id}"), "ok", String::new())).await?;
        }
        tx.commit().await?;
        self.get_class(ctx, actor, id).await
    }

    /// After the class: sets the replay and materials and marks it finished. A linked 党课 meeting is marked
    /// held in crates/life and those who joined through the page are recorded present there (if invited and
    /// not yet recorded), so the class counts toward the branch's 党课 obligation.
    pub async fn finish_class(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &FinishInput) -> Result<PartyClass> {
        let r = self.readable_class(ctx, actor, id, "class.finish").await?;
        if !actor.can(Capability::LearningWrite, &r.org_path) {
            return Err(self.refuse(ctx, actor, "class.finish", &format!("class:{id}")).await?);
        }
        let mut e = FieldErrors::new();
        let replay = web_link(&input.replay_url, "replay_url", &mut e);
        let mut materials = Vec::new();
        for m in input.material_ids.iter().flatten() {
            match self.get_material(ctx, actor, *m).await {
                Ok(_) if !materials.contains(m) => materials.push(*m),
                Ok(_) => {}
                Err(_) => {
                    e.insert("material_ids".into(), format!("学习材料 {m} 不存在或您无权查看"));
                }
            }
        }
        if !e.is_empty() {
            return Err(Error::Invalid(e));
        }
        if now() < r.starts_at {
            return Err(Error::Conflict("课程尚未开始，不能结束"));
        }
        if let Some(mid) = r.meeting_id {
            let life = Life::new(self.platform);
            let m = life.get_meeting(ctx, actor, mid).await.map_err(|e| meeting_error(e, "meeting_id"))?;
            if !m.archived {
                if m.status != MeetingStatus::Held {
                    let patch =
                        MeetingInput { status: Some(MeetingStatus::Held.code().into()), ..MeetingInput::default() };
                    life.update_meeting(ctx, actor, mid, &patch).await.map_err(|e| meeting_error(e, "meeting_id"))?;
                }
                let joined = store::joined_people(self.db(), id).await?;
                let entries: Vec<AttendanceEntry> = m
                    .attendees
                    .iter()
                    .filter(|a| a.attendance.is_none() && joined.contains(&a.person_id))
                    .map(|a| AttendanceEntry { person_id: a.person_id, status: Some("present".into()), reason: None })
                    .collect();
                if !entries.is_empty() {
                    life.record_attendance(ctx, actor, mid, &AttendanceInput { entries })
                        .await
                        .map_err(|e| meeting_error(e, "meeting_id"))?;
                }
            }
        }
        let mut tx = self.db().begin().await?;
        store::finish(&mut tx, id, replay.as_deref(), &materials, now()).await?;
        let detail = format!("replay:{} materials:{}", replay.is_some(), materials.len());
        audit::append(&mut tx, event(actor, ctx, "class.finish", format!("class:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_class(ctx, actor, id).await
    }
}
