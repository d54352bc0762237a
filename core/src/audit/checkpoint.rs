//! Signed checkpoints of a release's chain head (R-9d): what makes a rewrite
//! of the store detectable by someone who can write it but does not hold the
//! signing key.
//!
//! The hash chain alone only proves that nothing changed *inside* it: a person
//! who can write the store can edit an event and recompute every hash, or cut
//! the tail. A [`Checkpoint`] is the head hash at a sequence, with the stage
//! reached there, signed with the project's key over a canonical statement
//! ([`Checkpoint::message`]). The engine writes one at every stage change and
//! at close. [`verify_anchored`] then finds:
//! - a rewritten prefix: the hash at a checkpoint's sequence is not its head;
//! - a cut tail: a checkpoint names a sequence beyond the chain's end;
//! - a forged checkpoint: its signature does not verify, or its key is not trusted.
//!
//! - a missing checkpoint: a stage change after the newest checkpoint, which
//!   the engine would have signed ([`AnchorReport::unanchored_stage_changes`]);
//!   this is what is left when someone deletes the checkpoints after a
//!   sequence and rewrites the events after it.
//!
//! What is legitimately missing, and so not a failure here:
//! - every checkpoint, when none was ever made (no signing key): the chain is
//!   unanchored, which the verifier reports as a warning;
//! - checkpoints of the stage changes made before a signing key was
//!   configured: the first checkpoint covers every event before it;
//! - the checkpoint of a stage change when the process stopped (or the signer
//!   failed) between recording the change and signing it: the next stage
//!   change's checkpoint covers it. Such a stage change is listed in
//!   [`AnchorReport::stage_changes_covered_later`], for a warning. While no
//!   later checkpoint exists it cannot be told from a deletion, and is
//!   reported with the unanchored ones.
//!
//! What a checkpoint cannot prove: someone who deletes events *and* the
//! checkpoints after them leaves a shorter chain that verifies. Only a head
//! published outside the store (the signed evidence bundle, a ticket comment,
//! `audit --verify --head`) catches that.
//!
//! The core does no cryptography: the signature is checked by a
//! [`SignatureCheck`] of the algorithm (e.g. `shipwarden_adapters::anchor`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{AuditError, ChainHash, Envelope, verify};
use crate::model::Stage;

/// The domain-separation prefix of every checkpoint statement: a signature
/// over it can never be taken for one over an evidence bundle or anything else.
pub const CHECKPOINT_DOMAIN: &str = "shipwarden.checkpoint.v1";

/// A signed statement that a release's chain had `head` at `sequence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The release stream.
    pub stream: String,
    /// The sequence of the envelope whose hash is `head`.
    pub sequence: u64,
    /// The chain's head hash at `sequence`.
    pub head: ChainHash,
    /// The stage the release reached with that envelope.
    pub stage: Stage,
    /// When it was signed.
    pub at: Timestamp,
    /// The signature algorithm (`ed25519`).
    pub algorithm: String,
    /// The signer's public key, lowercase hex.
    pub public_key: String,
    /// The signature over [`Checkpoint::message`], lowercase hex.
    pub signature: String,
}

impl Checkpoint {
    /// The canonical statement a checkpoint's signature covers: the domain
    /// prefix, a newline, then a JSON array of every field but the signature.
    ///
    /// # Notes
    /// A JSON array of strings and one number has exactly one encoding, so
    /// two different checkpoints never share a statement.
    pub fn statement(
        stream: &str,
        sequence: u64,
        head: &ChainHash,
        stage: &Stage,
        at: &Timestamp,
        algorithm: &str,
        public_key: &str,
    ) -> Vec<u8> {
        let fields =
            serde_json::json!([stream, sequence, head.as_str(), stage.as_str(), at.to_string(), algorithm, public_key]);
        let mut message = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 192);
        message.extend_from_slice(CHECKPOINT_DOMAIN.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(fields.to_string().as_bytes());
        message
    }

