-- 学习教育, second part (crate: learning): question banks and exams, online Party classes (线上党课), points,
-- material versions and withdrawal, and daily study time for learning portraits. Kept column-for-column equal
-- to migrations/sqlite/0014_exams_classes_points.sql (the schema-parity test compares the two).

-- Materials can be edited (the previous text is kept in material_versions) and withdrawn (hidden from
-- lists, search and recommendations; the row and the learning records stay). attachment_id: reserved for a
-- PDF in the platform's attachment store (not used yet, see docs/LEARNING.md).
ALTER TABLE materials ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE materials ADD COLUMN withdrawn_at TIMESTAMPTZ;
ALTER TABLE materials ADD COLUMN withdrawn_reason TEXT;
ALTER TABLE materials ADD COLUMN attachment_id BIGINT;

-- A material as it was before an edit: one row per replaced version.
CREATE TABLE material_versions (
    material_id  BIGINT NOT NULL REFERENCES materials(id),
    version      BIGINT NOT NULL,
    title        TEXT NOT NULL,
    body_format  TEXT NOT NULL,
    body         TEXT NOT NULL,
    url          TEXT,
    tags         TEXT NOT NULL,
    stages       TEXT,
    required_due DATE,
    est_seconds  BIGINT NOT NULL,
    replaced_by  BIGINT REFERENCES users(id),
    replaced_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (material_id, version)
);

-- Seconds of active reading credited per person and day (Beijing time): what a learning portrait draws.
CREATE TABLE learning_daily (
    person_id BIGINT NOT NULL REFERENCES people(id),
    day       DATE NOT NULL,
    seconds   BIGINT NOT NULL,
    PRIMARY KEY (person_id, day)
);
CREATE INDEX learning_daily_day ON learning_daily(day);

