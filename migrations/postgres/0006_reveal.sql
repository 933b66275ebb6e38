-- "谁查看了我的信息" (security issue, AT-14): a member's view of the audit entries about her record reads
-- them by target.
CREATE INDEX audit_log_target ON audit_log(target, seq);
