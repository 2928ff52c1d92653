-- Messages page by (conversation_sid, idx), the unique index their
-- indexes need anyway; the index on (conversation_sid, seq) only made
-- every send write one more page.
DROP INDEX messages_by_conversation;
