-- Numbered in lockstep with ../../sqlite/migrations/0015_delivery_response.sql,
-- which says what the column holds.
ALTER TABLE webhook_deliveries ADD COLUMN last_response text;
