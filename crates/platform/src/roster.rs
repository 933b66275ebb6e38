//! The register (党员花名册) as a spreadsheet: its columns, the Chinese headers each goes by (the
//! national system's template, what our export writes, and the variants colleges type), and one row
//! turned into the same [`PersonInput`] the person form sends. Pure: the import service resolves the
//! branches, finds duplicates, validates with [`crate::rules`] and writes.
//!
//! Header matching ignores spaces, a required-mark `*`, full-width brackets and column order; a title
//! row above the header (a merged "某某党委党员花名册" line) is skipped. Columns nobody maps (序号,
//! 流动去向, anything unknown) are reported as ignored, never guessed.

use std::collections::HashMap;

use documents::sheet::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{Gender, OrgCategory, PersonCategory, Stage, Status};
use crate::rules::{IdNumber, PersonInput};

/// One column of the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Seq,
    Name,
    Gender,
    IdNumber,
    Ethnicity,
    BirthDate,
    NativePlace,
    Education,
    Stage,
    Org,
    /// 组织路径: the branch with the names of the organizations above it, `数学学院党委/本科生第一党支部`, to
    /// tell apart branches of the same name.
    OrgPath,
    AppliedOn,
    ActivistOn,
    CandidateOn,
    AdmittedOn,
    ConvertedOn,
    PersonNo,
    Category,
    JobTitle,
    PartyPost,
    Phone,
    Address,
    Status,
    LostContact,
    Floating,
}

struct Spec {
    column: Column,
    /// The header of the template (全国党员管理信息系统's wording where it has one), what export writes.
    header: &'static str,
    aliases: &'static [&'static str],
    /// The key of this item in [`crate::rules::FieldErrors`].
    field: Option<&'static str>,
}

/// The columns in template order.
const SPECS: &[Spec] = &[
    Spec { column: Column::Seq, header: "序号", aliases: &["编号", "no", "no."], field: None },
    Spec { column: Column::Name, header: "姓名", aliases: &["名字", "党员姓名"], field: Some("name") },
    Spec { column: Column::Gender, header: "性别", aliases: &[], field: Some("gender") },
    Spec {
        column: Column::IdNumber,
        header: "公民身份号码",
        aliases: &["身份证号码", "身份证号", "身份证", "证件号码", "公民身份证号码", "身份证件号码", "公民身份号"],
        field: Some("id_number"),
    },
    Spec { column: Column::Ethnicity, header: "民族", aliases: &[], field: Some("ethnicity") },
    Spec {
        column: Column::BirthDate,
        header: "出生日期",
        aliases: &["出生年月", "出生年月日", "生日"],
        field: Some("birth_date"),
    },
    Spec { column: Column::NativePlace, header: "籍贯", aliases: &[], field: Some("native_place") },
    Spec {
        column: Column::Education, header: "学历", aliases: &["文化程度", "最高学历"], field: Some("education")
    },
    Spec {
        column: Column::Stage,
        header: "人员类别",
        aliases: &["发展阶段", "党员类别", "政治面貌", "党员身份"],
        field: Some("stage"),
    },
    Spec {
        column: Column::Org,
        header: "所在党支部",
        aliases: &[
            "党支部",
            "所在支部",
            "支部",
            "所在党组织",
            "党组织",
            "所属党支部",
            "所属党组织",
            "党支部名称",
            "所在党支部名称",
        ],
        field: Some("org_id"),
    },
    Spec {
        column: Column::OrgPath,
        header: "组织路径",
        aliases: &["党组织路径", "所在党组织路径", "支部路径", "组织层级"],
        field: None,
    },
    Spec {
        column: Column::AppliedOn,
        header: "申请入党日期",
        aliases: &["递交入党申请书日期", "入党申请日期", "申请入党时间", "递交入党申请书时间", "递交申请书日期"],
        field: Some("applied_on"),
    },
    Spec {
        column: Column::ActivistOn,
        header: "确定为入党积极分子日期",
        aliases: &["确定为积极分子日期", "列为入党积极分子日期", "确定入党积极分子日期", "积极分子日期"],
        field: Some("activist_on"),
    },
    Spec {
        column: Column::CandidateOn,
        header: "确定为发展对象日期",
        aliases: &["列为发展对象日期", "确定发展对象日期", "发展对象日期"],
        field: Some("candidate_on"),
    },
    Spec {
        column: Column::AdmittedOn,
        header: "入党日期",
        aliases: &["接收为预备党员日期", "入党时间", "加入党组织日期"],
        field: Some("admitted_on"),
    },
    Spec {
        column: Column::ConvertedOn,
        header: "转为正式党员日期",
        aliases: &["转正日期", "转正时间", "转为正式党员时间"],
        field: Some("converted_on"),
    },
    Spec {
        column: Column::PersonNo,
        header: "学号/工号",
        aliases: &["学号", "工号", "学工号", "学号或工号", "学号工号"],
        field: Some("person_no"),
    },
    Spec {
        column: Column::Category,
        header: "工作岗位",
        aliases: &["人员身份", "身份", "人员类型", "岗位", "身份类别"],
        field: Some("category"),
    },
    Spec {
        column: Column::JobTitle,
        header: "职务/职称",
        aliases: &["职务", "职称", "行政职务"],
        field: Some("job_title"),
    },
    Spec { column: Column::PartyPost, header: "党内职务", aliases: &[], field: Some("party_post") },
    Spec {
        column: Column::Phone,
        header: "联系电话",
        aliases: &["手机号码", "手机号", "手机", "电话", "联系方式", "电话号码"],
        field: Some("phone"),
    },
    Spec {
        column: Column::Address,
        header: "家庭住址",
        aliases: &["住址", "家庭地址", "联系地址", "现居住地"],
        field: Some("address"),
    },
    Spec { column: Column::Status, header: "党籍状态", aliases: &[], field: Some("status") },
    Spec { column: Column::LostContact, header: "是否失联", aliases: &["失联", "失去联系"], field: None },
    Spec { column: Column::Floating, header: "是否流动党员", aliases: &["流动党员"], field: None },
];

