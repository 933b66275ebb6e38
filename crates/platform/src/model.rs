//! The types of the "1": organizations, people, accounts and grants, parsed at the boundary.
//! Code lists are stored as stable English codes (what the API speaks) and shown with Chinese labels.

use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

/// A closed code list: stable snake_case code for storage and the API, a Chinese label for people.
/// Exported for the applications' own code lists (life, learning), so there is one definition.
#[macro_export]
macro_rules! code_list {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.code() == s || v.label() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.label()) }
        }
    };
}

code_list! {
    /// The level of a Party organization.
    OrgKind {
        Committee = "committee", "党委";
        CollegeCommittee = "college_committee", "二级党委";
        GeneralBranch = "general_branch", "党总支";
        Branch = "branch", "党支部";
        Group = "group", "党小组";
    }
}

code_list! {
    /// Whose organization it is.
    OrgCategory {
        Student = "student", "学生";
        Faculty = "faculty", "教工";
        Retired = "retired", "离退休";
        Mixed = "mixed", "混合";
    }
}

code_list! {
    /// The five stages from applicant to full member (发展党员工作细则 第二至五章).
    Stage {
        Applicant = "applicant", "入党申请人";
        Activist = "activist", "入党积极分子";
        Candidate = "candidate", "发展对象";
        Probationary = "probationary", "预备党员";
        Full = "full", "正式党员";
    }
}

code_list! {
    PersonCategory {
        Student = "student", "学生";
        Faculty = "faculty", "教师";
        Staff = "staff", "职工";
        Retired = "retired", "离退休";
    }
}

code_list! {
    Gender {
        Male = "male", "男";
        Female = "female", "女";
    }
}

code_list! {
    /// 党籍/组织关系 status besides the stage (全国党员管理信息系统: 党籍状态, 失联, 流动).
    Status {
        Normal = "normal", "正常";
        Floating = "floating", "流动党员";
        Abroad = "abroad", "出国（境）";
        LostContact = "lost_contact", "失联";
        Suspended = "suspended", "停止党籍";
        Deceased = "deceased", "死亡";
        Left = "left", "出党";
        /// The relationship moved to an organization outside the university and its receipt came back
        /// (crates/affairs, transfers): the record stays for its history.
        TransferredOut = "transferred_out", "已转出";
    }
}

code_list! {
    /// Roles exactly as api-contract.md names them.
    Role {
        SystemAdmin = "system_admin", "系统管理员";
        SecurityAdmin = "security_admin", "安全管理员";
        AuditAdmin = "audit_admin", "审计管理员";
        OrgStaff = "org_staff", "组织员";
        BranchSecretary = "branch_secretary", "支部书记";
        Leader = "leader", "校领导";
        Member = "member", "党员";
    }
}

impl Role {
    /// The three separated administrator roles (三员) hold no organization scope.
    pub fn is_system_wide(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }
}

impl OrgKind {
    /// Which kinds may sit directly under this one.
    pub fn allows_child(self, child: OrgKind) -> bool {
        use OrgKind::*;
        match self {
            Committee => matches!(child, Committee | CollegeCommittee | GeneralBranch | Branch),
            CollegeCommittee => matches!(child, GeneralBranch | Branch),
            GeneralBranch => matches!(child, Branch),
            Branch => matches!(child, Group),
            Group => false,
        }
    }

    /// People belong to branches (and their groups); committees hold none directly.
    pub fn holds_people(self) -> bool {
        matches!(self, OrgKind::Branch | OrgKind::Group | OrgKind::GeneralBranch)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrgRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: String,
    pub category: String,
    pub path: String,
    pub depth: i32,
    pub secretary: Option<String>,
    pub contact_phone: Option<String>,
    pub established_on: Option<Date>,
}

/// An organization as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Org {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: OrgKind,
    pub kind_label: &'static str,
    pub category: OrgCategory,
    pub category_label: &'static str,
    pub depth: i32,
    pub secretary: Option<String>,
    pub contact_phone: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub established_on: Option<Date>,
    #[serde(skip)]
    pub path: String,
}

impl Org {
    pub fn from_row(r: OrgRow) -> Org {
        let kind = OrgKind::parse(&r.kind).unwrap_or(OrgKind::Branch);
        let category = OrgCategory::parse(&r.category).unwrap_or(OrgCategory::Mixed);
        Org {
            id: r.id,
            parent_id: r.parent_id,
            name: r.name,
            short_name: r.short_name,
            kind,
            kind_label: kind.label(),
            category,
            category_label: category.label(),
            depth: r.depth,
            secretary: r.secretary,
            contact_phone: r.contact_phone,
            established_on: r.established_on,
            path: r.path,
        }
    }

    /// The ids on the path from the root down to this organization (inclusive).
    pub fn lineage(&self) -> Vec<i64> {
        path_ids(&self.path)
    }
}

pub fn path_ids(path: &str) -> Vec<i64> {
    path.split('/').filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect()
}

/// Whether `path` lies in the subtree rooted at `root` (both materialised paths ending in '/').
pub fn path_within(path: &str, root: &str) -> bool {
    path.starts_with(root)
}

