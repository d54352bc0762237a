//! Writing a file so that readers see the old content or the new, never half.

use std::path::Path;

/// Writes `bytes` to `path` through a synced temporary file in the same
/// folder (created if missing), renamed into place.
pub(crate) async fn write_file(path: &Path, bytes: Vec<u8>) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    tokio::fs::create_dir_all(&dir).await?;
    let target = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut file = tempfile::NamedTempFile::new_in(&dir)?;
        file.write_all(&bytes)?;
        file.as_file().sync_all()?;
        file.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}
