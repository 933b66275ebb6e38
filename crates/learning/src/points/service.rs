//! The actions of points. Staff (`Capability::PointsConfig`) set the rules of their subtree; a branch's
//! secretary or staff switch its board; a member sees her own points and chooses whether to appear on her
//! branch's board. Awards are made by the other actions inside their own transactions ([`award_in`]).

use kernel::DbTx;
use platform::{Actor, Capability, Ctx};
use security::audit;

use crate::points::model::*;
use crate::points::rules::{self, MAX_DAILY_CAP, MAX_POINTS, Rule};
use crate::points::store;
use crate::rules::ancestors;
use crate::service::{Error, Learning, Result, event, now};

/// Awards the points of an event inside the caller's transaction: the rule in force at the person's
/// organization (or the nearest above with a setting), capped per day; once per person, action and object.
/// Returns the points given (0 when points are off).
pub async fn award_in(
    tx: &mut DbTx,
    person_id: i64,
    person_path: &str,
    action: Action,
    object_id: i64,
    when: When,
) -> Result<i64> {
    let paths = ancestors(person_path);
    let rule = store::rule_in_force(tx, &paths, action.code()).await?.map(|(enabled, points, daily_cap)| Rule {
        enabled,
        points,
        daily_cap,
    });
    if !rule.is_some_and(|r| r.enabled) {
        return Ok(0);
    }
    let today = store::awarded_on(tx, person_id, action.code(), when.day).await?;
    let points = rules::earned(rule, today);
    if points <= 0 {
        return Ok(0);
    }
    let inserted = store::insert_award(tx, person_id, action.code(), object_id, points, when.day, when.at).await?;
    Ok(if inserted { points } else { 0 })
}

/// Beijing's today and the instant, for an award now.
pub fn when_now() -> When {
    When { at: now(), day: kernel::dates::today() }
}

