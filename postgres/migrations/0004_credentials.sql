-- Push credentials (/v1/Credentials). The secrets of the credential's type
-- are kept (a push would need them) and never shown; the others are ''.
CREATE TABLE credentials (
    seq             bigint         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sid             text           NOT NULL UNIQUE,
    friendly_name   text,
    type            text           NOT NULL CHECK (type IN ('apn', 'gcm', 'fcm')),
    sandbox         boolean        NOT NULL,
    apn_certificate text           NOT NULL,
    apn_private_key text           NOT NULL,
    gcm_api_key     text           NOT NULL,
    fcm_secret      text           NOT NULL,
    date_created    timestamptz(0) NOT NULL,
    date_updated    timestamptz(0) NOT NULL
);
