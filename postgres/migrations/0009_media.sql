-- Media; numbered in lockstep with ../../sqlite/migrations/0009_media.sql,
-- which says what they hold.
CREATE TABLE media (
    seq              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid              text           NOT NULL UNIQUE,
    service_sid      text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    content_type     text           NOT NULL,
    filename         text,
    category         text           NOT NULL,
    author           text           NOT NULL,
    size             bigint,
    conversation_sid text           REFERENCES conversations (sid) ON DELETE CASCADE,
    message_sid      text           UNIQUE REFERENCES messages (sid) ON DELETE CASCADE,
    date_created     timestamptz(0) NOT NULL,
    date_updated     timestamptz(0) NOT NULL
);
CREATE INDEX media_unfinished ON media (date_created) WHERE size IS NULL;
CREATE INDEX media_by_conversation ON media (conversation_sid);

-- Chunks are stored as they come (already compressed, mostly): no TOAST
-- compression to spend CPU on.
CREATE TABLE media_chunks (
    media_sid text    NOT NULL REFERENCES media (sid) ON DELETE CASCADE,
    n         bigint  NOT NULL,
    data      bytea   NOT NULL,
    PRIMARY KEY (media_sid, n)
);
ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

ALTER TABLE messages ADD COLUMN media text;