    /// This checkpoint's statement, as signed.
    pub fn message(&self) -> Vec<u8> {
        Self::statement(
            &self.stream,
            self.sequence,
            &self.head,
            &self.stage,
            &self.at,
            &self.algorithm,
            &self.public_key,
        )
    }
}

/// Checks one signature of an algorithm: true when `signature` (hex) is
/// `public_key`'s (hex) over `message`.
pub trait SignatureCheck {
    /// True when the signature is valid.
    fn check(&self, algorithm: &str, public_key: &str, message: &[u8], signature: &str) -> bool;
}

impl<F: Fn(&str, &str, &[u8], &str) -> bool> SignatureCheck for F {
    fn check(&self, algorithm: &str, public_key: &str, message: &[u8], signature: &str) -> bool {
        self(algorithm, public_key, message, signature)
    }
}

/// Why a chain and its checkpoints do not agree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnchorError {
    /// The chain itself does not verify.
    #[error(transparent)]
    Chain(#[from] AuditError),
    /// A checkpoint names another release.
    #[error("the checkpoint at sequence {sequence} belongs to stream `{found}`, not `{expected}`")]
    ForeignCheckpoint {
        /// Its sequence.
        sequence: u64,
        /// The stream verified.
        expected: String,
        /// The stream it names.
        found: String,
    },
    /// A checkpoint's signature does not verify: it was forged or edited.
    #[error("the checkpoint at sequence {sequence} has a bad signature: it was forged or edited")]
    BadSignature {
        /// Its sequence.
        sequence: u64,
    },
    /// A checkpoint is signed by a key the verifier does not trust.
    #[error("the checkpoint at sequence {sequence} is signed by key {public_key}, which is not trusted")]
    UntrustedKey {
        /// Its sequence.
        sequence: u64,
        /// The key it names.
        public_key: String,
    },
    /// The chain's hash at a checkpoint's sequence is not the signed head:
    /// the events up to there were rewritten (and their hashes recomputed).
    #[error(
        "the chain was rewritten: at sequence {sequence} its hash is {found}, the checkpoint signed {expected} \
         (stage {stage})"
    )]
    Rewritten {
        /// The checkpoint's sequence.
        sequence: u64,
        /// The signed head.
        expected: String,
        /// The chain's hash there.
        found: String,
        /// The stage the checkpoint signed.
        stage: Stage,
    },
    /// A checkpoint names a sequence beyond the chain's end: the tail was cut.
    #[error(
        "the chain's tail was cut: a checkpoint vouches for sequence {sequence} (stage {stage}), the chain ends at \
         {events}"
    )]
    CutTail {
        /// The checkpoint's sequence.
        sequence: u64,
        /// The stage the checkpoint signed.
        stage: Stage,
        /// How many events the chain holds.
        events: u64,
    },
    /// The chain does not hold a head known from elsewhere where it should.
    #[error("{0}")]
    HeadMismatch(String),
}

/// What a verified chain and its checkpoints say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorReport {
    /// The chain's head hash.
    pub head: ChainHash,
    /// How many events it holds.
    pub events: u64,
    /// How many checkpoints matched the chain.
    pub checkpoints: usize,
    /// The newest checkpoint's sequence (none: the chain is unanchored).
    pub anchored_at: Option<u64>,
    /// Events after the newest checkpoint, which no signature vouches for yet.
    pub unanchored_events: u64,
    /// Keys that signed checkpoints without being pinned by the verifier (no
    /// trusted key was given): the signatures verify, but anyone could have made them.
    pub unpinned_keys: Vec<String>,
    /// Sequences of the stage changes after the newest checkpoint, when there
    /// is one: the engine signs every stage change, so each is a deleted
    /// checkpoint (and maybe a rewritten tail) or a stop between recording
    /// the change and signing it. Empty when the chain is unanchored.
    #[serde(default)]
    pub unanchored_stage_changes: Vec<u64>,
    /// Sequences of the stage changes without a checkpoint of their own that a
    /// later checkpoint covers (a stop before signing, or a deleted checkpoint
    /// whose events the later signature still pins).
    #[serde(default)]
    pub stage_changes_covered_later: Vec<u64>,
}

