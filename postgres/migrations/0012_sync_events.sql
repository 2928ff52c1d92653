-- Numbered in lockstep with ../../sqlite/migrations/0012_sync_events.sql,
-- which says what the tables are for.
CREATE TABLE sync_objects (
    object_id     text   COLLATE "C" PRIMARY KEY,
    last_event_id bigint NOT NULL
);

CREATE TABLE sync_events (
    object_id    text           COLLATE "C" NOT NULL,
    event_id     bigint         NOT NULL,
    service_sid  text           NOT NULL,
    event_type   text           NOT NULL,
    item_key     text           NOT NULL,
    data         text,
    date_created timestamptz(3) NOT NULL,
    PRIMARY KEY (object_id, event_id)
);
CREATE INDEX sync_events_by_date ON sync_events (date_created);
