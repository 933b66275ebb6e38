-- PIPL rights beyond the copy (个人信息保护法 第四十五至四十七条; security.md AT-36, AT-37; crates/platform
-- service/rights.rs, docs/SECURITY.md). Kept column-for-column equal to migrations/postgres/0016_privacy_rights.sql;
-- the schema-parity test compares the two.

-- A member's request about her own data. kind: copy (a single-use download link: token_hash is the SHA-256
-- of the link's token, never the token; expires_at at most 72 hours on), correction (field, the proposed
-- value sealed with the field cipher since it may be a phone or an ID number, the reason, due_on from
-- platform::rules::correction_due) or deletion (two different record keepers: endorsed_by proposes,
-- decided_by approves; pseudonym is the key left in the records kept by law). state: copy ready /
-- downloaded / expired; correction pending / accepted / refused; deletion pending / endorsed / done /
-- refused. org_path is her organization's path when she asked: the record keepers' queue is a range of it.
CREATE TABLE privacy_requests (
    id            INTEGER PRIMARY KEY,
    person_id     BIGINT NOT NULL REFERENCES people(id),
    org_path      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL,
    field         TEXT,
    proposed_enc  BLOB,
    reason        TEXT,
    due_on        DATE,
    token_hash    BLOB,
    expires_at    TIMESTAMP,
    requested_by  BIGINT REFERENCES users(id),
    requested_at  TIMESTAMP NOT NULL,
    endorsed_by   BIGINT REFERENCES users(id),
    endorsed_at   TIMESTAMP,
    decided_by    BIGINT REFERENCES users(id),
    decided_at    TIMESTAMP,
    decision_note TEXT,
    pseudonym     TEXT
);
CREATE INDEX privacy_requests_person ON privacy_requests(person_id, id);
CREATE INDEX privacy_requests_queue ON privacy_requests(org_path, state, id);
CREATE UNIQUE INDEX privacy_requests_token ON privacy_requests(token_hash);

-- When a person's data was erased (AT-37): the row stays as the pseudonymous key of the records the Party's
-- archive rules keep (development, status, transfers, attendance), with no name, ID number or contact left.
ALTER TABLE people ADD COLUMN erased_at TIMESTAMP;
