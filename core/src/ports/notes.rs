use async_trait::async_trait;

use super::PortError;
use crate::model::{ReleaseId, Version};

/// Publishes release notes (R-9b): a wiki repository, Confluence, a GitHub release, a file.
#[async_trait]
pub trait NotesPublisher: Send + Sync {
    /// Publishes the notes (Markdown) and returns where they can be read.
    ///
    /// # Behavior
    /// Publishing the same release again replaces its notes.
    async fn publish(&self, release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError>;
}
