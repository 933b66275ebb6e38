-- Crypto profile, data key versions and per-user rate limits (issue 6: 国密 option, AT-38 key rotation, AT-35).

-- The installation's algorithms, chosen once on an empty database (security::profile): 'aes'
-- (AES-256-GCM + SHA-256) or 'sm' (SM4-GCM + SM3). One row; never updated or deleted.
CREATE TABLE crypto_profile (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    profile          TEXT NOT NULL CHECK (profile IN ('aes', 'sm')),
    field_algorithm  TEXT NOT NULL,
    chain_hash       TEXT NOT NULL CHECK (chain_hash IN ('sha256', 'sm3')),
    chosen_at        TIMESTAMPTZ NOT NULL
);
CREATE FUNCTION crypto_profile_chosen_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the crypto profile is chosen once';
END;
$$;
CREATE TRIGGER crypto_profile_no_change BEFORE UPDATE OR DELETE ON crypto_profile
    FOR EACH ROW EXECUTE FUNCTION crypto_profile_chosen_once();
CREATE TRIGGER crypto_profile_no_truncate BEFORE TRUNCATE ON crypto_profile
    FOR EACH STATEMENT EXECUTE FUNCTION crypto_profile_chosen_once();

-- Data key versions (the keys themselves stay in the key file): 'rotating' while `dangjian keys rotate`
-- re-encrypts to it, then 'active'; the versions before it 'retired'.
CREATE TABLE data_keys (
    version        BIGINT PRIMARY KEY CHECK (version BETWEEN 1 AND 255),
    state          TEXT NOT NULL CHECK (state IN ('rotating', 'active', 'retired')),
    created_at     TIMESTAMPTZ NOT NULL,
    activated_at   TIMESTAMPTZ,
    retired_at     TIMESTAMPTZ,
    re_encrypted   BIGINT NOT NULL DEFAULT 0
);

-- Fixed-window counters of the per-user rate limits, shared by every instance (platform::limits).
CREATE TABLE rate_windows (
    bucket        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          INTEGER NOT NULL,
    PRIMARY KEY (bucket, subject, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows(window_start);
