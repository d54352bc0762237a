-- shipwarden's own tickets (adapter `local-tickets`), beside the releases they belong to.
CREATE TABLE tickets (
    key        TEXT    PRIMARY KEY,
    project    TEXT    NOT NULL,
    number     INTEGER NOT NULL,
    summary    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    severity   TEXT,
    status     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (project, number)
) WITHOUT ROWID;

CREATE TABLE ticket_comments (
    key    TEXT    NOT NULL REFERENCES tickets (key),
    seq    INTEGER NOT NULL,
    at     TEXT    NOT NULL,
    body   TEXT    NOT NULL,
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
