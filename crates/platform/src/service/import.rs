//! The register in and out (product.md "Data in / Data out"): import a spreadsheet of people with a dry
//! run that reports every bad row, then all or nothing; export a subtree's people, masked.
//!
//! Import: the header is matched ([`crate::roster`]), each row read into the person form's input,
//! its branch resolved by name among the organizations the caller may write to, and the row judged by
//! the same [`rules::validate_person`] as the form — with one rule stricter than the form: a birth date
//! that disagrees with the ID number is an error here (a batch has no one to ask; the form shows a
//! warning to the person typing). A sex that disagrees stays a warning. An ID number that appears
//! twice in the file (the later rows) or is already registered is an error. Any error: nothing is
//! written. Otherwise every row is written in ONE transaction with the head counts moved once per
//! (organization, stage, category) and one audit entry for the batch; a crash before the commit leaves
//! no row (security.md AT-28).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use documents::sheet::{self, Cell, Format, Row};
use kernel::DbError;
use security::audit;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{COL_ID_NUMBER, Ctx, Error, Platform, Result, Sealed, event, now, person_write};
use crate::access::{Actor, Capability};
use crate::model::{Grant, Org, OrgRow, PersonCategory, Role, Stage, Status, subtree_end};
use crate::roster::{self, Column, Issue, RowInput, Severity};
use crate::rules::{self, IdNumber, ValidPerson};
use crate::store::{self, PeopleFilter};

/// Rows one import takes at most (one transaction; about 100 KB of xlsx per 700 rows). Raised from 20,000
/// to 200,000 for the 100k-row benchmark (issue 3: a province's register in one file, docs/PERFORMANCE.md):
/// the whole file is held in memory while it is checked (about 1 KB a row), which 200,000 rows keep
/// around 200 MB; larger registers are split by college.
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// Where an import is: the step and how many of its rows are through it. Shared between the import and
/// whoever shows it (the job's heartbeat, the command line's bar); updated without locks.
#[derive(Debug, Default)]
pub struct ImportProgress {
    step: AtomicU8,
    done: AtomicUsize,
    total: AtomicUsize,
}

/// The steps of an import, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStep {
    /// Reading the file into rows.
    Reading,
    /// Checking every row (the dry run's work, done by the real run too).
    Checking,
    /// Writing the people in the one transaction.
    Writing,
}

impl ImportStep {
    pub fn label(self) -> &'static str {
        match self {
            ImportStep::Reading => "读取文件",
            ImportStep::Checking => "逐行检查",
            ImportStep::Writing => "写入数据",
        }
    }
}

