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

    /// Keeps a file beside the notes (the evidence bundle, R-9d) and returns
    /// where; `None` when this publisher keeps no files. Replaces a file of
    /// the same name.
    async fn attach(&self, release: &ReleaseId, name: &str, bytes: &[u8]) -> Result<Option<String>, PortError> {
        let _ = (release, name, bytes);
        Ok(None)
    }

    /// Keeps the release's signed chain heads (a `shipwarden.heads.v1`
    /// document, R-9d) where the team keeps its records, and returns where;
    /// `None` when this publisher keeps none.
    ///
    /// # Behavior
    /// Replaces the release's previous heads document. By default, it is
    /// [`attach`](Self::attach)ed as `<release>.heads.json`.
    async fn publish_heads(&self, release: &ReleaseId, heads: &[u8]) -> Result<Option<String>, PortError> {
        self.attach(release, &crate::audit::PublishedHeads::file_name(release.as_str()), heads).await
    }
}
