//! `[identity]` of `shipwarden.toml` (issue #19): the policy's proof
//! requirements (`trust`, and per action the proofs accepted), and where
//! users' SSH keys are listed besides `[users.NAME] ssh_keys`.

use std::path::PathBuf;

use serde::Deserialize;

use shipwarden::Problem;

use super::{Config, ConfigError, Loaded, StoreConfig};
use crate::identity::AllowedSigners;

/// `[identity]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IdentityConfig {
    /// An `allowed_signers` file in git's format, relative to the config file.
    #[serde(default)]
    pub allowed_signers: Option<PathBuf>,
    /// The rest: the policy's `identity` section (`trust`, `approve`,
    /// `override_window`, `emergency_plan`, `rollback`).
    #[serde(flatten)]
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Map<String, serde_json::Value>"))]
    pub policy: toml::Table,
}

/// Puts `[identity]` into the policy overrides, with the default trust of
/// the store: `local` for SQLite (one operator), `verified` for a shared
/// PostgreSQL store, unless the file says otherwise.
pub(super) fn merge_into_policy(identity: &IdentityConfig, store: &StoreConfig, overrides: &mut toml::Table) {
    let section = overrides.entry("identity").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(section) = section else { return };
    for (key, value) in &identity.policy {
        section.insert(key.clone(), value.clone());
    }
    if !section.contains_key("trust") {
        let shared = store_is_shared(store);
        section.insert("trust".into(), toml::Value::String(if shared { "verified" } else { "local" }.into()));
    }
}

fn store_is_shared(store: &StoreConfig) -> bool {
    #[cfg(feature = "postgres")]
    if matches!(store, StoreConfig::Postgres(_)) {
        return true;
    }
    let _ = store;
    false
}

impl Loaded {
    /// Every user's SSH keys: `[users.NAME] ssh_keys`, then the
    /// `[identity] allowed_signers` file, read now (a key removed from either
    /// no longer verifies new approvals).
    pub fn signers(&self) -> Result<AllowedSigners, ConfigError> {
        let mut signers = AllowedSigners::new();
        for (name, user) in &self.config.users {
            for (i, key) in user.ssh_keys.iter().enumerate() {
                signers
                    .add(name, key, &format!("users.{name}.ssh_keys[{i}]"))
                    .map_err(|e| ConfigError::invalid(e.to_string()))?;
            }
        }
        if let Some(file) = &self.config.identity.allowed_signers {
            let path = self.path(file);
            let text = crate::files::read_text(&path, crate::files::CONFIG_LIMIT).map_err(|e| {
                ConfigError::invalid(format!("cannot read [identity] allowed_signers {}: {e}", path.display()))
            })?;
            signers
                .add_file_text(&text, &path.display().to_string())
                .map_err(|e| ConfigError::invalid(e.to_string()))?;
        }
        Ok(signers)
    }
}

/// Reports each `[users.NAME] ssh_keys` entry that is not an OpenSSH public key.
pub(super) fn validate_keys(config: &Config, problems: &mut Vec<Problem>) {
    for (name, user) in &config.users {
        for (i, key) in user.ssh_keys.iter().enumerate() {
            let path = format!("users.{name}.ssh_keys[{i}]");
            if let Err(e) = AllowedSigners::new().add(name, key, &path) {
                let message = match e {
                    crate::identity::IdentityError::Config { problem, .. } => problem,
                    other => other.to_string(),
                };
                problems.push(Problem { path, message });
            }
        }
    }
}
