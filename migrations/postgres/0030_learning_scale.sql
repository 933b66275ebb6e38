-- 学习教育 at province scale (crate: learning; issue 5, speed): search that knows who may read, and member
-- profiles for recommendations. Kept column-for-column equal to migrations/sqlite/0030_learning_scale.sql
-- except materials.search_vector, PostgreSQL's counterpart of SQLite's FTS5 table (the schema-parity test
-- says so).

-- Scope tokens (see the SQLite migration): "zsat" + the organization path with '/' as 'x', "zsin" + every
-- organization id on the path, appended to search_tokens; a search adds the caller's reach as "any of these".
UPDATE materials SET search_tokens = search_tokens || ' zsat' || replace(org_path, '/', 'x')
    || replace(rtrim(org_path, '/'), '/', ' zsin');

-- The tsvector stored once instead of computed per row: a GIN index on it for the words, and the row check
-- of a scan in id order reads it instead of segmenting search_tokens again (the expression index it replaces
-- made a common word cost seconds at 100,000 materials).
DROP INDEX materials_search;
ALTER TABLE materials ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_tokens)) STORED;
CREATE INDEX materials_search_vector ON materials USING GIN (search_vector);

CREATE INDEX learning_progress_material_recent ON learning_progress(material_id, last_beat_at);

-- A member's latest studies, newest first (see the SQLite migration).
CREATE TABLE learning_profiles (
    person_id  BIGINT PRIMARY KEY REFERENCES people(id),
    recent     TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO learning_profiles (person_id, recent, updated_at)
    SELECT person_id, substr(string_agg(material_id::text, ' ' ORDER BY first_at DESC, material_id DESC), 1, 1200),
        max(last_beat_at)
    FROM learning_progress WHERE seconds > 0 GROUP BY person_id;
