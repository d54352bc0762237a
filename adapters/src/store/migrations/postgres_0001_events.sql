-- Release streams: every event, sealed in its hash chain (R-9d).
CREATE TABLE events (
    stream    TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    at        TEXT   NOT NULL,
    actor     TEXT   NOT NULL,
    rule      TEXT   NOT NULL,
    kind      TEXT   NOT NULL,
    event     TEXT   NOT NULL,
    prev_hash TEXT   NOT NULL,
    hash      TEXT   NOT NULL,
    PRIMARY KEY (stream, seq)
);

-- One row per release: its version (for optimistic concurrency) and summary (for listings).
CREATE TABLE streams (
    stream     TEXT   PRIMARY KEY,
    version    BIGINT NOT NULL,
    project    TEXT   NOT NULL,
    stage      TEXT   NOT NULL,
    planned_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    summary    TEXT   NOT NULL
);
CREATE INDEX streams_by_project ON streams (project, planned_at);
CREATE INDEX streams_by_stage ON streams (stage, planned_at);
CREATE INDEX streams_by_planned ON streams (planned_at);

CREATE TABLE stream_environments (
    environment TEXT NOT NULL,
    stream      TEXT NOT NULL,
    PRIMARY KEY (environment, stream)
);

-- Leases: which driver deploys an environment (R-6e).
CREATE TABLE leases (
    name       TEXT   PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
