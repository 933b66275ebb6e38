-- The application's own PostgreSQL role (security.md AT-25): run by the schema's owner (the role that runs
-- `dangjian migrate`) after each migration, with {schema} and {role} replaced. The application then
-- connects as {role}: it reads and writes the data, appends to the audit log, and can neither change nor
-- remove an audit entry (nor switch the table's triggers off: only the owner can).
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_log FROM {role};
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_checkpoints FROM {role};
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_restored FROM {role};
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.crypto_profile FROM {role};
-- The dues ledger is append-only as well (security.md AT-29): corrections are reversing entries.
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.fee_payments FROM {role};
