//! The points rule, pure: what one event earns under the rule in force (domain.md §b.3: points per
//! action with daily caps; FORM: off by default, not an assessment input).

use crate::points::model::Action;

/// A rule as stored for an organization's subtree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub enabled: bool,
    pub points: i64,
    pub daily_cap: i64,
}

/// The most points a rule may give for one event, and a day's cap.
pub const MAX_POINTS: i64 = 100;
pub const MAX_DAILY_CAP: i64 = 1_000;

/// The points an event earns: nothing without a rule or with the rule off; otherwise the rule's points,
/// cut so that the day's total for the action stays within the cap.
pub fn earned(rule: Option<Rule>, already_today: i64) -> i64 {
    match rule {
        Some(r) if r.enabled && r.points > 0 => r.points.min((r.daily_cap - already_today).max(0)),
        _ => 0,
    }
}

/// The suggested points when staff switch an action on (the 学习强国 card of 2019 as a reference: an
/// article 1 point, cap 6; a quiz with full marks 2, cap 6 — domain.md §b.3).
pub fn suggested(action: Action) -> Rule {
    match action {
        Action::Studied => Rule { enabled: false, points: 1, daily_cap: 6 },
        Action::ExamPassed => Rule { enabled: false, points: 2, daily_cap: 6 },
        Action::ClassAttended => Rule { enabled: false, points: 2, daily_cap: 4 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_rule_or_a_rule_switched_off_earns_nothing() {
        assert_eq!(earned(None, 0), 0);
        assert_eq!(earned(Some(Rule { enabled: false, points: 5, daily_cap: 10 }), 0), 0);
        assert!(!suggested(Action::Studied).enabled, "off by default");
    }

    #[test]
    fn the_daily_cap_holds() {
        let r = Some(Rule { enabled: true, points: 2, daily_cap: 5 });
        assert_eq!(earned(r, 0), 2);
        assert_eq!(earned(r, 4), 1);
        assert_eq!(earned(r, 5), 0);
        assert_eq!(earned(r, 9), 0);
    }
}
