-- Finished deliveries (delivered, failed, recorded), oldest update first:
-- what the retention pruner deletes (--webhook-retention), found without
-- a scan of the outbox.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (date_updated) WHERE status <> 'pending';
