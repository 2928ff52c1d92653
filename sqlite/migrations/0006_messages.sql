-- Messages of conversations.
--
-- conversations.last_message_index is the index of the conversation's
-- newest message (NULL before the first): a message takes the next one in
-- the statement that raises it, which also locks the conversation's row,
-- so indexes are unique and increasing under any number of senders, and
-- unread counts need no count of rows. A message's seq follows its index
-- within a conversation (the row lock orders the inserts), so lists page
-- by (conversation_sid, seq).
--
-- participant_sid has no foreign key: a participant who leaves keeps
-- their messages, with their participant SID.
ALTER TABLE conversations ADD COLUMN last_message_index INTEGER;

CREATE TABLE messages (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    sid              TEXT    NOT NULL UNIQUE,
    service_sid      TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid TEXT    NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    idx              INTEGER NOT NULL,
    author           TEXT    NOT NULL,
    body             TEXT,
    attributes       TEXT    NOT NULL,
    participant_sid  TEXT,
    content_sid      TEXT,
    subject          TEXT,
    date_created     INTEGER NOT NULL,
    date_updated     INTEGER NOT NULL,
    UNIQUE (conversation_sid, idx)
);
CREATE INDEX messages_by_conversation ON messages (conversation_sid, seq);
