-- The attachment store (crate platform, files.rs) and the member development pipeline (crate affairs):
-- 发展党员 steps with the people responsible, the maintained to-do list and the rule-version setting.
-- Kept column-for-column equal to migrations/postgres/0011_development.sql; the schema-parity test compares
-- the two.

-- Uploaded files, kept in the database so every instance on one PostgreSQL serves the same files and a
-- backup holds them. Each belongs to one record of an application (owner_kind, owner_id: e.g.
-- 'development_step', 12), which decides who may read it; org_path is the owner's organization at upload
-- (subtree reports), person_id the person the file is about (her copy of her data). file_type and
-- content_type come from the bytes (security.md AT-21), never from the uploader. The content is the last
-- column, so reading the other columns never touches its pages.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    owner_kind   TEXT NOT NULL,
    owner_id     BIGINT NOT NULL,
    org_path     TEXT NOT NULL,
    person_id    BIGINT REFERENCES people(id),
    name         TEXT NOT NULL,
    file_type    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       BLOB NOT NULL,
    uploaded_by  BIGINT REFERENCES users(id),
    created_at   TIMESTAMP NOT NULL,
    content      BLOB NOT NULL
);
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id, id);
CREATE INDEX attachments_subtree ON attachments(org_path, id);
CREATE INDEX attachments_person ON attachments(person_id);

-- One recorded step of a person's development (domain.md DEV-00: 5 stages, 25 steps), in the order they
-- happened. findings: the rules' findings when it was recorded (JSON: code, rule, severity, message,
-- citations); reason: why a step that needed an exception was taken anyway; detail: the step's own items
-- (JSON: training days and hours, extension months, departure date, publicity start, deciding body, review
-- conclusion); vote_*: the tally of a branch general meeting (DEV-12), counting formal members with a vote
-- (written votes of absent members in vote_written_for; probationary members present have no vote).
CREATE TABLE development_steps (
    id                INTEGER PRIMARY KEY,
    person_id         BIGINT NOT NULL REFERENCES people(id),
    step              TEXT NOT NULL,
    done_on           DATE NOT NULL,
    outcome           TEXT,
    notes             TEXT,
    reason            TEXT,
    findings          TEXT NOT NULL,
    detail            TEXT NOT NULL,
    rule_set          TEXT NOT NULL,
    vote_eligible     BIGINT,
    vote_present      BIGINT,
    vote_for          BIGINT,
    vote_against      BIGINT,
    vote_abstain      BIGINT,
    vote_written_for  BIGINT,
    vote_probationary BIGINT,
    recorded_by       BIGINT REFERENCES users(id),
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX development_steps_person ON development_steps(person_id, done_on, id);

-- The people of the register responsible for a step: the one who talked with the applicant (talker), the
-- cultivation contacts (contact, DEV-04), the introducers (introducer, DEV-07).
CREATE TABLE development_step_people (
    step_id   BIGINT NOT NULL REFERENCES development_steps(id),
    role      TEXT NOT NULL,
    person_id BIGINT NOT NULL REFERENCES people(id),
    PRIMARY KEY (step_id, role, person_id)
);
CREATE INDEX development_step_people_person ON development_step_people(person_id);

-- The to-do list (待办), maintained: each person in the pipeline's next step and the date that matters for
-- it. rank 0: a deadline (due_on is the last day); 1: a step allowed from due_on (a waiting period); 2: no
-- date (due_on 9999-12-31). Ordered by (rank, due_on, person_id) the overdue come first. Derived data:
-- rewritten with every recorded step; any other change of a person's stage or dates (form, import, transfer,
-- restore) marks the row stale through the triggers below, and the to-do service recomputes stale rows
-- before it lists. Not in backups (rebuilt the same way on restore).
CREATE TABLE development_due (
    person_id  BIGINT PRIMARY KEY REFERENCES people(id),
    step       TEXT NOT NULL,
    rank       BIGINT NOT NULL,
    due_on     DATE NOT NULL,
    rule       TEXT NOT NULL,
    note       TEXT NOT NULL,
    stale      BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX development_due_order ON development_due(rank, due_on, person_id);
CREATE INDEX development_due_stale ON development_due(person_id) WHERE stale;

CREATE TRIGGER people_development_due_insert AFTER INSERT ON people
WHEN NEW.stage <> 'full'
BEGIN
    INSERT OR IGNORE INTO development_due (person_id, step, rank, due_on, rule, note, stale, updated_at)
    VALUES (NEW.id, '', 2, '9999-12-31', '', '', 1, NEW.updated_at);
    UPDATE development_due SET stale = 1 WHERE person_id = NEW.id;
END;

CREATE TRIGGER people_development_due_update
AFTER UPDATE OF stage, status, birth_date, applied_on, activist_on, candidate_on, admitted_on, converted_on ON people
WHEN NEW.stage <> 'full' OR OLD.stage <> 'full'
BEGIN
    INSERT OR IGNORE INTO development_due (person_id, step, rank, due_on, rule, note, stale, updated_at)
    VALUES (NEW.id, '', 2, '9999-12-31', '', '', 1, NEW.updated_at);
    UPDATE development_due SET stale = 1 WHERE person_id = NEW.id;
END;

-- The administrator's switch for the reported 2026 revision of the 细则 (domain.md §0.2, unverified): from
-- this date it judges cases whose admission meeting is on or after it; NULL (the default) never. One row
-- (id 1), written with an audit entry.
CREATE TABLE development_settings (
    id                 BIGINT PRIMARY KEY,
    revision_2026_from DATE,
    updated_by         BIGINT REFERENCES users(id),
    updated_at         TIMESTAMP NOT NULL
);
