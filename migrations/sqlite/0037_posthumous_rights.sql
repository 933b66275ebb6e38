-- 个人信息保护法 第四十九条: after a member's death her close relatives (民法典 第一千零四十五条) may, for their own
-- lawful and legitimate interests, exercise the rights of access, copy, correction and deletion over her data,
-- unless she arranged otherwise in her lifetime (crates/platform service/rights.rs, docs/SECURITY.md). A
-- relative has no account: her record keeper files the request after checking the relative's identity
-- document and the proof of the relationship. Who asked: the relationship, the name and the telephone, sealed
-- with the field cipher like a member's own items (and dropped when her data is erased, so the pseudonym
-- does not lead back to her family). Kept column-for-column equal to migrations/postgres/0037.
ALTER TABLE privacy_requests ADD COLUMN requester_relation TEXT;
ALTER TABLE privacy_requests ADD COLUMN requester_name_enc BLOB;
ALTER TABLE privacy_requests ADD COLUMN requester_phone_enc BLOB;

-- Her arrangement, made in her lifetime on 我的个人信息 (第四十九条 "死者生前另有安排的除外"): whether her close
-- relatives may exercise these rights after her death (the law's default: they may), and a note for her
-- record keepers (say, "仅限配偶"). One row per person; part of her copy; erased with her data.
CREATE TABLE posthumous_arrangements (
    person_id     BIGINT PRIMARY KEY REFERENCES people(id),
    relatives_may BOOLEAN NOT NULL,
    note          TEXT,
    set_by        BIGINT REFERENCES users(id),
    set_at        TIMESTAMP NOT NULL
);
