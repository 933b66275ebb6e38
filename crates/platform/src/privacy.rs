//! PIPL rights (个人信息保护法 第四十五至四十七条; security.md AT-36, AT-37): a member gets a copy of every
//! item the platform holds about her, with the purpose each one serves; asks for corrections; and, once two
//! record keepers approve, has her data erased or pseudonymised. Each part of the system that stores rows
//! about a person provides them through [`PersonData`] — for the copy ([`PersonData::export`]) and for the
//! deletion ([`PersonData::erase`]); a test in the web crate finds every table that refers to a person and
//! fails when no provider covers it, so a new table cannot be left out of the copy or of a deletion.
//!
//! The periods the law sets live here, each in one function with its citation: [`rights_due`] and
//! [`COPY_LINK_HOURS`].

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError, DbTx};
use time::Date;

/// What a deletion leaves behind and takes away (AT-37): the person, the pseudonymous key that replaces
/// her name in the records the law keeps, and her name as it was (for scrubbing it out of free text that
/// others wrote about her, e.g. meeting minutes). `name` is never stored anywhere.
#[derive(Clone, Debug)]
pub struct Erasure {
    pub person_id: i64,
    /// `匿名-` and 10 random hex digits; also in the audit entry of the deletion (never her name).
    pub pseudonym: String,
    pub name: String,
}

/// A boxed future of a provider (the trait is object-safe: the web crate lists providers as `&dyn`).
pub type ProviderFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + 'a>>;

/// One part's rows about a person, for her copy.
pub trait PersonData: Send + Sync {
    /// The tables it covers (the web crate's test checks that every table referring to a person is here).
    fn tables(&self) -> &'static [&'static str];
    /// The section's name in the copy, and its rows.
    #[allow(clippy::type_complexity)]
    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>>;
    /// Erases her rows in its tables, or pseudonymises those the law requires to keep (the Party's archive
    /// rules, domain.md ARC: membership history stays, keyed by the pseudonymised `people` row), inside the
    /// deletion's transaction: free text about her goes, her name in text others wrote is replaced by
    /// the pseudonym. Returns the number of rows touched (for the audit entry).
    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64>;
}

/// An application's `erase`: runs its statement lists (each statement binds `$1` the person, `$2` the
/// pseudonym, `$3` her former name, as far as it uses them) in the deletion's transaction.
pub fn erase_with<'a>(
    tx: &'a mut DbTx,
    who: &'a Erasure,
    lists: &'a [&'static [&'static str]],
) -> ProviderFuture<'a, u64> {
    Box::pin(async move {
        let mut n = 0;
        for statements in lists {
            n += crate::store::rights::execute_each(tx, statements, who.person_id, &who.pseudonym, &who.name).await?;
        }
        Ok(n)
    })
}

/// How many days a record keeper has to answer a correction or deletion request: 30 days from the day it was
/// made. PIPL 第五十条 asks for a "convenient" mechanism and reasons for refusals but names no period;
/// GB/T 35273-2020《信息安全技术 个人信息安全规范》8.7 c) sets "不超过30天" for answering a data subject's
/// request, which we follow (calendar days: no holiday calendar is needed, domain.md open question 4).
pub const CITE_RIGHTS_PERIOD: &str =
    "《个人信息保护法》第五十条；GB/T 35273-2020《信息安全技术 个人信息安全规范》8.7 c)（不超过30天）";
pub const RIGHTS_PERIOD_DAYS: i64 = 30;

/// The last day to answer a request made on `asked_on` ([`CITE_RIGHTS_PERIOD`]).
pub fn rights_due(asked_on: Date) -> Date {
    asked_on + time::Duration::days(RIGHTS_PERIOD_DAYS)
}

/// Whether a request due on `due_on` is overdue on `today` (the due day itself is still in time).
pub fn overdue(due_on: Date, today: Date) -> bool {
    today > due_on
}

/// A copy's download link lives at most 72 hours and serves once (security.md AT-36).
pub const COPY_LINK_HOURS: i64 = 72;

/// Who may exercise a deceased member's rights over her data: her close relatives, for their own lawful and
/// legitimate interests, unless she arranged otherwise in her lifetime ([`CITE_POSTHUMOUS`]). The close
/// relatives are those of 民法典 第一千零四十五条 第二款: spouse, parents, children, siblings, grandparents
/// (paternal and maternal) and grandchildren.
pub const CITE_POSTHUMOUS: &str = "《个人信息保护法》第四十九条；《民法典》第一千零四十五条（近亲属的范围）";

