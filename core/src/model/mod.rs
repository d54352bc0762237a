//! The release domain: versions, kinds, stages, environments,
//! roles, actors, tickets, artifacts, approvals and gate results.

mod artifact;
mod gate;
mod identity;
pub(crate) mod names;
mod people;
mod release;
mod ticket;
mod version;

use std::fmt;

pub use artifact::{ArtifactRef, Sha256};
pub use gate::{GateResult, Measure, Threshold, Unit};
pub use identity::{IdentityAction, Proof, ProofKind, Statement};
pub use names::{ApprovalId, GateId, Role, Stage, StepKind};
pub use people::{Actor, Approval, Channel, EscalationContact};
pub use release::{Dependency, EnvName, Hotfix, Plan, ReleaseId, ReleaseKind};
pub use ticket::TicketKey;
pub use version::Version;

/// Text that could not be read as the value it should be: says what was
/// expected, and what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`: {expected}")]
pub struct ParseError {
    /// What was being parsed (`version`, `ticket key`, …).
    pub what: &'static str,
    /// The input, shortened to 80 characters.
    pub input: String,
    /// What a valid value looks like.
    pub expected: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, input: &str, expected: impl fmt::Display) -> Self {
        let input = if input.chars().count() > 80 {
            let cut: String = input.chars().take(77).collect();
            format!("{cut}...")
        } else {
            input.to_owned()
        };
        Self { what, input, expected: expected.to_string() }
    }
}

/// Implements string serde for a type with `Display` and `FromStr<Err = ParseError>`.
macro_rules! serde_via_str {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_str;
