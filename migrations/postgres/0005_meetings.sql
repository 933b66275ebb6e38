-- Organizational life (crate: life): meetings and their attendance. Kept column-for-column equal to
-- migrations/sqlite/0005_meetings.sql; the schema-parity test compares the two.

-- A meeting of a branch or group (三会一课, 主题党日, 组织生活会, 谈心谈话), or a committee's 党课. org_path is the
-- organization's materialised path, so a college's or the university's meetings are one index range.
CREATE TABLE meetings (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    org_path    TEXT COLLATE "C" NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    held_on     DATE NOT NULL,
    -- "HH:MM", Beijing time.
    start_time  TEXT,
    place       TEXT,
    online_link TEXT,
    agenda      TEXT,
    -- Plain text, shown as written (never as HTML).
    minutes     TEXT,
    status      TEXT NOT NULL,
    archived    BOOLEAN NOT NULL,
    version     BIGINT NOT NULL,
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX meetings_org ON meetings(org_id, held_on);
CREATE INDEX meetings_subtree ON meetings(org_path, held_on);

-- Who is invited, and their attendance once taken: present, leave (with its reason) or absent; NULL until
-- recorded.
CREATE TABLE meeting_attendees (
    meeting_id  BIGINT NOT NULL REFERENCES meetings(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    attendance  TEXT,
    reason      TEXT,
    recorded_at TIMESTAMPTZ,
    recorded_by BIGINT REFERENCES users(id),
    PRIMARY KEY (meeting_id, person_id)
);
CREATE INDEX meeting_attendees_person ON meeting_attendees(person_id, meeting_id);
