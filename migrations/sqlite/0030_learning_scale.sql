-- 学习教育 at province scale (crate: learning; issue 5, speed): search that knows who may read, and member
-- profiles for recommendations. Kept column-for-column equal to migrations/postgres/0030_learning_scale.sql
-- (PostgreSQL's stored search_vector is the counterpart of SQLite's FTS5 table; the schema-parity test says so).

-- Scope tokens. Each material's search_tokens end with words that name where it was published:
-- "zsat" + its organization path with '/' as 'x' (published exactly there) and "zsin" + every organization id
-- on its path (published inside that subtree): /1/5/23/ → "zsatx1x5x23x zsin1 zsin5 zsin23". A search adds
-- the caller's reach as "any of these words" (store::Reach::scope_words), so the index itself skips what she
-- cannot read and a common word (党员) does not walk every material. The SQL reach stays in every query as
-- well: the words only make it fast, the reach keeps it exact. service::Texts writes them from now on; here
-- the existing rows get them (the FTS5 row follows by its update trigger).
UPDATE materials SET search_tokens = search_tokens || ' zsat' || replace(org_path, '/', 'x')
    || replace(rtrim(org_path, '/'), '/', ' zsin');

-- Who studied a material lately: co-learners of a member are the latest learners of her latest studies.
CREATE INDEX learning_progress_material_recent ON learning_progress(material_id, last_beat_at);

-- A member's latest studies (time credited), newest first, space-separated material ids, at most about 1,200
-- characters (the last, possibly cut, id is dropped on read): what collaborative filtering compares her with,
-- one row per co-learner instead of her whole history. Written in the same transaction as the heartbeat that
-- first credits time to a material (store::touch_profile), so it is never behind learning_progress; erased
-- with her learning records.
CREATE TABLE learning_profiles (
    person_id  BIGINT PRIMARY KEY REFERENCES people(id),
    recent     TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO learning_profiles (person_id, recent, updated_at)
    SELECT person_id, substr(group_concat(material_id, ' '), 1, 1200), max(last_beat_at)
    FROM (SELECT person_id, material_id, last_beat_at FROM learning_progress WHERE seconds > 0
          ORDER BY person_id, first_at DESC, material_id DESC)
    GROUP BY person_id;
