//! Requirement IDs (`R-5a`) that name the rule behind every decision.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The ID of a requirement in `REQUIREMENTS.md` (`R-5a`), named by every
/// refusal, policy entry and audit event it governs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RuleId(Cow<'static, str>);

macro_rules! rules {
    ($($name:ident => $text:literal: $doc:literal),+ $(,)?) => {
        impl RuleId {
            $( #[doc = $doc] pub const $name: RuleId = RuleId(Cow::Borrowed($text)); )+
        }
    };
}

rules! {
    R_1A => "R-1a": "A release is a versioned set of changes with a kind, scope and dependencies.",
    R_1B => "R-1b": "Environments are named and ordered.",
    R_1D => "R-1d": "Rollback returns an environment to the previous working release.",
    R_2B => "R-2b": "Who approves what: scope, QA sign-off, acceptance, emergencies.",
    R_2C => "R-2c": "Every approval is logged with time, user, role, channel and comment.",
    R_2D => "R-2d": "Approvals need the role; separation of duties.",
    R_3 => "R-3": "The lifecycle: stages and the transitions between them.",
    R_4A => "R-4a": "Every commit since the last release carries a ticket key.",
    R_4C => "R-4c": "Releases are tagged with valid SemVer, newer than the last release.",
    R_5A => "R-5a": "Emergency releases may skip staging and test only with a CTO/tech lead approval.",
    R_5B => "R-5b": "Emergency tickets carry the HOTFIX prefix and a justification.",
    R_5C => "R-5c": "All teams are notified within an hour of an emergency production deployment.",
    R_6B => "R-6b": "No production deployment inside a blackout window or freeze.",
    R_6C => "R-6c": "Major releases deploy inside a maintenance window.",
    R_6D => "R-6d": "Teams are notified 24 hours before a scheduled production deployment.",
    R_6E => "R-6e": "Two deployments to one environment may not overlap.",
    R_7G => "R-7g": "Every gate result is stored with its evidence.",
    R_8B => "R-8b": "Build and packaging produce versioned artifacts.",
    R_8E => "R-8e": "Deployment execution through each target.",
    R_8F => "R-8f": "Smoke tests complete within the deadline.",
    R_8G => "R-8g": "Rollback on failure, every step recorded.",
    R_9D => "R-9d": "Every step is documented in the audit trail.",
}

impl RuleId {
    /// A rule ID from text such as `R-7a`.
    pub fn new(id: impl Into<String>) -> Self {
        RuleId(Cow::Owned(id.into()))
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the `R-<number><letters>` shape of requirement IDs.
    pub fn is_well_formed(&self) -> bool {
        self.0.strip_prefix("R-").is_some_and(|rest| {
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            digits > 0 && rest[digits..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.')
        })
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
