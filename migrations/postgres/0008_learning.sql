-- 学习教育 (crate: learning): materials, their search index, and learning records. Kept column-for-column
-- equal to migrations/sqlite/0008_learning.sql (the schema-parity test compares the two; the GIN index below is
-- PostgreSQL's counterpart of SQLite's FTS5 table).

-- A learning material published to an organization's subtree: an article (plain text, or rich text kept as
-- sanitized HTML), or a link to a document, a video or a live stream. org_path is the organization's
-- materialised path: the audience is everyone at or below it, optionally only people at some stages
-- (stages: ",activist,candidate," — NULL for everyone). A required_due date makes it required learning
-- for that audience.
CREATE TABLE materials (
    id            BIGSERIAL PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs(id),
    org_path      TEXT COLLATE "C" NOT NULL,
    kind          TEXT NOT NULL,
    category      TEXT NOT NULL,
    title         TEXT NOT NULL,
    -- "text" (shown as written) or "html" (sanitized with ammonia before it is stored).
    body_format   TEXT NOT NULL,
    body          TEXT NOT NULL,
    url           TEXT,
    -- ",党费,党章," (each tag between commas), '' without tags.
    tags          TEXT NOT NULL,
    stages        TEXT,
    required_due  DATE,
    -- Active reading time that counts as studied (estimated from the length, or the duration given).
    est_seconds   BIGINT NOT NULL,
    -- The material's top words (jieba TF-IDF), space-joined: what content-based recommendations compare.
    keywords      TEXT NOT NULL,
    -- Title, tags and body segmented by jieba (search mode), lower-cased, space-joined: what search matches.
    search_tokens TEXT NOT NULL,
    created_by    BIGINT REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX materials_subtree ON materials(org_path, created_at);
CREATE INDEX materials_created ON materials(created_at);

-- The search index: to_tsvector('simple', …) over the pre-segmented tokens (the 'simple' configuration
-- only lower-cases, so each jieba word is one lexeme), in a GIN expression index. Queries use the same
-- expression, so no column is kept for it.
CREATE INDEX materials_search ON materials USING GIN (to_tsvector('simple', search_tokens));

-- One person's study of one material: active reading seconds credited by heartbeats (each capped and
-- never more than the time since the last one, so an open tab or a forged request adds little), and
-- when the total first reached the material's estimate. Opening a page alone records 0 seconds.
CREATE TABLE learning_progress (
    material_id  BIGINT NOT NULL REFERENCES materials(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    seconds      BIGINT NOT NULL,
    first_at     TIMESTAMPTZ NOT NULL,
    last_beat_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (material_id, person_id)
);
CREATE INDEX learning_progress_person ON learning_progress(person_id, last_beat_at);
CREATE INDEX learning_progress_recent ON learning_progress(last_beat_at);
