//! PIPL rights beyond reading (个人信息保护法 第四十五至四十七条, 第五十条; security.md AT-36, AT-37):
//!
//! * **Copy**: a member asks; a request record with a single-use token (only its SHA-256 kept) that expires
//!   after [`COPY_LINK_HOURS`]; the token is handed over once and travels in a POST body, never in a URL, so
//!   no access log holds it. Downloading it after login as the same person gives the ZIP (web crate);
//!   request, download and expiry are audited.
//! * **Correction**: a member names an item, the value she proposes and why; the record keepers of her
//!   branch (those holding `PersonWrite` over her organization: its branch secretary and the org staff of her
//!   college or the university, the same people who may edit her record) see it in their queue with its due
//!   day ([`privacy::rights_due`]) and accept — the change applied and audited in the same transaction — or
//!   refuse with a reason; she sees the outcome.
//! * **Deletion**: a member asks; one record keeper endorses (提请), a *different* one approves (two-person
//!   rule); then, in one transaction, every [`PersonData`] provider and the platform erase or pseudonymise
//!   her data, and the audit entry names the pseudonym, not her.
//! * **A deceased member's close relatives** (第四十九条, [`privacy::CITE_POSTHUMOUS`]): her record keeper files a
//!   copy, correction or deletion for a spouse, parent, child, sibling, grandparent or grandchild who came in
//!   person, after checking the relative's identity document and the proof of the relationship, with the
//!   relative's lawful and legitimate interest as the reason. Refused when she arranged otherwise in her
//!   lifetime (我的个人信息 › 身后个人信息安排; the refusal is audited). The copy's single-use link goes to
//!   that record keeper, who hands the copy over. The relative's name and telephone are sealed, and go when her
//!   data is erased.

use security::{audit, token};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{CACHE_CHANNEL, COL_ID_NUMBER, Ctx, Error, Platform, Result, event, now};
use crate::access::{Actor, Capability, Scope};
use crate::model::Status;
use crate::model::{Person, subtree_end};
use crate::privacy::{self, COPY_LINK_HOURS, Erasure, PersonData, field_label, relation_label};
use crate::rules::{self, FieldErrors, PersonInput};
use crate::store::{self, rights as rs};

/// The proposed value of a correction is sealed like the item it may replace (a phone, an ID number).
const COL_PROPOSED: &str = "privacy_requests.proposed";
/// A deceased member's relative who asked: name and telephone, sealed (security::rotation lists both).
const COL_REQUESTER_NAME: &str = "privacy_requests.requester_name";
const COL_REQUESTER_PHONE: &str = "privacy_requests.requester_phone";

/// A request as the member and the record keepers see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RightsRequest {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    /// `copy`, `correction`, `deletion`.
    pub kind: String,
    pub kind_label: String,
    /// copy: `ready`, `downloaded`, `expired`; correction: `pending`, `accepted`, `refused`; deletion:
    /// `pending`, `endorsed`, `done`, `refused`.
    pub state: String,
    pub state_label: String,
    pub field: Option<String>,
    pub field_label: Option<String>,
    pub proposed: Option<String>,
    pub reason: Option<String>,
    /// The last day to answer (corrections and deletions), ISO date.
    pub due_on: Option<String>,
    pub overdue: bool,
    /// When a copy's link lapses, RFC 3339.
    pub expires_at: Option<String>,
    pub requested_at: String,
    /// Who endorsed a deletion (the first of two).
    pub endorsed_by: Option<String>,
    /// Their account (the page hides 批准 from them: two-person rule).
    #[serde(skip)]
    pub endorsed_by_id: Option<i64>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The record keeper's reason (a refusal's is required: PIPL 第五十条).
    pub decision_note: Option<String>,
    /// The key a deletion left in the records kept by law.
    pub pseudonym: Option<String>,
    /// The record keeper who filed it on her behalf (she asked in person, on paper or by telephone); absent
    /// when she filed it herself.
    pub filed_by: Option<String>,
    /// For a deceased member (PIPL 第四十九条): the close relative who asked, as relationship and name
    /// (`配偶 张某`), for the record keepers who answer them.
    pub requester: Option<String>,
    /// That relative's telephone, to give them the answer.
    pub requester_phone: Option<String>,
}

