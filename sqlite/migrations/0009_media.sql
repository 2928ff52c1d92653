-- Media (decision 15): files uploaded to a service, each carried by at
-- most one message, bytes in media_chunks (a few hundred KiB each, so that
-- uploads and downloads stream one chunk at a time).
--
-- size is NULL while an upload is under way: its chunks are written in
-- transactions of their own, and only CompleteMedia sets the size that
-- makes the row visible. Uploads a dead server left unfinished are swept
-- by date_created (media_unfinished).
--
-- A message's media are also kept on the message (messages.media, JSON),
-- so that listing messages joins nothing. Deleting the message, its
-- conversation or the service deletes the media and its bytes.
CREATE TABLE media (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    sid              TEXT    NOT NULL UNIQUE,
    service_sid      TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    content_type     TEXT    NOT NULL,
    filename         TEXT,
    category         TEXT    NOT NULL,
    author           TEXT    NOT NULL,
    size             INTEGER,
    conversation_sid TEXT    REFERENCES conversations (sid) ON DELETE CASCADE,
    message_sid      TEXT    UNIQUE REFERENCES messages (sid) ON DELETE CASCADE,
    date_created     INTEGER NOT NULL,
    date_updated     INTEGER NOT NULL
);
CREATE INDEX media_unfinished ON media (date_created) WHERE size IS NULL;
CREATE INDEX media_by_conversation ON media (conversation_sid);

CREATE TABLE media_chunks (
    media_sid TEXT    NOT NULL REFERENCES media (sid) ON DELETE CASCADE,
    n         INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (media_sid, n)
);

ALTER TABLE messages ADD COLUMN media TEXT;
