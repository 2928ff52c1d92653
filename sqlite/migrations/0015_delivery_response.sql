-- The start of the receiver's last answer (parley.Delivery.LastResponse):
-- what it said when it refused a delivery. NULL when the last attempt got
-- no answer (refused connection, timeout) or none was made yet, and for
-- deliveries attempted before this migration (their answers were not kept).
ALTER TABLE webhook_deliveries ADD COLUMN last_response TEXT;
