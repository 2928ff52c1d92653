-- Conversations and their participants; numbered in lockstep with
-- ../../sqlite/migrations/0005_conversations.sql, which says what
-- next_timer_at and pair_key are.
CREATE TABLE conversations (
    seq                   bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid                   text           NOT NULL UNIQUE,
    service_sid           text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    unique_name           text,
    friendly_name         text,
    attributes            text           NOT NULL,
    messaging_service_sid text,
    state                 text           NOT NULL CHECK (state IN ('active', 'inactive', 'closed', 'initializing')),
    timer_inactive        text,
    timer_closed          text,
    date_inactive         timestamptz(0),
    date_closed           timestamptz(0),
    next_timer_at         timestamptz(0),
    email_address         text,
    email_name            text,
    created_by            text           NOT NULL,
    date_created          timestamptz(0) NOT NULL,
    date_updated          timestamptz(0) NOT NULL,
    UNIQUE (service_sid, unique_name)
);
CREATE INDEX conversations_by_service ON conversations (service_sid, seq);
CREATE INDEX conversations_by_date ON conversations (service_sid, date_created, seq);
CREATE INDEX conversations_timers ON conversations (next_timer_at) WHERE next_timer_at IS NOT NULL;

CREATE TABLE participants (
    seq                     bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid                     text           NOT NULL UNIQUE,
    service_sid             text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid        text           NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    identity                text,
    user_sid                text           REFERENCES users (sid) ON DELETE CASCADE,
    attributes              text           NOT NULL,
    role_sid                text           REFERENCES roles (sid),
    binding_type            text           NOT NULL,
    address                 text,
    proxy_address           text,
    projected_address       text,
    pair_key                text,
    last_read_message_index bigint,
    last_read_timestamp     text,
    notification_level      text           NOT NULL,
    date_created            timestamptz(0) NOT NULL,
    date_updated            timestamptz(0) NOT NULL,
    UNIQUE (conversation_sid, identity)
);
CREATE INDEX participants_by_conversation ON participants (conversation_sid, seq);
CREATE INDEX participants_by_user ON participants (user_sid, seq);
CREATE INDEX participants_by_identity ON participants (service_sid, identity, conversation_sid, seq);
CREATE INDEX participants_by_address ON participants (service_sid, address, conversation_sid, seq);
CREATE INDEX participants_by_role ON participants (role_sid);
CREATE UNIQUE INDEX participants_pairs ON participants (pair_key) WHERE pair_key IS NOT NULL;
