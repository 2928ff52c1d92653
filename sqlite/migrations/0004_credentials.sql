-- Push credentials (/v1/Credentials). The secrets of the credential's type
-- are kept (a push would need them) and never shown; the others are ''.
CREATE TABLE credentials (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    sid             TEXT    NOT NULL UNIQUE,
    friendly_name   TEXT,
    type            TEXT    NOT NULL CHECK (type IN ('apn', 'gcm', 'fcm')),
    sandbox         INTEGER NOT NULL,
    apn_certificate TEXT    NOT NULL,
    apn_private_key TEXT    NOT NULL,
    gcm_api_key     TEXT    NOT NULL,
    fcm_secret      TEXT    NOT NULL,
    date_created    INTEGER NOT NULL,
    date_updated    INTEGER NOT NULL
);
