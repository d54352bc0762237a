use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Lookup, PortError};
use crate::model::{EnvName, Sha256};

/// A backup that was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRef {
    /// The backup's id in its system.
    pub id: String,
    /// The environment backed up.
    pub environment: EnvName,
    /// The digest of the backup, if known.
    pub sha256: Option<Sha256>,
    /// Its size in bytes.
    pub size: u64,
    /// When it was taken.
    pub at: Timestamp,
}

/// Backs up and restores an environment's database and configuration (R-8c, R-8g).
#[async_trait]
pub trait Backup: Send + Sync {
    /// Takes a backup under the idempotency key.
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError>;

    /// Proves a backup is usable by restoring it somewhere scratch (R-8c "restore tested").
    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError>;

    /// Restores a backup into its environment (R-8g).
    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError>;

    /// The backup taken under this key, if any.
    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        let _ = key;
        Ok(Lookup::Unsupported)
    }
}
