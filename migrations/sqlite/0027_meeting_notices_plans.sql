-- Meetings tell their attendees (crate: life, docs/LIFE.md "会议通知"): a notice (通知公告, 0020) may be about a
-- meeting — its plan, a change of its time or place, its cancellation — and then goes to the meeting's
-- attendees instead of an organization's subtree. The recipients, receipts and withdrawal are those of every
-- notice; meeting_id only says which meeting it is about (the meeting page lists its notices).
ALTER TABLE notices ADD COLUMN meeting_id BIGINT REFERENCES meetings(id);
CREATE INDEX notices_meeting ON notices(meeting_id);

-- A recurring plan (定期计划, e.g. 每月15日 14:30 主题党日): the rule and the items its meetings share. Its
-- meetings are written when the plan is made, one per month of [starts_on, ends_on] (materialised: each is an
-- ordinary meeting afterwards, edited or cancelled alone). rule: "day:N" (day N of the month, the month's last
-- day where N does not exist, domain.md C1) or "weekday:K:D" (the K-th weekday D, Monday = 1; K = 5: the last).
CREATE TABLE meeting_plans (
    id          INTEGER PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    org_path    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    rule        TEXT NOT NULL,
    start_time  TEXT,
    place       TEXT,
    online_link TEXT,
    agenda      TEXT,
    starts_on   DATE NOT NULL,
    ends_on     DATE NOT NULL,
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX meeting_plans_org ON meeting_plans(org_path);
ALTER TABLE meetings ADD COLUMN plan_id BIGINT REFERENCES meeting_plans(id);
CREATE INDEX meetings_plan ON meetings(plan_id);
