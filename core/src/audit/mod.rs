//! The audit trail (R-9d, R-2c): every event in an envelope with sequence,
//! time, actor, rule and a SHA-256 hash chain. [`verify`] finds any edited,
//! deleted, reordered or inserted event.
//!
//! The hash of an envelope covers a canonical JSON encoding of its stream,
//! sequence, time, actor, rule, event and the previous hash. A chain can only
//! prove it was not changed *inside*: a rewrite with recomputed hashes, or a
//! cut tail, is found by its signed [`Checkpoint`]s ([`verify_anchored`]) or
//! by a head kept elsewhere ([`verify_head`], a signed evidence bundle).

mod checkpoint;
mod published;

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::machine::Event;
use crate::rule::RuleId;

pub use checkpoint::{
    AnchorError, AnchorReport, CHECKPOINT_DOMAIN, Checkpoint, SignatureCheck, check_checkpoints, verify_anchored,
    verify_head, verify_head_at,
};
pub use published::{HEADS_FORMAT, HeadDestination, PublishedError, PublishedHeads, ticket_comment};

/// A SHA-256 chain hash, 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChainHash(String);

impl ChainHash {
    /// The hash before the first event: 64 zeros.
    pub fn genesis() -> Self {
        ChainHash("0".repeat(64))
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event as stored: its place in the stream, who caused it, under which
/// rule, and its link in the hash chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The release stream.
    pub stream: String,
    /// 1 for the first event of the stream, then +1 each.
    pub sequence: u64,
    /// When it was recorded.
    pub at: Timestamp,
    /// The user or component that caused it.
    pub actor: String,
    /// The requirement it documents.
    pub rule: RuleId,
    /// The event, with its evidence.
    pub event: Event,
    /// The previous envelope's hash ([`ChainHash::genesis`] for the first).
    pub prev_hash: ChainHash,
    /// This envelope's hash.
    pub hash: ChainHash,
}

#[derive(Serialize)]
struct Canonical<'a> {
    stream: &'a str,
    sequence: u64,
    at: &'a Timestamp,
    actor: &'a str,
    rule: &'a RuleId,
    event: &'a Event,
    prev_hash: &'a ChainHash,
}

fn hash_of(c: &Canonical<'_>) -> ChainHash {
    // Serializing plain data to a Vec cannot fail; an empty encoding would
    // still produce a hash that fails verification, never a silent pass.
    let bytes = serde_json::to_vec(c).unwrap_or_default();
    ChainHash(format!("{:x}", Sha256::digest(&bytes)))
}

impl Envelope {
    /// Seals `event` as the next envelope after `prev` (none for the first).
    pub fn seal(stream: &str, prev: Option<&Envelope>, at: Timestamp, actor: &str, event: Event) -> Envelope {
        let sequence = prev.map_or(1, |p| p.sequence + 1);
        let prev_hash = prev.map_or_else(ChainHash::genesis, |p| p.hash.clone());
        let rule = event.rule();
        let hash =
            hash_of(&Canonical { stream, sequence, at: &at, actor, rule: &rule, event: &event, prev_hash: &prev_hash });
        Envelope { stream: stream.to_owned(), sequence, at, actor: actor.to_owned(), rule, event, prev_hash, hash }
    }

    /// Seals several events in order after `prev`.
    pub fn seal_all(
        stream: &str,
        prev: Option<&Envelope>,
        at: Timestamp,
        actor: &str,
        events: Vec<Event>,
    ) -> Vec<Envelope> {
        let mut sealed: Vec<Envelope> = Vec::with_capacity(events.len());
        for event in events {
            let envelope = Envelope::seal(stream, sealed.last().or(prev), at, actor, event);
            sealed.push(envelope);
        }
        sealed
    }

    /// The hash this envelope's content should have.
    pub fn computed_hash(&self) -> ChainHash {
        hash_of(&Canonical {
            stream: &self.stream,
            sequence: self.sequence,
            at: &self.at,
            actor: &self.actor,
            rule: &self.rule,
            event: &self.event,
            prev_hash: &self.prev_hash,
        })
    }
}

