-- 学习教育: "being studied in the branch" without reading the progress table (crate: learning; issue 5, speed).
-- Kept statement-for-statement equal to migrations/postgres/0033_learning_branch_counts.sql.
--
-- A member's recommendations count, for each candidate, the people of her branch who studied it in the last
-- 30 days (store::studying_in): the branch's people (people_subtree) and each one's studies since then. With
-- the index on (person_id, last_beat_at) alone every such study was a lookup in the table (about 6,000 random
-- reads for a branch of the benchmark, 20–26 ms of a request); carrying material_id and seconds in the index
-- answers it from the index alone. Same leading columns, so it replaces the old index (a member's latest
-- studies, her copy of her data and erasure use it as before) and a heartbeat still writes one index entry.
DROP INDEX learning_progress_person;
CREATE INDEX learning_progress_person ON learning_progress(person_id, last_beat_at, material_id, seconds);
