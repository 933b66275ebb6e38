//! The Chinese web UI: server-rendered askama pages in one frame (top bar, left navigation that
//! becomes a drawer on phones, a bottom tab bar for members). Every state change is a POST form that
//! works without JavaScript; htmx, when embedded, only boosts navigation.

mod account;
mod banks;
mod checkin;
mod committees;
mod development;
mod exams;
mod fees;
mod forms;
mod home;
mod learnform;
mod learning;
mod life;
mod meeting_plans;
mod mfa;
mod notices;
mod orgs;
mod partyclass;
mod people;
mod points;
mod portraits;
mod privacy;
mod quarantine;
mod register;
mod services;
mod session;
mod status;
mod system;
mod transfers;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use platform::Capability;
use platform::model::Role;

use crate::AppState;
use crate::auth::Caller;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home_get))
        .route("/login", get(session::login_get).post(session::login_post))
        .route("/logout", post(session::logout_post))
        .route("/login/mfa", get(mfa::login_mfa_get).post(mfa::login_mfa_post))
        .route("/login/mfa/enrol", post(mfa::login_mfa_enrol_post))
        .route("/login/mfa/confirm", post(mfa::login_mfa_confirm_post))
        .route("/account/password", get(session::password_get).post(session::password_post))
        .route("/account/mfa", get(mfa::account_mfa_get))
        .route("/account/mfa/enrol", post(mfa::account_mfa_enrol_post))
        .route("/account/mfa/confirm", post(mfa::account_mfa_confirm_post))
        .route("/reauth", get(mfa::reauth_get).post(mfa::reauth_post))
        .route("/orgs", get(orgs::orgs_get))
        .route("/orgs/{id}", get(orgs::org_get))
        .route("/orgs/{id}/new", get(orgs::org_new_get).post(orgs::org_new_post))
        .route("/people", get(people::people_get))
        .route("/people/new", get(people::person_new_get).post(people::person_new_post))
        .route("/people/import", get(register::people_import_get).post(register::people_import_post))
        .route("/people/import/{id}", get(register::import_job_get))
        .route("/people/import/{id}/status", get(register::import_job_status_get))
        .route("/people/import/{id}/confirm", post(register::import_job_confirm_post))
        .route("/people/import/{id}/retry", post(register::import_job_retry_post))
        .route("/people/import/template", get(register::people_import_template_get))
        .route("/people/export", get(register::people_export_get))
        .route("/people/{id}", get(people::person_get))
        .route("/people/{id}/reveal", post(people::person_reveal_post))
        .route("/account/access-log", get(people::access_log_get))
        .route("/account/my-data", get(people::my_data_get))
        .route("/account/privacy", get(privacy::mine_get).post(privacy::mine_post))
        .route("/account/privacy/copy", post(privacy::copy_post))
        .route("/account/privacy/arrangement", post(privacy::arrangement_post))
        .route("/privacy/requests", get(privacy::queue_get))
        .route("/people/{id}/privacy-request", get(privacy::for_get).post(privacy::for_post))
        .route("/privacy/requests/{id}", post(privacy::decide_post))
        .route("/people/{id}/edit", get(people::person_edit_get).post(people::person_edit_post))
        .route("/admin/users", get(system::users_get))
        .route("/admin/users/new", get(system::user_new_get).post(system::user_new_post))
        .route("/admin/users/{id}/mfa-reset", post(system::user_mfa_reset_post))
        .route("/admin/users/{id}/disable", post(system::user_disable_post))
        .route("/admin/users/{id}/enable", post(system::user_enable_post))
        .route("/admin/users/{id}/shared-review", post(system::user_shared_review_post))
        .route("/admin/users/{id}/grants", get(system::grants_get).post(system::grant_add_post))
        .route("/admin/users/{id}/grants/{grant_id}/withdraw", post(system::grant_withdraw_post))
        .route("/account/phone", get(account::phone_get).post(account::phone_post))
        .route("/audit", get(system::audit_get).post(system::audit_verify_post))
        .route("/admin/quarantine", get(quarantine::quarantine_get))
        .route("/admin/quarantine/{id}/release", post(quarantine::release_post))
        .route("/admin/status", get(status::status_get))
        .route("/admin/status/maintenance", post(status::maintenance_post))
        .route("/life", get(life::life_get))
        .route("/life/compliance", get(life::life_compliance_get))
        .route("/orgs/{id}/meetings", get(life::meetings_get))
        .route("/orgs/{id}/meetings/new", get(life::meeting_new_get).post(life::meeting_new_post))
        .route("/orgs/{id}/meeting-plans/new", get(meeting_plans::new_get).post(meeting_plans::new_post))
        .route("/meeting-plans/{id}", get(meeting_plans::plan_get))
        .route("/meeting-plans/{id}/cancel", post(meeting_plans::cancel_post))
        .route("/orgs/{id}/compliance", get(life::compliance_get))
        .route("/orgs/{id}/committee", get(committees::committee_get))
        .route("/orgs/{id}/committee/election", post(committees::election_post))
        .route("/orgs/{id}/committee/term", post(committees::term_post))
        .route("/orgs/{id}/committee/postpone", post(committees::postpone_post))
        .route("/meetings/{id}", get(life::meeting_get))
        .route("/meetings/{id}/edit", get(life::meeting_edit_get).post(life::meeting_edit_post))
        .route("/meetings/{id}/attendance", post(life::meeting_attendance_post))
        .route("/meetings/{id}/leave", post(life::meeting_leave_post))
        .route("/meetings/{id}/archive", post(life::meeting_archive_post))
        .route("/meetings/{id}/attachments", post(life::minutes_file_post))
        .route("/meetings/{id}/attachments/{file_id}", get(life::minutes_file_get))
        .route("/meetings/{id}/attachments/{file_id}/delete", post(life::minutes_file_delete_post))
        .route("/meetings/{id}/checkin", get(checkin::checkin_screen_get))
        .route("/checkin/{id}", get(checkin::checkin_get).post(checkin::checkin_post))
        .route("/notices", get(notices::notices_get))
        .route("/notices/new", get(notices::new_get).post(notices::new_post))
        .route("/notices/{id}", get(notices::notice_get))
        .route("/notices/{id}/read", post(notices::read_post))
        .route("/notices/{id}/withdraw", post(notices::withdraw_post))
        .route("/notices/{id}/unread", get(notices::unread_get))
        .route("/learning", get(learning::learning_get))
        .route("/learning/new", get(learning::material_new_get).post(learning::material_new_post))
        .route("/learning/banks", get(banks::banks_get).post(banks::banks_post))
        .route("/learning/banks/{id}", get(banks::bank_get))
        .route("/learning/banks/{id}/questions", post(banks::question_add_post))
        .route("/learning/banks/{id}/exams", post(banks::exam_new_post))
        .route("/learning/banks/{id}/stats", get(banks::bank_stats_get))
        .route("/learning/questions/{id}/edit", post(banks::question_edit_post))
        .route("/learning/questions/{id}/retire", post(banks::question_retire_post))
        .route("/learning/classes", get(partyclass::classes_get))
        .route("/learning/classes/new", get(partyclass::class_new_get).post(partyclass::class_new_post))
        .route("/learning/classes/{id}", get(partyclass::class_get))
        .route("/learning/classes/{id}/join", post(partyclass::class_join_post))
        .route("/learning/classes/{id}/finish", post(partyclass::class_finish_post))
        .route("/learning/points", get(points::points_get))
        .route("/learning/points/optin", post(points::optin_post))
        .route("/orgs/{id}/points", get(points::board_get).post(points::board_post))
        .route("/orgs/{id}/points-rules", get(points::rules_get).post(points::rules_post))
        .route("/learning/exams", get(exams::exams_get))
        .route("/learning/exams/{id}", get(exams::exam_get))
        .route("/learning/exams/{id}/start", post(exams::exam_start_post))
        .route("/learning/attempts/{id}", get(exams::attempt_get))
        .route("/learning/attempts/{id}/submit", post(exams::attempt_submit_post))
        .route("/learning/attempts/{id}/check", post(exams::attempt_check_post))
        .route("/learning/portrait", get(portraits::mine_get))
        .route("/learning/portraits", get(portraits::home_org_get))
        .route("/learning/portraits/people/{id}", get(portraits::person_get))
        .route("/learning/portraits/orgs/{id}", get(portraits::org_get))
        .route("/learning/{id}", get(learning::material_get))
        .route("/learning/{id}/edit", get(learning::material_edit_get).post(learning::material_edit_post))
        .route("/learning/{id}/withdraw", get(learning::material_withdraw_get).post(learning::material_withdraw_post))
        .route("/learning/{id}/file", get(learning::material_file_get))
        .route("/transfers", get(transfers::transfers_get))
        .route("/transfers/new", get(transfers::new_get).post(transfers::new_post))
        .route("/transfers/incoming", get(transfers::incoming_get).post(transfers::incoming_post))
        .route("/transfers/{id}", get(transfers::transfer_get))
        .route("/transfers/{id}/accept", post(transfers::accept_post))
        .route("/transfers/{id}/return", post(transfers::return_post))
        .route("/transfers/{id}/cancel", post(transfers::cancel_post))
        .route("/transfers/{id}/receipt", post(transfers::receipt_post))
        .route("/transfers/{id}/reissue", post(transfers::reissue_post))
        .route("/transfers/{id}/letter", get(transfers::letter_get))
        .route("/people/{id}/status", get(transfers::card_get).post(transfers::status_post))
        .route("/people/{id}/development", get(development::person_get).post(development::person_post))
        .route("/people/{id}/development/steps/{step_id}/attachments", post(development::attach_post))
        .route("/development", get(development::todo_get))
        .route("/admin/development-rules", get(development::rules_get).post(development::rules_post))
        .route("/admin/development-rules/calendar", post(development::calendar_post))
        .route("/people/{id}/contacts", post(transfers::contact_post))
        .route("/people/{id}/retention", post(transfers::retain_post))
        .route("/people/{id}/retention/end", post(transfers::retain_end_post))
        .route("/status-board", get(transfers::board_get))
        .route("/verify/letters/{code}", get(transfers::verify_get))
        .route("/services", get(services::services_get).post(services::services_post))
        .route("/services/calendar", post(services::calendar_post))
        .route("/services/calendar/revoke", post(services::calendar_revoke_post))
        .route("/services/hours", get(services::hours_get).post(services::hours_post))
        .route("/services/hours/{id}/{decision}", post(services::hours_decide_post))
        .route("/services/{id}", get(services::request_get))
        .route("/services/{id}/certificate", get(services::certificate_get))
        .route("/services/{id}/{action}", post(services::request_action_post))
        .route("/certificates/{number}/revoke", post(services::revoke_post))
        .route("/verify/certificates/{number}", get(services::verify_get))
        .route("/calendar/{file}", get(services::calendar_get))
        .route("/fees", get(fees::fees_home))
        .route("/orgs/{id}/fees", get(fees::ledger_get))
        .route("/orgs/{id}/fees/import", post(fees::import_post))
        .route("/orgs/{id}/fees/export", get(fees::ledger_export_get))
        .route("/people/{id}/fees", get(fees::account_get))
        .route("/people/{id}/fees/profile", get(fees::profile_get).post(fees::profile_post))
        .route("/people/{id}/fees/pay", get(fees::pay_get).post(fees::pay_post))
        .route("/people/{id}/fees/reduction", get(fees::reduction_get).post(fees::reduction_post))
}

