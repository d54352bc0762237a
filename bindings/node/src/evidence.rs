//! Evidence a release leaves for auditors (issue #20 parity, R-9d): its signed
//! evidence bundle, checked as `shipwarden evidence verify` checks one, and
//! its signed heads published where people can compare them.

use napi_derive::napi;

use shipwarden::ReleaseId;
use shipwarden::audit::{ChainHash, PublishedHeads, check_checkpoints, verify_head_at};

use crate::errors;
use crate::manager::{ReleaseManager, id};

/// An approval in a verified evidence bundle.
#[napi(object)]
pub struct VerifiedApproval {
    /// The sequence of its event in the chain.
    pub sequence: f64,
    /// What was approved.
    pub approval: String,
    /// Who.
    pub user: String,
    /// In which role.
    pub role: String,
    /// The kind of proof it carries (`ssh_signature`, `local`, …; `none` before proofs were recorded).
    pub proof: String,
    /// For an SSH signature verified offline: the key's fingerprint.
    pub fingerprint: Option<String>,
    /// For an SSH signature verified offline: the signer's public key, one OpenSSH line.
    pub public_key: Option<String>,
}

/// A rejection of an approval in a verified evidence bundle (R-2c).
#[napi(object)]
pub struct VerifiedRejection {
    /// The sequence of its event in the chain.
    pub sequence: f64,
    /// Which approval was rejected.
    pub approval: String,
    /// Who.
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

/// What a verified evidence bundle says; one that does not verify throws `IntegrityError`.
#[napi(object)]
pub struct EvidenceVerified {
    /// Always true.
    pub verified: bool,
    /// The release.
    pub release: String,
    /// The audit chain's head hash.
    pub head: String,
    /// Events in the chain.
    pub events: f64,
    /// The signer's public key (hex).
    pub public_key: String,
    /// How many signed checkpoints matched the chain.
    pub checkpoints: u32,
    /// Every approval in the chain; each SSH signature among them verified over its statement.
    pub approvals: Vec<VerifiedApproval>,
    /// Every rejection of an approval in the chain, oldest first; each SSH
    /// signature among them verified over its statement.
    pub rejections: Vec<VerifiedRejection>,
}

/// Where a signed head was published by `publishHeads`.
#[napi(object)]
pub struct PublishedHead {
    /// `notes` or `ticket`.
    pub destination: String,
    /// The newest checkpoint's sequence published there.
    pub sequence: f64,
    /// Where it can be read (a file, a wiki page, a ticket).
    pub at: String,
}

/// A signed head that could not be published (R-9d); `publishHeads` tries again.
#[napi(object)]
pub struct UnpublishedHead {
    /// The release.
    pub release: String,
    /// The checkpoint's sequence.
    pub sequence: f64,
    /// Where it was to go: `notes` or `ticket`.
    pub destination: String,
    /// Why it did not: the port's error.
    pub error: String,
}

/// Checks an evidence bundle (the document `evidenceBundle` returns, or the
/// CLI's `<release>.evidence.json`): its signature, by `publicKey` when given;
/// its audit chain; that every section says what the chain says; and every
/// signed approval, and rejection of one, over its statement. Offline, as
/// `shipwarden evidence verify`.
#[napi(ts_args_type = "bundle: Record<string, unknown>, publicKey?: string | undefined | null")]
pub fn verify_evidence(bundle: serde_json::Value, public_key: Option<String>) -> napi::Result<EvidenceVerified> {
    let signed: shipwarden::bundle::SignedBundle =
        serde_json::from_value(bundle).map_err(|e| errors::invalid(format!("bundle: not an evidence bundle: {e}")))?;
    let release = signed.bundle.release.to_string();
    let v = shipwarden_adapters::bundle::verify(&signed, public_key.as_deref())
        .map_err(|e| errors::bundle(e, Some(release.as_str())))?;
    Ok(EvidenceVerified {
        verified: true,
        release: v.release,
        head: v.head,
        events: v.events as f64,
        public_key: v.public_key,
        checkpoints: u32::try_from(v.checkpoints).unwrap_or(u32::MAX),
        approvals: v
            .approvals
            .into_iter()
            .map(|a| VerifiedApproval {
                sequence: a.sequence as f64,
                approval: a.approval,
                user: a.user,
                role: a.role,
                proof: a.proof,
                fingerprint: a.fingerprint,
                public_key: a.public_key,
            })
            .collect(),
        rejections: shipwarden_bindings::ops::verified_rejections(&signed.bundle)
            .into_iter()
            .map(|r| VerifiedRejection {
                sequence: r.sequence as f64,
                approval: r.approval,
                user: r.user,
                role: r.role,
                reason: r.reason,
                at: r.at,
                proof: r.proof,
                fingerprint: r.fingerprint,
                public_key: r.public_key,
            })
            .collect(),
    })
}

impl ReleaseManager {
    /// Checks the chain against signed heads published outside the store
    /// (R-9d), as `shipwarden audit --verify --published` does: each is signed
    /// by a trusted key (or this manager's signer) and the chain holds its head
    /// at its sequence.
    pub(crate) async fn verify_published(
        &self,
        release: &ReleaseId,
        text: &str,
        trusted: &[String],
    ) -> napi::Result<()> {
        let heads = PublishedHeads::read(text).map_err(|e| errors::invalid(format!("options.published: {e}")))?;
        if heads.release != release.as_str() {
            return Err(errors::invalid(format!("options.published: it holds the heads of {}", heads.release)));
        }
        if heads.checkpoints.is_empty() {
            return Err(errors::invalid("options.published: it holds no signed head"));
        }
        let history = self.inner.history(release).await.map_err(errors::engine)?;
        let mut keys: Vec<String> = trusted.iter().cloned().chain(self.inner.signing_key()).collect();
        keys.iter_mut().for_each(|k| *k = k.trim().to_ascii_lowercase());
        check_checkpoints(&history, &heads.checkpoints, &keys, &shipwarden_adapters::anchor::Ed25519Check)
            .map_err(|e| errors::integrity(release, format!("against the published heads: {e}")))?;
        Ok(())
    }

