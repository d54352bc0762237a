//! The release evidence bundle (R-9d, R-7g): one JSON document with
//! everything an auditor asks for when a release closes — the plan, every
//! approval, every gate result with its evidence, the artifacts' digests, the
//! commits and tickets, every deployment and check, the findings — and the
//! audit chain itself with its head hash, signed.
//!
//! [`EvidenceBundle::check`] proves the document is what the chain says:
//! the chain verifies, its head is the one named, and every section equals
//! the fold of the chain. The signature (checked by a verifier of the
//! algorithm, e.g. `shipwarden_adapters::bundle`) proves who issued it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::audit::Envelope;
use crate::machine::{Finding, ReleaseState, StepOutcome};
use crate::model::{Approval, ArtifactRef, EnvName, GateResult, Plan, ReleaseId, Stage, StepKind, TicketKey};

/// The format name and version written in every bundle.
pub const FORMAT: &str = "shipwarden.evidence.v1";

/// A commit of the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleCommit {
    /// The commit id.
    pub sha: String,
    /// Its subject.
    pub subject: String,
    /// Its author.
    pub author: String,
}

/// A step as the auditor reads it: deployments, checks, smoke tests, notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleStep {
    /// Its idempotency key.
    pub key: String,
    /// What it was.
    pub step: StepKind,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
    /// On which target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// `succeeded`, `failed` or `unfinished`.
    pub outcome: String,
    /// Its detail or error.
    pub detail: String,
}

/// The audit chain the bundle was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleAudit {
    /// The number of events.
    pub events: u64,
    /// The hash of the last envelope: the chain's head.
    pub head: String,
    /// Every envelope, in order.
    pub chain: Vec<Envelope>,
}

/// A signature over the bundle's canonical bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleSignature {
    /// `ed25519`.
    pub algorithm: String,
    /// The signer's public key, hex.
    pub public_key: String,
    /// The signature, hex.
    pub value: String,
}

/// Everything about one release, for auditors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceBundle {
    /// [`FORMAT`].
    pub format: String,
    /// The release.
    pub release: ReleaseId,
    /// When the bundle was made.
    pub created_at: Timestamp,
    /// The plan.
    pub plan: Plan,
    /// The stage when the bundle was made.
    pub stage: Stage,
    /// Every approval (R-2c).
    pub approvals: Vec<Approval>,
    /// Every rejection of an approval, with its reason (R-2c); absent from
    /// bundles without one (and from bundles made before rejections were).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejections: Vec<Approval>,
    /// Every gate result with its evidence (R-7g).
    pub gates: Vec<GateResult>,
    /// The artifacts and their digests (R-8b).
    pub artifacts: Vec<ArtifactRef>,
    /// The commits of the release (R-4a).
    pub commits: Vec<BundleCommit>,
    /// The tickets in scope.
    pub tickets: Vec<TicketKey>,
    /// Every step: builds, deployments, checks, smoke tests, notices (R-8e, R-9d).
    pub steps: Vec<BundleStep>,
    /// Duties missed (R-5c, R-6d).
    pub findings: Vec<Finding>,
    /// The audit chain (R-9d).
    pub audit: BundleAudit,
    /// The release's signed checkpoints up to the chain's end (R-9d): each
    /// checked offline against the chain, by the key the bundle is signed with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<crate::audit::Checkpoint>,
}

/// A bundle and its signature, as written to `<release>.evidence.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedBundle {
    /// The bundle.
    pub bundle: EvidenceBundle,
    /// Its signature over [`EvidenceBundle::message`]; none when no key is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<BundleSignature>,
}

