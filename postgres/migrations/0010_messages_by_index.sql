-- Numbered in lockstep with ../../sqlite/migrations/0010_messages_by_index.sql.
DROP INDEX messages_by_conversation;
