//! Backups as file copies (R-8c, R-8g): each backup is a folder holding a
//! copy of every source file and a manifest of their SHA-256 digests.
//! `verify` restores a backup into a scratch folder and checks every digest
//! ("restore tested"); `restore` checks the digests, then puts each file
//! back in place atomically.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256 as Hasher};
use shipwarden::ports::{Backup, BackupRef, ErrorKind, Lookup, PortError};
use shipwarden::{EnvName, Sha256};

const PORT: &str = "backup file";

/// Backs up a set of files (a SQLite database, configuration) into a folder.
#[derive(Debug, Clone)]
pub struct FileBackup {
    sources: Vec<PathBuf>,
    dir: PathBuf,
    scratch: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    backup: BackupRef,
    files: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    source: PathBuf,
    copy: String,
    sha256: Sha256,
    size: u64,
}

fn fail(operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
    PortError::new(PORT, operation, kind, message)
}

fn io(operation: &str, path: &Path, e: std::io::Error) -> PortError {
    let kind = if e.kind() == std::io::ErrorKind::NotFound { ErrorKind::NotFound } else { ErrorKind::Unavailable };
    fail(operation, kind, format!("{}: {e}", path.display())).with_source(e)
}

/// A key as a folder name.
fn folder(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

fn digest(bytes: &[u8]) -> Sha256 {
    Sha256::of(bytes)
}

fn manifest_digest(files: &[Entry]) -> Result<Sha256, PortError> {
    let mut hasher = Hasher::new();
    for f in files {
        hasher.update(f.source.display().to_string().as_bytes());
        hasher.update(f.sha256.as_str().as_bytes());
    }
    format!("{:x}", hasher.finalize())
        .parse()
        .map_err(|e: shipwarden::ParseError| fail("backup", ErrorKind::Other, e.to_string()))
}

impl FileBackup {
    /// Backs up `sources` into folders under `dir`; test restores go under `scratch`.
    pub fn new(sources: Vec<PathBuf>, dir: impl Into<PathBuf>, scratch: impl Into<PathBuf>) -> Self {
        Self { sources, dir: dir.into(), scratch: scratch.into() }
    }

    async fn manifest(&self, id: &str) -> Result<Option<Manifest>, PortError> {
        let path = self.dir.join(folder(id)).join("manifest.json");
        match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| fail("read", ErrorKind::Invalid, format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path, e)),
        }
    }

    /// Reads every copy of a backup and checks its digest.
    async fn checked(&self, backup: &BackupRef, operation: &str) -> Result<Vec<(Entry, Vec<u8>)>, PortError> {
        let manifest = self
            .manifest(&backup.id)
            .await?
            .ok_or_else(|| fail(operation, ErrorKind::NotFound, format!("no backup {}", backup.id)))?;
        let mut out = Vec::new();
        for entry in manifest.files {
            let path = self.dir.join(folder(&backup.id)).join(&entry.copy);
            let bytes = tokio::fs::read(&path).await.map_err(|e| io(operation, &path, e))?;
            if digest(&bytes) != entry.sha256 {
                return Err(fail(
                    operation,
                    ErrorKind::Invalid,
                    format!("{} does not match its digest in backup {}", entry.source.display(), backup.id),
                ));
            }
            out.push((entry, bytes));
        }
        Ok(out)
    }
}

async fn write_atomically(path: &Path, bytes: Vec<u8>, operation: &str) -> Result<(), PortError> {
    crate::atomic::write_file(path, bytes).await.map_err(|e| io(operation, path, e))
}

#[async_trait]
impl Backup for FileBackup {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError> {
        if let Some(existing) = self.manifest(key).await? {
            return Ok(existing.backup);
        }
        let target = self.dir.join(folder(key));
        let mut files = Vec::new();
        for (i, source) in self.sources.iter().enumerate() {
            let bytes = tokio::fs::read(source).await.map_err(|e| io("backup", source, e))?;
            let copy =
                format!("{i:03}-{}", source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            let entry =
                Entry { source: source.clone(), copy: copy.clone(), sha256: digest(&bytes), size: bytes.len() as u64 };
            write_atomically(&target.join(&copy), bytes, "backup").await?;
            files.push(entry);
        }
        let backup = BackupRef {
            id: key.to_owned(),
            environment: environment.clone(),
            sha256: Some(manifest_digest(&files)?),
            size: files.iter().map(|f| f.size).sum(),
            at: jiff::Timestamp::now(),
        };
        let manifest = Manifest { backup: backup.clone(), files };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| fail("backup", ErrorKind::Other, e.to_string()))?;
        // The manifest is written last: a backup without one never happened.
        write_atomically(&target.join("manifest.json"), json, "backup").await?;
        Ok(backup)
    }

    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError> {
        let files = self.checked(backup, "verify").await?;
        let scratch = self.scratch.join(folder(&backup.id));
        for (entry, bytes) in &files {
            let path = scratch.join(&entry.copy);
            write_atomically(&path, bytes.clone(), "verify").await?;
            let back = tokio::fs::read(&path).await.map_err(|e| io("verify", &path, e))?;
            if digest(&back) != entry.sha256 {
                return Err(fail(
                    "verify",
                    ErrorKind::Invalid,
                    format!("{} restored differently", entry.source.display()),
                ));
            }
        }
        Ok(format!("backup {} restored into {}: {} files, digests match", backup.id, scratch.display(), files.len()))
    }

    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError> {
        let files = self.checked(backup, "restore").await?;
        for (entry, bytes) in &files {
            write_atomically(&entry.source, bytes.clone(), "restore").await?;
        }
        Ok(format!("restored {} files from backup {}", files.len(), backup.id))
    }

    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        Ok(self.manifest(key).await?.map_or(Lookup::NotFound, |m| Lookup::Done(m.backup)))
    }
}
