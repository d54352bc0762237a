use std::fmt;
use std::str::FromStr;

use super::{ParseError, serde_via_str};

/// A release version: strict SemVer 2.0 (`1.2.3`, `2.0.0-rc.1`), R-1a, R-4c.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(semver::Version);

impl Version {
    /// A plain `major.minor.patch` version.
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self(semver::Version::new(major, minor, patch))
    }

    /// Reads a version from a tag such as `v1.2.3` with the given prefix.
    pub fn from_tag(tag: &str, prefix: &str) -> Result<Self, ParseError> {
        match tag.strip_prefix(prefix) {
            Some(rest) => rest.parse(),
            None => Err(ParseError::new(
                "tag",
                tag,
                format!("expected `{prefix}` followed by a SemVer version, like `{prefix}1.2.3`"),
            )),
        }
    }

    /// The tag for this version with the given prefix (`v1.2.3`).
    pub fn tag(&self, prefix: &str) -> String {
        format!("{prefix}{self}")
    }

    /// The underlying [`semver::Version`].
    pub fn as_semver(&self) -> &semver::Version {
        &self.0
    }

    /// True for a pre-release such as `1.2.3-rc.1`.
    pub fn is_prerelease(&self) -> bool {
        !self.0.pre.is_empty()
    }
}

impl From<semver::Version> for Version {
    fn from(version: semver::Version) -> Self {
        Self(version)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Version {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        semver::Version::parse(text).map(Self).map_err(|e| {
            ParseError::new("version", text, format_args!("expected SemVer MAJOR.MINOR.PATCH like `1.2.3` ({e})"))
        })
    }
}

serde_via_str!(Version);
