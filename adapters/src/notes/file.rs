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
        crate::atomic::write_file(&path, markdown.as_bytes().to_vec()).await.map_err(fail)?;
        Ok(path.display().to_string())
    }

    /// Writes `<dir>/<name>` beside the notes, atomically.
    async fn attach(&self, _release: &ReleaseId, name: &str, bytes: &[u8]) -> Result<Option<String>, PortError> {
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(PortError::new(
                "notes file",
                "attach",
                ErrorKind::Invalid,
                format!("`{name}` is not a plain file name"),
            ));
        }
        let path = self.dir.join(name);
        let fail = |e: std::io::Error| {
            PortError::new("notes file", "attach", ErrorKind::Unavailable, format!("{}: {e}", path.display()))
        };
        crate::atomic::write_file(&path, bytes.to_vec()).await.map_err(fail)?;
        Ok(Some(path.display().to_string()))
    }
}
