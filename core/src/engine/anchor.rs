//! Checkpoints (R-9d): the chain head signed at every stage change and at
//! close, when a signer is configured, so that a rewrite of the store by
//! someone without the key is found by `audit --verify`; and published where
//! the team keeps records (`EngineConfig::publish_heads`): the notes at every
//! checkpoint, the release ticket at close.
//!
//! Publishing appends nothing to the chain (a recorded step would move the
//! head it publishes), and a failure never undoes or blocks the stage change:
//! it is a warning, kept for [`ReleaseManager::take_unpublished`], and
//! [`ReleaseManager::publish_heads`] publishes again.

use serde::{Deserialize, Serialize};

use crate::audit::{Checkpoint, Envelope, HeadDestination, PublishedHeads, ticket_comment};
use crate::machine::{ReleaseState, StepOutcome};
use crate::model::{ReleaseId, Stage, StepKind, TicketKey};

use super::{EngineError, ReleaseManager};

/// A head that could not be published to one destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unpublished {
    /// The release.
    pub release: ReleaseId,
    /// The checkpoint's sequence.
    pub sequence: u64,
    /// Where it was to go.
    pub destination: HeadDestination,
    /// Why it did not: the port's error.
    pub error: String,
}

impl std::fmt::Display for Unpublished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the signed head of {} at sequence {} was not published to the {}: {} (R-9d); publish it again with \
             `shipwarden audit {} --publish`",
            self.release, self.sequence, self.destination, self.error, self.release
        )
    }
}

/// Where a head was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// The destination.
    pub destination: HeadDestination,
    /// The newest checkpoint's sequence published there.
    pub sequence: u64,
    /// Where it can be read (a file, a wiki page, a ticket).
    pub at: String,
}

/// The release ticket's key, as the step that closed it recorded it.
fn release_ticket(state: &ReleaseState) -> Option<TicketKey> {
    state.steps.iter().rev().find_map(|s| match &s.outcome {
        Some(StepOutcome::Succeeded { output: Some(output), .. }) if s.step == StepKind::CloseTicket => {
            output.as_str().and_then(|k| k.parse().ok())
        }
        _ => None,
    })
}

impl ReleaseManager {
    /// Signs the head `last` reached at `stage` and stores the checkpoint.
    ///
    /// # Notes
    /// The events are already committed: a signer or store that fails here
    /// leaves this stage unanchored (a warning, and `audit --verify` says how
    /// many events no checkpoint covers), never an undone stage change.
    pub(crate) async fn checkpoint(&self, last: &Envelope, stage: &Stage) -> Option<Checkpoint> {
        let signer = self.inner.ports.signer.as_ref()?;
        let at = self.inner.clock.now();
        let (algorithm, public_key) = (signer.algorithm().to_owned(), signer.public_key());
        let message =
            Checkpoint::statement(&last.stream, last.sequence, &last.hash, stage, &at, &algorithm, &public_key);
        let signature = match signer.sign(&message).await {
            Ok(signature) => signature,
            Err(e) => {
                tracing::warn!(release = %last.stream, sequence = last.sequence, error = %e, "could not sign a checkpoint");
                return None;
            }
        };
        let checkpoint = Checkpoint {
            stream: last.stream.clone(),
            sequence: last.sequence,
            head: last.hash.clone(),
            stage: stage.clone(),
            at,
            algorithm,
            public_key,
            signature,
        };
        if let Err(e) = self.inner.store.put_checkpoint(&checkpoint).await {
            tracing::warn!(release = %last.stream, sequence = last.sequence, error = %e, "could not store a checkpoint");
            return None;
        }
        Some(checkpoint)
    }

