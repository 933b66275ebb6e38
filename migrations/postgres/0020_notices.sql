-- Notices (通知公告) with read receipts (crate: life, docs/LIFE.md). Kept column-for-column equal to
-- migrations/sqlite/0020_notices.sql; the schema-parity test compares the two.

-- A notice published by an organization to the people of its subtree. stages: the stages it is for, as
-- comma-separated codes (empty: everyone in the subtree); body: sanitized rich text (platform::richtext);
-- state: published or withdrawn (撤回: recipients no longer see it; the record stays). recipients: how many
-- people it was sent to (the rows of notice_recipients, fixed at publication), read_count how many of
-- them confirmed (kept with each confirmation, so lists need no count).
CREATE TABLE notices (
    id              BIGSERIAL PRIMARY KEY,
    org_id          BIGINT NOT NULL REFERENCES orgs(id),
    org_path        TEXT COLLATE "C" NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    stages          TEXT NOT NULL,
    needs_receipt   BOOLEAN NOT NULL,
    state           TEXT NOT NULL,
    recipients      BIGINT NOT NULL,
    read_count      BIGINT NOT NULL,
    published_at    TIMESTAMPTZ NOT NULL,
    withdrawn_at    TIMESTAMPTZ,
    withdraw_reason TEXT,
    -- Title and text segmented by jieba at publication (platform::search), lower-cased, space-joined.
    search_tokens   TEXT NOT NULL,
    created_by      BIGINT REFERENCES users(id),
    version         BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX notices_org ON notices(org_path, published_at);

-- The search index (as materials_search in 0008): to_tsvector('simple', …) over the pre-segmented tokens.
CREATE INDEX notices_search ON notices USING GIN (to_tsvector('simple', search_tokens));

-- Who a notice was sent to, fixed when it is published (people who join the branch later do not receive
-- it; the read rate is of those it reached). read_at: when the person confirmed reading it (回执), by a
-- POST, never by merely opening the page.
CREATE TABLE notice_recipients (
    notice_id       BIGINT NOT NULL REFERENCES notices(id),
    person_id       BIGINT NOT NULL REFERENCES people(id),
    read_at         TIMESTAMPTZ,
    PRIMARY KEY (notice_id, person_id)
);
CREATE INDEX notice_recipients_person ON notice_recipients(person_id, notice_id);
