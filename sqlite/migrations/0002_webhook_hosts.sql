-- The webhook outbox is queued per receiving host, so that a receiver that
-- is slow or down holds back only its own deliveries. host is
-- parley.DeliveryHost(url): scheme://host:port, lowercased, the default
-- port made explicit; the store sets it on every new delivery.
ALTER TABLE webhook_deliveries ADD COLUMN host TEXT NOT NULL DEFAULT '';

-- Rows queued before this migration get the same key, computed here step
-- by step as DeliveryHost does: the authority (up to the first / ? or #
-- after "://"), without any userinfo (up to the last @), lowercased; then
-- the scheme in front and, where the authority names no port (no colon, or
-- none after an IPv6 literal's closing bracket), the scheme's default one.
UPDATE webhook_deliveries SET host = substr(url, instr(url, '://') + 3);
UPDATE webhook_deliveries SET host = substr(host, 1, instr(replace(replace(host, '?', '/'), '#', '/') || '/', '/') - 1);
UPDATE webhook_deliveries SET host = lower(substr(host, length(rtrim(host, replace(host, '@', ''))) + 1));
UPDATE webhook_deliveries SET host = lower(substr(url, 1, instr(url, '://') - 1)) || '://' || host ||
    CASE WHEN host LIKE '%:%' AND host NOT LIKE '%]' THEN ''
         WHEN lower(substr(url, 1, instr(url, '://') - 1)) = 'https' THEN ':443'
         ELSE ':80' END;

-- Claims and the search for hosts with due work walk this index: per host,
-- in due order. Nothing reads the outbox in due order across hosts any
-- more.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_by_host ON webhook_deliveries (host, next_attempt_at, seq) WHERE status = 'pending';