/// The stage an event enters, if it enters one (as [`apply`](crate::machine::apply) folds it).
fn entered(event: &crate::machine::Event) -> Option<&Stage> {
    use crate::machine::Event as E;
    match event {
        E::Planned { stage, .. } => Some(stage),
        E::Advanced { to, .. } | E::RollbackStarted { to, .. } | E::Cancelled { to, .. } | E::Closed { to, .. } => {
            Some(to)
        }
        E::RollbackFinished { to, .. } => to.as_ref(),
        _ => None,
    }
}

/// The sequences at which the chain's stage changes, one per commit: the
/// engine checkpoints the last envelope of a commit that changed the stage,
/// so of several changes sealed together (same time and actor, in a row) the
/// last stands for them.
fn stage_changes(envelopes: &[Envelope]) -> Vec<u64> {
    let mut current: Option<&Stage> = None;
    let mut changes: Vec<&Envelope> = Vec::new();
    for (i, e) in envelopes.iter().enumerate() {
        let Some(stage) = entered(&e.event) else { continue };
        if current == Some(stage) {
            continue;
        }
        current = Some(stage);
        if let Some(previous) = changes.last()
            && let Some(start) = usize::try_from(previous.sequence).ok().and_then(|s| s.checked_sub(1))
            && envelopes.get(start..=i).is_some_and(|run| run.iter().all(|r| r.at == e.at && r.actor == e.actor))
        {
            changes.pop();
        }
        changes.push(e);
    }
    changes.iter().map(|e| e.sequence).collect()
}

/// Verifies `envelopes` (one stream, in stored order) and its `checkpoints`:
/// the chain, then each checkpoint's signature (by a key in `trusted`; when
/// `trusted` is empty, by the key it names, reported as unpinned), then that
/// each checkpoint matches the chain.
///
/// # Errors
/// The chain's own [`AuditError`], then the first checkpoint (by sequence)
/// that is forged, untrusted, rewritten over or cut off.
pub fn verify_anchored(
    envelopes: &[Envelope],
    checkpoints: &[Checkpoint],
    trusted: &[String],
    signatures: &dyn SignatureCheck,
) -> Result<AnchorReport, AnchorError> {
    verify(envelopes)?;
    check_checkpoints(envelopes, checkpoints, trusted, signatures)
}

/// [`verify_anchored`] for a chain already verified (as a store's `load`
/// returns it): checks the checkpoints only, without hashing every event again.
///
/// # Notes
/// Given a chain that was not verified, a checkpoint proves nothing about
/// the events before it: verify first.
pub fn check_checkpoints(
    envelopes: &[Envelope],
    checkpoints: &[Checkpoint],
    trusted: &[String],
    signatures: &dyn SignatureCheck,
) -> Result<AnchorReport, AnchorError> {
    let head = envelopes.last().map_or_else(ChainHash::genesis, |e| e.hash.clone());
    let events = envelopes.len() as u64;
    let stream = envelopes.first().map(|e| e.stream.as_str());
    let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
    sorted.sort_by_key(|c| c.sequence);
    let mut unpinned: Vec<String> = Vec::new();
    for c in &sorted {
        if let Some(stream) = stream
            && c.stream != stream
        {
            return Err(AnchorError::ForeignCheckpoint {
                sequence: c.sequence,
                expected: stream.to_owned(),
                found: c.stream.clone(),
            });
        }
        if trusted.is_empty() {
            if !unpinned.contains(&c.public_key) {
                unpinned.push(c.public_key.clone());
            }
        } else if !trusted.iter().any(|k| k.trim().eq_ignore_ascii_case(&c.public_key)) {
            return Err(AnchorError::UntrustedKey { sequence: c.sequence, public_key: c.public_key.clone() });
        }
        if !signatures.check(&c.algorithm, &c.public_key, &c.message(), &c.signature) {
            return Err(AnchorError::BadSignature { sequence: c.sequence });
        }
    }
    for c in &sorted {
        // The chain verified in order, so the envelope at sequence n is at position n - 1.
        let position = usize::try_from(c.sequence).ok().and_then(|s| s.checked_sub(1));
        match position.and_then(|p| envelopes.get(p)) {
            Some(e) if e.hash == c.head => {}
            Some(e) => {
                return Err(AnchorError::Rewritten {
                    sequence: c.sequence,
                    expected: c.head.to_string(),
                    found: e.hash.to_string(),
                    stage: c.stage.clone(),
                });
            }
            None => return Err(AnchorError::CutTail { sequence: c.sequence, stage: c.stage.clone(), events }),
        }
    }
    let anchored_at = sorted.last().map(|c| c.sequence);
    let (mut unanchored_stage_changes, mut stage_changes_covered_later) = (Vec::new(), Vec::new());
    if let Some(newest) = anchored_at {
        let changes = stage_changes(envelopes);
        for (i, &change) in changes.iter().enumerate() {
            let next = changes.get(i + 1).copied().unwrap_or(u64::MAX);
            if change > newest {
                unanchored_stage_changes.push(change);
            } else if !sorted.iter().any(|c| c.sequence >= change && c.sequence < next) {
                stage_changes_covered_later.push(change);
            }
        }
        // Before the first checkpoint (signing configured later) nothing is expected of its own.
        let first = sorted.first().map_or(0, |c| c.sequence);
        stage_changes_covered_later.retain(|&c| c > first);
    }
    Ok(AnchorReport {
        head,
        events,
        checkpoints: sorted.len(),
        anchored_at,
        unanchored_events: events - anchored_at.unwrap_or(0).min(events),
        unpinned_keys: unpinned,
        unanchored_stage_changes,
        stage_changes_covered_later,
    })
}

