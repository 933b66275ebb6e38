-- Committees and their terms (委员会与届次), elections (换届选举) and the reminders of terms ending (crate: life,
-- module committees, docs/LIFE.md). Kept column-for-column equal to migrations/sqlite/0024_committees.sql;
-- the schema-parity test compares the two.

-- One term (届) of an organization's committee — or, in a branch of fewer than 7 formal members, of its
-- secretary and deputy (ORG-09). due_on: the term's end by ORG-10 (elected_on + term_years); postponed_to: the
-- election day an approved delay or advance (延期/提前换届, ≤ 1 year, 选举工作条例第三条) moved it to, with the
-- approving organization or document, the day of the approval and the reason. ended_on: the day the next term
-- began (NULL: the current term). flag / flagged_on: what the nightly committees.remind job last found
-- (due_soon: the election is due within 6 months; overdue: past it), NULL when neither.
CREATE TABLE committee_terms (
    id                   BIGSERIAL PRIMARY KEY,
    org_id               BIGINT NOT NULL REFERENCES orgs(id),
    org_path             TEXT COLLATE "C" NOT NULL,
    number               BIGINT NOT NULL,
    elected_on           DATE NOT NULL,
    term_years           BIGINT NOT NULL,
    due_on               DATE NOT NULL,
    postponed_to         DATE,
    postpone_reason      TEXT,
    postpone_approved_by TEXT,
    postpone_approved_on DATE,
    ended_on             DATE,
    election_id          BIGINT,
    flag                 TEXT,
    flagged_on           DATE,
    created_by           BIGINT REFERENCES users(id),
    version              BIGINT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX committee_terms_number ON committee_terms(org_id, number);
CREATE INDEX committee_terms_subtree ON committee_terms(org_path, ended_on);

-- The members of a term and their posts (secretary 书记, deputy 副书记, organizing 组织委员, publicity 宣传委员,
-- discipline 纪检委员, member 委员).
CREATE TABLE committee_members (
    term_id   BIGINT NOT NULL REFERENCES committee_terms(id),
    person_id BIGINT NOT NULL REFERENCES people(id),
    post      TEXT NOT NULL,
    PRIMARY KEY (term_id, person_id)
);
CREATE INDEX committee_members_person ON committee_members(person_id);

-- An election (ELE-01) as counted: those entitled to attend, those present, the seats; quorum and majority are
-- computed by life::rules::election, and a valid election opens term_id. findings: the warnings it carried
-- (JSON list of rule findings, e.g. too few candidates for a multi-candidate election).
CREATE TABLE committee_elections (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs(id),
    org_path    TEXT COLLATE "C" NOT NULL,
    held_on     DATE NOT NULL,
    entitled    BIGINT NOT NULL,
    present     BIGINT NOT NULL,
    seats       BIGINT NOT NULL,
    term_id     BIGINT,
    findings    TEXT NOT NULL,
    created_by  BIGINT REFERENCES users(id),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX committee_elections_org ON committee_elections(org_id, held_on);

-- The votes of each candidate (yes votes) and whether she was elected.
CREATE TABLE election_candidates (
    election_id BIGINT NOT NULL REFERENCES committee_elections(id),
    person_id   BIGINT NOT NULL REFERENCES people(id),
    votes       BIGINT NOT NULL,
    elected     BOOLEAN NOT NULL,
    PRIMARY KEY (election_id, person_id)
);
CREATE INDEX election_candidates_person ON election_candidates(person_id);