impl Learning<'_> {
    /// The rules in force at an organization (set there or inherited). Staff of the subtree only.
    pub async fn points_rules(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<PointsRules> {
        let org = platform::store::get_org(self.db(), org_id).await?.ok_or(Error::NotFound)?;
        if !actor.can(Capability::PointsConfig, &org.path) {
            if actor.can(Capability::OrgRead, &org.path) || actor.can(Capability::LearningRead, &org.path) {
                return Err(self.refuse(ctx, actor, "points.rules", &format!("org:{org_id}")).await?);
            }
            return Err(self.deny(ctx, actor, "points.rules", &format!("org:{org_id}")).await?);
        }
        let paths = ancestors(&org.path);
        let rows = store::rules_at(self.db(), &paths).await?;
        let rules = Action::ALL
            .iter()
            .map(|a| {
                let best = rows.iter().filter(|r| r.action == a.code()).max_by_key(|r| r.org_path.len());
                match best {
                    Some(r) => RuleView {
                        action: *a,
                        action_label: a.label(),
                        enabled: r.enabled,
                        points: r.points,
                        daily_cap: r.daily_cap,
                        set_at_org: Some(r.org_name.clone()),
                        own: r.org_path == org.path,
                    },
                    None => {
                        let s = rules::suggested(*a);
                        RuleView {
                            action: *a,
                            action_label: a.label(),
                            enabled: false,
                            points: s.points,
                            daily_cap: s.daily_cap,
                            set_at_org: None,
                            own: false,
                        }
                    }
                }
            })
            .collect();
        Ok(PointsRules {
            org_id,
            org_name: org.name,
            rules,
            note: NOT_ASSESSMENT,
            board_enabled: store::board_enabled(self.db(), org_id).await?,
        })
    }

    /// Sets the rules of an organization's subtree (staff); every bad item at once, one audit entry.
    pub async fn set_points_rules(
        &self,
        ctx: &Ctx,
        actor: &Actor,
        org_id: i64,
        input: &RulesInput,
    ) -> Result<PointsRules> {
        let org = platform::store::get_org(self.db(), org_id).await?.ok_or(Error::NotFound)?;
        if !actor.can(Capability::PointsConfig, &org.path) {
            if actor.can(Capability::OrgRead, &org.path) || actor.can(Capability::LearningRead, &org.path) {
                return Err(self.refuse(ctx, actor, "points.rules.set", &format!("org:{org_id}")).await?);
            }
            return Err(self.deny(ctx, actor, "points.rules.set", &format!("org:{org_id}")).await?);
        }
        let mut errors = crate::model::FieldErrors::new();
        let mut valid = Vec::new();
        if input.rules.is_empty() {
            errors.insert("rules".into(), "请至少设置一项积分规则".into());
        }
        for (i, r) in input.rules.iter().enumerate() {
            let action = r.action.as_deref().map(str::trim).and_then(Action::parse);
            let Some(action) = action else {
                errors.insert(format!("rules.{i}.action"), "行为应为 studied、exam_passed 或 class_attended".into());
                continue;
            };
            let key = action.code();
            let points = r.points.unwrap_or(rules::suggested(action).points);
            let cap = r.daily_cap.unwrap_or(rules::suggested(action).daily_cap);
            if !(0..=MAX_POINTS).contains(&points) {
                errors.insert(format!("{key}.points"), format!("每次积分应为0至{MAX_POINTS}分"));
            }
            if !(0..=MAX_DAILY_CAP).contains(&cap) || cap < points {
                errors
                    .insert(format!("{key}.daily_cap"), format!("每日上限应为0至{MAX_DAILY_CAP}分，且不低于每次积分"));
            }
            valid.push((action, r.enabled.unwrap_or(false), points, cap));
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let t = now();
        let mut tx = self.db().begin().await?;
        let mut detail = Vec::new();
        for (action, enabled, points, cap) in &valid {
            store::set_rule(&mut tx, org.id, &org.path, action.code(), *enabled, *points, *cap, actor_user(actor), t)
                .await?;
            detail.push(format!("{}:{}:{}/{}", action.code(), if *enabled { "on" } else { "off" }, points, cap));
        }
        audit::append(&mut tx, event(actor, ctx, "points.rules", format!("org:{org_id}"), "ok", detail.join(" ")))
            .await?;
        tx.commit().await?;
        self.points_rules(ctx, actor, org_id).await
    }

    /// The caller's own points.
    pub async fn my_points(&self, ctx: &Ctx, actor: &Actor) -> Result<MyPoints> {
        let Some(pid) = actor.person_id else {
            return Err(self.refuse(ctx, actor, "points.read", "points:self").await?);
        };
        let (path, _, org_id) = self.person(pid).await?.ok_or(Error::NotFound)?;
        let rows = store::rules_at(self.db(), &ancestors(&path)).await?;
        let enabled = Action::ALL.iter().any(|a| {
            rows.iter().filter(|r| r.action == a.code()).max_by_key(|r| r.org_path.len()).is_some_and(|r| r.enabled)
        });
        let branch = self.branch_of(org_id, &path).await?;
        Ok(MyPoints {
            person_id: pid,
            total: store::total(self.db(), pid).await?,
            recent: store::recent(self.db(), pid, 20).await?,
            enabled,
            board_enabled: match branch {
                Some(b) => store::board_enabled(self.db(), b).await?,
                None => false,
            },
            on_board: store::opted_in(self.db(), pid).await?,
            note: NOT_ASSESSMENT,
        })
    }

    /// The member chooses whether to appear on her branch's board (audited).
    pub async fn set_points_optin(&self, ctx: &Ctx, actor: &Actor, input: &Switch) -> Result<MyPoints> {
        let Some(pid) = actor.person_id else {
            return Err(self.refuse(ctx, actor, "points.optin", "points:self").await?);
        };
        let Some(on) = input.enabled else {
            return Err(crate::service::field("enabled", "请选择是否在支部积分榜上显示"));
        };
        let mut tx = self.db().begin().await?;
        store::set_optin(&mut tx, pid, on, now()).await?;
        let detail = if on { "on" } else { "off" }.to_string();
        audit::append(&mut tx, event(actor, ctx, "points.optin", format!("person:{pid}"), "ok", detail)).await?;
        tx.commit().await?;
        self.my_points(ctx, actor).await
    }

    /// Switches a branch's board (its secretary or staff: `LearningWrite` there). Only a 党支部 has one.
    pub async fn set_points_board(&self, ctx: &Ctx, actor: &Actor, org_id: i64, input: &Switch) -> Result<Board> {
        let org = platform::store::get_org(self.db(), org_id).await?.ok_or(Error::NotFound)?;
        if !actor.can(Capability::LearningWrite, &org.path) {
            if actor.can(Capability::OrgRead, &org.path) || actor.can(Capability::LearningRead, &org.path) {
                return Err(self.refuse(ctx, actor, "points.board", &format!("org:{org_id}")).await?);
            }
            return Err(self.deny(ctx, actor, "points.board", &format!("org:{org_id}")).await?);
        }
        let Some(on) = input.enabled else {
            return Err(crate::service::field("enabled", "请选择开启或关闭积分榜"));
        };
        if platform::model::OrgKind::parse(&org.kind) != Some(platform::model::OrgKind::Branch) {
            return Err(crate::service::field("org_id", "积分榜只能由党支部开启"));
        }
        let mut tx = self.db().begin().await?;
        store::set_board(&mut tx, org_id, on, actor_user(actor), now()).await?;
        let detail = if on { "on" } else { "off" }.to_string();
        audit::append(&mut tx, event(actor, ctx, "points.board", format!("org:{org_id}"), "ok", detail)).await?;
        tx.commit().await?;
        self.points_board(ctx, actor, org_id).await
    }

    /// A branch's board: its members (and those managing its learning) read it while it is on; it lists
    /// only members who chose to appear. Off: 404 for members, an empty board with the switch for managers.
    pub async fn points_board(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<Board> {
        let org = platform::store::get_org(self.db(), org_id).await?.ok_or(Error::NotFound)?;
        let manager = actor.can(Capability::LearningRead, &org.path);
        let member = match actor.person_id {
            Some(p) => self.person(p).await?.is_some_and(|(path, _, _)| platform::model::path_within(&path, &org.path)),
            None => false,
        };
        let enabled = store::board_enabled(self.db(), org_id).await?;
        if !(manager || (member && enabled)) {
            return Err(self.deny(ctx, actor, "points.board.read", &format!("org:{org_id}")).await?);
        }
        let lines = if enabled {
            store::board(self.db(), &org.path, &platform::model::subtree_end(&org.path), 200).await?
        } else {
            Vec::new()
        };
        Ok(Board { org_id, org_name: org.name, lines, enabled, note: NOT_ASSESSMENT })
    }

    /// The branch (党支部) a person belongs to: her organization, or the parent of her 党小组.
    pub(crate) async fn branch_of(&self, org_id: i64, _path: &str) -> Result<Option<i64>> {
        let Some(org) = platform::store::get_org(self.db(), org_id).await? else { return Ok(None) };
        match platform::model::OrgKind::parse(&org.kind) {
            Some(platform::model::OrgKind::Branch) => Ok(Some(org.id)),
            Some(platform::model::OrgKind::Group) => Ok(org.parent_id),
            _ => Ok(None),
        }
    }
}

fn actor_user(actor: &Actor) -> Option<i64> {
    Some(actor.user_id).filter(|id| *id > 0)
}
