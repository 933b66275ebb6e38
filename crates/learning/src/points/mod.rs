//! Points (积分), after domain.md §b.3 and the FORM guard rails: per-action points with a daily cap, set
//! by org staff for their subtree and **off unless switched on**; awarded once per person, action and
//! object (a material studied, an exam passed, a class attended) at the moment it happens, never
//! retroactively. There is no public ranking: a branch may switch on its board, and only members who
//! chose to appear are listed. Points are not an assessment input — nothing in the platform reads them
//! but the member's own page and that board.

pub mod model;
pub mod rules;
pub mod service;
pub mod store;
