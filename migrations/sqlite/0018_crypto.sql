-- Crypto profile, data key versions and per-user rate limits (issue 6: 国密 option, AT-38 key rotation, AT-35).

-- The installation's algorithms, chosen once on an empty database (security::profile): 'aes'
-- (AES-256-GCM + SHA-256) or 'sm' (SM4-GCM + SM3). One row; never updated or deleted.
CREATE TABLE crypto_profile (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    profile          TEXT NOT NULL CHECK (profile IN ('aes', 'sm')),
    field_algorithm  TEXT NOT NULL,
    chain_hash       TEXT NOT NULL CHECK (chain_hash IN ('sha256', 'sm3')),
    chosen_at        TIMESTAMP NOT NULL
);
CREATE TRIGGER crypto_profile_no_update BEFORE UPDATE ON crypto_profile
BEGIN SELECT RAISE(ABORT, 'the crypto profile is chosen once'); END;
CREATE TRIGGER crypto_profile_no_delete BEFORE DELETE ON crypto_profile
BEGIN SELECT RAISE(ABORT, 'the crypto profile is chosen once'); END;

-- Data key versions (the keys themselves stay in the key file): 'rotating' while `dangjian keys rotate`
-- re-encrypts to it, then 'active'; the versions before it 'retired'.
CREATE TABLE data_keys (
    version        INTEGER PRIMARY KEY CHECK (version BETWEEN 1 AND 255),
    state          TEXT NOT NULL CHECK (state IN ('rotating', 'active', 'retired')),
    created_at     TIMESTAMP NOT NULL,
    activated_at   TIMESTAMP,
    retired_at     TIMESTAMP,
    re_encrypted   BIGINT NOT NULL DEFAULT 0
);

-- Fixed-window counters of the per-user rate limits on PostgreSQL (platform::limits); SQLite runs one
-- instance and counts in memory, so this table stays empty there.
CREATE TABLE rate_windows (
    bucket        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          INTEGER NOT NULL,
    PRIMARY KEY (bucket, subject, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows(window_start);