/// One entry of the left navigation.
pub struct NavItem {
    pub key: &'static str,
    pub href: String,
    pub label: &'static str,
    pub icon: &'static str,
}

pub struct NavGroup {
    pub title: &'static str,
    pub items: Vec<NavItem>,
}

/// What the frame around every page needs.
pub struct Chrome {
    pub user: String,
    pub roles: String,
    pub nav: Vec<NavGroup>,
    pub active: &'static str,
    pub mfa_off: bool,
    pub htmx: bool,
    pub request_id: String,
    /// Members and applicants without a staff role get the phone tab bar.
    pub member_tabs: bool,
    /// The notice of maintenance mode while it is on (every page shows it).
    pub maintenance: Option<String>,
    /// This page's anti-forgery token: the hidden `csrf` field of every form, and the `X-CSRF-Token`
    /// header htmx and scripts send ([`crate::csrf`]).
    pub csrf: String,
}

pub const ICON_HOME: &str = "M3 10.5 12 3l9 7.5V21h-6v-6H9v6H3z";
pub const ICON_TREE: &str = "M10 3h4v4h-4zM4 17h4v4H4zm6 0h4v4h-4zm6 0h4v4h-4zM12 7v5M6 17v-3h12v3M12 12v5";
pub const ICON_PEOPLE: &str =
    "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 10c0-4 3-6 7-6s7 2 7 6M17 11a3 3 0 1 0 0-6M19 21c0-3-1-5-3-5.5";