    /// Publishes a checkpoint just stored to the configured destinations:
    /// every checkpoint so far to the notes, the close to the release ticket.
    /// A failure is a warning, kept for [`take_unpublished`](Self::take_unpublished).
    pub(crate) async fn publish_checkpoint(&self, checkpoint: &Checkpoint, state: &ReleaseState) {
        let Ok(release) = checkpoint.stream.parse::<ReleaseId>() else { return };
        for destination in self.inner.config.publish_heads.clone() {
            if destination == HeadDestination::Ticket && checkpoint.stage != Stage::Closed {
                continue;
            }
            if let Err(error) = self.publish_to(&release, destination, checkpoint, state).await {
                let failed =
                    Unpublished { release: release.clone(), sequence: checkpoint.sequence, destination, error };
                tracing::warn!(release = %release, sequence = checkpoint.sequence, %destination, error = %failed.error, "could not publish a signed head");
                self.inner.unpublished.lock().unwrap_or_else(|e| e.into_inner()).push(failed);
            }
        }
    }

    /// Publishes `checkpoint` (the newest) to `destination`; gives where, or
    /// `None` when the destination is not set up (no notes, no release ticket yet).
    async fn publish_to(
        &self,
        release: &ReleaseId,
        destination: HeadDestination,
        checkpoint: &Checkpoint,
        state: &ReleaseState,
    ) -> Result<Option<String>, String> {
        match destination {
            HeadDestination::Notes => {
                let Some(notes) = self.inner.ports.notes.clone() else { return Ok(None) };
                let all = self.inner.store.checkpoints(release).await.map_err(|e| e.to_string())?;
                let heads = PublishedHeads::new(release.as_str(), all);
                notes.publish_heads(release, heads.to_json().as_bytes()).await.map_err(|e| e.to_string())
            }
            HeadDestination::Ticket => {
                let (Some(ticketing), Some(key)) = (self.inner.ports.ticketing.clone(), release_ticket(state)) else {
                    return Ok(None);
                };
                ticketing.comment(&key, &ticket_comment(checkpoint)).await.map_err(|e| e.to_string())?;
                Ok(Some(format!("release ticket {key}")))
            }
        }
    }

    /// Publishes the release's newest checkpoint again to every configured
    /// destination (R-9d): the retry after a failure, or after
    /// `[evidence] publish_heads` was set. Gives where each went; a
    /// destination not set up (no release ticket yet) is left out.
    ///
    /// # Errors
    /// The store could not be read, or the first destination that failed, as
    /// a retryable port error.
    pub async fn publish_heads(&self, release: &ReleaseId) -> Result<Vec<Published>, EngineError> {
        let checkpoints = self.inner.store.checkpoints(release).await?;
        let Some(newest) = checkpoints.iter().max_by_key(|c| c.sequence) else { return Ok(Vec::new()) };
        let state = self.cached(release).await?;
        let mut published = Vec::new();
        for destination in self.inner.config.publish_heads.clone() {
            if destination == HeadDestination::Ticket && newest.stage != Stage::Closed {
                continue;
            }
            match self.publish_to(release, destination, newest, &state).await {
                Ok(Some(at)) => published.push(Published { destination, sequence: newest.sequence, at }),
                Ok(None) => {}
                Err(error) => {
                    return Err(crate::ports::PortError::new(
                        format!("heads {destination}"),
                        "publish",
                        crate::ports::ErrorKind::Unavailable,
                        error,
                    )
                    .into());
                }
            }
        }
        Ok(published)
    }

    /// The heads that could not be published since the last call (R-9d), for
    /// a surface to report; each says how to publish it again.
    pub fn take_unpublished(&self) -> Vec<Unpublished> {
        std::mem::take(&mut *self.inner.unpublished.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The configured signer's public key (hex), when there is one and its key can be read.
    pub fn signing_key(&self) -> Option<String> {
        let key = self.inner.ports.signer.as_ref()?.public_key();
        (!key.is_empty()).then_some(key)
    }

    /// The release's checkpoints, by sequence (R-9d); not verified here.
    pub async fn checkpoints(&self, release: &crate::model::ReleaseId) -> Result<Vec<Checkpoint>, super::EngineError> {
        Ok(self.inner.store.checkpoints(release).await?)
    }
}
