-- A recurring plan cancelled as a whole (crate: life, docs/LIFE.md "定期计划"): its meetings still ahead and
-- planned become cancelled in the same transaction and their attendees get one 会议计划取消通知; the meetings
-- already held keep their records. A cancelled plan is no longer listed among the running ones.
ALTER TABLE meeting_plans ADD COLUMN cancelled_at TIMESTAMPTZ;
ALTER TABLE meeting_plans ADD COLUMN cancelled_by BIGINT REFERENCES users(id);
ALTER TABLE meeting_plans ADD COLUMN cancel_reason TEXT;
