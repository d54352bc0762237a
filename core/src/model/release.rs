use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::names::check_name;
use super::{ParseError, TicketKey, Version, serde_via_str};

/// The kind of a release (R-1a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseKind {
    /// Big features, scheduled quarterly.
    Major,
    /// Sprint-wise enhancements.
    Minor,
    /// Fixes.
    Patch,
    /// A hotfix deployed the same or next day.
    Emergency,
}

impl ReleaseKind {
    /// Every kind.
    pub const ALL: [ReleaseKind; 4] =
        [ReleaseKind::Major, ReleaseKind::Minor, ReleaseKind::Patch, ReleaseKind::Emergency];

    /// The name used in files and events.
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseKind::Major => "major",
            ReleaseKind::Minor => "minor",
            ReleaseKind::Patch => "patch",
            ReleaseKind::Emergency => "emergency",
        }
    }
}

impl fmt::Display for ReleaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReleaseKind {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        ReleaseKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| ParseError::new("release kind", text, "expected one of major, minor, patch, emergency"))
    }
}

/// The name of an environment (R-1b): `dev`, `staging`, `test`, `prod`, …
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(String);

impl EnvName {
    /// An environment name; fails unless it is a lowercase name like `prod`.
    pub fn new(name: &str) -> Result<Self, ParseError> {
        name.parse()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name known to be valid (literals in the default policy).
    pub(crate) fn trusted(name: &str) -> Self {
        debug_assert!(check_name("environment", name).is_ok());
        Self(name.to_owned())
    }
}

impl FromStr for EnvName {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        check_name("environment", text)?;
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Display for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_via_str!(EnvName);

/// The identifier of a release stream, e.g. `shop-1.4.0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReleaseId(String);

impl ReleaseId {
    /// The conventional id of a project's release: `<project>-<version>`.
    pub fn for_version(project: &str, version: &Version) -> Result<Self, ParseError> {
        format!("{project}-{version}").parse()
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ReleaseId {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        // The id names files (the evidence bundle, the notes): a leading `.`, a `..`, a separator or a
        // control character could hide the file or escape its folder (issue #18).
        let ok = text.len() <= 128
            && text.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
            && !text.contains("..")
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ParseError::new(
                "release id",
                text,
                "expected 1-128 characters of letters, digits, `-`, `_`, `.` or `+`, starting with a letter or \
                 digit, without `..`",
            ))
        }
    }
}

impl fmt::Display for ReleaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_via_str!(ReleaseId);

/// An external dependency of a release (R-7f): a name and a version requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// The dependency's name, e.g. `payments-gateway`.
    pub name: String,
    /// The version it must have, as written by the team (e.g. `2.4.1` or `>=2.4, <3`).
    pub version: String,
}

/// The emergency details of a hotfix (R-5b): its ticket, whose summary
/// carries the policy's prefix (`HOTFIX`), and the justification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotfix {
    /// The emergency ticket.
    pub ticket: TicketKey,
    /// The ticket's summary, e.g. `HOTFIX: checkout fails for EU cards`.
    pub summary: String,
    /// Why this cannot wait for a normal release.
    pub justification: String,
}

/// A release plan (R-1a, R-3 "create a release plan with scope, timeline and dependencies").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The release stream's id.
    pub release: ReleaseId,
    /// The project the release belongs to.
    pub project: String,
    /// The version to release.
    pub version: Version,
    /// Major, minor, patch or emergency.
    pub kind: ReleaseKind,
    /// The tickets in scope.
    #[serde(default)]
    pub scope: Vec<TicketKey>,
    /// Target date, as the team wrote it (e.g. `2026-12-06`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_date: Option<jiff::civil::Date>,
    /// External dependencies (R-7f).
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    /// Emergency details; required for emergency releases (R-5b).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hotfix: Option<Hotfix>,
    /// Why this version is planned although it is not newer than the last
    /// release (a backport on a maintenance branch): the override of R-4c,
    /// kept in the audit with the plan. Without it such a plan is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_override: Option<String>,
}

impl Plan {
    /// A plan with no scope, dependencies or emergency details.
    pub fn new(release: ReleaseId, project: impl Into<String>, version: Version, kind: ReleaseKind) -> Self {
        Self {
            release,
            project: project.into(),
            version,
            kind,
            scope: Vec::new(),
            target_date: None,
            dependencies: Vec::new(),
            hotfix: None,
            version_override: None,
        }
    }
}