/// Columns without which no row can be read (the branch may instead be named by its path, [`Column::OrgPath`]).
const REQUIRED: &[Column] = &[Column::Name, Column::IdNumber, Column::Org, Column::Stage];

impl Column {
    fn spec(self) -> Option<&'static Spec> {
        SPECS.iter().find(|s| s.column == self)
    }

    /// The template's header of this column.
    pub fn header(self) -> &'static str {
        self.spec().map(|s| s.header).unwrap_or("")
    }

    /// The column a [`crate::rules::FieldErrors`] key belongs to.
    pub fn of_field(field: &str) -> Option<Column> {
        SPECS.iter().find(|s| s.field == Some(field)).map(|s| s.column)
    }
}

/// What a header cell says, compared without spaces, required marks, bracket widths or ASCII case.
fn normalise_header(h: &str) -> String {
    let mut s: String = h
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | '\u{3000}'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '／' => '/',
            '：' => ':',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    for note in ["(必填)", "(选填)", "(可选)"] {
        s = s.replace(note, "");
    }
    s.trim_end_matches(':').to_string()
}

fn match_header(h: &str) -> Option<Column> {
    let n = normalise_header(h);
    if n.is_empty() {
        return None;
    }
    SPECS
        .iter()
        .find(|s| normalise_header(s.header) == n || s.aliases.iter().any(|a| normalise_header(a) == n))
        .map(|s| s.column)
}

/// The columns of a sheet: which index holds which column, and each column's header as the file has it.
#[derive(Clone, Debug)]
pub struct Header {
    /// The spreadsheet row of the header.
    pub row: u32,
    index: HashMap<Column, usize>,
    labels: HashMap<Column, String>,
    /// Headers that map to nothing (or to nothing we keep), as in the file.
    pub ignored: Vec<String>,
}

impl Header {
    /// The header of `column` as the file writes it (the template's when the file has no such column).
    pub fn label(&self, column: Column) -> String {
        self.labels.get(&column).cloned().unwrap_or_else(|| column.header().to_string())
    }

    pub fn has(&self, column: Column) -> bool {
        self.index.contains_key(&column)
    }
}

/// How bad an import finding is: an error blocks the whole import; a warning is reported and accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "提醒",
        }
    }
}

