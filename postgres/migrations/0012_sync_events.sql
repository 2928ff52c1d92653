-- Numbered in lockstep with ../../sqlite/migrations/0012_sync_events.sql,
-- which says what the tables are for and why the log is in seq order.
CREATE TABLE sync_objects (
    object_id     text   COLLATE "C" PRIMARY KEY,
    last_event_id bigint NOT NULL
);

CREATE TABLE sync_events (
    seq          bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_id    text           COLLATE "C" NOT NULL,
    event_id     bigint         NOT NULL,
    service_sid  text           NOT NULL,
    event_type   text           NOT NULL,
    item_key     text           NOT NULL,
    data         text,
    date_created timestamptz(3) NOT NULL
);
CREATE UNIQUE INDEX sync_events_by_object ON sync_events (object_id, event_id);
