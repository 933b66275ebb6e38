-- A grant withdrawn by hand before its term (security.md AT-16, 等保 GB/T 22239-2019 §8.1.4.2 c): the
-- security administrator's act is kept beside the grant — when, by whom, why — and the grant's end date
-- becomes the day before, so the one rule of terms (access::grant_in_force_at) takes it out of force.
ALTER TABLE grants ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE grants ADD COLUMN withdrawn_by BIGINT REFERENCES users(id);
ALTER TABLE grants ADD COLUMN withdraw_reason TEXT;
