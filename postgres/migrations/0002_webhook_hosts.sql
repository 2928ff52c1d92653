-- The webhook outbox is queued per receiving host, so that a receiver that
-- is slow or down holds back only its own deliveries; numbered in lockstep
-- with ../../sqlite/migrations. host is parley.DeliveryHost(url):
-- scheme://host:port, lowercased, the default port made explicit; the store
-- sets it on every new delivery. It compares byte by byte (COLLATE "C"), as
-- SQLite's text does, so both backends list hosts in one order.
ALTER TABLE webhook_deliveries ADD COLUMN host text COLLATE "C" NOT NULL DEFAULT '';

-- Rows queued before this migration get the same key, computed as
-- DeliveryHost does: the authority (up to the first / ? or # after "://"),
-- without any userinfo (up to the last @), lowercased; the scheme in front;
-- and, where the authority names no port (no colon, or none after an IPv6
-- literal's closing bracket), the scheme's default one.
UPDATE webhook_deliveries d SET host = h.scheme || '://' || h.authority ||
    CASE WHEN h.authority LIKE '%:%' AND h.authority NOT LIKE '%]' THEN ''
         WHEN h.scheme = 'https' THEN ':443'
         ELSE ':80' END
FROM (SELECT seq,
             lower(substring(url FROM '^([^:]*)://')) AS scheme,
             lower(substring(url FROM '^[^:]*://(?:[^/?#]*@)?([^/?#]*)')) AS authority
      FROM webhook_deliveries) h
WHERE h.seq = d.seq;

-- Claims and the search for hosts with due work walk this index: per host,
-- in due order. Nothing reads the outbox in due order across hosts any
-- more.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_by_host ON webhook_deliveries (host, next_attempt_at, seq) WHERE status = 'pending';