/// One finding: where (spreadsheet row, column header) and what, in Chinese.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Issue {
    /// Spreadsheet row number (the header is usually row 1).
    #[schema(example = 154)]
    pub row: u32,
    /// The column's header as the file has it; `表头` for a problem with the header itself.
    #[schema(example = "公民身份号码")]
    pub column: String,
    pub severity: Severity,
    #[schema(example = "公民身份号码校验位不正确，请核对")]
    pub message: String,
    /// The name on that row, to find it again (never the ID number or phone).
    pub name: Option<String>,
}

/// Finds the header among the first rows (the one naming the most known columns, at least two), so a
/// title row above it does no harm. Errors: no header, a required column missing, a column twice.
pub fn header(rows: &[Row]) -> Result<Header, Vec<Issue>> {
    let header_issue = |row: u32, message: String| Issue {
        row,
        column: "表头".into(),
        severity: Severity::Error,
        message,
        name: None,
    };
    let best = rows
        .iter()
        .take(5)
        .map(|r| (r, r.cells.iter().filter(|c| match_header(c).is_some()).count()))
        .max_by_key(|(r, n)| (*n, std::cmp::Reverse(r.number)));
    let Some((row, found)) = best else {
        return Err(vec![header_issue(1, "文件中没有数据".into())]);
    };
    if found < 2 {
        return Err(vec![header_issue(
            row.number,
            "未找到表头：第一行应为列名，如“姓名、公民身份号码、所在党支部、人员类别”".into(),
        )]);
    }
    let mut index = HashMap::new();
    let mut labels = HashMap::new();
    let mut ignored = Vec::new();
    let mut issues = Vec::new();
    for (i, cell) in row.cells.iter().enumerate() {
        match match_header(cell) {
            Some(col) => {
                if let Some(first) = labels.get(&col) {
                    issues.push(header_issue(
                        row.number,
                        format!("列“{}”与列“{first}”是同一项，只能保留一列", cell.trim()),
                    ));
                } else {
                    index.insert(col, i);
                    labels.insert(col, cell.trim().to_string());
                }
            }
            None if !cell.trim().is_empty() => ignored.push(cell.trim().to_string()),
            None => {}
        }
    }
    for col in REQUIRED {
        let by_path = *col == Column::Org && index.contains_key(&Column::OrgPath);
        if !index.contains_key(col) && !by_path {
            issues.push(header_issue(row.number, format!("缺少必填列“{}”", col.header())));
        }
    }
    if issues.is_empty() {
        index.remove(&Column::Seq);
        Ok(Header { row: row.number, index, labels, ignored })
    } else {
        Err(issues)
    }
}

/// One data row read into the form's input, before the branch is resolved and the rules run.
#[derive(Clone, Debug)]
pub struct RowInput {
    pub row: u32,
    /// `org_id` is left empty: the service resolves `org_name`.
    pub input: PersonInput,
    pub org_name: Option<String>,
    /// The branch's path of names ([`Column::OrgPath`]) as written, when the file has one on this row.
    pub org_path: Option<String>,
    /// Values this module could not read (a code list value, a yes/no flag), by column.
    pub problems: Vec<(Column, String)>,
}

impl RowInput {
    pub fn name(&self) -> Option<String> {
        self.input.name.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    }
}

/// Accepts the code, the label, and the words registers use for a stage.
fn parse_stage(s: &str) -> Option<Stage> {
    Stage::parse(s).or(match s {
        "积极分子" | "入党积极分子" => Some(Stage::Activist),
        "申请人" | "申请入党" | "入党申请人" => Some(Stage::Applicant),
        "中共党员" | "党员" | "正式" => Some(Stage::Full),
        "中共预备党员" | "预备" => Some(Stage::Probationary),
        _ => None,
    })
}

fn parse_category(s: &str) -> Option<PersonCategory> {
    PersonCategory::parse(s).or(match s {
        "本科生" | "研究生" | "博士生" | "硕士生" | "学生党员" => Some(PersonCategory::Student),
        "教工" | "教职工" | "专任教师" | "教师党员" | "教学科研人员" => {
            Some(PersonCategory::Faculty)
        }
        "管理人员" | "行政人员" | "教辅人员" | "工勤人员" | "管理" | "后勤" => {
            Some(PersonCategory::Staff)
        }
        "退休" | "离休" | "离退休人员" | "退休人员" | "离退休干部" => Some(PersonCategory::Retired),
        _ => None,
    })
}

