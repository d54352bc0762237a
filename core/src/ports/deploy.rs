use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Lookup, PortError};
pub use crate::machine::{LogLine, LogStream};
use crate::model::{ArtifactRef, EnvName, ReleaseId, Version};

type Tap = Box<dyn Fn(&LogLine) + Send + Sync>;

/// Collects a step's log lines; the engine records them with the step's
/// outcome (R-8e) and can stream them to subscribers as they come.
#[derive(Default)]
pub struct LogSink {
    lines: Mutex<Vec<LogLine>>,
    tap: Option<Tap>,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink").field("lines", &self.lines).finish_non_exhaustive()
    }
}

impl LogSink {
    /// A sink that also hands each line to `tap` as it is written.
    pub fn with_tap(tap: impl Fn(&LogLine) + Send + Sync + 'static) -> Self {
        Self { lines: Mutex::default(), tap: Some(Box::new(tap)) }
    }

    /// Adds a line.
    pub fn line(&self, stream: LogStream, text: impl Into<String>) {
        let line = LogLine { stream, text: text.into() };
        if let Some(tap) = &self.tap {
            tap(&line);
        }
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == LogLine::MAX_PER_STEP {
            lines.remove(0);
        }
        lines.push(line);
    }

    /// Takes the lines collected so far.
    pub fn take(&self) -> Vec<LogLine> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// What to deploy where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRequest {
    /// The release.
    pub release: ReleaseId,
    /// Its version.
    pub version: Version,
    /// The environment.
    pub environment: EnvName,
    /// The artifacts to install.
    pub artifacts: Vec<ArtifactRef>,
    /// The idempotency key of this deployment of this target.
    pub key: String,
}

/// What to roll back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    /// The release being rolled back.
    pub release: ReleaseId,
    /// The environment.
    pub environment: EnvName,
    /// The artifacts of the previous working release to reinstall (R-1d), if known.
    pub previous: Vec<ArtifactRef>,
    /// The idempotency key of this rollback of this target.
    pub key: String,
}

/// A machine, cluster or service that a release is deployed to (R-8e, R-8g).
#[async_trait]
pub trait DeployTarget: Send + Sync {
    /// The target's name, unique within its environment (`web-1`).
    fn name(&self) -> &str;

    /// Deploys, writing progress to `log`; returns a summary of what it did.
    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError>;

    /// What became of the deployment or rollback with this idempotency key.
    ///
    /// # Notes
    /// The engine asks this after a crash instead of deploying again.
    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let _ = key;
        Ok(Lookup::Unsupported)
    }

    /// True when deploying the same key twice is safe (the deploy converges,
    /// as `kubectl apply` or an Ansible play does). After a crash, the engine
    /// runs a started deploy whose outcome the target cannot tell again only
    /// for such a target; for any other the step is in doubt until a person
    /// resolves it (R-9d).
    ///
    /// # Behavior
    /// The default says no.
    fn idempotent(&self) -> bool {
        false
    }

    /// Returns the target to the previous working release.
    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError>;
}
