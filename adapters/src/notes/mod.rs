//! Release notes publishers (R-9b).

#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "confluence")]
pub mod confluence;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "github")]
pub mod github;
#[cfg(feature = "wiki")]
pub mod wiki;

use std::sync::Arc;

use async_trait::async_trait;
use shipwarden::ports::{NotesPublisher, PortError};
use shipwarden::{ReleaseId, Version};

/// Several publishers as one: each gets the notes in turn; the first failure stops it.
pub struct AllNotes(pub Vec<Arc<dyn NotesPublisher>>);

#[async_trait]
impl NotesPublisher for AllNotes {
    async fn publish(&self, release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError> {
        let mut at = Vec::new();
        for p in &self.0 {
            at.push(p.publish(release, version, markdown).await?);
        }
        Ok(at.join(", "))
    }

    async fn attach(&self, release: &ReleaseId, name: &str, bytes: &[u8]) -> Result<Option<String>, PortError> {
        let mut at = Vec::new();
        for p in &self.0 {
            at.extend(p.attach(release, name, bytes).await?);
        }
        Ok((!at.is_empty()).then(|| at.join(", ")))
    }

    async fn publish_heads(&self, release: &ReleaseId, heads: &[u8]) -> Result<Option<String>, PortError> {
        let mut at = Vec::new();
        for p in &self.0 {
            at.extend(p.publish_heads(release, heads).await?);
        }
        Ok((!at.is_empty()).then(|| at.join(", ")))
    }
}