fn parse_gender(s: &str) -> Option<Gender> {
    Gender::parse(s).or(match s {
        "男性" | "M" | "m" => Some(Gender::Male),
        "女性" | "F" | "f" => Some(Gender::Female),
        _ => None,
    })
}

fn parse_status(s: &str) -> Option<Status> {
    let s = s.replace('(', "（").replace(')', "）");
    Status::parse(&s).or(match s.as_str() {
        "正常党籍" | "在册" => Some(Status::Normal),
        "停止党籍" | "党籍停止" => Some(Status::Suspended),
        "出国" | "出境" | "出国出境" => Some(Status::Abroad),
        _ => None,
    })
}

fn parse_yes_no(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" => Some(true),
        "否" | "n" | "no" | "false" | "0" | "×" => Some(false),
        _ => None,
    }
}

/// A date cell as the rules read it: `YYYY-MM-DD hh:mm:ss` loses its time, a compact `19990425` and an
/// Excel serial that lost its date format (`36275`) become `YYYY-MM-DD`; anything else as typed.
fn date_text(raw: &str) -> String {
    let s = raw.trim();
    let s = match s.split_once(' ') {
        Some((d, t)) if t.contains(':') => d,
        _ => s,
    };
    let digits = s.chars().all(|c| c.is_ascii_digit());
    if digits && s.len() == 8 {
        return format!("{}-{}-{}", &s[0..4], &s[4..6], &s[6..8]);
    }
    if digits
        && (4..=5).contains(&s.len())
        && let Ok(serial) = s.parse::<i64>()
        && serial > 60
    {
        let d = time::macros::date!(1899 - 12 - 30) + time::Duration::days(serial);
        return kernel::dates::iso(d);
    }
    s.to_string()
}

/// Reads one data row under `header`.
pub fn read_row(header: &Header, row: &Row) -> RowInput {
    let cell = |c: Column| -> Option<String> {
        let i = *header.index.get(&c)?;
        row.cells.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()).map(str::to_string)
    };
    // The name keeps its inner spaces for the rules to tidy; only the ends go.
    let raw = |c: Column| -> Option<String> {
        let i = *header.index.get(&c)?;
        row.cells.get(i).cloned()
    };
    let mut problems = Vec::new();
    let mut code = |c: Column, parse: &dyn Fn(&str) -> Option<String>, expected: &str| -> Option<String> {
        let v = cell(c)?;
        match parse(&v) {
            Some(code) => Some(code),
            None => {
                problems.push((c, format!("“{v}”不是有效的{}：应为{expected}", header.label(c))));
                None
            }
        }
    };
    let gender = code(Column::Gender, &|s| parse_gender(s).map(|g| g.code().into()), "男或女");
    let stage = code(
        Column::Stage,
        &|s| parse_stage(s).map(|v| v.code().into()),
        "正式党员、预备党员、发展对象、入党积极分子或入党申请人",
    );
    let category =
        code(Column::Category, &|s| parse_category(s).map(|v| v.code().into()), "学生、教师、职工或离退休（退休）");
    let status = code(
        Column::Status,
        &|s| parse_status(s).map(|v| v.code().into()),
        "正常、流动党员、出国（境）、失联、停止党籍、死亡或出党",
    );
    let lost = code(Column::LostContact, &|s| parse_yes_no(s).map(|b| b.to_string()), "是或否");
    let floating = code(Column::Floating, &|s| parse_yes_no(s).map(|b| b.to_string()), "是或否");
    // 党籍状态 says it when it says more than "正常"; the two flags of the national template refine it.
    let status = match (status.as_deref(), lost.as_deref(), floating.as_deref()) {
        (None | Some("normal"), Some("true"), _) => Some(Status::LostContact.code().to_string()),
        (None | Some("normal"), _, Some("true")) => Some(Status::Floating.code().to_string()),
        (s, _, _) => s.map(str::to_string),
    };
    let date = |c: Column| cell(c).map(|v| date_text(&v));
    let input = PersonInput {
        name: raw(Column::Name),
        gender,
        birth_date: date(Column::BirthDate),
        id_number: cell(Column::IdNumber),
        phone: cell(Column::Phone),
        address: cell(Column::Address),
        org_id: None,
        stage,
        category,
        status,
        ethnicity: cell(Column::Ethnicity),
        native_place: cell(Column::NativePlace),
        education: cell(Column::Education),
        person_no: cell(Column::PersonNo),
        party_post: cell(Column::PartyPost),
        job_title: cell(Column::JobTitle),
        applied_on: date(Column::AppliedOn),
        activist_on: date(Column::ActivistOn),
        candidate_on: date(Column::CandidateOn),
        admitted_on: date(Column::AdmittedOn),
        converted_on: date(Column::ConvertedOn),
        version: None,
    };
    RowInput { row: row.number, input, org_name: cell(Column::Org), org_path: cell(Column::OrgPath), problems }
}

