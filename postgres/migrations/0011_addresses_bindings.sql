-- Address configurations (/v1/Configuration/Addresses): one per address
-- of the account. auto_creation is a JSON object (parley.AutoCreation).
CREATE TABLE address_configs (
    seq             bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid             text           NOT NULL UNIQUE,
    type            text           NOT NULL,
    address         text           NOT NULL UNIQUE,
    friendly_name   text,
    address_country text,
    auto_creation   text           NOT NULL,
    date_created    timestamptz(0) NOT NULL,
    date_updated    timestamptz(0) NOT NULL
);
CREATE INDEX address_configs_by_type ON address_configs (type, seq);

-- Push bindings (/v1/Services/IS…/Bindings): a device of a user. One per
-- (service, type, endpoint): a device registering again replaces its
-- binding. They go with their user.
CREATE TABLE bindings (
    seq            bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid            text           NOT NULL UNIQUE,
    service_sid    text           NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
    user_sid       text           NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    identity       text           NOT NULL,
    binding_type   text           NOT NULL,
    endpoint       text           NOT NULL,
    credential_sid text,
    message_types  text           NOT NULL,
    date_created   timestamptz(0) NOT NULL,
    date_updated   timestamptz(0) NOT NULL,
    UNIQUE (service_sid, binding_type, endpoint)
);
CREATE INDEX bindings_by_service ON bindings (service_sid, seq);
CREATE INDEX bindings_by_user ON bindings (user_sid);

-- A service's push notification settings (JSON; NULL until first set).
ALTER TABLE service_configs ADD COLUMN notifications text;
