-- Delivery receipts; numbered in lockstep with
-- ../../sqlite/migrations/0008_receipts.sql, which says what they hold.
CREATE TABLE receipts (
    seq                 bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid                 text           NOT NULL UNIQUE,
    service_sid         text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid    text           NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    message_sid         text           NOT NULL REFERENCES messages (sid) ON DELETE CASCADE,
    participant_sid     text           NOT NULL,
    channel_message_sid text           NOT NULL,
    status              text           NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed', 'undelivered')),
    error_code          bigint,
    date_created        timestamptz(0) NOT NULL,
    date_updated        timestamptz(0) NOT NULL,
    UNIQUE (message_sid, participant_sid)
);
CREATE INDEX receipts_by_message ON receipts (message_sid, seq);
ALTER TABLE messages ADD COLUMN delivery text;
