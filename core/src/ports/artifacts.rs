use std::path::Path;

use async_trait::async_trait;

use super::PortError;
use crate::model::{ArtifactRef, ReleaseId, TicketKey, Version};

/// What a store may record beside an artifact (OCI annotations, Artifactory properties).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArtifactMeta {
    /// The release the artifact was built for.
    pub release: Option<ReleaseId>,
    /// The commit it was built from.
    pub revision: Option<String>,
    /// The tickets the release carries.
    pub tickets: Vec<TicketKey>,
}

/// Where versioned artifacts live (R-1c, R-8b, R-8c): Artifactory, an OCI
/// registry, a folder.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Stores the file at `path` as `name` at `version`, and returns its
    /// reference with the SHA-256 of the content.
    ///
    /// # Behavior
    /// Idempotent: putting the same content under the same name and version
    /// again returns the same reference. Different content under an existing
    /// name and version is refused.
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError>;

    /// [`ArtifactStore::put`] with what the release knows about the artifact;
    /// stores that can keep it (as annotations or properties) do.
    ///
    /// # Behavior
    /// The default ignores `meta` and calls [`ArtifactStore::put`].
    async fn put_with(
        &self,
        name: &str,
        version: &Version,
        path: &Path,
        meta: &ArtifactMeta,
    ) -> Result<ArtifactRef, PortError> {
        let _ = meta;
        self.put(name, version, path).await
    }

    /// Reads an artifact's content; fails unless it matches the digest.
    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError>;

    /// True when the artifact is present with that digest (a rollback artifact, R-8c).
    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError>;

    /// The versions stored under `name`, oldest first.
    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError>;
}
