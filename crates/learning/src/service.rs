//! The actions of 学习教育. Each public function: authorise → validate → (transaction → store → audit →
//! commit), on the platform's database, with the platform's caller ([`Actor`]) and permission matrix
//! (`LearningRead`, `LearningWrite`). A read outside the caller's reach is `NotFound` (audited as a refusal);
//! a write the caller's roles never allow is `Forbidden`.
//!
//! Reading a material is being in its audience ([`Viewer::may_read`]): a person of its organization's
//! subtree at one of its stages, anyone holding a role at or below that organization, or staff managing
//! learning around it. Lists and search apply the same rule inside their SQL ([`store::Reach`]), so they never
//! return what the caller may not read. Heartbeats are not audited (they are not security events, and there
//! are many); publishing is.

use std::collections::{BTreeMap, HashMap, HashSet};

use kernel::{Db, DbError};
use platform::model::{OrgKind, Stage, path_within, subtree_end};
use platform::service::PeopleQuery;
use platform::{Actor, Capability, Ctx, Platform};
use security::audit::{self, Event};
use time::{Duration, OffsetDateTime};

use crate::model::*;
use crate::rules::{self, Candidate, Signals, Studied, Viewer};
use crate::store::{self, MaterialWrite, Reach};
use crate::text::{self, SearchQuery};

/// The errors of 学习教育; they become the platform's errors at the web boundary (same codes, same Chinese
/// messages).
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

pub(crate) fn field(name: &str, msg: impl Into<String>) -> Error {
    Error::Invalid(BTreeMap::from([(name.to_string(), msg.into())]))
}

/// The most materials one list shows.
pub const LIST_LIMIT: i64 = 200;
/// The most results of each kind one search returns.
pub const SEARCH_MATERIALS: i64 = 20;
/// The newest readable matches a search ranks (docs/LEARNING.md "Search": a word found in thousands of
/// materials is ranked among its newest 200, so the time does not grow with the collection).
pub const SEARCH_WINDOW: i64 = 200;
pub const SEARCH_PEOPLE: i64 = 5;
/// Notices one search returns (those sent to the caller or in her oversight).
pub const SEARCH_NOTICES: i64 = 10;
/// The longest query kept (characters).
pub const MAX_QUERY_CHARS: usize = 100;
/// How many recommendations a person gets.
pub const RECOMMENDATIONS: usize = 10;
/// The recommender looks at the [`CANDIDATES`] latest readable materials, the person's
/// [`rules::CONTENT_HISTORY`] latest studies with their text and her records of the candidates, and as
/// co-learners the [`CO_PER_MATERIAL`] latest learners of each of her [`CO_SOURCES`] latest studies, compared
/// through their profiles and hers (`learning_profiles`, kept in the heartbeat's transaction): every read is
/// bounded, whatever the number of learning events stored (docs/LEARNING.md, "Speed and freshness").
pub(crate) const CANDIDATES: i64 = 500;
pub const CO_SOURCES: usize = 30;
pub const CO_PER_MATERIAL: i64 = 10;
/// "Being studied in the branch" looks back this far.
const BRANCH_DAYS: i64 = 30;
/// Keywords kept per material.
const KEYWORDS: usize = 8;

/// Timestamps to the microsecond, which both databases store exactly (a heartbeat compares the stored
/// `last_beat_at` with the one it read).
pub(crate) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000).unwrap_or(t)
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

fn kind_of(code: &str) -> MaterialKind {
    MaterialKind::parse(code).unwrap_or(MaterialKind::Article)
}

fn category_of(code: &str) -> Category {
    Category::parse(code).unwrap_or(Category::Theory)
}

fn progress_of(material_id: i64, required: i64, row: Option<&store::ProgressRow>) -> Progress {
    Progress {
        material_id,
        seconds: row.map_or(0, |r| r.seconds),
        required_seconds: required,
        completed: row.is_some_and(|r| r.completed_at.is_some()),
        completed_at: row.and_then(|r| r.completed_at),
    }
}

/// A person's organization path (for the points rule in force).
async fn material_person_path(l: &Learning<'_>, person_id: i64) -> Result<String> {
    Ok(l.person(person_id).await?.map(|(p, _, _)| p).unwrap_or_default())
}

/// A PDF document without given minutes is timed like an article of the PDF's text (a scanned PDF, whose
/// text cannot be read, keeps the default for links).
fn estimate_from_file(v: &mut ValidMaterial, input: &MaterialInput, file_text: &str) {
    if v.kind == MaterialKind::Document && input.minutes.is_none() && !file_text.is_empty() {
        let chars = file_text.chars().filter(|c| !c.is_whitespace()).count();
        v.est_seconds = rules::estimate_seconds(MaterialKind::Article, chars, None);
    }
}

