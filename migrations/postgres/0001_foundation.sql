-- The platform foundation (crates: platform, security). Kept column-for-column equal to
-- migrations/sqlite/0001_foundation.sql; the schema-parity test compares the two.
-- Paths compare byte-wise (COLLATE "C") so that the subtree range works as on SQLite.

CREATE TABLE orgs (
    id          BIGSERIAL PRIMARY KEY,
    parent_id   BIGINT REFERENCES orgs(id),
    name        TEXT NOT NULL,
    short_name  TEXT,
    kind        TEXT NOT NULL,
    category    TEXT NOT NULL,
    path        TEXT COLLATE "C" NOT NULL,
    depth       INTEGER NOT NULL,
    secretary   TEXT,
    contact_phone TEXT,
    established_on DATE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX orgs_path ON orgs(path);
CREATE INDEX orgs_parent ON orgs(parent_id, name);
CREATE UNIQUE INDEX orgs_sibling_name ON orgs(COALESCE(parent_id, 0), name);

CREATE TABLE people (
    id              BIGSERIAL PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_path        TEXT COLLATE "C" NOT NULL,
    name            TEXT NOT NULL,
    gender          TEXT NOT NULL,
    ethnicity       TEXT,
    birth_date      DATE NOT NULL,
    native_place    TEXT,
    education       TEXT,
    category        TEXT NOT NULL,
    person_no       TEXT,
    stage           TEXT NOT NULL,
    status          TEXT NOT NULL,
    party_post      TEXT,
    job_title       TEXT,
    applied_on      DATE,
    activist_on     DATE,
    candidate_on    DATE,
    admitted_on     DATE,
    converted_on    DATE,
    id_number_enc   BYTEA NOT NULL,
    id_number_bidx  BYTEA NOT NULL,
    id_number_masked TEXT NOT NULL,
    phone_enc       BYTEA,
    phone_masked    TEXT,
    address_enc     BYTEA,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX people_id_number ON people(id_number_bidx);
CREATE INDEX people_subtree ON people(org_path, id);
CREATE INDEX people_org ON people(org_id, id);
CREATE INDEX people_name ON people(name);

CREATE TABLE org_counts (
    org_id    BIGINT NOT NULL REFERENCES orgs(id),
    stage     TEXT NOT NULL,
    category  TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (org_id, stage, category)
);

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    person_id       BIGINT REFERENCES people(id),
    active          BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    password_changed_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_username ON users(username);
CREATE UNIQUE INDEX users_person ON users(person_id);

CREATE TABLE grants (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    org_id      BIGINT REFERENCES orgs(id),
    starts_on   DATE,
    ends_on     DATE,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  BIGINT REFERENCES users(id)
);
CREATE INDEX grants_user ON grants(user_id);

CREATE TABLE sessions (
    id            BIGSERIAL PRIMARY KEY,
    token_hash    BYTEA NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users(id),
    kind          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    ip            TEXT,
    user_agent    TEXT,
    revoked_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX sessions_token ON sessions(token_hash);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    BIGINT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    result      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    ip          TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