/// Checks that the verified chain `envelopes` ends at `head`, a head known
/// from elsewhere (published, or kept by an auditor): a chain that continues
/// past it, or does not hold it, fails.
///
/// # Notes
/// The chain must *end* there, so events appended after the head was taken
/// are reported too; to check a head taken before the end (an evidence
/// bundle), use [`verify_head_at`].
pub fn verify_head(envelopes: &[Envelope], head: &ChainHash) -> Result<(), AnchorError> {
    let last = envelopes.last().map_or_else(ChainHash::genesis, |e| e.hash.clone());
    if &last == head {
        return Ok(());
    }
    let message = match envelopes.iter().find(|e| &e.hash == head) {
        Some(e) => format!(
            "the chain continues past the expected head {head}: it is at sequence {}, the chain ends at {} ({last})",
            e.sequence,
            envelopes.len()
        ),
        None => format!(
            "the chain does not hold the expected head {head}: it ends at sequence {} ({last}); events were \
             rewritten, or the tail was cut",
            envelopes.len()
        ),
    };
    Err(AnchorError::HeadMismatch(message))
}

/// Checks that the verified chain `envelopes` has hash `head` at `sequence`
/// (a head whose place is known, as an evidence bundle's).
pub fn verify_head_at(envelopes: &[Envelope], sequence: u64, head: &ChainHash) -> Result<(), AnchorError> {
    let position = usize::try_from(sequence).ok().and_then(|s| s.checked_sub(1));
    match position.and_then(|p| envelopes.get(p)) {
        Some(e) if &e.hash == head => Ok(()),
        Some(e) => Err(AnchorError::HeadMismatch(format!(
            "the chain was rewritten: at sequence {sequence} its hash is {}, expected {head}",
            e.hash
        ))),
        None if sequence == 0 && head == &ChainHash::genesis() => Ok(()),
        None => Err(AnchorError::HeadMismatch(format!(
            "the chain's tail was cut: expected head {head} at sequence {sequence}, the chain ends at {}",
            envelopes.len()
        ))),
    }
}

impl std::str::FromStr for ChainHash {
    type Err = crate::ParseError;

    /// Reads a head hash given by a person (`audit --verify --head`): 64 hex digits, any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(ChainHash(text.to_ascii_lowercase()))
        } else {
            Err(crate::ParseError::new("chain hash", text, "64 hex digits (a SHA-256 head hash)"))
        }
    }
}
