-- Transfers of the organizational relationship (组织关系转接) and member status (党籍状态) (crate: affairs,
-- docs/AFFAIRS.md). Kept column-for-column equal to migrations/postgres/0012_transfers.sql; the schema-parity
-- test compares the two.

-- One transfer of a person's organizational relationship. kind: internal (from one branch of the
-- university to another: the receiving side accepts or returns it, and the person moves only on
-- acceptance), out (to an organization elsewhere, with an introduction letter; closed by its receipt, 回执) or
-- in (an incoming letter recorded and the person placed). state: pending, accepted (internal: moved; out:
-- the receipt came back; in: placed), returned (internal, with return_reason) or cancelled (by the sender).
-- from_org_* is the person's organization when the transfer began, to_org_* the receiving one inside the
-- university; external_org names the organization outside. Each side finds its transfers as an index range
-- of its materialised path.
CREATE TABLE transfers (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    from_org_id     BIGINT REFERENCES orgs(id),
    from_org_path   TEXT,
    to_org_id       BIGINT REFERENCES orgs(id),
    to_org_path     TEXT,
    external_org    TEXT,
    reason          TEXT NOT NULL,
    note            TEXT,
    initiated_on    DATE NOT NULL,
    -- "YYYY-MM": the month the dues are paid up to, as the letter states it.
    fee_paid_through TEXT,
    decided_on      DATE,
    decided_by      BIGINT REFERENCES users(id),
    return_reason   TEXT,
    receipt_on      DATE,
    receipt_note    TEXT,
    version         BIGINT NOT NULL,
    created_by      BIGINT REFERENCES users(id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX transfers_from ON transfers(from_org_path, id);
CREATE INDEX transfers_to ON transfers(to_org_path, id);
CREATE INDEX transfers_person ON transfers(person_id, id);
-- A person has at most one transfer under way: she is in exactly one branch at every moment.
CREATE UNIQUE INDEX transfers_one_open ON transfers(person_id) WHERE state = 'pending';

-- Introduction letters (介绍信), outgoing (issued here; a reissue supersedes the letter before it) and incoming
-- (recorded as presented). The letter's items are kept as issued, so a second download prints the same
-- letter: name, gender, age, ethnicity, the masked ID number, party standing, the organizations, dues.
CREATE TABLE transfer_letters (
    id              INTEGER PRIMARY KEY,
    transfer_id     BIGINT NOT NULL REFERENCES transfers(id),
    direction       TEXT NOT NULL,
    number          TEXT NOT NULL,
    issued_on       DATE NOT NULL,
    valid_days      BIGINT NOT NULL,
    valid_until     DATE NOT NULL,
    -- current, superseded (by a reissue), void (the transfer was cancelled)
    state           TEXT NOT NULL,
    replaces_id     BIGINT REFERENCES transfer_letters(id),
    reissue_reason  TEXT,
    presented_on    DATE,
    person_name     TEXT NOT NULL,
    gender          TEXT NOT NULL,
    age             BIGINT NOT NULL,
    ethnicity       TEXT,
    id_number_masked TEXT NOT NULL,
    standing        TEXT NOT NULL,
    from_org_name   TEXT NOT NULL,
    to_org_name     TEXT NOT NULL,
    issuer_name     TEXT NOT NULL,
    issuer_phone    TEXT,
    fee_paid_through TEXT,
    issued_by       BIGINT REFERENCES users(id),
    created_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX transfer_letters_number ON transfer_letters(direction, number);
CREATE INDEX transfer_letters_transfer ON transfer_letters(transfer_id, id);

-- Every change of a member's 党籍/组织关系 status (people.status), with its reason and date: the history the
-- status card shows. place, fixed_place and expected_until describe a mobile member's or a member's stay
-- abroad (TRF-01: six months at a fixed place moves the relationship); decided_by names the body that
-- decided a suspension or a restoration (C7: the platform never decides).
CREATE TABLE status_changes (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    effective_on    DATE NOT NULL,
    reason          TEXT NOT NULL,
    place           TEXT,
    fixed_place     BOOLEAN,
    expected_until  DATE,
    certificate_no  TEXT,
    decided_by      TEXT,
    recorded_by     BIGINT REFERENCES users(id),
    recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX status_changes_person ON status_changes(person_id, id);

-- Contacts with a member away, abroad or lost (TRF-03: members abroad are contacted at least every half year;
-- TRF-04: lost contact is counted from the latest sign of the member).
CREATE TABLE member_contacts (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    contacted_on    DATE NOT NULL,
    channel         TEXT NOT NULL,
    note            TEXT,
    recorded_by     BIGINT REFERENCES users(id),
    recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX member_contacts_person ON member_contacts(person_id, contacted_on);

-- Graduates whose relationship the university keeps (TRF-03: generally at most two years).
CREATE TABLE graduate_retentions (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    since           DATE NOT NULL,
    reason          TEXT NOT NULL,
    ended_on        DATE,
    end_reason      TEXT,
    recorded_by     BIGINT REFERENCES users(id),
    recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX graduate_retentions_person ON graduate_retentions(person_id, since);
CREATE UNIQUE INDEX graduate_retentions_open ON graduate_retentions(person_id) WHERE ended_on IS NULL;
