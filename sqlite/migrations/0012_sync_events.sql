-- The Sync event log (parley.SyncEvent): what client SDKs are told about
-- the Sync objects they read. A write appends the events it causes in its
-- own transaction; connections are fed from it after commit and replay it
-- from a client's last_event_id. sync_objects holds each object's last id
-- (never deleted: ids must not go back when old events are trimmed).
CREATE TABLE sync_objects (
    object_id     TEXT    PRIMARY KEY,
    last_event_id INTEGER NOT NULL
);

CREATE TABLE sync_events (
    object_id    TEXT    NOT NULL,
    event_id     INTEGER NOT NULL,
    service_sid  TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    item_key     TEXT    NOT NULL,
    data         TEXT,
    date_created INTEGER NOT NULL,
    PRIMARY KEY (object_id, event_id)
);
CREATE INDEX sync_events_by_date ON sync_events (date_created);
