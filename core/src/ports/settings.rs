use std::collections::BTreeMap;

use async_trait::async_trait;

use super::PortError;
use crate::model::EnvName;

/// Reads an environment's configuration settings as deployed (R-9c): an env
/// file, a config service, a Kubernetes ConfigMap. The engine records only
/// keys and hashes, and for secret keys only that they changed.
#[async_trait]
pub trait SettingsSource: Send + Sync {
    /// The source's name (`deploy/prod.env`).
    fn name(&self) -> &str;

    /// Key -> value, as the environment has them now.
    async fn settings(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError>;

    /// True when the key's value is a secret (never stored, never shown).
    fn is_secret(&self, key: &str) -> bool {
        crate::settings::looks_secret(key)
    }
}
