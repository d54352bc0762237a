-- Release streams: every event, sealed in its hash chain (R-9d).
CREATE TABLE events (
    stream    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    rule      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    event     TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- One row per release: its version (for optimistic concurrency) and summary (for listings).
CREATE TABLE streams (
    stream     TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL,
    project    TEXT    NOT NULL,
    stage      TEXT    NOT NULL,
    planned_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    summary    TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX streams_by_project ON streams (project, planned_at);
CREATE INDEX streams_by_stage ON streams (stage, planned_at);
CREATE INDEX streams_by_planned ON streams (planned_at);

CREATE TABLE stream_environments (
    environment TEXT NOT NULL,
    stream      TEXT NOT NULL,
    PRIMARY KEY (environment, stream)
) WITHOUT ROWID;

-- Leases: which driver deploys an environment (R-6e).
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
