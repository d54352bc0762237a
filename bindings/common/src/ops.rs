//! Operations whose binding-facing behaviour is more than one engine call,
//! written once for both bindings.

use std::sync::Arc;

use shipwarden::engine::{ReleaseManager, StepError};
use shipwarden::{EnvName, ReleaseId, ReleaseState, StepKind, StepOutcome};

use crate::ErrorDoc;

/// Deploys `release` to `environment` and returns the release after it; a
/// deployment that failed is an error (`ADAPTER`, kind `step_failed`) with
/// the failed step's port error, never a normal return (issue #20, R-8g).
pub async fn deploy(
    manager: &ReleaseManager,
    release: &ReleaseId,
    environment: &EnvName,
) -> Result<Arc<ReleaseState>, ErrorDoc> {
    let before = manager.state(release).await.map_err(ErrorDoc::engine)?;
    let outcome = manager.deploy(release, environment).await.map_err(ErrorDoc::engine)?;
    let after = manager.state(release).await.map_err(ErrorDoc::engine)?;
    if outcome.succeeded() {
        return Ok(after);
    }
    let error = StepError::of(&after.failed_since(&before)).unwrap_or_else(|| StepError {
        step: StepKind::Deploy,
        environment: Some(environment.clone()),
        target: None,
        port: "engine".into(),
        operation: "deploy".into(),
        cause: match &outcome {
            StepOutcome::Failed { error, .. } => error.clone(),
            StepOutcome::Succeeded { detail, .. } => detail.clone(),
        },
        retryable: false,
    });
    Err(ErrorDoc::step(error))
}

/// A rejection of an approval in a verified evidence bundle (R-2c, R-9d): the
/// bundle's `approvals` list has its counterpart in the adapters' report; the
/// rejections are read here from the chain that report verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedRejection {
    /// The sequence of its event in the chain.
    pub sequence: u64,
    /// Which approval was rejected.
    pub approval: String,
    /// Who rejected it.
    pub user: String,
    /// In which role.
    pub role: String,
    /// Why.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
    /// The kind of proof it carries (`ssh_signature`, `local`, …).
    pub proof: String,
    /// For an SSH signature verified offline: the key's fingerprint.
    pub fingerprint: Option<String>,
    /// For an SSH signature verified offline: the signer's public key, one OpenSSH line.
    pub public_key: Option<String>,
}

/// Every rejection in `bundle`'s chain, oldest first. Call it on a bundle
/// [`shipwarden_adapters::bundle::verify`] accepted: that check verified each
/// SSH-signed rejection over its statement; here the signer's key is read back.
pub fn verified_rejections(bundle: &shipwarden::bundle::EvidenceBundle) -> Vec<VerifiedRejection> {
    use shipwarden_adapters::identity::{Recorded, verify_recorded_proof};
    let release = bundle.release.as_str();
    bundle
        .audit
        .chain
        .iter()
        .filter_map(|e| match &e.event {
            shipwarden::machine::Event::Rejected(r) => Some((e.sequence, r)),
            _ => None,
        })
        .map(|(sequence, r)| {
            let signed = matches!(r.proof, Some(shipwarden::Proof::SshSignature { .. }))
                .then(|| {
                    let recorded = Recorded {
                        action: shipwarden::IdentityAction::Reject,
                        release,
                        approval: r.approval.as_str(),
                        role: Some(r.role.as_str()),
                        user: &r.user,
                        channel: Some(r.channel.as_str()),
                        comment: &r.comment,
                    };
                    verify_recorded_proof(r.proof.as_ref(), &recorded).ok()
                })
                .flatten();
            VerifiedRejection {
                sequence,
                approval: r.approval.to_string(),
                user: r.user.clone(),
                role: r.role.to_string(),
                reason: r.comment.clone(),
                at: r.at.to_string(),
                proof: r.proof.as_ref().map_or("none", |p| p.kind().as_str()).to_owned(),
                fingerprint: signed.as_ref().map(|s| s.fingerprint.clone()),
                public_key: signed.map(|s| s.public_key),
            }
        })
        .collect()
}
