-- Delivery receipts: the latest status of a message for one non-chat
-- participant (one row per pair, rewritten as the status moves), and the
-- message's aggregate of them (messages.delivery, JSON, NULL while it has
-- none). participant_sid has no foreign key: receipts outlive a
-- participant who leaves, as the message does.
CREATE TABLE receipts (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    sid                 TEXT    NOT NULL UNIQUE,
    service_sid         TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid    TEXT    NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    message_sid         TEXT    NOT NULL REFERENCES messages (sid) ON DELETE CASCADE,
    participant_sid     TEXT    NOT NULL,
    channel_message_sid TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed', 'undelivered')),
    error_code          INTEGER,
    date_created        INTEGER NOT NULL,
    date_updated        INTEGER NOT NULL,
    UNIQUE (message_sid, participant_sid)
);
CREATE INDEX receipts_by_message ON receipts (message_sid, seq);
ALTER TABLE messages ADD COLUMN delivery TEXT;
