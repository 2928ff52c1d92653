-- The Sync event log (parley.SyncEvent): what client SDKs are told about
-- the Sync objects they read. A write appends the events it causes in its
-- own transaction; connections are fed from it after commit and replay it
-- from a client's last_event_id. sync_objects holds each object's last id
-- (never deleted: ids must not go back when old events are trimmed).
--
-- The log is kept in append order (seq), so its rows go at the end of the
-- table; only the small (object_id, event_id) index entries land where
-- their object is. Trimming reads from the start in seq order up to the
-- first event young enough to keep (dates follow seq), so no date index is
-- needed.
CREATE TABLE sync_objects (
    object_id     TEXT    PRIMARY KEY,
    last_event_id INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE sync_events (
    seq          INTEGER PRIMARY KEY,
    object_id    TEXT    NOT NULL,
    event_id     INTEGER NOT NULL,
    service_sid  TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    item_key     TEXT    NOT NULL,
    data         TEXT,
    date_created INTEGER NOT NULL
);
CREATE UNIQUE INDEX sync_events_by_object ON sync_events (object_id, event_id);
