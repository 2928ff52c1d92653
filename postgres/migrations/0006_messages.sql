-- Messages of conversations; numbered in lockstep with
-- ../../sqlite/migrations/0006_messages.sql, which says how indexes are
-- allocated and why participant_sid has no foreign key.
ALTER TABLE conversations ADD COLUMN last_message_index bigint;

CREATE TABLE messages (
    seq              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid              text           NOT NULL UNIQUE,
    service_sid      text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid text           NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    idx              bigint         NOT NULL,
    author           text           NOT NULL,
    body             text,
    attributes       text           NOT NULL,
    participant_sid  text,
    content_sid      text,
    subject          text,
    date_created     timestamptz(0) NOT NULL,
    date_updated     timestamptz(0) NOT NULL,
    UNIQUE (conversation_sid, idx)
);
CREATE INDEX messages_by_conversation ON messages (conversation_sid, seq);
