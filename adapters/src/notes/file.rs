//! Publishes release notes as Markdown files in a folder (R-9b):
//! `<dir>/<release>.md`, written atomically; publishing again replaces them.

use std::path::PathBuf;

use async_trait::async_trait;
use shipwarden::ports::{ErrorKind, NotesPublisher, PortError};
use shipwarden::{ReleaseId, Version};

/// Writes notes to a folder.
#[derive(Debug, Clone)]
pub struct FileNotes {
    dir: PathBuf,
}

impl FileNotes {
    /// A publisher writing into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[async_trait]
impl NotesPublisher for FileNotes {
    async fn publish(&self, release: &ReleaseId, _version: &Version, markdown: &str) -> Result<String, PortError> {
        let path = self.dir.join(format!("{release}.md"));
        let fail = |e: std::io::Error| {
            PortError::new("notes file", "publish", ErrorKind::Unavailable, format!("{}: {e}", path.display()))
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(fail)?;
        let (dir, target, text) = (self.dir.clone(), path.clone(), markdown.to_owned());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut file = tempfile::NamedTempFile::new_in(&dir)?;
            file.write_all(text.as_bytes())?;
            file.as_file().sync_all()?;
            file.persist(&target).map_err(|e| e.error)?;
            Ok(())
        })
        .await
        .map_err(|e| PortError::new("notes file", "publish", ErrorKind::Other, e.to_string()))?
        .map_err(fail)?;
        Ok(path.display().to_string())
    }
}
