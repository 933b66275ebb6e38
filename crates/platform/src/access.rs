//! Who may do what, where. One table ([`reach`]) decides for every role and capability how far the
//! role reaches; [`Actor`] applies it to the caller's grants. Anything the table does not grant is
//! denied, and a read outside the caller's reach is answered as "not found" (the caller learns nothing
//! about records it may not see).

use time::{Date, OffsetDateTime};

use crate::model::{Grant, Role, path_within};

/// What an action needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// See organizations and their head counts.
    OrgRead,
    /// Create and edit organizations.
    OrgWrite,
    /// See people (masked).
    PersonRead,
    /// Create and edit people.
    PersonWrite,
    /// Create accounts.
    AccountAdmin,
    /// Grant and revoke roles.
    GrantAdmin,
    /// Read and verify the audit log.
    AuditRead,
    /// See meetings, their attendance and the compliance calendar (organizational life). A member reads the
    /// meetings she is invited to through the meeting checks, without this capability.
    MeetingRead,
    /// Plan and record meetings, take attendance, archive.
    MeetingWrite,
    /// See the learning materials published inside the subtree and (later) its learning records. Anyone reads
    /// a material published to an organization she belongs to, through the learning checks, without this.
    LearningRead,
    /// Publish learning materials to the subtree and assign required learning.
    LearningWrite,
    /// Set the learning points of the subtree (which actions earn points, how many, the daily cap). Points
    /// are off until set, and never an assessment input (domain.md FORM).
    PointsConfig,
    /// See transfers of the organizational relationship (组织关系转接) that leave or reach the subtree, and the
    /// 党籍 status of its members with their clocks and flags. A member reads her own through the person checks.
    TransferRead,
    /// Initiate, accept, return and cancel transfers, issue and reissue introduction letters, record receipts
    /// and incoming letters; record status changes, contacts and graduates' retention.
    TransferWrite,
    /// See the notices (通知公告) published in the subtree with all their receipts, and the receipts of her own
    /// subtree for notices published above it. A person reads the notices sent to her without this.
    NoticeRead,
    /// Publish notices to the people of the subtree and withdraw them.
    NoticeWrite,
    /// See the dues (党费) of the subtree's members: fee profiles, the payments ledger, arrears, the yearly
    /// ledger and its export. A member reads her own through the person checks.
    FeeRead,
    /// Set fee profiles, record payments and reversing entries, record exemptions and reductions with the
    /// decisions behind them.
    FeeWrite,
    /// See the member-service requests (党员服务: certificates, hardship help …) filed in the subtree, their
    /// history, the certificates issued and the volunteer hours recorded. A member reads her own without this.
    ServiceRead,
    /// Accept, refuse and complete the subtree's service requests (issuing the certificate), revoke
    /// certificates, confirm or reject volunteer hours.
    ServiceWrite,
    /// Switch the version of the regulations that judges cases (the reported 2026 revision of the 发展党员
    /// 细则, unverified, off by default): system configuration, so the system administrator's.
    RulesConfig,
    /// See the uploads a virus rescan quarantined (their kind, size and hash — never their names or bytes)
    /// and release a false positive, with a reason (security.md AT-21): a security decision, so the
    /// security administrator's (三员分立).
    QuarantineAdmin,
}

/// How far a role reaches for a capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Nowhere,
    /// The subtree of the grant's organization.
    Subtree,
    Everywhere,
}

