-- Shared accounts (security.md §a.1 c, AT-16) and the rescan of stored uploads (AT-21). Kept
-- column-for-column equal to migrations/sqlite/0034_shared_account_reviews_rescan.sql; the schema-parity
-- test compares the two.

-- A security administrator's review of an account flagged as possibly shared (`auth.shared_account` in the
-- audit log): what she found (note, required), who and when. A flag raised at or before the newest review
-- of its account no longer shows on the 账号 page; a later one does.
CREATE TABLE shared_account_reviews (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    reviewed_by BIGINT NOT NULL REFERENCES users(id),
    reviewed_at TIMESTAMPTZ NOT NULL,
    note        TEXT NOT NULL
);
CREATE INDEX shared_account_reviews_user ON shared_account_reviews(user_id, reviewed_at);

-- Notifications to the security administrators (the role, not one person: every security administrator
-- sees them on her home page until one of them deals with the cause). kind: 'shared_account'; user_id: the
-- account concerned; detail: what was seen at the newest occurrence; times: occurrences since it was raised.
-- At most one open notification of a kind per account (the partial unique index); it is closed
-- (cleared_at, cleared_by) when the flag is reviewed.
CREATE TABLE security_notifications (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    detail      TEXT NOT NULL,
    times       BIGINT NOT NULL,
    raised_at   TIMESTAMPTZ NOT NULL,
    cleared_at  TIMESTAMPTZ,
    cleared_by  BIGINT REFERENCES users(id)
);
CREATE UNIQUE INDEX security_notifications_open ON security_notifications(kind, user_id) WHERE cleared_at IS NULL;

-- A stored upload in which a rescan (`dangjian uploads rescan`) found a signature: kept, never served
-- (downloads refuse it), with the signature's name and when.
ALTER TABLE attachments ADD COLUMN quarantined_at TIMESTAMPTZ;
ALTER TABLE attachments ADD COLUMN quarantine_signature TEXT;
