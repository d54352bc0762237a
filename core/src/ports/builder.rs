use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{LogSink, PortError};
use crate::model::{ReleaseId, Version};

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRequest {
    /// The release.
    pub release: ReleaseId,
    /// Its version.
    pub version: Version,
    /// The step's idempotency key.
    pub key: String,
}

/// A file the build produced, to be published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltArtifact {
    /// The artifact's name, e.g. `shop.jar`.
    pub name: String,
    /// Where the build left it.
    pub path: PathBuf,
}

/// Runs the build and packaging (R-8b): artifacts and the database migration script.
#[async_trait]
pub trait Builder: Send + Sync {
    /// Builds the release and returns the files to publish.
    async fn build(&self, request: &BuildRequest, log: &LogSink) -> Result<Vec<BuiltArtifact>, PortError>;
}
