use std::collections::BTreeMap;

use async_trait::async_trait;

use super::PortError;
use crate::model::EnvName;

/// Reads which versions of its external dependencies an environment runs
/// (R-7f, R-8d): a service's `/version` endpoint, a package query, a command.
#[async_trait]
pub trait DependencyProbe: Send + Sync {
    /// The probe's name (`https://staging.example.com/deps`).
    fn name(&self) -> &str;

    /// Dependency name -> the version the environment runs.
    async fn versions(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError>;
}