/// The permission matrix. The three administrators (三员分立) are kept apart: the system administrator
/// runs the structure and accounts but reads no member's record; the security administrator grants
/// roles; the audit administrator reads the log and nothing else.
pub fn reach(role: Role, cap: Capability) -> Reach {
    use Capability::*;
    use Reach::*;
    use Role::*;
    match (role, cap) {
        (SystemAdmin, OrgRead | OrgWrite | AccountAdmin | RulesConfig) => Everywhere,
        (SecurityAdmin, OrgRead | AccountAdmin | GrantAdmin | QuarantineAdmin) => Everywhere,
        (AuditAdmin, AuditRead) => Everywhere,
        (OrgStaff, OrgRead | OrgWrite | PersonRead | PersonWrite | MeetingRead | MeetingWrite) => Subtree,
        (BranchSecretary, OrgRead | PersonRead | PersonWrite | MeetingRead | MeetingWrite) => Subtree,
        (Leader, OrgRead | PersonRead | MeetingRead) => Subtree,
        (OrgStaff | BranchSecretary, LearningRead | LearningWrite) => Subtree,
        (Leader, LearningRead) => Subtree,
        (OrgStaff, PointsConfig) => Subtree,
        (OrgStaff | BranchSecretary, TransferRead | TransferWrite) => Subtree,
        (Leader, TransferRead) => Subtree,
        (OrgStaff | BranchSecretary, NoticeRead | NoticeWrite) => Subtree,
        (Leader, NoticeRead) => Subtree,
        (OrgStaff | BranchSecretary, FeeRead | FeeWrite) => Subtree,
        (Leader, FeeRead) => Subtree,
        (OrgStaff | BranchSecretary, ServiceRead | ServiceWrite) => Subtree,
        (Leader, ServiceRead) => Subtree,
        // A member reaches only her own record, which the person checks handle through `person_id`.
        _ => Nowhere,
    }
}

/// The signed-in caller.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub person_id: Option<i64>,
    /// Grants in force today (terms of office that ended or have not started are left out on load).
    pub grants: Vec<Grant>,
    /// When this session's holder last proved who they are (login or step-up); `None` outside a session.
    pub reauth_at: Option<time::OffsetDateTime>,
}

/// Where a capability reaches for one actor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    /// The subtrees at these paths (possibly none).
    Subtrees(Vec<String>),
}

