-- The holiday calendar that publicity periods count working days by (domain.md DEV-11: "count working days
-- with an explicit holiday calendar supplied as data"): the days off of the State Council's yearly holiday
-- notice (kind 'holiday') and the weekend days worked instead (kind 'working'). Kept by the system
-- administrator year by year on the 规则版本 page; every change is audited.
CREATE TABLE work_calendar (
    day        DATE PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('holiday', 'working')),
    updated_by BIGINT REFERENCES users(id),
    updated_at TIMESTAMPTZ NOT NULL
);
