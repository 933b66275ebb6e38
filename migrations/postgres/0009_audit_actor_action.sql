-- The reveal limit (security.md AT-14) counts one account's reveals of the day: without this index the
-- count reads every entry the account ever made (audit_log_actor), which grows for years.
CREATE INDEX audit_log_actor_action ON audit_log(actor_id, action, at);
