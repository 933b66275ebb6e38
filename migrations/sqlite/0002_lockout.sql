-- Account lockout (security issue, 等保三级 身份鉴别 a): failures count per account, not per address, so
-- many users behind one campus NAT are never locked out together.
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;
