-- Conversation-scoped webhooks: at most five per conversation (core
-- counts them under the conversation's row lock). filters and triggers are
-- JSON arrays of strings.
CREATE TABLE conversation_webhooks (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    sid              TEXT    NOT NULL UNIQUE,
    service_sid      TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid TEXT    NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    target           TEXT    NOT NULL CHECK (target IN ('webhook', 'trigger', 'studio')),
    url              TEXT,
    method           TEXT,
    filters          TEXT,
    triggers         TEXT,
    flow_sid         TEXT,
    date_created     INTEGER NOT NULL,
    date_updated     INTEGER NOT NULL
);
CREATE INDEX conversation_webhooks_by_conversation ON conversation_webhooks (conversation_sid, seq);