/// Fills what a row may leave empty: gender and birth date from a valid ID number (GB 11643 carries
/// both), the category from a student or retired branch. A value that is given is never replaced, so
/// the rules still see a disagreement.
pub fn fill_defaults(r: &mut RowInput, header: &Header, org_category: Option<OrgCategory>) {
    let id = r.input.id_number.as_deref().and_then(|s| IdNumber::parse(s).ok());
    let problem_in = |c: Column, r: &RowInput| r.problems.iter().any(|(pc, _)| *pc == c);
    if r.input.gender.is_none() && !problem_in(Column::Gender, r) {
        r.input.gender = id.as_ref().map(|i| i.gender().code().to_string());
    }
    if r.input.birth_date.is_none() {
        r.input.birth_date = id.as_ref().and_then(|i| i.birth_date()).map(kernel::dates::iso);
    }
    if r.input.category.is_none() && !problem_in(Column::Category, r) {
        r.input.category = match org_category {
            Some(OrgCategory::Student) => Some(PersonCategory::Student.code().into()),
            Some(OrgCategory::Retired) => Some(PersonCategory::Retired.code().into()),
            Some(OrgCategory::Faculty) if !header.has(Column::Category) => Some(PersonCategory::Faculty.code().into()),
            _ => None,
        };
    }
}

/// The empty import template (xlsx): every column in template order, the required ones marked `*`
/// (the importer reads the header with or without the mark).
pub fn template() -> Result<Vec<u8>, crate::Error> {
    let headers: Vec<String> = SPECS
        .iter()
        .map(|s| if REQUIRED.contains(&s.column) { format!("*{}", s.header) } else { s.header.to_string() })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    documents::sheet::write(documents::sheet::Format::Xlsx, "党员信息", &headers, &[])
        .map_err(|e| crate::Error::Invalid(std::collections::BTreeMap::from([("file".to_string(), e.to_string())])))
}

/// The export's header row: the template's columns without the address (stored sealed, with no masked
/// form to show) and the organization path (the branch's full name is unique within what one exports).
pub fn export_columns() -> Vec<Column> {
    SPECS.iter().map(|s| s.column).filter(|c| !matches!(c, Column::Address | Column::OrgPath)).collect()
}