/// A member's request, as the API and the form take it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RightsInput {
    /// `copy`, `correction` or `deletion`.
    #[schema(example = "correction")]
    pub kind: String,
    /// For a correction: name, gender, birth_date, id_number, phone, address, ethnicity, native_place,
    /// education, person_no.
    #[schema(example = "phone")]
    pub field: Option<String>,
    /// For a correction: the right value.
    #[schema(example = "13900139000")]
    pub proposed: Option<String>,
    /// Why (4–200 characters; a deletion's up to 500). For a deceased member's relative: their lawful and
    /// legitimate interest.
    #[schema(example = "手机号已更换")]
    pub reason: Option<String>,
    /// Only for a deceased member, filed by her record keeper (PIPL 第四十九条): the close relative's name.
    #[schema(example = "张建国")]
    pub requester_name: Option<String>,
    /// Their relationship to her: spouse, parent, child, sibling, grandparent, grandchild (民法典
    /// 第一千零四十五条).
    #[schema(example = "spouse")]
    pub requester_relation: Option<String>,
    /// Their telephone.
    #[schema(example = "13900139000")]
    pub requester_phone: Option<String>,
    /// The record keeper confirms she checked the relative's identity document and the proof of the
    /// relationship (required with a relative).
    pub identity_checked: bool,
}

/// A member's arrangement for her data after her death (PIPL 第四十九条 "死者生前另有安排的除外").
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Arrangement {
    /// Whether her close relatives may exercise her rights of access, copy, correction and deletion after
    /// her death: true unless she said otherwise (the law's default).
    pub relatives_may: bool,
    /// What else her record keepers should know (at most 200 characters).
    pub note: Option<String>,
    /// When she made it, RFC 3339; absent when she never did (the default applies).
    pub set_at: Option<String>,
}

/// The member's arrangement, as the API and the form take it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ArrangementInput {
    /// Required: may her close relatives exercise her rights after her death?
    pub relatives_may: Option<bool>,
    /// At most 200 characters.
    #[schema(example = "仅限配偶查阅")]
    pub note: Option<String>,
}

/// Who files a request: the member, a record keeper for her, or a record keeper for a deceased member's
/// close relative.
enum Filer {
    Herself,
    OnBehalf,
    Relative(Relative),
}

/// A deceased member's close relative, as checked by the record keeper.
struct Relative {
    relation: &'static str,
    name: String,
    phone: String,
}

impl Filer {
    fn for_someone(&self) -> bool {
        !matches!(self, Filer::Herself)
    }
}

/// The relative of a request for a deceased member, checked; errors under the input's keys.
fn relative_of(errors: &mut FieldErrors, input: &RightsInput) -> Relative {
    let code = input.requester_relation.as_deref().unwrap_or_default();
    let relation = privacy::CLOSE_RELATIVES.iter().map(|(c, _)| *c).find(|c| *c == code).unwrap_or_default();
    if relation.is_empty() {
        errors.insert(
            "requester_relation".into(),
            "请选择申请人与已故党员的关系：只有配偶、父母、子女、兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女可以申请（《民法典》第一千零四十五条）"
                .into(),
        );
    }
    let name = text(errors, "requester_name", input.requester_name.as_deref(), 2, 50, "请填写申请人姓名（2-50字）");
    let phone = match rules::parse_phone(input.requester_phone.as_deref().unwrap_or_default()) {
        Ok(p) => p,
        Err(m) => {
            errors.insert("requester_phone".into(), format!("申请人联系电话：{m}"));
            String::new()
        }
    };
    if !input.identity_checked {
        errors.insert(
            "identity_checked".into(),
            "请核验申请人的身份证件和与已故党员的亲属关系证明，并勾选“已核验”".into(),
        );
    }
    Relative { relation, name, phone }
}

/// A record keeper's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Apply a correction.
    Accept,
    /// Refuse a correction or deletion (a reason is required).
    Refuse,
    /// The first approval of a deletion.
    Endorse,
    /// The second approval of a deletion, by someone else: the data is erased.
    Approve,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "accept" => Some(Decision::Accept),
            "refuse" => Some(Decision::Refuse),
            "endorse" => Some(Decision::Endorse),
            "approve" => Some(Decision::Approve),
            _ => None,
        }
    }
}

