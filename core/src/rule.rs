//! Requirement IDs (`R-5a`) that name the rule behind every decision.
//!
//! The set is closed: it holds every requirement of `REQUIREMENTS.md` and
//! nothing else, so a policy, a refusal or an event can only name a rule that
//! exists. Text such as `R-99` is refused when it is parsed or deserialized.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The ID of a requirement in `REQUIREMENTS.md` (`R-5a`), named by every
/// refusal, policy entry and audit event it governs. One of the constants
/// below; [`RuleId::ALL`] lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId(&'static str);

macro_rules! rules {
    ($($name:ident => $text:literal: $doc:literal),+ $(,)?) => {
        impl RuleId {
            $( #[doc = $doc] pub const $name: RuleId = RuleId($text); )+

            /// Every rule of the procedure, in document order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$name),+];

            /// What the rule asks, in one line.
            pub fn summary(&self) -> &'static str {
                match self.0 {
                    $( $text => $doc, )+
                    _ => "",
                }
            }
        }
    };
}

rules! {
    R_1 => "R-1": "Release model.",
    R_1A => "R-1a": "A release is a versioned set of changes with a kind, scope and dependencies.",
    R_1B => "R-1b": "Environments are named and ordered.",
    R_1C => "R-1c": "Artifacts are versioned packages with a checksum.",
    R_1D => "R-1d": "Rollback returns an environment to the previous working release.",
    R_2 => "R-2": "Roles and approvals.",
    R_2A => "R-2a": "Roles are configurable; users hold roles.",
    R_2B => "R-2b": "Who approves what: scope, QA sign-off, acceptance, emergencies.",
    R_2C => "R-2c": "Every approval is logged with time, user, role, channel and comment.",
    R_2D => "R-2d": "Approvals need the role; separation of duties.",
    R_2E => "R-2e": "Escalation contacts (name, email, role) are part of the project config.",
    R_3 => "R-3": "The lifecycle: stages and the transitions between them.",
    R_4 => "R-4": "Change tracking and version control.",
    R_4A => "R-4a": "Every commit since the last release tag carries a ticket key.",
    R_4B => "R-4b": "Commits link to tickets in the notes and the audit.",
    R_4C => "R-4c": "Releases are tagged with valid SemVer, newer than the last release.",
    R_4D => "R-4d": "Branch model and reviewed pull requests.",
    R_4E => "R-4e": "The next version is computed from the kind and the commits.",
    R_5 => "R-5": "Emergency releases.",
    R_5A => "R-5a": "Emergency releases may skip staging and test only with a CTO/tech lead approval.",
    R_5B => "R-5b": "Emergency tickets carry the HOTFIX prefix and a justification.",
    R_5C => "R-5c": "All teams are notified within an hour of an emergency production deployment.",
    R_6 => "R-6": "Scheduling and communication.",
    R_6A => "R-6a": "A release calendar of planned deployments and windows.",
    R_6B => "R-6b": "No production deployment inside a blackout window or freeze.",
    R_6C => "R-6c": "Major releases deploy inside a maintenance window.",
    R_6D => "R-6d": "Teams are notified 24 hours before a scheduled production deployment.",
    R_6E => "R-6e": "Two deployments to one environment may not overlap.",
    R_7 => "R-7": "Release criteria and risk checks.",
    R_7A => "R-7a": "Unit-test coverage meets the threshold.",
    R_7B => "R-7b": "No open critical or high-severity bugs in scope.",
    R_7C => "R-7c": "Performance results meet their thresholds.",
    R_7D => "R-7d": "Documentation updated and reviewed.",
    R_7E => "R-7e": "Database migrations and their rollback scripts were tested in staging first.",
    R_7F => "R-7f": "External dependencies in staging match what goes to production.",
    R_7G => "R-7g": "Every gate result is stored with its evidence.",
    R_8 => "R-8": "Deployment.",
    R_8A => "R-8a": "Pre-deployment checks per target.",
    R_8B => "R-8b": "Build and packaging produce versioned artifacts.",
    R_8C => "R-8c": "Production backups complete and restore-tested.",
    R_8D => "R-8d": "The artifact version equals the git tag; dependencies present.",
    R_8E => "R-8e": "Deployment execution through each target, logged and monitored.",
    R_8F => "R-8f": "Smoke tests complete within the deadline.",
    R_8G => "R-8g": "Rollback on failure, every step recorded.",
    R_9 => "R-9": "Notifications, documentation, audit.",
    R_9A => "R-9a": "Notifications by chat and email.",
    R_9B => "R-9b": "Release notes are generated and published.",
    R_9C => "R-9c": "Changed environment settings are recorded, secret values never.",
    R_9D => "R-9d": "Every step is documented in the audit trail.",
    R_10 => "R-10": "The product.",
    R_10A => "R-10a": "A Rust library with a typed state machine and pluggable ports.",
    R_10B => "R-10b": "Python and Node bindings.",
    R_10C => "R-10c": "Used by services, scripts, tooling and internal platforms.",
}

impl RuleId {
    /// The ID as text.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// Text that is not the ID of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a requirement of the procedure (R-1a … R-10c)")]
pub struct UnknownRule(pub String);

impl FromStr for RuleId {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        RuleId::ALL.iter().copied().find(|r| r.0.eq_ignore_ascii_case(s)).ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_rules_are_refused() {
        assert!("R-99".parse::<RuleId>().is_err());
        assert!(serde_json::from_str::<RuleId>("\"R-7z\"").is_err());
        assert_eq!(serde_json::from_str::<RuleId>("\"R-7a\"").ok(), Some(RuleId::R_7A));
        assert_eq!(serde_json::to_string(&RuleId::R_8F).ok().as_deref(), Some("\"R-8f\""));
    }
}
