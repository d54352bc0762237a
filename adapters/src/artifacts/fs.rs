//! A content-addressed artifact store in a folder (R-1c, R-8b, R-8c).
//!
//! ```text
//! ROOT/blobs/sha256/<64 hex>          the content, once per digest
//! ROOT/refs/<name>/<version>.json     which digest a name and version are
//! ```
//!
//! Writes go to a temporary file in the store and are renamed into place, so
//! a crash never leaves half an artifact. Every read re-hashes the content
//! and fails unless it matches. Nothing is deleted: the previous release's
//! artifacts stay for rollback.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256 as Hasher};
use shipwarden::ports::{ArtifactStore, ErrorKind, PortError};
use shipwarden::{ArtifactRef, Sha256, Version};
use tokio::io::AsyncReadExt;

const PORT: &str = "artifact-store fs";

/// An artifact store in a folder.
#[derive(Debug, Clone)]
pub struct FsArtifactStore {
    root: PathBuf,
}

fn io(operation: &str, what: &Path, e: std::io::Error) -> PortError {
    let kind = if e.kind() == std::io::ErrorKind::NotFound { ErrorKind::NotFound } else { ErrorKind::Unavailable };
    PortError::new(PORT, operation, kind, format!("{}: {e}", what.display())).with_source(e)
}

/// A name is one path component of letters, digits, `.`, `_`, `-`, `+`.
fn check_name(name: &str) -> Result<(), PortError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'));
    if ok {
        Ok(())
    } else {
        Err(PortError::new(
            PORT,
            "put",
            ErrorKind::Invalid,
            format!("artifact name `{name}`: use letters, digits, `.`, `_`, `-` or `+`, not starting with `.`"),
        ))
    }
}

impl FsArtifactStore {
    /// A store in `root`, created when first written.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn blob(&self, digest: &Sha256) -> PathBuf {
        self.root.join("blobs").join("sha256").join(digest.as_str())
    }

    fn reference(&self, name: &str, version: &Version) -> PathBuf {
        self.root.join("refs").join(name).join(format!("{version}.json"))
    }

    async fn read_ref(&self, name: &str, version: &Version) -> Result<Option<ArtifactRef>, PortError> {
        let path = self.reference(name, version);
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| PortError::new(PORT, "read", ErrorKind::Invalid, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path, e)),
        }
    }

    /// Writes `bytes` to `path` atomically.
    async fn write_atomically(&self, path: &Path, bytes: Vec<u8>) -> Result<(), PortError> {
        crate::atomic::write_file(path, bytes).await.map_err(|e| io("put", path, e))
    }

    /// Hashes a file while copying it into a temporary file in the store;
    /// returns the temporary file, its digest and its size.
    async fn ingest(&self, source: &Path) -> Result<(tempfile::NamedTempFile, Sha256, u64), PortError> {
        let tmp_dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&tmp_dir).await.map_err(|e| io("put", &tmp_dir, e))?;
        let tmp = tempfile::NamedTempFile::new_in(&tmp_dir).map_err(|e| io("put", &tmp_dir, e))?;
        let mut input = tokio::fs::File::open(source).await.map_err(|e| io("put", source, e))?;
        let mut output = tokio::fs::File::from_std(tmp.reopen().map_err(|e| io("put", tmp.path(), e))?);
        let mut hasher = Hasher::new();
        let mut buffer = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = input.read(&mut buffer).await.map_err(|e| io("put", source, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            tokio::io::AsyncWriteExt::write_all(&mut output, &buffer[..n])
                .await
                .map_err(|e| io("put", tmp.path(), e))?;
            size += n as u64;
        }
        output.sync_all().await.map_err(|e| io("put", tmp.path(), e))?;
        let digest: Sha256 = format!("{:x}", hasher.finalize())
            .parse()
            .map_err(|e: shipwarden::ParseError| PortError::new(PORT, "put", ErrorKind::Other, e.to_string()))?;
        Ok((tmp, digest, size))
    }
}

#[async_trait]
impl ArtifactStore for FsArtifactStore {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError> {
        check_name(name)?;
        let (tmp, digest, size) = self.ingest(path).await?;
        let artifact = ArtifactRef::new(name, version.clone(), digest.clone(), size);
        if let Some(existing) = self.read_ref(name, version).await? {
            if existing.sha256 != digest {
                return Err(PortError::new(
                    PORT,
                    "put",
                    ErrorKind::Rejected,
                    format!(
                        "{name} {version} is already stored with sha256:{}; a version's content never changes",
                        existing.sha256
                    ),
                ));
            }
            return Ok(existing);
        }
        let blob = self.blob(&digest);
        if let Some(dir) = blob.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| io("put", dir, e))?;
        }
        tmp.persist(&blob).map_err(|e| io("put", &blob, e.error))?;
        let json = serde_json::to_vec_pretty(&artifact)
            .map_err(|e| PortError::new(PORT, "put", ErrorKind::Other, e.to_string()))?;
        self.write_atomically(&self.reference(name, version), json).await?;
        Ok(artifact)
    }

    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError> {
        let path = self.blob(&artifact.sha256);
        let content = tokio::fs::read(&path).await.map_err(|e| io("get", &path, e))?;
        let actual = Sha256::of(&content);
        if actual != artifact.sha256 {
            return Err(PortError::new(
                PORT,
                "get",
                ErrorKind::Invalid,
                format!(
                    "{} {}: content hashes to sha256:{actual}, expected sha256:{}",
                    artifact.name, artifact.version, artifact.sha256
                ),
            ));
        }
        Ok(content)
    }

    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError> {
        let stored = self.read_ref(&artifact.name, &artifact.version).await?;
        let blob = tokio::fs::try_exists(self.blob(&artifact.sha256)).await.unwrap_or(false);
        Ok(blob && stored.is_some_and(|s| s.sha256 == artifact.sha256))
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        check_name(name)?;
        let dir = self.root.join("refs").join(name);
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("versions", &dir, e)),
        };
        let mut versions = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(|e| io("versions", &dir, e))? {
            let file = entry.file_name();
            if let Some(v) = file.to_str().and_then(|f| f.strip_suffix(".json")).and_then(|v| v.parse().ok()) {
                versions.push(v);
            }
        }
        versions.sort();
        Ok(versions)
    }
}
