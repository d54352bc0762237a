//! Evidence bundles signed with Ed25519 (ring), and their verification
//! (R-9d): the signature over the bundle's canonical bytes, the public key
//! pinned when the verifier knows it, and the bundle checked against its own
//! audit chain.
//!
//! The private key is a 32-byte Ed25519 seed, as 64 hex digits, from an
//! environment variable; it lives in a `secrecy` type and is never printed.

use async_trait::async_trait;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use secrecy::{ExposeSecret, SecretString};
use shipwarden::bundle::{BundleError, SignedBundle};
use shipwarden::ports::{ErrorKind, PortError, Signer};

/// Signs with an Ed25519 key.
pub struct Ed25519Signer {
    pair: Ed25519KeyPair,
    public: String,
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer").field("public_key", &self.public).finish_non_exhaustive()
    }
}

impl Ed25519Signer {
    /// A signer from a 32-byte seed given as 64 hex digits.
    pub fn from_seed_hex(seed: &SecretString) -> Result<Self, PortError> {
        let bad = |m: &str| PortError::new("signer ed25519", "load key", ErrorKind::Invalid, m);
        let bytes = hex::decode(seed.expose_secret().trim()).map_err(|_| bad("the key is not hex"))?;
        if bytes.len() != 32 {
            return Err(bad("the key must be a 32-byte Ed25519 seed: 64 hex digits"));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(&bytes).map_err(|_| bad("the seed is not an Ed25519 key"))?;
        let public = hex::encode(pair.public_key().as_ref());
        Ok(Self { pair, public })
    }

    /// A new random key, as the 64 hex digits to keep in a secret store.
    pub fn generate_seed_hex() -> Result<SecretString, PortError> {
        let mut seed = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
            .map_err(|_| PortError::new("signer ed25519", "generate", ErrorKind::Other, "no system randomness"))?;
        Ok(SecretString::from(hex::encode(seed)))
    }
}

#[async_trait]
impl Signer for Ed25519Signer {
    fn algorithm(&self) -> &str {
        "ed25519"
    }

    fn public_key(&self) -> String {
        self.public.clone()
    }

    async fn sign(&self, message: &[u8]) -> Result<String, PortError> {
        Ok(hex::encode(self.pair.sign(message).as_ref()))
    }
}

/// An approval of a verified bundle.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifiedApproval {
    /// The sequence of its event in the chain.
    pub sequence: u64,
    /// What was approved.
    pub approval: String,
    /// Who.
    pub user: String,
    /// In which role.
    pub role: String,
    /// The kind of proof it carries (`ssh_signature`, `local`, …; `none` before proofs were recorded).
    pub proof: String,
    /// For an SSH signature verified offline: the key's fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// For an SSH signature verified offline: the signer's public key, one OpenSSH line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// What a verified bundle says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The release.
    pub release: String,
    /// The audit chain's head hash.
    pub head: String,
    /// Events in the chain.
    pub events: u64,
    /// The signer's public key.
    pub public_key: String,
    /// How many signed checkpoints matched the chain (R-9d).
    pub checkpoints: usize,
    /// Every approval in the chain; each SSH signature among them verified over its statement.
    pub approvals: Vec<VerifiedApproval>,
    /// Every rejection of an approval in the chain, checked the same way (R-2c).
    pub rejections: Vec<VerifiedApproval>,
}

/// Checks every approval and rejection in the chain: an SSH-signed one must
/// verify over its statement, offline, from what it recorded (R-2c, R-9d).
/// Gives the approvals, then the rejections.
#[allow(clippy::type_complexity)]
fn approvals(
    bundle: &shipwarden::bundle::EvidenceBundle,
) -> Result<(Vec<VerifiedApproval>, Vec<VerifiedApproval>), BundleError> {
    use shipwarden::machine::Event;
    let (mut approvals, mut rejections) = (Vec::new(), Vec::new());
    for e in &bundle.audit.chain {
        #[cfg(feature = "identity")]
        let action_signed = signed_action(e, bundle.release.as_str())?;
        let (found, a) = match &e.event {
            Event::Approved(a) => (&mut approvals, a),
            Event::Rejected(a) => (&mut rejections, a),
            _ => continue,
        };
        let kind = a.proof.as_ref().map_or("none", |p| p.kind().as_str());
        let mut verified = VerifiedApproval {
            sequence: e.sequence,
            approval: a.approval.to_string(),
            user: a.user.clone(),
            role: a.role.to_string(),
            proof: kind.to_owned(),
            fingerprint: None,
            public_key: None,
        };
        #[cfg(feature = "identity")]
        {
            let signed = match &e.event {
                Event::Approved(a) if matches!(a.proof, Some(shipwarden::Proof::SshSignature { .. })) => {
                    Some(crate::identity::verify_recorded(a, bundle.release.as_str()).map_err(|problem| {
                        BundleError::Approval {
                            approval: a.approval.to_string(),
                            user: a.user.clone(),
                            sequence: e.sequence,
                            problem: problem.to_string(),
                        }
                    })?)
                }
                _ => action_signed,
            };
            if let Some(signed) = signed {
                verified.fingerprint = Some(signed.fingerprint);
                verified.public_key = Some(signed.public_key);
            }
        }
        found.push(verified);
    }
    Ok((approvals, rejections))
}

