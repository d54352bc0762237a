//! Checkpoint signatures checked with Ed25519 (ring), for
//! [`verify_anchored`](shipwarden::audit::verify_anchored) (R-9d): the same
//! algorithm and key as the evidence bundle's.

use ring::signature::{ED25519, UnparsedPublicKey};

/// Checks Ed25519 signatures given as hex; any other algorithm fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ed25519Check;

impl shipwarden::audit::SignatureCheck for Ed25519Check {
    fn check(&self, algorithm: &str, public_key: &str, message: &[u8], signature: &str) -> bool {
        if algorithm != "ed25519" {
            return false;
        }
        let (Ok(public), Ok(value)) = (hex::decode(public_key.trim()), hex::decode(signature.trim())) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, public).verify(message, &value).is_ok()
    }
}

/// Why [`verify_release`] did not verify a release's trail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The trail or the listing could not be read.
    #[error(transparent)]
    Engine(#[from] shipwarden::engine::EngineError),
    /// The trail does not agree with its checkpoints, the expected head, or its listing row.
    #[error("the audit trail of {release} does not verify (R-9d): {message}")]
    Integrity {
        /// The release.
        release: shipwarden::ReleaseId,
        /// The sequence the failure is at, when it is at one.
        sequence: Option<u64>,
        /// What does not agree.
        message: String,
    },
}

fn chain_sequence(e: &shipwarden::audit::AuditError) -> Option<u64> {
    use shipwarden::audit::AuditError as C;
    match e {
        C::Edited { sequence }
        | C::Reordered { sequence, .. }
        | C::Inserted { sequence }
        | C::ForeignStream { sequence, .. } => Some(*sequence),
        C::Deleted { from, .. } => Some(*from),
        _ => None,
    }
}

fn anchor_sequence(e: &shipwarden::audit::AnchorError) -> Option<u64> {
    use shipwarden::audit::AnchorError as A;
    match e {
        A::Chain(c) => chain_sequence(c),
        A::ForeignCheckpoint { sequence, .. }
        | A::BadSignature { sequence }
        | A::UntrustedKey { sequence, .. }
        | A::Rewritten { sequence, .. }
        | A::CutTail { sequence, .. } => Some(*sequence),
        _ => None,
    }
}

/// Verifies a release's audit trail as `audit --verify` does (R-9d): its
/// signed checkpoints (by a key in `trusted`, to which the manager's own
/// signing key is added), that no stage change after the newest checkpoint
/// lacks one (when checkpoints are expected: a signing key or a trusted key
/// is configured), then `head`, a head known from elsewhere, then the
/// listing row (edited, or missing while the release has events). The chain itself was verified by the store as it loaded.
/// The CLI and the Python and Node bindings all call this.
///
/// # Errors
/// [`VerifyError::Integrity`] naming the first disagreement and its sequence.
pub async fn verify_release(
    manager: &shipwarden::engine::ReleaseManager,
    release: &shipwarden::ReleaseId,
    trusted: &[String],
    head: Option<&shipwarden::audit::ChainHash>,
) -> Result<(Vec<shipwarden::audit::Envelope>, shipwarden::audit::AnchorReport), VerifyError> {
    let history = manager.history(release).await.map_err(|e| match e {
        // The store found the chain itself broken as it loaded it.
        shipwarden::engine::EngineError::Store(shipwarden::ports::StoreError::Corrupt { stream, error }) => {
            VerifyError::Integrity { release: stream, sequence: chain_sequence(&error), message: error.to_string() }
        }
        other => VerifyError::Engine(other),
    })?;
    let checkpoints = manager.checkpoints(release).await?;
    let mut keys: Vec<String> = trusted.iter().cloned().chain(manager.signing_key()).collect();
    keys.iter_mut().for_each(|k| *k = k.trim().to_ascii_lowercase());
    keys.sort();
    keys.dedup();
    let integrity = |e: shipwarden::audit::AnchorError| VerifyError::Integrity {
        release: release.clone(),
        sequence: anchor_sequence(&e),
        message: e.to_string(),
    };
    let report =
        shipwarden::audit::check_checkpoints(&history, &checkpoints, &keys, &Ed25519Check).map_err(integrity)?;
    // Checkpoints are expected when this manager signs them or the verifier pins a key: a stage
    // change after the newest one is a deleted checkpoint (and maybe a rewritten tail).
    let expected = manager.signing_key().is_some() || !trusted.is_empty();
    if expected && let Some(&first) = report.unanchored_stage_changes.first() {
        let sequences: Vec<String> = report.unanchored_stage_changes.iter().map(u64::to_string).collect();
        return Err(VerifyError::Integrity {
            release: release.clone(),
            sequence: Some(first),
            message: format!(
                "a checkpoint is missing: the stage changes at sequence {} have none, the newest checkpoint is at \
                 sequence {}; checkpoints were deleted and the events after them may be rewritten (if the process \
                 stopped before signing, the next stage change's checkpoint covers them)",
                sequences.join(", "),
                report.anchored_at.unwrap_or_default()
            ),
        });
    }
    if let Some(head) = head {
        shipwarden::audit::verify_head(&history, head).map_err(integrity)?;
    }
    if let Some(mismatch) = manager.listing(release, &history).await? {
        return Err(VerifyError::Integrity {
            release: release.clone(),
            sequence: None,
            message: format!(
                "the listing row of {release} does not match its audit chain: {}; `list` and `status` show what \
                 the chain says",
                mismatch.describe()
            ),
        });
    }
    Ok((history, report))
}
