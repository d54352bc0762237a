//! `shipwarden.toml` lives in the adapters crate (`shipwarden_adapters::config`),
//! so that the bindings open projects the same way; the CLI maps its errors.

pub use shipwarden_adapters::config::{ConfigError, Loaded, template};

use crate::CliError;

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Problems(p) => CliError::Problems(p),
            ConfigError::Invalid(m) => CliError::Usage(m),
            other => CliError::Outside(other.to_string()),
        }
    }
}

/// Reads the project's file; when it cannot be read, says how to make one.
pub fn read(path: &std::path::Path) -> Result<Loaded, CliError> {
    Loaded::read(path).map_err(|e| match e {
        ConfigError::Invalid(m) => {
            CliError::Usage(format!("{m}\n  run `shipwarden init` to write one, or pass --config"))
        }
        other => other.into(),
    })
}
