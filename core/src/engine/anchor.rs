//! Checkpoints (R-9d): the chain head signed at every stage change and at
//! close, when a signer is configured, so that a rewrite of the store by
//! someone without the key is found by `audit --verify`.

use crate::audit::{Checkpoint, Envelope};
use crate::model::Stage;

use super::ReleaseManager;

impl ReleaseManager {
    /// Signs the head `last` reached at `stage` and stores the checkpoint.
    ///
    /// # Notes
    /// The events are already committed: a signer or store that fails here
    /// leaves this stage unanchored (a warning, and `audit --verify` says how
    /// many events no checkpoint covers), never an undone stage change.
    pub(crate) async fn checkpoint(&self, last: &Envelope, stage: &Stage) {
        let Some(signer) = &self.inner.ports.signer else {
            return;
        };
        let at = self.inner.clock.now();
        let (algorithm, public_key) = (signer.algorithm().to_owned(), signer.public_key());
        let message =
            Checkpoint::statement(&last.stream, last.sequence, &last.hash, stage, &at, &algorithm, &public_key);
        let signature = match signer.sign(&message).await {
            Ok(signature) => signature,
            Err(e) => {
                tracing::warn!(release = %last.stream, sequence = last.sequence, error = %e, "could not sign a checkpoint");
                return;
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
        }
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
