use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::PortError;

/// A commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Its full id.
    pub sha: String,
    /// The first line of its message.
    pub subject: String,
    /// The rest of its message.
    pub body: String,
    /// Its author's name.
    pub author: String,
    /// How many parents it has (2 or more: a merge).
    #[serde(default = "one")]
    pub parents: usize,
}

fn one() -> usize {
    1
}

/// A tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Its name (`v1.2.3`).
    pub name: String,
    /// The commit it points at.
    pub target: String,
}

/// Version control: history, tags, branches.
#[async_trait]
pub trait Vcs: Send + Sync {
    /// The commit the release is built from.
    async fn head(&self) -> Result<String, PortError>;

    /// Every tag.
    async fn tags(&self) -> Result<Vec<Tag>, PortError>;

    /// Commits reachable from the head but not from `tag` (all when none), newest first.
    async fn commits_since(&self, tag: Option<&str>) -> Result<Vec<Commit>, PortError>;

    /// Commits reachable from `to` (default: the head) but not from `from`, newest first.
    ///
    /// # Behavior
    /// The default ignores `to` and answers [`Vcs::commits_since`]`(from)`.
    async fn commits_between(&self, from: Option<&str>, to: Option<&str>) -> Result<Vec<Commit>, PortError> {
        let _ = to;
        self.commits_since(from).await
    }

    /// True when the branch exists (R-4d).
    async fn branch_exists(&self, name: &str) -> Result<bool, PortError>;

    /// Creates an annotated tag on `target` and pushes it (R-4c).
    ///
    /// # Behavior
    /// Idempotent: when the tag already points at `target`, it succeeds.
    async fn create_tag(&self, name: &str, message: &str, target: &str) -> Result<(), PortError>;
}
