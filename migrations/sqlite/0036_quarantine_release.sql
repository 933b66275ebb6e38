-- A quarantined upload released by a security administrator (security.md AT-21: a false positive of the
-- virus scanner must not stay unreachable for good): who, when, why, and from which signature. The release
-- stays on the row, so the nightly rescan (`uploads.rescan`) finding that same signature again leaves the file
-- served; another signature quarantines it again. The release is audited (`upload.release`).
ALTER TABLE attachments ADD COLUMN released_at TIMESTAMP;
ALTER TABLE attachments ADD COLUMN released_by INTEGER REFERENCES users(id);
ALTER TABLE attachments ADD COLUMN release_reason TEXT;
ALTER TABLE attachments ADD COLUMN released_signature TEXT;

-- The security administrator's list reads only the files in quarantine, newest first.
CREATE INDEX attachments_quarantined ON attachments(quarantined_at) WHERE quarantined_at IS NOT NULL;
