//! `[identity]`: which proofs of who acted each kind of action needs (issue #19, R-2b, R-2d).

use serde::{Deserialize, Serialize};

pub use crate::model::IdentityAction;
use crate::model::ProofKind;

/// How far the policy trusts a name (issue #19).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Trust {
    /// Any proof will do, a local user name too: one operator on one machine
    /// (the default for a SQLite store, and the demo's).
    Local,
    /// The actions listed in [`IdentityPolicy`] need one of their proofs
    /// (the default for a shared PostgreSQL store).
    Verified,
}

/// `[identity]`: under `trust = "verified"`, the proofs each action accepts.
/// An empty list accepts any proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPolicy {
    /// `local` (any proof) or `verified` (the lists below).
    pub trust: Trust,
    /// Proofs accepted for approvals, and for rejecting one.
    pub approve: Vec<ProofKind>,
    /// Proofs accepted for window overrides.
    pub override_window: Vec<ProofKind>,
    /// Proofs accepted for planning an emergency release.
    pub emergency_plan: Vec<ProofKind>,
    /// Proofs accepted for beginning a rollback.
    pub rollback: Vec<ProofKind>,
    /// How old a signed statement may be when it is recorded (`15m`): besides
    /// naming the chain head, a statement is dated, so one kept unused cannot
    /// be presented much later (R-2d).
    #[serde(with = "super::friendly_duration")]
    pub statement_max_age: jiff::SignedDuration,
}

impl Default for IdentityPolicy {
    /// `trust = "local"`, and for `verified` a signature or a verified token.
    fn default() -> Self {
        let strong = vec![ProofKind::SshSignature, ProofKind::Token, ProofKind::Oidc];
        // An approval may also come from chat: a Slack click is verified by
        // Slack's request signature and mapped to `[users]` (issue #23).
        let mut approve = strong.clone();
        approve.push(ProofKind::Chat);
        Self {
            trust: Trust::Local,
            approve,
            override_window: strong.clone(),
            emergency_plan: strong.clone(),
            rollback: strong,
            statement_max_age: jiff::SignedDuration::from_mins(15),
        }
    }
}

impl IdentityPolicy {
    /// The proofs `action` accepts; `None` when any proof will do.
    pub fn accepted(&self, action: IdentityAction) -> Option<&[ProofKind]> {
        if self.trust == Trust::Local {
            return None;
        }
        let kinds = match action {
            IdentityAction::Approve | IdentityAction::Reject => &self.approve,
            IdentityAction::OverrideWindow => &self.override_window,
            IdentityAction::EmergencyPlan => &self.emergency_plan,
            IdentityAction::Rollback => &self.rollback,
        };
        (!kinds.is_empty()).then_some(kinds.as_slice())
    }
}
