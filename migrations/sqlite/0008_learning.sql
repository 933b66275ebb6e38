-- 学习教育 (crate: learning): materials, their search index, and learning records. Kept column-for-column
-- equal to migrations/postgres/0008_learning.sql (the schema-parity test compares the two; the FTS5 index
-- below is SQLite's counterpart of PostgreSQL's GIN index, not a table of its own).

-- A learning material published to an organization's subtree: an article (plain text, or rich text kept as
-- sanitized HTML), or a link to a document, a video or a live stream. org_path is the organization's
-- materialised path: the audience is everyone at or below it, optionally only people at some stages
-- (stages: ",activist,candidate," — NULL for everyone). A required_due date makes it required learning
-- for that audience.
CREATE TABLE materials (
    id            INTEGER PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs(id),
    org_path      TEXT NOT NULL,
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
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX materials_subtree ON materials(org_path, created_at);
CREATE INDEX materials_created ON materials(created_at);

-- The search index: FTS5 with its default unicode61 tokenizer over the pre-segmented tokens, so each jieba
-- word (党费, 党员, 发展党员) is one FTS token. External content: the text lives in materials only; the
-- triggers keep the index in step with every insert, update and delete (a restore included).
CREATE VIRTUAL TABLE materials_fts USING fts5(search_tokens, content='materials', content_rowid='id');
CREATE TRIGGER materials_fts_insert AFTER INSERT ON materials BEGIN
    INSERT INTO materials_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens);
END;
CREATE TRIGGER materials_fts_delete AFTER DELETE ON materials BEGIN
    INSERT INTO materials_fts(materials_fts, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens);
END;
CREATE TRIGGER materials_fts_update AFTER UPDATE OF search_tokens ON materials BEGIN
    INSERT INTO materials_fts(materials_fts, rowid, search_tokens) VALUES ('delete', old.id, old.search_tokens);
    INSERT INTO materials_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens);
END;

-- One person's study of one material: active reading seconds credited by heartbeats (each capped and
-- never more than the time since the last one, so an open tab or a forged request adds little), and
-- when the total first reached the material's estimate. Opening a page alone records 0 seconds.
CREATE TABLE learning_progress (
    material_id  BIGINT NOT NULL REFERENCES materials(id),
    person_id    BIGINT NOT NULL REFERENCES people(id),
    seconds      BIGINT NOT NULL,
    first_at     TIMESTAMP NOT NULL,
    last_beat_at TIMESTAMP NOT NULL,
    completed_at TIMESTAMP,
    PRIMARY KEY (material_id, person_id)
);
CREATE INDEX learning_progress_person ON learning_progress(person_id, last_beat_at);
CREATE INDEX learning_progress_recent ON learning_progress(last_beat_at);
