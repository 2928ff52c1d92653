-- Address configurations (/v1/Configuration/Addresses): one per address
-- of the account. auto_creation is a JSON object (parley.AutoCreation).
CREATE TABLE address_configs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    sid             TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL,
    address         TEXT    NOT NULL UNIQUE,
    friendly_name   TEXT,
    address_country TEXT,
    auto_creation   TEXT    NOT NULL,
    date_created    INTEGER NOT NULL,
    date_updated    INTEGER NOT NULL
);
CREATE INDEX address_configs_by_type ON address_configs (type, seq);

-- Push bindings (/v1/Services/IS…/Bindings): a device of a user. One per
-- (service, type, endpoint): a device registering again replaces its
-- binding. They go with their user.
CREATE TABLE bindings (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    sid            TEXT    NOT NULL UNIQUE,
    service_sid    TEXT    NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    user_sid       TEXT    NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    identity       TEXT    NOT NULL,
    binding_type   TEXT    NOT NULL,
    endpoint       TEXT    NOT NULL,
    credential_sid TEXT,
    message_types  TEXT    NOT NULL,
    date_created   INTEGER NOT NULL,
    date_updated   INTEGER NOT NULL,
    UNIQUE (service_sid, binding_type, endpoint)
);
CREATE INDEX bindings_by_service ON bindings (service_sid, seq);
CREATE INDEX bindings_by_user ON bindings (user_sid);

-- A service's push notification settings (JSON; NULL until first set).
ALTER TABLE service_configs ADD COLUMN notifications TEXT;
