//! PIPL rights (个人信息保护法 第四十五条: access and copy; security.md AT-36): a member downloads every item
//! the platform holds about her, with the purpose each one serves. Each part of the system that stores rows
//! about a person provides them through [`PersonData`]; a test in the web crate finds every table that
//! refers to a person and fails when no provider covers it, so a new table cannot be left out of the copy.

use std::future::Future;
use std::pin::Pin;

use kernel::{Db, DbError};

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
}