impl ImportProgress {
    pub fn set(&self, step: ImportStep, done: usize, total: usize) {
        self.step.store(step as u8, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
    }

    fn tick(&self, done: usize) {
        self.done.store(done, Ordering::Relaxed);
    }

    /// (step, rows through it, rows in all).
    pub fn get(&self) -> (ImportStep, usize, usize) {
        let step = match self.step.load(Ordering::Relaxed) {
            0 => ImportStep::Reading,
            1 => ImportStep::Checking,
            _ => ImportStep::Writing,
        };
        (step, self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }
}

/// What an import found and did.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// A dry run checks everything and writes nothing.
    pub dry_run: bool,
    /// Whether the people were written (a real run without any error row).
    pub committed: bool,
    /// Data rows read (blank rows not counted).
    pub rows: usize,
    /// Rows without any error (written by a real run when `error_rows` is 0).
    pub valid_rows: usize,
    pub error_rows: usize,
    /// Rows with a warning and no error.
    pub warning_rows: usize,
    /// People written.
    pub imported: usize,
    /// Every finding, by row, errors before warnings.
    pub issues: Vec<Issue>,
    /// Headers of the file that map to no item and were not read.
    pub ignored_columns: Vec<String>,
    /// People per branch among the valid rows.
    pub orgs: Vec<OrgTally>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgTally {
    pub org_id: i64,
    pub name: String,
    pub people: usize,
}

impl ImportReport {
    fn header_failed(dry_run: bool, issues: Vec<Issue>) -> ImportReport {
        ImportReport {
            dry_run,
            committed: false,
            rows: 0,
            valid_rows: 0,
            error_rows: issues.len().min(1),
            warning_rows: 0,
            imported: 0,
            issues,
            ignored_columns: Vec::new(),
            orgs: Vec::new(),
        }
    }
}

/// An exported register.
#[derive(Clone, Debug)]
pub struct Export {
    /// A file name to offer, e.g. `花名册-经济学院学生党支部-2026-05-01.xlsx`.
    pub file_name: String,
    pub format: Format,
    pub bytes: Vec<u8>,
    pub rows: usize,
}

/// How a branch name of the file resolved.
enum Target {
    Org(Org),
    /// Not found, or not where the caller may place people (the same answer: the caller learns nothing).
    Unknown,
    /// Found, but out of the caller's reach: refused, and audited.
    Refused(i64),
    Ambiguous(usize),
    NoPeople,
}

/// The actor the command line acts as (like `dangjian demo`): org staff of every organization, so
/// imports and exports reach everywhere; audited as `system`. Whoever runs the command holds the
/// server's files and key, so it counts as freshly authenticated (the export's step-up).
pub fn system_actor() -> Actor {
    Actor {
        user_id: 0,
        username: "system".into(),
        display_name: "命令行".into(),
        person_id: None,
        reauth_at: Some(now()),
        grants: vec![Grant {
            role: Role::OrgStaff,
            org_id: None,
            org_name: None,
            org_path: Some("/".into()),
            starts_on: None,
            ends_on: None,
        }],
    }
}

/// The findings of a file: at most one per (row, column), the first found (errors are looked for first).
#[derive(Default)]
struct Findings {
    issues: BTreeMap<(u32, Severity, usize), Issue>,
    taken: HashSet<(u32, String)>,
    error_rows: HashSet<u32>,
}

impl Findings {
    fn add(&mut self, row: &RowInput, column: String, severity: Severity, message: String) {
        if !self.taken.insert((row.row, column.clone())) {
            return;
        }
        if severity == Severity::Error {
            self.error_rows.insert(row.row);
        }
        let issue = Issue { row: row.row, column, severity, message, name: row.name() };
        self.issues.insert((row.row, severity, self.taken.len()), issue);
    }

    fn has_error(&self, row: u32) -> bool {
        self.error_rows.contains(&row)
    }
}

impl Platform {
    /// Reads `bytes` as `format` (sniffed when `None`) and imports them; see [`Platform::import_people`].
    /// A file that cannot be read at all is `Invalid` with the reason under `file`.
    pub async fn import_people_file(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        bytes: &[u8],
        format: Option<Format>,
        dry_run: bool,
    ) -> Result<ImportReport> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "person.import", "people").await?);
        }
        // An uploaded file: clamd's verdict first when it is configured (security.md AT-21).
        self.scan_upload(ctx, actor, "file", bytes).await?;
        self.import_people_file_with(ctx, actor, bytes, format, dry_run, &ImportProgress::default()).await
    }

    /// [`Platform::import_people_file`], telling `progress` where it is.
    pub async fn import_people_file_with(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        bytes: &[u8],
        format: Option<Format>,
        dry_run: bool,
        progress: &ImportProgress,
    ) -> Result<ImportReport> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "person.import", "people").await?);
        }
        progress.set(ImportStep::Reading, 0, 0);
        let format = format.unwrap_or_else(|| Format::sniff(bytes));
        let rows = sheet::read(bytes, format).map_err(|e| Error::field("file", e.to_string()))?;
        self.import_people_with(ctx, actor, &rows, dry_run, progress).await
    }

    /// Imports the register in `rows` (header first). A dry run, or any error row, writes nothing and
    /// returns the report; otherwise every row is written in one transaction.
    pub async fn import_people(&self, ctx: &Ctx, actor: &Actor, rows: &[Row], dry_run: bool) -> Result<ImportReport> {
        self.import_people_with(ctx, actor, rows, dry_run, &ImportProgress::default()).await
    }

    /// [`Platform::import_people`], telling `progress` where it is: checking counts each row twice (read
    /// and judged, then looked up among those registered), writing each row once.
    pub async fn import_people_with(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        rows: &[Row],
        dry_run: bool,
        progress: &ImportProgress,
    ) -> Result<ImportReport> {
        if !actor.can_somewhere(Capability::PersonWrite) {
            return Err(self.refuse(ctx, actor, "person.import", "people").await?);
        }
        let header = match roster::header(rows) {
            Ok(h) => h,
            Err(issues) => return Ok(ImportReport::header_failed(dry_run, issues)),
        };
        let data: Vec<&Row> = rows.iter().filter(|r| r.number > header.row).collect();
        if data.len() > MAX_IMPORT_ROWS {
            let issue = Issue {
                row: header.row,
                column: "表头".into(),
                severity: Severity::Error,
                message: format!("一次最多导入{MAX_IMPORT_ROWS}行，本文件有{}行，请拆分后分批导入", data.len()),
                name: None,
            };
            return Ok(ImportReport::header_failed(dry_run, vec![issue]));
        }
        progress.set(ImportStep::Checking, 0, data.len() * 2);
        let mut inputs: Vec<RowInput> = data.iter().map(|r| roster::read_row(&header, r)).collect();

        // Branches by path or by name, each looked up once.
        let mut targets: HashMap<String, Target> = HashMap::new();
        for r in &inputs {
            if let Some(key) = branch_key(r)
                && !targets.contains_key(&key)
            {
                let target = match &r.org_path {
                    Some(p) => self.resolve_branch_path(actor, &roster::path_names(p)).await?,
                    None => self.resolve_branch(actor, r.org_name.as_deref().unwrap_or("")).await?,
                };
                targets.insert(key, target);
            }
        }
        let refused: Vec<i64> = {
            let mut ids: Vec<i64> = targets
                .values()
                .filter_map(|t| match t {
                    Target::Refused(id) => Some(*id),
                    _ => None,
                })
                .collect();
            ids.sort_unstable();
            ids
        };
        if let Some(first) = refused.first() {
            // Placing people in another branch is refused and recorded, dry run or not.
            let detail = format!("orgs:{}", refused.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
            let e = event(Some(actor), ctx, "person.import", format!("org:{first}"), "denied", detail);
            audit::append_alone(&self.db, e).await?;
        }

        let today = kernel::dates::today();
        let mut findings = Findings::default();
        let mut valid: Vec<(usize, ValidPerson, Org)> = Vec::new();
        let mut first_row_of: HashMap<String, u32> = HashMap::new();
        for (i, r) in inputs.iter_mut().enumerate() {
            progress.tick(i + 1);
            let target = branch_key(r).and_then(|k| targets.get(&k));
            let org = match target {
                Some(Target::Org(o)) => Some(o.clone()),
                _ => None,
            };
            roster::fill_defaults(r, &header, org.as_ref().map(|o| o.category));
            let r = &*r;
            for (col, msg) in &r.problems {
                findings.add(r, header.label(*col), Severity::Error, msg.clone());
            }
            let target = branch_key(r).and_then(|k| targets.get(&k));
            let named = match &r.org_path {
                Some(p) => format!("组织路径“{p}”"),
                None => format!("党组织“{}”", r.org_name.as_deref().unwrap_or("")),
            };
            let org_message = match target {
                None => Some("请填写所在党支部".to_string()),
                Some(Target::Org(_)) => None,
                Some(Target::Unknown | Target::Refused(_)) => Some(format!(
                    "{named}不存在或不在您的管理范围内（请填写党支部全称，或在“组织路径”列写明上级党组织）"
                )),
                Some(Target::Ambiguous(n)) => Some(format!(
                    "{named}对应{n}个党组织，请在“组织路径”列写明上级党组织，如“数学学院党委/本科生第一党支部”"
                )),
                Some(Target::NoPeople) => Some("人员应编入党支部、党总支或党小组，不能直接编入党委".to_string()),
            };
            let org_column = if r.org_path.is_some() { Column::OrgPath } else { Column::Org };
            if let Some(m) = org_message {
                findings.add(r, header.label(org_column), Severity::Error, m);
            }
            // Both given: the path's last name is the branch.
            if let (Some(p), Some(name)) = (&r.org_path, &r.org_name)
                && roster::path_names(p).last().is_some_and(|last| last != name.trim())
            {
                findings.add(
                    r,
                    header.label(Column::OrgPath),
                    Severity::Error,
                    format!("组织路径的最后一级应与所在党支部“{}”一致", name.trim()),
                );
            }
            let mut input = r.input.clone();
            input.org_id = Some(org.as_ref().map(|o| o.id).unwrap_or(0));
            let id = input.id_number.as_deref().and_then(|s| IdNumber::parse(s).ok());
            if let Some(id) = &id {
                match first_row_of.get(id.as_str()) {
                    Some(first) => findings.add(
                        r,
                        header.label(Column::IdNumber),
                        Severity::Error,
                        format!("公民身份号码与第{first}行重复"),
                    ),
                    None => {
                        first_row_of.insert(id.as_str().to_string(), r.row);
                    }
                }
            }
            // Stricter than the form: the birth date must agree with the ID number.
            let birth = input.birth_date.as_deref().and_then(rules::parse_date);
            let mismatch = match (&id, birth) {
                (Some(id), Some(b)) => rules::birth_date_mismatch(id, b),
                _ => None,
            };
            if let Some(m) = &mismatch {
                findings.add(r, header.label(Column::BirthDate), Severity::Error, m.clone());
            }
            match rules::validate_person(&input, today) {
                Ok(mut v) => {
                    v.warnings.retain(|w| Some(w) != mismatch.as_ref());
                    for w in &v.warnings {
                        let column = if w.starts_with("性别") { Column::Gender } else { Column::IdNumber };
                        findings.add(r, header.label(column), Severity::Warning, w.clone());
                    }
                    if let Some(org) = org
                        && !findings.has_error(r.row)
                    {
                        valid.push((i, v, org));
                    }
                }
                Err(errors) => {
                    // An empty birth date or sex is taken from the ID number; when that number is wrong,
                    // its own error says it all (a second "请填写日期" for a cell left empty misleads).
                    let follows_from_id = |field: &str| {
                        id.is_none()
                            && errors.contains_key("id_number")
                            && ((field == "birth_date" && input.birth_date.is_none())
                                || (field == "gender" && input.gender.is_none()))
                    };
                    for (field, msg) in errors.iter().filter(|(f, _)| !follows_from_id(f)) {
                        let (field, msg) = (field.clone(), msg.clone());
                        let column = Column::of_field(&field).map(|c| header.label(c)).unwrap_or(field);
                        findings.add(r, column, Severity::Error, msg);
                    }
                }
            }
        }

        // Already registered? (The unique index decides at the write; this names the row beforehand.)
        let mut keep = Vec::with_capacity(valid.len());
        // Rows with an error already are through this step too.
        let base = inputs.len() + (inputs.len() - valid.len());
        let bidx: Vec<Vec<u8>> =
            valid.iter().map(|(_, v, _)| self.cipher.blind_index(COL_ID_NUMBER, v.id_number.as_str())).collect();
        let mut registered = std::collections::HashSet::new();
        for (n, chunk) in bidx.chunks(5_000).enumerate() {
            progress.tick(base + n * 5_000);
            registered.extend(store::registered_bidx(&self.db, chunk).await?);
        }
        for ((i, v, org), bidx) in valid.into_iter().zip(&bidx) {
            let Some(r) = inputs.get(i) else { continue };
            if registered.contains(bidx) {
                findings.add(
                    r,
                    header.label(Column::IdNumber),
                    Severity::Error,
                    "该公民身份号码已登记，请勿重复导入".into(),
                );
                continue;
            }
            keep.push((i, v, org));
        }

        progress.tick(inputs.len() * 2);
        let error_rows = findings.error_rows.len();
        // Keyed (row, severity, order found): by row, errors before warnings.
        let issues: Vec<Issue> = findings.issues.into_values().collect();
        let mut warned: Vec<u32> = issues
            .iter()
            .filter(|i| i.severity == Severity::Warning && !findings.error_rows.contains(&i.row))
            .map(|i| i.row)
            .collect();
        warned.dedup();
        let warning_rows = warned.len();
        let mut tally: BTreeMap<i64, OrgTally> = BTreeMap::new();
        for (_, _, org) in &keep {
            tally.entry(org.id).or_insert(OrgTally { org_id: org.id, name: org.name.clone(), people: 0 }).people += 1;
        }
        let mut report = ImportReport {
            dry_run,
            committed: false,
            rows: inputs.len(),
            valid_rows: keep.len(),
            error_rows,
            warning_rows,
            imported: 0,
            issues,
            ignored_columns: header.ignored.clone(),
            orgs: tally.into_values().collect(),
        };
        if dry_run || error_rows > 0 || keep.is_empty() {
            return Ok(report);
        }

        // The real run: everything or nothing. Sealed before the transaction opens, so it stays short.
        let sealed: Vec<Sealed> = keep.iter().map(|(_, v, _)| self.seal(v)).collect::<Result<_>>()?;
        let t = now();
        let mut counts: HashMap<(i64, Stage, PersonCategory), i64> = HashMap::new();
        progress.set(ImportStep::Writing, 0, keep.len());
        let writes: Vec<store::PersonWrite<'_>> =
            keep.iter().zip(&sealed).map(|((_, v, org), s)| person_write(v, org, s, t)).collect();
        for (_, v, org) in &keep {
            for org_id in org.lineage() {
                *counts.entry((org_id, v.stage, v.category)).or_default() += 1;
            }
        }
        let mut tx = self.db.begin().await?;
        for (n, chunk) in writes.chunks(store::PEOPLE_PER_INSERT).enumerate() {
            progress.tick(n * store::PEOPLE_PER_INSERT);
            match store::insert_people(&mut tx, chunk).await {
                Err(DbError::Conflict { .. }) => {
                    // Registered by someone else since the check: report those rows, write nothing.
                    drop(tx);
                    let bidx: Vec<Vec<u8>> = sealed.iter().map(|s| s.id_bidx.clone()).collect();
                    let taken = store::registered_bidx(&self.db, &bidx).await?;
                    for ((i, _, _), s) in keep.iter().zip(&sealed) {
                        if let Some(r) = inputs.get(*i).filter(|_| taken.contains(&s.id_bidx)) {
                            report.issues.push(Issue {
                                row: r.row,
                                column: header.label(Column::IdNumber),
                                severity: Severity::Error,
                                message: "该公民身份号码已登记，请勿重复导入".into(),
                                name: r.name(),
                            });
                            report.error_rows += 1;
                            report.valid_rows = report.valid_rows.saturating_sub(1);
                        }
                    }
                    if report.error_rows == 0 {
                        // Taken and then removed again meanwhile: still nothing written; say so.
                        return Err(Error::Conflict("导入期间人员数据有变动，未写入任何记录，请重试"));
                    }
                    return Ok(report);
                }
                other => other?,
            }
        }
        for ((org_id, stage, category), n) in &counts {
            store::add_counts(&mut tx, &[*org_id], stage.code(), category.code(), *n).await?;
        }
        let detail = format!(
            "imported:{} warnings:{} orgs:{}",
            keep.len(),
            report.warning_rows,
            report.orgs.iter().map(|o| o.org_id.to_string()).collect::<Vec<_>>().join(",")
        );
        audit::append(&mut tx, event(Some(actor), ctx, "person.import", "people".into(), "ok", detail)).await?;
        tx.commit().await?;
        progress.tick(keep.len());
        self.people_changed().await;
        report.committed = true;
        report.imported = keep.len();
        Ok(report)
    }

    /// The one organization called `name` where the actor may place people.
    async fn resolve_branch(&self, actor: &Actor, name: &str) -> Result<Target> {
        let rows: Vec<OrgRow> = store::orgs_named(&self.db, name).await?;
        Ok(pick_branch(actor, rows.into_iter().map(Org::from_row).collect()))
    }

    /// The one organization at the path of names `names` (top first; the last is the branch, those before
    /// it the names of the organizations right above it, as many as given) where the actor may place people.
    async fn resolve_branch_path(&self, actor: &Actor, names: &[String]) -> Result<Target> {
        let Some((last, above)) = names.split_last() else { return Ok(Target::Unknown) };
        let mut found = Vec::new();
        'candidates: for o in store::orgs_named(&self.db, last).await?.into_iter().map(Org::from_row) {
            let lineage = o.lineage();
            let parents = &lineage[..lineage.len().saturating_sub(1)];
            if parents.len() < above.len() {
                continue;
            }
            for (id, name) in parents.iter().rev().zip(above.iter().rev()) {
                if self.org_row(*id).await?.is_none_or(|r| r.name != *name) {
                    continue 'candidates;
                }
            }
            found.push(o);
        }
        Ok(pick_branch(actor, found))
    }
}

