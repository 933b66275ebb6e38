-- Each meeting keeps its attendance counts on its row — invited (attendees), present (recorded present),
-- recorded (attendance recorded, whatever it is) — written in the same transaction as every change of its
-- meeting_attendees (crates/life/src/store.rs), so that the compliance roll-up judges a 支委会's quorum
-- (rules::COMMITTEE_QUORUM_SQL) from one scan of meetings, without reading attendance. Backfilled here.
-- Kept column-for-column equal to the other dialect's 0029_meeting_attendance_counts.sql.
ALTER TABLE meetings ADD COLUMN invited BIGINT NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN present BIGINT NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN recorded BIGINT NOT NULL DEFAULT 0;
UPDATE meetings SET invited = c.invited, present = c.present, recorded = c.recorded
FROM (SELECT meeting_id, COUNT(*) AS invited,
             SUM(CASE WHEN attendance = 'present' THEN 1 ELSE 0 END) AS present,
             COUNT(attendance) AS recorded
      FROM meeting_attendees GROUP BY meeting_id) AS c
WHERE c.meeting_id = meetings.id;

-- The full members whose membership is not in force, by organization: the roll-up takes them off the
-- maintained head counts (org_counts, which count by stage whatever the status) to know each branch's
-- formal members (ORG-09) without counting its members one by one. Partial: only those few rows, and no
-- other query on people is tempted by it.
CREATE INDEX people_out_of_force ON people(org_path)
    WHERE stage = 'full' AND status IN ('deceased', 'left', 'suspended');
