-- Account hygiene (security.md AT-1, AT-16): the account's previous password hashes, so a new password
-- repeats none of the last five (argon2id, as in users.password_hash); when and why an account was last
-- disabled (by an administrator or the nightly review of accounts whose roles ended).
CREATE TABLE password_history (
    id             BIGSERIAL PRIMARY KEY,
    user_id        BIGINT NOT NULL REFERENCES users(id),
    password_hash  TEXT NOT NULL,
    replaced_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);

ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN disabled_reason TEXT;