/// The key a row's branch is looked up by: its path when it has one, else its name.
fn branch_key(r: &RowInput) -> Option<String> {
    match (&r.org_path, &r.org_name) {
        (Some(p), _) => Some(format!("path:{}", roster::path_names(p).join("/"))),
        (None, Some(n)) => Some(format!("name:{n}")),
        (None, None) => None,
    }
}

/// Of the organizations a name or path found, the one where the actor may place people.
fn pick_branch(actor: &Actor, orgs: Vec<Org>) -> Target {
    let (mine, others): (Vec<Org>, Vec<Org>) =
        orgs.into_iter().partition(|o| actor.can(Capability::PersonWrite, &o.path));
    match mine.len() {
        1 => match mine.into_iter().next() {
            Some(o) if o.kind.holds_people() => Target::Org(o),
            _ => Target::NoPeople,
        },
        0 => match others.first() {
            Some(o) => Target::Refused(o.id),
            None => Target::Unknown,
        },
        n => Target::Ambiguous(n),
    }
}

impl Platform {
    /// The people of `org_id`'s subtree the actor may read, as a register file: ID number and phone
    /// masked, no address, formula-like text neutralised. Audited as `person.export`; a subtree with
    /// nothing the actor may read is `NotFound` (audited as a refusal). A member list with names is an
    /// export with identifying fields: it needs a login or step-up within the last minutes
    /// (security.md AT-7, `ReauthRequired`).
    pub async fn export_people(&self, ctx: &Ctx, actor: &Actor, org_id: i64, format: Format) -> Result<Export> {
        let org = self.org_row(org_id).await?.map(Org::from_row).ok_or(Error::NotFound)?;
        let ranges = actor.ranges_within(Capability::PersonRead, &org.path);
        if ranges.is_empty() {
            return Err(self.deny(ctx, actor, "person.export", &format!("org:{org_id}")).await?);
        }
        self.require_recent_auth(actor)?;
        let columns = roster::export_columns();
        let header: Vec<&str> = columns.iter().map(|c| c.header()).collect();
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let filter = PeopleFilter::default();
        for start in &ranges {
            let end = subtree_end(start);
            let mut after: Option<(String, i64)> = None;
            loop {
                let page = store::list_people(
                    &self.db,
                    start,
                    &end,
                    &filter,
                    after.as_ref().map(|(p, i)| (p.as_str(), *i)),
                    1000,
                )
                .await?;
                let Some(last) = page.last() else { break };
                after = Some((last.person.org_path.clone(), last.person.id));
                for r in page {
                    let n = rows.len() as i64 + 1;
                    rows.push(columns.iter().map(|c| export_cell(*c, n, &r)).collect());
                }
            }
        }
        let bytes =
            sheet::write(format, "党员信息", &header, &rows).map_err(|e| Error::field("format", e.to_string()))?;
        let detail = format!("format:{} rows:{}", format.code(), rows.len());
        audit::append_alone(&self.db, event(Some(actor), ctx, "person.export", format!("org:{org_id}"), "ok", detail))
            .await?;
        Ok(Export {
            file_name: format!(
                "花名册-{}-{}.{}",
                org.name.replace(|c: char| c.is_control() || "/\\:*?\"<>|".contains(c), "_"),
                kernel::dates::iso(kernel::dates::today()),
                format.code()
            ),
            format,
            bytes,
            rows: rows.len(),
        })
    }
}

