use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ParseError, Version, serde_via_str};

/// A SHA-256 digest as 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256(String);

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(format!("{:x}", sha2::Sha256::digest(bytes)))
    }

    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sha256 {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(hex.to_owned()))
        } else {
            Err(ParseError::new(
                "sha256 digest",
                text,
                "expected 64 lowercase hex digits, optionally prefixed by `sha256:`",
            ))
        }
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serde_via_str!(Sha256);

/// A versioned package in the artifact store (R-1c): name, version, digest, size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArtifactRef {
    /// The package name, e.g. `shop-api.jar`.
    pub name: String,
    /// The release version the artifact belongs to.
    pub version: Version,
    /// SHA-256 of the content.
    pub sha256: Sha256,
    /// Size in bytes.
    pub size: u64,
}

impl ArtifactRef {
    /// An artifact reference.
    pub fn new(name: impl Into<String>, version: Version, sha256: Sha256, size: u64) -> Self {
        Self { name: name.into(), version, sha256, size }
    }
}
