-- Presence across nodes: each node's client connections per user, and
-- each node's lease, which it renews while it runs. A user is online while
-- a node with a live lease holds a connection of theirs; a node whose
-- lease ran out (it died) is reaped by any other, and its users go
-- offline unless another node holds them.
CREATE TABLE nodes (
    node        TEXT    PRIMARY KEY,
    lease_until INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE client_connections (
    node        TEXT    NOT NULL,
    user_sid    TEXT    NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    service_sid TEXT    NOT NULL,
    conns       INTEGER NOT NULL,
    PRIMARY KEY (node, user_sid)
) WITHOUT ROWID;
CREATE INDEX client_connections_by_user ON client_connections (user_sid);