/// The close relatives (民法典 第一千零四十五条 第二款), as codes and Chinese names.
pub const CLOSE_RELATIVES: &[(&str, &str)] = &[
    ("spouse", "配偶"),
    ("parent", "父母"),
    ("child", "子女"),
    ("sibling", "兄弟姐妹"),
    ("grandparent", "祖父母、外祖父母"),
    ("grandchild", "孙子女、外孙子女"),
];

/// The Chinese name of a close relationship; `None` for anyone else (a nephew, a friend, a colleague: not a
/// close relative under the law).
pub fn relation_label(code: &str) -> Option<&'static str> {
    CLOSE_RELATIVES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// The items a member may ask to correct (PIPL 第四十六条), with their Chinese names; the stage dates follow
/// from the development records and are corrected there.
pub const CORRECTABLE: &[(&str, &str)] = &[
    ("name", "姓名"),
    ("gender", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "公民身份号码"),
    ("phone", "联系电话"),
    ("address", "家庭住址"),
    ("ethnicity", "民族"),
    ("native_place", "籍贯"),
    ("education", "学历"),
    ("person_no", "学号/工号"),
];

/// The Chinese name of a correctable item.
pub fn field_label(code: &str) -> Option<&'static str> {
    CORRECTABLE.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Each section of the copy: its Chinese title and the purpose of processing (个人信息处理目的, PIPL
/// 第十七条), shown next to it in the readable copy. The one catalogue of purposes by section; a test fails
/// when a section of the copy has no entry here.
pub const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "person",
        "我的档案信息",
        "党员名册与党内统计（全国党员管理信息系统规定的数据项）；公民身份号码用于唯一识别、组织关系转接与政治审查，\
         联系电话用于组织生活通知，家庭住址用于组织关系转接与走访（三者均加密保存）",
    ),
    ("account", "我的账号与角色", "身份鉴别与授权（网络安全等级保护三级要求）"),
    ("sign_ins", "登录记录", "身份鉴别与安全审计（网络安全等级保护三级要求）"),
    (
        "who_looked_at_my_record",
        "谁查看或修改了我的信息",
        "安全审计，并让您知道谁处理了您的信息（《个人信息保护法》第四十四条）",
    ),
    ("attachments", "与我有关的附件", "作为相应环节的书面材料存档；每次下载记入审计日志"),
    ("development", "发展党员记录", "按《中国共产党发展党员工作细则》办理和审核发展党员工作，形成入党材料"),
    ("meetings_attended", "组织生活出勤", "组织生活记录（三会一课、主题党日等）"),
    ("notices_received", "收到的通知与回执", "向党员传达通知公告并确认送达（回执）"),
    (
        "member_services",
        "党员服务、证明与志愿服务",
        "办理您申请的党员服务（开具证明、困难帮扶等）并核验所开证明；记录和确认志愿服务时长；日历订阅",
    ),
    (
        "committees",
        "担任的委员职务与参加的选举",
        "记录党组织委员会的届次、委员职务和换届选举的得票（《中国共产党基层组织选举工作条例》）",
    ),
    (
        "dues",
        "党费",
        "按《关于中国共产党党费收缴、使用和管理的规定》计算、收缴和核对党费（交纳基数、每笔交纳记录、减免）",
    ),
    ("learning_records", "学习记录", "学习教育的组织与统计（不作为考核依据）"),
    ("learning_activity", "考试、党课、积分与学习时长", "学习教育的组织与统计；积分排行仅在本人同意后显示"),
    (
        "relationship_and_status",
        "组织关系转接与党籍状态",
        "组织关系转接、党籍管理与流动党员联系（《中国共产党党员教育管理工作条例》等）",
    ),
    (
        "privacy_requests",
        "我提出的个人信息请求",
        "办理您查阅复制、更正、删除个人信息的请求（《个人信息保护法》第四十五至五十条）",
    ),
    (
        "posthumous_arrangement",
        "身后个人信息安排",
        "按您生前的安排办理近亲属查阅、复制、更正、删除您个人信息的请求（《个人信息保护法》第四十九条）",
    ),
];

/// The title and purpose of a section of the copy.
pub fn section(key: &str) -> Option<(&'static str, &'static str)> {
    SECTIONS.iter().find(|(k, _, _)| *k == key).map(|(_, t, p)| (*t, *p))
}

