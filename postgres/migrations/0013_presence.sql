-- Numbered in lockstep with ../../sqlite/migrations/0013_presence.sql,
-- which says what the tables are for.
CREATE TABLE nodes (
    node        text           COLLATE "C" PRIMARY KEY,
    lease_until timestamptz(3) NOT NULL
);

CREATE TABLE client_connections (
    node        text    COLLATE "C" NOT NULL,
    user_sid    text    NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    service_sid text    NOT NULL,
    conns       integer NOT NULL,
    PRIMARY KEY (node, user_sid)
);
CREATE INDEX client_connections_by_user ON client_connections (user_sid);