fn yes_no(b: bool) -> Cell {
    Cell::Text(if b { "是" } else { "否" }.into())
}

fn export_cell(c: Column, n: i64, r: &store::PersonListRow) -> Cell {
    let p = &r.person;
    let code_label =
        |code: &str, parse: fn(&str) -> Option<&'static str>| Cell::Text(parse(code).unwrap_or(code).into());
    match c {
        Column::Seq => Cell::Number(n),
        Column::Name => Cell::Text(p.name.clone()),
        Column::Gender => code_label(&p.gender, |s| crate::model::Gender::parse(s).map(|g| g.label())),
        Column::IdNumber => Cell::Text(p.id_number_masked.clone()),
        Column::Ethnicity => p.ethnicity.clone().into(),
        Column::BirthDate => Cell::Date(p.birth_date),
        Column::NativePlace => p.native_place.clone().into(),
        Column::Education => p.education.clone().into(),
        Column::Stage => code_label(&p.stage, |s| Stage::parse(s).map(|v| v.label())),
        Column::Org => Cell::Text(r.org_name.clone()),
        Column::AppliedOn => p.applied_on.into(),
        Column::ActivistOn => p.activist_on.into(),
        Column::CandidateOn => p.candidate_on.into(),
        Column::AdmittedOn => p.admitted_on.into(),
        Column::ConvertedOn => p.converted_on.into(),
        Column::PersonNo => p.person_no.clone().into(),
        Column::Category => code_label(&p.category, |s| PersonCategory::parse(s).map(|v| v.label())),
        Column::JobTitle => p.job_title.clone().into(),
        Column::PartyPost => p.party_post.clone().into(),
        Column::Phone => p.phone_masked.clone().into(),
        Column::Address | Column::OrgPath => Cell::Empty,
        Column::Status => code_label(&p.status, |s| Status::parse(s).map(|v| v.label())),
        Column::LostContact => yes_no(p.status == Status::LostContact.code()),
        Column::Floating => yes_no(p.status == Status::Floating.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_actor_reaches_every_subtree() {
        let a = system_actor();
        assert!(a.can(Capability::PersonWrite, "/1/5/23/"));
        assert!(a.can(Capability::PersonRead, "/7/"));
        assert_eq!(a.ranges_within(Capability::PersonRead, "/1/5/"), vec!["/1/5/".to_string()]);
        assert!(!a.can_somewhere(Capability::GrantAdmin));
    }
}
