-- Numbered in lockstep with ../../sqlite/migrations/0014_delivery_retention.sql,
-- which says what the index is for.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (date_updated) WHERE status <> 'pending';
