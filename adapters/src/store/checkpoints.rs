//! The `checkpoints` table, shared by both stores: one signed head per
//! stream and sequence (R-9d). Rows are read back as stored; their
//! signatures and heads are checked against the chain by `audit --verify`.

use shipwarden::ReleaseId;
use shipwarden::audit::{ChainHash, Checkpoint};
use shipwarden::ports::StoreError;

use super::invalid;

/// One stored row of the `checkpoints` table: seq, head, stage, at, algorithm, public_key, signature.
pub(super) type CheckpointRow = (i64, String, String, String, String, String, String);

/// The columns of [`CheckpointRow`], in order.
pub(super) const CHECKPOINT_COLUMNS: &str = "seq, head, stage, at, algorithm, public_key, signature";

/// The insert (or replacement at the same sequence) of one checkpoint.
pub(super) fn insert_checkpoint<'a, DB: sqlx::Database>(checkpoint: &'a Checkpoint) -> sqlx::QueryBuilder<'a, DB>
where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut insert = sqlx::QueryBuilder::new(
        "INSERT INTO checkpoints (stream, seq, head, stage, at, algorithm, public_key, signature) ",
    );
    insert.push_values([checkpoint], |mut b, c| {
        b.push_bind(c.stream.as_str())
            .push_bind(i64::try_from(c.sequence).unwrap_or(i64::MAX))
            .push_bind(c.head.as_str())
            .push_bind(c.stage.as_str())
            .push_bind(c.at.to_string())
            .push_bind(c.algorithm.as_str())
            .push_bind(c.public_key.as_str())
            .push_bind(c.signature.as_str());
    });
    insert.push(
        " ON CONFLICT (stream, seq) DO UPDATE SET head = excluded.head, stage = excluded.stage, at = excluded.at, \
         algorithm = excluded.algorithm, public_key = excluded.public_key, signature = excluded.signature",
    );
    insert
}

/// Rows of the `checkpoints` table as checkpoints, in order.
pub(super) fn checkpoints(
    store: &str,
    stream: &ReleaseId,
    rows: Vec<CheckpointRow>,
) -> Result<Vec<Checkpoint>, StoreError> {
    rows.into_iter()
        .map(|(seq, head, stage, at, algorithm, public_key, signature)| {
            let bad = |what: &str, e: String| invalid(store, format!("{what} of checkpoint {seq} of {stream}: {e}"));
            Ok(Checkpoint {
                stream: stream.to_string(),
                sequence: u64::try_from(seq).map_err(|e| bad("sequence", e.to_string()))?,
                head: head.parse::<ChainHash>().map_err(|e| bad("head", e.to_string()))?,
                stage: stage.parse().map_err(|e: shipwarden::ParseError| bad("stage", e.to_string()))?,
                at: at.parse().map_err(|e: jiff::Error| bad("time", e.to_string()))?,
                algorithm,
                public_key,
                signature,
            })
        })
        .collect()
}