/// Why a bundle is not what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not a bundle of this format.
    #[error("not a {FORMAT} document: {0}")]
    Format(String),
    /// The chain does not verify.
    #[error("the audit chain does not verify: {0}")]
    Chain(String),
    /// A section differs from what the chain says.
    #[error("the `{0}` section differs from the audit chain")]
    Differs(&'static str),
    /// The signature is missing, malformed or wrong.
    #[error("signature: {0}")]
    Signature(String),
    /// An approval's own signature does not verify over its statement (R-2c).
    #[error("approval `{approval}` by {user} at sequence {sequence}: {problem}")]
    Approval {
        /// What was approved.
        approval: String,
        /// Who.
        user: String,
        /// The sequence of its event.
        sequence: u64,
        /// What does not verify.
        problem: String,
    },
    /// A signed checkpoint does not verify, or does not match the chain.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

fn steps_of(state: &ReleaseState) -> Vec<BundleStep> {
    state
        .steps
        .iter()
        .map(|s| {
            let (outcome, detail) = match &s.outcome {
                Some(StepOutcome::Succeeded { detail, .. }) => ("succeeded", detail.clone()),
                Some(StepOutcome::Failed { error, .. }) => ("failed", error.clone()),
                None => ("unfinished", String::new()),
            };
            BundleStep {
                key: s.key.clone(),
                step: s.step.clone(),
                environment: s.environment.clone(),
                target: s.target.clone(),
                started_at: s.started_at,
                finished_at: s.finished_at,
                outcome: outcome.to_owned(),
                detail,
            }
        })
        .collect()
}

impl EvidenceBundle {
    /// The bundle of the release whose whole audit chain is `chain`, with the
    /// commits the repository lists for it.
    pub fn build(chain: &[Envelope], commits: Vec<BundleCommit>, now: Timestamp) -> Result<Self, BundleError> {
        let head = crate::audit::verify(chain).map_err(|e| BundleError::Chain(e.to_string()))?;
        let state = ReleaseState::from_events(chain.iter().map(|e| &e.event));
        let (Some(plan), Some(stage), Some(first)) = (state.plan.clone(), state.stage.clone(), chain.first()) else {
            return Err(BundleError::Format("the chain holds no planned release".into()));
        };
        let release: ReleaseId = first.stream.parse().map_err(|e| BundleError::Format(format!("{e}")))?;
        Ok(Self {
            format: FORMAT.into(),
            release,
            created_at: now,
            tickets: plan.scope.clone(),
            plan,
            stage,
            approvals: state.approvals.clone(),
            rejections: state.rejections.clone(),
            gates: state.gate_results.clone(),
            artifacts: state.artifacts.clone(),
            commits,
            steps: steps_of(&state),
            findings: state.findings.clone(),
            audit: BundleAudit { events: chain.len() as u64, head: head.to_string(), chain: chain.to_vec() },
            checkpoints: Vec::new(),
        })
    }

    /// The bytes a signature covers: the bundle as compact JSON, fields in
    /// declaration order.
    pub fn message(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Checks that the bundle is what its chain says (see the module docs).
    pub fn check(&self) -> Result<(), BundleError> {
        if self.format != FORMAT {
            return Err(BundleError::Format(format!("format is `{}`", self.format)));
        }
        let chain = &self.audit.chain;
        let head = crate::audit::verify(chain).map_err(|e| BundleError::Chain(e.to_string()))?;
        if head.to_string() != self.audit.head || chain.len() as u64 != self.audit.events {
            return Err(BundleError::Differs("audit"));
        }
        if chain.iter().any(|e| e.stream != self.release.as_str()) {
            return Err(BundleError::Differs("release"));
        }
        if self.checkpoints.iter().any(|c| c.stream != self.release.as_str() || c.sequence > self.audit.events) {
            return Err(BundleError::Differs("checkpoints"));
        }
        let state = ReleaseState::from_events(chain.iter().map(|e| &e.event));
        let checks: [(&'static str, bool); 9] = [
            ("plan", state.plan.as_ref() == Some(&self.plan)),
            ("stage", state.stage.as_ref() == Some(&self.stage)),
            ("approvals", state.approvals == self.approvals),
            ("rejections", state.rejections == self.rejections),
            ("gates", state.gate_results == self.gates),
            ("artifacts", state.artifacts == self.artifacts),
            ("tickets", self.plan.scope == self.tickets),
            ("steps", steps_of(&state) == self.steps),
            ("findings", state.findings == self.findings),
        ];
        match checks.into_iter().find(|(_, ok)| !ok) {
            Some((section, _)) => Err(BundleError::Differs(section)),
            None => Ok(()),
        }
    }
}