-- A question bank, published like a material: to an organization's subtree, optionally only some stages.
CREATE TABLE question_banks (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    org_path    TEXT COLLATE "C" NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    stages      TEXT,
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX question_banks_subtree ON question_banks(org_path);

-- A question. kind: single, multiple, judge (true/false), fill. options: a JSON array of strings (choices;
-- judge: ["正确","错误"]; fill: empty). answer: JSON — the correct option indexes for choices, for fill an array
-- of blanks each an array of accepted answers. difficulty 1 易, 2 中, 3 难. A question that has been drawn into
-- an attempt is never changed: it is retired (active false) and a new one written.
CREATE TABLE questions (
    id          BIGSERIAL PRIMARY KEY,
    bank_id     BIGINT NOT NULL REFERENCES question_banks(id),
    kind        TEXT NOT NULL,
    stem        TEXT NOT NULL,
    options     TEXT NOT NULL,
    answer      TEXT NOT NULL,
    explanation TEXT NOT NULL,
    tags        TEXT NOT NULL,
    difficulty  BIGINT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX questions_bank ON questions(bank_id, active);

-- An exam (or a practice) drawn from a bank: question_count questions of the bank's active ones that carry
-- the tag (if any) and the difficulty (if any), a time limit, a number of attempts and a pass mark, for the
-- audience of an organization's subtree (optionally some stages), open between opens_at and closes_at.
CREATE TABLE exams (
    id              BIGSERIAL PRIMARY KEY,
    bank_id         BIGINT NOT NULL REFERENCES question_banks(id),
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_path        TEXT COLLATE "C" NOT NULL,
    title           TEXT NOT NULL,
    -- exam, practice
    mode            TEXT NOT NULL,
    tag             TEXT,
    difficulty      BIGINT,
    question_count  BIGINT NOT NULL,
    time_limit_min  BIGINT,
    max_attempts    BIGINT,
    pass_percent    BIGINT NOT NULL,
    stages          TEXT,
    opens_at        TIMESTAMPTZ,
    closes_at       TIMESTAMPTZ,
    created_by      BIGINT REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX exams_subtree ON exams(org_path, created_at);
CREATE INDEX exams_bank ON exams(bank_id);

-- One person's attempt: the seed that drew its paper (so a reload shows the same paper), its deadline (the
-- server's, from the time limit), and once submitted the score. earned/possible are in hundredths of a
-- question; percent is rounded half up.
CREATE TABLE exam_attempts (
    id           BIGSERIAL PRIMARY KEY,
    exam_id      BIGINT NOT NULL REFERENCES exams(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    number       BIGINT NOT NULL,
    seed         BIGINT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    deadline_at  TIMESTAMPTZ,
    submitted_at TIMESTAMPTZ,
    earned       BIGINT,
    possible     BIGINT NOT NULL,
    percent      BIGINT,
    passed       BOOLEAN,
    -- The answers came after the deadline: the answers saved before it were graded.
    late         BOOLEAN NOT NULL,
    UNIQUE (exam_id, person_id, number)
);
CREATE INDEX exam_attempts_person ON exam_attempts(person_id, started_at);

-- The questions of an attempt in the order drawn, the answer given (JSON, as the grader reads it) and the
-- credit (hundredths of the question) once graded or checked (practice).
CREATE TABLE attempt_items (
    attempt_id  BIGINT NOT NULL REFERENCES exam_attempts(id),
    position    BIGINT NOT NULL,
    question_id BIGINT NOT NULL REFERENCES questions(id),
    answer      TEXT,
    earned      BIGINT,
    checked_at  TIMESTAMPTZ,
    PRIMARY KEY (attempt_id, position)
);
CREATE INDEX attempt_items_question ON attempt_items(question_id);

-- 线上党课: a scheduled class for an organization's subtree, with its lecturer, link or room, and afterwards
-- its replay. meeting_id links the 党课 meeting of crates/life that carries QR sign-in and counts toward the
-- branch's 党课 obligation (the class never duplicates it). status: scheduled, finished, cancelled.
CREATE TABLE party_classes (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    org_path    TEXT COLLATE "C" NOT NULL,
    title       TEXT NOT NULL,
    lecturer    TEXT NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    minutes     BIGINT NOT NULL,
    link        TEXT,
    room        TEXT,
    description TEXT NOT NULL,
    stages      TEXT,
    meeting_id  BIGINT REFERENCES meetings(id),
    replay_url  TEXT,
    status      TEXT NOT NULL,
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX party_classes_subtree ON party_classes(org_path, starts_at);

-- Materials of a class (shown with the replay).
CREATE TABLE party_class_materials (
    class_id    BIGINT NOT NULL REFERENCES party_classes(id),
    material_id BIGINT NOT NULL REFERENCES materials(id),
    PRIMARY KEY (class_id, material_id)
);

-- Who joined a class through its page (QR sign-in is the meeting's attendance in crates/life).
CREATE TABLE party_class_attendance (
    class_id  BIGINT NOT NULL REFERENCES party_classes(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    joined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (class_id, person_id)
);
CREATE INDEX party_class_attendance_person ON party_class_attendance(person_id);

-- Points per action, set by org staff for an organization's subtree (the nearest organization with a row
-- decides). Off unless a row says enabled. action: studied, exam_passed, class_attended.
CREATE TABLE points_rules (
    org_id     BIGINT NOT NULL REFERENCES orgs(id),
    org_path   TEXT COLLATE "C" NOT NULL,
    action     TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    points     BIGINT NOT NULL,
    daily_cap  BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, action)
);

-- Points awarded: once per person, action and object (a material, an exam, a class), on its day.
CREATE TABLE points_ledger (
    id        BIGSERIAL PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES people(id),
    action    TEXT NOT NULL,
    object_id BIGINT NOT NULL,
    points    BIGINT NOT NULL,
    day       DATE NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    UNIQUE (person_id, action, object_id)
);
CREATE INDEX points_ledger_day ON points_ledger(person_id, day);

-- A branch's points board (排行榜): off unless its secretary or staff switch it on; only members who chose
-- to appear on it (points_optin) are listed.
CREATE TABLE points_boards (
    org_id     BIGINT PRIMARY KEY REFERENCES orgs(id),
    enabled    BOOLEAN NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE points_optin (
    person_id BIGINT PRIMARY KEY REFERENCES people(id),
    at        TIMESTAMPTZ NOT NULL
);
