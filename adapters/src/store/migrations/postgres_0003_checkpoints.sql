-- Signed checkpoints of each release's chain head, at every stage change and at close (R-9d).
CREATE TABLE checkpoints (
    stream     TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    head       TEXT   NOT NULL,
    stage      TEXT   NOT NULL,
    at         TEXT   NOT NULL,
    algorithm  TEXT   NOT NULL,
    public_key TEXT   NOT NULL,
    signature  TEXT   NOT NULL,
    PRIMARY KEY (stream, seq)
);