/// The names of an organization path cell, top first: `数学学院党委/本科生第一党支部` (also with `／`, `>`,
/// `＞` or `\`, spaces around the names ignored).
pub fn path_names(cell: &str) -> Vec<String> {
    cell.split(['/', '／', '>', '＞', '\\']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: u32, cells: &[&str]) -> Row {
        Row { number, cells: cells.iter().map(|c| c.to_string()).collect() }
    }

    #[test]
    fn headers_match_variants_in_any_order_below_a_title() {
        let rows = vec![
            row(1, &["某某学院党委党员花名册"]),
            row(2, &["所在 支部", "* 姓名", "身份证号（必填）", "发展阶段", "手机", "备注", "序号"]),
        ];
        let h = header(&rows).unwrap();
        assert_eq!(h.row, 2);
        assert_eq!(h.label(Column::IdNumber), "身份证号（必填）");
        assert_eq!(h.label(Column::Gender), "性别", "absent: the template's header");
        assert_eq!(h.ignored, vec!["备注".to_string()]);
        let r = read_row(&h, &row(3, &["经济学院学生党支部", " 李红 ", "11010519491231002x", "正式党员", "１３８"]));
        assert_eq!(r.org_name.as_deref(), Some("经济学院学生党支部"));
        assert_eq!(r.input.name.as_deref(), Some(" 李红 "));
        assert_eq!(r.input.stage.as_deref(), Some("full"));
        assert_eq!(r.input.phone.as_deref(), Some("１３８"), "the rules normalise it");
    }

    #[test]
    fn missing_or_doubled_columns_are_header_errors() {
        let e = header(&[row(1, &["姓名", "性别", "民族"])]).unwrap_err();
        let msgs: Vec<&str> = e.iter().map(|i| i.message.as_str()).collect();
        assert!(msgs.contains(&"缺少必填列“公民身份号码”"), "{msgs:?}");
        assert!(msgs.contains(&"缺少必填列“所在党支部”"));
        let e = header(&[row(1, &["姓名", "身份证号", "公民身份号码", "党支部", "人员类别"])]).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("同一项"));
        assert!(header(&[row(1, &["随便", "什么"])]).is_err());
        assert!(header(&[]).is_err());
    }

    #[test]
    fn code_lists_flags_and_dates() {
        let h = header(&[row(
            1,
            &[
                "姓名",
                "公民身份号码",
                "所在党支部",
                "人员类别",
                "工作岗位",
                "党籍状态",
                "是否失联",
                "是否流动党员",
                "入党日期",
            ],
        )])
        .unwrap();
        let r = read_row(&h, &row(2, &["甲", "x", "支部", "预备党员", "退休", "正常", "否", "是", "20190901"]));
        assert_eq!(r.input.category.as_deref(), Some("retired"));
        assert_eq!(r.input.status.as_deref(), Some("floating"));
        assert_eq!(r.input.admitted_on.as_deref(), Some("2019-09-01"));
        assert!(r.problems.is_empty());
        let r = read_row(&h, &row(3, &["乙", "x", "支部", "群众", "学生干部", "正常", "也许", "", "36275"]));
        let cols: Vec<Column> = r.problems.iter().map(|(c, _)| *c).collect();
        assert_eq!(cols, vec![Column::Stage, Column::Category, Column::LostContact]);
        assert_eq!(r.input.admitted_on.as_deref(), Some("1999-04-25"), "an Excel serial typed as text");
        assert_eq!(date_text("2019.9.1"), "2019.9.1", "left for the rules");
        assert_eq!(date_text("1999-04-25 00:00:00"), "1999-04-25");
    }

    #[test]
    fn gender_birth_and_category_default_from_id_and_branch() {
        let h = header(&[row(1, &["姓名", "公民身份号码", "所在党支部", "人员类别"])]).unwrap();
        let mut r = read_row(&h, &row(2, &["甲", "11010519491231002X", "支部", "正式党员"]));
        fill_defaults(&mut r, &h, Some(OrgCategory::Retired));
        assert_eq!(r.input.gender.as_deref(), Some("female"));
        assert_eq!(r.input.birth_date.as_deref(), Some("1949-12-31"));
        assert_eq!(r.input.category.as_deref(), Some("retired"));
        let mut r = read_row(&h, &row(3, &["乙", "11010519491231002X", "支部", "正式党员"]));
        fill_defaults(&mut r, &h, Some(OrgCategory::Mixed));
        assert_eq!(r.input.category, None, "a mixed branch cannot tell");
    }

    #[test]
    fn the_template_reads_back_as_a_header() {
        let bytes = template().unwrap();
        let rows = documents::sheet::read(&bytes, documents::sheet::Format::Xlsx).unwrap();
        let h = header(&rows).unwrap();
        assert!(h.ignored.is_empty(), "{:?}", h.ignored);
        assert!(SPECS.iter().all(|s| s.column == Column::Seq || h.has(s.column)));
    }

    #[test]
    fn every_field_error_has_a_column() {
        for f in [
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "address",
            "org_id",
            "stage",
            "category",
            "status",
            "ethnicity",
            "native_place",
            "education",
            "person_no",
            "party_post",
            "job_title",
            "applied_on",
            "activist_on",
            "candidate_on",
            "admitted_on",
            "converted_on",
        ] {
            assert!(Column::of_field(f).is_some(), "{f}");
        }
    }
}