/// Why each item is collected (PIPL 第十七条: the purpose, told to the person). Shown in the copy and on
/// the person's own page.
pub const PURPOSES: &[(&str, &str)] = &[
    ("姓名、性别、民族、出生日期、籍贯、学历", "党员名册与党内统计（全国党员管理信息系统规定的数据项）"),
    ("公民身份号码", "唯一识别党员、组织关系转接与政治审查；加密保存，仅经本人或经办人说明原因后查看"),
    ("联系电话", "组织生活通知与联系；加密保存，列表中脱敏显示"),
    ("家庭住址", "组织关系转接与走访；加密保存"),
    ("学号/工号、人员类别", "确定所在党支部与党费计算类别"),
    (
        "入党申请、积极分子、发展对象、预备党员、转正各阶段日期",
        "发展党员工作各环节的时限审核（《中国共产党发展党员工作细则》）",
    ),
    (
        "发展党员各环节的记录、培养联系人与入党介绍人、表决结果",
        "按《中国共产党发展党员工作细则》办理和审核发展党员工作，形成入党材料",
    ),
    (
        "上传的附件（入党申请书、思想汇报、政审材料等）",
        "作为相应环节的书面材料存档；按环节的查看权限提供，每次下载记入审计日志",
    ),
    ("账号、登录记录", "身份鉴别与安全审计（网络安全等级保护三级要求）"),
    ("会议出勤与请假", "组织生活记录（三会一课、主题党日等）"),
    ("收到的通知及确认阅读的时间", "通知送达与回执统计，便于党组织了解通知是否传达到每名党员"),
];

/// The attachment store's part of the copy: the files about her (name, type, size, SHA-256, when, to what
/// record) — not their bytes, which she downloads from the record they belong to.
pub struct Attachments;

impl PersonData for Attachments {
    fn tables(&self) -> &'static [&'static str] {
        &["attachments"]
    }

    fn export<'a>(
        &'a self,
        db: &'a Db,
        person_id: i64,
    ) -> Pin<Box<dyn Future<Output = Result<(&'static str, serde_json::Value), DbError>> + Send + 'a>> {
        Box::pin(async move {
            let rows: Vec<serde_json::Value> = crate::store::attachments_about(db, person_id)
                .await?
                .into_iter()
                .map(|a| {
                    serde_json::json!({"record": format!("{}:{}", a.owner_kind, a.owner_id), "name": a.name,
                        "type": a.type_label(), "size": a.size, "sha256": a.sha256, "created_at": a.created_at})
                })
                .collect();
            Ok(("attachments", serde_json::Value::Array(rows)))
        })
    }

    /// Files about her are removed: the archive's originals go to her personnel file (细则 第三十七条,
    /// domain.md ARC), these are working copies, and their bytes hold her name and more.
    fn erase<'a>(&'a self, tx: &'a mut DbTx, who: &'a Erasure) -> ProviderFuture<'a, u64> {
        Box::pin(async move { crate::store::erase_attachments_about(tx, who.person_id).await })
    }
}

/// One table of the copy: its file name (without extension), its header and its rows as text.
#[derive(Clone, Debug, PartialEq)]
pub struct CopyTable {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => if *b { "是" } else { "否" }.into(),
        other => other.to_string(),
    }
}

/// The tables of one section of the copy: an array of objects is a table with a column per key; an object's
/// plain items are one two-column table (项目, 内容) and its nested arrays and objects tables of their own
/// (`section.key`).
pub fn section_tables(name: &str, v: &serde_json::Value) -> Vec<CopyTable> {
    use serde_json::Value;
    match v {
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut header: Vec<String> = Vec::new();
            for item in items {
                for k in item.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !header.contains(k) {
                        header.push(k.clone());
                    }
                }
            }
            let rows = items.iter().map(|i| header.iter().map(|h| cell(&i[h.as_str()])).collect()).collect();
            vec![CopyTable { name: name.into(), header, rows }]
        }
        Value::Array(items) => vec![CopyTable {
            name: name.into(),
            header: vec!["内容".into()],
            rows: items.iter().map(|i| vec![cell(i)]).collect(),
        }],
        Value::Object(map) => {
            let mut plain = Vec::new();
            let mut nested = Vec::new();
            for (k, item) in map {
                if item.is_array() || item.is_object() {
                    nested.extend(section_tables(&format!("{name}.{k}"), item));
                } else {
                    plain.push(vec![k.clone(), cell(item)]);
                }
            }
            let mut out = Vec::new();
            if !plain.is_empty() {
                out.push(CopyTable { name: name.into(), header: vec!["项目".into(), "内容".into()], rows: plain });
            }
            out.extend(nested);
            out
        }
        other => vec![CopyTable {
            name: name.into(),
            header: vec!["项目".into(), "内容".into()],
            rows: vec![vec![name.into(), cell(other)]],
        }],
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The parts of the copy's document that are not sections of data.
const NOT_SECTIONS: &[&str] = &["generated_at", "about", "purposes"];

