-- A document material may be an uploaded PDF, read in the browser (crate: learning, docs/LEARNING.md "文档（PDF）").
-- The file itself is an attachment of owner kind 'material' (the platform's attachment store: checked, scanned by
-- clamd when configured, kept in the database and its backups); `materials.attachment_id` (reserved by 0014) names
-- the one the material shows now. A replaced version keeps the id of the file it showed, and the file stays, so
-- what members studied is kept.
ALTER TABLE material_versions ADD COLUMN attachment_id BIGINT;