/// The path of the organization directly below `root` that contains `path`, or `root` itself ("/1/2/",
/// "/1/2/7/9/" → "/1/2/7/"): where a subtree's figures roll up one level down.
pub fn child_of(root: &str, path: &str) -> String {
    match path.strip_prefix(root).and_then(|rest| rest.split('/').next()).filter(|s| !s.is_empty()) {
        Some(seg) => format!("{root}{seg}/"),
        None => root.to_string(),
    }
}

/// The exclusive upper bound of the subtree range that starts at `path` ("/1/5/" → "/1/50").
pub fn subtree_end(path: &str) -> String {
    let mut end = path.trim_end_matches('/').to_string();
    end.push('0');
    end
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PersonRow {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub name: String,
    pub gender: String,
    pub ethnicity: Option<String>,
    pub birth_date: Date,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub category: String,
    pub person_no: Option<String>,
    pub stage: String,
    pub status: String,
    pub party_post: Option<String>,
    pub job_title: Option<String>,
    pub applied_on: Option<Date>,
    pub activist_on: Option<Date>,
    pub candidate_on: Option<Date>,
    pub admitted_on: Option<Date>,
    pub converted_on: Option<Date>,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub version: i64,
}

/// A person as lists, pages and the API show them: sensitive items masked.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Person {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub name: String,
    pub gender: Gender,
    pub ethnicity: Option<String>,
    #[schema(value_type = String, format = Date, example = "1999-01-01")]
    pub birth_date: Date,
    pub native_place: Option<String>,
    pub education: Option<String>,
    pub category: PersonCategory,
    /// Student or staff number.
    pub person_no: Option<String>,
    pub stage: Stage,
    pub stage_label: &'static str,
    pub status: Status,
    pub party_post: Option<String>,
    pub job_title: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub applied_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub activist_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub candidate_on: Option<Date>,
    /// Admitted as a probationary member (branch meeting).
    #[schema(value_type = Option<String>, format = Date)]
    pub admitted_on: Option<Date>,
    /// Converted to full member.
    #[schema(value_type = Option<String>, format = Date)]
    pub converted_on: Option<Date>,
    /// Masked, e.g. `330106********123X`.
    pub id_number: String,
    /// Masked, e.g. `138****8000`.
    pub phone: Option<String>,
    pub version: i64,
    #[serde(skip)]
    pub org_path: String,
}

impl Person {
    pub fn from_row(r: PersonRow, org_name: String) -> Person {
        let stage = Stage::parse(&r.stage).unwrap_or(Stage::Applicant);
        Person {
            id: r.id,
            org_id: r.org_id,
            org_name,
            name: r.name,
            gender: Gender::parse(&r.gender).unwrap_or(Gender::Male),
            ethnicity: r.ethnicity,
            birth_date: r.birth_date,
            native_place: r.native_place,
            education: r.education,
            category: PersonCategory::parse(&r.category).unwrap_or(PersonCategory::Student),
            person_no: r.person_no,
            stage,
            stage_label: stage.label(),
            status: Status::parse(&r.status).unwrap_or(Status::Normal),
            party_post: r.party_post,
            job_title: r.job_title,
            applied_on: r.applied_on,
            activist_on: r.activist_on,
            candidate_on: r.candidate_on,
            admitted_on: r.admitted_on,
            converted_on: r.converted_on,
            id_number: r.id_number_masked,
            phone: r.phone_masked,
            version: r.version,
            org_path: r.org_path,
        }
    }
}

/// One grant of a role, with the organization it reaches (None for the system-wide roles).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Grant {
    pub role: Role,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    #[serde(skip)]
    pub org_path: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub starts_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<Date>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub person_id: Option<i64>,
    pub active: bool,
    pub failed_logins: i64,
    pub locked_until: Option<time::OffsetDateTime>,
}

/// Head counts of a subtree by stage and category.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    pub total: i64,
    pub by_stage: Vec<CountItem>,
    pub by_category: Vec<CountItem>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CountItem {
    pub code: &'static str,
    pub label: &'static str,
    pub n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_roll_up_to_the_organization_directly_below() {
        assert_eq!(child_of("/1/2/", "/1/2/7/9/"), "/1/2/7/");
        assert_eq!(child_of("/1/2/", "/1/2/"), "/1/2/");
        assert_eq!(child_of("/", "/1/2/"), "/1/");
    }

    #[test]
    fn subtree_range_excludes_siblings_with_longer_ids() {
        let root = "/1/5/";
        let end = subtree_end(root);
        for inside in ["/1/5/", "/1/5/9/", "/1/5/123/4/"] {
            assert!(inside >= root && inside < end.as_str(), "{inside}");
        }
        for outside in ["/1/50/", "/1/51/", "/1/6/", "/1/4/"] {
            assert!(!(outside >= root && outside < end.as_str()), "{outside}");
        }
        assert_eq!(path_ids("/1/5/23/"), vec![1, 5, 23]);
    }

    #[test]
    fn code_lists_parse_code_or_label() {
        assert_eq!(Stage::parse("probationary"), Some(Stage::Probationary));
        assert_eq!(Stage::parse("预备党员"), Some(Stage::Probationary));
        assert_eq!(OrgKind::parse("nonsense"), None);
        assert!(OrgKind::CollegeCommittee.allows_child(OrgKind::Branch));
        assert!(!OrgKind::Group.allows_child(OrgKind::Branch));
    }
}