/// What a new request gives back: the request, and a copy's single-use token (shown this once).
#[derive(Clone, Debug)]
pub struct Requested {
    pub request: RightsRequest,
    pub token: Option<String>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "copy" => "获取副本",
        "correction" => "更正",
        "deletion" => "删除",
        _ => "其他",
    }
}

fn state_label(kind: &str, state: &str) -> &'static str {
    match (kind, state) {
        (_, "ready") => "可下载（链接仅可使用一次）",
        (_, "downloaded") => "已下载",
        (_, "expired") => "链接已过期",
        ("deletion", "pending") => "待办理（需两名经办人审批）",
        (_, "pending") => "待办理",
        (_, "endorsed") => "已提请，待另一名经办人批准",
        (_, "accepted") => "已更正",
        (_, "refused") => "未予办理",
        (_, "done") => "已删除（匿名化）",
        _ => "未知",
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Text as typed, without control characters, trimmed; an error under `key` unless `min..=max` characters.
fn text(errors: &mut FieldErrors, key: &str, raw: Option<&str>, min: usize, max: usize, msg: &str) -> String {
    let t: String = raw.unwrap_or_default().trim().chars().filter(|c| !c.is_control()).collect();
    if !(min..=max).contains(&t.chars().count()) {
        errors.insert(key.into(), msg.into());
    }
    t
}

/// A patch carrying one item.
fn patch_for(field: &str, value: &str) -> PersonInput {
    let v = Some(value.to_string());
    let mut p = PersonInput::default();
    match field {
        "name" => p.name = v,
        "gender" => p.gender = v,
        "birth_date" => p.birth_date = v,
        "id_number" => p.id_number = v,
        "phone" => p.phone = v,
        "address" => p.address = v,
        "ethnicity" => p.ethnicity = v,
        "native_place" => p.native_place = v,
        "education" => p.education = v,
        "person_no" => p.person_no = v,
        _ => {}
    }
    p
}

/// Marks every copy link past its time as expired, one audited transaction each (the cleanup job calls this;
/// a lapsed link is refused, and shown as expired, before that anyway). Returns how many lapsed.
pub async fn expire_copy_links(db: &kernel::Db) -> Result<u64> {
    let t = now();
    let mut n = 0;
    for (id, person_id, expires_at) in rs::ready_copies(db).await? {
        if expires_at > t {
            continue;
        }
        let mut tx = db.begin().await?;
        if rs::close_copy(&mut tx, id, "expired", t).await? {
            let e = audit::Event {
                actor: "system".into(),
                action: "privacy.copy_expire".into(),
                target: format!("person:{person_id}"),
                result: "ok".into(),
                detail: format!("request:{id}"),
                ..Default::default()
            };
            audit::append(&mut tx, e).await?;
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}

impl Platform {
    pub(super) fn rights_view(&self, r: rs::RequestRow) -> RightsRequest {
        let proposed = r.proposed_enc.as_deref().and_then(|v| self.cipher.decrypt(COL_PROPOSED, v).ok());
        let today = kernel::dates::today();
        let open = matches!(r.state.as_str(), "pending" | "endorsed");
        let requester = r.requester_relation.as_deref().map(|rel| {
            let name = r.requester_name_enc.as_deref().and_then(|v| self.cipher.decrypt(COL_REQUESTER_NAME, v).ok());
            format!("{} {}", relation_label(rel).unwrap_or(rel), name.as_deref().unwrap_or("（已删除）"))
        });
        let requester_phone =
            r.requester_phone_enc.as_deref().and_then(|v| self.cipher.decrypt(COL_REQUESTER_PHONE, v).ok());
        // A lapsed link reads as expired at once; the cleanup job records the expiry (a GET changes nothing).
        let mut r = r;
        if r.kind == "copy" && r.state == "ready" && r.expires_at.is_none_or(|at| at <= now()) {
            r.state = "expired".into();
        }
        RightsRequest {
            id: r.id,
            person_id: r.person_id,
            person_name: r.person_name,
            kind_label: kind_label(&r.kind).into(),
            state_label: state_label(&r.kind, &r.state).into(),
            field_label: r.field.as_deref().and_then(field_label).map(str::to_string),
            field: r.field,
            proposed,
            reason: r.reason,
            due_on: r.due_on.map(kernel::dates::iso),
            overdue: open && r.due_on.is_some_and(|d| privacy::overdue(d, today)),
            expires_at: r.expires_at.filter(|_| r.kind == "copy").map(rfc3339),
            requested_at: rfc3339(r.requested_at),
            endorsed_by: r.endorsed_by_name,
            endorsed_by_id: r.endorsed_by,
            decided_by: r.decided_by_name,
            decided_at: r.decided_at.map(rfc3339),
            decision_note: r.decision_note,
            pseudonym: r.pseudonym,
            filed_by: r.filed_by_name,
            requester,
            requester_phone,
            kind: r.kind,
            state: r.state,
        }
    }

    /// A member's request about her own data (copy, correction or deletion).
    pub async fn request_right(&self, ctx: &Ctx, actor: &Actor, input: &RightsInput) -> Result<Requested> {
        let pid = actor.person_id.ok_or(Error::NotFound)?;
        let person = store::get_person(&self.db, pid).await?.ok_or(Error::NotFound)?;
        self.file_right(ctx, actor, person, Filer::Herself, FieldErrors::new(), input).await
    }

    /// A correction or deletion request a record keeper files for a member who made it in person, on paper or
    /// by telephone (PIPL 第四十五至四十七条 rights are hers however she asks; a member without the app must not
    /// lose them). The record keepers of her record only — those holding `PersonWrite` over her organization;
    /// anyone else gets `NotFound`, audited. Then exactly as her own request: the same checks, the same due
    /// day, the same queue and decisions (a deletion still needs two people besides, as the filer may endorse
    /// but never also approve), and she sees it among her requests with who filed it. A copy is refused: its
    /// single-use link is for her alone. One's own record goes through [`Platform::request_right`]. Audited
    /// like hers, with `on_behalf` in the detail.
    ///
    /// For a **deceased** member the request is her close relative's (PIPL 第四十九条): `requester_name`,
    /// `requester_relation` (民法典 第一千零四十五条), `requester_phone` and `identity_checked` are required, the
    /// reason is the relative's lawful and legitimate interest, a copy may be asked (its single-use token goes
    /// to this record keeper, who hands the copy over), and her lifetime arrangement refusing it is honoured
    /// (409, audited as refused). Audited with `relative:<relationship>` in the detail. For a living member a
    /// relative is refused (422): her rights are hers to exercise. A record whose data was erased has nothing
    /// left to ask about (409).
    pub async fn request_right_for(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        person_id: i64,
        input: &RightsInput,
    ) -> Result<Requested> {
        let target = format!("person:{person_id}");
        let person = store::get_person(&self.db, person_id).await?;
        let Some(person) = person.filter(|p| actor.can(Capability::PersonWrite, &p.org_path)) else {
            return Err(self.deny(ctx, actor, "privacy.request_for", &target).await?);
        };
        let mut errors = FieldErrors::new();
        if actor.person_id == Some(person_id) {
            return self.file_right(ctx, actor, person, Filer::Herself, errors, input).await;
        }
        let filer = if Status::parse(&person.status) == Some(Status::Deceased) {
            Filer::Relative(relative_of(&mut errors, input))
        } else {
            let named = [&input.requester_name, &input.requester_relation, &input.requester_phone]
                .iter()
                .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()));
            if named {
                errors.insert(
                    "requester_name".into(),
                    "本人健在：近亲属申请只适用于已去世的党员（《个人信息保护法》第四十九条），本人的请求不填申请人"
                        .into(),
                );
            }
            if input.kind == "copy" {
                errors.insert("kind".into(), "获取副本须由本人登录后申请：下载链接只交给本人".into());
            }
            if !errors.is_empty() {
                return Err(Error::Invalid(errors));
            }
            Filer::OnBehalf
        };
        self.file_right(ctx, actor, person, filer, errors, input).await
    }

    /// Files a request about `person`'s data: by herself, by a record keeper on her behalf, or by one for a
    /// deceased member's relative. `errors` holds what the caller found wrong already (the relative's items).
    async fn file_right(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        person: crate::model::PersonRow,
        filer: Filer,
        mut errors: FieldErrors,
        input: &RightsInput,
    ) -> Result<Requested> {
        let pid = person.id;
        let t = now();
        let today = kernel::dates::today();
        let target = format!("person:{pid}");
        let on_behalf = filer.for_someone();
        let mut tx = self.db.begin().await?;
        if rs::erased_tx(&mut tx, pid).await? {
            return Err(Error::Conflict(
                "该同志的个人信息已删除（匿名化），平台不再保存可以查阅、更正或删除的个人信息",
            ));
        }
        let mut token = None;
        let (reason, field);
        let mut new = rs::NewRequest {
            person_id: pid,
            org_path: &person.org_path,
            kind: "copy",
            state: "pending",
            field: None,
            proposed_enc: None,
            reason: None,
            due_on: Some(privacy::rights_due(today)),
            token_hash: None,
            expires_at: None,
            requested_by: actor.user_id,
            now: t,
            requester: None,
        };
        let action = match input.kind.as_str() {
            "copy" => {
                if matches!(filer, Filer::Relative(_)) {
                    reason = text(
                        &mut errors,
                        "reason",
                        input.reason.as_deref(),
                        4,
                        200,
                        "请写明申请人为自身哪项合法、正当利益需要查阅复制（4-200字），如办理继承",
                    );
                    new.reason = Some(&reason);
                }
                if !errors.is_empty() {
                    return Err(Error::Invalid(errors));
                }
                let tok = token::new_token()?;
                new.state = "ready";
                new.due_on = None;
                new.token_hash = Some(token::hash(&tok));
                new.expires_at = Some(t + time::Duration::hours(COPY_LINK_HOURS));
                token = Some(tok);
                "privacy.copy_request"
            }
            "correction" => {
                field = input.field.clone().unwrap_or_default();
                if field_label(&field).is_none() {
                    errors.insert("field".into(), "请选择要更正的项目".into());
                }
                let proposed =
                    text(&mut errors, "proposed", input.proposed.as_deref(), 1, 200, "请填写正确的内容（1-200字）");
                reason = text(&mut errors, "reason", input.reason.as_deref(), 4, 200, "请写明更正理由（4-200字）");
                if errors.is_empty() {
                    // The proposed value must pass the same checks as the record's form.
                    let (id_enc, ..) = store::person_sealed(&mut tx, pid).await?.ok_or(Error::NotFound)?;
                    let current_id = self.cipher.decrypt(COL_ID_NUMBER, &id_enc)?;
                    let current = Person::from_row(person.clone(), String::new());
                    let merged = super::merge(&current, &current_id, &patch_for(&field, &proposed));
                    if let Err(e) = crate::rules::validate_person(&merged, today)
                        && let Some(m) = e.get(&field)
                    {
                        errors.insert("proposed".into(), m.clone());
                    }
                }
                if !errors.is_empty() {
                    return Err(Error::Invalid(errors));
                }
                let open = rs::of_person_tx(&mut tx, pid).await?;
                if open.iter().any(|r| r.kind == "correction" && r.state == "pending" && r.field == Some(field.clone()))
                {
                    return Err(Error::Conflict(if on_behalf {
                        "该项目已有待办理的更正请求，请直接办理该请求"
                    } else {
                        "该项目已有待办理的更正请求，请等待办理结果"
                    }));
                }
                new.kind = "correction";
                new.field = Some(&field);
                new.proposed_enc = Some(self.cipher.encrypt(COL_PROPOSED, &proposed)?);
                new.reason = Some(&reason);
                "privacy.correction_request"
            }
            "deletion" => {
                reason =
                    text(&mut errors, "reason", input.reason.as_deref(), 4, 500, "请写明要求删除的理由（4-500字）");
                if !errors.is_empty() {
                    return Err(Error::Invalid(errors));
                }
                let open = rs::of_person_tx(&mut tx, pid).await?;
                if open.iter().any(|r| r.kind == "deletion" && matches!(r.state.as_str(), "pending" | "endorsed")) {
                    return Err(Error::Conflict(if on_behalf {
                        "本人已有待办理的删除请求，请直接办理该请求"
                    } else {
                        "您已有待办理的删除请求，请等待办理结果"
                    }));
                }
                new.kind = "deletion";
                new.reason = Some(&reason);
                "privacy.deletion_request"
            }
            _ => {
                errors.insert("kind".into(), "请求类型只能是获取副本、更正或删除".into());
                return Err(Error::Invalid(errors));
            }
        };
        let kind_field = new.field.map(|f| format!(" field:{f}")).unwrap_or_default();
        let behalf = match &filer {
            Filer::Herself => String::new(),
            Filer::OnBehalf => " on_behalf".into(),
            Filer::Relative(r) => format!(" relative:{}", r.relation),
        };
        if let Filer::Relative(r) = &filer {
            // 第四十九条 "死者生前另有安排的除外": her own arrangement is the last word.
            if let Some(a) = rs::arrangement_tx(&mut tx, pid).await?
                && !a.relatives_may
            {
                let detail = format!("{}{kind_field}{behalf} arrangement", input.kind);
                audit::append(&mut tx, event(Some(actor), ctx, action, target, "refused", detail)).await?;
                tx.commit().await?;
                return Err(Error::Conflict(
                    "本人生前已作出安排，不同意近亲属查阅、复制、更正或删除其个人信息（《个人信息保护法》第四十九条：死者生前另有安排的除外），不予登记",
                ));
            }
            new.requester = Some((
                r.relation,
                self.cipher.encrypt(COL_REQUESTER_NAME, &r.name)?,
                self.cipher.encrypt(COL_REQUESTER_PHONE, &r.phone)?,
            ));
        }
        let id = rs::insert(&mut tx, new).await?;
        let detail = format!("request:{id}{kind_field}{behalf}");
        audit::append(&mut tx, event(Some(actor), ctx, action, target, "ok", detail)).await?;
        let row = rs::get(&mut tx, id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        Ok(Requested { request: self.rights_view(row), token })
    }

    /// The caller's own requests, newest first.
    pub async fn my_rights_requests(&self, actor: &Actor) -> Result<Vec<RightsRequest>> {
        let Some(pid) = actor.person_id else {
            return Ok(vec![]);
        };
        Ok(rs::of_person(&self.db, pid).await?.into_iter().map(|r| self.rights_view(r)).collect())
    }

    /// Uses a copy's single-use token: only the person it was made for, signed in, before it lapses. The link
    /// is closed first (compare-and-set: two downloads at once get one copy), then the copy is made.
    pub async fn take_copy(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        token: &str,
        providers: &[&dyn PersonData],
    ) -> Result<serde_json::Value> {
        let t = now();
        let mut tx = self.db.begin().await?;
        let row = rs::by_token(&mut tx, &token::hash(token.trim())).await?;
        // Her own copy is hers; a deceased member's copy for a relative is the filing record keeper's alone to
        // hand over, while she keeps that record.
        let may_take = |r: &rs::RequestRow| match r.requester_relation {
            Some(_) => r.requested_by == Some(actor.user_id) && actor.can(Capability::PersonWrite, &r.person_org_path),
            None => actor.person_id == Some(r.person_id),
        };
        let row = row.filter(|r| r.kind == "copy" && may_take(r));
        let Some(row) = row else {
            drop(tx);
            return Err(self.deny(ctx, actor, "privacy.copy_download", "copy").await?);
        };
        let target = format!("person:{}", row.person_id);
        if row.expires_at.is_none_or(|at| at <= t) {
            rs::close_copy(&mut tx, row.id, "expired", t).await?;
            let e = event(Some(actor), ctx, "privacy.copy_expire", target, "ok", format!("request:{}", row.id));
            audit::append(&mut tx, e).await?;
            tx.commit().await?;
            return Err(Error::Conflict("下载链接已过期（72小时内有效），请重新申请获取副本"));
        }
        if !rs::close_copy(&mut tx, row.id, "downloaded", t).await? {
            return Err(Error::Conflict("下载链接已使用过（仅可使用一次），请重新申请获取副本"));
        }
        let e = event(Some(actor), ctx, "privacy.copy_download", target, "ok", format!("request:{}", row.id));
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        match row.requester_relation.as_deref() {
            Some(rel) => {
                self.posthumous_copy(ctx, actor, row.person_id, relation_label(rel).unwrap_or(rel), providers).await
            }
            None => self.my_data(ctx, actor, providers).await,
        }
    }

    /// The caller's arrangement for her data after her death (the default when she made none).
    pub async fn my_arrangement(&self, actor: &Actor) -> Result<Arrangement> {
        let pid = actor.person_id.ok_or(Error::NotFound)?;
        self.arrangement_of(pid).await
    }

    /// A member's arrangement, for the record keeper filing a relative's request (the caller checked that she
    /// keeps the record).
    pub async fn arrangement_of(&self, person_id: i64) -> Result<Arrangement> {
        Ok(match rs::arrangement(&self.db, person_id).await? {
            Some(a) => Arrangement { relatives_may: a.relatives_may, note: a.note, set_at: Some(rfc3339(a.set_at)) },
            None => Arrangement { relatives_may: true, note: None, set_at: None },
        })
    }

    /// Whether person `person_id`'s data was erased (the page then offers no request).
    pub async fn person_erased(&self, person_id: i64) -> Result<bool> {
        Ok(rs::erased(&self.db, person_id).await?)
    }

    /// Makes or changes the caller's arrangement (PIPL 第四十九条): whether her close relatives may exercise her
    /// rights after her death, and a note. Only for an account linked to a person. Audited.
    pub async fn set_my_arrangement(&self, ctx: &Ctx, actor: &Actor, input: &ArrangementInput) -> Result<Arrangement> {
        let pid = actor.person_id.ok_or(Error::NotFound)?;
        let mut errors = FieldErrors::new();
        if input.relatives_may.is_none() {
            errors.insert(
                "relatives_may".into(),
                "请选择是否允许近亲属在您身后查阅、复制、更正或删除您的个人信息".into(),
            );
        }
        let note = text(&mut errors, "note", input.note.as_deref(), 0, 200, "补充说明不超过200字");
        let (Some(relatives_may), true) = (input.relatives_may, errors.is_empty()) else {
            return Err(Error::Invalid(errors));
        };
        let note = (!note.is_empty()).then_some(note);
        let mut tx = self.db.begin().await?;
        rs::set_arrangement(&mut tx, pid, relatives_may, note.as_deref(), actor.user_id, now()).await?;
        let detail = format!("relatives_may:{relatives_may}");
        let e = event(Some(actor), ctx, "privacy.arrangement_set", format!("person:{pid}"), "ok", detail);
        audit::append(&mut tx, e).await?;
        tx.commit().await?;
        self.arrangement_of(pid).await
    }

    /// The open corrections and deletions of the people whose records the caller keeps, oldest due first.
    /// Her own requests are not hers to decide and are left out.
    pub async fn rights_queue(&self, ctx: &Ctx, actor: &Actor) -> Result<Vec<RightsRequest>> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "privacy.queue", "privacy_requests").await?);
        }
        let roots = match actor.scope(Capability::PersonWrite) {
            Scope::Everywhere => vec!["/".to_string()],
            Scope::Subtrees(r) => r,
        };
        let mut rows: Vec<rs::RequestRow> = Vec::new();
        for root in roots {
            for r in rs::open_in(&self.db, &root, &subtree_end(&root)).await? {
                if !rows.iter().any(|x| x.id == r.id) && actor.person_id != Some(r.person_id) {
                    rows.push(r);
                }
            }
        }
        rows.sort_by_key(|r| (r.due_on, r.id));
        Ok(rows.into_iter().map(|r| self.rights_view(r)).collect())
    }

    /// A record keeper's answer to a correction or deletion. A deletion's approval erases, in this one
    /// transaction, everything the `providers` and the platform hold about her.
    pub async fn decide_right(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        decision: Decision,
        note: Option<&str>,
        providers: &[&dyn PersonData],
    ) -> Result<RightsRequest> {
        let mut errors = FieldErrors::new();
        let note = match decision {
            Decision::Refuse => {
                text(&mut errors, "note", note, 4, 200, "不予办理须写明理由（4-200字），本人将看到该理由")
            }
            _ => text(&mut errors, "note", note, 0, 200, "说明不超过200字"),
        };
        let note = (!note.is_empty()).then_some(note);
        let t = now();
        let target = format!("privacy_request:{id}");
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "privacy.decide", &target).await?);
        }
        let mut tx = self.db.begin().await?;
        let row = rs::get(&mut tx, id).await?.filter(|r| r.kind != "copy");
        let Some(row) = row.filter(|r| actor.can(Capability::PersonWrite, &r.person_org_path)) else {
            drop(tx);
            return Err(self.deny(ctx, actor, "privacy.decide", &target).await?);
        };
        if actor.person_id == Some(row.person_id) {
            drop(tx);
            return Err(self.refuse(ctx, actor, "privacy.decide", &target).await?);
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let person_target = format!("person:{}", row.person_id);
        let gone = || Error::Conflict("该请求已被他人办理，请刷新后查看");
        let mut erased = None;
        match (row.kind.as_str(), decision) {
            ("correction", Decision::Accept) => {
                let field = row.field.clone().unwrap_or_default();
                let proposed = row
                    .proposed_enc
                    .as_deref()
                    .map(|v| self.cipher.decrypt(COL_PROPOSED, v))
                    .transpose()?
                    .unwrap_or_default();
                let person_row = store::get_person_tx(&mut tx, row.person_id).await?.ok_or(Error::NotFound)?;
                let current = Person::from_row(person_row, String::new());
                self.apply_patch(&mut tx, ctx, actor, &current, &patch_for(&field, &proposed)).await?;
                if !rs::decide(&mut tx, id, "pending", "accepted", actor.user_id, t, note.as_deref()).await? {
                    return Err(gone());
                }
                let e = event(
                    Some(actor),
                    ctx,
                    "privacy.correction_accept",
                    person_target,
                    "ok",
                    format!("request:{id} field:{field}"),
                );
                audit::append(&mut tx, e).await?;
            }
            ("correction" | "deletion", Decision::Refuse) => {
                if !rs::decide(&mut tx, id, &row.state, "refused", actor.user_id, t, note.as_deref()).await? {
                    return Err(gone());
                }
                let action =
                    if row.kind == "correction" { "privacy.correction_refuse" } else { "privacy.deletion_refuse" };
                audit::append(&mut tx, event(Some(actor), ctx, action, person_target, "ok", format!("request:{id}")))
                    .await?;
            }
            ("deletion", Decision::Endorse) => {
                if !rs::endorse(&mut tx, id, actor.user_id, t, note.as_deref()).await? {
                    return Err(gone());
                }
                let e =
                    event(Some(actor), ctx, "privacy.deletion_endorse", person_target, "ok", format!("request:{id}"));
                audit::append(&mut tx, e).await?;
            }
            ("deletion", Decision::Approve) => {
                if row.state != "endorsed" {
                    return Err(Error::Conflict("删除须先由一名经办人提请，再由另一名经办人批准（双人复核）"));
                }
                if row.endorsed_by == Some(actor.user_id) {
                    return Err(Error::Conflict("提请与批准不能是同一人：请由另一名经办人批准（双人复核）"));
                }
                let mut raw = [0u8; 5];
                security::random_bytes(&mut raw)?;
                let who = Erasure {
                    person_id: row.person_id,
                    pseudonym: format!("匿名-{}", hex::encode(raw)),
                    name: row.person_name.clone(),
                };
                let mut rows = 0;
                for p in providers {
                    rows += p.erase(&mut tx, &who).await?;
                }
                let mut bidx = vec![0u8; 32];
                security::random_bytes(&mut bidx)?;
                let platform_part = rs::PlatformErasure {
                    person_id: row.person_id,
                    pseudonym: &who.pseudonym,
                    name: &who.name,
                    sealed_empty_id: self.cipher.encrypt(COL_ID_NUMBER, "")?,
                    random_bidx: bidx,
                    today: kernel::dates::today(),
                    now: t,
                };
                rows += rs::erase_platform(&mut tx, platform_part).await?;
                if !rs::finish_deletion(&mut tx, id, actor.user_id, t, &who.pseudonym).await? {
                    return Err(gone());
                }
                // The entry names the pseudonym, never the person (nor her record's number).
                let e = event(
                    Some(actor),
                    ctx,
                    "privacy.erase",
                    format!("pseudonym:{}", who.pseudonym),
                    "ok",
                    format!("request:{id} rows:{rows}"),
                );
                audit::append(&mut tx, e).await?;
                erased = Some(who);
            }
            _ => {
                errors.insert(
                    "decision".into(),
                    "该请求不能这样办理：更正可“更正”或“不予办理”，删除可“提请”“批准”或“不予办理”".into(),
                );
                return Err(Error::Invalid(errors));
            }
        }
        let row = rs::get(&mut tx, id).await?.ok_or(Error::NotFound)?;
        tx.commit().await?;
        if decision == Decision::Accept || erased.is_some() {
            self.people_changed().await;
        }
        if erased.is_some() {
            self.forget_sessions();
            store::notify_cache(&self.db, CACHE_CHANNEL, "sessions").await;
            if let Err(e) = rs::checkpoint(&self.db).await {
                tracing::warn!(error = %e, "checkpoint after an erasure");
            }
        }
        Ok(self.rights_view(row))
    }
}
