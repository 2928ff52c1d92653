-- parley schema, PostgreSQL dialect; numbered in lockstep with
-- ../../sqlite/migrations. Tables, columns, constraints and indexes match the
-- SQLite schema one for one.
--
-- Times are timestamptz: second precision for resources (Twilio shows
-- seconds) and millisecond precision for webhook deliveries (retry backoff
-- needs finer steps). The store truncates before writing, so the rounding a
-- typmod would do never applies. seq columns are identity columns: the
-- creation order that keyset paging walks, never reused.
--
-- Objects are created unqualified, in the first schema of search_path, so
-- that one database can hold several parley schemas (tests use one each).

CREATE TABLE accounts (
    id           integer        PRIMARY KEY CHECK (id = 1),
    sid          text           NOT NULL,
    auth_token   text           NOT NULL,
    page_key     bytea          NOT NULL,
    date_created timestamptz(0) NOT NULL
);

CREATE TABLE services (
    seq           bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid           text           NOT NULL UNIQUE,
    friendly_name text           NOT NULL,
    date_created  timestamptz(0) NOT NULL,
    date_updated  timestamptz(0) NOT NULL
);

CREATE TABLE roles (
    seq           bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid           text           NOT NULL UNIQUE,
    service_sid   text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    friendly_name text           NOT NULL,
    type          text           NOT NULL CHECK (type IN ('service', 'conversation')),
    permissions   jsonb          NOT NULL, -- JSON array of strings
    date_created  timestamptz(0) NOT NULL,
    date_updated  timestamptz(0) NOT NULL
);
CREATE INDEX roles_by_service ON roles (service_sid, seq);

-- The role references have no ON DELETE action: deleting a role a
-- configuration names is refused (ErrInUse), while deleting the service
-- cascades to the configuration and the roles in the same statement, which
-- NO ACTION (checked at the end of the statement) allows.
CREATE TABLE service_configs (
    service_sid                           text    PRIMARY KEY REFERENCES services (sid) ON DELETE CASCADE,
    default_chat_service_role_sid         text    NOT NULL REFERENCES roles (sid),
    default_conversation_role_sid         text    NOT NULL REFERENCES roles (sid),
    default_conversation_creator_role_sid text    NOT NULL REFERENCES roles (sid),
    reachability_enabled                  boolean NOT NULL DEFAULT false,
    webhook_method                        text,
    webhook_filters                       jsonb, -- JSON array, NULL when unset
    pre_webhook_url                       text,
    post_webhook_url                      text
);
CREATE INDEX service_configs_chat_role ON service_configs (default_chat_service_role_sid);
CREATE INDEX service_configs_conv_role ON service_configs (default_conversation_role_sid);
CREATE INDEX service_configs_creator_role ON service_configs (default_conversation_creator_role_sid);

CREATE TABLE account_configs (
    id                            integer PRIMARY KEY CHECK (id = 1),
    default_chat_service_sid      text    NOT NULL REFERENCES services (sid),
    default_messaging_service_sid text,
    default_inactive_timer        text,
    default_closed_timer          text,
    webhook_method                text,
    webhook_filters               jsonb,
    pre_webhook_url               text,
    post_webhook_url              text,
    webhook_target                text
);
CREATE INDEX account_configs_service ON account_configs (default_chat_service_sid);

CREATE TABLE users (
    seq           bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid           text           NOT NULL UNIQUE,
    service_sid   text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    role_sid      text           NOT NULL REFERENCES roles (sid),
    identity      text           NOT NULL,
    friendly_name text,
    attributes    text           NOT NULL, -- JSON kept byte for byte, hence not jsonb
    is_online     boolean,
    is_notifiable boolean,
    date_created  timestamptz(0) NOT NULL,
    date_updated  timestamptz(0) NOT NULL,
    UNIQUE (service_sid, identity)
);
CREATE INDEX users_by_service ON users (service_sid, seq);
CREATE INDEX users_by_role ON users (role_sid);

CREATE TABLE api_keys (
    seq           bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid           text           NOT NULL UNIQUE,
    friendly_name text           NOT NULL,
    secret_hash   bytea          NOT NULL,
    date_created  timestamptz(0) NOT NULL,
    date_revoked  timestamptz(0)
);

-- The webhook outbox. No foreign key to services: an event that was
-- acknowledged is delivered even if its service is deleted afterwards.
CREATE TABLE webhook_deliveries (
    seq              bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid              text           NOT NULL UNIQUE,
    event_type       text           NOT NULL,
    service_sid      text           NOT NULL,
    url              text           NOT NULL,
    method           text           NOT NULL,
    params           text           NOT NULL,
    status           text           NOT NULL,
    attempts         integer        NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz(3) NOT NULL,
    lease_until      timestamptz(3),
    last_status_code integer        NOT NULL DEFAULT 0,
    last_error       text           NOT NULL DEFAULT '',
    date_created     timestamptz(3) NOT NULL,
    date_updated     timestamptz(3) NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