pub const ICON_KEY: &str = "M14 10a5 5 0 1 1-2-4l8-3v4l-2 1v2h-2v2h-2z";
pub const ICON_LOG: &str = "M5 3h11l3 3v15H5zM8 9h8M8 13h8M8 17h5";
pub const ICON_CALENDAR: &str = "M4 6h16v15H4zM4 10h16M8 3v5M16 3v5M8 14h2M14 14h2M8 17h2";
pub const ICON_CHECK: &str = "M4 6h16v15H4zM4 10h16M8 3v5M16 3v5M8.5 15.5l2.5 2.5 5-5";
pub const ICON_PULSE: &str = "M3 12h4l3-7 4 14 3-7h4";
pub const ICON_BOOK: &str = "M4 19V5a2 2 0 0 1 2-2h14v15H6a2 2 0 0 0-2 2 2 2 0 0 0 2 2h14M8 7h8M8 11h6";
pub const ICON_SWAP: &str = "M4 8h13l-4-4M20 16H7l4 4";
pub const ICON_SHIELD: &str = "M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6zM9 12l2 2 4-4";
pub const ICON_FLAG: &str = "M5 21V4M5 4h11l-2 4 2 4H5";
pub const ICON_BELL: &str = "M6 17V11a6 6 0 1 1 12 0v6l2 2H4zM10 21h4";
pub const ICON_COIN: &str = "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9 8l3 4 3-4M8.5 12h7M8.5 15h7M12 12v6";
pub const ICON_USER: &str = "M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm-8 9c0-4.5 3.5-7 8-7s8 2.5 8 7";

