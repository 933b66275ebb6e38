-- Party dues (党费, crate: affairs, docs/AFFAIRS.md "Fees"): each member's fee profile with its history, the
-- exemptions and reductions the branch and the committee above decided, and the append-only payments ledger
-- (security.md AT-29). Kept column-for-column equal to migrations/postgres/0019_fees.sql; the schema-parity test
-- compares the two.

-- A member's fee profile: the category (FEE-01…06), the monthly base after the regulation's deductions
-- (FEE-03, in fen), the reading of the base it was worked out under, and when a change of income changes the
-- dues (FEE-07: annual_lock, the default, or follow_wage). A change is a new row effective from a month
-- (`YYYY-MM`); the row in force in a month is the latest one effective by then, so the history stays.
CREATE TABLE fee_profiles (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    effective_from  TEXT NOT NULL,
    category        TEXT NOT NULL,
    base_fen        BIGINT,
    base_policy     TEXT NOT NULL,
    wage_policy     TEXT NOT NULL,
    farmer_fen      BIGINT,
    -- The payslip the base was worked out from, when one was given (FEE-03).
    payslip_included_fen BIGINT,
    payslip_tax_fen      BIGINT,
    payslip_contributions_fen BIGINT,
    note            TEXT,
    recorded_by     BIGINT REFERENCES users(id),
    recorded_at     TIMESTAMP NOT NULL
);
CREATE INDEX fee_profiles_person ON fee_profiles(person_id, effective_from, id);

-- Exemptions (免交) and reductions (少交) for members in real difficulty (FEE-08): in force only when the
-- branch studied it (branch_decided_on) AND the next-level committee approved it (approved_on); the approval
-- may be recorded later. monthly_fen: the reduced monthly amount (reduce only).
CREATE TABLE fee_reductions (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    kind            TEXT NOT NULL,
    from_month      TEXT NOT NULL,
    to_month        TEXT NOT NULL,
    monthly_fen     BIGINT,
    reason          TEXT NOT NULL,
    branch_decision TEXT NOT NULL,
    branch_decided_on DATE NOT NULL,
    approved_by     TEXT,
    approved_on     DATE,
    recorded_by     BIGINT REFERENCES users(id),
    recorded_at     TIMESTAMP NOT NULL,
    approval_recorded_by BIGINT REFERENCES users(id),
    approval_recorded_at TIMESTAMP
);
CREATE INDEX fee_reductions_person ON fee_reductions(person_id, from_month);

-- The payments ledger, append-only (AT-29): dues for months from..to, a voluntary one-off (voluntary; 1000
-- yuan or more: large, 大额党费, remitted entirely to the centre, FEE-02) or a reversal of an earlier entry
-- (corrections never edit a row). payment_id is the payment's own number (an online payment's transaction
-- number, or one the platform gives a cash or bank entry): UNIQUE, so a callback replayed any number of times
-- records one entry. mac = HMAC-SHA-256 under a key derived from the key file over the row's fields
-- (`dangjian fees verify`).
CREATE TABLE fee_payments (
    id              INTEGER PRIMARY KEY,
    person_id       BIGINT NOT NULL REFERENCES people(id),
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    kind            TEXT NOT NULL,
    from_month      TEXT,
    to_month        TEXT,
    months          BIGINT NOT NULL,
    amount_fen      BIGINT NOT NULL,
    paid_on         DATE NOT NULL,
    method          TEXT NOT NULL,
    payment_id      TEXT NOT NULL,
    reverses_id     BIGINT REFERENCES fee_payments(id),
    remit_status    TEXT,
    warning         TEXT,
    note            TEXT,
    recorded_by     BIGINT REFERENCES users(id),
    recorded_at     TIMESTAMP NOT NULL,
    mac             BLOB NOT NULL
);
CREATE UNIQUE INDEX fee_payments_payment_id ON fee_payments(payment_id);
CREATE UNIQUE INDEX fee_payments_reverses ON fee_payments(reverses_id);
CREATE INDEX fee_payments_person ON fee_payments(person_id, id);

CREATE TRIGGER fee_payments_no_update BEFORE UPDATE ON fee_payments
BEGIN SELECT RAISE(ABORT, 'fee_payments is append-only: record a reversing entry instead'); END;
CREATE TRIGGER fee_payments_no_delete BEFORE DELETE ON fee_payments
BEGIN SELECT RAISE(ABORT, 'fee_payments is append-only: record a reversing entry instead'); END;
