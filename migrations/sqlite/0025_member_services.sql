-- 党员服务 (member services, crate: life, docs/LIFE.md): a member's requests with their history, the
-- certificates a completed request yields, volunteer-service hours, and each person's calendar feed. Kept
-- column-for-column equal to migrations/postgres/0025_member_services.sql; the schema-parity test compares them.

-- A request a member files (kind: membership_proof 党员身份证明, relation_proof 组织关系证明, hardship 困难帮扶,
-- other 其他), routed to the organization she belonged to when she filed it (its secretary, and staff above,
-- handle it). state: submitted → accepted → completed, or refused (with a reason), or cancelled by her.
CREATE TABLE service_requests (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_path        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    details         TEXT NOT NULL,
    state           TEXT NOT NULL,
    -- The latest reason or note of the handler (a refusal's reason, what was done on completion).
    note            TEXT,
    created_by      BIGINT REFERENCES users(id),
    version         BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX service_requests_org ON service_requests(org_path, created_at);
CREATE INDEX service_requests_person ON service_requests(person_id, created_at);

-- Every state a request went through, who moved it and why (the request's history).
CREATE TABLE service_request_events (
    id              INTEGER PRIMARY KEY,
    request_id      BIGINT NOT NULL REFERENCES service_requests(id),
    state           TEXT NOT NULL,
    note            TEXT,
    user_id         BIGINT REFERENCES users(id),
    actor_name      TEXT NOT NULL,
    at              TIMESTAMP NOT NULL
);
CREATE INDEX service_request_events_request ON service_request_events(request_id, id);

-- A certificate (证明) issued when a 党员身份证明 request is completed. number: unguessable (a keyed MAC in it),
-- what the verification QR code carries; person_name, standing and org_name as printed. state: valid or
-- revoked (收回, with a reason).
CREATE TABLE certificates (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL,
    request_id      BIGINT NOT NULL REFERENCES service_requests(id),
    person_id       BIGINT NOT NULL REFERENCES people(id),
    kind            TEXT NOT NULL,
    person_name     TEXT NOT NULL,
    gender          TEXT NOT NULL,
    standing        TEXT NOT NULL,
    admitted_on     DATE,
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_name        TEXT NOT NULL,
    issued_on       DATE NOT NULL,
    state           TEXT NOT NULL,
    revoked_at      TIMESTAMP,
    revoke_reason   TEXT,
    issued_by       BIGINT REFERENCES users(id),
    created_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX certificates_number ON certificates(number);
CREATE INDEX certificates_person ON certificates(person_id);
CREATE INDEX certificates_request ON certificates(request_id);

-- Volunteer service (志愿服务) a member records; her secretary confirms or rejects it. hours_tenths: the hours
-- times ten (0.5 h steps are common; integers add up exactly on both databases).
CREATE TABLE volunteer_hours (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_path        TEXT NOT NULL,
    activity        TEXT NOT NULL,
    served_on       DATE NOT NULL,
    hours_tenths    BIGINT NOT NULL,
    state           TEXT NOT NULL,
    reason          TEXT,
    decided_by      BIGINT REFERENCES users(id),
    decided_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX volunteer_hours_org ON volunteer_hours(org_path, served_on);
CREATE INDEX volunteer_hours_person ON volunteer_hours(person_id, served_on);

-- A person's calendar feed (/calendar/{token}.ics): only the SHA-256 of the token is kept; deleting the row
-- revokes it, a new token replaces it.
CREATE TABLE calendar_feeds (
    person_id       BIGINT PRIMARY KEY REFERENCES people(id),
    token_hash      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX calendar_feeds_token ON calendar_feeds(token_hash);
