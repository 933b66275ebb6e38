-- The second factor (security issue, 等保三级 身份鉴别 d) and step-up re-authentication (security.md AT-5, AT-7).

-- One authenticator per account. The secret is AES-256-GCM ciphertext like every sensitive field;
-- last_step is the last accepted RFC 6238 time step, so a code is never accepted twice.
CREATE TABLE mfa_totp (
    user_id       BIGINT PRIMARY KEY REFERENCES users(id),
    secret        BYTEA NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL
);

-- One-time recovery codes, only as SHA-256 hashes.
CREATE TABLE mfa_recovery_codes (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    code_hash  BYTEA NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX mfa_recovery_user ON mfa_recovery_codes(user_id);

-- A password that was right, waiting for its second factor (or for the enrolment of one). Short-lived;
-- only the token's SHA-256 is stored, like sessions.
CREATE TABLE login_challenges (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  BYTEA NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    used_at     TIMESTAMPTZ
);
CREATE UNIQUE INDEX login_challenges_token ON login_challenges(token_hash);

-- When the holder of a session last proved who they are (password, and second factor where required):
-- sensitive actions need this within the last ten minutes.
ALTER TABLE sessions ADD COLUMN reauth_at TIMESTAMPTZ;