/// What is wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditError {
    /// An envelope's content does not match its hash: it was edited.
    #[error("event {sequence} was edited: its content does not match its hash")]
    Edited {
        /// The edited envelope's sequence.
        sequence: u64,
    },
    /// Sequence numbers are missing: events were deleted.
    #[error("events {from} to {to} are missing: they were deleted")]
    Deleted {
        /// First missing sequence.
        from: u64,
        /// Last missing sequence.
        to: u64,
    },
    /// Events are out of order.
    #[error("event {sequence} is out of order at position {position}")]
    Reordered {
        /// The misplaced envelope's sequence.
        sequence: u64,
        /// Its position in the log (0-based).
        position: usize,
    },
    /// An envelope that does not belong was put into the chain.
    #[error("event {sequence} was inserted: it does not link to the event before it")]
    Inserted {
        /// The sequence where the chain breaks.
        sequence: u64,
    },
    /// An envelope belongs to another stream.
    #[error("event {sequence} belongs to stream `{found}`, not `{expected}`")]
    ForeignStream {
        /// Its sequence.
        sequence: u64,
        /// The stream of the log.
        expected: String,
        /// The stream it names.
        found: String,
    },
    /// The last hash differs from the expected head: the tail was changed or cut.
    #[error("the chain ends at {found}, expected head {expected}")]
    HeadMismatch {
        /// The expected head hash.
        expected: String,
        /// The head found.
        found: String,
    },
}

/// Verifies a stream's envelopes in stored order and returns the head hash.
pub fn verify(envelopes: &[Envelope]) -> Result<ChainHash, AuditError> {
    verify_after(None, envelopes)
}

/// Verifies `envelopes` as the continuation of a chain whose last verified
/// envelope is `prev` (none: from the start), and returns the new head hash.
pub fn verify_after(prev: Option<&Envelope>, envelopes: &[Envelope]) -> Result<ChainHash, AuditError> {
    let mut prev_hash = prev.map_or_else(ChainHash::genesis, |p| p.hash.clone());
    let first_seq = prev.map_or(1, |p| p.sequence + 1);
    let stream = prev.or(envelopes.first()).map(|e| e.stream.as_str()).unwrap_or_default();
    for (expected_seq, (position, e)) in (first_seq..).zip(envelopes.iter().enumerate()) {
        if e.stream != stream {
            return Err(AuditError::ForeignStream {
                sequence: e.sequence,
                expected: stream.to_owned(),
                found: e.stream.clone(),
            });
        }
        if e.computed_hash() != e.hash {
            return Err(AuditError::Edited { sequence: e.sequence });
        }
        if e.sequence > expected_seq {
            let later = envelopes[position..].iter().any(|x| x.sequence == expected_seq);
            return Err(if later {
                AuditError::Reordered { sequence: e.sequence, position }
            } else {
                AuditError::Deleted { from: expected_seq, to: e.sequence - 1 }
            });
        }
        if e.sequence < expected_seq {
            let duplicate = envelopes[..position].iter().any(|x| x.sequence == e.sequence);
            return Err(if duplicate {
                AuditError::Inserted { sequence: e.sequence }
            } else {
                AuditError::Reordered { sequence: e.sequence, position }
            });
        }
        if e.prev_hash != prev_hash {
            return Err(AuditError::Inserted { sequence: e.sequence });
        }
        prev_hash = e.hash.clone();
    }
    Ok(prev_hash)
}

/// Verifies the chain and that it ends at `head`, which detects a cut tail.
pub fn verify_with_head(envelopes: &[Envelope], head: &ChainHash) -> Result<(), AuditError> {
    let found = verify(envelopes)?;
    if &found == head {
        Ok(())
    } else {
        Err(AuditError::HeadMismatch { expected: head.to_string(), found: found.to_string() })
    }
}