    /// Checks an evidence bundle and that `history` holds its head at its sequence (R-9d).
    pub(crate) fn verify_bundle_head(
        &self,
        release: &ReleaseId,
        history: &[shipwarden::audit::Envelope],
        bundle: serde_json::Value,
    ) -> napi::Result<()> {
        let pinned = self.config.as_ref().and_then(|c| c.config.evidence.public_key.clone());
        let verified = self::verify_evidence(bundle, pinned)?;
        if verified.release != release.as_str() {
            return Err(errors::invalid(format!("options.bundle: it is the bundle of {}", verified.release)));
        }
        let head: ChainHash = verified.head.parse().map_err(errors::parse)?;
        verify_head_at(history, verified.events as u64, &head).map_err(|e| errors::integrity(release, e))
    }
}

#[napi]
impl ReleaseManager {
    /// The release's evidence bundle as of now (R-9d): plan, approvals, gates,
    /// artifacts, commits, steps and the whole audit chain, signed when
    /// `[evidence] signing_key_env` is set. The same document
    /// `shipwarden evidence bundle` writes.
    #[napi(ts_return_type = "Promise<Record<string, unknown>>")]
    pub async fn evidence_bundle(&self, release: String) -> napi::Result<serde_json::Value> {
        let signed = self.inner.evidence_bundle(&id(&release)?).await.map_err(errors::engine)?;
        serde_json::to_value(&signed).map_err(errors::invalid)
    }

    /// Checks an evidence bundle as `verifyEvidence` does, pinned to this
    /// configuration's `[evidence] public_key` unless `publicKey` is given.
    #[napi(ts_args_type = "bundle: Record<string, unknown>, publicKey?: string | undefined | null")]
    pub fn verify_evidence(
        &self,
        bundle: serde_json::Value,
        public_key: Option<String>,
    ) -> napi::Result<EvidenceVerified> {
        let pinned = self.config.as_ref().and_then(|c| c.config.evidence.public_key.clone());
        self::verify_evidence(bundle, public_key.or(pinned))
    }

    /// Publishes the release's newest signed checkpoint again to every
    /// destination `[evidence] publish_heads` names (R-9d): the retry after a
    /// failure. Gives where each went.
    #[napi]
    pub async fn publish_heads(&self, release: String) -> napi::Result<Vec<PublishedHead>> {
        let published = self.inner.publish_heads(&id(&release)?).await.map_err(errors::engine)?;
        Ok(published
            .into_iter()
            .map(|p| PublishedHead { destination: p.destination.to_string(), sequence: p.sequence as f64, at: p.at })
            .collect())
    }

    /// The signed heads that could not be published since the last call (R-9d).
    #[napi]
    pub fn take_unpublished(&self) -> Vec<UnpublishedHead> {
        self.inner
            .take_unpublished()
            .into_iter()
            .map(|u| UnpublishedHead {
                release: u.release.to_string(),
                sequence: u.sequence as f64,
                destination: u.destination.to_string(),
                error: u.error,
            })
            .collect()
    }

    /// The configured checkpoint and bundle signer's public key (hex); null without one.
    #[napi]
    pub fn signing_key(&self) -> Option<String> {
        self.inner.signing_key()
    }
}