/// The phone tab bar's destinations, in this order; the account's other pages are linked from 我的档案.
const TAB_KEYS: [&str; 4] = ["home", "life", "learning", "me"];

impl Chrome {
    /// The bottom tab bar of members on a phone: at most four destinations, so each stays a thumb wide.
    pub fn tabs(&self) -> Vec<&NavItem> {
        let items: Vec<&NavItem> = self.nav.iter().flat_map(|g| g.items.iter()).collect();
        TAB_KEYS.iter().filter_map(|k| items.iter().find(|i| i.key == *k).copied()).collect()
    }

    pub fn new(state: &AppState, caller: &Caller, active: &'static str) -> Chrome {
        let actor = &caller.actor;
        let mut platform_items = vec![NavItem { key: "home", href: "/".into(), label: "首页", icon: ICON_HOME }];
        if actor.can_somewhere(Capability::OrgRead) {
            platform_items.push(NavItem { key: "orgs", href: "/orgs".into(), label: "组织", icon: ICON_TREE });
        }
        if actor.can_somewhere(Capability::PersonRead) {
            platform_items.push(NavItem { key: "people", href: "/people".into(), label: "党员", icon: ICON_PEOPLE });
        }
        if actor.can_somewhere(Capability::PersonWrite) {
            let href = "/privacy/requests".into();
            platform_items.push(NavItem { key: "privacy_queue", href, label: "个人信息请求", icon: ICON_LOG });
        }
        let mut nav = vec![NavGroup { title: "平台", items: platform_items }];
        if actor.can_somewhere(Capability::PersonRead) {
            let item =
                NavItem { key: "development", href: "/development".into(), label: "发展党员", icon: ICON_FLAG };
            nav.push(NavGroup { title: "党务管理", items: vec![item] });
        }
        if actor.can_somewhere(Capability::TransferRead) {
            let items = [
                NavItem { key: "transfers", href: "/transfers".into(), label: "组织关系转接", icon: ICON_SWAP },
                NavItem { key: "status", href: "/status-board".into(), label: "党籍状态提醒", icon: ICON_FLAG },
            ];
            match nav.iter_mut().find(|g| g.title == "党务管理") {
                Some(g) => g.items.extend(items),
                None => nav.push(NavGroup { title: "党务管理", items: Vec::from(items) }),
            }
        }
        if actor.can_somewhere(Capability::FeeRead) {
            let item = NavItem { key: "fees", href: "/fees".into(), label: "党费", icon: ICON_COIN };
            match nav.iter_mut().find(|g| g.title == "党务管理") {
                Some(g) => g.items.push(item),
                None => nav.push(NavGroup { title: "党务管理", items: vec![item] }),
            }
        }
        let mut life_items = if actor.can_somewhere(Capability::MeetingRead) {
            vec![
                NavItem { key: "life", href: "/life".into(), label: "三会一课", icon: ICON_CALENDAR },
                NavItem { key: "compliance", href: "/life/compliance".into(), label: "合规日历", icon: ICON_CHECK },
            ]
        } else if actor.person_id.is_some() {
            vec![NavItem { key: "life", href: "/life".into(), label: "组织生活", icon: ICON_CALENDAR }]
        } else {
            Vec::new()
        };
        if actor.person_id.is_some() || actor.can_somewhere(Capability::NoticeRead) {
            life_items
                .push(NavItem { key: "notices", href: "/notices".into(), label: "通知公告", icon: ICON_BELL });
        }
        if actor.person_id.is_some() || actor.can_somewhere(Capability::ServiceRead) {
            life_items
                .push(NavItem { key: "services", href: "/services".into(), label: "党员服务", icon: ICON_USER });
            life_items.push(NavItem {
                key: "volunteer",
                href: "/services/hours".into(),
                label: "志愿服务",
                icon: ICON_CHECK,
            });
        }
        if !life_items.is_empty() {
            nav.push(NavGroup { title: "组织生活", items: life_items });
        }
        if actor.person_id.is_some() || actor.can_somewhere(Capability::LearningRead) {
            let item = NavItem { key: "learning", href: "/learning".into(), label: "学习教育", icon: ICON_BOOK };
            nav.push(NavGroup { title: "学习教育", items: vec![item] });
        }
        let mut system = Vec::new();
        if actor.can_somewhere(Capability::AccountAdmin) {
            system.push(NavItem { key: "users", href: "/admin/users".into(), label: "账号", icon: ICON_KEY });
        }
        if actor.can_somewhere(Capability::RulesConfig) {
            let href = "/admin/development-rules".into();
            system.push(NavItem { key: "development_rules", href, label: "规则版本", icon: ICON_FLAG });
        }
        if actor.can_somewhere(Capability::QuarantineAdmin) {
            let item =
                NavItem {
                    key: "quarantine", href: "/admin/quarantine".into(), label: "隔离文件", icon: ICON_SHIELD
                };
            system.push(item);
        }
        if actor.can_somewhere(Capability::AuditRead) {
            system.push(NavItem { key: "audit", href: "/audit".into(), label: "审计", icon: ICON_LOG });
        }
        if ops::status::may_view(actor) {
            system
                .push(NavItem { key: "status", href: "/admin/status".into(), label: "系统状态", icon: ICON_PULSE });
        }
        if !system.is_empty() {
            nav.push(NavGroup { title: "系统", items: system });
        }
        let mut mine = Vec::new();
        if let Some(pid) = actor.person_id {
            mine.push(NavItem { key: "me", href: format!("/people/{pid}"), label: "我的档案", icon: ICON_USER });
            mine.push(NavItem {
                key: "my_fees",
                href: format!("/people/{pid}/fees"),
                label: "我的党费",
                icon: ICON_COIN,
            });
            mine.push(NavItem {
                key: "access_log",
                href: "/account/access-log".into(),
                label: "谁查看了我的信息",
                icon: ICON_LOG,
            });
            let href = "/account/privacy".into();
            mine.push(NavItem { key: "privacy", href, label: "我的个人信息", icon: ICON_USER });
        }
        mine.push(NavItem { key: "password", href: "/account/password".into(), label: "修改密码", icon: ICON_KEY });
        mine.push(NavItem { key: "mfa", href: "/account/mfa".into(), label: "二次认证", icon: ICON_KEY });
        nav.push(NavGroup { title: "我的", items: mine });
        let roles: Vec<String> = actor
            .grants
            .iter()
            .map(|g| match &g.org_name {
                Some(o) => format!("{}·{}", o, g.role.label()),
                None => g.role.label().to_string(),
            })
            .collect();
        let is_admin = actor.grants.iter().any(|g| g.role.is_system_wide() || g.role == Role::OrgStaff);
        Chrome {
            user: actor.display_name.clone(),
            roles: if roles.is_empty() { "党员".into() } else { roles.join("，") },
            nav,
            active,
            mfa_off: is_admin && !state.platform.settings.mfa_required,
            htmx: crate::assets::has_htmx(),
            request_id: caller.ctx.request_id.clone(),
            csrf: crate::csrf::token(&caller.token),
            member_tabs: actor.grants.iter().all(|g| g.role == Role::Member),
            maintenance: Some(state.ops.maintenance.cached()).filter(|m| m.active).map(|m| m.notice()),
        }
    }
}

/// Renders a template into a response with `status`.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面渲染失败").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    request_id: &'a str,
    status: u16,
}

/// A friendly error page with the request id the IT centre can search for.
pub fn error_page(status: StatusCode, title: &str, message: &str, request_id: &str) -> Response {
    render(status, &ErrorPage { title, message, request_id, status: status.as_u16() })
}

/// The page for a platform error on a UI route.
pub fn platform_error(e: &platform::Error, request_id: &str) -> Response {
    let status = crate::error::status_of(e);
    if status.is_server_error() {
        tracing::error!(request_id, error = ?e, "page failed");
    }
    let title = match e {
        platform::Error::NotFound => "未找到",
        platform::Error::Forbidden => "没有权限",
        platform::Error::Quarantined(_) => "文件已隔离",
        _ => "出错了",
    };
    let mut resp = error_page(status, title, &e.message(), request_id);
    crate::error::with_retry_after(&mut resp, e);
    resp
}
