//! The next version (R-4c, R-4e): from the release kind and the commits.

use serde::{Deserialize, Serialize};

use super::Change;
use crate::model::{ParseError, ReleaseKind, Version};

/// How much a version moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bump {
    /// x.y.Z
    Patch,
    /// x.Y.0
    Minor,
    /// X.0.0
    Major,
}

impl Bump {
    /// What the commits ask for: breaking → major, feat → minor, anything else → patch.
    pub fn of(changes: &[Change]) -> Bump {
        let mut bump = Bump::Patch;
        for c in changes {
            if c.breaking {
                return Bump::Major;
            }
            if c.group() == super::Group::Features {
                bump = Bump::Minor;
            }
        }
        bump
    }

    /// What the kind asks for at least.
    pub fn of_kind(kind: ReleaseKind) -> Bump {
        match kind {
            ReleaseKind::Major => Bump::Major,
            ReleaseKind::Minor => Bump::Minor,
            ReleaseKind::Patch | ReleaseKind::Emergency => Bump::Patch,
        }
    }
}

/// The next version, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextVersion {
    /// The version.
    pub version: Version,
    /// The bump applied.
    pub bump: Bump,
    /// Why, in words (`1 breaking change`, `release kind major`).
    pub reason: String,
}

/// The next version after `last` (none: `0.1.0`'s bump from `0.0.0`) for a
/// `kind` release of `changes`; with `pre`, a pre-release (`rc` → `-rc.1`,
/// then `-rc.2` after `-rc.1` of the same version).
///
/// # Errors
/// When `pre` is not a valid pre-release identifier.
pub fn next_version(
    last: Option<&Version>,
    kind: ReleaseKind,
    changes: &[Change],
    pre: Option<&str>,
) -> Result<NextVersion, ParseError> {
    let from_commits = Bump::of(changes);
    let from_kind = Bump::of_kind(kind);
    let bump = from_commits.max(from_kind);
    let breaking = changes.iter().filter(|c| c.breaking).count();
    let features = changes.iter().filter(|c| c.group() == super::Group::Features).count();
    let reason = if from_kind >= from_commits && from_kind != Bump::Patch {
        format!("release kind {kind}")
    } else if breaking > 0 {
        format!("{breaking} breaking change{}", if breaking == 1 { "" } else { "s" })
    } else if features > 0 {
        format!("{features} feature{}", if features == 1 { "" } else { "s" })
    } else {
        format!("{} fixes and other changes", changes.len())
    };
    let zero = semver::Version::new(0, 0, 0);
    let last_v = last.map_or(&zero, Version::as_semver);
    // After a pre-release, the stable version it led to is already bumped.
    let base = if !last_v.pre.is_empty() {
        let released = semver::Version::new(last_v.major, last_v.minor, last_v.patch);
        let already = if last_v.minor == 0 && last_v.patch == 0 {
            Bump::Major
        } else if last_v.patch == 0 {
            Bump::Minor
        } else {
            Bump::Patch
        };
        if bump <= already { released } else { apply(&released, bump) }
    } else {
        apply(last_v, bump)
    };
    let mut next = base;
    if let Some(id) = pre {
        let same_line = !last_v.pre.is_empty()
            && (last_v.major, last_v.minor, last_v.patch) == (next.major, next.minor, next.patch)
            && last_v.pre.as_str().split('.').next() == Some(id);
        let n = if same_line {
            last_v.pre.as_str().rsplit('.').next().and_then(|n| n.parse::<u64>().ok()).map_or(1, |n| n + 1)
        } else {
            1
        };
        next.pre = semver::Prerelease::new(&format!("{id}.{n}"))
            .map_err(|_| ParseError::new("pre-release", id, "letters, digits and hyphens, like `rc` or `beta`"))?;
    }
    // A pre-release name that sorts lower (`beta` after `rc`) starts the next version's line.
    if &next <= last_v {
        let mut moved = apply(&semver::Version::new(last_v.major, last_v.minor, last_v.patch), bump);
        moved.pre = next.pre;
        next = moved;
    }
    Ok(NextVersion { version: Version::from(next), bump, reason })
}

fn apply(v: &semver::Version, bump: Bump) -> semver::Version {
    match bump {
        Bump::Major => semver::Version::new(v.major + 1, 0, 0),
        Bump::Minor => semver::Version::new(v.major, v.minor + 1, 0),
        Bump::Patch => semver::Version::new(v.major, v.minor, v.patch + 1),
    }
}
