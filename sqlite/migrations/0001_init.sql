-- parley schema, SQLite dialect. Times are Unix seconds for resources
-- (Twilio shows second precision) and Unix milliseconds for webhook
-- deliveries (retry backoff needs finer steps). seq columns are the creation
-- order that keyset paging walks; AUTOINCREMENT keeps them from ever being
-- reused, so a cursor never lands on a row created after it.

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    sid          TEXT    NOT NULL,
    auth_token   TEXT    NOT NULL,
    page_key     BLOB    NOT NULL,
    date_created INTEGER NOT NULL
);

CREATE TABLE services (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    sid           TEXT    NOT NULL UNIQUE,
    friendly_name TEXT    NOT NULL,
    date_created  INTEGER NOT NULL,
    date_updated  INTEGER NOT NULL
);

CREATE TABLE roles (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    sid           TEXT    NOT NULL UNIQUE,
    service_sid   TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    friendly_name TEXT    NOT NULL,
    type          TEXT    NOT NULL CHECK (type IN ('service', 'conversation')),
    permissions   TEXT    NOT NULL, -- JSON array of strings
    date_created  INTEGER NOT NULL,
    date_updated  INTEGER NOT NULL
);
CREATE INDEX roles_by_service ON roles (service_sid, seq);

CREATE TABLE service_configs (
    service_sid                           TEXT    PRIMARY KEY REFERENCES services (sid) ON DELETE CASCADE,
    default_chat_service_role_sid         TEXT    NOT NULL REFERENCES roles (sid),
    default_conversation_role_sid         TEXT    NOT NULL REFERENCES roles (sid),
    default_conversation_creator_role_sid TEXT    NOT NULL REFERENCES roles (sid),
    reachability_enabled                  INTEGER NOT NULL DEFAULT 0,
    webhook_method                        TEXT,
    webhook_filters                       TEXT, -- JSON array, NULL when unset
    pre_webhook_url                       TEXT,
    post_webhook_url                      TEXT
);
CREATE INDEX service_configs_chat_role ON service_configs (default_chat_service_role_sid);
CREATE INDEX service_configs_conv_role ON service_configs (default_conversation_role_sid);
CREATE INDEX service_configs_creator_role ON service_configs (default_conversation_creator_role_sid);

CREATE TABLE account_configs (
    id                            INTEGER PRIMARY KEY CHECK (id = 1),
    default_chat_service_sid      TEXT    NOT NULL REFERENCES services (sid),
    default_messaging_service_sid TEXT,
    default_inactive_timer        TEXT,
    default_closed_timer          TEXT,
    webhook_method                TEXT,
    webhook_filters               TEXT,
    pre_webhook_url               TEXT,
    post_webhook_url              TEXT,
    webhook_target                TEXT
);
CREATE INDEX account_configs_service ON account_configs (default_chat_service_sid);

CREATE TABLE users (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    sid           TEXT    NOT NULL UNIQUE,
    service_sid   TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    role_sid      TEXT    NOT NULL REFERENCES roles (sid),
    identity      TEXT    NOT NULL,
    friendly_name TEXT,
    attributes    TEXT    NOT NULL,
    is_online     INTEGER,
    is_notifiable INTEGER,
    date_created  INTEGER NOT NULL,
    date_updated  INTEGER NOT NULL,
    UNIQUE (service_sid, identity)
);
CREATE INDEX users_by_service ON users (service_sid, seq);
CREATE INDEX users_by_role ON users (role_sid);

CREATE TABLE api_keys (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    sid           TEXT    NOT NULL UNIQUE,
    friendly_name TEXT    NOT NULL,
    secret_hash   BLOB    NOT NULL,
    date_created  INTEGER NOT NULL,
    date_revoked  INTEGER
);

-- The webhook outbox. No foreign key to services: an event that was
-- acknowledged is delivered even if its service is deleted afterwards.
CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    sid              TEXT    NOT NULL UNIQUE,
    event_type       TEXT    NOT NULL,
    service_sid      TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    params           TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    date_created     INTEGER NOT NULL,
    date_updated     INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
