//! Portraits over the platform's database and callers: authorise (the person herself, or `LearningRead` over
//! her organization / over the organization) → read → assemble. A portrait outside the caller's reach is
//! "not found", audited as a refusal.

use std::collections::BTreeMap;

use platform::model::{Org, child_of, path_within, subtree_end};
use platform::{Actor, Capability, Ctx, Platform};
use time::Duration;

use super::model::*;
use super::store;
use crate::model::Category;
use crate::points::model::NOT_ASSESSMENT;
use crate::rules::{Viewer, ancestors};
use crate::service::{Error, Learning, Result};
use crate::store::Reach;

/// Learning portraits.
pub struct Portraits<'a> {
    learning: Learning<'a>,
    platform: &'a Platform,
}

fn topics(rows: Vec<(String, i64)>) -> Vec<Topic> {
    rows.into_iter()
        .map(|(category, count)| {
            let label = Category::parse(&category).map_or_else(|| category.clone(), |c| c.label().to_string());
            Topic { category, label, count }
        })
        .collect()
}

impl<'a> Portraits<'a> {
    pub fn new(platform: &'a Platform) -> Portraits<'a> {
        Portraits { learning: Learning::new(platform), platform }
    }

    fn db(&self) -> &kernel::Db {
        &self.platform.db
    }

    /// A member's portrait: herself, or those who manage learning over her organization.
    pub async fn person(&self, ctx: &Ctx, actor: &Actor, person_id: i64) -> Result<PersonPortrait> {
        let target = format!("person:{person_id}");
        let Some(p) = platform::store::get_person(self.db(), person_id).await? else {
            return Err(Error::NotFound);
        };
        if actor.person_id != Some(person_id) && !actor.can(Capability::LearningRead, &p.org_path) {
            return Err(self.learning.deny(ctx, actor, "learning.portrait", &target).await?);
        }
        let today = kernel::dates::today();
        let db = self.db();
        let (seconds, active_days, studied) =
            store::person_totals(db, person_id, today - Duration::days(ACTIVE_DAYS - 1)).await?;
        let days = store::person_days(db, person_id, chart_start(today)).await?;
        let exams = store::person_attempts(db, person_id, ATTEMPTS)
            .await?
            .into_iter()
            .map(|a| ExamResult { exam: a.title, percent: a.percent, passed: a.passed, submitted_at: a.submitted_at })
            .collect();
        let stage = platform::model::Stage::parse(&p.stage).unwrap_or(platform::model::Stage::Full);
        let viewer = Viewer { person: Some((p.org_path.clone(), stage)), ..Viewer::default() };
        let done: std::collections::HashSet<i64> = store::completed_ids(db, person_id).await?.into_iter().collect();
        let mut required = Vec::new();
        for m in crate::store::list_materials(db, &Reach::of(&viewer), None, crate::service::CANDIDATES).await? {
            if let Some(due) = m.required_due {
                let completed = done.contains(&m.id);
                required.push(RequiredItem { material_id: m.id, title: m.title, due, completed });
            }
        }
        required.sort_by(|a, b| a.completed.cmp(&b.completed).then(a.due.cmp(&b.due)));
        Ok(PersonPortrait {
            person_id,
            name: p.name,
            minutes: seconds / 60,
            active_days,
            studied,
            classes: store::person_classes(db, person_id).await?,
            weeks: weeks(&days, today),
            topics: topics(store::person_topics(db, person_id).await?),
            exams,
            required,
            note: NOT_ASSESSMENT,
        })
    }

    /// A branch's or college's portrait, for those who manage learning over it.
    pub async fn org(&self, ctx: &Ctx, actor: &Actor, org_id: i64) -> Result<OrgPortrait> {
        let target = format!("org:{org_id}");
        let org = match platform::store::get_org(self.db(), org_id).await?.map(Org::from_row) {
            Some(o) if actor.can(Capability::LearningRead, &o.path) => o,
            Some(_) => return Err(self.learning.deny(ctx, actor, "learning.portrait", &target).await?),
            None => return Err(Error::NotFound),
        };
        let db = self.db();
        let today = kernel::dates::today();
        let (start, end) = (org.path.clone(), subtree_end(&org.path));
        let since = today - Duration::days(ACTIVE_DAYS - 1);
        let names: BTreeMap<String, (i64, String)> = platform::store::search_orgs(db, &start, &end, "", false, 10_000)
            .await?
            .into_iter()
            .map(|o| (o.path, (o.id, o.name)))
            .collect();
        let mut below: BTreeMap<String, OrgLine> = BTreeMap::new();
        for (id, path, people, active) in store::subtree_people(db, &start, &end, since).await? {
            let child = child_of(&org.path, &path);
            let (org_id, name) = names.get(&child).cloned().unwrap_or((id, String::new()));
            let line = below.entry(child).or_insert(OrgLine { org_id, name, people: 0, active: 0 });
            line.people += people;
            line.active += active;
        }
        let below: Vec<OrgLine> = below.into_values().collect();
        let mut required = Vec::new();
        for m in store::required_reaching(db, &ancestors(&org.path), &start, &end, REQUIRED).await? {
            // A material published inside the subtree reaches only its own part of it.
            let (s, e) = if path_within(&m.org_path, &org.path) {
                (m.org_path.clone(), subtree_end(&m.org_path))
            } else {
                (start.clone(), end.clone())
            };
            let stages = m.stages.clone().unwrap_or_default();
            let (audience, completed) = store::required_progress(db, m.id, &s, &e, &stages).await?;
            required.push(RequiredCompletion {
                material_id: m.id,
                title: m.title,
                due: m.required_due,
                audience,
                completed,
            });
        }
        let chart_from = chart_start(today);
        let since_chart = kernel::dates::beijing_midnight(chart_from);
        Ok(OrgPortrait {
            org_id: org.id,
            name: org.name,
            people: below.iter().map(|l| l.people).sum(),
            active: below.iter().map(|l| l.active).sum(),
            weeks: weeks(&store::subtree_days(db, &start, &end, chart_from).await?, today),
            topics: topics(store::subtree_topics(db, &start, &end, since_chart).await?),
            required,
            below,
            note: NOT_ASSESSMENT,
        })
    }
}
