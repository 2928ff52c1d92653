-- Conversation-scoped webhooks; numbered in lockstep with
-- ../../sqlite/migrations/0007_conversation_webhooks.sql.
CREATE TABLE conversation_webhooks (
    seq              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid              text           NOT NULL UNIQUE,
    service_sid      text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid text           NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    target           text           NOT NULL CHECK (target IN ('webhook', 'trigger', 'studio')),
    url              text,
    method           text,
    filters          text,
    triggers         text,
    flow_sid         text,
    date_created     timestamptz(0) NOT NULL,
    date_updated     timestamptz(0) NOT NULL
);
CREATE INDEX conversation_webhooks_by_conversation ON conversation_webhooks (conversation_sid, seq);
