-- Conversations and their participants.
--
-- next_timer_at is Conversation.NextTimer(): the earliest timer still to
-- fire, indexed so that due timers are found without a scan. pair_key is
-- Participant.PairKey() while the conversation is open and NULL once it
-- closes: an (address, proxy address) pair belongs to one open conversation
-- of the account at a time, which the unique index enforces across nodes.
CREATE TABLE conversations (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    sid                   TEXT    NOT NULL UNIQUE,
    service_sid           TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    unique_name           TEXT,
    friendly_name         TEXT,
    attributes            TEXT    NOT NULL,
    messaging_service_sid TEXT,
    state                 TEXT    NOT NULL CHECK (state IN ('active', 'inactive', 'closed', 'initializing')),
    timer_inactive        TEXT,
    timer_closed          TEXT,
    date_inactive         INTEGER,
    date_closed           INTEGER,
    next_timer_at         INTEGER,
    email_address         TEXT,
    email_name            TEXT,
    created_by            TEXT    NOT NULL,
    date_created          INTEGER NOT NULL,
    date_updated          INTEGER NOT NULL,
    UNIQUE (service_sid, unique_name)
);
CREATE INDEX conversations_by_service ON conversations (service_sid, seq);
CREATE INDEX conversations_by_date ON conversations (service_sid, date_created, seq);
CREATE INDEX conversations_timers ON conversations (next_timer_at) WHERE next_timer_at IS NOT NULL;

-- participants.service_sid cascades from the service directly, not only
-- through its conversation: PostgreSQL checks the NO ACTION reference from
-- participants to roles as soon as a service delete's first cascade has
-- removed the roles, before a second-level cascade (through conversations)
-- would have removed the participants holding them.
CREATE TABLE participants (
    seq                     INTEGER PRIMARY KEY AUTOINCREMENT,
    sid                     TEXT    NOT NULL UNIQUE,
    service_sid             TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    conversation_sid        TEXT    NOT NULL REFERENCES conversations (sid) ON DELETE CASCADE,
    identity                TEXT,
    user_sid                TEXT    REFERENCES users (sid) ON DELETE CASCADE,
    attributes              TEXT    NOT NULL,
    role_sid                TEXT    REFERENCES roles (sid),
    binding_type            TEXT    NOT NULL,
    address                 TEXT,
    proxy_address           TEXT,
    projected_address       TEXT,
    pair_key                TEXT,
    last_read_message_index INTEGER,
    last_read_timestamp     TEXT,
    notification_level      TEXT    NOT NULL,
    date_created            INTEGER NOT NULL,
    date_updated            INTEGER NOT NULL,
    UNIQUE (conversation_sid, identity)
);
CREATE INDEX participants_by_conversation ON participants (conversation_sid, seq);
CREATE INDEX participants_by_user ON participants (user_sid, seq);
CREATE INDEX participants_by_identity ON participants (service_sid, identity, conversation_sid, seq);
CREATE INDEX participants_by_address ON participants (service_sid, address, conversation_sid, seq);
CREATE INDEX participants_by_role ON participants (role_sid);
CREATE UNIQUE INDEX participants_pairs ON participants (pair_key) WHERE pair_key IS NOT NULL;