impl Actor {
    /// Administrators and org staff: shorter idle sessions, a second factor (security.md AT-4, AT-5).
    pub fn is_privileged(&self) -> bool {
        self.grants.iter().any(|g| g.role.is_system_wide() || g.role == Role::OrgStaff)
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    pub fn scope(&self, cap: Capability) -> Scope {
        let mut paths = Vec::new();
        for g in &self.grants {
            match reach(g.role, cap) {
                Reach::Everywhere => return Scope::Everywhere,
                Reach::Subtree => {
                    if let Some(p) = &g.org_path {
                        paths.push(p.clone());
                    }
                }
                Reach::Nowhere => {}
            }
        }
        Scope::Subtrees(paths)
    }

    /// Whether the capability reaches the organization at `path`.
    pub fn can(&self, cap: Capability, path: &str) -> bool {
        match self.scope(cap) {
            Scope::Everywhere => true,
            Scope::Subtrees(roots) => roots.iter().any(|r| path_within(path, r)),
        }
    }

    /// Whether the capability reaches anywhere at all (for menus and system-wide actions).
    pub fn can_somewhere(&self, cap: Capability) -> bool {
        match self.scope(cap) {
            Scope::Everywhere => true,
            Scope::Subtrees(roots) => !roots.is_empty(),
        }
    }

    pub fn can_everywhere(&self, cap: Capability) -> bool {
        self.scope(cap) == Scope::Everywhere
    }

    /// The subtrees of `cap` intersected with the subtree at `within`: what a list below `within` may show.
    pub fn ranges_within(&self, cap: Capability, within: &str) -> Vec<String> {
        match self.scope(cap) {
            Scope::Everywhere => vec![within.to_string()],
            Scope::Subtrees(roots) => {
                let mut out: Vec<String> = Vec::new();
                for r in roots {
                    let cut = if path_within(within, &r) {
                        within.to_string()
                    } else if path_within(&r, within) {
                        r
                    } else {
                        continue;
                    };
                    // Drop ranges already covered by a wider one.
                    if !out.iter().any(|o| path_within(&cut, o)) {
                        out.retain(|o| !path_within(o, &cut));
                        out.push(cut);
                    }
                }
                out.sort();
                out
            }
        }
    }

    /// The organization a signed-in user's pages start from: the widest subtree granted.
    pub fn home_org_path(&self) -> Option<&str> {
        self.grants.iter().filter_map(|g| g.org_path.as_deref()).min_by_key(|p| p.len())
    }
}

/// Whether a grant is in force on `today` (terms of office end on time): the calendar-day form of
/// [`grant_in_force_at`], for lists and reports that speak in dates.
pub fn grant_in_force(starts_on: Option<Date>, ends_on: Option<Date>, today: Date) -> bool {
    starts_on.is_none_or(|s| s <= today) && ends_on.is_none_or(|e| today <= e)
}

/// The citation of the term rule ([`term_starts_at`], [`term_ends_at`]).
pub const TERM_CITATION: &str =
    "《中华人民共和国民法典》第二百零三条第二款（期间的最后一日的截止时间为二十四时）；北京时间（UTC+8）";

/// The instant a grant's term begins: 00:00 Beijing time (UTC+8) on its start date.
pub fn term_starts_at(starts_on: Date) -> OffsetDateTime {
    kernel::dates::beijing_midnight(starts_on)
}

/// The instant a grant's term is over (security.md AT-16). The end date is the term's last day, served
/// whole: a period's last day ends at 24:00 (民法典 art. 203 ¶2), i.e. at 00:00 Beijing time (UTC+8, the
/// time every regulation and document of the Party counts in) on the day after `ends_on`. From that
/// instant on, the grant no longer counts — on the very next request, whatever any cache holds.
pub fn term_ends_at(ends_on: Date) -> OffsetDateTime {
    let next = ends_on.next_day().unwrap_or(ends_on);
    kernel::dates::beijing_midnight(next)
}

/// Whether a grant is in force at the instant `at` (the rule of [`term_starts_at`] / [`term_ends_at`]).
pub fn grant_in_force_at(starts_on: Option<Date>, ends_on: Option<Date>, at: OffsetDateTime) -> bool {
    starts_on.is_none_or(|s| term_starts_at(s) <= at) && ends_on.is_none_or(|e| at < term_ends_at(e))
}

/// The next instant after `at` at which one of these terms begins or ends: until then, the set of
/// grants in force cannot change (a session's cached grants are judged again from there).
pub fn next_term_change(
    terms: impl IntoIterator<Item = (Option<Date>, Option<Date>)>,
    at: OffsetDateTime,
) -> Option<OffsetDateTime> {
    terms
        .into_iter()
        .flat_map(|(s, e)| [s.map(term_starts_at), e.map(term_ends_at)])
        .flatten()
        .filter(|t| *t > at)
        .min()
}

/// What the audit log records of the actor at the time of an entry (security.md AT-24).
impl Actor {
    /// The roles in force, sorted, comma-separated (`branch_secretary,leader`); `member` for an account
    /// of a person without grants, `account` for neither.
    pub fn audit_roles(&self) -> String {
        let mut roles: Vec<&str> = self.grants.iter().map(|g| g.role.code()).collect();
        roles.sort_unstable();
        roles.dedup();
        if roles.is_empty() {
            return if self.person_id.is_some() { "member".into() } else { "account".into() };
        }
        roles.join(",")
    }