/// Checks the SSH signature of a signed rollback, window override,
/// emergency plan or rejection offline, like an approval's (R-2d): a bad one
/// fails the bundle, named as the event at its sequence. Gives the verified
/// signature, if the event carries one.
#[cfg(feature = "identity")]
fn signed_action(
    e: &shipwarden::audit::Envelope,
    release: &str,
) -> Result<Option<crate::identity::RecordedSignature>, BundleError> {
    use shipwarden::IdentityAction as A;
    use shipwarden::machine::Event;
    let (action, proof, user, role, comment) = match &e.event {
        Event::WindowOverridden(o) => {
            (A::OverrideWindow, o.proof.as_ref(), o.user.as_str(), Some(o.role.as_str()), o.reason.as_str())
        }
        Event::RollbackStarted { proof, reason, .. } => {
            (A::Rollback, proof.as_ref(), e.actor.as_str(), None, reason.as_str())
        }
        Event::Planned { proof, plan, author, .. } => {
            let reason = plan.hotfix.as_ref().map_or("", |h| h.justification.as_str());
            (A::EmergencyPlan, proof.as_ref(), author.as_str(), None, reason)
        }
        Event::Rejected(r) => (A::Reject, r.proof.as_ref(), r.user.as_str(), Some(r.role.as_str()), r.comment.as_str()),
        _ => return Ok(None),
    };
    if !matches!(proof, Some(shipwarden::Proof::SshSignature { .. })) {
        return Ok(None);
    }
    let (approval, channel) = match &e.event {
        Event::Rejected(r) => (r.approval.as_str(), Some(r.channel.as_str())),
        _ => ("", None),
    };
    let recorded = crate::identity::Recorded { action, release, approval, role, user, channel, comment };
    crate::identity::verify_recorded_proof(proof, &recorded).map(Some).map_err(|problem| BundleError::Approval {
        approval: action.to_string(),
        user: user.to_owned(),
        sequence: e.sequence,
        problem: problem.to_string(),
    })
}

/// Verifies a bundle offline, from what it holds (R-9d): each SSH-signed
/// approval over its statement; the bundle's signature (by `expected_key`
/// when given, else by the key it names); that it is what its audit chain
/// says; and its signed checkpoints against the chain, by the bundle's key.
///
/// # Errors
/// The first check that fails; a bad approval names the approval, its user and its sequence.
pub fn verify(signed: &SignedBundle, expected_key: Option<&str>) -> Result<Verified, BundleError> {
    // First, so that an altered statement or signature is named as such, not as a changed bundle.
    let (approvals, rejections) = approvals(&signed.bundle)?;
    let Some(sig) = &signed.signature else {
        return Err(BundleError::Signature("the bundle is not signed".into()));
    };
    if sig.algorithm != "ed25519" {
        return Err(BundleError::Signature(format!("unknown algorithm `{}`", sig.algorithm)));
    }
    if let Some(expected) = expected_key
        && !expected.trim().eq_ignore_ascii_case(&sig.public_key)
    {
        return Err(BundleError::Signature(format!(
            "signed by key {}, not by the expected {}",
            sig.public_key,
            expected.trim()
        )));
    }
    let public =
        hex::decode(&sig.public_key).map_err(|_| BundleError::Signature("the public key is not hex".into()))?;
    let value = hex::decode(&sig.value).map_err(|_| BundleError::Signature("the signature is not hex".into()))?;
    UnparsedPublicKey::new(&ED25519, public)
        .verify(&signed.bundle.message(), &value)
        .map_err(|_| BundleError::Signature("does not match the bundle: it was changed after signing".into()))?;
    signed.bundle.check()?;
    let trusted = [sig.public_key.to_ascii_lowercase()];
    let report = shipwarden::audit::check_checkpoints(
        &signed.bundle.audit.chain,
        &signed.bundle.checkpoints,
        &trusted,
        &crate::anchor::Ed25519Check,
    )
    .map_err(|e| BundleError::Checkpoint(e.to_string()))?;
    Ok(Verified {
        release: signed.bundle.release.to_string(),
        head: signed.bundle.audit.head.clone(),
        events: signed.bundle.audit.events,
        public_key: sig.public_key.clone(),
        checkpoints: report.checkpoints,
        approvals,
        rejections,
    })
}
