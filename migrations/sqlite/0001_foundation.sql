-- The platform foundation (crates: platform, security). Kept column-for-column equal to
-- migrations/postgres/0001_foundation.sql; the schema-parity test compares the two.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    parent_id   BIGINT REFERENCES orgs(id),
    name        TEXT NOT NULL,
    short_name  TEXT,
    kind        TEXT NOT NULL,
    category    TEXT NOT NULL,
    -- Materialised path "/1/5/23/": a subtree is the range [path, path-with-last-'/'-as-'0').
    path        TEXT NOT NULL,
    depth       INTEGER NOT NULL,
    secretary   TEXT,
    contact_phone TEXT,
    established_on DATE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX orgs_path ON orgs(path);
CREATE INDEX orgs_parent ON orgs(parent_id, name);
CREATE UNIQUE INDEX orgs_sibling_name ON orgs(COALESCE(parent_id, 0), name);

CREATE TABLE people (
    id              INTEGER PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_path        TEXT NOT NULL,
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
    -- Sensitive items: AES-256-GCM ciphertext, a keyed blind index for exact look-up, the masked form.
    id_number_enc   BLOB NOT NULL,
    id_number_bidx  BLOB NOT NULL,
    id_number_masked TEXT NOT NULL,
    phone_enc       BLOB,
    phone_masked    TEXT,
    address_enc     BLOB,
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX people_id_number ON people(id_number_bidx);
CREATE INDEX people_subtree ON people(org_path, id);
CREATE INDEX people_org ON people(org_id, id);
CREATE INDEX people_name ON people(name);

-- Head counts of each organization's whole subtree by stage and category, kept up to date in the same
-- transaction as every change of a person, so that a dashboard never scans the people table.
CREATE TABLE org_counts (
    org_id    BIGINT NOT NULL REFERENCES orgs(id),
    stage     TEXT NOT NULL,
    category  TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (org_id, stage, category)
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    person_id       BIGINT REFERENCES people(id),
    active          BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    password_changed_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_username ON users(username);
CREATE UNIQUE INDEX users_person ON users(person_id);

CREATE TABLE grants (
    id          INTEGER PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    org_id      BIGINT REFERENCES orgs(id),
    starts_on   DATE,
    ends_on     DATE,
    created_at  TIMESTAMP NOT NULL,
    created_by  BIGINT REFERENCES users(id)
);
CREATE INDEX grants_user ON grants(user_id);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB NOT NULL,
    user_id       BIGINT NOT NULL REFERENCES users(id),
    kind          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    expires_at    TIMESTAMP NOT NULL,
    ip            TEXT,
    user_agent    TEXT,
    revoked_at    TIMESTAMP
);
CREATE UNIQUE INDEX sessions_token ON sessions(token_hash);
CREATE INDEX sessions_user ON sessions(user_id);

-- Append-only, hash-chained audit log: hash = SHA-256(prev_hash || canonical bytes of the entry).
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor_id    BIGINT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    result      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    ip          TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