    /// The organizations the grants reach: `*` for a system-wide grant, then the subtrees' paths (`/1/3/`),
    /// sorted, comma-separated; `self` when only the person's own record is in reach, `-` when nothing is.
    pub fn audit_scope(&self) -> String {
        let mut scope: Vec<&str> = self
            .grants
            .iter()
            .filter_map(|g| if g.role.is_system_wide() { Some("*") } else { g.org_path.as_deref() })
            .collect();
        scope.sort_unstable();
        scope.dedup();
        if scope.is_empty() {
            return if self.person_id.is_some() { "self".into() } else { "-".into() };
        }
        scope.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: &[(Role, Option<&str>)]) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            display_name: "u".into(),
            person_id: None,
            reauth_at: None,
            grants: grants
                .iter()
                .map(|(role, path)| Grant {
                    role: *role,
                    org_id: None,
                    org_name: None,
                    org_path: path.map(str::to_string),
                    starts_on: None,
                    ends_on: None,
                })
                .collect(),
        }
    }

    #[test]
    fn secretary_reaches_her_branch_only() {
        let a = actor(&[(Role::BranchSecretary, Some("/1/2/4/"))]);
        assert!(a.can(Capability::PersonRead, "/1/2/4/"));
        assert!(a.can(Capability::PersonRead, "/1/2/4/9/"));
        assert!(!a.can(Capability::PersonRead, "/1/2/5/"));
        assert!(!a.can(Capability::PersonRead, "/1/2/"));
        assert!(!a.can(Capability::OrgWrite, "/1/2/4/"));
        assert_eq!(a.ranges_within(Capability::PersonRead, "/1/"), vec!["/1/2/4/".to_string()]);
        assert!(a.ranges_within(Capability::PersonRead, "/1/3/").is_empty());
    }

    #[test]
    fn the_three_administrators_are_separate() {
        let sys = actor(&[(Role::SystemAdmin, None)]);
        assert!(!sys.can_somewhere(Capability::PersonRead));
        assert!(!sys.can_somewhere(Capability::GrantAdmin));
        assert!(!sys.can_somewhere(Capability::AuditRead));
        let audit = actor(&[(Role::AuditAdmin, None)]);
        assert!(audit.can_everywhere(Capability::AuditRead));
        assert!(!audit.can_somewhere(Capability::OrgRead));
        let leader = actor(&[(Role::Leader, Some("/1/"))]);
        assert!(leader.can(Capability::PersonRead, "/1/5/"));
        assert!(!leader.can(Capability::PersonWrite, "/1/5/"));
    }

    #[test]
    fn meetings_are_written_by_secretaries_and_staff_and_read_by_leaders() {
        let sec = actor(&[(Role::BranchSecretary, Some("/1/2/4/"))]);
        assert!(sec.can(Capability::MeetingWrite, "/1/2/4/9/"));
        assert!(!sec.can(Capability::MeetingRead, "/1/2/5/"));
        let leader = actor(&[(Role::Leader, Some("/1/"))]);
        assert!(leader.can(Capability::MeetingRead, "/1/2/4/"));
        assert!(!leader.can_somewhere(Capability::MeetingWrite));
        assert!(actor(&[(Role::OrgStaff, Some("/1/2/"))]).can(Capability::MeetingWrite, "/1/2/4/"));
        assert!(!actor(&[(Role::SystemAdmin, None)]).can_somewhere(Capability::MeetingRead));
        assert!(!actor(&[(Role::Member, None)]).can_somewhere(Capability::MeetingRead));
    }

    #[test]
    fn learning_is_published_by_secretaries_and_staff_and_read_by_leaders() {
        let sec = actor(&[(Role::BranchSecretary, Some("/1/2/4/"))]);
        assert!(sec.can(Capability::LearningWrite, "/1/2/4/"));
        assert!(!sec.can(Capability::LearningWrite, "/1/2/"));
        let leader = actor(&[(Role::Leader, Some("/1/"))]);
        assert!(leader.can(Capability::LearningRead, "/1/2/4/"));
        assert!(!leader.can_somewhere(Capability::LearningWrite));
        assert!(actor(&[(Role::OrgStaff, Some("/1/2/"))]).can(Capability::LearningWrite, "/1/2/4/"));
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin, Role::Member] {
            assert!(!actor(&[(role, None)]).can_somewhere(Capability::LearningRead));
        }
    }

    #[test]
    fn transfers_are_handled_by_secretaries_and_staff_and_read_by_leaders() {
        let sec = actor(&[(Role::BranchSecretary, Some("/1/2/4/"))]);
        assert!(sec.can(Capability::TransferWrite, "/1/2/4/"));
        assert!(!sec.can(Capability::TransferRead, "/1/2/5/"));
        let leader = actor(&[(Role::Leader, Some("/1/"))]);
        assert!(leader.can(Capability::TransferRead, "/1/2/4/"));
        assert!(!leader.can_somewhere(Capability::TransferWrite));
        assert!(actor(&[(Role::OrgStaff, Some("/1/2/"))]).can(Capability::TransferWrite, "/1/2/4/"));
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin, Role::Member] {
            assert!(!actor(&[(role, None)]).can_somewhere(Capability::TransferRead));
        }
    }

    #[test]
    fn fees_are_kept_by_secretaries_and_staff_and_read_by_leaders() {
        let sec = actor(&[(Role::BranchSecretary, Some("/1/2/4/"))]);
        assert!(sec.can(Capability::FeeWrite, "/1/2/4/"));
        assert!(!sec.can(Capability::FeeRead, "/1/2/5/"));
        let leader = actor(&[(Role::Leader, Some("/1/"))]);
        assert!(leader.can(Capability::FeeRead, "/1/2/4/"));
        assert!(!leader.can_somewhere(Capability::FeeWrite));
        assert!(actor(&[(Role::OrgStaff, Some("/1/2/"))]).can(Capability::FeeWrite, "/1/2/4/"));
        for role in [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin, Role::Member] {
            assert!(!actor(&[(role, None)]).can_somewhere(Capability::FeeRead));
        }
    }

    #[test]
    fn overlapping_grants_merge() {
        let a = actor(&[(Role::Leader, Some("/1/2/")), (Role::BranchSecretary, Some("/1/2/4/"))]);
        assert_eq!(a.ranges_within(Capability::PersonRead, "/1/"), vec!["/1/2/".to_string()]);
    }

    #[test]
    fn a_term_ends_at_midnight_beijing_time_after_its_last_day() {
        use time::macros::{date, datetime};
        let end = date!(2026 - 11 - 23);
        // 00:00 on the 24th in Beijing is 16:00 UTC on the 23rd.
        assert_eq!(term_ends_at(end), datetime!(2026-11-23 16:00 UTC));
        assert!(grant_in_force_at(None, Some(end), datetime!(2026-11-23 15:59:59 UTC)));
        assert!(!grant_in_force_at(None, Some(end), datetime!(2026-11-23 16:00 UTC)));
        assert!(!grant_in_force_at(None, Some(end), datetime!(2026-11-24 03:00 UTC)));
        // Starts at 00:00 Beijing time on the start date.
        let start = date!(2026 - 12 - 01);
        assert!(!grant_in_force_at(Some(start), None, datetime!(2026-11-30 15:59:59 UTC)));
        assert!(grant_in_force_at(Some(start), None, datetime!(2026-11-30 16:00 UTC)));
        // The next change of either term.
        let at = datetime!(2026-11-20 00:00 UTC);
        assert_eq!(next_term_change([(None, Some(end)), (Some(start), None)], at), Some(term_ends_at(end)));
        assert_eq!(next_term_change([(None, None)], at), None);
        assert!(TERM_CITATION.contains("第二百零三条"));
    }

    #[test]
    fn terms_of_office_end_on_time() {
        use time::macros::date;
        assert!(grant_in_force(None, Some(date!(2026 - 11 - 23)), date!(2026 - 11 - 23)));
        assert!(!grant_in_force(None, Some(date!(2026 - 11 - 22)), date!(2026 - 11 - 23)));
        assert!(!grant_in_force(Some(date!(2026 - 11 - 24)), None, date!(2026 - 11 - 23)));
    }
}