/// The sections of a copy as (key, tables): in the order of [`SECTIONS`], then any other in the document's order.
pub fn copy_sections(doc: &serde_json::Value) -> Vec<(String, Vec<CopyTable>)> {
    let Some(map) = doc.as_object() else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = map.keys().filter(|k| !NOT_SECTIONS.contains(&k.as_str())).collect();
    let rank = |k: &str| SECTIONS.iter().position(|(s, _, _)| *s == k).unwrap_or(SECTIONS.len());
    keys.sort_by_key(|k| rank(k));
    keys.into_iter().map(|k| (k.clone(), section_tables(k, &map[k.as_str()]))).collect()
}

/// The copy as a readable Chinese page: each section with its title, the purpose it is processed for and its
/// tables; self-contained (inline style, no script, no outside reference), escaped throughout.
pub fn copy_html(doc: &serde_json::Value) -> String {
    let mut h = String::from(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>我的个人信息副本</title>\
         <style>body{font-family:sans-serif;margin:1rem;max-width:60rem;line-height:1.5}\
         table{border-collapse:collapse;margin:.5rem 0 1rem;display:block;overflow-x:auto}\
         th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}\
         th{background:#f3f3f3}.purpose{color:#555}h2{border-bottom:2px solid #b00;padding-bottom:.2rem}</style>\
         </head><body><h1>我的个人信息副本</h1>",
    );
    h.push_str(&format!("<p>生成时间：{}</p>", escape(&cell(&doc["generated_at"]))));
    h.push_str(&format!("<p>{}</p>", escape(&cell(&doc["about"]))));
    for (key, tables) in copy_sections(doc) {
        let (title, purpose) = section(&key).unwrap_or(("其他信息", "见《个人信息处理规则》"));
        h.push_str(&format!("<h2>{}</h2><p class=\"purpose\">处理目的：{}</p>", escape(title), escape(purpose)));
        if tables.iter().all(|t| t.rows.is_empty()) {
            h.push_str("<p>（无记录）</p>");
        }
        for t in tables.iter().filter(|t| !t.rows.is_empty()) {
            if t.name != key {
                h.push_str(&format!("<h3>{}</h3>", escape(&t.name)));
            }
            h.push_str("<table><thead><tr>");
            for c in &t.header {
                h.push_str(&format!("<th>{}</th>", escape(c)));
            }
            h.push_str("</tr></thead><tbody>");
            for r in &t.rows {
                h.push_str("<tr>");
                for c in r {
                    h.push_str(&format!("<td>{}</td>", escape(c)));
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table>");
        }
    }
    h.push_str("<h2>各项信息的处理目的</h2><table><thead><tr><th>信息</th><th>处理目的</th></tr></thead><tbody>");
    for (item, why) in PURPOSES {
        h.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", escape(item), escape(why)));
    }
    h.push_str("</tbody></table></body></html>");
    h
}

/// The copy laid out as a PDF document (rendered by `documents::pdf` where the fonts are installed): each
/// section's title, its purpose and its tables; cells shortened to 200 characters (the JSON has them whole).
pub fn copy_document(doc: &serde_json::Value) -> documents::pdf::Document {
    use documents::pdf::{Block, Document};
    let short = |c: &String| -> String {
        if c.chars().count() > 200 { format!("{}…", c.chars().take(200).collect::<String>()) } else { c.clone() }
    };
    let mut blocks = vec![
        Block::Title("我的个人信息副本".into()),
        Block::Centered(format!("生成时间：{}", cell(&doc["generated_at"]))),
        Block::Paragraph(cell(&doc["about"])),
    ];
    for (key, tables) in copy_sections(doc) {
        let (title, purpose) = section(&key).unwrap_or(("其他信息", "见《个人信息处理规则》"));
        blocks.push(Block::Heading(title.into()));
        blocks.push(Block::Note(format!("处理目的：{purpose}")));
        if tables.iter().all(|t| t.rows.is_empty()) {
            blocks.push(Block::Text("（无记录）".into()));
        }
        for t in tables.into_iter().filter(|t| !t.rows.is_empty()) {
            let rows = t.rows.iter().map(|r| r.iter().map(short).collect()).collect();
            blocks.push(Block::Table { headers: t.header, rows });
        }
    }
    Document {
        title: "我的个人信息副本".into(),
        author: None,
        footer: Some("《个人信息保护法》第四十五条".into()),
        blocks,
    }
}

/// The files of the copy's ZIP (security.md AT-36): the whole document as JSON, every table as CSV (UTF-8
/// with spreadsheet injection neutralised) and the readable page.
pub fn copy_files(doc: &serde_json::Value) -> Result<Vec<(String, Vec<u8>)>, documents::DocumentError> {
    use documents::sheet::{Cell, Format, write};
    let mut files = vec![
        ("我的个人信息.html".to_string(), copy_html(doc).into_bytes()),
        ("json/my-data.json".to_string(), serde_json::to_vec_pretty(doc).unwrap_or_default()),
    ];
    for (_, tables) in copy_sections(doc) {
        for t in tables {
            let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
            let rows: Vec<Vec<Cell>> =
                t.rows.into_iter().map(|r| r.into_iter().map(|c| Cell::from(Some(c))).collect()).collect();
            files.push((format!("csv/{}.csv", t.name), write(Format::Csv, &t.name, &header, &rows)?));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;
    use time::macros::date;

    use super::*;

    #[test]
    fn requests_are_due_in_thirty_days_and_overdue_the_day_after() {
        assert_eq!(rights_due(date!(2026 - 01 - 10)), date!(2026 - 02 - 09));
        assert_eq!(rights_due(date!(2024 - 02 - 15)), date!(2024 - 03 - 16), "a leap February");
        assert!(!overdue(date!(2026 - 02 - 09), date!(2026 - 02 - 09)), "the due day is in time");
        assert!(overdue(date!(2026 - 02 - 09), date!(2026 - 02 - 10)));
        assert!(CITE_RIGHTS_PERIOD.contains("8.7") && CITE_RIGHTS_PERIOD.contains("第五十条"));
        const { assert!(COPY_LINK_HOURS <= 72) };
    }

    #[test]
    fn correctable_items_have_chinese_names() {
        assert_eq!(field_label("phone"), Some("联系电话"));
        assert_eq!(field_label("stage"), None, "stages follow from the development records");
    }

    #[test]
    fn only_close_relatives_of_the_civil_code_may_ask_for_the_deceased() {
        // 民法典 第一千零四十五条 第二款 names exactly these.
        let names: Vec<&str> = CLOSE_RELATIVES.iter().map(|(_, l)| *l).collect();
        assert_eq!(names, ["配偶", "父母", "子女", "兄弟姐妹", "祖父母、外祖父母", "孙子女、外孙子女"]);
        assert_eq!(relation_label("spouse"), Some("配偶"));
        for not_close in ["nephew", "friend", "colleague", ""] {
            assert_eq!(relation_label(not_close), None, "{not_close}");
        }
        assert!(CITE_POSTHUMOUS.contains("第四十九条") && CITE_POSTHUMOUS.contains("第一千零四十五条"));
    }

    #[test]
    fn sections_become_tables_and_a_readable_escaped_page() {
        let doc = json!({
            "generated_at": "2026-01-01T00:00:00Z", "about": "说明", "purposes": [],
            "person": {"name": "李<红>", "phone": "13800138000", "grants": [{"role": "member"}]},
            "meetings_attended": [{"title": "主题党日", "attendance": "present"}, {"title": "=1+1", "reason": "病"}],
        });
        let sections = copy_sections(&doc);
        assert_eq!(sections.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["person", "meetings_attended"]);
        let meetings = &sections[1].1[0];
        // Columns in the order the keys first appear (serde_json orders an object's keys).
        assert_eq!(meetings.header, ["attendance", "title", "reason"]);
        assert_eq!(meetings.rows[1], ["", "=1+1", "病"]);
        assert_eq!(sections[0].1[1].name, "person.grants");
        let html = copy_html(&doc);
        assert!(html.contains("李&lt;红&gt;") && !html.contains("李<红>"));
        assert!(html.contains("处理目的：组织生活记录"));
        assert!(!html.contains("<script"));
        let files = copy_files(&doc).unwrap();
        let csv = &files.iter().find(|(n, _)| n == "csv/meetings_attended.csv").unwrap().1;
        assert!(String::from_utf8_lossy(csv).contains("'=1+1"), "spreadsheet injection neutralised");
    }
}
