-- 学习教育, editing materials (crate: learning): the version of a material a person's record was made on.
-- Kept column-for-column equal in migrations/sqlite and migrations/postgres (the schema-parity test).
--
-- An edit keeps the replaced text in material_versions (0014) and raises materials.version; a heartbeat
-- writes the version being read until the material is studied, so the record says which text she studied.
ALTER TABLE learning_progress ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