/// A PDF goes only with a document.
fn file_kind_errors(input: &MaterialInput, with_file: bool, errors: &mut FieldErrors) {
    let kind = input.kind.as_deref().map(str::trim).and_then(MaterialKind::parse);
    if with_file && kind.is_some_and(|k| k != MaterialKind::Document) {
        errors.insert("file".into(), "只有“文档”类材料可以上传PDF文件；请把材料类型选为文档".into());
    }
}

/// The plain text of a stored body.
pub fn body_text(format: BodyFormat, body: &str) -> String {
    match format {
        BodyFormat::Text => body.to_string(),
        BodyFormat::Html => text::html_to_text(body),
    }
}

/// 学习教育 over the platform's database and callers.
pub struct Learning<'a> {
    pub(crate) platform: &'a Platform,
}

impl<'a> Learning<'a> {
    pub fn new(platform: &'a Platform) -> Learning<'a> {
        Learning { platform }
    }

    pub(crate) fn db(&self) -> &Db {
        &self.platform.db
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

    /// The person behind an id: organization path and stage.
    pub(crate) async fn person(&self, id: i64) -> Result<Option<(String, Stage, i64)>> {
        Ok(platform::store::get_person(self.db(), id)
            .await?
            .map(|p| (p.org_path, Stage::parse(&p.stage).unwrap_or(Stage::Full), p.org_id)))
    }

    /// What the caller may read: her person (if any), her posts, the subtrees where she manages learning.
    pub async fn viewer(&self, actor: &Actor) -> Result<Viewer> {
        let person = match actor.person_id {
            Some(id) => self.person(id).await?.map(|(path, stage, _)| (path, stage)),
            None => None,
        };
        let posts =
            actor.grants.iter().filter(|g| !g.role.is_system_wide()).filter_map(|g| g.org_path.clone()).collect();
        let managed = match actor.scope(Capability::LearningRead) {
            platform::access::Scope::Everywhere => vec!["/".to_string()],
            platform::access::Scope::Subtrees(roots) => roots,
        };
        Ok(Viewer { person, posts, managed })
    }

    /// Whether the caller may publish materials somewhere (for the "发布" button).
    pub fn may_publish(actor: &Actor) -> bool {
        actor.can_somewhere(Capability::LearningWrite)
    }

    /// 403 (audited as a refused `material.create`) unless the caller may publish somewhere: checked before
    /// an upload's body is read.
    pub async fn check_may_publish(&self, ctx: &Ctx, actor: &Actor) -> Result<()> {
        if Self::may_publish(actor) {
            Ok(())
        } else {
            Err(self.refuse(ctx, actor, "material.create", "material:new").await?)
        }
    }

    /// The organizations the caller may publish to (widest first), for the form's choice.
    pub async fn publish_targets(&self, actor: &Actor) -> Result<Vec<(i64, String)>> {
        let mut grants: Vec<_> = actor
            .grants
            .iter()
            .filter(|g| g.org_path.as_deref().is_some_and(|p| actor.can(Capability::LearningWrite, p)))
            .filter_map(|g| Some((g.org_path.clone()?.len(), g.org_id?, g.org_name.clone().unwrap_or_default())))
            .collect();
        grants.sort();
        grants.dedup_by_key(|g| g.1);
        Ok(grants.into_iter().map(|(_, id, name)| (id, name)).collect())
    }

    // ------------------------------------------------------------ materials

    /// Publishes a material to an organization's subtree (default: the widest where the caller may). A
    /// document may come with its PDF (`file`): checked and scanned before anything is written, then stored
    /// with the material in one transaction.
    pub async fn create_material(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        input: &MaterialInput,
        file: Option<Upload<'_>>,
    ) -> Result<Material> {
        self.check_may_publish(ctx, actor).await?;
        let input = &MaterialInput { has_file: file.is_some(), ..input.clone() };
        let mut errors = match validate_material(input, kernel::dates::today()) {
            Ok(_) => FieldErrors::new(),
            Err(e) => e,
        };
        let org_id = match input.org_id {
            Some(id) => Some(id),
            None => self.publish_targets(actor).await?.first().map(|(id, _)| *id),
        };
        let org = match org_id {
            Some(id) => platform::store::get_org(self.db(), id).await?,
            None => None,
        };
        let org = match org {
            Some(o) if actor.can(Capability::LearningWrite, &o.path) => Some(o),
            _ => {
                errors.insert("org_id".into(), "所选党组织不存在或不在您的管理范围内".into());
                None
            }
        };
        file_kind_errors(input, file.is_some(), &mut errors);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let mut v = validate_material(input, kernel::dates::today()).map_err(Error::Invalid)?;
        let org = org.ok_or(Error::NotFound)?;
        let checked = match file {
            Some(f) => Some(self.check_pdf(ctx, actor, f).await?),
            None => None,
        };
        let file_text = file.map(|f| documents::pdf_text::extract(f.bytes)).unwrap_or_default();
        estimate_from_file(&mut v, input, &file_text);
        let t = now();
        let text = Texts::of(&v, &org.path, &file_text);
        let mut tx = self.db().begin().await?;
        let id = store::insert_material(&mut tx, &text.write(&v, org.id, &org.path, actor, t)).await?;
        if let (Some(checked), Some(f)) = (&checked, file) {
            self.store_pdf(&mut tx, ctx, actor, id, &org.path, checked, f).await?;
        }
        let detail = format!(
            "org:{} kind:{} category:{} required_due:{} stages:{}",
            org.id,
            v.kind.code(),
            v.category.code(),
            v.required_due.map(kernel::dates::iso).unwrap_or_default(),
            text.stages.unwrap_or_default()
        );
        audit::append(&mut tx, event(actor, ctx, "material.create", format!("material:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_material(ctx, actor, id).await
    }

    /// The material as its publisher may change it: 404 (audited) outside the caller's reach, 403 (audited)
    /// when she reads it but may not publish at its organization (only that organization's learning staff and
    /// those above: `LearningWrite` over its path).
    async fn editable(&self, ctx: &Ctx, actor: &Actor, id: i64, action: &str) -> Result<store::MaterialRow> {
        let target = format!("material:{id}");
        let Some(row) = store::get_material(self.db(), id).await? else {
            return Err(Error::NotFound);
        };
        if !self.viewer(actor).await?.may_read(&row.org_path, &stages_of(row.stages.as_deref())) {
            return Err(self.deny(ctx, actor, action, &target).await?);
        }
        if !actor.can(Capability::LearningWrite, &row.org_path) {
            return Err(self.refuse(ctx, actor, action, &target).await?);
        }
        Ok(row)
    }

    /// Whether the caller may edit or withdraw a material of that organization (for the page's buttons).
    pub fn may_edit(actor: &Actor, m: &Material) -> bool {
        m.withdrawn_at.is_none() && actor.can(Capability::LearningWrite, &m.org_path)
    }

    /// Edits a material with the validation of publishing: the text it replaces is kept in
    /// `material_versions`, its version goes up, and the search index (FTS5 by trigger; the GIN index on
    /// PostgreSQL) follows in the same transaction. Its organization stays (withdraw and publish anew to move
    /// it). A withdrawn material is 409; so is `version` when someone saved a newer one meanwhile.
    ///
    /// A new PDF (`file`) replaces the one shown; the replaced version keeps the old file, which stays.
    pub async fn update_material(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        input: &MaterialInput,
        file: Option<Upload<'_>>,
    ) -> Result<Material> {
        let row = self.editable(ctx, actor, id, "material.update").await?;
        let input = &MaterialInput { has_file: file.is_some() || row.file_id.is_some(), ..input.clone() };
        let mut errors = validate_material(input, kernel::dates::today()).err().unwrap_or_default();
        file_kind_errors(input, file.is_some(), &mut errors);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let mut v = validate_material(input, kernel::dates::today()).map_err(Error::Invalid)?;
        if row.withdrawn_at.is_some() {
            return Err(Error::Conflict("该学习材料已撤回，不能再修改"));
        }
        let expected = input.version.unwrap_or(row.version);
        if expected != row.version {
            return Err(Error::Conflict("该学习材料已被他人修改，请刷新后再改"));
        }
        let checked = match file {
            Some(f) => Some(self.check_pdf(ctx, actor, f).await?),
            None => None,
        };
        // The index keeps the PDF's words across an edit: read again from the file it will show.
        let file_text = match (file, row.file_id) {
            (Some(f), _) => documents::pdf_text::extract(f.bytes),
            (None, Some(file_id)) if v.kind == MaterialKind::Document => {
                let stored = self.platform.published_file(store::MATERIAL_FILES, id, file_id).await?;
                documents::pdf_text::extract(&stored.content)
            }
            _ => String::new(),
        };
        estimate_from_file(&mut v, input, &file_text);
        let t = now();
        let text = Texts::of(&v, &row.org_path, &file_text);
        let mut tx = self.db().begin().await?;
        let user = Some(actor.user_id).filter(|id| *id > 0);
        store::archive_version(&mut tx, id, user, t).await?;
        if !store::update_material(&mut tx, id, row.version, &text.write(&v, row.org_id, &row.org_path, actor, t))
            .await?
        {
            return Err(Error::Conflict("该学习材料已被他人修改，请刷新后再改"));
        }
        if let (Some(checked), Some(f)) = (&checked, file) {
            self.store_pdf(&mut tx, ctx, actor, id, &row.org_path, checked, f).await?;
        }
        let detail = format!(
            "version:{}->{} title_changed:{} file_replaced:{}",
            row.version,
            row.version + 1,
            row.title != v.title,
            checked.is_some()
        );
        audit::append(&mut tx, event(actor, ctx, "material.update", format!("material:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_material(ctx, actor, id).await
    }

    /// The built-in checks and clamd on a material's PDF, before any transaction: a refusal is a field error
    /// under `file` (malware audited by the platform), a scanner without a verdict 503, and only a PDF passes.
    async fn check_pdf(&self, ctx: &Ctx, actor: &Actor, f: Upload<'_>) -> Result<platform::files::Checked> {
        let checked = self.platform.check_upload(ctx, actor, "file", f.name, f.bytes).await.map_err(|e| match e {
            platform::Error::Invalid(fields) => Error::Invalid(fields),
            e => Error::Platform(e),
        })?;
        if checked.file_type != platform::files::FileType::Pdf {
            return Err(field("file", "学习文档只接受PDF文件（.pdf），请先转换为PDF再上传"));
        }
        Ok(checked)
    }

    /// Stores a checked PDF as the material's file, in the caller's transaction (with the platform's
    /// `attachment.add` audit entry).
    #[allow(clippy::too_many_arguments)]
    async fn store_pdf(
        &self,
        tx: &mut kernel::DbTx,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        org_path: &str,
        checked: &platform::files::Checked,
        f: Upload<'_>,
    ) -> Result<()> {
        let owner = platform::files::Owner { kind: store::MATERIAL_FILES, id, org_path, person_id: None };
        let meta = self.platform.attach(tx, ctx, actor, &owner, checked, f.bytes).await?;
        store::set_material_file(tx, id, meta.id).await?;
        Ok(())
    }

    /// Replaces a document's PDF (the API's `PUT …/file`): an edit that keeps every other item, so the
    /// replaced version keeps the old file. Only a document takes a PDF.
    pub async fn replace_file(&self, ctx: &Ctx, actor: &Actor, id: i64, file: Upload<'_>) -> Result<Material> {
        let current = self.editable(ctx, actor, id, "material.update").await?;
        let input = MaterialInput {
            title: Some(current.title.clone()),
            body: Some(current.body.clone()),
            body_format: Some(current.body_format.clone()),
            kind: Some(current.kind.clone()),
            category: Some(current.category.clone()),
            tags: Some(tags_of(&current.tags)),
            url: current.url.clone(),
            minutes: Some((current.est_seconds + 59) / 60),
            org_id: Some(current.org_id),
            stages: Some(stages_of(current.stages.as_deref()).iter().map(|s| s.code().to_string()).collect()),
            // A due date already past stays as it was: the edit only changes the file.
            required_due: current.required_due.filter(|d| *d >= kernel::dates::today()).map(kernel::dates::iso),
            version: Some(current.version),
            has_file: true,
        };
        self.update_material(ctx, actor, id, &input, Some(file)).await
    }

    /// The PDF a document shows, for whoever may read the material (404, audited, otherwise). The read
    /// itself is not audited: a published material holds no personal data.
    pub async fn material_file(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<platform::files::Attachment> {
        let m = self.get_material(ctx, actor, id).await?;
        let file = m.file.ok_or(Error::NotFound)?;
        Ok(self.platform.published_file(store::MATERIAL_FILES, id, file.id).await?)
    }

    /// Withdraws a material with a reason: it leaves lists, search and recommendations at once; the row, its
    /// versions and every person's record (and her copy of her data) stay. Withdrawing twice is 409.
    pub async fn withdraw_material(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        id: i64,
        input: &WithdrawInput,
    ) -> Result<Material> {
        let row = self.editable(ctx, actor, id, "material.withdraw").await?;
        let reason = validate_reason(input).map_err(Error::Invalid)?;
        let mut tx = self.db().begin().await?;
        if !store::withdraw_material(&mut tx, id, &reason, now()).await? {
            return Err(Error::Conflict("该学习材料已撤回"));
        }
        let detail = format!("version:{} reason:{reason}", row.version);
        audit::append(&mut tx, event(actor, ctx, "material.withdraw", format!("material:{id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.get_material(ctx, actor, id).await
    }

    /// The replaced versions of a material, newest first — for those who may edit it (404/403 otherwise).
    pub async fn material_versions(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Vec<MaterialVersion>> {
        self.editable(ctx, actor, id, "material.versions").await?;
        Ok(store::versions(self.db(), id)
            .await?
            .into_iter()
            .map(|r| MaterialVersion {
                version: r.version,
                title: r.title,
                body_format: BodyFormat::parse(&r.body_format).unwrap_or(BodyFormat::Text),
                body: r.body,
                url: r.url,
                file_id: r.file_id,
                tags: tags_of(&r.tags),
                replaced_by: r.replaced_by,
                replaced_at: r.replaced_at,
            })
            .collect())
    }

    /// One material with the caller's progress; 404 (audited) outside her reach.
    pub async fn get_material(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<Material> {
        let (row, stages) = self.readable_material(ctx, actor, id).await?;
        let progress = match actor.person_id {
            Some(p) => Some(progress_of(id, row.est_seconds, store::progress(self.db(), id, p).await?.as_ref())),
            None => None,
        };
        let kind = kind_of(&row.kind);
        let category = category_of(&row.category);
        let file = match row.file_id {
            Some(file_id) => self
                .platform
                .attachments_of(store::MATERIAL_FILES, &[id])
                .await?
                .into_iter()
                .find(|a| a.id == file_id)
                .map(|a| MaterialFile {
                    id: a.id,
                    name: a.name,
                    size: a.size,
                    url: format!("/api/v1/learning/materials/{id}/file"),
                }),
            None => None,
        };
        Ok(Material {
            id: row.id,
            org_id: row.org_id,
            org_name: row.org_name,
            kind,
            kind_label: kind.label(),
            category,
            category_label: category.label(),
            title: row.title,
            body_format: BodyFormat::parse(&row.body_format).unwrap_or(BodyFormat::Text),
            body: row.body,
            url: row.url,
            file,
            tags: tags_of(&row.tags),
            stages,
            required_due: row.required_due,
            required_seconds: row.est_seconds,
            created_at: row.created_at,
            progress,
            version: row.version,
            withdrawn_at: row.withdrawn_at,
            withdrawn_reason: row.withdrawn_reason,
            org_path: row.org_path,
        })
    }

    /// A material's row, if the caller may read it; else 404, audited as a refused `material.read`.
    async fn readable_material(&self, ctx: &Ctx, actor: &Actor, id: i64) -> Result<(store::MaterialRow, Vec<Stage>)> {
        let row = store::get_material(self.db(), id).await?.ok_or(Error::NotFound)?;
        let stages = stages_of(row.stages.as_deref());
        if !self.viewer(actor).await?.may_read(&row.org_path, &stages) {
            return Err(self.deny(ctx, actor, "material.read", &format!("material:{id}")).await?);
        }
        Ok((row, stages))
    }

    /// The materials the caller may read, latest first, of one category when given.
    pub async fn list_materials(&self, actor: &Actor, category: Option<Category>) -> Result<MaterialList> {
        let viewer = self.viewer(actor).await?;
        if viewer.reads_nothing() {
            return Ok(MaterialList { items: Vec::new() });
        }
        let reach = Reach::of(&viewer);
        let category = category.map(Category::code);
        // Who reads by where she is walks her paths; who manages a subtree reads a large part of the materials,
        // which the newest-first walk of every material serves well.
        let rows = if reach.starts.is_empty() {
            store::newest_on_paths(self.db(), &reach, category, LIST_LIMIT).await?
        } else {
            store::list_materials(self.db(), &reach, category, LIST_LIMIT).await?
        };
        let mine: HashMap<i64, store::ProgressRow> = match actor.person_id {
            Some(p) => {
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                store::progress_of(self.db(), p, &ids).await?.into_iter().map(|r| (r.material_id, r)).collect()
            }
            None => HashMap::new(),
        };
        let items = rows
            .into_iter()
            .map(|r| {
                let kind = kind_of(&r.kind);
                let category = category_of(&r.category);
                let p = mine.get(&r.id);
                MaterialSummary {
                    id: r.id,
                    org_name: r.org_name,
                    kind,
                    kind_label: kind.label(),
                    category,
                    category_label: category.label(),
                    title: r.title,
                    tags: tags_of(&r.tags),
                    required_due: r.required_due,
                    required_seconds: r.est_seconds,
                    created_at: r.created_at,
                    seconds: p.map_or(0, |p| p.seconds),
                    completed: p.is_some_and(|p| p.completed_at.is_some()),
                }
            })
            .collect();
        Ok(MaterialList { items })
    }

    // ------------------------------------------------------------ search

    /// One search box: the materials the caller may read whose title, tags or body hold every word of the
    /// query, best first, and — for those who may read people — people by name or number in their reach.
    pub async fn search(&self, ctx: &Ctx, actor: &Actor, q: &str) -> Result<SearchResults> {
        let q: String = q.trim().chars().take(MAX_QUERY_CHARS).collect();
        if q.is_empty() {
            return Err(field("q", "请输入要搜索的词"));
        }
        let query = SearchQuery::parse(&q);
        let mut results = Vec::new();
        let viewer = self.viewer(actor).await?;
        if !query.is_empty() && !viewer.reads_nothing() {
            let words = query.highlight_words();
            let reach = Reach::of(&viewer);
            let scope = reach.scope_words();
            let (fts5, tsquery) = text::narrowed(&query, scope.as_deref());
            let mut hits = store::search_materials(self.db(), &reach, &fts5, &tsquery, SEARCH_WINDOW).await?;
            text::rank(&mut hits, &query, |h| &h.search_tokens, |h| &h.title, |h| h.id);
            hits.truncate(SEARCH_MATERIALS as usize);
            for h in hits {
                let format = BodyFormat::parse(&h.body_format).unwrap_or(BodyFormat::Text);
                let body = body_text(format, &h.body);
                let tags = tags_of(&h.tags).join("、");
                let source = if text::snippet(&body, &words).contains("<mark>") || tags.is_empty() {
                    body
                } else {
                    format!("标签：{tags}。{body}")
                };
                results.push(SearchHit {
                    kind: "material",
                    id: h.id,
                    title: h.title,
                    snippet: text::snippet(&source, &words),
                });
            }
        }
        if !query.is_empty() {
            let words = query.highlight_words();
            let notices = life::notices::Notices::new(self.platform)
                .search(actor, &query.fts5(), &query.tsquery(), SEARCH_NOTICES)
                .await
                .map_err(platform::Error::from)?;
            for n in notices {
                let body = text::html_to_text(&n.body);
                results.push(SearchHit {
                    kind: "notice",
                    id: n.id,
                    title: n.title,
                    snippet: text::snippet(&body, &words),
                });
            }
        }
        if actor.can_somewhere(Capability::PersonRead) {
            let pq = PeopleQuery { q: Some(q.clone()), per_page: Some(SEARCH_PEOPLE), ..PeopleQuery::default() };
            let page = self.platform.list_people(ctx, actor, &pq).await?;
            for p in &page.items {
                let snippet = format!("{} · {}", text::escape(&p.org_name), p.stage_label);
                results.push(SearchHit { kind: "person", id: p.id, title: p.name.clone(), snippet });
            }
        }
        Ok(SearchResults { results })
    }

    // ------------------------------------------------------------ learning records

    /// One heartbeat of the reading page (see [`rules::credit`]): the first of a person on a material starts
    /// the clock; later ones add the active seconds, capped, and mark the material studied once the time
    /// reaches its estimate. Only an account that belongs to a person records time.
    pub async fn heartbeat(&self, ctx: &Ctx, actor: &Actor, id: i64, input: &ProgressInput) -> Result<Progress> {
        // The row alone: a heartbeat comes every 15 s from every open reading page, so it reads neither the
        // attached file nor the progress twice.
        let (material, _) = self.readable_material(ctx, actor, id).await?;
        let Some(person_id) = actor.person_id else {
            return Err(self.refuse(ctx, actor, "material.progress", &format!("material:{id}")).await?);
        };
        let reported = input.seconds.unwrap_or(0);
        if !(0..=86_400).contains(&reported) {
            return Err(field("seconds", "学习时长应为0至86400秒"));
        }
        if material.withdrawn_at.is_some() {
            return Err(Error::Conflict("该学习材料已撤回，不再记录学习时长"));
        }
        let t = now();
        let required = material.est_seconds;
        let Some(row) = store::progress(self.db(), id, person_id).await? else {
            store::start_progress(self.db(), id, person_id, material.version, t).await?;
            let row = store::progress(self.db(), id, person_id).await?;
            return Ok(progress_of(id, required, row.as_ref()));
        };
        let credit = rules::credit(reported, Some((t - row.last_beat_at).whole_seconds()));
        let seconds = row.seconds + credit;
        let completed_at =
            if row.completed_at.is_none() && rules::is_completed(seconds, required) { Some(t) } else { None };
        // Read before the transaction: a transaction never waits for a second connection (it would hold SQLite's
        // write lock meanwhile; kernel::Db::connect_sqlite_with).
        let path = match completed_at {
            Some(_) => material_person_path(self, person_id).await?,
            None => String::new(),
        };
        // Another tab's heartbeat may have moved the row meanwhile: then this one counts nothing.
        let advance = store::Advance {
            material_id: id,
            person_id,
            seen_last: row.last_beat_at,
            seconds,
            completed_at,
            version: material.version,
            now: t,
        };
        let today = kernel::dates::today();
        let first_credit = row.seconds == 0 && credit > 0;
        let advanced = if completed_at.is_none() && !first_credit {
            // Most heartbeats: the time and the day's total only, in one statement on PostgreSQL.
            store::advance_and_credit(self.db(), &advance, today, credit).await?
        } else {
            let mut tx = self.db().begin().await?;
            let advanced = store::advance_progress(&mut tx, &advance).await?;
            if advanced {
                if credit > 0 {
                    store::add_daily(&mut tx, person_id, today, credit).await?;
                }
                if first_credit {
                    // First time credited: now it is one of her studies, for the co-learners who compare with her.
                    store::touch_profile(&mut tx, person_id, id, t).await?;
                }
                if completed_at.is_some() {
                    let when = crate::points::model::When { at: t, day: today };
                    crate::points::service::award_in(
                        &mut tx,
                        person_id,
                        &path,
                        crate::points::model::Action::Studied,
                        id,
                        when,
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            advanced
        };
        let row = if advanced {
            // What the update wrote; read again only when another tab's heartbeat moved the row first.
            Some(store::ProgressRow {
                material_id: id,
                seconds,
                last_beat_at: t,
                completed_at: row.completed_at.or(completed_at),
            })
        } else {
            store::progress(self.db(), id, person_id).await?
        };
        Ok(progress_of(id, required, row.as_ref()))
    }

    // ------------------------------------------------------------ recommendations

    /// Recommendations for a person — the caller herself, or a person she may read (else 404, audited) —
    /// among the materials that person may read, each with its reason.
    pub async fn recommendations(&self, ctx: &Ctx, actor: &Actor, person_id: Option<i64>) -> Result<Recommendations> {
        let Some(pid) = person_id.or(actor.person_id) else {
            return Err(field("person_id", "请指定党员（person_id）：当前账号未关联党员档案"));
        };
        let Some((path, stage, org_id)) = self.person(pid).await? else {
            return Err(Error::NotFound);
        };
        if actor.person_id != Some(pid) && !actor.can(Capability::PersonRead, &path) {
            return Err(self.deny(ctx, actor, "learning.recommendations", &format!("person:{pid}")).await?);
        }
        let t = now();
        let today = kernel::dates::today();
        let viewer = Viewer { person: Some((path.clone(), stage)), ..Viewer::default() };
        let reach = Reach::of(&viewer);
        let rows = store::newest_on_paths(self.db(), &reach, None, CANDIDATES).await?;
        let branch = self.branch_path(org_id, &path).await?;
        let kinds: HashMap<i64, MaterialKind> = rows.iter().map(|r| (r.id, kind_of(&r.kind))).collect();
        let candidates: Vec<Candidate> = rows
            .into_iter()
            .map(|r| Candidate {
                id: r.id,
                in_branch: path_within(&r.org_path, &branch),
                age_days: (t - r.created_at).whole_days(),
                title: r.title,
                tags: tags_of(&r.tags),
                keywords: r.keywords.split_whitespace().map(str::to_string).collect(),
                required_due: r.required_due,
            })
            .collect();
        let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
        let since = t - Duration::days(BRANCH_DAYS);
        let branch_end = subtree_end(&branch);
        // The three reads below are independent; on SQLite each runs on its own connection, so they overlap.
        let (latest, of_candidates, branch_counts) = tokio::try_join!(
            store::studied(self.db(), pid, rules::CONTENT_HISTORY as i64),
            store::progress_of(self.db(), pid, &ids),
            store::studying_in(self.db(), &branch, &branch_end, pid, since, &ids),
        )?;
        // Her latest studies with their text (what the content part compares), then her records of the
        // candidates not among them (what "finished" and "begun" need; their text is the candidate's).
        let mut studied: Vec<Studied> = latest
            .into_iter()
            .map(|s| Studied {
                id: s.material_id,
                title: s.title,
                tags: tags_of(&s.tags),
                keywords: s.keywords.split_whitespace().map(str::to_string).collect(),
                seconds: s.seconds,
                completed: s.completed,
            })
            .collect();
        let listed: HashSet<i64> = studied.iter().map(|s| s.id).collect();
        let by_id: HashMap<i64, &Candidate> = candidates.iter().map(|c| (c.id, c)).collect();
        for p in of_candidates.into_iter().filter(|p| p.seconds > 0 && !listed.contains(&p.material_id)) {
            let Some(c) = by_id.get(&p.material_id) else { continue };
            studied.push(Studied {
                id: c.id,
                title: c.title.clone(),
                tags: c.tags.clone(),
                keywords: c.keywords.clone(),
                seconds: p.seconds,
                completed: p.completed_at.is_some(),
            });
        }
        // Co-learners: the latest learners of her latest studies, compared with her through their profiles
        // and hers (`learning_profiles`, her ≈170 latest studies, kept by the heartbeat): like with like.
        let sources: Vec<i64> = studied.iter().take(CO_SOURCES.min(listed.len())).map(|s| s.id).collect();
        let mut people = store::recent_learners(self.db(), &sources, pid, CO_PER_MATERIAL).await?;
        people.push(pid);
        let mut others: HashMap<i64, HashSet<i64>> = store::profiles(self.db(), &people)
            .await?
            .into_iter()
            .map(|(person, ids)| (person, ids.into_iter().collect()))
            .collect();
        let mut mine: HashSet<i64> = others.remove(&pid).unwrap_or_default();
        mine.extend(listed.iter().copied());
        let signals =
            Signals { neighbours: rules::collaborative(&mine, &others), branch: branch_counts.into_iter().collect() };
        let items = rules::recommend(&candidates, &studied, &signals, today, RECOMMENDATIONS)
            .into_iter()
            .map(|r| RecommendationItem {
                material_id: r.id,
                title: r.title,
                reason: r.reason.text(),
                reason_code: r.reason.code(),
                kind_label: kinds.get(&r.id).copied().unwrap_or(MaterialKind::Article).label(),
            })
            .collect();
        Ok(Recommendations { person_id: pid, items })
    }

    /// The branch a person belongs to: her organization, or its parent when she is in a 党小组.
    pub(crate) async fn branch_path(&self, org_id: i64, person_path: &str) -> Result<String> {
        let org = platform::store::get_org(self.db(), org_id).await?;
        let is_group = org.as_ref().is_some_and(|o| OrgKind::parse(&o.kind) == Some(OrgKind::Group));
        if is_group {
            let trimmed = person_path.trim_end_matches('/');
            if let Some(cut) = trimmed.rfind('/') {
                return Ok(format!("{}/", trimmed.get(..cut).unwrap_or("")));
            }
        }
        Ok(person_path.to_string())
    }
}

/// What a validated material is stored as besides its fields: the columns of tags and stages, its keywords and
/// its search tokens (publishing and editing compute them alike).
struct Texts {
    tags: String,
    stages: Option<String>,
    keywords: String,
    tokens: String,
}

impl Texts {
    /// `file_text`: the text read from a document's PDF (empty for other materials), indexed and mined for
    /// keywords with the body, so a search finds words inside the PDF.
    fn of(v: &ValidMaterial, org_path: &str, file_text: &str) -> Texts {
        let body = if file_text.is_empty() { v.body_text.clone() } else { format!("{}\n{file_text}", v.body_text) };
        Texts {
            tags: tags_column(&v.tags),
            stages: stages_column(&v.stages),
            keywords: text::keywords(&v.title, &body, KEYWORDS).join(" "),
            tokens: text::index_text(&v.title, &v.tags, &body) + &text::scope_tokens(org_path),
        }
    }

    fn write<'a>(
        &'a self,
        v: &'a ValidMaterial,
        org_id: i64,
        org_path: &'a str,
        actor: &Actor,
        now: OffsetDateTime,
    ) -> MaterialWrite<'a> {
        MaterialWrite {
            org_id,
            org_path,
            kind: v.kind.code(),
            category: v.category.code(),
            title: &v.title,
            body_format: v.body_format.code(),
            body: &v.body,
            url: v.url.as_deref(),
            tags: &self.tags,
            stages: self.stages.as_deref(),
            required_due: v.required_due,
            est_seconds: v.est_seconds,
            keywords: &self.keywords,
            search_tokens: &self.tokens,
            user_id: Some(actor.user_id).filter(|id| *id > 0),
            now,
        }
    }
}
