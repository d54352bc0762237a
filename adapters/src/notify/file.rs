//! A notifier that appends each notice to a file as one JSON line, and logs
//! it: for one machine, the demo, and anything that tails a file (R-9a).

use std::path::PathBuf;

use async_trait::async_trait;
use shipwarden::ports::{ErrorKind, Notice, Notifier, PortError};
use tokio::io::AsyncWriteExt;

/// Appends notices to a JSON-lines file.
#[derive(Debug, Clone)]
pub struct FileNotifier {
    path: PathBuf,
}

impl FileNotifier {
    /// A notifier writing to `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl Notifier for FileNotifier {
    fn name(&self) -> &str {
        "file"
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        let fail = |e: std::io::Error| {
            PortError::new("notifier file", "send", ErrorKind::Unavailable, format!("{}: {e}", self.path.display()))
        };
        let mut line = serde_json::to_vec(notice)
            .map_err(|e| PortError::new("notifier file", "send", ErrorKind::Other, e.to_string()))?;
        line.push(b'\n');
        if let Some(dir) = self.path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(fail)?;
        }
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.path).await.map_err(fail)?;
        file.write_all(&line).await.map_err(fail)?;
        file.sync_data().await.map_err(fail)?;
        tracing::info!(release = %notice.release, key = %notice.key, subject = %notice.subject, "notice sent");
        Ok(())
    }
}
